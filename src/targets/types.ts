// Owns the one interface every kind of access implements (tenant roles today; space roles, invites and Mode groups
// next): find who access is for and what is asked, read what they hold, change it safely and end a grant, list who
// holds something, and say how a failure should be handled. The worker and, later, the app speak only this; each
// implementation lives in its own folder under src/targets/ and is the only code that knows its system's API.
//
// Words: a principal (a user or a group) holds entitlements (a role, a space role, a group membership); an
// entitlement may be scoped to a resource (a space, a collection). Holdings are named by the entitlement's name, as
// people read them, because snapshots and results are recorded on the request in those words.
import type { ResultOutcome } from '../domain/outcome.ts';
import type { ResourceRef, RoleAction } from '../domain/request.ts';

/** Who access is for, as the target knows them. `id` is the target system's own id. */
export interface PrincipalRef {
  kind: 'user' | 'group';
  id: string;
  name: string;
  /** Users only, when the system knows it. */
  email?: string;
}

/** How a person names a principal: a user by email, a group by its exact name. */
export type PrincipalQuery =
  | {
      kind: 'user';
      email: string;
      /** A name to show when the system has none for the user (e.g. the name on the requester's chat profile). */
      fallbackName?: string;
    }
  | { kind: 'group'; name: string };

/**
 * What a person asked for, as typed: an entitlement's name and, for targets with resources, the resource's kind and
 * name (e.g. `Can view` in space `Finance Reports`).
 */
export interface EntitlementQuery {
  name: string;
  resource?: { kind: string; name: string };
}

/** One thing a principal can hold, by the target system's id and the name people read. */
export interface EntitlementRef {
  id: string;
  /** The name as the system spells it (canonical case). */
  name: string;
  /** The resource it is scoped to, for targets that have them (a space role is held in one space). */
  resource?: ResourceRef;
}

/** An entitlement as the target offers it, for listings such as `/qlik roles`. */
export interface Entitlement extends EntitlementRef {
  /** Made by the system's admins rather than built in (Qlik's custom roles). */
  custom?: boolean;
  /** How the system ranks it, when it does (Qlik's role level, e.g. `admin`, `user`). */
  level?: string;
  description?: string;
}

/** What a principal holds now: directly, and through the groups it is in (which a change never touches). */
export interface Holdings {
  direct: EntitlementRef[];
  inherited: { via: string; entitlements: EntitlementRef[] }[];
  /**
   * In a resource with an owner (a Qlik space): the principal owns it, so it holds every entitlement the resource
   * offers implicitly and has no assignment to change. A grant to the owner changes nothing; a revoke is refused.
   */
  owner?: boolean;
}

/** A principal found, with what it holds now and its status in the system (active, invited, disabled…). */
export interface ResolvedPrincipal {
  principal: PrincipalRef;
  holdings: Holdings;
  status?: string;
}

/**
 * Why a principal lookup found nobody to give access to, as a code and what the words need (the front says it,
 * naming the target's system from its `words.system`).
 */
export type PrincipalLookupRefusal =
  /** No (live) user has the email. */
  | { ok: false; code: 'no-such-user'; email: string }
  /** `count` live users have the email, so which one is meant can't be told. */
  | { ok: false; code: 'several-users'; email: string; count: number }
  /** No group has exactly that name (names are matched as the system matches them). */
  | { ok: false; code: 'no-such-group'; name: string };

export type PrincipalResult = ({ ok: true } & ResolvedPrincipal) | PrincipalLookupRefusal;

/**
 * Why an entitlement lookup found nothing, as a code and what the words need (the front says it): the target has
 * no entitlement by that name (the closest names it offers, up to 3, best first), or it has no such kind of
 * resource at all (e.g. a space for tenant roles).
 */
export type EntitlementRefusal =
  | { ok: false; code: 'not-found'; suggestions: string[] }
  | { ok: false; code: 'resource-unsupported'; resourceKind: string }
  /** The target's entitlements are all scoped to a resource, and none was named (e.g. a space role without a space). */
  | { ok: false; code: 'resource-required'; resourceKind: string }
  /** No resource has that name: the closest names (up to 3), best first. */
  | { ok: false; code: 'no-such-resource'; resourceKind: string; name: string; suggestions: string[] }
  /** Several resources have that name (Qlik forbids it, but say so rather than pick one). */
  | { ok: false; code: 'ambiguous-resource'; resourceKind: string; name: string; count: number }
  /** The resource does not offer that entitlement: what it does offer, as people read them. */
  | { ok: false; code: 'not-offered'; resource: ResourceRef; asked: string; offered: string[] };

export type EntitlementResult = { ok: true; entitlement: EntitlementRef } | EntitlementRefusal;

/** One change: grant or revoke one entitlement of one principal. */
export interface AccessChange {
  action: RoleAction;
  principal: PrincipalRef;
  entitlement: EntitlementRef;
}

/** Holdings before and after a write, by name: what the request records. */
export interface HoldingsSnapshot {
  before: string[];
  after: string[];
}

export interface ApplyOptions {
  /**
   * What an earlier attempt of the same change recorded just before its write (its `before`), when one did: a
   * re-run after a crash between the write and its record then still reports that this change made it.
   */
  earlier?: { before: string[] };
  /**
   * Called once, after the fresh read and before the write, with the holdings now and as planned; only when a write
   * is needed. The caller records it (a crash after the write must still know what this change did) and may throw
   * to stop before anything is written (e.g. the worker is shutting down).
   */
  beforeWrite(planned: HoldingsSnapshot): Promise<void>;
  /** Aborted when the caller's lock on the change was lost: the target checks it right before writing. */
  signal: AbortSignal;
}

/** Options of a batch of changes to one principal (one lock key): `earlier` and the results are per change, in order. */
export interface BatchApplyOptions {
  /** Per change, as for applyChange: what an earlier attempt of that change recorded just before its write. */
  earlier: ReadonlyArray<{ before: string[] } | undefined>;
  /**
   * Called before each write with the holdings now and as planned of every change that write makes (by its index in
   * the batch): once before the batch's one write, or once per change when the batch falls back to one at a time.
   * The caller records each (a crash after the write must still know what each change did) and may throw to stop.
   */
  beforeWrite(planned: ReadonlyArray<{ index: number; snapshot: HoldingsSnapshot }>): Promise<void>;
  signal: AbortSignal;
}

/** How one change of a batch went: made (or found) as asked, or refused on its own with the target's error. */
export type BatchResult = { ok: true; applied: AppliedChange } | { ok: false; error: unknown };

export interface AppliedChange extends HoldingsSnapshot {
  /** This change made the principal as asked (now, or in an earlier attempt that `earlier` recorded). */
  changed: boolean;
  /** The principal as the change leaves it, when the change made or found it (an invite: the account's user id). */
  principal?: PrincipalRef;
  /** What happened in the target's own terms, when it says more than granted / already held (an invite). */
  outcome?: ResultOutcome;
}

export interface EndOptions {
  /** The holdings an earlier attempt of this end recorded just before its write, when one did. */
  earlier?: string[];
  /**
   * What the principal held before the grant was applied (its before-snapshot): a target whose entitlements replace
   * each other (a Mode collection's view or edit) puts the earlier one back instead of removing everything.
   */
  grantedOver?: string[];
  /** As for apply: called once before the write with the holdings before it; may throw to stop. */
  beforeWrite(before: string[]): Promise<void>;
  signal: AbortSignal;
}

/**
 * How ending a grant went. `removed`: the entitlement is gone because of this end (now, or by an earlier attempt
 * that `earlier` recorded). `already-gone`: someone else removed it. `principal-gone`: the principal no longer
 * exists in the system, so nothing was left to remove.
 */
export type EndedGrant =
  | ({ outcome: 'removed' } & HoldingsSnapshot)
  | ({ outcome: 'already-gone' } & HoldingsSnapshot)
  | { outcome: 'principal-gone' };

/** One holder in a listing. */
export interface Holder {
  id: string;
  /** As the system has it; may be empty. */
  name?: string;
  email?: string;
  status?: string;
}

/** The first page of who holds an entitlement, with totals: the who-has answer. */
export interface HoldersSummary {
  /** Users holding it directly: how many, and the first of them. */
  direct: { total: number; first: Holder[] };
  /** Users holding it only through a group. */
  inherited: { total: number };
  /** Groups holding it directly: how many, and the first of them. */
  groups: { total: number; first: { name: string }[] };
  /** Whether the group every user is in holds it (Qlik's Everyone); absent when the system would not say. */
  heldByEveryone?: boolean;
  /** Where `holders` carries on without reading the first page again; opaque to the caller. */
  resume?: unknown;
}

/** A resource as a listing shows it (`/qlik spaces`): what kind it is in its system and who owns it. */
export interface ResourceInfo extends ResourceRef {
  /** The system's own type of it, e.g. `shared`, `managed`, `data`. */
  type?: string;
  owner?: Holder;
}

/** One member of a resource and the entitlements it holds there. */
export interface ResourceMember {
  principal: PrincipalRef;
  /** Entitlement names as people read them (for Qlik spaces, the API role names). */
  entitlements: string[];
}

/** Everyone who holds something in a resource: its owner (implicitly everything), then users and groups. */
export interface ResourceMembers {
  resource: ResourceInfo;
  owner?: Holder;
  users: { total: number; first: ResourceMember[] };
  groups: { total: number; first: ResourceMember[] };
}

/** What a principal holds across the resources the target has, read within a budget of requests. */
export interface HoldingsAcross {
  held: { resource: ResourceRef; entitlements: string[]; via?: string; owner?: boolean }[];
  /** How many resources were looked at and how many there are: fewer looked at means the answer is partial. */
  checked: number;
  total: number;
  partial: boolean;
}

/** The people who manage a resource (a space's owner and `facilitator` holders), as users with their emails. */
export interface ResourceManager {
  name: string;
  email: string;
  /** How they manage it: they own it, or hold the managing entitlement (directly or through a group). */
  as: 'owner' | 'manager';
}

/** How a caller should handle a failure the target raised. */
export type ErrorAction =
  | { kind: 'later'; delayMs: number; reason: string }
  | { kind: 'retry'; reason: string; message: string }
  | { kind: 'fail'; message: string };

/** What a failure message says about the principal. */
export interface ErrorSubject {
  /** How people read the principal, e.g. `alice (alice@corp.example)` or `group Finance`. */
  who: string;
  kind: 'user' | 'group';
}

/** Words the generic worker and app put into their messages about this target. */
export interface TargetWords {
  /** The system as people call it, e.g. `Qlik`. */
  system: string;
  /** What a person checks by hand when the bot gave up, e.g. `the roles in the Qlik Management Console`. */
  checkByHand: string;
  /** What one configured instance is called, e.g. `tenant` (`There is no Qlik tenant …`). */
  instance: string;
}

/**
 * One configured instance of one kind of access (e.g. tenant roles of one Qlik tenant). Changes to one principal
 * are serialised by the caller with the lock named by `lockKey`; the target never locks itself.
 */
export interface AccessTarget {
  /** The kind of access, e.g. `qlik-roles`: what `TargetRef.kind` names. */
  readonly kind: string;
  /** The configured instance (a tenant), `default` for the single configured one: what `TargetRef.instance` names. */
  readonly instance: string;
  /** Words for messages about this target. */
  readonly words: TargetWords;

  /** Finds a user by email or a group by name, with what it holds now and its status. */
  resolvePrincipal(query: PrincipalQuery): Promise<PrincipalResult>;

  /**
   * Finds what was asked: an entitlement by the name a person typed (any case) and its resource where the target has
   * them, with the closest names when there is none.
   */
  resolveEntitlement(query: EntitlementQuery): Promise<EntitlementResult>;

  /** Every entitlement the target offers (in `resource`, for targets with resources); cached unless `refresh`. */
  listEntitlements(opts?: { refresh?: boolean; resource?: ResourceRef }): Promise<Entitlement[]>;

  /** What the principal holds now (in `resource`, for targets with resources), read fresh from the system. */
  readHoldings(principal: PrincipalRef, resource?: ResourceRef): Promise<Holdings>;

  /**
   * The key of the lock that serialises changes like this one within this target instance (e.g. `user:<id>`, or
   * per (space, principal)). The caller adds the target's kind and instance, so keys of two instances never meet.
   */
  lockKey(change: AccessChange): string;

  /**
   * Makes the principal as the change asks, idempotently, under the caller's lock: read fresh, and when a write is
   * needed call `beforeWrite`, write, and read back to verify. Only direct holdings are touched. Throws when the
   * read-back disagrees or the system refuses; `classifyError` says what to do about it.
   */
  applyChange(change: AccessChange, opts: ApplyOptions): Promise<AppliedChange>;

  /**
   * Ends a grant the caller has decided this grant owns (it added the entitlement): removes exactly that
   * entitlement, as applyChange does a revoke, and says how it went. Throws like applyChange.
   */
  endGrant(grant: AccessChange, opts: EndOptions): Promise<EndedGrant>;

  /**
   * Several changes to one principal that share one lock key, each to a different entitlement, in one read → write
   * → read back, applied in the order given (targets whose holdings are one list implement it; the caller applies
   * one at a time otherwise). Each change gets its own result, as applyChange would give it, with `before` / `after`
   * as if the changes had been made one after the other. A change the target refuses on its own (the space's owner)
   * fails alone; when the system refuses the combined write, the target falls back to one change at a time, so only
   * the change it refuses fails. Throws, like applyChange, when the whole batch should be tried again (the read
   * failed, the write failed for a passing reason, the lock was lost).
   */
  applyChanges?(changes: readonly AccessChange[], opts: BatchApplyOptions): Promise<BatchResult[]>;

  /**
   * Whether the person with this email is the principal, or a member of it when it is a group (every live account
   * with the email counts): so nobody approves a grant to themselves. Throws when the system can't say.
   */
  includesPerson(principal: PrincipalRef, email: string): Promise<boolean>;

  /** The first page of who holds the entitlement, with totals. */
  holdersSummary(entitlement: EntitlementRef): Promise<HoldersSummary>;

  /**
   * Every direct holder, each once, read page by page as the caller consumes them (for a CSV of any size). Pass
   * the summary's `resume` to spend no request on the first page twice.
   */
  holders(entitlement: EntitlementRef, resume?: unknown): AsyncIterable<Holder>;

  /**
   * How to handle an error this target raised: come back later (rate limit; the change was not made), retry with
   * backoff, or fail with a message for the requester. `undefined` for an error that is not the target's.
   */
  classifyError(err: unknown, subject: ErrorSubject, random?: () => number): ErrorAction | undefined;

  /**
   * A failure this target's system raised, in words for the person who asked (what went wrong, what to do);
   * `undefined` for an error that is not the target's.
   */
  describeError(err: unknown): string | undefined;

  // ---- targets whose entitlements are scoped to resources (Qlik spaces) implement these; others leave them out

  /** What its resources are called (`space`): the kind a front's `space:"…"` names. */
  readonly resourceKind?: string;

  /**
   * The resource a person named (exact name first, then the one whose name matches without regard to case), or why
   * there is none: no such name (with the closest names), several, or not this target's kind of resource.
   */
  resolveResource?(query: {
    kind: string;
    name: string;
  }): Promise<
    | { ok: true; resource: ResourceInfo }
    | Extract<
        EntitlementRefusal,
        { code: 'no-such-resource' | 'ambiguous-resource' | 'resource-unsupported' }
      >
  >;

  /** Resources whose name contains `text` (any case), best matches first, at most `limit`; all when no text. */
  listResources?(
    text: string | undefined,
    limit: number,
  ): Promise<{ resources: ResourceInfo[]; total: number }>;

  /** Everyone who holds something in the resource, with what they hold (the first `limit` of each kind). */
  resourceMembers?(resource: ResourceRef, limit: number): Promise<ResourceMembers>;

  /** What the principal holds in every resource, reading at most `maxReads` times; says when it is partial. */
  holdingsAcross?(principal: PrincipalRef, opts: { maxReads: number }): Promise<HoldingsAcross>;

  /** The users who manage the resource, with their emails; read fresh (approvers are re-checked at click time). */
  resourceManagers?(resource: ResourceRef): Promise<ResourceManager[]>;
}
