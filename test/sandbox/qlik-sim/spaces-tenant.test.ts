// SimTenant's space state without HTTP: name rules, one assignment per assignee, roles per space type, the owner's
// implicit roles, who may manage members, cleanup when users and groups go, and the seeds' spaces.

import { describe, expect, it } from 'vitest';
import {
  assignableSpaceRoles,
  demoTenant,
  EVERYONE_GROUP_ID,
  generateTenant,
  SimTenant,
  SimTenantError,
  tenantFromJson,
} from '../../../src/sandbox/qlik-sim/index.ts';

function kindOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SimTenantError) return e.kind;
    throw e;
  }
  return 'ok';
}

function small() {
  const t = new SimTenant({ seed: 3 });
  const owner = t.addUser({ name: 'Owner', email: 'owner@x.example' });
  const ann = t.addUser({ name: 'Ann', email: 'ann@x.example' });
  const ben = t.addUser({ name: 'Ben', email: 'ben@x.example', roles: ['AnalyticsAdmin'] });
  const team = t.addGroup({ name: 'Team' });
  t.addUserToGroup(ann.id, team.id);
  const shared = t.addSpace({ name: 'Shared One', type: 'shared', ownerId: owner.id });
  const data = t.addSpace({ name: 'Data One', type: 'data', ownerId: owner.id, description: 'd' });
  return { t, owner, ann, ben, team, shared, data };
}

describe('space roles per type (reference §5 table)', () => {
  it('offers exactly the table’s roles, managed spaces seven of them', () => {
    expect(assignableSpaceRoles('shared').sort()).toEqual(
      ['codeveloper', 'consumer', 'dataconsumer', 'facilitator', 'producer'].sort(),
    );
    expect(assignableSpaceRoles('managed').sort()).toEqual(
      [
        'basicconsumer',
        'consumer',
        'contributor',
        'dataconsumer',
        'facilitator',
        'operator',
        'publisher',
      ].sort(),
    );
    expect(assignableSpaceRoles('data').sort()).toEqual(
      ['consumer', 'dataconsumer', 'datapreview', 'facilitator', 'operator', 'producer', 'publisher'].sort(),
    );
    expect(new SimTenant().assignableSpaceRoles('managed')).toHaveLength(7);
  });
});

describe('addSpace', () => {
  it('validates names: unique, at most 256 characters, none of " * ? < > / | \\ :', () => {
    const { t, owner } = small();
    const add = (name: string) => () => t.addSpace({ name, type: 'shared', ownerId: owner.id });
    expect(kindOf(add('Shared One'))).toBe('conflict');
    for (const c of ['"', '*', '?', '<', '>', '/', '|', '\\', ':'])
      expect(kindOf(add(`a${c}b`))).toBe('invalid');
    expect(kindOf(add(''))).toBe('invalid');
    expect(kindOf(add('x'.repeat(257)))).toBe('invalid');
    expect(kindOf(add('x'.repeat(256)))).toBe('ok');
    // Names compare exactly, like group names: a case variant is another space.
    expect(kindOf(add('shared one'))).toBe('ok');
    expect(kindOf(() => t.addSpace({ name: 'n', type: 'personal' as never, ownerId: owner.id }))).toBe(
      'invalid',
    );
    expect(kindOf(() => t.addSpace({ name: 'n', type: 'shared', ownerId: '0123456789abcdef01234567' }))).toBe(
      'not-found',
    );
  });

  it('looks spaces up by id and exact name, and counts them', () => {
    const { t, shared, data } = small();
    expect(t.getSpace(shared.id)).toBe(shared);
    expect(t.spaceByName('Data One')).toBe(data);
    expect(t.spaceByName('data one')).toBeUndefined();
    expect(t.spaceCount).toBe(2);
    expect([...t.spaces()].map((s) => s.name)).toEqual(['Shared One', 'Data One']);
    expect(shared.id).toMatch(/^[0-9a-f]{24}$/);
    expect(data.description).toBe('d');
  });
});

describe('assignments', () => {
  it('allows one per assignee, with non-empty roles the space type offers', () => {
    const { t, ann, team, shared } = small();
    const a = t.assignSpace(shared.id, { type: 'user', assigneeId: ann.id, roles: ['consumer', 'consumer'] });
    expect(a).toMatchObject({ spaceId: shared.id, type: 'user', assigneeId: ann.id, roles: ['consumer'] });
    expect(
      kindOf(() => t.assignSpace(shared.id, { type: 'user', assigneeId: ann.id, roles: ['producer'] })),
    ).toBe('conflict');
    const g = (roles: string[]) => () =>
      t.assignSpace(shared.id, { type: 'group', assigneeId: team.id, roles });
    expect(kindOf(g([]))).toBe('invalid');
    expect(kindOf(g(['publisher']))).toBe('invalid');
    expect(kindOf(g(['Consumer']))).toBe('invalid');
    expect(
      kindOf(() => t.assignSpace(shared.id, { type: 'group', assigneeId: ann.id, roles: ['consumer'] })),
    ).toBe('not-found');
    expect(
      kindOf(() =>
        t.assignSpace(shared.id, { type: 'bot' as never, assigneeId: ann.id, roles: ['consumer'] }),
      ),
    ).toBe('invalid');
    expect(kindOf(g(['producer']))).toBe('ok');
    expect(t.spaceAssignments(shared.id).map((x) => x.assigneeId)).toEqual([ann.id, team.id]);
    expect(t.spaceRolesOf(shared.id, team.id)).toEqual(['producer']);
    expect(t.spaceAssignment(shared.id, ann.id)).toBe(a);
  });

  it('gives the owner every role without an assignment, and refuses to create one for it', () => {
    const { t, owner, data } = small();
    expect(t.spaceAssignments(data.id)).toEqual([]);
    expect(t.spaceRolesOf(data.id, owner.id)).toEqual([]);
    expect(t.effectiveSpaceRoles(data.id, owner.id)).toEqual(assignableSpaceRoles('data').sort());
    expect(
      kindOf(() => t.assignSpace(data.id, { type: 'user', assigneeId: owner.id, roles: ['consumer'] })),
    ).toBe('invalid');
  });

  it('setSpaceRoles creates (user or group from the id), replaces, and deletes on []', () => {
    const { t, ann, team, shared } = small();
    t.setSpaceRoles(shared.id, team.id, ['consumer']);
    expect(t.spaceAssignment(shared.id, team.id)?.type).toBe('group');
    t.setSpaceRoles(shared.id, ann.id, ['producer', 'facilitator']);
    expect(t.spaceAssignment(shared.id, ann.id)?.type).toBe('user');
    t.setSpaceRoles(shared.id, ann.id, ['consumer']);
    expect(t.spaceRolesOf(shared.id, ann.id)).toEqual(['consumer']);
    t.setSpaceRoles(shared.id, ann.id, []);
    expect(t.spaceAssignment(shared.id, ann.id)).toBeUndefined();
    t.setSpaceRoles(shared.id, ann.id, []);
    expect(t.spaceAssignments(shared.id)).toHaveLength(1);
  });

  it('updates the complete list and deletes by assignment id', () => {
    const { t, ann, shared } = small();
    const a = t.assignSpace(shared.id, { type: 'user', assigneeId: ann.id, roles: ['consumer'] });
    t.updateSpaceAssignment(shared.id, a.id, ['producer'], ann.id);
    expect(t.spaceRolesOf(shared.id, ann.id)).toEqual(['producer']);
    expect(kindOf(() => t.updateSpaceAssignment(shared.id, a.id, []))).toBe('invalid');
    expect(kindOf(() => t.updateSpaceAssignment(shared.id, 'nope', ['consumer']))).toBe('not-found');
    expect(t.deleteSpaceAssignment(shared.id, a.id)).toBe(true);
    expect(t.deleteSpaceAssignment(shared.id, a.id)).toBe(false);
    expect(t.spaceRolesOf(shared.id, ann.id)).toEqual([]);
  });
});

describe('roles through groups and who manages members', () => {
  it('adds the roles of active groups the user is in, and of Everyone', () => {
    const { t, ann, team, shared } = small();
    t.setSpaceRoles(shared.id, team.id, ['facilitator']);
    t.setSpaceRoles(shared.id, EVERYONE_GROUP_ID, ['dataconsumer']);
    expect(t.effectiveSpaceRoles(shared.id, ann.id)).toEqual(['dataconsumer', 'facilitator']);
    expect(t.canManageSpaceMembers(shared.id, ann.id)).toBe(true);
    t.updateGroup(team.id, { status: 'disabled' });
    expect(t.effectiveSpaceRoles(shared.id, ann.id)).toEqual(['dataconsumer']);
    expect(t.canManageSpaceMembers(shared.id, ann.id)).toBe(false);
  });

  it('lets the owner, facilitators and (shared/managed only) TenantAdmin/AnalyticsAdmin manage', () => {
    const { t, owner, ann, ben, shared, data } = small();
    expect(t.canManageSpaceMembers(shared.id, owner.id)).toBe(true);
    expect(t.canManageSpaceMembers(data.id, owner.id)).toBe(true);
    expect(t.canManageSpaceMembers(shared.id, ben.id)).toBe(true);
    expect(t.canSeeSpace(shared.id, ben.id)).toBe(true);
    expect(t.canManageSpaceMembers(data.id, ben.id)).toBe(false);
    expect(t.canSeeSpace(data.id, ben.id)).toBe(false);
    t.setSpaceRoles(data.id, ann.id, ['consumer']);
    expect(t.canSeeSpace(data.id, ann.id)).toBe(true);
    expect(t.canManageSpaceMembers(data.id, ann.id)).toBe(false);
    t.setSpaceRoles(data.id, ann.id, ['consumer', 'facilitator']);
    expect(t.canManageSpaceMembers(data.id, ann.id)).toBe(true);
  });

  it('removes a deleted user’s and group’s assignments everywhere', () => {
    const { t, ann, team, shared, data } = small();
    t.setSpaceRoles(shared.id, ann.id, ['consumer']);
    t.setSpaceRoles(data.id, ann.id, ['operator']);
    t.setSpaceRoles(shared.id, team.id, ['producer']);
    t.setSpaceRoles(data.id, team.id, ['producer']);
    t.deleteUser(ann.id);
    expect(t.spaceAssignments(shared.id).map((a) => a.assigneeId)).toEqual([team.id]);
    expect(t.spaceAssignments(data.id).map((a) => a.assigneeId)).toEqual([team.id]);
    t.deleteGroup(team.id);
    expect(t.spaceAssignments(shared.id)).toEqual([]);
    expect(t.spaceAssignments(data.id)).toEqual([]);
  });
});

describe('seeded spaces', () => {
  it('demoTenant has spaces of every type with user and group members and a facilitator who is not the owner', () => {
    const t = demoTenant();
    const byName = (n: string) => t.spaceByName(n)!;
    expect(byName('Finance Reports').type).toBe('shared');
    expect(byName('EMEA Sales').type).toBe('managed');
    expect(byName('Sales Data').type).toBe('data');
    const finance = t.groupByName('Finance')!.id;
    expect(t.spaceRolesOf(byName('Finance Reports').id, finance)).toEqual(['consumer']);
    const conor = t.usersByEmail("o'brien@corp.example")[0]!.id;
    expect(t.spaceRolesOf(byName('Finance Reports').id, conor)).toEqual(['facilitator']);
    expect(byName('Finance Reports').ownerId).not.toBe(conor);
    // The bot's service user manages every seeded space but one data space (TenantAdmin doesn't cover data).
    const bot = t.serviceUserId!;
    const unmanaged = [...t.spaces()].filter((s) => !t.canManageSpaceMembers(s.id, bot)).map((s) => s.name);
    expect(unmanaged).toEqual(['Data Lake Staging']);
    expect(t.spaceRolesOf(byName('Sales Data').id, bot)).toEqual(['facilitator']);
    expect(t.spaceAssignments(byName('APAC Sales').id)).toEqual([]);
    for (const s of t.spaces()) {
      expect(t.spaceAssignment(s.id, s.ownerId)).toBeUndefined();
    }
  });

  it('generateTenant adds one space per 1,000 users by default (or as asked), deterministically', () => {
    const opts = { users: 5_000, groups: 30, seed: 4 };
    const t = generateTenant(opts);
    expect(t.spaceCount).toBe(5);
    const big = generateTenant({ ...opts, spaces: 50 });
    expect(big.spaceCount).toBe(50);
    const types = [...big.spaces()].map((s) => s.type);
    for (const type of ['shared', 'managed', 'data'] as const)
      expect(types.filter((x) => x === type).length).toBeGreaterThan(15);
    expect(new Set([...big.spaces()].map((s) => s.name)).size).toBe(50);
    for (const s of big.spaces()) {
      const as = big.spaceAssignments(s.id);
      expect(as.length).toBeGreaterThanOrEqual(10);
      expect(as.some((a) => a.type === 'group')).toBe(true);
      expect(big.spaceAssignment(s.id, s.ownerId)).toBeUndefined();
      expect(big.canManageSpaceMembers(s.id, big.serviceUserId!)).toBe(true);
    }
    const digest = (x: SimTenant) =>
      JSON.stringify([...x.spaces()].map((s) => [s.id, s.name, s.ownerId, x.spaceAssignments(s.id)]));
    expect(digest(generateTenant({ ...opts, spaces: 50 }))).toBe(digest(big));
    // Spaces are drawn last, so the users of a seed are the same with or without them.
    expect([...generateTenant({ ...opts, spaces: 0 }).users()].map((u) => u.id + u.name)).toEqual(
      [...big.users()].map((u) => u.id + u.name),
    );
  });

  it('tenantFromJson builds spaces with members by email and group name, naming the bad path', () => {
    const t = tenantFromJson({
      groups: [{ name: 'Team' }],
      users: [
        { name: 'Owner', email: 'o@x.example' },
        { name: 'Ann', email: 'ann@x.example' },
      ],
      spaces: [
        {
          name: 'Ops',
          type: 'managed',
          owner: 'o@x.example',
          members: [
            { user: 'ann@x.example', roles: ['publisher'] },
            { group: 'Team', roles: ['consumer'] },
          ],
        },
      ],
    });
    const ops = t.spaceByName('Ops')!;
    expect(t.spaceAssignments(ops.id).map((a) => [a.type, a.roles])).toEqual([
      ['user', ['publisher']],
      ['group', ['consumer']],
    ]);
    const bad = (members: unknown[]) => () =>
      tenantFromJson({
        users: [{ name: 'Owner', email: 'o@x.example' }],
        spaces: [{ name: 'S', type: 'shared', owner: 'o@x.example', members }],
      });
    expect(bad([{ user: 'o@x.example', roles: ['publisher'] }])).toThrow(
      /spaces\.0\.members\.0: .*publisher/,
    );
    expect(bad([{ group: 'Nope', roles: ['consumer'] }])).toThrow(/spaces\.0\.members\.0: no group/);
    expect(bad([{ user: 'o@x.example', roles: ['Consumer'] }])).toThrow(
      /Invalid tenant seed at spaces\.0\.members\.0/,
    );
  });
});
