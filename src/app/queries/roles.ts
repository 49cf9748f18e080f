// Owns `/qlik roles`: every role the tenant offers, as the access target lists them (from its cache).
import type { AppContext } from '../context.ts';
import type { Failure, UnknownInstance } from '../outcomes.ts';

export interface RolesAnswer {
  ok: true;
  roles: { name: string; type: 'default' | 'custom'; level?: string; description?: string }[];
}

export function listRoles(
  ctx: AppContext,
  opts: { instance?: string; kind?: string } = {},
): Promise<RolesAnswer | UnknownInstance | Failure> {
  return ctx.guard('listing-roles', async (): Promise<RolesAnswer | UnknownInstance> => {
    const chosen = ctx.target(opts.instance, undefined, opts.kind);
    if (!chosen.ok) return chosen;
    const roles = await chosen.target.listEntitlements();
    return {
      ok: true,
      roles: roles.map((r) => ({
        name: r.name,
        type: r.custom ? ('custom' as const) : ('default' as const),
        ...(r.level ? { level: r.level } : {}),
        ...(r.description ? { description: r.description } : {}),
      })),
    };
  });
}
