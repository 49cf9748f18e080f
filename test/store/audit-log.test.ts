// AuditLog against the real Redis: field round-trip, newest-first reads with filters across pages, oldest-first
// paging for exports, and the approximate trim.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEvent, AuditLog, auditFields, parseAuditEntry } from '../../src/store/audit-log.ts';
import { storeKeys } from '../../src/store/keys.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

let redis: Redis;
const prefixes: string[] = [];

function freshLog(opts?: { maxLen?: number }): { log: AuditLog; prefix: string } {
  const prefix = uniquePrefix('audit');
  prefixes.push(prefix);
  return { log: new AuditLog(redis, prefix, opts), prefix };
}

const base: AuditEvent = {
  time: 1_750_000_000_000,
  actor: 'U-ALICE',
  action: 'requested',
  outcome: 'pending',
};

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

beforeAll(() => {
  redis = testRedis();
});

afterAll(async () => {
  for (const p of prefixes) await dropPrefix(redis, p);
  await redis.quit();
});

describe('encoding', () => {
  it('round-trips every field, arrays included, and leaves absent ones out', async () => {
    const { log } = freshLog();
    const full: AuditEvent = {
      time: 1_750_000_000_123,
      requestId: 'R-7KQ2',
      actor: 'system',
      action: 'applied',
      target: 'Alice (alice@acme.com)',
      role: 'ManagedSpaceCreator',
      before: ['Developer'],
      after: ['Developer', 'ManagedSpaceCreator'],
      outcome: 'changed',
      detail: 'alice now has ManagedSpaceCreator',
    };
    const id = await log.append(full);
    await log.append(base);
    const [second, first] = await log.recent({ limit: 10 });
    // Every event is a link of the hash chain: the first's prev is '' (or the stream's last hash), the second's is the first's.
    expect(first).toEqual({
      ...full,
      id,
      prev: expect.any(String),
      hash: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(second).toEqual({
      ...base,
      id: second!.id,
      prev: first!.hash,
      hash: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(Object.keys(second!).sort()).toEqual(['action', 'actor', 'hash', 'id', 'outcome', 'prev', 'time']);
  });

  it('parses what it wrote and tolerates damaged entries', () => {
    expect(parseAuditEntry('1-0', auditFields({ ...base, before: [] }))).toEqual({
      ...base,
      before: [],
      id: '1-0',
    });
    expect(parseAuditEntry('1750000000000-3', ['before', 'not json', 'actor', 'U-X'])).toEqual({
      id: '1750000000000-3',
      time: 1_750_000_000_000,
      actor: 'U-X',
      action: '',
      outcome: '',
    });
  });

  it('writes to the stream the request store appends to', async () => {
    const { log, prefix } = freshLog();
    await log.append(base);
    expect(await redis.xlen(storeKeys(prefix).audit)).toBe(1);
  });
});

describe('recent', () => {
  it('returns the newest first, up to the limit', async () => {
    const { log } = freshLog();
    for (let i = 0; i < 5; i++) await log.append({ ...base, detail: String(i) });
    expect((await log.recent({ limit: 3 })).map((e) => e.detail)).toEqual(['4', '3', '2']);
    expect((await log.recent({ limit: 50 })).map((e) => e.detail)).toEqual(['4', '3', '2', '1', '0']);
    expect(await log.recent({ limit: 0 })).toEqual([]);
  });

  it('filters by who (actor or target, case-insensitive substring) and role (case-insensitive exact)', async () => {
    const { log } = freshLog();
    await log.append({
      ...base,
      actor: 'U-BOB',
      target: 'Alice (alice@acme.com)',
      role: 'Developer',
      detail: 'a',
    });
    await log.append({
      ...base,
      actor: 'U-ALICE',
      target: 'group Sales',
      role: 'ManagedSpaceCreator',
      detail: 'b',
    });
    await log.append({ ...base, actor: 'system', target: 'Carol', role: 'ManagedSpaceCreator', detail: 'c' });
    await log.append({ ...base, actor: 'system', role: 'ManagedSpaceCreatorPlus', detail: 'd' });
    const details = async (opts: { who?: string; role?: string }) =>
      (await log.recent({ limit: 10, ...opts })).map((e) => e.detail);
    expect(await details({ who: 'ALICE' })).toEqual(['b', 'a']);
    expect(await details({ who: 'u-bob' })).toEqual(['a']);
    expect(await details({ who: 'sales' })).toEqual(['b']);
    expect(await details({ role: 'managedspacecreator' })).toEqual(['c', 'b']);
    expect(await details({ role: 'Managed' })).toEqual([]);
    expect(await details({ who: 'alice', role: 'developer' })).toEqual(['a']);
  });

  it('keeps paging backwards until enough matches are found', async () => {
    const { log, prefix } = freshLog();
    const key = storeKeys(prefix).audit;
    const pipeline = redis.pipeline();
    pipeline.xadd(key, '*', ...auditFields({ ...base, actor: 'U-NEEDLE', detail: 'old' }));
    for (let i = 0; i < 2500; i++) pipeline.xadd(key, '*', ...auditFields({ ...base, detail: `hay ${i}` }));
    pipeline.xadd(key, '*', ...auditFields({ ...base, actor: 'U-NEEDLE', detail: 'new' }));
    await pipeline.exec();
    expect((await log.recent({ limit: 5, who: 'needle' })).map((e) => e.detail)).toEqual(['new', 'old']);
    // A bounded scan stops early rather than reading the whole stream.
    expect((await log.recent({ limit: 5, who: 'needle', maxScan: 100 })).map((e) => e.detail)).toEqual([
      'new',
    ]);
  });
});

describe('since', () => {
  it('pages oldest first over more events than one batch', async () => {
    const { log } = freshLog();
    for (let i = 0; i < 25; i++) await log.append({ ...base, detail: String(i) });
    const all = await collect(log.since(0, { batch: 7 }));
    expect(all.map((e) => e.detail)).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
    expect(new Set(all.map((e) => e.id)).size).toBe(25);
    // Exactly a multiple of the batch size ends cleanly too.
    expect(await collect(log.since(0, { batch: 5 }))).toHaveLength(25);
  });

  it('starts at the given time', async () => {
    const { log } = freshLog();
    const firstId = await log.append({ ...base, detail: 'first' });
    const firstMs = Number(firstId.split('-')[0]);
    expect((await collect(log.since(firstMs))).map((e) => e.detail)).toEqual(['first']);
    expect(await collect(log.since(firstMs + 60_000))).toEqual([]);
  });
});

describe('trim', () => {
  it('caps the stream at about maxLen', async () => {
    const { log, prefix } = freshLog({ maxLen: 10 });
    for (let i = 0; i < 300; i++) await log.append({ ...base, detail: String(i) });
    const len = await redis.xlen(storeKeys(prefix).audit);
    expect(len).toBeGreaterThanOrEqual(10);
    expect(len).toBeLessThan(300);
  });
});
