// Extend, driven directly: a new grant of the same role for the same principal, target and time.
import { describe, expect, it } from 'vitest';
import type { RoleChangeRequest } from '../../../src/domain/request.ts';
import { TargetRegistry } from '../../../src/targets/registry.ts';
import { H, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-extend', extraTenants: ['dev'] });

/** Stand in for the approvals and the worker: the grant is applied, due to end in an hour. */
async function applied(req: RoleChangeRequest): Promise<RoleChangeRequest> {
  await h.store.transition(req.id, 'pending', 'approved');
  await h.store.transition(req.id, 'approved', 'applying');
  const t = await h.store.transition(req.id, 'applying', 'applied', {
    result: { before: [], after: [req.role.name], changed: true, message: 'done', revokeAt: Date.now() + H },
  });
  if (!t.ok) throw new Error('not applied');
  return t.request;
}

describe('extend', () => {
  it('extends with the duration of the original grant', async () => {
    const req = await h.file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'TenantAdmin',
      reason: 'x',
    });
    await applied(req);
    const ext = await h.app.extend(req.id, U.dan);
    expect(ext).toMatchObject({ ok: true });
    if (!ext.ok) return;
    expect(ext.request?.durationMs).toBe(4 * H);
    expect(ext.request?.extends).toBe(req.id);
    expect(ext.message).toMatch(
      new RegExp(
        `^Extension filed as ${ext.request?.id}: TenantAdmin for Frank Fischer \\(frank@corp\\.example\\) is waiting for approval\\. Once it is applied, ${req.id} ends 4 hours after that instead of at its current end`,
      ),
    );
    expect((await h.auditOf(ext.request!.id)).map((e) => e.detail)).toEqual([
      `grant for 4 hours extends ${req.id} because Extends ${req.id}: x`,
    ]);
  });

  it('files the extension on the tenant of the grant it extends', async () => {
    const req = await h.file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'Steward',
      durationMs: H,
      instance: 'dev',
    });
    await applied(req);
    const ext = await h.app.extend(req.id, U.frank);
    expect(ext.ok && ext.request?.targetRef).toEqual({ kind: 'qlik-roles', instance: 'dev' });
  });

  it('refuses a grant that is not time-bound or not applied, and someone with no say over it', async () => {
    const permanent = await h.file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'Steward',
    });
    expect(await h.app.extend(permanent.id, U.dan)).toEqual({
      ok: false,
      message: `${permanent.id} is not a time-bound grant, so there is nothing to extend.`,
    });
    const pending = await h.file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.viktor },
      roleName: 'SharedSpaceCreator',
      action: 'revoke',
    });
    expect(await h.app.extend(pending.id, U.dan)).toMatchObject({ ok: false });
    const timed = await h.file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'DataAdmin',
      durationMs: H,
    });
    expect(await h.app.extend(timed.id, U.dan)).toEqual({
      ok: false,
      message: `${timed.id} is pending, so it can't be extended. File a new request with \`/qlik grant\`.`,
    });
    await applied(timed);
    expect(await h.app.extend(timed.id, U.viktor)).toEqual({
      ok: false,
      message: `Only the requester, the person it was granted to, or an approver of DataAdmin can extend ${timed.id}.`,
    });
  });

  it('says so when the tenant the grant was made on is no longer configured', async () => {
    const req = await h.file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'AutomationCreator',
      durationMs: H,
      instance: 'dev',
    });
    await applied(req);
    const without = h.appWith({
      targets: new TargetRegistry(h.targets.list().filter((t) => t.instance !== 'dev')),
    });
    expect(await without.extend(req.id, U.dan)).toEqual({
      ok: false,
      message: expect.stringContaining('This bot is not configured for qlik-roles on "dev" any more'),
    });
  });
});
