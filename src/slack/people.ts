// Owns the Slack front's side of people: a Slack user id becomes the core's PersonRef here, at the edge (listeners
// and the lookups that read Slack ids), and a PersonRef becomes a Slack user id again only where Slack is called.
import type { DirectoryPort, PersonLookup } from '../app/ports.ts';
import type { PersonRef } from '../domain/request.ts';
import type { SlackDirectory, SlackUserLookup } from './directory.ts';

/** The person a Slack user id (`U…`, `W…`) names. */
export function slackPerson(userId: string): PersonRef {
  return { front: 'slack', id: userId };
}

/** What of SlackDirectory the app's directory is made of (a fake in the app's tests). */
export type SlackPeopleLookups = Pick<SlackDirectory, 'lookupUser' | 'findUserIdByEmail' | 'isInAny'>;

/**
 * The app's directory of people (DirectoryPort) on Slack's: a PersonRef becomes a Slack user id where Slack is
 * asked, and what Slack answers becomes PersonRefs again. A person of another front is not Slack's to know: Slack
 * is not asked, they are not found, and they are in none of the policy's approver lists (those are Slack user and
 * user-group ids, Slack config).
 */
export function slackDirectoryPort(slack: SlackPeopleLookups): DirectoryPort {
  return {
    async lookupUser(person: PersonRef): Promise<PersonLookup> {
      if (person.front !== 'slack') return { kind: 'not-found', person };
      return fromSlack(await slack.lookupUser(person.id));
    },
    async findPersonByEmail(email: string): Promise<PersonRef | undefined> {
      const id = await slack.findUserIdByEmail(email);
      return id ? slackPerson(id) : undefined;
    },
    async isInAny(person: PersonRef, ids: readonly string[]): Promise<boolean> {
      return person.front === 'slack' && slack.isInAny(person.id, ids);
    },
  };
}

function fromSlack(u: SlackUserLookup): PersonLookup {
  const person = slackPerson(u.userId);
  switch (u.kind) {
    case 'ok':
      return { kind: 'ok', person, email: u.email, name: u.name };
    case 'not-found':
      return { kind: 'not-found', person };
    default:
      return { kind: u.kind, person, name: u.name };
  }
}
