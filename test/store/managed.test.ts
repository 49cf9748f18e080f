// The bot's record of what it made each principal hold, against the real Redis: written by the transition script
// with each applied change and each grant's end (and only then), read back by entitlement, and the drift check's
// findings.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleChangeRequest } from '../../src/domain/request.ts';
import { storeKeys } from '../../src/store/keys.ts';
import { ManagedHoldings, managedField, parseManagedField } from '../../src/store/managed.ts';
import { type NewRequest, RequestStore } from '../../src/store/request-store.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

const prefix = `{${uniquePrefix('managed')}}`;
const keys = storeKeys(prefix);
const NOW = 1_750_000_000_000;
const DAY = 86_400_000;

let redis: Redis;
let store: RequestStore;
let managed: ManagedHoldings;
let seq = 0;

beforeAll(() => {
  redis = testRedis();
  store = new RequestStore(redis, prefix);
  managed = new ManagedHoldings(redis, keys);
});
afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

function newRequest(over: Partial<NewRequest> = {}): NewRequest {
  seq++;
  return {
    action: 'grant',
    target: { kind: 'user', id: `q-${seq}`, name: `User ${seq}`, email: `user${seq}@acme.com` },
    entitlement: { id: 'role-steward', name: 'Steward' },
    requester: { front: 'slack', id: 'U-REQ' },
    expiresAt: NOW + DAY,
    approvalsRequired: 1,
    ...over,
  };
}

/** Files and walks a request to applied, with the result the worker would record. */
async function applied(
  over: Partial<NewRequest> = {},
  result: Partial<NonNullable<RoleChangeRequest['result']>> = {},
  at = NOW,
): Promise<RoleChangeRequest> {
  const c = await store.create(newRequest(over), at);
  if (!c.ok) throw new Error('duplicate');
  const id = c.request.id;
  await store.addMessage(id, { front: 'slack', kind: 'announcement', channel: 'C-APPROVALS', ts: '1.1' });
  for (const [from, to] of [
    ['pending', 'approved'],
    ['approved', 'applying'],
  ] as const)
    await store.transition(id, from, to, {}, at);
  const t = await store.transition(
    id,
    'applying',
    'applied',
    { result: { before: [], after: ['Steward'], changed: true, message: 'ok', ...result } },
    at + 1,
  );
  if (!t.ok) throw new Error('not applied');
  return t.request;
}

const ROLES = { kind: 'qlik-roles', instance: 'default' };

describe('the record of what the bot made principals hold', () => {
  it('records an applied grant with its request, names, channel and end', async () => {
    const r = await applied({}, { revokeAt: NOW + DAY });
    const field = managedField(ROLES, 'role-steward', { kind: 'user', id: r.target.id });
    expect(await managed.get(field)).toMatchObject({
      a: 'grant',
      r: r.id,
      at: NOW + 1,
      ent: 'Steward',
      who: r.target.name,
      email: r.target.kind === 'user' ? r.target.email : undefined,
      until: NOW + DAY,
      ch: 'C-APPROVALS',
      principal: { kind: 'user', id: r.target.id },
      entitlementId: 'role-steward',
      target: { kind: 'qlik-roles', instance: 'default' },
    });
  });

  it('records nothing for a request that was denied, failed or is still on its way', async () => {
    const c = await store.create(newRequest(), NOW);
    if (!c.ok) throw new Error('duplicate');
    await store.transition(c.request.id, 'pending', 'denied', {}, NOW);
    const f = await store.create(newRequest(), NOW);
    if (!f.ok) throw new Error('duplicate');
    await store.transition(f.request.id, 'pending', 'approved', {}, NOW);
    await store.transition(f.request.id, 'approved', 'applying', {}, NOW);
    await store.transition(f.request.id, 'applying', 'failed', {}, NOW);
    for (const r of [c.request, f.request])
      expect(await managed.get(managedField(ROLES, 'role-steward', { kind: 'user', id: r.target.id }))).toBe(
        undefined,
      );
  });

  it('a later revoke replaces the grant; the end of a grant is recorded only while it is the latest change', async () => {
    const target = { kind: 'user' as const, id: 'q-shared', name: 'Shared', email: 'shared@acme.com' };
    const field = managedField(ROLES, 'role-steward', target);
    const grant = await applied({ target }, { revokeAt: NOW + DAY });
    // An Extend took the role over: its own entry is the latest.
    const extension = await applied({ target }, { revokeAt: NOW + 2 * DAY }, NOW + 10);
    await store.transition(grant.id, 'applied', 'expired-revoked', {}, NOW + DAY);
    expect(await managed.get(field)).toMatchObject({ a: 'grant', r: extension.id, until: NOW + 2 * DAY });
    await store.transition(
      extension.id,
      'applied',
      'revoked',
      { result: { before: ['Steward'], after: [], changed: true, message: 'removed' } },
      NOW + 20,
    );
    expect(await managed.get(field)).toMatchObject({ a: 'ended', r: extension.id, at: NOW + 20 });
    const revoke = await applied({ target, action: 'revoke' }, {}, NOW + 30);
    expect(await managed.get(field)).toMatchObject({ a: 'revoke', r: revoke.id });
  });

  it('forgets a grant whose end left the role in place (held before it, outside the bot)', async () => {
    const r = await applied(
      {},
      { before: ['Steward'], after: ['Steward'], changed: false, revokeAt: NOW + DAY },
    );
    const field = managedField(ROLES, 'role-steward', { kind: 'user', id: r.target.id });
    expect(await managed.get(field)).toMatchObject({ a: 'grant', r: r.id });
    await store.transition(
      r.id,
      'applied',
      'expired-revoked',
      { result: { before: ['Steward'], after: ['Steward'], changed: false, message: 'left in place' } },
      NOW + DAY,
    );
    expect(await managed.get(field)).toBe(undefined);
  });

  it('records the roles an invite granted on the new account, not the account itself', async () => {
    const r = await applied(
      {
        targetRef: { kind: 'qlik-account', instance: 'default' },
        entitlement: { id: 'account', name: 'account' },
        target: { kind: 'user', id: 'q-new', name: 'New', email: 'new@acme.com' },
      },
      {
        parts: [
          { targetRef: ROLES, entitlement: { id: 'role-a', name: 'A' }, outcome: 'granted' },
          { targetRef: ROLES, entitlement: { id: 'role-b', name: 'B' }, outcome: 'failed' },
          {
            targetRef: {
              kind: 'qlik-spaces',
              instance: 'default',
              resource: { kind: 'space', id: 'sp1', name: 'Fin' },
            },
            entitlement: { id: 'consumer', name: 'consumer' },
            outcome: 'already-held',
          },
        ],
      },
    );
    const user = { kind: 'user', id: r.target.id };
    expect(
      await managed.get(managedField({ kind: 'qlik-account', instance: 'default' }, 'account', user)),
    ).toBe(undefined);
    expect(await managed.get(managedField(ROLES, 'role-a', user))).toMatchObject({ a: 'grant', r: r.id });
    expect(await managed.get(managedField(ROLES, 'role-b', user))).toBe(undefined);
    expect(
      await managed.get(
        managedField({ kind: 'qlik-spaces', instance: 'default', resourceId: 'sp1' }, 'consumer', user),
      ),
    ).toMatchObject({ a: 'grant', res: 'Fin', resKind: 'space' });
  });

  it('scans one entitlement under any of its instance names, and every record', async () => {
    const a = await applied({ entitlement: { id: 'role-scan', name: 'Scan' } });
    const b = await applied({
      entitlement: { id: 'role-scan', name: 'Scan' },
      targetRef: { kind: 'qlik-roles', instance: 'prod' },
    });
    await applied({ entitlement: { id: 'role-scan-2', name: 'Scan2' } });
    const of = async (instances: string[]) => {
      const ids: string[] = [];
      for await (const h of managed.scan({ kind: 'qlik-roles', instances, entitlementId: 'role-scan' }))
        ids.push(h.r);
      return ids.sort();
    };
    expect(await of(['default'])).toEqual([a.id]);
    expect(await of(['default', 'prod'])).toEqual([a.id, b.id].sort());
    let all = 0;
    for await (const _ of managed.scan()) all++;
    expect(all).toBeGreaterThanOrEqual(3);
  });

  it('reads a field back into its parts, an entitlement id with a | included', () => {
    const f = managedField({ kind: 'k', instance: 'i', resourceId: 'r' }, 'a|b', { kind: 'group', id: 'g1' });
    expect(parseManagedField(f)).toEqual({
      target: { kind: 'k', instance: 'i', resourceId: 'r' },
      entitlementId: 'a|b',
      principal: { kind: 'group', id: 'g1' },
    });
    expect(parseManagedField('junk')).toBe(undefined);
    expect(parseManagedField('a|b|c|d|robot:1')).toBe(undefined);
  });
});

describe('drift findings', () => {
  it('keeps, lists and resolves findings by their record', async () => {
    const r = await applied();
    const h = (await managed.get(managedField(ROLES, 'role-steward', { kind: 'user', id: r.target.id })))!;
    await managed.putFinding({ kind: 'removed', entry: h, foundAt: NOW });
    expect(await managed.finding(h.field)).toMatchObject({ kind: 'removed', entry: { r: r.id } });
    expect((await managed.openFindings()).map((f) => f.entry.field)).toContain(h.field);
    expect(await managed.resolveFinding(h.field)).toBe(true);
    expect(await managed.resolveFinding(h.field)).toBe(false);
    expect(await managed.finding(h.field)).toBe(undefined);
  });

  it('remembers when each principal was compared', async () => {
    await managed.markChecked('k1', NOW);
    const m = await managed.lastChecked(['k1', 'k2']);
    expect(m.get('k1')).toBe(NOW);
    expect(m.get('k2')).toBe(0);
  });
});
