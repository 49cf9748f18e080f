// Owns the words the Slack front says for the app's outcomes (src/app/outcomes.ts and each use case's outcome
// type): one function per outcome type, each a switch over its codes, so a new code can't go unworded (the
// typecheck says so). The sentences are plain text; the listeners escape them into messages (views.ts errorMessage,
// command.ts noticeMessage). The words the target wrote (`message` fields) are passed through.
import type {
  Doing,
  Failure,
  PrincipalRefusal,
  ResourceRefused,
  UnknownInstance,
  UnknownRole,
} from '../app/outcomes.ts';
import type { AuditOutcome } from '../app/queries/audit.ts';
import type { RoleQueryRefusal } from '../app/queries/who-has.ts';
import type { WhoisOutcome } from '../app/queries/whois.ts';
import type { CancelOutcome } from '../app/use-cases/cancel.ts';
import type { ApproveOutcome, DenyOutcome } from '../app/use-cases/decide.ts';
import type { ExtendOutcome } from '../app/use-cases/extend.ts';
import type { BreakGlassRefusal, FileOutcome } from '../app/use-cases/file-request.ts';
import type { InviteOutcome } from '../app/use-cases/invite.ts';
import type { RevokeNowOutcome } from '../app/use-cases/revoke-now.ts';
import { formatDuration } from '../domain/duration.ts';
import type { EligibilityRefusal, RequestRefusal } from '../domain/policy.ts';
import { describeTarget, type RequestState } from '../domain/request.ts';
import { plainTime } from '../domain/time.ts';
import { clip, humanDuration, truncate } from './mrkdwn.ts';

// ---- shared refusals and failures

/** What the app was doing, inside "while …". */
const DOING_WORDS: Readonly<Record<Doing, string>> = {
  filing: 'filing your request',
  extending: 'extending the grant',
  approving: 'recording your approval',
  denying: 'recording your denial',
  cancelling: 'cancelling the request',
  'revoking-now': 'queueing the revoke',
  'who-has': 'looking up who has the role',
  'building-csv': 'building the CSV',
  whois: 'looking up the roles',
  'listing-roles': 'listing the roles',
  'listing-resources': 'listing the spaces',
  'listing-members': 'listing the members of the space',
  'listing-requests': 'listing the requests',
  'reading-audit': 'reading the audit log',
  'opening-review': 'opening the review',
  'deciding-review': 'recording your decision',
  'closing-review': 'closing the review',
  'checking-drift': 'comparing the holders with what the bot granted',
};

/** Whatever was being done files a request: a store outage says nothing was filed. */
const FILING: ReadonlySet<Doing> = new Set<Doing>(['filing', 'extending']);

export const REDIS_DOWN_MESSAGE =
  "I couldn't reach my database (Redis); nothing was filed — try again in a minute.";

/** A failure: the target's or the registry's own words, Redis named as such, or an apology with the log reference. */
export function failureText(f: Failure): string {
  switch (f.code) {
    case 'target-error':
    case 'target-gone':
      return f.message;
    case 'store-unavailable':
      return FILING.has(f.doing)
        ? REDIS_DOWN_MESSAGE
        : `I couldn't reach my database (Redis) while ${DOING_WORDS[f.doing]}; try again in a minute.`;
    case 'failed':
      return `Something went wrong on my side while ${DOING_WORDS[f.doing]} (ref ${f.ref}). Try again, and tell an admin if it keeps happening.`;
  }
}

export function notFoundText(requestId: string): string {
  return `I can't find request ${requestId.toUpperCase()}. Check the id with \`/qlik requests\`.`;
}

/** `on <tenant>` named a tenant that is not configured: name the configured ones. */
export function unknownInstanceText(r: UnknownInstance): string {
  const names = r.configured;
  const configured =
    names.length === 1
      ? `the ${r.noun} is ${names[0]}`
      : `the ${r.noun}s are ${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `There is no ${r.system} ${r.noun} \`${r.instance.trim().slice(0, 40)}\` here; ${configured}.`;
}

/** ` Did you mean X or Y?` for an unknown role, or where to look when nothing is close. */
export function roleHint(s: readonly string[]): string {
  return s.length === 0
    ? ' Run `/qlik roles` to see the roles of this tenant.'
    : ` Did you mean ${s.length === 1 ? s[0] : `${s.slice(0, -1).join(', ')} or ${s.at(-1)}`}?`;
}

export function resourceRefusedText(r: ResourceRefused): string {
  const f = r.refusal;
  const system = clip(r.system, 40);
  switch (f.code) {
    case 'resource-unsupported': {
      const kind = clip(f.resourceKind, 40);
      return `This kind of ${system} access is not given in a ${kind}; leave out the \`${kind}:"…"\` part.`;
    }
    case 'resource-required': {
      const kind = clip(f.resourceKind, 40);
      return `Name the ${kind} too, e.g. \`in ${kind}:"Finance Reports"\`.`;
    }
    case 'no-such-resource': {
      const hint =
        f.suggestions.length === 0
          ? ''
          : ` Did you mean ${orList(f.suggestions.map((n) => `\`${clip(n, 80)}\``))}?`;
      return `${system} has no ${clip(f.resourceKind, 40)} named \`${clip(f.name, 120)}\`.${hint} \`/qlik spaces <text>\` lists them.`;
    }
    case 'ambiguous-resource':
      return `${system} has ${f.count} ${clip(f.resourceKind, 40)}s named \`${clip(f.name, 120)}\`, so the bot can't tell which one you mean; ask a ${system} admin to rename one.`;
    case 'not-offered': {
      const offered = f.offered.map((n) => `\`${clip(n, 40)}\``).join(', ');
      return `The ${clip(f.resource.kind, 40)} ${clip(f.resource.name, 120)} does not offer \`${clip(f.asked, 80)}\`. It offers: ${offered || 'nothing'}.`;
    }
    default:
      return `${system} refused what was asked.`;
  }
}

/** What to tell the person when `/qlik invite` (or Invite and grant) filed nothing. */
export function inviteRefusalText(o: Exclude<InviteOutcome, { code: 'filed' | 'duplicate' }>): string {
  switch (o.code) {
    case 'invites-off':
      return 'Invites are turned off in the policy (`invites.enabled: false`); ask a Qlik tenant admin to add the person.';
    case 'invites-impossible':
      return (
        `Tenant ${clip(o.instance, 40)} signs people in through its own identity provider, so Qlik can't send invitations there. ` +
        'The person appears in Qlik on their first login (or through SCIM); grant them roles after that.'
      );
    case 'invite-group':
      return `Only people are invited, not groups (${clip(o.name, 80)}): name one person by email or @mention.`;
    case 'invite-domain':
      return `The policy invites only emails at ${o.allowed.map((d) => clip(d, 60)).join(', ')}; ${clip(o.email, 120)} is not one of them.`;
    case 'has-account':
      return `${clip(o.name, 120)} (${clip(o.email, 120)}) already has a Qlik account${o.status && o.status !== 'active' ? ` (${clip(o.status, 20)})` : ''}: grant the roles with \`/qlik grant\` instead.`;
    case 'account-disabled':
      return `${clip(o.name, 120)} (${clip(o.email, 120)}) has a disabled Qlik account; an invite wouldn't change that. Ask a Qlik tenant admin to enable it.`;
    case 'invite-role-time-bound':
      return `${clip(o.role, 80)} must be granted for a limited time, and the policy gives it no longest time to use: leave it out, and grant it with \`/qlik grant … for …\` once they have joined.`;
    default:
      return fileRefusalText(o);
  }
}

/** `a`, `a or b`, `a, b or c`. */
function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

export function unknownRoleText(r: UnknownRole): string {
  return `${r.system} has no role \`${r.role}\`.${roleHint(r.suggestions)} Nothing was filed.`;
}

/** Why a `<who>` could not be mapped to a Qlik user or group. */
export function principalRefusalText(r: PrincipalRefusal): string {
  switch (r.code) {
    case 'chat-user-unknown':
      return `Slack doesn't know the user ${r.userId}. Pick the person with an @-mention, or use their email.`;
    case 'chat-user-deactivated':
      return `${r.name}'s Slack account is deactivated, so I can't map them to a Qlik user. Use their email instead if they still need Qlik access.`;
    case 'chat-user-bot':
      return `${r.name} is a bot, and bots have no Qlik account. Pick a person or a group.`;
    case 'chat-user-no-email':
      return (
        `${r.self ? 'Your' : `${r.name}'s`} Slack profile has no email I can read, so I can't find the matching Qlik user. ` +
        'Use the email instead, e.g. `/qlik grant alice@corp.example <role>`.'
      );
    case 'email-lookup-failed':
      return (
        `I couldn't ask Slack who has the email ${r.email} (${r.problem}), so I can't make sure they ` +
        "won't approve their own request. Nothing was filed; try again in a minute, or @-mention the person instead."
      );
    case 'no-such-user':
      return r.system === 'Mode'
        ? `No Mode member has the email ${r.email}: they need to join the Mode workspace first (a Mode admin invites them in Mode), then ask again.`
        : `No ${r.system} user has the email ${r.email} — ask a tenant admin to invite them first.`;
    case 'several-users':
      return `${r.count} ${r.system} users have the email ${r.email}, so I can't tell which one you mean. Ask a tenant admin to remove the duplicate.`;
    case 'no-such-group':
      return r.system === 'Mode'
        ? `Mode has no group named "${r.name}". \`/mode groups\` lists them.`
        : `${r.system} has no group named exactly "${r.name}" (group names are case-sensitive). Check the spelling in the Management Console.`;
  }
}

// ---- the policy's refusals

/** `4h`, `2d`, `90m`, `45s`: the largest unit that divides the duration evenly, as typed in a command. */
function shortDuration(ms: number): string {
  for (const [unit, size] of [
    ['w', 604_800_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.max(1, Math.ceil(ms / 1_000))}s`;
}

/** Why the policy refused a request, for the requester: what the policy wants and how to ask again. */
export function requestRefusalText(r: RequestRefusal): string {
  const role = `\`${r.role}\``;
  switch (r.code) {
    case 'not-requestable':
      return `${role} can't be ${r.action === 'grant' ? 'granted' : 'revoked'} from Slack. Ask a tenant admin to change it in the Qlik Cloud Management Console.`;
    case 'reason-required':
      return `${role} needs a reason. Add one at the end of your command: \`because <reason>\`.`;
    case 'min-duration':
      return `${role} can be granted for no less than ${formatDuration(r.minMs)}, and you asked for ${formatDuration(r.askedMs)}. Ask again with \`for ${shortDuration(r.minMs)}\` or more.`;
    case 'max-duration':
      return `${role} can be granted for at most ${formatDuration(r.maxMs)}, and you asked for ${formatDuration(r.askedMs)}. Ask again with \`for ${shortDuration(r.maxMs)}\` or less.`;
    case 'duration-required': {
      const example = r.maxMs !== undefined ? shortDuration(r.maxMs) : '4h';
      return `${role} is only granted for a limited time${r.maxMs !== undefined ? ` (at most ${formatDuration(r.maxMs)})` : ''}. Add \`for ${example}\` to your command.`;
    }
  }
}

/** `1 more approval`, `2 more approvals` (at least one: a request still pending needs one more). */
function moreApprovals(n: number): string {
  const k = Math.max(1, n);
  return `${k} more approval${k === 1 ? '' : 's'}`;
}

/** Why the policy says the clicker may not approve a request. */
export function eligibilityRefusalText(r: EligibilityRefusal): string {
  switch (r.code) {
    case 'own-request':
      return `You filed ${r.requestId}, so someone else has to approve it.`;
    case 'grants-to-clicker':
      return `${r.requestId} grants a role to you, so someone else has to approve it.`;
    case 'approved-already':
      return `You already approved ${r.requestId}; it needs ${moreApprovals(r.more)} from someone else.`;
  }
}

// ---- states

/** A request's state inside a sentence about a decision ("R-7KQ2 is already being applied"). */
const DECISION_STATE_WORDS: Readonly<Record<RequestState, string>> = {
  pending: 'pending',
  approved: 'approved',
  denied: 'denied',
  expired: 'expired',
  cancelled: 'cancelled',
  applying: 'being applied',
  applied: 'applied',
  failed: 'failed',
  'expired-revoked': 'over (expired and revoked)',
  revoked: 'revoked',
};

function decisionState(state: RequestState): string {
  return Object.hasOwn(DECISION_STATE_WORDS, state) ? DECISION_STATE_WORDS[state] : clip(String(state), 40);
}

// ---- filing

/** Why a request was not posted to the approval channel (`problem` is Slack's error code). */
export function postProblemText(problem: string): string {
  return (
    `I couldn't post it to the approval channel (${problem}), so approvers won't see it there — ` +
    'they can still find it with `/qlik requests`. Ask an admin to invite the bot to that channel.'
  );
}

/** What to tell the requester when `/qlik grant|revoke` filed nothing (a duplicate has its own message). */
export function fileRefusalText(o: Exclude<FileOutcome, { code: 'filed' | 'duplicate' }>): string {
  switch (o.code) {
    case 'unknown-instance':
      return unknownInstanceText(o);
    case 'unknown-role':
      return unknownRoleText(o);
    case 'policy-refused':
      return requestRefusalText(o.refusal);
    case 'resource-refused':
      return resourceRefusedText(o);
    case 'already-held':
      return `${holderName(o.principal)} already has ${o.role}${inResource(o.resource)} directly; nothing was filed.`;
    case 'not-held': {
      const g = o.viaGroups;
      const space = o.resource === undefined ? '' : ` in ${o.resource.kind}:"${o.resource.name}"`;
      const who = o.resource === undefined ? 'a tenant admin' : "the space's managers";
      const via =
        g.length > 0
          ? ` They get it through ${g.length === 1 ? 'group' : 'groups'} ${g.join(', ')}: revoke it from the group instead (\`/qlik revoke group:"${g[0]}" ${o.role}${space}\`), or ask ${who} to change the membership.`
          : '';
      return `${holderName(o.principal)} doesn't hold ${o.role}${inResource(o.resource)} directly, so there is nothing to revoke.${via}`;
    }
    case 'owner':
      return o.action === 'grant'
        ? `${holderName(o.principal)} owns the ${o.resource.kind} ${o.resource.name}, so they already hold every role in it; nothing was filed.`
        : `${holderName(o.principal)} owns the ${o.resource.kind} ${o.resource.name}: an owner holds every role in it and can't be removed from it here. Ask a Qlik tenant admin to change the owner first; nothing was filed.`;
    case 'disabled-user':
      return (
        `${o.name}'s Qlik account is disabled, so a role granted to it would do nothing ` +
        'until a tenant admin enables the account. Ask them to enable it first; nothing was filed.'
      );
    case 'break-glass-refused':
      return breakGlassRefusalText(o);
    case 'target-error':
    case 'target-gone':
    case 'store-unavailable':
    case 'failed':
      return failureText(o);
    default:
      return principalRefusalText(o);
  }
}

/** Why `--break-glass` was refused; nothing was filed in every case. */
export function breakGlassRefusalText(o: BreakGlassRefusal): string {
  const role = `\`${truncate(o.role, 80)}\``;
  switch (o.why) {
    case 'not-allowed':
      return `${role} has no break-glass rule in the policy, so it can't be taken without approval. File it without \`--break-glass\` for the approvers to decide; nothing was filed.`;
    case 'self-only':
      return `Break-glass is for taking ${role} yourself: use \`/qlik grant me ${truncate(o.role, 80)} … --break-glass\`. To give it to someone else, file it without \`--break-glass\`; nothing was filed.`;
    case 'not-eligible':
      return `You are not among the people the policy lets take ${role} by break-glass. File it without \`--break-glass\` for the approvers to decide; nothing was filed.`;
    case 'reason-required':
      return `A break-glass grant of ${role} needs a reason, e.g. \`because INC-1234 --break-glass\`; nothing was filed.`;
    case 'too-long':
      return `A break-glass grant of ${role} lasts at most ${humanDuration(o.maxMs ?? 0)}; ask for that or less (\`for …\`). Nothing was filed.`;
    case 'revoke':
      return 'Break-glass is for grants only; nothing was filed.';
  }
}

/** ` in space Finance Reports`, or nothing for an entitlement that is not in a resource. */
function inResource(r: { kind: string; name: string } | undefined): string {
  return r === undefined ? '' : ` in ${r.kind} ${r.name}`;
}

function holderName(p: { kind: 'user' | 'group'; name: string }): string {
  return p.kind === 'group' ? `Group ${p.name}` : p.name;
}

/** The duplicate refusal as a sentence (the command answers with duplicateRequestMessage, which shows more). */
export function duplicateText(duplicateOfId: string): string {
  return `The same request is already pending as ${duplicateOfId}; nothing new was filed.`;
}

// ---- decisions

type Undecided = Extract<ApproveOutcome, { code: 'not-found' | 'not-pending' | 'expired' | 'not-approver' }>;

function undecidedText(o: Undecided, verb: 'approve' | 'deny'): string {
  switch (o.code) {
    case 'not-found':
      return notFoundText(o.requestId);
    case 'not-pending':
      return `${o.request.id} is already ${decisionState(o.request.state)}; nothing changed.`;
    case 'expired':
      return `${o.request.id} expired before anyone decided, so you can't ${verb} it any more. The requester can file it again.`;
    case 'not-approver':
      return `You are not an approver for ${o.request.entitlement.name}, so nothing changed.`;
  }
}

/** What to tell the person who pressed Approve. */
export function approveOutcomeText(o: ApproveOutcome): string {
  switch (o.code) {
    case 'recorded':
      return `Approval recorded for ${o.request.id} (${o.request.approvals.length} of ${o.request.approvalsRequired}).`;
    case 'approved':
      return `You approved ${o.request.id}; it is being applied now.`;
    case 'already-approved':
      return `You already approved ${o.request.id}; it needs ${moreApprovals(o.request.approvalsRequired - o.request.approvals.length)} from someone else.`;
    case 'not-eligible':
      return `${eligibilityRefusalText(o.refusal)} Nothing changed.`;
    case 'profile-unreadable':
      return `I couldn't read your Slack profile (${o.problem}), so I can't check that ${o.request.id} doesn't grant a role to you. Nothing changed; try again in a minute.`;
    case 'profile-no-email':
      return `Your Slack profile has no email I can read, so I can't check that ${o.request.id} doesn't grant a role to you. Nothing changed; ask another approver.`;
    case 'grants-to-you':
      return `${o.request.id} grants a role to ${o.group === undefined ? 'you' : `group ${o.group}, and you are a member of it`}, so someone else has to approve it. Nothing changed.`;
    case 'membership-unknown': {
      const what =
        o.group === undefined
          ? `${o.request.id} grants a role to you`
          : `you are a member of group ${o.group}`;
      return `I couldn't ask ${o.system} whether ${what}, so I can't record your approval. Nothing changed; try again in a minute.`;
    }
    case 'not-found':
    case 'not-pending':
    case 'expired':
    case 'not-approver':
      return undecidedText(o, 'approve');
    default:
      return failureText(o);
  }
}

/** What to tell the person who pressed Deny. */
export function denyOutcomeText(o: DenyOutcome): string {
  switch (o.code) {
    case 'denied':
      return `You denied ${o.request.id}; the requester will be told.`;
    case 'not-found':
    case 'not-pending':
    case 'expired':
    case 'not-approver':
      return undecidedText(o, 'deny');
    default:
      return failureText(o);
  }
}

/** What to tell the person who cancelled a request, or tried to (the Cancel button and `/qlik cancel`). */
export function cancelOutcomeText(o: CancelOutcome): string {
  switch (o.code) {
    case 'cancelled':
      return `Cancelled ${o.request.id}; nothing will change in Qlik.`;
    case 'not-found':
      return notFoundText(o.requestId);
    case 'not-requester':
      return `Only the person who filed ${o.request.id} can cancel it; nothing changed.`;
    case 'not-pending':
      return `${o.request.id} is already ${decisionState(o.request.state)}, so there is nothing to cancel.`;
    case 'decided-meanwhile':
      return `${o.request.id} is already ${decisionState(o.request.state)}; nothing changed.`;
    default:
      return failureText(o);
  }
}

// ---- applied grants

/** What to tell the person who pressed Extend. */
export function extendOutcomeText(o: ExtendOutcome): string {
  switch (o.code) {
    case 'filed': {
      const orig = o.original;
      const verb = o.autoApproved
        ? 'was approved automatically and is being applied'
        : 'is waiting for approval';
      const note = o.postProblem === undefined ? '' : ` ${postProblemText(o.postProblem)}`;
      // Say what Extend does: a new grant of the same length counted from ITS approval; the end moves only then.
      const endsNow = orig.result?.revokeAt === undefined ? '' : ` (now ${plainTime(orig.result.revokeAt)})`;
      const what = ` Once it is applied, ${orig.id} ends ${humanDuration(orig.durationMs ?? 0)} after that${endsNow === '' ? '' : ` instead of at its current end${endsNow}`}; until then nothing changes.`;
      return `Extension filed as ${o.request.id}: ${o.request.entitlement.name} for ${describeTarget(o.request.target)} ${verb}.${what}${note}`;
    }
    case 'not-found':
      return notFoundText(o.requestId);
    case 'not-time-bound':
      return `${o.request.id} is not a time-bound grant, so there is nothing to extend.`;
    case 'not-applied':
      return `${o.request.id} is ${decisionState(o.request.state)}, so it can't be extended. File a new request with \`/qlik grant\`.`;
    case 'not-allowed':
      return `Only the requester, the person it was granted to, or an approver of ${o.request.entitlement.name} can extend ${o.request.id}.`;
    case 'policy-refused':
      return requestRefusalText(o.refusal);
    case 'duplicate':
      return duplicateText(o.duplicateOf.id);
    default:
      return failureText(o);
  }
}

/** What to tell the person who pressed Revoke now. */
export function revokeNowOutcomeText(o: RevokeNowOutcome): string {
  switch (o.code) {
    case 'queued':
      return `Revoking ${o.request.entitlement.name} from ${describeTarget(o.request.target)} now (${o.request.id}); the result follows in the approval thread.`;
    case 'not-found':
      return notFoundText(o.requestId);
    case 'not-a-grant':
      return `${o.request.id} is a revoke; there is nothing to revoke.`;
    case 'not-applied':
      return `${o.request.id} is ${decisionState(o.request.state)}, so there is nothing to revoke now.`;
    case 'not-allowed':
      return `Only the requester, the person it was granted to, or an approver of ${o.request.entitlement.name} can revoke ${o.request.id}; nothing changed.`;
    case 'under-way': {
      const by = o.byYou ? 'you' : o.byName === undefined ? o.by.id : `@${o.byName}`;
      return `The revoke of ${o.request.entitlement.name} from ${describeTarget(o.request.target)} (${o.request.id}) is already under way: ${by} pressed Revoke now ${plainTime(o.at)}. The result follows in the approval thread.`;
    }
    default:
      return failureText(o);
  }
}

// ---- queries

/** Why who-has (or its CSV listing) has no answer. */
export function roleQueryRefusalText(r: RoleQueryRefusal): string {
  switch (r.code) {
    case 'unknown-instance':
      return unknownInstanceText(r);
    case 'unknown-role':
      return unknownRoleText(r);
    case 'resource-refused':
      return resourceRefusedText(r);
    default:
      return failureText(r);
  }
}

/** Why whois has no answer. */
export function whoisRefusalText(r: Exclude<WhoisOutcome, { ok: true }>): string {
  switch (r.code) {
    case 'unknown-instance':
      return unknownInstanceText(r);
    case 'target-error':
    case 'target-gone':
    case 'store-unavailable':
    case 'failed':
      return failureText(r);
    default:
      return principalRefusalText(r);
  }
}

/** Why `/qlik roles` (or another query naming a tenant) has no answer. */
export function instanceRefusalText(r: UnknownInstance | Failure): string {
  return r.code === 'unknown-instance' ? unknownInstanceText(r) : failureText(r);
}

/** Why `/qlik audit` has no answer. */
/** Why `/qlik drift [<role>]` has no answer. */
export function driftRefusalText(
  r: { ok: false; code: 'not-approver' } | RoleQueryRefusal,
  role?: string,
): string {
  if (r.code === 'not-approver')
    return role === undefined
      ? 'Only approvers can see drift.'
      : `Only approvers of \`${truncate(role, 80)}\` can see which of its holders the bot did not grant.`;
  return roleQueryRefusalText(r);
}

export function auditRefusalText(r: Exclude<AuditOutcome, { ok: true }>): string {
  switch (r.code) {
    case 'not-approver':
      return 'Only approvers can read the audit log.';
    case 'unknown-role-no-events':
      return `${r.system} has no role \`${r.role}\`, and the audit log has no events for it.${roleHint(r.suggestions)}`;
    case 'unknown-instance':
      return unknownInstanceText(r);
    default:
      return failureText(r);
  }
}
