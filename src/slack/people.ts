// Owns the Slack front's side of people: a Slack user id becomes the core's PersonRef here, at the edge (listeners
// and the lookups that read Slack ids), and a PersonRef becomes a Slack user id again only where Slack is called.
import type { PersonRef } from '../domain/request.ts';

/** The person a Slack user id (`U…`, `W…`) names. */
export function slackPerson(userId: string): PersonRef {
  return { front: 'slack', id: userId };
}
