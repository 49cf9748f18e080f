// Owns how the worker reacts to a failure while changing roles: come back later without burning an attempt (429,
// a busy principal lock), retry with backoff (5xx, network, timeouts, a lost lock), or fail at once with a message
// written for the requester (400/403/404, drift). Pure, so every branch is tested on its own.
import { QlikError } from '../qlik/index.ts';
import { withJitter } from '../retry.ts';
import { RetryLaterError, ShutdownError } from './context.ts';

/** The re-read after a write did not show what was written: someone else changed the principal at the same time. */
export class DriftError extends Error {
  override readonly name = 'DriftError';
}

export type FailureAction =
  | { kind: 'later'; delayMs: number; reason: string }
  | { kind: 'retry'; reason: string; message: string }
  | { kind: 'fail'; message: string };

export interface FailureSubject {
  /** How people read the principal, e.g. `alice (alice@corp.example)` or `group Finance`. */
  who: string;
  kind: 'user' | 'group';
}

/** Without Retry-After Qlik still blocks the whole tier for a while; half a minute is a safe guess. */
const DEFAULT_RATE_LIMIT_DELAY_MS = 30_000;
const LOCK_BUSY_DELAY_MS = 1_000;

export function classifyFailure(
  err: unknown,
  subject: FailureSubject,
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
  if (err instanceof QlikError) {
    if (err.kind === 'rate-limited') {
      // A little jitter so jobs blocked together do not all come back in the same millisecond.
      const delay = withJitter(err.retryAfterMs ?? DEFAULT_RATE_LIMIT_DELAY_MS, 250, random);
      return { kind: 'later', delayMs: delay, reason: 'Qlik rate limit' };
    }
    if (err.retryable) return { kind: 'retry', reason: err.message, message: err.userMessage() };
    if (err.kind === 'not-found') {
      const what = subject.kind === 'user' ? 'user' : 'group';
      return {
        kind: 'fail',
        message: `Qlik says the ${what} ${subject.who} no longer exists (404 Not Found), so nothing was changed. If they should have access, ask a Qlik tenant admin to add them again, then file a new request.`,
      };
    }
    return { kind: 'fail', message: err.userMessage() };
  }
  if (err instanceof DriftError) return { kind: 'fail', message: err.message };
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
export function exhaustedMessage(lastMessage: string, attempts: number): string {
  const times = `${attempts} time${attempts === 1 ? '' : 's'}`;
  return `${lastMessage} The bot tried ${times} and gave up; check the roles in the Qlik Management Console before filing the request again.`;
}

function isNamed(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && 'name' in err && (err as { name: unknown }).name === name;
}
