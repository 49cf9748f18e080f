// Owns role-change requests in Redis: creation with duplicate detection and unique short ids, guarded state
// transitions, approvals, and the indexes the bot and the sweeps read (pending, per requester, dedupe, time-bound).
// Every change is ONE Lua script, so a double click, a replayed payload, two approvers at once or two processes can
// never decide or apply a request twice; the audit event of a change can be appended inside the same script.
//
// Layout: a request is a HASH with one field per top-level RoleChangeRequest field holding JSON (so a patch is a
// plain HSET and Lua never has to re-encode JSON), `state` raw (Lua compares it), and internal `_…` fields naming
// its index keys. Approvals are a ZSET (approver → time) so "distinct approvers" is a ZADD and a ZCARD.

import {
  canTransition,
  dedupeKey,
  legacyDedupeKeyOf,
  type MessageRef,
  newRequestId,
  REQUEST_ID_PATTERN,
  type RequestState,
  type RoleChangeRequest,
  TERMINAL_STATES,
} from '../domain/request.ts';
import { type AuditEvent, auditFields, DEFAULT_AUDIT_MAX_LEN } from './audit-log.ts';
import { type StoreKeys, storeKeys } from './keys.ts';
import type { RedisConnection } from './redis.ts';

/** What a caller supplies to file a request; the store adds id, state ('pending'), timestamps and approvals. */
export type NewRequest = Omit<RoleChangeRequest, 'id' | 'state' | 'createdAt' | 'updatedAt' | 'approvals'>;

export type CreateResult =
  | { ok: true; request: RoleChangeRequest }
  | { ok: false; duplicateOf: RoleChangeRequest };

export type TransitionResult =
  | { ok: true; request: RoleChangeRequest; previous: RequestState }
  | { ok: false; reason: 'not-found' | 'wrong-state'; request?: RoleChangeRequest };

export type ApprovalResult =
  | { outcome: 'recorded'; request: RoleChangeRequest }
  | { outcome: 'approved'; request: RoleChangeRequest }
  | { outcome: 'duplicate'; request: RoleChangeRequest }
  | { outcome: 'not-pending'; request: RoleChangeRequest }
  | { outcome: 'not-found' };

export interface RequestStoreOptions {
  /** How long a finished request is kept (default 90 days); the audit stream keeps the history anyway. */
  retentionMs?: number;
  /** Approximate cap of the audit stream when appending inside a transition (default 1 000 000). */
  auditMaxLen?: number;
  /** Random source for ids (tests force collisions with it). */
  random?: () => number;
}

/** Thrown for a transition the state machine forbids: a bug in the caller, never a user's doing. */
export class IllegalTransitionError extends Error {
  readonly from: RequestState;
  readonly to: RequestState;
  constructor(from: RequestState, to: RequestState) {
    super(`A request cannot go from ${from} to ${to}.`);
    this.name = 'IllegalTransitionError';
    this.from = from;
    this.to = to;
  }
}

const DAY_MS = 86_400_000;
const IDS_PER_ATTEMPT = 4;
const ATTEMPTS_PER_LENGTH = 3;
const MIN_ID_LENGTH = 4;
const MAX_ID_LENGTH = 8;
/** Fields the store owns; a create input or a patch can never set them. */
const OWNED_FIELDS = new Set(['id', 'state', 'createdAt', 'updatedAt', 'approvals']);

// Shared by the scripts. Arguments are read with a cursor because lists of variable length follow each other.
const LUA_PRELUDE = `
local argi = 0
local function arg() argi = argi + 1; return ARGV[argi] end
local function list()
  local n = tonumber(arg()); local t = {}
  for i = 1, n do t[i] = arg() end
  return t
end
local function read_request(rk, ak)
  return { redis.call('HGETALL', rk), redis.call('ZRANGE', ak, 0, -1, 'WITHSCORES') }
end
local function set_field(fields, name, value)
  for i = 1, #fields, 2 do
    if fields[i] == name then fields[i + 1] = value; return end
  end
  fields[#fields + 1] = name; fields[#fields + 1] = value
end
local function has_field(fields, name)
  for i = 1, #fields, 2 do if fields[i] == name then return true end end
  return false
end
local function append_audit(stream, max_len, fields)
  if #fields > 0 then redis.call('XADD', stream, 'MAXLEN', '~', max_len, '*', unpack(fields)) end
end
local function leave_pending(rk, id, pending)
  redis.call('ZREM', pending, id)
  local dk = redis.call('HGET', rk, '_dedupe')
  if dk and redis.call('GET', dk) == id then redis.call('DEL', dk) end
  local bk = redis.call('HGET', rk, '_byRequester')
  if bk then redis.call('ZREM', bk, id) end
end
`;

// KEYS: dedupe, pending, by-requester, audit, legacy dedupe (= dedupe when none), candidate request keys…
// ARGV: requestPrefix, approvalsSuffix, createdAt, expiresAt, auditMaxLen, [ids], [field json…], [audit fields]
// A pending request filed by a version before targets is indexed under the legacy key only: both are checked, the
// new request is indexed under the new one.
const CREATE_LUA = `${LUA_PRELUDE}
local request_prefix, approvals_suffix = arg(), arg()
local created_at, expires_at, max_len = arg(), arg(), arg()
local ids, fields, audit = list(), list(), list()
for _, dk in ipairs({ KEYS[1], KEYS[5] }) do
  local existing = redis.call('GET', dk)
  if existing then
    local rk = request_prefix .. existing
    if redis.call('HGET', rk, 'state') == 'pending' then
      return { 'duplicate', existing, read_request(rk, rk .. approvals_suffix) }
    end
  end
end
local chosen = nil
for i = 1, #ids do
  if redis.call('EXISTS', KEYS[5 + i]) == 0 then chosen = i; break end
end
if not chosen then return { 'collision' } end
local id, rk = ids[chosen], KEYS[5 + chosen]
redis.call('HSET', rk, 'id', '"' .. id .. '"', 'state', 'pending', '_dedupe', KEYS[1], '_byRequester', KEYS[3], unpack(fields))
redis.call('SET', KEYS[1], id)
redis.call('ZADD', KEYS[2], expires_at, id)
redis.call('ZADD', KEYS[3], created_at, id)
if #audit > 0 then set_field(audit, 'requestId', id) end
append_audit(KEYS[4], max_len, audit)
return { 'created', id, read_request(rk, rk .. approvals_suffix) }
`;

// KEYS: request, approvals, pending, timebound, audit
// ARGV: id, now, to, terminal(1/0), retentionMs, auditMaxLen, [from…], [set field/json…], [del field…], [audit]
const TRANSITION_LUA = `${LUA_PRELUDE}
local id, now, to, terminal, retention, max_len = arg(), arg(), arg(), arg(), arg(), arg()
local from, sets, dels, audit = list(), list(), list(), list()
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return { 'not-found' } end
local allowed = false
for i = 1, #from do if from[i] == state then allowed = true end end
if not allowed then return { 'wrong-state', state, read_request(KEYS[1], KEYS[2]) } end
if #sets > 0 then redis.call('HSET', KEYS[1], unpack(sets)) end
if #dels > 0 then redis.call('HDEL', KEYS[1], unpack(dels)) end
redis.call('HSET', KEYS[1], 'state', to, 'updatedAt', now)
if state == 'pending' and to ~= 'pending' then leave_pending(KEYS[1], id, KEYS[3]) end
local revoke_at = redis.call('HGET', KEYS[1], '_revokeAt')
if to == 'applied' and revoke_at and revoke_at ~= '' then
  redis.call('ZADD', KEYS[4], revoke_at, id)
else
  redis.call('ZREM', KEYS[4], id)
end
-- Finished requests age out; an applied time-bound grant stays until its revoke is recorded.
if terminal == '1' or (to == 'applied' and not (revoke_at and revoke_at ~= '')) then
  redis.call('PEXPIRE', KEYS[1], retention); redis.call('PEXPIRE', KEYS[2], retention)
else
  redis.call('PERSIST', KEYS[1]); redis.call('PERSIST', KEYS[2])
end
append_audit(KEYS[5], max_len, audit)
return { 'ok', state, read_request(KEYS[1], KEYS[2]) }
`;

// KEYS: request, approvals, pending, audit
// ARGV: id, now, approverId, auditMaxLen, [audit]
const ADD_APPROVAL_LUA = `${LUA_PRELUDE}
local id, now, approver, max_len = arg(), arg(), arg(), arg()
local audit = list()
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return { 'not-found' } end
if state ~= 'pending' then return { 'not-pending', state, read_request(KEYS[1], KEYS[2]) } end
if redis.call('ZSCORE', KEYS[2], approver) then return { 'duplicate', state, read_request(KEYS[1], KEYS[2]) } end
redis.call('ZADD', KEYS[2], now, approver)
local count = redis.call('ZCARD', KEYS[2])
local required = tonumber(redis.call('HGET', KEYS[1], 'approvalsRequired')) or 1
if required < 1 then required = 1 end
local outcome = 'recorded'
if count >= required then
  outcome = 'approved'
  redis.call('HSET', KEYS[1], 'state', 'approved')
  leave_pending(KEYS[1], id, KEYS[3])
end
redis.call('HSET', KEYS[1], 'updatedAt', now)
if #audit > 0 then
  set_field(audit, 'outcome', outcome)
  if not has_field(audit, 'detail') then
    set_field(audit, 'detail', count .. ' of ' .. required .. ' approvals')
  end
end
append_audit(KEYS[4], max_len, audit)
return { outcome, state, read_request(KEYS[1], KEYS[2]) }
`;

// KEYS: request. ARGV: field, json. Never recreates a request that is gone.
const SET_FIELD_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

// KEYS: request, approvals. A consistent snapshot of both.
const READ_LUA = `
return { redis.call('HGETALL', KEYS[1]), redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES') }
`;

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;
interface ScriptedCommands {
  qabRequestCreate: ScriptFn;
  qabRequestTransition: ScriptFn;
  qabRequestAddApproval: ScriptFn;
  qabRequestSetField: ScriptFn;
  qabRequestRead: ScriptFn;
}

/** [hgetall flat, zrange withscores flat] as the scripts return it. */
type RawRequest = [string[], string[]];

function decodeRequest(raw: RawRequest): RoleChangeRequest | undefined {
  const [hash, approvals] = raw;
  if (!Array.isArray(hash) || hash.length === 0) return undefined;
  const doc: Record<string, unknown> = {};
  let state: string | undefined;
  for (let i = 0; i + 1 < hash.length; i += 2) {
    const field = hash[i]!;
    const value = hash[i + 1]!;
    if (field === 'state') state = value;
    else if (!field.startsWith('_')) doc[field] = JSON.parse(value);
  }
  if (state === undefined) return undefined;
  const list: { slackUserId: string; at: number }[] = [];
  for (let i = 0; i + 1 < approvals.length; i += 2)
    list.push({ slackUserId: approvals[i]!, at: Number(approvals[i + 1]) });
  return { ...doc, state, approvals: list } as RoleChangeRequest;
}

/** Request ids are typed by people: accept any case and stray spaces. */
export function normaliseRequestId(id: string): string {
  return id.trim().toUpperCase();
}

function encodeFields(obj: Record<string, unknown>): { sets: string[]; dels: string[] } {
  const sets: string[] = [];
  const dels: string[] = [];
  for (const [field, value] of Object.entries(obj)) {
    if (OWNED_FIELDS.has(field) || field.startsWith('_')) continue;
    if (value === undefined) dels.push(field);
    else sets.push(field, JSON.stringify(value));
  }
  if ('result' in obj) {
    const revokeAt = (obj as Partial<RoleChangeRequest>).result?.revokeAt;
    if (typeof revokeAt === 'number' && Number.isFinite(revokeAt)) sets.push('_revokeAt', String(revokeAt));
    else dels.push('_revokeAt');
  }
  return { sets, dels };
}

function auditArgs(audit: AuditEvent | undefined, requestId?: string): string[] {
  if (!audit) return ['0'];
  const fields = auditFields(requestId && audit.requestId === undefined ? { ...audit, requestId } : audit);
  return [String(fields.length), ...fields];
}

export class RequestStore {
  readonly #redis: RedisConnection;
  readonly #cmd: ScriptedCommands;
  readonly #keys: StoreKeys;
  readonly #retentionMs: number;
  readonly #auditMaxLen: number;
  readonly #random: () => number;

  constructor(redis: RedisConnection, prefix: string, opts: RequestStoreOptions = {}) {
    this.#redis = redis;
    this.#keys = storeKeys(prefix);
    this.#retentionMs = opts.retentionMs ?? 90 * DAY_MS;
    this.#auditMaxLen = opts.auditMaxLen ?? DEFAULT_AUDIT_MAX_LEN;
    this.#random = opts.random ?? Math.random;
    redis.defineCommand('qabRequestCreate', { lua: CREATE_LUA });
    redis.defineCommand('qabRequestTransition', { lua: TRANSITION_LUA });
    redis.defineCommand('qabRequestAddApproval', { lua: ADD_APPROVAL_LUA });
    redis.defineCommand('qabRequestSetField', { lua: SET_FIELD_LUA, numberOfKeys: 1 });
    redis.defineCommand('qabRequestRead', { lua: READ_LUA, numberOfKeys: 2, readOnly: true });
    this.#cmd = redis as unknown as ScriptedCommands;
  }

  /**
   * Files a request in state `pending`, unless a pending request with the same dedupe key (target, principal, role,
   * action; or its key as versions before targets wrote it) exists: then that one is returned as `duplicateOf` and nothing is written. `audit` (if given) is appended in the
   * same script with the new id as its requestId.
   */
  async create(input: NewRequest, now: number = Date.now(), audit?: AuditEvent): Promise<CreateResult> {
    const { sets } = encodeFields(input as Record<string, unknown>);
    sets.push('createdAt', String(now), 'updatedAt', String(now));
    const k = this.#keys;
    const dedupe = k.dedupe(dedupeKey(input));
    const legacy = legacyDedupeKeyOf(input);
    const fixedKeys = [
      dedupe,
      k.pending,
      k.pendingByRequester(input.requesterId),
      k.audit,
      legacy === undefined ? dedupe : k.dedupe(legacy),
    ];
    const auditList = auditArgs(audit); // the script sets requestId once the id is chosen
    for (let length = MIN_ID_LENGTH; length <= MAX_ID_LENGTH; length++) {
      for (let attempt = 0; attempt < ATTEMPTS_PER_LENGTH; attempt++) {
        const ids = [
          ...new Set(Array.from({ length: IDS_PER_ATTEMPT }, () => newRequestId(length, this.#random))),
        ];
        const keys = [...fixedKeys, ...ids.map((id) => k.request(id))];
        const argv = [
          k.requestPrefix,
          k.approvalsSuffix,
          String(now),
          String(input.expiresAt),
          String(this.#auditMaxLen),
          String(ids.length),
          ...ids,
          String(sets.length),
          ...sets,
          ...auditList,
        ];
        const res = (await this.#cmd.qabRequestCreate(keys.length, ...keys, ...argv)) as [
          string,
          string?,
          RawRequest?,
        ];
        if (res[0] === 'collision') continue;
        const request = decodeRequest(res[2]!);
        if (!request) throw new Error(`Request ${res[1]} vanished while it was being filed.`);
        return res[0] === 'duplicate' ? { ok: false, duplicateOf: request } : { ok: true, request };
      }
    }
    throw new Error('Could not find a free request id; please try again.');
  }

  async get(id: string): Promise<RoleChangeRequest | undefined> {
    const [request] = await this.getMany([id]);
    return request;
  }

  /** The requests that exist, in the order asked; unknown ids are left out. */
  async getMany(ids: string[]): Promise<RoleChangeRequest[]> {
    const wanted = ids.map(normaliseRequestId).filter((id) => REQUEST_ID_PATTERN.test(id));
    if (wanted.length === 0) return [];
    const pipeline = this.#redis.pipeline() as unknown as ScriptedCommands & {
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    for (const id of wanted) pipeline.qabRequestRead(this.#keys.request(id), this.#keys.approvals(id));
    const results = (await pipeline.exec()) ?? [];
    const out: RoleChangeRequest[] = [];
    for (const [err, raw] of results) {
      if (err) throw err;
      const request = decodeRequest(raw as RawRequest);
      if (request) out.push(request);
    }
    return out;
  }

  /**
   * Compare-and-set on state: moves the request to `to` only if its state is one of `from`, applying `patch`
   * (shallow merge of top-level fields; `undefined` removes a field; id/state/timestamps/approvals are ignored) and
   * the index changes, and appending `audit` (requestId defaults to `id`) — all in one script.
   * Throws IllegalTransitionError if any `from` → `to` is not in TRANSITIONS.
   */
  async transition(
    id: string,
    from: RequestState | RequestState[],
    to: RequestState,
    patch: Partial<RoleChangeRequest> = {},
    now: number = Date.now(),
    audit?: AuditEvent,
  ): Promise<TransitionResult> {
    const fromList = Array.isArray(from) ? from : [from];
    for (const f of fromList) if (!canTransition(f, to)) throw new IllegalTransitionError(f, to);
    const rid = normaliseRequestId(id);
    if (!REQUEST_ID_PATTERN.test(rid)) return { ok: false, reason: 'not-found' };
    const { sets, dels } = encodeFields(patch);
    const k = this.#keys;
    const keys = [k.request(rid), k.approvals(rid), k.pending, k.timebound, k.audit];
    const argv = [
      rid,
      String(now),
      to,
      TERMINAL_STATES.includes(to) ? '1' : '0',
      String(this.#retentionMs),
      String(this.#auditMaxLen),
      String(fromList.length),
      ...fromList,
      String(sets.length),
      ...sets,
      String(dels.length),
      ...dels,
      ...auditArgs(audit, rid),
    ];
    const res = (await this.#cmd.qabRequestTransition(keys.length, ...keys, ...argv)) as [
      string,
      string?,
      RawRequest?,
    ];
    if (res[0] === 'not-found') return { ok: false, reason: 'not-found' };
    const request = decodeRequest(res[2]!);
    if (!request) return { ok: false, reason: 'not-found' };
    if (res[0] === 'wrong-state') return { ok: false, reason: 'wrong-state', request };
    return { ok: true, request, previous: res[1] as RequestState };
  }

  /**
   * Counts one approver's approval. The approval that reaches approvalsRequired moves the request to `approved` in
   * the same script, so exactly one caller ever sees 'approved'. `audit` is appended only when the approval
   * counted, with `outcome` set to 'recorded' or 'approved' (and `detail` to "n of m approvals" unless given).
   */
  async addApproval(
    id: string,
    approverId: string,
    now: number = Date.now(),
    audit?: AuditEvent,
  ): Promise<ApprovalResult> {
    const rid = normaliseRequestId(id);
    if (!REQUEST_ID_PATTERN.test(rid)) return { outcome: 'not-found' };
    const k = this.#keys;
    const keys = [k.request(rid), k.approvals(rid), k.pending, k.audit];
    const argv = [rid, String(now), approverId, String(this.#auditMaxLen), ...auditArgs(audit, rid)];
    const res = (await this.#cmd.qabRequestAddApproval(keys.length, ...keys, ...argv)) as [
      ApprovalResult['outcome'],
      string?,
      RawRequest?,
    ];
    if (res[0] === 'not-found') return { outcome: 'not-found' };
    const request = decodeRequest(res[2]!);
    if (!request) return { outcome: 'not-found' };
    return { outcome: res[0], request };
  }

  /** Remembers where the approval message lives; does nothing if the request is gone. */
  async setApprovalMessage(id: string, ref: MessageRef): Promise<void> {
    const rid = normaliseRequestId(id);
    await this.#cmd.qabRequestSetField(this.#keys.request(rid), 'approvalMessage', JSON.stringify(ref));
  }

  /** One requester's pending requests, oldest first. */
  async listPendingByRequester(userId: string): Promise<RoleChangeRequest[]> {
    const ids = await this.#redis.zrange(this.#keys.pendingByRequester(userId), '0', '-1');
    return (await this.getMany(ids)).filter((r) => r.state === 'pending');
  }

  /** Pending requests by expiry time, soonest first (= oldest first with one request TTL). */
  async listPending(limit = 100): Promise<RoleChangeRequest[]> {
    if (limit <= 0) return [];
    const ids = await this.#redis.zrange(this.#keys.pending, '0', String(limit - 1));
    return (await this.getMany(ids)).filter((r) => r.state === 'pending');
  }

  /** Ids of pending requests whose expiresAt <= now, soonest first. Expiring them removes them from this index. */
  async dueForExpiry(now: number, limit = 1000): Promise<string[]> {
    return this.#redis.zrangebyscore(this.#keys.pending, '-inf', String(now), 'LIMIT', 0, limit);
  }

  /**
   * Ids of applied time-bound grants whose result.revokeAt <= now, soonest first. A grant leaves this index when
   * it moves to revoked / expired-revoked, so a missed revoke shows up here again (the reconciler's list).
   */
  async dueForRevoke(now: number, limit = 1000): Promise<string[]> {
    return this.#redis.zrangebyscore(this.#keys.timebound, '-inf', String(now), 'LIMIT', 0, limit);
  }
}
