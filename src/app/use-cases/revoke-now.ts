// Owns "Revoke now" on an applied grant: the requester, the person it was granted to or an approver of the role may
// press it; one press per attempt is queued across every replica, later presses are told who pressed and when.
import { describeTarget } from '../../domain/request.ts';
import { plainTime } from '../../domain/time.ts';
import { enqueueRevokeNow } from '../../queue/queues.ts';
import type { AppContext } from '../context.ts';
import { type ClickResult, notFound, stateWords } from '../words.ts';

export function revokeNow(ctx: AppContext, requestId: string, clickerId: string): Promise<ClickResult> {
  return ctx.guard('queueing the revoke', async () => {
    const req = await ctx.db(() => ctx.deps.store.get(requestId));
    if (!req) return notFound(requestId);
    if (req.action !== 'grant')
      return { ok: false, message: `${req.id} is a revoke; there is nothing to revoke.` };
    if (req.state !== 'applied') {
      return {
        ok: false,
        message: `${req.id} is ${stateWords(req.state)}, so there is nothing to revoke now.`,
      };
    }
    if (!(await ctx.mayActOnGrant(req, clickerId))) {
      return {
        ok: false,
        message: `Only the requester, the person it was granted to, or an approver of ${req.role.name} can revoke ${req.id}; nothing changed.`,
      };
    }
    // One press per attempt, across replicas: later presses are told who pressed and when, and record nothing.
    const queued = await ctx.db(() => enqueueRevokeNow(ctx.deps.queues, req.id, clickerId, ctx.now()));
    if (!queued.queued) {
      const by = queued.claim.by === clickerId ? 'you' : await ctx.personName(queued.claim.by);
      return {
        ok: false,
        message: `The revoke of ${req.role.name} from ${describeTarget(req.target)} (${req.id}) is already under way: ${by} pressed Revoke now ${plainTime(queued.claim.at)}. The result follows in the approval thread.`,
      };
    }
    await ctx.db(() =>
      ctx.deps.audit.append({
        time: ctx.now(),
        requestId: req.id,
        actor: clickerId,
        action: 'revoke-requested',
        target: describeTarget(req.target),
        role: req.role.name,
        outcome: 'queued',
      }),
    );
    return {
      ok: true,
      request: req,
      message: `Revoking ${req.role.name} from ${describeTarget(req.target)} now (${req.id}); the result follows in the approval thread.`,
    };
  });
}
