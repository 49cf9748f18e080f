// Owns the audit trail: one Redis stream (`<prefix>:audit`) that every transition is appended to, and the reads
// behind `/qlik audit` and the export CLI. RequestStore appends to the same stream inside its Lua scripts, using the
// field encoding defined here, so an event and the transition it records are written together or not at all.

import { readFileSync } from 'node:fs';
import { storeKeys } from './keys.ts';
import type { RedisConnection } from './redis.ts';

/** Appends one chained event (src/store/lua/audit-chain.lua); KEYS[1] the stream, ARGV max length then fields. */
const APPEND_LUA = `${readFileSync(new URL('./lua/audit-chain.lua', import.meta.url), 'utf8')}
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
return append_audit(KEYS[1], ARGV[1], fields)`;

export interface AuditEvent {
  /** Epoch ms when it happened (the stream id carries Redis' own clock too). */
  time: number;
  requestId?: string;
  /** Slack user id, or 'system' for the worker, the expiry sweep and the reconciler. */
  actor: string;
  /** requested, approved, denied, expired, cancelled, applying, applied, failed, revoked, expired-revoked, … */
  action: string;
  /** The principal the request is about, as people read it (e.g. `alice (alice@acme.com)`, `group Sales`). */
  target?: string;
  role?: string;
  /** Direct role names before and after, where a change was made. */
  before?: string[];
  after?: string[];
  outcome: string;
  detail?: string;
}

export type StoredAuditEvent = AuditEvent & {
  id: string;
  /** The hash chain (src/store/audit-chain.ts): the previous event's hash and this one's; absent on older events. */
  prev?: string;
  hash?: string;
};

export const DEFAULT_AUDIT_MAX_LEN = 1_000_000;

const STRING_FIELDS = ['requestId', 'actor', 'action', 'target', 'role', 'outcome', 'detail'] as const;

/** Flat field/value list for XADD. Arrays are JSON; absent fields are left out. */
export function auditFields(e: AuditEvent): string[] {
  const out: string[] = ['time', String(e.time)];
  for (const f of STRING_FIELDS) {
    const v = e[f];
    if (v !== undefined) out.push(f, v);
  }
  if (e.before !== undefined) out.push('before', JSON.stringify(e.before));
  if (e.after !== undefined) out.push('after', JSON.stringify(e.after));
  return out;
}

function parseList(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) ? v.map(String) : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes one stream entry; tolerant, because the stream outlives any one version of the bot. */
export function parseAuditEntry(id: string, fields: string[]): StoredAuditEvent {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
  const time = Number(m.get('time'));
  const e: StoredAuditEvent = {
    id,
    time: Number.isFinite(time) ? time : Number(id.split('-')[0]),
    actor: m.get('actor') ?? '',
    action: m.get('action') ?? '',
    outcome: m.get('outcome') ?? '',
  };
  for (const f of ['requestId', 'target', 'role', 'detail', 'prev', 'hash'] as const) {
    const v = m.get(f);
    if (v !== undefined) e[f] = v;
  }
  const before = parseList(m.get('before'));
  if (before) e.before = before;
  const after = parseList(m.get('after'));
  if (after) e.after = after;
  return e;
}

export interface RecentOptions {
  limit: number;
  /** Case-insensitive substring of the actor or the target. */
  who?: string;
  /** Role name, case-insensitive exact match. */
  role?: string;
  /** With filters, stop after looking at this many entries (default 50 000) so a chat command answers quickly. */
  maxScan?: number;
}

function matchesAudit(e: AuditEvent, who?: string, role?: string): boolean {
  if (role !== undefined && (e.role ?? '').toLowerCase() !== role.toLowerCase()) return false;
  if (who !== undefined) {
    const w = who.toLowerCase();
    if (!e.actor.toLowerCase().includes(w) && !(e.target ?? '').toLowerCase().includes(w)) return false;
  }
  return true;
}

export class AuditLog {
  readonly #redis: RedisConnection;
  readonly #key: string;
  readonly #maxLen: number;

  constructor(redis: RedisConnection, prefix: string, opts: { maxLen?: number } = {}) {
    this.#redis = redis;
    this.#key = storeKeys(prefix).audit;
    this.#maxLen = opts.maxLen ?? DEFAULT_AUDIT_MAX_LEN;
    redis.defineCommand('qabAuditAppend', { lua: APPEND_LUA, numberOfKeys: 1 });
  }

  /** Appends one event as the next link of the chain (trimming the stream to about maxLen); returns its stream id. */
  async append(e: AuditEvent): Promise<string> {
    const cmd = this.#redis as unknown as { qabAuditAppend(...args: (string | number)[]): Promise<unknown> };
    const id = await cmd.qabAuditAppend(this.#key, this.#maxLen, ...auditFields(e));
    if (typeof id !== 'string') throw new Error('Redis did not add the audit event.');
    return id;
  }

  /** Every event, oldest first, with its fields exactly as stored: what the chain is checked against. */
  async *raw(opts: { batch?: number } = {}): AsyncIterable<{ id: string; fields: string[] }> {
    const batch = Math.max(1, Math.floor(opts.batch ?? 1000));
    let start = '-';
    for (;;) {
      const entries = await this.#redis.xrange(this.#key, start, '+', 'COUNT', batch);
      for (const [id, fields] of entries) yield { id, fields };
      const last = entries.at(-1);
      if (!last || entries.length < batch) return;
      start = `(${last[0]}`;
    }
  }

  /** Newest first. Filters are applied while paging backwards through the stream. */
  async recent(opts: RecentOptions): Promise<StoredAuditEvent[]> {
    const limit = Math.floor(opts.limit);
    if (limit <= 0) return [];
    const filtering = opts.who !== undefined || opts.role !== undefined;
    const maxScan = opts.maxScan ?? 50_000;
    const out: StoredAuditEvent[] = [];
    let end = '+';
    let scanned = 0;
    while (out.length < limit && scanned < maxScan) {
      const count = filtering ? Math.min(1000, maxScan - scanned) : limit - out.length;
      const entries = await this.#redis.xrevrange(this.#key, end, '-', 'COUNT', count);
      for (const [id, fields] of entries) {
        scanned++;
        const e = parseAuditEntry(id, fields);
        if (matchesAudit(e, opts.who, opts.role)) out.push(e);
        if (out.length >= limit) break;
      }
      const last = entries.at(-1);
      if (!last || entries.length < count) break;
      end = `(${last[0]}`;
    }
    return out;
  }

  /** Oldest first, from the given epoch ms (by stream id), paging with XRANGE so any length can be exported. */
  async *since(fromMs: number, opts: { batch?: number } = {}): AsyncIterable<StoredAuditEvent> {
    const batch = Math.max(1, Math.floor(opts.batch ?? 500));
    let start = `${Math.max(0, Math.floor(fromMs))}-0`;
    for (;;) {
      const entries = await this.#redis.xrange(this.#key, start, '+', 'COUNT', batch);
      for (const [id, fields] of entries) yield parseAuditEntry(id, fields);
      const last = entries.at(-1);
      if (!last || entries.length < batch) return;
      start = `(${last[0]}`;
    }
  }
}
