// Test helper for the Mode simulator: one authenticated call (Basic token:secret, HAL Accept) returning the
// status, headers and parsed body, and the strict zod shapes of every resource the reference documents.

import { z } from 'zod';
import type { ModeSimulator } from '../../../src/sandbox/mode-sim/index.ts';

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

export async function call(
  sim: ModeSimulator,
  method: string,
  path: string,
  opts: { body?: unknown; auth?: string | null } = {},
): Promise<Reply> {
  const auth =
    opts.auth === undefined
      ? `Basic ${Buffer.from(`${sim.token}:${sim.secret}`).toString('base64')}`
      : opts.auth;
  const headers: Record<string, string> = { accept: 'application/hal+json' };
  if (auth !== null) headers.authorization = auth;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

const Link = z.strictObject({ href: z.string().startsWith('/') });
const Token = z.string().regex(/^[0-9a-f]{12}$/);
const Iso = z.iso.datetime();

/** Strict: a field the reference says is absent (email, token) fails the parse. */
export const Membership = z.strictObject({
  admin: z.boolean(),
  invited: z.boolean(),
  state: z.string(),
  member_username: z.string(),
  member_token: Token,
  activated_at: Iso.nullable(),
  managed_by_scim: z.boolean(),
  _links: z.strictObject({
    self: Link,
    user: Link,
    groups: Link,
    web_self_approve: Link,
    web_self_unban: Link,
  }),
});

export const User = z.strictObject({
  token: Token,
  username: z.string(),
  name: z.string(),
  email: z.string().optional(),
  avatar_url: z.string(),
  created_at: Iso,
  _links: z.strictObject({ self: Link, web: Link }),
});

const NumericString = z.string().regex(/^\d+$/);
export const Group = z.strictObject({
  token: Token,
  group_type: z.string(),
  name: z.string(),
  description: z.string(),
  state: z.enum(['active', 'soft_deleted']),
  member_count: NumericString,
  spaces_count: NumericString,
  data_sources_count: NumericString,
  managed: z.enum(['true', 'false']),
  created_at: Iso,
  _links: z.strictObject({ self: Link, memberships: Link }),
});

export const GroupMembership = z.strictObject({
  token: Token,
  member_token: Token,
  created_at: Iso,
  _links: z.strictObject({ member: Link, user_group: Link, creator: Link, self: Link }),
});

export const Collection = z.strictObject({
  token: Token,
  space_type: z.string(),
  name: z.string(),
  description: z.string(),
  state: z.string(),
  restricted: z.boolean(),
  default_access_level: z.enum(['restricted', 'view', 'edit']),
  created_at: Iso,
  _links: z.strictObject({ self: Link, permissions: Link, web: Link }),
});

export const Permission = z.strictObject({
  token: Token,
  action: z.enum(['view', 'edit']),
  accessor_type: z.enum(['Account', 'UserGroup']),
  accessor_token: Token,
  created_at: Iso,
  updated_at: Iso,
  _links: z.strictObject({ self: Link, space: Link, accessor: Link }),
});

export const ErrorBody = z.strictObject({ id: z.string(), message: z.string() });

const PageLinks = z.strictObject({ self: Link, next_page: Link.optional(), prev_page: Link.optional() });
const Pagination = z.strictObject({
  first_page: z.number().int(),
  last_page: z.number().int(),
  total_pages: z.number().int(),
  total_count: z.number().int(),
});

export const MembershipList = z.strictObject({
  _links: z.strictObject({ self: Link }),
  _embedded: z.strictObject({ memberships: z.array(Membership) }),
});
export const GroupList = z.strictObject({
  pagination: Pagination,
  _links: PageLinks,
  _embedded: z.strictObject({ groups: z.array(Group) }),
});
export const GroupMembershipList = z.strictObject({
  pagination: Pagination,
  _links: PageLinks,
  _embedded: z.strictObject({ group_memberships: z.array(GroupMembership) }),
});
export const CollectionList = z.strictObject({
  _links: z.strictObject({ self: Link }),
  _embedded: z.strictObject({ spaces: z.array(Collection) }),
});
export const PermissionList = z.strictObject({
  _links: z.strictObject({ self: Link }),
  _embedded: z.strictObject({ permissions: z.array(Permission) }),
});
