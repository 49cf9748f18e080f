// Owns filing a grant or revoke (`/qlik grant|revoke`): the role and the principal are found through the access
// target, the policy is checked at this moment, what is already held is refused or noted, and the request is filed
// (with the target it is for), approved at once when the policy says so, and announced to the approvers.
import { formatDuration } from '../../domain/duration.ts';
import { approvalChannelOf, checkRequest, rolePolicy } from '../../domain/policy.ts';
import type { RequestMessage, RoleAction, RoleChangeRequest } from '../../domain/request.ts';
import type { WhoRef } from '../../slack/command-parser.ts';
import type { NewRequest } from '../../store/request-store.ts';
import type { AccessTarget } from '../../targets/types.ts';
import type { AppContext } from '../context.ts';
import { StoreUnavailableError } from '../errors.ts';
import { holds, type ResolvedTarget, type RoleRef, resolveTarget } from '../targets.ts';
import * as transitions from '../transitions.ts';
import { clipText, errSummary, type Refusal, slackError } from '../words.ts';

export interface FileInput {
  requesterId: string;
  action: RoleAction;
  who: WhoRef;
  roleName: string;
  durationMs?: number;
  reason?: string;
  /** The tenant (the target's instance) it is for, as typed (`on <tenant>`); the default one when absent. */
  instance?: string;
}

export type FileResult =
  | {
      ok: true;
      request: RoleChangeRequest;
      autoApproved: boolean;
      approvalChannel: string;
      postProblem?: string;
    }
  | { ok: false; duplicateOf: RoleChangeRequest; message: string }
  | Refusal;

/** Validates everything, files the request, announces it, and says what happened. */
export function fileRequest(ctx: AppContext, input: FileInput): Promise<FileResult> {
  return ctx.guard(
    'filing your request',
    async () => {
      const chosen = ctx.target(input.instance);
      if (!chosen.ok) return chosen;
      const target = chosen.target;
      const role = await ctx.entitlement(target, input.roleName);
      if (!role.ok) return role;
      const check = checkRequest(ctx.policy, {
        action: input.action,
        roleName: role.entitlement.name,
        tenant: target.instance,
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        ...(input.durationMs === undefined ? {} : { durationMs: input.durationMs }),
      });
      if (!check.ok) return { ok: false, message: check.message };
      const resolved = await resolveTarget(input.who, input.requesterId, {
        target,
        slack: ctx.deps.directory,
      });
      if (!resolved.ok) return resolved;
      const held = heldRefusal(input.action, resolved.target, role.entitlement);
      if (held) return held;
      if (
        input.action === 'grant' &&
        resolved.target.status === 'disabled' &&
        !check.rule.allowDisabledUsers
      ) {
        return {
          ok: false,
          message:
            `${resolved.target.principal.name}'s Qlik account is disabled, so a role granted to it would do nothing ` +
            'until a tenant admin enables the account. Ask them to enable it first; nothing was filed.',
        };
      }
      const notes = filingNotes(input.action, resolved.target, role.entitlement, check);
      return fileDraft(ctx, target, {
        action: input.action,
        target: resolved.target.principal,
        role: { id: role.entitlement.id, name: role.entitlement.name },
        requesterId: input.requesterId,
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        ...(input.action === 'grant' && check.durationMs !== undefined
          ? { durationMs: check.durationMs }
          : {}),
        ...(notes.length > 0 ? { notes } : {}),
      });
    },
    true,
  );
}

/**
 * Files a checked request for `target` (also for an Extend), approves it at once when the policy says so, announces
 * it, and only then queues an approved one's apply (so the worker finds the announcement when it reports).
 */
export async function fileDraft(
  ctx: AppContext,
  target: Pick<AccessTarget, 'kind' | 'instance'>,
  input: Omit<NewRequest, 'expiresAt' | 'approvalsRequired' | 'targetRef'>,
): Promise<FileResult> {
  const policy = ctx.policy;
  const rule = rolePolicy(policy, input.role.name, target.instance);
  const approvalChannel = approvalChannelOf(policy, target.instance);
  const now = ctx.now();
  const draft: NewRequest = {
    ...input,
    targetRef: { kind: target.kind, instance: target.instance },
    expiresAt: now + ctx.deps.requestTtlMs,
    approvalsRequired: Math.max(1, rule.approvalsRequired),
  };
  const created = await ctx.db(() =>
    transitions.file(
      ctx.transitions,
      draft,
      { actor: input.requesterId, outcome: 'pending', detail: requestDetail(draft) },
      now,
    ),
  );
  if (!created.ok) {
    return {
      ok: false,
      duplicateOf: created.duplicateOf,
      message: `The same request is already pending as ${created.duplicateOf.id}; nothing new was filed.`,
    };
  }
  let request = created.request;
  let postProblem: string | undefined;
  const announce = async (r: RoleChangeRequest): Promise<undefined> => {
    request = r;
    try {
      const ref = await ctx.deps.notifier.announce(approvalChannel, r);
      const { front } = ctx.deps.notifier;
      const message: RequestMessage = { front, kind: 'announcement', channel: ref.channel, ts: ref.ts };
      await ctx.db(() => ctx.deps.store.addMessage(r.id, message));
      request = { ...r, messages: [...(r.messages ?? []), message] };
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      ctx.log.warn({ err: errSummary(err), requestId: r.id }, 'could not post the approval message');
      postProblem =
        `I couldn't post it to the approval channel (${slackError(err)}), so approvers won't see it there — ` +
        'they can still find it with `/qlik requests`. Ask an admin to invite the bot to that channel.';
    }
    return undefined;
  };
  const approved = rule.autoApprove
    ? await ctx.db(() =>
        transitions.transition(
          ctx.transitions,
          request,
          'pending',
          'approved',
          {},
          { actor: 'policy', outcome: 'approved', detail: 'approved automatically by policy' },
          // Announce before the apply is queued, so the worker finds the approval message when it reports.
          { beforeFollowUps: announce },
        ),
      )
    : undefined;
  if (!approved?.ok) await announce(request);
  return {
    ok: true,
    request,
    autoApproved: request.state === 'approved',
    approvalChannel,
    ...(postProblem === undefined ? {} : { postProblem }),
  };
}

function heldRefusal(action: RoleAction, t: ResolvedTarget, role: RoleRef): Refusal | undefined {
  const who = t.principal.kind === 'group' ? `Group ${t.principal.name}` : t.principal.name;
  const direct = holds(t.direct, role);
  const groups = t.viaGroups.filter((g) => holds(g.roles, role)).map((g) => g.group);
  if (action === 'grant' && direct) {
    return { ok: false, message: `${who} already has ${role.name} directly; nothing was filed.` };
  }
  if (action === 'revoke' && !direct) {
    const via =
      groups.length > 0
        ? ` They get it through ${groups.length === 1 ? 'group' : 'groups'} ${groups.join(', ')}: revoke it from the group instead (\`/qlik revoke group:"${groups[0]}" ${role.name}\`), or ask a tenant admin to change the membership.`
        : '';
    return {
      ok: false,
      message: `${who} doesn't hold ${role.name} directly, so there is nothing to revoke.${via}`,
    };
  }
  return undefined;
}

/** What the requester and approvers should know about a grant beyond the change itself (see RoleChangeRequest.notes). */
function filingNotes(
  action: RoleAction,
  t: ResolvedTarget,
  role: RoleRef,
  check: { durationMs?: number; durationDefaulted?: boolean },
): string[] {
  if (action !== 'grant') return [];
  const notes: string[] = [];
  if (check.durationDefaulted && check.durationMs !== undefined) {
    notes.push(
      `No \`for …\` was given, so this grant lasts ${formatDuration(check.durationMs)}: the most ${role.name} allows.`,
    );
  }
  const groups = t.viaGroups.filter((g) => holds(g.roles, role)).map((g) => g.group);
  if (groups.length > 0) {
    const they = t.principal.name;
    notes.push(
      `${they} already gets ${role.name} through ${groups.length === 1 ? 'group' : 'groups'} ${groups.join(', ')}; ` +
        `a direct grant keeps it if they leave ${groups.length === 1 ? 'the group' : 'those groups'}.`,
    );
  }
  return notes;
}

function requestDetail(r: Pick<NewRequest, 'action' | 'durationMs' | 'reason' | 'extends'>): string {
  const parts: string[] = [r.action];
  if (r.durationMs !== undefined) parts.push(`for ${formatDuration(r.durationMs)}`);
  if (r.extends) parts.push(`extends ${r.extends}`);
  if (r.reason) parts.push(`because ${r.reason}`);
  return clipText(parts.join(' '), 600);
}
