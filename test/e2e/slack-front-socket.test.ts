// The bot in Socket Mode, end to end: the real bot and worker (`start('all', …)`) with SLACK_APP_TOKEN and no signing
// secret, connected through the real @slack/socket-mode client to the Slack fake's Socket Mode server; the driver
// sends the same slash commands and clicks as envelopes. The main flows run as they do over HTTP, and a reconnect in
// the middle of a burst of commands (refresh_requested, then a dropped socket with acks lost) loses no command and
// doubles none: one request filed per command, one Qlik write per request. Last, `npm run sandbox -- --socket` runs a
// script against the bot in Socket Mode.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleChangeRequest } from '../../src/domain/request.ts';
import { demoTenant } from '../../src/sandbox/qlik-sim/index.ts';
import { listButtons, type SlashResult } from '../../src/sandbox/slack-fake/index.ts';
import { REDIS_URL } from '../helpers/redis.ts';
import { APPROVAL_CHANNEL, allText, type Front, startFront, U } from './slack-front-harness.ts';

/** People in Qlik only (no Slack account), one per command of a burst. */
const BURST = 10;
const burstEmail = (run: string, i: number) => `burst-${run}-${i}@corp.example`;

let f: Front;
beforeAll(async () => {
  const tenant = demoTenant();
  for (const run of ['refresh', 'drop', 'moved-on'])
    for (let i = 0; i < BURST; i++) tenant.addUser({ name: `Burst ${run} ${i}`, email: burstEmail(run, i) });
  f = await startFront({ label: 'socket-e2e', role: 'all', socket: true, tenant });
}, 60_000);
afterAll(async () => {
  await f?.close();
});

function qlikUserId(email: string): string {
  return f.sim.tenant.usersByEmail(email)[0]!.id;
}

/** PATCHes of the Qlik user: role writes. */
function writesTo(email: string): number {
  const path = `/api/v1/users/${qlikUserId(email)}`;
  return f.sim.requests.filter((r) => r.method === 'PATCH' && r.path === path).length;
}

describe('the bot connected over Socket Mode', () => {
  it('opens one connection with its app token and serves no HTTP endpoint for Slack', async () => {
    expect(f.fake.socketMode.openConnections()).toHaveLength(1);
    expect(f.fake.calls.filter((c) => c.method === 'apps.connections.open' && c.status === 200)).toHaveLength(
      1,
    );
    // No Slack events route in Socket Mode: the health server answers a POST there as to any other path.
    const res = await fetch(`${f.url}/slack/events`, { method: 'POST', body: 'command=/qlik' });
    expect(res.status).toBe(405);
    expect(await res.text()).toBe('GET only\n');
    expect((await fetch(`${f.url}/readyz`)).status).toBe(200);
  });

  it('files a grant, an approver clicks Approve, the worker applies it and replies in the thread', async () => {
    const role = 'AutomlExperimentContributor';
    const frank = 'frank@corp.example';
    const before = writesTo(frank);
    const receipt = await f.command(U.dan, `grant ${frank} ${role} because socket trial`);
    expect(receipt.text).toMatch(/Request R-\w+ filed/);
    const id = f.requestIdIn(receipt);
    const approval = await f.approvalMessage(id);
    expect(listButtons(approval).map((b) => b.actionId)).toEqual(['approve', 'deny', 'deny_with_reason']);

    const click = await f.driver.click(U.alice, approval, 'approve');
    expect(click.status).toBe(200);
    const reply = await f.fake.waitFor(
      (m) => m.thread_ts === approval.ts && allText(m).includes(id) && /granted/.test(allText(m)),
      20_000,
    );
    expect(reply.channel).toBe(APPROVAL_CHANNEL);
    expect((await f.store.get(id))?.state).toBe('applied');
    expect(f.sim.tenant.userRoleNames(qlikUserId(frank))).toContain(role);
    expect(writesTo(frank) - before).toBe(1);
  });

  it('answers a who-has', async () => {
    const answer = await f.command(U.dan, 'who-has TenantAdmin');
    expect(allText(answer)).toContain('TenantAdmin');
    expect(allText(answer)).toContain('Alice');
  });

  it('denies: the approval message loses its buttons and nothing is applied', async () => {
    const receipt = await f.command(U.dan, 'grant frank@corp.example DataSpaceCreator');
    const id = f.requestIdIn(receipt);
    const approval = await f.approvalMessage(id);
    await f.driver.click(U.bob, approval, 'deny');
    const denied = await f.approvalMessage(id, (m) => allText(m).includes('Denied'));
    expect(listButtons(denied)).toEqual([]);
    expect((await f.store.get(id))?.state).toBe('denied');
    expect(await f.applyJob(id)).toBeUndefined();
  });

  it('answers a malformed command in words and files nothing', async () => {
    const pendingBefore = (await f.store.listPending(1000)).length;
    const answer = await f.command(U.dan, 'grnat me Steward');
    expect(allText(answer)).toContain('grnat');
    expect(allText(await f.command(U.dan, 'grant me Steward for 5x'))).toContain("`5x` isn't a duration");
    expect((await f.store.listPending(1000)).length).toBe(pendingBefore);
  });

  it('acks a view submission with the modal that says the form does nothing, and acks an event', async () => {
    const view = await f.driver.envelope('interactive', {
      type: 'view_submission',
      user: { id: U.alice, team_id: f.fake.teamId },
      team: { id: f.fake.teamId },
      api_app_id: f.fake.appId,
      view: { id: 'V1', type: 'modal', callback_id: 'old_form', state: { values: {} } },
    });
    const ack = JSON.parse(view.body) as { response_action: string; view: unknown };
    expect(ack.response_action).toBe('update');
    expect(JSON.stringify(ack.view)).toContain("doesn't do anything any more");

    const event = await f.driver.envelope('events_api', {
      token: 'fakeVerificationToken0001',
      team_id: f.fake.teamId,
      api_app_id: f.fake.appId,
      type: 'event_callback',
      event_id: 'Ev0SOCKET1',
      event_time: Math.floor(Date.now() / 1000),
      event: { type: 'app_home_opened', user: U.dan, channel: f.fake.dmChannelOf(U.dan), tab: 'home' },
    });
    expect(event.deliveries).toBe(1);
  });
});

/**
 * Files BURST grants of `role` from U.dan (one Qlik person each): the first half, then `fault()`, then the rest while
 * the bot reconnects; resolves once every command is acked.
 */
async function burst(run: string, role: string, fault: () => void): Promise<SlashResult[]> {
  const sent: Promise<SlashResult>[] = [];
  for (let i = 0; i < BURST; i++) {
    if (i === BURST / 2) fault();
    sent.push(f.driver.slash(U.dan, `grant ${burstEmail(run, i)} ${role} because burst ${run}`));
  }
  return Promise.all(sent);
}

/** The requests filed for the run's people (from the audit log's `requested` events). */
async function filedFor(run: string): Promise<RoleChangeRequest[]> {
  const emails = new Set(Array.from({ length: BURST }, (_, i) => burstEmail(run, i)));
  const events = await f.audit.recent({ limit: 1000 });
  const ids = new Set(
    events
      .filter((e) => e.action === 'requested')
      .map((e) => e.requestId)
      .filter((id) => typeof id === 'string'),
  );
  const requests = await f.store.getMany([...ids]);
  return requests.filter((r) => emails.has((r.target as { email?: string }).email ?? ''));
}

/** Resolves once the fake has recorded no new message or update for `ms` (bounded by 20 s). */
async function quiet(ms: number): Promise<void> {
  let last = Date.now();
  const off = f.fake.subscribe(() => {
    last = Date.now();
  });
  try {
    await expect.poll(() => Date.now() - last >= ms, { timeout: 20_000, interval: 100 }).toBe(true);
  } finally {
    off();
  }
}

/** Requests per person, once there is one for each and every one is applied; and each person's Qlik writes. */
async function settled(run: string): Promise<{ perPerson: number[]; writes: number[] }> {
  await expect
    .poll(
      async () => {
        const requests = await filedFor(run);
        return requests.length >= BURST && requests.every((r) => r.state === 'applied');
      },
      { timeout: 30_000, interval: 250 },
    )
    .toBe(true);
  const requests = await filedFor(run);
  const emails = Array.from({ length: BURST }, (_, i) => burstEmail(run, i));
  return {
    perPerson: emails.map((e) => requests.filter((r) => (r.target as { email?: string }).email === e).length),
    writes: emails.map(writesTo),
  };
}

describe('a reconnect in the middle of a burst of commands', () => {
  it('refresh_requested: no command lost, none doubled, one Qlik write each', async () => {
    const sm = f.fake.socketMode;
    const first = sm.openConnections()[0]!;
    // SharedSpaceCreator is approved automatically: each command filed is a Qlik write at once.
    const results = await burst('refresh', 'SharedSpaceCreator', () =>
      sm.requestDisconnect('refresh_requested'),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    // The bot left the old connection and opened a new one; what was not acked on the old one went there.
    expect(first.closedBy).toBe('app');
    expect(sm.openConnections()).toHaveLength(1);
    expect(sm.openConnections()[0]!.seq).toBeGreaterThan(first.seq);

    const { perPerson, writes } = await settled('refresh');
    expect(perPerson).toEqual(Array(BURST).fill(1));
    expect(writes).toEqual(Array(BURST).fill(1));
    for (let i = 0; i < BURST; i++)
      expect(f.sim.tenant.userRoleNames(qlikUserId(burstEmail('refresh', i)))).toContain(
        'SharedSpaceCreator',
      );
  }, 60_000);

  it('a dropped socket with acks lost on the way: every command filed once, one Qlik write each', async () => {
    const sm = f.fake.socketMode;
    const before = sm.envelopes.length;
    // Two commands are handled and acked, the acks never reach Slack, the socket drops (with whatever else was
    // still un-acked on it): Slack delivers them all again, and the bot handles each a second time.
    const results = await burst('drop', 'Steward', () => sm.loseNextAcks(2, { thenDrop: true }));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const mine = sm.envelopes.slice(before);
    expect(mine.filter((e) => e.lostAcks > 0)).toHaveLength(2);
    expect(mine.filter((e) => e.deliveries.length > 1).length).toBeGreaterThanOrEqual(2);
    expect(sm.connections.some((c) => c.closedBy === 'dropped')).toBe(true);

    // Wait until nothing more is said: a redelivered command is acked and not handled again, so nobody is told
    // twice (no "already pending" answer) and nothing more is filed.
    await quiet(1_000);
    const again = f.fake.messages.filter(
      (m) =>
        m.user === U.dan &&
        m.via === 'response_url' &&
        /Burst drop \d/.test(allText(m)) &&
        allText(m).includes('already pending'),
    );
    expect(again).toHaveLength(0);
    const filed = await filedFor('drop');
    expect(filed).toHaveLength(BURST);
    for (const r of filed) await f.driver.click(U.alice, await f.approvalMessage(r.id), 'approve');
    const { perPerson, writes } = await settled('drop');
    expect(perPerson).toEqual(Array(BURST).fill(1));
    expect(writes).toEqual(Array(BURST).fill(1));
  }, 60_000);
});

describe('a command Slack delivers again after its request moved on', () => {
  it('auto-approved grants whose acks were lost: each filed and applied once, however fast the worker is', async () => {
    const sm = f.fake.socketMode;
    const before = sm.envelopes.length;
    // SharedSpaceCreator is approved automatically: by the time Slack delivers again, the request is applied,
    // so a duplicate check on pending requests would file it a second time.
    // A slow Qlik keeps each request approved but not yet applied when its command comes again.
    f.sim.setLatency(1_500);
    let results: SlashResult[];
    try {
      results = await burst('moved-on', 'SharedSpaceCreator', () => sm.loseNextAcks(3, { thenDrop: true }));
      expect(sm.envelopes.slice(before).filter((e) => e.deliveries.length > 1).length).toBeGreaterThanOrEqual(
        3,
      );
    } finally {
      f.sim.setLatency(0);
    }
    expect(results.every((r) => r.status === 200)).toBe(true);
    const { perPerson, writes } = await settled('moved-on');
    await quiet(1_000);
    expect(perPerson).toEqual(Array(BURST).fill(1));
    expect(writes).toEqual(Array(BURST).fill(1));
    // And each command was answered once: its receipt, never a second answer for the redelivery.
    const answers = Array.from({ length: BURST }, (_, i) =>
      f.fake.messages.filter(
        (m) =>
          m.user === U.dan &&
          m.via === 'response_url' &&
          new RegExp(`Burst moved-on ${i}\\b`).test(allText(m)),
      ),
    );
    expect(answers.map((a) => a.length)).toEqual(Array(BURST).fill(1));
  }, 60_000);
});

/** `node src/sandbox/sandbox.ts <args>` fed a script on stdin: its exit code and transcript. */
function sandbox(args: string[], script: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['src/sandbox/sandbox.ts', ...args], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.once('exit', (code) => resolve({ code, out }));
    child.stdin.end(script);
  });
}

describe('npm run sandbox -- --socket', () => {
  it('runs the bot in Socket Mode: a grant approved and applied, a who-has', async () => {
    const script = [
      '/qlik grant @frank ManagedSpaceCreator because new project',
      'wait Approve',
      'as bob',
      'press Approve',
      'wait now has ManagedSpaceCreator',
      '/qlik who-has ManagedSpaceCreator',
      'wait Through groups: Sales Ops',
    ].join('\n');
    const { code, out } = await sandbox(['--socket'], `${script}\n`);
    expect(out).toContain('in Socket Mode');
    expect(out).toMatch(
      /Socket Mode {12}the bot is connected to ws:\/\/127\.0\.0\.1:\d+\/link\/ with an app token/,
    );
    expect(out).toContain('now has ManagedSpaceCreator');
    expect(out).toContain('people hold ManagedSpaceCreator directly');
    expect(code).toBe(0);
  }, 90_000);

  it('refuses an argument it does not know, with the usage', async () => {
    const { code, out } = await sandbox(['--sockets'], '');
    expect(code).toBe(2);
    expect(out).toContain('Usage: npm run sandbox [-- --socket]');
  });
});
