// The one backoff and retry helper: delays grow, are capped and jittered as configured; the loop retries what the
// caller's classify allows, within its attempts and elapsed time, and a signal ends a wait at once.
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  EQUAL_JITTER,
  FULL_JITTER,
  NO_JITTER,
  type RetryOptions,
  retry,
  withJitter,
} from '../src/retry.ts';

describe('backoffDelay', () => {
  const base = { baseMs: 100, capMs: 1_000 };

  it('doubles from the base after each failure and stops at the cap', () => {
    const d = (jitter: readonly [number, number]) =>
      [1, 2, 3, 4, 5, 40].map((n) => backoffDelay(n, { ...base, jitter }, () => 0.5));
    expect(d(NO_JITTER)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(d(FULL_JITTER)).toEqual([50, 100, 200, 400, 500, 500]);
    expect(d(EQUAL_JITTER)).toEqual([75, 150, 300, 600, 750, 750]);
  });

  it('draws the delay from [low, high] of the exponential delay; full jitter by default', () => {
    expect(backoffDelay(3, base, () => 0)).toBe(0);
    expect(backoffDelay(3, base, () => 0.999_999)).toBe(400);
    const spread = { ...base, jitter: [0.5, 1.5] as const };
    expect(backoffDelay(3, spread, () => 0)).toBe(200);
    expect(backoffDelay(3, spread, () => 0.999_999)).toBe(600);
    for (let i = 0; i < 200; i++) {
      const v = backoffDelay(4, base);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(800);
    }
  });
});

describe('withJitter', () => {
  it('adds up to maxExtraMs, in whole ms, never less than the delay', () => {
    expect(withJitter(1_000, 250, () => 0)).toBe(1_000);
    expect(withJitter(1_000, 250, () => 0.99)).toBe(1_247);
    expect(withJitter(30, 0.5, () => 0.99)).toBe(30);
  });
});

/** A loop on a fake clock: sleeping moves the clock, and every sleep is recorded. */
function fakeTime(over: Partial<RetryOptions> = {}) {
  let clock = 0;
  const slept: number[] = [];
  const opts: RetryOptions = {
    maxAttempts: 5,
    backoff: { baseMs: 100, capMs: 1_000, jitter: NO_JITTER },
    classify: () => ({ retry: true }),
    now: () => clock,
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
    ...over,
  };
  return { opts, slept };
}

/** An attempt that fails `failures` times with the errors given (or 'e<n>'), then returns 'ok'. */
function failing(failures: number) {
  const calls: number[] = [];
  const fn = async (n: number) => {
    calls.push(n);
    if (n <= failures) throw new Error(`e${n}`);
    return 'ok';
  };
  return { fn, calls };
}

describe('retry', () => {
  it('returns the first success, waiting the backoff between attempts', async () => {
    const { opts, slept } = fakeTime();
    const a = failing(3);
    await expect(retry(a.fn, opts)).resolves.toBe('ok');
    expect(a.calls).toEqual([1, 2, 3, 4]);
    expect(slept).toEqual([100, 200, 400]);
  });

  it('throws the last failure once maxAttempts are used', async () => {
    const { opts, slept } = fakeTime({ maxAttempts: 3 });
    const a = failing(10);
    await expect(retry(a.fn, opts)).rejects.toThrow('e3');
    expect(a.calls).toEqual([1, 2, 3]);
    expect(slept).toEqual([100, 200]);
  });

  it('throws at once what classify will not retry, and passes it the attempt number', async () => {
    const seen: [string, number][] = [];
    const { opts, slept } = fakeTime({
      classify: (e, n) => {
        seen.push([(e as Error).message, n]);
        return { retry: n < 2 };
      },
    });
    await expect(retry(failing(10).fn, opts)).rejects.toThrow('e2');
    expect(seen).toEqual([
      ['e1', 1],
      ['e2', 2],
    ]);
    expect(slept).toEqual([100]);
  });

  it('waits a delay the failure names instead of the backoff, and skips a wait of 0', async () => {
    const { opts, slept } = fakeTime({
      classify: (_e, n) => (n === 1 ? { retry: true, delayMs: 2_500 } : { retry: true, delayMs: 0 }),
    });
    await expect(retry(failing(3).fn, opts)).resolves.toBe('ok');
    expect(slept).toEqual([2_500]);
  });

  it('does not start a retry whose wait would pass maxElapsedMs, counting a wait the attempt does itself', async () => {
    const elapsed = fakeTime({ maxElapsedMs: 350 });
    await expect(retry(failing(10).fn, elapsed.opts)).rejects.toThrow('e3');
    expect(elapsed.slept).toEqual([100, 200]); // 300 so far; another 400 would pass 350

    const blocked = fakeTime({
      maxElapsedMs: 1_000,
      classify: () => ({ retry: true, delayMs: 0, blockedMs: 1_500 }),
    });
    const a = failing(10);
    await expect(retry(a.fn, blocked.opts)).rejects.toThrow('e1');
    expect(a.calls).toEqual([1]);
    expect(blocked.slept).toEqual([]);
  });

  it('an abort during a wait ends the loop with the signal reason', async () => {
    const ctrl = new AbortController();
    const reason = new Error('closing');
    const a = failing(10);
    const run = retry(a.fn, {
      maxAttempts: 5,
      backoff: { baseMs: 60_000, capMs: 60_000 },
      classify: () => ({ retry: true }),
      signal: ctrl.signal,
      random: () => 1,
    });
    await new Promise((r) => setImmediate(r));
    ctrl.abort(reason);
    await expect(run).rejects.toBe(reason);
    expect(a.calls).toEqual([1]);
  });
});
