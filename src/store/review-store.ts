// Owns access reviews in Redis (src/domain/review.ts): creating one under a unique short id, reading it, recording
// where its messages landed, deciding a holder ONCE and closing it ONCE. Every change is one Lua script with its
// audit event appended in the same script (src/store/lua/review-*.lua, the shared chain of audit-chain.lua), so two
// approvers clicking the same holder, a double click or a Close racing the last decision decide it once, and the
// audit stream says exactly what was recorded.
//
// Layout: a review is a HASH (`state` raw, for Lua; `doc`, the snapshot as JSON; `header`/`batches`, where its
// messages are; `closedAt`/`closedBy`) and its decisions a second HASH, one field per holder index (HSET only by
// the decide script, which checks the field first).
import { readFileSync } from 'node:fs';
import { type MessageRef, personFromKey, personKey } from '../domain/request.ts';
import {
  type AccessReview,
  FILING_STALE_MS,
  newReviewId,
  REVIEW_ID_PATTERN,
  type ReviewDecision,
} from '../domain/review.ts';
import { type AuditEvent, auditFields, DEFAULT_AUDIT_MAX_LEN } from './audit-log.ts';
import { type StoreKeys, storeKeys } from './keys.ts';
import type { RedisConnection } from './redis.ts';

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
const CHAIN = lua('audit-chain');
const CREATE_LUA = `${CHAIN}${lua('review-create')}`;
const DECIDE_LUA = `${CHAIN}${lua('review-decide')}`;
const CLOSE_LUA = `${CHAIN}${lua('review-close')}`;

const DAY_MS = 86_400_000;
const IDS_PER_ATTEMPT = 4;
const MIN_ID_LENGTH = 4;
const MAX_ID_LENGTH = 8;

/** What a caller supplies to open a review; the store adds the id, the state and (empty) decisions. */
export type NewReview = Omit<
  AccessReview,
  'id' | 'state' | 'decisions' | 'header' | 'batches' | 'closedAt' | 'closedBy'
>;

/** How deciding one holder went. */
export type DecideResult =
  | { outcome: 'recorded' }
  /** Someone decided (or is filing a revoke for) the holder first. */
  | { outcome: 'decided'; decision: ReviewDecision }
  | { outcome: 'closed' }
  | { outcome: 'not-found' };

export type CloseResult =
  | { outcome: 'closed'; detail: string }
  | { outcome: 'closed-already' }
  | { outcome: 'not-found' };

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;
interface ScriptedCommands {
  qabReviewCreate: ScriptFn;
  qabReviewDecide: ScriptFn;
  qabReviewClose: ScriptFn;
}

/** A decision as stored: people as their personKey (as the audit log writes them). */
function encodeDecision(d: ReviewDecision): string {
  return JSON.stringify({
    choice: d.choice,
    by: personKey(d.by),
    at: d.at,
    ...(d.requestId === undefined ? {} : { requestId: d.requestId }),
    ...(d.filing ? { filing: true } : {}),
  });
}

function decodeDecision(raw: string): ReviewDecision {
  const v = JSON.parse(raw) as {
    choice: ReviewDecision['choice'];
    by: string;
    at: number;
    requestId?: string;
    filing?: boolean;
  };
  return {
    choice: v.choice,
    by: personFromKey(v.by),
    at: v.at,
    ...(v.requestId === undefined ? {} : { requestId: v.requestId }),
    ...(v.filing ? { filing: true } : {}),
  };
}

export class ReviewStore {
  readonly #redis: RedisConnection;
  readonly #cmd: ScriptedCommands;
  readonly #keys: StoreKeys;
  readonly #retentionMs: number;
  readonly #auditMaxLen: number;
  readonly #random: () => number;

  constructor(
    redis: RedisConnection,
    prefix: string,
    opts: { retentionMs?: number; auditMaxLen?: number; random?: () => number } = {},
  ) {
    this.#redis = redis;
    this.#keys = storeKeys(prefix);
    this.#retentionMs = opts.retentionMs ?? 90 * DAY_MS;
    this.#auditMaxLen = opts.auditMaxLen ?? DEFAULT_AUDIT_MAX_LEN;
    this.#random = opts.random ?? Math.random;
    redis.defineCommand('qabReviewCreate', { lua: CREATE_LUA });
    redis.defineCommand('qabReviewDecide', { lua: DECIDE_LUA, numberOfKeys: 3 });
    redis.defineCommand('qabReviewClose', { lua: CLOSE_LUA, numberOfKeys: 3 });
    this.#cmd = redis as unknown as ScriptedCommands;
  }

  /** Stores a new open review; `audit` is appended in the same script with the new id as its requestId. */
  async create(input: NewReview, audit: AuditEvent): Promise<AccessReview> {
    const doc = JSON.stringify({ ...input, openedBy: personKey(input.openedBy) });
    const fields = auditFields({ ...audit, requestId: '' });
    for (let length = MIN_ID_LENGTH; length <= MAX_ID_LENGTH; length++) {
      const ids = [
        ...new Set(Array.from({ length: IDS_PER_ATTEMPT }, () => newReviewId(length, this.#random))),
      ];
      const keys = [this.#keys.audit, ...ids.map((id) => this.#keys.review(id))];
      const res = (await this.#cmd.qabReviewCreate(
        keys.length,
        ...keys,
        this.#auditMaxLen,
        doc,
        ...ids,
        ...fields,
      )) as [string, string?];
      if (res[0] === 'created' && res[1]) {
        return { ...input, id: res[1], state: 'open', decisions: {} };
      }
    }
    throw new Error('Could not find a free review id; please try again.');
  }

  async get(id: string): Promise<AccessReview | undefined> {
    const wanted = id.trim().toUpperCase();
    if (!REVIEW_ID_PATTERN.test(wanted)) return undefined;
    const res = await this.#redis
      .multi()
      .hgetall(this.#keys.review(wanted))
      .hgetall(this.#keys.reviewDecisions(wanted))
      .exec();
    if (!res) throw new Error('Redis did not read the review.');
    const [[e1, meta], [e2, decided]] = res as [
      [Error | null, Record<string, string>],
      [Error | null, Record<string, string>],
    ];
    if (e1) throw e1;
    if (e2) throw e2;
    if (!meta || meta.doc === undefined) return undefined;
    const doc = JSON.parse(meta.doc) as Omit<NewReview, 'openedBy'> & { openedBy: string };
    const decisions: Record<number, ReviewDecision> = {};
    for (const [field, raw] of Object.entries(decided ?? {})) decisions[Number(field)] = decodeDecision(raw);
    return {
      ...doc,
      id: wanted,
      openedBy: personFromKey(doc.openedBy),
      state: meta.state === 'closed' ? 'closed' : 'open',
      decisions,
      ...(meta.header === undefined ? {} : { header: JSON.parse(meta.header) as MessageRef }),
      ...(meta.batches === undefined ? {} : { batches: JSON.parse(meta.batches) as MessageRef[] }),
      ...(meta.closedAt === undefined ? {} : { closedAt: Number(meta.closedAt) }),
      ...(meta.closedBy === undefined ? {} : { closedBy: personFromKey(meta.closedBy) }),
    };
  }

  /** Records where the review's messages landed (the header, then the batches as they are posted). */
  async setMessages(id: string, messages: { header?: MessageRef; batches?: MessageRef[] }): Promise<void> {
    const sets: string[] = [];
    if (messages.header) sets.push('header', JSON.stringify(messages.header));
    if (messages.batches) sets.push('batches', JSON.stringify(messages.batches));
    if (sets.length > 0) await this.#redis.hset(this.#keys.review(id), ...sets);
  }

  /** Keeps a holder, or records a revoke's request id in place of its claim; once per holder. */
  decide(
    id: string,
    index: number,
    decision: ReviewDecision,
    audit: AuditEvent,
    now: number,
  ): Promise<DecideResult> {
    return this.#decide('keep', id, index, decision, undefined, audit, now);
  }

  /** Claims a holder for a revoke while its request is filed: no audit event yet, the request's filing is one. */
  claimRevoke(id: string, index: number, claim: ReviewDecision, now: number): Promise<DecideResult> {
    return this.#decide('claim', id, index, { ...claim, filing: true }, undefined, undefined, now);
  }

  /** Replaces this claim with the revoke's decision (even in a review closed meanwhile: the request was filed). */
  finalizeRevoke(
    id: string,
    index: number,
    claim: ReviewDecision,
    decision: ReviewDecision,
    audit: AuditEvent,
    now: number,
  ): Promise<DecideResult> {
    return this.#decide('finalize', id, index, decision, { ...claim, filing: true }, audit, now);
  }

  /** Drops this claim: nothing was filed, so the holder is undecided again. */
  releaseRevoke(id: string, index: number, claim: ReviewDecision, now: number): Promise<DecideResult> {
    return this.#decide('release', id, index, claim, { ...claim, filing: true }, undefined, now);
  }

  async #decide(
    mode: 'keep' | 'claim' | 'finalize' | 'release',
    id: string,
    index: number,
    decision: ReviewDecision,
    claim: ReviewDecision | undefined,
    audit: AuditEvent | undefined,
    now: number,
  ): Promise<DecideResult> {
    const res = (await this.#cmd.qabReviewDecide(
      this.#keys.review(id),
      this.#keys.reviewDecisions(id),
      this.#keys.audit,
      mode,
      String(index),
      encodeDecision(decision),
      claim === undefined ? '' : encodeDecision(claim),
      now,
      FILING_STALE_MS,
      this.#auditMaxLen,
      ...(audit === undefined ? [] : auditFields({ ...audit, requestId: id })),
    )) as [string, string?];
    switch (res[0]) {
      case 'ok':
        return { outcome: 'recorded' };
      case 'decided':
      case 'lost':
        // A lost finalize or release: another claim took the holder over, or the claim is gone.
        return res[1] ? { outcome: 'decided', decision: decodeDecision(res[1]) } : { outcome: 'not-found' };
      case 'closed':
        return { outcome: 'closed' };
      default:
        return { outcome: 'not-found' };
    }
  }

  /** Closes an open review once; `closedBy` absent when it closed by itself (every holder decided). */
  async close(
    review: Pick<AccessReview, 'id' | 'holders'>,
    closedBy: string | undefined,
    now: number,
    audit: AuditEvent,
  ): Promise<CloseResult> {
    const res = (await this.#cmd.qabReviewClose(
      this.#keys.review(review.id),
      this.#keys.reviewDecisions(review.id),
      this.#keys.audit,
      closedBy ?? '',
      now,
      review.holders.length,
      Math.ceil(this.#retentionMs / 1000),
      this.#auditMaxLen,
      ...auditFields({ ...audit, requestId: review.id }),
    )) as [string, string?];
    if (res[0] === 'ok') return { outcome: 'closed', detail: res[1] ?? '' };
    if (res[0] === 'closed-already') return { outcome: 'closed-already' };
    return { outcome: 'not-found' };
  }
}
