// Owns the "Extend" button of an applied time-bound grant: it files a new grant of the same role, for the same
// principal, on the same target and for the same time, which the worker hands the role over to once applied. It
// answers with an outcome (a code, the requests, what the words need) that the front words (src/slack/words.ts).
import { checkRequest } from '../../domain/policy.ts';
import { type PersonRef, type RoleChangeRequest, targetOf } from '../../domain/request.ts';
import type { AppContext } from '../context.ts';
import type { Failure, NotFound, PolicyRefused } from '../outcomes.ts';
import { clipText } from '../words.ts';
import { fileDraft } from './file-request.ts';

export type ExtendOutcome =
  /**
   * The extension is filed as `request` (approved at once when `autoApproved`) for `original`, whose end moves only
   * once it is applied. `postProblem` is the chat's error code when the approval message could not be posted.
   */
  | {
      ok: true;
      code: 'filed';
      request: RoleChangeRequest;
      original: RoleChangeRequest;
      autoApproved: boolean;
      postProblem?: string;
    }
  | NotFound
  /** A revoke, or a permanent grant: nothing to extend. */
  | { ok: false; code: 'not-time-bound'; request: RoleChangeRequest }
  /** Not applied (any more); `request.state` says what it is. */
  | { ok: false; code: 'not-applied'; request: RoleChangeRequest }
  /** Only the requester, the person it was granted to or an approver of the role may extend it. */
  | { ok: false; code: 'not-allowed'; request: RoleChangeRequest }
  | PolicyRefused
  /** The same extension is already pending. */
  | { ok: false; code: 'duplicate'; duplicateOf: RoleChangeRequest }
  | Failure;

export function extend(ctx: AppContext, requestId: string, clicker: PersonRef): Promise<ExtendOutcome> {
  return ctx.guard('extending', async (): Promise<ExtendOutcome> => {
    const orig = await ctx.db(() => ctx.deps.store.get(requestId));
    if (!orig) return { ok: false, code: 'not-found', requestId };
    if (orig.action !== 'grant' || orig.durationMs === undefined) {
      return { ok: false, code: 'not-time-bound', request: orig };
    }
    if (orig.state !== 'applied') return { ok: false, code: 'not-applied', request: orig };
    if (!(await ctx.mayActOnGrant(orig, clicker))) return { ok: false, code: 'not-allowed', request: orig };
    const resource = targetOf(orig).resource;
    const check = checkRequest(ctx.policy, {
      action: 'grant',
      roleName: orig.entitlement.name,
      tenant: ctx.tenantOf(orig),
      kind: targetOf(orig).kind,
      ...(resource === undefined ? {} : { space: resource.name }),
      reason: `Extends ${orig.id}${orig.reason ? `: ${orig.reason}` : ''}`,
      durationMs: orig.durationMs,
    });
    if (!check.ok) return { ok: false, code: 'policy-refused', refusal: check };
    const filed = await fileDraft(
      ctx,
      ctx.targetOfRequest(orig),
      {
        action: 'grant',
        target: orig.target,
        entitlement: orig.entitlement,
        requester: clicker,
        reason: clipText(`Extends ${orig.id}${orig.reason ? `: ${orig.reason}` : ''}`, 500),
        durationMs: check.durationMs ?? orig.durationMs,
        extends: orig.id,
      },
      resource,
    );
    if (!filed.ok) return filed;
    return {
      ok: true,
      code: 'filed',
      request: filed.request,
      original: orig,
      autoApproved: filed.autoApproved,
      ...(filed.postProblem === undefined ? {} : { postProblem: filed.postProblem }),
    };
  });
}
