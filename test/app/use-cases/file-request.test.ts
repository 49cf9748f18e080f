// Filing a grant or revoke, driven directly: the role and the principal through the tenant-roles target over the
// Qlik simulator, the request in Redis, the announcement through the notifier port.
import { describe, expect, it } from 'vitest';
import { announcementOf, DEFAULT_TARGET } from '../../../src/domain/request.ts';
import { jobIds } from '../../../src/queue/queues.ts';
import { approvalMessage, requestFiledMessage } from '../../../src/slack/views.ts';
import { BASE_POLICY, H, P, slackApiError, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-file', extraTenants: ['dev'] });

describe('filing a request', () => {
  it('files through the default tenant, records the target it is for, audits it and announces it', async () => {
    const res = await h.app.fileRequest({
      requester: P.dan,
      action: 'grant',
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'steward',
      reason: 'reports',
    });
    if (!res.ok) throw new Error(`refused: ${JSON.stringify(res)}`);
    expect(res).toMatchObject({ autoApproved: false, approvalChannel: 'C0APPROVALS' });
    const stored = await h.store.get(res.request.id);
    expect(stored?.targetRef).toEqual({ kind: DEFAULT_TARGET.kind, instance: 'default' });
    expect(stored?.entitlement.name).toBe('Steward'); // as the tenant spells it
    expect(stored?.messages).toEqual([
      { front: 'slack', kind: 'announcement', channel: 'C0APPROVALS', ts: expect.any(String) },
    ]);
    expect(h.notifier.posted.map((r) => r.id)).toEqual([res.request.id]);
    expect((await h.auditOf(res.request.id)).map((e) => [e.action, e.actor, e.outcome, e.detail])).toEqual([
      ['requested', U.dan, 'pending', 'grant because reports'],
    ]);
  });

  it('files on the tenant named with `on <tenant>` (any case), and refuses one that is not configured, naming those that are', async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
      instance: 'DEV',
    });
    expect(req.targetRef).toEqual({ kind: 'qlik-roles', instance: 'dev' });
    const res = await h.app.fileRequest({
      requester: P.dan,
      action: 'grant',
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'DataAdmin',
      instance: 'x',
    });
    expect(res).toEqual({
      ok: false,
      code: 'unknown-instance',
      instance: 'x',
      system: 'Qlik',
      noun: 'tenant',
      configured: ['default', 'dev'],
    });
    expect((await h.pendingBy(U.dan)).map((r) => r.id)).toEqual([req.id]);
  });

  it('refuses a role the tenant does not have, with the closest names', async () => {
    const res = await h.app.fileRequest({
      requester: P.dan,
      action: 'grant',
      who: { kind: 'me' },
      roleName: 'Stewart',
    });
    expect(res).toEqual({
      ok: false,
      code: 'unknown-role',
      role: 'Stewart',
      system: 'Qlik',
      suggestions: ['Steward'],
    });
  });

  it('points at the pending duplicate instead of filing it twice', async () => {
    const first = await h.file({ requester: P.dan, who: { kind: 'me' }, roleName: 'Steward' });
    const again = await h.app.fileRequest({
      requester: P.dan,
      action: 'grant',
      who: { kind: 'me' },
      roleName: 'Steward',
    });
    expect(again).toEqual({
      ok: false,
      code: 'duplicate',
      duplicateOf: expect.objectContaining({ id: first.id }),
    });
  });

  it('approves by policy: announced first, then its apply queued; audited as approved by the policy', async () => {
    h.policyText = `${BASE_POLICY}  Steward: { autoApprove: true }\n`;
    const res = await h.app.fileRequest({
      requester: P.dan,
      action: 'grant',
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
    });
    if (!res.ok) throw new Error(`refused: ${JSON.stringify(res)}`);
    expect(res.autoApproved).toBe(true);
    expect(res.request.state).toBe('approved');
    expect(announcementOf(res.request)).toBeDefined();
    expect(h.notifier.posted.at(-1)?.state).toBe('approved');
    expect(await h.queues.roleChanges.getJob(jobIds.apply(res.request.id))).toBeDefined();
    expect((await h.store.listUnfinished()).map((r) => r.id)).toContain(res.request.id);
    const events = await h.auditOf(res.request.id);
    expect(events.map((e) => [e.action, e.actor, e.detail])).toEqual([
      ['requested', U.dan, 'grant'],
      ['approved', 'policy', 'approved automatically by policy'],
    ]);
  });

  it('still files when the approval channel refuses the post, and says where approvers can find it', async () => {
    h.notifier.announceError = slackApiError('not_in_channel');
    const res = await h.app.fileRequest({
      requester: P.dan,
      action: 'grant',
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
    });
    expect(res).toMatchObject({ ok: true, code: 'filed', postProblem: 'not_in_channel' });
  });
});

describe('self-approval at filing (issue 9 item 2)', () => {
  it("refuses to file a grant by email when Slack can't say who the target is; nothing is filed or posted", async () => {
    h.dir.emailLookupError = slackApiError('missing_scope');
    const res = await h.app.fileRequest({
      requester: P.dan,
      action: 'grant',
      who: { kind: 'email', email: 'approver2@corp.example' },
      roleName: 'TenantAdmin',
      reason: 'on call',
    });
    expect(res).toEqual({
      ok: false,
      code: 'email-lookup-failed',
      email: 'approver2@corp.example',
      problem: 'missing_scope',
    });
    expect(await h.pendingBy(U.dan)).toEqual([]);
    expect(h.notifier.posted).toEqual([]);
  });

  it('files when Slack answers that nobody has the email (the target then has no Slack id)', async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'email', email: 'a"b@corp.example' },
      roleName: 'Steward',
    });
    expect(req.target).not.toHaveProperty('person');
  });
});

describe('durations (issue 9 item 6, issue 10 item 1)', () => {
  it('refuses grants shorter than the policy minimum (default 5 minutes), naming it', async () => {
    for (const ms of [1_000, 45_000]) {
      const res = await h.app.fileRequest({
        requester: P.dan,
        action: 'grant',
        who: { kind: 'person', person: { front: 'slack', id: U.frank } },
        roleName: 'Steward',
        durationMs: ms,
      });
      expect(res).toEqual({
        ok: false,
        code: 'policy-refused',
        refusal: { ok: false, code: 'min-duration', role: 'Steward', minMs: 5 * 60_000, askedMs: ms },
      });
    }
    expect(await h.pendingBy(U.dan)).toEqual([]);
    h.policyText = `${BASE_POLICY}minDuration: 30s\n`;
    const ok = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
      durationMs: 45_000,
    });
    expect(ok.durationMs).toBe(45_000);
  });

  it('never files a capped role permanently: no `for …` gets the cap, and the receipt and approval message say so', async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'TenantAdmin',
      reason: 'x',
    });
    expect(req.durationMs).toBe(4 * H);
    expect((await h.store.get(req.id))?.durationMs).toBe(4 * H);
    expect(req.notes).toEqual([{ code: 'duration-defaulted', durationMs: 4 * H }]);
    const approval = JSON.stringify(approvalMessage(h.notifier.posted[0]!).blocks);
    expect(approval).toContain('Grant for 4 hours');
    expect(approval).toContain('the most TenantAdmin allows');
    expect(JSON.stringify(requestFiledMessage(req).blocks)).toContain('the most TenantAdmin allows');
    // An uncapped role stays permanent, with no note.
    const steward = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
    });
    expect(steward.durationMs).toBeUndefined();
    expect(steward.notes).toBeUndefined();
  });
});

describe('disabled Qlik users (issue 10 item 2)', () => {
  it('refuses a grant to a disabled user by default; the policy may allow it', async () => {
    const res = await h.app.fileRequest({
      requester: P.dan,
      action: 'grant',
      who: { kind: 'person', person: { front: 'slack', id: U.viktor } },
      roleName: 'DataSpaceCreator',
    });
    expect(res).toEqual({ ok: false, code: 'disabled-user', name: 'Viktor Varga' });
    expect(await h.pendingBy(U.dan)).toEqual([]);
    h.policyText = `${BASE_POLICY}allowDisabledUsers: true\n`;
    const filed = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.viktor } },
      roleName: 'DataSpaceCreator',
    });
    expect(filed.target.name).toBe('Viktor Varga');
  });

  it('still files a revoke from a disabled user (taking access away is always allowed)', async () => {
    const req = await h.file({
      requester: P.dan,
      action: 'revoke',
      who: { kind: 'person', person: { front: 'slack', id: U.viktor } },
      roleName: 'SharedSpaceCreator',
    });
    expect(req.action).toBe('revoke');
  });
});

describe('what is already held', () => {
  it('notes a direct grant of a role the target already gets through a group', async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'SharedSpaceCreator',
    });
    expect(req.notes).toEqual([{ code: 'held-via-groups', groups: ['Finance'] }]);
    expect(JSON.stringify(approvalMessage(h.notifier.posted.at(-1)!).blocks)).toContain(
      'already gets SharedSpaceCreator through group Finance',
    );
  });

  it('refuses a grant of a role held directly, and a revoke of one held only through a group', async () => {
    expect(
      await h.app.fileRequest({
        requester: P.dan,
        action: 'grant',
        who: { kind: 'me' },
        roleName: 'SharedSpaceCreator',
      }),
    ).toEqual({
      ok: false,
      code: 'already-held',
      principal: { kind: 'user', name: 'Dan Dubois' },
      role: 'SharedSpaceCreator',
    });
    const revoke = await h.app.fileRequest({
      requester: P.dan,
      action: 'revoke',
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'SharedSpaceCreator',
    });
    expect(revoke).toEqual({
      ok: false,
      code: 'not-held',
      principal: { kind: 'user', name: 'Frank Fischer' },
      role: 'SharedSpaceCreator',
      viaGroups: ['Finance'],
    });
  });
});
