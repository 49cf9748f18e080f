// Owns ending an applied grant (SPEC §3, time-bound grants): at its expiry or at once ("Revoke now"). The role is
// removed only when this grant added it and no Extend took it over; a role held before the grant stays. The removal
// is the same locked read → replace → verify as applying, and the move to revoked / expired-revoked is guarded, so a
// re-run (crash, duplicate job, reconciler) does no harm. A revoke that fails for good (refused, or retries used up)
// is told in the approval thread and by DM with Qlik's words, and releases the "Revoke now" claim so a later press
// is a new attempt.
import { describeTarget, type RoleChangeRequest } from '../domain/request.ts';
import { requestTransitions } from '../observability/metrics.ts';
import { enqueueNotify, jobIds, type RevokeGrantJob } from '../queue/queues.ts';
import { event, readDirectRoles, writeDirectRoles } from './apply-role-change.ts';
import {
  type AttemptInfo,
  checkShutdown,
  MARKER_TTL_SECONDS,
  principalKey,
  RetryLaterError,
  SettledFailureError,
  type WorkerContext,
} from './context.ts';
import { classifyFailure, DriftError, exhaustedMessage } from './failures.ts';
import { nextDirectRoles, revokeDecision, roleNames } from './role-list.ts';

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
    await enqueueNotify(ctx.queues, req.id, 'revoked'); // no-op when already queued; covers a crash before it
    return { outcome: 'skipped', reason: `already ${req.state}` };
  }
  if (req.state !== 'applied' || req.action !== 'grant') {
    await ctx.redis.del(ctx.keys.revokeRequested(req.id)); // nothing under way any more
    return { outcome: 'skipped', reason: req.action !== 'grant' ? 'not a grant' : `request is ${req.state}` };
  }
  const to = job.trigger === 'expiry' ? 'expired-revoked' : 'revoked';
  const log = ctx.logger.child({ requestId: req.id, trigger: job.trigger, attempt: attempt.attempt });

  let ending: Ending;
  try {
    ending = await ctx.lock.withLock(
      principalKey(req.target),
      (signal) => endUnderLock(ctx, req, job, signal, shutdown),
      ctx.lockOptions,
    );
  } catch (err) {
    const action = classifyFailure(err, { who: describeTarget(req.target), kind: req.target.kind });
    if (action.kind === 'later') throw new RetryLaterError(action.delayMs, action.reason);
    if (action.kind === 'retry') {
      // Even after the last attempt the grant stays applied and due: the reconciler's sweep tries again.
      log.warn({ reason: action.reason, final: attempt.final }, 'revoke failed; will retry');
      if (attempt.final) {
        const message = exhaustedMessage(action.message, attempt.attempt);
        await ctx.audit.append({
          ...event(ctx, req, 'revoke-failed', 'failed'),
          actor: job.actor,
          detail: `${message} The role was not removed.`,
        });
        await reportRevokeFailure(ctx, req, job, message);
      }
      throw err;
    }
    log.error({ reason: action.message }, 'revoke refused; left for a person to look at');
    await ctx.redis.set(ctx.keys.revokeBlocked(req.id), '1', 'EX', BLOCKED_SECONDS);
    await ctx.audit.append({
      ...event(ctx, req, 'revoke-failed', 'failed'),
      actor: job.actor,
      detail: `${action.message} The role was not removed.`,
    });
    await reportRevokeFailure(ctx, req, job, action.message);
    throw new SettledFailureError(action.message);
  }

  const result: NonNullable<RoleChangeRequest['result']> = {
    ...(req.result ?? { before: [], after: [], changed: false, message: '' }),
    ...ending.result,
  };
  const audit = {
    ...event(ctx, req, to, ending.removed ? 'removed' : 'left-in-place', { detail: result.message }),
    actor: job.actor,
    ...(ending.removed ? { before: result.before, after: result.after } : {}),
  };
  const t = await ctx.store.transition(req.id, 'applied', to, { result }, ctx.now(), audit);
  if (!t.ok) return { outcome: 'skipped', reason: `request is ${t.request?.state ?? 'gone'}` };
  requestTransitions.inc({ state: to });
  await ctx.redis.del(
    ctx.keys.revokeSnapshot(req.id),
    ctx.keys.revokeRequested(req.id),
    ctx.keys.revokeFailure(req.id),
  );
  await enqueueNotify(ctx.queues, req.id, 'revoked');
  if (job.trigger === 'manual') {
    // The expiry job has nothing left to do; removing it keeps the delayed set tidy (it would be a no-op anyway).
    await ctx.queues.roleChanges.remove(jobIds.revokeGrant(req.id, 'expiry')).catch(() => 0);
  }
  log.info({ removed: ending.removed }, 'grant ended');
  return { outcome: ending.removed ? 'removed' : 'left', request: t.request };
}

/** What the worker records about a revoke that failed for good; the notices about it read this. */
export interface RevokeFailure {
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
  message: string,
): Promise<void> {
  const previous = await readRevokeFailure(ctx, req.id);
  // Only a "Revoke now" releases the press's claim: an expiry failing meanwhile leaves a press under way alone.
  if (job.trigger === 'manual') await ctx.redis.del(ctx.keys.revokeRequested(req.id));
  if (job.trigger === 'expiry' && previous?.trigger === 'expiry' && previous.message === message) return;
  const seq = await ctx.redis.incr(ctx.keys.revokeFailures(req.id));
  await ctx.redis.expire(ctx.keys.revokeFailures(req.id), MARKER_TTL_SECONDS);
  const failure: RevokeFailure = { message, at: ctx.now(), actor: job.actor, trigger: job.trigger, seq };
  await ctx.redis.set(ctx.keys.revokeFailure(req.id), JSON.stringify(failure), 'EX', MARKER_TTL_SECONDS);
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
  result: Partial<NonNullable<RoleChangeRequest['result']>> & { message: string };
}

async function endUnderLock(
  ctx: WorkerContext,
  req: RoleChangeRequest,
  job: RevokeGrantJob,
  signal: AbortSignal,
  shutdown: AbortSignal | undefined,
): Promise<Ending> {
  const who = describeTarget(req.target);
  const role = req.role.name;
  // Read under the lock: an Extend marks its take-over under the same lock.
  const supersededBy = (await ctx.redis.get(ctx.keys.supersededBy(req.id))) ?? undefined;
  const tookOver = (await ctx.redis.exists(ctx.keys.tookOver(req.id))) === 1;
  const decision = revokeDecision({
    action: req.action,
    changed: (req.result?.changed ?? false) || tookOver,
    ...(supersededBy === undefined ? {} : { supersededBy }),
  });
  if (decision.kind === 'leave') {
    const message =
      decision.reason === 'superseded'
        ? `${who} keeps ${role}: this grant was extended by ${decision.supersededBy}, which now decides when it ends.`
        : `${who} keeps ${role}: they had it before this grant, so ending the grant leaves it in place.`;
    return { removed: false, result: { changed: false, message } };
  }

  let current: Awaited<ReturnType<typeof readDirectRoles>>;
  try {
    current = await readDirectRoles(ctx.qlik, req.target);
  } catch (err) {
    if (isNotFound(err)) {
      const message = `${who} no longer exists in Qlik, so there was no ${role} left to remove.`;
      return { removed: false, result: { changed: false, message } };
    }
    throw err;
  }
  const before = roleNames(current);
  const plan = nextDirectRoles(current, 'revoke', req.role);
  const ended = job.trigger === 'expiry' ? 'the time-bound grant ended' : 'revoked on request';
  if (!plan.changed) {
    // Gone already: by an earlier attempt of this revoke (its snapshot says so) or by someone else.
    const snap = await readSnapshot(ctx, req.id);
    if (snap?.includes(role))
      return {
        removed: true,
        result: {
          before: snap,
          after: before,
          changed: true,
          message: `Removed ${role} from ${who}: ${ended}.`,
        },
      };
    const message = `${role} had already been removed from ${who}; nothing was changed.`;
    return { removed: false, result: { before, after: before, changed: false, message } };
  }
  checkShutdown(shutdown);
  await ctx.redis.set(ctx.keys.revokeSnapshot(req.id), JSON.stringify(before), 'EX', MARKER_TTL_SECONDS);
  signal.throwIfAborted(); // the lock expired under us: another worker may be writing
  await writeDirectRoles(ctx.qlik, req.target, plan.ids);
  const fresh = await readDirectRoles(ctx.qlik, req.target);
  if (fresh.some((r) => r.id === req.role.id))
    throw new DriftError(
      `Qlik accepted the removal of ${role}, but reading ${who} back shows it is still there: someone changed their roles at the same time.`,
    );
  return {
    removed: true,
    result: {
      before,
      after: roleNames(fresh),
      changed: true,
      message: `Removed ${role} from ${who}: ${ended}.`,
    },
  };
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

function isNotFound(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    'kind' in err &&
    (err as { kind: unknown }).kind === 'not-found'
  );
}
