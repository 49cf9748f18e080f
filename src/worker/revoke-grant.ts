// Owns ending an applied grant (README, "How it works" and "Buttons"): at its expiry or at once. The role is
// removed only when this grant added it and no Extend took it over; a role held before the grant stays. The removal
// is the target's endGrant (locked read → write → verify, as applying), and the move to revoked / expired-revoked is
// guarded, so a re-run (crash, duplicate job, reconciler) does no harm. A revoke that fails for good (refused, or
// retries used up) is told in the approval thread and by DM with the system's words, and releases the "Revoke now"
// claim so a later press is a new attempt.

import { failureSentence, resultSentence } from '../app/outcome-words.ts';
import { followUps, transition } from '../app/transitions.ts';
import type { FailureRecord, ResultOutcome } from '../domain/outcome.ts';
import { describeTarget, type RoleChangeRequest, targetOf } from '../domain/request.ts';
import { enqueueNotify, jobIds, type RevokeGrantJob } from '../queue/queues.ts';
import { wordsOfKind } from '../targets/kinds.ts';
import type { AccessTarget } from '../targets/types.ts';
import { event } from './apply-role-change.ts';
import {
  type AttemptInfo,
  accessChangeOf,
  checkShutdown,
  MARKER_TTL_SECONDS,
  RetryLaterError,
  SettledFailureError,
  type WorkerContext,
  withChangeLock,
} from './context.ts';
import { classifyFailure, failureOf } from './failures.ts';
import { revokeDecision } from './grants.ts';

export type RevokeOutcome =
  | { outcome: 'removed' | 'left'; request: RoleChangeRequest }
  | { outcome: 'skipped'; reason: string };

/** A refused revoke (400/403) is not retried by the reconciler for this long: someone has to look at it. */
const BLOCKED_SECONDS = 3600;

export async function revokeGrant(
  ctx: WorkerContext,
  job: RevokeGrantJob,
  attempt: AttemptInfo,
  shutdown?: AbortSignal,
): Promise<RevokeOutcome> {
  checkShutdown(shutdown);
  const req = await ctx.store.get(job.requestId);
  if (!req) return { outcome: 'skipped', reason: 'no such request' };
  if (req.state === 'revoked' || req.state === 'expired-revoked') {
    await followUps(ctx, req); // the 'revoked' notification: a no-op when already queued; covers a crash before it
    return { outcome: 'skipped', reason: `already ${req.state}` };
  }
  if (req.state !== 'applied' || req.action !== 'grant') {
    await ctx.redis.del(ctx.keys.revokeRequested(req.id)); // nothing under way any more
    return { outcome: 'skipped', reason: req.action !== 'grant' ? 'not a grant' : `request is ${req.state}` };
  }
  const to = job.trigger === 'expiry' ? 'expired-revoked' : 'revoked';
  const log = ctx.logger.child({ requestId: req.id, trigger: job.trigger, attempt: attempt.attempt });

  let target: AccessTarget | undefined;
  let ending: Ending;
  try {
    const t = ctx.targets.get(targetOf(req));
    target = t;
    ending = await withChangeLock(ctx, t, req, (signal) => endUnderLock(ctx, t, req, job, signal, shutdown));
  } catch (err) {
    const action = classifyFailure(err, target, { who: describeTarget(req.target), kind: req.target.kind });
    if (action.kind === 'later') throw new RetryLaterError(action.delayMs, action.reason);
    if (action.kind === 'retry' && target) {
      // Even after the last attempt the grant stays applied and due: the reconciler's sweep tries again.
      log.warn({ reason: action.reason, final: attempt.final }, 'revoke failed; will retry');
      if (attempt.final) {
        const failure = failureOf(action, attempt.attempt);
        const message = failureSentence(req, failure, target.words);
        await ctx.audit.append({
          ...event(ctx, req, 'revoke-failed', 'failed'),
          actor: job.actor,
          detail: `${message} The role was not removed.`,
        });
        await reportRevokeFailure(ctx, req, job, failure, message);
      }
      throw err;
    }
    const failure = failureOf(action, attempt.attempt);
    const message = failureSentence(req, failure, wordsOfKind(targetOf(req).kind));
    log.error({ reason: message }, 'revoke refused; left for a person to look at');
    await ctx.redis.set(ctx.keys.revokeBlocked(req.id), '1', 'EX', BLOCKED_SECONDS);
    await ctx.audit.append({
      ...event(ctx, req, 'revoke-failed', 'failed'),
      actor: job.actor,
      detail: `${message} The role was not removed.`,
    });
    await reportRevokeFailure(ctx, req, job, failure, message);
    throw new SettledFailureError(message);
  }

  const message = resultSentence(req, ending.outcome, {}, wordsOfKind(targetOf(req).kind));
  const result: NonNullable<RoleChangeRequest['result']> = {
    ...(req.result ?? { before: [], after: [], changed: false, message: '' }),
    ...ending.result,
    outcome: ending.outcome,
    message,
  };
  const t = await transition(
    ctx,
    req,
    'applied',
    to,
    { result },
    {
      actor: job.actor,
      outcome: ending.removed ? 'removed' : 'left-in-place',
      detail: message,
      ...(ending.removed ? { before: result.before, after: result.after } : {}),
    },
    {
      // The attempt's bookkeeping goes before the 'revoked' notification is queued.
      beforeFollowUps: async () => {
        await ctx.redis.del(
          ctx.keys.revokeSnapshot(req.id),
          ctx.keys.revokeRequested(req.id),
          ctx.keys.revokeFailure(req.id),
        );
        return undefined;
      },
    },
  );
  if (!t.ok) return { outcome: 'skipped', reason: `request is ${t.request?.state ?? 'gone'}` };
  if (job.trigger === 'manual') {
    // The expiry job has nothing left to do; removing it keeps the delayed set tidy (it would be a no-op anyway).
    await ctx.queues.roleChanges.remove(jobIds.revokeGrant(req.id, 'expiry')).catch(() => 0);
  }
  log.info({ removed: ending.removed }, 'grant ended');
  return { outcome: ending.removed ? 'removed' : 'left', request: t.request };
}

/** What the worker records about a revoke that failed for good; the notices about it read this. */
export interface RevokeFailure {
  /** Why; absent on what versions before the codes recorded. */
  failure?: FailureRecord;
  /** Its plain sentence: what versions before the codes recorded, and what tells one failure from the next. */
  message: string;
  at: number;
  actor: string;
  trigger: RevokeGrantJob['trigger'];
  seq: number;
}

/**
 * Tells about a failed revoke: recorded, the "Revoke now" claim released (a later press is a new attempt), and a
 * notification of its own (event 'revoke-failed', numbered) so a later successful revoke still sends 'revoked'. An
 * expiry revoke that fails the same way again on the reconciler's retry is not told again: the thread already says.
 */
async function reportRevokeFailure(
  ctx: WorkerContext,
  req: RoleChangeRequest,
  job: RevokeGrantJob,
  failure: FailureRecord,
  message: string,
): Promise<void> {
  const previous = await readRevokeFailure(ctx, req.id);
  // Only a "Revoke now" releases the press's claim: an expiry failing meanwhile leaves a press under way alone.
  if (job.trigger === 'manual') await ctx.redis.del(ctx.keys.revokeRequested(req.id));
  if (job.trigger === 'expiry' && previous?.trigger === 'expiry' && previous.message === message) return;
  const seq = await ctx.redis.incr(ctx.keys.revokeFailures(req.id));
  await ctx.redis.expire(ctx.keys.revokeFailures(req.id), MARKER_TTL_SECONDS);
  const record: RevokeFailure = {
    failure,
    message,
    at: ctx.now(),
    actor: job.actor,
    trigger: job.trigger,
    seq,
  };
  await ctx.redis.set(ctx.keys.revokeFailure(req.id), JSON.stringify(record), 'EX', MARKER_TTL_SECONDS);
  await enqueueNotify(ctx.queues, req.id, 'revoke-failed', seq);
}

export async function readRevokeFailure(
  ctx: Pick<WorkerContext, 'redis' | 'keys'>,
  id: string,
): Promise<RevokeFailure | undefined> {
  const raw = await ctx.redis.get(ctx.keys.revokeFailure(id));
  if (raw === null) return undefined;
  try {
    const v = JSON.parse(raw) as RevokeFailure;
    return typeof v.message === 'string' && typeof v.seq === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

interface Ending {
  removed: boolean;
  outcome: ResultOutcome;
  result: Partial<NonNullable<RoleChangeRequest['result']>>;
}

async function endUnderLock(
  ctx: WorkerContext,
  target: AccessTarget,
  req: RoleChangeRequest,
  job: RevokeGrantJob,
  signal: AbortSignal,
  shutdown: AbortSignal | undefined,
): Promise<Ending> {
  // Read under the lock: an Extend marks its take-over under the same lock.
  const supersededBy = (await ctx.redis.get(ctx.keys.supersededBy(req.id))) ?? undefined;
  const tookOver = (await ctx.redis.exists(ctx.keys.tookOver(req.id))) === 1;
  const decision = revokeDecision({
    action: req.action,
    changed: (req.result?.changed ?? false) || tookOver,
    ...(supersededBy === undefined ? {} : { supersededBy }),
  });
  if (decision.kind === 'leave') {
    const outcome: ResultOutcome =
      decision.reason === 'superseded' && decision.supersededBy !== undefined
        ? { code: 'kept-extended', by: decision.supersededBy }
        : { code: 'kept-held-before' };
    return { removed: false, outcome, result: { changed: false } };
  }

  const earlier = await readSnapshot(ctx, req.id);
  const ended = await target.endGrant(accessChangeOf(req), {
    ...(earlier === undefined ? {} : { earlier }),
    ...(req.result?.before === undefined ? {} : { grantedOver: req.result.before }),
    signal,
    beforeWrite: async (before) => {
      checkShutdown(shutdown);
      // Recorded BEFORE the write: a re-run after a crash must still know this revoke removed the role.
      await ctx.redis.set(ctx.keys.revokeSnapshot(req.id), JSON.stringify(before), 'EX', MARKER_TTL_SECONDS);
    },
  });
  switch (ended.outcome) {
    case 'principal-gone':
      return { removed: false, outcome: { code: 'principal-gone' }, result: { changed: false } };
    case 'already-gone':
      return {
        removed: false,
        outcome: { code: 'already-removed' },
        result: { before: ended.before, after: ended.after, changed: false },
      };
    case 'removed':
      return {
        removed: true,
        outcome: { code: 'ended', trigger: job.trigger },
        result: { before: ended.before, after: ended.after, changed: true },
      };
  }
}

async function readSnapshot(ctx: WorkerContext, id: string): Promise<string[] | undefined> {
  const raw = await ctx.redis.get(ctx.keys.revokeSnapshot(id));
  if (raw === null) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) ? v.map(String) : undefined;
  } catch {
    return undefined;
  }
}
