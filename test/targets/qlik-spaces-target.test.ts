// The qlik-spaces target against the simulator over HTTP: finding a space and a role in it (refusals, UI names,
// the brief cache), each apply and revoke path (POST, 409 → PUT, PUT, DELETE, owner, drift, idempotent re-run,
// principal gone, space gone), holdings with groups and ownership, and the listings (holders, members, spaces,
// holdings across spaces, managers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QlikClient } from '../../src/qlik/index.ts';
import { type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import { type QlikSpacesApi, QlikSpacesTarget } from '../../src/targets/qlik-spaces/target.ts';
import type { AccessChange, EntitlementRef, PrincipalRef } from '../../src/targets/types.ts';

let sim: QlikSimulator;
let client: QlikClient;
let target: QlikSpacesTarget;
let clock = 1_000_000;
/** Runs once, right before the next assignment POST reaches Qlik: "someone else" acting at that moment. */
let beforeNextPost: (() => void) | undefined;
/** Runs once, right after the next assignment write: "someone else" undoing it before the read-back. */
let afterNextWrite: (() => void) | undefined;

beforeAll(async () => {
  sim = await startQlikSimulator({});
  client = new QlikClient({
    tenantUrl: sim.url,
    apiKey: sim.apiKey,
    readsPerMinute: 600_000,
    writesPerMinute: 600_000,
    maxRetries: 0,
  });
  const after = async <T>(p: Promise<T>): Promise<T> => {
    const out = await p;
    const f = afterNextWrite;
    afterNextWrite = undefined;
    f?.();
    return out;
  };
  const qlik: QlikSpacesApi = {
    findUsersByEmail: (e) => client.findUsersByEmail(e),
    findGroupByName: (n) => client.findGroupByName(n),
    getUser: (id) => client.getUser(id),
    getGroup: (id) => client.getGroup(id),
    usersByIds: (ids) => client.usersByIds(ids),
    groupsByIds: (ids) => client.groupsByIds(ids),
    usersInGroup: (id) => client.usersInGroup(id),
    listSpaces: (o) => client.listSpaces(o),
    allSpaces: (o) => client.allSpaces(o),
    getSpace: (id) => client.getSpace(id),
    listSpaceAssignments: (id, f) => client.listSpaceAssignments(id, f),
    spaceAssignmentsPage: (id, f) => client.spaceAssignmentsPage(id, f),
    findSpaceAssignment: (id, a) => client.findSpaceAssignment(id, a),
    createSpaceAssignment(id, input) {
      const f = beforeNextPost;
      beforeNextPost = undefined;
      f?.();
      return after(client.createSpaceAssignment(id, input));
    },
    updateSpaceAssignment: (id, a, roles) => after(client.updateSpaceAssignment(id, a, roles)),
    deleteSpaceAssignment: (id, a) => after(client.deleteSpaceAssignment(id, a)),
  };
  target = new QlikSpacesTarget({ instance: 'default', qlik, cacheTtlMs: 5_000, now: () => clock });
});

afterAll(async () => {
  await client.close();
  await sim.close();
});

const never = () => new AbortController().signal;
let n = 0;

function newUser(groups: string[] = []): PrincipalRef {
  const u = sim.tenant.addUser({ name: `Space User ${++n}`, email: `space.user.${n}@corp.example`, groups });
  return { kind: 'user', id: u.id, name: u.name, email: u.email! };
}

function newSpace(type: 'shared' | 'managed' | 'data' = 'managed') {
  const owner = newUser();
  const s = sim.tenant.addSpace({ name: `Target Space ${++n}`, type, ownerId: owner.id });
  return { space: s, owner, ref: { kind: 'space', id: s.id, name: s.name } };
}

async function role(name: string, space: string): Promise<EntitlementRef> {
  const r = await target.resolveEntitlement({ name, resource: { kind: 'space', name: space } });
  if (!r.ok) throw new Error(JSON.stringify(r));
  return r.entitlement;
}

async function apply(change: AccessChange, earlier?: { before: string[] }) {
  const planned: unknown[] = [];
  const result = await target.applyChange(change, {
    ...(earlier ? { earlier } : {}),
    signal: never(),
    beforeWrite: async (s) => {
      planned.push(s);
    },
  });
  return { result, planned };
}

const writes = () =>
  sim.requests
    .filter((r) => r.path.includes('/assignments') && r.method !== 'GET')
    .map((r) => `${r.method} ${r.status}`);

describe('finding a space and a role in it', () => {
  it('needs a space, and only a space', async () => {
    expect(await target.resolveEntitlement({ name: 'consumer' })).toEqual({
      ok: false,
      code: 'resource-required',
      resourceKind: 'space',
    });
    expect(
      await target.resolveEntitlement({ name: 'consumer', resource: { kind: 'collection', name: 'X' } }),
    ).toEqual({ ok: false, code: 'resource-unsupported', resourceKind: 'collection' });
  });

  it('finds a space exactly or by the one name in another case; suggests close names; says when several match', async () => {
    const r = await role('can VIEW', 'finance reports');
    expect(r).toMatchObject({
      id: 'consumer',
      name: 'consumer',
      resource: { kind: 'space', name: 'Finance Reports' },
    });
    expect(r.resource!.id).toBe(sim.tenant.spaceByName('Finance Reports')!.id);
    const miss = await target.resolveEntitlement({
      name: 'consumer',
      resource: { kind: 'space', name: 'Finance Reprots' },
    });
    expect(miss).toMatchObject({ ok: false, code: 'no-such-resource', name: 'Finance Reprots' });
    expect(miss.ok === false && miss.code === 'no-such-resource' && miss.suggestions[0]).toBe(
      'Finance Reports',
    );
    const owner = newUser();
    sim.tenant.addSpace({ name: 'Twin Space', type: 'shared', ownerId: owner.id });
    sim.tenant.addSpace({ name: 'twin space', type: 'shared', ownerId: owner.id });
    expect(
      await target.resolveEntitlement({ name: 'consumer', resource: { kind: 'space', name: 'TWIN SPACE' } }),
    ).toEqual({
      ok: false,
      code: 'ambiguous-resource',
      resourceKind: 'space',
      name: 'TWIN SPACE',
      count: 2,
    });
    expect((await role('consumer', 'twin space')).resource!.name).toBe('twin space');
  });

  it('refuses a role the space does not offer, listing what it offers with UI names', async () => {
    const r = await target.resolveEntitlement({
      name: 'Can edit',
      resource: { kind: 'space', name: 'EMEA Sales' },
    });
    expect(r).toMatchObject({
      ok: false,
      code: 'not-offered',
      asked: 'Can edit',
      resource: { name: 'EMEA Sales' },
    });
    expect(r.ok === false && r.code === 'not-offered' && r.offered).toEqual(
      expect.arrayContaining(['consumer (Can view)', 'facilitator (Can manage)', 'publisher (Can publish)']),
    );
  });

  it('remembers a space lookup for a few seconds, then reads it again', async () => {
    const { space } = newSpace();
    await role('consumer', space.name);
    sim.resetLog();
    await role('Can manage', space.name);
    expect(sim.requests.filter((r) => r.path === '/api/v1/spaces')).toHaveLength(0);
    clock += 5_001;
    await role('consumer', space.name);
    expect(sim.requests.filter((r) => r.path === '/api/v1/spaces')).toHaveLength(1);
  });
});

describe('applying and revoking', () => {
  it('POSTs a first role, PUTs the complete list for a second, PUTs without one, DELETEs the last', async () => {
    const { space } = newSpace();
    const p = newUser();
    const view = await role('consumer', space.name);
    const publish = await role('publisher', space.name);
    sim.resetLog();
    expect((await apply({ action: 'grant', principal: p, entitlement: view })).result).toEqual({
      before: [],
      after: ['consumer'],
      changed: true,
    });
    await apply({ action: 'grant', principal: p, entitlement: publish });
    expect(sim.tenant.spaceRolesOf(space.id, p.id)).toEqual(['consumer', 'publisher']);
    expect((await apply({ action: 'revoke', principal: p, entitlement: view })).result.after).toEqual([
      'publisher',
    ]);
    const last = await apply({ action: 'revoke', principal: p, entitlement: publish });
    expect(last.result).toEqual({ before: ['publisher'], after: [], changed: true });
    expect(sim.tenant.spaceAssignment(space.id, p.id)).toBeUndefined();
    expect(writes()).toEqual(['POST 201', 'PUT 200', 'PUT 200', 'DELETE 204']);
  });

  it('a 409 (an assignment appeared since the read) re-reads and PUTs the complete list', async () => {
    const { space } = newSpace();
    const p = newUser();
    const view = await role('consumer', space.name);
    beforeNextPost = () => sim.tenant.setSpaceRoles(space.id, p.id, ['contributor']);
    sim.resetLog();
    const { result } = await apply({ action: 'grant', principal: p, entitlement: view });
    expect(writes()).toEqual(['POST 409', 'PUT 200']);
    expect(sim.tenant.spaceRolesOf(space.id, p.id)).toEqual(['contributor', 'consumer']);
    expect(result).toMatchObject({ changed: true, after: ['contributor', 'consumer'] });
  });

  it('the owner: a grant changes nothing, a revoke is refused with a message, and nothing is written', async () => {
    const { space, owner } = newSpace();
    const manage = await role('Can manage', space.name);
    sim.resetLog();
    const g = await apply({ action: 'grant', principal: owner, entitlement: manage });
    expect(g.result.changed).toBe(false);
    expect(g.planned).toEqual([]);
    const err = await apply({ action: 'revoke', principal: owner, entitlement: manage }).catch(
      (e: unknown) => e,
    );
    const action = target.classifyError(err, { who: owner.name, kind: 'user' });
    expect(action).toEqual({ kind: 'fail', message: expect.stringContaining('owns the space') });
    expect(action?.kind === 'fail' && action.message).toContain("an owner can't be removed from it here");
    expect(target.describeError(err)).toContain(space.name);
    expect(writes()).toEqual([]);
    expect((await target.readHoldings(owner, manage.resource)).owner).toBe(true);
  });

  it('verifies by reading back: a write someone undid at once is drift, and fails', async () => {
    const { space } = newSpace();
    const p = newUser();
    const view = await role('consumer', space.name);
    await apply({ action: 'grant', principal: p, entitlement: await role('publisher', space.name) });
    afterNextWrite = () => sim.tenant.setSpaceRoles(space.id, p.id, ['publisher']);
    const err = await apply({ action: 'grant', principal: p, entitlement: view }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'DriftError' });
    expect(target.classifyError(err, { who: p.name, kind: 'user' })?.kind).toBe('fail');
  });

  it('a re-run after a crash after the write reports the change as its own, and writes nothing', async () => {
    const { space } = newSpace();
    const p = newUser();
    const view = await role('consumer', space.name);
    const first = await apply({ action: 'grant', principal: p, entitlement: view });
    sim.resetLog();
    const rerun = await apply({ action: 'grant', principal: p, entitlement: view }, { before: [] });
    expect(rerun.result).toEqual({ before: [], after: ['consumer'], changed: true });
    expect(first.planned).toEqual([{ before: [], after: ['consumer'] }]);
    expect(writes()).toEqual([]);
    const revoke = { action: 'revoke' as const, principal: p, entitlement: view };
    await apply(revoke);
    expect((await apply(revoke, { before: ['consumer'] })).result.changed).toBe(true);
    expect((await apply(revoke)).result.changed).toBe(false);
  });

  it('ends a grant: removed, already-gone, principal-gone; a deleted user is named when a grant fails', async () => {
    const { space } = newSpace();
    const p = newUser();
    const view = await role('consumer', space.name);
    await apply({ action: 'grant', principal: p, entitlement: view });
    const end = (earlier?: string[]) =>
      target.endGrant(
        { action: 'grant', principal: p, entitlement: view },
        {
          ...(earlier ? { earlier } : {}),
          signal: never(),
          beforeWrite: async () => {},
        },
      );
    expect(await end()).toEqual({ outcome: 'removed', before: ['consumer'], after: [] });
    expect(await end()).toMatchObject({ outcome: 'already-gone' });
    expect(await end(['consumer'])).toMatchObject({ outcome: 'removed' });
    const gone = newUser();
    await apply({ action: 'grant', principal: gone, entitlement: view });
    sim.tenant.deleteUser(gone.id);
    expect(
      await target.endGrant(
        { action: 'grant', principal: gone, entitlement: view },
        {
          signal: never(),
          beforeWrite: async () => {},
        },
      ),
    ).toEqual({ outcome: 'principal-gone' });
    const err = await apply({ action: 'grant', principal: gone, entitlement: view }).catch((e: unknown) => e);
    const action = target.classifyError(err, { who: gone.name, kind: 'user' });
    expect(action?.kind === 'fail' && action.message).toContain(gone.name);
  });

  it('a space that no longer exists fails saying so, and its grants end as already gone', async () => {
    const p = newUser();
    const ghost: EntitlementRef = {
      id: 'consumer',
      name: 'consumer',
      resource: { kind: 'space', id: '0000000000000000000000ff', name: 'Old Space' },
    };
    const err = await apply({ action: 'grant', principal: p, entitlement: ghost }).catch((e: unknown) => e);
    const action = target.classifyError(err, { who: p.name, kind: 'user' });
    expect(action?.kind === 'fail' && action.message).toMatch(/space Old Space no longer exists/);
    expect(
      await target.endGrant(
        { action: 'grant', principal: p, entitlement: ghost },
        {
          signal: never(),
          beforeWrite: async () => {},
        },
      ),
    ).toMatchObject({ outcome: 'already-gone' });
  });

  it('locks per (space, principal)', async () => {
    const a = await role('consumer', 'Finance Reports');
    const b = await role('consumer', 'EMEA Sales');
    const p = newUser();
    const key = (e: EntitlementRef) => target.lockKey({ action: 'grant', principal: p, entitlement: e });
    expect(key(a)).toBe(`space:${a.resource!.id}:user:${p.id}`);
    expect(key(a)).not.toBe(key(b));
  });
});

describe('reading and listing', () => {
  it('holdings: direct roles, roles through groups, ownership', async () => {
    const { space, ref } = newSpace();
    const group = sim.tenant.addGroup({ name: `Space Group ${++n}` });
    const p = newUser([group.name]);
    sim.tenant.setSpaceRoles(space.id, group.id, ['consumer', 'contributor']);
    sim.tenant.setSpaceRoles(space.id, p.id, ['publisher']);
    const h = await target.readHoldings(p, ref);
    expect(h.direct.map((e) => e.name)).toEqual(['publisher']);
    expect(h.inherited).toEqual([
      {
        via: group.name,
        entitlements: [
          expect.objectContaining({ name: 'consumer' }),
          expect.objectContaining({ name: 'contributor' }),
        ],
      },
    ]);
    expect(h.owner).toBeUndefined();
  });

  it('who holds a role: the owner first and marked, direct users, groups, and users only through groups', async () => {
    const { space, owner } = newSpace();
    const group = sim.tenant.addGroup({ name: `Viewers ${++n}` });
    const a = newUser();
    const b = newUser([group.name]);
    const c = newUser([group.name]);
    sim.tenant.setSpaceRoles(space.id, a.id, ['consumer']);
    sim.tenant.setSpaceRoles(space.id, b.id, ['consumer', 'publisher']);
    sim.tenant.setSpaceRoles(space.id, group.id, ['consumer']);
    const view = await role('consumer', space.name);
    const s = await target.holdersSummary(view);
    expect(s.direct.total).toBe(3);
    expect(s.direct.first[0]).toMatchObject({ id: owner.id, name: owner.name, status: 'owner' });
    expect(s.direct.first.slice(1).map((h) => h.id)).toEqual([a.id, b.id]);
    expect(s.groups).toEqual({ total: 1, first: [{ name: group.name }] });
    expect(s.inherited.total).toBe(1); // c: b holds it directly too
    expect(s.heldByEveryone).toBe(false);
    const ids: string[] = [];
    for await (const h of target.holders(view, s.resume)) ids.push(h.id);
    expect(ids).toEqual([owner.id, a.id, b.id]);
    expect(ids).not.toContain(c.id);
  });

  it('members of a space: the owner, users and groups with their roles, names read in one lookup', async () => {
    const s = sim.tenant.spaceByName('Finance Reports')!;
    sim.resetLog();
    const m = await target.resourceMembers({ kind: 'space', id: s.id, name: s.name }, 10);
    expect(m.resource).toMatchObject({ name: 'Finance Reports', type: 'shared' });
    expect(m.owner).toMatchObject({ email: 'dan@corp.example' });
    expect(m.users.first.map((u) => [u.principal.email, u.entitlements])).toEqual(
      expect.arrayContaining([
        ["o'brien@corp.example", ['facilitator']],
        ['ingrid@corp.example', ['consumer', 'producer']],
      ]),
    );
    expect(m.groups.first).toEqual([
      { principal: expect.objectContaining({ kind: 'group', name: 'Finance' }), entitlements: ['consumer'] },
    ]);
    expect(sim.requests.filter((r) => r.path === '/api/v1/users')).toHaveLength(1);
  });

  it('lists spaces by text, the closest first, with type and owner', async () => {
    const r = await target.listResources('finance reports', 5);
    expect(r.resources.map((s) => s.name)).toEqual(['Finance Reports', 'Finance Reports Archive']);
    expect(r.total).toBe(2);
    expect(r.resources[0]).toMatchObject({
      kind: 'space',
      type: 'shared',
      owner: { email: 'dan@corp.example' },
    });
  });

  it('holdings across spaces: owned, direct and through groups; partial when the budget runs out', async () => {
    const group = sim.tenant.addGroup({ name: `Across ${++n}` });
    const p = newUser([group.name]);
    const owned = sim.tenant.addSpace({ name: `Owned ${n}`, type: 'shared', ownerId: p.id });
    const direct = newSpace();
    const viaGroup = newSpace();
    sim.tenant.setSpaceRoles(direct.space.id, p.id, ['consumer']);
    sim.tenant.setSpaceRoles(viaGroup.space.id, group.id, ['publisher']);
    const all = await target.holdingsAcross(p, { maxReads: 1000 });
    expect(all.partial).toBe(false);
    expect(all.checked).toBe(all.total);
    expect(all.held).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ resource: expect.objectContaining({ id: owned.id }), owner: true }),
        { resource: expect.objectContaining({ id: direct.space.id }), entitlements: ['consumer'] },
        {
          resource: expect.objectContaining({ id: viaGroup.space.id }),
          entitlements: ['publisher'],
          via: group.name,
        },
      ]),
    );
    sim.resetLog();
    const some = await target.holdingsAcross(p, { maxReads: 6 });
    expect(some.partial).toBe(true);
    expect(some.checked).toBeLessThan(some.total);
    expect(sim.requests.filter((r) => r.method === 'GET').length).toBeLessThanOrEqual(6);
  });

  it('managers: the owner, then facilitators directly and through a group, with emails, read fresh', async () => {
    const { space, owner, ref } = newSpace();
    const group = sim.tenant.addGroup({ name: `Managers ${++n}` });
    const direct = newUser();
    const viaGroup = newUser([group.name]);
    sim.tenant.setSpaceRoles(space.id, direct.id, ['facilitator']);
    sim.tenant.setSpaceRoles(space.id, group.id, ['facilitator', 'consumer']);
    sim.tenant.setSpaceRoles(space.id, newUser().id, ['consumer']);
    expect(await target.resourceManagers(ref)).toEqual([
      { name: owner.name, email: owner.email, as: 'owner' },
      { name: direct.name, email: direct.email, as: 'manager' },
      { name: viaGroup.name, email: viaGroup.email, as: 'manager' },
    ]);
    sim.tenant.setSpaceRoles(space.id, direct.id, []);
    expect((await target.resourceManagers(ref)).map((m) => m.email)).not.toContain(direct.email);
  });
});

describe('several changes to one assignment in one write', () => {
  async function batch(changes: AccessChange[]) {
    const planned: number[][] = [];
    const results = await target.applyChanges(changes, {
      earlier: changes.map(() => undefined),
      signal: never(),
      beforeWrite: async (p) => {
        planned.push(p.map((x) => x.index));
      },
    });
    return { results, planned };
  }

  it('three roles for a new member: one POST holding all three, then one read back', async () => {
    const { space, ref } = newSpace('managed');
    const p = newUser();
    const roles = await Promise.all(
      ['consumer', 'contributor', 'dataconsumer'].map((r) => role(r, ref.name)),
    );
    sim.resetLog();
    const { results } = await batch(
      roles.map((entitlement): AccessChange => ({ action: 'grant', principal: p, entitlement })),
    );
    expect(results.map((r) => r.ok && r.applied.changed)).toEqual([true, true, true]);
    expect(writes()).toEqual(['POST 201']);
    expect(sim.tenant.spaceRolesOf(space.id, p.id)?.sort()).toEqual([
      'consumer',
      'contributor',
      'dataconsumer',
    ]);
  });

  it("the owner's revoke fails alone; the rest of the batch is made", async () => {
    const { space, owner, ref } = newSpace('shared');
    const [consumer, producer] = await Promise.all([role('consumer', ref.name), role('producer', ref.name)]);
    const p = newUser();
    const { results } = await batch([
      { action: 'revoke', principal: owner, entitlement: consumer },
      { action: 'grant', principal: owner, entitlement: producer },
    ]);
    expect(results[0]).toMatchObject({ ok: false });
    expect(results[0]?.ok === false && String(results[0].error)).toContain('owns the space');
    expect(results[1]).toMatchObject({ ok: true, applied: { changed: false } });
    const other = await batch([{ action: 'grant', principal: p, entitlement: consumer }]);
    expect(other.results[0]?.ok).toBe(true);
    expect(sim.tenant.spaceAssignment(space.id, owner.id)).toBeUndefined();
  });

  it('a POST that meets an assignment made meanwhile (409) falls back to one change at a time', async () => {
    const { space, ref } = newSpace('managed');
    const p = newUser();
    const roles = await Promise.all(['consumer', 'publisher'].map((r) => role(r, ref.name)));
    beforeNextPost = () => sim.tenant.setSpaceRoles(space.id, p.id, ['contributor']);
    sim.resetLog();
    const { results, planned } = await batch(
      roles.map((entitlement): AccessChange => ({ action: 'grant', principal: p, entitlement })),
    );
    expect(results.map((r) => r.ok && r.applied.changed)).toEqual([true, true]);
    expect(writes()).toEqual(['POST 409', 'PUT 200', 'PUT 200']);
    expect(planned).toEqual([[0, 1], [0], [1]]);
    expect(sim.tenant.spaceRolesOf(space.id, p.id)?.sort()).toEqual(['consumer', 'contributor', 'publisher']);
  });
});
