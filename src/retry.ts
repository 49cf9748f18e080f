// Owns waiting between attempts, for every hand-made retry in the bot (Qlik calls, response_url posts, principal
// lock polling, Redis reconnects, jobs put back for later): exponential backoff with a cap and jitter, a jittered
// fixed delay, and one retry loop that asks the caller what a failure means. Where a library retries by itself
// (BullMQ job backoff, the Slack WebClient's retryConfig) it is left to do so.
import { setTimeout as sleepFor } from 'node:timers/promises';

/** Exponential backoff: `baseMs` after the first failure, doubling after each one, never more than `capMs`. */
export interface Backoff {
  baseMs: number;
  capMs: number;
  /**
   * The delay is drawn uniformly from [low × d, high × d] of the exponential delay d. [0, 1] is "full jitter"
   * (the default: waiters spread out the most), [0.5, 1] "equal jitter" (never less than half), [1, 1] none.
   */
  jitter?: readonly [low: number, high: number];
}

export const FULL_JITTER = [0, 1] as const;
export const EQUAL_JITTER = [0.5, 1] as const;
export const NO_JITTER = [1, 1] as const;

/** The wait (whole ms) after `failures` consecutive failures (1 = the first). */
export function backoffDelay(failures: number, backoff: Backoff, random: () => number = Math.random): number {
  const d = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, failures - 1));
  const [low, high] = backoff.jitter ?? FULL_JITTER;
  return Math.round(d * (low + random() * (high - low)));
}

/** `ms` plus up to `maxExtraMs` (whole ms), so callers told the same delay do not all come back at once. */
export function withJitter(ms: number, maxExtraMs: number, random: () => number = Math.random): number {
  return ms + Math.floor(random() * maxExtraMs);
}

/** What a failed attempt means for the next one. */
export type RetryDecision =
  | { retry: false }
  | {
      retry: true;
      /** Wait this long instead of the backoff delay (e.g. 0, or a Retry-After the caller does not wait itself). */
      delayMs?: number;
      /**
       * The next attempt will itself wait this long before it sends (a rate limiter blocked for a Retry-After):
       * counted against `maxElapsedMs` in place of the delay.
       */
      blockedMs?: number;
    };

export interface RetryOptions {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  /** No retry is started once waiting for it would pass this much time since the first attempt. */
  maxElapsedMs?: number;
  backoff: Backoff;
  /** Decides about each failure; the last failure is thrown once it says no or the limits are reached. */
  classify: (error: unknown, attempt: number) => RetryDecision;
  /** Ends a wait between attempts early: the loop then throws the signal's reason. */
  signal?: AbortSignal;
  random?: () => number;
  /** Milliseconds on a monotonic clock (default performance.now). */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const defaultSleep = async (ms: number, signal?: AbortSignal) => {
  await sleepFor(ms, undefined, signal ? { signal } : {});
};

/** Runs `attempt` (given its number, from 1) until it returns, retrying failures as `classify` says. */
export async function retry<T>(attempt: (n: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const now = opts.now ?? (() => performance.now());
  const sleep = opts.sleep ?? defaultSleep;
  const started = now();
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const decision = opts.classify(err, n);
      if (!decision.retry || n >= opts.maxAttempts) throw err;
      const delay = decision.delayMs ?? backoffDelay(n, opts.backoff, opts.random);
      const wait = decision.blockedMs ?? delay;
      if (opts.maxElapsedMs !== undefined && now() - started + wait > opts.maxElapsedMs) throw err;
      if (delay > 0) {
        try {
          await sleep(delay, opts.signal);
        } catch (sleepErr) {
          if (opts.signal?.aborted) throw opts.signal.reason;
          throw sleepErr;
        }
      }
    }
  }
}
