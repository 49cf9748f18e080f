// Time-bound grants: the revoke at expiry, "Revoke now", the reconciler catching a missed revoke, and Extend taking
// the role over — with a role held before the grant never removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcementOf } from '../../src/domain/request.ts';
import { enqueueRevokeNow, jobIds } from '../../src/queue/queues.ts';
import { listButtons, type PostedMessage } from '../../src/sandbox/slack-fake/index.ts';
import { reconcile } from '../../src/worker/reconcile.ts';
import { createHarness, type Harness, REQUESTER, userTarget, workerContext } from './harness.ts';

let h: Harness;

function blockText(m: PostedMessage): string {
  return `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
}

beforeAll(async () => {
  h = await createHarness({ label: 'worker-timebound' });
  await h.start({ concurrency: 8 });
});
afterAll(async () => {
  await h?.close();
});

describe('time-bound grants', () => {
  it('a 2-second grant is revoked on time, with the before/after recorded and the requester told', async () => {
    const user = h.sim.tenant.addUser({ name: 'Tim Short', email: 'tim@corp.example', roles: ['Steward'] });
    const req = await h.approved({
      target: userTarget(h.sim, user.id),
      role: 'DataAdmin',
      durationMs: 2_000,
    });
    const applied = await h.waitForState(req.id, 'applied');
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(['Steward', 'DataAdmin']);
    const revokeAt = applied.result!.revokeAt!;
    expect(revokeAt).toBeGreaterThan(Date.now() - 2_000);

    const ended = await h.waitForState(req.id, 'expired-revoked', 10_000);
    // On time: not before revokeAt, and within a couple of seconds after it.
    expect(ended.updatedAt).toBeGreaterThanOrEqual(revokeAt);
    expect(ended.updatedAt - revokeAt).toBeLessThan(3_000);
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(['Steward']);
    expect(ended.result).toMatchObject({
      before: ['Steward', 'DataAdmin'],
      after: ['Steward'],
      changed: true,
      outcome: { code: 'ended', trigger: 'expiry' },
      message: 'Removed DataAdmin from Tim Short (tim@corp.example): the time-bound grant ended.',
    });
    const events = await h.auditOf(req.id);
    expect(events.find((e) => e.action === 'expired-revoked')).toMatchObject({
      actor: 'system',
      outcome: 'removed',
      before: ['Steward', 'DataAdmin'],
      after: ['Steward'],
    });
    const dmChannel = h.slack.dmChannelOf(REQUESTER);
    await h.slack.waitFor(
      (m) =>
        m.channel === dmChannel && (m.text ?? '').includes(req.id) && /ended|expired/i.test(m.text ?? ''),
    );
    // The result's copies (thread reply, DM) that carried Extend / Revoke now show the end, without buttons.
    const ref = announcementOf(ended)!;
    const isCopy = (m: PostedMessage) =>
      (m.thread_ts === ref.ts || m.channel === dmChannel) && blockText(m).includes(req.id);
    await h.slack.waitFor((m) => isCopy(m) && m.thread_ts === ref.ts && m.updates.length > 0);
    await h.slack.waitFor((m) => isCopy(m) && m.channel === dmChannel && m.updates.length > 0);
    for (const m of h.slack.messages.filter(isCopy)) expect(listButtons(m)).toEqual([]);
  });

  it('a role the user already had before the grant is never removed by its expiry', async () => {
    const user = h.sim.tenant.addUser({ name: 'Hana Had', email: 'hana@corp.example', roles: ['DataAdmin'] });
    const req = await h.approved({
      target: userTarget(h.sim, user.id),
      role: 'DataAdmin',
      durationMs: 1_000,
    });
    const applied = await h.waitForState(req.id, 'applied');
    expect(applied.result?.changed).toBe(false);
    const ended = await h.waitForState(req.id, 'expired-revoked', 10_000);
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(['DataAdmin']);
    expect(ended.result?.outcome).toEqual({ code: 'kept-held-before' });
    expect(ended.result?.message).toMatch(/had it before this grant/);
    expect(h.sim.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(user.id))).toHaveLength(0);
    expect((await h.auditOf(req.id)).find((e) => e.action === 'expired-revoked')?.outcome).toBe(
      'left-in-place',
    );
  });

  it('"Revoke now" removes the role at once and the expiry job then has nothing left to do', async () => {
    const user = h.sim.tenant.addUser({ name: 'Ray Now', email: 'ray@corp.example' });
    const req = await h.approved({
      target: userTarget(h.sim, user.id),
      role: 'AuditAdmin',
      durationMs: 3_600_000,
    });
    await h.waitForState(req.id, 'applied');
    await expect
      .poll(async () => (await h.queues.roleChanges.getJob(jobIds.revokeGrant(req.id, 'expiry')))?.getState())
      .toBe('delayed');
    await enqueueRevokeNow(h.queues, req.id, 'U0APPROVER');
    const revoked = await h.waitForState(req.id, 'revoked');
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual([]);
    expect(revoked.result).toMatchObject({ before: ['AuditAdmin'], after: [], changed: true });
    expect((await h.auditOf(req.id)).find((e) => e.action === 'revoked')?.actor).toBe('U0APPROVER');
    await expect
      .poll(() => h.queues.roleChanges.getJob(jobIds.revokeGrant(req.id, 'expiry')))
      .toBeUndefined();
  });

  it('"Revoke now" on a grant of a role held before leaves it in place', async () => {
    const user = h.sim.tenant.addUser({ name: 'Lea Keep', email: 'lea@corp.example', roles: ['Steward'] });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' });
    await h.waitForState(req.id, 'applied');
    await enqueueRevokeNow(h.queues, req.id, 'U0APPROVER');
    const revoked = await h.waitForState(req.id, 'revoked');
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(['Steward']);
    expect(revoked.result?.message).toMatch(/leaves it in place/);
  });

  it('the reconciler revokes a grant whose revoke job was lost', async () => {
    const user = h.sim.tenant.addUser({ name: 'Mia Missed', email: 'mia@corp.example' });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'AuditAdmin', durationMs: 500 });
    await h.waitForState(req.id, 'applied');
    // The delayed revoke job disappears (say, Redis lost it during downtime) before it fires. (It is scheduled
    // just after the move to applied: wait for it.)
    await expect.poll(() => h.queues.roleChanges.getJob(jobIds.revokeGrant(req.id, 'expiry'))).toBeDefined();
    const job = await h.queues.roleChanges.getJob(jobIds.revokeGrant(req.id, 'expiry'));
    await job!.remove();
    await expect.poll(async () => (await h.store.dueForRevoke(Date.now())).includes(req.id)).toBe(true);
    expect((await h.store.get(req.id))?.state).toBe('applied');

    const out = await reconcile(workerContext(h), { graceMs: 0 });
    expect(out.revokesQueued).toEqual([req.id]);
    await h.waitForState(req.id, 'expired-revoked');
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual([]);
    // A second sweep finds nothing to do.
    expect((await reconcile(workerContext(h), { graceMs: 0 })).revokesQueued).toEqual([]);
  });

  it('the reconciler re-queues a revoke whose finished job is still kept, when the grant is somehow still applied', async () => {
    const user = h.sim.tenant.addUser({ name: 'Ned Kept', email: 'ned@corp.example' });
    const req = await h.approved({
      target: userTarget(h.sim, user.id),
      role: 'AuditAdmin',
      durationMs: 3_600_000,
    });
    await h.waitForState(req.id, 'applied');
    // A finished job with the revoke's id would make a plain add() a no-op.
    await expect.poll(() => h.queues.roleChanges.getJob(jobIds.revokeGrant(req.id, 'expiry'))).toBeDefined();
    const job = await h.queues.roleChanges.getJob(jobIds.revokeGrant(req.id, 'expiry'));
    await job!.remove();
    await h.queues.roleChanges.add(
      'revoke-grant',
      { requestId: 'R-ZZZZ', trigger: 'expiry', actor: 'system' },
      { jobId: jobIds.revokeGrant(req.id, 'expiry') },
    );
    await expect
      .poll(async () => (await h.queues.roleChanges.getJob(jobIds.revokeGrant(req.id, 'expiry')))?.getState())
      .toBe('completed');
    // Pretend the grant is past due by reconciling "an hour later".
    const later = { ...workerContext(h), now: () => Date.now() + 3_700_000 };
    const out = await reconcile(later, { graceMs: 0 });
    expect(out.revokesQueued).toEqual([req.id]);
    await h.waitForState(req.id, 'expired-revoked');
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual([]);
  });

  it('Extend takes the role over: the first grant ends without removing it, the extension removes it later', async () => {
    const user = h.sim.tenant.addUser({ name: 'Eve Extend', email: 'eve@corp.example' });
    const first = await h.approved({
      target: userTarget(h.sim, user.id),
      role: 'DataAdmin',
      durationMs: 800,
    });
    await h.waitForState(first.id, 'applied');
    const ext = await h.approved({
      target: userTarget(h.sim, user.id),
      role: 'DataAdmin',
      durationMs: 2_000,
      extends: first.id,
    });
    const extApplied = await h.waitForState(ext.id, 'applied');
    expect(extApplied.result?.changed).toBe(false);
    expect(extApplied.result?.outcome).toEqual({ code: 'extended' });
    expect(extApplied.result?.message).toMatch(new RegExp(`extends ${first.id}`));

    const firstEnded = await h.waitForState(first.id, 'expired-revoked', 10_000);
    expect(firstEnded.result?.outcome).toEqual({ code: 'kept-extended', by: ext.id });
    expect(firstEnded.result?.message).toMatch(new RegExp(`extended by ${ext.id}`));
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(['DataAdmin']);

    const extEnded = await h.waitForState(ext.id, 'expired-revoked', 15_000);
    expect(extEnded.result?.changed).toBe(true);
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual([]);
  });
});
