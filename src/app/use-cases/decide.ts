// Owns deciding a pending request (the Approve and Deny buttons): rights come from the policy and the chat's user
// groups at the moment of the click, never from the payload; nobody approves a grant to themselves (checked by
// what the chat and the target say now); an expired request is expired here and then refused. Every decision is the
// store's guarded write, so double clicks and concurrent approvers decide a request once.
import { approverEligibility, moreApprovals } from '../../domain/policy.ts';
import type { RoleChangeRequest } from '../../domain/request.ts';
import type { SlackUserLookup } from '../../slack/directory.ts';
import type { TransitionResult } from '../../store/request-store.ts';
import type { AppContext } from '../context.ts';
import * as transitions from '../transitions.ts';
import { type ClickResult, errSummary, notFound, type Refusal, slackError, stateWords } from '../words.ts';

/** Approve button. */
export function approve(ctx: AppContext, requestId: string, clickerId: string): Promise<ClickResult> {
  return ctx.guard('recording your approval', async () => {
    const pending = await pendingForDecision(ctx, requestId, 'approve');
    if (!pending.ok) return pending;
    const req = pending.request;
    const eligible = approverEligibility(req, clickerId);
    if (!eligible.ok) return { ok: false, message: `${eligible.message} Nothing changed.` };
    if (!(await ctx.isApprover(req.role.name, clickerId, ctx.tenantOf(req)))) {
      return { ok: false, message: `You are not an approver for ${req.role.name}, so nothing changed.` };
    }
    const self = await selfGrantRefusal(ctx, req, clickerId);
    if (self) return self;
    // The approval that completes the request queues its apply (exactly one caller ever sees 'approved').
    const res = await ctx.db(() => transitions.addApproval(ctx.transitions, req, clickerId));
    switch (res.outcome) {
      case 'not-found':
        return notFound(requestId);
      case 'duplicate':
        return {
          ok: false,
          message: `You already approved ${req.id}; it needs ${moreApprovals(res.request.approvalsRequired - res.request.approvals.length)} from someone else.`,
        };
      case 'not-pending':
        return {
          ok: false,
          message: `${req.id} is already ${stateWords(res.request.state)}; nothing changed.`,
        };
      case 'recorded':
        await ctx.refresh(res.request);
        return {
          ok: true,
          request: res.request,
          message: `Approval recorded for ${req.id} (${res.request.approvals.length} of ${res.request.approvalsRequired}).`,
        };
      case 'approved':
        await ctx.refresh(res.request);
        return {
          ok: true,
          request: res.request,
          message: `You approved ${req.id}; it is being applied now.`,
        };
    }
  });
}

/** Deny button: an approver of the role ends the request; the requester is told by DM (notification queue). */
export function deny(ctx: AppContext, requestId: string, clickerId: string): Promise<ClickResult> {
  return ctx.guard('recording your denial', async () => {
    const pending = await pendingForDecision(ctx, requestId, 'deny');
    if (!pending.ok) return pending;
    const req = pending.request;
    if (!(await ctx.isApprover(req.role.name, clickerId, ctx.tenantOf(req)))) {
      return { ok: false, message: `You are not an approver for ${req.role.name}, so nothing changed.` };
    }
    const res = await ctx.db(() =>
      transitions.transition(
        ctx.transitions,
        req,
        'pending',
        'denied',
        { deniedBy: clickerId },
        { actor: clickerId, outcome: 'denied' },
        { beforeFollowUps: async (r) => ({ refreshed: await ctx.refresh(r) }) },
      ),
    );
    if (!res.ok) return lostRace(req.id, res);
    return { ok: true, request: res.request, message: `You denied ${req.id}; the requester will be told.` };
  });
}

/** A pending request that may still be decided; an expired one is expired here and then refused. */
async function pendingForDecision(
  ctx: AppContext,
  requestId: string,
  verb: 'approve' | 'deny',
): Promise<{ ok: true; request: RoleChangeRequest } | Refusal> {
  const req = await ctx.db(() => ctx.deps.store.get(requestId));
  if (!req) return notFound(requestId);
  if (req.state !== 'pending') {
    return { ok: false, message: `${req.id} is already ${stateWords(req.state)}; nothing changed.` };
  }
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
    return {
      ok: false,
      message: `${req.id} expired before anyone decided, so you can't ${verb} it any more. The requester can file it again.`,
    };
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
  clickerId: string,
): Promise<Refusal | undefined> {
  if (req.action !== 'grant') return undefined;
  const t = req.target;
  let me: SlackUserLookup;
  try {
    me = await ctx.deps.directory.lookupUser(clickerId);
  } catch (err) {
    ctx.log.warn({ err: errSummary(err), requestId: req.id }, "could not read the approver's Slack profile");
    return {
      ok: false,
      message: `I couldn't read your Slack profile (${slackError(err)}), so I can't check that ${req.id} doesn't grant a role to you. Nothing changed; try again in a minute.`,
    };
  }
  if (me.kind !== 'ok') {
    return {
      ok: false,
      message: `Your Slack profile has no email I can read, so I can't check that ${req.id} doesn't grant a role to you. Nothing changed; ask another approver.`,
    };
  }
  const email = me.email.trim().toLowerCase();
  if (t.kind === 'user' && t.email !== undefined) {
    if (t.email.trim().toLowerCase() !== email) return undefined;
    return {
      ok: false,
      message: `${req.id} grants a role to you, so someone else has to approve it. Nothing changed.`,
    };
  }
  const youAre = `${req.id} grants a role to ${t.kind === 'group' ? `group ${t.name}, and you are a member of it` : 'you'}, so someone else has to approve it. Nothing changed.`;
  const target = ctx.targetOfRequest(req);
  let isYou: boolean;
  try {
    isYou = await target.includesPerson({ kind: t.kind, id: t.qlikId, name: t.name }, me.email);
  } catch (err) {
    ctx.log.warn({ err: errSummary(err), requestId: req.id }, "could not look up the approver's account");
    const what =
      t.kind === 'group' ? `you are a member of group ${t.name}` : `${req.id} grants a role to you`;
    return {
      ok: false,
      message: `I couldn't ask ${target.words.system} whether ${what}, so I can't record your approval. Nothing changed; try again in a minute.`,
    };
  }
  return isYou ? { ok: false, message: youAre } : undefined;
}

/** A guarded write that lost to another decision (or found no request): say what the request is now. */
function lostRace(id: string, res: Extract<TransitionResult, { ok: false }>): Refusal {
  if (res.reason === 'not-found' || !res.request) return notFound(id);
  return { ok: false, message: `${id} is already ${stateWords(res.request.state)}; nothing changed.` };
}
