// Owns how a failure inside the access-request app becomes a failure outcome (src/app/outcomes.ts) a front words:
// a target's own errors carry the target's description, a target no longer configured says so, an unreachable
// Redis is named as such, anything else gets a reference the logs can be searched for. Nothing here ever repeats a
// secret.
import { randomBytes } from 'node:crypto';
import { UnknownTargetError } from '../targets/registry.ts';
import type { Doing, Failure } from './outcomes.ts';

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

/**
 * The failure outcome for an error (a front words it), and a log reference when it was not one we could name.
 * `targetWords` is the targets' own description of their failures (AccessTarget.describeError).
 */
export function describeFailure(
  err: unknown,
  doing: Doing,
  targetWords: (err: unknown) => string | undefined = () => undefined,
): Failure {
  const theirs = targetWords(err);
  if (theirs !== undefined) return { ok: false, code: 'target-error', message: theirs };
  if (err instanceof UnknownTargetError) return { ok: false, code: 'target-gone', message: err.message };
  if (err instanceof StoreUnavailableError || isRedisUnavailable(err)) {
    return { ok: false, code: 'store-unavailable', doing };
  }
  return { ok: false, code: 'failed', doing, ref: randomBytes(3).toString('hex') };
}
