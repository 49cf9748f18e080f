// Owns the words the Slack front says for access reviews' outcomes (src/app/use-cases/review.ts): one function per
// outcome type, each a switch over its codes, so a new code can't go unworded. Plain sentences, as src/slack/words.ts
// writes them; the listeners escape them into messages. Each says what state things are in afterwards: whether a
// review was opened, whether a decision was recorded, whether a revoke request was filed.
import type {
  CloseReviewOutcome,
  DecideReviewOutcome,
  OpenReviewOutcome,
  ReviewRefusal,
} from '../app/use-cases/review.ts';
import type { ResourceRef } from '../domain/request.ts';
import type { ReviewHolder } from '../domain/review.ts';
import { plainTime } from '../domain/time.ts';
import { truncate } from './mrkdwn.ts';
import {
  failureText,
  fileRefusalText,
  postProblemText,
  resourceRefusedText,
  roleHint,
  unknownInstanceText,
} from './words.ts';

const short = (s: string, max = 120) => truncate(s, max);

function roleIn(role: string, resource?: ResourceRef): string {
  return resource === undefined
    ? short(role)
    : `${short(role)} in ${short(resource.kind, 30)} ${short(resource.name)}`;
}

function holderName(h: ReviewHolder): string {
  if (h.kind === 'group') return `the group ${short(h.name)}`;
  return h.email && h.email.toLowerCase() !== h.name.toLowerCase()
    ? `${short(h.name)} (${short(h.email)})`
    : short(h.name);
}

/** The receipt of `/qlik review` to the person who typed it. */
export function openReviewText(o: OpenReviewOutcome): string {
  switch (o.code) {
    case 'opened': {
      const n = o.review.holders.length;
      return `Access review ${o.review.id} of ${roleIn(o.review.entitlement.name, o.review.targetRef.resource)} is open in the approval channel: ${n} ${n === 1 ? 'holder' : 'holders'} to Keep or Revoke.`;
    }
    case 'not-posted':
      return `I couldn't post access review ${o.review.id} to the approval channel (${short(o.problem, 60)}), so I closed it again and nobody was asked. Ask an admin to invite the bot to that channel.`;
    case 'unknown-instance':
      return unknownInstanceText(o);
    case 'unknown-role':
      return `${o.system} has no role \`${short(o.role, 80)}\`.${roleHint(o.suggestions)} No review was opened.`;
    case 'resource-refused':
      return resourceRefusedText(o);
    case 'not-approver':
      return `Only approvers of ${roleIn(o.role, o.resource)} can open a review of it. No review was opened.`;
    case 'too-many-holders':
      return `${roleIn(o.role, o.resource)} has ${o.count === o.max + 1 ? `more than ${o.max}` : o.count} holders; one review takes at most ${o.max} (REVIEW_MAX_HOLDERS). No review was opened. \`/qlik who-has ${short(o.role, 80)}\` sends the full list as a CSV.`;
    case 'no-holders':
      return `Nobody holds ${roleIn(o.role, o.resource)} directly (no user, no group), so there is nothing to review. No review was opened.`;
    default:
      return failureText(o);
  }
}

/** A click that did nothing; `closing` for Close review (the review stays as it was), else a Keep or Revoke. */
function refusalText(o: ReviewRefusal, closing = false): string {
  const nothing = closing ? 'nothing was changed' : 'nothing was recorded';
  switch (o.code) {
    case 'review-not-found':
      return `I can't find access review ${short(o.reviewId, 20)}; ${nothing}.`;
    case 'review-closed':
      return `Access review ${o.review.id} is closed${o.review.closedAt === undefined ? '' : ` (since ${plainTime(o.review.closedAt)})`}${closing ? ' already' : ''}; ${nothing}.`;
    case 'not-approver': {
      const role = roleIn(o.review.entitlement.name, o.review.targetRef.resource);
      return closing
        ? `Only approvers of ${role} can close its review; it stays open.`
        : `Only approvers of ${role} decide in its review; nothing was recorded.`;
    }
  }
}

/** What the clicker of Keep or Revoke is told. */
export function decideReviewText(o: DecideReviewOutcome): string {
  switch (o.code) {
    case 'kept':
      return `Kept: ${holderName(o.holder)} keeps ${short(o.review.entitlement.name)}.${o.closed ? ` That was the last holder: review ${o.review.id} is closed.` : ''}`;
    case 'revoke-requested': {
      const filed = o.alreadyPending
        ? `A revoke request for ${holderName(o.holder)} was already pending: ${o.requestId}, recorded for this review.`
        : `Revoke request ${o.requestId} filed for ${holderName(o.holder)}; it goes to approval as usual, and the role stays until it is approved and applied.`;
      const problem = o.postProblem === undefined ? '' : ` ${postProblemText(o.postProblem)}`;
      return `${filed}${problem}${o.closed ? ` That was the last holder: review ${o.review.id} is closed.` : ''}`;
    }
    case 'review-not-found':
    case 'review-closed':
    case 'not-approver':
      return refusalText(o);
    case 'own-access':
      return o.group === undefined
        ? `That is your own access: another approver decides it. Nothing was recorded.`
        : `You are in the group ${short(o.group)}, so that is your own access: another approver decides it. Nothing was recorded.`;
    case 'self-unknown':
      return `I couldn't check that this isn't your own access${o.problem ? ` (${short(o.problem, 40)})` : ' (your Slack profile shows no email)'}, so nothing was recorded. Try again, or ask another approver.`;
    case 'already-decided': {
      const who = o.byYou ? 'You' : o.byName ? short(o.byName, 80) : 'Another approver';
      const d = o.decision;
      if (d.filing)
        return `${who} ${o.byYou ? 'are' : 'is'} filing a revoke for ${holderName(o.holder)} right now; nothing else was recorded.`;
      const what = d.choice === 'keep' ? 'kept' : `requested a revoke (${d.requestId ?? 'filed'}) of`;
      return `${who} already ${what} ${holderName(o.holder)} at ${plainTime(d.at)}; nothing else was recorded.`;
    }
    case 'no-email':
      return `Qlik lists ${holderName(o.holder)} without an email, so a revoke request can't name them; remove the role in Qlik. Nothing was recorded.`;
    case 'revoke-refused':
      return `No revoke was filed for ${holderName(o.holder)}: ${fileRefusalText(o.refusal)} The holder is still undecided.`;
    case 'holder-not-found':
      return `That holder isn't part of review ${o.review.id}; nothing was recorded.`;
    default:
      return failureText(o);
  }
}

/** What the clicker of Close review is told. */
export function closeReviewText(o: CloseReviewOutcome): string {
  switch (o.code) {
    case 'closed': {
      const undecided = o.review.holders.filter((_, i) => {
        const d = o.review.decisions[i];
        return d === undefined || d.filing === true;
      }).length;
      const problem =
        o.postProblem === undefined
          ? ''
          : ` I couldn't post its summary in the thread (${short(o.postProblem, 60)}).`;
      return `Review ${o.review.id} is closed; ${undecided} ${undecided === 1 ? 'holder was' : 'holders were'} left undecided and keep their access.${problem}`;
    }
    case 'review-not-found':
    case 'review-closed':
    case 'not-approver':
      return refusalText(o, true);
    default:
      return failureText(o);
  }
}
