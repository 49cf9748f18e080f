// Owns the worker role: BullMQ Workers for the role-change and notification queues on their own blocking
// connections, the repeatable reconcile job, job-level retry control (429 and busy locks come back later without
// burning an attempt; settled failures are not retried), metrics per job, and a graceful shutdown with a deadline.
import { DelayedError, type Job, type JobsOptions, type KeepJobs, UnrecoverableError, Worker } from 'bullmq';
import type { Notifier } from '../app/notifier.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import { jobDuration, jobs } from '../observability/metrics.ts';
import {
  applyJob,
  DEFAULT_JOB_OPTIONS,
  NOTIFICATIONS_QUEUE,
  notifyJob,
  type Queues,
  ROLE_CHANGES_QUEUE,
  revokeGrantJob,
} from '../queue/queues.ts';
import type { AuditLog } from '../store/audit-log.ts';
import { storeKeys } from '../store/keys.ts';
import { ManagedHoldings } from '../store/managed.ts';
import { createRedisConnection, type RedisConnection } from '../store/redis.ts';
import type { RequestStore } from '../store/request-store.ts';
import type { TargetLookup } from '../targets/registry.ts';
import { applyRoleChange } from './apply-role-change.ts';
import {
  type AttemptInfo,
  checkShutdown,
  type PrincipalLocker,
  type ResultNotifier,
  RetryLaterError,
  SettledFailureError,
  ShutdownError,
  type WorkerContext,
} from './context.ts';
import { backfillManaged, checkDrift, type DriftDeps, type DriftOptions } from './drift.ts';
import { workerKeys } from './keys.ts';
import { notifyOutcome } from './notify.ts';
import { backfillUnfinished, type ReconcileOptions, reconcile } from './reconcile.ts';
import { revokeGrant } from './revoke-grant.ts';

export interface WorkerDeps {
  config: Config;
  logger: Logger;
  /** The configured access targets (src/targets/registry.ts). */
  targets: TargetLookup;
  store: RequestStore;
  audit: AuditLog;
  lock: PrincipalLocker;
  queues: Queues;
  /** What jobs tell people, and where the drift check reports (src/app/notifier.ts). */
  notifier: ResultNotifier & Pick<Notifier, 'reportDrift'>;
  redisUrl: string;
  prefix: string;
  /** Role-change jobs run at once (different principals in parallel); default config.workerConcurrency. */
  concurrency?: number;
  /** Notification jobs run at once; default 4 (Slack's per-channel limits make more pointless). */
  notifyConcurrency?: number;
  /** How often the reconciler runs; default 60 s. */
  reconcileEveryMs?: number;
  reconcile?: ReconcileOptions;
  /**
   * The drift check (src/worker/drift.ts): how often it runs (default config.driftCheckEveryMs; 0: never), how far
   * back it compares, how many principals it reads per run, and the approval channel of a tenant for findings whose
   * request was announced nowhere.
   */
  drift?: DriftOptions & { everyMs?: number; channelFor?: (instance: string) => string | undefined };
  /**
   * How long a job's lock lasts without renewal (default 60 s; renewed every half) and how often stalled jobs are
   * looked for (default 30 s): a crashed worker's job is picked up again after about lockDuration + stalledInterval.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /**
   * The per-principal lock: lifetime without renewal (default 30 s — also how long a crashed holder blocks its
   * principal) and how long a job waits for it before coming back later (default 60 s).
   */
  principalLock?: { ttlMs?: number; waitMs?: number };
  now?: () => number;
}

export interface RunningWorker {
  /** Stops taking jobs and waits for running ones up to `deadlineMs` (default 10 s), then forces the close. */
  close(deadlineMs?: number): Promise<void>;
}

const RECONCILE_SCHEDULER_ID = 'reconcile';
const DRIFT_SCHEDULER_ID = 'drift-check';

export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const logger = deps.logger.child({ role: 'worker' });
  const redis = createRedisConnection(deps.redisUrl, 'command');
  const ctx: WorkerContext = {
    targets: deps.targets,
    store: deps.store,
    audit: deps.audit,
    lock: deps.lock,
    queues: deps.queues,
    notifier: deps.notifier,
    redis,
    keys: workerKeys(deps.prefix),
    logger,
    now: deps.now ?? Date.now,
    ...(deps.principalLock ? { lockOptions: deps.principalLock } : {}),
  };
  // Requests a version before the store's unfinished index left approved or applying are indexed once, before the
  // first sweep; a failure here is retried at the next start (the marker is set only when it finished).
  await backfillUnfinished(ctx).then(
    (indexed) => {
      if (indexed > 0) logger.info({ indexed }, 'indexed unfinished requests of the version before');
    },
    (err: unknown) =>
      logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'could not index the unfinished requests of the version before; trying again at the next start',
      ),
  );
  await backfillManaged({
    store: deps.store,
    redis,
    markerKey: ctx.keys.managedBackfilled,
    now: ctx.now,
  }).then(
    (looked) => {
      if (looked > 0)
        logger.info({ looked }, 'recorded what the requests of the version before made principals hold');
    },
    (err: unknown) =>
      logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'could not record what earlier requests made principals hold; trying again at the next start',
      ),
  );
  const drift: DriftDeps = {
    targets: deps.targets,
    managed: new ManagedHoldings(redis, storeKeys(deps.prefix)),
    audit: deps.audit,
    notifier: deps.notifier,
    logger,
    now: ctx.now,
    ...(deps.drift?.channelFor ? { channelFor: deps.drift.channelFor } : {}),
  };
  const driftOpts: DriftOptions = {
    windowMs: deps.drift?.windowMs ?? deps.config.driftWindowMs,
    ...(deps.drift?.maxReads === undefined ? {} : { maxReads: deps.drift.maxReads }),
  };
  const common = {
    prefix: deps.prefix,
    lockDuration: deps.lockDurationMs ?? 60_000,
    stalledInterval: deps.stalledIntervalMs ?? 30_000,
    // A job that crashed its worker is retried once more after a stall before BullMQ gives up on it; the
    // reconciler picks up a request whose job was given up on.
    maxStalledCount: 2,
    removeOnComplete: keep(DEFAULT_JOB_OPTIONS.removeOnComplete),
    removeOnFail: keep(DEFAULT_JOB_OPTIONS.removeOnFail),
  };
  const connections: RedisConnection[] = [redis];
  const blocking = () => {
    const c = createRedisConnection(deps.redisUrl, 'blocking');
    connections.push(c);
    return c;
  };

  const roleChanges = new Worker(
    ROLE_CHANGES_QUEUE,
    // Taking the signal lets a shutdown past its deadline cancel jobs at their next safe point (before a write).
    (job, token, signal) =>
      runJob(ROLE_CHANGES_QUEUE, job, token, logger, () =>
        processRoleChange(ctx, job, deps.reconcile, signal, () => checkDrift(drift, driftOpts)),
      ),
    { ...common, connection: blocking(), concurrency: deps.concurrency ?? deps.config.workerConcurrency },
  );
  const notifications = new Worker(
    NOTIFICATIONS_QUEUE,
    (job, token, signal) =>
      runJob(NOTIFICATIONS_QUEUE, job, token, logger, () => {
        checkShutdown(signal);
        return processNotification(ctx, job);
      }),
    { ...common, connection: blocking(), concurrency: deps.notifyConcurrency ?? 4 },
  );
  for (const w of [roleChanges, notifications]) {
    // Without a listener an 'error' event would crash the process; connection blips are retried by BullMQ.
    w.on('error', (err) => logger.error({ err: err.message, queue: w.name }, 'worker error'));
  }

  // Every replica upserts the same scheduler id: one schedule, one reconcile job per period.
  await deps.queues.roleChanges.upsertJobScheduler(
    RECONCILE_SCHEDULER_ID,
    { every: deps.reconcileEveryMs ?? 60_000 },
    {
      name: 'reconcile',
      data: {},
      opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
    },
  );
  const driftEveryMs = deps.drift?.everyMs ?? deps.config.driftCheckEveryMs;
  if (driftEveryMs > 0) {
    await deps.queues.roleChanges.upsertJobScheduler(
      DRIFT_SCHEDULER_ID,
      { every: driftEveryMs },
      {
        name: 'drift-check',
        data: {},
        opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
      },
    );
  } else {
    await deps.queues.roleChanges.removeJobScheduler(DRIFT_SCHEDULER_ID);
  }
  await Promise.all([roleChanges.waitUntilReady(), notifications.waitUntilReady()]);
  logger.info(
    {
      concurrency: deps.concurrency ?? deps.config.workerConcurrency,
      reconcileEveryMs: deps.reconcileEveryMs ?? 60_000,
      driftCheckEveryMs: driftEveryMs,
    },
    'worker started',
  );

  let closing: Promise<void> | undefined;
  return {
    close(deadlineMs = 10_000) {
      closing ??= (async () => {
        const graceful = Promise.all([roleChanges.close(), notifications.close()]);
        if (!(await within(graceful, deadlineMs))) {
          // Past the deadline: cancel running jobs. Each stops at its next safe point (never between a write and
          // its record) and goes back to the queue for another worker; a target's call in flight is let finish.
          logger.warn({ deadlineMs }, 'jobs still running at the shutdown deadline; cancelling them');
          roleChanges.cancelAllJobs('shutdown');
          notifications.cancelAllJobs('shutdown');
          if (!(await within(graceful, deadlineMs)))
            logger.warn(
              'jobs did not stop in time; leaving them to expire and be picked up by another worker',
            );
        }
        await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
        logger.info('worker stopped');
      })();
      return closing;
    },
  };
}

/** True when `p` settles within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Worker-level retention in the KeepJobs shape (job options also accept a count or a boolean). */
function keep(v: JobsOptions['removeOnComplete']): KeepJobs {
  if (typeof v === 'number') return { count: v };
  if (typeof v === 'object') return v;
  return { count: 10_000 };
}

export function attemptInfo(job: Pick<Job, 'attemptsMade' | 'opts'>): AttemptInfo {
  const attempts = Math.max(1, job.opts.attempts ?? 1);
  const attempt = job.attemptsMade + 1;
  return { attempt, final: attempt >= attempts };
}

async function processRoleChange(
  ctx: WorkerContext,
  job: Job,
  reconcileOpts: ReconcileOptions | undefined,
  shutdown: AbortSignal | undefined,
  driftCheck: () => Promise<unknown>,
): Promise<string> {
  switch (job.name) {
    case 'apply':
      return (await applyRoleChange(ctx, applyJob.parse(job.data).requestId, attemptInfo(job), shutdown))
        .outcome;
    case 'revoke-grant':
      return (await revokeGrant(ctx, revokeGrantJob.parse(job.data), attemptInfo(job), shutdown)).outcome;
    case 'reconcile':
      await reconcile(ctx, reconcileOpts);
      return 'reconciled';
    case 'drift-check':
      await driftCheck();
      return 'drift-checked';
    default:
      throw new UnrecoverableError(`Unknown role-change job "${job.name}".`);
  }
}

async function processNotification(ctx: WorkerContext, job: Job): Promise<string> {
  if (job.name !== 'notify') throw new UnrecoverableError(`Unknown notification job "${job.name}".`);
  await notifyOutcome(ctx, notifyJob.parse(job.data));
  return 'notified';
}

/** Runs one job body and turns the worker's job-control errors into BullMQ's, recording the outcome. */
async function runJob(
  queue: string,
  job: Job,
  token: string | undefined,
  logger: Logger,
  body: () => Promise<string>,
): Promise<string> {
  const started = performance.now();
  const record = (outcome: string) => {
    jobs.inc({ queue, name: job.name, outcome });
    jobDuration.observe({ name: job.name, outcome }, (performance.now() - started) / 1000);
  };
  try {
    const outcome = await body();
    record(outcome);
    return outcome;
  } catch (err) {
    if (err instanceof RetryLaterError || err instanceof ShutdownError) {
      const delayMs = err instanceof RetryLaterError ? err.delayMs : 0;
      record('delayed');
      logger.debug({ jobId: job.id, delayMs, reason: err.message }, 'job postponed');
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    }
    if (err instanceof SettledFailureError) {
      record('failed');
      throw new UnrecoverableError(err.message);
    }
    const final = attemptInfo(job).final;
    record(final ? 'failed' : 'retrying');
    logger.warn(
      { jobId: job.id, name: job.name, err: err instanceof Error ? err.message : String(err), final },
      'job failed',
    );
    throw err;
  }
}
