// RequestStore against the real Redis: creation, dedupe, id allocation, every transition of the state machine,
// concurrent approvals from separate connections, audit events written with transitions, and the indexes.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  announcementOf,
  dedupeKey,
  legacyDedupeKeyOf,
  legacyLockKeyOf,
  REQUEST_ID_PATTERN,
  type RequestState,
  type RoleChangeRequest,
  TERMINAL_STATES,
  TRANSITIONS,
  targetOf,
} from '../../src/domain/request.ts';
import { type AuditEvent, AuditLog } from '../../src/store/audit-log.ts';
import { storeKeys } from '../../src/store/keys.ts';
import { IllegalTransitionError, type NewRequest, RequestStore } from '../../src/store/request-store.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';
import { changeLockKey } from '../../src/targets/registry.ts';
import { accessChangeOf } from '../../src/worker/context.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';
import { readFixture } from '../upgrade/fixture.ts';
import { restorePrefix } from '../upgrade/redis-snapshot.ts';

// A Cluster hash-tag prefix, as production may use: every key must carry it.
const prefix = `{${uniquePrefix('request-store')}}`;
const keys = storeKeys(prefix);
const NOW = 1_750_000_000_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const STATES = Object.keys(TRANSITIONS) as RequestState[];

let redis: Redis;
let store: RequestStore;
const extra: Redis[] = [];
let seq = 0;

function connections(n: number): Redis[] {
  const list = Array.from({ length: n }, () => testRedis());
  extra.push(...list);
  return list;
}

/** A request about a fresh principal unless told otherwise, so tests never dedupe against each other. */
function newRequest(over: Partial<NewRequest> = {}): NewRequest {
  seq++;
  return {
    action: 'grant',
    target: { kind: 'user', id: `q-user-${seq}`, name: `User ${seq}`, email: `user${seq}@acme.com` },
    entitlement: { id: 'role-msc', name: 'ManagedSpaceCreator' },
    requester: { front: 'slack', id: 'U-REQ' },
    reason: 'quarterly report',
    expiresAt: NOW + DAY,
    approvalsRequired: 1,
    ...over,
  };
}

async function created(over: Partial<NewRequest> = {}, audit?: AuditEvent): Promise<RoleChangeRequest> {
  const res = await store.create(newRequest(over), NOW, audit);
  if (!res.ok) throw new Error('unexpected duplicate');
  return res.request;
}

/**
 * A pending grant exactly as the version before targets writes it (no targetRef; dedupe index under
 * `action:kind:qlikId:roleId`), written field by field so the test does not depend on today's create.
 */
async function seedPreTargetsPending(id: string, qlikId: string): Promise<RoleChangeRequest> {
  const target = { kind: 'user' as const, qlikId, name: 'Olde', email: 'olde@acme.com' };
  const dedupe = keys.dedupe(`grant:user:${qlikId}:role-msc`);
  const json = (v: unknown) => JSON.stringify(v);
  await redis.hset(keys.request(id), {
    id: json(id),
    state: 'pending',
    _dedupe: dedupe,
    _byRequester: keys.pendingByRequester('U-REQ'),
    action: json('grant'),
    target: json(target),
    role: json({ id: 'role-msc', name: 'ManagedSpaceCreator' }),
    requesterId: json('U-REQ'),
    reason: json('quarterly report'),
    expiresAt: json(NOW + DAY),
    approvalsRequired: json(1),
    createdAt: String(NOW),
    updatedAt: String(NOW),
  });
  await redis.set(dedupe, id);
  await redis.zadd(keys.pending, NOW + DAY, id);
  await redis.zadd(keys.pendingByRequester('U-REQ'), NOW, id);
  const r = await store.get(id);
  if (!r) throw new Error('seeded request did not load');
  return r;
}

/** Shortest legal path from pending to each state, derived from TRANSITIONS. */
function pathTo(target: RequestState): RequestState[] {
  const queue: RequestState[][] = [['pending']];
  while (queue.length > 0) {
    const path = queue.shift()!;
    const last = path.at(-1)!;
    if (last === target) return path.slice(1);
    for (const next of TRANSITIONS[last]) if (!path.includes(next)) queue.push([...path, next]);
  }
  throw new Error(`no path to ${target}`);
}

async function requestIn(state: RequestState): Promise<RoleChangeRequest> {
  let r = await created();
  let t = NOW;
  for (const next of pathTo(state)) {
    const res = await store.transition(r.id, r.state, next, {}, ++t);
    if (!res.ok) throw new Error(`could not reach ${next}`);
    r = res.request;
  }
  return r;
}

async function auditFor(requestId: string): Promise<AuditEvent[]> {
  const all = await new AuditLog(redis, prefix).recent({ limit: 10_000 });
  return all.filter((e) => e.requestId === requestId).reverse();
}

beforeAll(() => {
  redis = testRedis();
  store = new RequestStore(redis, prefix);
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  await Promise.all([redis, ...extra].map((r) => r.quit()));
});

describe('create and get', () => {
  it('stores a pending request with a short id and reads it back, whatever the id case', async () => {
    const input = newRequest({ durationMs: 2 * HOUR, extends: 'R-AAAA' });
    const res = await store.create(input, NOW);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const r = res.request;
    expect(r.id).toMatch(REQUEST_ID_PATTERN);
    expect(r.id).toHaveLength(6);
    expect(r).toEqual({
      ...input,
      id: r.id,
      state: 'pending',
      createdAt: NOW,
      updatedAt: NOW,
      approvals: [],
    });
    expect(await store.get(r.id)).toEqual(r);
    expect(await store.get(` ${r.id.toLowerCase()} `)).toEqual(r);
    expect(await store.get('R-ZZZZZZZZ')).toBeUndefined();
    expect(await store.get('not an id')).toBeUndefined();
  });

  it('getMany returns the existing requests in the order asked', async () => {
    const a = await created();
    const b = await created();
    const many = await store.getMany([b.id, 'R-ZZZZZZZZ', a.id.toLowerCase()]);
    expect(many.map((r) => r.id)).toEqual([b.id, a.id]);
  });

  it('refuses a duplicate of a pending request and points at it, without writing anything', async () => {
    const first = await created({ target: { kind: 'group', id: 'g-sales', name: 'Sales' } });
    const pendingBefore = await redis.zcard(keys.pending);
    const dup = await store.create(
      newRequest({
        target: { kind: 'group', id: 'g-sales', name: 'Sales' },
        requester: { front: 'slack', id: 'U-OTHER' },
      }),
      NOW + 5,
      { time: NOW + 5, actor: 'U-OTHER', action: 'requested', outcome: 'pending' },
    );
    expect(dup).toEqual({ ok: false, duplicateOf: first });
    expect(await redis.zcard(keys.pending)).toBe(pendingBefore);
    expect(await store.listPendingByRequester({ front: 'slack', id: 'U-OTHER' })).toEqual([]);

    // Same target, other role or other action: not a duplicate.
    const otherRole = await store.create(
      newRequest({ target: first.target, entitlement: { id: 'role-x', name: 'Developer' } }),
      NOW,
    );
    expect(otherRole.ok).toBe(true);
    const otherAction = await store.create(newRequest({ target: first.target, action: 'revoke' }), NOW);
    expect(otherAction.ok).toBe(true);
  });

  it('allows a new request once the pending one is decided', async () => {
    const target = { kind: 'user' as const, id: 'q-dedupe-later', name: 'Dee' };
    const first = await created({ target });
    expect(
      (
        await store.transition(
          first.id,
          'pending',
          'denied',
          { deniedBy: { front: 'slack', id: 'U-APP' } },
          NOW + 1,
        )
      ).ok,
    ).toBe(true);
    expect(await redis.exists(keys.dedupe(`qlik-roles:default:grant:user:q-dedupe-later:role-msc`))).toBe(0);
    const second = await store.create(newRequest({ target }), NOW + 2);
    expect(second.ok).toBe(true);
    if (second.ok) expect(second.request.id).not.toBe(first.id);
    // …and the new one is now the pending one others are pointed at.
    const third = await store.create(newRequest({ target }), NOW + 3);
    expect(third.ok).toBe(false);
    if (!third.ok && second.ok) expect(third.duplicateOf.id).toBe(second.request.id);
    // Approval also ends pending.
    if (second.ok)
      expect(
        (await store.addApproval(second.request.id, { front: 'slack', id: 'U-APP' }, NOW + 4)).outcome,
      ).toBe('approved');
    expect((await store.create(newRequest({ target }), NOW + 5)).ok).toBe(true);
  });

  it('a pending request filed before targets (old dedupe key) still catches a new identical one', async () => {
    const old = await seedPreTargetsPending('R-PREV2', 'q-legacy-1');
    const dup = await store.create(newRequest({ target: old.target }), NOW + 1);
    expect(dup.ok).toBe(false);
    if (!dup.ok) expect(dup.duplicateOf.id).toBe(old.id);
    // The record reads as tenant roles of the default tenant.
    const loaded = await store.get(old.id);
    expect(loaded && targetOf(loaded)).toEqual({ kind: 'qlik-roles', instance: 'default' });
    // Decided, its old index entry goes, and a new request is filed under the new key.
    expect(
      (
        await store.transition(
          old.id,
          'pending',
          'denied',
          { deniedBy: { front: 'slack', id: 'U-APP' } },
          NOW + 2,
        )
      ).ok,
    ).toBe(true);
    expect(await redis.exists(keys.dedupe('grant:user:q-legacy-1:role-msc'))).toBe(0);
    const fresh = await store.create(newRequest({ target: old.target }), NOW + 3);
    expect(fresh.ok).toBe(true);
    if (fresh.ok)
      expect(await redis.hget(keys.request(fresh.request.id), '_dedupe')).toBe(
        keys.dedupe('qlik-roles:default:grant:user:q-legacy-1:role-msc'),
      );
  });

  it('the old dedupe key only stands for the default tenant: another instance or a resource never collides with it', async () => {
    const old = await seedPreTargetsPending('R-PREV3', 'q-legacy-2');
    const other = await store.create(
      newRequest({ target: old.target, targetRef: { kind: 'qlik-roles', instance: 'eu' } }),
      NOW + 1,
    );
    expect(other.ok).toBe(true);
    const spaced = await store.create(
      newRequest({
        target: old.target,
        targetRef: {
          kind: 'qlik-roles',
          instance: 'default',
          resource: { kind: 'space', id: 'sp-1', name: 'Finance' },
        },
      }),
      NOW + 1,
    );
    expect(spaced.ok).toBe(true);
    // The new key includes the target: the same change on another instance is its own pending request.
    const again = await store.create(
      newRequest({ target: old.target, targetRef: { kind: 'qlik-roles', instance: 'eu' } }),
      NOW + 2,
    );
    expect(again.ok).toBe(false);
    if (!again.ok && other.ok) expect(again.duplicateOf.id).toBe(other.request.id);
  });

  it('gives 200 concurrent creates from 4 connections 200 distinct ids', async () => {
    const stores = connections(4).map((c) => new RequestStore(c, prefix));
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        stores[i % 4]!.create(newRequest({ requester: { front: 'slack', id: 'U-BULK' } }), NOW + i),
      ),
    );
    const ids = results.map((r) => (r.ok ? r.request.id : 'duplicate'));
    expect(new Set(ids).size).toBe(200);
    expect(ids.every((id) => REQUEST_ID_PATTERN.test(id))).toBe(true);
    const mine = await store.listPendingByRequester({ front: 'slack', id: 'U-BULK' });
    expect(mine).toHaveLength(200);
    // Oldest first.
    expect(mine.map((r) => r.createdAt)).toEqual([...mine.map((r) => r.createdAt)].sort((a, b) => a - b));
  });

  it('retries on id collisions and grows the id when the short ones are taken', async () => {
    // A random source that always picks the first letter: every candidate of a length is the same id.
    const stuck = new RequestStore(redis, prefix, { random: () => 0 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await stuck.create(newRequest(), NOW);
      if (res.ok) ids.push(res.request.id);
    }
    expect(ids).toEqual(['R-2222', 'R-22222', 'R-222222']);
  });
});

describe('transitions', () => {
  const table = STATES.flatMap((from) =>
    STATES.map((to) => ({ from, to, legal: TRANSITIONS[from].includes(to) })),
  );

  it.each(table)('$from → $to (legal: $legal)', async ({ from, to, legal }) => {
    const r = await requestIn(from);
    expect(r.state).toBe(from);
    if (!legal) {
      await expect(store.transition(r.id, from, to, {}, NOW + 100)).rejects.toBeInstanceOf(
        IllegalTransitionError,
      );
      expect((await store.get(r.id))?.state).toBe(from);
      return;
    }
    // A `from` that does not match the current state is refused by the script.
    const other = STATES.find((s) => s !== from && TRANSITIONS[s].includes(to));
    if (other) {
      const wrong = await store.transition(r.id, other, to, {}, NOW + 100);
      expect(wrong).toEqual({ ok: false, reason: 'wrong-state', request: r });
    }
    const res = await store.transition(r.id, from, to, {}, NOW + 100);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.previous).toBe(from);
    expect(res.request.state).toBe(to);
    expect(res.request.updatedAt).toBe(NOW + 100);
    expect(await store.get(r.id)).toEqual(res.request);
  });

  it('accepts a list of from states and reports not-found for unknown ids', async () => {
    const r = await requestIn('approved');
    const res = await store.transition(r.id, ['approved', 'applying'], 'applying', {}, NOW + 1);
    expect(res.ok && res.previous).toBe('approved');
    const again = await store.transition(r.id, ['approved', 'applying'], 'applying', {}, NOW + 2);
    expect(again.ok && again.previous).toBe('applying');
    expect(await store.transition('R-ZZZZZZZZ', 'pending', 'denied')).toEqual({
      ok: false,
      reason: 'not-found',
    });
    expect(await store.transition('garbage', 'pending', 'denied')).toEqual({
      ok: false,
      reason: 'not-found',
    });
  });

  it('throws for a from list that contains any illegal pair', async () => {
    const r = await requestIn('approved');
    await expect(store.transition(r.id, ['approved', 'pending'], 'applying')).rejects.toThrow(
      'A request cannot go from pending to applying.',
    );
    expect((await store.get(r.id))?.state).toBe('approved');
  });

  it('applies a patch as a shallow merge; undefined removes a field; owned fields are ignored', async () => {
    const r = await requestIn('applying');
    const res = await store.transition(
      r.id,
      'applying',
      'failed',
      {
        error: 'Qlik said no: the role does not exist. Ask an admin to check the role name.',
        reason: undefined,
        id: 'R-HACK',
        state: 'applied',
        createdAt: 1,
        approvals: [{ by: { front: 'slack', id: 'U-EVIL' }, at: 1 }],
      },
      NOW + 50,
    );
    expect(res.ok).toBe(true);
    const stored = await store.get(r.id);
    expect(stored).toEqual({
      ...r,
      reason: undefined,
      state: 'failed',
      updatedAt: NOW + 50,
      error: 'Qlik said no: the role does not exist. Ask an admin to check the role name.',
    });
    expect(stored && 'reason' in stored).toBe(false);
    expect(await store.get('R-HACK')).toBeUndefined();
  });

  it('only one of many concurrent deciders wins, and only its audit event is written', async () => {
    const r = await created();
    const stores = connections(10).map((c) => new RequestStore(c, prefix));
    const results = await Promise.all(
      stores.map((s, i) =>
        s.transition(r.id, 'pending', i % 2 ? 'denied' : 'cancelled', {}, NOW + i, {
          time: NOW + i,
          actor: `U-${i}`,
          action: i % 2 ? 'denied' : 'cancelled',
          outcome: 'ok',
        }),
      ),
    );
    const winners = results.filter((x) => x.ok);
    expect(winners).toHaveLength(1);
    expect(results.filter((x) => !x.ok && x.reason === 'wrong-state')).toHaveLength(9);
    const events = await auditFor(r.id);
    expect(events).toHaveLength(1);
    expect(events[0]!.action).toBe(winners[0]!.ok ? winners[0]!.request.state : '');
  });
});

describe('approvals', () => {
  it('20 approvers at once with 1 approval required: exactly one approved', async () => {
    const r = await created({ approvalsRequired: 1 });
    const stores = connections(20).map((c) => new RequestStore(c, prefix));
    const results = await Promise.all(
      stores.map((s, i) => s.addApproval(r.id, { front: 'slack', id: `U-APP-${i}` }, NOW + i)),
    );
    const outcomes = results.map((x) => x.outcome);
    expect(outcomes.filter((o) => o === 'approved')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'not-pending')).toHaveLength(19);
    const stored = await store.get(r.id);
    expect(stored?.state).toBe('approved');
    expect(stored?.approvals).toHaveLength(1);
    expect(await redis.zscore(keys.pending, r.id)).toBeNull();
  });

  it('20 approvers at once with 2 required: one recorded, one approved, the rest not-pending', async () => {
    const r = await created({ approvalsRequired: 2 });
    const stores = connections(20).map((c) => new RequestStore(c, prefix));
    const results = await Promise.all(
      stores.map((s, i) => s.addApproval(r.id, { front: 'slack', id: `U-APP-${i}` }, NOW + i)),
    );
    const count = (o: string) => results.filter((x) => x.outcome === o).length;
    expect([count('recorded'), count('approved'), count('not-pending')]).toEqual([1, 1, 18]);
    expect((await store.get(r.id))?.approvals).toHaveLength(2);
  });

  it('needs distinct approvers: the same one twice is a duplicate', async () => {
    const r = await created({ approvalsRequired: 2 });
    const first = await store.addApproval(r.id, { front: 'slack', id: 'U-A' }, NOW + 1);
    expect(first.outcome).toBe('recorded');
    if (first.outcome === 'recorded') {
      expect(first.request.state).toBe('pending');
      expect(first.request.approvals).toEqual([{ by: { front: 'slack', id: 'U-A' }, at: NOW + 1 }]);
    }
    expect((await store.addApproval(r.id, { front: 'slack', id: 'U-A' }, NOW + 2)).outcome).toBe('duplicate');
    const second = await store.addApproval(r.id, { front: 'slack', id: 'U-B' }, NOW + 3);
    expect(second.outcome).toBe('approved');
    if (second.outcome === 'approved') {
      expect(second.request.state).toBe('approved');
      expect(second.request.updatedAt).toBe(NOW + 3);
      expect(second.request.approvals.map((a) => a.by.id)).toEqual(['U-A', 'U-B']);
    }
    const late = await store.addApproval(r.id, { front: 'slack', id: 'U-C' }, NOW + 4);
    expect(late.outcome).toBe('not-pending');
    expect(await store.addApproval('R-ZZZZZZZZ', { front: 'slack', id: 'U-A' })).toEqual({
      outcome: 'not-found',
    });
  });

  it('does not count approvals on a decided request', async () => {
    const r = await created();
    await store.transition(
      r.id,
      'pending',
      'cancelled',
      { cancelledBy: { front: 'slack', id: 'U-REQ' } },
      NOW + 1,
    );
    const res = await store.addApproval(r.id, { front: 'slack', id: 'U-A' }, NOW + 2);
    expect(res.outcome).toBe('not-pending');
    if (res.outcome === 'not-pending') expect(res.request.approvals).toEqual([]);
  });
});

describe('audit events written with the change', () => {
  it('create, approvals and transitions append in the same script; refused changes append nothing', async () => {
    const ev = (action: string, actor = 'U-REQ'): AuditEvent => ({
      time: NOW,
      actor,
      action,
      target: 'User (user@acme.com)',
      role: 'ManagedSpaceCreator',
      outcome: 'ok',
    });
    const r = await created({ approvalsRequired: 2 }, ev('requested'));
    await store.addApproval(r.id, { front: 'slack', id: 'U-A' }, NOW + 1, ev('approved', 'U-A'));
    await store.addApproval(r.id, { front: 'slack', id: 'U-A' }, NOW + 2, ev('approved', 'U-A')); // duplicate: not audited
    await store.addApproval(r.id, { front: 'slack', id: 'U-B' }, NOW + 3, ev('approved', 'U-B'));
    await store.transition(r.id, 'pending', 'denied', {}, NOW + 4, ev('denied', 'U-C')); // wrong state
    await store.transition(r.id, 'approved', 'applying', {}, NOW + 5, ev('applying', 'system'));
    await store.transition(r.id, 'applying', 'applied', {}, NOW + 6, {
      ...ev('applied', 'system'),
      before: ['Developer'],
      after: ['Developer', 'ManagedSpaceCreator'],
    });
    const events = await auditFor(r.id);
    expect(events.map((e) => [e.action, e.actor, e.outcome])).toEqual([
      ['requested', 'U-REQ', 'ok'],
      ['approved', 'U-A', 'recorded'],
      ['approved', 'U-B', 'approved'],
      ['applying', 'system', 'ok'],
      ['applied', 'system', 'ok'],
    ]);
    expect(events[1]!.detail).toBe('1 of 2 approvals');
    expect(events[2]!.detail).toBe('2 of 2 approvals');
    expect(events[4]).toMatchObject({ before: ['Developer'], after: ['Developer', 'ManagedSpaceCreator'] });
    expect(events.every((e) => e.requestId === r.id)).toBe(true);
  });
});

describe('indexes', () => {
  it('lists pending requests by expiry and finds those due to expire', async () => {
    const p = `{${uniquePrefix('request-store-idx')}}`;
    const s = new RequestStore(redis, p);
    try {
      const later = await s.create(newRequest({ expiresAt: NOW + 2 * HOUR }), NOW);
      const sooner = await s.create(newRequest({ expiresAt: NOW + HOUR }), NOW);
      const latest = await s.create(
        newRequest({ expiresAt: NOW + 3 * HOUR, requester: { front: 'slack', id: 'U-2' } }),
        NOW,
      );
      if (!later.ok || !sooner.ok || !latest.ok) throw new Error('duplicate');
      expect((await s.listPending()).map((r) => r.id)).toEqual(
        [sooner, later, latest].map((x) => x.request.id),
      );
      expect((await s.listPending(2)).map((r) => r.id)).toEqual([sooner, later].map((x) => x.request.id));
      expect(await s.dueForExpiry(NOW + HOUR - 1)).toEqual([]);
      expect(await s.dueForExpiry(NOW + 2 * HOUR)).toEqual([sooner.request.id, later.request.id]);
      expect(await s.dueForExpiry(NOW + 2 * HOUR, 1)).toEqual([sooner.request.id]);
      await s.transition(sooner.request.id, 'pending', 'expired', {}, NOW + HOUR);
      expect(await s.dueForExpiry(NOW + 2 * HOUR)).toEqual([later.request.id]);
      expect((await s.listPendingByRequester({ front: 'slack', id: 'U-REQ' })).map((r) => r.id)).toEqual([
        later.request.id,
      ]);
      expect((await s.listPendingByRequester({ front: 'slack', id: 'U-2' })).map((r) => r.id)).toEqual([
        latest.request.id,
      ]);
      expect(await s.listPendingByRequester({ front: 'slack', id: 'U-NOBODY' })).toEqual([]);
    } finally {
      await dropPrefix(redis, p);
    }
  });

  it('indexes applied time-bound grants by revokeAt until they are revoked', async () => {
    const p = `{${uniquePrefix('request-store-tb')}}`;
    const s = new RequestStore(redis, p);
    const k = storeKeys(p);
    const drive = async (revokeAt?: number) => {
      const res = await s.create(newRequest({ durationMs: HOUR }), NOW);
      if (!res.ok) throw new Error('duplicate');
      const id = res.request.id;
      await s.addApproval(id, { front: 'slack', id: 'U-A' }, NOW);
      await s.transition(id, 'approved', 'applying', {}, NOW);
      const result = { before: [], after: ['ManagedSpaceCreator'], changed: true, message: 'done' };
      await s.transition(
        id,
        'applying',
        'applied',
        { result: revokeAt ? { ...result, revokeAt } : result },
        NOW,
      );
      return id;
    };
    try {
      const grant = await drive(NOW + HOUR);
      const permanent = await drive();
      expect(await s.dueForRevoke(NOW + HOUR - 1)).toEqual([]);
      expect(await s.dueForRevoke(NOW + HOUR)).toEqual([grant]);
      // Kept while the grant is live; a finished or permanent one ages out.
      expect(await redis.pttl(k.request(grant))).toBe(-1);
      expect(await redis.pttl(k.request(permanent))).toBeGreaterThan(89 * DAY);
      const revoked = await s.transition(grant, 'applied', 'expired-revoked', {}, NOW + HOUR);
      expect(revoked.ok).toBe(true);
      expect(await s.dueForRevoke(NOW + 2 * HOUR)).toEqual([]);
      expect(await redis.pttl(k.request(grant))).toBeGreaterThan(89 * DAY);
      expect(await redis.pttl(k.approvals(grant))).toBeGreaterThan(89 * DAY);
    } finally {
      await dropPrefix(redis, p);
    }
  });

  it('indexes approved and applying requests until they settle, whichever way they were approved', async () => {
    const p = `{${uniquePrefix('request-store-unfinished')}}`;
    const s = new RequestStore(redis, p);
    const k = storeKeys(p);
    const file = async (approvalsRequired = 1) => {
      const res = await s.create(newRequest({ approvalsRequired }), NOW);
      if (!res.ok) throw new Error('duplicate');
      return res.request.id;
    };
    const ids = async () => (await s.listUnfinished()).map((r) => r.id);
    try {
      const byApproval = await file(2);
      await s.addApproval(byApproval, { front: 'slack', id: 'U-A' }, NOW);
      expect(await ids()).toEqual([]); // one of two approvals: still pending
      await s.addApproval(byApproval, { front: 'slack', id: 'U-B' }, NOW + 1);
      const byPolicy = await file();
      await s.transition(byPolicy, 'pending', 'approved', {}, NOW + 2);
      const denied = await file();
      await s.transition(denied, 'pending', 'denied', {}, NOW + 3);
      expect(await ids()).toEqual([byApproval, byPolicy]);
      // Applying keeps its place (scored by its approval), a re-entered applying too; settling removes it.
      await s.transition(byApproval, 'approved', 'applying', {}, NOW + 10);
      await s.transition(byApproval, 'applying', 'applying', {}, NOW + 11);
      expect(await redis.zscore(k.unfinished, byApproval)).toBe(String(NOW + 1));
      await s.transition(byPolicy, 'approved', 'applying', {}, NOW + 12);
      await s.transition(byPolicy, 'applying', 'failed', { error: 'x' }, NOW + 13);
      expect(await ids()).toEqual([byApproval]);
      await s.transition(byApproval, 'applying', 'applied', {}, NOW + 14);
      expect(await ids()).toEqual([]);
      expect(await redis.exists(k.unfinished)).toBe(0);
    } finally {
      await dropPrefix(redis, p);
    }
  });

  it('indexes older approved requests on demand (backfill) and drops entries whose request settled elsewhere', async () => {
    const p = `{${uniquePrefix('request-store-backfill')}}`;
    const s = new RequestStore(redis, p);
    const k = storeKeys(p);
    const approvedId = async () => {
      const res = await s.create(newRequest(), NOW);
      if (!res.ok) throw new Error('duplicate');
      await s.addApproval(res.request.id, { front: 'slack', id: 'U-A' }, NOW);
      return res.request.id;
    };
    try {
      // As a version before the index left them: approved / applying with no index entry.
      const approved = await approvedId();
      const applying = await approvedId();
      await s.transition(applying, 'approved', 'applying', {}, NOW);
      const applied = await approvedId();
      await s.transition(applied, 'approved', 'applying', {}, NOW);
      await s.transition(applied, 'applying', 'applied', {}, NOW);
      const pending = (await s.create(newRequest(), NOW)) as { request: RoleChangeRequest };
      await redis.del(k.unfinished);
      expect(await s.listUnfinished()).toEqual([]);
      const ids = [approved, applying, applied, pending.request.id, 'R-ZZZZ', 'not an id'];
      expect(
        await s.indexUnfinished(
          ids.map((id) => id.toLowerCase()),
          NOW + 5,
        ),
      ).toBe(2);
      expect(await s.indexUnfinished(ids, NOW + 6)).toBe(0); // idempotent
      expect((await s.listUnfinished()).map((r) => r.id).sort()).toEqual([approved, applying].sort());
      // An old worker settles one without touching the index: the listing drops the stale entry.
      await redis.hset(k.request(approved), 'state', 'failed');
      expect((await s.listUnfinished()).map((r) => r.id)).toEqual([applying]);
      expect(await redis.zrange(k.unfinished, '0', '-1')).toEqual([applying]);
    } finally {
      await dropPrefix(redis, p);
    }
  });

  it('keeps finished requests for the retention period only', async () => {
    const r = await requestIn('denied');
    expect(TERMINAL_STATES).toContain('denied');
    const ttl = await redis.pttl(keys.request(r.id));
    expect(ttl).toBeGreaterThan(89 * DAY);
    expect(ttl).toBeLessThanOrEqual(90 * DAY);
    const live = await requestIn('applying');
    expect(await redis.pttl(keys.request(live.id))).toBe(-1);
  });

  it("keeps the request's messages in the order recorded, each once, and never recreates a missing request", async () => {
    const r = await created();
    const announcement = {
      front: 'slack',
      kind: 'announcement',
      channel: 'C-APPROVALS',
      ts: '1750000000.000100',
    } as const;
    const dm = {
      front: 'slack',
      kind: 'dm',
      channel: 'D-REQ',
      ts: '1750000000.000200',
      recipient: 'U-REQ',
      carriesButtons: true,
    } as const;
    expect(await store.addMessage(r.id.toLowerCase(), announcement)).toBe(true);
    expect(await store.addMessage(r.id, dm)).toBe(true);
    // A retried step records the same message again: it is kept once.
    expect(await store.addMessage(r.id, { ...dm, carriesButtons: false })).toBe(true);
    const stored = await store.get(r.id);
    expect(stored?.messages).toEqual([announcement, dm]);
    expect(announcementOf(stored!)).toEqual(announcement);
    expect(await store.addMessage('R-ZZZZZZZZ', { ...announcement, ts: '1.2' })).toBe(false);
    expect(await redis.exists(keys.request('R-ZZZZZZZZ'))).toBe(0);
  });

  it('loses no message when several steps record at once', async () => {
    const r = await created();
    const stores = connections(10).map((c) => new RequestStore(c, prefix));
    const sent = Array.from({ length: 40 }, (_, i) => ({
      front: 'slack' as const,
      kind: 'dm' as const,
      channel: `D-${i % 4}`,
      ts: `1750000000.${String(i).padStart(6, '0')}`,
    }));
    await Promise.all(sent.map((m, i) => stores[i % stores.length]!.addMessage(r.id, m)));
    const stored = (await store.get(r.id))?.messages ?? [];
    expect(stored).toHaveLength(sent.length);
    expect([...stored].sort((a, b) => a.ts.localeCompare(b.ts))).toEqual(sent);
  });

  it("reads the approval message an earlier version stored as the first of the request's messages", async () => {
    const r = await created();
    // Versions before the list kept one `approvalMessage` field; a new step may add to the list afterwards.
    await redis.hset(
      keys.request(r.id),
      'approvalMessage',
      JSON.stringify({ channel: 'C-OLD', ts: '1740000000.000100' }),
    );
    const old = await store.get(r.id);
    expect(old?.messages).toEqual([
      { front: 'slack', kind: 'announcement', channel: 'C-OLD', ts: '1740000000.000100' },
    ]);
    expect(old).not.toHaveProperty('approvalMessage');
    const reply = { front: 'slack', kind: 'result', channel: 'C-OLD', ts: '1740000000.000200' } as const;
    await store.addMessage(r.id, reply);
    const now = await store.get(r.id);
    expect(now?.messages).toEqual([
      { front: 'slack', kind: 'announcement', channel: 'C-OLD', ts: '1740000000.000100' },
      reply,
    ]);
    expect(announcementOf(now!)).toEqual({
      front: 'slack',
      kind: 'announcement',
      channel: 'C-OLD',
      ts: '1740000000.000100',
    });
    // Left where an earlier version's bot still reads it during a rolling upgrade.
    expect(await redis.hget(keys.request(r.id), 'approvalMessage')).not.toBeNull();
  });

  it("lets no create or patch overwrite the request's messages", async () => {
    const m = { front: 'slack', kind: 'announcement', channel: 'C-A', ts: '1750000000.000300' } as const;
    const r = await created({ messages: [m] } as Partial<NewRequest>);
    expect(r.messages).toBeUndefined();
    await store.addMessage(r.id, m);
    const t = await store.transition(r.id, 'pending', 'denied', {
      deniedBy: { front: 'slack', id: 'U-X' },
      messages: [],
    });
    expect(t.ok && t.request.messages).toEqual([m]);
  });

  it('names every index key of a request under the prefix (one Cluster slot with a hash tag)', async () => {
    const r = await created();
    const [dedupe, byRequester] = await redis.hmget(keys.request(r.id), '_dedupe', '_byRequester');
    expect(dedupe).toBe(keys.dedupe(`qlik-roles:default:grant:user:${r.target.id}:role-msc`));
    expect(byRequester).toBe(keys.pendingByRequester('U-REQ'));
    for (const key of [
      dedupe!,
      byRequester!,
      keys.pending,
      keys.timebound,
      keys.unfinished,
      keys.audit,
      keys.approvals(r.id),
    ]) {
      expect(key.startsWith(`${prefix}:`)).toBe(true);
    }
  });
});

describe('requests written before people were PersonRefs (as a12d65d writes them)', () => {
  const slack = (id: string) => ({ front: 'slack' as const, id });
  const json = (v: unknown) => JSON.stringify(v);

  /**
   * A request field by field as a12d65d's store leaves it (test/upgrade/fixtures/a12d65d.json): `requesterId` and
   * the target's `slackUserId` as bare Slack ids, approvals as a ZSET of Slack ids, `deniedBy` / `cancelledBy` as
   * bare ids, the per-requester index under the Slack id, and one `approvalMessage`.
   */
  // Seeded ids are 8 characters: the store draws 4-character ids first, so a random id of another test in this prefix
  // (hundreds are filed) can never be one of these and have its fields merged into a seeded record.
  async function seedA12d65d(
    id: string,
    state: RequestState,
    extra: Record<string, string> = {},
    approvers: [string, number][] = [],
  ): Promise<void> {
    const qlikId = `q-old-${id}`;
    const dedupe = keys.dedupe(`grant:user:${qlikId}:role-msc`);
    await redis.hset(keys.request(id), {
      _byRequester: keys.pendingByRequester('U0DAN'),
      _dedupe: dedupe,
      action: json('grant'),
      approvalMessage: json({ channel: 'C0APPROVALS', ts: '1780386600.432000' }),
      approvalsRequired: '2',
      createdAt: String(NOW),
      expiresAt: String(NOW + DAY),
      id: json(id),
      reason: json('data quality'),
      requesterId: json('U0DAN'),
      role: json({ id: 'role-msc', name: 'ManagedSpaceCreator' }),
      state,
      target: json({
        kind: 'user',
        qlikId,
        name: 'Frank Fischer',
        email: 'frank@corp.example',
        slackUserId: 'U0FRANK',
      }),
      updatedAt: String(NOW),
      ...extra,
    });
    for (const [who, at] of approvers) await redis.zadd(keys.approvals(id), at, who);
    if (state === 'pending') {
      await redis.set(dedupe, id);
      await redis.zadd(keys.pending, NOW + DAY, id);
      await redis.zadd(keys.pendingByRequester('U0DAN'), NOW, id);
    }
  }

  it('reads the people of a pending one into PersonRefs, and keeps its approvals and index working', async () => {
    await seedA12d65d('R-PEPZZZZ2', 'pending', {}, [['U0ALICE', NOW + 5]]);
    const r = await store.get('R-PEPZZZZ2');
    expect(r).toMatchObject({
      requester: slack('U0DAN'),
      target: { kind: 'user', name: 'Frank Fischer', email: 'frank@corp.example', person: slack('U0FRANK') },
      approvals: [{ by: slack('U0ALICE'), at: NOW + 5 }],
    });
    expect(r).not.toHaveProperty('requesterId');
    expect(r?.target).not.toHaveProperty('slackUserId');
    // What was stored stays as it was (a bot of the earlier version may still read it during a rolling upgrade).
    expect(await redis.hget(keys.request('R-PEPZZZZ2'), 'requesterId')).toBe(json('U0DAN'));
    // The per-requester index it was filed under is found by the PersonRef.
    expect((await store.listPendingByRequester(slack('U0DAN'))).map((x) => x.id)).toContain('R-PEPZZZZ2');
    // The same approver again is the same approver, whichever version recorded the first approval.
    expect((await store.addApproval('R-PEPZZZZ2', slack('U0ALICE'), NOW + 6)).outcome).toBe('duplicate');
    const second = await store.addApproval('R-PEPZZZZ2', slack('U0BOB'), NOW + 7);
    expect(second.outcome).toBe('approved');
    expect(second.outcome !== 'not-found' && second.request.approvals).toEqual([
      { by: slack('U0ALICE'), at: NOW + 5 },
      { by: slack('U0BOB'), at: NOW + 7 },
    ]);
    // Leaving pending takes it out of the per-requester index it was filed under.
    expect(await redis.zscore(keys.pendingByRequester('U0DAN'), 'R-PEPZZZZ2')).toBeNull();
  });

  it('reads a string deniedBy and cancelledBy as PersonRefs', async () => {
    await seedA12d65d('R-PEPZZZZ3', 'denied', { deniedBy: json('U0ALICE') });
    await seedA12d65d('R-PEPZZZZ4', 'cancelled', { cancelledBy: json('U0DAN') });
    expect((await store.get('R-PEPZZZZ3'))?.deniedBy).toEqual(slack('U0ALICE'));
    expect((await store.get('R-PEPZZZZ4'))?.cancelledBy).toEqual(slack('U0DAN'));
  });

  it('reads into exactly the shape today’s store writes, and round-trips through a transition', async () => {
    await seedA12d65d('R-PEPZZZZ5', 'pending');
    const old = await store.get('R-PEPZZZZ5');
    if (!old) throw new Error('seeded request did not load');
    // The same request filed today (another principal, so it is not a duplicate) has the same people.
    const fresh = await created({
      target: { ...old.target, id: 'q-new-ppl5' } as RoleChangeRequest['target'],
      requester: old.requester,
      approvalsRequired: 2,
    });
    expect(fresh.requester).toEqual(old.requester);
    expect(fresh.target).toEqual({ ...old.target, id: 'q-new-ppl5' });
    expect(await redis.hget(keys.request(fresh.id), '_byRequester')).toBe(keys.pendingByRequester('U0DAN'));
    // A bot of the earlier version, still running during a rollout, finds the people where it reads them.
    const stored = await redis.hmget(keys.request(fresh.id), 'requesterId', 'target');
    expect(JSON.parse(stored[0]!)).toBe('U0DAN');
    expect(JSON.parse(stored[1]!)).toMatchObject({ slackUserId: 'U0FRANK', person: slack('U0FRANK') });
    const moved = await store.transition(
      'R-PEPZZZZ5',
      'pending',
      'cancelled',
      { cancelledBy: old.requester },
      NOW + 1,
    );
    expect(moved.ok && moved.request).toEqual({
      ...old,
      state: 'cancelled',
      updatedAt: NOW + 1,
      cancelledBy: slack('U0DAN'),
    });
    expect(await store.get('R-PEPZZZZ5')).toEqual(moved.ok && moved.request);
  });
});

describe("requests written before the principal's id and the entitlement were neutral (a12d65d's `target.qlikId`, `role`)", () => {
  // A pending grant exactly as a12d65d left it in Redis (test/upgrade/fixtures/a12d65d.json), with its dedupe index.
  const ID = 'R-29H2';
  const QLIK_ID = '6592008049cfb1651300001f';
  const ROLE_ID = '6592008049cfb16513000004';
  const qlikRoles = new QlikRolesTarget({ instance: 'default', qlik: {} as never });

  async function restoreFromFixture(): Promise<RoleChangeRequest> {
    const { fixture } = readFixture('a12d65d');
    const wanted = new Set([`{{prefix}}:req:${ID}`, `{{prefix}}:dedupe:grant:user:${QLIK_ID}:${ROLE_ID}`]);
    const snapshot = fixture.keys.filter((k) => wanted.has(k.key));
    expect(snapshot).toHaveLength(2);
    await restorePrefix(redis, snapshot, prefix);
    const old = await store.get(ID);
    if (!old) throw new Error('restored request did not load');
    return old;
  }

  it('reads `qlikId` as `id`, and a new identical request still collides with it under the same keys', async () => {
    const old = await restoreFromFixture();
    expect(JSON.parse((await redis.hget(keys.request(ID), 'target'))!)).toHaveProperty('qlikId', QLIK_ID);
    expect(old.target).toEqual({
      kind: 'user',
      id: QLIK_ID,
      name: 'Frank Fischer',
      email: 'frank@corp.example',
      person: { front: 'slack', id: 'U0FRANK' },
    });
    expect(old.target).not.toHaveProperty('qlikId');
    // The keys are the ones a12d65d (and the version before this rename) computed for it, byte for byte.
    expect(legacyDedupeKeyOf(old)).toBe(`grant:user:${QLIK_ID}:${ROLE_ID}`);
    expect(await redis.hget(keys.request(ID), '_dedupe')).toBe(keys.dedupe(legacyDedupeKeyOf(old)!));
    expect(dedupeKey(old)).toBe(`qlik-roles:default:grant:user:${QLIK_ID}:${ROLE_ID}`);
    expect(legacyLockKeyOf(old)).toBe(`user:${QLIK_ID}`);
    expect(changeLockKey(qlikRoles, accessChangeOf(old))).toBe(`qlik-roles:default:user:${QLIK_ID}`);

    // The same request filed today is a duplicate of the old one…
    const again: NewRequest = {
      action: 'grant',
      target: { kind: 'user', id: QLIK_ID, name: 'Frank Fischer', email: 'frank@corp.example' },
      entitlement: old.entitlement,
      requester: old.requester,
      expiresAt: NOW + DAY,
      approvalsRequired: 2,
    };
    const dup = await store.create(again, NOW);
    expect(dup.ok === false && dup.duplicateOf.id).toBe(ID);
    // …and computes the same keys from its `id` as the old one did from its `qlikId`.
    expect(dedupeKey(again)).toBe(dedupeKey(old));
    expect(legacyDedupeKeyOf(again)).toBe(legacyDedupeKeyOf(old));
    expect(legacyLockKeyOf(again)).toBe(legacyLockKeyOf(old));
    const draft = {
      ...again,
      id: 'R-NEW2',
      state: 'pending' as const,
      createdAt: NOW,
      updatedAt: NOW,
      approvals: [],
    };
    expect(changeLockKey(qlikRoles, accessChangeOf(draft))).toBe(
      changeLockKey(qlikRoles, accessChangeOf(old)),
    );

    // Once the old one is decided, the new one files, and an old bot or worker finds its principal as `qlikId`.
    expect(
      (await store.transition(ID, 'pending', 'cancelled', { cancelledBy: old.requester }, NOW + 1)).ok,
    ).toBe(true);
    const filed = await store.create(again, NOW + 2);
    if (!filed.ok) throw new Error('unexpected duplicate');
    const stored = JSON.parse((await redis.hget(keys.request(filed.request.id), 'target'))!);
    expect(stored).toMatchObject({ id: QLIK_ID, qlikId: QLIK_ID });
    expect(filed.request.target).not.toHaveProperty('qlikId');
    expect((await store.get(filed.request.id))?.target).toEqual(again.target);
    expect(await redis.hget(keys.request(filed.request.id), '_dedupe')).toBe(keys.dedupe(dedupeKey(old)));
  });

  it('reads `role` as `entitlement`, and a new identical request collides with it and writes `role` beside it', async () => {
    // The test before leaves the same request filed today pending under today's key: start from a12d65d's alone.
    await redis.del(keys.dedupe(`qlik-roles:default:grant:user:${QLIK_ID}:${ROLE_ID}`));
    const old = await restoreFromFixture();
    const storedRole = await redis.hget(keys.request(ID), 'role');
    expect(storedRole).toBe(`{"id":"${ROLE_ID}","name":"TenantAdmin"}`);
    expect(await redis.hexists(keys.request(ID), 'entitlement')).toBe(0);
    expect(old.entitlement).toEqual({ id: ROLE_ID, name: 'TenantAdmin' });
    expect(old).not.toHaveProperty('role');
    // The keys are the ones a12d65d computed from its `role`, byte for byte.
    expect(await redis.hget(keys.request(ID), '_dedupe')).toBe(
      keys.dedupe(`grant:user:${QLIK_ID}:${ROLE_ID}`),
    );
    expect(legacyDedupeKeyOf(old)).toBe(`grant:user:${QLIK_ID}:${ROLE_ID}`);
    expect(dedupeKey(old)).toBe(`qlik-roles:default:grant:user:${QLIK_ID}:${ROLE_ID}`);

    const again: NewRequest = {
      action: 'grant',
      target: { kind: 'user', id: QLIK_ID, name: 'Frank Fischer', email: 'frank@corp.example' },
      entitlement: { id: ROLE_ID, name: 'TenantAdmin' },
      requester: old.requester,
      expiresAt: NOW + DAY,
      approvalsRequired: 2,
    };
    const dup = await store.create(again, NOW);
    expect(dup.ok === false && dup.duplicateOf.id).toBe(ID);

    // Once the old one is decided, the new one files; an old bot or worker still finds its role as `role`, stored
    // exactly as a12d65d stored it, and the decoded copy has only `entitlement`.
    expect(
      (await store.transition(ID, 'pending', 'cancelled', { cancelledBy: old.requester }, NOW + 1)).ok,
    ).toBe(true);
    const filed = await store.create(again, NOW + 2);
    if (!filed.ok) throw new Error('unexpected duplicate');
    const newId = filed.request.id;
    expect(await redis.hget(keys.request(newId), 'role')).toBe(storedRole);
    expect(JSON.parse((await redis.hget(keys.request(newId), 'entitlement'))!)).toEqual(again.entitlement);
    expect(filed.request).not.toHaveProperty('role');
    const read = await store.get(newId);
    expect(read?.entitlement).toEqual(again.entitlement);
    expect(read).not.toHaveProperty('role');
    expect(await redis.hget(keys.request(newId), '_dedupe')).toBe(keys.dedupe(dedupeKey(old)));
  });

  it('an a12d65d record (`role` only) moves through a transition, and its stored `role` is left as it was', async () => {
    const { fixture } = readFixture('a12d65d');
    const snapshot = fixture.keys.filter((k) => k.key === `{{prefix}}:req:${ID}`);
    await restorePrefix(redis, snapshot, prefix);
    const moved = await store.transition(ID, 'pending', 'expired', {}, NOW + 3);
    expect(moved.ok && moved.request.entitlement).toEqual({ id: ROLE_ID, name: 'TenantAdmin' });
    expect(moved.ok && moved.request).not.toHaveProperty('role');
    expect(JSON.parse((await redis.hget(keys.request(ID), 'role'))!)).toEqual({
      id: ROLE_ID,
      name: 'TenantAdmin',
    });
  });

  it('writes `qlikId` beside `id` for a group principal too, and reads it back without it', async () => {
    const r = await created({ target: { kind: 'group', id: 'g-neutral', name: 'Neutral' } });
    expect(JSON.parse((await redis.hget(keys.request(r.id), 'target'))!)).toEqual({
      kind: 'group',
      id: 'g-neutral',
      qlikId: 'g-neutral',
      name: 'Neutral',
    });
    expect((await store.get(r.id))?.target).toEqual({ kind: 'group', id: 'g-neutral', name: 'Neutral' });
  });
});
