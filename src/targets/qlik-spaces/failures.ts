// Owns how a failure while changing space roles is handled: the space's own refusals (its owner can't be removed,
// the space is gone) fail at once with words for the requester; an assignment that vanished between the read and
// the write, or a 409 from an assignment that appeared, is retried (the next attempt reads again); everything else is
// classified as for tenant roles (rate limits later, 5xx retried, a missing user or group named). Pure.
import { QlikError } from '../../qlik/index.ts';
import { classifyQlikError } from '../qlik-roles/failures.ts';
import type { ErrorAction, ErrorSubject } from '../types.ts';

/** A revoke from the space's owner: Qlik has no assignment to change, and the owner holds every role. */
export class SpaceOwnerError extends Error {
  override readonly name = 'SpaceOwnerError';
  constructor(who: string, space: string) {
    super(
      `${who} owns the space ${space}; an owner can't be removed from it here, so nothing was changed. To take their access away, a Qlik admin first makes someone else the space's owner (Space settings → Owner).`,
    );
  }
}

/** The space a change is about no longer exists in Qlik (404 on the space). */
export class SpaceGoneError extends Error {
  override readonly name = 'SpaceGoneError';
  constructor(space: string) {
    super(
      `Qlik says the space ${space} no longer exists (404 Not Found), so nothing was changed. If it was renamed or re-created, file a new request naming the space as it is now.`,
    );
  }
}

/** An assignment's own URL: a 404 there means it went away after it was read, not that the space did. */
const ASSIGNMENT_PATH = /\/spaces\/[^/]+\/assignments\/[^/]+$/;

/** The space's URL or its assignments listing: a 404 there means the space is gone. */
const SPACE_PATH = /\/spaces\/[^/]+(\/assignments)?$/;

/** What to do about `err`, or undefined when it is not a failure of Qlik or of a space rule. */
export function classifySpacesError(
  err: unknown,
  subject: ErrorSubject,
  random: () => number = Math.random,
): ErrorAction | undefined {
  if (err instanceof SpaceOwnerError || err instanceof SpaceGoneError)
    return { kind: 'fail', message: err.message };
  if (err instanceof QlikError) {
    if (err.kind === 'not-found' && ASSIGNMENT_PATH.test(err.path))
      return { kind: 'retry', reason: 'the space assignment changed meanwhile', message: err.userMessage() };
    if (err.kind === 'conflict')
      return { kind: 'retry', reason: 'the space assignment changed meanwhile', message: err.userMessage() };
  }
  return classifyQlikError(err, subject, random);
}

/** The failure in words for the person who asked, or undefined when it is not this target's. */
export function describeSpacesError(err: unknown): string | undefined {
  if (err instanceof SpaceOwnerError || err instanceof SpaceGoneError) return err.message;
  return err instanceof QlikError ? err.userMessage() : undefined;
}

/** True for Qlik's 404 on a space (its URL or its assignments listing). */
export function isSpaceNotFound(err: unknown): boolean {
  return err instanceof QlikError && err.kind === 'not-found' && SPACE_PATH.test(err.path);
}
