// Owns the work still running after an ack: listeners answer Slack at once and keep working, so shutdown needs
// to know what is in flight and wait for it (up to a deadline) before the process exits.
export class InFlight {
  readonly #running = new Set<Promise<unknown>>();

  /** Runs `fn`, remembering it until it settles. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = fn();
    this.#running.add(p);
    const forget = () => this.#running.delete(p);
    p.then(forget, forget);
    return p;
  }

  get size(): number {
    return this.#running.size;
  }

  /** Resolves when everything in flight has settled, or at the deadline, whichever comes first. */
  async drain(deadlineMs: number): Promise<boolean> {
    if (this.#running.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs);
    });
    const all = Promise.allSettled([...this.#running]).then(() => true);
    try {
      return await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
