// The Redis-backed Qlik budget against the real Redis: two limiters on separate connections split one budget and
// both progress; other credentials are independent; a block (also from a real 429 through QlikClient) makes every
// process wait, including callers already holding a reservation; key names carry a hash, never the API key; and
// with Redis down or gone the limiter falls back to counting in process, says so once, and recovers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { QlikClient } from '../../src/qlik/client.ts';
import { QlikError } from '../../src/qlik/errors.ts';
import { RateLimiterClosedError, type RateTier } from '../../src/qlik/rate-limiter.ts';
import {
  credentialId,
  SharedRateLimiter,
  type SharedRateLimiterOptions,
} from '../../src/qlik/shared-rate-limiter.ts';
import { createRedis } from '../../src/store/redis.ts';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../helpers/redis.ts';

const TENANT = 'https://acme.eu.qlikcloud.com';
const API_KEY = 'eyJhbGciOiJFUzM4NCJ9.shared-limiter-test-key.c2lnbmF0dXJl';

let admin: Redis;
let prefix: string;
const connections: Redis[] = [];
const limiters: SharedRateLimiter[] = [];

beforeAll(() => {
  admin = testRedis();
  prefix = uniquePrefix('shared-rate');
});

afterAll(async () => {
  for (const l of limiters) l.close();
  await dropPrefix(admin, prefix);
  await Promise.all([admin, ...connections].map((c) => c.quit().catch(() => c.disconnect())));
});

/** A limiter on its own connection, as in a separate process. */
function limiter(opts: Partial<SharedRateLimiterOptions> = {}): SharedRateLimiter {
  const redis = opts.redis ?? createRedis(REDIS_URL, 'command');
  if (!opts.redis) connections.push(redis as Redis);
  const l = new SharedRateLimiter({ redis, prefix, tenantUrl: TENANT, apiKey: API_KEY, ...opts });
  limiters.push(l);
  return l;
}

/** Collects onWait calls and lets a test await the next one. */
function waitRecorder() {
  const seen: { tier: RateTier; ms: number }[] = [];
  let notify: (() => void) | undefined;
  return {
    onWait: (tier: RateTier, ms: number) => {
      seen.push({ tier, ms });
      notify?.();
    },
    /** The count-th wait; fails instead of hanging when it never comes. */
    async next(count: number): Promise<{ tier: RateTier; ms: number }> {
      const deadline = performance.now() + 10_000;
      while (seen.length < count) {
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`expected wait #${count}, saw ${seen.length}`);
        await new Promise<void>((r) => {
          notify = r;
          setTimeout(r, left);
        });
      }
      return seen[count - 1]!;
    },
    seen,
  };
}

function settleWithin<T>(p: Promise<T>, ms: number): Promise<'settled' | 'timeout'> {
  return Promise.race([
    p.then(() => 'settled' as const),
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms)),
  ]);
}

async function keysUnder(p: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

describe('SharedRateLimiter', () => {
  it('two processes sharing one credential split one budget, and both make progress', async () => {
    const apiKey = `${API_KEY}-split`;
    const limits = { read: { perMinute: 600, burst: 5 } }; // 10/s
    const a = limiter({ apiKey, limits });
    const b = limiter({ apiKey, limits });
    const grants = { a: 0, b: 0 };
    const loop = async (l: SharedRateLimiter, name: 'a' | 'b') => {
      for (;;) {
        try {
          await l.acquire('read');
        } catch (e) {
          expect(e).toBeInstanceOf(RateLimiterClosedError);
          return;
        }
        grants[name] += 1;
      }
    };
    const started = performance.now();
    const loops = [
      ...Array.from({ length: 8 }, () => loop(a, 'a')),
      ...Array.from({ length: 8 }, () => loop(b, 'b')),
    ];
    await new Promise((r) => setTimeout(r, 2_500));
    a.close();
    b.close();
    const elapsedS = (performance.now() - started) / 1000;
    await Promise.all(loops);

    const total = grants.a + grants.b;
    // Never more than the bucket plus what refilled meanwhile; each process alone would have allowed twice that.
    expect(total).toBeLessThanOrEqual(5 + Math.ceil(10 * elapsedS) + 1);
    expect(total).toBeGreaterThanOrEqual(10);
    expect(grants.a).toBeGreaterThanOrEqual(Math.floor(total / 5));
    expect(grants.b).toBeGreaterThanOrEqual(Math.floor(total / 5));
  });

  it('keeps credentials apart: another key (or tenant) has its own budget', async () => {
    const limits = { write: { perMinute: 1, burst: 3 } };
    const rec = waitRecorder();
    const a = limiter({ apiKey: `${API_KEY}-one`, limits, onWait: rec.onWait });
    const b = limiter({ apiKey: `${API_KEY}-two`, limits });
    const c = limiter({ apiKey: `${API_KEY}-one`, tenantUrl: 'https://other.us.qlikcloud.com', limits });
    for (let i = 0; i < 3; i++) await a.acquire('write');
    // Had they shared a bucket, these would wait a minute per token.
    const bGrants = Promise.all([b.acquire('write'), b.acquire('write'), b.acquire('write')]);
    expect(await settleWithin(bGrants, 5_000)).toBe('settled');
    const cGrants = Promise.all([c.acquire('write'), c.acquire('write'), c.acquire('write')]);
    expect(await settleWithin(cGrants, 5_000)).toBe('settled');
    // …while a's own bucket is empty.
    const fourth = a.acquire('write');
    expect((await rec.next(1)).ms).toBeGreaterThan(30_000);
    a.close();
    await expect(fourth).rejects.toBeInstanceOf(RateLimiterClosedError);
    expect(new Set([a.credential, b.credential, c.credential]).size).toBe(3);
  });

  it('a block from one process makes the others wait, voiding reservations made before it', async () => {
    const apiKey = `${API_KEY}-block`;
    const limits = { write: { perMinute: 60, burst: 1 } };
    const recB = waitRecorder();
    const a = limiter({ apiKey, limits });
    const b = limiter({ apiKey, limits, onWait: recB.onWait });
    await a.acquire('write'); // the only token
    const waiting = b.acquire('write');
    const reservation = await recB.next(1);
    expect(reservation.ms).toBeGreaterThan(0);
    expect(reservation.ms).toBeLessThanOrEqual(1_000);

    await a.block('write', 60_000); // a 429 with Retry-After: 60
    // b wakes at its reservation, finds it voided, and queues behind the block.
    const requeued = await recB.next(2);
    expect(requeued.ms).toBeGreaterThan(50_000);
    expect(b.blockedFor('write')).toBeGreaterThan(50_000);
    expect(b.pending('write')).toBe(1);

    // A process that starts now learns the block from Redis; other tiers are not blocked.
    const recC = waitRecorder();
    const c = limiter({ apiKey, limits, onWait: recC.onWait });
    expect(c.blockedFor('write')).toBe(0);
    const cWaiting = c.acquire('write');
    expect((await recC.next(1)).ms).toBeGreaterThan(50_000);
    expect(c.blockedFor('write')).toBeGreaterThan(50_000);
    await c.acquire('read');
    expect(recC.seen).toHaveLength(1);

    // A shorter block does not shorten it.
    await a.block('write', 1_000);
    const recE = waitRecorder();
    const e = limiter({ apiKey, limits, onWait: recE.onWait });
    const eWaiting = e.acquire('write');
    expect((await recE.next(1)).ms).toBeGreaterThan(50_000);

    for (const l of [b, c, e]) l.close();
    await expect(waiting).rejects.toBeInstanceOf(RateLimiterClosedError);
    await expect(cWaiting).rejects.toBeInstanceOf(RateLimiterClosedError);
    await expect(eWaiting).rejects.toBeInstanceOf(RateLimiterClosedError);
  });

  it('plugs into QlikClient: a real 429 blocks the tier for every process', async () => {
    let calls = 0;
    const server: Server = createServer((_req, res) => {
      calls += 1;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
      res.end(JSON.stringify({ errors: [{ code: 'HTTP-429', title: 'API rate limit reached.' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const tenantUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const apiKey = `${API_KEY}-client`;
    const shared = limiter({ tenantUrl, apiKey });
    const client = new QlikClient({ tenantUrl, apiKey, limiter: shared, maxRetries: 0 });
    try {
      const err = await client.whoAmI().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(QlikError);
      expect((err as QlikError).kind).toBe('rate-limited');
      expect(calls).toBe(1);
      expect(client.limiter.blockedFor('read')).toBeGreaterThan(25_000);

      const rec = waitRecorder();
      const other = limiter({ tenantUrl, apiKey, onWait: rec.onWait });
      const waiting = other.acquire('read');
      // The block is written without awaiting; the other process sees it once Redis has it.
      expect((await rec.next(1)).ms).toBeGreaterThan(25_000);
      other.close();
      await expect(waiting).rejects.toBeInstanceOf(RateLimiterClosedError);
    } finally {
      await client.close(); // does not close a limiter it was given
      await new Promise<void>((r) => server.close(() => r()));
    }
    await expect(shared.acquire('write')).resolves.toBeUndefined();
  });

  it('names keys by a short hash of the credential, never the API key', async () => {
    const keys = await keysUnder(prefix);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatch(/:qlik-rate:[0-9a-f]{16}:(read|write|filter)$/);
      expect(key.startsWith(`${prefix}:qlik-rate:`)).toBe(true);
      expect(key).not.toContain(API_KEY);
      expect(key).not.toContain('shared-limiter-test-key');
    }
    expect(credentialId(TENANT, API_KEY)).toBe(credentialId(`${TENANT}/`, API_KEY));
    expect(credentialId(TENANT, API_KEY)).not.toBe(credentialId(TENANT, `${API_KEY}x`));
  });

  it('works under a Cluster-style hash-tag prefix', async () => {
    const tagged = `{${prefix}}`;
    const l = limiter({ prefix: tagged, apiKey: `${API_KEY}-tag` });
    await l.acquire('read');
    expect(l.key('read').startsWith(`${tagged}:qlik-rate:`)).toBe(true);
    expect(await admin.exists(l.key('read'))).toBe(1);
    await dropPrefix(admin, tagged);
  });

  it('falls back to an in-process bucket when Redis is unreachable, warning once without the key', async () => {
    const port = await closedPort();
    const down = createRedis(`redis://127.0.0.1:${port}`, 'command');
    down.on('error', () => {});
    const lines: string[] = [];
    const logger = createLogger('info', { write: (s: string) => void lines.push(s) });
    const fallbacks: Error[] = [];
    const l = limiter({
      redis: down,
      logger,
      onFallback: (e) => fallbacks.push(e),
      redisTimeoutMs: 200,
      limits: { read: { perMinute: 60_000, burst: 20 } },
    });
    try {
      for (let i = 0; i < 10; i++) await l.acquire('read');
      await l.block('write', 5_000); // never rejects, and still holds in this process
      expect(l.blockedFor('write')).toBeGreaterThan(4_000);
      expect(l.shared).toBe(false);
      expect(fallbacks).toHaveLength(1);
      const warnings = lines.filter((s) => JSON.parse(s).level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(l.credential);
      for (const s of lines) expect(s).not.toContain(API_KEY);
    } finally {
      l.close();
      down.disconnect();
    }
  });

  it('recovers the shared budget when Redis answers again', async () => {
    const redis = createRedis(REDIS_URL, 'command');
    redis.on('error', () => {});
    connections.push(redis);
    let fallbacks = 0;
    let recoveries = 0;
    const l = limiter({
      redis,
      apiKey: `${API_KEY}-recover`,
      onFallback: () => fallbacks++,
      onRecover: () => recoveries++,
    });
    await l.acquire('read');
    expect(l.shared).toBe(true);
    redis.disconnect();
    await l.acquire('read');
    await l.acquire('read');
    expect(l.shared).toBe(false);
    expect(fallbacks).toBe(1);
    await redis.connect();
    await l.acquire('read');
    expect(l.shared).toBe(true);
    expect(recoveries).toBe(1);
    expect(Number(await admin.hget(l.key('read'), 'tokens'))).toBeLessThan(100);
  });
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
