// REDIS_URL forms: a single node still connects to the real Redis with the role's retry semantics; Sentinel and
// Cluster URLs become the right ioredis options (no live Sentinel or Cluster here); malformed URLs are refused
// with the password hidden; redaction hides passwords however they are written; Cluster prefixes need a hash tag.
import fc from 'fast-check';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createRedis,
  createRedisConnection,
  type RedisPlan,
  type RedisRole,
  RedisUrlError,
  redactRedisUrl,
  redisPlan,
  validatePrefixForCluster,
} from '../../src/store/redis.ts';
import { REDIS_URL } from '../helpers/redis.ts';

const opened: { disconnect(): void }[] = [];
afterAll(() => {
  for (const c of opened) c.disconnect();
});

function plan<M extends RedisPlan['mode']>(
  mode: M,
  url: string,
  role?: RedisRole,
  extra?: RedisOptions,
): Extract<RedisPlan, { mode: M }> {
  const p = redisPlan(url, role, extra);
  expect(p.mode).toBe(mode);
  return p as Extract<RedisPlan, { mode: M }>;
}

function refused(url: string): RedisUrlError {
  try {
    redisPlan(url);
  } catch (e) {
    expect(e).toBeInstanceOf(RedisUrlError);
    return e as RedisUrlError;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('standalone URLs', () => {
  it('pass redis:// through unchanged, with command or blocking retry semantics', () => {
    const cmd = plan('standalone', 'redis://:pw@10.0.0.5:6380/2');
    expect(cmd.url).toBe('redis://:pw@10.0.0.5:6380/2');
    expect(cmd.options.maxRetriesPerRequest).toBe(3);
    expect(
      plan('standalone', 'rediss://cache.example:6380', 'blocking').options.maxRetriesPerRequest,
    ).toBeNull();
    expect(plan('standalone', 'redis://h', 'command', { lazyConnect: true }).options.lazyConnect).toBe(true);
  });

  it('still connects to the real Redis', async () => {
    const command = createRedis(REDIS_URL, 'command');
    const blocking = createRedis(REDIS_URL, 'blocking');
    opened.push(command, blocking);
    expect(await command.ping()).toBe('PONG');
    expect(await blocking.ping()).toBe('PONG');
    expect(command.options.maxRetriesPerRequest).toBe(3);
    expect(blocking.options.maxRetriesPerRequest).toBeNull();
    const any = createRedisConnection(REDIS_URL);
    opened.push(any);
    expect(any).toBeInstanceOf(Redis);
    expect(await any.ping()).toBe('PONG');
  });
});

describe('Sentinel URLs', () => {
  it('list the Sentinels, the master name, db and the credentials', () => {
    const { options } = plan(
      'sentinel',
      'redis+sentinel://app:p%40ss%3Aw%2Frd@s1.example:26379,s2.example,[fd00::7]:26380/my%20master?db=3',
    );
    expect(options.sentinels).toEqual([
      { host: 's1.example', port: 26379 },
      { host: 's2.example', port: 26379 },
      { host: 'fd00::7', port: 26380 },
    ]);
    expect(options.name).toBe('my master');
    expect(options.db).toBe(3);
    expect(options.username).toBe('app');
    expect(options.password).toBe('p@ss:w/rd');
    expect(options.sentinelPassword).toBeUndefined();
    expect(options.tls).toBeUndefined();
    expect(options.maxRetriesPerRequest).toBe(3);
  });

  it('take the Sentinels own password, TLS, and the blocking role', () => {
    const { options } = plan(
      'sentinel',
      'rediss+sentinel://:master-pw@s1:26379/mymaster?sentinelPassword=s%2Bpw&sentinelUsername=watch',
      'blocking',
    );
    expect(options.password).toBe('master-pw');
    expect(options.username).toBeUndefined();
    expect(options.sentinelPassword).toBe('s+pw');
    expect(options.sentinelUsername).toBe('watch');
    expect(options.tls).toEqual({});
    expect(options.enableTLSForSentinelMode).toBe(true);
    expect(options.maxRetriesPerRequest).toBeNull();
  });

  it('make a Redis that asks the Sentinels for the master', () => {
    const r = createRedis('redis+sentinel://:pw@127.0.0.1:1/mymaster', 'command', { lazyConnect: true });
    opened.push(r);
    expect(r).toBeInstanceOf(Redis);
    expect(r.status).toBe('wait');
    expect(r.options.sentinels).toEqual([{ host: '127.0.0.1', port: 1 }]);
    expect(r.options.name).toBe('mymaster');
  });
});

describe('Cluster URLs', () => {
  it('list the seed nodes and put per-node options under redisOptions', () => {
    const p = plan(
      'cluster',
      'redis+cluster://:s3cret@n1.example:7000,n2.example:7001,n3.example',
      'command',
      {
        lazyConnect: true,
        keyPrefix: 'x:',
        commandTimeout: 2_000,
      },
    );
    expect(p.nodes).toEqual([
      { host: 'n1.example', port: 7000 },
      { host: 'n2.example', port: 7001 },
      { host: 'n3.example', port: 6379 },
    ]);
    expect(p.options.lazyConnect).toBe(true);
    expect(p.options.keyPrefix).toBe('x:');
    expect(p.options.redisOptions?.password).toBe('s3cret');
    expect(p.options.redisOptions?.commandTimeout).toBe(2_000);
    expect(p.options.redisOptions?.maxRetriesPerRequest).toBe(3);
    expect(p.options.redisOptions).not.toHaveProperty('lazyConnect');
    expect(p.options.redisOptions).not.toHaveProperty('tls');
    expect(typeof p.options.clusterRetryStrategy).toBe('function');
  });

  it('blocking connections never give up a command (BullMQ reads redisOptions of a Cluster); rediss uses TLS', () => {
    const p = plan('cluster', 'rediss+cluster://n1:7000', 'blocking');
    expect(p.options.redisOptions?.maxRetriesPerRequest).toBeNull();
    expect(p.options.redisOptions?.tls).toEqual({});
  });

  it('make an ioredis Cluster through createRedisConnection, and are refused by createRedis', () => {
    const c = createRedisConnection('redis+cluster://:s3cret@127.0.0.1:7000,127.0.0.1:7001', 'blocking', {
      lazyConnect: true,
    });
    opened.push(c);
    expect(c).toBeInstanceOf(Cluster);
    expect(c.status).toBe('wait');
    expect((c as Cluster).options.redisOptions?.maxRetriesPerRequest).toBeNull();
    expect(() => createRedis('redis+cluster://:s3cret@127.0.0.1:7000')).toThrow(RedisUrlError);
    expect(() => createRedis('redis+cluster://:s3cret@127.0.0.1:7000')).toThrow(/^(?!.*s3cret).*Cluster/s);
  });
});

describe('malformed URLs', () => {
  it.each([
    ['redis+sentinel://:hunter2@s1:26379', /master name/],
    ['redis+sentinel://:hunter2@s1:26379/', /master name/],
    ['redis+sentinel://:hunter2@s1:99999/m', /port 99999/],
    ['redis+sentinel://:hunter2@s1:26379,/m', /"" is not a host/],
    ['redis+sentinel://:hunter2@/m', /at least one host/],
    ['redis+sentinel://:hunter2@s1/m?db=x', /db must be a whole number/],
    ['redis+sentinel://:hunter2@s1/m?password=x', /unknown parameter "password"/],
    ['redis+cluster://:hunter2@n1:7000/3', /only database 0/],
    ['redis+cluster://:hunter2@n1:7000?db=0', /unknown parameter "db"/],
    ['redis+cluster://:hunter2%@n1:7000', /percent-encoding/],
  ])('%s is refused with a reason, never the password', (url, reason) => {
    const e = refused(url);
    expect(e.message).toMatch(reason);
    expect(e.message).toContain('REDIS_URL');
    expect(e.message).not.toContain('hunter2');
  });
});

describe('redactRedisUrl', () => {
  it.each([
    ['redis://:pw123@h:6379/0', 'redis://:***@h:6379/0'],
    ['redis://user:pw123@h:6379', 'redis://user:***@h:6379'],
    ['rediss://pw123@h', 'rediss://***@h'],
    ['redis://h:6379', 'redis://h:6379'],
    ['redis+sentinel://:pw/1?2#3@s1,s2/m?db=1', 'redis+sentinel://:***@s1,s2/m?db=1'],
    [
      'redis+sentinel://s1/m?sentinelPassword=pw123&db=1&password=pw456',
      'redis+sentinel://s1/m?sentinelPassword=***&db=1&password=***',
    ],
    ['not a url', 'not a url'],
  ])('%s → %s', (url, shown) => {
    expect(redactRedisUrl(url)).toBe(shown);
  });

  it('never shows a password, however it is written, and the parser reads it back', () => {
    const password = fc
      .string({ minLength: 1, maxLength: 30, unit: 'binary' })
      .map((s) => `Pw-${s}`)
      .filter((s) => !s.includes('\u0000'));
    fc.assert(
      fc.property(password, fc.constantFrom('sentinel', 'cluster'), (pw, mode) => {
        const path = mode === 'sentinel' ? '/mymaster' : '';
        const encoded = `redis+${mode}://user:${encodeURIComponent(pw)}@h1:7000,h2:7001${path}`;
        const raw = `redis+${mode}://user:${pw}@h1:7000,h2:7001${path}`;
        for (const url of [encoded, raw]) {
          expect(redactRedisUrl(url)).not.toContain(pw);
          expect(redactRedisUrl(url)).toContain('user:***@');
        }
        const p = redisPlan(encoded);
        const got = p.mode === 'cluster' ? p.options.redisOptions?.password : p.options.password;
        expect(got).toBe(pw);
        try {
          redisPlan(raw);
        } catch (e) {
          expect((e as Error).message).not.toContain(pw);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('validatePrefixForCluster', () => {
  it.each(['{qlikops}', 'app:{qlikops}', '{a}b', 'x{y}z{w}'])('accepts %s', (prefix) => {
    expect(validatePrefixForCluster(prefix)).toBeUndefined();
  });

  it.each([
    ['qlikops', '{qlikops}'],
    ['{}qlikops', '{qlikops}'],
    ['qlikops{', '{qlikops}'],
    ['q}lik{ops', '{qlikops}'],
    ['', '{qlikops}'],
  ])('refuses %s and suggests %s', (prefix, suggestion) => {
    const problem = validatePrefixForCluster(prefix);
    expect(problem).toContain('QUEUE_PREFIX');
    expect(problem).toContain('hash tag');
    expect(problem).toContain(`QUEUE_PREFIX=${suggestion}`);
  });
});
