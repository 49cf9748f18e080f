// The mode-groups target against the Mode simulator over HTTP through the real client and the people cache in the
// real Redis: resolving members and groups, every apply path (grant once and verify, already there → no POST,
// revoke by the membership's token, IdP-managed group and SCIM member refused, drift), ending a grant, holders,
// includesPerson and how failures are classified.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModeClient, ModeError, ModePeople } from '../../src/mode/index.ts';
import { type ModeSimulator, ModeWorkspace, startModeSimulator } from '../../src/sandbox/mode-sim/index.ts';
import { DriftError } from '../../src/targets/errors.ts';
import { type ModeGroupsApi, ModeGroupsTarget } from '../../src/targets/mode-groups/target.ts';
import type { AccessChange, EntitlementRef, PrincipalRef } from '../../src/targets/types.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

let sim: ModeSimulator;
let ws: ModeWorkspace;
let mode: ModeClient;
let redis: Redis;
let target: ModeGroupsTarget;
const prefix = uniquePrefix('mode-groups');
let undoNext = false;

beforeAll(async () => {
  ws = new ModeWorkspace({ username: 'acme', seed: 3 });
  sim = await startModeSimulator({ workspace: ws });
  mode = new ModeClient({
    baseUrl: sim.url,
    workspace: 'acme',
    token: sim.token,
    secret: sim.secret,
    maxAttempts: 1,
  });
  redis = testRedis();
  // Misses rebuild at once: members are added between steps.
  const people = new ModePeople({ redis, prefix, client: mode, missRefreshMs: 0 });
  const api: ModeGroupsApi = {
    groups: () => mode.groups(),
    group: (g) => mode.group(g),
    groupMemberships: (g) => mode.groupMemberships(g),
    async addGroupMembership(g, m) {
      const gm = await mode.addGroupMembership(g, m);
      if (undoNext) {
        undoNext = false;
        ws.removeFromGroup(g, gm.token);
      }
      return gm;
    },
    removeGroupMembership: (g, gm) => mode.removeGroupMembership(g, gm),
  };
  target = new ModeGroupsTarget({ instance: 'default', mode: api, people, cacheTtlMs: 0 });
});
afterAll(async () => {
  await mode?.close();
  await sim?.close();
  await dropPrefix(redis, prefix);
  await redis.quit();
});

let n = 0;
const never = () => new AbortController().signal;

async function member(opts: { managedByScim?: boolean } = {}): Promise<PrincipalRef> {
  const i = ++n;
  ws.addMember({ username: `m${i}`, name: `Member ${i}`, email: `m${i}@corp.example`, ...opts });
  const r = await target.resolvePrincipal({ kind: 'user', email: `M${i}@corp.example` });
  if (!r.ok) throw new Error(JSON.stringify(r));
  return r.principal;
}

async function group(opts: { managed?: boolean } = {}): Promise<EntitlementRef> {
  const name = `Team ${++n}`;
  ws.addGroup({ name, ...opts });
  const r = await target.resolveEntitlement({ name: name.toUpperCase() });
  if (!r.ok) throw new Error(JSON.stringify(r));
  return r.entitlement;
}

function change(principal: PrincipalRef, entitlement: EntitlementRef, action: 'grant' | 'revoke' = 'grant') {
  return { action, principal, entitlement } satisfies AccessChange;
}

async function apply(c: AccessChange) {
  const recorded: unknown[] = [];
  const result = await target.applyChange(c, {
    signal: never(),
    beforeWrite: async (s) => {
      recorded.push(s);
    },
  });
  return { result, recorded };
}

const writes = (g: string) =>
  sim.requests.filter((r) => r.method !== 'GET' && r.path.startsWith(`/api/acme/groups/${g}/memberships`));

describe('resolving', () => {
  it('finds a member by email in any case, with their groups; nobody else', async () => {
    const p = await member();
    expect(p).toMatchObject({ kind: 'user', name: `Member ${n}`, email: `m${n}@corp.example` });
    const g = await group();
    ws.addToGroup(g.id, p.id);
    const again = await target.resolvePrincipal({ kind: 'user', email: p.email! });
    expect(again.ok && again.holdings.direct.map((e) => e.name)).toEqual([g.name]);
    expect(await target.resolvePrincipal({ kind: 'user', email: 'stranger@corp.example' })).toEqual({
      ok: false,
      code: 'no-such-user',
      email: 'stranger@corp.example',
    });
  });

  it('a deactivated member is no-such-user', async () => {
    const { memberToken } = ws.addMember({
      username: 'gone1',
      email: 'gone1@corp.example',
      state: 'deactivated',
    });
    expect(memberToken).toBeTruthy();
    const r = await target.resolvePrincipal({ kind: 'user', email: 'gone1@corp.example' });
    expect(r).toMatchObject({ ok: false, code: 'no-such-user' });
  });

  it('finds a group by exact name any case, never a soft-deleted one, and suggests close names', async () => {
    ws.addGroup({ name: 'Marketing Analysts' });
    const dead = ws.addGroup({ name: 'Old Marketing' }).token;
    ws.softDeleteGroup(dead);
    expect(await target.resolveEntitlement({ name: 'marketing analysts' })).toMatchObject({
      ok: true,
      entitlement: { name: 'Marketing Analysts' },
    });
    expect(await target.resolveEntitlement({ name: 'Old Marketing' })).toMatchObject({
      ok: false,
      code: 'not-found',
    });
    const miss = await target.resolveEntitlement({ name: 'Marketng Analysts' });
    expect(miss).toEqual({ ok: false, code: 'not-found', suggestions: ['Marketing Analysts'] });
    expect(
      await target.resolveEntitlement({ name: 'x', resource: { kind: 'space', name: 'S' } }),
    ).toMatchObject({
      code: 'resource-unsupported',
    });
  });
});

describe('applying', () => {
  it('adds a member with one POST, verified, and reports the groups before and after', async () => {
    const [p, other, g] = [await member(), undefined, await group()];
    expect(other).toBeUndefined();
    const { result, recorded } = await apply(change(p, g));
    expect(recorded).toEqual([{ before: [], after: [g.name] }]);
    expect(result).toEqual({ before: [], after: [g.name], changed: true });
    expect(ws.groupMemberTokens(g.id)).toEqual([p.id]);
    expect(writes(g.id).map((r) => r.method)).toEqual(['POST']);
  });

  it('a member already in the group is unchanged and nothing is POSTed (Mode would add them twice)', async () => {
    const [p, g] = [await member(), await group()];
    ws.addToGroup(g.id, p.id);
    const { result, recorded } = await apply(change(p, g));
    expect(result).toMatchObject({ changed: false, before: [g.name] });
    expect(recorded).toEqual([]);
    expect(writes(g.id)).toEqual([]);
    expect(ws.groupMemberTokens(g.id)).toEqual([p.id]);
  });

  it("revokes by DELETEing the member's own membership token, leaving the others", async () => {
    const [p, q, g] = [await member(), await member(), await group()];
    ws.addToGroup(g.id, q.id);
    const gm = ws.addToGroup(g.id, p.id);
    const { result } = await apply(change(p, g, 'revoke'));
    expect(result).toEqual({ before: [g.name], after: [], changed: true });
    expect(writes(g.id).map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE /api/acme/groups/${g.id}/memberships/${gm}`,
    ]);
    expect(ws.groupMemberTokens(g.id)).toEqual([q.id]);
  });

  it('refuses a group the identity provider manages, writing nothing, saying why', async () => {
    const [p, g] = [await member(), await group({ managed: true })];
    const err = await apply(change(p, g)).catch((e: unknown) => e);
    const action = target.classifyError(err, { who: p.name, kind: 'user' });
    expect(action).toMatchObject({ kind: 'fail' });
    expect(action?.kind === 'fail' && action.message).toMatch(/identity provider/);
    expect(writes(g.id)).toEqual([]);
  });

  it('refuses a member managed by SCIM, writing nothing, saying why', async () => {
    const [p, g] = [await member({ managedByScim: true }), await group()];
    const err = await apply(change(p, g)).catch((e: unknown) => e);
    expect(target.describeError(err)).toMatch(/identity provider \(SCIM\)/);
    expect(target.classifyError(err, { who: p.name, kind: 'user' })?.kind).toBe('fail');
    expect(ws.groupMemberTokens(g.id)).toEqual([]);
  });

  it('refuses a group as the principal: Mode groups hold members only', async () => {
    const [g, inner] = [await group(), await group()];
    const err = await apply(change({ kind: 'group', id: inner.id, name: inner.name }, g)).catch(
      (e: unknown) => e,
    );
    expect(target.describeError(err)).toMatch(/hold workspace members/);
  });

  it('a write someone undid before the read-back is a DriftError that fails', async () => {
    const [p, g] = [await member(), await group()];
    undoNext = true;
    const err = await apply(change(p, g)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriftError);
    expect(target.classifyError(err, { who: p.name, kind: 'user' })?.kind).toBe('fail');
  });

  it('a member who left the workspace fails naming them; a soft-deleted group fails as gone', async () => {
    const [p, g] = [await member(), await group()];
    ws.setMemberState(p.id, 'deactivated');
    const err = await apply(change(p, g)).catch((e: unknown) => e);
    expect(target.describeError(err)).toContain(p.name);
    const q = await member();
    ws.softDeleteGroup(g.id);
    expect(target.describeError(await apply(change(q, g)).catch((e: unknown) => e))).toMatch(
      /no longer exists/,
    );
  });

  it('a rate limit comes back later; a 5xx is retried; a 403 fails in words naming Mode', async () => {
    const [p, g] = [await member(), await group()];
    const subject = { who: p.name, kind: 'user' as const };
    sim.injectFault({ method: 'POST', path: /\/memberships$/, status: 429 });
    expect(
      target.classifyError(await apply(change(p, g)).catch((e: unknown) => e), subject, () => 0),
    ).toEqual({
      kind: 'later',
      delayMs: 30_000,
      reason: 'Mode rate limit',
    });
    sim.injectFault({ method: 'POST', path: /\/memberships$/, status: 502 });
    expect(target.classifyError(await apply(change(p, g)).catch((e: unknown) => e), subject)?.kind).toBe(
      'retry',
    );
    sim.injectFault({ method: 'POST', path: /\/memberships$/, status: 403 });
    const refused = target.classifyError(await apply(change(p, g)).catch((e: unknown) => e), subject);
    expect(refused?.kind === 'fail' && refused.message).toMatch(/^Mode refused the change/);
    expect(target.classifyError(new Error('redis down'), subject)).toBeUndefined();
    expect(
      target.classifyError(new ModeError({ kind: 'network', status: 0, method: 'GET', path: '/' }), subject)
        ?.kind,
    ).toBe('retry');
  });
});

describe('ending a grant', () => {
  it('removes the membership; already-gone when someone else removed it; principal-gone for a member who left', async () => {
    const [p, g] = [await member(), await group()];
    await apply(change(p, g));
    const recorded: string[][] = [];
    const opts = { signal: never(), beforeWrite: async (b: string[]) => void recorded.push(b) };
    expect(await target.endGrant(change(p, g), opts)).toEqual({
      outcome: 'removed',
      before: [g.name],
      after: [],
    });
    expect(ws.groupMemberTokens(g.id)).toEqual([]);
    expect((await target.endGrant(change(p, g), opts)).outcome).toBe('already-gone');
    expect((await target.endGrant(change(p, g), { ...opts, earlier: recorded[0]! })).outcome).toBe('removed');
    ws.setMemberState(p.id, 'banned');
    expect(await target.endGrant(change(p, g), opts)).toEqual({ outcome: 'principal-gone' });
  });
});

describe('holders and people', () => {
  it('lists the members with their emails, each once, and says who a group includes', async () => {
    const [a, b, g] = [await member(), await member(), await group()];
    ws.addToGroup(g.id, a.id);
    ws.addToGroup(g.id, b.id);
    const summary = await target.holdersSummary(g);
    expect(summary.direct.total).toBe(2);
    expect(summary.direct.first).toEqual([
      expect.objectContaining({ id: a.id, email: a.email, name: a.name }),
      expect.objectContaining({ id: b.id, email: b.email }),
    ]);
    const ids: string[] = [];
    for await (const h of target.holders(g, summary.resume)) ids.push(h.id);
    expect(ids).toEqual([a.id, b.id]);
    expect(await target.includesPerson(a, a.email!)).toBe(true);
    expect(await target.includesPerson(a, b.email!)).toBe(false);
    expect(await target.includesPerson({ kind: 'group', id: g.id, name: g.name }, b.email!)).toBe(true);
    expect(await target.includesPerson({ kind: 'group', id: g.id, name: g.name }, 'x@corp.example')).toBe(
      false,
    );
    expect((await target.readHoldings(a)).direct.map((e) => e.name)).toEqual([g.name]);
  });
});
