// Owns deciding a pending request (the Approve and Deny buttons): rights come from the policy and the chat's user
// groups at the moment of the click, never from the payload; nobody approves a grant to themselves (checked by
// what the chat and the target say now); an expired request is expired here and then refused. Every decision is the
// store's guarded write, so double clicks and concurrent approvers decide a request once. Each answers with an
// outcome (a code and the request) that the front words (src/slack/words.ts).
import { approverEligibility, type EligibilityRefusal } from '../../domain/policy.ts';
import { type PersonRef, personKey, type RoleChangeRequest } from '../../domain/request.ts';
import type { TransitionResult } from '../../store/request-store.ts';
import type { AppContext } from '../context.ts';
import type { Failure, NotFound } from '../outcomes.ts';
import type { PersonLookup } from '../ports.ts';
import * as transitions from '../transitions.ts';
import { errSummary, slackError } from '../words.ts';

/** Why a pending request can't be decided (approved or denied) any more. */
type Undecidable =
  | NotFound
  /** It is no longer pending; `request.state` says what it is. Nothing changed. */
  | { ok: false; code: 'not-pending'; request: RoleChangeRequest }
  /** It expired before anyone decided (and is expired now). */
  | { ok: false; code: 'expired'; request: RoleChangeRequest }
  /** The clicker does not approve the role (on its tenant). Nothing changed. */
  | { ok: false; code: 'not-approver'; request: RoleChangeRequest };

/** Why a grant may not be approved by this clicker: it is (or may be) a grant to them. Nothing changed. */
export type SelfGrantRefusal =
  /** The chat profile could not be read; `problem` is the chat's error code. */
  | { ok: false; code: 'profile-unreadable'; request: RoleChangeRequest; problem: string }
  | { ok: false; code: 'profile-no-email'; request: RoleChangeRequest }
  /** It grants to the clicker, or (`group` set) to a group the clicker is in. */
  | { ok: false; code: 'grants-to-you'; request: RoleChangeRequest; group?: string }
  /** The target couldn't say whether the clicker is the principal (or in the `group`); `system` is its name. */
  | { ok: false; code: 'membership-unknown'; request: RoleChangeRequest; system: string; group?: string };

export type ApproveOutcome =
  /** One approval of several recorded: `request.approvals` of `request.approvalsRequired`. */
  | { ok: true; code: 'recorded'; request: RoleChangeRequest }
  /** The last approval: it is approved and being applied. */
  | { ok: true; code: 'approved'; request: RoleChangeRequest }
  | Undecidable
  /** The clicker approved it already; `request` has the approvals so far. */
  | { ok: false; code: 'already-approved'; request: RoleChangeRequest }
  /** The policy says the clicker may not approve it; `refusal` says why (approverEligibility). */
  | { ok: false; code: 'not-eligible'; refusal: EligibilityRefusal }
  | SelfGrantRefusal
  | Failure;

export type DenyOutcome =
  /** Denied; the requester will be told. */
  { ok: true; code: 'denied'; request: RoleChangeRequest } | Undecidable | Failure;

/** Approve button. */
export function approve(ctx: AppContext, requestId: string, clicker: PersonRef): Promise<ApproveOutcome> {
  return ctx.guard('approving', async (): Promise<ApproveOutcome> => {
    const pending = await pendingForDecision(ctx, requestId);
    if (!pending.ok) return pending;
    const req = pending.request;
    const eligible = approverEligibility(req, clicker);
    if (!eligible.ok) return { ok: false, code: 'not-eligible', refusal: eligible };
    if (!(await ctx.isApprover(req, clicker))) {
      return { ok: false, code: 'not-approver', request: req };
    }
    const self = await selfGrantRefusal(ctx, req, clicker);
    if (self) return self;
    // The approval that completes the request queues its apply (exactly one caller ever sees 'approved').
    const res = await ctx.db(() => transitions.addApproval(ctx.transitions, req, clicker));
    switch (res.outcome) {
      case 'not-found':
        return { ok: false, code: 'not-found', requestId };
      case 'duplicate':
        return { ok: false, code: 'already-approved', request: res.request };
      case 'not-pending':
        return { ok: false, code: 'not-pending', request: res.request };
      case 'recorded':
        await ctx.refresh(res.request);
        return { ok: true, code: 'recorded', request: res.request };
      case 'approved':
        await ctx.refresh(res.request);
        return { ok: true, code: 'approved', request: res.request };
    }
  });
}

/** Deny button: an approver of the role ends the request; the requester is told by DM (notification queue). */
export function deny(
  ctx: AppContext,
  requestId: string,
  clicker: PersonRef,
  reason?: string,
): Promise<DenyOutcome> {
  return ctx.guard('denying', async (): Promise<DenyOutcome> => {
    const pending = await pendingForDecision(ctx, requestId);
    if (!pending.ok) return pending;
    const req = pending.request;
    if (!(await ctx.isApprover(req, clicker))) {
      return { ok: false, code: 'not-approver', request: req };
    }
    const res = await ctx.db(() =>
      transitions.transition(
        ctx.transitions,
        req,
        'pending',
        'denied',
        { deniedBy: clicker, ...(reason?.trim() ? { denyReason: reason.trim() } : {}) },
        {
          actor: personKey(clicker),
          outcome: 'denied',
          ...(reason?.trim() ? { detail: `because ${reason.trim()}` } : {}),
        },
        { beforeFollowUps: async (r) => ({ refreshed: await ctx.refresh(r) }) },
      ),
    );
    if (!res.ok) return lostRace(req.id, res);
    return { ok: true, code: 'denied', request: res.request };
  });
}

/** A pending request that may still be decided; an expired one is expired here and then refused. */
async function pendingForDecision(
  ctx: AppContext,
  requestId: string,
): Promise<{ ok: true; request: RoleChangeRequest } | Exclude<Undecidable, { code: 'not-approver' }>> {
  const req = await ctx.db(() => ctx.deps.store.get(requestId));
  if (!req) return { ok: false, code: 'not-found', requestId };
  if (req.state !== 'pending') return { ok: false, code: 'not-pending', request: req };
  if (ctx.now() >= req.expiresAt) {
    // The reconciler sweeps expiries too; whoever gets there first moves it, the other sees wrong-state.
    await ctx.db(() =>
      transitions.transition(
        ctx.transitions,
        req,
        'pending',
        'expired',
        {},
        { actor: 'system', outcome: 'expired' },
        { beforeFollowUps: async (r) => ({ refreshed: await ctx.refresh(r) }) },
      ),
    );
    return { ok: false, code: 'expired', request: req };
  }
  return { ok: true, request: req };
}

/**
 * Refuses an approval of a grant to the clicker themselves, by what the chat and the target say now rather than by
 * the Slack id stored at filing (which is missing when the grant was filed by email): the clicker's profile email
 * against the target user's, or the target's answer whether that person is the principal or in the group. Fails
 * closed: when either can't be read, the approval is refused and the clicker told why.
 */
async function selfGrantRefusal(
  ctx: AppContext,
  req: RoleChangeRequest,
  clicker: PersonRef,
): Promise<SelfGrantRefusal | undefined> {
  if (req.action !== 'grant') return undefined;
  const t = req.target;
  let me: PersonLookup;
  try {
    me = await ctx.deps.directory.lookupUser(clicker);
  } catch (err) {
    ctx.log.warn({ err: errSummary(err), requestId: req.id }, "could not read the approver's Slack profile");
    return { ok: false, code: 'profile-unreadable', request: req, problem: slackError(err) };
  }
  if (me.kind !== 'ok') return { ok: false, code: 'profile-no-email', request: req };
  const email = me.email.trim().toLowerCase();
  if (t.kind === 'user' && t.email !== undefined) {
    if (t.email.trim().toLowerCase() !== email) return undefined;
    return { ok: false, code: 'grants-to-you', request: req };
  }
  const group = t.kind === 'group' ? { group: t.name } : {};
  const target = ctx.targetOfRequest(req);
  let isYou: boolean;
  try {
    isYou = await target.includesPerson({ kind: t.kind, id: t.id, name: t.name }, me.email);
  } catch (err) {
    ctx.log.warn({ err: errSummary(err), requestId: req.id }, "could not look up the approver's account");
    return { ok: false, code: 'membership-unknown', request: req, system: target.words.system, ...group };
  }
  return isYou ? { ok: false, code: 'grants-to-you', request: req, ...group } : undefined;
}

/** A guarded write that lost to another decision (or found no request): say what the request is now. */
function lostRace(id: string, res: Extract<TransitionResult, { ok: false }>): Undecidable {
  if (res.reason === 'not-found' || !res.request) return { ok: false, code: 'not-found', requestId: id };
  return { ok: false, code: 'not-pending', request: res.request };
}
