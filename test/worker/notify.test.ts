// Notifications: a Slack failure is retried on its own, never re-runs the Qlik change, and never posts twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcementOf } from '../../src/domain/request.ts';
import { enqueueApply, jobIds } from '../../src/queue/queues.ts';
import { NOTIFY_EVENT_TYPE } from '../../src/slack/notifier.ts';
import { notifyOutcome, stepsFor } from '../../src/worker/notify.ts';
import { createHarness, type Harness, REQUESTER, userTarget, workerContext } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ label: 'worker-notify' });
  await h.start({ concurrency: 4 });
});
afterAll(async () => {
  await h?.close();
});

describe('notifications', () => {
  it('decisions update the message and DM the requester; outcomes also reply in the thread', () => {
    expect(stepsFor('decision')).toEqual(['refresh', 'dm']);
    expect(stepsFor('result')).toEqual(['refresh', 'thread', 'dm', 'dm-target', 'copies']);
    expect(stepsFor('revoked')).toEqual(['refresh', 'thread', 'dm', 'dm-target', 'copies']);
    expect(stepsFor('revoke-failed')).toEqual(['refresh', 'thread', 'dm', 'dm-actor', 'dm-target']);
  });

  it('a Slack error while notifying is retried: every message arrives once and Qlik is written once', async () => {
    const user = h.sim.tenant.addUser({ name: 'Sam Slack', email: 'sam.slack@corp.example' });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' }, { enqueue: false });
    const ref = announcementOf((await h.store.get(req.id))!)!;
    // The approval message was posted; the next chat.postMessage (the thread reply) fails once.
    h.slack.injectError('chat.postMessage', 'internal_error', 1);
    await enqueueApply(h.queues, req.id);
    await h.waitForState(req.id, 'applied');

    const dm = await h.slack.waitFor(
      (m) => m.channel === h.slack.dmChannelOf(REQUESTER) && (m.text ?? '').includes(req.id),
      15_000,
    );
    expect(dm.text).toContain('applied');
    const notifyJob = () => h.queues.notifications.getJob(jobIds.notify(req.id, 'result'));
    await expect.poll(async () => (await notifyJob())?.getState(), { timeout: 5_000 }).toBe('completed');
    // One failed attempt (Slack's error) and one that completed.
    expect((await notifyJob())?.attemptsMade).toBe(2);

    expect(h.slack.messages.filter((m) => m.thread_ts === ref.ts)).toHaveLength(1);
    expect(
      h.slack.messages.filter((m) => m.channel === dm.channel && (m.text ?? '').includes(req.id)),
    ).toHaveLength(1);
    // The approval message was refreshed once: the retry skipped the step that had already reached Slack.
    const updates = h.slack.calls.filter(
      (c) => c.method === 'chat.update' && c.args.ts === ref.ts && !c.error,
    );
    expect(updates).toHaveLength(1);
    // Qlik: one write, one "applied".
    expect(h.sim.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(user.id))).toHaveLength(1);
    expect((await h.auditOf(req.id)).filter((e) => e.action === 'applied')).toHaveLength(1);
  });

  it('a thread reply Slack accepted but whose answer was lost is found by its metadata, not posted twice', async () => {
    const user = h.sim.tenant.addUser({ name: 'Lou Lost', email: 'lou.lost@corp.example' });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' }, { enqueue: false });
    const ref = announcementOf((await h.store.get(req.id))!)!;
    // The thread reply (the next chat.postMessage) reaches Slack, but its answer is lost: the job fails and retries.
    h.slack.injectLostAnswer('chat.postMessage', 1);
    await enqueueApply(h.queues, req.id);
    await h.waitForState(req.id, 'applied');
    const notifyJob = () => h.queues.notifications.getJob(jobIds.notify(req.id, 'result'));
    await expect.poll(async () => (await notifyJob())?.getState(), { timeout: 10_000 }).toBe('completed');
    expect((await notifyJob())?.attemptsMade).toBe(2);
    const replies = h.slack.messages.filter((m) => m.thread_ts === ref.ts);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.metadata).toEqual({
      event_type: NOTIFY_EVENT_TYPE,
      event_payload: { request_id: req.id, event: 'result', step: 'thread' },
    });
    // The retry looked the thread up (with metadata) before deciding not to post.
    expect(
      h.slack.calls.some(
        (c) => c.method === 'conversations.replies' && c.args.ts === ref.ts && c.args.include_all_metadata,
      ),
    ).toBe(true);
    // The requester's DM went out once.
    const dm = h.slack.dmChannelOf(REQUESTER);
    expect(h.slack.messages.filter((m) => m.channel === dm && (m.text ?? '').includes(req.id))).toHaveLength(
      1,
    );
  });

  it('running the same notification again sends nothing', async () => {
    const user = h.sim.tenant.addUser({ name: 'Ola Once', email: 'ola.once@corp.example' });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' });
    await h.waitForState(req.id, 'applied');
    await expect
      .poll(async () => (await h.queues.notifications.getJob(jobIds.notify(req.id, 'result')))?.getState())
      .toBe('completed');
    const before = h.slack.messages.length;
    const out = await notifyOutcome(workerContext(h), { requestId: req.id, event: 'result' });
    expect(out).toEqual({ sent: [], skipped: ['refresh', 'thread', 'dm', 'dm-target', 'copies'] });
    expect(h.slack.messages.length).toBe(before);
  });
});
