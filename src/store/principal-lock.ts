// Owns mutual exclusion per Qlik principal across every worker and process. Qlik has no ETag on users or groups,
// so a read-modify-write of assignedRoles must never overlap another one on the same principal.
// A lock is SET NX PX with a random token; release and renewal compare the token in Lua, so a holder whose lock
// expired can never delete or extend someone else's. The holder renews every ttl/3 and is told through an
// AbortSignal if the lock is lost. Waiters are woken by a pub/sub message on release and otherwise poll with
// jittered backoff (which also covers locks freed by expiry).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { backoffDelay } from '../retry.ts';
import { type StoreKeys, storeKeys } from './keys.ts';
import type { RedisConnection } from './redis.ts';

export interface LockOptions {
  /** Lock lifetime without renewal (default 30 s); renewed every ttl/3 while the holder works. */
  ttlMs?: number;
  /** How long to wait for the lock before giving up with LockTimeoutError (default 60 s). */
  waitMs?: number;
}

export class LockTimeoutError extends Error {
  readonly principalKey: string;
  readonly waitedMs: number;
  constructor(principalKey: string, waitedMs: number) {
    super(
      `Another change to ${principalKey} is still in progress; gave up waiting after ${Math.round(waitedMs / 1000)} s. ` +
        'Please try again in a minute.',
    );
    this.name = 'LockTimeoutError';
    this.principalKey = principalKey;
    this.waitedMs = waitedMs;
  }
}

/** The abort reason when a holder's lock expired or was taken over: stop before writing anything. */
export class LockLostError extends Error {
  readonly principalKey: string;
  constructor(principalKey: string) {
    super(`The lock on ${principalKey} was lost before the work finished; the change must be retried.`);
    this.name = 'LockLostError';
    this.principalKey = principalKey;
  }
}

// The scripts live in lua/ beside this file (npm run build copies them into dist/).
const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
const RELEASE_LUA = lua('lock-release');
const EXTEND_LUA = lua('lock-extend');

interface LockCommands {
  qabLockRelease(key: string, token: string, channel: string, principalKey: string): Promise<number>;
  qabLockExtend(key: string, token: string, ttlMs: number): Promise<number>;
}

/** Polling between release messages (which wake waiters at once): 5 ms doubling to 200 ms, each ±50%. */
const POLL_BACKOFF = { baseMs: 5, capMs: 200, jitter: [0.5, 1.5] } as const;

interface Waiter {
  wait(ms: number): Promise<void>;
  dispose(): void;
}

export class PrincipalLock {
  readonly #redis: RedisConnection;
  readonly #cmd: LockCommands;
  readonly #keys: StoreKeys;
  readonly #waiters = new Map<string, Set<() => void>>();
  #subscriber: RedisConnection | undefined;
  #closed = false;

  constructor(redis: RedisConnection, prefix: string) {
    this.#redis = redis;
    this.#keys = storeKeys(prefix);
    redis.defineCommand('qabLockRelease', { lua: RELEASE_LUA, numberOfKeys: 1 });
    redis.defineCommand('qabLockExtend', { lua: EXTEND_LUA, numberOfKeys: 1 });
    this.#cmd = redis as unknown as LockCommands;
  }

  /**
   * Runs `fn` while holding the lock on `principalKey` (e.g. `user:<id>`, `group:<id>`), releasing it
   * however `fn` ends. If the lock is lost while `fn` runs (expired during a stall, taken over), `signal` aborts
   * with a LockLostError: check it (`signal.throwIfAborted()`) right before writing to Qlik.
   */
  async withLock<T>(
    principalKey: string,
    fn: (signal: AbortSignal) => Promise<T>,
    opts: LockOptions = {},
  ): Promise<T> {
    const ttlMs = Math.max(30, Math.floor(opts.ttlMs ?? 30_000));
    const waitMs = Math.max(0, opts.waitMs ?? 60_000);
    const key = this.#keys.lock(principalKey);
    const token = randomBytes(16).toString('hex');
    const acquiredAt = await this.#acquire(principalKey, key, token, ttlMs, waitMs);

    const controller = new AbortController();
    let lastConfirmed = acquiredAt;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const lose = () => {
      if (!controller.signal.aborted) controller.abort(new LockLostError(principalKey));
    };
    const renew = async () => {
      const sentAt = Date.now();
      try {
        const extended = await this.#cmd.qabLockExtend(key, token, ttlMs);
        if (stopped) return;
        if (extended !== 1) return lose();
        lastConfirmed = sentAt;
      } catch {
        if (stopped) return;
        // A failed renewal is not a lost lock yet; it is once the last confirmed ttl has run out.
        if (Date.now() - lastConfirmed >= ttlMs) return lose();
      }
      schedule();
    };
    const schedule = () => {
      timer = setTimeout(() => void renew(), Math.max(1, Math.floor(ttlMs / 3)));
    };
    schedule();

    try {
      return await fn(controller.signal);
    } finally {
      stopped = true;
      clearTimeout(timer);
      try {
        await this.#cmd.qabLockRelease(key, token, this.#keys.lockReleased, principalKey);
      } catch {
        // The work is done; if Redis is unreachable the lock frees itself when its ttl runs out.
      }
    }
  }

  /** Closes the connection used to hear about releases (if one was opened). The command connection is the caller's. */
  async close(): Promise<void> {
    this.#closed = true;
    const sub = this.#subscriber;
    this.#subscriber = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }

  /** Returns the time just before the successful SET, the conservative start of the lock's ttl. */
  async #acquire(
    principalKey: string,
    key: string,
    token: string,
    ttlMs: number,
    waitMs: number,
  ): Promise<number> {
    const started = Date.now();
    const deadline = started + waitMs;
    for (let failures = 1; ; failures++) {
      // Registered before trying, so a release between a failed SET and the wait still wakes us.
      const waiter = this.#waiter(principalKey);
      try {
        const sentAt = Date.now();
        if ((await this.#redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK') return sentAt;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new LockTimeoutError(principalKey, Date.now() - started);
        this.#listen();
        await waiter.wait(Math.min(remaining, backoffDelay(failures, POLL_BACKOFF)));
      } finally {
        waiter.dispose();
      }
    }
  }

  #waiter(principalKey: string): Waiter {
    let set = this.#waiters.get(principalKey);
    if (!set) {
      set = new Set();
      this.#waiters.set(principalKey, set);
    }
    const waiters = set;
    let woken = false;
    let wakeNow: (() => void) | undefined;
    const onRelease = () => {
      woken = true;
      wakeNow?.();
    };
    waiters.add(onRelease);
    return {
      wait: (ms) =>
        woken
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const t = setTimeout(resolve, ms);
              wakeNow = () => {
                clearTimeout(t);
                resolve();
              };
            }),
      dispose: () => {
        waiters.delete(onRelease);
        if (waiters.size === 0 && this.#waiters.get(principalKey) === waiters)
          this.#waiters.delete(principalKey);
      },
    };
  }

  /** Opens the release subscription on first contention; until it is up (or if it fails) waiters just poll. */
  #listen(): void {
    if (this.#subscriber || this.#closed) return;
    // Both connection kinds duplicate themselves; the union's overloads just don't unify for the compiler.
    const sub: RedisConnection =
      'isCluster' in this.#redis && this.#redis.isCluster
        ? (this.#redis as Cluster).duplicate()
        : (this.#redis as Redis).duplicate();
    this.#subscriber = sub;
    sub.on('error', () => {}); // reconnects on its own; meanwhile polling keeps waiters going
    sub.on('message', (_channel: string, principalKey: string) => {
      for (const wake of this.#waiters.get(principalKey) ?? []) wake();
    });
    sub.subscribe(this.#keys.lockReleased).catch(() => {});
  }
}
