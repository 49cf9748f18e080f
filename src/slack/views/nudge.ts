// Owns the Block Kit of a pending request's reminder and escalation: a reply beside its approval message that
// mentions the people who can decide it (users as `<@U…>`, user groups as `<!subteam^S…>`), and the line the
// approval message shows once the request escalated.
import { formatDuration } from '../../domain/duration.ts';
import type { RoleChangeRequest } from '../../domain/request.ts';
import { clip, mention, slackDate } from '../mrkdwn.ts';
import { context, message, type SlackMessage, section } from './blocks.ts';

const USER_GROUP_ID = /^S[A-Z0-9]{2,40}$/;

/** A mention that notifies: a user, or every member of a user group; anything else as escaped text. */
export function approverMention(id: string): string {
  return USER_GROUP_ID.test(id) ? `<!subteam^${id}>` : mention(id);
}

function mentions(ids: readonly string[]): string {
  const shown = ids.slice(0, 30).map(approverMention);
  const more = ids.length - shown.length;
  return `${shown.join(' ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** The reply that reminds the approvers, or says the request escalated to its fallback approvers. */
export function nudgeMessage(
  req: Pick<RoleChangeRequest, 'id' | 'expiresAt'>,
  nudge:
    | { kind: 'reminder'; approvers: string[]; afterMs: number }
    | { kind: 'escalation'; to: string[]; afterMs: number },
): SlackMessage {
  const id = clip(req.id, 20);
  const waited = formatDuration(nudge.afterMs);
  if (nudge.kind === 'reminder') {
    return message(`Reminder: ${id} is still waiting for a decision`, [
      section(
        `:bell: *${id} is still waiting for a decision* after ${waited}. ${mentions(nudge.approvers)}: please Approve or Deny it above.`,
      ),
      context(`It expires if undecided ${slackDate(req.expiresAt)}.`),
    ]);
  }
  return message(`Escalated: ${id} has had no decision for ${waited}`, [
    section(
      `:rotating_light: *Escalated*: ${id} has had no decision for ${waited}. ${mentions(nudge.to)}: you can now Approve or Deny it above.`,
    ),
    context(`It expires if undecided ${slackDate(req.expiresAt)}.`),
  ]);
}

/** The approval message's line for a request that escalated. */
export function escalationLine(e: NonNullable<RoleChangeRequest['escalation']>): string {
  return `:rotating_light: Escalated ${slackDate(e.at)} to ${mentions(e.to)}, who may decide it too.`;
}
