// audit, driven directly: approvers only; events about a person or a role; a hint for a role the tenant lacks.
import { describe, expect, it } from 'vitest';
import { P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-audit' });

describe('audit', () => {
  it('is for approvers only', async () => {
    expect(await h.app.auditLog(P.dan, {})).toEqual({ ok: false, code: 'not-approver' });
  });

  it('finds the events about a person by their Slack id and email, and about a role', async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'DataAdmin',
    });
    await h.app.deny(req.id, P.alice);
    const byFrank = await h.app.auditLog(P.alice, {
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
    });
    expect(byFrank.ok && byFrank.events.map((e) => [e.requestId, e.action])).toEqual([
      [req.id, 'denied'],
      [req.id, 'requested'],
    ]);
    const byRole = await h.app.auditLog(P.alice, { role: 'DataAdmin' });
    expect(byRole.ok && byRole.events.map((e) => e.requestId)).toContain(req.id);
  });

  it('says a role is unknown when the audit has nothing for it, with the closest names (issue 10 item 11)', async () => {
    const res = await h.app.auditLog(P.alice, { role: 'ManagedSpaceCreater' });
    expect(res).toEqual({
      ok: false,
      code: 'unknown-role-no-events',
      role: 'ManagedSpaceCreater',
      system: 'Qlik',
      suggestions: expect.arrayContaining(['ManagedSpaceCreator']),
    });
    expect(!res.ok && res.code === 'unknown-role-no-events' && res.suggestions[0]).toBe(
      'ManagedSpaceCreator',
    );
    expect(await h.app.auditLog(P.alice, { role: 'NoSuchRoleAtAll' })).toMatchObject({ ok: false });
    // A real role with no events is just an empty answer.
    expect(await h.app.auditLog(P.alice, { role: 'AutomationCreator' })).toEqual({ ok: true, events: [] });
  });
});
