// Extend, driven directly: a new grant of the same role for the same principal, target and time.
import { describe, expect, it } from 'vitest';
import { TargetRegistry } from '../../../src/targets/registry.ts';
import { H, P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-extend', extraTenants: ['dev'] });

describe('extend', () => {
  it('extends with the duration of the original grant', async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'TenantAdmin',
      reason: 'x',
    });
    await h.applied(req);
    const ext = await h.app.extend(req.id, P.dan);
    expect(ext).toMatchObject({ ok: true });
    if (!ext.ok) return;
    expect(ext.request?.durationMs).toBe(4 * H);
    expect(ext.request?.extends).toBe(req.id);
    // The words ("Extension filed as … ends 4 hours after that instead of at its current end") are the front's.
    expect(ext).toEqual({
      ok: true,
      code: 'filed',
      request: expect.objectContaining({
        state: 'pending',
        entitlement: expect.objectContaining({ name: 'TenantAdmin' }),
      }),
      original: expect.objectContaining({
        id: req.id,
        durationMs: 4 * H,
        result: expect.objectContaining({ revokeAt: expect.any(Number) }),
      }),
      autoApproved: false,
    });
    expect(ext.request.target).toMatchObject({ name: 'Frank Fischer', email: 'frank@corp.example' });
    expect((await h.auditOf(ext.request!.id)).map((e) => e.detail)).toEqual([
      `grant for 4 hours extends ${req.id} because Extends ${req.id}: x`,
    ]);
  });

  it('files the extension on the tenant of the grant it extends', async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
      durationMs: H,
      instance: 'dev',
    });
    await h.applied(req);
    const ext = await h.app.extend(req.id, P.frank);
    expect(ext.ok && ext.request?.targetRef).toEqual({ kind: 'qlik-roles', instance: 'dev' });
  });

  it('refuses a grant that is not time-bound or not applied, and someone with no say over it', async () => {
    const permanent = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
    });
    expect(await h.app.extend(permanent.id, P.dan)).toEqual({
      ok: false,
      code: 'not-time-bound',
      request: expect.objectContaining({ id: permanent.id }),
    });
    const pending = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.viktor } },
      roleName: 'SharedSpaceCreator',
      action: 'revoke',
    });
    expect(await h.app.extend(pending.id, P.dan)).toMatchObject({ ok: false, code: 'not-time-bound' });
    const timed = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'DataAdmin',
      durationMs: H,
    });
    expect(await h.app.extend(timed.id, P.dan)).toEqual({
      ok: false,
      code: 'not-applied',
      request: expect.objectContaining({ id: timed.id, state: 'pending' }),
    });
    await h.applied(timed);
    expect(await h.app.extend(timed.id, P.viktor)).toEqual({
      ok: false,
      code: 'not-allowed',
      request: expect.objectContaining({
        id: timed.id,
        entitlement: expect.objectContaining({ name: 'DataAdmin' }),
      }),
    });
  });

  it('says so when the tenant the grant was made on is no longer configured', async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'AutomationCreator',
      durationMs: H,
      instance: 'dev',
    });
    await h.applied(req);
    const without = h.appWith({
      targets: new TargetRegistry(h.targets.list().filter((t) => t.instance !== 'dev')),
    });
    expect(await without.extend(req.id, P.dan)).toEqual({
      ok: false,
      code: 'target-gone',
      message: expect.stringContaining('This bot is not configured for qlik-roles on "dev" any more'),
    });
  });
});
