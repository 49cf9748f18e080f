// The whole flow through real processes (`node src/main.ts`): a signed slash command to the real Bolt receiver →
// an approver's click → the role present in the Qlik simulator → the result in the fake Slack (approval message
// updated, thread reply, DM to the requester). Once with bot and worker in one process (`all`, i.e. `npm start`),
// once as two processes (`bot` + `worker`).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/sandbox/local-redis.ts';
import { type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import {
  type PostedMessage,
  SlackDriver,
  type SlackFake,
  startSlackFake,
} from '../../src/sandbox/slack-fake/index.ts';
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

interface Proc {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

let sim: QlikSimulator;
let fake: SlackFake;
const prefixes: string[] = [];
const procs: Proc[] = [];

beforeAll(async () => {
  sim = await startQlikSimulator();
  fake = await startSlackFake({
    botToken: BOT_TOKEN,
    users: defaultUsers(),
    channels: [{ id: APPROVAL_CHANNEL, name: 'approvals' }],
  });
});
afterAll(async () => {
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  const redis = testRedis();
  for (const prefix of prefixes) await dropPrefix(redis, prefix);
  await redis.quit();
  await Promise.all([sim?.close(), fake?.close()]);
});

async function run(role: 'all' | 'bot' | 'worker', prefix: string, port: number): Promise<Proc> {
  const child = spawn(NODE, ['src/main.ts', role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...botEnv({ sim, fake, prefix, port }) },
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const p: Proc = { child, output: () => out, exit };
  procs.push(p);
  const started = new Promise<void>((resolve) => {
    const check = () => (out.includes('qlik-access-bot started') ? resolve() : undefined);
    child.stdout?.on('data', check);
    check();
  });
  await Promise.race([started, exit.then((c) => Promise.reject(new Error(`${role} exited ${c}: ${out}`)))]);
  return p;
}

function text(m: PostedMessage): string {
  return `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
}

/** Slash command → approval → click → applied in Qlik → result in Slack. */
async function grantThroughSlack(botPort: number, role: string): Promise<void> {
  const frank = sim.tenant.usersByEmail('frank@corp.example')[0]!;
  expect(sim.tenant.userRoleNames(frank.id)).not.toContain(role);
  const driver = new SlackDriver({
    eventsUrl: `http://127.0.0.1:${botPort}/slack/events`,
    signingSecret: SIGNING_SECRET,
    fake,
  });
  const res = await driver.slash(U.dan, `grant frank@corp.example ${role} because e2e`);
  expect(res.status).toBe(200);
  const approval = await fake.waitFor(
    (m) =>
      m.channel === APPROVAL_CHANNEL &&
      !m.thread_ts &&
      text(m).includes(role) &&
      text(m).includes('"approve"'),
    15_000,
  );
  const click = await driver.click(U.alice, approval, 'approve');
  expect(click.status).toBe(200);

  const deadline = Date.now() + 20_000;
  while (!sim.tenant.userRoleNames(frank.id).includes(role)) {
    if (Date.now() > deadline) throw new Error(`${role} never reached Qlik`);
    await new Promise((r) => setTimeout(r, 25));
  }
  await fake.waitFor(
    (m) => m.thread_ts === approval.ts && text(m).includes(role) && /granted/i.test(text(m)),
    15_000,
  );
  await fake.waitFor(
    (m) => m.channel === fake.dmChannelOf(U.dan) && text(m).includes(role) && /granted/i.test(text(m)),
    15_000,
  );
  await fake.waitFor((m) => m.ts === approval.ts && /Applied/.test(text(m)), 15_000);
}

async function stop(p: Proc): Promise<void> {
  p.child.kill('SIGTERM');
  expect(await p.exit).toBe(0);
}

describe('end to end through the real Bolt receiver and the worker', () => {
  it('bot and worker in one process (npm start)', { timeout: 60_000 }, async () => {
    const prefix = uniquePrefix('e2e-all');
    prefixes.push(prefix);
    const port = await freePort();
    const all = await run('all', prefix, port);
    await grantThroughSlack(port, 'DataAdmin');
    await stop(all);
    for (const secret of [BOT_TOKEN, SIGNING_SECRET, sim.apiKey]) expect(all.output()).not.toContain(secret);
  });

  it('bot and worker as two separate processes', { timeout: 60_000 }, async () => {
    const prefix = uniquePrefix('e2e-split');
    prefixes.push(prefix);
    const [botPort, workerPort] = [await freePort(), await freePort()];
    const bot = await run('bot', prefix, botPort);
    const worker = await run('worker', prefix, workerPort);
    await grantThroughSlack(botPort, 'AuditAdmin');
    // The change was made by the worker process: the bot role does not run jobs.
    expect(worker.output()).toContain('worker started');
    expect(bot.output()).not.toContain('worker started');
    await Promise.all([stop(bot), stop(worker)]);
  });
});
