// Owns a pending request's reminder and escalation (the delayed `nudge` jobs scheduled when it was filed,
// queues.ts scheduleNudges): if the request is still pending when one is due, the reminder mentions its approvers
// beside the approval message; the escalation records on the request that it escalated to the policy's fallback
// approvers (who may then decide it too: the app's approver check reads it), audits it, brings the approval message
// up to date, and mentions them. Each is sent at most once per request: the delivery is marked, and a retry whose
// earlier attempt may have posted looks for that reply first. Never after a decision: the state is read first, and
// the escalation is recorded only by a guarded `pending → pending` transition.
import type { RequestEvent } from '../app/notifier.ts';
import { formatDuration } from '../domain/duration.ts';
import { type Policy, requestRule } from '../domain/policy.ts';
import { describeTarget, type RoleChangeRequest, targetOf } from '../domain/request.ts';
import type { NudgeJob } from '../queue/queues.ts';
import { MARKER_TTL_SECONDS, RetryLaterError, type WorkerContext } from './context.ts';
import { homesChanged } from './notify.ts';

export type NudgeOutcome = 'reminded' | 'escalated' | 'skipped' | 'already-sent';

export async function nudgeRequest(
  ctx: WorkerContext,
  policy: (() => Policy) | undefined,
  job: NudgeJob,
): Promise<NudgeOutcome> {
  const req = await ctx.store.get(job.requestId);
  if (req?.state !== 'pending' || policy === undefined) return 'skipped';
  const due = job.kind === 'reminder' ? req.nudges?.remindAt : req.nudges?.escalateAt;
  if (due === undefined) return 'skipped';
  const now = ctx.now();
  // A job a clock ahead of ours ran early: come back when it is due.
  if (now < due) throw new RetryLaterError(due - now, 'the reminder is not due yet');
  const rule = requestRule(policy(), {
    kind: targetOf(req).kind,
    entitlement: req.entitlement.name,
    tenant: instanceOf(ctx, req),
    ...(req.targetRef?.resource === undefined ? {} : { space: req.targetRef.resource.name }),
  });
  const afterMs = due - req.createdAt;
  let current: RoleChangeRequest = req;
  let event: RequestEvent;
  if (job.kind === 'reminder') {
    event = { kind: 'reminder', approvers: rule.approvers, afterMs };
  } else {
    if (req.escalation === undefined) {
      // The policy may have changed since filing: with nobody to escalate to now, there is nothing to do.
      if (rule.fallbackApprovers.length === 0) return 'skipped';
      const to = rule.fallbackApprovers;
      const t = await ctx.store.transition(
        req.id,
        'pending',
        'pending',
        { escalation: { at: now, to } },
        now,
        {
          time: now,
          requestId: req.id,
          actor: 'system',
          action: 'escalated',
          target: describeTarget(req.target),
          role: req.entitlement.name,
          outcome: 'escalated',
          detail: `No decision after ${formatDuration(afterMs)}: escalated to ${to.join(', ')}.`,
        },
      );
      if (!t.ok) return 'skipped'; // decided meanwhile
      current = t.request;
    }
    // The approval message says it escalated (again on a retry: an update that failed is made now).
    await ctx.notifier.refresh(current);
    // The fallback approvers may decide it now: their Homes offer it.
    await homesChanged(ctx, current);
    event = { kind: 'escalation', to: current.escalation!.to, afterMs };
  }
  const sent = ctx.keys.notified(req.id, job.kind, 'thread');
  if ((await ctx.redis.exists(sent)) === 1) return 'already-sent';
  // A retry after a post whose answer was lost finds that post instead of mentioning everyone twice.
  if ((await ctx.notifier.findResult(current, event)) === undefined) {
    const posted = await ctx.notifier.postResult(current, event);
    if (posted === undefined) ctx.logger.warn({ requestId: req.id }, 'no approval message to remind beside');
  }
  await ctx.redis.set(sent, '1', 'EX', MARKER_TTL_SECONDS);
  if (job.kind === 'reminder')
    await ctx.audit.append({
      time: ctx.now(),
      requestId: req.id,
      actor: 'system',
      action: 'reminded',
      target: describeTarget(req.target),
      role: req.entitlement.name,
      outcome: 'reminded',
      detail: `No decision after ${formatDuration(afterMs)}: approvers reminded.`,
    });
  return job.kind === 'reminder' ? 'reminded' : 'escalated';
}

/** The configured name of the request's instance (the policy's `tenants.<name>` sections are keyed by it). */
function instanceOf(ctx: WorkerContext, req: RoleChangeRequest): string {
  try {
    return ctx.targets.get(targetOf(req)).instance;
  } catch {
    return targetOf(req).instance;
  }
}
