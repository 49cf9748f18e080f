// Approver DMs end to end (bot and worker in one process, signed Slack HTTP): with approverDms, each approver gets
// the approval message by DM; one approves from their DM, and every copy (the channel's and each DM) shows the
// decision with no live Approve / Deny, then the result once applied.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listButtons, type PostedMessage } from '../../src/sandbox/slack-fake/index.ts';
import { allText, DEFAULT_POLICY, type Front, startFront, U } from './slack-front-harness.ts';

let f: Front;
beforeAll(async () => {
  f = await startFront({
    label: 'approver-dms-e2e',
    role: 'all',
    policy: `${DEFAULT_POLICY.trimEnd()}
  Steward: { approvers: [${U.alice}, ${U.bob}], approverDms: true }
`,
  });
});
afterAll(async () => {
  await f?.close();
});

const current = (m: PostedMessage) => f.fake.findMessage(m.channel, m.ts)!;

it('sends each approver a copy and keeps every copy up to date, no live buttons once decided', async () => {
  const receipt = await f.command(U.dan, 'grant <@U0FRANK|frank> Steward because copies');
  const id = f.requestIdIn(receipt);
  const channel = await f.approvalMessage(id);
  const dmOf = (user: string) =>
    f.fake.waitFor((m) => m.channel === f.fake.dmChannelOf(user) && (m.text ?? '').includes(id), 10_000);
  const [alice, bob] = await Promise.all([dmOf(U.alice), dmOf(U.bob)]);
  for (const m of [channel, alice, bob])
    expect(listButtons(m).map((b) => b.actionId)).toEqual(['approve', 'deny', 'deny_with_reason']);

  await f.driver.click(U.bob, bob, 'approve');
  for (const m of [channel, alice, bob]) {
    const copy = await f.fake.waitFor(
      (x) =>
        x.ts === m.ts &&
        x.channel === m.channel &&
        /applied/i.test(allText(x)) &&
        listButtons(x).length === 0,
      15_000,
    );
    expect(listButtons(current(copy))).toEqual([]);
  }
  expect(
    f.fake.messages.filter(
      (m) =>
        m.channel === f.fake.dmChannelOf(U.dan) &&
        (m.text ?? '').includes(id) &&
        listButtons(m).some((b) => b.actionId === 'approve'),
    ),
  ).toEqual([]);
});

it('Deny with reason… opens a small form; the reason reaches the requester and the approval message', async () => {
  const receipt = await f.command(U.dan, 'grant <@U0FRANK|frank> DataSpaceCreator because reasons');
  const id = f.requestIdIn(receipt);
  const channel = await f.approvalMessage(id);
  await f.driver.click(U.alice, channel, 'deny_with_reason');
  let view = f.fake.openViews(U.alice).at(-1);
  for (let i = 0; i < 200 && view === undefined; i++) {
    await new Promise((r) => setTimeout(r, 25));
    view = f.fake.openViews(U.alice).at(-1);
  }
  expect(view?.view.callback_id).toBe('deny_reason');
  // Empty: the form says what to do and stays open; nothing is decided.
  const empty = await f.driver.submit(U.alice, view!, { reason: '   ' });
  expect(empty.action).toBe('errors');
  expect((await f.store.get(id))?.state).toBe('pending');
  const done = await f.driver.submit(U.alice, view!, { reason: 'Use the <Finance> group instead' });
  expect(done.action).toBe('close');
  const stored = await f.store.get(id);
  expect(stored).toMatchObject({ state: 'denied', denyReason: 'Use the <Finance> group instead' });
  const dm = await f.fake.waitFor(
    (m) => m.channel === f.fake.dmChannelOf(U.dan) && (m.text ?? '').includes(`${id} was denied`),
    10_000,
  );
  expect(allText(dm)).toContain('_Reason:_ Use the &lt;Finance&gt; group instead');
  const updated = await f.fake.waitFor(
    (m) => m.ts === channel.ts && allText(m).includes('*Denied*') && listButtons(m).length === 0,
    10_000,
  );
  expect(allText(updated)).toContain('_Reason:_ Use the &lt;Finance&gt; group instead');
  expect(
    (await f.audit.recent({ limit: 50 })).find((e) => e.requestId === id && e.action === 'denied')?.detail,
  ).toBe('because Use the <Finance> group instead');
});
