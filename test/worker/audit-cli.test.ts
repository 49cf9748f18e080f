// The audit export CLI, run as a child process against real Redis: CSV with a header, JSON lines, --since, --out,
// only REDIS_URL/QUEUE_PREFIX needed, and hostile values neither breaking rows nor becoming spreadsheet formulas.
// The README's command lines run through npm as written; a wrong prefix or npm's banner in the output is an error.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neutraliseFormula, parseExportArgs, prefixesWithAudit, UsageError } from '../../src/audit-cli.ts';
import { AuditLog, auditFields } from '../../src/store/audit-log.ts';
import { storeKeys } from '../../src/store/keys.ts';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../helpers/redis.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const NODE = resolve('node_modules/.bin/node');
const CLI = resolve('src/audit-cli.ts');

let redis: Redis;
const prefix = uniquePrefix('audit-cli');
const outFile = join(tmpdir(), `${prefix.replaceAll(':', '-')}.csv`);
const npmDir = mkdtempSync(join(tmpdir(), 'qab-audit-npm-'));
const HEADER = 'time,requestId,actor,action,target,role,before,after,outcome,detail,eventId,prev,hash';

/** A command line exactly as a person types it in a shell, from the project directory. */
function shell(commandLine: string, env: Record<string, string> = {}) {
  return run('sh', ['-c', commandLine], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      ...env,
    },
  });
}

function cli(args: string[], env: Record<string, string> = {}) {
  // Only these two variables: the export must not need Slack or Qlik configuration.
  return run(NODE, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', REDIS_URL, QUEUE_PREFIX: prefix, ...env },
  });
}

beforeAll(async () => {
  redis = testRedis();
  const audit = new AuditLog(redis, prefix);
  const tenDaysAgo = Date.now() - 10 * 86_400_000;
  // An old event, with a stream id from ten days ago, that --since 7d leaves out.
  await redis.xadd(
    storeKeys(prefix).audit,
    `${tenDaysAgo}-0`,
    ...auditFields({
      time: tenDaysAgo,
      actor: 'U0OLD',
      action: 'requested',
      outcome: 'pending',
      requestId: 'R-OLD2',
    }),
  );
  await audit.append({
    time: Date.now(),
    requestId: 'R-AAAA',
    actor: 'U0REQ',
    action: 'requested',
    target: 'alice (alice@corp.example)',
    role: 'DataAdmin',
    outcome: 'pending',
    detail: 'because "quarterly", report\nsecond line',
  });
  await audit.append({
    time: Date.now(),
    requestId: 'R-AAAA',
    actor: 'system',
    action: 'applied',
    target: '=HYPERLINK("http://evil")',
    role: 'DataAdmin',
    before: ['Steward'],
    after: ['Steward', 'DataAdmin'],
    outcome: 'changed',
  });
});

afterAll(async () => {
  await rm(outFile, { force: true });
  await rm(npmDir, { recursive: true, force: true });
  await dropPrefix(redis, prefix);
  await redis.quit();
});

describe('audit export CLI', () => {
  it('exports CSV with a header row, oldest first, since 7 days', async () => {
    const { stdout } = await cli(['--since', '7d', '--format', 'csv']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'time,requestId,actor,action,target,role,before,after,outcome,detail,eventId,prev,hash',
    );
    expect(stdout).not.toContain('R-OLD2');
    // The reason with quotes, a comma and a newline stays one quoted field.
    expect(stdout).toContain('"because ""quarterly"", report\nsecond line"');
    const applied = lines.find((l) => l.includes(',applied,'))!;
    expect(applied).toContain(',Steward,Steward;DataAdmin,changed,');
    // The formula-looking target is neutralised.
    expect(applied).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(stdout.indexOf(',requested,')).toBeLessThan(stdout.indexOf(',applied,'));
  });

  it('exports JSON lines that parse back to the events', async () => {
    const { stdout } = await cli(['--since', '7d', '--format', 'jsonl']);
    const events = stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.action)).toEqual(['requested', 'applied']);
    expect(events[1]).toMatchObject({
      requestId: 'R-AAAA',
      actor: 'system',
      before: ['Steward'],
      after: ['Steward', 'DataAdmin'],
      outcome: 'changed',
    });
    expect(Date.parse(String(events[0]!.time))).toBeGreaterThan(Date.now() - 60_000);
    expect(events[0]!.detail).toBe('because "quarterly", report\nsecond line');
  });

  it('--since 30d includes the old event; --out writes a file', async () => {
    const { stderr } = await cli(['--since', '30d', '--out', outFile]);
    expect(stderr).toContain('Wrote 3 audit event(s)');
    const csv = await readFile(outFile, 'utf8');
    expect(csv).toContain('R-OLD2');
  });

  it('the README command line, through npm, writes a file that starts with the CSV header', async () => {
    const file = join(npmDir, 'audit.csv');
    const { stderr } = await shell(`npm run audit -- --since 30d --format csv --out ${file}`);
    expect(stderr).toContain(`Wrote 3 audit event(s) to ${file}`);
    const csv = await readFile(file, 'utf8');
    expect(csv.split('\n')[0]).toBe(HEADER);
    expect(csv).toContain('R-OLD2');
  }, 60_000);

  it("`npm run audit -- … > file` refuses instead of putting npm's banner above the header", async () => {
    const file = join(npmDir, 'redirected.csv');
    const err = (await shell(`npm run audit -- --since 30d --format csv > ${file}`).catch(
      (e: unknown) => e,
    )) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain(
      "that is npm's banner, which would sit above the data. Nothing was exported.",
    );
    expect(err.stderr).toContain('--out audit.csv');
    // `npm run -s` prints no banner: the redirect is clean.
    const quiet = join(npmDir, 'quiet.csv');
    await shell(`npm run -s audit -- --since 30d --format csv > ${quiet}`);
    expect((await readFile(quiet, 'utf8')).split('\n')[0]).toBe(HEADER);
  }, 60_000);

  it('QUEUE_PREFIX with a trailing colon (as the sandbox banner used to print it) names the same log', async () => {
    const { stdout } = await cli(['--since', '30d', '--format', 'jsonl'], { QUEUE_PREFIX: `${prefix}:` });
    expect(stdout.trimEnd().split('\n')).toHaveLength(3);
  });

  it('a QUEUE_PREFIX with no audit log is an error that names the prefixes that have one', async () => {
    const typo = `${prefix}x`;
    const err = (await cli(['--since', '30d'], { QUEUE_PREFIX: typo }).catch((e: unknown) => e)) as {
      code: number;
      stdout: string;
      stderr: string;
    };
    expect(err.code).toBe(1);
    expect(err.stdout).toBe('');
    expect(err.stderr).toContain(`No audit log under QUEUE_PREFIX=${typo} in Redis at ${REDIS_URL}`);
    expect(err.stderr).toMatch(
      new RegExp(`Prefixes with an audit log: ${prefix.replaceAll('.', '\\.')}[,.]`),
    );
    expect(await prefixesWithAudit(redis, typo)).toContain(prefix);
  });

  it('verify: the chain holds (after the events written before it), prints the head, and takes --head', async () => {
    const { stdout } = await cli(['verify']);
    expect(stdout).toMatch(
      /The audit chain holds: \d+ chained event\(s\) from .* after 1 written before the chain\./,
    );
    const head = /Head hash: ([0-9a-f]{40})/.exec(stdout)![1]!;
    expect((await cli(['verify', '--head', head])).stdout).toContain('The anchored head is in the chain.');
    const wrong = await cli(['verify', '--head', '0'.repeat(40)]).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect(wrong).toMatchObject({ code: 1 });
    const bad = await cli(['verify', '--head', 'nope']).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
  });

  it('a bad argument gets the usage and exit code 2', async () => {
    await expect(cli(['--format', 'xml'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('csv or jsonl'),
    });
    await expect(cli(['--since', 'yesterday'])).rejects.toMatchObject({ code: 2 });
  });

  it('an unreachable Redis is a clear error with the password hidden', async () => {
    const err = (await cli([], { REDIS_URL: 'redis://:hunter2@127.0.0.1:1' }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/^Could not export .*ECONNREFUSED/);
    expect(err.stderr).not.toContain('hunter2');
  });

  it('argument parsing', () => {
    const now = 1_700_000_000_000;
    expect(parseExportArgs(['--since', '7d', '--format', 'jsonl'], now)).toEqual({
      fromMs: now - 7 * 86_400_000,
      format: 'jsonl',
    });
    expect(parseExportArgs([], now)).toEqual({ fromMs: now - 7 * 86_400_000, format: 'csv' });
    expect(parseExportArgs(['--since', '2026-01-31'], now).fromMs).toBe(Date.parse('2026-01-31'));
    expect(() => parseExportArgs(['--bogus'], now)).toThrow(UsageError);
    expect(neutraliseFormula('+1')).toBe("'+1");
    expect(neutraliseFormula('alice')).toBe('alice');
  });
});
