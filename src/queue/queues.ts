// Owns the BullMQ queues: their names, job schemas, job ids and producers. Job payloads carry request ids only —
// everything else (and nothing secret) is read from the request store when the job runs.
import { type JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';
import { batchKeyOf, type RoleChangeRequest } from '../domain/request.ts';
import type { RedisConnection } from '../store/redis.ts';
import { workerKeys } from '../worker/keys.ts';

/** Role changes against Qlik: apply an approved request, revoke an expired time-bound grant, periodic sweeps. */
export const ROLE_CHANGES_QUEUE = 'role-changes';
/** Slack notifications about outcomes: retried on their own so a Slack failure never re-runs a Qlik change. */
export const NOTIFICATIONS_QUEUE = 'notifications';

export const applyJob = z.object({ requestId: z.string() });
/** Ends an applied grant: at its expiry (time-bound), or at once from a "Revoke now" button. */
export const revokeGrantJob = z.object({
  requestId: z.string(),
  trigger: z.enum(['expiry', 'manual']),
  /** Slack user id of whoever pressed "Revoke now"; 'system' for expiries. */
  actor: z.string(),
});
export const notifyJob = z.object({
  requestId: z.string(),
  /** What happened: drives which messages are sent. */
  event: z.enum(['result', 'decision', 'revoked', 'revoke-failed']),
  /**
   * Which occurrence of an event that can happen more than once (a revoke can fail, be pressed again and fail
   * again): part of the job id and of the delivery markers, so each failure is told once and a later success still
   * sends its own 'revoked' messages.
   */
  seq: z.number().int().positive().optional(),
  /**
   * The approval message already shows this state: whoever queued the job (the app, on Deny or an expiry found at a
   * click) updated it first so the clicker sees it at once. The job then skips its own update, which would only show
   * the same message "updated" a second time; when that first update failed this is left out and the job does it.
   */
  refreshed: z.boolean().optional(),
});

/** Reminds a pending request's approvers, or escalates it to the fallback approvers, if it is still pending. */
export const nudgeJob = z.object({ requestId: z.string(), kind: z.enum(['reminder', 'escalation']) });

export type RevokeGrantJob = z.infer<typeof revokeGrantJob>;
export type NudgeJob = z.infer<typeof nudgeJob>;
export type NotifyJob = z.infer<typeof notifyJob>;

/** BullMQ job ids may not contain ':'; these are stable per request so a replay can never enqueue twice. */
export const jobIds = {
  apply: (requestId: string) => `apply-${requestId}`,
  revokeGrant: (requestId: string, trigger: RevokeGrantJob['trigger']) => `revoke-${requestId}-${trigger}`,
  notify: (requestId: string, event: NotifyJob['event'], suffix = '') =>
    `notify-${requestId}-${event}${suffix}`,
  nudge: (requestId: string, kind: NudgeJob['kind']) => `nudge-${requestId}-${kind}`,
};

/** Retention: keep enough finished jobs to debug, bounded so Redis never grows without limit. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
};

export interface Queues {
  roleChanges: Queue;
  notifications: Queue;
  /** The shared command connection and key prefix, for the few guards that live beside the queues. */
  redis: RedisConnection;
  prefix: string;
  close(): Promise<void>;
}

/** Opens both queues on one shared (non-blocking) connection under the configured key prefix. */
export function openQueues(connection: RedisConnection, prefix: string): Queues {
  const roleChanges = new Queue(ROLE_CHANGES_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
  });
  const notifications = new Queue(NOTIFICATIONS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, attempts: 10 },
  });
  return {
    roleChanges,
    notifications,
    redis: connection,
    prefix,
    async close() {
      await Promise.all([roleChanges.close(), notifications.close()]);
    },
  };
}

/** Job states in which a job will still run by itself: adding its id again must stay a no-op (exactly once). */
const LIVE_JOB_STATES: ReadonlySet<string> = new Set([
  'active',
  'waiting',
  'delayed',
  'prioritized',
  'waiting-children',
]);

/** What adding a job with a stable id did. */
export type AddOutcome = 'added' | 'requeued' | 'already-queued' | 'already-done';

/**
 * Adds a job under a stable id so that a duplicate of a job that will still run is a no-op, while a deliberate
 * re-queue of a FINISHED job really runs. BullMQ ignores an add whose jobId still has a key in Redis, whatever the
 * state of that job (docs.bullmq.io "Job Ids"; maintainers in taskforcesh/bullmq#941: "as long as there is a key in
 * Redis with the jobId ... add will be a noop independently in which state said job is in"), and we keep finished
 * jobs for days (DEFAULT_JOB_OPTIONS). So a failed (or, with `rerun.completed`, completed) job is removed first and
 * the job added again. Not Job.retry(): it re-runs the OLD payload (the old presser) and only works on failed jobs;
 * not attempt-suffixed ids: every other lookup by id (the reconciler, removing the expiry revoke) would have to
 * know the suffix. Two callers racing through here still end with one job: the later remove either takes away a
 * job that had not started (and adds its own) or fails on a running one (locked), whose id then drops the add.
 */
async function addOnce(
  queue: Queue,
  name: string,
  data: unknown,
  opts: JobsOptions & { jobId: string },
  rerun: { completed: boolean },
): Promise<AddOutcome> {
  const existing = await queue.getJob(opts.jobId);
  let outcome: AddOutcome = 'added';
  if (existing) {
    const state = await existing.getState();
    if (LIVE_JOB_STATES.has(state)) return 'already-queued';
    if (state === 'completed' && !rerun.completed) return 'already-done';
    // 'failed', 'completed' (when a re-run is legitimate) or 'unknown' (removed meanwhile): clear it, add again.
    await existing.remove().catch(() => undefined); // a racing caller may have removed it already
    outcome = 'requeued';
  }
  await queue.add(name, data, opts);
  return outcome;
}

/** How long an approved change stays listed as waiting when nothing takes it off (a safety net; the worker does). */
const WAITING_TTL_SECONDS = 7 * 24 * 3600;

/**
 * ZSET of the approved requests waiting to be applied that share a batch key (domain `batchKeyOf`), scored by when
 * they were queued: where the worker finds the changes it can apply together with the one it is running. A hint,
 * never the truth: the worker takes only those still approved, and takes each off once it starts it.
 */
export function waitingKey(prefix: string, batchKey: string): string {
  return `${prefix}:waiting:${batchKey}`;
}

/**
 * Enqueues the change of an approved request exactly once (the job id is derived from the request id), without
 * listing it as waiting: what versions before the waiting list did. Approvals use enqueueApproved.
 */
export async function enqueueApply(queues: Queues, requestId: string): Promise<AddOutcome> {
  // A failed apply job (stall limit, a crash loop) is run again when asked; a completed one is not: the request
  // it applied is settled, and its re-run would only re-ensure follow-ups that are queued already.
  return addOnce(
    queues.roleChanges,
    'apply',
    applyJob.parse({ requestId }),
    { jobId: jobIds.apply(requestId) },
    { completed: false },
  );
}

/**
 * Enqueues an approved request's change as an approval does: listed first as waiting under its batch key (domain
 * `batchKeyOf`), so the worker holding its principal's lock can apply it together with the others waiting.
 */
export async function enqueueApproved(
  queues: Queues,
  request: Pick<RoleChangeRequest, 'id' | 'target' | 'targetRef'>,
  at: number,
): Promise<AddOutcome> {
  const key = waitingKey(queues.prefix, batchKeyOf(request));
  await queues.redis.multi().zadd(key, 'NX', at, request.id).expire(key, WAITING_TTL_SECONDS).exec();
  return enqueueApply(queues, request.id);
}

/** Schedules the revoke of a time-bound grant at its expiry. */
export async function scheduleRevoke(
  queues: Queues,
  requestId: string,
  revokeAt: number,
  now = Date.now(),
): Promise<AddOutcome> {
  // Callers schedule only while the grant is applied; a finished expiry job then means its revoke did not end the
  // grant (it failed, or was skipped), so running it again is right. The revoke itself is guarded by the state.
  return addOnce(
    queues.roleChanges,
    'revoke-grant',
    revokeGrantJob.parse({ requestId, trigger: 'expiry', actor: 'system' }),
    { jobId: jobIds.revokeGrant(requestId, 'expiry'), delay: Math.max(0, revokeAt - now) },
    { completed: true },
  );
}

/**
 * Schedules a pending request's reminder and escalation (its `nudges`) as delayed jobs, each once per request (a
 * stable id; a finished one is never run again). They survive restarts with the queue, and each checks the request
 * is still pending when it runs; a decision also removes them (cancelNudges).
 */
export async function scheduleNudges(
  queues: Queues,
  request: Pick<RoleChangeRequest, 'id' | 'nudges'>,
  now = Date.now(),
): Promise<void> {
  const due: [NudgeJob['kind'], number | undefined][] = [
    ['reminder', request.nudges?.remindAt],
    ['escalation', request.nudges?.escalateAt],
  ];
  for (const [kind, at] of due) {
    if (at === undefined) continue;
    // BullMQ adds nothing for a job id it still holds (waiting, delayed, done or failed), which is exactly "once":
    // no read first, on the filing path.
    await queues.roleChanges.add('nudge', nudgeJob.parse({ requestId: request.id, kind }), {
      jobId: jobIds.nudge(request.id, kind),
      delay: Math.max(0, at - now),
      attempts: 5,
    });
  }
}

/** A decision removes the request's reminder and escalation that have not run (each also checks, should one run). */
export async function cancelNudges(queues: Queues, requestId: string): Promise<void> {
  for (const kind of ['reminder', 'escalation'] as const)
    await queues.roleChanges.remove(jobIds.nudge(requestId, kind)).catch(() => 0);
}

/** Who asked for a "Revoke now" that is under way, and when. */
export interface RevokeClaim {
  by: string;
  at: number;
}

export type RevokeNowOutcome = { queued: true } | { queued: false; claim: RevokeClaim };

/**
 * How long a "Revoke now" press is remembered while its job runs. The worker forgets it as soon as the revoke
 * failed for good, so a later press is a new attempt; this is only the bound for a worker that died meanwhile.
 */
const REVOKE_CLAIM_SECONDS = 3600;

/**
 * Revokes an applied grant at once ("Revoke now"). One press is recorded per attempt across every bot replica: the
 * first press takes the claim (SET NX), later presses get the claim back (who pressed, when) and queue nothing.
 * A failed earlier attempt's job is cleared so the new one really runs.
 */
export async function enqueueRevokeNow(
  queues: Queues,
  requestId: string,
  actor: string,
  now = Date.now(),
): Promise<RevokeNowOutcome> {
  const key = workerKeys(queues.prefix).revokeRequested(requestId);
  const claim: RevokeClaim = { by: actor, at: now };
  let took = await queues.redis.set(key, JSON.stringify(claim), 'EX', REVOKE_CLAIM_SECONDS, 'NX');
  if (took !== 'OK') {
    const held = parseClaim(await queues.redis.get(key));
    if (held) return { queued: false, claim: held };
    // Released between the SET and the GET (the attempt just failed): this press is the next attempt.
    took = await queues.redis.set(key, JSON.stringify(claim), 'EX', REVOKE_CLAIM_SECONDS, 'NX');
    if (took !== 'OK') return { queued: false, claim: parseClaim(await queues.redis.get(key)) ?? claim };
  }
  try {
    await addOnce(
      queues.roleChanges,
      'revoke-grant',
      revokeGrantJob.parse({ requestId, trigger: 'manual', actor }),
      { jobId: jobIds.revokeGrant(requestId, 'manual') },
      { completed: true },
    );
  } catch (err) {
    await queues.redis.del(key).catch(() => 0); // nothing was queued: the next press must not be told otherwise
    throw err;
  }
  return { queued: true };
}

function parseClaim(raw: string | null): RevokeClaim | undefined {
  if (raw === null) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<RevokeClaim>;
    if (typeof v.by === 'string' && typeof v.at === 'number') return { by: v.by, at: v.at };
  } catch {
    // fall through
  }
  return undefined;
}

/** Queues a Slack notification about a request. */
export async function enqueueNotify(
  queues: Queues,
  requestId: string,
  event: NotifyJob['event'],
  seq?: number,
  opts: { refreshed?: boolean } = {},
): Promise<AddOutcome> {
  // A notification that used up its retries (Slack down for long) is sent again when asked: its delivery markers
  // make the re-run post only what is missing. A completed one has nothing left to send.
  return addOnce(
    queues.notifications,
    'notify',
    notifyJob.parse({
      requestId,
      event,
      ...(seq === undefined ? {} : { seq }),
      ...(opts.refreshed ? { refreshed: true } : {}),
    }),
    { jobId: jobIds.notify(requestId, event, seq === undefined ? '' : `-${seq}`) },
    { completed: false },
  );
}
