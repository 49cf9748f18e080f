// Owns how a failure from Qlik while changing roles is handled: come back later without burning an attempt (429),
// retry with backoff (5xx, network, timeouts), or fail at once with a message written for the requester
// (400/403/404, drift). Pure, so every branch is tested on its own.
import { QlikError } from '../../qlik/index.ts';
import { withJitter } from '../../retry.ts';
import { DriftError } from '../errors.ts';
import type { ErrorAction, ErrorSubject } from '../types.ts';

/** Without Retry-After Qlik still blocks the whole tier for a while; half a minute is a safe guess. */
const DEFAULT_RATE_LIMIT_DELAY_MS = 30_000;

/** What to do about `err`, or undefined when it is not a Qlik failure. */
export function classifyQlikError(
  err: unknown,
  subject: ErrorSubject,
  random: () => number = Math.random,
): ErrorAction | undefined {
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
  return undefined;
}

/** True for Qlik's 404: the principal is gone. */
export function isNotFound(err: unknown): boolean {
  return err instanceof QlikError && err.kind === 'not-found';
}
