// Owns a request's follow-on changes (RoleChangeRequest.followOns): once its own change is made, each follow-on is
// applied to the principal that change made or found (an invite's roles and space role, on the new user), in order,
// through its own target under that target's lock, exactly as a request of its own would be: read fresh, record a
// snapshot before the write (kept beside the request, so a re-run after a crash still knows this part made it),
// write, verify. A part the target refuses fails alone and the others still run; a rate limit or a passing failure
// hands the whole job back (the parts done stay done: re-applying them changes nothing).
import type { PartResult } from '../domain/outcome.ts';
import type { RoleChangeRequest } from '../domain/request.ts';
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
