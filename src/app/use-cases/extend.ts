// Owns the "Extend" button of an applied time-bound grant: it files a new grant of the same role, for the same
// principal, on the same target and for the same time, which the worker hands the role over to once applied.
import { checkRequest } from '../../domain/policy.ts';
import { describeTarget } from '../../domain/request.ts';
import { plainTime } from '../../domain/time.ts';
import { humanDuration } from '../../slack/mrkdwn.ts';
import type { AppContext } from '../context.ts';
import { type ClickResult, clipText, notFound, stateWords } from '../words.ts';
import { fileDraft } from './file-request.ts';

export function extend(ctx: AppContext, requestId: string, clickerId: string): Promise<ClickResult> {
  return ctx.guard(
    'extending the grant',
    async () => {
      const orig = await ctx.db(() => ctx.deps.store.get(requestId));
      if (!orig) return notFound(requestId);
      if (orig.action !== 'grant' || orig.durationMs === undefined) {
        return {
          ok: false,
          message: `${orig.id} is not a time-bound grant, so there is nothing to extend.`,
        };
      }
      if (orig.state !== 'applied') {
        return {
          ok: false,
          message: `${orig.id} is ${stateWords(orig.state)}, so it can't be extended. File a new request with \`/qlik grant\`.`,
        };
      }
      if (!(await ctx.mayActOnGrant(orig, clickerId))) {
        return {
          ok: false,
          message: `Only the requester, the person it was granted to, or an approver of ${orig.role.name} can extend ${orig.id}.`,
        };
      }
      const check = checkRequest(ctx.policy, {
        action: 'grant',
        roleName: orig.role.name,
        tenant: ctx.tenantOf(orig),
        reason: `Extends ${orig.id}${orig.reason ? `: ${orig.reason}` : ''}`,
        durationMs: orig.durationMs,
      });
      if (!check.ok) return { ok: false, message: check.message };
      const filed = await fileDraft(ctx, ctx.targetOfRequest(orig), {
        action: 'grant',
        target: orig.target,
        role: orig.role,
        requesterId: clickerId,
        reason: clipText(`Extends ${orig.id}${orig.reason ? `: ${orig.reason}` : ''}`, 500),
        durationMs: check.durationMs ?? orig.durationMs,
        extends: orig.id,
      });
      if (!filed.ok) return { ok: false, message: filed.message };
      const verb = filed.autoApproved
        ? 'was approved automatically and is being applied'
        : 'is waiting for approval';
      const note = filed.postProblem ? ` ${filed.postProblem}` : '';
      // Say what Extend does: a new grant of the same length counted from ITS approval; the end moves only then.
      const endsNow = orig.result?.revokeAt === undefined ? '' : ` (now ${plainTime(orig.result.revokeAt)})`;
      const what = ` Once it is applied, ${orig.id} ends ${humanDuration(orig.durationMs)} after that${endsNow === '' ? '' : ` instead of at its current end${endsNow}`}; until then nothing changes.`;
      return {
        ok: true,
        request: filed.request,
        message: `Extension filed as ${filed.request.id}: ${filed.request.role.name} for ${describeTarget(filed.request.target)} ${verb}.${what}${note}`,
      };
    },
    true,
  );
}
