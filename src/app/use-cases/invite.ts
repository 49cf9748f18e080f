// Owns filing an invite (`/qlik invite <email or @user> [with <role>,…] [in space:"…" as <space-role>]`, and the
// Invite and grant button): the first step of onboarding. Everything is checked before anything is filed: invites
// are allowed by the policy and possible on the tenant (Qlik Account logins, not its own identity provider), the
// email's domain is allowed, the person has no active Qlik account yet (an invited one gets the invitation again),
// and each role and the space role exist and may be granted this way. One request is filed, for the account; the
// roles follow it once the account exists (RoleChangeRequest.followOns), under the same approval.
import { ACCOUNT_KIND, checkRequest, inviteDomainAllowed, type RequestRefusal } from '../../domain/policy.ts';
import {
  type FollowOn,
  type PersonRef,
  type Principal,
  samePerson,
  type WhoRef,
} from '../../domain/request.ts';
import { INVITE, QlikAccountTarget, RESEND_INVITE } from '../../targets/qlik-account/target.ts';
import type { AccessTarget } from '../../targets/types.ts';
import type { AppContext } from '../context.ts';
import type {
  Failure,
  PolicyRefused,
  PrincipalRefusal,
  ResourceRefused,
  UnknownInstance,
  UnknownRole,
} from '../outcomes.ts';
import { chatPersonOfEmail, chatUserEmail } from '../targets.ts';
import { type FiledOutcome, fileDraft } from './file-request.ts';

export interface InviteInput {
  requester: PersonRef;
  /** A person on the chat (their profile's email), or an email. */
  who: WhoRef;
  /** Tenant roles to grant once the account exists, as typed. */
  roleNames: readonly string[];
  /** A space role to grant in a space once the account exists, as typed. */
  space?: { name: string; role: string };
  reason?: string;
  /** The tenant, as typed (`on <tenant>`); the default one when absent. */
  instance?: string;
}

export type InviteRefusal =
  /** The policy turns invites off (`invites.enabled: false`). */
  | { ok: false; code: 'invites-off' }
  /** The tenant signs people in through its own identity provider: Qlik cannot invite there. */
  | { ok: false; code: 'invites-impossible'; instance: string }
  /** An invite names a group: only people are invited. */
  | { ok: false; code: 'invite-group'; name: string }
  /** The email's domain is not among the policy's `invites.allowedDomains`. */
  | { ok: false; code: 'invite-domain'; email: string; allowed: readonly string[] }
  /** The person already has an active (or otherwise usable) Qlik account: grant roles instead. */
  | { ok: false; code: 'has-account'; email: string; name: string; status?: string }
  /** The person's Qlik account is disabled: a tenant admin must enable it, an invite would not. */
  | { ok: false; code: 'account-disabled'; email: string; name: string }
  /** A role that must be time-bound cannot follow an invite (those are permanent): grant it on its own later. */
  | { ok: false; code: 'invite-role-time-bound'; role: string };

export type InviteOutcome =
  | FiledOutcome
  | InviteRefusal
  | UnknownInstance
  | UnknownRole
  | ResourceRefused
  | PolicyRefused
  | PrincipalRefusal
  | Failure;

/** Validates everything, files the invite request, announces it, and says what happened. */
export function fileInvite(ctx: AppContext, input: InviteInput): Promise<InviteOutcome> {
  return ctx.guard('filing', async (): Promise<InviteOutcome> => {
    const policy = ctx.policy;
    if (!policy.invites.enabled) return { ok: false, code: 'invites-off' };
    const chosen = ctx.target(input.instance);
    if (!chosen.ok) return chosen;
    const roles = chosen.target;
    // No account target for the tenant: the registry's own error (it says the bot is not configured for it).
    const account =
      accountTargetOf(ctx, roles.instance) ??
      ctx.deps.targets.get({ kind: ACCOUNT_KIND, instance: roles.instance });
    if (!invitesPossible(account)) return { ok: false, code: 'invites-impossible', instance: roles.instance };
    const rule = policy.invites.rule;
    const refusal = inviteRuleRefusal(rule, input.reason);
    if (refusal) return { ok: false, code: 'policy-refused', refusal };

    const person = await personOf(ctx, input.who, input.requester);
    if (!person.ok) return person;
    const { email } = person;
    if (!inviteDomainAllowed(policy, email))
      return { ok: false, code: 'invite-domain', email, allowed: policy.invites.allowedDomains ?? [] };

    // The follow-ons are checked as grants of their own would be: they exist, may be requested, and how long.
    const followOns: FollowOn[] = [];
    for (const name of input.roleNames) {
      const role = await ctx.entitlement(roles, name);
      if (!role.ok) return role;
      const checked = followOnCheck(ctx, role.entitlement.name, roles.instance, input.reason);
      if (!checked.ok) return checked;
      followOns.push({
        targetRef: { kind: roles.kind, instance: roles.instance },
        entitlement: role.entitlement,
        ...(checked.durationMs === undefined ? {} : { durationMs: checked.durationMs }),
      });
    }
    if (input.space !== undefined) {
      const spaces = ctx.target(input.instance, 'space');
      if (!spaces.ok) return spaces;
      const role = await ctx.entitlement(spaces.target, input.space.role, {
        kind: 'space',
        name: input.space.name,
      });
      if (!role.ok) return role;
      const resource = role.entitlement.resource;
      const checked = followOnCheck(ctx, role.entitlement.name, roles.instance, input.reason, resource?.name);
      if (!checked.ok) return checked;
      followOns.push({
        ...(checked.durationMs === undefined ? {} : { durationMs: checked.durationMs }),
        targetRef: {
          kind: spaces.target.kind,
          instance: spaces.target.instance,
          ...(resource === undefined ? {} : { resource }),
        },
        entitlement: { id: role.entitlement.id, name: role.entitlement.name },
      });
    }

    // Someone Qlik already knows: an active account needs roles, not an invite; an invited one gets it again.
    const known = await account.resolvePrincipal({ kind: 'user', email });
    let resend = false;
    let existingId: string | undefined;
    if (known.ok) {
      const name = known.principal.name;
      if (known.status === 'disabled') return { ok: false, code: 'account-disabled', email, name };
      if (known.status !== 'invited')
        return {
          ok: false,
          code: 'has-account',
          email,
          name,
          ...(known.status ? { status: known.status } : {}),
        };
      resend = true;
      existingId = known.principal.id;
    } else if (known.code !== 'no-such-user') {
      return { ...known, system: account.words.system };
    }

    const principal: Principal = {
      kind: 'user',
      // Until Qlik gives the account its id, the invite is known by its email (its dedupe and lock keys too).
      id: existingId ?? `invite:${email.toLowerCase()}`,
      name: person.name ?? email,
      email,
      ...(person.person ? { person: person.person } : {}),
    };
    return fileDraft(ctx, account, {
      action: 'grant',
      target: principal,
      entitlement: resend ? RESEND_INVITE : INVITE,
      requester: input.requester,
      ...(input.reason === undefined ? {} : { reason: input.reason }),
      ...(followOns.length > 0 ? { followOns } : {}),
    });
  });
}

/** The invite rule's own refusals (the invite itself has no role and no duration). */
function inviteRuleRefusal(
  rule: { requestable: boolean; reasonRequired: boolean },
  reason: string | undefined,
): RequestRefusal | undefined {
  if (!rule.requestable) return { ok: false, code: 'not-requestable', role: 'invite', action: 'grant' };
  if (rule.reasonRequired && !reason?.trim()) return { ok: false, code: 'reason-required', role: 'invite' };
  return undefined;
}

/**
 * A follow-on grant must be requestable and have the reason its rule wants (the invite's). A role with a cap is
 * granted for the cap, as a grant without `for …` is (its own request, approved with the invite, ends on time); a
 * role that must be time-bound but has no cap can't follow an invite.
 */
function followOnCheck(
  ctx: AppContext,
  role: string,
  tenant: string,
  reason: string | undefined,
  space?: string,
): { ok: true; durationMs?: number } | PolicyRefused | InviteRefusal {
  const check = checkRequest(ctx.policy, {
    action: 'grant',
    roleName: role,
    tenant,
    ...(reason === undefined ? {} : { reason }),
    ...(space === undefined ? {} : { space }),
  });
  if (!check.ok) {
    if (check.code === 'duration-required' && check.maxMs !== undefined)
      return { ok: true, durationMs: check.maxMs };
    if (check.code === 'duration-required') return { ok: false, code: 'invite-role-time-bound', role };
    return { ok: false, code: 'policy-refused', refusal: check };
  }
  return check.durationMs === undefined ? { ok: true } : { ok: true, durationMs: check.durationMs };
}

/** The email an invite goes to, the person's name where the chat knows it, and their chat identity. */
async function personOf(
  ctx: AppContext,
  who: WhoRef,
  requester: PersonRef,
): Promise<
  | { ok: true; email: string; name?: string; person?: PersonRef }
  | PrincipalRefusal
  | Extract<InviteRefusal, { code: 'invite-group' }>
> {
  if (who.kind === 'group') return { ok: false, code: 'invite-group', name: who.name };
  if (who.kind === 'email') {
    // Fail closed, as for grants: without the chat id the invitee could approve their own invite.
    const linked = await chatPersonOfEmail(who.email, ctx.deps.directory);
    if (!linked.ok) return linked;
    return { ok: true, email: who.email, ...(linked.person ? { person: linked.person } : {}) };
  }
  const person = who.kind === 'me' ? requester : who.person;
  const u = await chatUserEmail(person, samePerson(person, requester), ctx.deps.directory);
  return u.ok ? { ok: true, email: u.email, name: u.name, person } : u;
}

/** The account target of the tenant `roles` is on, when one is configured. */
export function accountTargetOf(ctx: AppContext, instance: string): AccessTarget | undefined {
  return ctx.deps.targets.list().find((t) => t.kind === ACCOUNT_KIND && t.instance === instance);
}

/** Whether Qlik can send invitations through this account target: not on a tenant with its own identity provider. */
export function invitesPossible(account: AccessTarget): boolean {
  return !(account instanceof QlikAccountTarget && account.identityProvider === 'custom');
}
