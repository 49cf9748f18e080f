// Owns how the worker reacts to a failure while changing a principal: come back later without burning an attempt
// (a busy principal lock, shutdown, or what the target says, e.g. a rate limit), retry with backoff (a lost lock,
// what the target says is passing), or fail at once (what the target says is final), each with the cause the
// request records (src/domain/outcome.ts). The target classifies its own errors, in its own words; anything nobody
// recognises is retried. Pure.
import type { FailureCause, FailureRecord } from '../domain/outcome.ts';
import { withJitter } from '../retry.ts';
import type { AccessTarget, ErrorAction, ErrorSubject } from '../targets/types.ts';
import { RetryLaterError, ShutdownError } from './context.ts';

export type FailureAction =
  | Extract<ErrorAction, { kind: 'later' }>
  | { kind: 'retry'; reason: string; cause: FailureCause }
  | { kind: 'fail'; cause: FailureCause };

const LOCK_BUSY_DELAY_MS = 1_000;

export function classifyFailure(
  err: unknown,
  target: Pick<AccessTarget, 'classifyError'> | undefined,
  subject: ErrorSubject,
  random: () => number = Math.random,
): FailureAction {
  if (err instanceof RetryLaterError) return { kind: 'later', delayMs: err.delayMs, reason: err.message };
  if (err instanceof ShutdownError) return { kind: 'later', delayMs: 0, reason: 'worker shutting down' };
  if (isNamed(err, 'LockTimeoutError'))
    return {
      kind: 'later',
      delayMs: withJitter(LOCK_BUSY_DELAY_MS, LOCK_BUSY_DELAY_MS, random),
      reason: 'principal busy',
    };
  if (isNamed(err, 'UnknownTargetError') && err instanceof Error)
    return { kind: 'fail', cause: { code: 'target-gone', detail: err.message } };
  const fromTarget = target?.classifyError(err, subject, random);
  if (fromTarget?.kind === 'later') return fromTarget;
  if (fromTarget) {
    const cause: FailureCause = { code: 'target', detail: fromTarget.message };
    return fromTarget.kind === 'retry'
      ? { kind: 'retry', reason: fromTarget.reason, cause }
      : { kind: 'fail', cause };
  }
  // The principal lock expired under us (src/store/principal-lock.ts aborts with it): another worker may be writing.
  if (isNamed(err, 'LockLostError'))
    return {
      kind: 'retry',
      reason: 'principal lock lost',
      cause: { code: 'lock-lost' },
    };
  // Anything else (Redis hiccup, a bug) may pass; the last attempt turns it into a plain failure.
  const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { kind: 'retry', reason, cause: { code: 'internal' } };
}

/** What the request records when `action` ends the change: a retryable cause on the last attempt is a give-up. */
export function failureOf(
  action: Exclude<FailureAction, { kind: 'later' }>,
  attempts: number,
): FailureRecord {
  return action.kind === 'retry' ? { cause: action.cause, gaveUpAfter: attempts } : { cause: action.cause };
}

function isNamed(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && 'name' in err && (err as { name: unknown }).name === name;
}
