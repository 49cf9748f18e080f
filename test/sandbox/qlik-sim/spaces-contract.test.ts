// The simulator's Spaces API over HTTP: every route and status checked against spaces.json (call() validates each
// response, and spaces request bodies), the behaviour a space target relies on (paging, filters, one assignment
// per assignee, PUT replaces the list, the owner has no assignment, who may manage members), and the official
// @qlik/api spaces client driving it.

import { createQlikApi } from '@qlik/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  demoTenant,
  generateTenant,
  type QlikSimulator,
  type SimTenant,
  startQlikSimulator,
} from '../../../src/sandbox/qlik-sim/index.ts';
import { type CallResult, call, checkContract, checkedExchanges, checkRequest } from './contract.ts';

interface SpaceJson {
  id: string;
  name: string;
  type: string;
  ownerId: string;
  meta: { roles: string[]; actions: string[]; assignableRoles: string[] };
  links: { self: { href: string }; assignments: { href: string } };
}
interface AssignmentJson {
  id: string;
  type: string;
  assigneeId: string;
  roles: string[];
  spaceId: string;
  createdBy?: string;
  updatedBy?: string;
}
interface ListJson<T> {
  data: T[];
  links: { self: { href: string }; next?: { href: string }; prev?: { href: string } };
  meta: { count: number };
}
interface SpacesErrors {
  errors: Array<{ code: string; title: string; detail?: string; meta?: { source?: Record<string, string> } }>;
  code: string;
  title: string;
  detail?: string;
}

const NONE = '0123456789abcdef01234567';
let sim: QlikSimulator;
let t: SimTenant;
/** API keys of demo users, by email. */
const keys: Record<string, string> = {};
const KEYED = [
  'kaja@corp.example', // consumer in EMEA Sales through the Sales Ops group; no admin role
  "o'brien@corp.example", // facilitator in Finance Reports, directly
  'hiro@corp.example', // owner of EMEA Sales
  'amir@corp.example', // AnalyticsAdmin
  'frank@corp.example', // Finance group member (consumer in Finance Reports)
];

async function start(tenant: SimTenant = demoTenant()) {
  sim = await startQlikSimulator({ tenant });
  t = sim.tenant;
  for (const email of KEYED) {
    const u = t.usersByEmail(email)[0];
    if (!u) continue;
    keys[email] = `key-${email}`;
    sim.addApiKey(keys[email]!, u.id);
  }
}
beforeEach(async () => {
  await start();
});
afterEach(async () => {
  await sim.close();
});

const space = (name: string) => t.spaceByName(name)!;
const userId = (email: string) => t.usersByEmail(email)[0]!.id;
const groupId = (name: string) => t.groupByName(name)!.id;
const req = <T = unknown>(method: string, path: string, opts: { key?: string | null; body?: unknown } = {}) =>
  call<T>(sim.url, method, path, { key: sim.apiKey, ...opts });
const as = (email: string) => ({ key: keys[email]! });
const assignmentsPath = (name: string) => `/api/v1/spaces/${space(name).id}/assignments`;
const errorOf = (r: CallResult) => (r.body as SpacesErrors).errors[0]!;

async function allPages<T>(first: string, key = sim.apiKey) {
  const pages: ListJson<T>[] = [];
  let next: string | undefined = first;
  while (next) {
    const r: CallResult<ListJson<T>> = await call<ListJson<T>>(sim.url, 'GET', next, { key });
    expect(r.status).toBe(200);
    pages.push(r.body);
    next = r.body.links.next?.href;
  }
  return pages;
}

describe('the contract checker knows the Spaces API', () => {
  const json = 'application/json; charset=utf-8';
  it('rejects spaces error items with a status, and spaces without links', () => {
    const err = (item: Record<string, unknown>) => ({
      errors: [{ code: 'X', title: 'Y', ...item }],
      code: 'X',
    });
    expect(() => checkContract('GET', `/api/v1/spaces/${NONE}`, 404, json, err({}))).not.toThrow();
    expect(() => checkContract('GET', `/api/v1/spaces/${NONE}`, 404, json, err({ status: 404 }))).toThrow(
      /additional properties/,
    );
    expect(() =>
      checkContract('GET', `/api/v1/spaces/${NONE}`, 200, json, { id: NONE, name: 'n', tenantId: 't' }),
    ).toThrow(/links/);
  });

  it('checks AssignmentCreate and AssignmentUpdate request bodies', () => {
    const path = `/api/v1/spaces/${NONE}/assignments`;
    expect(checkRequest('POST', path, { type: 'user', assigneeId: NONE, roles: ['consumer'] })).toBe(true);
    expect(checkRequest('POST', path, { type: 'user', assigneeId: NONE })).toBe(false);
    expect(checkRequest('POST', path, { type: 'robot', assigneeId: NONE, roles: [] })).toBe(false);
    expect(checkRequest('PUT', `${path}/${NONE}`, { roles: ['Can view'] })).toBe(false);
    expect(checkRequest('GET', path, {})).toBeUndefined();
    expect(checkRequest('PATCH', `/api/v1/users/${NONE}`, [])).toBeUndefined();
  });
});

describe('every spaces operation and status the simulator serves matches spaces.json', () => {
  it('sweeps the routes (each exchange contract-checked by call())', async () => {
    const fin = space('Finance Reports');
    const emea = space('EMEA Sales');
    const frank = userId('frank@corp.example');
    const kaja = as('kaja@corp.example');
    await req('GET', '/api/v1/spaces');
    await req('GET', '/api/v1/spaces?limit=2&sort=-createdAt&type=shared,managed&name=s');
    await req('GET', '/api/v1/spaces?limit=101');
    await req('GET', '/api/v1/spaces', { key: null });
    await req('GET', `/api/v1/spaces/${fin.id}`);
    await req('GET', `/api/v1/spaces/${NONE}`);
    await req('GET', `/api/v1/spaces/${fin.id}`, { key: 'wrong' });
    await req('GET', `${assignmentsPath('Finance Reports')}?limit=1`);
    await req('GET', `/api/v1/spaces/${NONE}/assignments`);
    await req('GET', `${assignmentsPath('Finance Reports')}?type=robot`);
    await req('GET', assignmentsPath('Finance Reports'), { key: null });
    const created = await req<AssignmentJson>('POST', assignmentsPath('Finance Reports'), {
      body: { type: 'user', assigneeId: userId('pablo@corp.example'), roles: ['consumer'] },
    });
    await req('POST', assignmentsPath('Finance Reports'), {
      body: { type: 'user', assigneeId: userId('pablo@corp.example'), roles: ['producer'] },
    });
    await req('POST', assignmentsPath('Finance Reports'), {
      body: { type: 'user', assigneeId: frank, roles: [] },
    });
    await req('POST', assignmentsPath('EMEA Sales'), {
      ...kaja,
      body: { type: 'user', assigneeId: frank, roles: ['consumer'] },
    });
    await req('POST', `/api/v1/spaces/${NONE}/assignments`, {
      body: { type: 'user', assigneeId: frank, roles: ['consumer'] },
    });
    await req('POST', assignmentsPath('EMEA Sales'), { key: null, body: {} });
    const one = `${assignmentsPath('Finance Reports')}/${created.body.id}`;
    await req('GET', one);
    await req('GET', `${assignmentsPath('Finance Reports')}/${NONE}`);
    await req('PUT', one, { body: { roles: ['consumer', 'producer'] } });
    await req('PUT', one, { body: { roles: [] } });
    await req('PUT', `${assignmentsPath('Finance Reports')}/${NONE}`, { body: { roles: ['consumer'] } });
    const emeaAssignment = t.spaceAssignments(emea.id)[0]!;
    await req('PUT', `${assignmentsPath('EMEA Sales')}/${emeaAssignment.id}`, {
      ...kaja,
      body: { roles: ['consumer'] },
    });
    await req('DELETE', `${assignmentsPath('EMEA Sales')}/${emeaAssignment.id}`, kaja);
    await req('DELETE', one);
    await req('DELETE', one);
    await req('POST', '/api/v1/spaces', { body: { name: 'New', type: 'shared' } });
    sim.setRateLimits({ tier1PerMinute: 1, tier2PerMinute: 1 });
    try {
      await req('GET', '/api/v1/spaces');
      await req('GET', '/api/v1/spaces');
      await req('GET', `/api/v1/spaces/${fin.id}`);
      await req('DELETE', `${assignmentsPath('Finance Reports')}/${NONE}`);
      await req('DELETE', `${assignmentsPath('Finance Reports')}/${NONE}`);
    } finally {
      sim.setRateLimits(false);
    }
    sim.injectFault({ status: 500, path: /^\/api\/v1\/spaces/ });
    await req('GET', '/api/v1/spaces');

    const covered = new Set(checkedExchanges.map((e) => `${e.operation} ${e.status}`));
    const expected = [
      'GET /api/v1/spaces 200',
      'GET /api/v1/spaces 400',
      'GET /api/v1/spaces 401',
      'GET /api/v1/spaces 429',
      'GET /api/v1/spaces 500',
      'POST /api/v1/spaces 405',
      'GET /api/v1/spaces/{spaceId} 200',
      'GET /api/v1/spaces/{spaceId} 401',
      'GET /api/v1/spaces/{spaceId} 404',
      'GET /api/v1/spaces/{spaceId} 429',
      'GET /api/v1/spaces/{spaceId}/assignments 200',
      'GET /api/v1/spaces/{spaceId}/assignments 400',
      'GET /api/v1/spaces/{spaceId}/assignments 401',
      'GET /api/v1/spaces/{spaceId}/assignments 404',
      'POST /api/v1/spaces/{spaceId}/assignments 201',
      'POST /api/v1/spaces/{spaceId}/assignments 400',
      'POST /api/v1/spaces/{spaceId}/assignments 401',
      'POST /api/v1/spaces/{spaceId}/assignments 403',
      'POST /api/v1/spaces/{spaceId}/assignments 404',
      'POST /api/v1/spaces/{spaceId}/assignments 409',
      'GET /api/v1/spaces/{spaceId}/assignments/{assignmentId} 200',
      'GET /api/v1/spaces/{spaceId}/assignments/{assignmentId} 404',
      'PUT /api/v1/spaces/{spaceId}/assignments/{assignmentId} 200',
      'PUT /api/v1/spaces/{spaceId}/assignments/{assignmentId} 400',
      'PUT /api/v1/spaces/{spaceId}/assignments/{assignmentId} 403',
      'PUT /api/v1/spaces/{spaceId}/assignments/{assignmentId} 404',
      'DELETE /api/v1/spaces/{spaceId}/assignments/{assignmentId} 204',
      'DELETE /api/v1/spaces/{spaceId}/assignments/{assignmentId} 403',
      'DELETE /api/v1/spaces/{spaceId}/assignments/{assignmentId} 404',
      'DELETE /api/v1/spaces/{spaceId}/assignments/{assignmentId} 429',
    ];
    expect([...covered].sort()).toEqual(expect.arrayContaining(expected));
  });

  it('answers errors in the spaces shape: errors[] plus the deprecated top-level code, title and detail', async () => {
    const r = await req('GET', '/api/v1/spaces?limit=0');
    expect(r.status).toBe(400);
    const body = r.body as SpacesErrors;
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]).toMatchObject({ code: 'HTTP-400', meta: { source: { parameter: 'limit' } } });
    expect(body.errors[0]).not.toHaveProperty('status');
    expect({ code: body.code, title: body.title, detail: body.detail }).toEqual({
      code: body.errors[0]!.code,
      title: body.errors[0]!.title,
      detail: body.errors[0]!.detail,
    });
    const unauth = await req('GET', '/api/v1/spaces', { key: null });
    expect((unauth.body as SpacesErrors).code).toBe('HTTP-401');
  });
});

describe('listing spaces', () => {
  it('pages with limit and next until the end, meta.count the whole match, prev going back', async () => {
    // The service user (TenantAdmin) sees every shared and managed space and the data space it facilitates.
    const visible = [...t.spaces()].filter((s) => t.canSeeSpace(s.id, t.serviceUserId!)).map((s) => s.name);
    expect(visible).toHaveLength(7);
    expect(visible).not.toContain('Data Lake Staging');
    const pages = await allPages<SpaceJson>('/api/v1/spaces?limit=3');
    expect(pages.map((p) => p.data.length)).toEqual([3, 3, 1]);
    for (const p of pages) expect(p.meta.count).toBe(7);
    const names = pages.flatMap((p) => p.data.map((s) => s.name));
    expect(names).toEqual([...visible].sort());
    const back = await req<ListJson<SpaceJson>>('GET', pages[2]!.links.prev!.href);
    expect(back.body.data.map((s) => s.name)).toEqual(names.slice(3, 6));
    expect(pages[0]!.links.prev).toBeUndefined();
  });

  it('defaults to 10 per page and refuses limits outside 1..100', async () => {
    await sim.close();
    await start(generateTenant({ users: 300, groups: 10, spaces: 25 }));
    const pages = await allPages<SpaceJson>('/api/v1/spaces');
    expect(pages.map((p) => p.data.length)).toEqual([10, 10, 5]);
    expect(new Set(pages.flatMap((p) => p.data.map((s) => s.id))).size).toBe(25);
    for (const limit of ['0', '101', 'ten', '']) {
      expect((await req('GET', `/api/v1/spaces?limit=${limit}`)).status).toBe(400);
    }
    expect((await req<ListJson<SpaceJson>>('GET', '/api/v1/spaces?limit=100')).body.data).toHaveLength(25);
  });

  it('filters by name (case-insensitive substring), type list, ownerId, and the caller’s roles', async () => {
    const names = async (query: string, key = sim.apiKey) =>
      (
        await call<ListJson<SpaceJson>>(sim.url, 'GET', `/api/v1/spaces?limit=100&${query}`, { key })
      ).body.data
        .map((s) => s.name)
        .sort();
    expect(await names('name=FIN')).toEqual(['Finance Reports', 'Finance Reports Archive']);
    expect(await names('name=sales')).toEqual(['APAC Sales', 'EMEA Sales', 'Sales Data']);
    expect(await names('type=managed,data')).toEqual(['APAC Sales', 'EMEA Sales', 'Sales Data']);
    expect(await names(`ownerId=${userId('dan@corp.example')}`)).toEqual([
      'Finance Reports',
      'Finance Reports Archive',
    ]);
    expect(await names('roles=facilitator')).toEqual(['Sales Data']);
    expect(await names('action=publish', keys['hiro@corp.example'])).toEqual(['EMEA Sales']);
    // A plain member sees only its spaces: Kaja is in EMEA Sales through Sales Ops.
    expect(await names('', keys['kaja@corp.example'])).toEqual(['EMEA Sales']);
    expect((await req('GET', '/api/v1/spaces?type=personal')).status).toBe(400);
    expect((await req('GET', '/api/v1/spaces?roles=Consumer')).status).toBe(400);
    expect(await names('environmentId=')).toHaveLength(7);
    expect(await names('environment.name=Development')).toEqual([]);
  });

  it('sorts by name, -name, type and createdAt; a cursor only works with its own sort', async () => {
    const order = async (sort: string) =>
      (await req<ListJson<SpaceJson>>('GET', `/api/v1/spaces?limit=100&sort=${encodeURIComponent(sort)}`))
        .body.data;
    const byName = (await order('+name')).map((s) => s.name);
    expect(byName).toEqual([...byName].sort());
    expect((await order('-name')).map((s) => s.name)).toEqual([...byName].reverse());
    const types = (await order('type')).map((s) => s.type);
    expect(types).toEqual([...types].sort());
    const created = (await order('-createdAt')).map((s) => s.id);
    expect(created).toEqual([...created].sort().reverse());
    expect((await req('GET', '/api/v1/spaces?sort=owner')).status).toBe(400);
    const first = await req<ListJson<SpaceJson>>('GET', '/api/v1/spaces?limit=2&sort=-name');
    const cursor = new URL(first.body.links.next!.href).searchParams.get('next')!;
    expect((await req('GET', `/api/v1/spaces?sort=name&next=${cursor}`)).status).toBe(400);
  });
});

describe('one space', () => {
  it('reports assignableRoles of its type and the caller’s own roles and actions', async () => {
    const get = (name: string, key = sim.apiKey) =>
      call<SpaceJson>(sim.url, 'GET', `/api/v1/spaces/${space(name).id}`, { key });
    expect((await get('Finance Reports')).body.meta.assignableRoles).toEqual(
      t.assignableSpaceRoles('shared'),
    );
    expect((await get('EMEA Sales')).body.meta.assignableRoles).toHaveLength(7);
    const kaja = (await get('EMEA Sales', keys['kaja@corp.example'])).body.meta;
    expect(kaja.roles).toEqual(['consumer']);
    expect(kaja.actions).toEqual(['read']);
    const owner = (await get('EMEA Sales', keys['hiro@corp.example'])).body.meta;
    expect(owner.roles).toEqual([...t.assignableSpaceRoles('managed')].sort());
    expect(owner.actions).toEqual(expect.arrayContaining(['read', 'update', 'delete', 'publish']));
    const admin = (await get('EMEA Sales')).body;
    expect(admin.meta.roles).toEqual([]);
    expect(admin.meta.actions).toContain('update');
    expect(admin.links.assignments.href).toBe(
      `${sim.url}/api/v1/spaces/${space('EMEA Sales').id}/assignments`,
    );
    expect((await get('Sales Data')).body.meta.roles).toEqual(['facilitator']);
  });

  it('is 404 when missing or not visible to the caller (not found or access denied)', async () => {
    expect((await req('GET', `/api/v1/spaces/${NONE}`)).status).toBe(404);
    expect((await req('GET', `/api/v1/spaces/${space('Data Lake Staging').id}`)).status).toBe(404);
    const hr = `/api/v1/spaces/${space('HR Confidential').id}`;
    expect((await req('GET', hr, as('kaja@corp.example'))).status).toBe(404);
    expect((await req('GET', `${hr}/assignments`, as('kaja@corp.example'))).status).toBe(404);
  });
});

describe('assignments', () => {
  it('lists them without the owner, filtered by assigneeId and type, paged with limit and next', async () => {
    const emea = space('EMEA Sales');
    const pages = await allPages<AssignmentJson>(`${assignmentsPath('EMEA Sales')}?limit=1`);
    expect(pages).toHaveLength(3);
    for (const p of pages) expect(p.meta.count).toBe(3);
    const ids = pages.flatMap((p) => p.data.map((a) => a.assigneeId));
    expect(ids).not.toContain(emea.ownerId);
    expect(ids).toEqual(t.spaceAssignments(emea.id).map((a) => a.assigneeId));
    const groups = await req<ListJson<AssignmentJson>>('GET', `${assignmentsPath('EMEA Sales')}?type=group`);
    expect(groups.body.data.map((a) => [a.assigneeId, a.roles])).toEqual([
      [groupId('Sales Ops'), ['consumer']],
    ]);
    const carlos = userId('carlos@corp.example');
    const mine = await req<ListJson<AssignmentJson>>(
      'GET',
      `${assignmentsPath('EMEA Sales')}?assigneeId=${carlos}`,
    );
    expect(mine.body.data.map((a) => a.roles)).toEqual([['facilitator']]);
    expect(mine.body.meta.count).toBe(1);
    const owner = await req<ListJson<AssignmentJson>>(
      'GET',
      `${assignmentsPath('EMEA Sales')}?assigneeId=${emea.ownerId}`,
    );
    expect(owner.body).toMatchObject({ data: [], meta: { count: 0 } });
  });

  it('creates one per assignee (409 for a second), PUT replaces the complete list, DELETE removes the last', async () => {
    const fin = space('Finance Reports');
    const pablo = userId('pablo@corp.example');
    const created = await req<AssignmentJson>('POST', assignmentsPath('Finance Reports'), {
      body: { type: 'user', assigneeId: pablo, roles: ['consumer'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      type: 'user',
      assigneeId: pablo,
      roles: ['consumer'],
      spaceId: fin.id,
    });
    expect(created.body.createdBy).toBe(t.serviceUserId);
    const again = await req('POST', assignmentsPath('Finance Reports'), {
      body: { type: 'user', assigneeId: pablo, roles: ['producer'] },
    });
    expect(again.status).toBe(409);
    expect(errorOf(again).code).toBe('HTTP-409');
    expect(t.spaceRolesOf(fin.id, pablo)).toEqual(['consumer']);

    const one = `${assignmentsPath('Finance Reports')}/${created.body.id}`;
    const put = await req<AssignmentJson>('PUT', one, { body: { roles: ['producer', 'dataconsumer'] } });
    expect(put.status).toBe(200);
    expect(put.body.roles).toEqual(['producer', 'dataconsumer']);
    expect(t.spaceRolesOf(fin.id, pablo)).toEqual(['producer', 'dataconsumer']);
    for (const roles of [[], ['publisher'], ['Can edit']]) {
      expect((await req('PUT', one, { body: { roles } })).status).toBe(400);
    }
    expect((await req('PUT', one, { body: {} })).status).toBe(400);
    expect((await req<AssignmentJson>('GET', one)).body.roles).toEqual(['producer', 'dataconsumer']);

    expect((await req('DELETE', one)).status).toBe(204);
    expect(t.spaceAssignment(fin.id, pablo)).toBeUndefined();
    expect((await req('GET', one)).status).toBe(404);
    expect((await req('DELETE', one)).status).toBe(404);
    expect((await req('PUT', one, { body: { roles: ['consumer'] } })).status).toBe(404);
    // An assignment id of another space is not found in this one.
    const other = t.spaceAssignments(space('EMEA Sales').id)[0]!;
    expect((await req('GET', `${assignmentsPath('Finance Reports')}/${other.id}`)).status).toBe(404);
  });

  it('refuses bad bodies with 400: type, empty or unknown roles, roles the space type lacks, unknown assignee, the owner', async () => {
    const emea = space('EMEA Sales');
    const frank = userId('frank@corp.example');
    const bad = async (body: unknown) => {
      const r = await req('POST', assignmentsPath('EMEA Sales'), { body });
      return [r.status, errorOf(r).meta?.source?.pointer];
    };
    expect(await bad({ type: 'bot', assigneeId: frank, roles: ['consumer'] })).toEqual([400, '/type']);
    expect(await bad({ type: 'user', assigneeId: frank, roles: [] })).toEqual([400, '/roles']);
    expect(await bad({ type: 'user', assigneeId: frank, roles: ['Consumer'] })).toEqual([400, '/roles']);
    expect(await bad({ type: 'user', assigneeId: frank })).toEqual([400, '/roles']);
    expect((await bad({ type: 'user', assigneeId: frank, roles: ['producer'] }))[0]).toBe(400);
    expect(await bad({ type: 'user', assigneeId: NONE, roles: ['consumer'] })).toEqual([400, '/assigneeId']);
    expect(await bad({ type: 'group', assigneeId: frank, roles: ['consumer'] })).toEqual([
      400,
      '/assigneeId',
    ]);
    expect((await bad({ type: 'user', assigneeId: emea.ownerId, roles: ['consumer'] }))[0]).toBe(400);
    expect((await req('POST', assignmentsPath('EMEA Sales'), { body: '[1' })).status).toBe(400);
    expect(t.spaceAssignments(emea.id)).toHaveLength(3);
  });

  it('lets only the owner, facilitators (direct or by group) and TenantAdmin/AnalyticsAdmin (not for data spaces) manage', async () => {
    const frank = userId('frank@corp.example');
    const addFrank = (name: string, email?: string) =>
      req('POST', assignmentsPath(name), {
        ...(email ? as(email) : {}),
        body: { type: 'user', assigneeId: frank, roles: ['consumer'] },
      });
    // Kaja sees EMEA Sales as a consumer (through Sales Ops) but may not manage it.
    const refused = await addFrank('EMEA Sales', 'kaja@corp.example');
    expect(refused.status).toBe(403);
    expect(t.spaceAssignment(space('EMEA Sales').id, frank)).toBeUndefined();
    // Facilitator through a group: Sales Ops becomes facilitator, so Kaja may.
    t.setSpaceRoles(space('EMEA Sales').id, groupId('Sales Ops'), ['consumer', 'facilitator']);
    expect((await addFrank('EMEA Sales', 'kaja@corp.example')).status).toBe(201);
    // Facilitator directly (Frank is in Finance Reports only through the Finance group, so this is his own).
    expect((await addFrank('Finance Reports', "o'brien@corp.example")).status).toBe(201);
    const ingrid = t.spaceAssignment(space('Finance Reports').id, userId('ingrid@corp.example'))!;
    const put = (email: string) =>
      req('PUT', `${assignmentsPath('Finance Reports')}/${ingrid.id}`, {
        ...as(email),
        body: { roles: ['consumer'] },
      });
    expect((await put("o'brien@corp.example")).status).toBe(200);
    expect((await put('frank@corp.example')).status).toBe(403);
    expect((await addFrank('Finance Reports Archive', "o'brien@corp.example")).status).toBe(404);
    expect((await addFrank('APAC Sales', 'hiro@corp.example')).status).toBe(404);
    t.setSpaceRoles(space('APAC Sales').id, userId('hiro@corp.example'), ['consumer']);
    expect((await addFrank('APAC Sales', 'hiro@corp.example')).status).toBe(403);
    // AnalyticsAdmin: shared and managed spaces without a space role, but not data spaces.
    expect((await addFrank('HR Confidential', 'amir@corp.example')).status).toBe(201);
    expect((await addFrank('Data Lake Staging', 'amir@corp.example')).status).toBe(404);
    t.setSpaceRoles(space('Data Lake Staging').id, userId('amir@corp.example'), ['consumer']);
    expect((await addFrank('Data Lake Staging', 'amir@corp.example')).status).toBe(403);
    // The bot's TenantAdmin service user: data spaces only where it is facilitator.
    expect((await addFrank('Sales Data')).status).toBe(201);
    expect((await addFrank('Data Lake Staging')).status).toBe(404);
  });

  it('go when their user or group is deleted', async () => {
    const fin = space('Finance Reports');
    const ingrid = userId('ingrid@corp.example');
    expect((await req('DELETE', `/api/v1/users/${ingrid}`)).status).toBe(204);
    const left = await req<ListJson<AssignmentJson>>(
      'GET',
      `${assignmentsPath('Finance Reports')}?limit=100`,
    );
    expect(left.body.data.map((a) => a.assigneeId)).not.toContain(ingrid);
    t.deleteGroup(groupId('Finance'));
    expect(t.spaceAssignments(fin.id).map((a) => a.type)).toEqual(['user']);
  });

  it('count against tier 1 (reads) and tier 2 (writes), with faults and the request log like other routes', async () => {
    sim.resetLog();
    await req('GET', assignmentsPath('Finance Reports'));
    await req('DELETE', `${assignmentsPath('Finance Reports')}/${NONE}`);
    expect(sim.requests.map((r) => [r.method, r.tier, r.status])).toEqual([
      ['GET', '1', 200],
      ['DELETE', '2', 404],
    ]);
    sim.setRateLimits({ tier2PerMinute: 1 });
    try {
      await req('DELETE', `${assignmentsPath('Finance Reports')}/${NONE}`);
      const limited = await req('POST', assignmentsPath('Finance Reports'), { body: {} });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((limited.body as SpacesErrors).code).toBe('HTTP-429');
      expect((await req('GET', assignmentsPath('Finance Reports'))).status).toBe(200);
    } finally {
      sim.setRateLimits(false);
    }
    sim.injectFault({ method: 'PUT', path: /\/assignments\//, status: 503, retryAfterSec: 2 });
    const id = t.spaceAssignments(space('Finance Reports').id)[0]!.id;
    const faulted = await req('PUT', `${assignmentsPath('Finance Reports')}/${id}`, {
      body: { roles: ['consumer'] },
    });
    expect(faulted.status).toBe(503);
    expect((faulted.body as SpacesErrors).detail).toBe('Injected fault.');
    expect(sim.requests.at(-1)).toMatchObject({ method: 'PUT', body: { roles: ['consumer'] }, tier: '2' });
  });
});

describe('the official @qlik/api spaces client against the simulator', () => {
  const api = () => createQlikApi({ hostConfig: { authType: 'apikey', host: sim.url, apiKey: sim.apiKey } });
  const noCache = { noCache: true };
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e as { status: number; data: SpacesErrors };
    }
    throw new Error('expected the call to fail');
  };

  it('lists spaces page by page with next(), and reads one with its assignable roles', async () => {
    const qlik = api();
    let page: Awaited<ReturnType<typeof qlik.spaces.getSpaces>> | undefined = await qlik.spaces.getSpaces(
      { limit: 2 },
      noCache,
    );
    const names: string[] = [];
    let pages = 0;
    while (page) {
      checkContract('GET', '/api/v1/spaces', page.status, 'application/json', page.data);
      names.push(...(page.data.data ?? []).map((s) => s.name));
      pages += 1;
      page = page.next ? await page.next(noCache) : undefined;
    }
    expect(pages).toBe(4);
    expect(names).toHaveLength(7);
    const found = await qlik.spaces.getSpaces({ name: 'emea', type: 'managed' }, noCache);
    expect(found.data.data?.map((s) => s.name)).toEqual(['EMEA Sales']);
    const one = await qlik.spaces.getSpace(space('Sales Data').id, noCache);
    expect(one.data.meta?.assignableRoles).toEqual(t.assignableSpaceRoles('data'));
    expect((await failure(qlik.spaces.getSpace(NONE, noCache))).status).toBe(404);
  });

  it('creates, lists, updates and deletes an assignment', async () => {
    const qlik = api();
    const emea = space('EMEA Sales').id;
    const frank = userId('frank@corp.example');
    const created = await qlik.spaces.createSpaceAssignment(emea, {
      type: 'user',
      assigneeId: frank,
      roles: ['consumer'],
    });
    expect(created.status).toBe(201);
    checkContract('POST', `/api/v1/spaces/${emea}/assignments`, 201, 'application/json', created.data);
    const conflict = await failure(
      qlik.spaces.createSpaceAssignment(emea, { type: 'user', assigneeId: frank, roles: ['publisher'] }),
    );
    expect(conflict.status).toBe(409);
    expect(conflict.data.errors[0]?.code).toBe('HTTP-409');

    const listed = await qlik.spaces.getSpaceAssignments(emea, { assigneeId: frank }, noCache);
    expect(listed.data.data?.map((a) => [a.id, a.roles])).toEqual([[created.data.id, ['consumer']]]);
    let page: Awaited<ReturnType<typeof qlik.spaces.getSpaceAssignments>> | undefined =
      await qlik.spaces.getSpaceAssignments(emea, { limit: 3 }, noCache);
    const all: string[] = [];
    while (page) {
      all.push(...(page.data.data ?? []).map((a) => a.assigneeId));
      page = page.next ? await page.next(noCache) : undefined;
    }
    expect(all).toHaveLength(4);
    expect(all).toContain(frank);

    const updated = await qlik.spaces.updateSpaceAssignment(emea, created.data.id, {
      roles: ['consumer', 'publisher'],
    });
    expect(updated.status).toBe(200);
    expect(updated.data.roles).toEqual(['consumer', 'publisher']);
    const reread = await qlik.spaces.getSpaceAssignment(emea, created.data.id, noCache);
    expect(reread.data.roles).toEqual(['consumer', 'publisher']);
    expect(t.spaceRolesOf(emea, frank)).toEqual(['consumer', 'publisher']);
    const empty = await failure(qlik.spaces.updateSpaceAssignment(emea, created.data.id, { roles: [] }));
    expect(empty.status).toBe(400);

    const deleted = await qlik.spaces.deleteSpaceAssignment(emea, created.data.id);
    expect(deleted.status).toBe(204);
    const after = await qlik.spaces.getSpaceAssignments(emea, { assigneeId: frank }, noCache);
    expect(after.data.data).toEqual([]);
    expect((await failure(qlik.spaces.getSpaceAssignment(emea, created.data.id, noCache))).status).toBe(404);
  });

  it('is refused (403) for a member who may not manage the space', async () => {
    const kaja = createQlikApi({
      hostConfig: { authType: 'apikey', host: sim.url, apiKey: keys['kaja@corp.example']! },
    });
    const refused = await failure(
      kaja.spaces.createSpaceAssignment(space('EMEA Sales').id, {
        type: 'user',
        assigneeId: userId('frank@corp.example'),
        roles: ['consumer'],
      }),
    );
    expect(refused.status).toBe(403);
    expect(refused.data.title).toBe('Forbidden');
  });
});
