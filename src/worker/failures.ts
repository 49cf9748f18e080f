// Owns how the worker reacts to a failure while changing a principal: come back later without burning an attempt
// (a busy principal lock, shutdown, or what the target says, e.g. a rate limit), retry with backoff (a lost lock,
// what the target says is passing), or fail at once with a message written for the requester (what the target says
// is final). The target classifies its own errors; anything nobody recognises is retried. Pure.
import { withJitter } from '../retry.ts';
import type { AccessTarget, ErrorAction, ErrorSubject, TargetWords } from '../targets/types.ts';
import { RetryLaterError, ShutdownError } from './context.ts';

export type FailureAction = ErrorAction;

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
    return { kind: 'fail', message: err.message };
  const fromTarget = target?.classifyError(err, subject, random);
  if (fromTarget) return fromTarget;
  // The principal lock expired under us (src/store/principal-lock.ts aborts with it): another worker may be writing.
  if (isNamed(err, 'LockLostError'))
    return {
      kind: 'retry',
      reason: 'principal lock lost',
      message: 'The bot lost its hold on the principal while changing it.',
    };
  // Anything else (Redis hiccup, a bug) may pass; the last attempt turns it into a plain failure.
  const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { kind: 'retry', reason, message: 'The bot hit an internal error while applying the change.' };
}

/** The requester's message once retries are used up. */
export function exhaustedMessage(lastMessage: string, attempts: number, words: TargetWords): string {
  const times = `${attempts} time${attempts === 1 ? '' : 's'}`;
  return `${lastMessage} The bot tried ${times} and gave up; check ${words.checkByHand} before filing the request again.`;
}

function isNamed(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && 'name' in err && (err as { name: unknown }).name === name;
}
