// Owns the buttons: Approve, Deny, Cancel, Extend, Revoke now, and Invite and grant (an access review's Keep, Revoke
// and Close review are routed to src/slack/listeners/review-actions.ts). Each press is acked at once, parsed at the
// edge (only the clicker's id and the button's request id are used — rights are decided by the app from the
// policy, never from the payload), and answered to the clicker alone when there is something to say.
import { z } from 'zod';
import type { AccessRequestApp } from '../../app/access-requests.ts';
import { type PersonRef, REQUEST_ID_PATTERN } from '../../domain/request.ts';
import type { Logger } from '../../observability/logger.ts';
import { commands } from '../../observability/metrics.ts';
import type { HomeTab } from '../home.ts';
import type { SlackMessage } from '../messenger.ts';
import { slackPerson } from '../people.ts';
import { DRIFT_PAGE_ACTIONS } from '../views/drift.ts';
import {
  ACTION_IDS,
  autoApprovedMessage,
  duplicateRequestMessage,
  errorMessage,
  requestFiledMessage,
} from '../views.ts';
import {
  approveOutcomeText,
  cancelOutcomeText,
  denyOutcomeText,
  extendOutcomeText,
  inviteRefusalText,
  postProblemText,
  revokeNowOutcomeText,
} from '../words.ts';
import { answerPress } from './answer.ts';
import { noticeMessage } from './command.ts';
import { pressDriftPage } from './drift.ts';
import type { InFlight } from './inflight.ts';
import { isReviewAction, pressReview } from './review-actions.ts';

const BUTTON_ACTIONS = [
  ACTION_IDS.approve,
  ACTION_IDS.deny,
  ACTION_IDS.cancel,
  ACTION_IDS.extend,
  ACTION_IDS.revokeNow,
] as const;
type ButtonAction = (typeof BUTTON_ACTIONS)[number];

export interface ActionDeps {
  app: AccessRequestApp;
  /** Answers through a click's response_url; `replaceOriginal` replaces the message the button is on (a page). */
  respond: (responseUrl: string, msg: SlackMessage, opts?: { replaceOriginal?: boolean }) => Promise<void>;
  ephemeral: (channel: string, userId: string, msg: SlackMessage) => Promise<void>;
  logger: Logger;
  inflight: InFlight;
  /** The App Home (src/slack/home.ts): a press made on it is answered there; absent, such a press goes unanswered. */
  home?: Pick<HomeTab, 'pressed'>;
}

/** The answer to a press: whether it did what was asked, and what to tell the person who pressed (words.ts). */
interface ClickReply {
  ok: boolean;
  message: string;
}

/** What the bot says to a press it can't use: an unknown action, or a value that is no request id it made. */
const STALE_BUTTON = "That button doesn't do anything any more.";

/**
 * The fields of a block_actions payload the bot relies on. The value is checked later, so a bad one is still
 * answered; it is only ever used (or shown) when it is a request id as the store makes them.
 */
const blockActionPayload = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1) }),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).min(1),
  response_url: z.url().optional(),
  container: z
    .object({
      type: z.string().optional(),
      is_ephemeral: z.boolean().optional(),
      channel_id: z.string().optional(),
    })
    .optional(),
  channel: z.object({ id: z.string() }).optional(),
  /** Set for a press in a view: a modal or the App Home (`type: 'home'`). */
  view: z.object({ type: z.string() }).optional(),
});
type BlockActionPayload = z.infer<typeof blockActionPayload>;

/** The Bolt listener for every button. */
export async function handleButton(
  args: { body: unknown; ack: () => Promise<void> },
  deps: ActionDeps,
): Promise<void> {
  await args.ack();
  const parsed = blockActionPayload.safeParse(args.body);
  if (!parsed.success) {
    deps.logger.warn(
      { issues: parsed.error.issues.map((i) => i.path.join('.')) },
      'malformed button payload',
    );
    // Someone pressed something: say so if Slack gave us a way to answer them.
    const url = (args.body as { response_url?: unknown } | null)?.response_url;
    if (z.url().safeParse(url).success && typeof url === 'string') {
      await deps.respond(url, errorMessage(STALE_BUTTON)).catch(() => undefined);
    }
    return;
  }
  await deps.inflight.run(() => press(parsed.data, deps));
}

/** The Invite and grant button's value (views.ts inviteOfferValue); anything else in it is refused as stale. */
const inviteOfferSchema = z.strictObject({
  e: z.email().max(254),
  r: z.string().min(1).max(200),
  s: z.string().min(1).max(256).optional(),
  t: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/)
    .optional(),
});

/**
 * Invite and grant: files the invite the button offers, with the presser as its requester. Nothing in the value is
 * trusted beyond its shape: the app checks it all again, as for `/qlik invite` typed by the presser.
 */
async function pressInvite(p: BlockActionPayload, deps: ActionDeps): Promise<void> {
  const raw = p.actions[0]?.value;
  let offer: z.infer<typeof inviteOfferSchema> | undefined;
  try {
    const parsed = inviteOfferSchema.safeParse(raw === undefined ? undefined : JSON.parse(raw));
    if (parsed.success) offer = parsed.data;
  } catch {
    offer = undefined;
  }
  let msg: SlackMessage;
  if (offer === undefined) {
    msg = errorMessage(STALE_BUTTON);
    commands.inc({ command: `button:${ACTION_IDS.inviteAndGrant}`, outcome: 'refused' });
  } else {
    const res = await deps.app.invite({
      requester: slackPerson(p.user.id),
      who: { kind: 'email', email: offer.e },
      roleNames: offer.s === undefined ? [offer.r] : [],
      ...(offer.s === undefined ? {} : { space: { name: offer.s, role: offer.r } }),
      ...(offer.t === undefined ? {} : { instance: offer.t }),
    });
    commands.inc({ command: `button:${ACTION_IDS.inviteAndGrant}`, outcome: res.ok ? 'ok' : 'refused' });
    msg =
      res.code === 'filed'
        ? res.autoApproved
          ? autoApprovedMessage(res.request)
          : requestFiledMessage(
              res.request,
              res.approvalChannel,
              res.postProblem === undefined ? undefined : postProblemText(res.postProblem),
            )
        : res.code === 'duplicate'
          ? duplicateRequestMessage(res.duplicateOf)
          : errorMessage(inviteRefusalText(res));
  }
  await answerPress(p, deps, msg, 'could not answer the Invite and grant press');
}

async function press(p: BlockActionPayload, deps: ActionDeps): Promise<void> {
  if (p.actions[0]?.action_id === ACTION_IDS.inviteAndGrant) return pressInvite(p, deps);
  if (isReviewAction(p.actions[0]?.action_id)) return pressReview(p, deps);
  if (DRIFT_PAGE_ACTIONS.includes(p.actions[0]?.action_id ?? '')) return pressDriftPage(p, deps);
  const action = p.actions[0]!;
  const actionId = action.action_id as ButtonAction;
  const userId = p.user.id;
  // Only a well-formed request id is used, logged or shown: anything else in a value is forged or foreign.
  const requestId =
    action.value !== undefined && REQUEST_ID_PATTERN.test(action.value) ? action.value : undefined;
  const known = BUTTON_ACTIONS.includes(actionId);
  const log = deps.logger.child({
    action: known ? actionId : 'unknown',
    user: userId,
    ...(requestId ? { requestId } : {}),
  });
  let result: ClickReply;
  if (!known || requestId === undefined) {
    result = { ok: false, message: STALE_BUTTON };
  } else {
    result = await dispatch(deps.app, actionId, requestId, slackPerson(userId));
  }
  commands.inc({
    command: known ? `button:${actionId}` : 'button:unknown',
    outcome: result.ok ? 'ok' : 'refused',
  });
  // A press on the App Home has no response_url and no channel: the Home itself says what it did, redrawn.
  if (isHomePress(p) && deps.home) {
    try {
      await deps.home.pressed(userId, { ok: result.ok, text: result.message });
    } catch (err) {
      log.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'could not answer the press on the App Home',
      );
    }
    return;
  }
  const ephemeralContainer = p.container?.is_ephemeral === true;
  // On the approval message itself, the updated message is the answer to a successful approve/deny.
  const quiet = result.ok && !ephemeralContainer && (actionId === 'approve' || actionId === 'deny');
  if (quiet) return;
  const msg = result.ok ? noticeMessage(result.message) : errorMessage(result.message);
  await answerPress(p, { ...deps, logger: log }, msg, 'could not answer the click');
}

/** A press on the App Home tab (a view of type `home`), rather than on a message or in a modal. */
function isHomePress(p: BlockActionPayload): boolean {
  return p.container?.type === 'view' && p.view?.type === 'home';
}

async function dispatch(
  app: AccessRequestApp,
  action: ButtonAction,
  requestId: string,
  clicker: PersonRef,
): Promise<ClickReply> {
  switch (action) {
    case 'approve': {
      const o = await app.approve(requestId, clicker);
      return { ok: o.ok, message: approveOutcomeText(o) };
    }
    case 'deny': {
      const o = await app.deny(requestId, clicker);
      return { ok: o.ok, message: denyOutcomeText(o) };
    }
    case 'cancel': {
      const o = await app.cancel(requestId, clicker);
      return { ok: o.ok, message: cancelOutcomeText(o) };
    }
    case 'extend': {
      const o = await app.extend(requestId, clicker);
      return { ok: o.ok, message: extendOutcomeText(o) };
    }
    case 'revoke_now': {
      const o = await app.revokeNow(requestId, clicker);
      return { ok: o.ok, message: revokeNowOutcomeText(o) };
    }
  }
}
