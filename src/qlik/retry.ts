// Owns the retry decisions for Qlik calls: which failures may be retried for which kind of request, and the
// limits and backoff between attempts. Pure; the loop is src/retry.ts, run by http.ts.
import { type Backoff, EQUAL_JITTER } from '../retry.ts';
import type { QlikError } from './errors.ts';

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  /** No retry is started once waiting for it would pass this much time since the first attempt. */
  maxElapsedMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = {
  maxAttempts: 5,
  maxElapsedMs: 30_000,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
};

/**
 * `idempotent` (GETs): 429, 5xx, network errors and timeouts are retried.
 * `rate-limit-only` (PATCH): only 429, where Qlik did not apply the change. A 5xx or a lost connection may have
 * applied it, so that decision goes back to the caller, which re-reads before writing again.
 */
export type RetryMode = 'idempotent' | 'rate-limit-only';

export function shouldRetry(error: QlikError, mode: RetryMode): boolean {
  if (error.kind === 'rate-limited') return true;
  return mode === 'idempotent' && error.retryable;
}

/** The backoff between attempts: exponential from baseDelayMs, capped at maxDelayMs, "equal jitter". */
export function qlikBackoff(policy: RetryPolicy): Backoff {
  return { baseMs: policy.baseDelayMs, capMs: policy.maxDelayMs, jitter: EQUAL_JITTER };
}
