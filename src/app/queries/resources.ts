// Owns the questions about resources (Qlik spaces): `/qlik spaces [<text>]` (which spaces there are, with their
// type and owner) and `/qlik who-has space:"<name>"` (everyone who holds something in one: its owner, users and
// groups with their roles). Read-only, answered by the target whose entitlements live in such resources.
import type { ResourceInfo, ResourceMembers } from '../../targets/types.ts';
import type { AppContext } from '../context.ts';
import type { Failure, ResourceRefused, UnknownInstance } from '../outcomes.ts';

/** How many spaces a listing shows, and how many members of each kind a members answer names. */
export const LISTED = 25;

export interface ResourcesAnswer {
  ok: true;
  resourceKind: string;
  text?: string;
  resources: ResourceInfo[];
  /** How many match in all (more than listed when the answer is cut short). */
  total: number;
  instance: string;
}

export interface MembersAnswer extends ResourceMembers {
  ok: true;
  instance: string;
}

export type ResourceQueryRefusal = UnknownInstance | ResourceRefused | Failure;

/** The resources of `resourceKind` whose name contains `text` (all of them when there is none). */
export function listResources(
  ctx: AppContext,
  resourceKind: string,
  text: string | undefined,
  opts: { instance?: string } = {},
): Promise<ResourcesAnswer | ResourceQueryRefusal> {
  return ctx.guard('listing-resources', async (): Promise<ResourcesAnswer | ResourceQueryRefusal> => {
    const chosen = ctx.target(opts.instance, resourceKind);
    if (!chosen.ok) return chosen;
    const target = chosen.target;
    if (!target.listResources) return unsupported(target.words.system, resourceKind);
    const found = await target.listResources(text, LISTED);
    return {
      ok: true,
      resourceKind,
      ...(text === undefined ? {} : { text }),
      resources: found.resources,
      total: found.total,
      instance: target.instance,
    };
  });
}

/** Everyone who holds something in the resource named `name`. */
export function resourceMembers(
  ctx: AppContext,
  query: { kind: string; name: string },
  opts: { instance?: string } = {},
): Promise<MembersAnswer | ResourceQueryRefusal> {
  return ctx.guard('listing-members', async (): Promise<MembersAnswer | ResourceQueryRefusal> => {
    const chosen = ctx.target(opts.instance, query.kind);
    if (!chosen.ok) return chosen;
    const target = chosen.target;
    if (!target.resolveResource || !target.resourceMembers)
      return unsupported(target.words.system, query.kind);
    const found = await target.resolveResource(query);
    if (!found.ok)
      return { ok: false, code: 'resource-refused', system: target.words.system, refusal: found };
    const members = await target.resourceMembers(found.resource, LISTED);
    return { ok: true, ...members, instance: target.instance };
  });
}

function unsupported(system: string, resourceKind: string): ResourceRefused {
  return {
    ok: false,
    code: 'resource-refused',
    system,
    refusal: { ok: false, code: 'resource-unsupported', resourceKind },
  };
}
