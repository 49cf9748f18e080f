// PrincipalLock against the real Redis, each "process" on its own connection: mutual exclusion per key,
// parallelism across keys, release on throw, renewal, bounded waits, and the abort signal when the lock is lost.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKeys } from '../../src/store/keys.ts';
import { LockLostError, LockTimeoutError, PrincipalLock } from '../../src/store/principal-lock.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

const prefix = `{${uniquePrefix('lock')}}`;
const keys = storeKeys(prefix);
let redis: Redis;
const conns: Redis[] = [];
const locks: PrincipalLock[] = [];

/** A PrincipalLock on its own connection, as another process would have. */
function processLock(): PrincipalLock {
  const c = testRedis();
  conns.push(c);
  const lock = new PrincipalLock(c, prefix);
  locks.push(lock);
  return lock;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function aborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );
}

beforeAll(() => {
  redis = testRedis();
});

afterAll(async () => {
  await Promise.all(locks.map((l) => l.close()));
  await dropPrefix(redis, prefix);
  await Promise.all([redis, ...conns].map((c) => c.quit()));
});

describe('PrincipalLock', () => {
  it('never lets two holders of the same principal overlap, across processes', async () => {
    const procs = [processLock(), processLock(), processLock()];
    const intervals: [number, number][] = [];
    let inside = 0;
    let maxInside = 0;
    let clock = 0; // a logical clock: every start and end gets the next tick
    await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        procs[i % 3]!.withLock(
          'user:q-shared',
          async () => {
            const start = ++clock;
            inside++;
            maxInside = Math.max(maxInside, inside);
            // Real awaits inside the critical section, so other holders would get a chance to run.
            await redis.incr(`${prefix}:counter`);
            await new Promise((r) => setImmediate(r));
            await redis.get(`${prefix}:counter`);
            inside--;
            intervals.push([start, ++clock]);
          },
          { waitMs: 20_000 },
        ),
      ),
    );
    expect(maxInside).toBe(1);
    expect(intervals).toHaveLength(15);
    intervals.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < intervals.length; i++) expect(intervals[i]![0]).toBeGreaterThan(intervals[i - 1]![1]);
    expect(await redis.exists(keys.lock('user:q-shared'))).toBe(0);
  });

  it('runs different principals in parallel', async () => {
    const [a, b] = [processLock(), processLock()];
    const bStarted = deferred();
    // If the two keys excluded each other, A would wait for B forever and B would time out.
    const results = await Promise.all([
      a.withLock(
        'user:q-a',
        async () => {
          await bStarted.promise;
          return 'a';
        },
        { waitMs: 5_000 },
      ),
      b.withLock(
        'group:q-b',
        async () => {
          bStarted.resolve();
          return 'b';
        },
        { waitMs: 5_000 },
      ),
    ]);
    expect(results).toEqual(['a', 'b']);
  });

  it('releases the lock when the work throws, and passes the error on', async () => {
    const lock = processLock();
    await expect(
      lock.withLock('user:q-throws', async () => {
        expect(await redis.exists(keys.lock('user:q-throws'))).toBe(1);
        throw new Error('Qlik said 403');
      }),
    ).rejects.toThrow('Qlik said 403');
    expect(await redis.exists(keys.lock('user:q-throws'))).toBe(0);
    // Free at once: a single attempt succeeds.
    await expect(processLock().withLock('user:q-throws', async () => 'next', { waitMs: 0 })).resolves.toBe(
      'next',
    );
  });

  it('gives up with LockTimeoutError when the wait runs out', async () => {
    const holder = processLock();
    const waiter = processLock();
    const release = deferred();
    const held = deferred();
    const holding = holder.withLock('user:q-busy', async () => {
      held.resolve();
      await release.promise;
      return 'done';
    });
    await held.promise;
    const err = await waiter
      .withLock('user:q-busy', async () => 'never', { waitMs: 100 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect((err as LockTimeoutError).principalKey).toBe('user:q-busy');
    expect((err as Error).message).toContain('try again');
    release.resolve();
    expect(await holding).toBe('done');
    // Once released, the waiter gets its turn.
    await expect(waiter.withLock('user:q-busy', async () => 'mine', { waitMs: 5_000 })).resolves.toBe('mine');
  });

  it('renews the lock while a long holder works', async () => {
    const holder = processLock();
    const other = processLock();
    const ttlMs = 300;
    const stillAborted = await holder.withLock(
      'user:q-long',
      async (signal) => {
        // The work itself must outlast the ttl several times over: that is what is being tested.
        await new Promise((r) => setTimeout(r, 2.5 * ttlMs));
        expect(await redis.get(keys.lock('user:q-long'))).not.toBeNull();
        const err = await other
          .withLock('user:q-long', async () => 'stolen', { waitMs: 50 })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LockTimeoutError);
        return signal.aborted;
      },
      { ttlMs },
    );
    expect(stillAborted).toBe(false);
    expect(await redis.exists(keys.lock('user:q-long'))).toBe(0);
  });

  it('aborts the signal when the lock is taken over, and leaves the new holder alone', async () => {
    const lock = processLock();
    const key = keys.lock('user:q-stolen');
    const reason = await lock.withLock(
      'user:q-stolen',
      async (signal) => {
        await redis.set(key, 'someone-else', 'PX', 10_000);
        return aborted(signal);
      },
      { ttlMs: 90 },
    );
    expect(reason).toBeInstanceOf(LockLostError);
    expect((reason as LockLostError).principalKey).toBe('user:q-stolen');
    expect(await redis.get(key)).toBe('someone-else');
    await redis.del(key);
  });

  it('aborts the signal when the lock expired under the holder', async () => {
    const lock = processLock();
    const reason = await lock.withLock(
      'user:q-expired',
      async (signal) => {
        await redis.del(keys.lock('user:q-expired')); // as if the ttl ran out during a stall
        return aborted(signal);
      },
      { ttlMs: 90 },
    );
    expect(reason).toBeInstanceOf(LockLostError);
  });
});
