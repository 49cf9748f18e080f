// "Revoke now", driven directly: who may press it, one press per attempt across replicas, audited once.
import { describe, expect, it } from 'vitest';
import type { RoleChangeRequest } from '../../../src/domain/request.ts';
import { jobIds } from '../../../src/queue/queues.ts';
import { H, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-revoke-now' });

async function applied(req: RoleChangeRequest): Promise<RoleChangeRequest> {
  await h.store.transition(req.id, 'pending', 'approved');
  await h.store.transition(req.id, 'approved', 'applying');
  const t = await h.store.transition(req.id, 'applying', 'applied', {
    result: { before: [], after: [req.role.name], changed: true, message: 'done', revokeAt: Date.now() + H },
  });
  if (!t.ok) throw new Error('not applied');
  return t.request;
}

describe('revoke now', () => {
  it('queues one revoke for the first press, audits it, and tells a later press who pressed', async () => {
    const req = await applied(
      await h.file({
        requesterId: U.dan,
        who: { kind: 'slack-user', userId: U.frank },
        roleName: 'Steward',
        durationMs: H,
      }),
    );
    expect(await h.app.revokeNow(req.id, U.frank)).toEqual({
      ok: true,
      request: expect.objectContaining({ id: req.id }),
      message: `Revoking Steward from Frank Fischer (frank@corp.example) now (${req.id}); the result follows in the approval thread.`,
    });
    expect(await h.queues.roleChanges.getJob(jobIds.revokeGrant(req.id, 'manual'))).toBeDefined();
    const again = await h.app.revokeNow(req.id, U.alice);
    expect(again).toEqual({
      ok: false,
      message: expect.stringMatching(
        new RegExp(
          `^The revoke of Steward from Frank Fischer \\(frank@corp\\.example\\) \\(${req.id}\\) is already under way: @frank pressed Revoke now `,
        ),
      ),
    });
    expect(
      (await h.auditOf(req.id)).filter((e) => e.action === 'revoke-requested').map((e) => e.actor),
    ).toEqual([U.frank]);
  });

  it('refuses a revoke request, a grant not applied, and someone with no say over the grant', async () => {
    const pending = await h.file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'DataAdmin',
    });
    expect(await h.app.revokeNow(pending.id, U.dan)).toEqual({
      ok: false,
      message: `${pending.id} is pending, so there is nothing to revoke now.`,
    });
    const revoke = await h.file({
      requesterId: U.dan,
      action: 'revoke',
      who: { kind: 'me' },
      roleName: 'SharedSpaceCreator',
    });
    expect(await h.app.revokeNow(revoke.id, U.dan)).toEqual({
      ok: false,
      message: `${revoke.id} is a revoke; there is nothing to revoke.`,
    });
    const grant = await applied(pending);
    expect(await h.app.revokeNow(grant.id, U.viktor)).toEqual({
      ok: false,
      message: `Only the requester, the person it was granted to, or an approver of DataAdmin can revoke ${grant.id}; nothing changed.`,
    });
    expect(await h.queues.roleChanges.getJob(jobIds.revokeGrant(grant.id, 'manual'))).toBeUndefined();
  });
});
