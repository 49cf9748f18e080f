// The sandbox's Redis: the one at REDIS_URL when it answers, and a REDIS_URL that does not answer refused; with no
// REDIS_URL, a throwaway redis-server from PATH that is gone after stop(); otherwise exact install instructions.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureRedis, findOnPath, freePort, redisAnswers } from '../../src/sandbox/local-redis.ts';
import { REDIS_URL } from '../helpers/redis.ts';

async function deadUrl(): Promise<string> {
  return `redis://127.0.0.1:${await freePort()}`;
}

describe('ensureRedis', () => {
  it('uses the Redis at the URL when it answers, and leaves it running', async () => {
    const r = await ensureRedis({ url: REDIS_URL });
    expect(r.kind).toBe('existing');
    expect(r.url).toBe(REDIS_URL);
    if (r.kind === 'existing' || r.kind === 'started') await r.stop();
    expect(await redisAnswers(REDIS_URL)).toBe(true);
  });

  const redisServer = findOnPath('redis-server');
  it.skipIf(!redisServer)(
    'starts redis-server from PATH on a free port when none answers, and stops it',
    async () => {
      const url = await deadUrl();
      expect(await redisAnswers(url)).toBe(false);
      const r = await ensureRedis({ url: undefined, defaultUrl: url, pathVar: dirname(redisServer!) });
      expect(r.kind).toBe('started');
      if (r.kind !== 'started') return;
      expect(r.url).not.toBe(url);
      expect(await redisAnswers(r.url)).toBe(true);
      await r.stop();
      expect(await redisAnswers(r.url)).toBe(false);
      expect(existsSync(`/proc/${r.pid}`)).toBe(false);
    },
  );

  it.skipIf(!redisServer)(
    'refuses a REDIS_URL that does not answer instead of starting another Redis in its place',
    async () => {
      const url = `redis://:hunter2@127.0.0.1:${await freePort()}`;
      const r = await ensureRedis({ url, pathVar: dirname(redisServer!) });
      expect(r.kind).toBe('refused');
      if (r.kind !== 'refused') return;
      expect(r.message).toContain(`REDIS_URL is set to redis://:***@127.0.0.1:`);
      expect(r.message).toContain('does not put another Redis in its place');
      expect(r.message).toContain('unset REDIS_URL');
      expect(r.message).not.toContain('hunter2');
    },
  );

  it('explains how to install Redis when none answers and there is no redis-server', async () => {
    const url = await deadUrl();
    const r = await ensureRedis({ url: undefined, defaultUrl: url, pathVar: '/nonexistent-dir' });
    expect(r.kind).toBe('missing');
    if (r.kind !== 'missing') return;
    expect(r.instructions).toContain(url);
    expect(r.instructions).toMatch(/apt-get install -y redis-server/);
    expect(r.instructions).toMatch(/brew install redis/);
    expect(r.instructions).toMatch(/docker run .*redis:7/);
    expect(r.instructions).toMatch(/REDIS_URL=/);
  });
});
