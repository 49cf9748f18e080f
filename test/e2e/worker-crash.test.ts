// A worker process killed with SIGKILL in the middle of a job (after its PATCH reached Qlik, before it verified and
// recorded the result), then started again: the request still ends applied, once, with one "applied" audit event.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueApply } from '../../src/queue/queues.ts';
import { REDIS_URL } from '../helpers/redis.ts';
import {
  APPROVER,
  BOT_TOKEN,
  CHANNEL,
  createHarness,
  type Harness,
  REQUESTER,
  userTarget,
} from '../worker/harness.ts';

const NODE = resolve('node_modules/.bin/node');
const ENTRY = resolve('test/worker/fixtures/worker-process.ts');

let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await createHarness({ label: 'worker-crash' });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await h?.close();
});

async function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(NODE, [ENTRY], {
    env: {
      PATH: process.env.PATH,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      SLACK_API_URL: h.slack.apiUrl,
      QLIK_TENANT_URL: h.sim.url,
      QLIK_API_KEY: h.sim.apiKey,
      REDIS_URL,
      QUEUE_PREFIX: h.prefix,
      APPROVAL_CHANNEL: CHANNEL,
      APPROVERS: APPROVER,
      WORKER_CONCURRENCY: '4',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((ready, fail) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) ready();
    });
    child.once('exit', (code) =>
      fail(new Error(`worker process exited (${code}) before it was ready:\n${stderr}`)),
    );
  });
  return child;
}

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('a worker killed mid-job', () => {
  it('SIGKILL after the PATCH, restart → applied once, one "applied" audit event', {
    timeout: 60_000,
  }, async () => {
    const user = h.sim.tenant.addUser({ name: 'Kim Killed', email: 'kim@corp.example', roles: ['Steward'] });
    const req = await h.approved(
      { target: userTarget(h.sim, user.id), role: 'DataAdmin' },
      { enqueue: false },
    );

    const first = await startWorkerProcess();
    // Every Qlik answer now takes 800 ms: once the role shows in the tenant, the worker is waiting for its
    // verifying re-read — that is where the kill lands.
    h.sim.setLatency(800);
    await enqueueApply(h.queues, req.id);
    await until(() => h.sim.tenant.userRoleNames(user.id).includes('DataAdmin'), 20_000, 'the PATCH to land');
    first.kill('SIGKILL');
    await once(first, 'exit');

    const mid = await h.store.get(req.id);
    expect(mid?.state).toBe('applying');
    expect(mid?.result?.before).toEqual(['Steward']); // the snapshot recorded before the PATCH
    expect((await h.auditOf(req.id)).filter((e) => e.action === 'applied')).toHaveLength(0);

    h.sim.setLatency(0);
    const second = await startWorkerProcess();
    const done = await h.waitForState(req.id, 'applied', 30_000);
    expect(done.result).toMatchObject({
      before: ['Steward'],
      after: ['Steward', 'DataAdmin'],
      changed: true,
    });
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(['Steward', 'DataAdmin']);
    // The second run found the role in place and wrote nothing.
    expect(h.sim.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(user.id))).toHaveLength(1);
    expect((await h.auditOf(req.id)).filter((e) => e.action === 'applied')).toHaveLength(1);
    await h.slack.waitFor(
      (m) => m.channel === h.slack.dmChannelOf(REQUESTER) && (m.text ?? '').includes(req.id),
      10_000,
    );

    second.kill('SIGTERM');
    await once(second, 'exit');
  });
});
