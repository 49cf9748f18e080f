// Token buckets per tier, driven by a hand-cranked clock: burst then steady rate, FIFO order, tier-wide blocks
// after a 429, tiers independent, no polling, and close() releasing waiters.
import { describe, expect, it } from 'vitest';
import { type LimiterClock, RateLimiter, RateLimiterClosedError } from '../../src/qlik/rate-limiter.ts';

class FakeClock implements LimiterClock {
  t = 0;
  scheduled = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    this.scheduled += 1;
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimer(h: unknown): void {
    this.#timers.delete(h as number);
  }
  get pendingTimers(): number {
    return this.#timers.size;
  }
  /** Moves time forward, firing due timers in order and letting resolved promises run. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) if (e[1].at <= target && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.#timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
      await flush();
    }
    this.t = target;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function track(p: Promise<void>, log: number[], id: number, clock: FakeClock, at?: number[]): void {
  void p.then(() => {
    log.push(id);
    at?.push(clock.t);
  });
}

describe('RateLimiter', () => {
  it('serves a burst at once, then one token per 1/rate, in arrival order', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ write: { perMinute: 60, burst: 3 } }, clock);
    const log: number[] = [];
    const at: number[] = [];
    for (let i = 0; i < 6; i++) track(limiter.acquire('write'), log, i, clock, at);
    await flush();
    expect(log).toEqual([0, 1, 2]);
    await clock.advance(999);
    expect(log).toEqual([0, 1, 2]);
    await clock.advance(1);
    expect(log).toEqual([0, 1, 2, 3]);
    await clock.advance(2000);
    expect(log).toEqual([0, 1, 2, 3, 4, 5]);
    expect(at).toEqual([0, 0, 0, 1000, 2000, 3000]);
  });

  it('defaults the burst to 10% of the per-minute figure (at least 1)', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ read: { perMinute: 1000 }, write: { perMinute: 5 } }, clock);
    const reads: number[] = [];
    const writes: number[] = [];
    for (let i = 0; i < 101; i++) track(limiter.acquire('read'), reads, i, clock);
    for (let i = 0; i < 2; i++) track(limiter.acquire('write'), writes, i, clock);
    await flush();
    expect(reads).toHaveLength(100);
    expect(writes).toHaveLength(1);
  });

  it('keeps sustained throughput at the configured rate', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ read: { perMinute: 600, burst: 60 } }, clock);
    const log: number[] = [];
    // 60 from the burst + 600 at 10/s = 660 by t = 60 s, and not earlier.
    for (let i = 0; i < 660; i++) track(limiter.acquire('read'), log, i, clock);
    await clock.advance(59_000);
    expect(log.length).toBe(60 + 590);
    await clock.advance(1_000);
    expect(log.length).toBe(660);
    expect(log).toEqual([...log].sort((a, b) => a - b));
    // One timer per token at most: waiting is event-driven, not a poll loop.
    expect(clock.scheduled).toBeLessThanOrEqual(601);
  });

  it('blocks only the tier that got a 429 until Retry-After passes', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ write: { perMinute: 100 }, read: { perMinute: 1000 } }, clock);
    limiter.block('write', 5_000);
    expect(limiter.blockedFor('write')).toBe(5_000);
    expect(limiter.blockedFor('read')).toBe(0);
    const writes: number[] = [];
    const reads: number[] = [];
    track(limiter.acquire('write'), writes, 1, clock);
    track(limiter.acquire('read'), reads, 1, clock);
    await flush();
    expect(reads).toEqual([1]);
    expect(writes).toEqual([]);
    await clock.advance(4_999);
    expect(writes).toEqual([]);
    await clock.advance(1);
    expect(writes).toEqual([1]);
    expect(limiter.blockedFor('write')).toBe(0);
  });

  it('re-arms waiters already queued when a block arrives, and a shorter block does not shorten it', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ write: { perMinute: 60, burst: 1 } }, clock);
    await limiter.acquire('write');
    const log: number[] = [];
    track(limiter.acquire('write'), log, 1, clock); // would be due at 1000
    await clock.advance(500);
    limiter.block('write', 3_000); // until 3500
    limiter.block('write', 1_000); // ignored: ends earlier
    await clock.advance(2_999);
    expect(log).toEqual([]);
    await clock.advance(1);
    expect(log).toEqual([1]);
    expect(clock.t).toBe(3_500);
  });

  it('close() rejects waiters and clears timers', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ write: { perMinute: 1, burst: 1 } }, clock);
    await limiter.acquire('write');
    const waiting = limiter.acquire('write');
    expect(limiter.pending('write')).toBe(1);
    limiter.close();
    await expect(waiting).rejects.toBeInstanceOf(RateLimiterClosedError);
    await expect(limiter.acquire('read')).rejects.toBeInstanceOf(RateLimiterClosedError);
    expect(clock.pendingTimers).toBe(0);
  });

  it('works with the real clock', async () => {
    const limiter = new RateLimiter({ read: { perMinute: 60_000, burst: 1 } });
    for (let i = 0; i < 5; i++) await limiter.acquire('read');
    expect(limiter.pending('read')).toBe(0);
    limiter.close();
  });
});
