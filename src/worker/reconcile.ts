// Owns the periodic sweep that repairs what timers and crashes leave behind: pending requests past their expiry are
// expired (and the requester told), applied time-bound grants past their revokeAt get a revoke job again when theirs
// was lost (downtime, a deleted job), and approved requests whose apply job was lost (a crash between the approval
// and the enqueue, a job failed by the stall limit) are queued again. Every repair is guarded by the store's
// transitions and BullMQ's job ids, so overlapping sweeps or a sweep racing the normal path do no harm.
import type { Job } from 'bullmq';
import { describeTarget, type RoleChangeRequest, targetOf } from '../domain/request.ts';
import { requestTransitions } from '../observability/metrics.ts';
import { enqueueApply, enqueueNotify, jobIds, scheduleRevoke } from '../queue/queues.ts';
import { event, failRequest } from './apply-role-change.ts';
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
  /** On the first sweep ever, how far back the audit stream is read for approvals. */
  firstLookBackMs?: number;
}

/** Job states in which the job will still run by itself. */
const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);
const UNFINISHED = new Set(['approved', 'applying']);
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
    const audit = event(ctx, req, 'expired', 'expired', {
      detail: 'Nobody decided before the request expired.',
    });
    const t = await ctx.store.transition(id, 'pending', 'expired', {}, now, audit);
    if (!t.ok) continue; // decided meanwhile
    requestTransitions.inc({ state: 'expired' });
    await enqueueNotify(ctx.queues, req.id, 'decision');
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
  await collectApprovals(ctx, opts.firstLookBackMs ?? 24 * 3600_000);
  const grace = opts.graceMs ?? 30_000;
  const maxRequeues = opts.maxRequeues ?? 3;
  const ids = await ctx.redis.zrange(ctx.keys.inflight, '0', '999');
  const requests = await ctx.store.getMany(ids);
  // Requests that finished (or vanished) leave the watch list.
  const unfinished = new Set(requests.filter((r) => UNFINISHED.has(r.state)).map((r) => r.id));
  const done = ids.filter((id) => !unfinished.has(id.toUpperCase()));
  if (done.length > 0) await ctx.redis.zrem(ctx.keys.inflight, ...done);
  for (const req of requests) {
    if (!UNFINISHED.has(req.state)) continue;
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
    await enqueueApply(ctx.queues, req.id);
    out.appliesQueued.push(req.id);
  }
}

/** A request whose job keeps getting lost (e.g. it crashes the worker every time) is failed rather than looped. */
async function giveUp(ctx: WorkerContext, req: RoleChangeRequest): Promise<void> {
  const message = `The bot could not run the change for ${describeTarget(req.target)} (its job was lost several times). Check ${checkByHand(ctx, req)} and file the request again.`;
  if (req.state === 'approved') {
    const t = await ctx.store.transition(
      req.id,
      'approved',
      'applying',
      {},
      ctx.now(),
      event(ctx, req, 'applying', 'started'),
    );
    if (!t.ok) return;
    requestTransitions.inc({ state: 'applying' });
    await failRequest(ctx, t.request, message);
  } else {
    await failRequest(ctx, req, message);
  }
}

/** Where a person checks the change by hand, in the words of the request's target. */
function checkByHand(ctx: WorkerContext, req: RoleChangeRequest): string {
  try {
    return ctx.targets.get(targetOf(req)).words.checkByHand;
  } catch {
    return 'the access by hand'; // a target no longer configured: there is no console to name
  }
}

/**
 * Reads the audit stream from where the last sweep stopped and puts every request that was approved (or started
 * applying) on the watch list. The stream is the only place that names approved requests: the store indexes
 * pending and time-bound ones only.
 */
async function collectApprovals(ctx: WorkerContext, firstLookBackMs: number): Promise<void> {
  const stored = await ctx.redis.get(ctx.keys.auditCursor);
  const from = stored === null ? ctx.now() - firstLookBackMs : Number(stored);
  let last = from;
  const batch: string[] = [];
  for await (const e of ctx.audit.since(from)) {
    last = Math.max(last, Number(e.id.split('-')[0]));
    if (e.requestId !== undefined && APPLY_ACTIONS.has(e.action)) batch.push(e.requestId);
    if (batch.length >= 500) await watch(ctx, batch.splice(0));
  }
  if (batch.length > 0) await watch(ctx, batch);
  // Events in the cursor's own millisecond are read again next time: harmless, watching is idempotent.
  await ctx.redis.set(ctx.keys.auditCursor, String(last));
}

async function watch(ctx: WorkerContext, ids: string[]): Promise<void> {
  const args: string[] = [];
  for (const id of new Set(ids)) args.push(String(ctx.now()), id);
  await ctx.redis.zadd(ctx.keys.inflight, 'NX', ...args);
}
