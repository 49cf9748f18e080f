// Owns the client-side rate limits that keep the bot under Qlik's per-credential tiers: one token bucket per
// tier, FIFO waiters woken by a single timer (no polling), and a tier-wide block after a 429 — Qlik blocks the
// whole tier until Retry-After passes, so every request of that tier waits, not just the one that got the 429.
// `RateLimiter` as a type is the contract the HTTP layer uses, met by this in-process limiter and by the
// Redis-backed SharedRateLimiter (shared-rate-limiter.ts) that replicas use to spend one budget together.

export type RateTier = 'read' | 'write' | 'filter';

export interface TierLimit {
  perMinute: number;
  /** Bucket capacity; default 10% of perMinute, at least 1. */
  burst?: number;
}

/** Time source and timers, injectable so tests can drive time by hand. */
export interface LimiterClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

const systemClock: LimiterClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

export const DEFAULT_LIMITS: Readonly<Record<RateTier, TierLimit>> = {
  read: { perMinute: 1000 }, // Tier 1
  write: { perMinute: 100 }, // Tier 2
  filter: { perMinute: 200 }, // special: POST …/actions/filter
};

/** What the Qlik HTTP layer needs from a limiter; implemented in process here and across processes in Redis. */
export interface QlikRateLimiter {
  /** Resolves when the caller may send one request of this tier. */
  acquire(tier: RateTier): Promise<void>;
  /** Blocks the tier for `ms` (a 429's Retry-After). */
  block(tier: RateTier, ms: number): void;
  /** Milliseconds until the tier is unblocked, as far as this process knows (0 when not blocked). */
  blockedFor(tier: RateTier): number;
  /** Number of callers of this process waiting for a token of this tier. */
  pending(tier: RateTier): number;
  /** Rejects every waiter with RateLimiterClosedError. */
  close(): void;
}

/** The bucket a tier limit describes: capacity (burst) and refill rate in tokens per millisecond. */
export function bucketShape(limit: TierLimit): { capacity: number; perMs: number } {
  if (!(limit.perMinute > 0)) throw new RangeError('perMinute must be positive');
  return {
    capacity: Math.max(1, Math.floor(limit.burst ?? limit.perMinute * 0.1)),
    perMs: limit.perMinute / 60_000,
  };
}

export class RateLimiterClosedError extends Error {
  override readonly name = 'RateLimiterClosedError';
  constructor() {
    super('The Qlik client was closed while a request waited for its turn.');
  }
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

class Bucket {
  readonly capacity: number;
  readonly perMs: number;
  tokens: number;
  /** Time up to which tokens were accounted; may lie in the future while the tier is blocked. */
  last: number;
  blockedUntil = Number.NEGATIVE_INFINITY;
  readonly waiters: Waiter[] = [];
  timer: unknown;

  constructor(limit: TierLimit, now: number) {
    const shape = bucketShape(limit);
    this.capacity = shape.capacity;
    this.perMs = shape.perMs;
    this.tokens = this.capacity;
    this.last = now;
  }

  refill(now: number): void {
    if (now <= this.last) return;
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
  }
}

// Floating-point slack so a timer that fires at the computed instant always finds its token.
const EPSILON = 1e-9;

export class InProcessRateLimiter implements QlikRateLimiter {
  readonly #clock: LimiterClock;
  readonly #buckets: Record<RateTier, Bucket>;
  #closed = false;

  constructor(limits: Partial<Record<RateTier, TierLimit>> = {}, clock: LimiterClock = systemClock) {
    this.#clock = clock;
    const now = clock.now();
    this.#buckets = {
      read: new Bucket(limits.read ?? DEFAULT_LIMITS.read, now),
      write: new Bucket(limits.write ?? DEFAULT_LIMITS.write, now),
      filter: new Bucket(limits.filter ?? DEFAULT_LIMITS.filter, now),
    };
  }

  /** Resolves when the caller may send one request of this tier; callers are served in arrival order. */
  acquire(tier: RateTier): Promise<void> {
    if (this.#closed) return Promise.reject(new RateLimiterClosedError());
    const b = this.#buckets[tier];
    const now = this.#clock.now();
    b.refill(now);
    if (b.waiters.length === 0 && now >= b.blockedUntil && b.tokens >= 1 - EPSILON) {
      b.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      b.waiters.push({ resolve, reject });
      this.#schedule(b);
    });
  }

  /** Blocks the tier for `ms` (a 429's Retry-After); afterwards it restarts with a single token, not a burst. */
  block(tier: RateTier, ms: number): void {
    const b = this.#buckets[tier];
    const until = this.#clock.now() + Math.max(0, ms);
    if (until <= b.blockedUntil) return;
    b.blockedUntil = until;
    b.tokens = 1;
    b.last = until;
    // Re-arm: the pending timer was computed before the block.
    if (b.timer !== undefined) {
      this.#clock.clearTimer(b.timer);
      b.timer = undefined;
    }
    if (b.waiters.length > 0) this.#schedule(b);
  }

  /** Milliseconds until the tier is unblocked (0 when not blocked). */
  blockedFor(tier: RateTier): number {
    return Math.max(0, this.#buckets[tier].blockedUntil - this.#clock.now());
  }

  /** Number of callers waiting for a token of this tier. */
  pending(tier: RateTier): number {
    return this.#buckets[tier].waiters.length;
  }

  /** Rejects every waiter and stops all timers. */
  close(): void {
    this.#closed = true;
    for (const b of Object.values(this.#buckets)) {
      if (b.timer !== undefined) this.#clock.clearTimer(b.timer);
      b.timer = undefined;
      for (const w of b.waiters.splice(0)) w.reject(new RateLimiterClosedError());
    }
  }

  #schedule(b: Bucket): void {
    if (b.timer !== undefined || b.waiters.length === 0) return;
    const now = this.#clock.now();
    b.refill(now);
    const untilUnblocked = Math.max(0, b.blockedUntil - now, b.last - now);
    const untilToken = b.tokens >= 1 - EPSILON ? 0 : (1 - b.tokens) / b.perMs;
    const wait = Math.ceil(untilUnblocked + untilToken);
    b.timer = this.#clock.setTimer(() => {
      b.timer = undefined;
      this.#drain(b);
    }, wait);
  }

  #drain(b: Bucket): void {
    const now = this.#clock.now();
    b.refill(now);
    while (b.waiters.length > 0 && now >= b.blockedUntil && b.tokens >= 1 - EPSILON) {
      b.tokens -= 1;
      b.waiters.shift()!.resolve();
    }
    this.#schedule(b);
  }
}

/** The in-process limiter under its original name, so `new RateLimiter(…)` keeps working. */
export const RateLimiter = InProcessRateLimiter;
/** Any limiter the Qlik client accepts: in process or shared through Redis. */
export type RateLimiter = QlikRateLimiter;
