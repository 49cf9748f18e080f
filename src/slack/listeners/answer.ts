// Owns answering the person who pressed a button, privately, wherever the press came from.
import type { SlackMessage } from '../messenger.ts';
import type { ActionDeps } from './actions.ts';

/**
 * Answers the person who pressed, privately: through the press's response_url, else as an ephemeral message in the
 * channel it was pressed in. A failure to answer is logged; it never undoes what the press did.
 */
export async function answerPress(
  p: {
    user: { id: string };
    response_url?: string | undefined;
    container?: { channel_id?: string | undefined } | undefined;
    channel?: { id: string } | undefined;
  },
  deps: Pick<ActionDeps, 'respond' | 'ephemeral' | 'logger'>,
  msg: SlackMessage,
  failed: string,
): Promise<void> {
  try {
    if (p.response_url) await deps.respond(p.response_url, msg);
    else {
      const channel = p.container?.channel_id ?? p.channel?.id;
      if (channel) await deps.ephemeral(channel, p.user.id, msg);
    }
  } catch (err) {
    deps.logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, failed);
  }
}
