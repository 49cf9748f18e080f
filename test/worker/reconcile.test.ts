// The repeatable reconciler: pending requests past their expiry, approved requests whose apply job was lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIds } from '../../src/queue/queues.ts';
import { storeKeys } from '../../src/store/keys.ts';
import { backfillUnfinished, reconcile } from '../../src/worker/reconcile.ts';
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
      entitlement: { id: role.id, name: role.name },
      requester: { front: 'slack', id: REQUESTER },
      expiresAt: now + expiresInMs,
      approvalsRequired: 1,
    },
    now,
    { time: now, actor: REQUESTER, action: 'requested', outcome: 'pending' },
  );
  if (!created.ok) throw new Error('duplicate');
  const ref = await h.messenger.postApproval(CHANNEL, created.request);
  await h.store.addMessage(created.request.id, { front: 'slack', kind: 'announcement', ...ref });
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

  it('finds approved requests a version before the store index left behind: backfilled once at start from its watch list and the audit after its cursor', async () => {
    const ctx = workerContext(h);
    const unfinished = storeKeys(h.prefix).unfinished;
    const older = h.sim.tenant.addUser({ name: 'Old Watched', email: 'old.watched@corp.example' });
    const newer = h.sim.tenant.addUser({ name: 'Old Unswept', email: 'old.unswept@corp.example' });
    const stale = h.sim.tenant.addUser({ name: 'Old Settled', email: 'old.settled@corp.example' });
    // As the version before left Redis: no index entries; one request on its reconciler's watch list (approved
    // before its cursor), one approved after its cursor (only the audit stream names it), one already settled.
    const watched = await h.approved(
      { target: userTarget(h.sim, older.id), role: 'DataAdmin' },
      { enqueue: false },
    );
    const settled = await h.approved(
      { target: userTarget(h.sim, stale.id), role: 'DataAdmin' },
      { enqueue: false },
    );
    await h.store.transition(settled.id, 'approved', 'applying');
    await h.store.transition(settled.id, 'applying', 'failed', { error: 'x' });
    await h.redis.set(ctx.keys.auditCursor, String(Date.now()));
    const unswept = await h.approved(
      { target: userTarget(h.sim, newer.id), role: 'DataAdmin' },
      { enqueue: false },
    );
    await h.redis.zadd(ctx.keys.inflight, Date.now(), watched.id, Date.now(), settled.id);
    await h.redis.zrem(unfinished, watched.id, unswept.id, settled.id);
    // The harness's worker start already ran it once (and found nothing): run it again as on the upgrade.
    expect(await h.redis.exists(ctx.keys.unfinishedBackfilled)).toBe(1);
    await h.redis.del(ctx.keys.unfinishedBackfilled);
    expect((await reconcile(ctx, { graceMs: 0 })).appliesQueued).toEqual([]); // not found without the backfill

    expect(await backfillUnfinished(ctx)).toBe(2);
    expect(await h.redis.exists(ctx.keys.inflight, ctx.keys.auditCursor)).toBe(0);
    expect(await backfillUnfinished(ctx)).toBe(0); // once: the marker stops a second run
    const out = await reconcile(ctx, { graceMs: 0 });
    expect(out.appliesQueued.sort()).toEqual([watched.id, unswept.id].sort());
    await h.waitForState(watched.id, 'applied', 10_000);
    await h.waitForState(unswept.id, 'applied', 10_000);
    expect(h.sim.tenant.userRoleNames(newer.id)).toEqual(['DataAdmin']);
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
    expect(failed.failure).toEqual({ cause: { code: 'job-lost' } });
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
