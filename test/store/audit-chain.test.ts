// The audit stream's hash chain against the real Redis: events appended by AuditLog and by the request store's
// scripts chain in one sequence, also when appended at once; the verifier finds the first edited, deleted or
// reordered event, takes events from before the chain as unchained, and refuses an unchained event inside the chain.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit-cli.ts';
import { eventHash, verifyChain } from '../../src/store/audit-chain.ts';
import { type AuditEvent, AuditLog, auditFields } from '../../src/store/audit-log.ts';
import { storeKeys } from '../../src/store/keys.ts';
import { RequestStore } from '../../src/store/request-store.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

let redis: Redis;
const prefixes: string[] = [];
beforeAll(() => {
  redis = testRedis();
});
afterAll(async () => {
  for (const p of prefixes) await dropPrefix(redis, p);
  await redis.quit();
});

function fresh(): { prefix: string; log: AuditLog; key: string } {
  const prefix = uniquePrefix('audit-chain');
  prefixes.push(prefix);
  return { prefix, log: new AuditLog(redis, prefix), key: storeKeys(prefix).audit };
}

const ev = (i: number, extra: Partial<AuditEvent> = {}): AuditEvent => ({
  time: 1_750_000_000_000 + i,
  actor: `U${i}`,
  action: 'approved',
  outcome: 'ok',
  detail: `event ${i} ünïcödé`,
  ...extra,
});

async function raw(key: string): Promise<{ id: string; fields: string[] }[]> {
  return (await redis.xrange(key, '-', '+')).map(([id, fields]) => ({ id, fields }));
}

async function* of<T>(xs: T[]): AsyncIterable<T> {
  for (const x of xs) yield x;
}

/** A copy of the stream with `change` applied to its events (ids kept in order), as a tamperer would leave it. */
async function tampered(key: string, change: (events: { id: string; fields: string[] }[]) => void) {
  const events = await raw(key);
  change(events);
  return verifyChain(of(events));
}

describe('the audit hash chain', () => {
  it('chains events from AuditLog and from the store scripts in one sequence, also when appended at once', async () => {
    const { prefix, log, key } = fresh();
    const store = new RequestStore(redis, prefix);
    await log.append(ev(1));
    const created = await store.create(
      {
        action: 'grant',
        target: { kind: 'user', id: 'u1', name: 'Alice' },
        entitlement: { id: 'r1', name: 'Steward' },
        requester: { front: 'slack', id: 'U0BOB' },
        expiresAt: Date.now() + 60_000,
        approvalsRequired: 1,
      },
      Date.now(),
      ev(2, { action: 'requested' }),
    );
    expect(created.ok).toBe(true);
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(ev(10 + i))));
    const events = await raw(key);
    expect(events).toHaveLength(42);
    const report = await verifyChain(of(events));
    expect(report).toMatchObject({ events: 42, chained: 42, unchained: 0, firstChained: events[0]!.id });
    expect(report.problem).toBeUndefined();
    // Each event's hash is SHA-1 over its fields before it, and the next one's prev.
    const last = events.at(-1)!.fields;
    expect(report.head).toBe(last[last.length - 1]);
    expect(eventHash(last.slice(0, -2))).toBe(report.head);
  });

  it('finds the first edited, deleted or reordered event', async () => {
    const { log, key } = fresh();
    for (let i = 0; i < 6; i++) await log.append(ev(i));
    const ids = (await raw(key)).map((e) => e.id);
    const edited = await tampered(key, (es) => {
      const f = es[2]!.fields;
      f[f.indexOf('detail') + 1] = 'event 2, quietly changed';
    });
    expect(edited.problem).toMatchObject({ id: ids[2], kind: 'edited' });
    expect(edited.chained).toBe(2);
    const deleted = await tampered(key, (es) => es.splice(3, 1));
    expect(deleted.problem).toMatchObject({ id: ids[4], kind: 'broken' });
    const swapped = await tampered(key, (es) => {
      const a = es[1]!.fields;
      es[1]!.fields = es[4]!.fields;
      es[4]!.fields = a;
    });
    expect(swapped.problem).toMatchObject({ id: ids[1], kind: 'broken' });
    // Recomputing the edited event's own hash is not enough: the next event's prev no longer matches it.
    const rehashed = await tampered(key, (es) => {
      const f = es[2]!.fields;
      f[f.indexOf('detail') + 1] = 'rewritten';
      f[f.length - 1] = eventHash(f.slice(0, -2));
    });
    expect(rehashed.problem).toMatchObject({ id: ids[3], kind: 'broken' });
  });

  it('takes events from before the chain as unchained, and refuses an unchained one inside it', async () => {
    const { log, key } = fresh();
    // Written as versions before the chain did: plain XADD, no prev or hash.
    await redis.xadd(key, '*', ...auditFields(ev(1)));
    await redis.xadd(key, '*', ...auditFields(ev(2)));
    await log.append(ev(3));
    await log.append(ev(4));
    const ok = await verifyChain(of(await raw(key)));
    expect(ok).toMatchObject({ events: 4, unchained: 2, chained: 2 });
    expect(ok.problem).toBeUndefined();
    const first = (await raw(key))[2]!.fields;
    expect(first[first.indexOf('prev') + 1]).toBe('');
    await redis.xadd(key, '*', ...auditFields(ev(5)));
    const after = await verifyChain(of(await raw(key)));
    expect(after.problem).toMatchObject({ kind: 'unchained-after-chain' });
  });

  it('verify says the chain holds with its head, checks an anchored head, and fails in words when broken', async () => {
    const { log, key } = fresh();
    for (let i = 0; i < 3; i++) await log.append(ev(i));
    const lines: string[] = [];
    expect(await verifyAudit(log, {}, (l) => lines.push(l))).toBe(0);
    const head = /Head hash: ([0-9a-f]{40})/.exec(lines.join('\n'))![1]!;
    await log.append(ev(9));
    expect(await verifyAudit(log, { head }, () => {})).toBe(0);
    expect(await verifyAudit(log, { head: 'f'.repeat(40) }, () => {})).toBe(1);
    // Delete an event in the middle: the chain breaks at the one after it.
    const ids = (await raw(key)).map((e) => e.id);
    await redis.xdel(key, ids[1]!);
    const broken: string[] = [];
    expect(await verifyAudit(log, {}, (l) => broken.push(l))).toBe(1);
    expect(broken[0]).toContain(`The audit chain is broken at event ${ids[2]}`);
  });
});
