// Owns the Notifier port: how the app and the worker tell people what happened to a request, without knowing which
// chat they are in. They say what happened (a request was filed, decided, applied, ended, or its revoke failed) and
// hand over the request; the front (src/slack/notifier.ts for Slack) decides the words, the layout and how its
// platform delivers them. Modelled on Teleport's access plugins, whose core talks to every chat through one small
// MessagingBot (broadcast a request, update its messages, reply in its thread, notify a user). Which messages an
// event sends, and remembering which already went out and where (the request's messages, kept by the store), is the
// caller's business (src/app/use-cases/file-request.ts, src/worker/notify.ts), so a front only ever sends what it is
// asked to, once per call, and reads where the request's messages are from the request itself.
import type { FailureRecord } from '../domain/outcome.ts';
import type { Front, MessageRef, PersonRef, RoleChangeRequest } from '../domain/request.ts';
import type { DriftFinding } from '../store/managed.ts';

/** A failed revoke as the people told about it see it: why, when, who pressed, which way. */
export interface RevokeFailureNotice {
  /** Why (absent for a failure recorded by a version before the codes). */
  failure?: FailureRecord;
  /** Its plain sentence (the target system's words, for the people who must fix it): shown when there is no code. */
  message: string;
  /** When the revoke failed (epoch ms). */
  at: number;
  /** Who pressed "Revoke now" (a person's id on the front), or `system` for a grant's end. */
  actor: string;
  /** A grant reaching its end, or a person's "Revoke now". */
  trigger: 'expiry' | 'manual';
}

/**
 * What happened to a request. `seq` numbers an event that can happen more than once (a revoke can fail, be pressed
 * again and fail again), so a front can tell the occurrences apart (for example to find a message it sent for one).
 */
export type RequestEvent =
  /** It ended without being applied: denied, expired or cancelled. Nothing was changed. */
  | { kind: 'decision'; seq?: number }
  /** It was applied (or failed to be): `request.result` / `request.failure` say how. */
  | { kind: 'result'; seq?: number }
  /** A grant it made ended (by its time or a "Revoke now"): the access is gone. */
  | { kind: 'revoked'; seq?: number }
  /** A grant's revoke failed for good: the access is still held. */
  | { kind: 'revoke-failed'; seq: number; failure: RevokeFailureNotice }
  /** Still pending `afterMs` after it was filed: its approvers (Slack ids) are reminded. */
  | { kind: 'reminder'; seq?: number; approvers: string[]; afterMs: number }
  /** Still pending `afterMs` after it was filed: it escalated to `to` (Slack ids), who may now decide it too. */
  | { kind: 'escalation'; seq?: number; to: string[]; afterMs: number };

/** Someone told about a request in person, and why they are concerned. */
export interface Recipient extends PersonRef {
  /** Who filed it, who received the access, or who pressed the button that failed. */
  as: 'requester' | 'target' | 'actor';
}

/**
 * An export handed to a person because it is too long for a message, as facts: the front names the file and words
 * what comes with it: holders of an entitlement, as CSV.
 */
export interface HoldersExport {
  /** `holders`: every direct holder (who-has); `unmanaged`: the holders no request of the bot granted (drift). */
  kind: 'holders' | 'unmanaged';
  /** The entitlement as the target names it. */
  entitlement: string;
  /** The resource it is in (a space's name), for an entitlement in one. */
  resource?: string;
  /** How many holders the CSV lists (its lines after the header). */
  rows: number;
  /** When it was made (epoch ms); the file name carries its day. */
  at: number;
  /** The CSV, header first. */
  csv: Buffer;
}

/**
 * A disagreement between what the bot did and what the target system says now, as the approvers are told it (the
 * drift check, src/worker/drift.ts): a grant the bot made is gone (`removed`), or a role the bot removed is back
 * (`returned`), both changed outside the bot.
 */
export interface DriftNotice {
  kind: 'removed' | 'returned';
  /** The bot's change that the system disagrees with: a grant, a revoke, or the end of a grant. */
  change: 'grant' | 'revoke' | 'ended';
  /** The request that made it, and when. */
  requestId: string;
  changedAt: number;
  /** A time-bound grant's end, when it has one. */
  until?: number;
  /** The entitlement as the target names it, and its resource (a space) for one in a resource. */
  entitlement: string;
  resource?: { kind: string; name: string };
  principal: { kind: 'user' | 'group'; name: string; email?: string };
  /** The target's system (`Qlik`) and instance (the tenant). */
  system: string;
  instance: string;
  foundAt: number;
}

/** A drift finding as the approvers are told it; `system` names the target's system (`Qlik`). */
export function driftNotice(f: DriftFinding, system: string): DriftNotice {
  const h = f.entry;
  return {
    kind: f.kind,
    change: h.a,
    requestId: h.r,
    changedAt: h.at,
    ...(h.until === undefined ? {} : { until: h.until }),
    entitlement: h.ent,
    ...(h.res === undefined ? {} : { resource: { kind: h.resKind ?? 'space', name: h.res } }),
    principal: { kind: h.principal.kind, name: h.who, ...(h.email === undefined ? {} : { email: h.email }) },
    system,
    instance: h.target.instance,
    foundAt: f.foundAt,
  };
}

/**
 * The chat a request is discussed in. Every call sends (or updates) what it is asked to once, or throws when the
 * platform refused, so the caller can retry it; none of them changes the request.
 */
export interface Notifier {
  /** The front this notifier speaks for: the caller records it with every message it says landed. */
  readonly front: Front;

  /**
   * Announces a new request to the people who decide it, at `destination` (the policy's approval channel), and says
   * where the message landed, so the caller records it among the request's messages as its announcement.
   */
  announce(destination: string, request: RoleChangeRequest): Promise<MessageRef>;

  /**
   * Sends one approver a copy of the announcement privately and says where it landed, so the caller records it
   * among the request's messages (`approval-copy`); `refresh` then keeps it up to date with the announcement.
   */
  copyTo(approver: PersonRef, request: RoleChangeRequest): Promise<MessageRef>;

  /**
   * Brings the request's announcement (in `request.messages`) and every copy of it sent to an approver up to date
   * with its current state; `event` adds what the state alone does not say (a failed revoke leaves the grant
   * applied). A no-op when it was never announced.
   */
  refresh(request: RoleChangeRequest, event?: RequestEvent): Promise<void>;

  /**
   * Posts what happened where the request was announced (a reply beside the announcement in `request.messages`)
   * and says where it landed, for the caller to add to the request's messages; undefined when the request was never
   * announced.
   */
  postResult(request: RoleChangeRequest, event: RequestEvent): Promise<MessageRef | undefined>;

  /**
   * The message an earlier `postResult` for the same request and event already posted, or undefined: lets a retry
   * whose earlier attempt may have posted without hearing back find that message instead of posting it twice.
   */
  findResult(request: RoleChangeRequest, event: RequestEvent): Promise<MessageRef | undefined>;

  /**
   * Tells one person what happened to the request, privately, and says where the message landed, for the caller to
   * add to the request's messages.
   */
  tell(recipient: Recipient, request: RoleChangeRequest, event: RequestEvent): Promise<MessageRef>;

  /**
   * Brings one of the request's messages about its result (one offering the grant's actions, `carriesButtons`) up
   * to date: the final state once the grant ended, or a pointer to `supersededBy`, the Extend that took the grant
   * over. False when the message no longer exists (nothing to update).
   */
  updateResult(
    ref: MessageRef,
    request: RoleChangeRequest,
    opts?: { supersededBy?: string },
  ): Promise<boolean>;

  /** Hands a file to a person privately. */
  sendFile(to: PersonRef, file: HoldersExport): Promise<void>;

  /** Tells the approvers at `destination` (an approval channel) about a drift, and says where the message landed. */
  reportDrift(destination: string, notice: DriftNotice): Promise<MessageRef>;

  /**
   * The request changed (filed, decided, applied, ended, …): every personal view the front keeps of the people it
   * concerns (Slack's App Home: its requester, its user, its approvers) is brought up to date soon. Bursts are the
   * front's to coalesce; callers call it after each change is stored. Optional: a front without such views has none.
   */
  homesChanged?(request: RoleChangeRequest): Promise<void>;
}
