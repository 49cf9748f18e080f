// Owns the periodic sweep that repairs what timers and crashes leave behind: pending requests past their expiry are
// expired (and the requester told), applied time-bound grants past their revokeAt get a revoke job again when theirs
// was lost (downtime, a deleted job), and approved requests whose apply job was lost (a crash between the approval
// and the enqueue, a job failed by the stall limit) are queued again. The store finds those (its unfinished index,
// kept by its transitions); requests a version before that index left approved or applying are indexed once, at
// worker start (backfillUnfinished). Every repair is guarded by the store's transitions and BullMQ's job ids, so
// overlapping sweeps or a sweep racing the normal path do no harm.
import type { Job } from 'bullmq';
import { transition } from '../app/transitions.ts';
import type { FailureRecord } from '../domain/outcome.ts';
import type { RoleChangeRequest } from '../domain/request.ts';
import { enqueueApproved, jobIds, scheduleRevoke } from '../queue/queues.ts';
import { failRequest } from './apply-role-change.ts';
import type { WorkerContext } from './context.ts';

export interface ReconcileOutcome {
  expired: string[];
  revokesQueued: string[];
  appliesQueued: string[];
  gaveUp: string[];
}

export interface ReconcileOptions {
  /** A request must have sat this long without a job before it counts as lost (the app may be mid-enqueue). */
  graceMs?: number;
  /** How often a lost apply is queued again before the request is failed. */
  maxRequeues?: number;
}

export interface BackfillOptions {
  /** When the version before never swept (no cursor), how far back the audit stream is read for approvals. */
  firstLookBackMs?: number;
}

/** Job states in which the job will still run by itself. */
const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);
/** Audit actions that mean "this request may now need an apply job". */
const APPLY_ACTIONS = new Set(['approved', 'applying']);

export async function reconcile(ctx: WorkerContext, opts: ReconcileOptions = {}): Promise<ReconcileOutcome> {
  const out: ReconcileOutcome = { expired: [], revokesQueued: [], appliesQueued: [], gaveUp: [] };
  await expirePending(ctx, out);
  await requeueMissedRevokes(ctx, out);
  await requeueLostApplies(ctx, out, opts);
  if (out.expired.length + out.revokesQueued.length + out.appliesQueued.length + out.gaveUp.length > 0)
    ctx.logger.info(out, 'reconciled');
  return out;
}

async function expirePending(ctx: WorkerContext, out: ReconcileOutcome): Promise<void> {
  const now = ctx.now();
  for (const id of await ctx.store.dueForExpiry(now)) {
    const req = await ctx.store.get(id);
    if (req?.state !== 'pending') continue;
    const t = await transition(
      ctx,
      req,
      'pending',
      'expired',
      {},
      { actor: 'system', outcome: 'expired', detail: 'Nobody decided before the request expired.' },
    );
    if (!t.ok) continue; // decided meanwhile
    out.expired.push(req.id);
  }
}

async function requeueMissedRevokes(ctx: WorkerContext, out: ReconcileOutcome): Promise<void> {
  const now = ctx.now();
  for (const id of await ctx.store.dueForRevoke(now)) {
    if ((await ctx.redis.exists(ctx.keys.revokeBlocked(id))) === 1) continue;
    const jobId = jobIds.revokeGrant(id, 'expiry');
    if (!(await clearFinishedJob(ctx, jobId))) continue;
    // The same stable id again: a normal schedule that races this one collapses into one job.
    await scheduleRevoke(ctx.queues, id, now, now);
    out.revokesQueued.push(id);
  }
}

/**
 * True when no job with this id will run by itself any more (none, or a finished one kept for history, which is
 * removed so the id can be used again).
 */
async function clearFinishedJob(ctx: WorkerContext, jobId: string): Promise<boolean> {
  const job: Job | undefined = await ctx.queues.roleChanges.getJob(jobId);
  if (!job) return true;
  const state = await job.getState();
  if (LIVE_STATES.has(state)) return false;
  await job.remove();
  return true;
}

async function requeueLostApplies(
  ctx: WorkerContext,
  out: ReconcileOutcome,
  opts: ReconcileOptions,
): Promise<void> {
  const grace = opts.graceMs ?? 30_000;
  const maxRequeues = opts.maxRequeues ?? 3;
  for (const req of await ctx.store.listUnfinished(1000)) {
    const jobId = jobIds.apply(req.id);
    if (ctx.now() - req.updatedAt < grace) continue; // the app (or a worker) may be about to enqueue / run it
    if (!(await clearFinishedJob(ctx, jobId))) continue;
    const n = await ctx.redis.incr(ctx.keys.requeued(req.id));
    await ctx.redis.expire(ctx.keys.requeued(req.id), 7 * 24 * 3600);
    if (n > maxRequeues) {
      await giveUp(ctx, req);
      out.gaveUp.push(req.id);
      continue;
    }
    await enqueueApproved(ctx.queues, req, ctx.now());
    out.appliesQueued.push(req.id);
  }
}

/** A request whose job keeps getting lost (e.g. it crashes the worker every time) is failed rather than looped. */
async function giveUp(ctx: WorkerContext, req: RoleChangeRequest): Promise<void> {
  const failure: FailureRecord = { cause: { code: 'job-lost' } };
  if (req.state === 'approved') {
    const t = await transition(ctx, req, 'approved', 'applying', {}, { actor: 'system', outcome: 'started' });
    if (!t.ok) return;
    await failRequest(ctx, t.request, failure);
  } else {
    await failRequest(ctx, req, failure);
  }
}

/**
 * Once per deployment, at worker start: indexes the requests that versions before the store's unfinished index left
 * approved or applying, so the sweep finds their lost jobs too. Those versions' reconciler knew them from its watch
 * list and from the audit stream after its cursor (or the last `firstLookBackMs` when it never swept), so both are
 * read; the store indexes only the ones still approved or applying. Returns how many it indexed.
 */
export async function backfillUnfinished(
  ctx: Pick<WorkerContext, 'redis' | 'keys' | 'store' | 'audit' | 'now'>,
  opts: BackfillOptions = {},
): Promise<number> {
  if ((await ctx.redis.exists(ctx.keys.unfinishedBackfilled)) === 1) return 0;
  const ids = new Set(await ctx.redis.zrange(ctx.keys.inflight, '0', '-1'));
  const stored = await ctx.redis.get(ctx.keys.auditCursor);
  const from = stored === null ? ctx.now() - (opts.firstLookBackMs ?? 24 * 3600_000) : Number(stored);
  for await (const e of ctx.audit.since(from)) {
    if (e.requestId !== undefined && APPLY_ACTIONS.has(e.action)) ids.add(e.requestId);
  }
  const added = await ctx.store.indexUnfinished([...ids], ctx.now());
  await ctx.redis.set(ctx.keys.unfinishedBackfilled, String(ctx.now()));
  await ctx.redis.del(ctx.keys.inflight, ctx.keys.auditCursor);
  return added;
}
