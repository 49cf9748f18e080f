// Owns the shapes of Qlik Cloud's Users (invites too), Groups, Roles and Spaces responses, parsed with zod at the edge.
// Loose on purpose: unknown fields pass through and optional fields may be missing (e.g. when `fields=` trims
// the response), so a Qlik release that adds a field never breaks the bot.
import { z } from 'zod';

const optionalText = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

/** A role as embedded in a user's or group's `assignedRoles`. */
const roleRefSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  type: optionalText,
  level: optionalText,
});

const assignedRoles = z
  .array(roleRefSchema)
  .nullish()
  .transform((v) => v ?? []);

const assignedGroupSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  providerType: optionalText,
  assignedRoles,
});

export const userSchema = z.looseObject({
  id: z.string(),
  name: z
    .string()
    .nullish()
    .transform((v) => v ?? ''),
  email: optionalText,
  subject: optionalText,
  status: optionalText,
  tenantId: optionalText,
  assignedRoles,
  assignedGroups: z
    .array(assignedGroupSchema)
    .nullish()
    .transform((v) => v ?? []),
});

export const groupSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: optionalText,
  providerType: optionalText,
  assignedRoles,
});

export const roleSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  type: optionalText,
  level: optionalText,
  description: optionalText,
});

const link = z
  .looseObject({ href: z.string().nullish() })
  .nullish()
  .transform((v) => v ?? undefined);

/** One page of a list endpoint. `links.next.href` is absent, null or an absolute URL holding the cursor. */
export function listPageSchema<T extends z.ZodType>(item: T) {
  return z.looseObject({
    data: z.array(item),
    links: z
      .looseObject({ self: link, next: link, prev: link })
      .nullish()
      .transform((v) => v ?? {}),
    totalResults: z.number().int().nonnegative().optional(),
  });
}

// ---- spaces (spaces.json `Space`, `Spaces`, `Assignment`, `Assignments`) ---------------------------------------

const roleNameList = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? []);

/**
 * A space. `type` and `meta` are required by the spec but read loosely: a space without `meta` (trimmed, or a newer
 * shape) has no assignable roles the bot can offer rather than failing the whole listing. Role names stay plain
 * strings, not the spec's enum, so a role Qlik adds later is shown rather than rejected.
 */
export const spaceSchema = z.looseObject({
  id: z.string(),
  name: z
    .string()
    .nullish()
    .transform((v) => v ?? ''),
  type: optionalText,
  ownerId: optionalText,
  description: optionalText,
  meta: z
    .looseObject({ assignableRoles: roleNameList, roles: roleNameList })
    .nullish()
    .transform((v) => v ?? { assignableRoles: [], roles: [] }),
});

/** One space assignment: a user's or group's roles in one space (the owner has none). */
export const spaceAssignmentSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  assigneeId: z.string(),
  roles: roleNameList,
  spaceId: optionalText,
});

/** One page of a spaces list endpoint: like listPageSchema, but counted in `meta.count`, not `totalResults`. */
export function spacesListPageSchema<T extends z.ZodType>(item: T) {
  return z.looseObject({
    data: z
      .array(item)
      .nullish()
      .transform((v) => v ?? []),
    links: z
      .looseObject({ self: link, next: link, prev: link })
      .nullish()
      .transform((v) => v ?? {}),
    meta: z
      .looseObject({ count: z.number().int().nonnegative().optional() })
      .nullish()
      .transform((v) => v ?? {}),
  });
}

// ---- invites (users.json `InviteDataResponse`, `ResultItem`, `InviteErrorItem`) --------------------------------

/** `ok` (a new user, emailed) or `exists` (a user already there, not emailed); `userId` is what roles go to. */
const inviteResultItemSchema = z.looseObject({
  email: z.string(),
  status: z.enum(['ok', 'exists']),
  userId: z.string().min(1),
  subject: optionalText,
});

/**
 * One invitee Qlik could not invite: 1001 active user, 1002 disabled user, 1003 external dependency. The spec types
 * `code` both as an integer (ErrorItem) and as a string (InviteErrorItem), so either is read, as a string.
 */
const inviteErrorItemSchema = z.looseObject({
  email: z.string(),
  status: z.literal('error'),
  code: z.union([z.string(), z.number()]).transform(String),
  title: optionalText,
  detail: optionalText,
});

/** The invite's 207 body: one item per invitee, in the order they were sent. */
export const inviteResponseSchema = z.looseObject({
  data: z.array(z.discriminatedUnion('status', [inviteResultItemSchema, inviteErrorItemSchema])),
});

export type QlikRoleRef = z.infer<typeof roleRefSchema>;
export type QlikAssignedGroup = z.infer<typeof assignedGroupSchema>;
export type QlikUser = z.infer<typeof userSchema>;
export type QlikGroup = z.infer<typeof groupSchema>;
export type QlikRole = z.infer<typeof roleSchema>;
export type QlikSpace = z.infer<typeof spaceSchema>;
export type QlikSpaceAssignment = z.infer<typeof spaceAssignmentSchema>;

/** What who-has listings return: the lean `fields=` projection of a user (a supertype of QlikUser). */
export type QlikUserSummary = Pick<QlikUser, 'id' | 'name' | 'email' | 'status'>;

export interface ListPage<T> {
  data: T[];
  links: { self?: { href?: string | null | undefined }; next?: { href?: string | null | undefined } };
  totalResults?: number | undefined;
}
