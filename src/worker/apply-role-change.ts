// Owns applying an approved request through its access target (README, "How it works"): the guarded
// approved → applying → applied | failed walk, the target's change under the principal's lock, the before-snapshot
// recorded on the request that lets a job re-run after a crash know what it did, time-bound grants (revoke schedule,
// Extend hand-over) and the follow-ups (notification, revoke job) that a re-run re-ensures. How a system is read,
// written and verified is the target's (src/targets/).

import { failureSentence, partsSentence, resultSentence } from '../app/outcome-words.ts';
import { followUps, transition } from '../app/transitions.ts';
import type { FailureRecord, PartResult, ResultOutcome } from '../domain/outcome.ts';
import { describeTarget, type RoleChangeRequest, targetOf } from '../domain/request.ts';
import type { AuditEvent } from '../store/audit-log.ts';
import { wordsOfKind } from '../targets/kinds.ts';
import type { AccessTarget, AppliedChange, HoldingsSnapshot } from '../targets/types.ts';
import { applyBatch, forgetWaiting } from './apply-batch.ts';
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
import { applyFollowOns } from './follow-ons.ts';
import { type ExtendedGrant, ownsGrant } from './grants.ts';

export type ApplyOutcome =
  | { outcome: 'applied'; request: RoleChangeRequest }
  | { outcome: 'unchanged'; request: RoleChangeRequest }
  | { outcome: 'skipped'; reason: string };

/** What the request records while it is applying: the holdings made just before the write. */
const SNAPSHOT: ResultOutcome = { code: 'recorded-before' };

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
  if (loaded.state !== 'approved' && loaded.state !== 'applying') return settledAlready(ctx, loaded);
  // A target whose holdings are one list takes every waiting change to the principal in one write; follow-ons (an
  // invite's roles) need the change's own result first, so such a request goes alone.
  const batching = configuredTarget(ctx, loaded);
  if (batching?.applyChanges !== undefined && !loaded.followOns?.length)
    return applyBatch(ctx, batching, loaded, attempt, shutdown);
  let req = loaded;
  if (req.state === 'approved') {
    const t = await transition(ctx, req, 'approved', 'applying', {}, { actor: 'system', outcome: 'started' });
    if (!t.ok && t.request?.state !== 'applying') return settledAlready(ctx, t.request ?? req);
    req = t.request ?? req;
    await forgetWaiting(ctx, [req]);
  }
  const earlier = req.result ? { before: req.result.before } : undefined;

  let target: AccessTarget | undefined;
  let change: Change;
  try {
    const t = ctx.targets.get(targetOf(req));
    target = t;
    change = await withChangeLock(ctx, t, req, (signal) =>
      changeUnderLock(ctx, t, req, earlier, signal, shutdown),
    );
  } catch (err) {
    return settleFailure(ctx, req, target, err, attempt);
  }

  // Follow-ons (an invite's roles) go to the principal the change made or found, each under its own lock.
  const principal = change.principal ?? accessChangeOf(req).principal;
  const parts = req.followOns?.length
    ? await applyFollowOns(ctx, req, principal, attempt, shutdown)
    : undefined;
  return finishApplied(ctx, req, change, parts);
}

/**
 * Moves an applying request to applied with its result (the holdings, the outcome, when it ends, each follow-on's
 * part) and its audit event; the transition queues the follow-ups (the notification, the revoke of a time-bound
 * grant).
 */
export async function finishApplied(
  ctx: WorkerContext,
  req: RoleChangeRequest,
  change: Change,
  parts?: PartResult[],
): Promise<ApplyOutcome> {
  const log = ctx.logger.child({ requestId: req.id });
  const revokeAt =
    req.action === 'grant' && req.durationMs !== undefined ? ctx.now() + req.durationMs : undefined;
  const recorded: Pick<NonNullable<RoleChangeRequest['result']>, 'revokeAt' | 'extended'> = {
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
  const outcome = outcomeOf(req, change);
  const partsText = parts?.length ? ` ${partsSentence(req, parts, wordsOfKind)}` : '';
  const message = `${resultSentence(req, outcome, recorded, wordsOfKind(targetOf(req).kind))}${partsText}`;
  const result: NonNullable<RoleChangeRequest['result']> = {
    before: change.before,
    after: change.after,
    changed: change.changed,
    outcome,
    message,
    ...recorded,
    ...(parts === undefined ? {} : { parts }),
  };
  // The principal as the change left it: an invite's request now names the account's user id.
  const madePrincipal =
    change.principal !== undefined && req.target.kind === 'user' && change.principal.id !== req.target.id
      ? { target: { ...req.target, id: change.principal.id } }
      : {};
  // The follow-ups (the revoke of a time-bound grant, the notification) are queued by the transition.
  const t = await transition(
    ctx,
    req,
    'applying',
    'applied',
    { result, error: undefined, failure: undefined, ...madePrincipal },
    {
      actor: 'system',
      outcome: change.changed ? 'changed' : 'unchanged',
      before: change.before,
      after: change.after,
      detail: message,
    },
  );
  if (!t.ok) return settledAlready(ctx, t.request ?? req);
  log.info({ changed: change.changed, revokeAt }, 'applied');
  return { outcome: change.changed ? 'applied' : 'unchanged', request: t.request };
}

export interface Change extends AppliedChange {
  /** For an Extend: the grant whose role this request took over, and when that grant was due to end. */
  tookOverFrom?: string;
  previousEnd?: number;
}

/** The target's change (read fresh, record the snapshot, write, verify), then the Extend hand-over: all under the lock. */
async function changeUnderLock(
  ctx: WorkerContext,
  target: AccessTarget,
  req: RoleChangeRequest,
  earlier: { before: string[] } | undefined,
  signal: AbortSignal,
  shutdown: AbortSignal | undefined,
): Promise<Change> {
  const applied = await target.applyChange(accessChangeOf(req), {
    ...(earlier ? { earlier } : {}),
    signal,
    beforeWrite: async (planned) => {
      checkShutdown(shutdown); // the last point where stopping leaves nothing half done
      await recordSnapshot(ctx, req, target, planned);
    },
  });
  const change: Change = {
    before: applied.before,
    after: applied.after,
    changed: applied.changed,
    ...(applied.principal === undefined ? {} : { principal: applied.principal }),
    ...(applied.outcome === undefined ? {} : { outcome: applied.outcome }),
  };
  return handOverExtended(ctx, req, change);
}

/** For an Extend that found the role held: take it over from the grant it extends (under the principal's lock). */
export async function handOverExtended(
  ctx: WorkerContext,
  req: RoleChangeRequest,
  change: Change,
): Promise<Change> {
  if (
    req.action === 'grant' &&
    req.durationMs !== undefined &&
    req.extends !== undefined &&
    !change.changed
  ) {
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

function outcomeOf(req: RoleChangeRequest, c: Change): ResultOutcome {
  if (c.outcome !== undefined) return c.outcome;
  if (req.action === 'revoke') return { code: c.changed ? 'removed' : 'not-held' };
  if (c.changed) return { code: 'granted' };
  return { code: c.tookOverFrom !== undefined ? 'extended' : 'already-held' };
}

/**
 * What a failure of the request's change means for its job: come back later (RetryLaterError), try again (the error
 * itself is rethrown), or, final or on the last attempt, the request fails and the requester is told
 * (SettledFailureError, so the job is not retried). Always throws.
 */
export async function settleFailure(
  ctx: WorkerContext,
  req: RoleChangeRequest,
  target: AccessTarget | undefined,
  err: unknown,
  attempt: AttemptInfo,
): Promise<never> {
  const log = ctx.logger.child({ requestId: req.id, attempt: attempt.attempt });
  const action = classifyFailure(err, target, { who: describeTarget(req.target), kind: req.target.kind });
  if (action.kind === 'later') throw new RetryLaterError(action.delayMs, action.reason);
  if (action.kind === 'retry' && !attempt.final) {
    log.warn({ reason: action.reason }, 'apply failed; will retry');
    throw err;
  }
  log.warn({ reason: err instanceof Error ? err.message : String(err) }, 'apply failed for good');
  // A batch takes its own request to applying only once it holds the principal's lock.
  const applying =
    req.state === 'approved'
      ? ((await transition(ctx, req, 'approved', 'applying', {}, { actor: 'system', outcome: 'started' }))
          .request ?? req)
      : req;
  const message = await failRequest(ctx, applying, failureOf(action, attempt.attempt));
  throw new SettledFailureError(message);
}

/** The target the request is for, or undefined when none is configured (the solo path then fails it in words). */
function configuredTarget(ctx: WorkerContext, req: RoleChangeRequest): AccessTarget | undefined {
  try {
    return ctx.targets.get(targetOf(req));
  } catch {
    return undefined;
  }
}

/**
 * Records on the applying request the holdings just before the write and as planned: a crash after the write must
 * still know this request made the change.
 */
export async function recordSnapshot(
  ctx: WorkerContext,
  req: RoleChangeRequest,
  target: AccessTarget,
  planned: HoldingsSnapshot,
): Promise<void> {
  const snap = await ctx.store.transition(req.id, 'applying', 'applying', {
    result: {
      before: planned.before,
      after: planned.after,
      changed: true,
      outcome: SNAPSHOT,
      message: resultSentence(req, SNAPSHOT, {}, target.words),
    },
  });
  if (!snap.ok) throw new Error(`Request ${req.id} left applying while it was being applied.`);
}

/** Moves an applying request to failed with why, and tells the requester; returns the failure's plain sentence. */
export async function failRequest(
  ctx: WorkerContext,
  req: RoleChangeRequest,
  failure: FailureRecord,
): Promise<string> {
  const message = failureSentence(req, failure, wordsOfKind(targetOf(req).kind));
  await transition(
    ctx,
    req,
    'applying',
    'failed',
    { failure, error: message },
    { actor: 'system', outcome: 'failed', detail: message },
  );
  return message;
}

/**
 * A request already past applying: re-ensure what must follow its outcome (both are no-ops when already queued),
 * so a crash between the transition and the enqueue cannot lose the notification or the revoke.
 */
export async function settledAlready(ctx: WorkerContext, req: RoleChangeRequest): Promise<ApplyOutcome> {
  if (req.state === 'applied' || req.state === 'failed') await followUps(ctx, req);
  return { outcome: 'skipped', reason: `request is ${req.state}` };
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
    role: req.entitlement.name,
    outcome,
    ...extra,
  };
}
