// Owns how a failure inside the access-request app becomes a sentence for the person who asked: a target's own
// errors speak for themselves (the target describes them), a target no longer configured says so, an unreachable
// Redis is named as such, anything else is an apology with a reference the logs can be searched for. Nothing here
// ever repeats a secret.
import { randomBytes } from 'node:crypto';
import { UnknownTargetError } from '../targets/registry.ts';

export const REDIS_DOWN_MESSAGE =
  "I couldn't reach my database (Redis); nothing was filed — try again in a minute.";

const REDIS_DOWN =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|Connection is closed|Stream isn't writeable|max retries per request|connect ETIMEDOUT|LOADING|READONLY|MASTERDOWN/i;

/** True for the ways ioredis (and BullMQ over it) fail when Redis is down or unreachable. */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && REDIS_DOWN.test(code)) return true;
  return REDIS_DOWN.test(err.message);
}

/** Marks a failure of the request store, audit log or queues (as opposed to Qlik or Slack). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(cause: unknown) {
    super('Redis is unavailable', { cause });
  }
}

export interface UserFacingFailure {
  message: string;
  /** Set for unexpected failures: quoted to the user and logged, so an admin can find the log line. */
  ref?: string;
}

/**
 * The sentence to show for a failure, and a log reference when it was not one we could name. `targetWords` is the
 * targets' own description of their failures (AccessTarget.describeError).
 */
export function describeFailure(
  err: unknown,
  doing: string,
  filing = false,
  targetWords: (err: unknown) => string | undefined = () => undefined,
): UserFacingFailure {
  const theirs = targetWords(err);
  if (theirs !== undefined) return { message: theirs };
  if (err instanceof UnknownTargetError) return { message: err.message };
  if (err instanceof StoreUnavailableError || isRedisUnavailable(err)) {
    return {
      message: filing
        ? REDIS_DOWN_MESSAGE
        : `I couldn't reach my database (Redis) while ${doing}; try again in a minute.`,
    };
  }
  const ref = randomBytes(3).toString('hex');
  return {
    message: `Something went wrong on my side while ${doing} (ref ${ref}). Try again, and tell an admin if it keeps happening.`,
    ref,
  };
}
