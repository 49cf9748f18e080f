// Owns what a request records about its outcome as facts, not sentences: what applying or ending it did, why it
// failed, and what the filing found worth saying. The worker and the app record these codes; each front words them
// (src/slack/words.ts), and the audit trail's plain sentence comes from src/app/outcome-words.ts. Versions before
// the codes stored the sentence itself (`result.message`, `error`, string `notes`), which a front still shows for
// the records that have no code.

import type { PersonRef, TargetRef } from './request.ts';

/** What applying a request, or ending the grant it made, did to the target system. */
export type ResultOutcome =
  /** Applying: the holdings before the change are recorded, the write may or may not have happened yet. */
  | { code: 'recorded-before' }
  /** A grant gave the entitlement. */
  | { code: 'granted' }
  /** A grant found it already held; for a time-bound grant it stays when the grant ends (it was not ours). */
  | { code: 'already-held' }
  /** An Extend took over a grant that holds it: its end moved (see `result.extended` and `result.revokeAt`). */
  | { code: 'extended' }
  /** A revoke request removed it. */
  | { code: 'removed' }
  /** A revoke request found it not held directly. */
  | { code: 'not-held' }
  /** A time-bound grant ended (its time ran out, or a person pressed Revoke now) and the entitlement was removed. */
  | { code: 'ended'; trigger: 'expiry' | 'manual' }
  /** Ending the grant left it in place: a later Extend (`by`) now decides when it ends. */
  | { code: 'kept-extended'; by: string }
  /** Ending the grant left it in place: the principal held it before the grant. */
  | { code: 'kept-held-before' }
  /** Ending the grant found the principal gone from the target system. */
  | { code: 'principal-gone' }
  /** Ending the grant found the entitlement already removed (by someone else). */
  | { code: 'already-removed' }
  /** An invite: the system made the account and sent the invitation email (`resent`: sent again). */
  | { code: 'invited'; resent: boolean }
  /** An invite found the account already there (an earlier invite or an active user); no email was sent. */
  | { code: 'account-exists'; status?: string };

/**
 * How one follow-on change of a request went (an invite's roles and space role, applied to the account it made):
 * what it is for and what it asked, and whether it was made, already in place, or failed and why.
 */
export interface PartResult {
  targetRef: TargetRef;
  entitlement: { id: string; name: string };
  outcome: 'granted' | 'already-held' | 'failed' | 'filed';
  failure?: FailureRecord;
  /** `filed`: a time-bound follow-on became this request of its own, approved, applying on its own. */
  request?: string;
  durationMs?: number;
  before?: string[];
  after?: string[];
}

/** Why a change could not be made. */
export type FailureCause =
  /** The target system refused or failed: `detail` is the target's own words (its error's title and detail). */
  | { code: 'target'; detail: string }
  /** The request's target is no longer configured: `detail` is the registry's words naming it. */
  | { code: 'target-gone'; detail: string }
  /** The principal's lock expired under the worker while it was changing the principal. */
  | { code: 'lock-lost' }
  /** The worker's job for the request kept getting lost (e.g. it crashed the worker every time). */
  | { code: 'job-lost' }
  /** Anything nobody recognised (a Redis hiccup, a bug). */
  | { code: 'internal' };

/** A change that failed for good: why, and after how many attempts when the bot gave up retrying. */
export interface FailureRecord {
  cause: FailureCause;
  /** Set when the bot retried and gave up: how many attempts it made. */
  gaveUpAfter?: number;
}

/** A fact found at filing that the requester and the approvers should see next to the change. */
export type FilingNote =
  /** No duration was given, so the grant lasts the entitlement's cap. */
  | { code: 'duration-defaulted'; durationMs: number }
  /** The principal already holds the entitlement through these groups. */
  | { code: 'held-via-groups'; groups: string[] }
  /**
   * The resource's own managers may approve (policy `managersApprove`): those found on the chat front, and how many
   * more the system lists that have no chat account with their email. Who counts is read again at click time.
   */
  | { code: 'managers-may-approve'; people: PersonRef[]; unmatched: number };

/** A note as stored: a code, or the sentence versions before the codes wrote. */
export type StoredNote = FilingNote | string;
