// Owns applying an approved request to Qlik (SPEC §3): the guarded approved → applying → applied | failed walk, the
// fetch-append-replace under a per-principal lock with a re-read to verify, the before-snapshot that lets a job
// re-run after a crash know what it did, time-bound grants (revoke schedule, Extend hand-over) and the follow-ups
// (notification, revoke job) that a re-run re-ensures. The role-list arithmetic is pure, in role-list.ts.
import { describeTarget, type RoleChangeRequest } from '../domain/request.ts';
import { plainTime } from '../domain/time.ts';
import { requestTransitions } from '../observability/metrics.ts';
import { enqueueNotify, scheduleRevoke } from '../queue/queues.ts';
import type { AuditEvent } from '../store/audit-log.ts';
import {
  type AttemptInfo,
  checkShutdown,
  MARKER_TTL_SECONDS,
  principalKey,
  type QlikRoleApi,
  RetryLaterError,
  SettledFailureError,
  type WorkerContext,
} from './context.ts';
import { classifyFailure, DriftError, exhaustedMessage } from './failures.ts';
import {
  type ApplySnapshot,
  applyOutcome,
  type ExtendedGrant,
  isAsAsked,
  nextDirectRoles,
  ownsGrant,
  type RoleRef,
  roleNames,
} from './role-list.ts';

export { nextDirectRoles } from './role-list.ts';

export type ApplyOutcome =
  | { outcome: 'applied'; request: RoleChangeRequest }
  | { outcome: 'unchanged'; request: RoleChangeRequest }
  | { outcome: 'skipped'; reason: string };

/** What `result.message` says while the request is applying: the record made just before the PATCH. */
export const SNAPSHOT_MESSAGE = 'Applying: roles recorded before the change.';

/** How many Extend hand-overs are followed to find the grant that currently owns a role. */
const MAX_EXTEND_CHAIN = 10;

/**
 * Applies the request's change, idempotently. Throws RetryLaterError (429, busy lock) or a retryable error for the
 * job runner to retry; on a final failure the request is moved to `failed`, the requester is notified, and a
 * SettledFailureError is thrown so the job is not retried.
 */
export async function applyRoleChange(
  ctx: WorkerContext,
  requestId: string,
  attempt: AttemptInfo,
  shutdown?: AbortSignal,
): Promise<ApplyOutcome> {
  checkShutdown(shutdown);
  const loaded = await ctx.store.get(requestId);
  if (!loaded) return { outcome: 'skipped', reason: 'no such request' };
  let req = loaded;
  if (req.state === 'approved') {
    const t = await ctx.store.transition(
      req.id,
      'approved',
      'applying',
      {},
      ctx.now(),
      event(ctx, req, 'applying', 'started'),
    );
    if (!t.ok) {
      if (t.request?.state !== 'applying') return settledAlready(ctx, t.request ?? req);
      req = t.request;
    } else {
      requestTransitions.inc({ state: 'applying' });
      req = t.request;
    }
  } else if (req.state !== 'applying') {
    return settledAlready(ctx, req);
  }
  const snapshot: ApplySnapshot | undefined = req.result ? { before: req.result.before } : undefined;
  const log = ctx.logger.child({ requestId: req.id, attempt: attempt.attempt });

  let change: Awaited<ReturnType<typeof changeUnderLock>>;
  try {
    change = await ctx.lock.withLock(
      principalKey(req.target),
      (signal) => changeUnderLock(ctx, req, snapshot, signal, shutdown),
      ctx.lockOptions,
    );
  } catch (err) {
    const action = classifyFailure(err, { who: describeTarget(req.target), kind: req.target.kind });
    if (action.kind === 'later') throw new RetryLaterError(action.delayMs, action.reason);
    if (action.kind === 'retry' && !attempt.final) {
      log.warn({ reason: action.reason }, 'apply failed; will retry');
      throw err;
    }
    const message =
      action.kind === 'retry' ? exhaustedMessage(action.message, attempt.attempt) : action.message;
    log.warn({ reason: err instanceof Error ? err.message : String(err) }, 'apply failed for good');
    await failRequest(ctx, req, message);
    throw new SettledFailureError(message);
  }

  const revokeAt =
    req.action === 'grant' && req.durationMs !== undefined ? ctx.now() + req.durationMs : undefined;
  const message = resultText(req, change, revokeAt);
  const result: NonNullable<RoleChangeRequest['result']> = {
    before: change.before,
    after: change.after,
    changed: change.changed,
    message,
    ...(revokeAt === undefined ? {} : { revokeAt }),
    ...(change.tookOverFrom === undefined
      ? {}
      : {
          extended: {
            from: change.tookOverFrom,
            ...(change.previousEnd === undefined ? {} : { previousEnd: change.previousEnd }),
          },
        }),
  };
  const audit = event(ctx, req, 'applied', change.changed ? 'changed' : 'unchanged', {
    before: change.before,
    after: change.after,
    detail: message,
  });
  const t = await ctx.store.transition(
    req.id,
    'applying',
    'applied',
    { result, error: undefined },
    ctx.now(),
    audit,
  );
  if (!t.ok) return settledAlready(ctx, t.request ?? req);
  requestTransitions.inc({ state: 'applied' });
  await ensureFollowUps(ctx, t.request);
  log.info({ changed: change.changed, revokeAt }, 'applied');
  return { outcome: change.changed ? 'applied' : 'unchanged', request: t.request };
}

interface Change {
  before: string[];
  after: string[];
  changed: boolean;
  /** For an Extend: the grant whose role this request took over, and when that grant was due to end. */
  tookOverFrom?: string;
  previousEnd?: number;
}

/** Read fresh, compute, record the snapshot, write, verify — all while holding the principal's lock. */
async function changeUnderLock(
  ctx: WorkerContext,
  req: RoleChangeRequest,
  snapshot: ApplySnapshot | undefined,
  signal: AbortSignal,
  shutdown: AbortSignal | undefined,
): Promise<Change> {
  const current = await readDirectRoles(ctx.qlik, req.target);
  const plan = nextDirectRoles(current, req.action, req.role);
  const beforeNow = roleNames(current);
  let after = beforeNow;
  if (plan.changed) {
    checkShutdown(shutdown); // the last point where stopping leaves nothing half done
    // Recorded BEFORE the write: a crash after the PATCH must still know this request made the change.
    const planned = roleNames(plan.ids.map((id) => current.find((r) => r.id === id) ?? req.role));
    const snap = await ctx.store.transition(req.id, 'applying', 'applying', {
      result: { before: beforeNow, after: planned, changed: true, message: SNAPSHOT_MESSAGE },
    });
    if (!snap.ok) throw new Error(`Request ${req.id} left applying while it was being applied.`);
    signal.throwIfAborted(); // the lock expired under us: another worker may be writing
    await writeDirectRoles(ctx.qlik, req.target, plan.ids);
    const fresh = await readDirectRoles(ctx.qlik, req.target);
    if (!isAsAsked(fresh, req.action, req.role)) {
      const who = describeTarget(req.target);
      const state = req.action === 'grant' ? 'still lacks' : 'still has';
      throw new DriftError(
        `Qlik accepted the change, but reading ${who} back shows they ${state} ${req.role.name}: someone changed their roles at the same time. Check them in the Qlik Management Console and file the request again if it is still needed.`,
      );
    }
    after = roleNames(fresh);
  }
  const { before, changed } = applyOutcome({
    wroteNow: plan.changed,
    beforeNow,
    action: req.action,
    roleName: req.role.name,
    ...(snapshot ? { snapshot } : {}),
  });
  const change: Change = { before, after, changed };
  if (req.action === 'grant' && req.durationMs !== undefined && req.extends !== undefined && !changed) {
    const from = await takeOverExtendedGrant(ctx, req);
    if (from !== undefined) {
      change.tookOverFrom = from.id;
      if (from.previousEnd !== undefined) change.previousEnd = from.previousEnd;
    }
  }
  return change;
}

/**
 * An Extend whose principal already holds the role (from the grant it extends) becomes that role's owner: the
 * earlier grant is marked superseded, so its expiry ends it without removing the role, and this grant's expiry
 * removes it instead. Runs under the principal lock, so it cannot interleave with the earlier grant's revoke.
 */
async function takeOverExtendedGrant(
  ctx: WorkerContext,
  req: RoleChangeRequest,
): Promise<{ id: string; previousEnd?: number } | undefined> {
  let currentId = req.extends;
  for (let hop = 0; currentId !== undefined && hop < MAX_EXTEND_CHAIN; hop++) {
    const earlier = await ctx.store.get(currentId);
    if (!earlier) return undefined;
    const supersededBy = (await ctx.redis.get(ctx.keys.supersededBy(earlier.id))) ?? undefined;
    if (supersededBy !== undefined && supersededBy !== req.id) {
      currentId = supersededBy; // someone extended it before: follow the hand-over to the current owner
      continue;
    }
    const extended: ExtendedGrant = {
      state: earlier.state,
      changed: earlier.result?.changed ?? false,
      ...(supersededBy === undefined ? {} : { supersededBy }),
    };
    if (!ownsGrant({ requestId: req.id, changed: false, extended })) return undefined;
    // Ownership first, then the hand-over: a crash in between leaves both grants owning, never neither.
    await ctx.redis.set(ctx.keys.tookOver(req.id), earlier.id, 'EX', MARKER_TTL_SECONDS);
    await ctx.redis.set(ctx.keys.supersededBy(earlier.id), req.id, 'EX', MARKER_TTL_SECONDS);
    const previousEnd = earlier.result?.revokeAt;
    return { id: earlier.id, ...(previousEnd === undefined ? {} : { previousEnd }) };
  }
  return undefined;
}

/** The principal's DIRECT roles only: for a user, `assignedRoles` (never roles through groups). */
export async function readDirectRoles(
  qlik: QlikRoleApi,
  target: RoleChangeRequest['target'],
): Promise<RoleRef[]> {
  const p = target.kind === 'user' ? await qlik.getUser(target.qlikId) : await qlik.getGroup(target.qlikId);
  return p.assignedRoles.map((r) => ({ id: r.id, name: r.name }));
}

export async function writeDirectRoles(
  qlik: QlikRoleApi,
  target: RoleChangeRequest['target'],
  ids: string[],
): Promise<void> {
  if (target.kind === 'user') await qlik.replaceUserRoles(target.qlikId, ids);
  else await qlik.replaceGroupRoles(target.qlikId, ids);
}

function resultText(req: RoleChangeRequest, c: Change, revokeAt: number | undefined): string {
  const who = describeTarget(req.target);
  const role = req.role.name;
  if (req.action === 'revoke')
    return c.changed
      ? `Removed ${role} from ${who}.`
      : `${who} did not have ${role} directly; nothing was changed.`;
  if (c.changed) return `${who} now has ${role}.`;
  if (c.tookOverFrom !== undefined) {
    // Say what Extend did: the end moved (old → new), not "nothing changed".
    const ends = revokeAt === undefined ? '' : ` now ends ${plainTime(revokeAt)}`;
    const was = c.previousEnd === undefined ? '' : ` (was ${plainTime(c.previousEnd)})`;
    return `${role} for ${who}${ends}${was}: this grant extends ${c.tookOverFrom} and now decides when it ends.`;
  }
  const stays =
    req.durationMs !== undefined ? ' They had it before this grant, so it stays when the grant ends.' : '';
  return `${who} already has ${role}; nothing was changed.${stays}`;
}

/** Moves an applying request to failed with a message for the requester, and tells them. */
export async function failRequest(
  ctx: WorkerContext,
  req: RoleChangeRequest,
  message: string,
): Promise<void> {
  const t = await ctx.store.transition(req.id, 'applying', 'failed', { error: message }, ctx.now(), {
    ...event(ctx, req, 'failed', 'failed'),
    detail: message,
  });
  if (!t.ok) return;
  requestTransitions.inc({ state: 'failed' });
  await enqueueNotify(ctx.queues, req.id, 'result');
}

/**
 * A request already past applying: re-ensure what must follow its outcome (both are no-ops when already queued),
 * so a crash between the transition and the enqueue cannot lose the notification or the revoke.
 */
async function settledAlready(ctx: WorkerContext, req: RoleChangeRequest): Promise<ApplyOutcome> {
  if (req.state === 'applied' || req.state === 'failed') await ensureFollowUps(ctx, req);
  return { outcome: 'skipped', reason: `request is ${req.state}` };
}

async function ensureFollowUps(ctx: WorkerContext, req: RoleChangeRequest): Promise<void> {
  const revokeAt = req.state === 'applied' ? req.result?.revokeAt : undefined;
  if (revokeAt !== undefined) await scheduleRevoke(ctx.queues, req.id, revokeAt, ctx.now());
  await enqueueNotify(ctx.queues, req.id, 'result');
}

/** An audit event about this request by the worker. */
export function event(
  ctx: Pick<WorkerContext, 'now'>,
  req: RoleChangeRequest,
  action: string,
  outcome: string,
  extra: Partial<AuditEvent> = {},
): AuditEvent {
  return {
    time: ctx.now(),
    requestId: req.id,
    actor: 'system',
    action,
    target: describeTarget(req.target),
    role: req.role.name,
    outcome,
    ...extra,
  };
}
