// Issue 16's fault suite: the bot and the worker SIGKILLed at each step of a flow (file → approve → apply →
// notify). Each runs in its own process; at each step the process doing it is killed while it is in the middle of
// it (held there by a slow Slack or Qlik answer), started again, and the person carries on as they would (types the
// command again, presses the button that is still there). Each flow must end right: one request, applied once, one
// reply in the approval thread, and no live Approve / Deny on the decided request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../helpers/redis.ts';
import { type Person, type Proc, startWorld, U, until, type World } from './fixtures/world.ts';

const ROLE = 'Steward';

let w: World;
let worker: Proc;
beforeAll(async () => {
  w = await startWorld({ label: 'faults-kill', redisUrl: REDIS_URL, people: 4 });
  [, worker] = await Promise.all([w.startBot(), w.startWorker()]);
});
afterAll(async () => {
  await w?.close();
});

/** Resolves once the fake has answered a call of `method` with 429 after call number `from`. */
function rateLimitedCall(method: string, from: number): Promise<void> {
  return until(
    `a rate-limited ${method}`,
    () => w.fake.calls.slice(from).some((c) => c.method === method && c.status === 429),
    15_000,
  );
}

/** The flow ended right: one request, applied once, one thread reply, no live buttons. */
async function endedRight(person: Person, id: string): Promise<void> {
  const done = await w.waitForState(id, ['applied', 'failed'], 30_000);
  expect(done.state).toBe('applied');
  expect(w.sim.tenant.userRoleNames(person.qlikId)).toEqual([ROLE]);
  expect(w.successfulPatches(person.qlikId)).toBe(1);
  const events = (await w.allAudit()).filter((e) => (e.target ?? '').includes(person.email));
  expect(new Set(events.filter((e) => e.action === 'requested').map((e) => e.requestId))).toEqual(
    new Set([id]),
  );
  expect(events.filter((e) => e.action === 'applied')).toHaveLength(1);
  await until(`${id}'s thread reply`, () => w.threadReplies(id).length >= 1, 20_000);
  await until(`${id}'s buttons to go`, () => !w.hasLiveButtons(id), 20_000);
  // Nothing more arrives later (a retried notification that found its reply, not a second one).
  await new Promise((r) => setTimeout(r, 500));
  expect(w.threadReplies(id)).toHaveLength(1);
  expect(w.hasLiveButtons(id)).toBe(false);
}

describe('the bot and the worker SIGKILLed at each step of a flow', () => {
  it('file: the bot killed after storing the request, before announcing it; the requester types it again', {
    timeout: 60_000,
  }, async () => {
    const person = w.people[0]!;
    // The approval message's post waits 3 s (Slack's Retry-After): the bot is in the middle of filing.
    w.fake.injectRateLimit('chat.postMessage', 3, 1);
    const from = w.fake.calls.length;
    void w.bot().driver.slash(U.dan, `grant @${person.handle} ${ROLE} because killed while filing`);
    await rateLimitedCall('chat.postMessage', from);
    const stored = (await w.store.listPendingByRequester({ front: 'slack', id: U.dan })).find(
      (r) => r.target.id === person.qlikId,
    );
    expect(stored?.state).toBe('pending');
    await w.bot().kill();
    await w.startBot();

    // No receipt came; the requester types the command again. It files nothing new, and approvers now see it.
    const again = await w.command(U.dan, `grant @${person.handle} ${ROLE} because killed while filing`);
    expect(again.text).toContain(stored!.id);
    expect(await w.approve(stored!.id)).toBe(200);
    await endedRight(person, stored!.id);
  });

  it('approve: the bot killed while checking the approver; the approver presses Approve again', {
    timeout: 60_000,
  }, async () => {
    const person = w.people[1]!;
    const id = await w.fileGrant(person, ROLE);
    const msg = await w.announcement(id);
    // Looking up the approver's profile (self-approval check) waits 3 s: the click is in the middle of deciding.
    w.fake.injectRateLimit('users.info', 3, 1);
    const from = w.fake.calls.length;
    expect((await w.bot().driver.click(U.bob, msg, 'approve')).status).toBe(200);
    await rateLimitedCall('users.info', from);
    await w.bot().kill();
    await w.startBot();

    expect((await w.store.get(id))?.state).toBe('pending');
    expect(w.hasLiveButtons(id)).toBe(true);
    expect(await w.approve(id, U.bob)).toBe(200);
    await endedRight(person, id);
  });

  it('apply: the worker killed while applying, before its write; started again', {
    timeout: 60_000,
  }, async () => {
    const person = w.people[2]!;
    const id = await w.fileGrant(person, ROLE);
    // Every Qlik answer takes 1.5 s: the worker is reading the user (its snapshot) when it is killed.
    w.sim.setLatency(1_500);
    expect(await w.approve(id)).toBe(200);
    await w.waitForState(id, ['applying'], 15_000);
    await worker.kill();
    // Killed before it wrote: no PATCH of this user has been answered.
    expect(w.sim.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(person.qlikId))).toHaveLength(
      0,
    );
    w.sim.setLatency(0);
    worker = await w.startWorker();
    await endedRight(person, id);
  });

  it('notify: the worker killed while posting the thread reply; started again', {
    timeout: 60_000,
  }, async () => {
    const person = w.people[3]!;
    const id = await w.fileGrant(person, ROLE);
    await w.announcement(id);
    // The thread reply's post waits 3 s (Retry-After): the worker is in the middle of telling.
    w.fake.injectRateLimit('chat.postMessage', 3, 1);
    const from = w.fake.calls.length;
    expect(await w.approve(id)).toBe(200);
    await w.waitForState(id, ['applied'], 15_000);
    await rateLimitedCall('chat.postMessage', from);
    await worker.kill();
    expect(w.threadReplies(id)).toHaveLength(0);
    worker = await w.startWorker();
    await endedRight(person, id);
  });
});
