// Owns the role-change request: its shape, its states and which transitions between them are legal (README, "How it works").
// Pure: no I/O. The store applies these rules atomically in Redis; everything else asks this module.

import type { FailureRecord, PartResult, ResultOutcome, StoredNote } from './outcome.ts';

export type RoleAction = 'grant' | 'revoke';

/** Something inside a target that an entitlement is scoped to: a Qlik space, a Mode collection. */
export interface ResourceRef {
  /** What kind of thing it is in its system, e.g. `space`, `collection`. */
  kind: string;
  id: string;
  name: string;
}

/**
 * Which access target a request is for: the kind of access (e.g. `qlik-roles`), the configured instance of it
 * (the tenant; `default` for the single configured one), and the resource where the kind has them.
 */
export interface TargetRef {
  kind: string;
  instance: string;
  resource?: ResourceRef;
}

/** The target of every request that records none: requests written before targets existed were all tenant roles. */
export const DEFAULT_TARGET: Readonly<TargetRef> = Object.freeze({ kind: 'qlik-roles', instance: 'default' });

/**
 * The principal a request is about: a user or a group of the target system. `id` is the target system's own id of
 * the principal (for Qlik, the user's or group's id), resolved before the request is stored; versions before it
 * was neutral stored it as `qlikId`, which the store still reads and writes beside it. A user's `person` is their
 * identity on the chat front, when it is known (they were named by mention, or their email matched a chat
 * account): the one a grant is for, who may act on it and must not approve it.
 */
export type Principal =
  | { kind: 'user'; id: string; name: string; email?: string; person?: PersonRef }
  | { kind: 'group'; id: string; name: string };

export type RequestState =
  | 'pending'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'cancelled'
  | 'applying'
  | 'applied'
  | 'failed'
  | 'expired-revoked'
  | 'revoked';

/** Legal transitions. Anything not listed is refused by the store's guarded transition. */
export const TRANSITIONS: Readonly<Record<RequestState, readonly RequestState[]>> = {
  // `pending → pending` records an escalation on a request still waiting (its fields change, its state does not).
  pending: ['pending', 'approved', 'denied', 'expired', 'cancelled'],
  approved: ['applying'],
  // A retried job may re-enter applying after a crash; `applying → applying` is allowed for that reason.
  applying: ['applying', 'applied', 'failed'],
  applied: ['expired-revoked', 'revoked'],
  denied: [],
  expired: [],
  cancelled: [],
  failed: [],
  'expired-revoked': [],
  revoked: [],
};

export const TERMINAL_STATES: readonly RequestState[] = (Object.keys(TRANSITIONS) as RequestState[]).filter(
  (s) => TRANSITIONS[s].length === 0,
);

export function canTransition(from: RequestState, to: RequestState): boolean {
  return TRANSITIONS[from].includes(to);
}

export interface Approval {
  /** Who approved. */
  by: PersonRef;
  at: number; // epoch ms
}

/** Where a message about the request was posted, so later updates can find it. */
export interface MessageRef {
  channel: string;
  ts: string;
}

/** The chat front a message is on (today only Slack; App Home is a place on it, not a front of its own). */
export type Front = 'slack';

/**
 * A person as the core knows them: the front they use and their id there (for Slack, the user id `U…`/`W…`). The
 * front turns its ids into these at its edge; inside, people are compared with `samePerson`, never by bare ids.
 */
export interface PersonRef {
  front: Front;
  id: string;
}

/**
 * Who a command names, as its front resolved it: a person of the chat, the one asking (`me`), an email, or a group
 * by its exact name. `handle` is the name the person typed when the front had to look it up.
 */
export type WhoRef =
  | { kind: 'person'; person: PersonRef; handle?: string }
  | { kind: 'me' }
  | { kind: 'email'; email: string }
  | { kind: 'group'; name: string };

/** True when the two are the same person (the same id on the same front). */
export function samePerson(a: PersonRef | undefined, b: PersonRef | undefined): boolean {
  return a !== undefined && b !== undefined && a.front === b.front && a.id === b.id;
}

/**
 * A person as one string, where one is stored or written: the audit event's `actor`, the store's set of approvers
 * and its per-requester index. A Slack person is their bare user id, as every earlier version wrote it (so old and
 * new entries of one person are the same entry); a person on any other front is `<front>:<id>`.
 */
export function personKey(p: PersonRef): string {
  return p.front === 'slack' ? p.id : `${p.front}:${p.id}`;
}

/** The person a `personKey` names. Slack ids never hold a `:`, so a key without one is a Slack user id. */
export function personFromKey(key: string): PersonRef {
  const at = key.indexOf(':');
  return at < 0 ? { front: 'slack', id: key } : { front: key.slice(0, at) as Front, id: key.slice(at + 1) };
}

/**
 * One message the request is discussed in, as the request keeps it: where it is, on which front, what it is and
 * whether it offers the grant's live actions. The store appends these (never rewrites the list), so two messages
 * recorded at once are both kept.
 */
export interface RequestMessage extends MessageRef {
  front: Front;
  /**
   * `announcement`: the message the people who decide were asked on (the channel copy); `result`: a reply beside
   * it saying what happened; `dm`: a private message to one person; `approval-copy`: a copy of the announcement
   * sent to one approver by DM (policy `approverDms`), brought up to date with it on every change.
   */
  kind: 'announcement' | 'result' | 'dm' | 'approval-copy';
  /** For a `dm`: the person it went to (their id on the front). */
  recipient?: string;
  /**
   * True when it offers the grant's live actions (Extend / Revoke now): it is brought to its final state when the
   * grant ends or an Extend takes it over.
   */
  carriesButtons?: boolean;
}

export interface RoleChangeRequest {
  /** Short, human-friendly id such as `R-7KQ2`. */
  id: string;
  action: RoleAction;
  /** Which access target the change is for; absent on requests written before targets existed (read `targetOf`). */
  targetRef?: TargetRef;
  target: Principal;
  /**
   * The entitlement the change is about, in the target's words: its id and its name as the target names it
   * (for Qlik tenant roles, the role in canonical case; its resource, where the target has them, is in `targetRef`).
   * Versions before it was neutral stored it as `role`, which the store still reads and writes beside it.
   */
  entitlement: { id: string; name: string };
  /** Who filed it (typed the command, or pressed Extend). */
  requester: PersonRef;
  reason?: string;
  /** Time-bound grants only: how long the role is held once applied. */
  durationMs?: number;
  state: RequestState;
  createdAt: number;
  updatedAt: number;
  /** Pending requests expire at this time. */
  expiresAt: number;
  approvalsRequired: number;
  approvals: Approval[];
  /** Set when denied: the approver who denied it. */
  deniedBy?: PersonRef;
  /** Set when denied with a reason (Deny with reason…): the approver's words, which the requester is shown. */
  denyReason?: string;
  /** Set when cancelled by a person (the requester); absent when it was cancelled otherwise. */
  cancelledBy?: PersonRef;
  /**
   * Set when applied: the role list before and after, whether this request really changed anything, and what it
   * did (`outcome`). `message` is the outcome's plain sentence, kept for replicas older than the codes; the only
   * record of what happened on requests written before them.
   */
  result?: {
    before: string[];
    after: string[];
    changed: boolean;
    outcome?: ResultOutcome;
    message: string;
    /** For time-bound grants: when the revoke is due (epoch ms). */
    revokeAt?: number;
    /** For an Extend that took the role over: the grant it extends and when that grant was due to end. */
    extended?: { from: string; previousEnd?: number };
    /** The follow-on changes (`followOns`), one result each, in order; set as each is done. */
    parts?: PartResult[];
  };
  /** Set when failed: why. */
  failure?: FailureRecord;
  /**
   * Set when failed: the failure's plain sentence, kept for replicas older than `failure`; the only record of why
   * on requests written before it.
   */
  error?: string;
  /**
   * Every message the request is discussed in, oldest first: its announcement (read `announcementOf`), the replies
   * and DMs about its outcomes. Absent until the first is posted. Versions before this list kept one
   * `approvalMessage`, which the store reads back as the list's first entry.
   */
  messages?: RequestMessage[];
  /**
   * Changes that follow this one once it is applied, to the principal it made or found (an invite's roles and
   * space role, given to the invited user): approved with it, applied by the same job through their own targets'
   * locks, each with its own result in `result.parts`.
   */
  followOns?: FollowOn[];
  /** For a time-bound follow-on: the request (an invite) it follows, approved with it. */
  followsOn?: string;
  /** For an Extend: the request this one extends. */
  extends?: string;
  /**
   * When its approvers are reminded and when it escalates, if it is still pending then (the policy's remindAfter and
   * escalateAfter from its filing); absent when the policy asks for neither or the request expires first.
   */
  nudges?: { remindAt?: number; escalateAt?: number };
  /** Set once it escalated: when, and to whom (the fallback approvers, Slack ids), who may now decide it too. */
  escalation?: { at: number; to: string[] };
  /** Taken at once under the role's break-glass rule (`--break-glass`), without approval: flagged wherever it shows. */
  breakGlass?: true;
  /** For the revoke of a time-bound grant: the grant it ends. */
  revokes?: string;
  /**
   * Facts found at filing that the requester and the approvers should see next to the change: e.g. the duration is
   * the role's cap because none was given, or the role is already held through a group. Codes; requests written
   * before the codes hold plain sentences (escaped when shown).
   */
  notes?: StoredNote[];
}

/**
 * The principal as a target knows it (a target's PrincipalRef): the request's record of it without the chat
 * identity, which only the front and the approval checks use.
 */
export function principalRefOf(p: Principal): {
  kind: 'user' | 'group';
  id: string;
  name: string;
  email?: string;
} {
  return {
    kind: p.kind,
    id: p.id,
    name: p.name,
    ...(p.kind === 'user' && p.email !== undefined ? { email: p.email } : {}),
  };
}

/**
 * A change that follows a request once it is applied (see RoleChangeRequest.followOns). A time-bound one
 * (`durationMs`, the role's cap) becomes a request of its own, approved with its parent, so its end is kept like any
 * grant's (revoke at the end, Revoke now, Extend).
 */
export interface FollowOn {
  targetRef: TargetRef;
  entitlement: { id: string; name: string };
  durationMs?: number;
}

/** The target a request is for: its own, or tenant roles of the default tenant when it records none. */
export function targetOf(r: Pick<RoleChangeRequest, 'targetRef'>): TargetRef {
  return r.targetRef ?? DEFAULT_TARGET;
}

/** Where the request was announced to the people who decide it (the approval channel), if it was. */
export function announcementOf(r: Pick<RoleChangeRequest, 'messages'>): RequestMessage | undefined {
  return r.messages?.find((m) => m.kind === 'announcement');
}

/** The request's messages that offer a grant's live actions, which must be updated when the grant ends. */
export function messagesWithButtons(r: Pick<RoleChangeRequest, 'messages'>): RequestMessage[] {
  return (r.messages ?? []).filter((m) => m.carriesButtons === true);
}

/** True when the two refer to the same message. */
export function sameMessage(a: MessageRef, b: MessageRef): boolean {
  return a.channel === b.channel && a.ts === b.ts;
}

type DedupeInput = Pick<RoleChangeRequest, 'action' | 'target' | 'entitlement' | 'targetRef'>;

/** The key a duplicate of a pending request shares with it (same target instance and resource, principal, entitlement, action). */
export function dedupeKey(r: DedupeInput): string {
  const t = targetOf(r);
  const where = t.resource === undefined ? '' : `:${t.resource.kind}:${t.resource.id}`;
  return `${t.kind}:${t.instance}${where}:${legacyDedupeKey(r)}`;
}

/**
 * What approved changes that may be applied together share: the target instance and resource, and the principal
 * (the worker still checks each against the target's own lock key before it batches them).
 */
export function batchKeyOf(r: Pick<RoleChangeRequest, 'target' | 'targetRef'>): string {
  const t = targetOf(r);
  const where = t.resource === undefined ? '' : `:${t.resource.kind}:${t.resource.id}`;
  return `${t.kind}:${t.instance}${where}:${r.target.kind}:${r.target.id}`;
}

/**
 * The dedupe key as versions before targets wrote it, for the requests that key can mean (tenant roles of the default
 * tenant): a pending request filed by such a version is indexed under it and must still catch a duplicate.
 */
export function legacyDedupeKeyOf(r: DedupeInput): string | undefined {
  const t = targetOf(r);
  const isDefault = t.kind === DEFAULT_TARGET.kind && t.instance === DEFAULT_TARGET.instance;
  return isDefault && t.resource === undefined ? legacyDedupeKey(r) : undefined;
}

/**
 * The principal lock key versions before targets took (`user:<id>`, `group:<id>`), for the requests it can mean:
 * during a rolling upgrade a worker of such a version may still be changing the same principal.
 */
export function legacyLockKeyOf(r: Pick<RoleChangeRequest, 'target' | 'targetRef'>): string | undefined {
  const t = targetOf(r);
  const isDefault = t.kind === DEFAULT_TARGET.kind && t.instance === DEFAULT_TARGET.instance;
  return isDefault && t.resource === undefined ? `${r.target.kind}:${r.target.id}` : undefined;
}

function legacyDedupeKey(r: DedupeInput): string {
  return `${r.action}:${r.target.kind}:${r.target.id}:${r.entitlement.id}`;
}

/** The alphabet of request ids (and review ids): no 0/O, 1/I/L, so they are easy to read aloud and type. */
export const ID_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** A short request id: `R-` and four (or more) unambiguous characters. Uniqueness is enforced by the store. */
export function newRequestId(length = 4, random: () => number = Math.random): string {
  let s = 'R-';
  for (let i = 0; i < length; i++) s += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)];
  return s;
}

export const REQUEST_ID_PATTERN = /^R-[2-9A-HJKMNP-Z]{4,8}$/;

/** How people read a principal: `alice (alice@corp.example)`, `alice`, or `group Finance`. */
export function describeTarget(p: { kind: 'user' | 'group'; name: string; email?: string }): string {
  if (p.kind === 'group') return `group ${p.name}`;
  // Someone known only by their email (an invitee) is not named twice.
  return p.email && p.email.toLowerCase() !== p.name.toLowerCase() ? `${p.name} (${p.email})` : p.name;
}
