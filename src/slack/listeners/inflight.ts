// Owns the work still running after an ack: listeners answer Slack at once and keep working, so shutdown needs
// to know what is in flight and wait for it (up to a deadline) before the process exits. It also bounds how much
// of that work runs at once: acks share the event loop with it, and a burst of commands must not starve the next
// ack (Slack's 3 s limit) or pile up memory — beyond the limit, work waits its turn in arrival order.
export class InFlight {
  readonly #running = new Set<Promise<unknown>>();
  readonly #waiting: (() => void)[] = [];
  readonly #limit: number;
  #active = 0;

  /** `limit`: how many answers are worked on at once; the rest queue, first come first served. */
  constructor(limit = 16) {
    if (!(limit >= 1)) throw new RangeError('limit must be at least 1');
    this.#limit = limit;
  }

  /** Runs `fn` when a slot is free, remembering it until it settles. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#slot().then(async () => {
      try {
        return await fn();
      } finally {
        this.#active--;
        this.#waiting.shift()?.();
      }
    });
    this.#running.add(p);
    const forget = () => this.#running.delete(p);
    p.then(forget, forget);
    return p;
  }

  #slot(): Promise<void> {
    if (this.#active < this.#limit) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.#waiting.push(() => {
        this.#active++;
        resolve();
      }),
    );
  }

  /** Answers started or waiting. */
  get size(): number {
    return this.#running.size;
  }

  /** Answers waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
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
