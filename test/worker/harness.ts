// A worker under test with everything real: Redis (own prefix), the Qlik simulator over HTTP, the Slack fake driven
// by the real WebClient through the real Slack notifier and messenger, the real store/audit/lock/queues. Requests are
// filed and approved through the store as the Slack front would, with an approval message posted so thread replies
// have a home.
import { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.ts';
import type { Principal, RequestState, RoleChangeRequest, TargetRef } from '../../src/domain/request.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { QlikClient, type QlikClientOptions } from '../../src/qlik/index.ts';
import { enqueueApproved, openQueues, type Queues } from '../../src/queue/queues.ts';
import { type QlikSimulator, type SimOptions, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import { type SlackFake, startSlackFake } from '../../src/sandbox/slack-fake/index.ts';
import { SlackMessenger } from '../../src/slack/messenger.ts';
import { SlackNotifier } from '../../src/slack/notifier.ts';
import { AuditLog, type StoredAuditEvent } from '../../src/store/audit-log.ts';
import { PrincipalLock } from '../../src/store/principal-lock.ts';
import { type NewRequest, RequestStore } from '../../src/store/request-store.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';
import { TargetRegistry } from '../../src/targets/registry.ts';
import type { WorkerContext } from '../../src/worker/context.ts';
import { type RunningWorker, startWorker, type WorkerDeps } from '../../src/worker/index.ts';
import { workerKeys } from '../../src/worker/keys.ts';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../helpers/redis.ts';

export const BOT_TOKEN = 'xoxb-test-worker-token';
export const REQUESTER = 'U0REQUESTR';
export const APPROVER = 'U0APPROVER';
export const CHANNEL = 'C0APPROVAL';

export interface Harness {
  prefix: string;
  sim: QlikSimulator;
  slack: SlackFake;
  redis: Redis;
  store: RequestStore;
  audit: AuditLog;
  lock: PrincipalLock;
  queues: Queues;
  qlik: QlikClient;
  /** The one qlik-roles target (instance `default`) over `qlik`. */
  targets: TargetRegistry;
  messenger: SlackMessenger;
  /** The Slack Notifier over `messenger`, which the worker is given. */
  notifier: SlackNotifier;
  /** Starts a worker (stopped by close()). */
  start(opts?: Partial<WorkerDeps>): Promise<RunningWorker>;
  /** Files a request, approves it and posts its approval message; `enqueue` (default true) queues the apply. */
  approved(input: RequestInput, opts?: { enqueue?: boolean }): Promise<RoleChangeRequest>;
  /** The same for any target's change, its entitlement given as the target names it (a space role, a Mode group…). */
  approvedChange(input: ChangeInput, opts?: { enqueue?: boolean }): Promise<RoleChangeRequest>;
  /** Polls the store until the request is in one of `states` (bounded); returns it. */
  waitForState(
    id: string,
    states: RequestState | RequestState[],
    timeoutMs?: number,
  ): Promise<RoleChangeRequest>;
  auditOf(id: string): Promise<StoredAuditEvent[]>;
  close(): Promise<void>;
}

export interface RequestInput {
  action?: 'grant' | 'revoke';
  target: Principal;
  role: string;
  durationMs?: number;
  extends?: string;
  /** The target recorded on the request (none, as requests before targets were, when absent). */
  targetRef?: TargetRef;
  /** The simulator whose role `role` names (default: the harness's own). */
  roleSim?: QlikSimulator;
}

/** A change of any target, as approvedChange files it. */
export type ChangeInput = Pick<
  NewRequest,
  'target' | 'entitlement' | 'targetRef' | 'durationMs' | 'extends' | 'followOns'
> & { action?: 'grant' | 'revoke' };

export async function createHarness(opts: {
  label: string;
  sim?: SimOptions;
  qlik?: Partial<QlikClientOptions>;
}): Promise<Harness> {
  const prefix = uniquePrefix(opts.label);
  const redis = testRedis();
  const sim = await startQlikSimulator(opts.sim ?? {});
  const slack = await startSlackFake({
    botToken: BOT_TOKEN,
    users: [
      { id: REQUESTER, name: 'requester', email: 'requester@corp.example' },
      { id: APPROVER, name: 'approver', email: 'approver@corp.example' },
    ],
    channels: [{ id: CHANNEL, name: 'qlik-approvals' }],
  });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const store = new RequestStore(redis, prefix);
  const audit = new AuditLog(redis, prefix);
  const lock = new PrincipalLock(redis, prefix);
  const queues = openQueues(redis, prefix);
  const qlik = new QlikClient({
    tenantUrl: sim.url,
    apiKey: sim.apiKey,
    readsPerMinute: 600_000,
    writesPerMinute: 600_000,
    retryBaseDelayMs: 20,
    ...opts.qlik,
  });
  const targets = new TargetRegistry([new QlikRolesTarget({ instance: 'default', qlik })]);
  const web = new WebClient(BOT_TOKEN, {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: false,
  });
  const messenger = new SlackMessenger(web, logger);
  const notifier = new SlackNotifier(messenger);
  const config = loadConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    QLIK_TENANT_URL: sim.url,
    QLIK_API_KEY: sim.apiKey,
    APPROVAL_CHANNEL: CHANNEL,
    APPROVERS: APPROVER,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    WORKER_CONCURRENCY: '8',
  });
  const workers: RunningWorker[] = [];

  const h: Harness = {
    prefix,
    sim,
    slack,
    redis,
    store,
    audit,
    lock,
    queues,
    qlik,
    targets,
    messenger,
    notifier,
    async start(extra = {}) {
      const w = await startWorker({
        config,
        logger,
        targets,
        store,
        audit,
        lock,
        queues,
        notifier,
        redisUrl: REDIS_URL,
        prefix,
        reconcileEveryMs: 3_600_000,
        ...extra,
      });
      workers.push(w);
      return w;
    },
    async approved(input, o = {}) {
      const role = (input.roleSim ?? sim).tenant.roleByName(input.role);
      if (!role) throw new Error(`no role ${input.role} in the sim tenant`);
      const { role: _name, roleSim: _sim, ...rest } = input;
      return h.approvedChange({ ...rest, entitlement: { id: role.id, name: role.name } }, o);
    },
    async approvedChange(input, o = {}) {
      const now = Date.now();
      const created = await store.create(
        {
          ...input,
          action: input.action ?? 'grant',
          requester: { front: 'slack', id: REQUESTER },
          expiresAt: now + 3_600_000,
          approvalsRequired: 1,
        },
        now,
        { time: now, actor: REQUESTER, action: 'requested', outcome: 'pending' },
      );
      if (!created.ok) throw new Error(`duplicate of ${created.duplicateOf.id}`);
      const ref = await messenger.postApproval(CHANNEL, created.request);
      await store.addMessage(created.request.id, { front: 'slack', kind: 'announcement', ...ref });
      const approved = await store.addApproval(
        created.request.id,
        { front: 'slack', id: APPROVER },
        Date.now(),
        {
          time: Date.now(),
          actor: APPROVER,
          action: 'approved',
          outcome: 'approved',
        },
      );
      if (approved.outcome !== 'approved') throw new Error(`approval ${approved.outcome}`);
      // Queued as an approval queues it (transitions.ts), listed as waiting so the worker can apply it together.
      if (o.enqueue !== false) await enqueueApproved(queues, approved.request, Date.now());
      return approved.request;
    },
    async waitForState(id, states, timeoutMs = 15_000) {
      const want = Array.isArray(states) ? states : [states];
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await store.get(id);
        if (r && want.includes(r.state)) return r;
        if (Date.now() > deadline)
          throw new Error(
            `${id} is ${r?.state ?? 'missing'} after ${timeoutMs} ms, expected ${want.join('|')}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async auditOf(id) {
      const out: StoredAuditEvent[] = [];
      for await (const e of audit.since(0)) if (e.requestId === id) out.push(e);
      return out;
    },
    async close() {
      await Promise.all(workers.map((w) => w.close(2_000)));
      await queues.close();
      await lock.close?.();
      await qlik.close();
      await sim.close();
      await slack.close();
      await dropPrefix(redis, prefix);
      await redis.quit();
    },
  };
  return h;
}

/** A user principal for a sim user id. */
export function userTarget(sim: QlikSimulator, id: string): Principal {
  const u = sim.tenant.getUser(id);
  if (!u) throw new Error(`no user ${id}`);
  return { kind: 'user', id: u.id, name: u.name, ...(u.email ? { email: u.email } : {}) };
}

export function groupTarget(sim: QlikSimulator, id: string): Principal {
  const g = sim.tenant.getGroup(id);
  if (!g) throw new Error(`no group ${id}`);
  return { kind: 'group', id: g.id, name: g.name };
}

/** A WorkerContext over the harness, to call processors (e.g. the reconciler) directly. */
export function workerContext(h: Harness): WorkerContext {
  return {
    targets: h.targets,
    store: h.store,
    audit: h.audit,
    lock: h.lock,
    queues: h.queues,
    notifier: h.notifier,
    redis: h.redis,
    keys: workerKeys(h.prefix),
    logger: createLogger('silent'),
    now: Date.now,
  };
}
