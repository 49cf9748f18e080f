// Re-queueing by stable job id: a deliberate re-queue of a FINISHED job really runs again (BullMQ would silently
// drop the add while the old job is kept), a duplicate of a job that will still run stays a no-op; and an expiry
// revoke that Qlik refuses is told, then really retried by the reconciler.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcementOf } from '../../src/domain/request.ts';
import {
  enqueueApply,
  enqueueNotify,
  enqueueRevokeNow,
  jobIds,
  scheduleRevoke,
} from '../../src/queue/queues.ts';
import { reconcile } from '../../src/worker/reconcile.ts';
import { revokeGrant } from '../../src/worker/revoke-grant.ts';
import { createHarness, type Harness, REQUESTER, userTarget, workerContext } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ label: 'worker-requeue' });
  await h.start({ concurrency: 4 });
});
afterAll(async () => {
  await h?.close();
});

const state = async (queue: 'roleChanges' | 'notifications', id: string) =>
  (await h.queues[queue].getJob(id))?.getState();

describe('re-queueing finished jobs', () => {
  it('a failed apply job runs again when queued again; a completed one is not re-run', async () => {
    const user = h.sim.tenant.addUser({ name: 'Ria Rerun', email: 'ria@corp.example' });
    const path = `/api/v1/users/${user.id}`;
    h.sim.injectFault({ method: 'PATCH', path: new RegExp(`^${path}$`), status: 403, times: 1 });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' });
    await h.waitForState(req.id, 'failed');
    await expect.poll(() => state('roleChanges', jobIds.apply(req.id))).toBe('failed');
    const first = await h.queues.roleChanges.getJob(jobIds.apply(req.id));

    const outcome = await enqueueApply(h.queues, req.id);
    // A new job under the same id ran (and found the request settled): completed, not the old failed one.
    await expect.poll(() => state('roleChanges', jobIds.apply(req.id))).toBe('completed');
    expect(outcome).toBe('requeued');
    const second = await h.queues.roleChanges.getJob(jobIds.apply(req.id));
    expect(second?.timestamp).toBeGreaterThanOrEqual(first!.timestamp);
    expect(second?.returnvalue).toBe('skipped');
    expect(await enqueueApply(h.queues, req.id)).toBe('already-done');
  });

  // The other half of the rule (exactly once stays): a guard, it held before the change as well.
  it('a delayed expiry revoke is not queued twice', async () => {
    const user = h.sim.tenant.addUser({ name: 'Dee Delay', email: 'dee@corp.example' });
    const req = await h.approved({
      target: userTarget(h.sim, user.id),
      role: 'AuditAdmin',
      durationMs: 3_600_000,
    });
    const applied = await h.waitForState(req.id, 'applied');
    // Scheduled just after the move to applied.
    await expect.poll(() => state('roleChanges', jobIds.revokeGrant(req.id, 'expiry'))).toBe('delayed');
    expect(await scheduleRevoke(h.queues, req.id, applied.result!.revokeAt!)).toBe('already-queued');
    expect(await h.queues.roleChanges.getDelayedCount()).toBeGreaterThanOrEqual(1);
    expect(await state('roleChanges', jobIds.revokeGrant(req.id, 'expiry'))).toBe('delayed');
  });

  it('a notification that used up its attempts is sent when queued again; a completed one is not', async () => {
    const user = h.sim.tenant.addUser({ name: 'Nia Notify', email: 'nia@corp.example' });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' }, { enqueue: false });
    // A 'decision' notification that failed for good under its stable id (here: one attempt, a payload the worker
    // refuses — a Slack error would do the same, but other tests' notifications share this fake Slack).
    await h.queues.notifications.add(
      'notify',
      { requestId: req.id, event: 'decision', seq: 0 },
      { jobId: jobIds.notify(req.id, 'decision'), attempts: 1 },
    );
    await expect.poll(() => state('notifications', jobIds.notify(req.id, 'decision'))).toBe('failed');
    const dm = h.slack.dmChannelOf(REQUESTER);
    const dms = () => h.slack.messages.filter((m) => m.channel === dm && (m.text ?? '').includes(req.id));
    expect(dms()).toHaveLength(0);

    const outcome = await enqueueNotify(h.queues, req.id, 'decision');
    await expect.poll(() => state('notifications', jobIds.notify(req.id, 'decision'))).toBe('completed');
    expect(dms()).toHaveLength(1);
    expect(outcome).toBe('requeued');
    expect(await enqueueNotify(h.queues, req.id, 'decision')).toBe('already-done');
  });
});

describe('an expiry revoke that Qlik refuses', () => {
  it('is told in the thread and by DM, and the reconciler later really retries it', async () => {
    const user = h.sim.tenant.addUser({ name: 'Eli Expiry', email: 'eli@corp.example' });
    const path = `/api/v1/users/${user.id}`;
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'AuditAdmin', durationMs: 300 });
    await h.waitForState(req.id, 'applied');
    h.sim.injectFault({ method: 'PATCH', path: new RegExp(`^${path}$`), status: 403, times: 1 });
    const ref = announcementOf((await h.store.get(req.id))!)!;

    const failed = await h.slack.waitFor(
      (m) => m.thread_ts === ref.ts && /couldn't remove/.test(JSON.stringify(m.blocks)),
      10_000,
    );
    expect(JSON.stringify(failed.blocks)).toContain('Qlik refused the change (403');
    await h.slack.waitFor(
      (m) => m.channel === h.slack.dmChannelOf(REQUESTER) && /revoke failed/.test(m.text ?? ''),
    );
    await h.slack.waitFor((m) => m.ts === ref.ts && /The revoke failed/.test(JSON.stringify(m.blocks)));
    expect((await h.store.get(req.id))?.state).toBe('applied');
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(['AuditAdmin']);

    // An hour later the block on refused revokes has run out (its key expires): the sweep queues it again.
    await h.redis.del(workerContext(h).keys.revokeBlocked(req.id));
    const out = await reconcile(workerContext(h), { graceMs: 0 });
    expect(out.revokesQueued).toEqual([req.id]);
    await h.waitForState(req.id, 'expired-revoked');
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual([]);
    // The success sends its own messages although a failure was told before.
    await h.slack.waitFor((m) => m.thread_ts === ref.ts && /Ended/.test(JSON.stringify(m.blocks)));
  });
});

describe('a "Revoke now" whose retries run out (Qlik 5xx)', () => {
  it('is told on its last attempt and the next press is a new attempt', async () => {
    const user = h.sim.tenant.addUser({ name: 'Sal Server', email: 'sal@corp.example' });
    const path = `/api/v1/users/${user.id}`;
    const req = await h.approved({
      target: userTarget(h.sim, user.id),
      role: 'AuditAdmin',
      durationMs: 3_600_000,
    });
    await h.waitForState(req.id, 'applied');
    const ref = announcementOf((await h.store.get(req.id))!)!;
    // A press took the claim (as enqueueRevokeNow does); its job's last attempt meets a Qlik answering 503.
    const ctx = workerContext(h);
    await h.redis.set(ctx.keys.revokeRequested(req.id), JSON.stringify({ by: 'U0APPROVER', at: Date.now() }));
    h.sim.injectFault({ method: 'PATCH', path: new RegExp(`^${path}$`), status: 503, times: 50 });
    await expect(
      revokeGrant(
        ctx,
        { requestId: req.id, trigger: 'manual', actor: 'U0APPROVER' },
        { attempt: 8, final: true },
      ),
    ).rejects.toThrow();
    h.sim.clearFaults();
    const told = await h.slack.waitFor(
      (m) => m.thread_ts === ref.ts && /couldn't revoke/.test(JSON.stringify(m.blocks)),
      10_000,
    );
    expect(JSON.stringify(told.blocks)).toMatch(/gave up/);
    expect((await h.store.get(req.id))?.state).toBe('applied');
    // The claim was released: the next press is a new attempt, which now succeeds.
    expect(await enqueueRevokeNow(h.queues, req.id, 'U0APPROVER')).toEqual({ queued: true });
    await h.waitForState(req.id, 'revoked');
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual([]);
  });
});
