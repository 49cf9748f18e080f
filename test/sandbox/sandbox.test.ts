// `npm run sandbox` end to end: `node src/sandbox/sandbox.ts` as a child process fed a script on stdin — a grant
// approved and applied, a grant denied, a who-has, a typo — and its transcript on stdout. Also: the sandbox
// removes its Redis keys (under the QUEUE_PREFIX its banner prints) and temp files at exit, fails a script whose
// `wait` times out, refuses a REDIS_URL that does not answer, and passes the bot settings through.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/sandbox/local-redis.ts';
import { REDIS_URL, testRedis } from '../helpers/redis.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function runSandbox(
  script: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['src/sandbox/sandbox.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL, ...env },
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

/** The sections printed for each message, by number: `── #3 · DM to dan ──…` and the lines under it. */
function sections(out: string): { header: string; body: string }[] {
  const result: { header: string; body: string }[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('── #')) result.push({ header: line, body: '' });
    else if (/^[a-z0-9._-]+> /.test(line) || line.startsWith('(@')) result.push({ header: line, body: '' });
    else if (result.length > 0) result.at(-1)!.body += `${line}\n`;
  }
  // Compare text, not where the renderer wrapped it.
  return result.map((r) => ({ header: r.header, body: r.body.replace(/\s+/g, ' ') }));
}

const redis = testRedis();
afterAll(() => {
  redis.disconnect();
});

async function keysUnder(prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}

describe('npm run sandbox', () => {
  it('runs a script: grant → approve → applied, a denial, a who-has, a typo', async () => {
    const script = [
      '# dan asks for ManagedSpaceCreator for frank; bob approves; the worker applies it',
      '/qlik grant @frank ManagedSpaceCreator because new project',
      'wait Approve',
      'as bob',
      'press Approve',
      'wait now has ManagedSpaceCreator',
      'wait DM to dan',
      '# dan asks for DataAdmin for frank; carol denies',
      'as dan',
      '/qlik grant @frank DataAdmin because curious',
      'wait Grant DataAdmin',
      'as carol',
      'press Deny',
      'wait denied by @carol',
      '/qlik who-has ManagedSpaceCreator',
      'wait Who has ManagedSpaceCreator',
      '/qlik grant @frank ManagedSpaceCreater',
      'wait did you mean',
      '# dan opens his App Home: both outcomes are there',
      'as dan',
      'home',
    ].join('\n');
    const { code, out } = await runSandbox(script);
    expect(code, out).toBe(0);

    const prefix = /QUEUE_PREFIX=(qlik-sandbox:[0-9a-f]+) — its keys are deleted when the sandbox exits/.exec(
      out,
    )?.[1];
    expect(prefix, out).toBeDefined();
    const logFile = /\(logs: (\S+)\)/.exec(out)?.[1];
    expect(logFile, out).toBeDefined();

    const s = sections(out);
    const find = (pred: (x: { header: string; body: string }) => boolean, what: string) => {
      const i = s.findIndex(pred);
      expect(i, `${what}\n${out}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    // The request is posted to the approval channel with Approve / Deny buttons.
    const posted = find(
      (x) => /^── #\d+ · #qlik-approvals ─/.test(x.header) && /Grant ManagedSpaceCreator/i.test(x.body),
      'approval message posted',
    );
    expect(s[posted]!.body).toMatch(/\d:\[ Approve \]\s+\d:\[ Deny \]/);
    expect(s[posted]!.body).toContain('new project');
    const approvalNo = /#(\d+)/.exec(s[posted]!.header)![1];
    // The receipt to dan is ephemeral.
    find(
      (x) => /only visible to (dan|you) in #general/.test(x.header) && /R-[2-9A-Z]{4}/.test(x.body),
      'receipt',
    );
    // bob presses Approve; the same message is updated to applied, without buttons.
    const pressed = find((x) => x.header.startsWith('(@bob pressed [ Approve ]'), 'press');
    const applied = find(
      (x) =>
        x.header.startsWith(`── #${approvalNo} (updated) · #qlik-approvals`) &&
        /now has ManagedSpaceCreator/.test(x.body),
      'approval message updated to applied',
    );
    expect(applied).toBeGreaterThan(pressed);
    expect(s[applied]!.body).not.toMatch(/\[ Approve \]/);
    // The outcome reaches the thread and dan's DMs.
    find((x) => x.header.includes(`reply in thread of #${approvalNo}`), 'thread reply');
    find((x) => /· DM to dan ─/.test(x.header) && /ManagedSpaceCreator/.test(x.body), 'DM with the result');

    // The denial.
    const denied = find(
      (x) =>
        / \(updated\) · #qlik-approvals/.test(x.header) &&
        /Grant DataAdmin/i.test(x.body) &&
        /denied/i.test(x.body),
      'denied',
    );
    expect(s[denied]!.body).toMatch(/@carol/);
    find((x) => /· DM to dan ─/.test(x.header) && /denied/i.test(x.body), 'DM about the denial');

    // who-has lists frank, only to the person who asked.
    const whoHas = find(
      (x) => /only visible to you in #general/.test(x.header) && /Who has ManagedSpaceCreator/i.test(x.body),
      'who-has answer',
    );
    expect(s[whoHas]!.body).toContain('Frank Fischer (frank@corp.example)');
    // The typo names the closest role.
    find((x) => /ManagedSpaceCreator/.test(x.body) && /did you mean/i.test(x.body), 'suggestion');

    // dan's Home lists his outcomes, the denial among them, with the Request access button.
    const home = find((x) => x.header === 'dan> home', "dan's Home");
    expect(s[home]!.body).toContain('── Home of @dan');
    expect(s[home]!.body).toContain('Recent outcomes');
    expect(s[home]!.body).toMatch(/Denied/);
    expect(s[home]!.body).toMatch(/\[ Request access \]/);

    // Nothing is left behind.
    expect(await keysUnder(prefix!)).toBe(0);
    expect(existsSync(logFile!)).toBe(false);
    // A few seconds normally; the margin is for a loaded CI machine.
  }, 90_000);

  it('stops a script at the first failing step with exit code 1, and still cleans up', async () => {
    const { code, out } = await runSandbox(['/qlik help', 'wait 1s zzz-never-said', 'as bob'].join('\n'));
    expect(code, out).toBe(1);
    expect(out).toMatch(/! no message containing "zzz-never-said" arrived within 1 s/);
    expect(out).not.toMatch(/You are now @bob/);
    const prefix = /QUEUE_PREFIX=(qlik-sandbox:[0-9a-f]+) — its keys are deleted when the sandbox exits/.exec(
      out,
    )?.[1];
    expect(await keysUnder(prefix!)).toBe(0);
    // A failed run keeps the bot's log for a look, and says where.
    const kept = /kept in (\S+)\)/.exec(out)?.[1];
    expect(kept, out).toBeDefined();
    expect(existsSync(join(kept!, 'bot.log'))).toBe(true);
    rmSync(kept!, { recursive: true, force: true });
  }, 60_000);

  it('refuses a REDIS_URL that does not answer instead of using another Redis in its place', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const { code, out } = await runSandbox('help\n', { REDIS_URL: dead });
    expect(code).toBe(1);
    expect(out).toContain(`REDIS_URL is set to ${dead}, but no Redis answers there.`);
    expect(out).toContain('unset REDIS_URL');
    expect(out).not.toContain('Starting the bot');
  });

  it('passes the bot settings from its environment to the bot, and says which', async () => {
    // A filed request makes the bot log its own debug line (Slack's client stays at info whatever LOG_LEVEL says).
    const { code, out } = await runSandbox('/qlik grant @frank Steward\nwait Approve\n', {
      REQUEST_TTL: '2m',
      LOG_LEVEL: 'debug',
      SANDBOX_KEEP_LOGS: '1',
    });
    expect(code, out).toBe(0);
    expect(out).toContain('Bot settings           REQUEST_TTL=2m LOG_LEVEL=debug (from your environment)');
    const kept = /kept in (\S+)\)/.exec(out)?.[1];
    expect(kept, out).toBeDefined();
    try {
      const log = readFileSync(join(kept!, 'bot.log'), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { level: number; msg: string; requestTtlMs?: number });
      expect(log.find((l) => l.msg === 'qlik-access-bot started')?.requestTtlMs).toBe(120_000);
      expect(log.some((l) => l.level === 20 && l.msg === 'approval message posted')).toBe(true); // LOG_LEVEL reached the bot
    } finally {
      rmSync(kept!, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('npm run sandbox with SANDBOX_TENANTS=2', () => {
  it('runs the bot with two simulated tenants, prod (the default) and dev, and its answers name the tenant', async () => {
    const { code, out } = await runSandbox('/qlik roles\nwait Roles in tenant prod\n', {
      SANDBOX_TENANTS: '2',
    });
    expect(code, out).toBe(0);
    expect(out).toMatch(/Qlik tenant prod {7}http:\/\/\S+ {2}\(the default; demo tenant/);
    expect(out).toMatch(/Qlik tenant dev {8}http:\/\/\S+ {2}\(the same demo tenant; name it with `on dev`\)/);
  }, 60_000);

  it('refuses another count', async () => {
    const { code, out } = await runSandbox('help\n', { SANDBOX_TENANTS: 'three' });
    expect(code).toBe(1);
    expect(out).toContain('SANDBOX_TENANTS: expected 1 or 2 (how many simulated Qlik tenants to run).');
    expect(out).not.toContain('Starting the bot');
  });
});
