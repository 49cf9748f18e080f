// Captures the upgrade fixture of the version deployed before the redesign, commit a12d65d
// (test/upgrade/fixtures/a12d65d.json and its manifest), for test/upgrade/upgrade.test.ts to run to its end under the
// current code. It is scripts/capture-upgrade-fixture.ts adapted to that commit's modules, and it runs THAT commit's
// code, not this checkout's: the bot, its store and queues, the simulators and the logger are imported from a
// separate checkout of a12d65d (with its own `npm ci`); only the harness (test/upgrade/world.ts, redis-snapshot.ts,
// the fixture types) and the Redis client are this checkout's. Run it from this checkout, with Node 24:
//
//   git worktree add --detach /tmp/qab-a12d65d a12d65d && (cd /tmp/qab-a12d65d && npm ci)
//   node scripts/capture-upgrade-fixture-a12d65d.ts --checkout /tmp/qab-a12d65d
//   npx biome format --write test/upgrade/fixtures
//
// What differs from the later capture script, as a12d65d differs: start() takes (role, config, policy, logger) from
// loadConfig (src/config.ts) and loadPolicy (src/domain/policy.ts); its policy has no minDuration, so the fixture
// also holds grants of 2 and 3 minutes, which the current policy (5 minutes at least) would refuse to file; its
// Revoke now enqueues the job without a claim key, and it keeps no record of where a result's copies were posted.
//
// Like the later script it drives the real bot (both roles, then the bot alone as during a rolling upgrade where the
// workers went first) through signed Slack requests against the Qlik simulator's demo tenant and the Slack fake, on
// a fake clock started at a fixed instant, under a throwaway key prefix in the local Redis (REDIS_URL), and dumps
// every key under that prefix, the Slack messages and the Qlik roles the records refer to. The prefix is removed
// afterwards.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type * as QlikSimModule from '../src/sandbox/qlik-sim/index.ts';
import type * as SlackFakeModule from '../src/sandbox/slack-fake/index.ts';
import type { PostedMessage, SlackDriver } from '../src/sandbox/slack-fake/index.ts';
import type { UpgradeFixture, UpgradeManifest } from '../test/upgrade/fixture.ts';
import { snapshotPrefix } from '../test/upgrade/redis-snapshot.ts';
import {
  APPROVAL_CHANNEL,
  botEnv,
  FIXTURE_DIR,
  installClock,
  SIGNING_SECRET,
  SLACK_FAKE_OPTIONS,
  slackMessages,
  slackUsers,
  U,
  until,
} from '../test/upgrade/world.ts';

/** The commit whose records these are; the fixture is named after it (fixtures/a12d65d.json). */
const COMMIT = 'a12d65d';

const { values: args } = parseArgs({ options: { checkout: { type: 'string' } } });
if (!args.checkout) throw new Error(`usage: node ${import.meta.filename} --checkout <checkout of ${COMMIT}>`);
const checkout = resolve(args.checkout);
const head = execFileSync('git', ['-C', checkout, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
if (!head.startsWith(COMMIT)) throw new Error(`${checkout} is at ${head}, not ${COMMIT}`);
const dirty = execFileSync('git', ['-C', checkout, 'status', '--porcelain', '--untracked-files=no', 'src'], {
  encoding: 'utf8',
});
if (dirty !== '') throw new Error(`${checkout}/src has changes: its code is not ${COMMIT}'s\n${dirty}`);

// a12d65d's modules, as that commit exports them. The sandbox's types are this checkout's: its simulators' API is the
// same as a12d65d's in everything used here.
const from = <T>(path: string) => import(pathToFileURL(join(checkout, path)).href) as Promise<T>;
interface OldRunning {
  stop(deadlineMs?: number): Promise<void>;
  port: number;
  credentialChecked: Promise<void>;
}
interface OldRequest {
  id: string;
  state: string;
  approvals: unknown[];
  approvalsRequired: number;
  extends?: string;
  result?: { before?: unknown; revokeAt?: number };
}
const { start } = await from<{
  start(role: 'all' | 'bot', config: unknown, policy: unknown, logger: unknown): Promise<OldRunning>;
}>('src/main.ts');
const { loadConfig } = await from<{ loadConfig(env: Record<string, string>): unknown }>('src/config.ts');
const { loadPolicy } = await from<{ loadPolicy(config: unknown): unknown }>('src/domain/policy.ts');
const { createLogger } = await from<{ createLogger(level: string): unknown }>('src/observability/logger.ts');
const { jobIds, openQueues } = await from<{
  jobIds: {
    apply(id: string): string;
    revokeGrant(id: string, trigger: 'expiry' | 'manual'): string;
    notify(id: string, event: 'result' | 'decision' | 'revoked'): string;
  };
  openQueues(
    redis: Redis,
    prefix: string,
  ): { roleChanges: Queue; notifications: Queue; close(): Promise<void> };
}>('src/queue/queues.ts');
const { dropPrefix } = await from<{ dropPrefix(redis: Redis, prefix: string): Promise<void> }>(
  'src/store/redis.ts',
);
const { RequestStore } = await from<{
  RequestStore: new (
    redis: Redis,
    prefix: string,
  ) => {
    get(id: string): Promise<OldRequest | undefined>;
    listPendingByRequester(u: string): Promise<OldRequest[]>;
  };
}>('src/store/request-store.ts');
const { demoTenant, startQlikSimulator } = await from<typeof QlikSimModule>('src/sandbox/qlik-sim/index.ts');
const {
  listButtons,
  SlackDriver: Driver,
  startSlackFake,
} = await from<typeof SlackFakeModule>('src/sandbox/slack-fake/index.ts');

const CLOCK_START = Date.UTC(2026, 5, 1, 8, 0, 0); // 2026-06-01T08:00:00Z
const MINUTE = 60_000;

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const clock = installClock(CLOCK_START);
// Request ids come from Math.random: seeded, so a re-capture starts with the same ids (later ones drift, as other
// callers of Math.random interleave differently); the fixture is captured once per version and committed.
Math.random = mulberry32(20260601);

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
const prefix = `qab-upgrade-capture:${randomBytes(4).toString('hex')}`;
const sim = await startQlikSimulator({ tenant: demoTenant() });
const fake = await startSlackFake({ ...SLACK_FAKE_OPTIONS, users: slackUsers() });
const config = loadConfig(
  botEnv({ qlikUrl: sim.url, qlikApiKey: sim.apiKey, slackApiUrl: fake.apiUrl, redisUrl: REDIS_URL, prefix }),
);
const policy = loadPolicy(config);
const store = new RequestStore(redis, prefix);
const queues = openQueues(redis, prefix);
const requests: UpgradeManifest['requests'] = [];

try {
  // ---- phase 1: bot and worker (`all`), as before the upgrade started
  let app = await run('all');

  // Filed first, then the clock moves on almost a whole REQUEST_TTL: it expires soon after the upgrade.
  const expiring = await file(
    app.driver,
    U.dan,
    'grant grace@corp.example DataAdmin because quarterly review',
  );
  await approvalMessage(expiring);
  clock.advance(24 * 60 * MINUTE - 10 * MINUTE);

  const denied = await file(app.driver, U.dan, 'grant frank@corp.example Steward because data quality');
  await click(app.driver, U.alice, await approvalMessage(denied), 'deny');
  await waitState(denied, 'denied');

  // Qlik refuses the change (403): the request fails for good.
  sim.injectFault({ method: 'PATCH', path: userPath('hiro@corp.example'), status: 403 });
  const failed = await file(app.driver, U.dan, 'grant hiro@corp.example DataAdmin because pipeline access');
  await click(app.driver, U.alice, await approvalMessage(failed), 'approve');
  await waitState(failed, 'failed');

  const revoked = await file(
    app.driver,
    U.dan,
    'grant kaja@corp.example AnalyticsAdmin for 2h because onboarding',
  );
  const revokedApproval = await approvalMessage(revoked);
  await click(app.driver, U.bob, revokedApproval, 'approve');
  await waitState(revoked, 'applied');
  await click(app.driver, U.alice, await resultReply(revokedApproval, 'revoke_now'), 'revoke_now');
  await waitState(revoked, 'revoked');

  const timeBound = await file(
    app.driver,
    U.dan,
    'grant frank@corp.example DataSpaceCreator for 2h because migration',
  );
  await click(app.driver, U.bob, await approvalMessage(timeBound), 'approve');
  await waitState(timeBound, 'applied');

  // a12d65d has no minimum duration: a 2-minute grant is filed, applied, and its revoke is due before long.
  const shortApplied = await file(
    app.driver,
    U.dan,
    'grant grace@corp.example AnalyticsAdmin for 2m because quick fix',
  );
  await click(app.driver, U.bob, await approvalMessage(shortApplied), 'approve');
  await waitState(shortApplied, 'applied');

  const extended = await file(
    app.driver,
    U.dan,
    'grant liam@corp.example AutomationCreator for 1h because demo',
  );
  const extendedApproval = await approvalMessage(extended);
  await click(app.driver, U.bob, extendedApproval, 'approve');
  await waitState(extended, 'applied');
  await click(app.driver, U.dan, await resultReply(extendedApproval, 'extend'), 'extend');
  const extension = await until(
    'the Extend request',
    async () => (await store.listPendingByRequester(U.dan)).find((r) => r.extends === extended)?.id,
    (id) => id !== undefined,
  );
  await approvalMessage(extension!);

  const revokeNow = await file(
    app.driver,
    U.dan,
    'grant pablo@corp.example DataServicesContributor for 2h because quarter close',
  );
  const revokeNowApproval = await approvalMessage(revokeNow);
  await click(app.driver, U.bob, revokeNowApproval, 'approve');
  await waitState(revokeNow, 'applied');
  const revokeNowReply = await resultReply(revokeNowApproval, 'revoke_now');

  // Qlik answers 503 to olga's PATCH: the snapshot is recorded, the write fails, the job waits for its retry.
  sim.injectFault({ method: 'PATCH', path: userPath('olga@corp.example'), status: 503, times: Infinity });
  const applying = await file(app.driver, U.dan, 'grant olga@corp.example DataAdmin because reporting');
  await click(app.driver, U.alice, await approvalMessage(applying), 'approve');
  await until(
    `${applying} applying with its before-snapshot and its job waiting for a retry`,
    async () => {
      const r = await store.get(applying);
      const job = await queues.roleChanges.getJob(jobIds.apply(applying));
      return {
        state: r?.state,
        before: r?.result?.before,
        job: await job?.getState(),
        tries: job?.attemptsMade,
      };
    },
    (v) => v.state === 'applying' && v.before !== undefined && v.job === 'delayed' && (v.tries ?? 0) >= 1,
  );
  await until(
    'the notifications of phase 1',
    () => queues.notifications.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
    (c) => Object.values(c).every((n) => n === 0),
  );
  await app.bot.stop(5_000);

  // ---- phase 2: the workers are down for their upgrade; the old bot still files and approves
  app = await run('bot');
  const pending0 = await file(
    app.driver,
    U.dan,
    'grant frank@corp.example TenantAdmin for 2h because incident 4711',
  );
  await approvalMessage(pending0);

  const pending1 = await file(
    app.driver,
    U.dan,
    'grant tess@corp.example TenantAdmin for 1h because migration',
  );
  await click(app.driver, U.alice, await approvalMessage(pending1), 'approve');
  await until(
    '1 of 2 approvals',
    () => store.get(pending1),
    (r) => r?.approvals.length === 1,
  );

  const pendingRevoke = await file(
    app.driver,
    U.dan,
    'revoke sanjay@corp.example ManagedSpaceCreator because changed team',
  );
  await approvalMessage(pendingRevoke);

  // Filed for 3 minutes: the current policy would refuse to file it (5 minutes at least), but here it is.
  const pendingShort = await file(
    app.driver,
    U.dan,
    'grant kaja@corp.example DataSpaceCreator for 3m because hotfix',
  );
  await approvalMessage(pendingShort);

  const approved = await file(app.driver, U.dan, 'grant zoe@corp.example DataAdmin because reporting');
  await click(app.driver, U.bob, await approvalMessage(approved), 'approve');
  await waitState(approved, 'approved');

  // Decided by the old bot with no worker to tell the requester: the notification job waits.
  const deniedLate = await file(app.driver, U.dan, 'grant uma@corp.example Steward because curiosity');
  await click(app.driver, U.bob, await approvalMessage(deniedLate), 'deny');
  await waitState(deniedLate, 'denied');

  // "Revoke now" pressed on the old bot: the press is claimed and its job waits.
  await click(app.driver, U.alice, revokeNowReply, 'revoke_now');
  await until(
    'the Revoke now job',
    async () => (await queues.roleChanges.getJob(jobIds.revokeGrant(revokeNow, 'manual')))?.getState(),
    (s) => s === 'waiting',
  );
  await app.bot.stop(5_000);
  const capturedAt = clock.now();

  // ---- what each request is now, and what it must end as once the next version has run it
  type Planned = Omit<UpgradeManifest['requests'][number], 'state' | 'approvals' | 'approvalsRequired'>;
  const job = (queue: string, id: string) => ({ queue, id });
  const qlik = (email: string, role: string, holds: boolean) => ({ email, role, holds });
  const planned: Planned[] = [
    {
      id: expiring,
      label: 'pending, past its TTL soon after the upgrade',
      next: { kind: 'expire' },
      endsAs: 'expired',
      qlik: qlik('grace@corp.example', 'DataAdmin', false),
    },
    {
      id: pending0,
      label: 'pending, 0 of 2 approvals',
      next: { kind: 'approve', by: [U.alice, U.bob] },
      endsAs: 'expired-revoked',
      qlik: qlik('frank@corp.example', 'TenantAdmin', false),
    },
    {
      id: pending1,
      label: 'pending, 1 of 2 approvals',
      next: { kind: 'approve', by: [U.bob] },
      endsAs: 'expired-revoked',
      qlik: qlik('tess@corp.example', 'TenantAdmin', false),
    },
    {
      id: pendingRevoke,
      label: 'pending revoke',
      next: { kind: 'approve', by: [U.alice] },
      endsAs: 'applied',
      qlik: qlik('sanjay@corp.example', 'ManagedSpaceCreator', false),
    },
    {
      id: pendingShort,
      label: 'pending 3-minute grant (shorter than the current minimum)',
      next: { kind: 'approve', by: [U.alice] },
      endsAs: 'expired-revoked',
      qlik: qlik('kaja@corp.example', 'DataSpaceCreator', false),
    },
    {
      id: extension!,
      label: 'pending Extend of an applied time-bound grant',
      next: { kind: 'approve', by: [U.alice] },
      endsAs: 'expired-revoked',
      qlik: qlik('liam@corp.example', 'AutomationCreator', false),
    },
    {
      id: approved,
      label: 'approved, apply job waiting (no worker)',
      next: { kind: 'run', jobs: [job('role-changes', jobIds.apply(approved))] },
      endsAs: 'applied',
      qlik: qlik('zoe@corp.example', 'DataAdmin', true),
    },
    {
      id: applying,
      label: 'applying with a before-snapshot, apply job delayed for a retry',
      next: { kind: 'run', jobs: [job('role-changes', jobIds.apply(applying))] },
      endsAs: 'applied',
      qlik: qlik('olga@corp.example', 'DataAdmin', true),
    },
    {
      id: revokeNow,
      label: 'applied time-bound grant, Revoke now pressed, its job waiting',
      next: { kind: 'run', jobs: [job('role-changes', jobIds.revokeGrant(revokeNow, 'manual'))] },
      endsAs: 'revoked',
      qlik: qlik('pablo@corp.example', 'DataServicesContributor', false),
    },
    {
      id: deniedLate,
      label: 'denied, the notification to the requester waiting',
      next: { kind: 'run', jobs: [job('notifications', jobIds.notify(deniedLate, 'decision'))] },
      endsAs: 'denied',
    },
    {
      id: timeBound,
      label: 'applied time-bound grant, revoke job delayed',
      next: { kind: 'revoke-due', jobs: [job('role-changes', jobIds.revokeGrant(timeBound, 'expiry'))] },
      endsAs: 'expired-revoked',
      qlik: qlik('frank@corp.example', 'DataSpaceCreator', false),
    },
    {
      id: shortApplied,
      label: 'applied 2-minute grant (shorter than the current minimum), revoke job delayed',
      next: { kind: 'revoke-due', jobs: [job('role-changes', jobIds.revokeGrant(shortApplied, 'expiry'))] },
      endsAs: 'expired-revoked',
      qlik: qlik('grace@corp.example', 'AnalyticsAdmin', false),
    },
    {
      id: extended,
      label: 'applied time-bound grant with an Extend pending',
      next: { kind: 'revoke-due', jobs: [job('role-changes', jobIds.revokeGrant(extended, 'expiry'))] },
      endsAs: 'expired-revoked',
    },
    { id: denied, label: 'denied', next: { kind: 'none' }, endsAs: 'denied' },
    { id: failed, label: 'failed (Qlik refused)', next: { kind: 'none' }, endsAs: 'failed' },
    {
      id: revoked,
      label: 'revoked with Revoke now',
      next: { kind: 'none' },
      endsAs: 'revoked',
      qlik: qlik('kaja@corp.example', 'AnalyticsAdmin', false),
    },
  ];
  for (const p of planned)
    for (const j of 'jobs' in p.next ? p.next.jobs : []) {
      const q = j.queue === 'notifications' ? queues.notifications : queues.roleChanges;
      const state = await (await q.getJob(j.id))?.getState();
      if (state !== 'waiting' && state !== 'delayed') throw new Error(`${j.queue}/${j.id} is ${state}`);
    }
  for (const p of planned) {
    const r = await store.get(p.id);
    if (!r) throw new Error(`${p.id} (${p.label}) is gone`);
    requests.push({
      ...p,
      state: r.state,
      approvals: r.approvals.length,
      approvalsRequired: r.approvalsRequired,
    });
  }

  // Qlik keeps its roles across the upgrade: the direct roles that differ from a fresh demo tenant.
  const fresh = demoTenant();
  const qlikUsers: UpgradeFixture['qlik']['users'] = [];
  for (const u of sim.tenant.users()) {
    const roles = sim.tenant.userRoleNames(u.id);
    if (JSON.stringify(roles) !== JSON.stringify(fresh.userRoleNames(u.id)))
      qlikUsers.push({ id: u.id, email: u.email ?? '', roles });
  }

  const keys = await snapshotPrefix(redis, prefix);
  const fixture: UpgradeFixture = {
    version: COMMIT,
    note: `Redis under QUEUE_PREFIX as ${COMMIT} (the version deployed before the redesign) left it mid-flight; written by scripts/capture-upgrade-fixture-a12d65d.ts.`,
    clock: { start: CLOCK_START, capturedAt },
    qlik: { tenant: 'demo', users: qlikUsers },
    slack: { messages: slackMessages(fake) },
    keys,
  };
  const manifest: UpgradeManifest = { version: COMMIT, capturedAt, requests };
  writeFileSync(join(FIXTURE_DIR, `${COMMIT}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
  writeFileSync(join(FIXTURE_DIR, `${COMMIT}.manifest.json`), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(
    `captured ${keys.length} keys, ${requests.length} requests, ${fixture.slack.messages.length} messages`,
  );
  for (const r of requests)
    console.log(`  ${r.id}  ${r.state.padEnd(8)} → ${r.endsAs.padEnd(15)} ${r.label}`);
} finally {
  await queues.close();
  await dropPrefix(redis, prefix);
  await redis.quit();
  await Promise.all([sim.close(), fake.close()]);
  clock.uninstall();
}

// ---- helpers

async function run(role: 'all' | 'bot') {
  const bot = await start(role, config, policy, createLogger('silent'));
  await bot.credentialChecked;
  const driver = new Driver({
    eventsUrl: `http://127.0.0.1:${bot.port}/slack/events`,
    signingSecret: SIGNING_SECRET,
    fake,
  });
  return { bot, driver };
}

function userPath(email: string): RegExp {
  return new RegExp(`^/api/v1/users/${sim.tenant.usersByEmail(email)[0]!.id}$`);
}

/** Types `/qlik <text>`; the request id from the answer. */
async function file(driver: SlackDriver, user: string, text: string): Promise<string> {
  const before = new Set(fake.messages);
  const res = await driver.slash(user, text);
  if (res.status !== 200) throw new Error(`/qlik ${text}: ${res.status} ${res.body}`);
  const answer =
    res.ackMessage ??
    (await fake.waitFor((m) => m.via === 'response_url' && m.user === user && !before.has(m), 15_000));
  const id = /R-[2-9A-HJKMNP-Z]{4,8}/.exec(answer.text ?? '')?.[0];
  if (!id) throw new Error(`/qlik ${text}: no request id in "${answer.text}"`);
  return id;
}

function approvalMessage(id: string): Promise<PostedMessage> {
  return fake.waitFor(
    (m) => m.channel === APPROVAL_CHANNEL && !m.thread_ts && (m.text ?? '').includes(id),
    15_000,
  );
}

/** The result reply in the approval thread that carries the given button. */
function resultReply(approval: PostedMessage, actionId: string): Promise<PostedMessage> {
  return fake.waitFor(
    (m) => m.thread_ts === approval.ts && listButtons(m).some((b) => b.actionId === actionId),
    15_000,
  );
}

async function click(driver: SlackDriver, user: string, m: PostedMessage, actionId: string): Promise<void> {
  const res = await driver.click(user, m, actionId);
  if (res.status !== 200) throw new Error(`${actionId} by ${user}: ${res.status} ${res.body}`);
}

function waitState(id: string, state: string) {
  return until(
    `${id} ${state}`,
    () => store.get(id).then((r) => r?.state),
    (s) => s === state,
  );
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
