// The mode-collections target against the Mode simulator over HTTP through the real client and the people cache in
// the real Redis: Collections found by name (the refusal codes the space target uses), view/edit for a member
// (Account) and a group (UserGroup) by POST, PATCH or nothing, a revoke only of the action granted, drift, ending a
// grant, holders, members, listings and holdings across Collections.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModeClient, ModePeople } from '../../src/mode/index.ts';
import { type ModeSimulator, ModeWorkspace, startModeSimulator } from '../../src/sandbox/mode-sim/index.ts';
import { DriftError } from '../../src/targets/errors.ts';
import { type ModeCollectionsApi, ModeCollectionsTarget } from '../../src/targets/mode-collections/target.ts';
import type { AccessChange, EntitlementRef, PrincipalRef } from '../../src/targets/types.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

let sim: ModeSimulator;
let ws: ModeWorkspace;
let mode: ModeClient;
let redis: Redis;
let target: ModeCollectionsTarget;
const prefix = uniquePrefix('mode-collections');
let undoNext = false;

beforeAll(async () => {
  ws = new ModeWorkspace({ username: 'acme', seed: 4 });
  sim = await startModeSimulator({ workspace: ws });
  mode = new ModeClient({
    baseUrl: sim.url,
    workspace: 'acme',
    token: sim.token,
    secret: sim.secret,
    maxAttempts: 1,
  });
  redis = testRedis();
  const people = new ModePeople({ redis, prefix, client: mode, missRefreshMs: 0 });
  const api: ModeCollectionsApi = {
    groups: () => mode.groups(),
    group: (g) => mode.group(g),
    groupMemberships: (g) => mode.groupMemberships(g),
    collections: () => mode.collections(),
    collection: (s) => mode.collection(s),
    permissions: (s) => mode.permissions(s),
    async createPermission(s, p) {
      const out = await mode.createPermission(s, p);
      if (undoNext) {
        undoNext = false;
        ws.deletePermission(s, out.token);
      }
      return out;
    },
    updatePermission: (s, p, a) => mode.updatePermission(s, p, a),
    deletePermission: (s, p) => mode.deletePermission(s, p),
  };
  target = new ModeCollectionsTarget({ instance: 'default', mode: api, people, cacheTtlMs: 0 });
});
afterAll(async () => {
  await mode?.close();
  await sim?.close();
  await dropPrefix(redis, prefix);
  await redis.quit();
});

let n = 0;
const never = () => new AbortController().signal;
const opts = { signal: never(), beforeWrite: async () => {} };

async function member(): Promise<PrincipalRef> {
  const i = ++n;
  ws.addMember({ username: `u${i}`, name: `User ${i}`, email: `u${i}@corp.example` });
  const r = await target.resolvePrincipal({ kind: 'user', email: `u${i}@corp.example` });
  if (!r.ok) throw new Error(JSON.stringify(r));
  return r.principal;
}

async function collection(name = `Reports ${++n}`): Promise<{ token: string; name: string }> {
  return { token: ws.addCollection({ name }).token, name };
}

async function entitlement(action: string, c: { name: string }): Promise<EntitlementRef> {
  const r = await target.resolveEntitlement({
    name: action,
    resource: { kind: 'collection', name: c.name.toLowerCase() },
  });
  if (!r.ok) throw new Error(JSON.stringify(r));
  return r.entitlement;
}

const change = (
  principal: PrincipalRef,
  e: EntitlementRef,
  action: 'grant' | 'revoke' = 'grant',
): AccessChange => ({
  action,
  principal,
  entitlement: e,
});

const writes = (c: string) =>
  sim.requests
    .filter((r) => r.method !== 'GET' && r.path.startsWith(`/api/acme/spaces/${c}/permissions`))
    .map((r) => r.method);

describe('resolving', () => {
  it('needs a Collection, finds it any case with suggestions for a miss, and offers view and edit', async () => {
    const c = await collection('Quarterly Finance');
    expect(await target.resolveEntitlement({ name: 'view' })).toEqual({
      ok: false,
      code: 'resource-required',
      resourceKind: 'collection',
    });
    expect(
      await target.resolveEntitlement({
        name: 'Can View',
        resource: { kind: 'Collection', name: 'quarterly finance' },
      }),
    ).toEqual({
      ok: true,
      entitlement: { id: 'view', name: 'view', resource: { kind: 'collection', id: c.token, name: c.name } },
    });
    expect(
      await target.resolveEntitlement({
        name: 'view',
        resource: { kind: 'collection', name: 'Quartely Finance' },
      }),
    ).toEqual({
      ok: false,
      code: 'no-such-resource',
      resourceKind: 'collection',
      name: 'Quartely Finance',
      suggestions: ['Quarterly Finance'],
    });
    expect(
      await target.resolveEntitlement({ name: 'own', resource: { kind: 'collection', name: c.name } }),
    ).toMatchObject({
      ok: false,
      code: 'not-offered',
      offered: ['view', 'edit'],
    });
    ws.addCollection({ name: 'Twin' });
    ws.addCollection({ name: 'Twin' });
    expect(await target.resolveResource({ kind: 'collection', name: 'Twin' })).toMatchObject({
      ok: false,
      code: 'ambiguous-resource',
      count: 2,
    });
    expect(await target.resolveResource({ kind: 'space', name: 'Twin' })).toMatchObject({
      code: 'resource-unsupported',
    });
  });
});

describe('applying', () => {
  it('POSTs a new permission, PATCHes another action, and writes nothing for the same one', async () => {
    const [p, c] = [await member(), await collection()];
    const view = await entitlement('view', c);
    const edit = await entitlement('EDIT', c);
    expect(await target.applyChange(change(p, view), opts)).toEqual({
      before: [],
      after: ['view'],
      changed: true,
    });
    expect(await target.applyChange(change(p, view), opts)).toMatchObject({
      changed: false,
      before: ['view'],
    });
    expect(await target.applyChange(change(p, edit), opts)).toEqual({
      before: ['view'],
      after: ['edit'],
      changed: true,
    });
    expect(writes(c.token)).toEqual(['POST', 'PATCH']);
    expect(ws.permissionsOf(c.token)).toEqual([
      expect.objectContaining({ accessorType: 'Account', accessorToken: p.id, action: 'edit' }),
    ]);
  });

  it('revokes only the action asked: another action found stays, and says what it found', async () => {
    const [p, c] = [await member(), await collection()];
    ws.setPermission(c.token, { accessorType: 'Account', accessorToken: p.id, action: 'edit' });
    const view = await entitlement('view', c);
    expect(await target.applyChange(change(p, view, 'revoke'), opts)).toEqual({
      before: ['edit'],
      after: ['edit'],
      changed: false,
    });
    expect(writes(c.token)).toEqual([]);
    const edit = await entitlement('edit', c);
    expect(await target.applyChange(change(p, edit, 'revoke'), opts)).toEqual({
      before: ['edit'],
      after: [],
      changed: true,
    });
    expect(writes(c.token)).toEqual(['DELETE']);
    expect(ws.permissionsOf(c.token)).toEqual([]);
  });

  it('gives a group a UserGroup permission; its members hold it through the group', async () => {
    const [p, c] = [await member(), await collection()];
    const g = ws.addGroup({ name: `Readers ${++n}` }).token;
    ws.addToGroup(g, p.id);
    const group = await target.resolvePrincipal({ kind: 'group', name: `Readers ${n}` });
    if (!group.ok) throw new Error('no group');
    const view = await entitlement('view', c);
    expect((await target.applyChange(change(group.principal, view), opts)).changed).toBe(true);
    expect(ws.permissionsOf(c.token)).toEqual([
      expect.objectContaining({ accessorType: 'UserGroup', accessorToken: g }),
    ]);
    const held = await target.readHoldings(p, view.resource);
    expect(held).toMatchObject({
      direct: [],
      inherited: [{ via: `Readers ${n}`, entitlements: [{ name: 'view' }] }],
    });
    const across = await target.holdingsAcross(p, { maxReads: 1000 });
    expect(across.partial).toBe(false);
    expect(across.held).toContainEqual({
      resource: view.resource,
      entitlements: ['view'],
      via: `Readers ${n}`,
    });
  });

  it('a write undone before the read-back is a DriftError; a member who left fails naming them', async () => {
    const [p, c] = [await member(), await collection()];
    const view = await entitlement('view', c);
    undoNext = true;
    const err = await target.applyChange(change(p, view), opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriftError);
    ws.setMemberState(p.id, 'deactivated');
    const gone = await target.applyChange(change(p, view), opts).catch((e: unknown) => e);
    expect(target.classifyError(gone, { who: p.name, kind: 'user' })).toMatchObject({ kind: 'fail' });
    expect(target.describeError(gone)).toContain(p.name);
    expect(ws.permissionsOf(c.token)).toEqual([]);
  });
});

describe('ending a grant', () => {
  it('removes the permission granted, and leaves one someone changed since', async () => {
    const [p, q, c] = [await member(), await member(), await collection()];
    const view = await entitlement('view', c);
    await target.applyChange(change(p, view), opts);
    await target.applyChange(change(q, view), opts);
    expect(await target.endGrant(change(p, view), opts)).toEqual({
      outcome: 'removed',
      before: ['view'],
      after: [],
    });
    const perm = ws.permissionsOf(c.token).find((x) => x.accessorToken === q.id)!;
    ws.updatePermission(c.token, perm.token, 'edit');
    expect(await target.endGrant(change(q, view), opts)).toEqual({
      outcome: 'already-gone',
      before: ['edit'],
      after: ['edit'],
    });
    expect(ws.permissionsOf(c.token)).toHaveLength(1);
  });
});

describe('listings', () => {
  it('holders, members and resources', async () => {
    const [a, b, c] = [await member(), await member(), await collection('Listing Collection')];
    const edit = await entitlement('edit', c);
    await target.applyChange(change(a, edit), opts);
    await target.applyChange(change(b, await entitlement('view', c)), opts);
    const summary = await target.holdersSummary(edit);
    expect(summary).toMatchObject({
      direct: { total: 1, first: [{ id: a.id, email: a.email }] },
      heldByEveryone: false,
    });
    const ids: string[] = [];
    for await (const h of target.holders(edit)) ids.push(h.id);
    expect(ids).toEqual([a.id]);
    const members = await target.resourceMembers(edit.resource!, 10);
    expect(members.users.total).toBe(2);
    expect(members.users.first.map((m) => [m.principal.email, m.entitlements])).toEqual([
      [a.email, ['edit']],
      [b.email, ['view']],
    ]);
    const listed = await target.listResources('listing', 5);
    expect(listed.resources.map((r) => r.name)).toEqual(['Listing Collection']);
    expect(listed.total).toBe(1);
  });
});
