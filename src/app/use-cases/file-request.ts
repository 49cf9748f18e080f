// Owns filing a grant or revoke (`/qlik grant|revoke`): the role and the principal are found through the access
// target, the policy is checked at this moment, what is already held is refused or noted, and the request is filed
// (with the target it is for), approved at once when the policy says so, and announced to the approvers. It answers
// with an outcome (a code and the data the words need) that the front words (src/slack/words.ts).
import { formatDuration } from '../../domain/duration.ts';
import type { FilingNote } from '../../domain/outcome.ts';
import {
  approvalChannelOf,
  type CheckedRequest,
  checkRequest,
  type RolePolicy,
  requestRule,
  splitApprovers,
} from '../../domain/policy.ts';
import {
  announcementOf,
  type PersonRef,
  personKey,
  principalRefOf,
  type RequestMessage,
  type ResourceRef,
  type RoleAction,
  type RoleChangeRequest,
  samePerson,
  type WhoRef,
} from '../../domain/request.ts';
import { scheduleNudges } from '../../queue/queues.ts';
import type { NewRequest } from '../../store/request-store.ts';
import type { AccessTarget } from '../../targets/types.ts';
import type { AppContext } from '../context.ts';
import { StoreUnavailableError } from '../errors.ts';
import type {
  Failure,
  PolicyRefused,
  PrincipalRefusal,
  ResourceRefused,
  UnknownInstance,
  UnknownRole,
} from '../outcomes.ts';
import { holds, type ResolvedTarget, type RoleRef, resolveTarget } from '../targets.ts';
import * as transitions from '../transitions.ts';
import { clipText, errSummary, slackError } from '../words.ts';

export interface FileInput {
  /** Who files it. */
  requester: PersonRef;
  action: RoleAction;
  who: WhoRef;
  roleName: string;
  durationMs?: number;
  reason?: string;
  /** The tenant (the target's instance) it is for, as typed (`on <tenant>`); the default one when absent. */
  instance?: string;
  /** The resource the role is in, as typed (`in space:"<name>"`): the target with that kind of resource takes it. */
  resource?: { kind: string; name: string };
  /** The kind of access asked for (`mode-groups` from /mode); tenant roles when absent. */
  kind?: string;
  /** `--break-glass`: take the role at once under its break-glass rule (a grant to oneself, time-bound). */
  breakGlass?: boolean;
}

/**
 * Why a break-glass grant was refused: the role has no break-glass rule, it is not for oneself, the person is not
 * among those the rule lets take it, it has no reason when the rule wants one, or it asks for longer than the rule's cap.
 */
export type BreakGlassRefusal = {
  ok: false;
  code: 'break-glass-refused';
  role: string;
  why: 'not-allowed' | 'self-only' | 'not-eligible' | 'reason-required' | 'too-long' | 'revoke';
  maxMs?: number;
};

/** The principal a refusal about holdings is for, as the words name it. */
export interface HolderRef {
  kind: 'user' | 'group';
  name: string;
}

/** What filing a checked request came to (fileDraft; an Extend files one too). */
export type FiledOutcome =
  /**
   * Filed (approved at once when `autoApproved`) and announced in `approvalChannel`; `postProblem` is the chat's
   * error code when the announcement could not be posted there.
   */
  | {
      ok: true;
      code: 'filed';
      request: RoleChangeRequest;
      autoApproved: boolean;
      approvalChannel: string;
      postProblem?: string;
    }
  /** The same request is already pending; nothing new was filed. */
  | { ok: false; code: 'duplicate'; duplicateOf: RoleChangeRequest };

export type FileOutcome =
  | FiledOutcome
  | UnknownInstance
  | UnknownRole
  | ResourceRefused
  | PolicyRefused
  | PrincipalRefusal
  /** A grant of a role the principal holds directly already (in `resource`, for a role in one). */
  | { ok: false; code: 'already-held'; principal: HolderRef; role: string; resource?: ResourceRef }
  /** A revoke of a role the principal doesn't hold directly; `viaGroups` are the groups it gets it through. */
  | {
      ok: false;
      code: 'not-held';
      principal: HolderRef;
      role: string;
      viaGroups: readonly string[];
      resource?: ResourceRef;
    }
  /** A grant to a user whose account in the target is disabled (and the policy doesn't allow it). */
  | { ok: false; code: 'disabled-user'; name: string }
  /** A grant or revoke of a role in a resource the principal owns (owners hold every role there, unassigned). */
  | { ok: false; code: 'owner'; action: RoleAction; principal: HolderRef; resource: ResourceRef }
  | BreakGlassRefusal
  | Failure;

/** Validates everything, files the request, announces it, and says what happened. */
export function fileRequest(ctx: AppContext, input: FileInput): Promise<FileOutcome> {
  return ctx.guard('filing', async (): Promise<FileOutcome> => {
    const chosen = ctx.target(input.instance, input.resource?.kind, input.kind);
    if (!chosen.ok) return chosen;
    const target = chosen.target;
    const role = await ctx.entitlement(target, input.roleName, input.resource);
    if (!role.ok) return role;
    const resource = role.entitlement.resource;
    const glass = input.breakGlass ? await breakGlassCheck(ctx, target, role.entitlement, input) : undefined;
    if (glass !== undefined && !glass.ok) return glass;
    const check =
      glass ??
      checkRequest(ctx.policy, {
        action: input.action,
        roleName: role.entitlement.name,
        tenant: target.instance,
        kind: target.kind,
        ...(resource === undefined ? {} : { space: resource.name }),
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        ...(input.durationMs === undefined ? {} : { durationMs: input.durationMs }),
      });
    if (!check.ok) return { ok: false, code: 'policy-refused', refusal: check };
    const resolved = await resolveTarget(input.who, input.requester, {
      target,
      directory: ctx.deps.directory,
    });
    if (!resolved.ok) return resolved;
    if (resource !== undefined) {
      // What the principal holds in that resource, read fresh: the lookup's holdings are the tenant's.
      const inResource = await target.readHoldings(principalRefOf(resolved.target.principal), resource);
      if (inResource.owner) {
        const p = resolved.target.principal;
        return {
          ok: false,
          code: 'owner',
          action: input.action,
          principal: { kind: p.kind, name: p.name },
          resource,
        };
      }
      resolved.target.direct = inResource.direct.map((e) => ({ id: e.id, name: e.name }));
      resolved.target.viaGroups = inResource.inherited.map((g) => ({
        group: g.via,
        roles: g.entitlements.map((e) => ({ id: e.id, name: e.name })),
      }));
    }
    const held = heldRefusal(input.action, resolved.target, role.entitlement, resource);
    if (held) return held;
    if (input.action === 'grant' && resolved.target.status === 'disabled' && !check.rule.allowDisabledUsers) {
      return { ok: false, code: 'disabled-user', name: resolved.target.principal.name };
    }
    const notes = filingNotes(input.action, resolved.target, role.entitlement, check);
    if (resource !== undefined && check.rule.managersApprove) {
      const managers = await managersNote(ctx, target, resource, input.requester);
      if (managers) notes.push(managers);
    }
    return fileDraft(
      ctx,
      target,
      {
        action: input.action,
        target: resolved.target.principal,
        entitlement: { id: role.entitlement.id, name: role.entitlement.name },
        requester: input.requester,
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        ...(input.action === 'grant' && check.durationMs !== undefined
          ? { durationMs: check.durationMs }
          : {}),
        ...(notes.length > 0 ? { notes } : {}),
        ...(glass === undefined ? {} : { breakGlass: true as const }),
      },
      resource,
    );
  });
}

/**
 * Policy `approverDms`: each approver (the Slack users the rule lists; user groups are not expanded) but the
 * requester gets a copy of the announcement by DM, recorded among the request's messages so every later refresh
 * updates it too. A copy the chat refuses is logged and left out: the channel's announcement is the one that counts.
 */
async function copyToApprovers(
  ctx: AppContext,
  r: RoleChangeRequest,
  rule: Pick<RolePolicy, 'approvers'>,
): Promise<RequestMessage[]> {
  const { front } = ctx.deps.notifier;
  const out: RequestMessage[] = [];
  for (const id of splitApprovers(rule.approvers).users) {
    const approver: PersonRef = { front, id };
    if (samePerson(approver, r.requester)) continue;
    try {
      const ref = await ctx.deps.notifier.copyTo(approver, r);
      const copy: RequestMessage = {
        front,
        kind: 'approval-copy',
        recipient: id,
        channel: ref.channel,
        ts: ref.ts,
      };
      await ctx.db(() => ctx.deps.store.addMessage(r.id, copy));
      out.push(copy);
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      ctx.log.warn(
        { err: errSummary(err), requestId: r.id },
        'could not send an approver a copy of the request',
      );
    }
  }
  return out;
}

/**
 * The role's break-glass rule applied to a grant asked for with `--break-glass`: the checked request (its rule and
 * duration: as asked, or the rule's cap; never permanent), or why it is refused. It replaces the normal checks of
 * approvals, reason and duration, which the break-glass rule sets for itself.
 */
async function breakGlassCheck(
  ctx: AppContext,
  target: Pick<AccessTarget, 'kind' | 'instance'>,
  entitlement: { name: string; resource?: ResourceRef },
  input: FileInput,
): Promise<CheckedRequest | BreakGlassRefusal> {
  const refuse = (why: BreakGlassRefusal['why'], maxMs?: number): BreakGlassRefusal => ({
    ok: false,
    code: 'break-glass-refused',
    role: entitlement.name,
    why,
    ...(maxMs === undefined ? {} : { maxMs }),
  });
  if (input.action !== 'grant') return refuse('revoke');
  const rule = requestRule(ctx.policy, {
    kind: target.kind,
    entitlement: entitlement.name,
    tenant: target.instance,
    ...(entitlement.resource === undefined ? {} : { space: entitlement.resource.name }),
  });
  const glass = rule.breakGlass;
  if (glass === undefined) return refuse('not-allowed');
  const self =
    input.who.kind === 'me' || (input.who.kind === 'person' && samePerson(input.who.person, input.requester));
  if (!self) return refuse('self-only');
  if (!(await ctx.deps.directory.isInAny(input.requester, glass.who))) return refuse('not-eligible');
  if (glass.reasonRequired && !input.reason?.trim()) return refuse('reason-required');
  if (input.durationMs !== undefined && input.durationMs > glass.maxDurationMs)
    return refuse('too-long', glass.maxDurationMs);
  return {
    ok: true,
    rule,
    durationMs: input.durationMs ?? glass.maxDurationMs,
    ...(input.durationMs === undefined ? { durationDefaulted: true } : {}),
  };
}

/**
 * When a request filed at `now` under `rule` reminds its approvers and escalates: each only if the rule asks for it
 * and before the request expires; none for a rule that approves by itself.
 */
export function nudgesOf(
  rule: Pick<RolePolicy, 'remindAfterMs' | 'escalateAfterMs' | 'autoApprove' | 'fallbackApprovers'>,
  now: number,
  expiresAt: number,
): RoleChangeRequest['nudges'] {
  if (rule.autoApprove) return undefined;
  const remindAt = rule.remindAfterMs > 0 ? now + rule.remindAfterMs : undefined;
  const escalateAt =
    rule.escalateAfterMs > 0 && rule.fallbackApprovers.length > 0 ? now + rule.escalateAfterMs : undefined;
  const out: NonNullable<RoleChangeRequest['nudges']> = {};
  if (remindAt !== undefined && remindAt < expiresAt) out.remindAt = remindAt;
  if (escalateAt !== undefined && escalateAt < expiresAt) out.escalateAt = escalateAt;
  return out.remindAt === undefined && out.escalateAt === undefined ? undefined : out;
}

/**
 * Files a checked request for `target` (also for an Extend), approves it at once when the policy says so, announces
 * it, and only then queues an approved one's apply (so the worker finds the announcement when it reports).
 */
export async function fileDraft(
  ctx: AppContext,
  target: Pick<AccessTarget, 'kind' | 'instance'>,
  input: Omit<NewRequest, 'expiresAt' | 'approvalsRequired' | 'targetRef'>,
  resource?: ResourceRef,
): Promise<FiledOutcome> {
  const policy = ctx.policy;
  const rule = requestRule(policy, {
    kind: target.kind,
    entitlement: input.entitlement.name,
    tenant: target.instance,
    ...(resource === undefined ? {} : { space: resource.name }),
  });
  const approvalChannel = approvalChannelOf(policy, target.instance);
  const now = ctx.now();
  const draft: NewRequest = {
    ...input,
    targetRef: {
      kind: target.kind,
      instance: target.instance,
      ...(resource === undefined ? {} : { resource }),
    },
    expiresAt: now + ctx.deps.requestTtlMs,
    approvalsRequired: Math.max(1, rule.approvalsRequired),
  };
  // Nobody has to decide a break-glass grant: nothing to remind anyone of.
  const nudges = input.breakGlass ? undefined : nudgesOf(rule, now, draft.expiresAt);
  if (nudges !== undefined) draft.nudges = nudges;
  const created = await ctx.db(() =>
    transitions.file(
      ctx.transitions,
      draft,
      { actor: personKey(input.requester), outcome: 'pending', detail: requestDetail(draft) },
      now,
    ),
  );
  let postProblem: string | undefined;
  const announce = async (r: RoleChangeRequest): Promise<RoleChangeRequest> => {
    // Before the post, so the Homes learn of it even when the chat refuses the approval message.
    await ctx.homesChanged(r);
    try {
      const ref = await ctx.deps.notifier.announce(approvalChannel, r);
      const { front } = ctx.deps.notifier;
      const message: RequestMessage = { front, kind: 'announcement', channel: ref.channel, ts: ref.ts };
      await ctx.db(() => ctx.deps.store.addMessage(r.id, message));
      const copies = rule.approverDms ? await copyToApprovers(ctx, { ...r, messages: [message] }, rule) : [];
      return { ...r, messages: [...(r.messages ?? []), message, ...copies] };
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      ctx.log.warn({ err: errSummary(err), requestId: r.id }, 'could not post the approval message');
      postProblem = slackError(err);
      return r;
    }
  };
  if (!created.ok) {
    const existing = created.duplicateOf;
    // A pending request that was never announced (the bot stopped between storing and posting it, or the chat
    // refused the post) has no message an approver could press: asking for it again announces it now.
    if (existing.state === 'pending' && announcementOf(existing) === undefined) {
      ctx.log.info({ requestId: existing.id }, 'announcing a pending request that had no approval message');
      await ctx.db(() => scheduleNudges(ctx.deps.queues, existing, now));
      return { ok: false, code: 'duplicate', duplicateOf: await announce(existing) };
    }
    return { ok: false, code: 'duplicate', duplicateOf: existing };
  }
  let request = created.request;
  const announceFiled = async (r: RoleChangeRequest): Promise<undefined> => {
    request = r;
    request = await announce(r);
    return undefined;
  };
  const approved =
    rule.autoApprove || input.breakGlass
      ? await ctx.db(() =>
          transitions.transition(
            ctx.transitions,
            request,
            'pending',
            'approved',
            {},
            input.breakGlass
              ? {
                  actor: personKey(input.requester),
                  outcome: 'break-glass',
                  detail: `break-glass: taken at once without approval${input.reason ? ` because ${input.reason}` : ''}`,
                }
              : { actor: 'policy', outcome: 'approved', detail: 'approved automatically by policy' },
            // Announce before the apply is queued, so the worker finds the approval message when it reports.
            { beforeFollowUps: announceFiled },
          ),
        )
      : undefined;
  if (!approved?.ok) {
    await announceFiled(request);
    // Only once it is announced: a reminder is a reply beside the approval message.
    if (request.state === 'pending') await ctx.db(() => scheduleNudges(ctx.deps.queues, request, now));
  }
  return {
    ok: true,
    code: 'filed',
    request,
    autoApproved: request.state === 'approved',
    approvalChannel,
    ...(postProblem === undefined ? {} : { postProblem }),
  };
}

function heldRefusal(
  action: RoleAction,
  t: ResolvedTarget,
  role: RoleRef,
  resource: ResourceRef | undefined,
): FileOutcome | undefined {
  const principal: HolderRef = { kind: t.principal.kind, name: t.principal.name };
  const direct = holds(t.direct, role);
  const where = resource === undefined ? {} : { resource };
  if (action === 'grant' && direct)
    return { ok: false, code: 'already-held', principal, role: role.name, ...where };
  if (action === 'revoke' && !direct) {
    const viaGroups = t.viaGroups.filter((g) => holds(g.roles, role)).map((g) => g.group);
    return { ok: false, code: 'not-held', principal, role: role.name, viaGroups, ...where };
  }
  return undefined;
}

/** How many of a resource's managers the announcement names. */
const MANAGERS_NAMED = 10;

/**
 * Who the announcement names as managers who may approve: the resource's managers now, as chat users by email (not
 * the requester). Only a note: approval re-reads them at click time, so a failure to read them files without it.
 */
async function managersNote(
  ctx: AppContext,
  target: AccessTarget,
  resource: ResourceRef,
  requester: PersonRef,
): Promise<FilingNote | undefined> {
  try {
    const managers = (await target.resourceManagers?.(resource)) ?? [];
    const people: PersonRef[] = [];
    let unmatched = 0;
    for (const m of managers.slice(0, MANAGERS_NAMED)) {
      const person = await ctx.deps.directory.findPersonByEmail(m.email);
      if (person === undefined) unmatched++;
      else if (!samePerson(person, requester) && !people.some((p) => samePerson(p, person)))
        people.push(person);
    }
    unmatched += Math.max(0, managers.length - MANAGERS_NAMED);
    return { code: 'managers-may-approve', people, unmatched };
  } catch (err) {
    ctx.log.warn({ err: errSummary(err) }, "could not read the space's managers for the announcement");
    return undefined;
  }
}

/** What the requester and approvers should know about a grant beyond the change itself (see RoleChangeRequest.notes). */
function filingNotes(
  action: RoleAction,
  t: ResolvedTarget,
  role: RoleRef,
  check: { durationMs?: number; durationDefaulted?: boolean },
): FilingNote[] {
  if (action !== 'grant') return [];
  const notes: FilingNote[] = [];
  if (check.durationDefaulted && check.durationMs !== undefined) {
    notes.push({ code: 'duration-defaulted', durationMs: check.durationMs });
  }
  const groups = t.viaGroups.filter((g) => holds(g.roles, role)).map((g) => g.group);
  if (groups.length > 0) notes.push({ code: 'held-via-groups', groups });
  return notes;
}

function requestDetail(r: Pick<NewRequest, 'action' | 'durationMs' | 'reason' | 'extends'>): string {
  const parts: string[] = [r.action];
  if (r.durationMs !== undefined) parts.push(`for ${formatDuration(r.durationMs)}`);
  if (r.extends) parts.push(`extends ${r.extends}`);
  if (r.reason) parts.push(`because ${r.reason}`);
  return clipText(parts.join(' '), 600);
}
