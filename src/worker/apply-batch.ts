// Owns applying approved changes together: when the job of one request holds its principal's lock, every other
// change to that principal (per target instance; per space for space roles) that is approved and waiting is taken
// with it into the target's one read → write → read back (AccessTarget.applyChanges). Each request still walks
// approved → applying → applied | failed on its own, with its own snapshot recorded before the write, its own
// result, audit event and notification; the others' jobs then find them settled. Which requests wait together is
// the waiting list the enqueue keeps (src/queue/queues.ts `waitingKey`); the lock key decides.
import { transition } from '../app/transitions.ts';
import { batchKeyOf, describeTarget, type RoleChangeRequest, targetOf } from '../domain/request.ts';
import { waitingKey } from '../queue/queues.ts';
import { changeLockKey } from '../targets/registry.ts';
import type { AccessTarget, BatchResult } from '../targets/types.ts';
import {
  type ApplyOutcome,
  type Change,
  failRequest,
  finishApplied,
  handOverExtended,
  recordSnapshot,
  settledAlready,
  settleFailure,
} from './apply-role-change.ts';
import {
  type AttemptInfo,
  accessChangeOf,
  checkShutdown,
  type WorkerContext,
  withChangeLock,
} from './context.ts';
import { classifyFailure, failureOf } from './failures.ts';

/** The most changes one write carries (a Qlik role list or space assignment is far shorter in practice). */
export const MAX_BATCH = 50;

/** How many waiting ids are read to find the batch (stale ones are dropped as they are met). */
const MAX_WAITING_READ = 200;

/**
 * Applies the request and every change waiting for the same principal that can go with it, under the principal's
 * lock; the request's own outcome is this job's, as in the one-at-a-time path (retry, later, settled failure).
 */
export async function applyBatch(
  ctx: WorkerContext,
  target: AccessTarget,
  loaded: RoleChangeRequest,
  attempt: AttemptInfo,
  shutdown: AbortSignal | undefined,
): Promise<ApplyOutcome> {
  const applyChanges = target.applyChanges?.bind(target);
  if (applyChanges === undefined) throw new Error(`${target.kind} applies one change at a time.`);
  let current = loaded;
  let settled: RoleChangeRequest | undefined;
  let own: { req: RoleChangeRequest; result: BatchResult } | undefined;
  try {
    await withChangeLock(ctx, target, loaded, async (signal) => {
      // Read again under the lock: another job's batch may have applied this request while this one waited.
      const fresh = await ctx.store.get(loaded.id);
      if (fresh === undefined || (fresh.state !== 'approved' && fresh.state !== 'applying')) {
        settled = fresh ?? loaded;
        return;
      }
      current = fresh;
      const members = await startBatch(ctx, target, fresh);
      const mine = members.find((m) => m.id === fresh.id);
      if (mine === undefined) {
        settled = (await ctx.store.get(fresh.id)) ?? fresh;
        return;
      }
      current = mine;
      checkShutdown(shutdown);
      const results = await applyChanges(members.map(accessChangeOf), {
        earlier: members.map((m) => (m.result ? { before: m.result.before } : undefined)),
        signal,
        beforeWrite: async (planned) => {
          checkShutdown(shutdown); // the last point where stopping leaves nothing half done
          await Promise.all(
            planned.map((p) =>
              recordSnapshot(ctx, members[p.index] as RoleChangeRequest, target, p.snapshot),
            ),
          );
        },
      });
      // The others are settled here, under the lock, so their own jobs (waiting for it) find them done.
      await Promise.all(
        members.map(async (m, i) => {
          const result = results[i] as BatchResult;
          if (m.id === mine.id) {
            own = {
              req: m,
              result: result.ok
                ? { ok: true, applied: await handOverExtended(ctx, m, { ...result.applied }) }
                : result,
            };
            return;
          }
          await settleMember(ctx, target, m, result);
        }),
      );
      if (members.length > 1)
        ctx.logger.info(
          {
            requestId: mine.id,
            together: members.map((m) => m.id),
            key: changeLockKey(target, accessChangeOf(mine)),
          },
          'applied changes together',
        );
    });
  } catch (err) {
    return settleFailure(ctx, current, target, err, attempt);
  }
  if (settled !== undefined) return settledAlready(ctx, settled);
  const mine = own as { req: RoleChangeRequest; result: BatchResult } | undefined;
  if (mine === undefined) return settledAlready(ctx, current);
  if (!mine.result.ok) return settleFailure(ctx, mine.req, target, mine.result.error, attempt);
  return finishApplied(ctx, mine.req, mine.result.applied as Change);
}

/**
 * The request (approved, or applying after an earlier attempt) and the approved changes waiting for the same lock
 * key, each to a different entitlement, in the order they were queued, at most MAX_BATCH, each moved to applying.
 * The waiting list loses every id it no longer needs (started, or settled meanwhile).
 */
async function startBatch(
  ctx: WorkerContext,
  target: AccessTarget,
  req: RoleChangeRequest,
): Promise<RoleChangeRequest[]> {
  const key = changeLockKey(target, accessChangeOf(req));
  const listKey = waitingKey(ctx.queues.prefix, batchKeyOf(req));
  const ids = await ctx.redis.zrange(listKey, '0', String(MAX_WAITING_READ - 1));
  const others = new Map(
    (await ctx.store.getMany(ids.filter((id) => id !== req.id))).map((r) => [r.id, r] as const),
  );
  const done = ids.filter((id) => id !== req.id && others.get(id)?.state !== 'approved');
  const taken = new Set([req.entitlement.id]);
  const chosen: RoleChangeRequest[] = [];
  for (const id of ids) {
    const m = id === req.id ? req : others.get(id);
    if (m === undefined) continue;
    if (m !== req) {
      if (chosen.length >= MAX_BATCH - 1 || !canJoin(ctx, target, key, m) || taken.has(m.entitlement.id))
        continue;
      taken.add(m.entitlement.id);
    }
    chosen.push(m);
  }
  if (!chosen.includes(req)) chosen.unshift(req); // queued before the waiting list, or by a version without it
  const started = await Promise.all(chosen.map((m) => start(ctx, m, m === req)));
  const members = started.filter((m): m is RoleChangeRequest => m !== undefined);
  const forget = [...done, ...members.map((m) => m.id)];
  if (forget.length > 0) await ctx.redis.zrem(listKey, ...forget);
  return members;
}

/** Whether a waiting request goes into this batch: approved, the same target and lock key, no follow-ons. */
function canJoin(ctx: WorkerContext, target: AccessTarget, key: string, m: RoleChangeRequest): boolean {
  if (m.state !== 'approved' || m.followOns?.length) return false;
  try {
    return ctx.targets.get(targetOf(m)) === target && changeLockKey(target, accessChangeOf(m)) === key;
  } catch {
    return false; // its target is not configured here: its own job fails it in words
  }
}

/** Moves a member to applying; the job's own request may be applying already (an earlier attempt). */
async function start(
  ctx: WorkerContext,
  m: RoleChangeRequest,
  isOwn: boolean,
): Promise<RoleChangeRequest | undefined> {
  if (m.state === 'applying') return isOwn ? m : undefined;
  const t = await transition(ctx, m, 'approved', 'applying', {}, { actor: 'system', outcome: 'started' });
  if (t.ok) return t.request;
  return isOwn && t.request?.state === 'applying' ? t.request : undefined;
}

/**
 * Settles another request of the batch from its result: applied, or failed when the target refused it for good.
 * A passing failure leaves it applying, with its snapshot, for its own job to try again.
 */
async function settleMember(
  ctx: WorkerContext,
  target: AccessTarget,
  m: RoleChangeRequest,
  result: BatchResult,
): Promise<void> {
  if (result.ok) {
    await finishApplied(ctx, m, await handOverExtended(ctx, m, { ...result.applied }));
    return;
  }
  const action = classifyFailure(result.error, target, {
    who: describeTarget(m.target),
    kind: m.target.kind,
  });
  if (action.kind === 'fail') {
    await failRequest(ctx, m, failureOf(action, 1));
    return;
  }
  ctx.logger.warn(
    { requestId: m.id, reason: action.reason },
    'a change applied together failed for now; its own job tries it again',
  );
}

/** Takes started requests off their waiting list (the one-at-a-time path, which reads no list). */
export async function forgetWaiting(ctx: WorkerContext, reqs: readonly RoleChangeRequest[]): Promise<void> {
  await Promise.all(reqs.map((r) => ctx.redis.zrem(waitingKey(ctx.queues.prefix, batchKeyOf(r)), r.id)));
}
