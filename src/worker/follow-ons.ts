// Owns a request's follow-on changes (RoleChangeRequest.followOns): once its own change is made, each follow-on is
// applied to the principal that change made or found (an invite's roles and space role, on the new user), in order,
// through its own target under that target's lock, exactly as a request of its own would be: read fresh, record a
// snapshot before the write (kept beside the request, so a re-run after a crash still knows this part made it),
// write, verify. A part the target refuses fails alone and the others still run; a rate limit or a passing failure
// hands the whole job back (the parts done stay done: re-applying them changes nothing).

import * as transitions from '../app/transitions.ts';
import type { PartResult } from '../domain/outcome.ts';
import type { FollowOn, RoleChangeRequest } from '../domain/request.ts';
import { changeLockKey } from '../targets/registry.ts';
import type { AccessChange, PrincipalRef } from '../targets/types.ts';
import {
  type AttemptInfo,
  checkShutdown,
  MARKER_TTL_SECONDS,
  RetryLaterError,
  type WorkerContext,
} from './context.ts';
import { classifyFailure, failureOf } from './failures.ts';

/**
 * A time-bound follow-on becomes a request of its own, approved with `req` and queued, so its end is kept as any
 * grant's is. Idempotent: the new request's id is recorded before it is approved, and while it is pending a second
 * filing finds it as a duplicate, so a re-run after a crash at any point files it once and approves it once.
 */
async function fileTimeBound(
  ctx: WorkerContext,
  req: RoleChangeRequest,
  principal: PrincipalRef,
  f: FollowOn,
  i: number,
): Promise<PartResult> {
  const base = { targetRef: f.targetRef, entitlement: f.entitlement, durationMs: f.durationMs! };
  const key = ctx.keys.partRequest(req.id, i);
  let id = (await ctx.redis.get(key)) ?? undefined;
  if (id === undefined) {
    const now = ctx.now();
    const created = await transitions.file(
      ctx,
      {
        action: 'grant',
        target: {
          kind: 'user',
          id: principal.id,
          name: principal.name,
          ...(principal.email === undefined ? {} : { email: principal.email }),
          ...(req.target.kind === 'user' && req.target.person ? { person: req.target.person } : {}),
        },
        entitlement: f.entitlement,
        targetRef: f.targetRef,
        requester: req.requester,
        ...(req.reason === undefined ? {} : { reason: req.reason }),
        durationMs: f.durationMs!,
        followsOn: req.id,
        expiresAt: now + 24 * 3_600_000,
        approvalsRequired: 1,
      },
      { actor: 'system', outcome: 'pending', detail: `follows ${req.id}` },
      now,
    );
    const filed = created.ok ? created.request : created.duplicateOf;
    // A pending request someone else filed for the same change is theirs to have approved, not ours to approve.
    if (filed.followsOn !== req.id)
      return {
        ...base,
        outcome: 'failed',
        failure: {
          cause: {
            code: 'target',
            detail: `${filed.id} already asks for the same and is waiting for approval.`,
          },
        },
      };
    id = filed.id;
    await ctx.redis.set(key, id, 'EX', MARKER_TTL_SECONDS);
  }
  const child = await ctx.store.get(id);
  if (child?.state === 'pending')
    await transitions.transition(
      ctx,
      child,
      'pending',
      'approved',
      {},
      {
        actor: 'system',
        outcome: 'approved',
        detail: `approved with ${req.id}`,
      },
    );
  return { ...base, outcome: 'filed', request: id };
}

/** Applies every follow-on of `req` to `principal`; one result per follow-on, in order. */
export async function applyFollowOns(
  ctx: WorkerContext,
  req: RoleChangeRequest,
  principal: PrincipalRef,
  attempt: AttemptInfo,
  shutdown: AbortSignal | undefined,
): Promise<PartResult[]> {
  const parts: PartResult[] = [];
  const followOns = req.followOns ?? [];
  for (let i = 0; i < followOns.length; i++) {
    const f = followOns[i]!;
    checkShutdown(shutdown);
    const change: AccessChange = {
      action: 'grant',
      principal,
      entitlement: {
        id: f.entitlement.id,
        name: f.entitlement.name,
        ...(f.targetRef.resource === undefined ? {} : { resource: f.targetRef.resource }),
      },
    };
    const key = ctx.keys.partSnapshot(req.id, i);
    const base = { targetRef: f.targetRef, entitlement: f.entitlement };
    if (f.durationMs !== undefined) {
      parts.push(await fileTimeBound(ctx, req, principal, f, i));
      continue;
    }
    let target: ReturnType<WorkerContext['targets']['get']> | undefined;
    try {
      const t = ctx.targets.get(f.targetRef);
      target = t;
      const recorded = await ctx.redis.get(key);
      const earlier = recorded === null ? undefined : { before: JSON.parse(recorded) as string[] };
      const applied = await ctx.lock.withLock(
        changeLockKey(t, change),
        (signal) =>
          t.applyChange(change, {
            ...(earlier === undefined ? {} : { earlier }),
            signal,
            beforeWrite: async (planned) => {
              checkShutdown(shutdown);
              await ctx.redis.set(key, JSON.stringify(planned.before), 'EX', MARKER_TTL_SECONDS);
            },
          }),
        ctx.lockOptions,
      );
      parts.push({
        ...base,
        outcome: applied.changed ? 'granted' : 'already-held',
        before: applied.before,
        after: applied.after,
      });
    } catch (err) {
      const action = classifyFailure(err, target, {
        who: principal.email ?? principal.name,
        kind: principal.kind,
      });
      if (action.kind === 'later') throw new RetryLaterError(action.delayMs, action.reason);
      if (action.kind === 'retry' && !attempt.final) throw err;
      ctx.logger.warn(
        { requestId: req.id, part: i, reason: err instanceof Error ? err.message : String(err) },
        'follow-on change failed',
      );
      parts.push({ ...base, outcome: 'failed', failure: failureOf(action, attempt.attempt) });
    }
  }
  return parts;
}
