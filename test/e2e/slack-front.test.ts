// End to end through the real Bolt receiver: HMAC-signed slash commands and clicks (SlackDriver), the Slack fake
// behind SLACK_API_URL, the Qlik simulator, and real Redis and BullMQ under a unique prefix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcementOf, type RoleChangeRequest } from '../../src/domain/request.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { jobIds } from '../../src/queue/queues.ts';
import { listButtons, type PostedMessage } from '../../src/sandbox/slack-fake/index.ts';
import { createWebClient } from '../../src/slack/app.ts';
import { SlackMessenger } from '../../src/slack/messenger.ts';
import { resultMessage } from '../../src/slack/views.ts';
import {
  APPROVAL_CHANNEL,
  allText,
  type Front,
  MANY_APPROVERS,
  startFront,
  U,
} from './slack-front-harness.ts';

let f: Front;
beforeAll(async () => {
  f = await startFront({ label: 'front' });
});
afterAll(async () => {
  await f?.close();
});

/** The next ephemeral answer (response_url) shown to `userId` that contains `needle`. */
function answerTo(userId: string, needle: string): Promise<PostedMessage> {
  return f.fake.waitFor(
    (m) => m.via === 'response_url' && m.user === userId && allText(m).includes(needle),
    10_000,
  );
}

async function jobsFor(requestId: string) {
  const all = await f.queues.roleChanges.getJobs([
    'waiting',
    'delayed',
    'active',
    'completed',
    'failed',
    'prioritized',
  ]);
  return all.filter((j) => (j.data as { requestId?: string }).requestId === requestId);
}

async function fileGrant(requester: string, text: string): Promise<{ id: string; msg: PostedMessage }> {
  const receipt = await f.command(requester, text);
  const id = f.requestIdIn(receipt);
  return { id, msg: await f.approvalMessage(id) };
}

describe('grant → approval', () => {
  it('posts the approval message; a non-approver and the requester change nothing; an approver enqueues one job', async () => {
    const receipt = await f.command(
      U.bob,
      `grant <@${U.frank}|frank> ManagedSpaceCreator because quarterly reports`,
    );
    expect(receipt.ephemeral).toBe(true);
    expect(receipt.text).toMatch(/Request R-\w+ filed/);
    const id = f.requestIdIn(receipt);

    const msg = await f.approvalMessage(id);
    const text = allText(msg);
    expect(msg.via).toBe('chat.postMessage');
    for (const part of [
      'Frank Fischer',
      'frank@corp.example',
      'ManagedSpaceCreator',
      'quarterly reports',
      id,
      `<@${U.bob}>`,
    ]) {
      expect(text).toContain(part);
    }
    expect(listButtons(msg).map((b) => b.actionId)).toEqual(['approve', 'deny', 'deny_with_reason']);
    const stored = await f.store.get(id);
    expect(announcementOf(stored!)).toEqual({
      front: 'slack',
      kind: 'announcement',
      channel: APPROVAL_CHANNEL,
      ts: msg.ts,
    });
    expect(stored?.target).toMatchObject({
      kind: 'user',
      email: 'frank@corp.example',
      person: { front: 'slack', id: U.frank },
    });

    expect((await f.driver.click(U.dan, msg, 'approve')).status).toBe(200);
    await answerTo(U.dan, 'not an approver');
    expect((await f.driver.click(U.bob, msg, 'approve')).status).toBe(200);
    await answerTo(U.bob, 'someone else has to approve');
    expect((await f.store.get(id))?.state).toBe('pending');
    expect((await f.store.get(id))?.approvals).toEqual([]);
    expect(await f.applyJob(id)).toBeUndefined();

    await f.driver.click(U.alice, msg, 'approve');
    const decided = await f.approvalMessage(
      id,
      (m) => m.updates.length > 0 && allText(m).includes('*Approved*'),
    );
    expect(listButtons(decided)).toEqual([]);
    expect(allText(decided)).toContain(`<@${U.alice}>`);
    const job = await f.applyJob(id);
    expect(job).toBeDefined();
    expect((job as { data: unknown }).data).toEqual({ requestId: id });
    expect(await jobsFor(id)).toHaveLength(1);
    expect((await f.store.get(id))?.state).toBe('approved');
  });

  it('decides once when 20 clicks from different approvers (and repeats) arrive at once', async () => {
    const { id, msg } = await fileGrant(U.dan, `grant frank@corp.example Steward because data stewardship`);
    const clickers = [...MANY_APPROVERS.slice(0, 15), ...MANY_APPROVERS.slice(0, 5)];
    const results = await Promise.all(clickers.map((u) => f.driver.click(u, msg, 'approve')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    // Every click but the winning one is told that nothing changed; the winner sees the message update.
    await f.fake.waitFor(
      () =>
        f.fake.messages.filter(
          (m) => m.via === 'response_url' && clickers.includes(m.user ?? '') && allText(m).includes(id),
        ).length >=
        clickers.length - 1,
      15_000,
    );
    const req = await f.store.get(id);
    expect(req?.state).toBe('approved');
    expect(req?.approvals).toHaveLength(1);
    expect(await jobsFor(id)).toHaveLength(1);
    const approvedEvents = (await f.audit.recent({ limit: 100 })).filter(
      (e) => e.requestId === id && e.action === 'approved',
    );
    expect(approvedEvents).toHaveLength(1);
  });

  it('never lets the target approve a grant to themselves', async () => {
    const { id, msg } = await fileGrant(U.dan, `grant <@${U.alice}> Steward because cover`);
    await f.driver.click(U.alice, msg, 'approve');
    await answerTo(U.alice, 'grants a role to you');
    expect((await f.store.get(id))?.approvals).toEqual([]);
  });

  it('needs two distinct approvals where the policy says so ("1 of 2")', async () => {
    const { id, msg } = await fileGrant(U.dan, `grant <@${U.frank}> TenantAdmin for 2h because incident`);
    expect(allText(msg)).toContain('0 of 2');
    await f.driver.click(U.alice, msg, 'approve');
    const one = await f.approvalMessage(id, (m) => allText(m).includes('1 of 2'));
    expect(listButtons(one).map((b) => b.actionId)).toEqual(['approve', 'deny', 'deny_with_reason']);
    expect(await f.applyJob(id)).toBeUndefined();
    await f.driver.click(U.alice, one, 'approve');
    await answerTo(U.alice, 'already approved');
    expect((await f.store.get(id))?.approvals).toHaveLength(1);
    await f.driver.click(U.carol, one, 'approve'); // approver through the S0APPROVERS user group
    await f.approvalMessage(id, (m) => allText(m).includes('*Approved*'));
    const req = await f.store.get(id);
    expect(req?.state).toBe('approved');
    expect(req?.durationMs).toBe(2 * 3_600_000);
    expect(req?.approvals.map((a) => a.by.id).sort()).toEqual([U.alice, U.carol].sort());
    expect(await jobsFor(id)).toHaveLength(1);
  });

  it('enforces the policy: reason required, duration cap, not requestable', async () => {
    expect(allText(await f.command(U.dan, 'grant me TenantAdmin'))).toContain('needs a reason');
    expect(allText(await f.command(U.dan, 'grant me TenantAdmin for 1d because x'))).toContain(
      'at most 4 hours',
    );
    expect(allText(await f.command(U.dan, 'grant me AuditAdmin'))).toContain("can't be granted from Slack");
    expect(await f.store.listPendingByRequester({ front: 'slack', id: U.dan })).toSatisfy(
      (rs: RoleChangeRequest[]) =>
        rs.every(
          (r) =>
            !['AuditAdmin'].includes(r.entitlement.name) &&
            !(r.entitlement.name === 'TenantAdmin' && r.target.name === 'Dan Dubois'),
        ),
    );
  });

  it('auto-approves where the policy says so: announced, audited and enqueued at once', async () => {
    const receipt = await f.command(U.dan, 'grant <@U0FRANK> SharedSpaceCreator');
    expect(receipt.text).toContain('approved automatically');
    const id = f.requestIdIn(receipt);
    const msg = await f.approvalMessage(id);
    expect(allText(msg)).toContain('*Approved* automatically by policy');
    expect(listButtons(msg)).toEqual([]);
    expect(await jobsFor(id)).toHaveLength(1);
    const events = (await f.audit.recent({ limit: 50 })).filter((e) => e.requestId === id);
    expect(events.map((e) => `${e.action}/${e.actor}`).sort()).toEqual(
      ['approved/policy', `requested/${U.dan}`].sort(),
    );
  });

  it('denies: the message is updated and the requester is told (notification queued)', async () => {
    const { id, msg } = await fileGrant(U.dan, 'grant frank@corp.example DataSpaceCreator');
    await f.driver.click(U.bob, msg, 'deny');
    const denied = await f.approvalMessage(id, (m) => allText(m).includes('Denied'));
    expect(listButtons(denied)).toEqual([]);
    expect((await f.store.get(id))?.deniedBy).toEqual({ front: 'slack', id: U.bob });
    // Queued just after the message is updated: poll rather than race the click's last step.
    await expect.poll(() => f.queues.notifications.getJob(jobIds.notify(id, 'decision'))).toBeDefined();
    expect(await f.applyJob(id)).toBeUndefined();
  });
});

describe('targets and roles', () => {
  it('files a revoke of a directly held role; refuses one held only through a group, naming the group', async () => {
    const { id, msg } = await fileGrant(
      U.bob,
      'revoke alice@corp.example TenantAdmin because left the admin team',
    );
    expect(allText(msg)).toContain('Revoke');
    expect((await f.store.get(id))?.action).toBe('revoke');
    const refused = await f.command(U.bob, 'revoke frank@corp.example SharedSpaceCreator');
    expect(allText(refused)).toContain("doesn't hold SharedSpaceCreator directly");
    expect(allText(refused)).toContain('Finance');
  });

  it('refuses a grant of a role already held directly', async () => {
    const res = await f.command(U.dan, 'grant alice@corp.example TenantAdmin because x');
    expect(allText(res)).toContain('already has TenantAdmin directly');
  });

  it('grants to a group by exact name, quoted', async () => {
    const { id, msg } = await fileGrant(U.dan, 'grant group:"Sales Ops" DataSpaceCreator because pipeline');
    expect(allText(msg)).toContain('group Sales Ops');
    const req = await f.store.get(id);
    expect(req?.target.kind).toBe('group');
    expect(req?.target.id).toBe(f.sim.tenant.groupByName('Sales Ops')?.id);
    await f.driver.click(U.alice, msg, 'approve');
    await f.approvalMessage(id, (m) => allText(m).includes('*Approved*'));
    expect(await jobsFor(id)).toHaveLength(1);
    expect(allText(await f.command(U.dan, 'grant group:"sales ops" Steward'))).toContain(
      'no group named exactly',
    );
  });

  it('names the closest role for an unknown one, and files nothing', async () => {
    const before = f.fake.messages.filter((m) => m.channel === APPROVAL_CHANNEL).length;
    const res = await f.command(U.frank, 'grant me ManagedSpaceCreater');
    expect(allText(res)).toContain('Qlik has no role `ManagedSpaceCreater`');
    expect(allText(res)).toContain('Did you mean ManagedSpaceCreator');
    expect(await f.store.listPendingByRequester({ front: 'slack', id: U.frank })).toEqual([]);
    expect(f.fake.messages.filter((m) => m.channel === APPROVAL_CHANNEL)).toHaveLength(before);
  });

  it('says so when the Slack user has no Qlik user, no email, or is deactivated', async () => {
    // Invites are allowed and possible here: the answer offers to invite them with the role.
    const ghost = allText(await f.command(U.dan, `grant <@${U.ghost}|ghost> Steward`));
    expect(ghost).toContain('No Qlik user has the email ghost@corp.example, so nothing was filed.');
    expect(ghost).toContain('Invite and grant');
    expect(allText(await f.command(U.dan, `grant <@${U.noMail}> Steward`))).toContain('no email');
    expect(allText(await f.command(U.dan, `grant <@${U.gone}> Steward`))).toContain('deactivated');
    const targets = (await f.store.listPendingByRequester({ front: 'slack', id: U.dan })).map(
      (r) => r.target.name,
    );
    for (const name of ['Ghost Writer', 'No Mail', 'Gone Away']) expect(targets).not.toContain(name);
  });

  it('points a duplicate at the pending request instead of filing it again', async () => {
    const { id } = await fileGrant(U.dan, 'grant frank@corp.example AutomationCreator');
    const dup = await f.command(U.bob, 'grant <@U0FRANK> automationcreator');
    expect(allText(dup)).toContain('already pending');
    expect(allText(dup)).toContain(id);
    expect(
      (await f.store.listPendingByRequester({ front: 'slack', id: U.bob })).map((r) => r.entitlement.name),
    ).not.toContain('AutomationCreator');
  });
});

describe('cancel, requests, audit, revoke now, extend', () => {
  it('cancels by command (requester only) and by the receipt button', async () => {
    const { id, msg } = await fileGrant(U.dan, 'grant frank@corp.example EmbeddedAnalyticsUser');
    expect(allText(await f.command(U.bob, `cancel ${id}`))).toContain('Only the person who filed');
    expect(allText(await f.command(U.dan, `cancel ${id.toLowerCase()}`))).toContain(`Cancelled ${id}`);
    const cancelled = await f.approvalMessage(id, (m) => allText(m).includes('Cancelled'));
    expect(listButtons(cancelled)).toEqual([]);
    expect(msg.ts).toBe(cancelled.ts);

    const receipt = await f.command(U.dan, 'grant frank@corp.example DataProductManager');
    const id2 = f.requestIdIn(receipt);
    await f.driver.click(U.dan, receipt, 'cancel');
    await answerTo(U.dan, `Cancelled ${id2}`);
    expect((await f.store.get(id2))?.state).toBe('cancelled');
  });

  it('lists my pending requests and those I can approve; Approve works from the list', async () => {
    const { id } = await fileGrant(U.dan, 'grant frank@corp.example AutomlDeploymentContributor');
    const mine = await f.command(U.dan, 'requests');
    expect(allText(mine)).toContain(id);
    const list = await f.command(U.alice, 'requests');
    expect(allText(list)).toContain(id);
    expect(allText(await f.command(U.frank, 'requests'))).toContain('Nothing is waiting for you');
    await f.driver.click(U.alice, list, 'approve', { value: id });
    await answerTo(U.alice, `You approved ${id}`);
    expect(await jobsFor(id)).toHaveLength(1);
  });

  it('shows the audit log to approvers only', async () => {
    expect(allText(await f.command(U.frank, 'audit'))).toContain('Only approvers');
    const log = await f.command(U.carol, 'audit ManagedSpaceCreator');
    expect(allText(log)).toContain('ManagedSpaceCreator');
    expect(allText(log)).toMatch(/<@U0\w+> filed \*R-\w+\* \(\*ManagedSpaceCreator\* for /);
  });

  it('"Revoke now" and "Extend" on an applied time-bound grant', async () => {
    const { id, msg } = await fileGrant(
      U.dan,
      'grant frank@corp.example AutomlExperimentContributor for 2h because trial',
    );
    await f.driver.click(U.bob, msg, 'approve');
    await f.approvalMessage(id, (m) => allText(m).includes('*Approved*'));
    // Play the worker's part: applied, with the result message replied in the approval thread.
    await f.store.transition(id, 'approved', 'applying');
    const applied = await f.store.transition(id, 'applying', 'applied', {
      result: {
        before: [],
        after: ['AutomlExperimentContributor'],
        changed: true,
        message: 'granted',
        revokeAt: Date.now() + 7_200_000,
      },
    });
    if (!applied.ok) throw new Error('could not mark applied');
    const messenger = new SlackMessenger(
      createWebClient({ botToken: 'xoxb-test-0000-front', apiUrl: f.fake.apiUrl }, createLogger('silent')),
      createLogger('silent'),
    );
    await messenger.replyInThread(applied.request, resultMessage(applied.request));
    const result = await f.fake.waitFor((m) => m.thread_ts === msg.ts && (m.text ?? '').includes(id));

    await f.driver.click(U.ghost, result, 'revoke_now');
    await answerTo(U.ghost, 'Only the requester');
    expect(await f.queues.roleChanges.getJob(jobIds.revokeGrant(id, 'manual'))).toBeUndefined();

    await f.driver.click(U.dan, result, 'extend');
    const ext = await answerTo(U.dan, 'Extension filed as');
    const extId = /Extension filed as (R-\w+)/.exec(allText(ext))?.[1] ?? '';
    const extension = await f.store.get(extId);
    expect(extension).toMatchObject({
      extends: id,
      durationMs: 7_200_000,
      requester: { front: 'slack', id: U.dan },
      state: 'pending',
    });
    expect(allText(await f.approvalMessage(extId))).toContain(`Extends ${id}`);

    await f.driver.click(U.dan, result, 'revoke_now');
    await answerTo(U.dan, 'Revoking AutomlExperimentContributor');
    const job = await f.queues.roleChanges.getJob(jobIds.revokeGrant(id, 'manual'));
    expect(job?.data).toEqual({ requestId: id, trigger: 'manual', actor: U.dan });
  });

  it('answers help and unknown subcommands in the ack itself (empty text opens the request form)', async () => {
    const help = await f.driver.slash(U.frank, 'help');
    expect(help.status).toBe(200);
    expect(help.ackMessage?.text).toContain('Qlik access commands');
    // test/e2e/slack-front-form.test.ts follows the form itself.
    const empty = await f.driver.slash(U.frank, '');
    expect(empty.status).toBe(200);
    expect(empty.ackMessage).toBeUndefined();
    const typo = await f.driver.slash(U.frank, 'gramt me Steward');
    expect(allText(typo.ackMessage!)).toContain('gramt');
  });

  it('answers whois and roles', async () => {
    const whois = allText(await f.command(U.frank, 'whois me'));
    expect(whois).toContain('Frank Fischer');
    expect(whois).toContain('Finance');
    expect(whois).toContain('SharedSpaceCreator');
    const roles = allText(await f.command(U.frank, 'roles'));
    expect(roles).toContain('ManagedSpaceCreator');
    expect(roles).toContain('Report Publisher');
  });
});
