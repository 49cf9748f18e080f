// Owns `/qlik drift`: for approvers, the disagreements the drift check found between what the bot did and what the
// target systems say (src/worker/drift.ts), and `/qlik drift <role>`: the holders of a role that no request of the
// bot granted, read from the target page by page and compared with the bot's record of what it made principals
// hold (src/store/managed.ts). Users are matched by their id in the system, groups by their id or exact name.
// Holders granted before the bot's record existed (and beyond the store's retention) count as not granted by it.
import { stringify } from 'csv-stringify';
import type { PersonRef, ResourceRef } from '../../domain/request.ts';
import type { AccessTarget, EntitlementRef } from '../../targets/types.ts';
import type { AppContext } from '../context.ts';
import { type DriftNotice, driftNotice } from '../notifier.ts';
import type { Failure, UnknownInstance } from '../outcomes.ts';
import { type RoleQueryRefusal, spreadsheetSafe } from './who-has.ts';

/** The role a drift listing is about, as typed; what a "next page" press carries. */
export interface DriftQuery {
  role: string;
  resource?: { kind: string; name: string };
  instance?: string;
}

export interface UnmanagedHolder {
  kind: 'user' | 'group';
  id: string;
  name: string;
  email?: string;
  status?: string;
}

export interface UnmanagedAnswer {
  ok: true;
  role: string;
  resource?: ResourceRef;
  /** The tenant (target instance) answered for, and its system's name. */
  instance: string;
  system: string;
  /** Direct holders read from the system (users and groups), and how many of them a request of the bot granted. */
  holders: number;
  granted: number;
  /** Every holder no request of the bot granted, users first, in the system's order. */
  unmanaged: UnmanagedHolder[];
  /** More groups hold it than the system lists on its first page: only those were compared. */
  groupsPartial: boolean;
}

export type DriftOutcome<T> = T | { ok: false; code: 'not-approver' } | RoleQueryRefusal;

export interface FindingsAnswer {
  ok: true;
  findings: DriftNotice[];
}

/** `/qlik drift <role>`: the role's holders that no request of the bot granted. Approvers of that role only. */
export function unmanagedHolders(
  ctx: AppContext,
  asker: PersonRef,
  q: DriftQuery,
): Promise<DriftOutcome<UnmanagedAnswer>> {
  return ctx.guard('checking-drift', async (): Promise<DriftOutcome<UnmanagedAnswer>> => {
    const chosen = ctx.target(q.instance, q.resource?.kind);
    if (!chosen.ok) return chosen;
    const target = chosen.target;
    const role = await ctx.entitlement(target, q.role, q.resource);
    if (!role.ok) return role;
    const e = role.entitlement;
    const targetRef = {
      kind: target.kind,
      instance: target.instance,
      ...(e.resource === undefined ? {} : { resource: e.resource }),
    };
    if (!(await ctx.isApprover({ entitlement: { id: e.id, name: e.name }, targetRef }, asker)))
      return { ok: false, code: 'not-approver' };
    const granted = await grantedBy(ctx, target, e);
    const summary = await target.holdersSummary(e);
    const unmanaged: UnmanagedHolder[] = [];
    let holders = 0;
    let grantedCount = 0;
    for await (const u of target.holders(e, summary.resume)) {
      holders++;
      if (granted.users.has(u.id)) {
        grantedCount++;
        continue;
      }
      unmanaged.push({
        kind: 'user',
        id: u.id,
        name: u.name || u.email || u.id,
        ...(u.email ? { email: u.email } : {}),
        ...(u.status ? { status: u.status } : {}),
      });
    }
    for (const g of summary.groups.first) {
      holders++;
      if (granted.groups.has(g.name.toLowerCase())) grantedCount++;
      else unmanaged.push({ kind: 'group', id: '', name: g.name });
    }
    return {
      ok: true,
      role: e.name,
      ...(e.resource === undefined ? {} : { resource: e.resource }),
      instance: target.instance,
      system: target.words.system,
      holders,
      granted: grantedCount,
      unmanaged,
      groupsPartial: summary.groups.total > summary.groups.first.length,
    };
  });
}

/** Who the bot's record says a request of the bot made hold the entitlement now: users by id, groups by name. */
async function grantedBy(
  ctx: AppContext,
  target: AccessTarget,
  e: EntitlementRef,
): Promise<{ users: Set<string>; groups: Set<string> }> {
  // Requests record the instance by its configured name, or as `default` for the first instance of its kind.
  const instances = [target.instance];
  if (ctx.deps.targets.defaultOf(target.kind) === target) instances.push('default');
  const users = new Set<string>();
  const groups = new Set<string>();
  await ctx.db(async () => {
    for await (const h of ctx.deps.managed.scan({
      kind: target.kind,
      instances,
      ...(e.resource === undefined ? {} : { resourceId: e.resource.id }),
      entitlementId: e.id,
    })) {
      if (h.a !== 'grant') continue;
      if (h.principal.kind === 'user') users.add(h.principal.id);
      else groups.add(h.who.toLowerCase());
    }
  });
  return { users, groups };
}

/** The full list as a CSV in the asker's DM, for a list longer than a message shows. */
export function sendUnmanagedCsv(
  ctx: AppContext,
  to: PersonRef,
  answer: UnmanagedAnswer,
): Promise<{ ok: true; rows: number } | Failure> {
  return ctx.guard('building-csv', async (): Promise<{ ok: true; rows: number } | Failure> => {
    const csv = stringify({ header: true, columns: ['kind', 'name', 'email', 'id', 'status'] });
    const chunks: Buffer[] = [];
    csv.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    const finished = new Promise<void>((resolve, reject) => {
      csv.on('end', resolve);
      csv.on('error', reject);
    });
    for (const u of answer.unmanaged)
      csv.write([u.kind, spreadsheetSafe(u.name), spreadsheetSafe(u.email ?? ''), u.id, u.status ?? '']);
    csv.end();
    await finished;
    await ctx.deps.notifier.sendFile(to, {
      kind: 'unmanaged',
      entitlement: answer.role,
      ...(answer.resource === undefined ? {} : { resource: answer.resource.name }),
      rows: answer.unmanaged.length,
      at: ctx.now(),
      csv: Buffer.concat(chunks),
    });
    return { ok: true, rows: answer.unmanaged.length };
  });
}

/** `/qlik drift`: the disagreements the drift check found and that still stand, newest first. Approvers only. */
export function driftFindings(
  ctx: AppContext,
  asker: PersonRef,
  opts: { instance?: string } = {},
): Promise<FindingsAnswer | { ok: false; code: 'not-approver' } | UnknownInstance | Failure> {
  return ctx.guard('checking-drift', async () => {
    if (!(await ctx.isAnyApprover(asker))) return { ok: false as const, code: 'not-approver' as const };
    let only: AccessTarget | undefined;
    if (opts.instance !== undefined) {
      const chosen = ctx.target(opts.instance);
      if (!chosen.ok) return chosen;
      only = chosen.target;
    }
    const open = await ctx.db(() => ctx.deps.managed.openFindings());
    const findings: DriftNotice[] = [];
    for (const f of open) {
      if (f.confirmedAt === undefined) continue; // seen once: maybe a change being made right now
      let target: AccessTarget | undefined;
      try {
        target = ctx.deps.targets.get(f.entry.target);
      } catch {
        target = undefined;
      }
      if (only !== undefined && target !== only) continue;
      findings.push(driftNotice(f, target?.words.system ?? 'the target system'));
    }
    return { ok: true as const, findings };
  });
}
