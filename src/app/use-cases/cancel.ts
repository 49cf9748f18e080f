// Owns withdrawing a pending request (the Cancel button or `/qlik cancel R-…`): only the requester may, and only
// while it is pending; the store's guarded write decides a race with an approver. It answers with an outcome (a
// code and the request), not a sentence: the front words it (src/slack/words.ts, cancelOutcomeText).
import { type PersonRef, personKey, type RoleChangeRequest, samePerson } from '../../domain/request.ts';
import type { AppContext } from '../context.ts';
import type { Failure, NotFound } from '../outcomes.ts';
import * as transitions from '../transitions.ts';

export type CancelOutcome =
  /** Withdrawn: nothing will change in the target. */
  | { ok: true; code: 'cancelled'; request: RoleChangeRequest }
  /** No request has that id. */
  | NotFound
  /** Someone other than the requester asked; nothing changed. */
  | { ok: false; code: 'not-requester'; request: RoleChangeRequest }
  /** It was no longer pending when asked; `request.state` says what it is. */
  | { ok: false; code: 'not-pending'; request: RoleChangeRequest }
  /** It was decided between the read and the write; `request.state` says how. Nothing changed. */
  | { ok: false; code: 'decided-meanwhile'; request: RoleChangeRequest }
  /** Something failed (the store unreachable, a bug); nothing changed. */
  | Failure;

export function cancel(ctx: AppContext, requestId: string, clicker: PersonRef): Promise<CancelOutcome> {
  return ctx.guard('cancelling', async (): Promise<CancelOutcome> => {
    const req = await ctx.db(() => ctx.deps.store.get(requestId));
    if (!req) return { ok: false, code: 'not-found', requestId };
    if (!samePerson(req.requester, clicker)) return { ok: false, code: 'not-requester', request: req };
    if (req.state !== 'pending') return { ok: false, code: 'not-pending', request: req };
    const moved = await ctx.db(() =>
      transitions.transition(
        ctx.transitions,
        req,
        'pending',
        'cancelled',
        { cancelledBy: clicker },
        { actor: personKey(clicker), outcome: 'cancelled' },
      ),
    );
    if (!moved.ok) {
      return moved.reason === 'not-found' || !moved.request
        ? { ok: false, code: 'not-found', requestId: req.id }
        : { ok: false, code: 'decided-meanwhile', request: moved.request };
    }
    await ctx.refresh(moved.request);
    return { ok: true, code: 'cancelled', request: moved.request };
  });
}
