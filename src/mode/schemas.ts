// Owns the shapes of Mode's API answers (workspace memberships, users, groups, group memberships, Collections and
// their permissions, verify), parsed with zod at the edge. Loose on purpose: unknown fields pass through and
// undocumented ones may be missing, so a Mode release that adds a field never breaks the bot. Mode documents the
// group counts and `managed` as strings, so flags are read from either a boolean or a string.
import { z } from 'zod';

const optionalText = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

/** A flag Mode may send as a boolean or as a string (`"true"`, `"false"`, `""`): true only when it says so. */
const flag = z
  .union([z.boolean(), z.string(), z.number()])
  .nullish()
  .transform((v) => {
    if (v === null || v === undefined) return false;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0;
    return !['', 'false', '0', 'no', 'null', 'f'].includes(v.trim().toLowerCase());
  });

const linkSchema = z.looseObject({ href: z.string() }).nullish();

const links = z
  .looseObject({ self: linkSchema, user: linkSchema })
  .nullish()
  .transform((v) => v ?? {});

/** One workspace membership: who is in the workspace (no email; that is on the user). */
export const membershipSchema = z
  .looseObject({
    member_token: z.string(),
    member_username: z.string(),
    admin: flag,
    state: optionalText,
    managed_by_scim: flag,
    invited: flag,
    _links: links,
  })
  .transform((m) => ({
    memberToken: m.member_token,
    username: m.member_username,
    admin: m.admin,
    state: m.state,
    managedByScim: m.managed_by_scim,
    /** The membership's own token: Mode has no `token` field, so the last segment of its self link. */
    token: lastSegment(m._links.self?.href),
  }));
export type ModeMembership = z.output<typeof membershipSchema>;

/** A Mode user (`GET /api/{username}`); `email` is optional in Mode's docs. */
export const userSchema = z
  .looseObject({
    username: z.string(),
    name: optionalText,
    email: optionalText,
    token: optionalText,
  })
  .transform((u) => ({ username: u.username, name: u.name, email: u.email, token: u.token }));
export type ModeUser = z.output<typeof userSchema>;

export const groupSchema = z
  .looseObject({
    token: z.string(),
    name: z.string(),
    state: optionalText,
    managed: flag,
    group_type: optionalText,
    description: optionalText,
    member_count: z.union([z.string(), z.number()]).nullish(),
  })
  .transform((g) => ({
    token: g.token,
    name: g.name,
    state: g.state,
    managed: g.managed,
    groupType: g.group_type,
    description: g.description,
    memberCount: countOf(g.member_count),
  }));
export type ModeGroup = z.output<typeof groupSchema>;

export const groupMembershipSchema = z
  .looseObject({ token: z.string(), member_token: z.string() })
  .transform((gm) => ({ token: gm.token, memberToken: gm.member_token }));
export type ModeGroupMembership = z.output<typeof groupMembershipSchema>;

/** A Collection (the API calls it a space). */
export const collectionSchema = z
  .looseObject({
    token: z.string(),
    name: z.string(),
    space_type: optionalText,
    state: optionalText,
    description: optionalText,
    default_access_level: optionalText,
  })
  .transform((s) => ({
    token: s.token,
    name: s.name,
    spaceType: s.space_type,
    state: s.state,
    description: s.description,
    defaultAccessLevel: s.default_access_level,
  }));
export type ModeCollection = z.output<typeof collectionSchema>;

export const permissionSchema = z
  .looseObject({
    token: z.string(),
    action: z.string(),
    accessor_type: z.string(),
    accessor_token: z.string(),
  })
  .transform((p) => ({
    token: p.token,
    action: p.action,
    accessorType: p.accessor_type,
    accessorToken: p.accessor_token,
  }));
export type ModePermission = z.output<typeof permissionSchema>;

export const verifySchema = z
  .looseObject({ workspace: z.unknown().optional(), api_key_scope: optionalText })
  .transform((v) => ({ workspace: v.workspace, scope: v.api_key_scope }));

/** The paging block of a list (OpenAPI `pagination`), when Mode sends one. */
export const paginationSchema = z
  .looseObject({
    total_pages: z.union([z.number(), z.string()]).nullish(),
    total_count: z.union([z.number(), z.string()]).nullish(),
  })
  .nullish();

/** A HAL list: its rows under `_embedded.<key>`, the paging block and the next link. */
export const halListSchema = z.looseObject({
  _embedded: z.record(z.string(), z.unknown()).nullish(),
  pagination: paginationSchema,
  _links: z.looseObject({ next_page: linkSchema }).nullish(),
});

function lastSegment(href: string | undefined): string | undefined {
  if (href === undefined) return undefined;
  const seg = href.split('?')[0]!.replace(/\/+$/, '').split('/').pop();
  return seg === undefined || seg === '' ? undefined : decodeURIComponent(seg);
}

export function countOf(v: string | number | null | undefined): number | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
