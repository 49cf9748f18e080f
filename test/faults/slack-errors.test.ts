// Issue 16's fault suite: Slack answering `ratelimited` (HTTP 429 with Retry-After) and 5xx on posts and updates
// while ten approved grants are applied and reported. The bot and the worker run as src/start.ts wires them (one
// process, role `all`: Slack's Web API client with its production retries), against the Slack fake. Qlik is written
// once per grant, and every message is posted later, once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcementOf } from '../../src/domain/request.ts';
import { type Front, startFront, U } from '../e2e/slack-front-harness.ts';
import { until } from './fixtures/world.ts';

const N = 10;
const ROLE = 'Steward';

let f: Front;
beforeAll(async () => {
  f = await startFront({ label: 'faults-slack', role: 'all' });
});
afterAll(async () => {
  await f?.close();
});

describe('Slack ratelimited and 5xx on posts', () => {
  it('ten grants: Qlik written once each, every reply and update posted later, once', {
    timeout: 90_000,
  }, async () => {
    const people = Array.from({ length: N }, (_, i) => {
      const email = `slackfault${i}@corp.example`;
      const q = f.sim.tenant.addUser({ name: `Slack Fault ${i}`, email });
      const slackId = `U0SLKF${String(i).padStart(3, '0')}`;
      f.fake.addUser({ id: slackId, name: `slackfault${i}`, realName: `Slack Fault ${i}`, email });
      return { qlikId: q.id, slackId, handle: `slackfault${i}` };
    });
    const ids: string[] = [];
    for (const p of people) {
      const receipt = await f.command(U.dan, `grant @${p.handle} ${ROLE} because slack faults`);
      ids.push(f.requestIdIn(receipt));
    }
    const announcements = await Promise.all(ids.map((id) => f.approvalMessage(id)));
    const callsBefore = f.fake.calls.length;

    // From now on Slack refuses posts and updates for a while: rate limits first, then its own failures.
    f.fake.injectRateLimit('chat.postMessage', 1, 4);
    f.fake.injectServerError('chat.postMessage', 503, 2);
    f.fake.injectServerError('chat.postMessage', 500, 2);
    f.fake.injectRateLimit('chat.update', 1, 3);
    f.fake.injectServerError('chat.update', 502, 2);

    for (const m of announcements) expect((await f.driver.click(U.alice, m, 'approve')).status).toBe(200);
    const done = await Promise.all(ids.map((id) => waitState(id, ['applied', 'failed'], 40_000)));
    expect(done.map((r) => r.state)).toEqual(ids.map(() => 'applied'));

    // Every reply reaches the approval thread, and every announcement shows the result: later, but once.
    const thread = (ts: string) => f.fake.messages.filter((m) => m.thread_ts === ts);
    await until('every thread reply', () => announcements.every((a) => thread(a.ts).length >= 1), 60_000);
    await until(
      'every announcement updated to applied',
      () => announcements.every((a) => /: applied$/.test(f.fake.findMessage(a.channel, a.ts)?.text ?? '')),
      30_000,
    );
    // The person who received the role is told by DM, once.
    await until(
      'every DM to the person who got the role',
      () =>
        people.every((p, i) =>
          f.fake.messages.some(
            (m) => m.channel === f.fake.dmChannelOf(p.slackId) && (m.text ?? '').includes(ids[i]!),
          ),
        ),
      30_000,
    );
    for (const [i, p] of people.entries()) {
      const a = announcements[i]!;
      expect(thread(a.ts)).toHaveLength(1);
      expect(thread(a.ts)[0]!.text).toContain(ids[i]!);
      expect(
        f.fake.messages.filter(
          (m) => m.channel === f.fake.dmChannelOf(p.slackId) && (m.text ?? '').includes(ids[i]!),
        ),
      ).toHaveLength(1);
      // Qlik: one write, one "applied", the roles as asked.
      expect(f.sim.tenant.userRoleNames(p.qlikId)).toEqual([ROLE]);
      expect(
        f.sim.requests.filter(
          (r) => r.method === 'PATCH' && r.path === `/api/v1/users/${p.qlikId}` && r.status === 204,
        ),
      ).toHaveLength(1);
      const audit = [];
      for await (const e of f.audit.since(0)) if (e.requestId === ids[i]) audit.push(e);
      expect(audit.filter((e) => e.action === 'applied')).toHaveLength(1);
      const stored = await f.store.get(ids[i]!);
      expect(announcementOf(stored!)?.ts).toBe(a.ts);
      const buttons = JSON.stringify(f.fake.findMessage(a.channel, a.ts)?.blocks ?? []);
      expect(buttons).not.toMatch(/"action_id":"(approve|deny)"/);
    }
    // The faults were really met, as Slack answers them.
    const faulted = f.fake.calls.slice(callsBefore).filter((c) => c.status !== 200);
    expect(faulted.filter((c) => c.status === 429 && c.error === 'ratelimited')).toHaveLength(7);
    expect(faulted.filter((c) => c.status >= 500)).toHaveLength(6);
  });
});

async function waitState(id: string, states: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await f.store.get(id);
    if (r && states.includes(r.state)) return r;
    if (Date.now() > deadline) throw new Error(`${id} is ${r?.state} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
