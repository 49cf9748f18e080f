// Owns `/qlik who-has <role>`: how many hold the role directly, through groups, and which groups hold it, with the
// first holders by name (the target's summary); and the full list of direct holders as a CSV streamed page by page
// from the target and handed to the person as a file.
import { stringify } from 'csv-stringify';
import type { PersonRef, ResourceRef } from '../../domain/request.ts';
import type { EntitlementRef } from '../../targets/types.ts';
import type { AppContext } from '../context.ts';
import type { Failure, ResourceRefused, UnknownInstance, UnknownRole } from '../outcomes.ts';

export interface WhoHasAnswer {
  ok: true;
  role: string;
  directTotal: number;
  /** `status` is the target system's (active, disabled, invited…), so a listing can show who can't use the role. */
  direct: { name: string; email?: string; status?: string }[];
  viaGroupsTotal: number;
  groups: { name: string }[];
  groupsTotal: number;
  /** More direct holders than are listed: the full list should follow as a CSV (see sendHoldersCsv). */
  csvNeeded: boolean;
  /** The role as the target knows it, for the CSV listing. */
  entitlement: EntitlementRef;
  /** The tenant (target instance) answered for. */
  instance: string;
  /** The resource the role is in (a space), for a role in one. */
  resource?: ResourceRef;
  /** Where the CSV listing carries on without reading the first page again (opaque; the target's). */
  resume?: unknown;
  /** The group every user is in holds the role: every user of the tenant has it. Undefined when it didn't say. */
  everyone?: boolean;
}

/** Why who-has (or its CSV) has no answer. */
export type RoleQueryRefusal = UnknownInstance | UnknownRole | ResourceRefused | Failure;

/** Where a CSV listing starts: the who-has answer it follows, when there was one. */
export interface HoldersFrom {
  entitlement?: EntitlementRef;
  resume?: unknown;
  instance?: string;
  /** The resource the role is in, as typed, when the listing has no entitlement to carry on from. */
  resourceQuery?: { kind: string; name: string };
  /** The kind of access (`mode-groups`); tenant roles when absent. */
  kind?: string;
}

/** Counts and the first holders; the full list comes from sendHoldersCsv. */
export function whoHas(
  ctx: AppContext,
  roleName: string,
  opts: { instance?: string; resource?: { kind: string; name: string }; kind?: string } = {},
): Promise<WhoHasAnswer | RoleQueryRefusal> {
  return ctx.guard('who-has', async (): Promise<WhoHasAnswer | RoleQueryRefusal> => {
    const chosen = ctx.target(opts.instance, opts.resource?.kind, opts.kind);
    if (!chosen.ok) return chosen;
    const target = chosen.target;
    const role = await ctx.entitlement(target, roleName, opts.resource);
    if (!role.ok) return role;
    const resource = role.entitlement.resource;
    const s = await target.holdersSummary(role.entitlement);
    return {
      ok: true,
      role: role.entitlement.name,
      directTotal: s.direct.total,
      direct: s.direct.first.map((u) => ({
        name: u.name || u.email || u.id,
        ...(u.email ? { email: u.email } : {}),
        ...(u.status ? { status: u.status } : {}),
      })),
      viaGroupsTotal: s.inherited.total,
      groups: s.groups.first,
      groupsTotal: s.groups.total,
      csvNeeded: s.direct.total > s.direct.first.length,
      entitlement: role.entitlement,
      instance: target.instance,
      ...(resource === undefined ? {} : { resource }),
      ...(s.resume === undefined ? {} : { resume: s.resume }),
      ...(s.heldByEveryone === undefined ? {} : { everyone: s.heldByEveryone }),
    };
  });
}

/**
 * Streams every direct holder of the role into a CSV and uploads it to the user's DM. Holders are read page by page
 * and turned into CSV lines as they arrive; only the CSV text is kept, never the user objects.
 */
export function sendHoldersCsv(
  ctx: AppContext,
  roleName: string,
  to: PersonRef,
  from: HoldersFrom = {},
): Promise<{ ok: true; rows: number } | RoleQueryRefusal> {
  return ctx.guard('building-csv', async (): Promise<{ ok: true; rows: number } | RoleQueryRefusal> => {
    const resourceKind = from.entitlement?.resource?.kind ?? from.resourceQuery?.kind;
    const chosen = ctx.target(from.instance, resourceKind, from.kind);
    if (!chosen.ok) return chosen;
    const target = chosen.target;
    let entitlement = from.entitlement;
    if (entitlement === undefined) {
      const role = await ctx.entitlement(target, roleName, from.resourceQuery);
      if (!role.ok) return role;
      entitlement = role.entitlement;
    }
    const csv = stringify({ header: true, columns: ['name', 'email', 'id', 'status'] });
    const chunks: Buffer[] = [];
    csv.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    const finished = new Promise<void>((resolve, reject) => {
      csv.on('end', resolve);
      csv.on('error', reject);
    });
    let rows = 0;
    for await (const u of target.holders(entitlement, from.resume)) {
      csv.write([spreadsheetSafe(u.name ?? ''), spreadsheetSafe(u.email ?? ''), u.id, u.status ?? '']);
      rows++;
    }
    csv.end();
    await finished;
    await ctx.deps.notifier.sendFile(to, {
      kind: 'holders',
      entitlement: roleName,
      ...(entitlement.resource === undefined ? {} : { resource: entitlement.resource.name }),
      rows,
      at: ctx.now(),
      csv: Buffer.concat(chunks),
    });
    return { ok: true, rows };
  });
}

/** Cells starting with = + - @ (or a tab/CR) are formulas to a spreadsheet; a leading ' keeps them text. */
export function spreadsheetSafe(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}
