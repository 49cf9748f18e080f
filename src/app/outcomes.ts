// Owns the refusals and failures every use case and query of the app can answer with, as codes and the data a
// front needs to word them (src/slack/words.ts does, for Slack): a request id nobody has, a tenant or a role the
// target doesn't know (with the closest names), a person the chat or the target can't map to a principal, and the
// failures (the store unreachable, a target's own error, a bug with a reference for the logs). The app builds no
// sentence of its own; the only words it carries are those the target wrote (the `message` fields).

import type { RequestRefusal } from '../domain/policy.ts';
import type { EntitlementRefusal, PrincipalLookupRefusal } from '../targets/types.ts';

/** What the app was doing when a failure happened; the front says it in words ("while recording your approval"). */
export type Doing =
  | 'filing'
  | 'extending'
  | 'approving'
  | 'denying'
  | 'cancelling'
  | 'revoking-now'
  | 'who-has'
  | 'building-csv'
  | 'whois'
  | 'listing-roles'
  | 'listing-requests'
  | 'listing-resources'
  | 'listing-members'
  | 'reading-audit'
  | 'opening-review'
  | 'deciding-review'
  | 'closing-review'
  | 'checking-drift';

/** Something failed; nothing was changed. */
export type Failure =
  /** The target's own words for its error (AccessTarget.describeError), e.g. Qlik refusing the bot. */
  | { ok: false; code: 'target-error'; message: string }
  /** The request's target is no longer configured (UnknownTargetError's words, from the registry). */
  | { ok: false; code: 'target-gone'; message: string }
  /** The store (Redis) could not be reached. */
  | { ok: false; code: 'store-unavailable'; doing: Doing }
  /** Anything else: a bug; `ref` is in the log line, so an admin can find it. */
  | { ok: false; code: 'failed'; doing: Doing; ref: string };

/** No request has that id (as typed; a front shows it upper-cased). */
export interface NotFound {
  ok: false;
  code: 'not-found';
  requestId: string;
}

/** `on <instance>` named an instance of the target kind that is not configured. */
export interface UnknownInstance {
  ok: false;
  code: 'unknown-instance';
  /** As typed. */
  instance: string;
  /** The target's words: its system ("Qlik") and what an instance is called ("tenant"). */
  system: string;
  noun: string;
  /** The configured instances' names. */
  configured: readonly string[];
}

/** The target has no entitlement (role) by that name; `suggestions` are the closest names it has. */
export interface UnknownRole {
  ok: false;
  code: 'unknown-role';
  role: string;
  system: string;
  suggestions: readonly string[];
}

/**
 * What was asked does not work with the resource named (or not named): the target has no such kind of resource, or
 * needs one; no resource or several have that name; or the resource does not offer the entitlement.
 */
export interface ResourceRefused {
  ok: false;
  code: 'resource-refused';
  /** The target's system as people call it, e.g. `Qlik`. */
  system: string;
  refusal: Exclude<EntitlementRefusal, { code: 'not-found' }>;
}

/** The policy refused the request; `refusal` says why (src/domain/policy.ts checkRequest). */
export interface PolicyRefused {
  ok: false;
  code: 'policy-refused';
  refusal: RequestRefusal;
}

/** Why a `<who>` could not be turned into a principal (src/app/targets.ts resolveTarget). */
export type PrincipalRefusal =
  /** The chat has no user by that id. */
  | { ok: false; code: 'chat-user-unknown'; userId: string }
  /** The chat account is deactivated. */
  | { ok: false; code: 'chat-user-deactivated'; name: string }
  | { ok: false; code: 'chat-user-bot'; name: string }
  /** The chat profile has no readable email; `self` when it is the asker's own. */
  | { ok: false; code: 'chat-user-no-email'; name: string; self: boolean }
  /** The chat could not be asked who has the email; `problem` is its error code. Nothing was filed. */
  | { ok: false; code: 'email-lookup-failed'; email: string; problem: string }
  /** The target has no such user or group, or several users with the email; `system` is its name ("Qlik"). */
  | (PrincipalLookupRefusal & { system: string });
