// Pending requests expire after REQUEST_TTL: the app refuses to approve one that has run out (expiring it on the spot
// when the sweep hasn't yet), and a request the worker's reconciler expired stays refused. The bot and the
// reconciler run on a fake clock that the tests move past the expiry: no test waits for the real one.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { QlikClient } from '../../src/qlik/index.ts';
import { jobIds } from '../../src/queue/queues.ts';
import { listButtons } from '../../src/sandbox/slack-fake/index.ts';
import { createWebClient } from '../../src/slack/app.ts';
import { SlackMessenger } from '../../src/slack/messenger.ts';
import { SlackNotifier } from '../../src/slack/notifier.ts';
import { PrincipalLock } from '../../src/store/principal-lock.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';
import { TargetRegistry } from '../../src/targets/registry.ts';
import { workerKeys } from '../../src/worker/keys.ts';
import { reconcile } from '../../src/worker/reconcile.ts';
import { testRedis } from '../helpers/redis.ts';
import { allText, BOT_TOKEN, type Front, startFront, U } from './slack-front-harness.ts';

let f: Front;
let clock = Date.now();
const now = () => clock;
beforeAll(async () => {
  f = await startFront({ label: 'expiry', requestTtl: '1h', now });
});
afterAll(async () => {
  await f?.close();
});

/** Moves the bot's clock just past the request's expiry. */
async function pastExpiry(id: string): Promise<void> {
  const req = await f.store.get(id);
  if (!req) throw new Error(`no request ${id}`);
  clock = Math.max(clock, req.expiresAt + 1);
}

it('refuses to approve an expired request, expires it, and updates the message', async () => {
  const id = f.requestIdIn(await f.command(U.dan, 'grant frank@corp.example Steward'));
  const msg = await f.approvalMessage(id);
  await pastExpiry(id);
  await f.driver.click(U.alice, msg, 'approve');
  await f.fake.waitFor(
    (m) => m.via === 'response_url' && m.user === U.alice && allText(m).includes('expired'),
  );
  const req = await f.store.get(id);
  expect(req?.state).toBe('expired');
  expect(req?.approvals).toEqual([]);
  expect(await f.applyJob(id)).toBeUndefined();
  const updated = await f.approvalMessage(id, (m) => allText(m).includes('*Expired*'));
  expect(listButtons(updated)).toEqual([]);
  expect(await f.queues.notifications.getJob(jobIds.notify(id, 'decision'))).toBeDefined();
  const events = (await f.audit.recent({ limit: 20 })).filter((e) => e.requestId === id).map((e) => e.action);
  expect(events).toEqual(['expired', 'requested']);
});

it('stays refused after the worker reconciler expired it', async () => {
  const id = f.requestIdIn(await f.command(U.dan, 'grant frank@corp.example DataSpaceCreator'));
  const msg = await f.approvalMessage(id);
  await pastExpiry(id);
  const redis = testRedis();
  const logger = createLogger('silent');
  const qlik = new QlikClient({ tenantUrl: f.sim.url, apiKey: f.sim.apiKey });
  try {
    const out = await reconcile({
      targets: new TargetRegistry([new QlikRolesTarget({ instance: 'default', qlik })]),
      store: f.store,
      audit: f.audit,
      lock: new PrincipalLock(redis, f.prefix),
      queues: f.queues,
      notifier: new SlackNotifier(
        new SlackMessenger(createWebClient({ botToken: BOT_TOKEN, apiUrl: f.fake.apiUrl }, logger), logger),
      ),
      redis,
      keys: workerKeys(f.prefix),
      logger,
      now,
    });
    expect(out.expired).toContain(id);
  } finally {
    await qlik.close();
    await redis.quit();
  }
  await f.driver.click(U.bob, msg, 'approve');
  await f.fake.waitFor(
    (m) => m.via === 'response_url' && m.user === U.bob && allText(m).includes(`${id} is already expired`),
  );
  expect((await f.store.get(id))?.state).toBe('expired');
  expect(await f.applyJob(id)).toBeUndefined();
});
