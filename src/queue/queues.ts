// Owns the BullMQ queues: their names, job schemas, job ids and producers. Job payloads carry request ids only —
// everything else (and nothing secret) is read from the request store when the job runs.
import { type JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';
import type { RedisConnection } from '../store/redis.ts';

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
export const reconcileJob = z.object({});
export const notifyJob = z.object({
  requestId: z.string(),
  /** What happened: drives which messages are sent. */
  event: z.enum(['result', 'decision', 'revoked']),
});

export type ApplyJob = z.infer<typeof applyJob>;
export type RevokeGrantJob = z.infer<typeof revokeGrantJob>;
export type NotifyJob = z.infer<typeof notifyJob>;

export type RoleChangeJobName = 'apply' | 'revoke-grant' | 'reconcile';

/** BullMQ job ids may not contain ':'; these are stable per request so a replay can never enqueue twice. */
export const jobIds = {
  apply: (requestId: string) => `apply-${requestId}`,
  revokeGrant: (requestId: string, trigger: RevokeGrantJob['trigger']) => `revoke-${requestId}-${trigger}`,
  notify: (requestId: string, event: NotifyJob['event'], suffix = '') =>
    `notify-${requestId}-${event}${suffix}`,
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
    async close() {
      await Promise.all([roleChanges.close(), notifications.close()]);
    },
  };
}

/** Enqueues the change of an approved request exactly once (the job id is derived from the request id). */
export async function enqueueApply(queues: Queues, requestId: string): Promise<void> {
  await queues.roleChanges.add('apply', applyJob.parse({ requestId }), { jobId: jobIds.apply(requestId) });
}

/** Schedules the revoke of a time-bound grant at its expiry. */
export async function scheduleRevoke(
  queues: Queues,
  requestId: string,
  revokeAt: number,
  now = Date.now(),
): Promise<void> {
  await queues.roleChanges.add(
    'revoke-grant',
    revokeGrantJob.parse({ requestId, trigger: 'expiry', actor: 'system' }),
    {
      jobId: jobIds.revokeGrant(requestId, 'expiry'),
      delay: Math.max(0, revokeAt - now),
    },
  );
}

/** Revokes an applied grant at once ("Revoke now"). */
export async function enqueueRevokeNow(queues: Queues, requestId: string, actor: string): Promise<void> {
  await queues.roleChanges.add(
    'revoke-grant',
    revokeGrantJob.parse({ requestId, trigger: 'manual', actor }),
    {
      jobId: jobIds.revokeGrant(requestId, 'manual'),
    },
  );
}

/** Queues a Slack notification about a request. */
export async function enqueueNotify(
  queues: Queues,
  requestId: string,
  event: NotifyJob['event'],
): Promise<void> {
  await queues.notifications.add('notify', notifyJob.parse({ requestId, event }), {
    jobId: jobIds.notify(requestId, event),
  });
}
