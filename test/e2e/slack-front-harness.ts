// Test harness for the Slack front: the real bot role (src/main.ts `start('bot', …)`) against the Qlik simulator,
// the Slack fake and the real Redis under a unique prefix; a signed-request driver plays Slack's side, or, with
// `socket: true`, the bot runs in Socket Mode (an app token, no signing secret) and the driver sends envelopes on its
// connection to the fake's Socket Mode server.
import { loadConfig } from '../../src/config.ts';
import { parsePolicy } from '../../src/domain/policy.ts';
import type { RoleChangeRequest } from '../../src/domain/request.ts';
import { type Running, start } from '../../src/main.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { jobIds, openQueues, type Queues } from '../../src/queue/queues.ts';
import {
  demoTenant,
  type QlikSimulator,
  type SimTenant,
  startQlikSimulator,
} from '../../src/sandbox/qlik-sim/index.ts';
import {
  type FakeUser,
  type PostedMessage,
  SlackDriver,
  type SlackFake,
  startSlackFake,
} from '../../src/sandbox/slack-fake/index.ts';
import { AuditLog } from '../../src/store/audit-log.ts';
import { RequestStore } from '../../src/store/request-store.ts';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../helpers/redis.ts';

export const BOT_TOKEN = 'xoxb-test-0000-front';
export const SIGNING_SECRET = 'front-signing-secret-0123456789abcdef';
/** The app-level token a Socket Mode front runs with (`socket: true`). */
export const APP_TOKEN = 'xapp-1-A0QLIKBOT-1-front-0123456789abcdef';
export const APPROVAL_CHANNEL = 'C0APPROVALS';

/** Slack people of the fake workspace; emails match the simulator's demo tenant. */
export const U = {
  alice: 'U0ALICE', // approver (listed), TenantAdmin in Qlik
  bob: 'U0BOB', // approver (listed)
  carol: 'U0CAROL', // approver through the S0APPROVERS user group
  dan: 'U0DAN', // not an approver
  frank: 'U0FRANK', // not an approver; target of most grants
  noMail: 'U0NOMAIL', // no email on the profile
  ghost: 'U0GHOST', // email unknown to Qlik
  gone: 'U0GONE', // deactivated
} as const;

export const MANY_APPROVERS = Array.from({ length: 20 }, (_, i) => `U0APP${String(i + 1).padStart(2, '0')}`);

/**
 * The environment of a bot or worker process wired to this Qlik simulator and fake Slack, under its own key
 * prefix; `extra` overrides or adds variables.
 */
export function botEnv(
  w: { sim: { url: string; apiKey: string }; fake: { apiUrl: string }; prefix: string; port?: number },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: w.fake.apiUrl,
    QLIK_TENANT_URL: w.sim.url,
    QLIK_API_KEY: w.sim.apiKey,
    REDIS_URL,
    QUEUE_PREFIX: w.prefix,
    PORT: String(w.port ?? 0),
    APPROVAL_CHANNEL,
    APPROVERS: `${U.alice},${U.bob}`,
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export function defaultUsers(): FakeUser[] {
  return [
    { id: U.alice, name: 'alice', realName: 'Alice Andersson', email: 'alice@corp.example' },
    { id: U.bob, name: 'bob', realName: 'Bob Brown', email: 'bob@corp.example' },
    { id: U.carol, name: 'carol', realName: 'Carol Chen', email: 'carol@corp.example' },
    { id: U.dan, name: 'dan', realName: 'Dan Dubois', email: 'dan@corp.example' },
    { id: U.frank, name: 'frank', realName: 'Frank Fischer', email: 'frank@corp.example' },
    { id: U.noMail, name: 'nomail', realName: 'No Mail' },
    { id: U.ghost, name: 'ghost', realName: 'Ghost Writer', email: 'ghost@corp.example' },
    { id: U.gone, name: 'gone', realName: 'Gone Away', email: 'gone@corp.example', deleted: true },
    ...MANY_APPROVERS.map((id, i) => ({
      id,
      name: `approver${i + 1}`,
      email: `approver${i + 1}@corp.example`,
    })),
  ];
}

export const DEFAULT_POLICY = `
approvalChannel: ${APPROVAL_CHANNEL}
approvers: [${U.alice}, ${U.bob}, S0APPROVERS]
roles:
  TenantAdmin: { approvalsRequired: 2, reasonRequired: true, maxDuration: 4h }
  SharedSpaceCreator: { autoApprove: true }
  AuditAdmin: { requestable: false }
`;

export interface FrontOptions {
  tenant?: SimTenant;
  policy?: string;
  requestTtl?: string;
  users?: FakeUser[];
  usergroups?: Record<string, string[]>;
  qlikApiKey?: string;
  redisUrl?: string;
  label?: string;
  /** The bot's logger (default: silent), e.g. to capture what it logs. */
  logger?: ReturnType<typeof createLogger>;
  /** 'all' runs the real worker in the same process too (default 'bot': tests play the worker's part). */
  role?: 'bot' | 'all';
  /** Extra environment for the bot (e.g. worker settings). */
  env?: Record<string, string>;
  /** The bot's clock (default: the real one), e.g. a fake one to let requests expire without waiting. */
  now?: () => number;
  /** Run the bot in Socket Mode against the fake's Socket Mode server (SLACK_APP_TOKEN set, no signing secret). */
  socket?: boolean;
}

export interface Front {
  sim: QlikSimulator;
  fake: SlackFake;
  driver: SlackDriver;
  bot: Running;
  url: string;
  prefix: string;
  store: RequestStore;
  audit: AuditLog;
  queues: Queues;
  /** Types `/qlik <text>` as the user and waits for the first response_url answer. */
  command(userId: string, text: string): Promise<PostedMessage>;
  /** Waits for the approval message of a request (in the approval channel). */
  approvalMessage(requestId: string, pred?: (m: PostedMessage) => boolean): Promise<PostedMessage>;
  /** The request id mentioned in a message's text. */
  requestIdIn(m: PostedMessage): string;
  applyJob(requestId: string): Promise<unknown>;
  close(): Promise<void>;
}

/** Text of a message including its blocks (rendered crudely), for assertions. */
export function allText(m: PostedMessage): string {
  return `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}`;
}

export async function startFront(opts: FrontOptions = {}): Promise<Front> {
  const sim = await startQlikSimulator({ tenant: opts.tenant ?? demoTenant() });
  const fake = await startSlackFake({
    botToken: BOT_TOKEN,
    users: opts.users ?? defaultUsers(),
    channels: [{ id: APPROVAL_CHANNEL, name: 'qlik-approvals' }],
    usergroups: opts.usergroups ?? { S0APPROVERS: [U.carol, ...MANY_APPROVERS] },
    ...(opts.socket ? { appToken: APP_TOKEN } : {}),
  });
  const prefix = uniquePrefix(opts.label ?? 'slack-front');
  const env = botEnv(
    { sim, fake, prefix },
    {
      QLIK_API_KEY: opts.qlikApiKey ?? sim.apiKey,
      REDIS_URL: opts.redisUrl ?? REDIS_URL,
      REQUEST_TTL: opts.requestTtl ?? '24h',
      LOG_LEVEL: 'silent',
      QLIK_READS_PER_MINUTE: '600000',
      QLIK_FILTER_PER_MINUTE: '600000',
      ...opts.env,
    },
  );
  if (opts.socket) {
    // Socket Mode needs no signing secret: leaving it out proves nothing goes through the HTTP endpoint.
    env.SLACK_APP_TOKEN = APP_TOKEN;
    delete env.SLACK_SIGNING_SECRET;
  }
  const config = loadConfig(env);
  const policy = parsePolicy(opts.policy ?? DEFAULT_POLICY, {
    approvalChannel: APPROVAL_CHANNEL,
    approvers: [U.alice, U.bob],
  });
  const bot = await start(
    opts.role ?? 'bot',
    config,
    policy,
    opts.logger ?? createLogger('silent'),
    opts.now === undefined ? {} : { now: opts.now },
  );
  await bot.credentialChecked;
  const url = `http://127.0.0.1:${bot.port}`;
  const driver = opts.socket
    ? new SlackDriver({ fake, socketMode: true })
    : new SlackDriver({ eventsUrl: `${url}/slack/events`, signingSecret: SIGNING_SECRET, fake });
  const redis = testRedis();
  const store = new RequestStore(redis, prefix);
  const audit = new AuditLog(redis, prefix);
  const queues = openQueues(redis, prefix);

  const requestIdIn = (m: PostedMessage): string => {
    const id = /R-[2-9A-HJKMNP-Z]{4,8}/.exec(m.text ?? '')?.[0];
    if (!id) throw new Error(`no request id in: ${m.text}`);
    return id;
  };

  return {
    sim,
    fake,
    driver,
    bot,
    url,
    prefix,
    store,
    audit,
    queues,
    requestIdIn,
    async command(userId, text) {
      const before = new Set(fake.messages);
      const res = await driver.slash(userId, text);
      if (res.status !== 200) throw new Error(`slash answered ${res.status}: ${res.body}`);
      if (res.ackMessage) return res.ackMessage;
      return fake.waitFor((m) => m.via === 'response_url' && m.user === userId && !before.has(m), 15_000);
    },
    approvalMessage(requestId, pred = () => true) {
      return fake.waitFor(
        (m) =>
          m.channel === APPROVAL_CHANNEL && !m.thread_ts && (m.text ?? '').includes(requestId) && pred(m),
        10_000,
      );
    },
    applyJob(requestId) {
      return queues.roleChanges.getJob(jobIds.apply(requestId));
    },
    async close() {
      await bot.stop(5_000);
      await queues.close();
      await dropPrefix(redis, prefix);
      await redis.quit();
      await Promise.all([sim.close(), fake.close()]);
    },
  };
}

export function isPending(r: RoleChangeRequest | undefined): boolean {
  return r?.state === 'pending';
}
