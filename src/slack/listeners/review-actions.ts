// Owns the buttons of access reviews: Keep and Revoke on a holder, and Close review. Parsed at the edge: only the
// clicker's id and the button's value (a review id, and for Keep/Revoke the holder's index) are used; whether the
// clicker may decide, and whether the holder is still undecided, is the app's to say at the click
// (src/app/use-cases/review.ts). A successful Keep or Close is answered by the review's messages changing; a
// Revoke's receipt (its request id) and every refusal go to the clicker alone.
import type { PersonRef } from '../../domain/request.ts';
import { REVIEW_ID_PATTERN } from '../../domain/review.ts';
import { commands } from '../../observability/metrics.ts';
import type { SlackMessage } from '../messenger.ts';
import { slackPerson } from '../people.ts';
import { closeReviewText, decideReviewText } from '../review-words.ts';
import { REVIEW_ACTION_IDS } from '../views/review.ts';
import { errorMessage } from '../views.ts';
import type { ActionDeps } from './actions.ts';
import { answerPress } from './answer.ts';
import { noticeMessage } from './command.ts';

const REVIEW_ACTIONS: readonly string[] = Object.values(REVIEW_ACTION_IDS);

/** True for the action ids of a review's buttons. */
export function isReviewAction(actionId: string | undefined): boolean {
  return actionId !== undefined && REVIEW_ACTIONS.includes(actionId);
}

/** The parts of a press this needs (src/slack/listeners/actions.ts parsed the rest). */
export interface ReviewPress {
  user: { id: string };
  actions: { action_id: string; value?: string | undefined }[];
  response_url?: string | undefined;
  container?: { is_ephemeral?: boolean | undefined; channel_id?: string | undefined } | undefined;
  channel?: { id: string } | undefined;
}

const STALE = "That button doesn't do anything any more.";
/** A holder index is small: a review has at most REVIEW_MAX_HOLDERS (5000 at most) holders. */
const HOLDER_VALUE = /^(V-[2-9A-HJKMNP-Z]{4,8}):(\d{1,4})$/;

export async function pressReview(p: ReviewPress, deps: ActionDeps): Promise<void> {
  const action = p.actions[0]!;
  const clicker = slackPerson(p.user.id);
  const reply = await decide(deps, action.action_id, action.value ?? '', clicker);
  commands.inc({ command: `button:${action.action_id}`, outcome: reply.ok ? 'ok' : 'refused' });
  if (reply.quiet && p.container?.is_ephemeral !== true) return;
  const msg: SlackMessage = reply.ok ? noticeMessage(reply.text) : errorMessage(reply.text);
  await answerPress(p, deps, msg, `could not answer the review click (${action.action_id})`);
}

async function decide(
  deps: ActionDeps,
  actionId: string,
  value: string,
  clicker: PersonRef,
): Promise<{ ok: boolean; text: string; quiet?: boolean }> {
  if (actionId === REVIEW_ACTION_IDS.close) {
    if (!REVIEW_ID_PATTERN.test(value)) return { ok: false, text: STALE };
    const o = await deps.app.closeReview(value, clicker);
    // The header and the summary in the thread say it closed; a summary that couldn't be posted is said here.
    return { ok: o.ok, text: closeReviewText(o), quiet: o.ok && o.postProblem === undefined };
  }
  const m = HOLDER_VALUE.exec(value);
  if (!m) return { ok: false, text: STALE };
  const o = await deps.app.decideReviewHolder({
    reviewId: m[1]!,
    index: Number(m[2]),
    choice: actionId === REVIEW_ACTION_IDS.keep ? 'keep' : 'revoke',
    clicker,
  });
  return { ok: o.ok, text: decideReviewText(o), quiet: o.ok && o.code === 'kept' };
}
