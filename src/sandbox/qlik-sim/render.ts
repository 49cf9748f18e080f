// Wire shapes of the simulator: entities rendered exactly per the specs' User, Group, Role, Space and Assignment
// schemas, and Qlik's error bodies ({errors:[{code,title,detail?,status?,source?}],traceId}; the Spaces API's
// variant with meta.source and the deprecated top-level code/title/detail; the invite's integer-coded one).

import { randomBytes } from 'node:crypto';
import { assignableSpaceRoles } from './spaces.ts';
import type { SimTenant } from './tenant.ts';
import type { SimAssignment, SimGroup, SimRole, SimSpace, SimUser } from './types.ts';

export interface QlikErrorItem {
  code: string;
  title: string;
  detail?: string;
  status?: number;
  source?: { pointer?: string; parameter?: string };
  meta?: Record<string, unknown>;
}

export interface QlikErrors {
  errors: QlikErrorItem[];
  traceId: string;
}

export function traceId(): string {
  return randomBytes(16).toString('hex');
}

export function errorBody(item: QlikErrorItem): QlikErrors {
  return { errors: [item], traceId: traceId() };
}

/**
 * The Spaces API's error body: its Error items have no `status` and carry `source` under `meta`, and the body
 * repeats the first error's code, title and detail at the top level (deprecated there, still sent).
 */
export function spacesErrorBody(item: QlikErrorItem): Record<string, unknown> {
  const { status: _status, source, meta, ...rest } = item;
  const err: Record<string, unknown> = { ...rest };
  const m = { ...(meta ?? {}), ...(source ? { source } : {}) };
  if (Object.keys(m).length > 0) err.meta = m;
  const out: Record<string, unknown> = {
    errors: [err],
    traceId: traceId(),
    code: item.code,
    title: item.title,
  };
  if (item.detail !== undefined) out.detail = item.detail;
  return out;
}

/**
 * The invite operation's ErrorsResponse: `{errors: [{code, title, detail?}]}` with `code` an integer (the spec's
 * "HTTP Status code" or a 100x code) and no traceId, status or source, which that schema does not declare.
 */
export function inviteErrorBody(
  status: number,
  item: QlikErrorItem,
): { errors: Array<{ code: number; title: string; detail?: string }> } {
  const m = /^(?:HTTP-)?(\d+)$/.exec(item.code);
  const err: { code: number; title: string; detail?: string } = {
    code: m ? Number(m[1]) : status,
    title: item.title,
  };
  if (item.detail !== undefined) err.detail = item.detail;
  return { errors: [err] };
}

export interface AssignedRoleJson {
  id: string;
  name: string;
  type: 'default' | 'custom';
  level: 'admin' | 'user';
}

function roleRefs(t: SimTenant, ids: readonly string[]): AssignedRoleJson[] {
  const out: AssignedRoleJson[] = [];
  for (const id of ids) {
    const r = t.getRole(id);
    if (r) out.push({ id: r.id, name: r.name, type: r.type, level: r.level ?? 'user' });
  }
  return out;
}

/** Fields the User schema requires: kept whatever `fields` asks, so a trimmed user still fits the schema. */
const USER_REQUIRED = ['id', 'tenantId', 'subject', 'name'] as const;

/** Keeps the requested top-level fields plus the required ones; `links` only when asked, as the spec says. */
function pick(obj: Record<string, unknown>, fields: readonly string[] | undefined): Record<string, unknown> {
  if (!fields) return obj;
  const out: Record<string, unknown> = {};
  for (const f of USER_REQUIRED) out[f] = obj[f];
  for (const f of fields) if (f in obj) out[f] = obj[f];
  return out;
}

export interface RenderContext {
  tenant: SimTenant;
  /** Absolute base URL of the simulator, no trailing slash. */
  baseUrl: string;
  fields?: readonly string[] | undefined;
  /** False when the caller may not see other users' roles (non-admin key owner). */
  canSeeRoles: (userId: string) => boolean;
}

export function renderUser(ctx: RenderContext, u: SimUser): Record<string, unknown> {
  const t = ctx.tenant;
  const out: Record<string, unknown> = {
    id: u.id,
    tenantId: t.tenantId,
    status: u.status,
    subject: u.subject,
    name: u.name,
  };
  if (u.email !== undefined) out.email = u.email;
  if (u.clientId !== undefined) out.clientId = u.clientId;
  const seeRoles = ctx.canSeeRoles(u.id);
  if (seeRoles) out.assignedRoles = roleRefs(t, u.assignedRoleIds);
  out.assignedGroups = u.groupIds.flatMap((gid) => {
    const g = t.getGroup(gid);
    if (!g) return [];
    const ref: Record<string, unknown> = { id: g.id, name: g.name, providerType: g.providerType };
    if (seeRoles) ref.assignedRoles = roleRefs(t, g.assignedRoleIds);
    return [ref];
  });
  out.assignedScopes = u.assignedScopes;
  out.createdAt = u.createdAt;
  out.lastUpdatedAt = u.lastUpdatedAt;
  for (const k of [
    'inviteExpiry',
    'locale',
    'zoneinfo',
    'preferredLocale',
    'preferredZoneinfo',
    'picture',
  ] as const) {
    if (u[k] !== undefined) out[k] = u[k];
  }
  out.links = { self: { href: `${ctx.baseUrl}/api/v1/users/${u.id}` } };
  if (ctx.fields?.includes('groups')) {
    out.groups = u.groupIds.flatMap((gid) => {
      const g = t.getGroup(gid);
      return g ? [g.name] : [];
    });
  }
  return pick(out, ctx.fields);
}

export function renderGroup(ctx: RenderContext, g: SimGroup): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: g.id,
    tenantId: ctx.tenant.tenantId,
    name: g.name,
    status: g.status,
    providerType: g.providerType,
    assignedRoles: roleRefs(ctx.tenant, g.assignedRoleIds),
    createdAt: g.createdAt,
    lastUpdatedAt: g.lastUpdatedAt,
  };
  if (g.description !== undefined) out.description = g.description;
  if (g.idpId !== undefined) out.idpId = g.idpId;
  if (g.createdBy !== undefined) out.createdBy = g.createdBy;
  if (g.updatedBy !== undefined) out.updatedBy = g.updatedBy;
  out.links = { self: { href: `${ctx.baseUrl}/api/v1/groups/${g.id}` } };
  return out;
}

export function renderRole(ctx: RenderContext, r: SimRole): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: r.id,
    tenantId: ctx.tenant.tenantId,
    name: r.name,
    description: r.description,
    type: r.type,
  };
  if (r.level !== undefined) out.level = r.level;
  out.permissions = r.permissions;
  out.assignedScopes = r.assignedScopes;
  out.canEdit = r.canEdit;
  out.canDelete = r.canDelete;
  if (r.userEntitlementType !== undefined) out.userEntitlementType = r.userEntitlementType;
  out.createdAt = r.createdAt;
  out.lastUpdatedAt = r.lastUpdatedAt;
  if (r.createdBy !== undefined) out.createdBy = r.createdBy;
  if (r.updatedBy !== undefined) out.updatedBy = r.updatedBy;
  out.links = { self: { href: `${ctx.baseUrl}/api/v1/roles/${r.id}` } };
  return out;
}

/**
 * What the caller may do in the space (`meta.actions`): read for anyone who sees it; update for those who manage
 * members; delete and change_owner for the owner and admins; publish into managed spaces for the owner and
 * holders of publisher or facilitator. The product's exact rules are not documented; this is a faithful subset.
 */
export function spaceActions(t: SimTenant, s: SimSpace, userId: string): string[] {
  if (!t.canSeeSpace(s.id, userId)) return [];
  const actions = ['read'];
  const owner = s.ownerId === userId;
  const admin = t.isSpaceAdmin(s.id, userId);
  const roles = t.effectiveSpaceRoles(s.id, userId);
  if (t.canManageSpaceMembers(s.id, userId)) actions.push('update');
  if (owner || admin) actions.push('delete', 'change_owner');
  if (s.type === 'managed' && (owner || roles.includes('publisher') || roles.includes('facilitator'))) {
    actions.push('publish');
  }
  return actions;
}

/** A space as the caller (`userId`, the API key's owner) sees it, with its meta for that caller. */
export function renderSpace(ctx: RenderContext, s: SimSpace, userId: string): Record<string, unknown> {
  const t = ctx.tenant;
  const self = `${ctx.baseUrl}/api/v1/spaces/${s.id}`;
  const out: Record<string, unknown> = {
    id: s.id,
    type: s.type,
    ownerId: s.ownerId,
    tenantId: t.tenantId,
    name: s.name,
  };
  if (s.description !== undefined) out.description = s.description;
  out.createdAt = s.createdAt;
  if (s.createdBy !== undefined) out.createdBy = s.createdBy;
  out.updatedAt = s.updatedAt;
  out.meta = {
    actions: spaceActions(t, s, userId),
    roles: t.effectiveSpaceRoles(s.id, userId),
    assignableRoles: assignableSpaceRoles(s.type),
  };
  out.links = { self: { href: self }, assignments: { href: `${self}/assignments` } };
  return out;
}

export function renderAssignment(ctx: RenderContext, a: SimAssignment): Record<string, unknown> {
  const space = `${ctx.baseUrl}/api/v1/spaces/${a.spaceId}`;
  const out: Record<string, unknown> = {
    id: a.id,
    type: a.type,
    assigneeId: a.assigneeId,
    roles: [...a.roles],
    spaceId: a.spaceId,
    tenantId: ctx.tenant.tenantId,
    createdAt: a.createdAt,
  };
  if (a.createdBy !== undefined) out.createdBy = a.createdBy;
  out.updatedAt = a.updatedAt;
  if (a.updatedBy !== undefined) out.updatedBy = a.updatedBy;
  out.links = { self: { href: `${space}/assignments/${a.id}` }, space: { href: space } };
  return out;
}
