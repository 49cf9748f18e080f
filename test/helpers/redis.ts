// Each test file gets its own key prefix in the one real Redis, and removes its keys afterwards.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/store/redis.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(label = 'test'): string {
  return `qab-test:${label}:${randomBytes(4).toString('hex')}`;
}

export function testRedis(): Redis {
  return createRedis(REDIS_URL, 'command');
}

/** Deletes every key under the prefix (SCAN, never KEYS). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
