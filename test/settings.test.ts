// Start-up configuration as one check: every problem of the environment AND the policy file in one message (never a
// value), and the reachability of Redis and Slack after it, one line each instead of the retrying clients' warnings.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redisProblem } from '../src/preflight.ts';
import { freePort } from '../src/sandbox/local-redis.ts';
import { loadSettings, SettingsError } from '../src/settings.ts';
import { REDIS_URL } from './helpers/redis.ts';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'qab-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BAD_POLICY = 'roles:\n  TenantAdmin:\n    approvalsRequired: lots\n    maxDuration: forever\n';
function policyFile(text: string): string {
  const file = join(dir, `policy-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, text);
  return file;
}

const good = {
  SLACK_BOT_TOKEN: 'xoxb-1-secret-bot-token',
  SLACK_SIGNING_SECRET: 'signing-secret-value',
  QLIK_TENANT_URL: 'https://acme.eu.qlikcloud.com',
  QLIK_API_KEY: 'eyJ-very-secret-key',
  APPROVAL_CHANNEL: 'C0123ABCD',
  APPROVERS: 'U0123ABCD',
};

function settingsError(env: NodeJS.ProcessEnv): SettingsError {
  try {
    loadSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError);
    return err as SettingsError;
  }
  throw new Error('expected a SettingsError');
}

describe('loadSettings', () => {
  it('checks the tenants.<name> sections of the policy against QLIK_TENANTS, even when the environment has problems', () => {
    const { QLIK_TENANT_URL: _u, QLIK_API_KEY: _k, ...rest } = good;
    const env = {
      ...rest,
      QLIK_TENANTS: 'prod=https://acme.eu.qlikcloud.com,dev=https://acme-dev.eu.qlikcloud.com',
      QLIK_API_KEY_PROD: 'eyJ-prod',
      QLIK_API_KEY_DEV: 'eyJ-dev',
      POLICY_FILE: policyFile('tenants:\n  dev: { autoApprove: true }\n  qa: { autoApprove: true }\n'),
    };
    expect(settingsError(env).problems).toEqual([
      'tenants.qa: no tenant qa is configured (QLIK_TENANTS names prod, dev)',
    ]);
    expect(settingsError({ ...env, QLIK_API_KEY_DEV: undefined }).problems).toEqual([
      'QLIK_API_KEY_DEV: required: the API key of a TenantAdmin service user of tenant dev',
      'tenants.qa: no tenant qa is configured (QLIK_TENANTS names prod, dev)',
    ]);
    const ok = loadSettings({ ...env, POLICY_FILE: policyFile('tenants:\n  dev: { autoApprove: true }\n') });
    expect(ok.policy.tenants?.get('dev')?.defaults.autoApprove).toBe(true);
  });

  it('reports the environment and the policy file together, in one message', () => {
    const file = policyFile(BAD_POLICY);
    const err = settingsError({
      ...good,
      SLACK_BOT_TOKEN: 'xoxp-1-user-SECRET3',
      PORT: 'eighty',
      APPROVERS: 'alice, bob',
      POLICY_FILE: file,
    });
    expect(err.message).toBe(
      [
        'Invalid configuration:',
        "  - SLACK_BOT_TOKEN: expected the Bot User OAuth Token, which starts with xoxb- (OAuth & Permissions in the app's settings); this is a user token (xoxp-…)",
        '  - PORT: expected a whole number from 0 to 65535',
        '  - APPROVERS: expected Slack user ids (U…/W…) or user group ids (S…), separated by commas, not names; entries 1, 2 of 2 are not',
        `Invalid policy file ${file}:`,
        '  - roles.TenantAdmin.approvalsRequired: expected a whole number of approvals, 1 or more',
        '  - roles.TenantAdmin.maxDuration: expected a duration such as 4h (30m, 4h, 2d or 1w)',
      ].join('\n'),
    );
    for (const value of ['SECRET3', 'eighty', 'alice', 'bob']) expect(err.message).not.toContain(value);
  });

  it('names an unreadable policy file alongside the environment problems', () => {
    const err = settingsError({ ...good, PORT: '-1', POLICY_FILE: join(dir, 'missing.yml') });
    expect(err.problems).toEqual([
      'PORT: expected a whole number from 0 to 65535',
      `POLICY_FILE: cannot read ${join(dir, 'missing.yml')} (ENOENT)`,
    ]);
  });

  it('returns the config and the policy when both are fine', () => {
    const file = policyFile('roles:\n  TenantAdmin:\n    approvalsRequired: 2\n');
    const { config, policy } = loadSettings({ ...good, APPROVERS: 'U0123ABCD,U0456EFGH', POLICY_FILE: file });
    expect(config.policyFile).toBe(file);
    expect(policy.roles.get('tenantadmin')?.approvalsRequired).toBe(2);
  });
});

describe('start-up reachability', () => {
  it('a Redis that answers is no problem; one that does not is one line', async () => {
    expect(await redisProblem(REDIS_URL)).toBeUndefined();
    const dead = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    const problem = await redisProblem(dead);
    expect(problem).toMatch(
      /^REDIS_URL: no Redis answers at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
    expect(problem).not.toContain('hunter2');
  });

  it('node src/main.ts with Redis and Slack both unreachable: one line each, no repeated connection warnings', async () => {
    const [redisPort, slackPort] = [await freePort(), await freePort()];
    const env = {
      PATH: process.env.PATH ?? '',
      ...good,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      SLACK_API_URL: `http://127.0.0.1:${slackPort}/api/`,
      PORT: String(await freePort()),
    };
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'node'), ['src/main.ts', 'all'], {
      cwd: ROOT,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code, stdout + stderr).toBe(1);
    expect(stderr.trimEnd()).toBe(
      [
        'qlik-access-bot could not start:',
        `  - REDIS_URL: no Redis answers at redis://127.0.0.1:${redisPort} (ECONNREFUSED); start it, or correct REDIS_URL`,
        `  - SLACK_API_URL: cannot reach Slack's Web API at http://127.0.0.1:${slackPort}/api/ (ECONNREFUSED); check the network (or SLACK_API_URL)`,
      ].join('\n'),
    );
    // The JSON log: "starting" and the one fatal line, nothing from retrying clients.
    const lines = stdout.trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['starting', 'could not start']);
    expect(stdout + stderr).not.toContain(good.SLACK_BOT_TOKEN);
  }, 30_000);
});
