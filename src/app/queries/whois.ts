// Owns `/qlik whois <who>`: a user's or group's roles, directly and through groups, and a user's status, as the
// access target reads them now. Read-only, so a chat outage in linking an email to its Slack user never stops it.
import {
  describeTarget,
  type PersonRef,
  type Principal,
  principalRefOf,
  type WhoRef,
} from '../../domain/request.ts';
import type { AccessTarget, HoldingsAcross } from '../../targets/types.ts';
import type { AppContext } from '../context.ts';
import type { Failure, PrincipalRefusal, UnknownInstance } from '../outcomes.ts';
import { resolveTarget } from '../targets.ts';
import { errSummary } from '../words.ts';

export interface WhoisAnswer {
  ok: true;
  target: string;
  /** A group has no groups of its own, so its answer has no "through groups" part. */
  kind: 'user' | 'group';
  /** A user's status in the target system (active, disabled, invited…), when it says. */
  status?: string;
  direct: string[];
  viaGroups: { group: string; roles: string[] }[];
  /**
   * What it holds in the resources of the same tenant (Qlik spaces), where a target has them: read within a budget
   * of requests, so it may be partial; `unavailable` when the system could not be read for it (the roles still are).
   */
  resources?: HoldingsAcross | { unavailable: true; resourceKind: string };
  resourceKind?: string;
}

/** Requests whois may spend on a principal's space roles: one per space, so a tenant with more is answered in part. */
export const WHOIS_RESOURCE_READS = 30;

export type WhoisOutcome = WhoisAnswer | UnknownInstance | PrincipalRefusal | Failure;

/** The principal's holdings in the resources of the target on the same instance that has them, if any. */
async function resourceHoldings(
  ctx: AppContext,
  asked: AccessTarget,
  p: Principal,
): Promise<Pick<WhoisAnswer, 'resources' | 'resourceKind'>> {
  // The same system's target with resources (Qlik spaces beside tenant roles, Mode collections beside groups).
  const target = ctx.deps.targets
    .list()
    .find(
      (x) =>
        x.instance === asked.instance &&
        x.words.system === asked.words.system &&
        x.resourceKind !== undefined &&
        x.holdingsAcross !== undefined,
    );
  if (!target?.holdingsAcross || target.resourceKind === undefined) return {};
  try {
    const across = await target.holdingsAcross(principalRefOf(p), { maxReads: WHOIS_RESOURCE_READS });
    return { resources: across, resourceKind: target.resourceKind };
  } catch (err) {
    // The roles are still worth answering: say the spaces could not be read rather than failing the answer.
    ctx.log.warn({ err: errSummary(err) }, 'whois could not read space roles');
    return {
      resources: { unavailable: true, resourceKind: target.resourceKind },
      resourceKind: target.resourceKind,
    };
  }
}

export function whois(
  ctx: AppContext,
  who: WhoRef,
  asker: PersonRef,
  opts: { instance?: string; kind?: string } = {},
): Promise<WhoisOutcome> {
  return ctx.guard('whois', async (): Promise<WhoisOutcome> => {
    const chosen = ctx.target(opts.instance, undefined, opts.kind);
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
      ...(await resourceHoldings(ctx, chosen.target, t.principal)),
    };
  });
}
