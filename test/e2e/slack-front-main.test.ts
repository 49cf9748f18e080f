// `node src/main.ts` as a real child process: bad configuration is reported by name and exits 1; a running bot
// becomes ready, serves a signed command, and shuts down cleanly on SIGTERM without logging a secret.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../src/sandbox/local-redis.ts';
import { type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import { SlackDriver, type SlackFake, startSlackFake } from '../../src/sandbox/slack-fake/index.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';
import {
  APPROVAL_CHANNEL,
  BOT_TOKEN,
  botEnv,
  defaultUsers,
  SIGNING_SECRET,
  U,
} from './slack-front-harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');

function run(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(NODE, ['src/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

let sim: QlikSimulator;
let fake: SlackFake;
const prefix = uniquePrefix('main');

beforeAll(async () => {
  sim = await startQlikSimulator();
  fake = await startSlackFake({
    botToken: BOT_TOKEN,
    users: defaultUsers(),
    channels: [{ id: APPROVAL_CHANNEL, name: 'approvals' }],
  });
});
afterAll(async () => {
  const redis = testRedis();
  await dropPrefix(redis, prefix);
  await redis.quit();
  await Promise.all([sim?.close(), fake?.close()]);
});

it('reports every bad setting by name and exits 1; refuses an unknown role', async () => {
  const bad = run(['bot'], { QLIK_API_KEY: 'secret-key-value', PORT: 'eighty' });
  expect(await bad.exit).toBe(1);
  for (const name of ['SLACK_BOT_TOKEN', 'QLIK_TENANT_URL', 'PORT', 'APPROVAL_CHANNEL'])
    expect(bad.output()).toContain(name);
  expect(bad.output()).not.toContain('secret-key-value');
  const role = run(['everything'], {});
  expect(await role.exit).toBe(2);
  expect(role.output()).toContain('all|bot|worker');
}, 20_000);

it('starts, becomes ready, serves a signed command, and stops on SIGTERM', async () => {
  const port = await freePort();
  const authTests = () => fake.calls.filter((c) => c.method === 'auth.test').length;
  const authBefore = authTests();
  const bot = run(['bot'], botEnv({ sim, fake, prefix, port }));
  try {
    const started = new Promise<void>((resolve) => {
      const check = () => (bot.output().includes('Qlik credential verified') ? resolve() : undefined);
      bot.child.stdout?.on('data', check);
      check();
    });
    await Promise.race([
      started,
      bot.exit.then((c) => Promise.reject(new Error(`exited ${c}: ${bot.output()}`))),
    ]);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    // The start-up check's auth.test also gives the Slack front the bot's identity: Slack is asked once.
    expect(authTests() - authBefore).toBe(1);
    const driver = new SlackDriver({
      eventsUrl: `http://127.0.0.1:${port}/slack/events`,
      signingSecret: SIGNING_SECRET,
      fake,
    });
    const res = await driver.slash(U.dan, 'grant frank@corp.example Steward');
    expect(res.status).toBe(200);
    await fake.waitFor((m) => m.channel === APPROVAL_CHANNEL && (m.text ?? '').includes('Steward'), 10_000);
    bot.child.kill('SIGTERM');
    expect(await bot.exit).toBe(0);
    const log = bot.output();
    expect(log).toContain('qlik-access-bot started');
    expect(log).toContain('stopped');
    for (const secret of [BOT_TOKEN, SIGNING_SECRET, sim.apiKey]) expect(log).not.toContain(secret);
  } finally {
    if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
  }
}, 30_000);

it('a SIGTERM during start-up waits for start-up, then shuts down cleanly', async () => {
  // Slack answers slowly, so start-up (auth.test) is still under way when the signal lands.
  const slowSlack = await startSlackFake({ botToken: BOT_TOKEN, users: defaultUsers(), latencyMs: 1_500 });
  const port = await freePort();
  const bot = run(['bot'], botEnv({ sim, fake: slowSlack, prefix, port }, { APPROVERS: U.alice }));
  try {
    await new Promise<void>((resolve) => {
      const check = () => (bot.output().includes('"starting"') ? resolve() : undefined);
      bot.child.stdout?.on('data', check);
      check();
    });
    expect(bot.output()).not.toContain('qlik-access-bot started');
    bot.child.kill('SIGTERM');
    expect(await bot.exit).toBe(0);
    expect(bot.output()).toContain('stopped');
  } finally {
    if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
    await slowSlack.close();
  }
}, 30_000);
