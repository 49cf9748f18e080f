// ReviewStore against the real Redis: ids, the snapshot read back, and the once-only writes raced from separate
// connections (one decision per holder, one close), revoke claims (finalized by their own claim only, released,
// taken over once stale), and the audit events written in the same scripts.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILING_STALE_MS, REVIEW_ID_PATTERN, type ReviewDecision } from '../../src/domain/review.ts';
import { slackPerson } from '../../src/slack/people.ts';
import { verifyChain } from '../../src/store/audit-chain.ts';
import { AuditLog } from '../../src/store/audit-log.ts';
import { storeKeys } from '../../src/store/keys.ts';
import { type NewReview, ReviewStore } from '../../src/store/review-store.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

// A Cluster hash-tag prefix, as production may use: every key must carry it.
const prefix = `{${uniquePrefix('review-store')}}`;
const NOW = 1_750_000_000_000;
const alice = slackPerson('U0ALICE');
const bob = slackPerson('U0BOB');

let redis: Redis;
let store: ReviewStore;
let audit: AuditLog;
const extra: Redis[] = [];

beforeAll(() => {
  redis = testRedis();
  store = new ReviewStore(redis, prefix);
  audit = new AuditLog(redis, prefix);
});

afterAll(async () => {
  await Promise.all(extra.map((r) => r.quit()));
  await dropPrefix(redis, prefix);
  await redis.quit();
});

function draft(holders = 3): NewReview {
  return {
    entitlement: { id: 'r-steward', name: 'Steward' },
    targetRef: { kind: 'qlik-roles', instance: 'default' },
    openedBy: alice,
    openedAt: NOW,
    holders: Array.from({ length: holders }, (_, i) => ({
      kind: 'user' as const,
      id: `u${i}`,
      name: `User ${i}`,
      email: `u${i}@corp.example`,
    })),
    groupsLeftOut: 0,
    batchSize: 20,
  };
}

const opened = { time: NOW, actor: 'U0ALICE', action: 'review-opened', outcome: 'open' };
const kept = (actor: string) => ({ time: NOW, actor, action: 'review-kept', outcome: 'kept' });

async function eventsOf(id: string) {
  const out: { action: string; actor: string; detail?: string }[] = [];
  for await (const e of audit.since(0))
    if (e.requestId === id)
      out.push({ action: e.action, actor: e.actor, ...(e.detail === undefined ? {} : { detail: e.detail }) });
  return out;
}

/** Separate connections, so the scripts really run concurrently against Redis. */
function stores(n: number): ReviewStore[] {
  return Array.from({ length: n }, () => {
    const r = testRedis();
    extra.push(r);
    return new ReviewStore(r, prefix);
  });
}

describe('review store', () => {
  it('creates a review under a fresh id with its opening event, and reads the snapshot back', async () => {
    const r = await store.create(draft(), opened);
    expect(r.id).toMatch(REVIEW_ID_PATTERN);
    const back = await store.get(r.id.toLowerCase());
    expect(back).toEqual({ ...draft(), id: r.id, state: 'open', decisions: {} });
    expect(await eventsOf(r.id)).toEqual([{ action: 'review-opened', actor: 'U0ALICE' }]);
    expect(await store.get('V-ZZZZ')).toBeUndefined();
    expect(await store.get('R-ABCD')).toBeUndefined();
    // Every key is under the prefix (one hash slot with a hash-tag prefix).
    expect(await redis.exists(storeKeys(prefix).review(r.id))).toBe(1);
  });

  it('takes another id when the first ones are taken', async () => {
    // A random source that always gives the same characters: the first id is taken, the next length is tried.
    const fixed = new ReviewStore(redis, prefix, { random: () => 0 });
    const a = await fixed.create(draft(), opened);
    const b = await fixed.create(draft(), opened);
    expect(a.id).toBe('V-2222');
    expect(b.id).toBe('V-22222');
  });

  it('records a holder once when many connections decide it at the same moment', async () => {
    const r = await store.create(draft(), opened);
    const racers = stores(8);
    const results = await Promise.all(
      racers.map((s, i) =>
        s.decide(
          r.id,
          1,
          { choice: 'keep', by: slackPerson(`U0RACER${i}`), at: NOW + i },
          kept(`U0RACER${i}`),
          NOW,
        ),
      ),
    );
    expect(results.filter((x) => x.outcome === 'recorded')).toHaveLength(1);
    const losers = results.filter((x) => x.outcome === 'decided');
    expect(losers).toHaveLength(7);
    const stored = (await store.get(r.id))!.decisions[1]!;
    for (const l of losers) expect(l).toEqual({ outcome: 'decided', decision: stored });
    expect((await eventsOf(r.id)).filter((e) => e.action === 'review-kept')).toHaveLength(1);
  });

  it('closes once, counting the decisions in its event, and refuses decisions after', async () => {
    const r = await store.create(draft(), opened);
    await store.decide(r.id, 0, { choice: 'keep', by: bob, at: NOW }, kept('U0BOB'), NOW);
    const results = await Promise.all(
      stores(4).map((s) =>
        s.close(r, 'U0ALICE', NOW + 5, {
          time: NOW,
          actor: 'U0ALICE',
          action: 'review-closed',
          outcome: 'closed-early',
        }),
      ),
    );
    expect(results.filter((x) => x.outcome === 'closed')).toEqual([
      { outcome: 'closed', detail: 'kept 1, revoke requested 0, undecided 2 of 3' },
    ]);
    expect(results.filter((x) => x.outcome === 'closed-already')).toHaveLength(3);
    expect(await store.decide(r.id, 1, { choice: 'keep', by: bob, at: NOW }, kept('U0BOB'), NOW)).toEqual({
      outcome: 'closed',
    });
    expect(await store.get(r.id)).toMatchObject({ state: 'closed', closedAt: NOW + 5, closedBy: alice });
    expect(await redis.ttl(storeKeys(prefix).review(r.id))).toBeGreaterThan(80 * 86_400);
    expect((await eventsOf(r.id)).map((e) => e.action)).toEqual([
      'review-opened',
      'review-kept',
      'review-closed',
    ]);
    expect(
      await store.close(r, undefined, NOW, {
        time: NOW,
        actor: 'system',
        action: 'review-closed',
        outcome: 'x',
      }),
    ).toEqual({
      outcome: 'closed-already',
    });
  });

  it('finalizes a revoke only by its own claim, releases it, and lets a stale claim be taken over', async () => {
    const r = await store.create(draft(), opened);
    const claim: ReviewDecision = { choice: 'revoke', by: alice, at: NOW };
    expect(await store.claimRevoke(r.id, 2, claim, NOW)).toEqual({ outcome: 'recorded' });
    // While it is filed, a Keep is told a revoke is being filed.
    expect(await store.decide(r.id, 2, { choice: 'keep', by: bob, at: NOW }, kept('U0BOB'), NOW + 1)).toEqual(
      {
        outcome: 'decided',
        decision: { ...claim, filing: true },
      },
    );
    // Someone else's claim can't finalize it.
    const other: ReviewDecision = { choice: 'revoke', by: bob, at: NOW };
    const revokeEvent = {
      time: NOW,
      actor: 'U0ALICE',
      action: 'review-revoke-requested',
      outcome: 'revoke-requested',
    };
    expect(
      (await store.finalizeRevoke(r.id, 2, other, { ...other, requestId: 'R-BOB1' }, revokeEvent, NOW))
        .outcome,
    ).toBe('decided');
    expect(await store.releaseRevoke(r.id, 2, claim, NOW)).toEqual({ outcome: 'recorded' });
    expect((await store.get(r.id))!.decisions[2]).toBeUndefined();
    // Claimed again, and the bot stops while filing: after the stale age someone else may decide it.
    await store.claimRevoke(r.id, 2, claim, NOW);
    expect(
      (
        await store.decide(
          r.id,
          2,
          { choice: 'keep', by: bob, at: NOW },
          kept('U0BOB'),
          NOW + FILING_STALE_MS,
        )
      ).outcome,
    ).toBe('decided');
    expect(
      await store.decide(
        r.id,
        2,
        { choice: 'keep', by: bob, at: NOW },
        kept('U0BOB'),
        NOW + FILING_STALE_MS + 1,
      ),
    ).toEqual({ outcome: 'recorded' });
    // The stale claim's late finalize finds the holder taken over.
    expect(
      (await store.finalizeRevoke(r.id, 2, claim, { ...claim, requestId: 'R-LATE' }, revokeEvent, NOW))
        .outcome,
    ).toBe('decided');
    // A claim finalized normally, even once the review is closed (its request was filed).
    await store.claimRevoke(r.id, 0, claim, NOW);
    await store.close(r, undefined, NOW, {
      time: NOW,
      actor: 'system',
      action: 'review-closed',
      outcome: 'all-decided',
    });
    expect(
      await store.finalizeRevoke(r.id, 0, claim, { ...claim, requestId: 'R-ABCD' }, revokeEvent, NOW),
    ).toEqual({
      outcome: 'recorded',
    });
    expect((await store.get(r.id))!.decisions[0]).toEqual({ ...claim, requestId: 'R-ABCD' });
    expect((await eventsOf(r.id)).map((e) => e.action)).toEqual([
      'review-opened',
      'review-kept',
      'review-closed',
      'review-revoke-requested',
    ]);
    expect((await verifyChain(audit.raw())).problem).toBeUndefined();
  });

  it('records where the messages landed', async () => {
    const r = await store.create(draft(), opened);
    await store.setMessages(r.id, { header: { channel: 'C1', ts: '1.1' } });
    await store.setMessages(r.id, { batches: [{ channel: 'C1', ts: '1.2' }] });
    expect(await store.get(r.id)).toMatchObject({
      header: { channel: 'C1', ts: '1.1' },
      batches: [{ channel: 'C1', ts: '1.2' }],
    });
  });
});
