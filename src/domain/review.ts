// Owns what an access review is (`/qlik review <role>`, SPEC §9): the holders of one entitlement as they were when
// it opened (a snapshot: a review is about who held it then, not who holds it while people click), one decision per
// holder (keep, or revoke through a normal revoke request), and its life (open until every holder is decided or an
// approver closes it). Pure: the store keeps reviews (src/store/review-store.ts), the app runs them
// (src/app/use-cases/review.ts), and a front shows them.
import type { EntitlementRef } from '../targets/types.ts';
import type { MessageRef, PersonRef, TargetRef } from './request.ts';
import { ID_ALPHABET } from './request.ts';

/** One holder of the entitlement when the review opened: a user holding it directly, or a group. */
export interface ReviewHolder {
  kind: 'user' | 'group';
  /** The target system's id (a group listed by name only has its name here). */
  id: string;
  name: string;
  email?: string;
  /** The account's status in the system when it isn't plainly active (disabled, invited, …). */
  status?: string;
}

export type ReviewChoice = 'keep' | 'revoke';

/**
 * What was decided for one holder. A revoke is first `filing` (claimed, while its revoke request is being filed),
 * then carries the id of the request filed; a claim whose filing never finished (the bot stopped) goes stale and the
 * holder can be decided again.
 */
export interface ReviewDecision {
  choice: ReviewChoice;
  by: PersonRef;
  at: number;
  /** For a revoke: the revoke request filed (or already pending) for this holder. */
  requestId?: string;
  /** A revoke whose request is being filed right now. */
  filing?: boolean;
}

export type ReviewState = 'open' | 'closed';

export interface AccessReview {
  /** `V-` and four or more characters of the request ids' alphabet. */
  id: string;
  /** The entitlement reviewed, as the target spells it (with its resource, for a space role). */
  entitlement: EntitlementRef;
  /** The target it is held in (kind, instance, resource). */
  targetRef: TargetRef;
  openedBy: PersonRef;
  openedAt: number;
  state: ReviewState;
  /** Who closed it (absent when it closed by itself, every holder decided) and when. */
  closedBy?: PersonRef;
  closedAt?: number;
  /** The holders when it opened, users first, then groups. */
  holders: ReviewHolder[];
  /** Groups holding it that the review could not list (the target answers only a first page of them). */
  groupsLeftOut: number;
  /** Holders per batch message. */
  batchSize: number;
  /** Decisions by holder index. */
  decisions: Record<number, ReviewDecision>;
  /** Where it was posted: the approval channel's header message and one message per batch, in its thread. */
  header?: MessageRef;
  batches?: MessageRef[];
}

/** How many holders one batch message shows: two blocks each (a line and its buttons) within Slack's 50. */
export const REVIEW_BATCH_SIZE = 20;

/** Default cap on the holders one review takes (REVIEW_MAX_HOLDERS). */
export const DEFAULT_REVIEW_MAX_HOLDERS = 500;

/** How long a revoke's claim may stay `filing` before the holder can be decided again. */
export const FILING_STALE_MS = 120_000;

/** A new review id; uniqueness is enforced by the store. */
export function newReviewId(length = 4, random: () => number = Math.random): string {
  let s = 'V-';
  for (let i = 0; i < length; i++) s += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)];
  return s;
}

export const REVIEW_ID_PATTERN = /^V-[2-9A-HJKMNP-Z]{4,8}$/;

/** How many batch messages a review has. */
export function batchCount(r: Pick<AccessReview, 'holders' | 'batchSize'>): number {
  return Math.ceil(r.holders.length / r.batchSize);
}

/** The holder indexes batch `b` shows. */
export function batchIndexes(r: Pick<AccessReview, 'holders' | 'batchSize'>, b: number): number[] {
  const from = b * r.batchSize;
  const to = Math.min(r.holders.length, from + r.batchSize);
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** A decision that counts: kept, or a revoke whose request was filed (a `filing` claim is not one yet). */
export function isDecided(d: ReviewDecision | undefined): d is ReviewDecision {
  return d !== undefined && !d.filing;
}

export interface ReviewTally {
  total: number;
  kept: number;
  revoked: number;
  undecided: number;
  /** The revoke requests filed, in holder order. */
  requestIds: string[];
}

export function tally(r: Pick<AccessReview, 'holders' | 'decisions'>): ReviewTally {
  const t: ReviewTally = { total: r.holders.length, kept: 0, revoked: 0, undecided: 0, requestIds: [] };
  r.holders.forEach((_, i) => {
    const d = r.decisions[i];
    if (!isDecided(d)) t.undecided++;
    else if (d.choice === 'keep') t.kept++;
    else {
      t.revoked++;
      if (d.requestId) t.requestIds.push(d.requestId);
    }
  });
  return t;
}

/** True once every holder is decided: the review then closes by itself. */
export function allDecided(r: Pick<AccessReview, 'holders' | 'decisions'>): boolean {
  return r.holders.every((_, i) => isDecided(r.decisions[i]));
}
