// ModeWorkspace state and the seeds: tokens, lookups, duplicate group rows, removal cascades, one permission per
// accessor, and the demo and generated workspaces (deterministic, the sizes a benchmark needs).

import { describe, expect, it } from 'vitest';
import {
  demoModeWorkspace,
  generateModeWorkspace,
  ModeSimError,
  ModeWorkspace,
} from '../../../src/sandbox/mode-sim/index.ts';

const TOKEN = /^[0-9a-f]{12}$/;

describe('ModeWorkspace', () => {
  it('gives members a member token, a distinct membership token and the username', () => {
    const ws = new ModeWorkspace();
    expect(ws.username).toBe('acme');
    const a = ws.addMember({ username: 'ann', email: 'Ann@Corp.Example', name: 'Ann' });
    expect(a.username).toBe('ann');
    expect(a.memberToken).toMatch(TOKEN);
    expect(a.membershipToken).toMatch(TOKEN);
    expect(a.membershipToken).not.toBe(a.memberToken);
    expect(ws.memberByEmail(' ann@corp.example ')?.memberToken).toBe(a.memberToken);
    expect(ws.memberByUsername('ann')?.state).toBe('active');
    expect(ws.memberByMembershipToken(a.membershipToken)?.username).toBe('ann');
    expect(() => ws.addMember({ username: 'ann' })).toThrow(ModeSimError);
    expect(() => ws.addMember({ username: 'acme' })).toThrow(/taken/);
    expect(() => ws.addMember({ username: 'verify' })).toThrow(/taken/);
    expect(() => ws.addMember({ username: 'Not A Slug' })).toThrow(/slug/);
  });

  it('keeps a second row when someone is added twice; groupMemberTokens stays distinct', () => {
    const ws = new ModeWorkspace({ username: 'w', seed: 3 });
    const g = ws.addGroup({ name: 'G' }).token;
    const m = ws.addMember({ username: 'ann' }).memberToken;
    const gm1 = ws.addToGroup(g, m);
    const gm2 = ws.addToGroup(g, m);
    expect(gm1).not.toBe(gm2);
    expect(ws.groupMemberships(g).map((r) => r.token)).toEqual([gm1, gm2]);
    expect(ws.groupMemberTokens(g)).toEqual([m]);
    expect(ws.removeFromGroup(g, gm1)).toBe(true);
    expect(ws.removeFromGroup(g, gm1)).toBe(false);
    expect(ws.groupMemberTokens(g)).toEqual([m]);
    expect(() => ws.addToGroup(g, 'ffffffffffff')).toThrow(/member/);
    expect(() => ws.addGroup({ name: 'G' })).toThrow(/exists/);
  });

  it('allows one permission per accessor and checks the accessor exists', () => {
    const ws = new ModeWorkspace();
    const c = ws.addCollection({ name: 'C' }).token;
    expect(ws.collection(c)?.defaultAccessLevel).toBe('restricted');
    const m = ws.addMember({ username: 'ann' }).memberToken;
    const g = ws.addGroup({ name: 'G' }).token;
    const p = ws.setPermission(c, { accessorType: 'Account', accessorToken: m, action: 'view' });
    ws.setPermission(c, { accessorType: 'UserGroup', accessorToken: g, action: 'edit' });
    expect(() => ws.setPermission(c, { accessorType: 'Account', accessorToken: m, action: 'edit' })).toThrow(
      /already/,
    );
    expect(() =>
      ws.setPermission(c, { accessorType: 'UserGroup', accessorToken: m, action: 'view' }),
    ).toThrow(/group/);
    ws.updatePermission(c, p, 'edit');
    expect(ws.permission(c, p)?.action).toBe('edit');
    expect(ws.permissionsOf(c)).toHaveLength(2);
    expect(ws.deletePermission(c, p)).toBe(true);
    expect(ws.deletePermission(c, p)).toBe(false);
  });

  it('removing a member takes their group rows and Account permissions with them', () => {
    const ws = new ModeWorkspace();
    const g = ws.addGroup({ name: 'G' }).token;
    const c = ws.addCollection({ name: 'C' }).token;
    const ann = ws.addMember({ username: 'ann', email: 'ann@x.example' }).memberToken;
    const bo = ws.addMember({ username: 'bo' }).memberToken;
    ws.addToGroup(g, ann);
    ws.addToGroup(g, bo);
    ws.setPermission(c, { accessorType: 'Account', accessorToken: ann, action: 'view' });
    ws.removeMember(ann);
    expect(ws.member(ann)).toBeUndefined();
    expect(ws.memberByEmail('ann@x.example')).toBeUndefined();
    expect(ws.groupMemberTokens(g)).toEqual([bo]);
    expect(ws.permissionsOf(c)).toEqual([]);
  });

  it('same seed, same tokens', () => {
    const a = new ModeWorkspace({ seed: 9 });
    const b = new ModeWorkspace({ seed: 9 });
    expect(a.addMember({ username: 'x' })).toEqual(b.addMember({ username: 'x' }));
  });
});

describe('demoModeWorkspace', () => {
  it('holds the demo people and the cases a careful bot must handle', () => {
    const ws = demoModeWorkspace();
    for (const e of ['alice', 'bob', 'carol', 'dan', 'frank'])
      expect(ws.memberByEmail(`${e}@corp.example`)).toBeDefined();
    expect(ws.memberByEmail('ingrid@corp.example')?.managedByScim).toBe(true);
    expect(ws.memberByEmail('viktor@corp.example')?.state).toBe('deactivated');
    expect(ws.memberByUsername('liam')?.email).toBeUndefined();
    for (const n of ['Analysts', 'Finance', 'Sales Ops'])
      expect(ws.groupByName(n)).toMatchObject({ managed: false, state: 'active' });
    expect(ws.groupByName('Okta Engineers')?.managed).toBe(true);
    expect(
      ws
        .groups()
        .filter((g) => g.state === 'soft_deleted')
        .map((g) => g.name),
    ).toEqual(['Legacy Reporting']);
    expect(ws.collectionByName('Revenue')?.defaultAccessLevel).toBe('restricted');
    expect(ws.collectionByName('Marketing')?.defaultAccessLevel).toBe('view');
    const finance = ws.groupByName('Finance')!.token;
    expect(ws.permissionsOf(ws.collectionByName('Revenue')!.token)).toContainEqual(
      expect.objectContaining({ accessorType: 'UserGroup', accessorToken: finance, action: 'view' }),
    );
    expect(demoModeWorkspace().groupByName('Finance')!.token).toBe(finance);
  });
});

describe('generateModeWorkspace', () => {
  it('builds 5,000 members with a 500-member group, deterministically', () => {
    const opts = { members: 5000, groups: 40, groupSize: 500, seed: 7 };
    const ws = generateModeWorkspace(opts);
    expect(ws.members()).toHaveLength(5000);
    expect(ws.groups()).toHaveLength(40);
    const big = ws.groupByName('Benchmark Group')!;
    expect(ws.groupMemberTokens(big.token)).toHaveLength(500);
    expect(ws.members().every((m) => m.email?.endsWith('@corp.example'))).toBe(true);
    expect(ws.members().some((m) => m.managedByScim)).toBe(true);
    expect(ws.members().some((m) => m.state === 'deactivated')).toBe(true);
    expect(ws.collections()).toHaveLength(10);
    const again = generateModeWorkspace(opts);
    expect(again.groupMemberTokens(again.groupByName('Benchmark Group')!.token)).toEqual(
      ws.groupMemberTokens(big.token),
    );
    expect(generateModeWorkspace({ ...opts, seed: 8 }).groupByName('Benchmark Group')!.token).not.toBe(
      big.token,
    );
  });
});
