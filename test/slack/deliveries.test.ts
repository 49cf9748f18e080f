// Telling a redelivered slash command from its first delivery: one claim per trigger_id in Redis, and a command
// that counts as first whenever Redis can't say (an error, or no answer in time).
import { afterAll, describe, expect, it } from 'vitest';
import { redisCommandClaims } from '../../src/slack/deliveries.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

const redis = testRedis();
const prefix = uniquePrefix('deliveries');
afterAll(async () => {
  await dropPrefix(redis, prefix);
  await redis.quit();
});

describe('claiming a command by its trigger_id', () => {
  it('the first delivery claims it; a second delivery of the same command does not', async () => {
    const claim = redisCommandClaims(redis, prefix);
    expect(await claim('13345224609.738474920.8088930838d88f008e0')).toBe(true);
    expect(await claim('13345224609.738474920.8088930838d88f008e0')).toBe(false);
    expect(await claim('13345224610.738474920.8088930838d88f008e1')).toBe(true);
    expect(
      await redis.ttl(`${prefix}:slack:command:13345224609.738474920.8088930838d88f008e0`),
    ).toBeGreaterThan(60);
  });

  it('counts as first when Redis fails or does not answer in time', async () => {
    const failing = redisCommandClaims(
      { set: () => Promise.reject(new Error('ECONNREFUSED')) } as never,
      prefix,
    );
    expect(await failing('t1')).toBe(true);
    const hanging = redisCommandClaims({ set: () => new Promise(() => {}) } as never, prefix, 20);
    expect(await hanging('t2')).toBe(true);
  });
});
