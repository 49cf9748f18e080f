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
      QLIK_TENANT_URL: 'tenant-zq',
      PORT: 'eighty',
      REQUEST_TTL: 'soon',
      APPROVERS: 'U0123ABCD,bob',
      REDIS_URL: 'http://x',
      LOG_LEVEL: 'shouty',
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
    expect(text).not.toContain('SECRET1');
    expect(text).not.toContain(base.QLIK_API_KEY);
    // No value at all, not even a harmless-looking one, and our own words rather than the library's.
    for (const value of ['bob', 'tenant-zq', 'eighty', 'soon', 'shouty', 'http://x'])
      expect(text).not.toContain(value);
    expect(text).not.toMatch(/Invalid input|Invalid option|received|NaN/);
    expect(problems).toContain('PORT: expected a whole number from 0 to 65535');
    expect(problems).toContain(
      'APPROVERS: expected Slack user ids (U…/W…) or user group ids (S…), separated by commas, not names; entry 2 of 2 is not',
    );
    expect(problems).toContain('LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent');
  });

  it('words every number and switch itself', () => {
    const problems = problemsOf({
      ...base,
      QLIK_READS_PER_MINUTE: '0',
      QLIK_WRITES_PER_MINUTE: '1.5',
      QLIK_FILTER_PER_MINUTE: '-3',
      WORKER_CONCURRENCY: 'many',
      BULL_BOARD: 'maybe',
      PORT: '70000',
    });
    expect(problems).toEqual([
      'PORT: expected a whole number from 0 to 65535',
      'QLIK_READS_PER_MINUTE: expected a whole number of 1 or more',
      'QLIK_WRITES_PER_MINUTE: expected a whole number of 1 or more',
      'QLIK_FILTER_PER_MINUTE: expected a whole number of 1 or more',
      'WORKER_CONCURRENCY: expected a whole number of 1 or more',
      'BULL_BOARD: expected on or off',
    ]);
    expect(loadConfig({ ...base, PORT: '0', WORKER_CONCURRENCY: '4' })).toMatchObject({
      port: 0,
      workerConcurrency: 4,
    });
  });

  it('reads REVIEW_MAX_HOLDERS (500 unless set) and words a bad one', () => {
    expect(loadConfig(base).reviewMaxHolders).toBe(500);
    expect(loadConfig({ ...base, REVIEW_MAX_HOLDERS: '120' }).reviewMaxHolders).toBe(120);
    expect(problemsOf({ ...base, REVIEW_MAX_HOLDERS: '0' })).toEqual([
      'REVIEW_MAX_HOLDERS: expected a whole number from 1 to 5000',
    ]);
  });

  it.each([
    ['xoxp-1-user-token-SECRET2', 'a user token (xoxp-…)'],
    ['xoxe.xoxp-1-SECRET2', undefined],
    ['xoxe-1-refresh-SECRET2', 'a refresh or rotating token (xoxe-…)'],
    ['xapp-1-SECRET2', 'an app-level token'],
  ])('refuses %s as SLACK_BOT_TOKEN: only a bot token (xoxb-) will do', (token, kind) => {
    const problems = problemsOf({ ...base, SLACK_BOT_TOKEN: token });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^SLACK_BOT_TOKEN: expected the Bot User OAuth Token, which starts with xoxb-/,
    );
    if (kind) expect(problems[0]).toContain(kind);
    expect(problems[0]).not.toContain('SECRET2');
  });

  it.each([
    'https://acme.eu.qlikcloud.com/hub',
    'https://acme.eu.qlikcloud.com/api/v1',
    'https://acme.eu.qlikcloud.com/?tenant=x',
    'https://acme.eu.qlikcloud.com/#/home',
    'ftp://acme.eu.qlikcloud.com',
  ])('refuses QLIK_TENANT_URL %s: the tenant address only', (url) => {
    expect(problemsOf({ ...base, QLIK_TENANT_URL: url })).toEqual([
      expect.stringMatching(/^QLIK_TENANT_URL: expected the tenant address only, such as https:\/\/acme/),
    ]);
  });

  it('keeps a tenant URL with a port, and drops a trailing slash', () => {
    expect(loadConfig({ ...base, QLIK_TENANT_URL: 'http://127.0.0.1:8443/' }).qlik.tenantUrl).toBe(
      'http://127.0.0.1:8443',
    );
  });

  it('drops a trailing colon from QUEUE_PREFIX (the keys add their own)', () => {
    expect(loadConfig({ ...base, QUEUE_PREFIX: 'qlik-sandbox:1a2b:' }).queuePrefix).toBe('qlik-sandbox:1a2b');
    expect(problemsOf({ ...base, QUEUE_PREFIX: ':' })[0]).toMatch(/^QUEUE_PREFIX: /);
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

describe('QLIK_TENANTS (several Qlik tenants)', () => {
  const { QLIK_TENANT_URL: _url, QLIK_API_KEY: _key, ...noTenant } = base;
  const two = {
    ...noTenant,
    QLIK_TENANTS: 'prod=https://acme.eu.qlikcloud.com, dev=https://acme-dev.eu.qlikcloud.com/',
    QLIK_API_KEY_PROD: 'eyJ-prod-secret',
    QLIK_API_KEY_DEV: 'eyJ-dev-secret',
  };

  it('one tenant per name=url pair, the first the default, each with its own key and the shared limits', () => {
    const c = loadConfig({
      ...two,
      QLIK_WRITES_PER_MINUTE: '50',
      QLIK_READS_PER_MINUTE_DEV: '10',
      QLIK_IDENTITY_PROVIDER_DEV: 'Custom',
    });
    expect(c.qlikTenants).toEqual([
      {
        name: 'prod',
        tenantUrl: 'https://acme.eu.qlikcloud.com',
        apiKey: 'eyJ-prod-secret',
        readsPerMinute: 1000,
        writesPerMinute: 50,
        filterPerMinute: 200,
        identityProvider: 'qlik',
      },
      {
        name: 'dev',
        tenantUrl: 'https://acme-dev.eu.qlikcloud.com',
        apiKey: 'eyJ-dev-secret',
        readsPerMinute: 10,
        writesPerMinute: 50,
        filterPerMinute: 200,
        identityProvider: 'custom',
      },
    ]);
    expect(c.qlik).toBe(c.qlikTenants[0]);
    expect(Object.isFrozen(c.qlikTenants[1])).toBe(true);
  });

  it('QLIK_IDENTITY_PROVIDER sets every tenant, QLIK_IDENTITY_PROVIDER_<NAME> one; anything else is named', () => {
    const c = loadConfig({ ...two, QLIK_IDENTITY_PROVIDER: 'custom', QLIK_IDENTITY_PROVIDER_DEV: 'qlik' });
    expect(c.qlikTenants.map((t) => t.identityProvider)).toEqual(['custom', 'qlik']);
    expect(() => loadConfig({ ...two, QLIK_IDENTITY_PROVIDER: 'okta' })).toThrow(
      /QLIK_IDENTITY_PROVIDER: expected qlik .* or custom/,
    );
  });

  it('a name with - finds its key with _ (QLIK_API_KEY_EU_WEST)', () => {
    const c = loadConfig({
      ...noTenant,
      QLIK_TENANTS: 'eu-west=https://acme.eu.qlikcloud.com',
      QLIK_API_KEY_EU_WEST: 'eyJ-eu',
    });
    expect(c.qlikTenants.map((t) => [t.name, t.apiKey])).toEqual([['eu-west', 'eyJ-eu']]);
  });

  it('without QLIK_TENANTS, the one tenant of QLIK_TENANT_URL / QLIK_API_KEY is named default', () => {
    const c = loadConfig(base);
    expect(c.qlikTenants).toEqual([c.qlik]);
    expect(c.qlik.name).toBe('default');
  });

  it('reports every problem at once, by name, never a URL or a key', () => {
    const problems = problemsOf({
      ...noTenant,
      QLIK_TENANT_URL: 'https://secret-host.example',
      QLIK_API_KEY: 'eyJ-leftover-secret',
      QLIK_TENANTS:
        'prod=https://acme.eu.qlikcloud.com/hub,Dev=https://x.example,nourl,qa=ftp://qa-host,prod=https://p2.example,default=https://d.example',
      QLIK_API_KEY_PROD: 'eyJ-prod-secret',
      QLIK_WRITES_PER_MINUTE_PROD: 'lots',
    });
    expect(problems).toEqual([
      'QLIK_TENANT_URL: leave it unset when QLIK_TENANTS is set (each tenant is named there)',
      'QLIK_API_KEY: leave it unset when QLIK_TENANTS is set (each key goes in QLIK_API_KEY_<NAME>)',
      'QLIK_TENANTS: tenant prod: expected the tenant address only, such as https://acme.eu.qlikcloud.com (no path, query or fragment)',
      'QLIK_WRITES_PER_MINUTE_PROD: expected a whole number of 1 or more',
      'QLIK_TENANTS: entry 2: expected name=url, the name lower-case letters, digits and -, starting with a letter (up to 32)',
      'QLIK_TENANTS: entry 3: expected name=url, the name lower-case letters, digits and -, starting with a letter (up to 32)',
      'QLIK_TENANTS: tenant qa: expected the tenant address only, such as https://acme.eu.qlikcloud.com',
      'QLIK_API_KEY_QA: required: the API key of a TenantAdmin service user of tenant qa',
      'QLIK_TENANTS: tenant prod is named twice',
      'QLIK_TENANTS: tenant default must come first (it is the default tenant)',
      'QLIK_API_KEY_DEFAULT: required: the API key of a TenantAdmin service user of tenant default',
    ]);
    const text = problems.join('\n');
    for (const secret of ['secret-host', 'eyJ', 'x.example', 'qa-host', 'lots', 'hub'])
      expect(text).not.toContain(secret);
  });

  it('two tenants at one address are refused', () => {
    expect(
      problemsOf({
        ...two,
        QLIK_TENANTS: 'prod=https://acme.eu.qlikcloud.com,dev=https://acme.eu.qlikcloud.com/',
      }),
    ).toEqual(['QLIK_TENANTS: tenant dev has the same URL as an earlier tenant']);
  });
});
