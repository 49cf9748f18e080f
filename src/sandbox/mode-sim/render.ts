// HAL JSON shapes of the Mode workspace simulator: one function per resource, with the fields
// /work/shared/reference/mode-api.md documents. Hrefs are relative paths from the host ("/api/acme/…"), as
// Mode's examples show them; a client resolves them against the origin, not against the /api base.

import type { ModeCollection, ModeGroup, ModeGroupMembership, ModeMember, ModePermission } from './types.ts';
import type { ModeWorkspace } from './workspace.ts';

export interface Link {
  href: string;
  templated?: boolean;
}

const link = (href: string): Link => ({ href });
const iso = (ms: number): string => new Date(ms).toISOString();
const enc = encodeURIComponent;

/** The body of every error: `{id, message}` (ids from Mode's OpenAPI; 429's is the simulator's own choice). */
export function errorId(status: number): string {
  if (status === 400) return 'bad_request';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'too_many_requests';
  if (status >= 500) return 'internal_server_error';
  return 'error';
}

export function renderWorkspace(ws: ModeWorkspace) {
  const base = `/api/${ws.username}`;
  return {
    username: ws.username,
    name: ws.name,
    _links: {
      self: link(base),
      memberships: link(`${base}/memberships`),
      groups: link(`${base}/groups`),
      spaces: link(`${base}/spaces`),
    },
  };
}

/** A workspace membership: no `token` field (it is the last segment of self) and no email, as documented. */
export function renderMembership(ws: ModeWorkspace, m: ModeMember) {
  const base = `/api/${ws.username}`;
  return {
    admin: m.admin,
    invited: m.invited,
    state: m.state,
    member_username: m.username,
    member_token: m.memberToken,
    activated_at: m.activatedAt === undefined ? null : iso(m.activatedAt),
    managed_by_scim: m.managedByScim,
    _links: {
      self: link(`${base}/memberships/${m.membershipToken}`),
      user: link(`/api/${m.username}`),
      groups: link(`${base}/groups?member=${enc(m.username)}`),
      web_self_approve: link(`/${ws.username}/members/${m.membershipToken}/approve`),
      web_self_unban: link(`/${ws.username}/members/${m.membershipToken}/unban`),
    },
  };
}

/** A user; `email` only when the member has one (the reference: optional). */
export function renderUser(m: ModeMember) {
  return {
    token: m.memberToken,
    username: m.username,
    name: m.name,
    ...(m.email === undefined ? {} : { email: m.email }),
    avatar_url: `https://mode.example/avatars/${m.username}.png`,
    created_at: iso(m.createdAt),
    _links: { self: link(`/api/${m.username}`), web: link(`/${m.username}`) },
  };
}

/**
 * A group. The counts and `managed` are strings, as documented. `group_type` has no documented values: the
 * simulator says "scim" for managed groups and "custom" otherwise, and no client should rely on either.
 */
export function renderGroup(ws: ModeWorkspace, g: ModeGroup) {
  const base = `/api/${ws.username}/groups/${g.token}`;
  const spaces = ws
    .collections()
    .filter((c) =>
      ws.permissionsOf(c.token).some((p) => p.accessorType === 'UserGroup' && p.accessorToken === g.token),
    );
  return {
    token: g.token,
    group_type: g.managed ? 'scim' : 'custom',
    name: g.name,
    description: g.description,
    state: g.state,
    member_count: String(ws.groupMemberTokens(g.token).length),
    spaces_count: String(spaces.length),
    data_sources_count: '0',
    managed: String(g.managed),
    created_at: iso(g.createdAt),
    _links: { self: link(base), memberships: link(`${base}/memberships`) },
  };
}

export function renderGroupMembership(ws: ModeWorkspace, row: ModeGroupMembership) {
  const base = `/api/${ws.username}`;
  const member = ws.member(row.memberToken);
  const creator = row.creatorToken === undefined ? undefined : ws.member(row.creatorToken);
  return {
    token: row.token,
    member_token: row.memberToken,
    created_at: iso(row.createdAt),
    _links: {
      member: link(member ? `${base}/memberships/${member.membershipToken}` : `${base}/memberships`),
      user_group: link(`${base}/groups/${row.groupToken}`),
      // The API key is no user: rows it created name the workspace as their creator.
      creator: link(creator ? `/api/${creator.username}` : base),
      self: link(`${base}/groups/${row.groupToken}/memberships/${row.token}`),
    },
  };
}

export function renderCollection(ws: ModeWorkspace, c: ModeCollection) {
  const base = `/api/${ws.username}/spaces/${c.token}`;
  return {
    token: c.token,
    space_type: 'custom',
    name: c.name,
    description: c.description,
    state: 'active',
    restricted: c.defaultAccessLevel === 'restricted',
    default_access_level: c.defaultAccessLevel,
    created_at: iso(c.createdAt),
    _links: {
      self: link(base),
      permissions: link(`${base}/permissions`),
      web: link(`/${ws.username}/spaces/${c.token}`),
    },
  };
}

export function renderPermission(ws: ModeWorkspace, p: ModePermission) {
  const base = `/api/${ws.username}/spaces/${p.collectionToken}`;
  const accessor =
    p.accessorType === 'UserGroup'
      ? `/api/${ws.username}/groups/${p.accessorToken}`
      : `/api/${ws.member(p.accessorToken)?.username ?? p.accessorToken}`;
  return {
    token: p.token,
    action: p.action,
    accessor_type: p.accessorType,
    accessor_token: p.accessorToken,
    created_at: iso(p.createdAt),
    updated_at: iso(p.updatedAt),
    _links: { self: link(`${base}/permissions/${p.token}`), space: link(base), accessor: link(accessor) },
  };
}
