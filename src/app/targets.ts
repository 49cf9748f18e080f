// Owns turning a `<who>` from a command into a principal: a Slack user by the email on their profile, an email
// directly, or a group by its exact name. The Slack side is here (deactivated Slack user, no email, bots); finding
// the user or group in the target's system is the target's (AccessTarget.resolvePrincipal). An email target is
// linked to its Slack user so the self-approval check can see it; when Slack can't be asked, filing is refused.
// A refusal is an outcome (src/app/outcomes.ts PrincipalRefusal) the front words; the target's own carry its name.
import { type PersonRef, type Principal, samePerson, type WhoRef } from '../domain/request.ts';
import type { AccessTarget, ResolvedPrincipal } from '../targets/types.ts';
import type { PrincipalRefusal } from './outcomes.ts';
import type { DirectoryPort } from './ports.ts';
import { slackError } from './words.ts';

export interface RoleRef {
  id: string;
  name: string;
}

/** A principal and the roles it holds right now, directly and through its groups. */
export interface ResolvedTarget {
  principal: Principal;
  direct: RoleRef[];
  viaGroups: { group: string; roles: RoleRef[] }[];
  /** A user's Qlik status (active, invited, disabled, provisioned…), when Qlik says. */
  status?: string;
}

export interface ResolveOptions {
  /**
   * Link an email target to its Slack user (default true). Filing needs it (the target must not approve their own
   * grant); a read-only answer such as whois does not, and then never fails because Slack can't be asked.
   */
  linkSlack?: boolean;
}

export type TargetResult = { ok: true; target: ResolvedTarget } | PrincipalRefusal;

export interface TargetLookups {
  /** The access target the principal is looked up in; its `words.system` names it in a refusal. */
  target: Pick<AccessTarget, 'resolvePrincipal' | 'words'>;
  /** The chat's directory: a chat user's profile email, and the chat user an email belongs to. */
  directory: Pick<DirectoryPort, 'lookupUser' | 'findPersonByEmail'>;
}

/** Resolves `who` (as typed by `requester`) to a Qlik user or group with its current roles. */
export async function resolveTarget(
  who: WhoRef,
  requester: PersonRef,
  deps: TargetLookups,
  opts: ResolveOptions = {},
): Promise<TargetResult> {
  switch (who.kind) {
    case 'me':
      return fromChatUser(requester, true, deps);
    case 'person':
      return fromChatUser(who.person, samePerson(who.person, requester), deps);
    case 'email': {
      if (opts.linkSlack === false) return fromEmail(who.email, undefined, deps);
      const linked = await chatPersonOfEmail(who.email, deps.directory);
      return linked.ok ? fromEmail(who.email, linked.person, deps) : linked;
    }
    case 'group':
      return fromGroup(who.name, deps);
  }
}

async function fromChatUser(person: PersonRef, self: boolean, deps: TargetLookups): Promise<TargetResult> {
  const u = await chatUserEmail(person, self, deps.directory);
  return u.ok ? fromEmail(u.email, person, deps, u.name) : u;
}

/** A chat user's profile email and name, or why there is none to use (unknown, deactivated, a bot, no email). */
export async function chatUserEmail(
  person: PersonRef,
  self: boolean,
  directory: Pick<DirectoryPort, 'lookupUser'>,
): Promise<{ ok: true; email: string; name: string } | PrincipalRefusal> {
  const u = await directory.lookupUser(person);
  switch (u.kind) {
    case 'not-found':
      return { ok: false, code: 'chat-user-unknown', userId: person.id };
    case 'deleted':
      return { ok: false, code: 'chat-user-deactivated', name: u.name };
    case 'bot':
      return { ok: false, code: 'chat-user-bot', name: u.name };
    case 'no-email':
      return { ok: false, code: 'chat-user-no-email', name: u.name, self };
    case 'ok':
      return { ok: true, email: u.email, name: u.name };
  }
}

/**
 * The chat person whose profile has this email (undefined when nobody has it), or a refusal when the chat can't be
 * asked: fail closed, since without the chat id "you can't approve a grant to yourself" could not fire at click time.
 */
export async function chatPersonOfEmail(
  email: string,
  directory: Pick<DirectoryPort, 'findPersonByEmail'>,
): Promise<{ ok: true; person?: PersonRef } | PrincipalRefusal> {
  try {
    const person = await directory.findPersonByEmail(email);
    return person === undefined ? { ok: true } : { ok: true, person };
  } catch (err) {
    return { ok: false, code: 'email-lookup-failed', email, problem: slackError(err) };
  }
}

async function fromEmail(
  email: string,
  person: PersonRef | undefined,
  deps: TargetLookups,
  slackName?: string,
): Promise<TargetResult> {
  const found = await deps.target.resolvePrincipal({
    kind: 'user',
    email,
    ...(slackName === undefined ? {} : { fallbackName: slackName }),
  });
  if (!found.ok) return { ...found, system: deps.target.words.system };
  const p = found.principal;
  const principal: Principal = { kind: 'user', id: p.id, name: p.name, email: p.email ?? email };
  if (person) principal.person = person;
  return { ok: true, target: resolved(principal, found) };
}

async function fromGroup(name: string, deps: TargetLookups): Promise<TargetResult> {
  const found = await deps.target.resolvePrincipal({ kind: 'group', name });
  if (!found.ok) return { ...found, system: deps.target.words.system };
  return {
    ok: true,
    target: resolved({ kind: 'group', id: found.principal.id, name: found.principal.name }, found),
  };
}

function resolved(principal: Principal, found: ResolvedPrincipal): ResolvedTarget {
  return {
    principal,
    ...(found.status ? { status: found.status } : {}),
    direct: found.holdings.direct.map(ref),
    viaGroups: found.holdings.inherited.map((g) => ({ group: g.via, roles: g.entitlements.map(ref) })),
  };
}

function ref(r: { id: string; name: string }): RoleRef {
  return { id: r.id, name: r.name };
}

/** True when `roles` holds the role (by id, or by name ignoring case when ids differ across listings). */
export function holds(roles: readonly RoleRef[], role: RoleRef): boolean {
  const name = role.name.toLowerCase();
  return roles.some((r) => r.id === role.id || r.name.toLowerCase() === name);
}
