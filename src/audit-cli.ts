// Owns the audit export (README, "How it works" → Audit): `npm run audit -- --since 7d --format csv|jsonl [--out file]` (in the image:
// `node dist/audit-cli.js …`) streams the audit stream's events, oldest first, as CSV (with a header row) or JSON
// lines. It needs only REDIS_URL and QUEUE_PREFIX — no Slack or Qlik configuration — so an auditor can run it
// anywhere the Redis is reachable. An export that cannot be right says so and exits non-zero: a prefix with no
// audit stream (a typo would otherwise export nothing, successfully), or a redirected output that already holds
// npm's banner.
import './node-version.ts';
import { createWriteStream, fstatSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify';
import { distance } from 'fastest-levenshtein';
import { Cluster } from 'ioredis';
import { outcomeCsv } from './app/review-csv.ts';
import { normaliseQueuePrefix, parseDuration } from './config.ts';
import { REVIEW_ID_PATTERN } from './domain/review.ts';
import { verifyChain } from './store/audit-chain.ts';
import { AuditLog, type StoredAuditEvent } from './store/audit-log.ts';
import { storeKeys } from './store/keys.ts';
import { createRedisConnection, type RedisConnection, redactRedisUrl } from './store/redis.ts';
import { ReviewStore } from './store/review-store.ts';

export const USAGE = `Usage: npm run audit -- [--since <7d|24h|30m|2026-01-31>] [--format csv|jsonl] [--out <file>]
       npm run audit -- verify [--head <hash>]
       npm run audit -- review <V-XXXX> [--out <file>]
       node dist/audit-cli.js [same options]         (in the image: docker compose exec -T bot node dist/audit-cli.js …)

verify checks the audit stream's hash chain from its oldest event: it names the first event that was edited, or
that follows one that was deleted or moved, and exits 1; otherwise it prints the head hash (to anchor elsewhere) and
exits 0. --head compares the head with one you anchored earlier (the stream must still contain it).

review prints an access review's outcome as CSV (holder, kind, email, decision, decided_by, decided_at,
request_id), as the bot stores it; its events (review-opened, review-kept, review-revoke-requested, review-closed)
are in the export with every other event.

Exports the bot's audit events, oldest first, with each event's prev and hash.
  --since   how far back (a duration such as 7d, 24h, 30m, 1w, or a date/time such as 2026-01-31T00:00Z); default 7d
  --format  csv (with a header row) or jsonl (one JSON object per line); default csv
  --out     write to this file instead of standard output (with npm run, use it: npm prints a banner on stdout)
Environment: REDIS_URL (default redis://127.0.0.1:6379), QUEUE_PREFIX (default qlikops; as the bot has it).`;

type ExportFormat = 'csv' | 'jsonl';

interface ExportOptions {
  fromMs: number;
  format: ExportFormat;
  out?: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses the command line; throws UsageError with a message naming the bad argument. */
export function parseExportArgs(argv: string[], now = Date.now()): ExportOptions {
  let values: {
    since?: string | undefined;
    format?: string | undefined;
    out?: string | undefined;
    help?: boolean | undefined;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        since: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) throw new UsageError('');
  const fromMs = parseSince(values.since ?? '7d', now);
  const format = values.format ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl')
    throw new UsageError(`--format must be csv or jsonl, not "${format}".`);
  return { fromMs, format, ...(values.out === undefined ? {} : { out: values.out }) };
}

function parseSince(text: string, now: number): number {
  const ms = parseDuration(text);
  if (ms !== undefined) return now - ms;
  // A bare date or a date-time; anything else is an error rather than a silent "everything".
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const at = Date.parse(text.trim());
    if (!Number.isNaN(at)) return at;
  }
  throw new UsageError(
    `--since expects a duration such as 7d, 24h or 30m, or a date such as 2026-01-31; got "${text}".`,
  );
}

const CSV_COLUMNS = [
  'time',
  'requestId',
  'actor',
  'action',
  'target',
  'role',
  'before',
  'after',
  'outcome',
  'detail',
  'eventId',
  'prev',
  'hash',
] as const;

/** One event as a flat row: ISO time, role lists joined with `;`. */
function toRow(e: StoredAuditEvent): Record<(typeof CSV_COLUMNS)[number], string> {
  return {
    time: new Date(e.time).toISOString(),
    requestId: e.requestId ?? '',
    actor: e.actor,
    action: e.action,
    target: e.target ?? '',
    role: e.role ?? '',
    before: e.before?.join(';') ?? '',
    after: e.after?.join(';') ?? '',
    outcome: e.outcome,
    detail: e.detail ?? '',
    eventId: e.id,
    prev: e.prev ?? '',
    hash: e.hash ?? '',
  };
}

/**
 * Spreadsheet apps run a cell that starts with = + - @ (or a tab / carriage return) as a formula; a target name or
 * a reason typed in Slack must never become one, so such cells get a leading apostrophe (OWASP's advice).
 */
export function neutraliseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function toJsonLine(e: StoredAuditEvent): string {
  const { id, time, ...rest } = e;
  return `${JSON.stringify({ time: new Date(time).toISOString(), ...rest, eventId: id })}\n`;
}

/** Streams every event since `fromMs` to `out` in the format asked; returns how many were written. */
async function exportAudit(
  audit: AuditLog,
  opts: Omit<ExportOptions, 'out'>,
  out: Writable,
): Promise<number> {
  let count = 0;
  const events = audit.since(opts.fromMs);
  async function* counted() {
    for await (const e of events) {
      count++;
      yield e;
    }
  }
  if (opts.format === 'jsonl') {
    await pipeline(
      Readable.from(
        (async function* () {
          for await (const e of counted()) yield toJsonLine(e);
        })(),
      ),
      out,
      { end: out !== process.stdout },
    );
  } else {
    const csv = stringify({
      header: true,
      columns: [...CSV_COLUMNS],
      cast: { string: (v: string) => neutraliseFormula(v) },
    });
    await pipeline(
      Readable.from(
        (async function* () {
          for await (const e of counted()) yield toRow(e);
        })(),
      ),
      csv,
      out,
      { end: out !== process.stdout },
    );
  }
  return count;
}

/**
 * Up to `limit` prefixes that have an audit stream (`<prefix>:audit`), found with SCAN, closest to `wanted` first:
 * the "did you mean" for a QUEUE_PREFIX with no audit log.
 */
export async function prefixesWithAudit(
  redis: RedisConnection,
  wanted: string,
  limit = 5,
): Promise<string[]> {
  const found = new Set<string>();
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', '*:audit', 'COUNT', 1000, 'TYPE', 'stream');
      cursor = next;
      for (const k of keys) found.add(k.slice(0, -':audit'.length));
    } while (cursor !== '0' && found.size < 10_000);
  }
  return [...found]
    .map((p) => ({ p, d: distance(p, wanted) }))
    .sort((a, b) => a.d - b.d || a.p.localeCompare(b.p))
    .slice(0, limit)
    .map((x) => x.p);
}

/**
 * Why standard output cannot take a clean export, or undefined. `npm run audit -- … > audit.csv` has npm write its
 * `> qlik-access-bot@… audit` banner into the file before this process starts; a file that is not empty when the
 * export begins would have those lines above the header, so the export refuses rather than corrupt it.
 */
function stdoutProblem(fd = 1): string | undefined {
  let size: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    size = st.size;
  } catch {
    return undefined;
  }
  if (size === 0) return undefined;
  return (
    `Standard output is a file that already holds ${size} byte(s) before the export starts — with ` +
    "`npm run audit -- … > file` that is npm's banner, which would sit above the data. Nothing was exported. " +
    'Name the file with --out instead: npm run audit -- --since 30d --format csv --out audit.csv'
  );
}

/** `verify [--head <hash>]`: the options, or a UsageError. */
export function parseVerifyArgs(argv: string[]): { head?: string } {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { head: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.head !== undefined && !/^[0-9a-f]{40}$/i.test(values.head.trim()))
      throw new UsageError(`--head expects a 40-character hash as verify printed it, got "${values.head}".`);
    return values.head === undefined ? {} : { head: values.head.trim().toLowerCase() };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Checks the chain and says what it found, in words; 0 when it holds (and, with `head`, that hash is in it), else 1.
 */
export async function verifyAudit(
  audit: AuditLog,
  opts: { head?: string },
  say: (line: string) => void,
): Promise<number> {
  let sawHead = false;
  async function* events() {
    for await (const e of audit.raw()) {
      if (opts.head !== undefined && e.fields.includes(opts.head)) sawHead = true;
      yield e;
    }
  }
  const r = await verifyChain(events());
  if (r.problem) {
    say(`The audit chain is broken at event ${r.problem.id}: ${r.problem.detail}.`);
    say(
      `${r.chained} event(s) before it check out${r.unchained ? ` (after ${r.unchained} written before the chain)` : ''}.`,
    );
    return 1;
  }
  if (r.chained === 0) {
    say(`No chained events yet (${r.events} event(s) written before the chain).`);
    return opts.head === undefined ? 0 : 1;
  }
  say(
    `The audit chain holds: ${r.chained} chained event(s) from ${r.firstChained} to ${r.lastId}` +
      `${r.unchained ? `, after ${r.unchained} written before the chain` : ''}.`,
  );
  say(`Head hash: ${r.head}`);
  if (opts.head !== undefined && !sawHead) {
    say(`The anchored head ${opts.head} is not in the stream: events up to it were deleted or rewritten.`);
    return 1;
  }
  if (opts.head !== undefined) say('The anchored head is in the chain.');
  return 0;
}

async function main(): Promise<number> {
  let opts: ExportOptions;
  const argv = process.argv.slice(2);
  if (argv[0] === 'verify') return runVerify(argv.slice(1));
  if (argv[0] === 'review') return runReview(argv.slice(1));
  try {
    opts = parseExportArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) process.stderr.write(`${err.message}\n\n`);
      process.stderr.write(`${USAGE}\n`);
      return err.message ? 2 : 0;
    }
    throw err;
  }
  const { url, prefix } = redisSettings();
  if (opts.out === undefined) {
    const problem = stdoutProblem();
    if (problem !== undefined) {
      process.stderr.write(`${problem}\n`);
      return 2;
    }
  }
  let redis: RedisConnection | undefined;
  let connectionError: string | undefined;
  try {
    redis = connect(url);
    redis.on('error', (err: Error & { code?: string }) => {
      connectionError = err.code ?? err.message; // reported below, once, in words
    });
    const key = storeKeys(prefix).audit;
    if ((await redis.exists(key)) === 0) {
      const others = await prefixesWithAudit(redis, prefix);
      process.stderr.write(
        `No audit log under QUEUE_PREFIX=${prefix} in Redis at ${redactRedisUrl(url)} (there is no ${key} stream): ` +
          'the prefix is not the one the bot runs with, or nothing has been audited there yet. ' +
          (others.length > 0
            ? `Prefixes with an audit log: ${others.join(', ')}.`
            : 'No prefix in this Redis has an audit log.') +
          ' Nothing was exported.\n',
      );
      return 1;
    }
    const out = opts.out === undefined ? process.stdout : createWriteStream(opts.out);
    const count = await exportAudit(new AuditLog(redis, prefix), opts, out);
    if (opts.out !== undefined) process.stderr.write(`Wrote ${count} audit event(s) to ${opts.out}.\n`);
    return 0;
  } catch (err) {
    const raw = err instanceof Error ? err.message : String(err);
    const reason = connectionError ? `cannot connect (${connectionError}); is Redis running there?` : raw;
    process.stderr.write(
      `Could not export the audit log from Redis at ${redactRedisUrl(url)} (prefix ${prefix}): ${reason}\n`,
    );
    return 1;
  } finally {
    redis?.disconnect();
  }
}

/**
 * Where the audit log is: REDIS_URL, and QUEUE_PREFIX as the bot reads it (src/config.ts), so `qlikops:` and
 * `qlikops` name the same keys.
 */
function redisSettings(): { url: string; prefix: string } {
  return {
    url: process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379',
    prefix: normaliseQueuePrefix(process.env.QUEUE_PREFIX ?? '') || 'qlikops',
  };
}

/** A connection that fails fast when Redis is not there: the CLI is run by a person who is waiting for it. */
function connect(url: string): RedisConnection {
  return createRedisConnection(url, 'command', { retryStrategy: (times) => (times > 2 ? null : 200) });
}

/** `verify`: connects as the export does and checks the chain. */
async function runVerify(argv: string[]): Promise<number> {
  let opts: { head?: string };
  try {
    opts = parseVerifyArgs(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
    return 2;
  }
  const { url, prefix } = redisSettings();
  const redis = connect(url);
  redis.on('error', () => {});
  try {
    if ((await redis.exists(storeKeys(prefix).audit)) === 0) {
      process.stderr.write(`No audit log under QUEUE_PREFIX=${prefix} in Redis at ${redactRedisUrl(url)}.\n`);
      return 1;
    }
    return await verifyAudit(new AuditLog(redis, prefix), opts, (line) => process.stdout.write(`${line}\n`));
  } catch (err) {
    process.stderr.write(
      `Could not check the audit log in Redis at ${redactRedisUrl(url)}: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  } finally {
    redis.disconnect();
  }
}

/** `review <id> [--out <file>]`: the options, or a UsageError. */
export function parseReviewArgs(argv: string[]): { id: string; out?: string } {
  let parsed: ReturnType<typeof parseArgs<{ options: { out: { type: 'string' } }; allowPositionals: true }>>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { out: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const [raw, ...rest] = parsed.positionals;
  if (raw === undefined || rest.length > 0)
    throw new UsageError('review takes one review id, e.g. review V-7KQ2.');
  const id = raw.trim().toUpperCase();
  if (!REVIEW_ID_PATTERN.test(id))
    throw new UsageError(
      `"${raw}" is not a review id: they look like V-7KQ2 (the review's header message shows it).`,
    );
  return { id, ...(parsed.values.out === undefined ? {} : { out: parsed.values.out }) };
}

/** `review`: connects as the export does and prints the review's outcome CSV (0), or says why it can't (1, 2). */
async function runReview(argv: string[]): Promise<number> {
  let opts: { id: string; out?: string };
  try {
    opts = parseReviewArgs(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts.out === undefined) {
    const problem = stdoutProblem();
    if (problem !== undefined) {
      process.stderr.write(`${problem}\n`);
      return 2;
    }
  }
  const { url, prefix } = redisSettings();
  const redis = connect(url);
  redis.on('error', () => {});
  try {
    const review = await new ReviewStore(redis, prefix).get(opts.id);
    if (!review) {
      process.stderr.write(
        `No access review ${opts.id} under QUEUE_PREFIX=${prefix} in Redis at ${redactRedisUrl(url)} ` +
          '(a closed review is kept 90 days; its events stay in the audit export).\n',
      );
      return 1;
    }
    const file = outcomeCsv(review).csv;
    if (opts.out === undefined) process.stdout.write(file);
    else {
      await pipeline(Readable.from([file]), createWriteStream(opts.out));
      process.stderr.write(
        `Wrote the outcome of review ${review.id} (${review.holders.length} holders, ${review.state}) to ${opts.out}.\n`,
      );
    }
    return 0;
  } catch (err) {
    process.stderr.write(
      `Could not read review ${opts.id} from Redis at ${redactRedisUrl(url)}: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  } finally {
    redis.disconnect();
  }
}

if (import.meta.main) {
  const code = await main();
  // After a failed connection ioredis keeps a timer alive for a while; a person is waiting, so leave now.
  if (code !== 0) process.exit(code);
}
