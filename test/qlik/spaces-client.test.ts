// QlikClient's Spaces API calls against the simulator over real HTTP: listing spaces by name with paging (cursor
// given back, a repeated next link ends it), a space's assignable roles, assignments paged and filtered, create /
// update / delete with their tiers, 409 as `conflict`, Qlik's spaces error body, writes never retried on 5xx, and
// users and groups looked up by id in as few requests as the filter allows.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, QlikClient, QlikError } from '../../src/qlik/index.ts';
import { demoTenant, type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';

let sim: QlikSimulator;
let client: QlikClient;
let ownerId: string;
const pagedIds: string[] = [];

beforeAll(async () => {
  const tenant = demoTenant();
  ownerId = tenant.usersByEmail('dan@corp.example')[0]!.id;
  for (let i = 0; i < 230; i++) {
    tenant.addSpace({ name: `Paged Space ${String(i).padStart(3, '0')}`, type: 'shared', ownerId });
  }
  const big = tenant.addSpace({ name: 'Big Membership', type: 'managed', ownerId });
  for (let i = 0; i < 130; i++) {
    const u = tenant.addUser({ name: `Member ${i}`, email: `member${i}@corp.example` });
    pagedIds.push(u.id);
    tenant.assignSpace(big.id, { type: 'user', assigneeId: u.id, roles: ['consumer'] });
  }
  sim = await startQlikSimulator({ tenant });
  client = new QlikClient({ tenantUrl: sim.url, apiKey: sim.apiKey, retryBaseDelayMs: 5 });
});

afterAll(async () => {
  await client.close();
  await sim.close();
});

afterEach(() => {
  sim.clearFaults();
});

async function qlikError(p: Promise<unknown>): Promise<QlikError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(QlikError);
  const err = e as QlikError;
  expect(`${err.message} ${err.userMessage()} ${JSON.stringify(err)}`).not.toContain(sim.apiKey);
  return err;
}

const spaceRequests = () => sim.requests.filter((r) => r.path.startsWith('/api/v1/spaces'));

describe('listing spaces', () => {
  it('searches by name (any case, contains), counts every match, and pages with the cursor Qlik gave', async () => {
    sim.resetLog();
    const first = await client.listSpaces({ name: 'PAGED space', limit: 100 });
    expect(first.total).toBe(230);
    expect(first.spaces).toHaveLength(100);
    expect(first.spaces[0]!.name).toBe('Paged Space 000');
    expect(spaceRequests()[0]!.query).toMatchObject({ name: 'PAGED space', limit: '100', sort: '+name' });
    const second = await client.listSpaces({ next: first.next! });
    const third = await client.listSpaces({ next: second.next! });
    expect(third.next).toBeUndefined();
    const names = [...first.spaces, ...second.spaces, ...third.spaces].map((s) => s.name);
    expect(new Set(names).size).toBe(230);
    expect(spaceRequests().every((r) => r.tier === '1')).toBe(true);
  });

  it('walks every page with allSpaces, and sends a name with quotes and % as a plain query value', async () => {
    expect(await collect(client.allSpaces({ name: 'paged' }))).toHaveLength(230);
    sim.resetLog();
    expect(await client.listSpaces({ name: 'a"b%20c' })).toMatchObject({ spaces: [], total: 0 });
    expect(spaceRequests()[0]!.query.name).toBe('a"b%20c');
  });

  it('a space carries its type, owner and assignable roles; 404 for a space that is not there', async () => {
    const page = await client.listSpaces({ name: 'EMEA Sales' });
    const emea = await client.getSpace(page.spaces[0]!.id);
    expect(emea).toMatchObject({ name: 'EMEA Sales', type: 'managed' });
    expect(emea.meta.assignableRoles).toEqual(
      expect.arrayContaining(['consumer', 'contributor', 'publisher', 'facilitator']),
    );
    expect(emea.meta.assignableRoles).not.toContain('producer');
    const missing = await qlikError(client.getSpace('000000000000000000000bad'));
    expect(missing).toMatchObject({ kind: 'not-found', status: 404 });
  });
});

describe('assignments', () => {
  const bigSpace = () => sim.tenant.spaceByName('Big Membership')!;

  it('pages every assignment, filters by assignee and type, and counts with meta.count', async () => {
    const all = await collect(client.listSpaceAssignments(bigSpace().id));
    expect(all.map((a) => a.assigneeId).sort()).toEqual([...pagedIds].sort());
    const page = await client.spaceAssignmentsPage(bigSpace().id, { type: 'user', limit: 10 });
    expect(page).toMatchObject({ total: 130 });
    expect(page.assignments).toHaveLength(10);
    expect((await client.spaceAssignmentsPage(bigSpace().id, { type: 'group' })).total).toBe(0);
    const one = await client.findSpaceAssignment(bigSpace().id, pagedIds[7]!);
    expect(one).toMatchObject({ assigneeId: pagedIds[7], roles: ['consumer'], type: 'user' });
    expect(await client.findSpaceAssignment(bigSpace().id, ownerId)).toBeUndefined();
  });

  it('creates, replaces the complete list, and deletes, each as a Tier 2 write', async () => {
    const space = sim.tenant.spaceByName('APAC Sales')!;
    const [eve] = await client.findUsersByEmail('eve@corp.example');
    sim.resetLog();
    const created = await client.createSpaceAssignment(space.id, {
      type: 'user',
      assigneeId: eve!.id,
      roles: ['consumer', 'consumer'],
    });
    expect(created).toMatchObject({ assigneeId: eve!.id, roles: ['consumer'] });
    const updated = await client.updateSpaceAssignment(space.id, created.id, ['consumer', 'publisher']);
    expect(updated.roles).toEqual(['consumer', 'publisher']);
    expect(sim.tenant.spaceRolesOf(space.id, eve!.id)).toEqual(['consumer', 'publisher']);
    await client.deleteSpaceAssignment(space.id, created.id);
    expect(sim.tenant.spaceAssignment(space.id, eve!.id)).toBeUndefined();
    expect(spaceRequests().map((r) => `${r.method} ${r.status} ${r.tier}`)).toEqual([
      'POST 201 2',
      'PUT 200 2',
      'DELETE 204 2',
    ]);
    expect(sim.requests.at(1)!.body).toEqual({ roles: ['consumer', 'publisher'] });
  });

  it('a second assignment for the same assignee is a conflict (409) in the spaces error shape', async () => {
    const space = sim.tenant.spaceByName('Finance Reports')!;
    const ingrid = sim.tenant.usersByEmail('ingrid@corp.example')[0]!;
    const err = await qlikError(
      client.createSpaceAssignment(space.id, { type: 'user', assigneeId: ingrid.id, roles: ['consumer'] }),
    );
    expect(err).toMatchObject({ kind: 'conflict', status: 409, retryable: false, method: 'POST' });
    expect(err.userMessage()).toContain('409 Conflict');
  });

  it('a role the space does not offer is a bad request carrying what Qlik said', async () => {
    const space = sim.tenant.spaceByName('APAC Sales')!;
    const [eve] = await client.findUsersByEmail('eve@corp.example');
    const err = await qlikError(
      client.createSpaceAssignment(space.id, { type: 'user', assigneeId: eve!.id, roles: ['producer'] }),
    );
    expect(err.kind).toBe('bad-request');
    expect(err.userMessage()).toMatch(/producer/);
  });

  it('refuses an empty role list before sending anything', async () => {
    sim.resetLog();
    await expect(client.updateSpaceAssignment('s', 'a', [])).rejects.toBeInstanceOf(TypeError);
    expect(sim.requests).toHaveLength(0);
  });

  it('never retries a write that got a 5xx (it may have been applied); a 429 blocks the write tier only', async () => {
    const space = sim.tenant.spaceByName('APAC Sales')!;
    const [eve] = await client.findUsersByEmail('eve@corp.example');
    sim.resetLog();
    sim.injectFault({ method: 'POST', status: 503 });
    expect(
      (
        await qlikError(
          client.createSpaceAssignment(space.id, { type: 'user', assigneeId: eve!.id, roles: ['consumer'] }),
        )
      ).kind,
    ).toBe('server');
    expect(spaceRequests()).toHaveLength(1);
    const once = new QlikClient({ tenantUrl: sim.url, apiKey: sim.apiKey, maxRetries: 0 });
    try {
      sim.injectFault({ method: 'PUT', status: 429, retryAfterSec: 30 });
      const err = await qlikError(once.updateSpaceAssignment(space.id, 'whatever', ['consumer']));
      expect(err.kind).toBe('rate-limited');
      expect(once.limiter.blockedFor('write')).toBeGreaterThan(20_000);
      expect(once.limiter.blockedFor('read')).toBe(0);
    } finally {
      await once.close();
    }
  });
});

describe('users and groups by id', () => {
  it('looks up 130 users in three requests and leaves out ids Qlik does not have', async () => {
    sim.resetLog();
    const users = await client.usersByIds([...pagedIds, 'ffffffffffffffffffffffff', pagedIds[0]!]);
    expect(users.map((u) => u.id).sort()).toEqual([...pagedIds].sort());
    expect(users[0]).toMatchObject({ name: expect.stringMatching(/^Member/), email: expect.any(String) });
    expect(sim.requests.filter((r) => r.path === '/api/v1/users')).toHaveLength(3);
    expect(await client.usersByIds([])).toEqual([]);
  });

  it('finds groups by id and a group’s members', async () => {
    const finance = sim.tenant.groupByName('Finance')!;
    expect((await client.groupsByIds([finance.id])).map((g) => g.name)).toEqual(['Finance']);
    const members = await collect(client.usersInGroup(finance.id));
    expect(members.length).toBe(sim.tenant.userIdsInGroup(finance.id).size);
    expect(members.length).toBeGreaterThan(0);
  });
});
