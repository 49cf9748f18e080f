// Owns telling Slack about an outcome (SPEC §2–3): the approval message updated to its final state, a reply in its
// thread, and a DM to the requester. It only reads the request — it never touches Qlik — so a Slack failure retried
// by BullMQ can never re-run a role change. Each step is recorded once it reached Slack, so a retry after a partial
// failure posts only what is missing.
import type { RoleChangeRequest } from '../domain/request.ts';
import type { NotifyJob } from '../queue/queues.ts';
import { decisionNotice, resultMessage } from '../slack/views.ts';
import { MARKER_TTL_SECONDS, type WorkerContext } from './context.ts';

export type NotifyStep = 'refresh' | 'thread' | 'dm';

export interface NotifyOutcome {
  sent: NotifyStep[];
  skipped: NotifyStep[];
}

/** Which messages an event sends: decisions (denied, expired, cancelled) get no thread reply — nothing happened. */
export function stepsFor(event: NotifyJob['event']): NotifyStep[] {
  return event === 'decision' ? ['refresh', 'dm'] : ['refresh', 'thread', 'dm'];
}

export async function notifyOutcome(
  ctx: Pick<WorkerContext, 'store' | 'messenger' | 'redis' | 'keys' | 'logger'>,
  job: NotifyJob,
): Promise<NotifyOutcome> {
  const out: NotifyOutcome = { sent: [], skipped: [] };
  const req = await ctx.store.get(job.requestId);
  if (!req) return out;
  for (const step of stepsFor(job.event)) {
    const marker = ctx.keys.notified(req.id, job.event, step);
    if ((await ctx.redis.exists(marker)) === 1) {
      out.skipped.push(step);
      continue;
    }
    await send(ctx, req, job.event, step);
    // Recorded only after Slack accepted it: a crash in between repeats one message rather than losing it.
    await ctx.redis.set(marker, String(Date.now()), 'EX', MARKER_TTL_SECONDS);
    out.sent.push(step);
  }
  ctx.logger.debug({ requestId: req.id, event: job.event, ...out }, 'notified');
  return out;
}

async function send(
  ctx: Pick<WorkerContext, 'messenger'>,
  req: RoleChangeRequest,
  event: NotifyJob['event'],
  step: NotifyStep,
): Promise<void> {
  switch (step) {
    case 'refresh':
      return ctx.messenger.refreshApproval(req);
    case 'thread':
      return ctx.messenger.replyInThread(req, resultMessage(req));
    case 'dm':
      return ctx.messenger.dm(
        req.requesterId,
        event === 'decision' ? decisionNotice(req) : resultMessage(req),
      );
  }
}
