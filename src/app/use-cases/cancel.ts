// Owns withdrawing a pending request (the Cancel button or `/qlik cancel R-…`): only the requester may, and only
// while it is pending; the store's guarded write decides a race with an approver.
import type { AppContext } from '../context.ts';
import * as transitions from '../transitions.ts';
import { type ClickResult, notFound, stateWords } from '../words.ts';
import { lostRace } from './decide.ts';

export function cancel(ctx: AppContext, requestId: string, clickerId: string): Promise<ClickResult> {
  return ctx.guard('cancelling the request', async () => {
    const req = await ctx.db(() => ctx.deps.store.get(requestId));
    if (!req) return notFound(requestId);
    if (req.requesterId !== clickerId) {
      return { ok: false, message: `Only the person who filed ${req.id} can cancel it; nothing changed.` };
    }
    if (req.state !== 'pending') {
      return {
        ok: false,
        message: `${req.id} is already ${stateWords(req.state)}, so there is nothing to cancel.`,
      };
    }
    const res = await ctx.db(() =>
      transitions.transition(
        ctx.transitions,
        req,
        'pending',
        'cancelled',
        { cancelledBy: clickerId },
        { actor: clickerId, outcome: 'cancelled' },
      ),
    );
    if (!res.ok) return lostRace(req.id, res);
    await ctx.refresh(res.request);
    return { ok: true, request: res.request, message: `Cancelled ${req.id}; nothing will change in Qlik.` };
  });
}
