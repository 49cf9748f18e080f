// The repeatable reconciler: pending requests past their expiry, approved requests whose apply job was lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIds } from '../../src/queue/queues.ts';
import { reconcile } from '../../src/worker/reconcile.ts';
import { CHANNEL, createHarness, type Harness, REQUESTER, userTarget, workerContext } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ label: 'worker-reconcile' });
  // The scheduled sweep is hourly here; tests call reconcile() directly, except the last one.
  await h.start({ concurrency: 4 });
});
afterAll(async () => {
  await h?.close();
});

async function filePending(expiresInMs: number) {
  const user = h.sim.tenant.addUser({
    name: `Pending ${Math.random()}`,
    email: `p${Date.now()}@corp.example`,
  });
  const role = h.sim.tenant.roleByName('Steward')!;
  const now = Date.now();
  const created = await h.store.create(
    {
      action: 'grant',
      target: userTarget(h.sim, user.id),
      role: { id: role.id, name: role.name },
      requesterId: REQUESTER,
      expiresAt: now + expiresInMs,
      approvalsRequired: 1,
    },
    now,
    { time: now, actor: REQUESTER, action: 'requested', outcome: 'pending' },
  );
  if (!created.ok) throw new Error('duplicate');
  const ref = await h.messenger.postApproval(CHANNEL, created.request);
  await h.store.setApprovalMessage(created.request.id, ref);
  return { request: created.request, ref };
}

describe('the reconciler', () => {
  it('leaves pending requests that are not due alone', async () => {
    const { request } = await filePending(3_600_000);
    await reconcile(workerContext(h), { graceMs: 0 });
    expect((await h.store.get(request.id))?.state).toBe('pending');
  });

  it('re-queues an approved request whose apply job was never added (crash between approval and enqueue)', async () => {
    const user = h.sim.tenant.addUser({ name: 'Lost Job', email: 'lost.job@corp.example' });
    const req = await h.approved(
      { target: userTarget(h.sim, user.id), role: 'DataAdmin' },
      { enqueue: false },
    );
    expect(await h.queues.roleChanges.getJob(jobIds.apply(req.id))).toBeUndefined();
    const out = await reconcile(workerContext(h), { graceMs: 0 });
    expect(out.appliesQueued).toEqual([req.id]);
    const applied = await h.waitForState(req.id, 'applied', 10_000);
    expect(applied.result?.changed).toBe(true);
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(['DataAdmin']);
    expect((await h.auditOf(req.id)).filter((e) => e.action === 'applied')).toHaveLength(1);
  });

  it('does not re-queue a request whose job is still queued or running', async () => {
    const user = h.sim.tenant.addUser({ name: 'Queued Job', email: 'queued.job@corp.example' });
    const req = await h.approved(
      { target: userTarget(h.sim, user.id), role: 'AuditAdmin' },
      { enqueue: false },
    );
    await h.queues.roleChanges.add(
      'apply',
      { requestId: req.id },
      { jobId: jobIds.apply(req.id), delay: 60_000 },
    );
    const out = await reconcile(workerContext(h), { graceMs: 0 });
    expect(out.appliesQueued).not.toContain(req.id);
    expect(await (await h.queues.roleChanges.getJob(jobIds.apply(req.id)))?.getState()).toBe('delayed');
    await (await h.queues.roleChanges.getJob(jobIds.apply(req.id)))?.promote();
    await h.waitForState(req.id, 'applied');
  });

  it('fails a request whose job keeps getting lost instead of looping, and tells the requester', async () => {
    const user = h.sim.tenant.addUser({ name: 'Poison Job', email: 'poison.job@corp.example' });
    const req = await h.approved(
      { target: userTarget(h.sim, user.id), role: 'AuditAdmin' },
      { enqueue: false },
    );
    // Claim it was re-queued too often already.
    await h.redis.set(`${h.prefix}:worker:requeued:${req.id}`, '3');
    const ctx = workerContext(h);
    const out = await reconcile(ctx, { graceMs: 0, maxRequeues: 3 });
    expect(out.gaveUp).toEqual([req.id]);
    const failed = await h.waitForState(req.id, 'failed');
    expect(failed.error).toMatch(/job was lost several times/);
    expect((await h.auditOf(req.id)).filter((e) => e.action === 'failed')).toHaveLength(1);
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual([]);
    await h.slack.waitFor(
      (m) => m.channel === h.slack.dmChannelOf(REQUESTER) && (m.text ?? '').includes(`${req.id} failed`),
    );
  });

  it('expires a pending request past its expiry: message updated, requester told, audited — on its own schedule', async () => {
    // A second worker speeds the one shared schedule up to every 300 ms (60 s in production).
    await h.start({ concurrency: 2, reconcileEveryMs: 300, reconcile: { graceMs: 0 } });
    const { request, ref } = await filePending(200);
    const expired = await h.waitForState(request.id, 'expired', 10_000);
    expect(expired.state).toBe('expired');
    const events = await h.auditOf(request.id);
    expect(events.filter((e) => e.action === 'expired')).toHaveLength(1);
    await h.slack.waitFor(
      (m) => m.channel === h.slack.dmChannelOf(REQUESTER) && (m.text ?? '').includes(`${request.id} expired`),
    );
    await h.slack.waitFor(
      (m) => m.ts === ref.ts && m.updates.length > 0 && JSON.stringify(m.blocks).includes('Expired'),
    );
    // No thread reply for a decision: nothing was applied.
    expect(h.slack.messages.filter((m) => m.thread_ts === ref.ts)).toHaveLength(0);
  });
});
