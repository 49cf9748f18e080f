// requests, driven directly: my pending requests and those I may approve now.
import { describe, expect, it } from 'vitest';
import { H, P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-requests' });

describe('requests', () => {
  it('lists my pending requests, and offers the others only to approvers who may decide them', async () => {
    const mine = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
    });
    const forBob = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.bob } },
      roleName: 'DataAdmin',
    });
    const dan = await h.app.listRequests(P.dan);
    expect(dan.ok && dan.mine.map((r) => r.id).sort()).toEqual([mine.id, forBob.id].sort());
    expect(dan.ok && dan.toApprove).toEqual([]); // not an approver, and they filed them
    const alice = await h.app.listRequests(P.alice);
    expect(alice.ok && alice.toApprove.map((r) => r.id)).toEqual(
      expect.arrayContaining([mine.id, forBob.id]),
    );
    // Nobody is offered a grant to themselves, nor one they already approved.
    const bob = await h.app.listRequests(P.bob);
    expect(bob.ok && bob.toApprove.map((r) => r.id)).not.toContain(forBob.id);
    const two = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'TenantAdmin',
      reason: 'x',
      durationMs: H,
    });
    await h.app.approve(two.id, P.alice);
    const again = await h.app.listRequests(P.alice);
    expect(again.ok && again.toApprove.map((r) => r.id)).not.toContain(two.id);
  });

  it('leaves out requests past their expiry', async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
    });
    h.clock.now = req.expiresAt;
    const res = await h.app.listRequests(P.dan);
    expect(res).toEqual({ ok: true, mine: [], toApprove: [] });
  });
});
