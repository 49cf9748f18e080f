// The transitions module against the real store and queues: a move writes its audit event in the same script,
// counts the metric and queues what the new state asks for; a refused move does none of it; followUps re-ensures.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApproval, file, followUps, type TransitionDeps, transition } from '../../src/app/transitions.ts';
import type { RoleChangeRequest } from '../../src/domain/request.ts';
import { requestTransitions } from '../../src/observability/metrics.ts';
import { jobIds, openQueues, type Queues } from '../../src/queue/queues.ts';
import { AuditLog, type StoredAuditEvent } from '../../src/store/audit-log.ts';
import { storeKeys } from '../../src/store/keys.ts';
import { RequestStore } from '../../src/store/request-store.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';
import { readFixture } from '../upgrade/fixture.ts';
import { restorePrefix } from '../upgrade/redis-snapshot.ts';

const NOW = 1_750_000_000_000;
let redis: Redis;
let prefix: string;
let store: RequestStore;
let audit: AuditLog;
let queues: Queues;
let deps: TransitionDeps;
let seq = 0;

beforeAll(() => {
  redis = testRedis();
  prefix = uniquePrefix('app-transitions');
  store = new RequestStore(redis, prefix);
  audit = new AuditLog(redis, prefix);
  queues = openQueues(redis, prefix);
  deps = { store, queues, now: () => NOW };
});
afterAll(async () => {
  await queues?.close();
  await dropPrefix(redis, prefix);
  await redis.quit();
});

async function counted(state: string): Promise<number> {
  const m = await requestTransitions.get();
  return m.values.find((v) => v.labels.state === state)?.value ?? 0;
}

async function events(id: string): Promise<StoredAuditEvent[]> {
  const out: StoredAuditEvent[] = [];
  for await (const e of audit.since(0)) if (e.requestId === id) out.push(e);
  return out;
}

async function filed(durationMs?: number): Promise<RoleChangeRequest> {
  seq++;
  const res = await file(
    deps,
    {
      action: 'grant',
      target: { kind: 'user', id: `q-${seq}`, name: `User ${seq}`, email: `u${seq}@corp.example` },
      entitlement: { id: 'r-1', name: 'Steward' },
      requester: { front: 'slack', id: 'U0REQ' },
      expiresAt: NOW + 3_600_000,
      approvalsRequired: 1,
      ...(durationMs === undefined ? {} : { durationMs }),
    },
    { actor: 'U0REQ', outcome: 'pending', detail: 'grant' },
  );
  if (!res.ok) throw new Error('duplicate');
  return res.request;
}

describe('transitions', () => {
  it('files with a requested event and counts it as pending', async () => {
    const before = await counted('pending');
    const req = await filed();
    expect(await counted('pending')).toBe(before + 1);
    expect((await events(req.id)).map((e) => [e.action, e.actor, e.outcome, e.target, e.role])).toEqual([
      ['requested', 'U0REQ', 'pending', `User ${seq} (u${seq}@corp.example)`, 'Steward'],
    ]);
  });

  it('an approval that completes the request queues its apply; a decision queues its notice', async () => {
    const req = await filed();
    const approved = await addApproval(deps, req, { front: 'slack', id: 'U0APPROVER' });
    expect(approved.outcome).toBe('approved');
    expect(await queues.roleChanges.getJob(jobIds.apply(req.id))).toBeDefined();
    const denied = await filed();
    const before = await counted('denied');
    const order: string[] = [];
    const res = await transition(
      deps,
      denied,
      'pending',
      'denied',
      { deniedBy: { front: 'slack', id: 'U0APPROVER' } },
      { actor: 'U0APPROVER', outcome: 'denied' },
      {
        beforeFollowUps: async (r) => {
          order.push(`before:${r.state}`);
          expect(await queues.notifications.getJob(jobIds.notify(denied.id, 'decision', ''))).toBeUndefined();
          return { refreshed: true };
        },
      },
    );
    expect(res.ok).toBe(true);
    expect(order).toEqual(['before:denied']);
    expect(await counted('denied')).toBe(before + 1);
    const job = await queues.notifications.getJob(jobIds.notify(denied.id, 'decision', ''));
    expect(job?.data).toEqual({ requestId: denied.id, event: 'decision', refreshed: true });
    expect((await events(denied.id)).at(-1)).toMatchObject({
      action: 'denied',
      actor: 'U0APPROVER',
      outcome: 'denied',
      time: NOW,
    });
  });

  it('a refused move writes, counts and queues nothing', async () => {
    const req = await filed();
    await transition(deps, req, 'pending', 'cancelled', {}, { actor: 'U0REQ', outcome: 'cancelled' });
    const before = await counted('denied');
    const res = await transition(deps, req, 'pending', 'denied', {}, { actor: 'U0X', outcome: 'denied' });
    expect(res).toMatchObject({ ok: false, reason: 'wrong-state' });
    expect(await counted('denied')).toBe(before);
    expect((await events(req.id)).map((e) => e.action)).toEqual(['requested', 'cancelled']);
    expect(await queues.notifications.getJob(jobIds.notify(req.id, 'decision', ''))).toBeUndefined();
  });

  it('applied schedules the end of a time-bound grant and the result notice; followUps re-ensures them', async () => {
    const req = await filed(3_600_000);
    await addApproval(deps, req, { front: 'slack', id: 'U0APPROVER' });
    await transition(deps, req, 'approved', 'applying', {}, { actor: 'system', outcome: 'started' });
    const result = {
      before: [],
      after: ['Steward'],
      changed: true,
      message: 'done',
      revokeAt: NOW + 3_600_000,
    };
    const res = await transition(
      deps,
      req,
      'applying',
      'applied',
      { result },
      { actor: 'system', outcome: 'changed', before: [], after: ['Steward'], detail: 'done' },
    );
    if (!res.ok) throw new Error('not applied');
    const revoke = await queues.roleChanges.getJob(jobIds.revokeGrant(req.id, 'expiry'));
    expect(revoke?.opts.delay).toBe(3_600_000);
    expect(await queues.notifications.getJob(jobIds.notify(req.id, 'result', ''))).toBeDefined();
    expect((await events(req.id)).at(-1)).toMatchObject({
      action: 'applied',
      before: [],
      after: ['Steward'],
    });
    // A re-run after a crash: removing both jobs and re-ensuring brings them back.
    await revoke?.remove();
    await (await queues.notifications.getJob(jobIds.notify(req.id, 'result', '')))?.remove();
    await followUps(deps, res.request);
    expect(await queues.roleChanges.getJob(jobIds.revokeGrant(req.id, 'expiry'))).toBeDefined();
    expect(await queues.notifications.getJob(jobIds.notify(req.id, 'result', ''))).toBeDefined();
  });
});

describe('audit events of requests a12d65d filed (its `role` field)', () => {
  // a12d65d's pending R-29H2 as it left it in Redis, and the `requested` event it wrote for it.
  const { fixture } = readFixture('a12d65d');
  const ID = 'R-29H2';
  const auditKey = fixture.keys.find((k) => k.key === '{{prefix}}:audit');
  const entries = (auditKey?.value as { entries: [string, string[]][] } | undefined)?.entries ?? [];
  const oldRequested = entries.map(([, f]) => f).find((f) => f.includes(ID) && f.includes('requested'))!;
  const field = (f: string[], name: string) => f[f.indexOf(name) + 1];

  async function rawEvents(id: string): Promise<string[][]> {
    const all = (await redis.xrange(storeKeys(prefix).audit, '-', '+')) as [string, string[]][];
    return all.map(([, f]) => f).filter((f) => field(f, 'requestId') === id);
  }

  it("an event about an old request, and a new request's own, are written with a12d65d's fields, byte for byte", async () => {
    expect(oldRequested).toBeDefined();
    const wanted = new Set([
      `{{prefix}}:req:${ID}`,
      '{{prefix}}:dedupe:grant:user:6592008049cfb1651300001f:6592008049cfb16513000004',
    ]);
    await restorePrefix(
      redis,
      fixture.keys.filter((k) => wanted.has(k.key)),
      prefix,
    );
    const old = await store.get(ID);
    if (!old) throw new Error('restored request did not load');

    const res = await transition(
      deps,
      old,
      'pending',
      'cancelled',
      { cancelledBy: old.requester },
      {
        actor: 'U0DAN',
        outcome: 'cancelled',
      },
    );
    expect(res.ok).toBe(true);
    const [cancelled] = await rawEvents(ID);
    expect(cancelled).toBeDefined();
    expect(field(cancelled!, 'role')).toBe('TenantAdmin');
    expect(field(cancelled!, 'role')).toBe(field(oldRequested, 'role'));
    expect(field(cancelled!, 'target')).toBe(field(oldRequested, 'target'));

    // The same request filed today: its `requested` event is a12d65d's but for its time and id.
    const again = await file(
      deps,
      {
        action: 'grant',
        target: { kind: 'user', id: old.target.id, name: 'Frank Fischer', email: 'frank@corp.example' },
        entitlement: old.entitlement,
        requester: old.requester,
        durationMs: 7_200_000,
        expiresAt: NOW + 3_600_000,
        approvalsRequired: 2,
      },
      { actor: 'U0DAN', outcome: 'pending', detail: 'grant for 120 min because incident 4711' },
    );
    if (!again.ok) throw new Error('duplicate');
    const [requested] = await rawEvents(again.request.id);
    const comparable = (f: string[]) =>
      f.map((v, i) => (f[i - 1] === 'time' || f[i - 1] === 'requestId' ? '*' : v));
    // a12d65d's fields first, byte for byte; then the hash chain's two (which a12d65d's reader ignores).
    expect(comparable(requested!.slice(0, oldRequested.length))).toEqual(comparable(oldRequested));
    expect(requested!.slice(oldRequested.length).filter((_, i) => i % 2 === 0)).toEqual(['prev', 'hash']);
  });
});
