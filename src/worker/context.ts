// Owns what every job processor of the worker is given: the collaborators (narrowed to what the worker calls), the
// worker's own Redis keys, and the job-control errors a processor throws to ask for "later, without burning an
// attempt" or "stop retrying".

import type { Notifier } from '../app/notifier.ts';
import { legacyLockKeyOf, principalRefOf, type RoleChangeRequest, targetOf } from '../domain/request.ts';
import type { Logger } from '../observability/logger.ts';
import type { Queues } from '../queue/queues.ts';
import type { AuditLog } from '../store/audit-log.ts';
import type { RedisConnection } from '../store/redis.ts';
import type { RequestStore } from '../store/request-store.ts';
import { changeLockKey, type TargetLookup } from '../targets/registry.ts';
import type { AccessChange, AccessTarget } from '../targets/types.ts';
import type { WorkerKeys } from './keys.ts';

/** Mutual exclusion per principal (per target instance) across processes (src/store/principal-lock.ts). */
export interface PrincipalLocker {
  withLock<T>(
    principalKey: string,
    fn: (signal: AbortSignal) => Promise<T>,
    opts?: { ttlMs?: number; waitMs?: number },
  ): Promise<T>;
}

/** What the worker tells people through the chat (src/app/notifier.ts; src/slack/notifier.ts for Slack). */
export type ResultNotifier = Pick<
  Notifier,
  'front' | 'refresh' | 'postResult' | 'findResult' | 'tell' | 'updateResult' | 'homesChanged'
>;

export interface WorkerContext {
  /** The configured access targets; every change goes through the one a request is for. */
  targets: TargetLookup;
  store: RequestStore;
  audit: AuditLog;
  lock: PrincipalLocker;
  queues: Queues;
  notifier: ResultNotifier;
  /** A command (non-blocking) connection for the worker's own keys. */
  redis: RedisConnection;
  keys: WorkerKeys;
  logger: Logger;
  now: () => number;
  /** Principal lock lifetime (renewed while held) and how long to wait for it; the lock's defaults otherwise. */
  lockOptions?: { ttlMs?: number; waitMs?: number };
}

/**
 * Asks the job runner to run the job again after `delayMs` WITHOUT counting an attempt: used for a target's rate
 * limit (the change was not applied and the system says when to come back) and for a principal lock held by a long queue.
 */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  readonly delayMs: number;
  constructor(delayMs: number, reason: string) {
    super(reason);
    this.delayMs = delayMs;
  }
}

/** The worker is shutting down past its deadline: stop before the next write and let another worker run the job. */
export class ShutdownError extends Error {
  override readonly name = 'ShutdownError';
  constructor() {
    super('The worker is shutting down; the job goes back to the queue.');
  }
}

/** Throws ShutdownError when the job was cancelled for shutdown. */
export function checkShutdown(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ShutdownError();
}

/** The request was settled (failed and the requester told): the job must not be retried. */
export class SettledFailureError extends Error {
  override readonly name = 'SettledFailureError';
}

/** Which attempt of a job this is, so the last one can settle the request instead of leaving it applying. */
export interface AttemptInfo {
  /** 1-based. */
  attempt: number;
  /** True when a retryable failure now would exhaust the job's attempts. */
  final: boolean;
}

/** The change a request asks of its target, in the target's words. */
export function accessChangeOf(req: RoleChangeRequest): AccessChange {
  const resource = targetOf(req).resource;
  return {
    action: req.action,
    principal: principalRefOf(req.target),
    entitlement: {
      id: req.entitlement.id,
      name: req.entitlement.name,
      ...(resource === undefined ? {} : { resource }),
    },
  };
}

/**
 * Runs `fn` holding the lock of the request's change (src/targets/registry.ts `changeLockKey`). For the default
 * tenant's roles it also holds the key versions before targets took, so a worker of such a version still running
 * during a rolling upgrade never interleaves its read-modify-write with this one; `signal` aborts when either lock
 * is lost. Keys are always taken in the same order (new, then old), and old workers take only the old one.
 */
export function withChangeLock<T>(
  ctx: Pick<WorkerContext, 'lock' | 'lockOptions'>,
  target: AccessTarget,
  req: RoleChangeRequest,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const key = changeLockKey(target, accessChangeOf(req));
  const legacy = legacyLockKeyOf(req);
  if (legacy === undefined) return ctx.lock.withLock(key, fn, ctx.lockOptions);
  return ctx.lock.withLock(
    key,
    (outer) => ctx.lock.withLock(legacy, (inner) => fn(AbortSignal.any([outer, inner])), ctx.lockOptions),
    ctx.lockOptions,
  );
}

/** How long the markers the worker writes are kept (as long as the store keeps finished requests). */
export const MARKER_TTL_SECONDS = 90 * 24 * 3600;
