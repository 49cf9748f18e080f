// Ending a grant through the real bot AND the real worker (`start('all', …)`) against the Qlik simulator and the
// Slack fake: a "Revoke now" that Qlik refuses is told (thread, DMs, approval message) and a later press really
// retries; replayed presses are one request; the person who received the role is told; every copy of the result
// loses its buttons when the grant ends or is extended; an extension's result says the end moved (old → new).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jobIds } from '../../src/queue/queues.ts';
import { listButtons, type PostedMessage } from '../../src/sandbox/slack-fake/index.ts';
import { allText, type Front, startFront, U } from './slack-front-harness.ts';

let f: Front;
beforeAll(async () => {
  f = await startFront({ label: 'worker-revoke', role: 'all' });
});
afterAll(async () => {
  await f?.close();
});
// Each test starts from frank without the role and a Qlik without faults, whatever the one before left.
beforeEach(() => {
  f.sim.clearFaults();
  if (f.sim.tenant.userRoleNames(frankId()).includes(ROLE)) f.sim.tenant.removeUserRole(frankId(), ROLE);
});

const ROLE = 'AutomlExperimentContributor';

function frankId(): string {
  return f.sim.tenant.usersByEmail('frank@corp.example')[0]!.id;
}

function patchesOfFrank(): number {
  return f.sim.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/v1/users/${frankId()}`).length;
}

/** The response_url answers a user got, newest last. */
function answersTo(user: string): PostedMessage[] {
  return f.fake.messages.filter((m) => m.via === 'response_url' && m.user === user);
}

/** dan asks for ROLE for frank for `duration`, bob approves, the worker applies: the thread reply and dan's DM. */
async function appliedGrant(duration: string): Promise<{
  id: string;
  approval: PostedMessage;
  reply: PostedMessage;
  dmDan: PostedMessage;
  dmFrank: () => Promise<PostedMessage>;
}> {
  const filed = await f.command(U.dan, `grant frank@corp.example ${ROLE} for ${duration} because trial`);
  const id = f.requestIdIn(filed);
  const approval = await f.approvalMessage(id);
  await f.driver.click(U.bob, approval, 'approve');
  const isResult = (m: PostedMessage) =>
    allText(m).includes(id) && /granted|extended/.test(allText(m)) && listButtons(m).length > 0;
  const reply = await f.fake.waitFor((m) => m.thread_ts === approval.ts && isResult(m), 15_000);
  const dmDan = await f.fake.waitFor((m) => m.channel === f.fake.dmChannelOf(U.dan) && isResult(m));
  // The person who received the role is told too (asked for by the tests about it).
  const dmFrank = () => f.fake.waitFor((m) => m.channel === f.fake.dmChannelOf(U.frank) && isResult(m));
  return { id, approval, reply, dmDan, dmFrank };
}

describe('ending a grant through the bot and the worker', () => {
  it('tells the person who received the role, with the buttons they may use', async () => {
    const grant = await appliedGrant('2h');
    const id = grant.id;
    const dmFrank = await grant.dmFrank();
    // frank (the target) may press Revoke now and Extend (#mayActOnGrant): the DM carries them.
    expect(listButtons(dmFrank).map((b) => b.actionId)).toEqual(['extend', 'revoke_now']);
    expect(allText(dmFrank)).toContain(`granted *${ROLE}*`);
    // The Extend button says what it does before it does it.
    const extend = (dmFrank.blocks as { elements?: { action_id: string; confirm?: unknown }[] }[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === 'extend');
    expect(JSON.stringify(extend?.confirm)).toContain('counted from when it is approved');
    await f.driver.click(U.frank, dmFrank, 'revoke_now');
    await f.fake.waitFor((m) => m.channel === f.fake.dmChannelOf(U.frank) && /Revoked/.test(allText(m)));
    expect((await f.store.get(id))?.state).toBe('revoked');
  });

  it('a refused "Revoke now" is told in the thread and by DM, and a later press really retries', async () => {
    const { id, approval, reply } = await appliedGrant('2h');
    const before = patchesOfFrank();
    f.sim.injectFault({ method: 'PATCH', path: new RegExp(`^/api/v1/users/${frankId()}$`), status: 403 });

    await f.driver.click(U.alice, reply, 'revoke_now');
    const failed = (m: PostedMessage) => allText(m).includes(id) && allText(m).includes("couldn't revoke");
    const inThread = await f.fake.waitFor((m) => m.thread_ts === approval.ts && failed(m), 15_000);
    // Qlik's words, and the truth about the state.
    expect(allText(inThread)).toContain('Qlik refused the change (403');
    expect(allText(inThread)).toContain('still has');
    // By DM to whoever pressed (alice) and to the requester (dan).
    await f.fake.waitFor((m) => m.channel === f.fake.dmChannelOf(U.alice) && failed(m));
    await f.fake.waitFor((m) => m.channel === f.fake.dmChannelOf(U.dan) && failed(m));
    // The approval message says the revoke failed while the grant stays applied.
    const updated = await f.approvalMessage(id, (m) => allText(m).includes('The revoke failed'));
    expect(allText(updated)).toContain('*Applied*');
    expect(allText(updated)).toContain('Revoke now stays available');
    expect((await f.store.get(id))?.state).toBe('applied');
    expect(patchesOfFrank()).toBe(before + 1);
    expect(f.sim.tenant.userRoleNames(frankId())).toContain(ROLE);
    await expect
      .poll(async () => (await f.queues.roleChanges.getJob(jobIds.revokeGrant(id, 'manual')))?.getState())
      .toBe('failed');

    // Pressed again (Qlik fixed): a new job really runs and sends a PATCH; the role is gone.
    await f.driver.click(U.alice, reply, 'revoke_now');
    await f.fake.waitFor(
      (m) => m.user === U.alice && m.via === 'response_url' && allText(m).includes(`Revoking ${ROLE}`),
    );
    const revoked = await waitForState(id, 'revoked');
    expect(revoked.result?.changed).toBe(true);
    expect(patchesOfFrank()).toBe(before + 2);
    expect(f.sim.tenant.userRoleNames(frankId())).not.toContain(ROLE);
    // The later success still sends its own "revoked" messages.
    await f.fake.waitFor((m) => m.thread_ts === approval.ts && /Revoked/.test(allText(m)) && m !== inThread);
    const events = (await f.audit.recent({ limit: 50 })).filter((e) => e.requestId === id);
    expect(events.filter((e) => e.action === 'revoke-failed')).toHaveLength(1);
    expect(events.filter((e) => e.action === 'revoke-requested')).toHaveLength(2);
    expect(events.filter((e) => e.action === 'revoked')).toHaveLength(1);
  });

  it('20 replayed presses are one request: one audit event, one "Revoking", the rest told it is under way', async () => {
    const { id, reply } = await appliedGrant('2h');
    // Qlik rate-limits the first PATCH for a moment, so the revoke stays under way while the presses arrive.
    f.sim.injectFault({
      method: 'PATCH',
      path: new RegExp(`^/api/v1/users/${frankId()}$`),
      status: 429,
      retryAfterSec: 2,
      times: 1,
    });
    const seen = answersTo(U.dan).length;
    const presses = await Promise.all(
      Array.from({ length: 20 }, () => f.driver.click(U.dan, reply, 'revoke_now')),
    );
    expect(presses.every((p) => p.status === 200)).toBe(true);
    await expect.poll(() => answersTo(U.dan).length - seen, { timeout: 10_000 }).toBe(20);
    const answers = answersTo(U.dan).slice(seen).map(allText);
    expect(answers.filter((a) => a.includes(`Revoking ${ROLE}`))).toHaveLength(1);
    const underWay = answers.filter((a) => a.includes('already under way'));
    expect(underWay).toHaveLength(19);
    expect(underWay[0]).toContain('you pressed Revoke now');

    await waitForState(id, 'revoked');
    const events = (await f.audit.recent({ limit: 80 })).filter((e) => e.requestId === id);
    expect(events.filter((e) => e.action === 'revoke-requested')).toHaveLength(1);
    expect(events.filter((e) => e.action === 'revoked')).toHaveLength(1);
  });

  it('every copy of the result loses its buttons when the grant is revoked', async () => {
    const { id, reply, dmDan, dmFrank } = await appliedGrant('2h');
    // frank's copy (the test above proves it is sent) is taken while it still shows its buttons.
    const frankCopy = await dmFrank().catch(() => undefined);
    await f.driver.click(U.dan, dmDan, 'revoke_now');
    await waitForState(id, 'revoked');
    for (const copy of [reply, dmDan, ...(frankCopy ? [frankCopy] : [])]) {
      const now = await f.fake.waitFor(
        (m) => m.channel === copy.channel && m.ts === copy.ts && m.updates.length > 0,
      );
      expect(listButtons(now)).toEqual([]);
      expect(allText(now)).toContain('*Revoked*');
      expect(allText(now)).not.toContain('the role is removed');
    }
  });

  it("an extension says the end moved (old → new), and the extended grant's copies lose their buttons", async () => {
    const first = await appliedGrant('2h');
    const frankCopy = await first.dmFrank().catch(() => undefined);
    const firstEnd = (await f.store.get(first.id))!.result!.revokeAt!;
    await f.driver.click(U.dan, first.dmDan, 'extend');
    const filed = await f.fake.waitFor(
      (m) => m.via === 'response_url' && m.user === U.dan && allText(m).includes('Extension filed as'),
    );
    expect(allText(filed)).toContain('Once it is applied');
    const extId = /Extension filed as (R-\w+)/.exec(allText(filed))![1]!;
    const extApproval = await f.approvalMessage(extId);
    await f.driver.click(U.bob, extApproval, 'approve');
    const extReply = await f.fake.waitFor(
      (m) => m.thread_ts === extApproval.ts && allText(m).includes(extId) && /extended/.test(allText(m)),
      15_000,
    );
    const ext = (await f.store.get(extId))!;
    const plain = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    expect(extReply.text).toContain(`${ROLE} for Frank`);
    expect(extReply.text).toContain(`now ends ${plain(ext.result!.revokeAt!)} (was ${plain(firstEnd)})`);
    expect(allText(extReply)).not.toContain('nothing changed');
    for (const copy of [first.reply, first.dmDan, ...(frankCopy ? [frankCopy] : [])]) {
      const now = await f.fake.waitFor(
        (m) => m.channel === copy.channel && m.ts === copy.ts && m.updates.length > 0,
      );
      expect(listButtons(now)).toEqual([]);
      expect(allText(now)).toContain(`Extended by ${extId}`);
    }
  });
});

async function waitForState(id: string, state: string) {
  await expect.poll(async () => (await f.store.get(id))?.state, { timeout: 15_000 }).toBe(state);
  return (await f.store.get(id))!;
}

describe('deciding a request through the bot and the worker', () => {
  it('a Deny updates the approval message once: the notification job does not show the same update again', async () => {
    const filed = await f.command(U.dan, `grant frank@corp.example ${ROLE} because trial`);
    const id = f.requestIdIn(filed);
    const approval = await f.approvalMessage(id);
    await f.driver.click(U.bob, approval, 'deny');
    await f.fake.waitFor((m) => m.channel === f.fake.dmChannelOf(U.dan) && allText(m).includes(id));
    await expect
      .poll(async () => (await f.queues.notifications.getJob(jobIds.notify(id, 'decision')))?.getState())
      .toBe('completed');
    const denied = await f.approvalMessage(id, (m) => allText(m).includes('Denied'));
    expect(listButtons(denied)).toEqual([]);
    expect(denied.updates).toHaveLength(1);
  });
});
