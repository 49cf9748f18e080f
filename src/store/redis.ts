// Owns Redis connections: the one factory every module uses, so options stay consistent
// (BullMQ workers need maxRetriesPerRequest: null; commands issued by the bot fail fast instead).
import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'command' | 'blocking';

/**
 * Creates an ioredis connection. `blocking` connections (BullMQ workers, queue events) retry forever,
 * as BullMQ requires; `command` connections fail a command after a few retries so users get an answer.
 */
export function createRedis(url: string, role: RedisRole = 'command', extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'blocking' ? null : 3,
    enableReadyCheck: true,
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 5), 5_000),
    lazyConnect: false,
    ...extra,
  });
}
