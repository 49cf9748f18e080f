// Owns the answers to what the bot does not offer: views other than the request form (src/slack/listeners/form.ts
// has that one; any other submission is stale or forged) and shortcuts other than "Request access". Each is acked at
// once and, where Slack lets us, told in words that it does nothing.
import { z } from 'zod';
import type { Logger } from '../../observability/logger.ts';
import type { SlackMessage } from '../messenger.ts';
import { errorMessage } from '../views.ts';

const NOTHING_HERE = "That doesn't do anything any more.";

/** The modal a stale view submission is replaced with: it says so, instead of closing without a word. */
const STALE_VIEW = {
  response_action: 'update' as const,
  view: {
    type: 'modal' as const,
    title: { type: 'plain_text' as const, text: 'Qlik access' },
    close: { type: 'plain_text' as const, text: 'Close' },
    blocks: [
      {
        type: 'section' as const,
        text: {
          type: 'mrkdwn' as const,
          text: ":warning: This form doesn't do anything any more. Use `/qlik help` to see what the bot does.",
        },
      },
    ],
  },
};

export async function handleViewSubmission(args: {
  ack: (r: typeof STALE_VIEW) => Promise<void>;
}): Promise<void> {
  await args.ack(STALE_VIEW);
}

export async function handleViewClosed(args: { ack: () => Promise<void> }): Promise<void> {
  await args.ack();
}

/** A message shortcut carries a response_url: tell the person; a global shortcut has nowhere to answer. */
export async function handleShortcut(
  args: { body: unknown; ack: () => Promise<void> },
  deps: { respond: (url: string, msg: SlackMessage) => Promise<void>; logger: Logger },
): Promise<void> {
  await args.ack();
  const url = (args.body as { response_url?: unknown } | null)?.response_url;
  if (!z.url().safeParse(url).success || typeof url !== 'string') return;
  try {
    await deps.respond(url, errorMessage(NOTHING_HERE));
  } catch (err) {
    deps.logger.warn(
      { err: { message: err instanceof Error ? err.message : String(err) } },
      'could not answer the shortcut',
    );
  }
}
