// The simulator's invite route (POST /api/v1/users/actions/invite) against users.json: request and 207/400/403
// (and platform error) bodies contract-checked, each per-invitee outcome and its effect on the tenant, and the
// official @qlik/api client's inviteUsers against it.

import { createQlikApi } from '@qlik/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  demoTenant,
  INVITE_VALIDITY_DAYS,
  type QlikSimulator,
  SimTenant,
  startQlikSimulator,
} from '../../../src/sandbox/qlik-sim/index.ts';
import { call, checkContract, checkedExchanges } from './contract.ts';

const INVITE = '/api/v1/users/actions/invite';
const json = 'application/json; charset=utf-8';
const WEEK_SEC = INVITE_VALIDITY_DAYS * 86_400;

type Item = {
  email: string;
  status: 'ok' | 'exists' | 'error';
  userId?: string;
  subject?: string;
  code?: string;
  title?: string;
  detail?: string;
};
type UserJson = { id: string; name: string; email?: string; status: string; inviteExpiry?: number };

describe('the contract checker on invite bodies', () => {
  const ok = {
    email: 'a@b.example',
    status: 'ok',
    subject: '3d04c155-d2e6-4f09-95e5-335e3468205c',
    userId: 'abc',
  };
  const err = { email: 'a@b.example', status: 'error', code: '1001', title: 'Active User', detail: 'x' };

  it('accepts ResultItem and InviteErrorItem, and refuses what the spec does not allow', () => {
    const check = (body: unknown) => () => checkContract('POST', INVITE, 207, json, body);
    expect(check({ data: [ok, err, { ...ok, status: 'exists' }] })).not.toThrow();
    // InviteErrorItem's own part types code as a string ("1001 - Active User").
    expect(check({ data: [{ ...err, code: 1001 }] })).toThrow(/data\/0/);
    const { userId: _u, ...noUserId } = ok;
    expect(check({ data: [noUserId] })).toThrow(/data\/0/);
    expect(check({ data: [{ ...ok, subject: 42 }] })).toThrow(/data\/0/);
    expect(check({ data: [{ ...err, traceId: 'x' }] })).toThrow(/data\/0/);
    expect(check({ data: [{ ...ok, status: 'invited' }] })).toThrow(/data\/0/);
  });

  it('reads the 403 and other errors as ErrorsResponse: integer codes, no traceId', () => {
    const body = (code: unknown, extra = {}) => ({ errors: [{ code, title: 'Forbidden', ...extra }] });
    expect(() => checkContract('POST', INVITE, 403, json, body(403))).not.toThrow();
    expect(() => checkContract('POST', INVITE, 403, json, body('HTTP-403'))).toThrow(/integer/);
    expect(() => checkContract('POST', INVITE, 400, json, { ...body(400), traceId: 'x' })).toThrow(
      /additional properties/,
    );
    expect(checkContract('POST', INVITE, 429, json, body(429)).schemaFor).toBe('default');
  });
});

describe('every invite status the simulator serves matches users.json', () => {
  let sim: QlikSimulator;
  const USER_KEY = 'invite-non-admin';
  beforeAll(async () => {
    sim = await startQlikSimulator({ tenant: demoTenant() });
    sim.addApiKey(USER_KEY, sim.tenant.usersByEmail('kaja@corp.example')[0]!.id);
  });
  afterAll(async () => {
    await sim.close();
  });

  it('sweeps 207, 400, 401, 403, 429 and 500 with valid request bodies checked too', async () => {
    const post = (body: unknown, key: string | null = sim.apiKey) =>
      call<{ data: Item[] }>(sim.url, 'POST', INVITE, { key, body });
    const mixed = await post({
      invitees: [
        { email: 'sweep-new@x.example', name: 'Sweep New', language: 'fr' },
        { email: 'ivy@corp.example' },
        { email: 'bob@corp.example' },
        { email: 'viktor@corp.example', resend: true },
      ],
    });
    expect(mixed.status).toBe(207);
    expect(mixed.contract.requestValid).toBe(true);
    expect(mixed.body.data.map((d) => d.status)).toEqual(['ok', 'exists', 'error', 'error']);
    for (const bad of [
      {},
      { invitees: [] },
      { invitees: [{ name: 'No Email' }] },
      { invitees: [{ email: 'nope' }] },
    ]) {
      expect((await post(bad)).status).toBe(400);
    }
    expect((await post('not json')).status).toBe(400);
    expect((await post({ invitees: [{ email: 'x@y.example' }] }, USER_KEY)).status).toBe(403);
    expect((await post({ invitees: [{ email: 'x@y.example' }] }, null)).status).toBe(401);
    sim.setRateLimits({ tier2PerMinute: 1 });
    try {
      await post({ invitees: [{ email: 'rate-1@x.example' }] });
      const limited = await post({ invitees: [{ email: 'rate-2@x.example' }] });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      sim.setRateLimits(false);
    }
    sim.injectFault({ method: 'POST', path: /actions\/invite$/, status: 500 });
    expect((await post({ invitees: [{ email: 'fault@x.example' }] })).status).toBe(500);

    const covered = new Set(
      checkedExchanges
        .filter((e) => e.operation === `POST ${INVITE}`)
        .map((e) => `${e.status} ${e.schemaFor}`),
    );
    expect([...covered].sort()).toEqual(
      ['207 207', '400 default', '401 default', '403 403', '429 default', '500 default'].sort(),
    );
  });

  it('is Tier 2 and logs the body like the other writes', async () => {
    sim.resetLog();
    await call(sim.url, 'POST', INVITE, {
      key: sim.apiKey,
      body: { invitees: [{ email: 'log@x.example' }] },
    });
    expect(sim.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: INVITE,
        status: 207,
        tier: '2',
        body: { invitees: [{ email: 'log@x.example' }] },
        ownerId: sim.tenant.serviceUserId,
      }),
    ]);
  });
});

describe('invite outcomes and what they do to the tenant', () => {
  let sim: QlikSimulator;
  let tenant: SimTenant;
  let clock: number;
  const ADMIN_KEY = 'invite-admin';
  const USER_KEY = 'invite-user';
  const post = (invitees: unknown[], key = ADMIN_KEY) =>
    call<{ data: Item[] }>(sim.url, 'POST', INVITE, { key, body: { invitees } });
  const get = <T>(path: string) => call<T>(sim.url, 'GET', path, { key: ADMIN_KEY });

  beforeEach(async () => {
    clock = Date.parse('2026-03-02T09:00:00Z');
    tenant = new SimTenant({ seed: 7, now: () => clock });
    const admin = tenant.addUser({ name: 'Admin', email: 'admin@corp.example', roles: ['TenantAdmin'] });
    const plain = tenant.addUser({ name: 'Plain', email: 'plain@corp.example' });
    tenant.addUser({ name: 'Dora Disabled', email: 'dora@corp.example', status: 'disabled' });
    tenant.addUser({ name: 'Pia Provisioned', email: 'pia@corp.example', status: 'provisioned' });
    tenant.addUser({ name: 'Gone', email: 'gone@corp.example', status: 'deleted' });
    sim = await startQlikSimulator({ tenant, apiKeys: { [ADMIN_KEY]: admin.id, [USER_KEY]: plain.id } });
    return () => sim.close();
  });

  it('creates an invited user for an unknown email, with an expiry a week from the tenant clock', async () => {
    const before = tenant.userCount;
    const r = await post([{ email: 'New.Person@x.example', name: 'New Person', language: 'DE' }]);
    expect(r.status).toBe(207);
    const [item] = r.body.data;
    expect(item).toMatchObject({ email: 'New.Person@x.example', status: 'ok' });
    expect(tenant.userCount).toBe(before + 1);
    // A Qlik Account subject, generated as ResultItem.subject describes it: a UUID.
    expect(item!.subject).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const u = tenant.getUser(item!.userId!)!;
    expect(u).toMatchObject({
      name: 'New Person',
      email: 'New.Person@x.example',
      status: 'invited',
      subject: item!.subject,
      inviteExpiry: Math.floor(clock / 1000) + WEEK_SEC,
    });
    expect(tenant.invites()).toEqual([
      {
        email: 'New.Person@x.example',
        language: 'de',
        resend: false,
        at: clock,
        status: 'ok',
        sent: 'new',
        userId: u.id,
      },
    ]);
  });

  it('names the user after the email when no name is given, and sends in English when the language is unknown', async () => {
    const r = await post([
      { email: 'anon@x.example', language: 'xx' },
      { email: 'blank@x.example', name: '  ' },
    ]);
    expect(r.body.data.map((d) => tenant.getUser(d.userId!)?.name)).toEqual([
      'anon@x.example',
      'blank@x.example',
    ]);
    expect(tenant.invites().map((i) => i.language)).toEqual(['en', 'en']);
  });

  it('lists invited users with status invited and inviteExpiry, by filter and by id', async () => {
    const { body } = await post([{ email: 'listed@x.example', name: 'Listed' }]);
    const id = body.data[0]!.userId!;
    const list = await get<{ data: UserJson[] }>(
      `/api/v1/users?filter=${encodeURIComponent('(status eq "invited")')}&sort=-inviteExpiry`,
    );
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      expect.objectContaining({ id, status: 'invited', inviteExpiry: Math.floor(clock / 1000) + WEEK_SEC }),
    ]);
    const one = await get<UserJson>(`/api/v1/users/${id}`);
    expect(one.body).toMatchObject({ id, name: 'Listed', status: 'invited' });
    const byEmail = await call<{ data: UserJson[] }>(sim.url, 'POST', '/api/v1/users/actions/filter', {
      key: ADMIN_KEY,
      body: { filter: 'email eq "LISTED@x.example"' },
    });
    expect(byEmail.body.data.map((u) => u.id)).toEqual([id]);
  });

  it('answers exists for a pending invitee without resend: no new user, no email', async () => {
    const first = (await post([{ email: 'once@x.example' }])).body.data[0]!;
    const count = tenant.userCount;
    const again = (await post([{ email: 'ONCE@x.example' }])).body.data[0]!;
    expect(again).toEqual({
      email: 'ONCE@x.example',
      status: 'exists',
      subject: first.subject,
      userId: first.userId,
    });
    expect(tenant.userCount).toBe(count);
    expect(tenant.inviteEmailsSent('once@x.example')).toBe(1);
  });

  it('sends again with resend: item ok, the same user, a fresh expiry', async () => {
    const first = (await post([{ email: 'again@x.example' }])).body.data[0]!;
    clock += 3 * 86_400_000;
    const resent = (await post([{ email: 'again@x.example', resend: true, language: 'sv' }])).body.data[0]!;
    expect(resent).toMatchObject({ status: 'ok', userId: first.userId, subject: first.subject });
    expect(tenant.getUser(first.userId!)!.inviteExpiry).toBe(Math.floor(clock / 1000) + WEEK_SEC);
    expect(tenant.inviteEmailsSent('again@x.example')).toBe(2);
    expect(tenant.invites('again@x.example').map((i) => [i.sent, i.resend, i.language, i.at])).toEqual([
      ['new', false, 'en', clock - 3 * 86_400_000],
      ['resent', true, 'sv', clock],
    ]);
  });

  it('treats a provisioned user as not yet active: exists, or invited on resend', async () => {
    const pia = tenant.usersByEmail('pia@corp.example')[0]!;
    expect((await post([{ email: 'pia@corp.example' }])).body.data[0]).toMatchObject({
      status: 'exists',
      userId: pia.id,
    });
    expect(tenant.getUser(pia.id)!.status).toBe('provisioned');
    expect((await post([{ email: 'pia@corp.example', resend: true }])).body.data[0]).toMatchObject({
      status: 'ok',
      userId: pia.id,
    });
    expect(tenant.getUser(pia.id)).toMatchObject({
      status: 'invited',
      inviteExpiry: Math.floor(clock / 1000) + WEEK_SEC,
    });
  });

  it('refuses active (1001) and disabled (1002) users, with or without resend, and changes nothing', async () => {
    const version = tenant.version;
    const r = await post([
      { email: 'plain@corp.example' },
      { email: 'plain@corp.example', resend: true },
      { email: 'dora@corp.example' },
      { email: 'dora@corp.example', resend: true },
    ]);
    expect(r.body.data.map((d) => [d.status, d.code, d.title])).toEqual([
      ['error', '1001', 'Active User'],
      ['error', '1001', 'Active User'],
      ['error', '1002', 'Disabled User'],
      ['error', '1002', 'Disabled User'],
    ]);
    expect(r.body.data.every((d) => typeof d.detail === 'string' && d.userId === undefined)).toBe(true);
    expect(tenant.version).toBe(version);
    expect(tenant.invites().every((i) => i.sent === false)).toBe(true);
  });

  it('invites anew over a deleted user of the same email', async () => {
    const gone = tenant.usersByEmail('gone@corp.example')[0]!;
    const item = (await post([{ email: 'gone@corp.example' }])).body.data[0]!;
    expect(item.status).toBe('ok');
    expect(item.userId).not.toBe(gone.id);
  });

  it('answers one item per invitee in order; a repeat in the same request sees the first', async () => {
    const r = await post([
      { email: 'dora@corp.example' },
      { email: 'twice@x.example' },
      { email: 'plain@corp.example' },
      { email: 'twice@x.example' },
    ]);
    expect(r.body.data.map((d) => [d.email, d.status])).toEqual([
      ['dora@corp.example', 'error'],
      ['twice@x.example', 'ok'],
      ['plain@corp.example', 'error'],
      ['twice@x.example', 'exists'],
    ]);
    expect(r.body.data[3]!.userId).toBe(r.body.data[1]!.userId);
  });

  it('answers 1003 for every invitee on a tenant with its own identity provider', async () => {
    tenant.identityProvider = 'custom';
    const count = tenant.userCount;
    const r = await post([{ email: 'idp-1@x.example' }, { email: 'pia@corp.example', resend: true }]);
    expect(r.status).toBe(207);
    expect(r.body.data.map((d) => [d.email, d.status, d.code])).toEqual([
      ['idp-1@x.example', 'error', '1003'],
      ['pia@corp.example', 'error', '1003'],
    ]);
    expect(r.body.data[0]!.detail).toMatch(/Qlik Account/);
    expect(tenant.userCount).toBe(count);
    expect(tenant.getUser(tenant.usersByEmail('pia@corp.example')[0]!.id)!.status).toBe('provisioned');
  });

  it('fails the next item with 1003 when told to, and the one after goes through', async () => {
    tenant.failNextInvites(1);
    const r = await post([{ email: 'flaky@x.example' }, { email: 'fine@x.example' }]);
    expect(r.body.data.map((d) => [d.status, d.code])).toEqual([
      ['error', '1003'],
      ['ok', undefined],
    ]);
    expect(tenant.usersByEmail('flaky@x.example')).toEqual([]);
    expect((await post([{ email: 'flaky@x.example' }])).body.data[0]!.status).toBe('ok');
  });

  it('refuses a caller who is not a TenantAdmin with 403, and a bad body with 400, inviting nobody', async () => {
    const count = tenant.userCount;
    const refused = await post([{ email: 'x@y.example' }], USER_KEY);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      errors: [{ code: 403, title: 'Forbidden', detail: 'Only a TenantAdmin can invite users.' }],
    });
    for (const bad of [
      [],
      [{}],
      [{ email: 'a@b.example' }, { email: 42 }],
      [{ email: 'x@y.example', resend: 'yes' }],
    ]) {
      const r = await post(bad);
      expect(r.status).toBe(400);
      expect((r.body as unknown as { errors: Array<{ code: number }> }).errors[0]!.code).toBe(400);
    }
    expect(tenant.userCount).toBe(count);
    expect(tenant.invites()).toEqual([]);
  });

  it('lets roles be patched on an invited user like on any user, and the invite accepted later', async () => {
    const id = (await post([{ email: 'roles@x.example' }])).body.data[0]!.userId!;
    const patched = await call(sim.url, 'PATCH', `/api/v1/users/${id}`, {
      key: ADMIN_KEY,
      body: [{ op: 'replace', path: '/assignedRoles', value: [{ name: 'Steward' }] }],
    });
    expect(patched.status).toBe(204);
    const u = await get<UserJson & { assignedRoles: Array<{ name: string }> }>(`/api/v1/users/${id}`);
    expect(u.body).toMatchObject({
      status: 'invited',
      assignedRoles: [expect.objectContaining({ name: 'Steward' })],
    });
    tenant.acceptInvite(id);
    const active = await get<UserJson>(`/api/v1/users/${id}`);
    expect(active.body.status).toBe('active');
    expect(active.body.inviteExpiry).toBeUndefined();
    expect((await post([{ email: 'roles@x.example' }])).body.data[0]!.code).toBe('1001');
  });
});

describe('the demo tenant seeds a pending invite', () => {
  it('has Ivy Invited in status invited with an expiry ahead', () => {
    const t = demoTenant();
    const [ivy] = t.usersByEmail('ivy@corp.example');
    expect(ivy).toMatchObject({ name: 'Ivy Invited', status: 'invited' });
    expect(ivy!.inviteExpiry).toBeGreaterThan(Date.now() / 1000);
  });
});

describe('the official @qlik/api users.inviteUsers against the simulator', () => {
  let sim: QlikSimulator;
  const USER_KEY = 'qlik-api-non-admin';
  beforeAll(async () => {
    sim = await startQlikSimulator({ tenant: demoTenant() });
    sim.addApiKey(USER_KEY, sim.tenant.usersByEmail('kaja@corp.example')[0]!.id);
  });
  afterAll(async () => {
    await sim.close();
  });
  const api = (apiKey: string) =>
    createQlikApi({ hostConfig: { authType: 'apikey', host: sim.url, apiKey } });

  it('resolves the 207 (it does not throw) with one item per invitee', async () => {
    const res = await api(sim.apiKey).users.inviteUsers({
      invitees: [
        { email: 'qlik-api-new@x.example', name: 'Via Qlik Api', language: 'en' },
        { email: 'ivy@corp.example', resend: true },
        { email: 'bob@corp.example' },
      ],
    });
    expect(res.status).toBe(207);
    checkContract('POST', INVITE, res.status, 'application/json', res.data);
    expect(res.data.data?.map((d) => [d.email, d.status])).toEqual([
      ['qlik-api-new@x.example', 'ok'],
      ['ivy@corp.example', 'ok'],
      ['bob@corp.example', 'error'],
    ]);
    expect(sim.tenant.inviteEmailsSent('ivy@corp.example')).toBe(1);
    expect(sim.tenant.usersByEmail('qlik-api-new@x.example')[0]?.status).toBe('invited');
  });

  it('throws the 403 for a non-admin key, with the ErrorsResponse body', async () => {
    let caught: { status: number; data: { errors: Array<{ code: unknown }> } } | undefined;
    try {
      await api(USER_KEY).users.inviteUsers({ invitees: [{ email: 'nope@x.example' }] });
    } catch (e) {
      caught = e as typeof caught;
    }
    expect(caught?.status).toBe(403);
    expect(caught?.data.errors[0]?.code).toBe(403);
    expect(sim.tenant.usersByEmail('nope@x.example')).toEqual([]);
  });
});
