// Owns the buttons: Approve, Deny, Cancel, Extend and Revoke now. Each press is acked at once, parsed at the
// edge (only the clicker's id and the button's request id are used — rights are decided by the app from the
// policy, never from the payload), and answered to the clicker alone when there is something to say.
import { z } from 'zod';
import type { AccessRequestApp, ClickResult } from '../../app/access-requests.ts';
import type { Logger } from '../../observability/logger.ts';
import { commands } from '../../observability/metrics.ts';
import type { SlackMessage } from '../messenger.ts';
import { ACTION_IDS, errorMessage } from '../views.ts';
import { noticeMessage } from './command.ts';
import type { InFlight } from './inflight.ts';

export const BUTTON_ACTIONS = [
  ACTION_IDS.approve,
  ACTION_IDS.deny,
  ACTION_IDS.cancel,
  ACTION_IDS.extend,
  ACTION_IDS.revokeNow,
] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];

export interface ActionDeps {
  app: AccessRequestApp;
  respond: (responseUrl: string, msg: SlackMessage) => Promise<void>;
  ephemeral: (channel: string, userId: string, msg: SlackMessage) => Promise<void>;
  logger: Logger;
  inflight: InFlight;
}

/** The fields of a block_actions payload the bot relies on. */
export const blockActionPayload = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1) }),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().max(100).optional() })).min(1),
  response_url: z.url().optional(),
  container: z.object({ is_ephemeral: z.boolean().optional(), channel_id: z.string().optional() }).optional(),
  channel: z.object({ id: z.string() }).optional(),
});
export type BlockActionPayload = z.infer<typeof blockActionPayload>;

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
    return;
  }
  await deps.inflight.run(() => press(parsed.data, deps));
}

async function press(p: BlockActionPayload, deps: ActionDeps): Promise<void> {
  const action = p.actions[0]!;
  const actionId = action.action_id as ButtonAction;
  const userId = p.user.id;
  const log = deps.logger.child({ action: actionId, user: userId, requestId: action.value });
  let result: ClickResult;
  if (!BUTTON_ACTIONS.includes(actionId) || !action.value) {
    result = { ok: false, message: "That button doesn't do anything any more." };
  } else {
    result = await dispatch(deps.app, actionId, action.value, userId);
  }
  commands.inc({ command: `button:${actionId}`, outcome: result.ok ? 'ok' : 'refused' });
  const ephemeralContainer = p.container?.is_ephemeral === true;
  // On the approval message itself, the updated message is the answer to a successful approve/deny.
  const quiet = result.ok && !ephemeralContainer && (actionId === 'approve' || actionId === 'deny');
  if (quiet) return;
  const msg = result.ok ? noticeMessage(result.message) : errorMessage(result.message);
  try {
    if (p.response_url) await deps.respond(p.response_url, msg);
    else {
      const channel = p.container?.channel_id ?? p.channel?.id;
      if (channel) await deps.ephemeral(channel, userId, msg);
    }
  } catch (err) {
    log.warn(
      { err: { message: err instanceof Error ? err.message : String(err) } },
      'could not answer the click',
    );
  }
}

function dispatch(
  app: AccessRequestApp,
  action: ButtonAction,
  requestId: string,
  userId: string,
): Promise<ClickResult> {
  switch (action) {
    case 'approve':
      return app.approve(requestId, userId);
    case 'deny':
      return app.deny(requestId, userId);
    case 'cancel':
      return app.cancel(requestId, userId);
    case 'extend':
      return app.extend(requestId, userId);
    case 'revoke_now':
      return app.revokeNow(requestId, userId);
  }
}
