// Several Qlik tenants through the real start-up (src/start.ts): QLIK_TENANTS names two tenants (two Qlik
// simulators), and the process builds one client and one tenant-roles target per tenant. A request for `dev`
// changes the dev tenant only; one that names no tenant (as every request before tenants did) is the first,
// default tenant's; /readyz is ready only when every tenant's key is verified, and names the one that is not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { parsePolicy } from '../../src/domain/policy.ts';
import type { RoleChangeRequest, TargetRef } from '../../src/domain/request.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { enqueueApply, openQueues, type Queues } from '../../src/queue/queues.ts';
import { type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import {
  listButtons,
  SlackDriver,
  type SlackFake,
  startSlackFake,
} from '../../src/sandbox/slack-fake/index.ts';
import { type Running, start } from '../../src/start.ts';
import { RequestStore } from '../../src/store/request-store.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';
import {
  APPROVAL_CHANNEL,
  allText,
  BOT_TOKEN,
  botEnv,
  defaultUsers,
  SIGNING_SECRET,
  U,
} from './slack-front-harness.ts';

let prod: QlikSimulator;
let dev: QlikSimulator;
let fake: SlackFake;
const redis = testRedis();
const prefixes: string[] = [];
const running: Running[] = [];

beforeAll(async () => {
  [prod, dev, fake] = await Promise.all([
    startQlikSimulator(),
    startQlikSimulator(),
    startSlackFake({
      botToken: BOT_TOKEN,
      users: defaultUsers(),
      channels: [{ id: APPROVAL_CHANNEL, name: 'approvals' }],
    }),
  ]);
});
afterAll(async () => {
  await Promise.allSettled(running.map((r) => r.stop(5_000)));
  for (const prefix of prefixes) await dropPrefix(redis, prefix);
  await redis.quit();
  await Promise.all([prod?.close(), dev?.close(), fake?.close()]);
});

/** Starts the bot and worker with two tenants, prod (the default) and dev; `devKey` replaces dev's key. */
async function startTwoTenants(
  label: string,
  devKey = dev.apiKey,
  policyText = '',
): Promise<{ running: Running; prefix: string }> {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  const { QLIK_TENANT_URL: _url, QLIK_API_KEY: _key, ...env } = botEnv({ sim: prod, fake, prefix });
  const config = loadConfig({
    ...env,
    LOG_LEVEL: 'silent',
    QLIK_TENANTS: `prod=${prod.url},dev=${dev.url}`,
    QLIK_API_KEY_PROD: prod.apiKey,
    QLIK_API_KEY_DEV: devKey,
  });
  const policy = parsePolicy(policyText, {
    approvalChannel: APPROVAL_CHANNEL,
    approvers: [U.alice],
    tenants: ['prod', 'dev'],
  });
  const r = await start('all', config, policy, createLogger('silent'));
  running.push(r);
  await r.credentialChecked;
  return { running: r, prefix };
}

/** A grant of DataSpaceCreator to the user `userId` of `sim`, filed and approved as the app stores it. */
async function approvedRequest(
  store: RequestStore,
  queues: Queues,
  sim: QlikSimulator,
  userId: string,
  targetRef?: TargetRef,
): Promise<RoleChangeRequest> {
  const role = sim.tenant.roleByName('DataSpaceCreator')!;
  const now = Date.now();
  const created = await store.create(
    {
      action: 'grant',
      target: { kind: 'user', id: userId, name: 'Twin', email: 'twin@corp.example' },
      entitlement: { id: role.id, name: role.name },
      requester: { front: 'slack', id: U.carol },
      expiresAt: now + 3_600_000,
      approvalsRequired: 1,
      ...(targetRef === undefined ? {} : { targetRef }),
    },
    now,
    { time: now, actor: U.carol, action: 'requested', outcome: 'pending' },
  );
  if (!created.ok) throw new Error(`duplicate of ${created.duplicateOf.id}`);
  const approved = await store.addApproval(created.request.id, { front: 'slack', id: U.alice }, Date.now(), {
    time: Date.now(),
    actor: U.alice,
    action: 'approved',
    outcome: 'approved',
  });
  if (approved.outcome !== 'approved') throw new Error(`approval ${approved.outcome}`);
  await enqueueApply(queues, approved.request.id);
  return approved.request;
}

async function settled(store: RequestStore, id: string): Promise<RoleChangeRequest> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await store.get(id);
    if (r && (r.state === 'applied' || r.state === 'failed')) return r;
    if (Date.now() > deadline) throw new Error(`${id} is ${r?.state ?? 'missing'}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const writes = (sim: QlikSimulator) => sim.requests.filter((r) => r.method === 'PATCH').length;

describe('two Qlik tenants', () => {
  it('a grant on dev changes only the dev tenant; one naming no tenant is the default (prod) tenant’s', async () => {
    const { running: r, prefix } = await startTwoTenants('tenants-apply');
    expect((await fetch(`http://127.0.0.1:${r.port}/readyz`)).status).toBe(200);
    const store = new RequestStore(redis, prefix);
    const queues = openQueues(redis, prefix);
    try {
      // The same person in both tenants (Qlik ids differ per tenant).
      const inProd = prod.tenant.addUser({ name: 'Twin', email: 'twin@corp.example' });
      const inDev = dev.tenant.addUser({ name: 'Twin', email: 'twin@corp.example' });
      const prodWrites = writes(prod);
      const onDev = await approvedRequest(store, queues, dev, inDev.id, {
        kind: 'qlik-roles',
        instance: 'dev',
      });
      const done = await settled(store, onDev.id);
      expect(done.error).toBeUndefined();
      expect(done.state).toBe('applied');
      expect(dev.tenant.userRoleNames(inDev.id)).toEqual(['DataSpaceCreator']);
      expect(prod.tenant.userRoleNames(inProd.id)).toEqual([]);
      expect(writes(prod)).toBe(prodWrites);
      // The requester is told, and with two tenants configured the message names the tenant.
      const told = await fake.waitFor((m) => (m.text ?? '').startsWith(`${onDev.id} applied`), 10_000);
      expect(told.text).toBe(
        `${onDev.id} applied: grant DataSpaceCreator to Twin (twin@corp.example) on dev.`,
      );

      const devWrites = writes(dev);
      const unnamed = await approvedRequest(store, queues, prod, inProd.id);
      expect(unnamed.targetRef).toBeUndefined();
      expect((await settled(store, unnamed.id)).state).toBe('applied');
      expect(prod.tenant.userRoleNames(inProd.id)).toEqual(['DataSpaceCreator']);
      expect(writes(dev)).toBe(devWrites);
    } finally {
      await queues.close();
    }
  });

  it('/readyz waits for every tenant’s key and names the tenant whose key failed', async () => {
    const { running: r } = await startTwoTenants('tenants-ready', 'not-a-key-of-dev');
    const res = await fetch(`http://127.0.0.1:${r.port}/readyz`);
    expect(res.status).toBe(503);
    const body = await res.text();
    expect(body).toMatch(/^not ready: tenant dev: /);
    expect(body).not.toContain('tenant prod');
    expect(body).not.toContain('not-a-key-of-dev');
  });

  it('`/qlik grant … on dev` through Slack: dev’s own approvers decide, and only the dev tenant changes', async () => {
    // dev's policy section names bob as its only approver; prod keeps the file's (alice).
    const { running: r } = await startTwoTenants(
      'tenants-slack',
      dev.apiKey,
      `tenants:\n  dev:\n    approvers: [${U.bob}]\n`,
    );
    const driver = new SlackDriver({
      eventsUrl: `http://127.0.0.1:${r.port}/slack/events`,
      signingSecret: SIGNING_SECRET,
      fake,
    });
    const frankProd = prod.tenant.usersByEmail('frank@corp.example')[0]!;
    const frankDev = dev.tenant.usersByEmail('frank@corp.example')[0]!;
    const prodBefore = prod.tenant.userRoleNames(frankProd.id);
    const ack = await driver.slash(U.dan, 'grant frank@corp.example Steward on dev because dev data');
    expect(ack.status).toBe(200);
    const approval = await fake.waitFor(
      (m) => m.channel === APPROVAL_CHANNEL && allText(m).includes('Steward') && listButtons(m).length > 0,
      10_000,
    );
    const id = /R-[2-9A-HJKMNP-Z]{4,8}/.exec(allText(approval))![0];
    expect(allText(approval)).toContain('dev');
    // alice approves prod, not dev: refused, nothing changes.
    await driver.click(U.alice, approval, 'approve');
    await fake.waitFor(
      (m) => m.user === U.alice && allText(m).includes('not an approver for Steward'),
      10_000,
    );
    await driver.click(U.bob, approval, 'approve');
    await fake.waitFor((m) => (m.text ?? '').startsWith(`${id} applied`), 15_000);
    expect(dev.tenant.userRoleNames(frankDev.id)).toContain('Steward');
    expect(prod.tenant.userRoleNames(frankProd.id)).toEqual(prodBefore);
    // A tenant that is not configured is refused, naming the ones that are.
    await driver.slash(U.dan, 'roles on staging');
    const refused = await fake.waitFor((m) => allText(m).includes('no Qlik tenant'), 10_000);
    expect(allText(refused)).toContain('the tenants are prod and dev');
  });
});
