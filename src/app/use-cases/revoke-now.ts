// Owns "Revoke now" on an applied grant: the requester, the person it was granted to or an approver of the role may
// press it; one press per attempt is queued across every replica, later presses are told who pressed and when. It
// answers with an outcome (a code and the request) that the front words (src/slack/words.ts).
import { ACCOUNT_KIND } from '../../domain/policy.ts';
import {
  describeTarget,
  type PersonRef,
  personFromKey,
  personKey,
  type RoleChangeRequest,
  samePerson,
  targetOf,
} from '../../domain/request.ts';
import { enqueueRevokeNow } from '../../queue/queues.ts';
import type { AppContext } from '../context.ts';
import type { Failure, NotFound } from '../outcomes.ts';

export type RevokeNowOutcome =
  /** Queued; the result follows in the approval thread. */
  | { ok: true; code: 'queued'; request: RoleChangeRequest }
  | NotFound
  /** The request is a revoke itself. */
  | { ok: false; code: 'not-a-grant'; request: RoleChangeRequest }
  /** Not applied (any more); `request.state` says what it is. */
  | { ok: false; code: 'not-applied'; request: RoleChangeRequest }
  /** Only the requester, the person it was granted to or an approver of the role may revoke it. */
  | { ok: false; code: 'not-allowed'; request: RoleChangeRequest }
  /**
   * Someone pressed already (`byYou`, or `by` with their chat name when it could be read) at `at`; nothing was
   * recorded for this press.
   */
  | {
      ok: false;
      code: 'under-way';
      request: RoleChangeRequest;
      by: PersonRef;
      byName?: string;
      byYou: boolean;
      at: number;
    }
  | Failure;

export function revokeNow(ctx: AppContext, requestId: string, clicker: PersonRef): Promise<RevokeNowOutcome> {
  return ctx.guard('revoking-now', async (): Promise<RevokeNowOutcome> => {
    const req = await ctx.db(() => ctx.deps.store.get(requestId));
    if (!req) return { ok: false, code: 'not-found', requestId };
    // An invite made an account, which is not taken away from the chat: only grants of access end.
    if (req.action !== 'grant' || targetOf(req).kind === ACCOUNT_KIND)
      return { ok: false, code: 'not-a-grant', request: req };
    if (req.state !== 'applied') return { ok: false, code: 'not-applied', request: req };
    if (!(await ctx.mayActOnGrant(req, clicker))) return { ok: false, code: 'not-allowed', request: req };
    // One press per attempt, across replicas: later presses are told who pressed and when, and record nothing.
    const queued = await ctx.db(() =>
      enqueueRevokeNow(ctx.deps.queues, req.id, personKey(clicker), ctx.now()),
    );
    if (!queued.queued) {
      const by = personFromKey(queued.claim.by);
      const byYou = samePerson(by, clicker);
      const byName = byYou ? undefined : await ctx.personName(by);
      return {
        ok: false,
        code: 'under-way',
        request: req,
        by,
        ...(byName === undefined ? {} : { byName }),
        byYou,
        at: queued.claim.at,
      };
    }
    await ctx.db(() =>
      ctx.deps.audit.append({
        time: ctx.now(),
        requestId: req.id,
        actor: personKey(clicker),
        action: 'revoke-requested',
        target: describeTarget(req.target),
        role: req.entitlement.name,
        outcome: 'queued',
      }),
    );
    return { ok: true, code: 'queued', request: req };
  });
}
