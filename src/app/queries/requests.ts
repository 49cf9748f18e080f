// Owns `/qlik requests`: my pending requests, and the pending ones I may approve right now (by the policy and the
// chat's user groups; never a grant to me, which Approve would refuse anyway).
import { approverEligibility } from '../../domain/policy.ts';
import { type PersonRef, type RoleChangeRequest, samePerson } from '../../domain/request.ts';
import type { AppContext } from '../context.ts';
import type { Failure } from '../outcomes.ts';

export interface RequestsAnswer {
  ok: true;
  mine: RoleChangeRequest[];
  toApprove: RoleChangeRequest[];
}

const PENDING_SCAN = 500;

export function listRequests(ctx: AppContext, asker: PersonRef): Promise<RequestsAnswer | Failure> {
  return ctx.guard('listing-requests', async (): Promise<RequestsAnswer> => {
    const now = ctx.now();
    const [mine, pending] = await Promise.all([
      ctx.db(() => ctx.deps.store.listPendingByRequester(asker)),
      ctx.db(() => ctx.deps.store.listPending(PENDING_SCAN)),
    ]);
    // A grant to me by email (no Slack id stored) is not mine to approve either; Approve checks it for real.
    const me = await ctx.deps.directory.lookupUser(asker).catch(() => undefined);
    const myEmail = me?.kind === 'ok' ? me.email.trim().toLowerCase() : undefined;
    const toApprove: RoleChangeRequest[] = [];
    for (const r of pending) {
      if (r.expiresAt <= now || samePerson(r.requester, asker)) continue;
      if (r.approvals.some((a) => samePerson(a.by, asker))) continue;
      if (!approverEligibility(r, asker).ok) continue;
      if (
        myEmail !== undefined &&
        r.action === 'grant' &&
        r.target.kind === 'user' &&
        r.target.email?.trim().toLowerCase() === myEmail
      ) {
        continue;
      }
      if (await ctx.isApprover(r, asker)) toApprove.push(r);
    }
    return { ok: true, mine: mine.filter((r) => r.expiresAt > now), toApprove };
  });
}
