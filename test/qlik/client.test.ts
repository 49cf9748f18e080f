// QlikClient against the Qlik tenant simulator over real HTTP: lookups (including emails with ' and "), paging
// over several pages, counts, role lookup with refresh and suggestions, replacing roles, 429/5xx/network/timeout
// handling, typed 400/404/207 errors, the credential check, and the API key never showing in an error.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, QlikClient, QlikError } from '../../src/qlik/index.ts';
import { demoTenant, type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';

let sim: QlikSimulator;
let client: QlikClient;

beforeAll(async () => {
  const tenant = demoTenant();
  tenant.addRole({ name: 'Paging Role', type: 'custom', level: 'user' });
  tenant.addGroup({ name: 'Paging Group', providerType: 'custom', roles: ['Paging Role'] });
  for (let i = 0; i < 250; i++) {
    tenant.addUser({
      name: `Pager ${String(i).padStart(3, '0')}`,
      email: `pager${i}@corp.example`,
      roles: ['Paging Role'],
      ...(i < 120 ? { groups: ['Paging Group'] } : {}),
    });
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
  sim.setLatency(0);
});

/** Runs `p`, expects a QlikError, and checks that the API key is nowhere in it. */
async function qlikError(p: Promise<unknown>): Promise<QlikError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(QlikError);
    const err = e as QlikError;
    for (const text of [err.message, err.userMessage(), JSON.stringify(err), String(err.stack)]) {
      expect(text).not.toContain(sim.apiKey);
    }
    return err;
  }
  throw new Error('expected a QlikError');
}

const userRequests = () => sim.requests.filter((r) => r.path === '/api/v1/users');

describe('lookups', () => {
  it('finds o\'brien@corp.example and a"b@corp.example exactly', async () => {
    const obrien = await client.findUsersByEmail("o'brien@corp.example");
    expect(obrien.map((u) => u.name)).toEqual(["Conor O'Brien"]);
    const quote = await client.findUsersByEmail('a"b@corp.example');
    expect(quote.map((u) => u.name)).toEqual(['Quote "Q" Tester']);
    expect(quote[0]!.assignedRoles.map((r) => r.name)).toEqual(['DataSpaceCreator']);
  });

  it('matches email case-insensitively and returns every user sharing an address', async () => {
    expect((await client.findUsersByEmail('mixed.case@corp.example')).map((u) => u.name)).toEqual([
      'Mixed Case',
    ]);
    const shared = await client.findUsersByEmail('shared-mailbox@corp.example');
    expect(shared.map((u) => u.name).sort()).toEqual(['Shared Mailbox One', 'Shared Mailbox Two']);
    expect(await client.findUsersByEmail('nobody@corp.example')).toEqual([]);
  });

  it('finds groups by exact, case-sensitive name although the filter is not', async () => {
    const upper = await client.findGroupByName('Finance');
    const lower = await client.findGroupByName('finance');
    expect(upper?.name).toBe('Finance');
    expect(lower?.name).toBe('finance');
    expect(upper?.id).not.toBe(lower?.id);
    expect(await client.findGroupByName('FINANCE')).toBeUndefined();
    expect((await client.findGroupByName('Sales Ops'))?.assignedRoles.map((r) => r.name)).toEqual([
      'ManagedSpaceCreator',
    ]);
  });

  it('gets users and groups by id, mapping 404 to not-found', async () => {
    const [alice] = await client.findUsersByEmail('alice@corp.example');
    const u = await client.getUser(alice!.id);
    expect(u.email).toBe('alice@corp.example');
    expect(u.assignedGroups.map((g) => g.name)).toEqual(['Analytics Admins']);
    const e = await qlikError(client.getUser('000000000000000000000bad'));
    expect(e).toMatchObject({ kind: 'not-found', status: 404, code: 'USERS-7', retryable: false });
    expect(e.userMessage()).toContain('404 Not Found');
    const g = await qlikError(client.getGroup('nope'));
    expect(g.kind).toBe('not-found');
  });
});

describe('who has a role', () => {
  it('pages through three pages by following links.next.href, lean fields, 100 per page', async () => {
    sim.resetLog();
    const users = await collect(client.usersWithRole('Paging Role'));
    expect(users).toHaveLength(250);
    expect(new Set(users.map((u) => u.id)).size).toBe(250);
    const reqs = userRequests();
    expect(reqs).toHaveLength(3);
    expect(reqs.map((r) => r.query.limit)).toEqual(['100', '100', '100']);
    expect(reqs[0]!.query.next).toBeUndefined();
    expect(reqs[1]!.query.next).toBeDefined();
    expect(reqs[0]!.query.fields).toBe('id,name,email,status');
    expect(users[0]).toMatchObject({
      id: expect.any(String),
      name: expect.any(String),
      email: expect.any(String),
    });
    expect(users[0]).not.toHaveProperty('links');
  });

  it('counts holders with totalResults in one request', async () => {
    sim.resetLog();
    const { users, total } = await client.usersWithRolePage('Paging Role');
    expect(total).toBe(250);
    expect(users).toHaveLength(100);
    expect(userRequests()).toHaveLength(1);
    expect(userRequests()[0]!.query.totalResults).toBe('true');
    expect((await client.usersWithRolePage('Finance Auditor')).total).toBe(1);
  });

  it('lists holders through groups, and groups holding the role', async () => {
    const through = await collect(client.usersWithRoleThroughGroups('Paging Role'));
    expect(through).toHaveLength(120);
    expect((await client.usersWithRoleThroughGroupsPage('Paging Role')).total).toBe(120);
    const viaSales = await collect(client.usersWithRoleThroughGroups('ManagedSpaceCreator'));
    expect(viaSales.map((u) => u.name)).toContain('Kaja Kowalski');
    const groups = await collect(client.groupsWithRole('SharedSpaceCreator'));
    expect(groups.map((g) => g.name)).toEqual(['Finance']);
    expect(await client.groupsWithRolePage('Paging Role')).toMatchObject({ total: 1 });
  });
});

describe('roles', () => {
  it('serves roles from the cache, refreshes on a miss, and suggests close names', async () => {
    const c = new QlikClient({ tenantUrl: sim.url, apiKey: sim.apiKey });
    try {
      sim.resetLog();
      const roles = await c.listRoles();
      expect(roles.map((r) => r.name)).toContain('ManagedSpaceCreator');
      expect(roles.map((r) => r.name)).not.toContain('Developer');
      await c.listRoles();
      const hit = await c.findRole('managedspacecreator');
      expect(hit.role?.name).toBe('ManagedSpaceCreator');
      const roleGets = () => sim.requests.filter((r) => r.path === '/api/v1/roles').length;
      expect(roleGets()).toBe(1);

      sim.tenant.addRole({ name: 'Brand New Role', type: 'custom', level: 'user' });
      const fresh = await c.findRole('brand new role');
      expect(fresh.role?.name).toBe('Brand New Role');
      expect(roleGets()).toBe(2);

      const miss = await c.findRole('ManagedSpaceCreater');
      expect(miss.role).toBeUndefined();
      expect(miss.suggestions[0]).toBe('ManagedSpaceCreator');
      expect(miss.suggestions.length).toBeLessThanOrEqual(3);
      expect(roleGets()).toBe(3);
    } finally {
      await c.close();
    }
  });

  it('refetches once the TTL has passed, and concurrent callers share one fetch', async () => {
    let now = 0;
    const c = new QlikClient({
      tenantUrl: sim.url,
      apiKey: sim.apiKey,
      roleCacheTtlMs: 1_000,
      now: () => now,
    });
    try {
      sim.resetLog();
      const roleGets = () => sim.requests.filter((r) => r.path === '/api/v1/roles').length;
      await Promise.all([c.listRoles(), c.listRoles(), c.findRole('TenantAdmin')]);
      expect(roleGets()).toBe(1);
      now = 999;
      await c.listRoles();
      expect(roleGets()).toBe(1);
      now = 1_000;
      await c.listRoles();
      expect(roleGets()).toBe(2);
      await c.listRoles({ refresh: true });
      expect(roleGets()).toBe(3);
    } finally {
      await c.close();
    }
  });
});

describe('replacing roles', () => {
  it('replaces a user’s direct roles with a PATCH replace of ids (204)', async () => {
    const [hiro] = await client.findUsersByEmail('hiro@corp.example');
    const roles = await client.listRoles();
    const id = (n: string) => roles.find((r) => r.name === n)!.id;
    sim.resetLog();
    await client.replaceUserRoles(hiro!.id, [id('ManagedSpaceCreator'), id('Steward')]);
    const patch = sim.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.status).toBe(204);
    expect(patch.body).toEqual([
      {
        op: 'replace',
        path: '/assignedRoles',
        value: [{ id: id('ManagedSpaceCreator') }, { id: id('Steward') }],
      },
    ]);
    expect(sim.tenant.userRoleNames(hiro!.id).sort()).toEqual(['ManagedSpaceCreator', 'Steward']);
    expect((await client.getUser(hiro!.id)).assignedRoles.map((r) => r.name).sort()).toEqual([
      'ManagedSpaceCreator',
      'Steward',
    ]);
  });

  it('replaces a group’s roles', async () => {
    const group = await client.findGroupByName('Contractors');
    const role = (await client.findRole('SharedSpaceCreator')).role!;
    await client.replaceGroupRoles(group!.id, [role.id]);
    expect(sim.tenant.groupRoleNames(group!.id)).toEqual(['SharedSpaceCreator']);
    await client.replaceGroupRoles(group!.id, []);
    expect(sim.tenant.groupRoleNames(group!.id)).toEqual([]);
  });

  it('maps 400 (unknown role id) to bad-request without retrying', async () => {
    const [bob] = await client.findUsersByEmail('bob@corp.example');
    sim.resetLog();
    const e = await qlikError(client.replaceUserRoles(bob!.id, ['ffffffffffffffffffffffff']));
    expect(e).toMatchObject({ kind: 'bad-request', status: 400, retryable: false });
    expect(e.detail).toContain('does not exist');
    expect(sim.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect(sim.tenant.userRoleNames(bob!.id).sort()).toEqual(['AnalyticsAdmin', 'SharedSpaceCreator']);
  });

  it('treats 207 as a partial failure carrying Qlik’s errors', async () => {
    const [bob] = await client.findUsersByEmail('bob@corp.example');
    sim.injectFault({ method: 'PATCH', path: /^\/api\/v1\/users\//, status: 207 });
    const e = await qlikError(client.replaceUserRoles(bob!.id, []));
    expect(e).toMatchObject({ kind: 'partial', status: 207, retryable: false, code: 'HTTP-207' });
    expect(e.userMessage()).toContain('only in part');
  });

  it('does not retry a PATCH that failed with 5xx or a dropped connection: the worker decides', async () => {
    const [bob] = await client.findUsersByEmail('bob@corp.example');
    sim.resetLog();
    sim.injectFault({ method: 'PATCH', status: 503, times: 5 });
    const e = await qlikError(client.replaceUserRoles(bob!.id, []));
    expect(e).toMatchObject({ kind: 'server', status: 503, retryable: true });
    sim.clearFaults();
    sim.injectFault({ method: 'PATCH', closeConnection: true, status: 0, times: 5 });
    const n = await qlikError(client.replaceUserRoles(bob!.id, []));
    expect(n).toMatchObject({ kind: 'network', status: 0, retryable: true });
    expect(sim.requests.filter((r) => r.method === 'PATCH')).toHaveLength(2);
    expect(sim.tenant.userRoleNames(bob!.id).sort()).toEqual(['AnalyticsAdmin', 'SharedSpaceCreator']);
  });
});

describe('transient failures', () => {
  it('retries 5xx and dropped connections on GET', async () => {
    const [carol] = await client.findUsersByEmail('carol@corp.example');
    sim.resetLog();
    sim.injectFault({ method: 'GET', path: /^\/api\/v1\/users\/[^/]+$/, status: 500, times: 1 });
    sim.injectFault({
      method: 'GET',
      path: /^\/api\/v1\/users\/[^/]+$/,
      status: 0,
      closeConnection: true,
      times: 1,
    });
    sim.injectFault({ method: 'GET', path: /^\/api\/v1\/users\/[^/]+$/, status: 503, times: 1 });
    const u = await client.getUser(carol!.id);
    expect(u.name).toBe('Carol Chen');
    expect(sim.requests.map((r) => r.status)).toEqual([500, 0, 503, 200]);
  });

  it('gives up after maxRetries with the last error', async () => {
    const c = new QlikClient({ tenantUrl: sim.url, apiKey: sim.apiKey, maxRetries: 2, retryBaseDelayMs: 1 });
    try {
      sim.resetLog();
      sim.injectFault({ method: 'GET', path: /^\/api\/v1\/roles$/, status: 502, times: 10 });
      const e = await qlikError(c.listRoles());
      expect(e).toMatchObject({ kind: 'server', status: 502, retryable: true });
      expect(sim.requests).toHaveLength(3);
    } finally {
      await c.close();
    }
  });

  it('honours Retry-After on a 429 by blocking the whole tier, then succeeds', async () => {
    const blocked: Array<{ read: number; write: number }> = [];
    const c = new QlikClient({
      tenantUrl: sim.url,
      apiKey: sim.apiKey,
      onCall: (e) => {
        // The limiter blocks the tier right after reporting the 429; look once that has happened.
        if (e.status === 429) {
          setImmediate(() =>
            blocked.push({ read: c.limiter.blockedFor('read'), write: c.limiter.blockedFor('write') }),
          );
        }
      },
    });
    try {
      sim.resetLog();
      sim.injectFault({ method: 'GET', path: /^\/api\/v1\/users$/, status: 429, retryAfterSec: 1 });
      const users = await c.findUsersByEmail('dan@corp.example');
      expect(users.map((u) => u.name)).toEqual(['Dan Dubois']);
      const [limited, ok] = sim.requests;
      expect(limited!.status).toBe(429);
      expect(ok!.status).toBe(200);
      expect(ok!.at - limited!.at).toBeGreaterThanOrEqual(950);
      expect(blocked).toHaveLength(1);
      expect(blocked[0]!.read).toBeGreaterThan(500);
      expect(blocked[0]!.write).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('retries a PATCH that got 429 (Qlik did not apply it) after Retry-After', async () => {
    const [eve] = await client.findUsersByEmail('eve@corp.example');
    const steward = (await client.findRole('Steward')).role!;
    sim.resetLog();
    sim.injectFault({ method: 'PATCH', status: 429, retryAfterSec: 1 });
    await client.replaceUserRoles(eve!.id, [steward.id]);
    expect(sim.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['PATCH 429', 'PATCH 204']);
    expect(sim.tenant.userRoleNames(eve!.id)).toEqual(['Steward']);
  });

  it('throws a 429 whose Retry-After exceeds the retry budget at once, for the caller to reschedule', async () => {
    const c = new QlikClient({ tenantUrl: sim.url, apiKey: sim.apiKey, maxRetryElapsedMs: 2_000 });
    try {
      sim.injectFault({ method: 'GET', status: 429, retryAfterSec: 30 });
      const e = await qlikError(c.listRoles());
      expect(e).toMatchObject({ kind: 'rate-limited', retryable: true, retryAfterMs: 30_000 });
      expect(e.userMessage()).toContain('try again in 30 s');
      expect(c.limiter.blockedFor('read')).toBeGreaterThan(20_000);
    } finally {
      await c.close();
    }
  });

  it('stays under the simulator’s real rate limit when configured below it', async () => {
    const c = new QlikClient({ tenantUrl: sim.url, apiKey: sim.apiKey, readsPerMinute: 600 });
    try {
      sim.setRateLimits({ tier1PerMinute: 30, windowMs: 60_000 });
      sim.resetLog();
      // Burst capacity is 60 at 600/min, so 30 reads go out at once; the simulator would 429 the 31st.
      await Promise.all(Array.from({ length: 30 }, () => c.getGroup('000000000000000000000001')));
      expect(sim.counts().rateLimited).toBe(0);
    } finally {
      sim.setRateLimits(false);
      await c.close();
    }
  });

  it('times out a slow answer as a retryable timeout', async () => {
    const c = new QlikClient({
      tenantUrl: sim.url,
      apiKey: sim.apiKey,
      requestTimeoutMs: 100,
      maxRetries: 0,
    });
    try {
      sim.setLatency(400);
      const e = await qlikError(c.listRoles());
      expect(e).toMatchObject({ kind: 'timeout', status: 0, retryable: true });
    } finally {
      await c.close();
    }
  });
});

describe('the bot’s credential', () => {
  it('whoAmI follows /users/me and verifyCredential accepts a TenantAdmin', async () => {
    sim.resetLog();
    const me = await client.whoAmI();
    expect(me.email).toBe('qlik-access-bot@corp.example');
    expect(sim.requests.map((r) => r.status)).toEqual([301, 200]);
    const check = await client.verifyCredential();
    expect(check).toMatchObject({ ok: true, user: { id: me.id } });
  });

  it('explains a key whose user is not a TenantAdmin', async () => {
    const [dan] = await client.findUsersByEmail('dan@corp.example');
    sim.addApiKey('dan-key-123456', dan!.id);
    const c = new QlikClient({ tenantUrl: sim.url, apiKey: 'dan-key-123456' });
    try {
      const check = await c.verifyCredential();
      expect(check.ok).toBe(false);
      if (!check.ok) {
        expect(check.reason).toContain('not a TenantAdmin');
        expect(check.reason).toContain('dan@corp.example');
      }
      const e = await qlikError(c.listRoles());
      expect(e.kind).toBe('forbidden');
      expect(e.userMessage()).toContain('refused');
    } finally {
      await c.close();
    }
  });

  it('accepts a TenantAdmin through a group', async () => {
    const u = sim.tenant.addUser({ name: 'Group Admin', email: 'ga@corp.example' });
    const g = sim.tenant.addGroup({ name: 'Tenant Admins', providerType: 'custom', roles: ['TenantAdmin'] });
    sim.tenant.addUserToGroup(u.id, g.id);
    sim.addApiKey('group-admin-key', u.id);
    const c = new QlikClient({ tenantUrl: sim.url, apiKey: 'group-admin-key' });
    try {
      expect((await c.verifyCredential()).ok).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('a wrong key gives 401 and never shows up in the error or the reason', async () => {
    const badKey = `qsim_wrong_${'x'.repeat(20)}`;
    const c = new QlikClient({ tenantUrl: sim.url, apiKey: badKey });
    try {
      const e = await qlikError(c.getUser('whatever'));
      expect(e).toMatchObject({ kind: 'unauthorized', status: 401, retryable: false });
      for (const text of [e.message, e.userMessage(), JSON.stringify(e), String(e.stack)]) {
        expect(text).not.toContain(badKey);
      }
      const check = await c.verifyCredential();
      expect(check).toMatchObject({ ok: false });
      expect(JSON.stringify(check)).not.toContain(badKey);
      expect(JSON.stringify(c)).not.toContain(badKey);
      if (!check.ok) expect(check.reason).toContain('401');
    } finally {
      await c.close();
    }
  });
});

describe('every holder from both ends of the name order', () => {
  /** A tenant where `n` users hold the role; `sameName` of them share one name, so the two orders tie. */
  async function holders(n: number, sameName = 0) {
    const tenant = demoTenant();
    tenant.addRole({ name: 'Many Role', type: 'custom', level: 'user' });
    const ids = new Set<string>();
    for (let i = 0; i < n; i++) {
      const u = tenant.addUser({
        name: i < sameName ? 'Same Name' : `Holder ${String(i).padStart(5, '0')}`,
        email: `holder${i}@corp.example`,
        roles: ['Many Role'],
      });
      ids.add(u.id);
    }
    const s = await startQlikSimulator({ tenant });
    const c = new QlikClient({ tenantUrl: s.url, apiKey: s.apiKey });
    return { s, c, ids };
  }

  it.each([
    [0, 0],
    [1, 0],
    [100, 0],
    [101, 0],
    [250, 0],
    [1234, 0],
    [450, 300],
  ])('%i holders (%i sharing a name): each once, in ⌈n/100⌉ requests or one more', async (n, sameName) => {
    const { s, c, ids } = await holders(n, sameName);
    try {
      const users = await collect(c.usersWithRoleAll('Many Role'));
      expect(users.map((u) => u.id).sort()).toEqual([...ids].sort());
      const reqs = s.requests.filter((r) => r.path === '/api/v1/users');
      const minimum = Math.max(1, Math.ceil(n / 100));
      expect(reqs.length).toBeGreaterThanOrEqual(minimum);
      expect(reqs.length).toBeLessThanOrEqual(minimum + 1);
      if (n > 200) expect(reqs.some((r) => r.query.sort === '-name')).toBe(true);
    } finally {
      await c.close();
      await s.close();
    }
  });

  it('carries on from the page usersWithRolePage already read, without reading it again', async () => {
    const { s, c, ids } = await holders(420);
    try {
      const first = await c.usersWithRolePage('Many Role');
      expect(first.total).toBe(420);
      s.resetLog();
      const users = await collect(c.usersWithRoleAll('Many Role', first));
      expect(new Set(users.map((u) => u.id))).toEqual(ids);
      expect(users).toHaveLength(420);
      // 420 holders are 5 pages; the first was already read.
      const reqs = s.requests.filter((r) => r.path === '/api/v1/users');
      expect(reqs.length).toBeGreaterThanOrEqual(4);
      expect(reqs.length).toBeLessThanOrEqual(5);
    } finally {
      await c.close();
      await s.close();
    }
  });
});
