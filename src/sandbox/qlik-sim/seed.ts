// Ways to fill a SimTenant: a small hand-written demo tenant, a deterministic generator for large tenants
// (benchmarks), and a JSON description validated with zod (sandbox seeds, fixtures). All three can hold spaces
// with user and group assignments.

import { z } from 'zod';
import { assignableSpaceRoles, SPACE_ROLES, SPACE_TYPES } from './spaces.ts';
import { DEFAULT_ROLES, EVERYONE_GROUP_ID, mulberry32, SimTenant } from './tenant.ts';
import type { ProviderType, SpaceType, UserStatus } from './types.ts';

export interface GenerateTenantOptions {
  /** Total users, including the TenantAdmin service user that owns the default API key. */
  users: number;
  /** Regular (non-system) groups. Qlik allows at most 10,000 per tenant. */
  groups: number;
  /** Same seed, same tenant (ids, names, memberships, roles). Default 1. */
  seed?: number;
  /** Custom role names to create (default: two realistic ones). */
  customRoles?: string[];
  /** Role name -> number of distinct users holding it directly (the service user's TenantAdmin not counted). */
  roleMix?: Record<string, number>;
  /** Role name -> number of distinct groups holding it. */
  groupRoles?: Record<string, number>;
  /** Group memberships per regular user (default 2, capped at the number of groups). */
  membershipsPerUser?: number;
  /** Shared, managed and data spaces (in that rotation). Default: one per 1,000 users, so 50,000 users get 50. */
  spaces?: number;
  /** Assignments per space, about a third of them groups (default 10, capped by the users and groups there are). */
  assignmentsPerSpace?: number;
}

const FIRST = [
  'Ava',
  'Ben',
  'Chloé',
  'Daniel',
  'Elif',
  'Farid',
  'Grace',
  'Hiro',
  'Ingrid',
  'Jamal',
  'Kaja',
  'Liam',
  'Maya',
  'Noah',
  'Olga',
  'Pablo',
  'Quinn',
  'Rosa',
  'Sanjay',
  'Tess',
  'Uma',
  'Viktor',
  'Wen',
  'Xavier',
  'Yara',
  'Zoë',
  'Amir',
  'Bianca',
  'Carlos',
  'Dana',
  'Emeka',
  'Fatima',
  'Gustav',
  'Hana',
  'Ivan',
  'Julia',
  'Kenji',
  'Lena',
];
const LAST = [
  'Andersson',
  'Brown',
  'Chen',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Haddad',
  'Ito',
  'Johansson',
  'Kowalski',
  'Lindqvist',
  'Müller',
  "O'Neil",
  'Patel',
  'Quist',
  'Rossi',
  'Santos',
  'Tanaka',
  'Ueda',
  'Varga',
  'Wójcik',
  'Xu',
  'Yilmaz',
  'Zhang',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Silva',
  'Novak',
];
const DEPARTMENTS = [
  'Finance',
  'Sales Ops',
  'Marketing',
  'Data Engineering',
  'HR',
  'Legal',
  'Support',
  'Product',
  'Procurement',
  'Logistics',
  'IT',
  'Research',
  'Risk',
  'Treasury',
  'Audit',
  'Design',
];
const REGIONS = ['EMEA', 'AMER', 'APAC', 'Nordics', 'DACH', 'LATAM', 'UK', 'US East', 'US West', 'Japan'];

const DEFAULT_CUSTOM_ROLES = ['Report Publisher', 'Finance Auditor'];

/** Share of users holding each role directly when no roleMix is given. */
const DEFAULT_ROLE_SHARES: Record<string, number> = {
  TenantAdmin: 0.001,
  AnalyticsAdmin: 0.004,
  DataAdmin: 0.003,
  AuditAdmin: 0.001,
  SharedSpaceCreator: 0.2,
  ManagedSpaceCreator: 0.05,
  DataSpaceCreator: 0.02,
  PrivateAnalyticsContentCreator: 0.5,
  AutomationCreator: 0.08,
  Steward: 0.01,
  DataServicesContributor: 0.03,
};

const DEFAULT_GROUP_ROLE_SHARES: Record<string, number> = {
  SharedSpaceCreator: 0.1,
  ManagedSpaceCreator: 0.05,
  AnalyticsAdmin: 0.01,
  DataSpaceCreator: 0.03,
};

function toSlug(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9']+/g, '');
}

/** Picks k distinct indexes in [0, n) by a partial Fisher-Yates over a reusable permutation. */
function sampleInto(perm: Int32Array, k: number, rnd: () => number): Int32Array {
  const n = perm.length;
  const take = Math.min(k, n);
  for (let i = 0; i < take; i += 1) {
    const j = i + Math.floor(rnd() * (n - i));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm.subarray(0, take);
}

/** Deterministic tenant of any size; 50,000 users build in about a second. */
export function generateTenant(opts: GenerateTenantOptions): SimTenant {
  const seed = opts.seed ?? 1;
  const rnd = mulberry32(seed);
  const tenant = new SimTenant({ seed });
  for (const name of opts.customRoles ?? DEFAULT_CUSTOM_ROLES) {
    tenant.addRole({ name, type: 'custom', level: 'user', description: `Custom role ${name}.` });
  }
  const roleId = (name: string) => {
    const r = tenant.roleByName(name);
    if (!r)
      throw new Error(`generateTenant: no role named "${name}" (default roles: ${DEFAULT_ROLES.length}).`);
    return r.id;
  };

  // Groups, each with a unique, realistic name.
  const groupCount = Math.max(0, Math.min(opts.groups, 10_000));
  const groupIds: string[] = [];
  const groupRoleLists: string[][] = Array.from({ length: groupCount }, () => []);
  const groupRoleCounts =
    opts.groupRoles ??
    Object.fromEntries(
      Object.entries(DEFAULT_GROUP_ROLE_SHARES).map(([r, share]) => [r, Math.round(share * groupCount)]),
    );
  const gperm = new Int32Array(groupCount).map((_, i) => i);
  for (const [name, count] of Object.entries(groupRoleCounts)) {
    const rid = roleId(name);
    for (const gi of sampleInto(gperm, count, rnd)) groupRoleLists[gi]!.push(rid);
  }
  for (let i = 0; i < groupCount; i += 1) {
    const dept = DEPARTMENTS[i % DEPARTMENTS.length]!;
    const region = REGIONS[Math.floor(i / DEPARTMENTS.length) % REGIONS.length]!;
    const round = Math.floor(i / (DEPARTMENTS.length * REGIONS.length));
    const name = round === 0 ? `${dept} ${region}` : `${dept} ${region} ${round + 1}`;
    const providerType: ProviderType = rnd() < 0.8 ? 'idp' : 'custom';
    const g = tenant.addGroup({ name, providerType, assignedRoleIds: groupRoleLists[i]! });
    groupIds.push(g.id);
  }

  // Per-user role lists and memberships, decided before insertion so each user is indexed once.
  const userCount = Math.max(1, opts.users);
  const regular = userCount - 1;
  const userRoleLists: string[][] = Array.from({ length: regular }, () => []);
  const roleCounts =
    opts.roleMix ??
    Object.fromEntries(
      Object.entries(DEFAULT_ROLE_SHARES).map(([r, share]) => [r, Math.max(1, Math.round(share * regular))]),
    );
  const uperm = new Int32Array(regular).map((_, i) => i);
  for (const [name, count] of Object.entries(roleCounts)) {
    const rid = roleId(name);
    for (const ui of sampleInto(uperm, count, rnd)) userRoleLists[ui]!.push(rid);
  }

  tenant.serviceUserId = tenant.addUser({
    name: 'Qlik Access Bot (service)',
    subject: 'svc|qlik-access-bot',
    email: 'qlik-access-bot@corp.example',
    roles: ['TenantAdmin'],
  }).id;

  const memberships = Math.min(opts.membershipsPerUser ?? 2, groupCount);
  for (let i = 0; i < regular; i += 1) {
    const first = FIRST[Math.floor(rnd() * FIRST.length)]!;
    const last = LAST[Math.floor(rnd() * LAST.length)]!;
    const r = rnd();
    const status: UserStatus =
      r < 0.9 ? 'active' : r < 0.95 ? 'invited' : r < 0.98 ? 'disabled' : 'provisioned';
    const gids = new Set<string>();
    while (gids.size < memberships) gids.add(groupIds[Math.floor(rnd() * groupCount)]!);
    tenant.addUser({
      name: `${first} ${last}`,
      email: `${toSlug(first)}.${toSlug(last)}.${i + 1}@corp.example`,
      subject: `idp|${(seed * 1_000_003 + i).toString(36)}`,
      status,
      assignedRoleIds: userRoleLists[i]!,
      groupIds: [...gids],
    });
  }
  addGeneratedSpaces(tenant, opts, groupIds, rnd);
  return tenant;
}

const SPACE_KINDS: Record<SpaceType, string> = { shared: 'Reports', managed: 'Apps', data: 'Data' };

/**
 * Spaces for generateTenant, drawn after everything else so adding them left the users and groups of a seed as
 * they were. Owners are active users; the service user is facilitator of every data space, which admin roles
 * don't cover (it manages shared and managed ones as TenantAdmin).
 */
function addGeneratedSpaces(
  tenant: SimTenant,
  opts: GenerateTenantOptions,
  groupIds: readonly string[],
  rnd: () => number,
): void {
  const count = Math.max(0, opts.spaces ?? Math.round(opts.users / 1000));
  if (count === 0) return;
  const people = [...tenant.users()].filter((u) => u.status === 'active' && u.id !== tenant.serviceUserId);
  if (people.length === 0) return;
  const perSpace = Math.max(0, opts.assignmentsPerSpace ?? 10);
  for (let i = 0; i < count; i += 1) {
    const type = SPACE_TYPES[i % SPACE_TYPES.length]!;
    const dept = DEPARTMENTS[Math.floor(i / SPACE_TYPES.length) % DEPARTMENTS.length]!;
    const region = REGIONS[Math.floor(i / (SPACE_TYPES.length * DEPARTMENTS.length)) % REGIONS.length]!;
    const round = Math.floor(i / (SPACE_TYPES.length * DEPARTMENTS.length * REGIONS.length));
    const base = `${dept} ${region} ${SPACE_KINDS[type]}`;
    const owner = people[Math.floor(rnd() * people.length)]!;
    const space = tenant.addSpace({
      name: round === 0 ? base : `${base} ${round + 1}`,
      type,
      ownerId: owner.id,
      description: `${dept} ${SPACE_KINDS[type].toLowerCase()} for ${region}.`,
    });
    const offered = assignableSpaceRoles(type);
    const pickRoles = () => {
      const first = offered[Math.floor(rnd() * offered.length)]!;
      const second = offered[Math.floor(rnd() * offered.length)]!;
      return rnd() < 0.3 ? [first, second] : [first];
    };
    const groups = Math.min(Math.round(perSpace / 3), groupIds.length);
    for (let tries = 0, made = 0; made < groups && tries < groups * 4; tries += 1) {
      const gid = groupIds[Math.floor(rnd() * groupIds.length)]!;
      if (tenant.spaceAssignment(space.id, gid)) continue;
      tenant.assignSpace(space.id, { type: 'group', assigneeId: gid, roles: pickRoles() });
      made += 1;
    }
    const users = Math.min(perSpace - groups, people.length - 1);
    for (let tries = 0, made = 0; made < users && tries < users * 4; tries += 1) {
      const u = people[Math.floor(rnd() * people.length)]!;
      if (u.id === owner.id || tenant.spaceAssignment(space.id, u.id)) continue;
      tenant.assignSpace(space.id, { type: 'user', assigneeId: u.id, roles: pickRoles() });
      made += 1;
    }
    if (type === 'data' && tenant.serviceUserId) {
      tenant.setSpaceRoles(space.id, tenant.serviceUserId, ['facilitator']);
    }
  }
}

/** A small, realistic tenant for the sandbox and tests, with the awkward cases a bot must handle. */
export function demoTenant(): SimTenant {
  const t = new SimTenant({ seed: 20_260_101, tenantId: 'dEm0TenAnt-QlikSim-corpExample01' });
  t.addRole({
    name: 'Report Publisher',
    type: 'custom',
    level: 'user',
    description: 'Publishes reports to managed spaces.',
    permissions: ['publish_reports'],
  });
  t.addRole({
    name: 'Finance Auditor',
    type: 'custom',
    level: 'user',
    description: 'Reads finance apps for audits.',
    permissions: ['read_finance'],
  });
  t.setGroupRoles(EVERYONE_GROUP_ID, ['PrivateAnalyticsContentCreator', 'CollaborationPlatformUser']);

  t.addGroup({ name: 'Finance', providerType: 'idp', roles: ['SharedSpaceCreator'], idpId: 'okta-finance' });
  // Same name but lowercase: group names are case-sensitive while filters are not.
  t.addGroup({ name: 'finance', providerType: 'custom', description: 'Finance contractors (custom group).' });
  t.addGroup({
    name: 'Sales Ops',
    providerType: 'idp',
    roles: ['ManagedSpaceCreator'],
    idpId: 'okta-salesops',
  });
  t.addGroup({
    name: 'Data Engineering',
    providerType: 'idp',
    roles: ['DataSpaceCreator', 'DataServicesContributor'],
  });
  t.addGroup({ name: 'Analytics Admins', providerType: 'custom', roles: ['AnalyticsAdmin'] });
  t.addGroup({ name: 'Contractors', providerType: 'custom', status: 'disabled' });

  t.serviceUserId = t.addUser({
    name: 'Qlik Access Bot (service)',
    subject: 'svc|qlik-access-bot',
    email: 'qlik-access-bot@corp.example',
    roles: ['TenantAdmin'],
  }).id;

  const people: Array<{
    name: string;
    email?: string;
    roles?: string[];
    groups?: string[];
    status?: UserStatus;
    subject?: string;
  }> = [
    {
      name: 'Alice Andersson',
      email: 'alice@corp.example',
      roles: ['TenantAdmin'],
      groups: ['Analytics Admins'],
    },
    { name: 'Bob Brown', email: 'bob@corp.example', roles: ['AnalyticsAdmin', 'SharedSpaceCreator'] },
    { name: 'Carol Chen', email: 'carol@corp.example', roles: ['DataAdmin'], groups: ['Data Engineering'] },
    { name: 'Dan Dubois', email: 'dan@corp.example', roles: ['SharedSpaceCreator'], groups: ['Finance'] },
    { name: 'Eve Eriksen', email: 'eve@corp.example', roles: ['AuditAdmin'] },
    { name: 'Frank Fischer', email: 'frank@corp.example', groups: ['Finance', 'finance'] },
    { name: 'Grace García', email: 'grace@corp.example', roles: ['Report Publisher'], groups: ['Sales Ops'] },
    { name: 'Hiro Ito', email: 'hiro@corp.example', roles: ['ManagedSpaceCreator'], groups: ['Sales Ops'] },
    {
      name: 'Ingrid Johansson',
      email: 'ingrid@corp.example',
      roles: ['Finance Auditor'],
      groups: ['Finance'],
    },
    { name: 'Jamal Haddad', email: 'jamal@corp.example', roles: ['Steward'], groups: ['Data Engineering'] },
    {
      name: "Conor O'Brien",
      email: "o'brien@corp.example",
      roles: ['SharedSpaceCreator'],
      groups: ['Finance'],
    },
    { name: 'Quote "Q" Tester', email: 'a"b@corp.example', roles: ['DataSpaceCreator'] },
    { name: 'Mixed Case', email: 'Mixed.Case@Corp.Example', roles: ['AutomationCreator'] },
    { name: 'Kaja Kowalski', email: 'kaja@corp.example', groups: ['Sales Ops'] },
    { name: 'Liam Lindqvist', email: 'liam@corp.example', roles: ['EmbeddedAnalyticsUser'] },
    {
      name: 'Maya Müller',
      email: 'maya@corp.example',
      roles: ['DataProductManager'],
      groups: ['Data Engineering'],
    },
    { name: 'Noah Novak', email: 'noah@corp.example', roles: ['AutomlExperimentContributor'] },
    { name: 'Olga Okafor', email: 'olga@corp.example', roles: ['AutomlDeploymentContributor'] },
    { name: 'Pablo Patel', email: 'pablo@corp.example', groups: ['Finance'] },
    { name: 'Quinn Quist', email: 'quinn@corp.example', groups: ['Contractors'] },
    { name: 'Rosa Rossi', email: 'rosa@corp.example', roles: ['PrivateAnalyticsContentCreator'] },
    {
      name: 'Sanjay Santos',
      email: 'sanjay@corp.example',
      roles: ['SharedSpaceCreator', 'ManagedSpaceCreator'],
    },
    { name: 'Tess Tanaka', email: 'tess@corp.example', roles: ['DataServicesContributor'] },
    { name: 'Uma Ueda', email: 'uma@corp.example', groups: ['Analytics Admins'] },
    { name: 'Viktor Varga', email: 'viktor@corp.example', status: 'disabled', roles: ['SharedSpaceCreator'] },
    { name: 'Wen Wójcik', email: 'wen@corp.example', status: 'invited' },
    { name: 'Xavier Xu', email: 'xavier@corp.example', roles: ['CollaborationPlatformUser'] },
    { name: 'Yara Yilmaz', email: 'yara@corp.example', groups: ['finance'] },
    { name: 'Zoë Zhang', email: 'zoe@corp.example', roles: ['Steward', 'DataSpaceCreator'] },
    { name: 'Amir Petrov', email: 'amir@corp.example', roles: ['AnalyticsAdmin'] },
    { name: 'Bianca Silva', email: 'bianca@corp.example', roles: ['TenantAdmin'] },
    { name: 'Carlos Nakamura', email: 'carlos@corp.example', groups: ['Sales Ops', 'Finance'] },
    { name: 'Dana Haddad', email: 'dana@corp.example', roles: ['Report Publisher'] },
    // Two people share a mailbox: emails are not unique in Qlik, lookups must handle several matches.
    { name: 'Shared Mailbox One', email: 'shared-mailbox@corp.example' },
    { name: 'Shared Mailbox Two', email: 'shared-mailbox@corp.example' },
    { name: 'Emeka Eze', email: 'emeka@corp.example', status: 'provisioned' },
    { name: 'Fatima Farouk', email: 'fatima@corp.example', roles: ['ManagedSpaceCreator'] },
    { name: 'Gustav Berg', email: 'gustav@corp.example', groups: ['Data Engineering'] },
    { name: 'Hana Ito', email: 'hana@corp.example', roles: ['SharedSpaceCreator'] },
    // A user with no email (e.g. created through SCIM with only a subject).
    { name: 'No Email User', subject: 'scim|no-email-user' },
  ];
  for (const p of people) {
    const slug = (p.email ?? p.subject ?? p.name).split('@')[0]!;
    t.addUser({ subject: `okta|${slug}`, ...p });
  }
  addDemoSpaces(t);
  // Someone invited through the invite API who has not registered yet: what `/qlik` sees of a pending invite.
  // Added last so every other entity keeps its seeded id. The expiry is a week from the tenant clock.
  t.addUser({
    name: 'Ivy Invited',
    email: 'ivy@corp.example',
    status: 'invited',
    subject: '6f1d2c3b-4a5e-4f60-9b7a-8c9d0e1f2a3b',
    inviteExpiry: t.inviteExpiry(),
  });
  return t;
}

/**
 * The demo tenant's spaces, one of each type at least, with the cases a space target meets: group and user
 * assignments, a facilitator who is not the owner, a member only through a group (Kaja in EMEA Sales: can see it,
 * can't manage it), an empty space, and a data space the service user can't manage (no facilitator there, and
 * TenantAdmin doesn't cover data spaces).
 */
function addDemoSpaces(t: SimTenant): void {
  const user = (email: string) => {
    const u = t.usersByEmail(email)[0];
    if (!u) throw new Error(`demoTenant: no user ${email}.`);
    return u.id;
  };
  const group = (name: string) => t.groupByName(name)!.id;
  const spaces: Array<{
    name: string;
    type: SpaceType;
    owner: string;
    description?: string;
    users?: Array<[string, string[]]>;
    groups?: Array<[string, string[]]>;
  }> = [
    {
      name: 'Finance Reports',
      type: 'shared',
      owner: 'dan@corp.example',
      description: 'Monthly and quarterly finance reporting.',
      groups: [['Finance', ['consumer']]],
      users: [
        ["o'brien@corp.example", ['facilitator']],
        ['ingrid@corp.example', ['consumer', 'producer']],
      ],
    },
    {
      name: 'Finance Reports Archive',
      type: 'shared',
      owner: 'dan@corp.example',
      description: 'Closed fiscal years.',
      users: [['ingrid@corp.example', ['consumer']]],
    },
    {
      name: 'EMEA Sales',
      type: 'managed',
      owner: 'hiro@corp.example',
      description: 'Published sales apps for EMEA.',
      groups: [['Sales Ops', ['consumer']]],
      users: [
        ['carlos@corp.example', ['facilitator']],
        ['grace@corp.example', ['contributor', 'publisher']],
      ],
    },
    { name: 'APAC Sales', type: 'managed', owner: 'fatima@corp.example', description: 'Not rolled out yet.' },
    {
      name: 'Sales Data',
      type: 'data',
      owner: 'carol@corp.example',
      description: 'Sales pipelines and their datasets.',
      groups: [['Data Engineering', ['producer']]],
      users: [
        ['qlik-access-bot@corp.example', ['facilitator']],
        ['tess@corp.example', ['operator']],
        ['jamal@corp.example', ['datapreview']],
      ],
    },
    {
      name: 'Data Lake Staging',
      type: 'data',
      owner: 'zoe@corp.example',
      users: [['maya@corp.example', ['consumer']]],
    },
    {
      name: 'HR Confidential',
      type: 'shared',
      owner: 'bob@corp.example',
      users: [['eve@corp.example', ['consumer']]],
    },
    {
      name: 'Marketing Campaigns',
      type: 'shared',
      owner: 'sanjay@corp.example',
      groups: [['finance', ['dataconsumer']]],
      users: [['rosa@corp.example', ['producer', 'codeveloper']]],
    },
  ];
  for (const s of spaces) {
    const space = t.addSpace({
      name: s.name,
      type: s.type,
      ownerId: user(s.owner),
      ...(s.description !== undefined ? { description: s.description } : {}),
    });
    for (const [name, roles] of s.groups ?? []) {
      t.assignSpace(space.id, { type: 'group', assigneeId: group(name), roles, createdBy: space.ownerId });
    }
    for (const [email, roles] of s.users ?? []) {
      t.assignSpace(space.id, { type: 'user', assigneeId: user(email), roles, createdBy: space.ownerId });
    }
  }
}

// ---------------------------------------------------------------- JSON seeds

const RoleSeed = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{24}$/)
    .optional(),
  name: z.string().min(1).max(256),
  description: z.string().optional(),
  level: z.enum(['admin', 'user']).optional(),
  permissions: z.array(z.string()).optional(),
});

const GroupSeed = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{24}$/)
    .optional(),
  name: z.string().min(1).max(256),
  providerType: z.enum(['idp', 'custom']).optional(),
  status: z.enum(['active', 'disabled']).optional(),
  description: z.string().optional(),
  roles: z.array(z.string()).optional(),
});

const UserSeed = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{24}$/)
    .optional(),
  name: z.string().min(1),
  email: z.string().optional(),
  subject: z.string().min(1).optional(),
  status: z.enum(['active', 'invited', 'disabled', 'deleted', 'provisioned']).optional(),
  clientId: z.string().optional(),
  roles: z.array(z.string()).optional(),
  groups: z.array(z.string()).optional(),
  /** Marks the user that owns the simulator's default API key (must hold TenantAdmin for the Roles API). */
  serviceUser: z.boolean().optional(),
});

const SpaceMemberSeed = z.union([
  z.object({ user: z.string().min(1), roles: z.array(z.enum(SPACE_ROLES)).min(1) }),
  z.object({ group: z.string().min(1), roles: z.array(z.enum(SPACE_ROLES)).min(1) }),
]);

const SpaceSeed = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{24}$/)
    .optional(),
  name: z.string().min(1).max(256),
  type: z.enum(SPACE_TYPES as [SpaceType, ...SpaceType[]]),
  /** The owner's email (or exact name, for users without one). */
  owner: z.string().min(1),
  description: z.string().optional(),
  /** Users by email (or exact name) and groups by exact name, with their space roles. */
  members: z.array(SpaceMemberSeed).default([]),
});

export const TenantSeed = z.object({
  tenantId: z.string().min(1).optional(),
  seed: z.number().int().optional(),
  customRoles: z.array(RoleSeed).default([]),
  everyoneRoles: z.array(z.string()).default([]),
  groups: z.array(GroupSeed).default([]),
  users: z.array(UserSeed).default([]),
  spaces: z.array(SpaceSeed).default([]),
});
export type TenantSeed = z.infer<typeof TenantSeed>;

/**
 * Builds a tenant from a JSON description (default roles and Everyone are always there). Throws a readable
 * error naming the bad path when the JSON does not fit TenantSeed or references an unknown role/group.
 */
export function tenantFromJson(json: unknown): SimTenant {
  const parsed = TenantSeed.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.length ? first.path.join('.') : '(root)';
    throw new Error(`Invalid tenant seed at ${where}: ${first?.message ?? 'unknown problem'}.`);
  }
  const seed = parsed.data;
  const t = new SimTenant({
    ...(seed.tenantId !== undefined ? { tenantId: seed.tenantId } : {}),
    ...(seed.seed !== undefined ? { seed: seed.seed } : {}),
  });
  for (const r of seed.customRoles) {
    t.addRole({
      name: r.name,
      type: 'custom',
      ...(r.id !== undefined ? { id: r.id } : {}),
      ...(r.description !== undefined ? { description: r.description } : {}),
      ...(r.level !== undefined ? { level: r.level } : {}),
      ...(r.permissions !== undefined ? { permissions: r.permissions } : {}),
    });
  }
  if (seed.everyoneRoles.length > 0) t.setGroupRoles(EVERYONE_GROUP_ID, seed.everyoneRoles);
  for (const g of seed.groups) {
    t.addGroup(Object.fromEntries(Object.entries(g).filter(([, v]) => v !== undefined)) as typeof g);
  }
  for (const u of seed.users) {
    const { serviceUser, ...rest } = u;
    const created = t.addUser(
      Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as typeof rest,
    );
    if (serviceUser) t.serviceUserId = created.id;
  }
  const userRef = (ref: string, where: string) => {
    const u = t.usersByEmail(ref)[0] ?? [...t.users()].find((x) => x.name === ref);
    if (!u) throw new Error(`Invalid tenant seed at ${where}: no user with email or name "${ref}".`);
    return u.id;
  };
  // Tenant refusals (a role the space type doesn't offer, a duplicate name) name the seed path too.
  const at = <T>(where: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof Error && !e.message.startsWith('Invalid tenant seed')) {
        throw new Error(`Invalid tenant seed at ${where}: ${e.message}`);
      }
      throw e;
    }
  };
  for (const [i, sp] of seed.spaces.entries()) {
    const space = at(`spaces.${i}`, () =>
      t.addSpace({
        name: sp.name,
        type: sp.type,
        ownerId: userRef(sp.owner, `spaces.${i}.owner`),
        ...(sp.id !== undefined ? { id: sp.id } : {}),
        ...(sp.description !== undefined ? { description: sp.description } : {}),
      }),
    );
    for (const [j, m] of sp.members.entries()) {
      const where = `spaces.${i}.members.${j}`;
      if ('user' in m) {
        const assigneeId = userRef(m.user, where);
        at(where, () => t.assignSpace(space.id, { type: 'user', assigneeId, roles: m.roles }));
      } else {
        const g = t.groupByName(m.group);
        if (!g) throw new Error(`Invalid tenant seed at ${where}: no group named "${m.group}".`);
        at(where, () => t.assignSpace(space.id, { type: 'group', assigneeId: g.id, roles: m.roles }));
      }
    }
  }
  return t;
}
