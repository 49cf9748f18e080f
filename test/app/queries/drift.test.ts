// `/qlik drift`, driven directly: the holders of a role that no request of the bot granted (read from the Qlik
// simulator, compared with the bot's record the store's transitions write), for the role's approvers only, with
// the full list as a CSV; and the drift check's open findings.
import { describe, expect, it } from 'vitest';
import { validateMessage } from '../../../src/slack/views/blocks.ts';
import { driftFindingsMessage, unmanagedHoldersMessage } from '../../../src/slack/views/drift.ts';
import { managedField } from '../../../src/store/managed.ts';
import { P, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-drift' });

async function grantedByBot(role: string, name: string) {
  const user = h.sim.tenant.addUser({
    name,
    email: `${name.toLowerCase().replace(/\s+/g, '.')}@corp.example`,
  });
  const req = await h.file({
    requester: P.alice,
    who: { kind: 'email', email: user.email! },
    roleName: role,
    reason: 'drift test',
  });
  await h.applied(req);
  // Stands in for the worker: the role really is there now.
  h.sim.tenant.addUserRole(user.id, role);
  return { user, req };
}

describe('/qlik drift <role>', () => {
  it('lists the holders no request of the bot granted: users given the role in Qlik, and groups', async () => {
    h.sim.tenant.addRole({ name: 'DriftOne' });
    const { user: granted } = await grantedByBot('DriftOne', 'Bot Granted');
    const byHand = h.sim.tenant.addUser({
      name: 'By Hand',
      email: 'by.hand@corp.example',
      roles: ['DriftOne'],
    });
    h.sim.tenant.addGroup({ name: 'Hand Group', roles: ['DriftOne'] });

    const res = await h.app.unmanagedHolders(P.bob, { role: 'driftone' });
    if (!res.ok) throw new Error(JSON.stringify(res));
    expect(res).toMatchObject({
      role: 'DriftOne',
      instance: 'default',
      system: 'Qlik',
      holders: 3,
      granted: 1,
    });
    expect(res.unmanaged).toEqual([
      { kind: 'user', id: byHand.id, name: 'By Hand', email: 'by.hand@corp.example', status: 'active' },
      { kind: 'group', id: '', name: 'Hand Group' },
    ]);
    expect(res.unmanaged.some((u) => u.id === granted.id)).toBe(false);
    const msg = unmanagedHoldersMessage(res, { page: 0, query: { role: 'DriftOne' } });
    expect(validateMessage(msg)).toEqual([]);
    expect(JSON.stringify(msg.blocks)).toContain('*2 of 3* direct holders of *DriftOne*');
  });

  it('counts a holder the bot revoked and someone gave back as not granted by the bot', async () => {
    h.sim.tenant.addRole({ name: 'DriftTwo' });
    const { user, req } = await grantedByBot('DriftTwo', 'Back Again');
    const revoke = await h.file({
      requester: P.alice,
      action: 'revoke',
      who: { kind: 'email', email: user.email! },
      roleName: 'DriftTwo',
      reason: 'left',
    });
    await h.applied(revoke);
    const res = await h.app.unmanagedHolders(P.bob, { role: 'DriftTwo' });
    if (!res.ok) throw new Error(JSON.stringify(res));
    expect(res.unmanaged.map((u) => u.id)).toEqual([user.id]);
    expect(req.id).not.toBe(revoke.id);
  });

  it('says when every holder was granted by the bot', async () => {
    h.sim.tenant.addRole({ name: 'DriftThree' });
    await grantedByBot('DriftThree', 'Only One');
    const res = await h.app.unmanagedHolders(P.carol, { role: 'DriftThree' });
    if (!res.ok) throw new Error(JSON.stringify(res));
    expect(res.unmanaged).toEqual([]);
    expect(
      JSON.stringify(unmanagedHoldersMessage(res, { page: 0, query: { role: 'DriftThree' } }).blocks),
    ).toContain('Every one of the 1 direct holder of *DriftThree*');
  });

  it('refuses anyone who does not approve the role, and names an unknown role with suggestions', async () => {
    expect(await h.app.unmanagedHolders(P.dan, { role: 'DriftOne' })).toEqual({
      ok: false,
      code: 'not-approver',
    });
    expect(await h.app.unmanagedHolders(P.bob, { role: 'NoSuchRoleAtAll' })).toMatchObject({
      ok: false,
      code: 'unknown-role',
    });
  });

  it('pages a long list and sends all of it as a CSV, spreadsheet-safe', async () => {
    h.sim.tenant.addRole({ name: 'DriftLong' });
    for (let i = 0; i < 45; i++)
      h.sim.tenant.addUser({
        name: i === 0 ? '=cmd()' : `Long ${i}`,
        email: `long${i}@corp.example`,
        roles: ['DriftLong'],
      });
    const res = await h.app.unmanagedHolders(P.bob, { role: 'DriftLong' });
    if (!res.ok) throw new Error(JSON.stringify(res));
    expect(res.unmanaged).toHaveLength(45);
    const pages = [0, 1, 2].map((page) =>
      unmanagedHoldersMessage(res, { page, query: { role: 'DriftLong' }, csvAttached: true }),
    );
    for (const m of pages) expect(validateMessage(m)).toEqual([]);
    const buttons = (i: number) => JSON.stringify(pages[i]!.blocks.filter((b) => b.type === 'actions'));
    expect(buttons(0)).toContain('Next');
    expect(buttons(0)).not.toContain('Previous');
    expect(buttons(1)).toContain('Previous');
    expect(buttons(2)).not.toContain('Next');
    expect(JSON.stringify(pages[2]!.blocks)).toContain('Page 3 of 3');
    const csv = await h.app.sendUnmanagedCsv(P.bob, res);
    expect(csv).toEqual({ ok: true, rows: 45 });
    const sent = h.notifier.files.at(-1)!;
    expect(sent).toMatchObject({
      to: P.bob,
      file: { kind: 'unmanaged', entitlement: 'DriftLong', rows: 45 },
    });
    const text = sent.file.csv.toString('utf8');
    expect(text.split('\n')[0]).toBe('kind,name,email,id,status');
    expect(text).toContain("'=cmd()");
  });
});

describe('/qlik drift', () => {
  it('lists the open findings for approvers only', async () => {
    h.sim.tenant.addRole({ name: 'DriftFour' });
    const { user } = await grantedByBot('DriftFour', 'Found One');
    expect(await h.app.driftFindings(P.dan)).toEqual({ ok: false, code: 'not-approver' });
    const field = managedField(
      { kind: 'qlik-roles', instance: 'default' },
      h.sim.tenant.roleByName('DriftFour')!.id,
      {
        kind: 'user',
        id: user.id,
      },
    );
    const entry = (await h.managed.get(field))!;
    await h.managed.putFinding({ kind: 'removed', entry, foundAt: Date.now() });
    // Seen by one run only: not a finding yet (it may be a change being made right now).
    expect(await h.app.driftFindings(P.bob)).toEqual({ ok: true, findings: [] });
    await h.managed.putFinding({ kind: 'removed', entry, foundAt: Date.now(), confirmedAt: Date.now() });
    const res = await h.app.driftFindings(P.bob);
    if (!res.ok) throw new Error(JSON.stringify(res));
    expect(res.findings).toContainEqual(
      expect.objectContaining({
        kind: 'removed',
        entitlement: 'DriftFour',
        system: 'Qlik',
        principal: expect.objectContaining({ name: 'Found One' }),
      }),
    );
    const msg = driftFindingsMessage(res.findings);
    expect(validateMessage(msg)).toEqual([]);
    expect(JSON.stringify(msg.blocks)).toContain('no longer shows *DriftFour* for *Found One*');
    await h.managed.resolveFinding(field);
    expect(JSON.stringify(driftFindingsMessage([]).blocks)).toContain('No drift found');
  });
});
