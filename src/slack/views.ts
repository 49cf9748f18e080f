// Owns what the bot says in Slack: one function per message, each returning Block Kit plus fallback text.
// Pure. Every piece of user or Qlik data goes through mrkdwn.ts (escaped, clipped) and every block through
// views/blocks.ts (Slack's limits), so no data can ping, link, or make Slack refuse a message.

import type { KnownBlock } from '@slack/types';
import type { RevokeFailureNotice } from '../app/notifier.ts';
import { failureSentence, partsSentence, resultSentence } from '../app/outcome-words.ts';
import { formatDuration } from '../domain/duration.ts';
import type { FailureRecord, StoredNote } from '../domain/outcome.ts';
import { ACCOUNT_KIND } from '../domain/policy.ts';
import {
  describeTarget,
  type RequestState,
  type RoleChangeRequest,
  samePerson,
  targetOf,
} from '../domain/request.ts';
import { plainTime } from '../domain/time.ts';
import type { AuditEvent } from '../store/audit-log.ts';
import { wordsOfKind } from '../targets/kinds.ts';
import type { HoldingsAcross, ResourceInfo, ResourceMember, ResourceMembers } from '../targets/types.ts';
import { USAGE } from './command-parser.ts';
import {
  channelRef,
  clip,
  escapeMrkdwn,
  humanDuration,
  listNames,
  mention,
  person,
  slackDate,
  truncate,
} from './mrkdwn.ts';
import {
  actions,
  button,
  context,
  divider,
  fieldSections,
  header,
  listSections,
  message,
  type SlackMessage,
  section,
  withConfirm,
} from './views/blocks.ts';
import { escalationLine } from './views/nudge.ts';

export { LIMITS, type SlackMessage, validateMessage } from './views/blocks.ts';

/** Action ids of the buttons; the Bolt listeners register these. Every button's value is the request id. */
export const ACTION_IDS = {
  approve: 'approve',
  deny: 'deny',
  cancel: 'cancel',
  revokeNow: 'revoke_now',
  extend: 'extend',
  inviteAndGrant: 'invite_and_grant',
} as const;

/** What the Invite and grant button carries: the invite the press files (checked again by the app, as typed). */
export interface InviteOffer {
  email: string;
  role: string;
  space?: string;
  tenant?: string;
}

/** Encodes an offer as a button value (short keys: Slack allows 2,000 characters). */
export function inviteOfferValue(o: InviteOffer): string {
  return JSON.stringify({
    e: o.email,
    r: o.role,
    ...(o.space === undefined ? {} : { s: o.space }),
    ...(o.tenant === undefined ? {} : { t: o.tenant }),
  });
}

/** A grant refused because the person has no Qlik account, offering to invite them with the role instead. */
export function inviteOfferMessage(text: string, offer: InviteOffer): SlackMessage {
  const t = text.trim() || 'There is no Qlik user with that email.';
  const what = offer.space === undefined ? offer.role : `${offer.role} in space ${offer.space}`;
  return message(clip(t, 1500), [
    section(`:warning: ${clip(t, 2900)}`),
    section(
      `They can be invited to Qlik, with *${clip(what, 300)}* granted once the account exists. The invite goes through approval like any request.`,
    ),
    actions(
      withConfirm(button('Invite and grant', ACTION_IDS.inviteAndGrant, inviteOfferValue(offer), 'primary'), {
        title: 'Invite to Qlik?',
        text: `This files an invite of ${truncate(offer.email, 200)} to Qlik, then ${truncate(what, 300)}, for approval.`,
        confirm: 'File the invite',
        deny: 'Cancel',
      }),
    ),
  ]);
}

type Names = Readonly<Record<string, string>>;

// ---- several Qlik tenants

/**
 * The configured Qlik tenants, the default first. Messages name a request's tenant only when there are several;
 * with one (or none given) every message is as it always was.
 */
export interface TenantLabels {
  names: readonly string[];
}

/**
 * The tenant to name in a message about `instance` (a request's target instance or a command's `on <tenant>`), or
 * undefined when only one tenant is configured. No instance, or `default`, is the default tenant.
 */
export function tenantLabel(tenants: TenantLabels | undefined, instance?: string): string | undefined {
  if (tenants === undefined || tenants.names.length < 2) return undefined;
  return instance === undefined || instance === 'default' ? tenants.names[0] : instance;
}

function requestTenant(
  req: Pick<RoleChangeRequest, 'targetRef'>,
  tenants?: TenantLabels,
): string | undefined {
  // Tenants are Qlik's: a Mode request is for the one Mode workspace, whatever Qlik tenants there are.
  if (systemOf(req) !== 'Qlik') return undefined;
  return tenantLabel(tenants, targetOf(req).instance);
}

/** The system a request is for, as people call it (`Qlik`, `Mode`). */
function systemOf(req: Pick<RoleChangeRequest, 'targetRef'>): string {
  return wordsOfKind(targetOf(req).kind).system;
}

/** `Mode group ` before a Mode group's name, `Mode ` before a Mode collection; nothing for Qlik's. */
function systemPrefix(req: Pick<RoleChangeRequest, 'targetRef'>): { entitlement: string; resource: string } {
  const system = systemOf(req);
  if (system === 'Qlik') return { entitlement: '', resource: '' };
  const inResource = targetOf(req).resource !== undefined;
  return { entitlement: inResource ? '' : `${clip(system, 20)} group `, resource: `${clip(system, 20)} ` };
}

/** ` on *dev*` (mrkdwn) after a target, or nothing with one tenant. */
function onTenant(tenant: string | undefined): string {
  return tenant === undefined ? '' : ` on *${clip(tenant, 40)}*`;
}

/** ` on dev` (plain text), or nothing with one tenant. */
function onTenantPlain(tenant: string | undefined): string {
  return tenant === undefined ? '' : ` on ${clip(tenant, 40)}`;
}

// ---- shared pieces of a request, escaped and clipped

function rid(req: Pick<RoleChangeRequest, 'id'>): string {
  return clip(req.id, 40);
}

/** The role as sentences name it: `producer in space Finance Reports` for a role in a resource. */
function roleName(req: Pick<RoleChangeRequest, 'entitlement' | 'targetRef'>): string {
  return `${systemPrefix(req).entitlement}${clip(req.entitlement.name, 120)}${inResourcePlain(req)}`;
}

function target(req: Pick<RoleChangeRequest, 'target'>): string {
  return clip(describeTarget(req.target), 300);
}

/** The short name used in sentences such as "alice already has X". */
function targetName(req: Pick<RoleChangeRequest, 'target'>): string {
  return clip(req.target.kind === 'group' ? `group ${req.target.name}` : req.target.name, 200);
}

function isTimeBound(req: Pick<RoleChangeRequest, 'action' | 'durationMs'>): boolean {
  return (
    req.action === 'grant' &&
    req.durationMs !== undefined &&
    Number.isFinite(req.durationMs) &&
    req.durationMs > 0
  );
}

/**
 * `grant *TenantAdmin* to Alice (alice@corp.example) for 4 hours`; with several tenants `… Alice (…) on *dev* for …`;
 * a space role `grant *consumer* in space *Finance Reports* to Alice …`.
 */
export function change(req: RoleChangeRequest, tenants?: TenantLabels): string {
  const on = onTenant(requestTenant(req, tenants));
  if (isInvite(req)) {
    const then = followOnList(req, (s) => `*${s}*`);
    return `invite ${target(req)} to Qlik${on}${then ? `, then grant ${then}` : ''}`;
  }
  const role = `${systemPrefix(req).entitlement}*${clip(req.entitlement.name, 120)}*${inResource(req)}`;
  if (req.action === 'revoke') return `revoke ${role} from ${target(req)}${on}`;
  const d = isTimeBound(req) ? ` for ${humanDuration(req.durationMs!)}` : '';
  return `grant ${role} to ${target(req)}${on}${d}`;
}

/** The same as plain text for fallbacks and headers (data still escaped: fallback text is parsed too). */
function changePlain(req: RoleChangeRequest, tenants?: TenantLabels): string {
  const role = `${systemPrefix(req).entitlement}${clip(req.entitlement.name, 80)}`;
  const on = onTenantPlain(requestTenant(req, tenants));
  if (isInvite(req)) {
    const then = followOnList(req, (s) => s);
    return `invite ${clip(describeTarget(req.target), 120)} to Qlik${on}${then ? `, then grant ${then}` : ''}`;
  }
  const where = inResourcePlain(req);
  if (req.action === 'revoke')
    return `revoke ${role}${where} from ${clip(describeTarget(req.target), 120)}${on}`;
  const d = isTimeBound(req) ? ` for ${humanDuration(req.durationMs!)}` : '';
  return `grant ${role}${where} to ${clip(describeTarget(req.target), 120)}${on}${d}`;
}

/** An invite: a request for the account itself (its roles follow it). */
function isInvite(req: Pick<RoleChangeRequest, 'targetRef'>): boolean {
  return targetOf(req).kind === ACCOUNT_KIND;
}

/** An invite's follow-on roles, `Steward, consumer in space Finance`, each name clipped and marked by `mark`. */
function followOnList(req: Pick<RoleChangeRequest, 'followOns'>, mark: (s: string) => string): string {
  const list = Array.isArray(req.followOns) ? req.followOns.slice(0, 12) : [];
  return list
    .map((f) => {
      const r = f.targetRef?.resource;
      return `${mark(clip(f.entitlement?.name ?? '', 80))}${r ? ` in ${clip(r.kind, 20)} ${mark(clip(r.name, 120))}` : ''}`;
    })
    .join(', ');
}

/** ` in space *Finance Reports*` for a role in a resource; nothing otherwise. */
function inResource(req: Pick<RoleChangeRequest, 'targetRef'>): string {
  const r = targetOf(req).resource;
  return r === undefined ? '' : ` in ${systemPrefix(req).resource}${clip(r.kind, 20)} *${clip(r.name, 120)}*`;
}

/** The approval message's field naming the resource (`*Space*\nFinance Reports`), when the role is in one. */
function resourceField(req: Pick<RoleChangeRequest, 'targetRef'>): string[] {
  const r = targetOf(req).resource;
  return r === undefined ? [] : [`*${capital(clip(r.kind, 20))}*\n${clip(r.name, 120)}`];
}

/** ` in Finance Reports` for a header (plain text, shown as typed). */
function headerResource(req: Pick<RoleChangeRequest, 'targetRef'>): string {
  const r = targetOf(req).resource;
  return r === undefined ? '' : ` in ${truncate(r.name, 60)}`;
}

function inResourcePlain(req: Pick<RoleChangeRequest, 'targetRef'>): string {
  const r = targetOf(req).resource;
  return r === undefined ? '' : ` in ${systemPrefix(req).resource}${clip(r.kind, 20)} ${clip(r.name, 120)}`;
}

/**
 * An extension's stored reason is "Extends R-7Q9F: <the original reason>"; it reads as
 * "extends R-7Q9F (reason: …)" so that it is neither a reason starting with a capital verb after "because"
 * nor the link said twice. Other reasons are shown as given.
 */
function extensionReason(reason: string, extendsId: string | undefined): string | undefined {
  if (!extendsId || !reason.startsWith(`Extends ${extendsId}`)) return undefined;
  const rest = reason.slice(`Extends ${extendsId}`.length).replace(/^:\s*/, '').trim();
  return `extends ${extendsId}${rest ? ` (reason: ${rest})` : ''}`;
}

export function reasonText(req: Pick<RoleChangeRequest, 'reason' | 'extends'>, max = 1500): string {
  const r = req.reason?.trim();
  if (!r) return '_No reason given._';
  const ext = extensionReason(r, req.extends);
  return clip(ext ? capital(ext) : r, max);
}

/** What the app noted at filing (the duration was the cap, the role is held through a group), for a context line. */
function notesText(req: Pick<RoleChangeRequest, 'notes' | 'entitlement' | 'target'>): string[] {
  return (req.notes ?? [])
    .slice(0, 5)
    .map((n) => noteText(req, n))
    .filter((t) => t !== undefined)
    .map((t) => `:information_source: ${t}`);
}

/** One filing note in words (mrkdwn); a sentence stored by versions before the codes is shown as it was. */
function noteText(req: Pick<RoleChangeRequest, 'entitlement' | 'target'>, n: StoredNote): string | undefined {
  if (typeof n === 'string') return clip(n, 600);
  const role = clip(req.entitlement.name, 80);
  switch (n.code) {
    case 'duration-defaulted':
      return `No \`for …\` was given, so this grant lasts ${clip(formatDuration(n.durationMs), 60)}: the most ${role} allows.`;
    case 'managers-may-approve': {
      const named = n.people.slice(0, 10).map((p) => mention(p.id));
      const more = n.unmatched > 0 ? ` (and ${n.unmatched} without a Slack account with their email)` : '';
      if (named.length === 0)
        return "The space's managers may approve too, but none of them could be found in Slack.";
      return `The space's managers may approve too: ${named.join(', ')}${more}.`;
    }
    case 'held-via-groups': {
      const one = n.groups.length === 1;
      const groups = clip(n.groups.slice(0, 20).join(', '), 300);
      return (
        `${clip(req.target.name, 120)} already gets ${role} through ${one ? 'group' : 'groups'} ${groups}; ` +
        `a direct grant keeps it if they leave ${one ? 'the group' : 'those groups'}.`
      );
    }
    default:
      return undefined; // a code from a newer version: nothing to say rather than something wrong
  }
}

/** What applying or ending the request did (plain text): its recorded outcome, or what an older version wrote. */
function resultWords(req: RoleChangeRequest): string | undefined {
  const r = req.result;
  if (r === undefined) return undefined;
  const parts =
    Array.isArray(r.parts) && r.parts.length > 0 ? ` ${partsSentence(req, r.parts, wordsOfKind)}` : '';
  const worded = r.outcome ? resultSentence(req, r.outcome, r, wordsOfKind(targetOf(req).kind)) : undefined;
  const text = (worded ? `${worded}${parts}` : r.message)?.trim();
  return text ? text : undefined;
}

/** Why the request (or its revoke) failed (plain text): the recorded cause, or what an older version wrote. */
function failureWords(
  req: RoleChangeRequest,
  failure: FailureRecord | undefined,
  legacy: string | undefined,
): string | undefined {
  const worded = failure?.cause ? failureSentence(req, failure, wordsOfKind(targetOf(req).kind)) : undefined;
  const text = (worded || legacy)?.trim();
  return text ? text : undefined;
}

function approvalsNeeded(req: RoleChangeRequest): number {
  return Math.max(1, Math.floor(Number.isFinite(req.approvalsRequired) ? req.approvalsRequired : 1));
}

function approvalsCount(req: RoleChangeRequest): string {
  return `${req.approvals.length} of ${approvalsNeeded(req)}`;
}

function approversList(req: RoleChangeRequest, names?: Names): string {
  return listNames(
    req.approvals.map((a) => `${person(a.by.id, names)} (${slackDate(a.at)})`),
    10,
  );
}

function roleList(roles: readonly string[] | undefined): string {
  if (!roles || roles.length === 0) return '_none_';
  return listNames(
    roles.map((r) => clip(r, 80)),
    30,
  );
}

const STATE_EMOJI: Readonly<Record<RequestState, string>> = {
  pending: ':hourglass_flowing_sand:',
  approved: ':white_check_mark:',
  denied: ':no_entry:',
  expired: ':alarm_clock:',
  cancelled: ':leftwards_arrow_with_hook:',
  applying: ':gear:',
  applied: ':white_check_mark:',
  failed: ':x:',
  'expired-revoked': ':hourglass:',
  revoked: ':wastebasket:',
};

function emoji(state: RequestState): string {
  return Object.hasOwn(STATE_EMOJI, state) ? STATE_EMOJI[state] : ':grey_question:';
}

/**
 * When a pending request lapses. Worded apart from a grant's end ("access ends …"), so nobody reads the
 * request's deadline as the time their access would stop.
 */
function requestExpiry(req: Pick<RoleChangeRequest, 'expiresAt'>): string {
  return `request expires if undecided ${slackDate(req.expiresAt)}`;
}

/** One line saying where the request stands, for the approval message and the lists. */
export function stateLine(req: RoleChangeRequest, names?: Names): string {
  const e = emoji(req.state);
  const byApprovers =
    req.approvals.length > 0
      ? `approved by ${approversList(req, names)}`
      : 'approved automatically by policy';
  switch (req.state) {
    case 'pending':
      return `${e} *Waiting for approval* (${approvalsCount(req)}) · ${requestExpiry(req)}`;
    case 'approved':
      return `${e} *Approved* ${byApprovers.replace(/^approved /, '')}. Queued to apply.`;
    case 'applying':
      return `${e} *Applying…* (${byApprovers})`;
    case 'applied': {
      const said = resultWords(req);
      const raw = said === undefined ? '' : clip(said, 600);
      const msg = raw === '' ? '' : ` ${raw}${/[.!?…]$/.test(raw) ? '' : '.'}`;
      const until =
        isTimeBound(req) && req.result?.revokeAt !== undefined
          ? ` Access ends ${slackDate(req.result.revokeAt)}.`
          : '';
      return `${e} *Applied*:${msg || ' done.'}${until}`;
    }
    case 'failed': {
      const why = failureWords(req, req.failure, req.error);
      return `${e} *Failed*: ${why === undefined ? 'no details were recorded.' : clip(why, 1000)}`;
    }
    case 'denied':
      return `${e} *Denied* by ${req.deniedBy ? person(req.deniedBy.id, names) : 'an approver'} ${slackDate(req.updatedAt)}${denyReason(req)}`;
    case 'expired':
      return `${e} *Expired*: nobody decided before ${slackDate(req.expiresAt)}.`;
    case 'cancelled':
      return `${e} *Cancelled* by ${person((req.cancelledBy ?? req.requester).id, names)} ${slackDate(req.updatedAt)}`;
    // The worker records what ending the grant did (removed, or left in place and why); say exactly that.
    case 'revoked':
      return `${e} *Revoked* ${slackDate(req.updatedAt)}: ${endingText(req, 'the role was removed before the grant ran out.')}`;
    case 'expired-revoked':
      return `${e} *Ended* ${slackDate(req.updatedAt)}: ${endingText(req, 'the time-bound grant ran out and the role was removed.')}`;
    default:
      return `${e} *${clip(String(req.state), 40)}*`;
  }
}

/** What ending a grant did, as the worker recorded it; the fallback only for requests without a record. */
function endingText(req: RoleChangeRequest, fallback: string): string {
  const raw = resultWords(req);
  if (!raw) return fallback;
  const msg = clip(raw, 600);
  return /[.!?…]$/.test(raw) ? msg : `${msg}.`;
}

const STATE_WORDS: Readonly<Record<RequestState, string>> = {
  pending: 'waiting for approval',
  approved: 'approved',
  denied: 'denied',
  expired: 'expired',
  cancelled: 'cancelled',
  applying: 'applying',
  applied: 'applied',
  failed: 'failed',
  'expired-revoked': 'ended (expired)',
  revoked: 'revoked',
};

function stateWord(state: RequestState): string {
  return Object.hasOwn(STATE_WORDS, state) ? STATE_WORDS[state] : clip(String(state), 40);
}

// ---- help and errors

const COMMAND_HELP: readonly [usage: string, what: string, example?: string][] = [
  ['/qlik', 'a form to ask for access, field by field (also the "Request access" shortcut)'],
  [
    USAGE.grant,
    'ask for a role; approvers decide',
    '/qlik grant @alice ManagedSpaceCreator for 4h because quarterly report',
  ],
  [USAGE.revoke, 'ask to remove a role', '/qlik revoke alice@corp.example TenantAdmin because left the team'],
  [
    'grant <who> <space-role> in space:"<space>"',
    'ask for a role in a space (consumer or "Can view", producer or "Can edit", facilitator or "Can manage", …)',
    '/qlik grant @alice "Can view" in space:"Finance Reports" for 2w',
  ],
  [
    'invite <email or @user> [with <role>,…] [in space:"<space>" as <space-role>]',
    'invite someone new to Qlik, with roles given once the account exists; approvers decide',
    '/qlik invite @new.colleague with Steward in space:"Finance Reports" as "Can view"',
  ],
  [USAGE['who-has'], 'who holds a role, or who is in a space', '/qlik who-has space:"Finance Reports"'],
  [USAGE.whois, 'the roles of a person or group (and their spaces)', '/qlik whois group:"Sales Ops"'],
  [USAGE.roles, "the tenant's roles"],
  [USAGE.spaces, 'the spaces whose name contains the text, with type and owner', '/qlik spaces finance'],
  [USAGE.requests, 'pending requests: yours, and those you can approve'],
  [USAGE.cancel, 'cancel a request of yours that is still pending', '/qlik cancel R-7KQ2'],
  [USAGE.audit, 'recent audit events (approvers only)', '/qlik audit @alice'],
  [
    USAGE.drift,
    'changes made outside the bot, or the holders of a role no request granted (approvers only)',
    '/qlik drift TenantAdmin',
  ],
  [
    USAGE.review,
    "review who holds a role: the role's approvers Keep or Revoke each holder (approvers only)",
    '/qlik review Steward',
  ],
  [USAGE.help, 'this help'],
];

/** All commands with one example each; a problem with the user's command comes first when given. */
export function helpMessage(problem?: string, usage?: string): SlackMessage {
  const blocks: KnownBlock[] = [];
  if (problem?.trim()) {
    blocks.push(section(`:warning: ${clip(problem.trim(), 1500)}`));
    if (usage?.trim()) blocks.push(section(`Usage: \`${clip(usage.trim(), 300)}\``));
    blocks.push(divider());
  }
  blocks.push(header('Qlik access: commands'));
  blocks.push(
    section(
      COMMAND_HELP.map(
        ([u, what, ex]) =>
          `\`${escapeMrkdwn(u)}\`: ${what}${ex ? `\n      e.g. \`${escapeMrkdwn(ex)}\`` : ''}`,
      ).join('\n'),
    ),
  );
  blocks.push(
    context(
      '*who*: an @mention, `me`, an email, or a Qlik group as `group:Finance` / `group:"Sales Ops"`',
      '*duration*: `30m`, `4h`, `2d`, `1w`; leave it out for a permanent grant',
      '*role*: a role of the tenant (see `/qlik roles`), or a space role with `in space:"&lt;space&gt;"`; quote names with spaces',
      '*tenant*: with several Qlik tenants, add `on &lt;tenant&gt;` after the role or space, e.g. `on dev`',
      '*Mode*: groups and collections have their own command, `/mode help`',
    ),
  );
  const text = problem?.trim()
    ? `${truncate(escapeMrkdwn(problem.trim()), 1000)} Type /qlik help to see all commands.`
    : 'Qlik access commands: grant, revoke, invite, who-has, whois, roles, spaces, requests, cancel, audit, drift, review, help.';
  return message(text, blocks);
}

/**
 * A problem with one command: what is wrong and the usage of that command, in two lines, with a pointer to the
 * full help rather than the help itself.
 */
export function usageMessage(problem: string, usage: string): SlackMessage {
  const p = problem.trim() || "I couldn't read that command.";
  const blocks: KnownBlock[] = [section(`:warning: ${clip(p, 2900)}`)];
  blocks.push(
    context(
      usage.trim() ? `Usage: \`${clip(usage.trim(), 300)}\`` : 'Usage:',
      '`/qlik help` lists every command',
    ),
  );
  return message(
    `${truncate(escapeMrkdwn(p), 1000)} Usage: ${truncate(escapeMrkdwn(usage.trim()), 300)}`,
    blocks,
  );
}

/** Something went wrong that the user should know about; `text` is written for them. */
export function errorMessage(text: string): SlackMessage {
  const t = text.trim() || 'Something went wrong.';
  return message(clip(t, 1500), [section(`:warning: ${clip(t, 2900)}`)]);
}

// ---- the approval message (posted once, then updated in place for every state)

export function approvalMessage(
  req: RoleChangeRequest,
  opts: { approverNames?: Names; notice?: string; tenants?: TenantLabels } = {},
): SlackMessage {
  const names = opts.approverNames;
  const tenant = requestTenant(req, opts.tenants);
  const invite = isInvite(req);
  const verb = invite ? 'Invite to Qlik' : req.action === 'revoke' ? 'Revoke' : 'Grant';
  const kind = invite
    ? req.entitlement.id === 'resend-invite'
      ? 'Invite again (already invited)'
      : 'Invite'
    : req.action === 'revoke'
      ? 'Revoke'
      : isTimeBound(req)
        ? `Grant for ${humanDuration(req.durationMs!)}`
        : 'Grant (permanent)';
  const blocks: KnownBlock[] = [
    header(
      invite
        ? `${verb}: request ${truncate(req.id, 20)}`
        : `${verb} ${systemPrefix(req).entitlement}${truncate(req.entitlement.name, 80)}${headerResource(req)}: request ${truncate(req.id, 20)}`,
    ),
    ...fieldSections([
      `*Requested by*\n${person(req.requester.id, names)}`,
      `*For*\n${target(req)}`,
      ...(tenant === undefined ? [] : [`*Tenant*\n${clip(tenant, 40)}`]),
      invite
        ? `*Then grant*\n${followOnList(req, (x) => x) || '_nothing more_'}`
        : `*${systemOf(req) === 'Qlik' ? 'Role' : targetOf(req).resource ? 'Access' : 'Group'}*\n${clip(req.entitlement.name, 120)}`,
      ...resourceField(req),
      `*Change*\n${kind}`,
      `*Request*\n${rid(req)}`,
      `*Filed*\n${slackDate(req.createdAt)}`,
    ]),
    section(`*Reason*\n${reasonText(req)}`),
  ];
  if (req.notes?.length) blocks.push(context(...notesText(req)));
  const links: string[] = [];
  // The reason of an extension already says which grant it extends (extensionReason); otherwise say it here.
  if (req.extends && !extensionReason(req.reason?.trim() ?? '', req.extends))
    links.push(`Extends ${clip(req.extends, 40)}`);
  if (req.revokes) links.push(`Ends the time-bound grant ${clip(req.revokes, 40)}`);
  if (links.length > 0) blocks.push(context(...links));
  // Approved and applying name the approvers in the state line already: say it once.
  const stateNamesApprovers = req.state === 'approved' || req.state === 'applying';
  if (req.state !== 'pending' && req.approvals.length > 0 && !stateNamesApprovers) {
    blocks.push(context(`Approvals: ${approvalsCount(req)}: ${approversList(req, names)}`));
  } else if (req.state === 'pending' && req.approvals.length > 0) {
    blocks.push(context(`Approved so far by ${approversList(req, names)}`));
  }
  if (req.breakGlass) {
    blocks.unshift(
      section(
        `:rotating_light: *BREAK-GLASS*: ${person(req.requester.id, names)} took this at once, without approval. Revoke it now if it was not warranted.`,
      ),
    );
  }
  blocks.push(section(stateLine(req, names)));
  if (req.escalation !== undefined && req.state === 'pending')
    blocks.push(context(escalationLine(req.escalation)));
  // Something the state alone does not say, e.g. a revoke that Qlik refused while the grant stays applied.
  if (opts.notice?.trim()) blocks.push(section(`:warning: ${clip(opts.notice.trim(), 1500)}`));
  if (req.state === 'pending') {
    blocks.push(
      actions(
        button('Approve', ACTION_IDS.approve, req.id, 'primary'),
        button('Deny', ACTION_IDS.deny, req.id, 'danger'),
        button('Deny with reason…', DENY_WITH_REASON_ACTION, req.id),
      ),
    );
  }
  // Break-glass: the approvers' way to end it is on the announcement itself, for as long as the grant lasts.
  if (req.breakGlass && req.state === 'applied' && req.action === 'grant')
    blocks.push(actions(button('Revoke now', ACTION_IDS.revokeNow, req.id, 'danger')));
  const glass = req.breakGlass ? 'BREAK-GLASS ' : '';
  return message(
    `${glass}Request ${rid(req)}: ${changePlain(req, opts.tenants)}: ${stateWord(req.state)}`,
    blocks,
  );
}

// ---- replies to the requester

/**
 * Ephemeral receipt: the request was filed and is waiting for approval. With `postProblem` (the approval message
 * could not be posted) the receipt says first, and plainly, that approvers were not notified, and why.
 */
export function requestFiledMessage(
  req: RoleChangeRequest,
  channelName?: string,
  postProblem?: string,
  tenants?: TenantLabels,
): SlackMessage {
  const where = channelName?.trim() ? ` in ${channelRef(channelName.trim())}` : '';
  const n = approvalsNeeded(req);
  const needs = `${n} approval${n === 1 ? '' : 's'}`;
  const problem = postProblem?.trim();
  const expiry = context(`${capital(requestExpiry(req))}.`, `Cancel later with \`/qlik cancel ${rid(req)}\``);
  if (problem) {
    const blocks: KnownBlock[] = [
      section(
        `:warning: *Approvers were NOT notified${where}.* Request *${rid(req)}* was filed: ${change(req, tenants)}.\n` +
          `${clip(problem, 1200)}\nIt needs ${needs}; I'll send you a DM when it is decided.`,
        button('Cancel request', ACTION_IDS.cancel, req.id),
      ),
      ...(req.notes?.length ? [context(...notesText(req))] : []),
      expiry,
    ];
    return message(
      `Approvers were NOT notified: request ${rid(req)} (${changePlain(req, tenants)}) was filed, but its approval message could not be posted.`,
      blocks,
    );
  }
  const blocks: KnownBlock[] = [
    section(
      `:inbox_tray: Request *${rid(req)}* filed: ${change(req, tenants)}.\nIt is waiting for approval${where} (needs ${needs}). ` +
        `I'll send you a DM when it is decided.`,
      button('Cancel request', ACTION_IDS.cancel, req.id),
    ),
    ...(req.notes?.length ? [context(...notesText(req))] : []),
    expiry,
  ];
  return message(`Request ${rid(req)} filed: ${changePlain(req, tenants)}. Waiting for approval.`, blocks);
}

/** Ephemeral: the same request is already pending, so nothing new was filed. */
export function duplicateRequestMessage(existing: RoleChangeRequest, tenants?: TenantLabels): SlackMessage {
  const blocks: KnownBlock[] = [
    section(
      `:repeat: The same request is already pending: *${rid(existing)}* (${change(existing, tenants)}), ` +
        `filed by ${mention(existing.requester.id)} ${slackDate(existing.createdAt)}. ` +
        `Approvals so far: ${approvalsCount(existing)}.\nNo new request was filed.`,
    ),
    context(`${capital(requestExpiry(existing))}. See \`/qlik requests\` for your pending requests.`),
  ];
  return message(
    `${rid(existing)} is already pending: ${changePlain(existing, tenants)}. No new request was filed.`,
    blocks,
  );
}

/** Ephemeral: policy approves this role automatically; it is being applied now. */
export function autoApprovedMessage(req: RoleChangeRequest, tenants?: TenantLabels): SlackMessage {
  if (req.breakGlass) {
    return message(`${rid(req)} taken by break-glass: ${changePlain(req, tenants)}. Applying it now.`, [
      section(
        `:rotating_light: *Break-glass*: request *${rid(req)}* is applied at once, without approval: ${change(req, tenants)}.\n` +
          "The approvers have been told and can revoke it at any moment; it is flagged in the audit log. I'll send you a DM with the result.",
      ),
      ...(req.notes?.length ? [context(...notesText(req))] : []),
    ]);
  }
  const blocks: KnownBlock[] = [
    section(
      `:zap: Request *${rid(req)}* was approved automatically by policy: ${change(req, tenants)}.\n` +
        `Applying it now; I'll send you a DM with the result.`,
    ),
    ...(req.notes?.length ? [context(...notesText(req))] : []),
  ];
  return message(
    `${rid(req)} approved automatically: ${changePlain(req, tenants)}. Applying it now.`,
    blocks,
  );
}

/** What a copy of a result message must show besides the request itself. */
export interface ResultOptions {
  /** The grant was extended by this request, which now decides when it ends: its buttons are gone. */
  supersededBy?: string;
  /** The configured tenants: with several, the result names the request's tenant. */
  tenants?: TenantLabels;
}

/** What the Extend button does, said before it does it (Slack shows this as the button's confirmation). */
export function extendConfirmText(req: RoleChangeRequest): string {
  const d = isTimeBound(req) ? humanDuration(req.durationMs!) : 'the same time';
  // plain_text (a confirm dialog): shown as typed, so not escaped like mrkdwn.
  return `This files a new request for ${truncate(req.entitlement.name, 80)} for ${d}, counted from when it is approved. Once it is approved and applied, the end of this grant moves to the new end; until then nothing changes.`;
}

/**
 * The outcome of applying a request, for the approval thread and the DMs. Rendered again for every copy when the
 * grant ends or is extended, so each copy shows the final state and live buttons only while they still apply.
 */
export function resultMessage(req: RoleChangeRequest, opts: ResultOptions = {}): SlackMessage {
  const blocks: KnownBlock[] = [];
  let text: string;
  const on = onTenant(requestTenant(req, opts.tenants));
  const change_ = (r: RoleChangeRequest) => change(r, opts.tenants);
  const changePlain_ = (r: RoleChangeRequest) => changePlain(r, opts.tenants);
  if (req.state === 'applied') {
    const r = req.result;
    const changed = r?.changed !== false;
    const ext = req.action === 'grant' ? r?.extended : undefined;
    let headline: string;
    if (ext !== undefined) {
      // An Extend changes no role: it moves the end. Say old → new, never "nothing changed".
      const ends = r?.revokeAt !== undefined ? ` It now ends ${slackDate(r.revokeAt)}` : '';
      const was = ext.previousEnd !== undefined ? ` (was ${slackDate(ext.previousEnd)})` : '';
      headline = `:arrows_counterclockwise: *${rid(req)}*: extended *${roleName(req)}* for ${target(req)}${on}.${ends}${was}${ends ? '.' : ''}`;
    } else if (isInvite(req)) {
      headline = changed
        ? `:envelope: *${rid(req)}*: invited ${target(req)} to Qlik${on}.`
        : `:information_source: *${rid(req)}*: ${targetName(req)} already had a Qlik account${on}; no invitation was sent.`;
    } else if (req.action === 'grant') {
      headline = changed
        ? `:white_check_mark: *${rid(req)}*: granted *${roleName(req)}* to ${target(req)}${on}.`
        : `:information_source: *${rid(req)}*: ${targetName(req)} already had *${roleName(req)}*${on}; nothing changed.`;
    } else {
      headline = changed
        ? `:white_check_mark: *${rid(req)}*: revoked *${roleName(req)}* from ${target(req)}${on}.`
        : `:information_source: *${rid(req)}*: ${targetName(req)} didn't have *${roleName(req)}* directly${on}; nothing changed.`;
    }
    const lines = [headline];
    const said = resultWords(req);
    if (said !== undefined) lines.push(clip(said, 600));
    if (r && !isInvite(req))
      lines.push(`*Roles before:* ${roleList(r.before)}\n*Roles after:* ${roleList(r.after)}`);
    blocks.push(section(lines.join('\n')));
    if (opts.supersededBy !== undefined) {
      blocks.push(
        context(
          `:arrows_counterclockwise: Extended by ${clip(opts.supersededBy, 40)}, which now decides when the role ends; see that request.`,
        ),
      );
    } else {
      if (isTimeBound(req)) {
        const ends =
          r?.revokeAt !== undefined
            ? slackDate(r.revokeAt)
            : `${humanDuration(req.durationMs!)} after it was applied`;
        blocks.push(context(`:hourglass: Time-bound: the role is removed ${ends}.`));
      }
      if (req.action === 'grant' && !isInvite(req)) {
        const buttons = [button('Revoke now', ACTION_IDS.revokeNow, req.id, 'danger')];
        if (isTimeBound(req))
          buttons.unshift(
            withConfirm(button('Extend', ACTION_IDS.extend, req.id), {
              title: `Extend ${truncate(req.id, 20)}?`,
              text: extendConfirmText(req),
              confirm: 'File the extension',
              deny: 'Cancel',
            }),
          );
        blocks.push(actions(...buttons));
      }
    }
    if (ext !== undefined) {
      const ends = r?.revokeAt !== undefined ? ` now ends ${plainTime(r.revokeAt)}` : '';
      const was = ext.previousEnd !== undefined ? ` (was ${plainTime(ext.previousEnd)})` : '';
      text = `${rid(req)} extended: ${clip(req.entitlement.name, 80)} for ${clip(describeTarget(req.target), 120)}${onTenantPlain(requestTenant(req, opts.tenants))}${ends}${was}.`;
    } else {
      text = changed
        ? `${rid(req)} applied: ${changePlain_(req)}.`
        : `${rid(req)}: nothing to change; ${changePlain_(req)} was already in place.`;
    }
  } else if (req.state === 'failed') {
    const why = failureWords(req, req.failure, req.error);
    const error = why === undefined ? 'No details were recorded.' : clip(why, 1500);
    blocks.push(section(`:x: *${rid(req)}*: couldn't ${change_(req)}.\n${error}`));
    blocks.push(
      context('Nothing was changed by this request. Fix the cause and file it again, or ask a tenant admin.'),
    );
    text = `${rid(req)} failed: couldn't ${changePlain_(req)}.`;
  } else {
    blocks.push(section(`Request *${rid(req)}* (${change_(req)}):\n${stateLine(req)}`));
    text = `${rid(req)}: ${changePlain_(req)}: ${stateWord(req.state)}.`;
  }
  return message(text, blocks);
}

/** A revoke that failed for good: said in the thread and by DM, with Qlik's words; the grant stays applied. */
export function revokeFailedMessage(
  req: RoleChangeRequest,
  failure: RevokeFailureNotice,
  tenants?: TenantLabels,
): SlackMessage {
  const why = clip(
    failureWords(req, failure.failure, failure.message) ??
      `${wordsOfKind(targetOf(req).kind).system} gave no reason.`,
    1500,
  );
  const on = onTenant(requestTenant(req, tenants));
  const what =
    failure.trigger === 'expiry'
      ? `the time-bound grant ended, but the bot couldn't remove *${roleName(req)}* from ${target(req)}${on}`
      : `couldn't revoke *${roleName(req)}* from ${target(req)}${on}`;
  const who =
    failure.trigger === 'expiry'
      ? `Revoke at the grant's end, tried ${slackDate(failure.at)}.`
      : `Revoke now pressed by ${mention(failure.actor)}; failed ${slackDate(failure.at)}.`;
  const next =
    failure.trigger === 'expiry'
      ? 'The bot tries again on its next sweep; a Qlik tenant admin can also remove the role by hand.'
      : 'Press *Revoke now* again to retry once the cause is fixed, or ask a Qlik tenant admin to remove it.';
  return message(
    `${rid(req)}: the revoke failed; ${clip(describeTarget(req.target), 120)} still has ${clip(req.entitlement.name, 80)}${onTenantPlain(requestTenant(req, tenants))}.`,
    [
      section(
        `:x: *${rid(req)}*: ${what}.\n${why}\n*${capital(targetName(req))} still has ${roleName(req)}*: the grant stays applied.`,
      ),
      context(who, next),
    ],
  );
}

/** The approval message's note while a grant's revoke has failed (the state alone says "Applied"). */
export function revokeFailedNotice(
  req: RoleChangeRequest,
  failure: Pick<RevokeFailureNotice, 'failure' | 'message' | 'at'>,
): string {
  const why = failureWords(req, failure.failure, failure.message) ?? '';
  return `The revoke failed ${slackDate(failure.at)}: ${clip(why, 600)} The role is still held; Revoke now stays available.`;
}

/** DM to the requester when their request ends without being applied: denied, expired or cancelled. */
export function decisionNotice(req: RoleChangeRequest, tenants?: TenantLabels): SlackMessage {
  let line: string;
  let text: string;
  const what = `your request *${rid(req)}* to ${change(req, tenants)}`;
  switch (req.state) {
    case 'denied':
      line = `:no_entry: ${capital(what)} was denied by ${req.deniedBy ? mention(req.deniedBy.id) : 'an approver'}.${denyReason(req)}`;
      text = `${rid(req)} was denied: ${changePlain(req, tenants)}.`;
      break;
    case 'expired':
      line = `:alarm_clock: ${capital(what)} expired: nobody decided in time. File it again if you still need it.`;
      text = `${rid(req)} expired without a decision: ${changePlain(req, tenants)}.`;
      break;
    case 'cancelled': {
      const by = req.cancelledBy;
      const byOther = by !== undefined && !samePerson(by, req.requester) ? by : undefined;
      line = `:leftwards_arrow_with_hook: ${capital(what)} was cancelled${byOther ? ` by ${mention(byOther.id)}` : ''}.`;
      text = `${rid(req)} was cancelled: ${changePlain(req, tenants)}.`;
      break;
    }
    default:
      line = `${capital(what)}: ${stateLine(req)}`;
      text = `${rid(req)}: ${stateWord(req.state)}.`;
  }
  return message(text, [
    section(line),
    context(`Filed ${slackDate(req.createdAt)} · nothing in Qlik was changed.`),
  ]);
}

/** The approver's reason for a denial, as a line of its own; nothing when there is none. */
function denyReason(req: Pick<RoleChangeRequest, 'denyReason'>): string {
  return req.denyReason?.trim() ? `\n_Reason:_ ${clip(req.denyReason.trim(), 500)}` : '';
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ---- read-only answers

export function whoHasMessage(d: {
  role: string;
  directTotal: number;
  direct: { name: string; email?: string; status?: string }[];
  viaGroupsTotal: number;
  groups: { name: string }[];
  groupsTotal: number;
  csvAttached: boolean;
  /** The Everyone group holds the role, so every user has it. */
  everyone?: boolean;
  /** The tenant asked about, when several are configured (see tenantLabel). */
  tenant?: string;
  /** The resource the role is in (a space). */
  resource?: { kind: string; name: string };
}): SlackMessage {
  const where = d.resource === undefined ? '' : ` in ${d.resource.kind} ${d.resource.name}`;
  const role = `${clip(d.role, 120)}${d.resource === undefined ? '' : ` in ${clip(d.resource.kind, 20)} ${clip(d.resource.name, 120)}`}`;
  const directTotal = Math.max(d.directTotal, d.direct.length);
  const groupsTotal = Math.max(d.groupsTotal, d.groups.length);
  const inTenant = d.tenant === undefined ? '' : ` on ${truncate(d.tenant, 40)}`;
  const blocks: KnownBlock[] = [header(`Who has ${truncate(`${d.role}${where}`, 140)}${inTenant}`)];
  if (d.everyone)
    blocks.push(
      section(`:warning: The *Everyone* group holds *${role}*, so every user of the tenant has it.`),
    );
  if (directTotal === 0 && groupsTotal === 0) {
    if (d.everyone) return message(`Everyone holds ${role}, through the Everyone group.`, blocks);
    blocks.push(section(`Nobody holds *${role}*, directly or through a group.`));
    return message(`Nobody holds ${role}.`, blocks);
  }
  const via =
    groupsTotal > 0
      ? `, and ${groupsTotal} group${groupsTotal === 1 ? '' : 's'} hold${groupsTotal === 1 ? 's' : ''} it` +
        (d.viaGroupsTotal > 0 ? ` (${d.viaGroupsTotal} people through them)` : '')
      : '';
  blocks.push(
    section(
      `*${directTotal}* ${directTotal === 1 ? 'person holds' : 'people hold'} *${role}* directly${via}.`,
    ),
  );
  if (d.direct.length > 0) {
    const shown = d.direct.slice(0, 20);
    const lines = shown.map(
      (u) => `• ${clip(u.name, 100)}${u.email ? ` (${clip(u.email, 120)})` : ''}${statusNote(u.status)}`,
    );
    blocks.push(...listSections(lines, { maxBlocks: 2, more: (n) => `…and ${n} more` }));
    if (directTotal > shown.length) {
      blocks.push(
        context(
          d.csvAttached
            ? `Showing ${shown.length} of ${directTotal}. The full list is attached as CSV.`
            : `Showing ${shown.length} of ${directTotal}.`,
        ),
      );
    }
  }
  if (d.groups.length > 0) {
    const shown = d.groups.slice(0, 30).map((g) => clip(g.name, 100));
    const hidden = groupsTotal - shown.length;
    blocks.push(section(`*Through groups:* ${shown.join(', ')}${hidden > 0 ? ` and ${hidden} more` : ''}`));
  }
  if (d.csvAttached && directTotal <= d.direct.slice(0, 20).length) {
    blocks.push(context('The full list is attached as CSV.'));
  }
  const all = d.everyone ? ' Everyone holds it through the Everyone group.' : '';
  return message(
    `${directTotal} direct holder${directTotal === 1 ? '' : 's'} of ${role}${onTenantPlain(d.tenant)}${via}.${all}`,
    blocks,
  );
}

/** ` · _disabled_` after a user who is not plainly active in Qlik; nothing for an active one. */
function statusNote(status: string | undefined): string {
  return status && status !== 'active' ? ` · _${clip(status, 20)}_` : '';
}

export function whoisMessage(d: {
  target: string;
  /** A group: there are no groups of a group to list. */
  kind?: 'user' | 'group';
  status?: string;
  direct: string[];
  viaGroups: { group: string; roles: string[] }[];
  /** The tenant asked about, when several are configured (see tenantLabel). */
  tenant?: string;
  /** Its roles in the tenant's spaces, read within a budget (src/app/queries/whois.ts). */
  resources?: HoldingsAcross | { unavailable: true; resourceKind: string };
  resourceKind?: string;
  /** `Mode`: a Mode member's groups (and collections), worded as such. */
  system?: 'Mode';
}): SlackMessage {
  const who = clip(d.target, 200);
  if (d.system === 'Mode') return modeWhoisMessage({ ...d, who });
  const inTenant = d.tenant === undefined ? '' : ` on ${truncate(d.tenant, 40)}`;
  const blocks: KnownBlock[] = [header(`Roles of ${truncate(d.target, 130)}${inTenant}`)];
  if (d.status && d.status !== 'active') {
    blocks.push(section(`:warning: The Qlik account is *${clip(d.status, 20)}*.`));
  }
  blocks.push(section(`*Direct roles:* ${roleList(d.direct)}`));
  if (d.viaGroups.length > 0) {
    blocks.push(section('*Through groups:*'));
    blocks.push(
      ...listSections(
        d.viaGroups.map((g) => `• *${clip(g.group, 100)}*: ${roleList(g.roles)}`),
        { maxBlocks: 10, more: (n) => `…and ${n} more group${n === 1 ? '' : 's'}` },
      ),
    );
  } else if (d.kind !== 'group') {
    blocks.push(context('No roles through groups.'));
  }
  if (d.resources !== undefined) blocks.push(...resourceHoldingBlocks(d.resources));
  const groupRoles = d.viaGroups.reduce((n, g) => n + g.roles.length, 0);
  const directText = `${d.direct.length} direct role${d.direct.length === 1 ? '' : 's'}`;
  const status = d.status && d.status !== 'active' ? ` (${clip(d.status, 20)} in Qlik)` : '';
  return message(
    d.kind === 'group'
      ? `${who}${onTenantPlain(d.tenant)}: ${directText}.`
      : `${who}${onTenantPlain(d.tenant)}${status}: ${directText}, ${groupRoles} through ${d.viaGroups.length} group${d.viaGroups.length === 1 ? '' : 's'}.`,
    blocks,
  );
}

/** `/mode whois`: the member's groups, their collections where they could be read, and a status that is not active. */
function modeWhoisMessage(d: {
  who: string;
  target: string;
  status?: string;
  direct: string[];
  resources?: HoldingsAcross | { unavailable: true; resourceKind: string };
  resourceKind?: string;
}): SlackMessage {
  const blocks: KnownBlock[] = [header(`Mode groups of ${truncate(d.target, 120)}`)];
  if (d.status && d.status !== 'active')
    blocks.push(section(`:warning: The Mode membership is *${clip(d.status, 20)}*.`));
  blocks.push(section(`*Groups:* ${roleList(d.direct)}`));
  if (d.resources !== undefined) blocks.push(...resourceHoldingBlocks(d.resources, 'collections'));
  return message(`${d.who}: ${d.direct.length} Mode group${d.direct.length === 1 ? '' : 's'}.`, blocks);
}

/** Whois's space part: each space and the roles held there (owned, directly, through a group), saying when partial. */
function resourceHoldingBlocks(
  r: HoldingsAcross | { unavailable: true; resourceKind: string },
  plural = 'spaces',
): KnownBlock[] {
  if ('unavailable' in r)
    return [context(`:warning: The ${clip(r.resourceKind, 20)} roles could not be read just now.`)];
  const lines = r.held.map((h) => {
    const via = h.owner
      ? ' (owner: every role)'
      : h.via === undefined
        ? ''
        : ` (through group ${clip(h.via, 100)})`;
    return `• *${clip(h.resource.name, 120)}*: ${h.owner ? '' : roleList(h.entitlements)}${via}`;
  });
  const blocks: KnownBlock[] = [section(`*In ${plural}:*`)];
  if (lines.length === 0)
    blocks.push(section(r.partial ? `_None found in the ${plural} looked at._` : '_None._'));
  else blocks.push(...listSections(lines, { maxBlocks: 10, more: (n) => `…and ${n} more` }));
  if (r.partial) {
    const one =
      plural === 'spaces'
        ? '`/qlik who-has space:"&lt;space&gt;"` answers for one space.'
        : '`/mode who-has collection:"&lt;name&gt;"` answers for one collection.';
    blocks.push(context(`Partial: looked at ${r.checked} of ${r.total} ${plural}. ${one}`));
  }
  return blocks;
}

/** `/qlik spaces [<text>]`: the spaces found, with type and owner. */
export function spacesMessage(d: {
  text?: string;
  resources: ResourceInfo[];
  total: number;
  tenant?: string;
}): SlackMessage {
  const inTenant = d.tenant === undefined ? '' : ` on ${truncate(d.tenant, 40)}`;
  const matching = d.text === undefined ? '' : ` matching “${truncate(d.text, 60)}”`;
  const blocks: KnownBlock[] = [header(`Spaces${matching}${inTenant}`)];
  if (d.resources.length === 0) {
    const none = d.text === undefined ? 'No spaces found.' : `No space name contains *${clip(d.text, 120)}*.`;
    blocks.push(section(none));
    return message(none, blocks);
  }
  const lines = d.resources.map((r) => {
    const owner = r.owner ? ` · owner ${clip(r.owner.name || r.owner.email || r.owner.id, 100)}` : '';
    return `• *${clip(r.name, 120)}*${r.type ? ` (${clip(r.type, 20)})` : ''}${owner}`;
  });
  blocks.push(...listSections(lines, { maxBlocks: 10, more: (n) => `…and ${n} more` }));
  const total = Math.max(d.total, d.resources.length);
  if (total > d.resources.length)
    blocks.push(context(`Showing ${d.resources.length} of ${total}; add text to narrow it down.`));
  blocks.push(context('Ask for a role in one with `/qlik grant me consumer in space:"&lt;space&gt;"`.'));
  return message(`${total} space${total === 1 ? '' : 's'}${onTenantPlain(d.tenant)}.`, blocks);
}

/** `/qlik who-has space:"<name>"`: the owner, then users and groups with their roles there. */
export function membersMessage(d: ResourceMembers & { tenant?: string }): SlackMessage {
  const name = clip(d.resource.name, 120);
  const inTenant = d.tenant === undefined ? '' : ` on ${truncate(d.tenant, 40)}`;
  const blocks: KnownBlock[] = [header(`Members of ${truncate(d.resource.name, 120)}${inTenant}`)];
  const type = d.resource.type
    ? ` (${clip(d.resource.type, 20)} ${clip(d.resource.kind || 'space', 20)})`
    : '';
  const owner = d.owner ? clip(d.owner.name || d.owner.email || d.owner.id, 120) : undefined;
  blocks.push(section(`*${name}*${type}${owner ? ` · owner *${owner}* (every role)` : ''}`));
  const memberLine = (m: ResourceMember) =>
    `• ${clip(describePrincipal(m.principal), 160)}: ${roleList(m.entitlements)}`;
  for (const [title, part] of [
    ['Users', d.users],
    ['Groups', d.groups],
  ] as const) {
    const total = Math.max(part.total, part.first.length);
    if (total === 0) continue;
    blocks.push(section(`*${title}* (${total})`));
    blocks.push(...listSections(part.first.map(memberLine), { maxBlocks: 5, more: (n) => `…and ${n} more` }));
    if (total > part.first.length) blocks.push(context(`Showing ${part.first.length} of ${total}.`));
  }
  const users = Math.max(d.users.total, d.users.first.length);
  const groups = Math.max(d.groups.total, d.groups.first.length);
  if (users + groups === 0) blocks.push(section(owner ? 'Nobody else is a member.' : 'Nobody is a member.'));
  return message(
    `${name}${onTenantPlain(d.tenant)}: ${users} user${users === 1 ? '' : 's'} and ${groups} group${groups === 1 ? '' : 's'}${owner ? `, owned by ${owner}` : ''}.`,
    blocks,
  );
}

function describePrincipal(p: { kind: 'user' | 'group'; name: string; email?: string }): string {
  if (p.kind === 'group') return `group ${p.name}`;
  return p.email && p.email !== p.name ? `${p.name} (${p.email})` : p.name;
}

export function rolesMessage(
  roles: { name: string; type: 'default' | 'custom'; level?: string; description?: string }[],
  /** The tenant asked about, when several are configured (see tenantLabel). */
  tenant?: string,
): SlackMessage {
  const thisTenant = tenant === undefined ? 'this tenant' : `tenant ${truncate(tenant, 40)}`;
  const blocks: KnownBlock[] = [header(`Roles in ${thisTenant}`)];
  if (roles.length === 0) {
    blocks.push(section('No roles found.'));
    return message('No roles found.', blocks);
  }
  const byName = (a: { name: string }, b: { name: string }) =>
    a.name.localeCompare(b.name, 'en', { sensitivity: 'base' });
  const line = (r: (typeof roles)[number]) =>
    `• *${clip(r.name, 100)}*${r.level ? ` (${clip(r.level, 20)})` : ''}${r.description?.trim() ? `: ${clip(r.description.trim(), 200)}` : ''}`;
  const groups: [string, typeof roles][] = [
    ['Default roles', roles.filter((r) => r.type !== 'custom').sort(byName)],
    ['Custom roles', roles.filter((r) => r.type === 'custom').sort(byName)],
  ];
  for (const [title, list] of groups) {
    if (list.length === 0) continue;
    blocks.push(section(`*${title}* (${list.length})`));
    blocks.push(...listSections(list.map(line), { maxBlocks: 20, more: (n) => `…and ${n} more` }));
  }
  blocks.push(
    context('Request one with `/qlik grant me &lt;role&gt;`; names are matched without regard to case.'),
  );
  return message(`${roles.length} role${roles.length === 1 ? '' : 's'} in ${thisTenant}.`, blocks);
}

// ---- /mode

const MODE_HELP: readonly [usage: string, what: string, example?: string][] = [
  [
    'grant <who> <group> [for <duration>] [because <reason>]',
    'ask to join a Mode group; approvers decide',
    '/mode grant @alice Analysts for 2w because Q3 report',
  ],
  [
    'revoke <who> <group> [because <reason>]',
    'ask to leave a Mode group',
    '/mode revoke bob@corp.example "Sales Ops"',
  ],
  [
    'grant|revoke <who> view|edit in collection:"<name>"',
    'access to a collection, for a person or a Mode group',
    '/mode grant group:Finance view in collection:"Revenue"',
  ],
  ['who-has <group>', "the group's members", '/mode who-has Analysts'],
  ['who-has collection:"<name>"', 'who may view or edit a collection', '/mode who-has collection:"Revenue"'],
  ['whois <who>', "a person's Mode groups"],
  ['groups', "the workspace's groups"],
  ['help', 'this help'],
];

/** `/mode help`, or a problem with a `/mode` command and its usage first. */
export function modeHelpMessage(problem?: string, usage?: string): SlackMessage {
  const blocks: KnownBlock[] = [];
  if (problem?.trim()) {
    blocks.push(section(`:warning: ${clip(problem.trim(), 1500)}`));
    if (usage?.trim()) blocks.push(section(`Usage: \`${clip(usage.trim(), 300)}\``));
    blocks.push(divider());
  }
  blocks.push(header('Mode access: commands'));
  blocks.push(
    section(
      MODE_HELP.map(
        ([u, what, ex]) =>
          `\`/mode ${escapeMrkdwn(u)}\`: ${what}${ex ? `\n      e.g. \`${escapeMrkdwn(ex)}\`` : ''}`,
      ).join('\n'),
    ),
  );
  blocks.push(
    context(
      '*who*: an @mention, `me` or an email (matched to the Mode member with that email); for a collection also a Mode group as `group:Finance`',
      '*group*: a group of the Mode workspace, its exact name in any case; quote names with spaces',
    ),
  );
  const text = problem?.trim()
    ? `${truncate(escapeMrkdwn(problem.trim()), 1000)} Type /mode help to see all commands.`
    : 'Mode access commands: grant, revoke, who-has, whois, groups, help.';
  return message(text, blocks);
}

/** `/mode` when the bot has no Mode workspace configured: exactly what to set. */
export function modeNotConfiguredMessage(): SlackMessage {
  const text =
    'Mode is not configured for this bot. An admin sets MODE_WORKSPACE (the workspace name in app.mode.com/<name>), MODE_TOKEN and MODE_SECRET (a Mode workspace API token and its secret) and restarts it; see the README, "Mode".';
  return message(escapeMrkdwn(text), [section(`:information_source: ${escapeMrkdwn(text)}`)]);
}

/** `/mode groups`: the workspace's groups, with their member counts where Mode gives them. */
export function modeGroupsMessage(groups: { name: string; description?: string }[]): SlackMessage {
  const blocks: KnownBlock[] = [header('Groups in Mode')];
  if (groups.length === 0) {
    blocks.push(section('No groups found.'));
    return message('No groups found.', blocks);
  }
  const sorted = [...groups].sort((a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }));
  const line = (g: (typeof groups)[number]) =>
    `• *${clip(g.name, 100)}*${g.description?.trim() ? `: ${clip(g.description.trim(), 200)}` : ''}`;
  blocks.push(...listSections(sorted.map(line), { maxBlocks: 20, more: (n) => `…and ${n} more` }));
  blocks.push(
    context('Ask to join one with `/mode grant me &lt;group&gt;`; names are matched without regard to case.'),
  );
  return message(`${groups.length} group${groups.length === 1 ? '' : 's'} in Mode.`, blocks);
}

const LIST_MAX = 10;

export function requestLine(req: RoleChangeRequest, tenants?: TenantLabels): string {
  return `*${rid(req)}* ${change(req, tenants)} · requested by ${mention(req.requester.id)} · ${approvalsCount(req)} approvals · ${requestExpiry(req)}`;
}

/** A request someone may decide, as the lists show it: the request, its reason, and Approve / Deny. */
/** The approval message's third button: opens a small form for the reason, which the requester is shown. */
export const DENY_WITH_REASON_ACTION = 'deny_with_reason';

export function toApproveBlocks(req: RoleChangeRequest, tenants?: TenantLabels): KnownBlock[] {
  const reason = req.reason?.trim()
    ? `\n_Reason:_ ${reasonText({ ...req, reason: req.reason.trim().replace(/\s+/g, ' ') }, 300)}`
    : '';
  return [
    section(truncate(requestLine(req, tenants), 1500) + reason),
    actions(
      button('Approve', ACTION_IDS.approve, req.id, 'primary'),
      button('Deny', ACTION_IDS.deny, req.id, 'danger'),
    ),
  ];
}

export function requestsMessage(
  d: {
    mine: RoleChangeRequest[];
    toApprove: RoleChangeRequest[];
  },
  tenants?: TenantLabels,
): SlackMessage {
  const blocks: KnownBlock[] = [header('Pending requests')];
  blocks.push(section(`*Yours* (${d.mine.length})`));
  if (d.mine.length === 0) blocks.push(context('You have no pending requests.'));
  for (const req of d.mine.slice(0, LIST_MAX)) {
    blocks.push(
      section(truncate(requestLine(req, tenants), 1500), button('Cancel', ACTION_IDS.cancel, req.id)),
    );
  }
  if (d.mine.length > LIST_MAX) blocks.push(context(`…and ${d.mine.length - LIST_MAX} more.`));
  blocks.push(divider());
  blocks.push(section(`*Waiting for your approval* (${d.toApprove.length})`));
  if (d.toApprove.length === 0) blocks.push(context('Nothing is waiting for you.'));
  for (const req of d.toApprove.slice(0, LIST_MAX)) blocks.push(...toApproveBlocks(req, tenants));
  if (d.toApprove.length > LIST_MAX) {
    blocks.push(context(`…and ${d.toApprove.length - LIST_MAX} more in the approval channel.`));
  }
  return message(
    `You have ${d.mine.length} pending request${d.mine.length === 1 ? '' : 's'}; ${d.toApprove.length} wait${d.toApprove.length === 1 ? 's' : ''} for your approval.`,
    blocks,
  );
}

/** Audit events as the store records them; the view renders them. */
export type AuditEventView = AuditEvent;

const AUDIT_MAX = 100;

/** What each recorded action reads as after the actor's name; `{id}` is the request. */
const AUDIT_VERBS: Readonly<Record<string, string>> = {
  requested: 'filed {id}',
  approved: 'approved {id}',
  denied: 'denied {id}',
  cancelled: 'cancelled {id}',
  expired: 'closed {id}, undecided when it expired',
  applying: 'started applying {id}',
  applied: 'applied {id}',
  failed: 'could not apply {id}',
  revoked: 'revoked {id}',
  'expired-revoked': 'ended {id} when its time ran out',
  'revoke-requested': 'asked to revoke {id} now',
  'revoke-failed': 'could not revoke {id}',
  // Access reviews (src/app/use-cases/review.ts): {id} is the review's id.
  'review-opened': 'opened access review {id}',
  'review-kept': 'kept a holder in access review {id}',
  'review-revoke-requested': 'asked for a revoke in access review {id}',
  'review-closed': 'closed access review {id}',
};

const AUDIT_ACTORS: Readonly<Record<string, string>> = {
  system: 'The bot',
  worker: 'The bot',
  policy: 'Policy',
};

/** One audit event as a sentence: "<date>: @frank revoked *R-EPZE* (*ManagedSpaceCreator* for Frank). Outcome: ok." */
function auditSentence(e: AuditEventView): string {
  const actor = Object.hasOwn(AUDIT_ACTORS, e.actor) ? AUDIT_ACTORS[e.actor]! : mention(e.actor);
  const id = e.requestId ? `*${clip(e.requestId, 40)}*` : 'a request';
  const verb = Object.hasOwn(AUDIT_VERBS, e.action)
    ? AUDIT_VERBS[e.action]!
    : `recorded ${clip(e.action, 60)} on {id}`;
  const role = e.role ? `*${clip(e.role, 100)}*` : '';
  const target = e.target ? clip(e.target, 150) : '';
  const what = role && target ? `${role} for ${target}` : role || target;
  return `${slackDate(e.time)}: ${actor} ${verb.replace('{id}', id)}${what ? ` (${what})` : ''}. Outcome: ${clip(e.outcome, 60)}.`;
}

/** An audit detail, with an extension's "because Extends R-…: …" read as "extends R-… (reason: …)". */
function auditDetail(detail: string): string {
  const m = /^(.*?)\bextends (R-[2-9A-HJKMNP-Z]{4,8}) because (Extends \2.*)$/.exec(detail);
  if (!m) return detail;
  return `${m[1]}${extensionReason(m[3]!, m[2])}`;
}

export function auditMessage(events: AuditEventView[]): SlackMessage {
  const blocks: KnownBlock[] = [header('Audit log')];
  if (events.length === 0) {
    blocks.push(section('No audit events match.'));
    return message('No audit events match.', blocks);
  }
  const lines = events.slice(0, AUDIT_MAX).map((e) => {
    let line = `• ${auditSentence(e)}`;
    if (e.before || e.after) line += `\n      ${roleList(e.before)} → ${roleList(e.after)}`;
    const detail = e.detail?.trim() ? auditDetail(e.detail.trim().replace(/\s+/g, ' ')) : '';
    if (detail) line += `\n      _${clip(detail, 200)}_`;
    return line;
  });
  blocks.push(...listSections(lines, { maxBlocks: 45, maxLine: 900, more: (n) => `…and ${n} more events` }));
  const hidden = events.length - Math.min(events.length, AUDIT_MAX);
  blocks.push(
    context(
      `${events.length} event${events.length === 1 ? '' : 's'}${hidden > 0 ? `; the first ${AUDIT_MAX} are listed` : ''}. ` +
        'Export everything with `npm run audit -- --since 7d --format csv`.',
    ),
  );
  return message(`${events.length} audit event${events.length === 1 ? '' : 's'}.`, blocks);
}
