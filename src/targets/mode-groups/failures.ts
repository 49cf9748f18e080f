// Owns how a failure while changing Mode access is handled, for both Mode targets: Mode's own refusals and what
// the bot refuses itself (a group or member the identity provider owns, a principal or group that is gone) fail at
// once with words for the requester; a rate limit comes back later (the client has already backed off); 5xx,
// network failures and timeouts are retried; a membership or permission that vanished between the read and the
// write is retried (the next attempt reads again); any other 4xx fails, in words naming Mode. Pure.
import { ModeError } from '../../mode/index.ts';
import { withJitter } from '../../retry.ts';
import { DriftError } from '../errors.ts';
import type { ErrorAction, ErrorSubject } from '../types.ts';

/** Mode sends no Retry-After, and the client has already waited 10 s and more: come back in half a minute. */
const RATE_LIMIT_DELAY_MS = 30_000;

/**
 * A change the bot will not make, with its reason for the requester: a group or member owned by the identity
 * provider (SCIM), a group asked to join a group, a principal that has left the workspace, a group or Collection
 * that is gone. Nothing was changed.
 */
export class ModeRefusal extends Error {
  override readonly name = 'ModeRefusal';
}

/** The identity provider owns the group (a truthy `managed`): a change here would be undone by the next sync. */
export function managedGroup(group: string): ModeRefusal {
  return new ModeRefusal(
    `The Mode group ${group} is managed by your identity provider (SCIM), so the bot does not change its members: a change here would be undone at the next sync. Ask your identity-provider admin to change the group there.`,
  );
}

/** The identity provider owns the member (`managed_by_scim`). */
export function scimMember(who: string): ModeRefusal {
  return new ModeRefusal(
    `${who} is managed in Mode by your identity provider (SCIM), so the bot does not change their access: a change here would be undone at the next sync. Ask your identity-provider admin to change it there.`,
  );
}

/** The member is no longer in the workspace. */
export function memberGone(who: string): ModeRefusal {
  return new ModeRefusal(
    `Mode says ${who} is no longer a member of the workspace, so nothing was changed. If they should have access, a Mode admin invites them to the workspace again; then file a new request.`,
  );
}

/** A request about a group or Collection Mode no longer has (404, or soft-deleted). */
export function resourceGone(what: string): ModeRefusal {
  return new ModeRefusal(
    `Mode says the ${what} no longer exists, so nothing was changed. If it was renamed or re-created, file a new request naming it as it is now.`,
  );
}

/** One group membership's or permission's own URL: a 404 there means it went away after it was read. */
const ITEM_PATH = /\/(memberships|permissions)\/[^/]+$/;

/** What to do about `err`, or undefined when it is not a failure of Mode or of a Mode rule. */
export function classifyModeError(
  err: unknown,
  subject: ErrorSubject,
  random: () => number = Math.random,
): ErrorAction | undefined {
  if (err instanceof ModeRefusal || err instanceof DriftError) return { kind: 'fail', message: err.message };
  if (!(err instanceof ModeError)) return undefined;
  if (err.kind === 'rate-limited')
    // A little jitter so jobs blocked together do not all come back in the same second.
    return {
      kind: 'later',
      delayMs: withJitter(RATE_LIMIT_DELAY_MS, 5_000, random),
      reason: 'Mode rate limit',
    };
  if (err.retryable) return { kind: 'retry', reason: err.message, message: err.userMessage() };
  if ((err.kind === 'not-found' && ITEM_PATH.test(err.path)) || err.kind === 'conflict')
    return {
      kind: 'retry',
      reason: `Mode's ${subject.kind === 'user' ? 'member' : 'group'} access changed meanwhile`,
      message: err.userMessage(),
    };
  return { kind: 'fail', message: err.userMessage() };
}

/** The failure in words for the person who asked, or undefined when it is not this target's. */
export function describeModeError(err: unknown): string | undefined {
  if (err instanceof ModeRefusal || err instanceof DriftError) return err.message;
  return err instanceof ModeError ? err.userMessage() : undefined;
}

/** True for Mode's 404 (the group, Collection or user asked for is not there). */
export function isModeNotFound(err: unknown): boolean {
  return err instanceof ModeError && err.kind === 'not-found';
}

/**
 * Whether a membership `state` means the member has left the workspace. Mode documents no values; removal is
 * believed to ban or deactivate (reference §3), so those words count as gone and anything else as present.
 */
export function isGoneState(state: string | undefined): boolean {
  return state !== undefined && /(deactivat|delet|remov|ban|suspend|disabled)/i.test(state);
}
