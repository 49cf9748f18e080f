// Owns "Deny with reason…" on an approval message: the press opens a small modal (views.open with the press's
// trigger_id, at once: a trigger lasts 3 s) asking for the reason; its submission denies the request with that
// reason through the same app.deny the Deny button uses (rights and state checked again then), and the requester's
// notice and the approval message show it. A refusal (not an approver, decided meanwhile) comes back on the form.
import type { ModalView } from '@slack/types';
import { z } from 'zod';
import type { AccessRequestApp } from '../../app/access-requests.ts';
import { REQUEST_ID_PATTERN } from '../../domain/request.ts';
import type { Logger } from '../../observability/logger.ts';
import { commands } from '../../observability/metrics.ts';
import { slackPerson } from '../people.ts';
import { DENY_WITH_REASON_ACTION, errorMessage } from '../views.ts';
import { denyOutcomeText } from '../words.ts';
import type { ActionDeps } from './actions.ts';
import { answerPress } from './answer.ts';
import type { FormViews } from './form.ts';

export const DENY_REASON_CALLBACK = 'deny_reason';
const REASON_BLOCK = 'reason';
const REASON_ACTION = 'reason_text';
const MAX_REASON = 500;

/** The modal: one required line of text, and the request id (nothing else) in its metadata. */
export function denyReasonView(requestId: string): ModalView {
  return {
    type: 'modal',
    callback_id: DENY_REASON_CALLBACK,
    private_metadata: requestId,
    title: { type: 'plain_text', text: 'Deny with a reason' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: REASON_BLOCK,
        label: { type: 'plain_text', text: `Why is ${requestId} denied?` },
        hint: { type: 'plain_text', text: 'The person who asked sees this.' },
        element: {
          type: 'plain_text_input',
          action_id: REASON_ACTION,
          multiline: true,
          max_length: MAX_REASON,
        },
      },
    ],
  };
}

const pressPayload = z.object({
  user: z.object({ id: z.string().min(1) }),
  trigger_id: z.string().min(1).optional(),
  actions: z
    .array(z.object({ action_id: z.literal(DENY_WITH_REASON_ACTION), value: z.string().optional() }))
    .min(1),
  response_url: z.url().optional(),
  container: z.object({ channel_id: z.string().optional() }).optional(),
  channel: z.object({ id: z.string() }).optional(),
});

export function isDenyReasonPress(body: unknown): boolean {
  const actions = (body as { actions?: { action_id?: unknown }[] } | null)?.actions;
  return Array.isArray(actions) && actions[0]?.action_id === DENY_WITH_REASON_ACTION;
}

/** Deny with reason…: acks, then opens the modal at once; says so to the presser when it can't be opened. */
export async function handleDenyReasonPress(
  args: { body: unknown; ack: () => Promise<void> },
  deps: Pick<ActionDeps, 'respond' | 'ephemeral' | 'logger'> & { views?: FormViews },
): Promise<void> {
  await args.ack();
  const p = pressPayload.safeParse(args.body);
  const requestId = p.success ? p.data.actions[0]?.value : undefined;
  if (!p.success || requestId === undefined || !REQUEST_ID_PATTERN.test(requestId)) {
    commands.inc({ command: `button:${DENY_WITH_REASON_ACTION}`, outcome: 'refused' });
    if (p.success)
      await answerPress(
        p.data,
        deps,
        errorMessage("That button doesn't do anything any more."),
        'could not answer',
      );
    return;
  }
  try {
    if (!deps.views || !p.data.trigger_id) throw new Error('no views client or trigger');
    await deps.views.open(p.data.trigger_id, denyReasonView(requestId));
    commands.inc({ command: `button:${DENY_WITH_REASON_ACTION}`, outcome: 'ok' });
  } catch (err) {
    deps.logger.warn(
      { err: { message: err instanceof Error ? err.message : String(err) }, requestId },
      'could not open the deny reason form',
    );
    await answerPress(
      p.data,
      deps,
      errorMessage("I couldn't open the form for a reason. Press Deny to deny without one, or try again."),
      'could not answer the Deny with reason press',
    );
  }
}

const submissionPayload = z.object({
  user: z.object({ id: z.string().min(1) }),
  view: z.object({
    callback_id: z.literal(DENY_REASON_CALLBACK),
    private_metadata: z.string(),
    state: z.object({
      values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullish() }))),
    }),
  }),
});

export function isDenyReasonSubmission(body: unknown): boolean {
  return (body as { view?: { callback_id?: unknown } } | null)?.view?.callback_id === DENY_REASON_CALLBACK;
}

type SubmissionAck = (r?: { response_action: 'errors'; errors: Record<string, string> }) => Promise<void>;

/** The modal's submission: denies with the reason, or shows why not on the form (which then stays open). */
export async function handleDenyReasonSubmission(
  args: { body: unknown; ack: SubmissionAck },
  deps: { app: AccessRequestApp; logger: Logger },
): Promise<void> {
  const p = submissionPayload.safeParse(args.body);
  const requestId = p.success ? p.data.view.private_metadata : '';
  if (!p.success || !REQUEST_ID_PATTERN.test(requestId)) {
    await args.ack({
      response_action: 'errors',
      errors: { [REASON_BLOCK]: "I couldn't read this form. Close it and press Deny again." },
    });
    return;
  }
  const reason = (p.data.view.state.values[REASON_BLOCK]?.[REASON_ACTION]?.value ?? '').trim();
  if (reason === '') {
    await args.ack({
      response_action: 'errors',
      errors: { [REASON_BLOCK]: 'Write the reason, or close this and press Deny.' },
    });
    return;
  }
  // Slack waits 3 s for the answer: the denial is one store transition, well within it.
  const o = await deps.app.deny(
    requestId,
    slackPerson(p.data.user.id),
    [...reason].slice(0, MAX_REASON).join(''),
  );
  commands.inc({ command: 'view:deny_reason', outcome: o.ok ? 'ok' : 'refused' });
  if (o.ok) await args.ack();
  else await args.ack({ response_action: 'errors', errors: { [REASON_BLOCK]: denyOutcomeText(o) } });
}
