// "Revoke now", driven directly: who may press it, one press per attempt across replicas, audited once.
import { describe, expect, it } from 'vitest';
import { jobIds } from '../../../src/queue/queues.ts';
import { H, P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-revoke-now' });

describe('revoke now', () => {
  it('queues one revoke for the first press, audits it, and tells a later press who pressed', async () => {
    const req = await h.applied(
      await h.file({
        requester: P.dan,
        who: { kind: 'person', person: { front: 'slack', id: U.frank } },
        roleName: 'Steward',
        durationMs: H,
      }),
    );
    expect(await h.app.revokeNow(req.id, P.frank)).toEqual({
      ok: true,
      code: 'queued',
      request: expect.objectContaining({ id: req.id }),
    });
    expect(await h.queues.roleChanges.getJob(jobIds.revokeGrant(req.id, 'manual'))).toBeDefined();
    const again = await h.app.revokeNow(req.id, P.alice);
    expect(again).toEqual({
      ok: false,
      code: 'under-way',
      request: expect.objectContaining({ id: req.id }),
      by: P.frank,
      byName: 'frank',
      byYou: false,
      at: expect.any(Number),
    });
    expect(await h.app.revokeNow(req.id, P.frank)).toMatchObject({
      ok: false,
      code: 'under-way',
      byYou: true,
    });
    expect(
      (await h.auditOf(req.id)).filter((e) => e.action === 'revoke-requested').map((e) => e.actor),
    ).toEqual([U.frank]);
  });

  it('refuses a revoke request, a grant not applied, and someone with no say over the grant', async () => {
    const pending = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'DataAdmin',
    });
    expect(await h.app.revokeNow(pending.id, P.dan)).toEqual({
      ok: false,
      code: 'not-applied',
      request: expect.objectContaining({ id: pending.id, state: 'pending' }),
    });
    const revoke = await h.file({
      requester: P.dan,
      action: 'revoke',
      who: { kind: 'me' },
      roleName: 'SharedSpaceCreator',
    });
    expect(await h.app.revokeNow(revoke.id, P.dan)).toEqual({
      ok: false,
      code: 'not-a-grant',
      request: expect.objectContaining({ id: revoke.id }),
    });
    const grant = await h.applied(pending);
    expect(await h.app.revokeNow(grant.id, P.viktor)).toEqual({
      ok: false,
      code: 'not-allowed',
      request: expect.objectContaining({
        id: grant.id,
        entitlement: expect.objectContaining({ name: 'DataAdmin' }),
      }),
    });
    expect(await h.queues.roleChanges.getJob(jobIds.revokeGrant(grant.id, 'manual'))).toBeUndefined();
  });
});
