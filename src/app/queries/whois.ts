// Owns `/qlik whois <who>`: a user's or group's roles, directly and through groups, and a user's status, as the
// access target reads them now. Read-only, so a chat outage in linking an email to its Slack user never stops it.
import { describeTarget, type PersonRef, type WhoRef } from '../../domain/request.ts';
import type { AppContext } from '../context.ts';
import type { Failure, PrincipalRefusal, UnknownInstance } from '../outcomes.ts';
import { resolveTarget } from '../targets.ts';

export interface WhoisAnswer {
  ok: true;
  target: string;
  /** A group has no groups of its own, so its answer has no "through groups" part. */
  kind: 'user' | 'group';
  /** A user's status in the target system (active, disabled, invited…), when it says. */
  status?: string;
  direct: string[];
  viaGroups: { group: string; roles: string[] }[];
}

export type WhoisOutcome = WhoisAnswer | UnknownInstance | PrincipalRefusal | Failure;

export function whois(
  ctx: AppContext,
  who: WhoRef,
  asker: PersonRef,
  opts: { instance?: string } = {},
): Promise<WhoisOutcome> {
  return ctx.guard('whois', async (): Promise<WhoisOutcome> => {
    const chosen = ctx.target(opts.instance);
    if (!chosen.ok) return chosen;
    // Read-only: the Slack id of an email target is not needed, so a Slack outage doesn't stop the answer.
    const resolved = await resolveTarget(
      who,
      asker,
      { target: chosen.target, directory: ctx.deps.directory },
      { linkSlack: false },
    );
    if (!resolved.ok) return resolved;
    const t = resolved.target;
    return {
      ok: true,
      target: describeTarget(t.principal),
      kind: t.principal.kind,
      ...(t.status ? { status: t.status } : {}),
      direct: t.direct.map((r) => r.name),
      viaGroups: t.viaGroups.map((g) => ({ group: g.group, roles: g.roles.map((r) => r.name) })),
    };
  });
}
