import { createQlikApi } from '@qlik/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demoTenant,
  EVERYONE_GROUP_ID,
  type QlikSimulator,
  startQlikSimulator,
} from '../../../src/sandbox/qlik-sim/index.ts';
import { call, checkContract, checkedExchanges } from './contract.ts';

let sim: QlikSimulator;
const USER_KEY = 'contract-non-admin';

beforeAll(async () => {
  sim = await startQlikSimulator({ tenant: demoTenant() });
  sim.addApiKey(USER_KEY, sim.tenant.usersByEmail('kaja@corp.example')[0]!.id);
});
afterAll(async () => {
  await sim.close();
});

describe('the contract checker itself', () => {
  const validUser = () => ({
    id: '6592008049cfb16513000019',
    tenantId: 'dEm0TenAnt-QlikSim-corpExample01',
    subject: 'svc|bot',
    name: 'Bot',
    status: 'active',
  });
  const json = 'application/json; charset=utf-8';

  it('accepts a valid body and rejects missing, mistyped and undeclared properties', () => {
    expect(checkContract('GET', '/api/v1/users/abc', 200, json, validUser())).toEqual({
      operation: 'GET /api/v1/users/{userId}',
      schemaFor: '200',
    });
    const { subject: _s, ...noSubject } = validUser();
    expect(() => checkContract('GET', '/api/v1/users/abc', 200, json, noSubject)).toThrow(/subject/);
    expect(() =>
      checkContract('GET', '/api/v1/users/abc', 200, json, { ...validUser(), status: 'gone' }),
    ).toThrow(/allowed values/);
    expect(() =>
      checkContract('GET', '/api/v1/users/abc', 200, json, { ...validUser(), roles: ['TenantAdmin'] }),
    ).toThrow(/additional properties/);
    expect(() =>
      checkContract('GET', '/api/v1/users/abc', 200, json, {
        ...validUser(),
        assignedRoles: [{ id: 'x', name: 'TenantAdmin', type: 'default' }],
      }),
    ).toThrow(/level/);
  });

  it('knows the Error schemas differ per API (status: number for users, absent for roles)', () => {
    const err = (status?: unknown) => ({
      errors: [{ code: 'X', title: 'Y', ...(status === undefined ? {} : { status }) }],
      traceId: 'abc',
    });
    expect(() => checkContract('GET', '/api/v1/users/abc', 404, json, err(404))).not.toThrow();
    expect(() => checkContract('GET', '/api/v1/users/abc', 404, json, err('404'))).toThrow(/number/);
    expect(() => checkContract('GET', '/api/v1/groups/abc', 404, json, err(404.5))).toThrow(/integer/);
    expect(() => checkContract('GET', '/api/v1/roles/abc', 404, json, err(404))).toThrow(
      /additional properties/,
    );
    expect(checkContract('GET', '/api/v1/roles/abc', 503, json, err()).schemaFor).toBe('errors-fallback');
    expect(() => checkContract('GET', '/api/v1/users', 503, json, { message: 'oops' })).toThrow();
  });
});

describe('every operation and status the simulator serves matches the official specs', () => {
  it('sweeps the API surface (each exchange is contract-checked by call())', async () => {
    const k = sim.apiKey;
    const u = sim.tenant.usersByEmail('bob@corp.example')[0]!.id;
    const g = sim.tenant.groupByName('Finance')!.id;
    const r = sim.tenant.roleByName('Steward')!.id;
    const none = '0123456789abcdef01234567';
    const hit = (method: string, path: string, opts: { key?: string | null; body?: unknown } = {}) =>
      call(sim.url, method, path, { key: k, ...opts });

    const users = await hit('GET', '/api/v1/users?limit=5&totalResults=true');
    await hit('GET', (users.body as { links: { next: { href: string } } }).links.next.href);
    await hit('GET', '/api/v1/users?limit=100&sort=-createdAt');
    await hit('GET', '/api/v1/users?filter=bad');
    await hit('GET', '/api/v1/users', { key: null });
    await hit('GET', `/api/v1/users/${u}`);
    await hit('GET', `/api/v1/users/${none}`);
    await hit('GET', '/api/v1/users/me');
    await hit('PATCH', `/api/v1/users/${u}`, {
      body: [{ op: 'add', path: '/assignedRoles/-', value: { name: 'Steward' } }],
    });
    await hit('PATCH', `/api/v1/users/${u}`, { body: [{ op: 'nope', path: '/assignedRoles', value: [] }] });
    await hit('PATCH', `/api/v1/users/${u}`, { body: [], key: USER_KEY });
    await hit('PATCH', `/api/v1/users/${none}`, { body: [] });
    await hit('POST', '/api/v1/users/actions/filter?limit=2', { body: { filter: 'status eq "active"' } });
    await hit('POST', '/api/v1/users/actions/filter', { body: { filter: 'id sw "x"' } });
    await hit('POST', '/api/v1/users/actions/filter', { body: {}, key: 'wrong' });
    await hit('GET', '/api/v1/groups?limit=2&totalResults=true');
    await hit('GET', '/api/v1/groups?systemGroups=true');
    await hit('GET', '/api/v1/groups?systemGroups=true&limit=1');
    await hit('GET', '/api/v1/groups', { key: null });
    await hit('GET', `/api/v1/groups/${g}`);
    await hit('GET', `/api/v1/groups/${EVERYONE_GROUP_ID}`);
    await hit('GET', `/api/v1/groups/${none}`);
    await hit('PATCH', `/api/v1/groups/${g}`, {
      body: [{ op: 'replace', path: '/assignedRoles', value: [{ name: 'SharedSpaceCreator' }] }],
    });
    await hit('PATCH', `/api/v1/groups/${g}`, { body: [{ op: 'add', path: '/assignedRoles', value: [] }] });
    await hit('PATCH', `/api/v1/groups/${g}`, { body: [], key: 'wrong' });
    await hit('PATCH', `/api/v1/groups/${g}`, { body: [], key: USER_KEY });
    await hit('PATCH', `/api/v1/groups/${none}`, { body: [] });
    await hit('POST', '/api/v1/groups/actions/filter?limit=1', { body: { filter: 'providerType eq "idp"' } });
    await hit('POST', '/api/v1/groups/actions/filter', { body: { filter: '(' } });
    await hit('GET', '/api/v1/roles?limit=3&totalResults=true');
    await hit('GET', '/api/v1/roles?filter=junk');
    await hit('GET', '/api/v1/roles', { key: null });
    await hit('GET', '/api/v1/roles', { key: USER_KEY });
    await hit('GET', `/api/v1/roles/${r}`);
    await hit('GET', `/api/v1/roles/${r}`, { key: USER_KEY });
    await hit('GET', `/api/v1/roles/${none}`);
    sim.setRateLimits({ tier1PerMinute: 1, tier2PerMinute: 1, specialPerMinute: 1 });
    try {
      await hit('GET', '/api/v1/users/me');
      for (const path of [
        '/api/v1/users',
        `/api/v1/users/${u}`,
        '/api/v1/groups',
        `/api/v1/groups/${g}`,
        '/api/v1/roles',
        `/api/v1/roles/${r}`,
      ]) {
        await hit('GET', path);
      }
      await hit('GET', '/api/v1/users/me');
      for (const path of [`/api/v1/users/${u}`, `/api/v1/groups/${g}`]) {
        await hit('PATCH', path, { body: [] });
        await hit('PATCH', path, { body: [] });
      }
      for (const path of ['/api/v1/users/actions/filter', '/api/v1/groups/actions/filter']) {
        await hit('POST', path, { body: {} });
        await hit('POST', path, { body: {} });
      }
    } finally {
      sim.setRateLimits(false);
    }
    sim.injectFault({ status: 500 });
    await hit('GET', '/api/v1/users');
    sim.injectFault({ status: 503 });
    await hit('GET', `/api/v1/roles/${r}`);
    sim.injectFault({ status: 207, method: 'PATCH' });
    await hit('PATCH', `/api/v1/users/${u}`, { body: [] });

    const covered = new Set(checkedExchanges.map((e) => `${e.operation} ${e.status}`));
    const expected = [
      'GET /api/v1/users 200',
      'GET /api/v1/users 400',
      'GET /api/v1/users 401',
      'GET /api/v1/users 429',
      'GET /api/v1/users 500',
      'GET /api/v1/users/{userId} 200',
      'GET /api/v1/users/{userId} 404',
      'GET /api/v1/users/{userId} 429',
      'GET /api/v1/users/me 301',
      'GET /api/v1/users/me 429',
      'PATCH /api/v1/users/{userId} 204',
      'PATCH /api/v1/users/{userId} 207',
      'PATCH /api/v1/users/{userId} 400',
      'PATCH /api/v1/users/{userId} 403',
      'PATCH /api/v1/users/{userId} 404',
      'PATCH /api/v1/users/{userId} 429',
      'POST /api/v1/users/actions/filter 200',
      'POST /api/v1/users/actions/filter 400',
      'POST /api/v1/users/actions/filter 401',
      'POST /api/v1/users/actions/filter 429',
      'GET /api/v1/groups 200',
      'GET /api/v1/groups 400',
      'GET /api/v1/groups 401',
      'GET /api/v1/groups 429',
      'GET /api/v1/groups/{groupId} 200',
      'GET /api/v1/groups/{groupId} 404',
      'GET /api/v1/groups/{groupId} 429',
      'PATCH /api/v1/groups/{groupId} 204',
      'PATCH /api/v1/groups/{groupId} 400',
      'PATCH /api/v1/groups/{groupId} 401',
      'PATCH /api/v1/groups/{groupId} 403',
      'PATCH /api/v1/groups/{groupId} 404',
      'PATCH /api/v1/groups/{groupId} 429',
      'POST /api/v1/groups/actions/filter 200',
      'POST /api/v1/groups/actions/filter 400',
      'POST /api/v1/groups/actions/filter 429',
      'GET /api/v1/roles 200',
      'GET /api/v1/roles 400',
      'GET /api/v1/roles 401',
      'GET /api/v1/roles 403',
      'GET /api/v1/roles 429',
      'GET /api/v1/roles/{id} 200',
      'GET /api/v1/roles/{id} 403',
      'GET /api/v1/roles/{id} 404',
      'GET /api/v1/roles/{id} 429',
      'GET /api/v1/roles/{id} 503',
    ];
    expect([...covered].sort()).toEqual(expect.arrayContaining(expected));
  });
});

describe('the official @qlik/api client against the simulator', () => {
  const api = () => createQlikApi({ hostConfig: { authType: 'apikey', host: sim.url, apiKey: sim.apiKey } });
  const noCache = { noCache: true };
  const statusOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e as { status: number; data: { errors: Array<{ code: string }> } };
    }
    throw new Error('expected the call to fail');
  };

  it('lists users page by page with next(), every page per the spec', async () => {
    const qlik = api();
    let page: Awaited<ReturnType<typeof qlik.users.getUsers>> | undefined = await qlik.users.getUsers(
      { limit: 7, totalResults: true },
      noCache,
    );
    expect(page.data.totalResults).toBe(sim.tenant.userCount);
    const ids: string[] = [];
    let pages = 0;
    while (page) {
      checkContract('GET', '/api/v1/users', page.status, 'application/json', page.data);
      ids.push(...(page.data.data ?? []).map((u) => u.id));
      pages += 1;
      page = page.next ? await page.next() : undefined;
    }
    expect(pages).toBe(Math.ceil(sim.tenant.userCount / 7));
    expect(new Set(ids)).toEqual(new Set([...sim.tenant.users()].map((u) => u.id)));
  });

  it('filters users with a filter query and through filterUsers (POST body, next() re-POSTs it)', async () => {
    const qlik = api();
    const byRole = await qlik.users.getUsers(
      { filter: 'assignedRoles.name eq "TenantAdmin"', limit: 100 },
      noCache,
    );
    const admins = [...sim.tenant.userIdsWithRole(sim.tenant.roleByName('TenantAdmin')!.id)];
    expect(byRole.data.data?.map((u) => u.id).sort()).toEqual(admins.sort());

    const first = await qlik.users.filterUsers({ limit: 2 }, { filter: 'status eq "active"' });
    expect(first.data.data).toHaveLength(2);
    const second = await first.next!();
    checkContract('POST', '/api/v1/users/actions/filter', second.status, 'application/json', second.data);
    expect(second.data.data?.[0]?.name).not.toBe(first.data.data?.[0]?.name);
    const posts = sim.requests.filter((r) => r.path === '/api/v1/users/actions/filter');
    expect(posts.at(-1)).toMatchObject({
      method: 'POST',
      body: { filter: 'status eq "active"' },
      tier: 'special',
    });
  });

  it('gets a user, follows /me, and patches roles in all three documented forms', async () => {
    const qlik = api();
    const eve = sim.tenant.usersByEmail('eve@corp.example')[0]!;
    const one = await qlik.users.getUser(eve.id, {}, noCache);
    checkContract('GET', `/api/v1/users/${eve.id}`, one.status, 'application/json', one.data);
    expect(one.data).toMatchObject({ id: eve.id, email: 'eve@corp.example' });

    const me = await qlik.users.getMyUser(noCache);
    expect(me.data.id).toBe(sim.tenant.serviceUserId);

    const replaced = await qlik.users.patchUser(eve.id, [
      { op: 'replace', path: '/assignedRoles', value: [{ name: 'AuditAdmin' }, { name: 'Steward' }] },
    ]);
    expect(replaced.status).toBe(204);
    // The typed path enum lacks /assignedRoles/- although the spec's own example uses it.
    const added = await qlik.users.patchUser(eve.id, [
      { op: 'add', path: '/assignedRoles/-' as '/assignedRoles', value: { name: 'DataAdmin' } as never },
    ]);
    expect(added.status).toBe(204);
    const removed = await qlik.users.patchUser(eve.id, [
      {
        op: 'remove-value',
        path: '/assignedRoles',
        value: { id: sim.tenant.roleByName('AuditAdmin')!.id } as never,
      },
    ]);
    expect(removed.status).toBe(204);
    expect(sim.tenant.userRoleNames(eve.id)).toEqual(['Steward', 'DataAdmin']);
    const after = await qlik.users.getUser(eve.id, {}, noCache);
    expect(after.data.assignedRoles?.map((r) => r.name)).toEqual(['Steward', 'DataAdmin']);

    const missing = await statusOf(qlik.users.getUser('0123456789abcdef01234567', {}, noCache));
    expect(missing.status).toBe(404);
    expect(missing.data.errors[0]?.code).toBe('USERS-7');
    const bad = await statusOf(
      qlik.users.patchUser(eve.id, [
        { op: 'replace', path: '/assignedRoles', value: [{ name: 'Developer' }] },
      ]),
    );
    expect(bad.status).toBe(400);
  });

  it('lists, gets and patches groups', async () => {
    const qlik = api();
    const page = await qlik.groups.getGroups({ limit: 4 }, noCache);
    expect(page.data.data).toHaveLength(4);
    const rest = await page.next!();
    expect((page.data.data ?? []).length + (rest.data.data ?? []).length).toBe(6);
    const system = await qlik.groups.getGroups({ systemGroups: true }, noCache);
    expect(system.data.data?.map((g) => g.id)).toEqual([EVERYONE_GROUP_ID]);

    const sales = sim.tenant.groupByName('Sales Ops')!;
    const one = await qlik.groups.getGroup(sales.id, noCache);
    expect(one.data.name).toBe('Sales Ops');
    const patched = await qlik.groups.patchGroup(sales.id, [
      {
        op: 'replace',
        path: 'assignedRoles',
        value: [{ name: 'ManagedSpaceCreator' }, { name: 'SharedSpaceCreator' }],
      },
    ]);
    expect(patched.status).toBe(204);
    expect(sim.tenant.groupRoleNames(sales.id)).toEqual(['ManagedSpaceCreator', 'SharedSpaceCreator']);
    const filtered = await qlik.groups.filterGroups({}, { filter: 'name eq "sales ops"' });
    expect(filtered.data.data?.map((g) => g.id)).toEqual([sales.id]);
  });

  it('lists and gets roles, and a non-admin key is refused', async () => {
    const qlik = api();
    const roles = await qlik.roles.getRoles({ limit: 100 }, noCache);
    checkContract('GET', '/api/v1/roles', roles.status, 'application/json', roles.data);
    expect(roles.data.data.map((r) => r.name).sort()).toEqual(
      [...sim.tenant.roles()].map((r) => r.name).sort(),
    );
    expect(roles.data.data.map((r) => r.name)).not.toContain('Developer');
    const ta = await qlik.roles.getRole(sim.tenant.roleByName('TenantAdmin')!.id, noCache);
    expect(ta.data).toMatchObject({ name: 'TenantAdmin', type: 'default', level: 'admin' });

    const user = createQlikApi({ hostConfig: { authType: 'apikey', host: sim.url, apiKey: USER_KEY } });
    const refused = await statusOf(user.roles.getRoles({}, noCache));
    expect(refused.status).toBe(403);
  });
});
