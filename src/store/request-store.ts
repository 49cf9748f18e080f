// Owns role-change requests in Redis: creation with duplicate detection and unique short ids, guarded state
// transitions, approvals, and the indexes the bot and the sweeps read (pending, per requester, dedupe, time-bound,
// unfinished: approved or applying).
// Every change is ONE Lua script, so a double click, a replayed payload, two approvers at once or two processes can
// never decide or apply a request twice; the audit event of a change can be appended inside the same script.
//
// Layout: a request is a HASH with one field per top-level RoleChangeRequest field holding JSON (so a patch is a
// plain HSET and Lua never has to re-encode JSON), `state` raw (Lua compares it), and internal `_…` fields naming
// its index keys. Approvals are a ZSET (approver → time) so "distinct approvers" is a ZADD and a ZCARD. People in
// the ZSET and in index keys are their `personKey` (a Slack user's bare id, as every version wrote it); requests
// written before PersonRef, or before the principal's id or the entitlement were neutral, are read into the
// current shape (withLegacyPeople, withLegacyPrincipalId, withLegacyEntitlement).

import { readFileSync } from 'node:fs';
import {
  type Approval,
  canTransition,
  dedupeKey,
  legacyDedupeKeyOf,
  type MessageRef,
  newRequestId,
  type PersonRef,
  type Principal,
  personFromKey,
  personKey,
  REQUEST_ID_PATTERN,
  type RequestMessage,
  type RequestState,
  type RoleChangeRequest,
  sameMessage,
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
/** Fields the store owns; a create input or a patch can never set them (`messages` only grows, by addMessage). */
const OWNED_FIELDS = new Set(['id', 'state', 'createdAt', 'updatedAt', 'approvals', 'messages']);

// The scripts live in lua/ beside this file (npm run build copies them into dist/); each request script starts
// with the shared prelude (argument cursor, request read, audit append, leaving the pending indexes).
const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
// The audit append (src/store/lua/audit-chain.lua) is shared with AuditLog.append, so every event is chained.
const PRELUDE = `${lua('request-prelude')}${lua('audit-chain')}`;
const CREATE_LUA = `${PRELUDE}${lua('request-create')}`;
const TRANSITION_LUA = `${PRELUDE}${lua('managed-record')}${lua('request-transition')}`;
const ADD_APPROVAL_LUA = `${PRELUDE}${lua('request-add-approval')}`;
const ADD_MESSAGE_LUA = lua('request-add-message');
const READ_LUA = lua('request-read');
const INDEX_UNFINISHED_LUA = lua('request-index-unfinished');
const INDEX_MANAGED_LUA = `${lua('managed-record')}${lua('request-index-managed')}`;
/** The states a request sits in between its approval and its outcome: what the unfinished index holds. */
const UNFINISHED_STATES: ReadonlySet<RequestState> = new Set(['approved', 'applying']);

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;
interface ScriptedCommands {
  qabRequestCreate: ScriptFn;
  qabRequestTransition: ScriptFn;
  qabRequestAddApproval: ScriptFn;
  qabRequestAddMessage: ScriptFn;
  qabRequestRead: ScriptFn;
  qabRequestIndexUnfinished: ScriptFn;
  qabRequestIndexManaged: ScriptFn;
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
  const list: Approval[] = [];
  for (let i = 0; i + 1 < approvals.length; i += 2)
    list.push({ by: personFromKey(approvals[i]!), at: Number(approvals[i + 1]) });
  const messages = withLegacyApprovalMessage(doc);
  withLegacyPeople(doc);
  withLegacyPrincipalId(doc);
  withLegacyEntitlement(doc);
  return { ...doc, ...(messages ? { messages } : {}), state, approvals: list } as RoleChangeRequest;
}

/**
 * Reads the people of a request as versions before PersonRef wrote them into the current shape: `requesterId`
 * (a Slack user id) as `requester`, a user principal's `slackUserId` as its `person`, and `deniedBy` /
 * `cancelledBy` stored as a bare Slack user id. Only the decoded copy changes; what is stored stays as it was.
 */
function withLegacyPeople(doc: Record<string, unknown>): void {
  if (typeof doc.requesterId === 'string') {
    if (doc.requester === undefined) doc.requester = slackPerson(doc.requesterId);
  }
  delete doc.requesterId;
  for (const field of ['deniedBy', 'cancelledBy'] as const) {
    if (typeof doc[field] === 'string') doc[field] = slackPerson(doc[field]);
  }
  const target = doc.target as (Principal & { slackUserId?: unknown }) | undefined;
  if (target?.kind === 'user' && 'slackUserId' in target) {
    const { slackUserId, ...rest } = target;
    doc.target =
      typeof slackUserId === 'string' && rest.person === undefined
        ? { ...rest, person: slackPerson(slackUserId) }
        : rest;
  }
}

/**
 * Reads the principal's id as versions before it was neutral wrote it (`target.qlikId`, on requests they filed and
 * still on every request today's store files, see withPeopleForEarlierBots) into `target.id`. Only the decoded copy
 * changes; what is stored stays as it was.
 */
function withLegacyPrincipalId(doc: Record<string, unknown>): void {
  const target = doc.target as (Principal & { qlikId?: unknown }) | undefined;
  if (target === undefined || target === null || !('qlikId' in target)) return;
  const { qlikId, ...rest } = target;
  doc.target = typeof qlikId === 'string' && rest.id === undefined ? { ...rest, id: qlikId } : rest;
}

/**
 * Reads the entitlement as versions before it was neutral wrote it (the `role` field, on requests they filed and
 * still on every request today's store files, see withPeopleForEarlierBots) into `entitlement`. Only the decoded
 * copy changes; what is stored stays as it was.
 */
function withLegacyEntitlement(doc: Record<string, unknown>): void {
  if (!('role' in doc)) return;
  if (doc.entitlement === undefined && doc.role !== null && typeof doc.role === 'object')
    doc.entitlement = doc.role;
  delete doc.role;
}

/**
 * The fields of a new request with its people, its principal and its entitlement also written as earlier versions
 * read them: the Slack people as the version before PersonRef does (`requesterId`, the user principal's
 * `slackUserId`), the principal's id as `qlikId` beside `id`, as every version before the neutral id does, and the
 * entitlement as `role` beside `entitlement`, as every version before the neutral entitlement does. While a rollout
 * has old and new bots and workers side by side, an old bot must still see who filed a request and who it grants
 * to, or it would let them approve it, and an old worker must still find the principal and the role to change.
 * Read back, they are dropped (withLegacyPeople, withLegacyPrincipalId, withLegacyEntitlement).
 */
function withPeopleForEarlierBots(input: NewRequest): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  if (input.requester.front === 'slack') out.requesterId = input.requester.id;
  const t = input.target;
  const person = t.kind === 'user' && t.person?.front === 'slack' ? { slackUserId: t.person.id } : {};
  out.target = { ...t, qlikId: t.id, ...person };
  out.role = input.entitlement;
  return out;
}

function slackPerson(id: string): PersonRef {
  return { front: 'slack', id };
}

/**
 * The request's messages, with the one approval message versions before the list kept (`approvalMessage`, on
 * requests they filed; still written by their bots during a rolling upgrade) as the announcement at the head.
 * The stored field is left as it is, so those versions keep finding it.
 */
function withLegacyApprovalMessage(doc: Record<string, unknown>): RequestMessage[] | undefined {
  const messages = doc.messages as RequestMessage[] | undefined;
  const legacy = doc.approvalMessage as MessageRef | undefined;
  delete doc.approvalMessage;
  if (legacy === undefined || legacy === null) return messages;
  const rest = (messages ?? []).filter((m) => !sameMessage(m, legacy));
  return [{ front: 'slack', kind: 'announcement', channel: legacy.channel, ts: legacy.ts }, ...rest];
}

/** Request ids are typed by people: accept any case and stray spaces. */
function normaliseRequestId(id: string): string {
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
    redis.defineCommand('qabRequestAddMessage', { lua: ADD_MESSAGE_LUA, numberOfKeys: 1 });
    redis.defineCommand('qabRequestRead', { lua: READ_LUA, numberOfKeys: 2, readOnly: true });
    redis.defineCommand('qabRequestIndexUnfinished', { lua: INDEX_UNFINISHED_LUA });
    redis.defineCommand('qabRequestIndexManaged', { lua: INDEX_MANAGED_LUA });
    this.#cmd = redis as unknown as ScriptedCommands;
  }

  /**
   * Files a request in state `pending`, unless a pending request with the same dedupe key (target, principal,
   * entitlement, action; or its key as versions before targets wrote it) exists: then that one is returned as `duplicateOf` and nothing is written. `audit` (if given) is appended in the
   * same script with the new id as its requestId.
   */
  async create(input: NewRequest, now: number = Date.now(), audit?: AuditEvent): Promise<CreateResult> {
    const { sets } = encodeFields(withPeopleForEarlierBots(input));
    sets.push('createdAt', String(now), 'updatedAt', String(now));
    const k = this.#keys;
    const dedupe = k.dedupe(dedupeKey(input));
    const legacy = legacyDedupeKeyOf(input);
    const fixedKeys = [
      dedupe,
      k.pending,
      k.pendingByRequester(personKey(input.requester)),
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
    const keys = [k.request(rid), k.approvals(rid), k.pending, k.timebound, k.audit, k.unfinished, k.managed];
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
    approver: PersonRef,
    now: number = Date.now(),
    audit?: AuditEvent,
  ): Promise<ApprovalResult> {
    const rid = normaliseRequestId(id);
    if (!REQUEST_ID_PATTERN.test(rid)) return { outcome: 'not-found' };
    const k = this.#keys;
    const keys = [k.request(rid), k.approvals(rid), k.pending, k.audit, k.unfinished];
    const argv = [rid, String(now), personKey(approver), String(this.#auditMaxLen), ...auditArgs(audit, rid)];
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

  /**
   * Adds a message to the request's list of messages, atomically: two steps recording at once both land. A message
   * already in the list (same channel and ts: a retried step) is not added twice. False when the request is gone
   * (nothing is written).
   */
  async addMessage(id: string, message: RequestMessage): Promise<boolean> {
    const rid = normaliseRequestId(id);
    if (!REQUEST_ID_PATTERN.test(rid)) return false;
    const res = await this.#cmd.qabRequestAddMessage(
      this.#keys.request(rid),
      JSON.stringify(message),
      message.channel,
      message.ts,
    );
    return Number(res) !== 0;
  }

  /** One requester's pending requests, oldest first. */
  async listPendingByRequester(requester: PersonRef): Promise<RoleChangeRequest[]> {
    const ids = await this.#redis.zrange(this.#keys.pendingByRequester(personKey(requester)), '0', '-1');
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

  /**
   * Applied time-bound grants, the soonest to end first, at most `limit` of them: what a person's App Home reads its
   * live grants from (src/app/queries/home.ts). A grant that has ended meanwhile is left out.
   */
  async listTimeBound(limit = 1000): Promise<RoleChangeRequest[]> {
    if (limit <= 0) return [];
    const ids = await this.#redis.zrange(this.#keys.timebound, '0', String(limit - 1));
    return (await this.getMany(ids)).filter((r) => r.state === 'applied');
  }

  /**
   * Requests approved or applying, the longest-approved first: the ones whose apply job must exist. The store's
   * transitions keep the index; an entry a transition did not remove (one made by a version before the index, still
   * running during an upgrade) is dropped here once its request has settled or is gone.
   */
  async listUnfinished(limit = 1000): Promise<RoleChangeRequest[]> {
    if (limit <= 0) return [];
    const ids = await this.#redis.zrange(this.#keys.unfinished, '0', String(limit - 1));
    const requests = await this.getMany(ids);
    const live = requests.filter((r) => UNFINISHED_STATES.has(r.state));
    const liveIds = new Set(live.map((r) => r.id));
    const stale = ids.filter((id) => !liveIds.has(id));
    if (stale.length > 0) await this.#redis.zrem(this.#keys.unfinished, ...stale);
    return live;
  }

  /**
   * Records what those of `ids` that are applied (or whose grant ended) made their principals hold, never over an
   * entry a later change wrote; returns how many it looked at. For requests settled before the store kept the
   * record (see the worker's start-up backfill).
   */
  async indexManaged(ids: readonly string[]): Promise<number> {
    const wanted = [...new Set(ids.map(normaliseRequestId))].filter((id) => REQUEST_ID_PATTERN.test(id));
    let recorded = 0;
    for (let i = 0; i < wanted.length; i += 500) {
      const batch = wanted.slice(i, i + 500);
      const keys = [this.#keys.managed, ...batch.map((id) => this.#keys.request(id))];
      recorded += Number(await this.#cmd.qabRequestIndexManaged(keys.length, ...keys, ...batch));
    }
    return recorded;
  }

  /**
   * Every stored request's id (approval sets left out), read with SCAN in pages: for the one-time backfills of
   * indexes newer than the requests.
   */
  async *allIds(): AsyncIterable<string[]> {
    let cursor = '0';
    const match = `${this.#keys.requestPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    do {
      const [next, found] = await this.#redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      const ids = found
        .filter((k) => !k.endsWith(this.#keys.approvalsSuffix))
        .map((k) => k.slice(this.#keys.requestPrefix.length));
      if (ids.length > 0) yield ids;
    } while (cursor !== '0');
  }

  /**
   * Adds to the unfinished index those of `ids` that are approved or applying now; returns how many were new. For
   * requests that reached those states before the store kept the index (see the worker's start-up backfill).
   */
  async indexUnfinished(ids: readonly string[], now: number = Date.now()): Promise<number> {
    const wanted = [...new Set(ids.map(normaliseRequestId))].filter((id) => REQUEST_ID_PATTERN.test(id));
    let added = 0;
    for (let i = 0; i < wanted.length; i += 500) {
      const batch = wanted.slice(i, i + 500);
      const keys = [this.#keys.unfinished, ...batch.map((id) => this.#keys.request(id))];
      added += Number(await this.#cmd.qabRequestIndexUnfinished(keys.length, ...keys, String(now), ...batch));
    }
    return added;
  }
}
