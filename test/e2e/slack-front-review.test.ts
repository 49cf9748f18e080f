// Access reviews end to end: the real bot and worker (`start('all', …)`) against the Qlik simulator and the Slack
// fake. `/qlik review` posts the header and the holders to the approval channel; Revoke files a revoke request that is
// announced, approved and applied by the worker until Qlik no longer lists the holder; Keep on the rest closes the
// review, with its summary and the outcome CSV in the thread and no button left anywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listButtons, type PostedMessage } from '../../src/sandbox/slack-fake/index.ts';
import { ReviewStore } from '../../src/store/review-store.ts';
import { testRedis } from '../helpers/redis.ts';
import { APPROVAL_CHANNEL, allText, type Front, startFront, U } from './slack-front-harness.ts';

let f: Front;
let reviews: ReviewStore;
const redis = testRedis();
beforeAll(async () => {
  f = await startFront({ label: 'slack-front-review', role: 'all' });
  reviews = new ReviewStore(redis, f.prefix);
});
afterAll(async () => {
  await f?.close();
  await redis.quit();
});

function userId(email: string): string {
  return f.sim.tenant.usersByEmail(email)[0]!.id;
}

/** The message as the fake holds it now (after every update). */
function now(m: PostedMessage): PostedMessage {
  return f.fake.findMessage(m.channel, m.ts) ?? m;
}

describe('/qlik review', () => {
  it('refuses someone who does not approve the role, and posts nothing', async () => {
    const before = f.fake.messages.filter((m) => m.channel === APPROVAL_CHANNEL).length;
    const answer = await f.command(U.dan, 'review Steward');
    expect(allText(answer)).toContain(
      'Only approvers of Steward can open a review of it. No review was opened.',
    );
    expect(f.fake.messages.filter((m) => m.channel === APPROVAL_CHANNEL)).toHaveLength(before);
  });

  it('revokes through the normal flow until Qlik no longer lists the holder, and closes after the last Keep', async () => {
    const answer = await f.command(U.alice, 'review steward');
    const id = /V-[2-9A-HJKMNP-Z]{4,8}/.exec(answer.text ?? '')?.[0];
    expect(allText(answer)).toContain('is open in the approval channel: 2 holders to Keep or Revoke');
    if (!id) throw new Error(`no review id in ${answer.text}`);
    const header = await f.fake.waitFor(
      (m) => m.channel === APPROVAL_CHANNEL && !m.thread_ts && allText(m).includes(`Access review ${id}`),
    );
    expect(listButtons(header).map((b) => b.actionId)).toEqual(['review_close']);
    const batch = await f.fake.waitFor(
      (m) => m.thread_ts === header.ts && allText(m).includes(`Review ${id}`),
    );
    expect(allText(batch)).toContain('Zoë Zhang');
    expect(allText(batch)).toContain('Jamal Haddad');

    const review = (await reviews.get(id))!;
    const zoe = review.holders.findIndex((h) => h.email === 'zoe@corp.example');
    const jamal = review.holders.findIndex((h) => h.email === 'jamal@corp.example');

    // Alice revokes Zoë: a revoke request in her name, announced like any other.
    await f.driver.click(U.alice, batch, 'review_revoke', { value: `${id}:${zoe}` });
    const receipt = await f.fake.waitFor(
      (m) => m.via === 'response_url' && m.user === U.alice && allText(m).includes('Revoke request'),
    );
    const requestId = f.requestIdIn(receipt);
    expect(allText(receipt)).toContain(`Revoke request ${requestId} filed for Zoë Zhang (zoe@corp.example)`);
    const approval = await f.approvalMessage(requestId);
    expect(allText(approval)).toContain(`Access review ${id}`);
    // The batch now says so, with no buttons for Zoë.
    await f.fake.waitFor(() => allText(now(batch)).includes(requestId));
    expect(listButtons(now(batch)).map((b) => b.value)).toEqual([`${id}:${jamal}`, `${id}:${jamal}`]);

    // Bob approves the revoke; the worker applies it: Qlik no longer lists Zoë with the role.
    await f.driver.click(U.bob, approval, 'approve');
    await f.fake.waitFor(
      (m) =>
        m.thread_ts === approval.ts && allText(m).includes(requestId) && /revoked|removed/i.test(allText(m)),
      15_000,
    );
    expect((await f.store.get(requestId))?.state).toBe('applied');
    expect(f.sim.tenant.userRoleNames(userId('zoe@corp.example'))).not.toContain('Steward');
    expect(f.sim.tenant.userRoleNames(userId('jamal@corp.example'))).toContain('Steward');

    // Bob keeps Jamal: the last holder, so the review closes, with its summary and the outcome CSV in the thread.
    await f.driver.click(U.bob, now(batch), 'review_keep', { value: `${id}:${jamal}` });
    const summary = await f.fake.waitFor(
      (m) => m.thread_ts === header.ts && allText(m).includes('every holder was decided'),
    );
    expect(allText(summary)).toContain('kept 1, revoke requested 1, undecided 0 (of 2)');
    expect(allText(summary)).toContain(requestId);
    const csv = await f.fake.waitFor(
      (m) => m.via === 'files.completeUploadExternal' && m.thread_ts === header.ts,
    );
    expect(csv.files?.[0]?.filename).toMatch(new RegExp(`^review-${id}-Steward-outcome-`));
    expect(listButtons(now(header))).toEqual([]);
    expect(listButtons(now(batch))).toEqual([]);
    expect(allText(now(header))).toContain('Closed');

    // The audit stream has the review's events, hash-chained like every other.
    const events: string[] = [];
    for await (const e of f.audit.since(0)) if (e.requestId === id) events.push(e.action);
    expect(events).toEqual(['review-opened', 'review-revoke-requested', 'review-kept', 'review-closed']);
  });

  it('closes early on Close review: undecided holders listed, their buttons gone', async () => {
    const answer = await f.command(U.alice, 'review DataServicesContributor');
    const id = /V-[2-9A-HJKMNP-Z]{4,8}/.exec(answer.text ?? '')![0];
    const header = await f.fake.waitFor(
      (m) => m.channel === APPROVAL_CHANNEL && !m.thread_ts && allText(m).includes(`Access review ${id}`),
    );
    const batch = await f.fake.waitFor(
      (m) => m.thread_ts === header.ts && allText(m).includes(`Review ${id}`),
    );
    expect(listButtons(batch)).toHaveLength(4);
    // Dan is no approver: told so, and the review stays open.
    await f.driver.click(U.dan, header, 'review_close', { value: id });
    await f.fake.waitFor(
      (m) =>
        m.via === 'response_url' &&
        m.user === U.dan &&
        allText(m).includes('Only approvers of DataServicesContributor can close its review; it stays open.'),
    );
    expect((await reviews.get(id))?.state).toBe('open');
    await f.driver.click(U.bob, header, 'review_close', { value: id });
    const summary = await f.fake.waitFor(
      (m) => m.thread_ts === header.ts && allText(m).includes(`by <@${U.bob}>`),
    );
    expect(allText(summary)).toContain('undecided 2 (of 2)');
    expect(allText(summary)).toContain('Tess Tanaka');
    expect(allText(summary)).toContain('group Data Engineering');
    await f.fake.waitFor(() => listButtons(now(batch)).length === 0);
    expect(listButtons(now(header))).toEqual([]);
    expect(allText(now(batch))).toContain('Undecided (the review closed)');
  });
});
