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

export { dropPrefix } from '../../src/store/redis.ts';
