// Owns what the access-request app needs from the outside world, each as the small interface the app calls: the
// access targets (src/targets/, found by kind and instance), the request store and the audit log (src/store/), the
// queues (src/queue/), the Notifier (src/app/notifier.ts), the chat's directory of people, the policy and the clock.
// The Slack front implements the directory and the notifier; nothing here knows which system a target reaches.
import type { Policy } from '../domain/policy.ts';
import type { PersonRef, RequestMessage, RoleChangeRequest } from '../domain/request.ts';
import type { Logger } from '../observability/logger.ts';
import type { Queues } from '../queue/queues.ts';
import type { AuditEvent, StoredAuditEvent } from '../store/audit-log.ts';
import type { ManagedHoldings } from '../store/managed.ts';
import type { ApprovalResult, CreateResult, NewRequest, TransitionResult } from '../store/request-store.ts';
import type { ReviewStore } from '../store/review-store.ts';
import type { TargetRegistry } from '../targets/registry.ts';
import type { Notifier } from './notifier.ts';
import type { ReviewNotifier } from './review-notifier.ts';

/** The configured access targets: one by (kind, instance), all of them, and a kind's default instance. */
export type TargetsPort = Pick<TargetRegistry, 'get' | 'list' | 'defaultOf'>;

/**
 * A person's profile as their chat front knows it, reduced to what mapping them to a principal needs: their name and
 * email, or why there is none (the front has no such person, they are deactivated or a bot, or show no email).
 */
export type PersonLookup =
  | { kind: 'ok'; person: PersonRef; email: string; name: string }
  | { kind: 'not-found'; person: PersonRef }
  | { kind: 'deleted'; person: PersonRef; name: string }
  | { kind: 'bot'; person: PersonRef; name: string }
  | { kind: 'no-email'; person: PersonRef; name: string };

/**
 * The chat's directory of people, in PersonRefs: the front maps them to its own ids at its edge (for Slack,
 * src/slack/people.ts slackDirectoryPort). A lookup that could not be made throws; it never reads as "nobody".
 */
export interface DirectoryPort {
  lookupUser(person: PersonRef): Promise<PersonLookup>;
  /** The chat person whose profile has this email; undefined only when the chat says there is none. */
  findPersonByEmail(email: string): Promise<PersonRef | undefined>;
  /**
   * True when the person is one of `ids` or a member of one of the groups among them. The ids are the policy's
   * approver lists, which are the chat's own ids (Slack user and user-group ids): a person of another front is in
   * none of them.
   */
  isInAny(person: PersonRef, ids: readonly string[]): Promise<boolean>;
}

/** What the app tells people through the chat (src/app/notifier.ts; SlackNotifier implements it). */
export type NotifierPort = Pick<
  Notifier,
  'front' | 'announce' | 'copyTo' | 'refresh' | 'sendFile' | 'homesChanged'
>;

export interface StorePort {
  create(input: NewRequest, now?: number, audit?: AuditEvent): Promise<CreateResult>;
  get(id: string): Promise<RoleChangeRequest | undefined>;
  transition(
    id: string,
    from: RoleChangeRequest['state'] | RoleChangeRequest['state'][],
    to: RoleChangeRequest['state'],
    patch?: Partial<RoleChangeRequest>,
    now?: number,
    audit?: AuditEvent,
  ): Promise<TransitionResult>;
  addApproval(id: string, approver: PersonRef, now?: number, audit?: AuditEvent): Promise<ApprovalResult>;
  addMessage(id: string, message: RequestMessage): Promise<boolean>;
  listPendingByRequester(requester: PersonRef): Promise<RoleChangeRequest[]>;
  listPending(limit?: number): Promise<RoleChangeRequest[]>;
  /** Applied time-bound grants, soonest to end first (App Home). */
  listTimeBound(limit?: number): Promise<RoleChangeRequest[]>;
  /** The requests that exist among `ids`, in that order (App Home's recent outcomes). */
  getMany(ids: string[]): Promise<RoleChangeRequest[]>;
}

/** Access reviews (src/store/review-store.ts): once-only decisions and closing, each with its audit event. */
export type ReviewStorePort = Pick<
  ReviewStore,
  'create' | 'get' | 'setMessages' | 'decide' | 'claimRevoke' | 'finalizeRevoke' | 'releaseRevoke' | 'close'
>;

export interface AuditPort {
  append(e: AuditEvent): Promise<string>;
  recent(opts: { limit: number; who?: string; role?: string }): Promise<StoredAuditEvent[]>;
}

/** The bot's record of what it made principals hold, and the drift check's findings (src/store/managed.ts). */
export type ManagedPort = Pick<ManagedHoldings, 'scan' | 'openFindings'>;

export interface AccessRequestDeps {
  store: StorePort;
  audit: AuditPort;
  managed: ManagedPort;
  queues: Queues;
  /** The access targets the app reaches every system through. */
  targets: TargetsPort;
  directory: DirectoryPort;
  notifier: NotifierPort;
  /** Access reviews (`/qlik review`): where they are kept and how the chat shows them. */
  reviews: ReviewStorePort;
  reviewNotifier: ReviewNotifier;
  /** The most holders one review takes (REVIEW_MAX_HOLDERS); default 500. */
  reviewMaxHolders?: number;
  /** The policy, or a function returning the current one (decisions read it at the moment they are made). */
  policy: Policy | (() => Policy);
  /** How long a request may stay pending (REQUEST_TTL). */
  requestTtlMs: number;
  logger: Logger;
  now?: () => number;
}
