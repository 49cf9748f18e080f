// Reminders and escalation against the real worker, store, queues and Slack fake: a pending request reminds its
// approvers beside its approval message when due, and escalates to the fallback approvers (recorded on the request,
// audited, shown on the approval message); each once however often its job runs, never after a decision, and a
// decision removes the jobs that have not run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/domain/policy.ts';
import type { RoleChangeRequest } from '../../src/domain/request.ts';
import { cancelNudges, jobIds, scheduleNudges } from '../../src/queue/queues.ts';
import { nudgeRequest } from '../../src/worker/nudge.ts';
import { APPROVER, CHANNEL, createHarness, type Harness, REQUESTER, workerContext } from './harness.ts';

const BOSS = 'U0BOSSMAN';
const LEADS = 'S0LEADS01';
const policy = parsePolicy(`approvalChannel: ${CHANNEL}
approvers: [${APPROVER}]
fallbackApprovers: [${BOSS}, ${LEADS}]
escalateAfter: 8h
`);

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ label: 'worker-nudge' });
  await h.start({ concurrency: 2, policy, drift: { everyMs: 0 } });
});
afterAll(async () => {
  await h?.close();
});

let seq = 0;
/** A pending request announced in the channel, its reminder and escalation due after the given delays. */
async function pending(remindInMs?: number, escalateInMs?: number): Promise<RoleChangeRequest> {
  const now = Date.now();
  const role = h.sim.tenant.roleByName('Steward')!;
  seq++;
  const created = await h.store.create(
    {
      action: 'grant',
      target: { kind: 'user', id: `q-nudge-${seq}`, name: `Nudge ${seq}`, email: `nudge${seq}@corp.example` },
      entitlement: { id: role.id, name: role.name },
      requester: { front: 'slack', id: REQUESTER },
      expiresAt: now + 24 * 3_600_000,
      approvalsRequired: 1,
      nudges: {
        ...(remindInMs === undefined ? {} : { remindAt: now + remindInMs }),
        ...(escalateInMs === undefined ? {} : { escalateAt: now + escalateInMs }),
      },
    },
    now,
  );
  if (!created.ok) throw new Error('duplicate');
  const ref = await h.messenger.postApproval(CHANNEL, created.request);
  await h.store.addMessage(created.request.id, { front: 'slack', kind: 'announcement', ...ref });
  const req = (await h.store.get(created.request.id))!;
  await scheduleNudges(h.queues, req, now);
  return req;
}

const replies = (req: RoleChangeRequest, word: RegExp) =>
  h.slack.messages.filter(
    (m) => m.thread_ts !== undefined && (m.text ?? '').includes(req.id) && word.test(m.text ?? ''),
  );

describe('reminders and escalation', () => {
  it('reminds the approvers once when due, beside the approval message', async () => {
    const req = await pending(150);
    const reply = await h.slack.waitFor((m) => replies(req, /^Reminder:/).includes(m), 10_000);
    expect(JSON.stringify(reply.blocks)).toContain(`<@${APPROVER}>: please Approve or Deny it above`);
    // The job audits the reminder after the reply lands: wait for it to finish.
    for (let i = 0; i < 200 && !(await h.auditOf(req.id)).some((e) => e.action === 'reminded'); i++)
      await new Promise((r) => setTimeout(r, 20));
    // The job run again (a retry, a replay): nothing more is said.
    expect(await nudgeRequest(workerContext(h), () => policy, { requestId: req.id, kind: 'reminder' })).toBe(
      'already-sent',
    );
    expect(replies(req, /^Reminder:/)).toHaveLength(1);
    expect((await h.auditOf(req.id)).map((e) => e.action)).toEqual(['reminded']);
  });

  it('escalates to the fallback approvers: recorded, audited, on the approval message and mentioned, once', async () => {
    const req = await pending(undefined, 150);
    const reply = await h.slack.waitFor((m) => replies(req, /^Escalated:/).includes(m), 10_000);
    expect(JSON.stringify(reply.blocks)).toContain(
      `<@${BOSS}> <!subteam^${LEADS}>: you can now Approve or Deny it above`,
    );
    const stored = (await h.store.get(req.id))!;
    expect(stored.state).toBe('pending');
    expect(stored.escalation).toEqual({ at: expect.any(Number), to: [BOSS, LEADS] });
    const announcement = h.slack.findMessage(
      CHANNEL,
      stored.messages!.find((m) => m.kind === 'announcement')!.ts,
    )!;
    expect(JSON.stringify(announcement.blocks)).toContain(':rotating_light: Escalated');
    // Approve / Deny stay on it: it is still pending.
    expect(JSON.stringify(announcement.blocks)).toContain('"action_id":"approve"');
    expect(
      await nudgeRequest(workerContext(h), () => policy, { requestId: req.id, kind: 'escalation' }),
    ).toBe('already-sent');
    expect(replies(req, /^Escalated:/)).toHaveLength(1);
    expect((await h.auditOf(req.id)).filter((e) => e.action === 'escalated')).toHaveLength(1);
  });

  it('never after a decision: a decided request is skipped, and a decision removes the jobs', async () => {
    const req = await pending(60_000, 120_000);
    expect(await h.queues.roleChanges.getJob(jobIds.nudge(req.id, 'reminder'))).toBeDefined();
    await h.store.transition(req.id, 'pending', 'denied', {}, Date.now());
    expect(await nudgeRequest(workerContext(h), () => policy, { requestId: req.id, kind: 'reminder' })).toBe(
      'skipped',
    );
    expect(
      await nudgeRequest(workerContext(h), () => policy, { requestId: req.id, kind: 'escalation' }),
    ).toBe('skipped');
    await cancelNudges(h.queues, req.id);
    expect(await h.queues.roleChanges.getJob(jobIds.nudge(req.id, 'reminder'))).toBeUndefined();
    expect(await h.queues.roleChanges.getJob(jobIds.nudge(req.id, 'escalation'))).toBeUndefined();
    expect(replies(req, /^(Reminder|Escalated):/)).toHaveLength(0);
  });

  it('schedules each once per request, however often it is asked', async () => {
    const req = await pending(60_000);
    await scheduleNudges(h.queues, req);
    await scheduleNudges(h.queues, req);
    const delayed = await h.queues.roleChanges.getJobs(['delayed']);
    expect(delayed.filter((j) => j.id === jobIds.nudge(req.id, 'reminder'))).toHaveLength(1);
    await cancelNudges(h.queues, req.id);
  });

  it('does nothing for an escalation when the policy now names nobody to escalate to', async () => {
    const req = await pending(undefined, 60_000);
    await h.store.transition(
      req.id,
      'pending',
      'pending',
      { nudges: { escalateAt: Date.now() - 1 } },
      Date.now(),
    );
    const none = parsePolicy(`approvalChannel: ${CHANNEL}\napprovers: [${APPROVER}]\n`);
    expect(await nudgeRequest(workerContext(h), () => none, { requestId: req.id, kind: 'escalation' })).toBe(
      'skipped',
    );
    expect((await h.store.get(req.id))!.escalation).toBeUndefined();
    await cancelNudges(h.queues, req.id);
  });
});
