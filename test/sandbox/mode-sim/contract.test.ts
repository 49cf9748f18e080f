// Contract tests of the Mode simulator's HTTP routes: every body has the fields the Mode reference documents (and
// not the ones it says are absent), status codes and {id, message} errors, the paging quirks, soft delete and auth.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demoModeWorkspace,
  type ModeSimulator,
  startModeSimulator,
} from '../../../src/sandbox/mode-sim/index.ts';
import {
  Collection,
  CollectionList,
  call,
  ErrorBody,
  Group,
  GroupList,
  GroupMembership,
  GroupMembershipList,
  Membership,
  MembershipList,
  Permission,
  PermissionList,
  User,
} from './http.ts';

let sim: ModeSimulator;
const ws = () => sim.workspace;

beforeAll(async () => {
  sim = await startModeSimulator({ workspace: demoModeWorkspace() });
});
afterAll(async () => {
  await sim.close();
});

const groupToken = (name: string) => ws().groupByName(name)!.token;
const memberToken = (email: string) => ws().memberByEmail(email)!.memberToken;

describe('base and auth', () => {
  it('answers under a base URL ending in /api, with HAL JSON', async () => {
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    const r = await call(sim, 'GET', '/verify');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/hal\+json/);
    expect(r.body).toMatchObject({ workspace: 'acme', api_key_scope: 'workspace' });
  });

  it.each([
    ['no header', null],
    ['a wrong secret', () => `Basic ${Buffer.from(`${sim.token}:nope`).toString('base64')}`],
    ['a wrong token', () => `Basic ${Buffer.from(`aaaaaaaaaaaa:${sim.secret}`).toString('base64')}`],
    ['a bearer token', () => `Bearer ${sim.token}`],
  ] as const)('refuses %s with 401 {id: unauthorized}', async (_name, auth) => {
    const r = await call(sim, 'GET', '/acme/memberships', {
      auth: typeof auth === 'function' ? auth() : auth,
    });
    expect(r.status).toBe(401);
    expect(ErrorBody.parse(r.body).id).toBe('unauthorized');
    // The error never echoes the credentials it refused.
    expect(JSON.stringify(r.body)).not.toContain(sim.secret);
  });

  it('answers another workspace slug and unknown routes with 404 {id: not_found}', async () => {
    for (const path of ['/other/memberships', '/acme/nothing', '/acme/groups/x/y/z']) {
      const r = await call(sim, 'GET', path);
      expect(r.status, path).toBe(404);
      expect(ErrorBody.parse(r.body).id).toBe('not_found');
    }
    expect((await call(sim, 'POST', '/acme/memberships', { body: {} })).status).toBe(404);
  });

  it('answers a body that is not JSON with 400 {id: bad_request}', async () => {
    const res = await fetch(`${sim.url}/acme/groups/${groupToken('Analysts')}/memberships`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${sim.token}:${sim.secret}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: '{"membership":',
    });
    expect(res.status).toBe(400);
    expect(ErrorBody.parse(await res.json()).id).toBe('bad_request');
  });
});

describe('workspace memberships and users', () => {
  it('lists every member in one unpaged answer with the documented fields, no email and no token', async () => {
    const r = await call(sim, 'GET', '/acme/memberships?page=2&per_page=1');
    expect(r.status).toBe(200);
    const list = MembershipList.parse(r.body);
    expect(list._embedded.memberships).toHaveLength(ws().members().length);
    expect(ws().members().length).toBeGreaterThan(1);
    for (const m of list._embedded.memberships) {
      expect(m).not.toHaveProperty('email');
      expect(m).not.toHaveProperty('token');
    }
    const ingrid = list._embedded.memberships.find((m) => m.member_username === 'ingrid')!;
    expect(ingrid.managed_by_scim).toBe(true);
    const viktor = list._embedded.memberships.find((m) => m.member_username === 'viktor')!;
    expect(viktor.state).toBe('deactivated');
    const wen = list._embedded.memberships.find((m) => m.member_username === 'wen')!;
    expect(wen).toMatchObject({ invited: true, activated_at: null });
    expect(list._embedded.memberships.find((m) => m.member_username === 'alice')!.admin).toBe(true);
  });

  it('gets one membership by the last segment of its self link (404 for an unknown one)', async () => {
    const list = MembershipList.parse((await call(sim, 'GET', '/acme/memberships')).body);
    const bob = list._embedded.memberships.find((m) => m.member_username === 'bob')!;
    const membershipToken = bob._links.self.href.split('/').at(-1)!;
    expect(membershipToken).not.toBe(bob.member_token);
    const one = await call(sim, 'GET', `/acme/memberships/${membershipToken}`);
    expect(one.status).toBe(200);
    expect(Membership.parse(one.body)).toEqual(bob);
    const none = await call(sim, 'GET', `/acme/memberships/${bob.member_token}`);
    expect(none.status).toBe(404);
    expect(ErrorBody.parse(none.body).id).toBe('not_found');
  });

  it('follows _links.user to a user carrying an optional email', async () => {
    const list = MembershipList.parse((await call(sim, 'GET', '/acme/memberships')).body);
    const byName = (n: string) => list._embedded.memberships.find((m) => m.member_username === n)!;
    // Hrefs are paths from the host ("/api/…"): resolve them against the origin, not against the /api base.
    const origin = new URL(sim.url).origin;
    const res = await fetch(`${origin}${byName('mixedcase')._links.user.href}`, {
      headers: { authorization: `Basic ${Buffer.from(`${sim.token}:${sim.secret}`).toString('base64')}` },
    });
    const user = User.parse(await res.json());
    expect(user).toMatchObject({ username: 'mixedcase', email: 'Mixed.Case@Corp.Example' });
    expect(user.token).toBe(byName('mixedcase').member_token);
    const liam = User.parse((await call(sim, 'GET', '/liam')).body);
    expect(liam).not.toHaveProperty('email');
    const missing = await call(sim, 'GET', '/nobody');
    expect(missing.status).toBe(404);
    expect(ErrorBody.parse(missing.body).id).toBe('not_found');
  });
});

describe('groups', () => {
  it('pages with page/per_page, clamps per_page to 30 silently, and shows next_page one past the end', async () => {
    const total = ws().groups().length;
    const p1 = GroupList.parse((await call(sim, 'GET', '/acme/groups?per_page=2')).body);
    expect(p1._embedded.groups).toHaveLength(2);
    expect(p1.pagination).toEqual({
      first_page: 1,
      last_page: Math.ceil(total / 2),
      total_pages: Math.ceil(total / 2),
      total_count: total,
    });
    expect(p1._links.prev_page).toBeUndefined();
    // Follow next_page until an empty page: every group once, then an empty page past the end.
    const seen: string[] = [];
    let href: string | undefined = '/api/acme/groups?per_page=2';
    let pages = 0;
    while (href) {
      const page = GroupList.parse((await call(sim, 'GET', href.replace(/^\/api/, ''))).body);
      pages += 1;
      if (page._embedded.groups.length === 0) {
        expect(page._links.next_page).toBeUndefined();
        break;
      }
      seen.push(...page._embedded.groups.map((g) => g.token));
      href = page._links.next_page?.href;
      expect(href, 'the last full page still links a next page').toBeDefined();
    }
    expect(pages).toBe(Math.ceil(total / 2) + 1);
    expect(new Set(seen).size).toBe(total);
    const big = GroupList.parse((await call(sim, 'GET', '/acme/groups?per_page=500')).body);
    expect(big._embedded.groups).toHaveLength(total);
  });

  it('clamps per_page to perPageMax over a big list (40 groups → 30 a page)', async () => {
    const many = demoModeWorkspace();
    for (let i = 0; i < 35; i += 1) many.addGroup({ name: `Extra ${i}` });
    const s = await startModeSimulator({ workspace: many });
    try {
      const r = GroupList.parse((await call(s, 'GET', '/acme/groups?per_page=100')).body);
      expect(r._embedded.groups).toHaveLength(30);
      expect(r.pagination.total_count).toBe(40);
      expect(r.pagination.total_pages).toBe(2);
      const p2 = GroupList.parse((await call(s, 'GET', '/acme/groups?per_page=100&page=2')).body);
      expect(p2._embedded.groups).toHaveLength(10);
    } finally {
      await s.close();
    }
  });

  it('gets a group with counts and managed as strings; a managed (IdP) group says "true"', async () => {
    const okta = Group.parse((await call(sim, 'GET', `/acme/groups/${groupToken('Okta Engineers')}`)).body);
    expect(okta).toMatchObject({
      name: 'Okta Engineers',
      managed: 'true',
      state: 'active',
      member_count: '2',
    });
    const finance = Group.parse((await call(sim, 'GET', `/acme/groups/${groupToken('Finance')}`)).body);
    expect(finance).toMatchObject({ managed: 'false', spaces_count: '1', data_sources_count: '0' });
    expect(finance.member_count).toBe(String(ws().groupMemberTokens(groupToken('Finance')).length));
    const none = await call(sim, 'GET', '/acme/groups/000000000000');
    expect(none.status).toBe(404);
    expect(ErrorBody.parse(none.body).id).toBe('not_found');
  });

  it('keeps answering a soft-deleted group with 200 and state soft_deleted, in the list too', async () => {
    const token = groupToken('Legacy Reporting');
    const one = await call(sim, 'GET', `/acme/groups/${token}`);
    expect(one.status).toBe(200);
    expect(Group.parse(one.body).state).toBe('soft_deleted');
    const list = GroupList.parse((await call(sim, 'GET', '/acme/groups')).body);
    expect(list._embedded.groups.find((g) => g.token === token)?.state).toBe('soft_deleted');
    const add = await call(sim, 'POST', `/acme/groups/${token}/memberships`, {
      body: { membership: { member_token: memberToken('eve@corp.example') } },
    });
    expect(add.status).toBe(400);
    expect(ErrorBody.parse(add.body).id).toBe('bad_request');
  });

  it('filters by ?member=<username> (undocumented, observed)', async () => {
    const r = GroupList.parse((await call(sim, 'GET', '/acme/groups?member=hiro')).body);
    expect(r._embedded.groups.map((g) => g.name).sort()).toEqual(['Analysts', 'Sales Ops']);
    const none = GroupList.parse((await call(sim, 'GET', '/acme/groups?member=nobody')).body);
    expect(none._embedded.groups).toEqual([]);
  });
});

describe('group memberships', () => {
  it('lists {token, member_token} rows; page and per_page are ignored, so the same rows repeat', async () => {
    const g = groupToken('Sales Ops');
    const p1 = GroupMembershipList.parse(
      (await call(sim, 'GET', `/acme/groups/${g}/memberships?per_page=1`)).body,
    );
    const rows = p1._embedded.group_memberships;
    expect(rows.map((r) => r.member_token).sort()).toEqual(ws().groupMemberTokens(g).sort());
    expect(rows.length).toBeGreaterThan(1);
    expect(p1._links.next_page?.href).toContain('page=2');
    const p2 = GroupMembershipList.parse(
      (await call(sim, 'GET', p1._links.next_page!.href.replace(/^\/api/, ''))).body,
    );
    expect(p2._embedded.group_memberships).toEqual(rows);
    expect(p2._links.next_page?.href).toContain('page=3');
    // Filters are ignored silently too.
    const filtered = GroupMembershipList.parse(
      (await call(sim, 'GET', `/acme/groups/${g}/memberships?filter=by_user_id&user_id=1`)).body,
    );
    expect(filtered._embedded.group_memberships).toEqual(rows);
  });

  it('adds with {membership:{member_token}} → 200 and the row; a second add makes a second row', async () => {
    const g = groupToken('Analysts');
    const eve = memberToken('eve@corp.example');
    const first = await call(sim, 'POST', `/acme/groups/${g}/memberships`, {
      body: { membership: { member_token: eve } },
    });
    expect(first.status).toBe(200);
    const row = GroupMembership.parse(first.body);
    expect(row.member_token).toBe(eve);
    expect(row._links.user_group.href).toBe(`/api/acme/groups/${g}`);
    expect(row._links.self.href).toBe(`/api/acme/groups/${g}/memberships/${row.token}`);
    const again = GroupMembership.parse(
      (
        await call(sim, 'POST', `/acme/groups/${g}/memberships`, {
          body: { membership: { member_token: eve } },
        })
      ).body,
    );
    expect(again.token).not.toBe(row.token);
    const list = GroupMembershipList.parse((await call(sim, 'GET', `/acme/groups/${g}/memberships`)).body);
    expect(list._embedded.group_memberships.filter((r) => r.member_token === eve)).toHaveLength(2);
    // The group counts people, not rows.
    expect(
      ws()
        .groupMemberTokens(g)
        .filter((t) => t === eve),
    ).toHaveLength(1);
    expect(Group.parse((await call(sim, 'GET', `/acme/groups/${g}`)).body).member_count).toBe(
      String(ws().groupMemberTokens(g).length),
    );
    // Delete both rows by their tokens; then an unknown one is 404 with Mode's message.
    for (const t of [row.token, again.token]) {
      const del = await call(sim, 'DELETE', `/acme/groups/${g}/memberships/${t}`);
      expect(del.status).toBe(200);
      expect(GroupMembership.parse(del.body).token).toBe(t);
    }
    expect(ws().groupMemberTokens(g)).not.toContain(eve);
    const gone = await call(sim, 'DELETE', `/acme/groups/${g}/memberships/${row.token}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ id: 'not_found', message: 'Membership not found for Workspace' });
  });

  it('refuses a create without member_token or with an unknown one as 400', async () => {
    const g = groupToken('Analysts');
    for (const body of [{}, { membership: {} }, { membership: { member_token: '000000000000' } }]) {
      const r = await call(sim, 'POST', `/acme/groups/${g}/memberships`, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(ErrorBody.parse(r.body).id).toBe('bad_request');
    }
    const unknownGroup = await call(sim, 'POST', '/acme/groups/000000000000/memberships', {
      body: { membership: { member_token: memberToken('eve@corp.example') } },
    });
    expect(unknownGroup.status).toBe(404);
  });

  it('accepts a SCIM-managed member in a managed group: Mode documents no server-side refusal', async () => {
    const g = groupToken('Okta Engineers');
    const r = await call(sim, 'POST', `/acme/groups/${g}/memberships`, {
      body: { membership: { member_token: memberToken('bob@corp.example') } },
    });
    expect(r.status).toBe(200);
    ws().removeFromGroup(g, GroupMembership.parse(r.body).token);
  });
});

describe('collections and permissions', () => {
  it('lists only the open collections unless ?filter=all', async () => {
    const mine = CollectionList.parse((await call(sim, 'GET', '/acme/spaces')).body);
    expect(mine._embedded.spaces.map((c) => c.name)).toEqual(['Marketing']);
    const all = CollectionList.parse((await call(sim, 'GET', '/acme/spaces?filter=all')).body);
    expect(all._embedded.spaces.map((c) => c.name).sort()).toEqual(['Marketing', 'Revenue']);
    const revenue = all._embedded.spaces.find((c) => c.name === 'Revenue')!;
    expect(revenue).toMatchObject({ restricted: true, default_access_level: 'restricted' });
    const one = await call(sim, 'GET', `/acme/spaces/${revenue.token}`);
    expect(Collection.parse(one.body)).toEqual(revenue);
    expect((await call(sim, 'GET', '/acme/spaces/000000000000')).status).toBe(404);
  });

  it('creates, reads, patches (action only) and deletes a permission, each 200', async () => {
    const c = ws().collectionByName('Revenue')!.token;
    const dan = memberToken('dan@corp.example');
    const created = await call(sim, 'POST', `/acme/spaces/${c}/permissions`, {
      body: { permission: { action: 'view', accessor_type: 'Account', accessor_token: dan } },
    });
    expect(created.status).toBe(200);
    const p = Permission.parse(created.body);
    expect(p).toMatchObject({ action: 'view', accessor_type: 'Account', accessor_token: dan });
    expect(p._links.accessor.href).toBe('/api/dan');

    const list = PermissionList.parse((await call(sim, 'GET', `/acme/spaces/${c}/permissions`)).body);
    expect(list._embedded.permissions.map((x) => x.token)).toContain(p.token);
    expect(list._embedded.permissions.find((x) => x.accessor_type === 'UserGroup')?.accessor_token).toBe(
      groupToken('Finance'),
    );

    // A second permission for the same accessor is refused: read the list and PATCH instead.
    const dup = await call(sim, 'POST', `/acme/spaces/${c}/permissions`, {
      body: { permission: { action: 'edit', accessor_type: 'Account', accessor_token: dan } },
    });
    expect(dup.status).toBe(400);

    // PATCH changes only the action; accessor fields in the body are ignored.
    const patched = await call(sim, 'PATCH', `/acme/spaces/${c}/permissions/${p.token}`, {
      body: { permission: { action: 'edit', accessor_token: memberToken('eve@corp.example') } },
    });
    expect(patched.status).toBe(200);
    expect(Permission.parse(patched.body)).toMatchObject({
      token: p.token,
      action: 'edit',
      accessor_token: dan,
    });
    expect(
      Permission.parse((await call(sim, 'GET', `/acme/spaces/${c}/permissions/${p.token}`)).body).action,
    ).toBe('edit');
    const badAction = await call(sim, 'PATCH', `/acme/spaces/${c}/permissions/${p.token}`, {
      body: { permission: { action: 'manage' } },
    });
    expect(badAction.status).toBe(400);

    const del = await call(sim, 'DELETE', `/acme/spaces/${c}/permissions/${p.token}`);
    expect(del.status).toBe(200);
    expect(Permission.parse(del.body).token).toBe(p.token);
    const after = await call(sim, 'GET', `/acme/spaces/${c}/permissions/${p.token}`);
    expect(after.status).toBe(404);
    expect(ErrorBody.parse(after.body).id).toBe('not_found');
  });

  it('refuses bad permission bodies with 400', async () => {
    const c = ws().collectionByName('Marketing')!.token;
    const bodies = [
      {},
      {
        permission: {
          action: 'view',
          accessor_type: 'Robot',
          accessor_token: memberToken('eve@corp.example'),
        },
      },
      {
        permission: {
          action: 'own',
          accessor_type: 'Account',
          accessor_token: memberToken('eve@corp.example'),
        },
      },
      { permission: { action: 'view', accessor_type: 'UserGroup', accessor_token: '000000000000' } },
      {
        permission: {
          action: 'view',
          accessor_type: 'UserGroup',
          accessor_token: groupToken('Legacy Reporting'),
        },
      },
    ];
    for (const body of bodies) {
      const r = await call(sim, 'POST', `/acme/spaces/${c}/permissions`, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(ErrorBody.parse(r.body).id).toBe('bad_request');
    }
  });

  it('changes the default access level with PATCH /spaces/{s}', async () => {
    const w = demoModeWorkspace();
    const s = await startModeSimulator({ workspace: w });
    try {
      const c = w.collectionByName('Revenue')!.token;
      const r = await call(s, 'PATCH', `/acme/spaces/${c}`, {
        body: { space: { default_access_level: 'view' } },
      });
      expect(Collection.parse(r.body)).toMatchObject({ default_access_level: 'view', restricted: false });
      const listed = CollectionList.parse((await call(s, 'GET', '/acme/spaces')).body);
      expect(listed._embedded.spaces.map((x) => x.name)).toContain('Revenue');
      const bad = await call(s, 'PATCH', `/acme/spaces/${c}`, {
        body: { space: { default_access_level: 'all' } },
      });
      expect(bad.status).toBe(400);
    } finally {
      await s.close();
    }
  });

  it('answers a just-deleted collection with 403 {id: forbidden}, as observed, and leaves it out of lists', async () => {
    const w = demoModeWorkspace();
    const s = await startModeSimulator({ workspace: w });
    try {
      const c = w.collectionByName('Marketing')!.token;
      w.deleteCollection(c);
      for (const path of [`/acme/spaces/${c}`, `/acme/spaces/${c}/permissions`]) {
        const r = await call(s, 'GET', path);
        expect(r.status, path).toBe(403);
        expect(ErrorBody.parse(r.body).id).toBe('forbidden');
      }
      const all = CollectionList.parse((await call(s, 'GET', '/acme/spaces?filter=all')).body);
      expect(all._embedded.spaces.map((x) => x.name)).toEqual(['Revenue']);
    } finally {
      await s.close();
    }
  });
});
