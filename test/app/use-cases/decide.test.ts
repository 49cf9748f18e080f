// Approve and Deny, driven directly: rights from the policy at the click, self-approval checked by what the Slack
// directory and the tenant-roles target say now, expiry at the click, and what follows each decision.
import { describe, expect, it } from 'vitest';
import { jobIds } from '../../../src/queue/queues.ts';
import { EVERYONE_GROUP_ID } from '../../../src/sandbox/qlik-sim/index.ts';
import { H, P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-decide' });

const steward = (who = U.frank) => ({
  requester: P.dan,
  who: { kind: 'person' as const, person: { front: 'slack' as const, id: who } },
  roleName: 'Steward',
});

describe('approve', () => {
  it('records approvals until the last one needed, which approves the request and queues its apply', async () => {
    const req = await h.file({ ...steward(), roleName: 'TenantAdmin', reason: 'x', durationMs: H });
    expect(await h.app.approve(req.id, P.alice)).toEqual({
      ok: true,
      code: 'recorded',
      request: expect.objectContaining({ id: req.id, state: 'pending', approvalsRequired: 2 }),
    });
    expect(await h.queues.roleChanges.getJob(jobIds.apply(req.id))).toBeUndefined();
    expect(await h.app.approve(req.id, P.bob)).toEqual({
      ok: true,
      code: 'approved',
      request: expect.objectContaining({ id: req.id, state: 'approved' }),
    });
    expect(await h.queues.roleChanges.getJob(jobIds.apply(req.id))).toBeDefined();
    expect((await h.store.listUnfinished()).map((r) => r.id)).toContain(req.id);
    expect(h.notifier.refreshed.map((r) => [r.id, r.state])).toEqual([
      [req.id, 'pending'],
      [req.id, 'approved'],
    ]);
    const events = (await h.auditOf(req.id)).filter((e) => e.action === 'approved');
    expect(events.map((e) => [e.actor, e.outcome, e.detail])).toEqual([
      [U.alice, 'recorded', '1 of 2 approvals'],
      [U.bob, 'approved', '2 of 2 approvals'],
    ]);
    expect(await h.app.approve(req.id, P.carol)).toEqual({
      ok: false,
      code: 'not-pending',
      request: expect.objectContaining({ id: req.id, state: 'approved' }),
    });
  });

  it('refuses someone who is not an approver of the role, and an unknown request', async () => {
    const req = await h.file(steward());
    expect(await h.app.approve(req.id, P.viktor)).toEqual({
      ok: false,
      code: 'not-approver',
      request: expect.objectContaining({
        id: req.id,
        entitlement: expect.objectContaining({ name: 'Steward' }),
      }),
    });
    expect(await h.app.approve('r-zzzz', P.alice)).toEqual({
      ok: false,
      code: 'not-found',
      requestId: 'r-zzzz',
    });
  });

  it('says "1 more approval" in the singular (issue 10 item 11)', async () => {
    const req = await h.file({ ...steward(), roleName: 'TenantAdmin', reason: 'x', durationMs: H });
    expect(await h.app.approve(req.id, P.alice)).toMatchObject({ ok: true });
    const again = await h.app.approve(req.id, P.alice);
    // The policy's refusal (approverEligibility): one more approval needed; the front words it
    // (test/slack/words.test.ts).
    expect(again).toEqual({
      ok: false,
      code: 'not-eligible',
      refusal: { ok: false, code: 'approved-already', requestId: req.id, more: 1 },
    });
  });

  it('expires a request past its expiry at the click, tells the requester, and refuses the decision', async () => {
    const req = await h.file(steward());
    h.clock.now = req.expiresAt;
    expect(await h.app.approve(req.id, P.alice)).toEqual({
      ok: false,
      code: 'expired',
      request: expect.objectContaining({ id: req.id }),
    });
    expect((await h.store.get(req.id))?.state).toBe('expired');
    const notify = await h.queues.notifications.getJob(jobIds.notify(req.id, 'decision', ''));
    expect(notify?.data).toEqual({ requestId: req.id, event: 'decision', refreshed: true });
    expect((await h.auditOf(req.id)).map((e) => [e.action, e.actor])).toContainEqual(['expired', 'system']);
  });
});

describe('self-approval (issue 9 item 2)', () => {
  it("refuses the target's own approval by their profile email, even when no Slack id was stored", async () => {
    // As if the lookup by email had found nobody at filing time.
    h.dir.hiddenEmails.add('approver2@corp.example');
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'email', email: 'approver2@corp.example' },
      roleName: 'TenantAdmin',
      reason: 'on call',
      durationMs: H,
    });
    expect(req.target).not.toHaveProperty('person');
    // `/qlik requests` doesn't offer it to them to approve, while it does to another approver.
    const listed = await h.app.listRequests(P.approver2);
    expect(listed.ok && listed.toApprove.map((r) => r.id)).not.toContain(req.id);
    const forBob = await h.app.listRequests(P.bob);
    expect(forBob.ok && forBob.toApprove.map((r) => r.id)).toContain(req.id);
    const res = await h.app.approve(req.id, P.approver2);
    expect(res).toEqual({
      ok: false,
      code: 'grants-to-you',
      request: expect.objectContaining({ id: req.id }),
    });
    expect((await h.store.get(req.id))?.approvals).toEqual([]);
    // Anyone else may approve.
    expect(await h.app.approve(req.id, P.alice)).toMatchObject({ ok: true });
  });

  it("fails closed when the approver's own profile email can't be read", async () => {
    const req = await h.file(steward());
    h.dir.infoFails.add(U.bob);
    expect(await h.app.approve(req.id, P.bob)).toEqual({
      ok: false,
      code: 'profile-unreadable',
      request: expect.objectContaining({ id: req.id }),
      problem: 'ratelimited',
    });
    expect(await h.app.approve(req.id, P.noMail)).toEqual({
      ok: false,
      code: 'profile-no-email',
      request: expect.objectContaining({ id: req.id }),
    });
    expect((await h.store.get(req.id))?.approvals).toEqual([]);
    h.dir.infoFails.clear();
    expect(await h.app.approve(req.id, P.bob)).toMatchObject({ ok: true });
  });

  it("refuses a member of the target group, by the member's Qlik groups; fails closed when Qlik can't say", async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'group', name: 'Data Engineering' },
      roleName: 'Steward',
    });
    expect(await h.app.approve(req.id, P.carol)).toEqual({
      ok: false,
      code: 'grants-to-you',
      request: expect.objectContaining({ id: req.id }),
      group: 'Data Engineering',
    });
    h.sim.injectFault({
      method: 'GET',
      path: /^\/api\/v1\/users$/,
      status: 503,
      times: Number.POSITIVE_INFINITY,
    });
    expect(await h.app.approve(req.id, P.bob)).toEqual({
      ok: false,
      code: 'membership-unknown',
      request: expect.objectContaining({ id: req.id }),
      system: 'Qlik',
      group: 'Data Engineering',
    });
    expect((await h.store.get(req.id))?.approvals).toEqual([]);
    h.sim.clearFaults();
    expect(await h.app.approve(req.id, P.bob)).toMatchObject({ ok: true });
  });

  it('refuses everyone a grant to the Everyone group without asking Qlik: every user is in it', async () => {
    // Group listings leave the Everyone group out, so no command names it; a request for it is filed by hand.
    const created = await h.store.create({
      action: 'grant',
      target: { kind: 'group', id: EVERYONE_GROUP_ID, name: 'com.qlik.Everyone' },
      entitlement: { id: h.sim.tenant.roleByName('Steward')!.id, name: 'Steward' },
      requester: P.dan,
      expiresAt: Date.now() + H,
      approvalsRequired: 1,
    });
    if (!created.ok) throw new Error('duplicate');
    const req = created.request;
    h.sim.injectFault({
      method: 'GET',
      path: /^\/api\/v1\/users$/,
      status: 503,
      times: Number.POSITIVE_INFINITY,
    });
    expect(await h.app.approve(req.id, P.bob)).toEqual({
      ok: false,
      code: 'grants-to-you',
      request: expect.objectContaining({ id: req.id }),
      group: 'com.qlik.Everyone',
    });
  });
});

describe('deny', () => {
  it('ends the request, refreshes its message, queues the decision notice saying so, and audits it', async () => {
    const req = await h.file(steward());
    expect(await h.app.deny(req.id, P.bob)).toEqual({
      ok: true,
      code: 'denied',
      request: expect.objectContaining({ id: req.id, state: 'denied' }),
    });
    const stored = await h.store.get(req.id);
    expect(stored).toMatchObject({ state: 'denied', deniedBy: P.bob });
    expect(h.notifier.refreshed.map((r) => r.state)).toEqual(['denied']);
    const notify = await h.queues.notifications.getJob(jobIds.notify(req.id, 'decision', ''));
    expect(notify?.data).toEqual({ requestId: req.id, event: 'decision', refreshed: true });
    expect((await h.auditOf(req.id)).map((e) => [e.action, e.actor, e.outcome])).toEqual([
      ['requested', U.dan, 'pending'],
      ['denied', U.bob, 'denied'],
    ]);
    expect(await h.app.deny(req.id, P.alice)).toEqual({
      ok: false,
      code: 'not-pending',
      request: expect.objectContaining({ id: req.id, state: 'denied' }),
    });
  });

  it('still queues the notice when the message could not be refreshed, so the notice refreshes it', async () => {
    const req = await h.file(steward());
    h.notifier.refreshError = new Error('message_not_found');
    expect(await h.app.deny(req.id, P.bob)).toMatchObject({ ok: true });
    const notify = await h.queues.notifications.getJob(jobIds.notify(req.id, 'decision', ''));
    expect(notify?.data).toEqual({ requestId: req.id, event: 'decision' });
  });
});
