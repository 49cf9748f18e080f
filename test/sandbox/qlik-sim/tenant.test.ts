import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ROLES,
  demoTenant,
  EVERYONE_GROUP_ID,
  EVERYONE_GROUP_NAME,
  generateTenant,
  SimTenant,
  SimTenantError,
  tenantFromJson,
} from '../../../src/sandbox/qlik-sim/index.ts';

const CURRENT_DEFAULT_ROLES = [
  'AnalyticsAdmin',
  'AuditAdmin',
  'AutomationCreator',
  'AutomlDeploymentContributor',
  'AutomlExperimentContributor',
  'CollaborationPlatformUser',
  'DataAdmin',
  'DataProductManager',
  'DataServicesContributor',
  'DataSpaceCreator',
  'EmbeddedAnalyticsUser',
  'ManagedSpaceCreator',
  'PrivateAnalyticsContentCreator',
  'SharedSpaceCreator',
  'Steward',
  'TenantAdmin',
];

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('SimTenant', () => {
  it('starts with the current default roles (no Developer) and the Everyone system group', () => {
    const t = new SimTenant();
    const roles = [...t.roles()];
    expect(roles.map((r) => r.name).sort()).toEqual(CURRENT_DEFAULT_ROLES);
    expect(DEFAULT_ROLES).toHaveLength(16);
    for (const r of roles) {
      expect(r.id).toMatch(/^[0-9a-f]{24}$/);
      expect(r.type).toBe('default');
    }
    expect(t.roleByName('TenantAdmin')?.level).toBe('admin');
    expect(t.roleByName('Steward')?.level).toBe('user');
    expect(t.roleByName('Developer')).toBeUndefined();
    const everyone = t.getGroup(EVERYONE_GROUP_ID);
    expect(everyone).toMatchObject({ name: EVERYONE_GROUP_NAME, system: true });
    expect(t.tenantId).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('keeps its indexes in step with every change', () => {
    const t = new SimTenant();
    t.addGroup({ name: 'Finance', roles: ['SharedSpaceCreator'] });
    const u = t.addUser({
      name: 'Jane',
      email: 'Jane@Corp.example',
      roles: ['Steward'],
      groups: ['Finance'],
    });
    const steward = t.roleByName('Steward')!.id;
    const tenantAdmin = t.roleByName('TenantAdmin')!.id;
    expect(t.usersByEmail('jane@corp.EXAMPLE').map((x) => x.id)).toEqual([u.id]);
    expect([...t.userIdsWithRole(steward)]).toEqual([u.id]);

    t.setUserRoles(u.id, ['TenantAdmin']);
    expect(t.userIdsWithRole(steward).size).toBe(0);
    expect([...t.userIdsWithRole(tenantAdmin)]).toEqual([u.id]);
    expect(t.userRoleNames(u.id)).toEqual(['TenantAdmin']);

    t.addUserRole(u.id, 'Steward');
    t.addUserRole(u.id, 'Steward');
    expect(t.userRoleNames(u.id)).toEqual(['TenantAdmin', 'Steward']);
    t.removeUserRole(u.id, 'TenantAdmin');
    expect(t.userRoleNames(u.id)).toEqual(['Steward']);

    t.updateUser(u.id, { email: 'jane.doe@corp.example', status: 'disabled' });
    expect(t.usersByEmail('jane@corp.example')).toEqual([]);
    expect(t.usersByEmail('JANE.DOE@corp.example')).toHaveLength(1);
    expect([...t.userIdsWhere('status', 'DISABLED')]).toEqual([u.id]);
    expect(t.userIdsWhere('status', 'active').size).toBe(0);

    const finance = t.groupByName('Finance')!;
    expect([...t.userIdsInGroup(finance.id)]).toEqual([u.id]);
    t.removeUserFromGroup(u.id, finance.id);
    expect(t.userIdsInGroup(finance.id).size).toBe(0);

    expect(t.deleteUser(u.id)).toBe(true);
    expect(t.getUser(u.id)).toBeUndefined();
    expect(t.userIdsWithRole(steward).size).toBe(0);
    expect(t.userIdsWhere('status', 'disabled').size).toBe(0);
    expect(t.deleteUser(u.id)).toBe(false);
  });

  it('derives effective roles from direct roles, active groups and Everyone', () => {
    const t = new SimTenant();
    t.setGroupRoles(EVERYONE_GROUP_ID, ['PrivateAnalyticsContentCreator']);
    t.addGroup({ name: 'Admins', roles: ['TenantAdmin'] });
    t.addGroup({ name: 'Old', roles: ['DataAdmin'], status: 'disabled' });
    const u = t.addUser({ name: 'A', roles: ['Steward'], groups: ['Admins', 'Old'] });
    expect(t.effectiveRoleNames(u.id)).toEqual(['PrivateAnalyticsContentCreator', 'Steward', 'TenantAdmin']);
    expect(t.isTenantAdmin(u.id)).toBe(true);
    expect(t.userRoleNames(u.id)).toEqual(['Steward']);
    expect(t.userGroupNames(u.id)).toEqual(['Admins', 'Old']);
    t.updateUser(u.id, { status: 'disabled' });
    expect(t.isTenantAdmin(u.id)).toBe(false);
  });

  it('treats role and group names as case-sensitive and unique', () => {
    const t = new SimTenant();
    t.addGroup({ name: 'Finance' });
    t.addGroup({ name: 'finance' });
    expect(thrown(() => t.addGroup({ name: 'Finance' }))).toMatchObject({ kind: 'conflict' });
    expect(thrown(() => t.addRole({ name: 'TenantAdmin' }))).toMatchObject({ kind: 'conflict' });
    const custom = t.addRole({ name: 'tenantadmin' });
    expect(custom).toMatchObject({ type: 'custom', level: 'user', canEdit: true, canDelete: true });
    expect([...t.roleIdsByNameInsensitive('TENANTADMIN')].sort()).toEqual(
      [t.roleByName('TenantAdmin')!.id, custom.id].sort(),
    );
    const e = thrown(() => t.addUser({ name: 'x', roles: ['Developer'] }));
    expect(e).toBeInstanceOf(SimTenantError);
    expect(e).toMatchObject({ kind: 'not-found', message: 'No role named "Developer" in the tenant.' });
    expect(thrown(() => t.addUser({ name: 'x', groupIds: [EVERYONE_GROUP_ID] }))).toMatchObject({
      kind: 'invalid',
    });
    expect(thrown(() => t.updateGroup(t.groupByName('finance')!.id, { name: 'Finance' }))).toMatchObject({
      kind: 'conflict',
    });
  });

  it('keeps list order versions for users unchanged by role writes, so sorted caches survive them', () => {
    const t = new SimTenant();
    const u = t.addUser({ name: 'A' });
    const before = t.orderVersion.users;
    t.setUserRoles(u.id, ['Steward']);
    expect(t.orderVersion.users).toBe(before);
    t.updateUser(u.id, { name: 'B' });
    expect(t.orderVersion.users).toBe(before + 1);
  });
});

describe('demoTenant', () => {
  const t = demoTenant();

  it('is small, realistic and has the awkward cases', () => {
    expect(t.userCount).toBeGreaterThanOrEqual(38);
    expect(t.userCount).toBeLessThanOrEqual(45);
    expect([...t.roles()].filter((r) => r.type === 'custom').map((r) => r.name)).toEqual([
      'Report Publisher',
      'Finance Auditor',
    ]);
    expect(t.roleCount).toBe(18);
    const groupNames = [...t.groups()].filter((g) => !g.system).map((g) => g.name);
    expect(groupNames).toHaveLength(6);
    expect(groupNames).toEqual(expect.arrayContaining(['Finance', 'finance', 'Sales Ops']));
    expect(t.usersByEmail("o'brien@corp.example")).toHaveLength(1);
    expect(t.usersByEmail('a"b@corp.example')).toHaveLength(1);
    expect(t.usersByEmail('shared-mailbox@corp.example')).toHaveLength(2);
    expect(t.usersByEmail('mixed.case@corp.example')[0]?.email).toBe('Mixed.Case@Corp.Example');
    for (const u of t.users()) if (u.email) expect(u.email.toLowerCase()).toMatch(/@corp\.example$/);
    expect(t.serviceUserId).toBeDefined();
    expect(t.isTenantAdmin(t.serviceUserId!)).toBe(true);
    expect(t.groupRoleNames(EVERYONE_GROUP_ID).length).toBeGreaterThan(0);
  });

  it('is the same every time', () => {
    const a = demoTenant();
    const b = demoTenant();
    expect([...a.users()].map((u) => [u.id, u.name])).toEqual([...b.users()].map((u) => [u.id, u.name]));
    expect(a.tenantId).toBe(b.tenantId);
  });
});

describe('generateTenant', () => {
  const opts = {
    users: 5_000,
    groups: 200,
    seed: 7,
    customRoles: ['Report Publisher'],
    roleMix: { TenantAdmin: 3, SharedSpaceCreator: 1_000, 'Report Publisher': 40 },
    groupRoles: { AnalyticsAdmin: 5, SharedSpaceCreator: 20 },
    membershipsPerUser: 2,
  };
  const t = generateTenant(opts);

  it('creates the requested counts, with the service user as the TenantAdmin key owner', () => {
    expect(t.userCount).toBe(5_000);
    expect([...t.groups()].filter((g) => !g.system)).toHaveLength(200);
    expect(t.roleCount).toBe(17);
    const tenantAdmin = t.roleByName('TenantAdmin')!.id;
    expect(t.userIdsWithRole(tenantAdmin).size).toBe(4);
    expect(t.userIdsWithRole(tenantAdmin).has(t.serviceUserId!)).toBe(true);
    expect(t.userIdsWithRole(t.roleByName('SharedSpaceCreator')!.id).size).toBe(1_000);
    expect(t.userIdsWithRole(t.roleByName('Report Publisher')!.id).size).toBe(40);
    expect(t.groupIdsWithRole(t.roleByName('AnalyticsAdmin')!.id).size).toBe(5);
    expect(t.groupIdsWithRole(t.roleByName('SharedSpaceCreator')!.id).size).toBe(20);
    expect(t.groupIdsWithRole(t.roleByName('Steward')!.id).size).toBe(0);
  });

  it('has indexes that agree with a full scan', () => {
    const users = [...t.users()];
    const byStatus = new Map<string, number>();
    for (const u of users) byStatus.set(u.status, (byStatus.get(u.status) ?? 0) + 1);
    for (const [status, n] of byStatus) expect(t.userIdsWhere('status', status).size).toBe(n);
    expect([...byStatus.values()].reduce((a, b) => a + b)).toBe(5_000);
    expect(byStatus.get('active')).toBeGreaterThan(4_000);

    const emails = new Set(users.map((u) => u.email?.toLowerCase()));
    expect(emails.size).toBe(5_000);
    for (const u of users.slice(0, 200))
      expect([...t.userIdsWhere('email', u.email!.toUpperCase())]).toEqual([u.id]);

    const memberships = new Map<string, number>();
    for (const u of users) {
      if (u.id === t.serviceUserId) continue;
      expect(new Set(u.groupIds).size).toBe(2);
      for (const g of u.groupIds) memberships.set(g, (memberships.get(g) ?? 0) + 1);
    }
    for (const [g, n] of memberships) expect(t.userIdsInGroup(g).size).toBe(n);
    for (const r of t.roles()) {
      expect(t.userIdsWithRole(r.id).size).toBe(users.filter((u) => u.assignedRoleIds.includes(r.id)).length);
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const again = generateTenant(opts);
    const digest = (x: typeof t) =>
      JSON.stringify(
        [...x.users()].slice(0, 300).map((u) => [u.id, u.name, u.email, u.assignedRoleIds, u.groupIds]),
      );
    expect(digest(again)).toBe(digest(t));
    expect(again.tenantId).toBe(t.tenantId);
    expect(digest(generateTenant({ ...opts, seed: 8 }))).not.toBe(digest(t));
  });

  it('has unique 24-hex ids that increase in creation order, like MongoDB ObjectIds', () => {
    const ids = [...t.users()].map((u) => u.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('tenantFromJson', () => {
  it('builds a tenant from a JSON description', () => {
    const t = tenantFromJson({
      tenantId: 'seededTenant-0000000000000000001',
      customRoles: [{ name: 'Space Auditor', permissions: ['read_spaces'] }],
      everyoneRoles: ['PrivateAnalyticsContentCreator'],
      groups: [
        { name: 'Finance', roles: ['SharedSpaceCreator'] },
        { name: 'Vendors', providerType: 'custom' },
      ],
      users: [
        { name: 'Bot', email: 'bot@corp.example', roles: ['TenantAdmin'], serviceUser: true },
        {
          name: 'Jane',
          email: 'jane@corp.example',
          roles: ['Space Auditor'],
          groups: ['Finance', 'Vendors'],
        },
      ],
    });
    expect(t.tenantId).toBe('seededTenant-0000000000000000001');
    const jane = t.usersByEmail('jane@corp.example')[0]!;
    expect(t.userRoleNames(jane.id)).toEqual(['Space Auditor']);
    expect(t.userGroupNames(jane.id)).toEqual(['Finance', 'Vendors']);
    expect(t.effectiveRoleNames(jane.id)).toEqual([
      'PrivateAnalyticsContentCreator',
      'SharedSpaceCreator',
      'Space Auditor',
    ]);
    expect(t.getUser(t.serviceUserId!)?.name).toBe('Bot');
    expect(t.roleByName('Space Auditor')).toMatchObject({ type: 'custom', permissions: ['read_spaces'] });
  });

  it('explains what is wrong with a bad description', () => {
    expect(() => tenantFromJson({ users: [{ email: 'x@y' }] })).toThrow(
      /Invalid tenant seed at users\.0\.name/,
    );
    expect(() => tenantFromJson({ users: [{ name: 'x', status: 'gone' }] })).toThrow(/users\.0\.status/);
    expect(() => tenantFromJson('nope')).toThrow(/Invalid tenant seed at \(root\)/);
    expect(() => tenantFromJson({ users: [{ name: 'x', roles: ['Developer'] }] })).toThrow(
      'No role named "Developer" in the tenant.',
    );
  });
});
