// In-memory Qlik Cloud tenant: roles, users, groups, spaces with their assignments, and the lookup indexes the
// simulator's filters use. All mutation goes through methods so the indexes never drift from the entities.

import { randomBytes, randomUUID } from 'node:crypto';
import { assignableSpaceRoles, isSpaceType, spaceNameProblem } from './spaces.ts';
import type {
  GroupStatus,
  ProviderType,
  RoleLevel,
  SimAssignment,
  SimAssignmentInput,
  SimGroup,
  SimGroupInput,
  SimIdentityProvider,
  SimInviteInput,
  SimInviteRecord,
  SimInviteResult,
  SimRole,
  SimRoleInput,
  SimSpace,
  SimSpaceInput,
  SimUser,
  SimUserInput,
  SpaceType,
} from './types.ts';

export const EVERYONE_GROUP_ID = '000000000000000000000001';
export const EVERYONE_GROUP_NAME = 'com.qlik.Everyone';

/** The current default roles of a Qlik Cloud tenant (qlik.dev "Default roles", 2026-01-26). No `Developer`. */
export const DEFAULT_ROLES: ReadonlyArray<{ name: string; level: RoleLevel; description: string }> = [
  { name: 'AnalyticsAdmin', level: 'admin', description: 'Manages analytics content and spaces.' },
  { name: 'AuditAdmin', level: 'admin', description: 'Reads audit events across the tenant.' },
  { name: 'DataAdmin', level: 'admin', description: 'Manages data integration content and spaces.' },
  { name: 'TenantAdmin', level: 'admin', description: 'Full administration of the tenant.' },
  { name: 'AutomationCreator', level: 'user', description: 'Creates and runs automations.' },
  {
    name: 'AutomlDeploymentContributor',
    level: 'user',
    description: 'Creates and manages ML deployments.',
  },
  {
    name: 'AutomlExperimentContributor',
    level: 'user',
    description: 'Creates and manages ML experiments.',
  },
  { name: 'CollaborationPlatformUser', level: 'user', description: 'Uses the collaboration features.' },
  { name: 'DataProductManager', level: 'user', description: 'Creates and manages data products.' },
  { name: 'DataServicesContributor', level: 'user', description: 'Works with data services and pipelines.' },
  { name: 'DataSpaceCreator', level: 'user', description: 'Creates data spaces.' },
  {
    name: 'EmbeddedAnalyticsUser',
    level: 'user',
    description: 'Restrictive role for users of embedded analytics.',
  },
  { name: 'ManagedSpaceCreator', level: 'user', description: 'Creates managed spaces.' },
  {
    name: 'PrivateAnalyticsContentCreator',
    level: 'user',
    description: 'Creates analytics content in personal space.',
  },
  { name: 'SharedSpaceCreator', level: 'user', description: 'Creates shared spaces.' },
  { name: 'Steward', level: 'user', description: 'Manages data quality and glossaries.' },
];

export type SimTenantErrorKind = 'not-found' | 'conflict' | 'invalid';

/** Thrown by SimTenant for setup mistakes (unknown role name, duplicate group name, ...). */
export class SimTenantError extends Error {
  readonly kind: SimTenantErrorKind;
  constructor(kind: SimTenantErrorKind, message: string) {
    super(message);
    this.name = 'SimTenantError';
    this.kind = kind;
  }
}

export interface SimTenantOptions {
  /** Qlik-style tenant id; random when absent (deterministic from seed when one is given). */
  tenantId?: string;
  /** Makes generated ids and timestamps deterministic. */
  seed?: number;
  /** Add the default roles and the Everyone group (default true). */
  withDefaults?: boolean;
  /**
   * How people sign in: 'qlik' (Qlik Account, the default) or 'custom' (the tenant's own IdP). Invites work only
   * with Qlik Account logins (reference §8.14), so on a 'custom' tenant every invitee answers error 1003.
   */
  identityProvider?: SimIdentityProvider;
  /** The tenant clock in ms since epoch (invite expiries, the invite log); default Date.now. */
  now?: () => number;
}

/**
 * How long an invite stays valid. Qlik documents only "a limited period" (help: Adding users to Qlik Cloud), so
 * the simulator picks 7 days: a week, the usual length of emailed invites, long enough that no test or sandbox
 * session sees one lapse by itself, and a fixed number so expiries can be asserted exactly.
 */
export const INVITE_VALIDITY_DAYS = 7;

/**
 * Languages an invite email is sent in (ISO 639-1). Qlik says the code "defaults to 'en' when missing or not
 * found" without listing the ones it has; these are the languages of Qlik Cloud's UI.
 */
export const INVITE_LANGUAGES: ReadonlySet<string> = new Set([
  'de',
  'en',
  'es',
  'fr',
  'it',
  'ja',
  'ko',
  'nl',
  'pl',
  'pt',
  'ru',
  'sv',
  'tr',
  'zh',
]);

/** The invite error codes of users.json's InviteErrorItem: active user, disabled user, external dependency. */
export const INVITE_ERROR_TITLES = {
  '1001': 'Active User',
  '1002': 'Disabled User',
  '1003': 'Default External Dependency Error',
} as const;

/** Lowercased value -> entity ids; the case-insensitive equality indexes behind `eq` filters. */
type Index = Map<string, Set<string>>;

function indexAdd(idx: Index, key: string | undefined, id: string): void {
  if (key === undefined) return;
  const k = key.toLowerCase();
  let set = idx.get(k);
  if (!set) {
    set = new Set();
    idx.set(k, set);
  }
  set.add(id);
}

function indexDelete(idx: Index, key: string | undefined, id: string): void {
  if (key === undefined) return;
  const k = key.toLowerCase();
  const set = idx.get(k);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) idx.delete(k);
}

const EMPTY: ReadonlySet<string> = new Set();

export type UserIndexedField = 'subject' | 'name' | 'email' | 'status' | 'clientId' | 'assignedScopes';

const USER_STATUSES: ReadonlySet<string> = new Set([
  'active',
  'invited',
  'disabled',
  'deleted',
  'provisioned',
]);

/** Seconds since epoch of 2024-01-01, the base of seeded ObjectIds and timestamps. */
const SEEDED_EPOCH_SEC = 1_704_067_200;

export class SimTenant {
  readonly tenantId: string;
  /** Increments on every mutation. */
  version = 0;
  /**
   * Increments only when an entity kind's sort order may change (added, removed, or a sortable field edited).
   * Role and membership changes leave it alone, so list caches survive the common writes.
   */
  readonly orderVersion = { users: 0, groups: 0, roles: 0 };
  /** The user the default API key belongs to, when the seed designated one. */
  serviceUserId: string | undefined;
  /** Changeable at run time, e.g. to test a tenant that moved from Qlik Account to its own IdP. */
  identityProvider: SimIdentityProvider;
  /** The tenant clock (ms since epoch). */
  readonly now: () => number;

  private readonly machineHex: string;
  private readonly seeded: boolean;
  private idCounter = 0;
  private readonly rolesById = new Map<string, SimRole>();
  private readonly roleIdByName = new Map<string, string>();
  private readonly roleIdsByLowerName: Index = new Map();
  private readonly usersById = new Map<string, SimUser>();
  private readonly groupsById = new Map<string, SimGroup>();
  private readonly groupIdByName = new Map<string, string>();
  private readonly userIdx: Record<UserIndexedField, Index> = {
    subject: new Map(),
    name: new Map(),
    email: new Map(),
    status: new Map(),
    clientId: new Map(),
    assignedScopes: new Map(),
  };
  private readonly usersByRoleId: Index = new Map();
  private readonly usersByGroupId: Index = new Map();
  private readonly groupsByRoleId: Index = new Map();
  private readonly spacesById = new Map<string, SimSpace>();
  private readonly spaceIdByName = new Map<string, string>();
  /** spaceId -> assigneeId -> assignment: one assignment per space and assignee, as Qlik enforces. */
  private readonly assignmentsBySpace = new Map<string, Map<string, SimAssignment>>();
  private readonly rnd: (() => number) | undefined;
  private readonly inviteLog: SimInviteRecord[] = [];
  private invitesToFail = 0;

  constructor(opts: SimTenantOptions = {}) {
    this.seeded = opts.seed !== undefined;
    const rnd = opts.seed !== undefined ? mulberry32(opts.seed) : undefined;
    this.rnd = rnd;
    this.identityProvider = opts.identityProvider ?? 'qlik';
    this.now = opts.now ?? Date.now;
    const hex = (n: number) =>
      rnd
        ? Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('')
        : randomBytes(Math.ceil(n / 2))
            .toString('hex')
            .slice(0, n);
    this.machineHex = hex(10);
    this.tenantId = opts.tenantId ?? qlikTenantId(rnd);
    if (opts.withDefaults !== false) {
      for (const r of DEFAULT_ROLES) {
        this.addRole({ name: r.name, type: 'default', level: r.level, description: r.description });
      }
      this.addGroup({
        id: EVERYONE_GROUP_ID,
        name: EVERYONE_GROUP_NAME,
        providerType: 'custom',
        system: true,
        description: 'All users of the tenant.',
      });
    }
  }

  /** A new 24-hex ObjectId; increasing in creation order like MongoDB's. */
  newId(): string {
    this.idCounter += 1;
    const sec = this.seeded
      ? SEEDED_EPOCH_SEC + Math.floor(this.idCounter / 1000)
      : Math.floor(Date.now() / 1000);
    return (
      sec.toString(16).padStart(8, '0') +
      this.machineHex +
      (this.idCounter & 0xffffff).toString(16).padStart(6, '0')
    );
  }

  /** Creation timestamp: deterministic for seeded tenants, wall clock otherwise. */
  private stamp(): string {
    if (this.seeded) return new Date((SEEDED_EPOCH_SEC + this.idCounter) * 1000).toISOString();
    return new Date().toISOString();
  }

  /** Update timestamp: the wall clock, like lastUpdatedAt elsewhere. */
  private stampNow(): string {
    return new Date().toISOString();
  }

  private touch(): string {
    this.version += 1;
    return new Date().toISOString();
  }

  // ---------------------------------------------------------------- roles

  addRole(input: SimRoleInput): SimRole {
    if (this.roleIdByName.has(input.name)) {
      throw new SimTenantError('conflict', `A role named "${input.name}" already exists.`);
    }
    const id = input.id ?? this.newId();
    if (this.rolesById.has(id)) throw new SimTenantError('conflict', `A role with id ${id} already exists.`);
    const type = input.type ?? 'custom';
    const createdAt = input.createdAt ?? this.stamp();
    const role: SimRole = {
      id,
      name: input.name,
      type,
      // AssignedRoles entries require a level, so custom roles get the user level unless told otherwise.
      level: input.level ?? 'user',
      description: input.description ?? '',
      permissions: input.permissions ?? [],
      assignedScopes: input.assignedScopes ?? [],
      canEdit: input.canEdit ?? type === 'custom',
      canDelete: input.canDelete ?? type === 'custom',
      createdAt,
      lastUpdatedAt: input.lastUpdatedAt ?? createdAt,
    };
    if (input.userEntitlementType !== undefined) role.userEntitlementType = input.userEntitlementType;
    if (input.createdBy !== undefined) role.createdBy = input.createdBy;
    if (input.updatedBy !== undefined) role.updatedBy = input.updatedBy;
    this.rolesById.set(id, role);
    this.roleIdByName.set(role.name, id);
    indexAdd(this.roleIdsByLowerName, role.name, id);
    this.orderVersion.roles += 1;
    this.touch();
    return role;
  }

  /**
   * Deletes a custom role as an admin does in the console (DELETE /api/v1/roles/{id}): it is taken off every user
   * and group first, and from then on a role list naming its id is refused (400), as Qlik refuses an unknown role.
   */
  deleteRole(id: string): void {
    const role = this.rolesById.get(id);
    if (!role) throw new SimTenantError('not-found', `No role with id ${id} in the tenant.`);
    if (role.type !== 'custom') throw new SimTenantError('invalid', `${role.name} is a default role.`);
    for (const uid of [...this.userIdsWithRole(id)]) {
      const u = this.requireUser(uid);
      this.setUserRoleIds(
        uid,
        u.assignedRoleIds.filter((r) => r !== id),
      );
    }
    for (const gid of [...this.groupIdsWithRole(id)]) {
      const g = this.requireGroup(gid);
      this.setGroupRoleIds(
        gid,
        g.assignedRoleIds.filter((r) => r !== id),
      );
    }
    this.rolesById.delete(id);
    this.roleIdByName.delete(role.name);
    indexDelete(this.roleIdsByLowerName, role.name, id);
    this.orderVersion.roles += 1;
    this.touch();
  }

  getRole(id: string): Readonly<SimRole> | undefined {
    return this.rolesById.get(id);
  }

  /** Exact (case-sensitive) name lookup, as role names are unique per tenant. */
  roleByName(name: string): Readonly<SimRole> | undefined {
    const id = this.roleIdByName.get(name);
    return id === undefined ? undefined : this.rolesById.get(id);
  }

  /** Role ids whose name equals `name` ignoring case (what a case-insensitive filter matches). */
  roleIdsByNameInsensitive(name: string): ReadonlySet<string> {
    return this.roleIdsByLowerName.get(name.toLowerCase()) ?? EMPTY;
  }

  roles(): IterableIterator<Readonly<SimRole>> {
    return this.rolesById.values();
  }

  get roleCount(): number {
    return this.rolesById.size;
  }

  private roleIdsFromNames(names: readonly string[]): string[] {
    return names.map((n) => {
      const r = this.roleByName(n);
      if (!r) throw new SimTenantError('not-found', `No role named "${n}" in the tenant.`);
      return r.id;
    });
  }

  private checkRoleIds(ids: readonly string[]): void {
    for (const id of ids) {
      if (!this.rolesById.has(id))
        throw new SimTenantError('not-found', `No role with id ${id} in the tenant.`);
    }
  }

  // ---------------------------------------------------------------- groups

  addGroup(input: SimGroupInput): SimGroup {
    if (this.groupIdByName.has(input.name)) {
      throw new SimTenantError('conflict', `A group named "${input.name}" already exists.`);
    }
    const id = input.id ?? this.newId();
    if (this.groupsById.has(id))
      throw new SimTenantError('conflict', `A group with id ${id} already exists.`);
    const roleIds = dedupe([...(input.assignedRoleIds ?? []), ...this.roleIdsFromNames(input.roles ?? [])]);
    this.checkRoleIds(roleIds);
    const createdAt = input.createdAt ?? this.stamp();
    const group: SimGroup = {
      id,
      name: input.name,
      status: input.status ?? 'active',
      providerType: input.providerType ?? 'idp',
      assignedRoleIds: roleIds,
      system: input.system ?? false,
      createdAt,
      lastUpdatedAt: input.lastUpdatedAt ?? createdAt,
    };
    if (input.description !== undefined) group.description = input.description;
    if (input.idpId !== undefined) group.idpId = input.idpId;
    if (input.createdBy !== undefined) group.createdBy = input.createdBy;
    if (input.updatedBy !== undefined) group.updatedBy = input.updatedBy;
    this.groupsById.set(id, group);
    this.groupIdByName.set(group.name, id);
    for (const r of roleIds) indexAdd(this.groupsByRoleId, r, id);
    this.orderVersion.groups += 1;
    this.touch();
    return group;
  }

  getGroup(id: string): Readonly<SimGroup> | undefined {
    return this.groupsById.get(id);
  }

  /** Exact (case-sensitive) name lookup, as group names are case-sensitive and unique. */
  groupByName(name: string): Readonly<SimGroup> | undefined {
    const id = this.groupIdByName.get(name);
    return id === undefined ? undefined : this.groupsById.get(id);
  }

  groups(): IterableIterator<Readonly<SimGroup>> {
    return this.groupsById.values();
  }

  get groupCount(): number {
    return this.groupsById.size;
  }

  groupIdsWithRole(roleId: string): ReadonlySet<string> {
    return this.groupsByRoleId.get(roleId.toLowerCase()) ?? EMPTY;
  }

  private requireGroup(id: string): SimGroup {
    const g = this.groupsById.get(id);
    if (!g) throw new SimTenantError('not-found', `No group with id ${id} in the tenant.`);
    return g;
  }

  setGroupRoleIds(groupId: string, roleIds: readonly string[], updatedBy?: string): void {
    const g = this.requireGroup(groupId);
    this.checkRoleIds(roleIds);
    for (const r of g.assignedRoleIds) indexDelete(this.groupsByRoleId, r, g.id);
    g.assignedRoleIds = dedupe(roleIds);
    for (const r of g.assignedRoleIds) indexAdd(this.groupsByRoleId, r, g.id);
    g.lastUpdatedAt = this.touch();
    if (updatedBy !== undefined) g.updatedBy = updatedBy;
  }

  setGroupRoles(groupId: string, roleNames: readonly string[]): void {
    this.setGroupRoleIds(groupId, this.roleIdsFromNames(roleNames));
  }

  updateGroup(
    groupId: string,
    changes: { name?: string; description?: string; status?: GroupStatus; providerType?: ProviderType },
    updatedBy?: string,
  ): void {
    const g = this.requireGroup(groupId);
    if (changes.name !== undefined && changes.name !== g.name) {
      if (this.groupIdByName.has(changes.name)) {
        throw new SimTenantError('conflict', `A group named "${changes.name}" already exists.`);
      }
      this.groupIdByName.delete(g.name);
      g.name = changes.name;
      this.groupIdByName.set(g.name, g.id);
    }
    if (changes.description !== undefined) g.description = changes.description;
    if (changes.status !== undefined) g.status = changes.status;
    if (changes.providerType !== undefined) g.providerType = changes.providerType;
    this.orderVersion.groups += 1;
    g.lastUpdatedAt = this.touch();
    if (updatedBy !== undefined) g.updatedBy = updatedBy;
  }

  /** Removes a group and every membership in it. The Everyone group cannot be deleted. */
  deleteGroup(groupId: string): boolean {
    const g = this.groupsById.get(groupId);
    if (!g || g.system) return false;
    for (const uid of [...(this.usersByGroupId.get(groupId) ?? [])]) this.removeUserFromGroup(uid, groupId);
    for (const r of g.assignedRoleIds) indexDelete(this.groupsByRoleId, r, g.id);
    this.dropAssignmentsOf(groupId);
    this.groupsById.delete(groupId);
    this.groupIdByName.delete(g.name);
    this.orderVersion.groups += 1;
    this.touch();
    return true;
  }

  // ---------------------------------------------------------------- users

  addUser(input: SimUserInput): SimUser {
    const id = input.id ?? this.newId();
    if (this.usersById.has(id)) throw new SimTenantError('conflict', `A user with id ${id} already exists.`);
    const roleIds = dedupe([...(input.assignedRoleIds ?? []), ...this.roleIdsFromNames(input.roles ?? [])]);
    this.checkRoleIds(roleIds);
    const groupIds = dedupe([
      ...(input.groupIds ?? []),
      ...(input.groups ?? []).map((n) => {
        const g = this.groupByName(n);
        if (!g) throw new SimTenantError('not-found', `No group named "${n}" in the tenant.`);
        return g.id;
      }),
    ]);
    for (const gid of groupIds) {
      const g = this.requireGroup(gid);
      if (g.system) throw new SimTenantError('invalid', 'Membership of a system group is implicit.');
    }
    const status = input.status ?? 'active';
    if (!USER_STATUSES.has(status)) throw new SimTenantError('invalid', `Unknown user status "${status}".`);
    const createdAt = input.createdAt ?? this.stamp();
    const user: SimUser = {
      id,
      subject: input.subject ?? `auth0|${id}`,
      name: input.name,
      status,
      assignedRoleIds: roleIds,
      groupIds,
      assignedScopes: input.assignedScopes ?? [],
      createdAt,
      lastUpdatedAt: input.lastUpdatedAt ?? createdAt,
    };
    for (const k of [
      'email',
      'clientId',
      'inviteExpiry',
      'locale',
      'zoneinfo',
      'preferredLocale',
      'preferredZoneinfo',
      'picture',
    ] as const) {
      if (input[k] !== undefined) (user as unknown as Record<string, unknown>)[k] = input[k];
    }
    this.usersById.set(id, user);
    this.indexUser(user);
    this.orderVersion.users += 1;
    this.touch();
    return user;
  }

  private indexUser(u: SimUser): void {
    indexAdd(this.userIdx.subject, u.subject, u.id);
    indexAdd(this.userIdx.name, u.name, u.id);
    indexAdd(this.userIdx.email, u.email, u.id);
    indexAdd(this.userIdx.status, u.status, u.id);
    indexAdd(this.userIdx.clientId, u.clientId, u.id);
    for (const s of u.assignedScopes) indexAdd(this.userIdx.assignedScopes, s, u.id);
    for (const r of u.assignedRoleIds) indexAdd(this.usersByRoleId, r, u.id);
    for (const g of u.groupIds) indexAdd(this.usersByGroupId, g, u.id);
  }

  private unindexUser(u: SimUser): void {
    indexDelete(this.userIdx.subject, u.subject, u.id);
    indexDelete(this.userIdx.name, u.name, u.id);
    indexDelete(this.userIdx.email, u.email, u.id);
    indexDelete(this.userIdx.status, u.status, u.id);
    indexDelete(this.userIdx.clientId, u.clientId, u.id);
    for (const s of u.assignedScopes) indexDelete(this.userIdx.assignedScopes, s, u.id);
    for (const r of u.assignedRoleIds) indexDelete(this.usersByRoleId, r, u.id);
    for (const g of u.groupIds) indexDelete(this.usersByGroupId, g, u.id);
  }

  getUser(id: string): Readonly<SimUser> | undefined {
    return this.usersById.get(id);
  }

  users(): IterableIterator<Readonly<SimUser>> {
    return this.usersById.values();
  }

  get userCount(): number {
    return this.usersById.size;
  }

  /** Users whose email equals `email` ignoring case (emails are not unique in Qlik). */
  usersByEmail(email: string): Readonly<SimUser>[] {
    return Array.from(this.userIdsWhere('email', email), (id) => this.usersById.get(id)!);
  }

  /** Ids of users whose field equals `value` ignoring case. */
  userIdsWhere(field: UserIndexedField, value: string): ReadonlySet<string> {
    return this.userIdx[field].get(value.toLowerCase()) ?? EMPTY;
  }

  /** Ids of users holding the role directly. */
  userIdsWithRole(roleId: string): ReadonlySet<string> {
    return this.usersByRoleId.get(roleId.toLowerCase()) ?? EMPTY;
  }

  /** Ids of users who are members of the group (never the Everyone group: its membership is implicit). */
  userIdsInGroup(groupId: string): ReadonlySet<string> {
    return this.usersByGroupId.get(groupId.toLowerCase()) ?? EMPTY;
  }

  private requireUser(id: string): SimUser {
    const u = this.usersById.get(id);
    if (!u) throw new SimTenantError('not-found', `No user with id ${id} in the tenant.`);
    return u;
  }

  /** Applies a change to a user and keeps the indexes in step. */
  private mutateUser(id: string, change: (u: SimUser) => void): void {
    const u = this.requireUser(id);
    this.unindexUser(u);
    try {
      change(u);
    } finally {
      this.indexUser(u);
      u.lastUpdatedAt = this.touch();
    }
  }

  updateUser(
    id: string,
    changes: Partial<
      Pick<
        SimUser,
        | 'name'
        | 'email'
        | 'subject'
        | 'status'
        | 'clientId'
        | 'assignedScopes'
        | 'inviteExpiry'
        | 'locale'
        | 'zoneinfo'
        | 'preferredLocale'
        | 'preferredZoneinfo'
        | 'picture'
      >
    >,
  ): void {
    if (changes.status !== undefined && !USER_STATUSES.has(changes.status)) {
      throw new SimTenantError('invalid', `Unknown user status "${changes.status}".`);
    }
    this.mutateUser(id, (u) => {
      Object.assign(u, changes);
    });
    this.orderVersion.users += 1;
  }

  setUserRoleIds(id: string, roleIds: readonly string[]): void {
    this.checkRoleIds(roleIds);
    this.mutateUser(id, (u) => {
      u.assignedRoleIds = dedupe(roleIds);
    });
  }

  /** Replaces the user's direct roles by exact role names. */
  setUserRoles(id: string, roleNames: readonly string[]): void {
    this.setUserRoleIds(id, this.roleIdsFromNames(roleNames));
  }

  addUserRole(id: string, roleName: string): void {
    const [rid] = this.roleIdsFromNames([roleName]);
    const u = this.requireUser(id);
    this.setUserRoleIds(id, [...u.assignedRoleIds, rid!]);
  }

  removeUserRole(id: string, roleName: string): void {
    const [rid] = this.roleIdsFromNames([roleName]);
    const u = this.requireUser(id);
    this.setUserRoleIds(
      id,
      u.assignedRoleIds.filter((r) => r !== rid),
    );
  }

  addUserToGroup(userId: string, groupId: string): void {
    const g = this.requireGroup(groupId);
    if (g.system) throw new SimTenantError('invalid', 'Membership of a system group is implicit.');
    this.mutateUser(userId, (u) => {
      if (!u.groupIds.includes(groupId)) u.groupIds = [...u.groupIds, groupId];
    });
  }

  removeUserFromGroup(userId: string, groupId: string): void {
    this.mutateUser(userId, (u) => {
      u.groupIds = u.groupIds.filter((g) => g !== groupId);
    });
  }

  /** Removes the user (what DELETE /users/{id} does): it answers 404 afterwards. */
  deleteUser(id: string): boolean {
    const u = this.usersById.get(id);
    if (!u) return false;
    this.unindexUser(u);
    this.dropAssignmentsOf(id);
    this.usersById.delete(id);
    if (this.serviceUserId === id) this.serviceUserId = undefined;
    this.orderVersion.users += 1;
    this.touch();
    return true;
  }

  // ---------------------------------------------------------------- invites

  /**
   * Invites one person by email, as one item of POST /users/actions/invite (users.json InviteItem → ResultItem or
   * InviteErrorItem). Deleted users are ignored (a new user is invited); when several users share the email the
   * most active one decides (active, then disabled, then invited or provisioned):
   * - none → a new user in status `invited` with a Qlik-Account subject and `inviteExpiry`, item `ok`;
   * - invited or provisioned, i.e. not yet active → `exists` (no email), or with `resend` the email goes again,
   *   the user is `invited` with a fresh `inviteExpiry`, item `ok` (spec: "ok" = email sent);
   * - active → error 1001; disabled → error 1002, with or without `resend`;
   * - a 'custom' identity provider, or failNextInvites → error 1003 and no change.
   * Every call is recorded (see invites()).
   */
  invite(input: SimInviteInput): SimInviteResult {
    const email = input.email;
    const language = inviteLanguage(input.language);
    const resend = input.resend === true;
    const record = (result: SimInviteResult, sent: SimInviteRecord['sent']): SimInviteResult => {
      const r: SimInviteRecord = { email, language, resend, at: this.now(), status: result.status, sent };
      if (result.status !== 'error') r.userId = result.userId;
      else r.code = result.code;
      this.inviteLog.push(r);
      return result;
    };
    const error = (code: keyof typeof INVITE_ERROR_TITLES, detail: string) =>
      record({ email, status: 'error', code, title: INVITE_ERROR_TITLES[code], detail }, false);

    if (this.invitesToFail > 0) {
      this.invitesToFail -= 1;
      return error('1003', 'The invite service could not reach the Qlik Account identity service.');
    }
    if (this.identityProvider !== 'qlik') {
      return error(
        '1003',
        'Invites work only with Qlik Account logins; this tenant signs users in with its own identity provider. Create the user with POST /api/v1/users or provision it through SCIM.',
      );
    }
    const existing = this.usersByEmail(email)
      .filter((u) => u.status !== 'deleted')
      .sort((a, b) => (INVITE_PRECEDENCE[a.status] ?? 9) - (INVITE_PRECEDENCE[b.status] ?? 9))[0];
    if (existing?.status === 'active')
      return error('1001', `${email} is already an active user of the tenant.`);
    if (existing?.status === 'disabled') {
      return error('1002', `${email} belongs to a disabled user; enable the user instead of inviting.`);
    }
    if (existing) {
      const item = { email, subject: existing.subject, userId: existing.id };
      if (!resend) return record({ status: 'exists', ...item }, false);
      this.updateUser(existing.id, { status: 'invited', inviteExpiry: this.inviteExpiry() });
      return record({ status: 'ok', ...item }, 'resent');
    }
    const name = input.name !== undefined && input.name.trim() !== '' ? input.name : email;
    const u = this.addUser({
      name,
      email,
      status: 'invited',
      subject: this.newSubject(),
      inviteExpiry: this.inviteExpiry(),
    });
    return record({ email, status: 'ok', subject: u.subject, userId: u.id }, 'new');
  }

  /** Every invite item processed, in order: who, in which language, resend or not, when, and what came of it. */
  invites(email?: string): readonly Readonly<SimInviteRecord>[] {
    if (email === undefined) return [...this.inviteLog];
    const e = email.toLowerCase();
    return this.inviteLog.filter((r) => r.email.toLowerCase() === e);
  }

  /** How many invite emails went to this address (new invites plus resends), ignoring case. */
  inviteEmailsSent(email: string): number {
    return this.invites(email).filter((r) => r.sent !== false).length;
  }

  /** Test hook: the next `times` invite items answer error 1003 (external dependency) and change nothing. */
  failNextInvites(times = 1): void {
    this.invitesToFail = Math.max(0, times);
  }

  /** Test hook: the invitee registered, as clicking the email's link does: `active`, no `inviteExpiry`. */
  acceptInvite(userId: string): void {
    const u = this.requireUser(userId);
    if (u.status !== 'invited') {
      throw new SimTenantError('invalid', `User ${userId} is ${u.status}, not invited.`);
    }
    this.updateUser(userId, { status: 'active', inviteExpiry: undefined });
  }

  /** Unix time (seconds, as users.json's "Unix timestamp") INVITE_VALIDITY_DAYS from the tenant clock. */
  inviteExpiry(): number {
    return Math.floor(this.now() / 1000) + INVITE_VALIDITY_DAYS * 86_400;
  }

  /** A Qlik Account subject: ResultItem.subject is an "IdP generated UUID" (format uuid); seeded when the tenant is. */
  private newSubject(): string {
    const rnd = this.rnd;
    if (!rnd) return randomUUID();
    const h = Array.from({ length: 32 }, () => Math.floor(rnd() * 16).toString(16));
    h[12] = '4';
    h[16] = '89ab'[Math.floor(rnd() * 4)]!;
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  // ---------------------------------------------------------------- spaces

  /**
   * Adds a shared, managed or data space. Names are unique (compared exactly, like group names), at most 256
   * characters, and may not contain `" * ? < > / | \ :`; the owner must be a user of the tenant.
   */
  addSpace(input: SimSpaceInput): SimSpace {
    if (!isSpaceType(input.type)) {
      throw new SimTenantError('invalid', `Unknown space type "${String(input.type)}".`);
    }
    const problem = spaceNameProblem(input.name);
    if (problem) throw new SimTenantError('invalid', problem);
    if (this.spaceIdByName.has(input.name)) {
      throw new SimTenantError('conflict', `A space named "${input.name}" already exists.`);
    }
    this.requireUser(input.ownerId);
    const id = input.id ?? this.newId();
    if (this.spacesById.has(id))
      throw new SimTenantError('conflict', `A space with id ${id} already exists.`);
    const createdAt = input.createdAt ?? this.stamp();
    const space: SimSpace = {
      id,
      name: input.name,
      type: input.type,
      ownerId: input.ownerId,
      createdAt,
      updatedAt: createdAt,
    };
    if (input.description !== undefined) space.description = input.description;
    space.createdBy = input.createdBy ?? input.ownerId;
    this.spacesById.set(id, space);
    this.spaceIdByName.set(space.name, id);
    this.assignmentsBySpace.set(id, new Map());
    this.touch();
    return space;
  }

  getSpace(id: string): Readonly<SimSpace> | undefined {
    return this.spacesById.get(id);
  }

  /** Exact (case-sensitive) name lookup. */
  spaceByName(name: string): Readonly<SimSpace> | undefined {
    const id = this.spaceIdByName.get(name);
    return id === undefined ? undefined : this.spacesById.get(id);
  }

  spaces(): IterableIterator<Readonly<SimSpace>> {
    return this.spacesById.values();
  }

  get spaceCount(): number {
    return this.spacesById.size;
  }

  /** The roles an assignment in a space of this type may hold (reference §5 table). */
  assignableSpaceRoles(type: SpaceType): string[] {
    return assignableSpaceRoles(type);
  }

  private requireSpace(id: string): SimSpace {
    const s = this.spacesById.get(id);
    if (!s) throw new SimTenantError('not-found', `No space with id ${id} in the tenant.`);
    return s;
  }

  /** Throws 'invalid' unless `roles` is a non-empty list of roles the space's type offers; returns them deduped. */
  private checkSpaceRoles(space: SimSpace, roles: readonly string[]): string[] {
    if (roles.length === 0) throw new SimTenantError('invalid', 'An assignment must hold at least one role.');
    const offered = assignableSpaceRoles(space.type);
    for (const r of roles) {
      if (!offered.includes(r)) {
        throw new SimTenantError(
          'invalid',
          `Role "${r}" cannot be assigned in a ${space.type} space; it offers ${offered.join(', ')}.`,
        );
      }
    }
    return dedupe(roles);
  }

  /**
   * Creates the assignee's assignment in the space. 'conflict' when it already has one (Qlik allows one per
   * space and assignee), 'not-found' for an unknown space or assignee, 'invalid' for empty or unoffered roles and
   * for the owner (who holds every role without an assignment).
   */
  assignSpace(spaceId: string, input: SimAssignmentInput): SimAssignment {
    const space = this.requireSpace(spaceId);
    if (input.type !== 'user' && input.type !== 'group') {
      throw new SimTenantError(
        'invalid',
        `Assignments are for users or groups, not "${String(input.type)}".`,
      );
    }
    if (input.type === 'user') this.requireUser(input.assigneeId);
    else this.requireGroup(input.assigneeId);
    const roles = this.checkSpaceRoles(space, input.roles);
    if (input.type === 'user' && input.assigneeId === space.ownerId) {
      throw new SimTenantError('invalid', 'The space owner holds every role already and has no assignment.');
    }
    const byAssignee = this.assignmentsBySpace.get(spaceId)!;
    if (byAssignee.has(input.assigneeId)) {
      throw new SimTenantError(
        'conflict',
        `${input.assigneeId} already has an assignment in space ${spaceId}.`,
      );
    }
    const now = this.stamp();
    const a: SimAssignment = {
      id: this.newId(),
      spaceId,
      type: input.type,
      assigneeId: input.assigneeId,
      roles,
      createdAt: now,
      updatedAt: now,
    };
    if (input.createdBy !== undefined) {
      a.createdBy = input.createdBy;
      a.updatedBy = input.createdBy;
    }
    byAssignee.set(a.assigneeId, a);
    this.touch();
    return a;
  }

  spaceAssignment(spaceId: string, assigneeId: string): Readonly<SimAssignment> | undefined {
    return this.assignmentsBySpace.get(spaceId)?.get(assigneeId);
  }

  /** The space's assignments in creation order (never the owner's: it has none). */
  spaceAssignments(spaceId: string): Readonly<SimAssignment>[] {
    return [...(this.assignmentsBySpace.get(spaceId)?.values() ?? [])];
  }

  spaceAssignmentById(spaceId: string, assignmentId: string): Readonly<SimAssignment> | undefined {
    for (const a of this.assignmentsBySpace.get(spaceId)?.values() ?? []) if (a.id === assignmentId) return a;
    return undefined;
  }

  /**
   * The roles of the assignee's own assignment in the space; [] when it has none. Direct only: the owner's
   * implicit roles and a user's roles through groups are in effectiveSpaceRoles.
   */
  spaceRolesOf(spaceId: string, assigneeId: string): string[] {
    return [...(this.spaceAssignment(spaceId, assigneeId)?.roles ?? [])];
  }

  /** Replaces an assignment's complete role list (what PUT does). 'invalid' when empty or not offered. */
  updateSpaceAssignment(
    spaceId: string,
    assignmentId: string,
    roles: readonly string[],
    updatedBy?: string,
  ): SimAssignment {
    const space = this.requireSpace(spaceId);
    const a = this.spaceAssignmentById(spaceId, assignmentId) as SimAssignment | undefined;
    if (!a) throw new SimTenantError('not-found', `No assignment ${assignmentId} in space ${spaceId}.`);
    a.roles = this.checkSpaceRoles(space, roles);
    a.updatedAt = this.stampNow();
    if (updatedBy !== undefined) a.updatedBy = updatedBy;
    this.touch();
    return a;
  }

  /**
   * Test hook: sets the assignee's roles in the space whatever is there, creating the assignment (user or group,
   * from the id) when missing; [] deletes it.
   */
  setSpaceRoles(spaceId: string, assigneeId: string, roles: readonly string[]): void {
    const existing = this.spaceAssignment(spaceId, assigneeId);
    if (roles.length === 0) {
      if (existing) this.deleteSpaceAssignment(spaceId, existing.id);
      return;
    }
    if (existing) {
      this.updateSpaceAssignment(spaceId, existing.id, roles);
      return;
    }
    const type = this.usersById.has(assigneeId) ? 'user' : 'group';
    this.assignSpace(spaceId, { type, assigneeId, roles });
  }

  /** Removes one assignment; false when the space has no such assignment. */
  deleteSpaceAssignment(spaceId: string, assignmentId: string): boolean {
    const a = this.spaceAssignmentById(spaceId, assignmentId);
    if (!a) return false;
    this.assignmentsBySpace.get(spaceId)!.delete(a.assigneeId);
    this.touch();
    return true;
  }

  /** A deleted user or group leaves every space it was assigned to (spaces it owns keep their ownerId). */
  private dropAssignmentsOf(assigneeId: string): void {
    for (const byAssignee of this.assignmentsBySpace.values()) byAssignee.delete(assigneeId);
  }

  /**
   * A user's roles in the space as `meta.roles` reports them: every assignable role for the owner, else its own
   * assignment's roles plus those of the active groups it is in (Everyone included); sorted, unique.
   */
  effectiveSpaceRoles(spaceId: string, userId: string): string[] {
    const space = this.requireSpace(spaceId);
    if (space.ownerId === userId) return assignableSpaceRoles(space.type).sort();
    const byAssignee = this.assignmentsBySpace.get(spaceId)!;
    const roles = new Set(byAssignee.get(userId)?.roles ?? []);
    const u = this.usersById.get(userId);
    if (u) {
      for (const gid of [...u.groupIds, EVERYONE_GROUP_ID]) {
        const g = this.groupsById.get(gid);
        if (g?.status !== 'active') continue;
        for (const r of byAssignee.get(gid)?.roles ?? []) roles.add(r);
      }
    }
    return [...roles].sort();
  }

  /** TenantAdmin and AnalyticsAdmin administer shared and managed spaces without a space role (reference §5). */
  isSpaceAdmin(spaceId: string, userId: string): boolean {
    const space = this.requireSpace(spaceId);
    if (space.type === 'data') return false;
    const u = this.usersById.get(userId);
    if (u?.status !== 'active') return false;
    const roles = this.effectiveRoleNames(userId);
    return roles.includes('TenantAdmin') || roles.includes('AnalyticsAdmin');
  }

  /** Who may add, change and remove members: the owner, `facilitator` holders (directly or by group), admins. */
  canManageSpaceMembers(spaceId: string, userId: string): boolean {
    const space = this.requireSpace(spaceId);
    if (space.ownerId === userId) return true;
    if (this.effectiveSpaceRoles(spaceId, userId).includes('facilitator')) return true;
    return this.isSpaceAdmin(spaceId, userId);
  }

  /** Who sees the space at all (others get 404, "not found or access denied"): members and admins. */
  canSeeSpace(spaceId: string, userId: string): boolean {
    const space = this.requireSpace(spaceId);
    if (space.ownerId === userId) return true;
    if (this.effectiveSpaceRoles(spaceId, userId).length > 0) return true;
    return this.isSpaceAdmin(spaceId, userId);
  }

  // ---------------------------------------------------------------- derived views

  /** Direct role names of the user, in assignment order. */
  userRoleNames(id: string): string[] {
    return this.requireUser(id).assignedRoleIds.map((r) => this.rolesById.get(r)?.name ?? r);
  }

  /** Role names of the group, in assignment order. */
  groupRoleNames(id: string): string[] {
    return this.requireGroup(id).assignedRoleIds.map((r) => this.rolesById.get(r)?.name ?? r);
  }

  /** Group names the user is a member of (no system groups), like `fields=groups`. */
  userGroupNames(id: string): string[] {
    return this.requireUser(id).groupIds.map((g) => this.groupsById.get(g)?.name ?? g);
  }

  /** Direct roles, roles of active groups the user is in, and the Everyone group's roles; sorted, unique. */
  effectiveRoleNames(id: string): string[] {
    const u = this.requireUser(id);
    const ids = new Set(u.assignedRoleIds);
    for (const gid of u.groupIds) {
      const g = this.groupsById.get(gid);
      if (g && g.status === 'active') for (const r of g.assignedRoleIds) ids.add(r);
    }
    const everyone = this.groupsById.get(EVERYONE_GROUP_ID);
    if (everyone) for (const r of everyone.assignedRoleIds) ids.add(r);
    return [...ids].map((r) => this.rolesById.get(r)?.name ?? r).sort();
  }

  /** True when the user holds TenantAdmin directly or through a group (what the Roles API checks). */
  isTenantAdmin(id: string): boolean {
    const u = this.usersById.get(id);
    if (u?.status !== 'active') return false;
    return this.effectiveRoleNames(id).includes('TenantAdmin');
  }
}

/** Which of several users sharing an email answers an invite: the most active one. */
const INVITE_PRECEDENCE: Record<string, number> = {
  active: 0,
  disabled: 1,
  invited: 2,
  provisioned: 3,
  deleted: 4,
};

/** The language an invite goes out in: the code if Qlik has it (any case), else 'en', as the spec says. */
function inviteLanguage(language: string | undefined): string {
  const code = language?.trim().toLowerCase();
  return code !== undefined && INVITE_LANGUAGES.has(code) ? code : 'en';
}

function dedupe<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** Small fast seeded PRNG (deterministic tenants from a seed). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TENANT_ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Qlik tenant ids look like `q3VRZ4YMixRaLKEPhkZWM-XMIDN7cO8f` (32 url-safe chars). */
function qlikTenantId(rnd?: () => number): string {
  const bytes = rnd ? Array.from({ length: 32 }, () => Math.floor(rnd() * 256)) : [...randomBytes(32)];
  return bytes.map((b) => TENANT_ID_CHARS[b & 63]).join('');
}
