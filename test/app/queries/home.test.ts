// App Home's query, driven directly: what one person's Home shows, and whose Home a change to a request concerns.
import { describe, expect, it } from 'vitest';
import { HOME_RECENT } from '../../../src/app/queries/home.ts';
import type { PersonRef } from '../../../src/domain/request.ts';
import { H, P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-home' });

const toFrank = { kind: 'person' as const, person: { front: 'slack' as const, id: U.frank } };

async function homeOf(person: PersonRef) {
  const res = await h.app.home(person);
  if (!res.ok) throw new Error(`home failed: ${JSON.stringify(res)}`);
  return res;
}

describe('home', () => {
  it('shows the requester their pending request and the approvers the one they may decide, nobody else', async () => {
    const req = await h.file({ requester: P.dan, who: toFrank, roleName: 'Steward' });
    const dan = await homeOf(P.dan);
    expect(dan.mine.map((r) => r.id)).toEqual([req.id]);
    expect(dan.toApprove).toEqual([]);
    const alice = await homeOf(P.alice);
    expect(alice.mine).toEqual([]);
    expect(alice.toApprove.map((r) => r.id)).toContain(req.id);
    // The user the grant is for neither filed it nor may approve it.
    const frank = await homeOf(P.frank);
    expect(frank.mine).toEqual([]);
    expect(frank.toApprove).toEqual([]);
  });

  it('lists an applied time-bound grant with its time left to the requester and the holder, not to others', async () => {
    const grant = await h.applied(
      await h.file({ requester: P.dan, who: toFrank, roleName: 'Steward', durationMs: H }),
    );
    const revokeAt = grant.result?.revokeAt;
    expect(revokeAt).toBeDefined();
    h.clock.now = revokeAt! - 15 * 60_000;
    for (const person of [P.dan, P.frank]) {
      const home = await homeOf(person);
      expect(home.grants.map((g) => [g.request.id, g.leftMs])).toEqual([[grant.id, 15 * 60_000]]);
      // A live grant is not listed again among the outcomes.
      expect(home.recent.map((r) => r.id)).not.toContain(grant.id);
    }
    expect((await homeOf(P.alice)).grants).toEqual([]);
    // Past its end (the revoke not run yet) it says no time is left, never a negative one.
    h.clock.now = revokeAt! + 60_000;
    expect((await homeOf(P.frank)).grants.map((g) => g.leftMs)).toEqual([0]);
    await h.store.transition(grant.id, 'applied', 'revoked');
    expect((await homeOf(P.frank)).grants).toEqual([]);
  });

  it('lists recent outcomes of requests filed or received, newest first, at most HOME_RECENT', async () => {
    const first = await h.file({ requester: P.dan, who: toFrank, roleName: 'Steward' });
    expect((await h.app.cancel(first.id, P.dan)).ok).toBe(true);
    const denied = await h.file({ requester: P.dan, who: toFrank, roleName: 'DataAdmin' });
    expect((await h.app.deny(denied.id, P.alice)).ok).toBe(true);
    const dan = await homeOf(P.dan);
    expect(dan.recent.slice(0, 2).map((r) => [r.id, r.state])).toEqual([
      [denied.id, 'denied'],
      [first.id, 'cancelled'],
    ]);
    // Frank received them; Alice only decided one, which is no outcome of hers.
    expect((await homeOf(P.frank)).recent.map((r) => r.id)).toEqual(
      expect.arrayContaining([denied.id, first.id]),
    );
    expect((await homeOf(P.alice)).recent.map((r) => r.id)).not.toContain(denied.id);
    // Pending ones are not outcomes.
    const pending = await h.file({ requester: P.dan, who: toFrank, roleName: 'Steward' });
    expect((await homeOf(P.dan)).recent.map((r) => r.id)).not.toContain(pending.id);
    await h.app.cancel(pending.id, P.dan);
    for (let i = 0; i < HOME_RECENT + 2; i++) {
      const r = await h.file({ requester: P.viktor, who: toFrank, roleName: 'Steward' });
      await h.app.cancel(r.id, P.viktor);
    }
    const viktor = await homeOf(P.viktor);
    expect(viktor.recent).toHaveLength(HOME_RECENT);
    const times = viktor.recent.map((r) => r.updatedAt);
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('finds whose Home a request concerns: its requester, its user and its approvers among those who opened one', async () => {
    const req = await h.file({ requester: P.dan, who: toFrank, roleName: 'Steward' });
    const candidates = [P.alice, P.carol, P.dan, P.frank, P.viktor];
    const audience = await h.app.homeAudience(req, candidates);
    expect(audience.map((p) => p.id).sort()).toEqual([U.alice, U.carol, U.dan, U.frank].sort());
    // Someone who never opened their Home is never asked about.
    expect(await h.app.homeAudience(req, [P.viktor])).toEqual([]);
  });

  it('says the store is down when Redis is, instead of an empty Home', async () => {
    const store = h.store as unknown as { listTimeBound: () => Promise<never> };
    const original = store.listTimeBound;
    store.listTimeBound = async () => {
      throw Object.assign(new Error('Connection is closed.'), { name: 'Error' });
    };
    try {
      expect(await h.app.home(P.dan)).toEqual({
        ok: false,
        code: 'store-unavailable',
        doing: 'listing-requests',
      });
    } finally {
      store.listTimeBound = original;
    }
  });
});
