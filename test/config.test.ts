import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from '../src/config.ts';

const base = {
  SLACK_BOT_TOKEN: 'xoxb-1-secret-bot-token',
  SLACK_SIGNING_SECRET: 'signing-secret-value',
  QLIK_TENANT_URL: 'https://acme.eu.qlikcloud.com/',
  QLIK_API_KEY: 'eyJ-very-secret-key',
  APPROVAL_CHANNEL: 'C0123ABCD',
  APPROVERS: 'U0123ABCD, S0456EFGH',
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('parses a valid environment with defaults into a frozen config', () => {
    const c = loadConfig(base);
    expect(c.qlik.tenantUrl).toBe('https://acme.eu.qlikcloud.com');
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.queuePrefix).toBe('qlikops');
    expect(c.port).toBe(3000);
    expect(c.requestTtlMs).toBe(24 * 3600_000);
    expect(c.approvers).toEqual(['U0123ABCD', 'S0456EFGH']);
    expect(c.qlik.writesPerMinute).toBe(100);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.slack)).toBe(true);
  });

  it('reports every missing required value by name, all at once', () => {
    const problems = problemsOf({});
    const names = problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'SLACK_BOT_TOKEN',
        'QLIK_TENANT_URL',
        'QLIK_API_KEY',
        'SLACK_SIGNING_SECRET',
        'APPROVAL_CHANNEL',
        'APPROVERS',
      ]),
    );
  });

  it('names bad values with what is expected and never echoes a secret', () => {
    const env = {
      ...base,
      SLACK_BOT_TOKEN: 'not-a-token-SECRET1',
      QLIK_TENANT_URL: 'acme',
      PORT: 'eighty',
      REQUEST_TTL: 'soon',
      APPROVERS: 'U0123ABCD,bob',
      REDIS_URL: 'http://x',
      LOG_LEVEL: 'loud',
    };
    const problems = problemsOf(env);
    const text = problems.join('\n');
    for (const name of [
      'SLACK_BOT_TOKEN',
      'QLIK_TENANT_URL',
      'PORT',
      'REQUEST_TTL',
      'APPROVERS',
      'REDIS_URL',
      'LOG_LEVEL',
    ])
      expect(text).toContain(`${name}:`);
    expect(text).toContain('xoxb-');
    expect(text).toContain('bob');
    expect(text).not.toContain('SECRET1');
    expect(text).not.toContain(base.QLIK_API_KEY);
  });

  it('accepts Socket Mode without a signing secret, and a policy file instead of channel/approvers', () => {
    const c = loadConfig({
      SLACK_BOT_TOKEN: base.SLACK_BOT_TOKEN,
      SLACK_APP_TOKEN: 'xapp-1-abc',
      QLIK_TENANT_URL: base.QLIK_TENANT_URL,
      QLIK_API_KEY: base.QLIK_API_KEY,
      POLICY_FILE: '/etc/qlik/policy.yml',
    });
    expect(c.slack.appToken).toBe('xapp-1-abc');
    expect(c.slack.signingSecret).toBeUndefined();
    expect(c.policyFile).toBe('/etc/qlik/policy.yml');
  });
});

describe('REDIS_URL', () => {
  it('accepts standalone, TLS, Sentinel and Cluster URLs', () => {
    for (const url of [
      'redis://127.0.0.1:6379',
      'rediss://:pw@redis.internal:6380/2',
      'redis+sentinel://:pw@s1:26379,s2:26379/mymaster',
      'redis+cluster://n1:7000,n2:7001',
    ])
      expect(loadConfig({ ...base, REDIS_URL: url, QUEUE_PREFIX: '{qlikops}' }).redisUrl).toBe(url);
  });

  it('refuses a malformed URL without showing its password', () => {
    const problems = problemsOf({ ...base, REDIS_URL: 'http://:hunter2@x:6379' }).join('\n');
    expect(problems).toContain('REDIS_URL:');
    expect(problems).not.toContain('hunter2');
  });

  it('asks for a hash-tag prefix with Redis Cluster', () => {
    const problems = problemsOf({ ...base, REDIS_URL: 'redis+cluster://n1:7000' });
    expect(problems.join('\n')).toContain('QUEUE_PREFIX: ');
    expect(problems.join('\n')).toContain('{qlikops}');
  });
});

describe('parseDuration', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['4h', 4 * 3600_000],
    ['2d', 2 * 86_400_000],
    ['1w', 7 * 86_400_000],
    ['45s', 45_000],
    ['4H', 4 * 3600_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '0h', '4', 'h', '-1h', '1.5h', '4 hours', '1y'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});
