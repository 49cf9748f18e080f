import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  demoTenant,
  EVERYONE_GROUP_ID,
  generateTenant,
  type QlikSimulator,
  startQlikSimulator,
} from '../../../src/sandbox/qlik-sim/index.ts';
import { type CallResult, call } from './contract.ts';

interface ErrorsBody {
  errors: Array<{
    code: string;
    title: string;
    detail?: string;
    status?: number;
    source?: { parameter?: string; pointer?: string };
  }>;
  traceId: string;
}
interface UserJson {
  id: string;
  name: string;
  email?: string;
  status: string;
  assignedRoles?: Array<{ id: string; name: string; type: string; level: string }>;
  assignedGroups: Array<{ id: string; name: string; assignedRoles?: unknown[] }>;
  links?: { self: { href: string } };
  [k: string]: unknown;
}
interface ListJson<T> {
  data: T[];
  links: { self: { href: string }; next?: { href: string }; prev?: { href: string } };
  totalResults?: number;
}
interface GroupJson {
  id: string;
  name: string;
  providerType: string;
  assignedRoles: Array<{ name: string }>;
}
interface RoleJson {
  id: string;
  name: string;
  type: string;
}

let sim: QlikSimulator;
let userKey: string;
let kajaId: string;

const get = <T = unknown>(path: string, key: string | null = sim.apiKey) =>
  call<T>(sim.url, 'GET', path, { key });
const patch = (path: string, body: unknown, key: string | null = sim.apiKey) =>
  call<ErrorsBody | undefined>(sim.url, 'PATCH', path, { key, body });
const post = <T = unknown>(path: string, body: unknown, key: string | null = sim.apiKey) =>
  call<T>(sim.url, 'POST', path, { key, body });
const idOf = (email: string) => sim.tenant.usersByEmail(email)[0]!.id;
const errorOf = (r: CallResult) => (r.body as ErrorsBody).errors[0]!;
const q = (filter: string) => encodeURIComponent(filter);

function expectError(r: CallResult, status: number, code: string, detail?: RegExp) {
  expect(r.status).toBe(status);
  const body = r.body as ErrorsBody;
  expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.code).toBe(code);
  if (detail) expect(body.errors[0]!.detail).toMatch(detail);
}

beforeAll(async () => {
  sim = await startQlikSimulator({ tenant: demoTenant() });
  kajaId = sim.tenant.usersByEmail('kaja@corp.example')[0]!.id;
  userKey = 'non-admin-key';
  sim.addApiKey(userKey, kajaId);
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clearFaults();
  sim.setLatency(0);
  sim.setRateLimits(false);
});

describe('auth', () => {
  it('answers 401 in Qlik’s error shape without a key or with an unknown one', async () => {
    expectError(await get('/api/v1/users', null), 401, 'HTTP-401', /API key/);
    expectError(await get('/api/v1/users', 'nope'), 401, 'HTTP-401');
    const r = await call(sim.url, 'GET', '/api/v1/roles', { key: null });
    expectError(r, 401, 'HTTP-401');
    expect(errorOf(r).status).toBeUndefined();
  });

  it('gives the default key to a TenantAdmin', () => {
    const owner = sim.requests.at(-1)?.ownerId ?? sim.tenant.serviceUserId!;
    expect(sim.tenant.isTenantAdmin(owner)).toBe(true);
  });

  it('rejects keys of deleted owners', async () => {
    const gone = sim.tenant.addUser({ name: 'Temp', roles: ['TenantAdmin'] });
    sim.addApiKey('temp-key', gone.id);
    expect((await get('/api/v1/users?limit=1', 'temp-key')).status).toBe(200);
    sim.tenant.deleteUser(gone.id);
    expectError(await get('/api/v1/users?limit=1', 'temp-key'), 401, 'HTTP-401');
  });
});

describe('GET /api/v1/users', () => {
  it('pages through every user by name with next links, and none on the last page', async () => {
    const all = [...sim.tenant.users()].map((u) => u.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let r = await get<ListJson<UserJson>>('/api/v1/users?limit=10');
    expect(r.body.links.prev).toBeUndefined();
    const seen: string[] = [];
    let pages = 0;
    for (;;) {
      pages += 1;
      seen.push(...r.body.data.map((u) => u.name));
      if (!r.body.links.next) break;
      expect(r.body.links.next.href).toMatch(new RegExp(`^${sim.url}/api/v1/users\\?limit=10&next=`));
      r = await get<ListJson<UserJson>>(r.body.links.next.href);
    }
    expect(pages).toBe(Math.ceil(all.length / 10));
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual(all);
  });

  it('goes back with prev links to exactly the previous page', async () => {
    const p1 = await get<ListJson<UserJson>>('/api/v1/users?limit=7&sort=email');
    const p2 = await get<ListJson<UserJson>>(p1.body.links.next!.href);
    const p3 = await get<ListJson<UserJson>>(p2.body.links.next!.href);
    expect(p2.body.links.prev).toBeDefined();
    const back2 = await get<ListJson<UserJson>>(p3.body.links.prev!.href);
    expect(back2.body.data.map((u) => u.id)).toEqual(p2.body.data.map((u) => u.id));
    const back1 = await get<ListJson<UserJson>>(back2.body.links.prev!.href);
    expect(back1.body.data.map((u) => u.id)).toEqual(p1.body.data.map((u) => u.id));
    expect(back1.body.links.prev).toBeUndefined();
    expect(new URL(back1.body.links.self.href).searchParams.get('sort')).toBe('email');
  });

  it('keeps pages stable when users are added and removed between requests', async () => {
    const p1 = await get<ListJson<UserJson>>('/api/v1/users?limit=10');
    const early = sim.tenant.addUser({ name: 'AAAA First Newcomer', email: 'newcomer@corp.example' });
    const p2 = await get<ListJson<UserJson>>(p1.body.links.next!.href);
    const victim = p2.body.data[5]!.id;
    sim.tenant.deleteUser(victim);
    const rest: string[] = [];
    let r = await get<ListJson<UserJson>>(p2.body.links.next!.href);
    for (;;) {
      rest.push(...r.body.data.map((u) => u.id));
      if (!r.body.links.next) break;
      r = await get<ListJson<UserJson>>(r.body.links.next.href);
    }
    const seen = [...p1.body.data, ...p2.body.data].map((u) => u.id).concat(rest);
    expect(new Set(seen).size).toBe(seen.length);
    const expected = [...sim.tenant.users()].map((u) => u.id).filter((id) => id !== early.id);
    expect(new Set(seen.filter((id) => id !== victim))).toEqual(new Set(expected));
    sim.tenant.deleteUser(early.id);
  });

  it('sorts by any documented field in either direction, and accepts an unencoded +', async () => {
    const asc = await get<ListJson<UserJson>>('/api/v1/users?limit=100&sort=name');
    const desc = await get<ListJson<UserJson>>('/api/v1/users?limit=100&sort=-name');
    expect(desc.body.data.map((u) => u.id)).toEqual(asc.body.data.map((u) => u.id).reverse());
    const plus = await get<ListJson<UserJson>>('/api/v1/users?limit=100&sort=+name');
    expect(plus.body.data.map((u) => u.id)).toEqual(asc.body.data.map((u) => u.id));
    const encoded = await get<ListJson<UserJson>>('/api/v1/users?limit=100&sort=%2Bname');
    expect(encoded.body.data.map((u) => u.id)).toEqual(asc.body.data.map((u) => u.id));
    const byId = await get<ListJson<UserJson>>('/api/v1/users?limit=100&sort=-_id');
    const ids = byId.body.data.map((u) => u.id);
    expect(ids).toEqual([...ids].sort().reverse());
    const byStatus = await get<ListJson<UserJson>>('/api/v1/users?limit=100&sort=status');
    const statuses = byStatus.body.data.map((u) => u.status);
    expect(statuses).toEqual([...statuses].sort());
    const bad = await get('/api/v1/users?sort=lastUpdatedAt');
    expectError(bad, 400, 'HTTP-400', /sort/);
    expect(errorOf(bad).source?.parameter).toBe('sort');
  });

  it('enforces limit 1..100 with a default of 20', async () => {
    expect((await get<ListJson<UserJson>>('/api/v1/users')).body.data).toHaveLength(20);
    expect((await get<ListJson<UserJson>>('/api/v1/users?limit=1')).body.data).toHaveLength(1);
    expect((await get<ListJson<UserJson>>('/api/v1/users?limit=100')).body.data.length).toBe(
      sim.tenant.userCount,
    );
    for (const bad of ['0', '101', 'abc', '1.5', '-3', '']) {
      const r = await get(`/api/v1/users?limit=${bad}`);
      expectError(r, 400, 'HTTP-400', /limit/);
      expect(errorOf(r).source?.parameter).toBe('limit');
    }
  });

  it('rejects next together with prev, and cursors it did not issue', async () => {
    const p1 = await get<ListJson<UserJson>>('/api/v1/users?limit=5');
    const cursor = new URL(p1.body.links.next!.href).searchParams.get('next')!;
    expectError(
      await get(`/api/v1/users?next=${cursor}&prev=${cursor}`),
      400,
      'HTTP-400',
      /cannot be used together/,
    );
    expectError(await get('/api/v1/users?next=garbage'), 400, 'HTTP-400', /not a valid cursor/);
    expectError(await get(`/api/v1/users?next=${cursor}&sort=-name`), 400, 'HTTP-400', /another sort order/);
  });

  it('adds totalResults only when asked', async () => {
    expect((await get<ListJson<UserJson>>('/api/v1/users?limit=2')).body.totalResults).toBeUndefined();
    const r = await get<ListJson<UserJson>>('/api/v1/users?limit=2&totalResults=true');
    expect(r.body.totalResults).toBe(sim.tenant.userCount);
    expectError(await get('/api/v1/users?totalResults=yes'), 400, 'HTTP-400', /totalResults/);
  });

  it('filters case-insensitively, from the indexes and by scan', async () => {
    const byEmail = await get<ListJson<UserJson>>(
      `/api/v1/users?filter=${q('email eq "O\'BRIEN@corp.example"')}`,
    );
    expect(byEmail.body.data.map((u) => u.name)).toEqual(["Conor O'Brien"]);
    const quoted = await get<ListJson<UserJson>>(
      `/api/v1/users?filter=${q('email eq "a\\"b@corp.example"')}`,
    );
    expect(quoted.body.data.map((u) => u.email)).toEqual(['a"b@corp.example']);
    const shared = await get<ListJson<UserJson>>(
      `/api/v1/users?filter=${q("email eq 'shared-mailbox@corp.example'")}`,
    );
    expect(shared.body.data).toHaveLength(2);

    const admins = await get<ListJson<UserJson>>(
      `/api/v1/users?filter=${q('assignedRoles.name eq "tenantadmin"')}`,
    );
    const expected = [...sim.tenant.users()].filter((u) =>
      sim.tenant.userRoleNames(u.id).includes('TenantAdmin'),
    );
    expect(admins.body.data.map((u) => u.id).sort()).toEqual(expected.map((u) => u.id).sort());
    for (const u of admins.body.data) expect(u.assignedRoles!.map((r) => r.name)).toContain('TenantAdmin');

    const roleId = sim.tenant.roleByName('Steward')!.id;
    const byRoleId = await get<ListJson<UserJson>>(
      `/api/v1/users?filter=${q(`assignedRoles.id eq "${roleId}"`)}`,
    );
    expect(byRoleId.body.data.map((u) => u.name).sort()).toEqual(['Jamal Haddad', 'Zoë Zhang']);

    const viaGroup = await get<ListJson<UserJson>>(
      `/api/v1/users?limit=100&filter=${q('assignedGroupsAssignedRoles.name eq "SharedSpaceCreator"')}`,
    );
    const finance = sim.tenant.groupByName('Finance')!.id;
    expect(viaGroup.body.data.map((u) => u.id).sort()).toEqual(
      [...sim.tenant.userIdsInGroup(finance)].sort(),
    );

    const inGroup = await get<ListJson<UserJson>>(
      `/api/v1/users?limit=100&filter=${q(`assignedGroups.id eq "${finance}"`)}`,
    );
    expect(inGroup.body.data).toHaveLength(sim.tenant.userIdsInGroup(finance).size);

    const contains = await get<ListJson<UserJson>>(`/api/v1/users?limit=100&filter=${q('name co "HADDAD"')}`);
    expect(contains.body.data.map((u) => u.name).sort()).toEqual(['Dana Haddad', 'Jamal Haddad']);

    const combined = await get<ListJson<UserJson>>(
      `/api/v1/users?limit=100&totalResults=true&filter=${q('(assignedRoles.name eq "SharedSpaceCreator" or name co "haddad") and (status eq "disabled")')}`,
    );
    expect(combined.body.data.map((u) => u.name)).toEqual(['Viktor Varga']);
    expect(combined.body.totalResults).toBe(1);

    const none = await get<ListJson<UserJson>>(`/api/v1/users?filter=${q('email eq "nobody@corp.example"')}`);
    expect(none.body.data).toEqual([]);
    expect(none.body.links.next).toBeUndefined();
  });

  it('pages a filtered list with the filter carried in the links', async () => {
    const filter =
      'assignedRoles.name eq "SharedSpaceCreator" or assignedRoles.name eq "ManagedSpaceCreator"';
    let r = await get<ListJson<UserJson>>(`/api/v1/users?limit=2&filter=${q(filter)}`);
    const names: string[] = [];
    for (;;) {
      expect(new URL(r.body.links.self.href).searchParams.get('filter')).toBe(filter);
      names.push(...r.body.data.map((u) => u.name));
      if (!r.body.links.next) break;
      r = await get<ListJson<UserJson>>(r.body.links.next.href);
    }
    const expected = [...sim.tenant.users()]
      .filter((u) =>
        sim.tenant.userRoleNames(u.id).some((n) => n === 'SharedSpaceCreator' || n === 'ManagedSpaceCreator'),
      )
      .map((u) => u.name)
      .sort((a, b) => (a < b ? -1 : 1));
    expect(names).toEqual(expected);
  });

  it('answers a bad filter with 400 naming the problem and the parameter', async () => {
    for (const [filter, detail] of [
      ['email sw "a"', /"sw" operator is not supported/],
      ['foo eq "x"', /Unknown filter field "foo"/],
      ['(email eq "x"', /never closed/],
      ['email eq "x', /Unterminated/],
      ['email eq "x" junk', /Unexpected "junk"/],
      ['', /empty/],
      ['name eq "Bob" or name eq "Al" and status eq "active"', /grouped together/],
    ] as const) {
      const r = await get(`/api/v1/users?filter=${q(filter)}`);
      expectError(r, 400, 'HTTP-400', detail);
      expect(errorOf(r)).toMatchObject({
        title: 'Bad Request',
        status: 400,
        source: { parameter: 'filter' },
      });
    }
  });

  it('rejects the list parameters removed from the spec in 2025', async () => {
    const r = await get('/api/v1/users?email=bob@corp.example');
    expectError(r, 400, 'HTTP-400', /no longer supported; use "filter"/);
    expect(errorOf(r).source?.parameter).toBe('email');
  });

  it('returns only the requested fields (plus the required ones); links only when asked', async () => {
    const bob = sim.tenant.getUser(idOf('bob@corp.example'))!;
    const required = { id: bob.id, tenantId: sim.tenant.tenantId, subject: bob.subject, name: bob.name };
    const r = await get<ListJson<UserJson>>(
      `/api/v1/users?fields=email,status&filter=${q('email eq "bob@corp.example"')}`,
    );
    expect(r.body.data[0]).toEqual({ ...required, email: 'bob@corp.example', status: 'active' });
    const frank = sim.tenant.getUser(idOf('frank@corp.example'))!;
    const g = await get<UserJson>(`/api/v1/users/${frank.id}?fields=groups,links`);
    expect(g.body).toEqual({
      id: frank.id,
      tenantId: sim.tenant.tenantId,
      subject: frank.subject,
      name: frank.name,
      groups: ['Finance', 'finance'],
      links: { self: { href: `${sim.url}/api/v1/users/${idOf('frank@corp.example')}` } },
    });
  });

  it('renders users exactly as the User schema, with direct and group roles apart', async () => {
    const alice = await get<UserJson>(`/api/v1/users/${idOf('alice@corp.example')}`);
    expect(alice.body).toMatchObject({
      id: idOf('alice@corp.example'),
      tenantId: sim.tenant.tenantId,
      name: 'Alice Andersson',
      email: 'alice@corp.example',
      status: 'active',
      assignedRoles: [{ name: 'TenantAdmin', type: 'default', level: 'admin' }],
      assignedGroups: [
        {
          name: 'Analytics Admins',
          providerType: 'custom',
          assignedRoles: [{ name: 'AnalyticsAdmin', type: 'default', level: 'admin' }],
        },
      ],
      links: { self: { href: `${sim.url}/api/v1/users/${idOf('alice@corp.example')}` } },
    });
    expect(alice.body.assignedGroups.map((g) => g.id)).not.toContain(EVERYONE_GROUP_ID);
    const grace = await get<UserJson>(`/api/v1/users/${idOf('grace@corp.example')}`);
    expect(grace.body.assignedRoles).toEqual([
      {
        id: sim.tenant.roleByName('Report Publisher')!.id,
        name: 'Report Publisher',
        type: 'custom',
        level: 'user',
      },
    ]);
  });
});

describe('GET /api/v1/users/{id} and /me', () => {
  it('answers 404 in the USERS-7 shape', async () => {
    const r = await get('/api/v1/users/0123456789abcdef01234567');
    expectError(r, 404, 'USERS-7');
    expect(errorOf(r)).toMatchObject({ title: 'Not found', status: 404 });
  });

  it('redirects /me with 301 to the key owner, keeping the query string', async () => {
    const r = await get('/api/v1/users/me?fields=assignedGroups,assignedRoles');
    expect(r.status).toBe(301);
    const owner = sim.tenant.serviceUserId!;
    expect(r.headers.get('location')).toBe(`/api/v1/users/${owner}?fields=assignedGroups,assignedRoles`);
    const followed = await get<UserJson>(r.headers.get('location')!);
    expect(Object.keys(followed.body).sort()).toEqual([
      'assignedGroups',
      'assignedRoles',
      'id',
      'name',
      'subject',
      'tenantId',
    ]);
    expect(followed.body.assignedRoles!.map((x) => x.name)).toEqual(['TenantAdmin']);
    const viaFetch = await fetch(`${sim.url}/api/v1/users/me`, {
      headers: { authorization: `Bearer ${userKey}` },
    });
    expect(((await viaFetch.json()) as UserJson).id).toBe(kajaId);
  });
});

describe('PATCH /api/v1/users/{id}', () => {
  const roles = (email: string) => sim.tenant.userRoleNames(idOf(email));

  it('replaces the whole list by name or id', async () => {
    const id = idOf('hiro@corp.example');
    const steward = sim.tenant.roleByName('Steward')!.id;
    const r = await patch(`/api/v1/users/${id}`, [
      { op: 'replace', path: '/assignedRoles', value: [{ name: 'ManagedSpaceCreator' }, { id: steward }] },
    ]);
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    expect(roles('hiro@corp.example')).toEqual(['ManagedSpaceCreator', 'Steward']);
    expect(
      (await patch(`/api/v1/users/${id}`, [{ op: 'replace', path: '/assignedRoles', value: [] }])).status,
    ).toBe(204);
    expect(roles('hiro@corp.example')).toEqual([]);
  });

  it('adds one role with add /assignedRoles/- and removes one with remove-value', async () => {
    const id = idOf('kaja@corp.example');
    expect(
      (
        await patch(`/api/v1/users/${id}`, [
          { op: 'add', path: '/assignedRoles/-', value: { name: 'Steward' } },
        ])
      ).status,
    ).toBe(204);
    expect(roles('kaja@corp.example')).toEqual(['Steward']);
    await patch(`/api/v1/users/${id}`, [{ op: 'add', path: '/assignedRoles/-', value: { name: 'Steward' } }]);
    expect(roles('kaja@corp.example')).toEqual(['Steward']);
    const steward = sim.tenant.roleByName('Steward')!.id;
    expect(
      (
        await patch(`/api/v1/users/${id}`, [
          { op: 'remove-value', path: '/assignedRoles', value: { id: steward } },
        ])
      ).status,
    ).toBe(204);
    expect(roles('kaja@corp.example')).toEqual([]);
    // Removing a role the user does not hold is a no-op.
    expect(
      (
        await patch(`/api/v1/users/${id}`, [
          { op: 'remove-value', path: '/assignedRoles', value: { name: 'Steward' } },
        ])
      ).status,
    ).toBe(204);
  });

  it('applies the spec’s mixed example in order', async () => {
    const id = idOf('tess@corp.example');
    const r = await patch(`/api/v1/users/${id}`, [
      { op: 'replace', path: '/assignedRoles', value: [{ name: 'Report Publisher' }] },
      { op: 'add', path: '/assignedRoles/-', value: { name: 'TenantAdmin' } },
      {
        op: 'remove-value',
        path: '/assignedRoles',
        value: { id: sim.tenant.roleByName('Report Publisher')!.id },
      },
      { op: 'replace', path: '/status', value: 'disabled' },
      { op: 'replace', path: '/name', value: 'Tess T.' },
      { op: 'replace', path: '/preferredZoneInfo', value: 'America/Halifax' },
    ]);
    expect(r.status).toBe(204);
    const u = sim.tenant.getUser(id)!;
    expect(sim.tenant.userRoleNames(id)).toEqual(['TenantAdmin']);
    expect(u).toMatchObject({ status: 'disabled', name: 'Tess T.', preferredZoneinfo: 'America/Halifax' });
    await patch(`/api/v1/users/${id}`, [
      { op: 'replace', path: '/assignedRoles', value: [{ name: 'DataServicesContributor' }] },
      { op: 'replace', path: '/status', value: 'active' },
      { op: 'replace', path: '/name', value: 'Tess Tanaka' },
    ]);
  });

  it('answers 400 for unknown roles and changes nothing', async () => {
    const id = idOf('bob@corp.example');
    const before = roles('bob@corp.example');
    const byName = await patch(`/api/v1/users/${id}`, [
      { op: 'add', path: '/assignedRoles/-', value: { name: 'Steward' } },
      { op: 'add', path: '/assignedRoles/-', value: { name: 'Developer' } },
    ]);
    expectError(byName, 400, 'HTTP-400', /Role "Developer" does not exist/);
    expect(errorOf(byName).source?.pointer).toBe('/1/value');
    expect(roles('bob@corp.example')).toEqual(before);
    const wrongCase = await patch(`/api/v1/users/${id}`, [
      { op: 'replace', path: '/assignedRoles', value: [{ name: 'tenantadmin' }] },
    ]);
    expectError(wrongCase, 400, 'HTTP-400', /case-sensitive/);
    const byId = await patch(`/api/v1/users/${id}`, [
      { op: 'remove-value', path: '/assignedRoles', value: { id: '0123456789abcdef01234567' } },
    ]);
    expectError(byId, 400, 'HTTP-400', /Role id "0123456789abcdef01234567" does not exist/);
    expect(roles('bob@corp.example')).toEqual(before);
  });

  it('answers 400 for malformed bodies and unsupported operations', async () => {
    const id = idOf('bob@corp.example');
    const cases: Array<[unknown, RegExp]> = [
      [{ op: 'replace', path: '/assignedRoles', value: [] }, /JSON array/],
      ['{not json', /not valid JSON/],
      [[{ op: 'replace', path: '/assignedRoles' }], /JSON array|no "value"/],
      [[{ op: 'replace', path: '/assignedRoles', value: { name: 'Steward' } }], /must be an array/],
      [[{ op: 'add', path: '/assignedRoles/-', value: [{ name: 'Steward' }] }], /role reference/],
      [
        [{ op: 'add', path: '/assignedRoles', value: { name: 'Steward' } }],
        /Unsupported operation "add" on path "\/assignedRoles"/,
      ],
      [[{ op: 'set', path: '/roles', value: ['TenantAdmin'] }], /deprecated/],
      [[{ op: 'replace', path: '/status', value: 'deleted' }], /"active" or "disabled"/],
      [[{ op: 'replace', path: '/tenantId', value: 'x' }], /Unsupported operation/],
    ];
    for (const [body, detail] of cases)
      expectError(await patch(`/api/v1/users/${id}`, body), 400, 'HTTP-400', detail);
  });

  it('answers 404 for missing and deleted users', async () => {
    expectError(await patch('/api/v1/users/0123456789abcdef01234567', []), 404, 'USERS-7');
    const u = sim.tenant.addUser({ name: 'Short Lived' });
    expect((await call(sim.url, 'DELETE', `/api/v1/users/${u.id}`, { key: sim.apiKey })).status).toBe(204);
    expectError(
      await patch(`/api/v1/users/${u.id}`, [{ op: 'replace', path: '/assignedRoles', value: [] }]),
      404,
      'USERS-7',
    );
    expectError(await get(`/api/v1/users/${u.id}`), 404, 'USERS-7');
    const soft = sim.tenant.addUser({ name: 'Soft Deleted', status: 'deleted' });
    expectError(await patch(`/api/v1/users/${soft.id}`, []), 404, 'USERS-7');
  });

  it('sets custom group memberships with replace /assignedGroups', async () => {
    const id = idOf('yara@corp.example');
    const r = await patch(`/api/v1/users/${id}`, [
      {
        op: 'replace',
        path: '/assignedGroups',
        value: [{ name: 'Analytics Admins', providerType: 'custom' }],
      },
    ]);
    expect(r.status).toBe(204);
    expect(sim.tenant.userGroupNames(id)).toEqual(['Analytics Admins']);
    const idp = await patch(`/api/v1/users/${id}`, [
      { op: 'replace', path: '/assignedGroups', value: [{ name: 'Finance', providerType: 'idp' }] },
    ]);
    expectError(idp, 400, 'HTTP-400', /Custom group "Finance" does not exist/);
    await patch(`/api/v1/users/${id}`, [
      { op: 'replace', path: '/assignedGroups', value: [{ name: 'finance' }] },
    ]);
    expect(sim.tenant.userGroupNames(id)).toEqual(['finance']);
  });
});

describe('a key whose owner is not a TenantAdmin', () => {
  it('gets 403 from the Roles API and from writes', async () => {
    const list = await get('/api/v1/roles', userKey);
    expectError(list, 403, 'HTTP-403', /TenantAdmin/);
    expect(errorOf(list).status).toBeUndefined();
    expectError(await get(`/api/v1/roles/${sim.tenant.roleByName('Steward')!.id}`, userKey), 403, 'HTTP-403');
    expectError(await patch(`/api/v1/users/${kajaId}`, [], userKey), 403, 'HTTP-403');
    expectError(
      await patch(
        `/api/v1/groups/${EVERYONE_GROUP_ID}`,
        [{ op: 'replace', path: '/assignedRoles', value: [] }],
        userKey,
      ),
      403,
      'HTTP-403',
    );
  });

  it('can list users but sees roles only on itself', async () => {
    const r = await get<ListJson<UserJson>>('/api/v1/users?limit=100', userKey);
    expect(r.status).toBe(200);
    for (const u of r.body.data) {
      if (u.id === kajaId) expect(u.assignedRoles).toBeDefined();
      else expect(u.assignedRoles).toBeUndefined();
    }
  });
});

describe('groups', () => {
  it('lists regular groups only, with paging and totalResults', async () => {
    const p1 = await get<ListJson<GroupJson>>('/api/v1/groups?limit=4&totalResults=true');
    expect(p1.body.totalResults).toBe(6);
    const p2 = await get<ListJson<GroupJson>>(p1.body.links.next!.href);
    expect(p2.body.links.next).toBeUndefined();
    expect(p2.body.links.prev).toBeDefined();
    const names = [...p1.body.data, ...p2.body.data].map((g) => g.name);
    expect(names).toHaveLength(6);
    expect(names).not.toContain('com.qlik.Everyone');
    const byName = await get<ListJson<GroupJson>>('/api/v1/groups?sort=-name&limit=100');
    expect(byName.body.data.map((g) => g.name)).toEqual([...names].sort().reverse());
    expectError(await get('/api/v1/groups?sort=color'), 400, 'HTTP-400', /sort/);
    expectError(await get('/api/v1/groups?limit=500'), 400, 'HTTP-400', /limit/);
  });

  it('matches names case-insensitively, so Finance and finance both come back', async () => {
    const r = await get<ListJson<GroupJson>>(`/api/v1/groups?filter=${q("name eq 'finance'")}`);
    expect(r.body.data.map((g) => g.name).sort()).toEqual(['Finance', 'finance']);
    const holders = await get<ListJson<GroupJson>>(
      `/api/v1/groups?filter=${q("assignedRoles.name eq 'ManagedSpaceCreator'")}`,
    );
    expect(holders.body.data.map((g) => g.name)).toEqual(['Sales Ops']);
    expectError(await get(`/api/v1/groups?filter=${q('name co "fin"')}`), 400, 'HTTP-400', /"co" operator/);
  });

  it('lists only system groups with systemGroups=true, which takes no other parameter', async () => {
    const r = await get<ListJson<GroupJson>>('/api/v1/groups?systemGroups=true');
    expect(r.body.data.map((g) => [g.id, g.name])).toEqual([[EVERYONE_GROUP_ID, 'com.qlik.Everyone']]);
    const combined = await get('/api/v1/groups?systemGroups=true&limit=5');
    expectError(combined, 400, 'HTTP-400', /cannot be combined with limit/);
    expect(errorOf(combined).source?.parameter).toBe('systemGroups');
    expect(
      (await get<ListJson<GroupJson>>('/api/v1/groups?systemGroups=false&limit=2')).body.data,
    ).toHaveLength(2);
  });

  it('gets one group, or 404 in the GROUPS-7 shape', async () => {
    const sales = sim.tenant.groupByName('Sales Ops')!;
    const r = await get<GroupJson>(`/api/v1/groups/${sales.id}`);
    expect(r.body).toMatchObject({
      id: sales.id,
      name: 'Sales Ops',
      providerType: 'idp',
      assignedRoles: [{ name: 'ManagedSpaceCreator' }],
    });
    expectError(await get('/api/v1/groups/0123456789abcdef01234567'), 404, 'GROUPS-7');
    expect((await get<GroupJson>(`/api/v1/groups/${EVERYONE_GROUP_ID}`)).body.name).toBe('com.qlik.Everyone');
  });

  it('replaces roles with replace, path with or without the leading slash', async () => {
    const g = sim.tenant.groupByName('Data Engineering')!;
    const r1 = await patch(`/api/v1/groups/${g.id}`, [
      { op: 'replace', path: '/assignedRoles', value: [{ name: 'Steward' }] },
    ]);
    expect(r1.status).toBe(204);
    expect(sim.tenant.groupRoleNames(g.id)).toEqual(['Steward']);
    const dsc = sim.tenant.roleByName('DataSpaceCreator')!.id;
    const r2 = await patch(`/api/v1/groups/${g.id}`, [
      { op: 'replace', path: 'assignedRoles', value: [{ id: dsc }, { name: 'DataServicesContributor' }] },
    ]);
    expect(r2.status).toBe(204);
    expect(sim.tenant.groupRoleNames(g.id)).toEqual(['DataSpaceCreator', 'DataServicesContributor']);
    expect(sim.tenant.getGroup(g.id)!.updatedBy).toBe(sim.tenant.serviceUserId);
  });

  it('rejects every op but replace, and renames only custom groups', async () => {
    const g = sim.tenant.groupByName('Finance')!;
    for (const op of ['add', 'remove-value', 'remove']) {
      const r = await patch(`/api/v1/groups/${g.id}`, [
        { op, path: '/assignedRoles', value: [{ name: 'Steward' }] },
      ]);
      expectError(r, 400, 'HTTP-400', /"replace" is the only supported operation/);
    }
    expectError(
      await patch(`/api/v1/groups/${g.id}`, [{ op: 'replace', path: '/name', value: 'Fin' }]),
      400,
      'HTTP-400',
      /only be changed on custom groups/,
    );
    expectError(
      await patch(`/api/v1/groups/${g.id}`, [{ op: 'replace', path: '/status', value: 'disabled' }]),
      400,
      'HTTP-400',
      /Unsupported path/,
    );
    expectError(
      await patch(`/api/v1/groups/${g.id}`, [
        { op: 'replace', path: '/assignedRoles', value: [{ name: 'Nope' }] },
      ]),
      400,
      'HTTP-400',
      /Role "Nope" does not exist/,
    );
    expect(sim.tenant.groupRoleNames(g.id)).toEqual(['SharedSpaceCreator']);
    const custom = sim.tenant.groupByName('Contractors')!;
    expect(
      (await patch(`/api/v1/groups/${custom.id}`, [{ op: 'replace', path: 'description', value: 'Temps' }]))
        .status,
    ).toBe(204);
    expect(sim.tenant.getGroup(custom.id)!.description).toBe('Temps');
    expectError(await patch('/api/v1/groups/0123456789abcdef01234567', []), 404, 'GROUPS-7');
  });

  it('changes the Everyone group’s roles', async () => {
    const before = sim.tenant.groupRoleNames(EVERYONE_GROUP_ID);
    const r = await patch(`/api/v1/groups/${EVERYONE_GROUP_ID}`, [
      { op: 'replace', path: '/assignedRoles', value: [{ name: 'PrivateAnalyticsContentCreator' }] },
    ]);
    expect(r.status).toBe(204);
    expect(sim.tenant.groupRoleNames(EVERYONE_GROUP_ID)).toEqual(['PrivateAnalyticsContentCreator']);
    sim.tenant.setGroupRoles(EVERYONE_GROUP_ID, before);
  });
});

describe('roles', () => {
  it('lists every role across pages, filters, and 404s in the IDENTITIES shape without status', async () => {
    const p1 = await get<ListJson<RoleJson>>('/api/v1/roles?limit=10&totalResults=true');
    expect(p1.body.totalResults).toBe(sim.tenant.roleCount);
    const p2 = await get<ListJson<RoleJson>>(p1.body.links.next!.href);
    expect([...p1.body.data, ...p2.body.data].map((r) => r.name).sort()).toEqual(
      [...sim.tenant.roles()].map((r) => r.name).sort(),
    );
    const custom = await get<ListJson<RoleJson>>(`/api/v1/roles?filter=${q('type eq "CUSTOM"')}&sort=name`);
    expect(custom.body.data.map((r) => r.name)).toEqual(['Finance Auditor', 'Report Publisher']);
    const one = await get<RoleJson>(`/api/v1/roles/${sim.tenant.roleByName('TenantAdmin')!.id}`);
    expect(one.body).toMatchObject({ name: 'TenantAdmin', type: 'default', level: 'admin' });
    const missing = await get('/api/v1/roles/0123456789abcdef01234567');
    expectError(missing, 404, 'IDENTITIES-10402');
    expect(errorOf(missing).status).toBeUndefined();
    expectError(await get(`/api/v1/roles?filter=${q('name co "Admin"')}`), 400, 'HTTP-400', /"co" operator/);
  });
});

describe('filter actions (special tier)', () => {
  it('filters users from the body and pages by POSTing the same body to links.next', async () => {
    const body = { filter: 'assignedRoles.name eq "SharedSpaceCreator"' };
    let r = await post<ListJson<UserJson>>('/api/v1/users/actions/filter?limit=2', body);
    const names: string[] = [];
    for (;;) {
      expect(r.status).toBe(200);
      names.push(...r.body.data.map((u) => u.name));
      if (!r.body.links.next) break;
      r = await post<ListJson<UserJson>>(r.body.links.next.href, body);
    }
    const expected = [...sim.tenant.users()]
      .filter((u) => sim.tenant.userRoleNames(u.id).includes('SharedSpaceCreator'))
      .map((u) => u.name)
      .sort((a, b) => (a < b ? -1 : 1));
    expect(names).toEqual(expected);
    const logged = sim.requests.filter((x) => x.path === '/api/v1/users/actions/filter');
    expect(logged.every((x) => x.tier === 'special')).toBe(true);
    expect(logged.at(-1)?.body).toEqual(body);
  });

  it('takes no body as "no filter", rejects bad bodies, sorts only by name, and allows at most 100 ids', async () => {
    const all = await post<ListJson<UserJson>>(
      '/api/v1/users/actions/filter?limit=100&totalResults=true',
      undefined,
    );
    expect(all.body.data).toHaveLength(sim.tenant.userCount);
    expectError(await post('/api/v1/users/actions/filter', '{"filter":'), 400, 'HTTP-400', /not valid JSON/);
    expectError(
      await post('/api/v1/users/actions/filter', { filter: 42 }),
      400,
      'HTTP-400',
      /must be a string/,
    );
    expectError(await post('/api/v1/users/actions/filter', ['x']), 400, 'HTTP-400', /JSON object/);
    expectError(await post('/api/v1/users/actions/filter?sort=email', {}), 400, 'HTTP-400', /sort/);
    const ids = (n: number) =>
      Array.from({ length: n }, (_, i) => `id eq "${i.toString(16).padStart(24, '0')}"`).join(' or ');
    expect((await post('/api/v1/users/actions/filter', { filter: ids(100) })).status).toBe(200);
    expectError(
      await post('/api/v1/users/actions/filter', { filter: ids(101) }),
      400,
      'HTTP-400',
      /more than 100 ids/,
    );
    const bad = await post('/api/v1/users/actions/filter', { filter: 'email eq' });
    expect(errorOf(bad).source?.pointer).toBe('/filter');
  });

  it('filters groups the same way', async () => {
    const r = await post<ListJson<GroupJson>>('/api/v1/groups/actions/filter', {
      filter: 'name eq "FINANCE"',
    });
    expect(r.body.data.map((g) => g.name).sort()).toEqual(['Finance', 'finance']);
  });
});

describe('unknown routes', () => {
  it('answers 404 and 405 in the error shape', async () => {
    expectError(await get('/api/v1/nothing'), 404, 'HTTP-404');
    expectError(await get('/api/v1/users/a/b'), 404, 'HTTP-404');
    expectError(await get('/api/v1/users/%E0%A4%A'), 404, 'USERS-7');
    const raw = await fetch(`${sim.url}//elsewhere.example/api/v1/users`, {
      headers: { authorization: `Bearer ${sim.apiKey}` },
    });
    expect(raw.status).toBe(404);
    const r = await call(sim.url, 'PUT', `/api/v1/users/${kajaId}`, { key: sim.apiKey, body: {} });
    expectError(r, 405, 'HTTP-405');
    expect(r.headers.get('allow')).toBe('GET, PATCH, DELETE');
  });
});

describe('rate limits', () => {
  it('blocks a spent tier with 429 + Retry-After while the other tiers and owners still work', async () => {
    sim.setRateLimits({ tier2PerMinute: 2, windowMs: 60_000 });
    sim.resetLog();
    const id = idOf('liam@corp.example');
    const body = [{ op: 'replace', path: '/assignedRoles', value: [{ name: 'EmbeddedAnalyticsUser' }] }];
    expect((await patch(`/api/v1/users/${id}`, body)).status).toBe(204);
    expect((await patch(`/api/v1/users/${id}`, body)).status).toBe(204);
    const limited = await patch(`/api/v1/users/${id}`, body);
    expectError(limited, 429, 'HTTP-429', /^You need to wait \d+ seconds until limit is lifted\.$/);
    expect(errorOf(limited).title).toBe('API rate limit reached.');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(errorOf(limited).detail).toBe(`You need to wait ${retryAfter} seconds until limit is lifted.`);
    // Every tier-2 endpoint is blocked, not just the one that hit the limit.
    expectError(
      await patch(`/api/v1/groups/${EVERYONE_GROUP_ID}`, [
        { op: 'replace', path: '/assignedRoles', value: [] },
      ]),
      429,
      'HTTP-429',
    );
    expect((await get('/api/v1/users?limit=1')).status).toBe(200);
    expect((await post('/api/v1/users/actions/filter?limit=1', {})).status).toBe(200);
    // Limits are per key owner: another admin's budget is untouched.
    sim.addApiKey('alice-key', idOf('alice@corp.example'));
    expect((await patch(`/api/v1/users/${id}`, body, 'alice-key')).status).toBe(204);
    expect(sim.counts()).toEqual({ total: 7, byTier: { '1': 1, '2': 5, special: 1 }, rateLimited: 2 });
    sim.setRateLimits(false);
    expect((await patch(`/api/v1/users/${id}`, body)).status).toBe(204);
  });

  it('limits tier 1 and the special tier with their own numbers', async () => {
    sim.setRateLimits({ tier1PerMinute: 1, specialPerMinute: 1 });
    expect((await get('/api/v1/users?limit=1')).status).toBe(200);
    expectError(await get('/api/v1/groups'), 429, 'HTTP-429');
    expectError(await get('/api/v1/roles'), 429, 'HTTP-429');
    expect((await post('/api/v1/groups/actions/filter', {})).status).toBe(200);
    expectError(await post('/api/v1/users/actions/filter', {}), 429, 'HTTP-429');
  });
});

describe('fault injection, latency and the request log', () => {
  it('answers injected statuses for the matching requests, the given number of times', async () => {
    sim.resetLog();
    sim.injectFault({ method: 'GET', path: /^\/api\/v1\/users$/, status: 503, times: 2, retryAfterSec: 3 });
    const r1 = await get('/api/v1/users?limit=1');
    expectError(r1, 503, 'HTTP-503');
    expect(r1.headers.get('retry-after')).toBe('3');
    expect((await get(`/api/v1/users/${kajaId}`)).status).toBe(200);
    expect((await patch(`/api/v1/users/${kajaId}`, [])).status).toBe(204);
    expectError(await get('/api/v1/users?limit=1'), 503, 'HTTP-503');
    expect((await get('/api/v1/users?limit=1')).status).toBe(200);
    expect(sim.requests.map((x) => `${x.method} ${x.path} ${x.status}`)).toEqual([
      'GET /api/v1/users 503',
      `GET /api/v1/users/${kajaId} 200`,
      `PATCH /api/v1/users/${kajaId} 204`,
      'GET /api/v1/users 503',
      'GET /api/v1/users 200',
    ]);
  });

  it('fails a share of the matching requests at random, the same ones for the same seed', async () => {
    const run = async () => {
      sim.resetLog();
      sim.injectFault({
        method: 'GET',
        path: /^\/api\/v1\/roles$/,
        status: 503,
        times: Infinity,
        probability: 0.3,
        seed: 42,
      });
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) statuses.push((await get('/api/v1/roles?limit=1')).status);
      sim.clearFaults();
      return statuses;
    };
    const first = await run();
    const failed = first.filter((s) => s === 503).length;
    expect(failed).toBeGreaterThan(15);
    expect(failed).toBeLessThan(45);
    expect(first.filter((s) => s !== 503).every((s) => s === 200)).toBe(true);
    expect(await run()).toEqual(first);
  });

  it('drops the connection when asked', async () => {
    sim.resetLog();
    sim.injectFault({ method: 'PATCH', closeConnection: true, status: 0 });
    await expect(patch(`/api/v1/users/${kajaId}`, [])).rejects.toThrow();
    expect(sim.requests.at(-1)).toMatchObject({ method: 'PATCH', status: 0 });
    expect((await patch(`/api/v1/users/${kajaId}`, [])).status).toBe(204);
  });

  it('injects a 429 that looks like the real one', async () => {
    sim.injectFault({ status: 429, retryAfterSec: 7 });
    const r = await get('/api/v1/users');
    expectError(r, 429, 'HTTP-429');
    expect(errorOf(r).title).toBe('API rate limit reached.');
    expect(r.headers.get('retry-after')).toBe('7');
  });

  it('delays answers by the configured latency', async () => {
    sim.setLatency(400);
    await expect(
      call(sim.url, 'GET', '/api/v1/users?limit=1', { key: sim.apiKey, signal: AbortSignal.timeout(40) }),
    ).rejects.toThrow();
    sim.setLatency(0);
    expect((await get('/api/v1/users?limit=1')).status).toBe(200);
  });

  it('logs method, path, query, status, tier, body and owner of each request', async () => {
    sim.resetLog();
    await get(`/api/v1/users?limit=3&filter=${q('name co "a"')}`);
    await patch(`/api/v1/users/${kajaId}`, []);
    expect(sim.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/api/v1/users',
        query: { limit: '3', filter: 'name co "a"' },
        status: 200,
        tier: '1',
        ownerId: sim.tenant.serviceUserId,
      }),
      expect.objectContaining({
        method: 'PATCH',
        path: `/api/v1/users/${kajaId}`,
        status: 204,
        tier: '2',
        body: [],
      }),
    ]);
    expect(sim.counts()).toEqual({ total: 2, byTier: { '1': 1, '2': 1, special: 0 }, rateLimited: 0 });
  });
});

describe('a big tenant', () => {
  it('serves filtered pages of a generated tenant from its indexes', async () => {
    const tenant = generateTenant({ users: 5_000, groups: 100, roleMix: { Steward: 250 } });
    const big = await startQlikSimulator({ tenant });
    try {
      let r = await call<ListJson<UserJson>>(
        big.url,
        'GET',
        `/api/v1/users?limit=100&totalResults=true&filter=${q('assignedRoles.name eq "Steward"')}`,
        { key: big.apiKey },
      );
      expect(r.body.totalResults).toBe(250);
      const ids = new Set<string>();
      for (;;) {
        for (const u of r.body.data) ids.add(u.id);
        if (!r.body.links.next) break;
        r = await call<ListJson<UserJson>>(big.url, 'GET', r.body.links.next.href, { key: big.apiKey });
      }
      expect(ids).toEqual(new Set(tenant.userIdsWithRole(tenant.roleByName('Steward')!.id)));
    } finally {
      await big.close();
    }
  });
});
