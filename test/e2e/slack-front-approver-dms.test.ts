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
    expect(listButtons(m).map((b) => b.actionId)).toEqual(['approve', 'deny']);

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
