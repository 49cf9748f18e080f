// who-has, driven directly: the tenant-roles target's summary over the Qlik simulator, and the CSV of every holder
// handed to the notifier port.
import { describe, expect, it } from 'vitest';
import { spreadsheetSafe } from '../../../src/app/queries/who-has.ts';
import { EVERYONE_GROUP_ID } from '../../../src/sandbox/qlik-sim/index.ts';
import { whoHasMessage } from '../../../src/slack/views.ts';
import { P, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-who-has', extraTenants: ['dev'] });

describe('who-has', () => {
  it('shows the status in who-has (issue 10 item 2)', async () => {
    const who = await h.app.whoHas('SharedSpaceCreator');
    if (!who.ok) throw new Error(`refused: ${JSON.stringify(who)}`);
    expect(who.direct).toContainEqual({
      name: 'Viktor Varga',
      email: 'viktor@corp.example',
      status: 'disabled',
    });
    expect(JSON.stringify(whoHasMessage({ ...who, csvAttached: false }).blocks)).toContain(
      'Viktor Varga (viktor@corp.example) · _disabled_',
    );
  });

  it('counts direct holders, holders through groups and groups, and says when Everyone holds it', async () => {
    const who = await h.app.whoHas('sharedspacecreator');
    if (!who.ok) throw new Error(`refused: ${JSON.stringify(who)}`);
    expect(who.role).toBe('SharedSpaceCreator');
    expect(who.directTotal).toBe(who.direct.length);
    expect(who.groups).toContainEqual({ name: 'Finance' });
    expect(who.viaGroupsTotal).toBeGreaterThan(0);
    expect(who.csvNeeded).toBe(false);
    expect(who.everyone).toBe(false);
    const before = h.sim.tenant.groupRoleNames(EVERYONE_GROUP_ID);
    h.sim.tenant.setGroupRoles(EVERYONE_GROUP_ID, [...before, 'SharedSpaceCreator']);
    try {
      expect(await h.app.whoHas('SharedSpaceCreator')).toMatchObject({ ok: true, everyone: true });
    } finally {
      h.sim.tenant.setGroupRoles(EVERYONE_GROUP_ID, before);
    }
  });

  it('lists 20 holders by name and sends all of them as a CSV, spreadsheet-safe', async () => {
    const role = h.sim.tenant.roleByName('AutomationCreator')!;
    const first = await h.app.whoHas('AutomationCreator');
    const base = first.ok ? first.directTotal : 0;
    const made = Array.from({ length: 23 }, (_, i) =>
      h.sim.tenant.addUser({ name: i === 0 ? '=cmd()' : `Holder ${i}`, email: `holder${i}@corp.example` }),
    );
    for (const u of made) h.sim.tenant.setUserRoles(u.id, [role.name]);
    const who = await h.app.whoHas('AutomationCreator');
    if (!who.ok) throw new Error(`refused: ${JSON.stringify(who)}`);
    expect(who.directTotal).toBe(base + 23);
    expect(who.direct).toHaveLength(20);
    expect(who.csvNeeded).toBe(true);
    const csv = await h.app.sendHoldersCsv(who.role, P.dan, who);
    expect(csv).toEqual({ ok: true, rows: base + 23 });
    const sent = h.notifier.files.at(-1)!;
    expect(sent.to).toEqual(P.dan);
    expect(sent.file).toMatchObject({ kind: 'holders', entitlement: 'AutomationCreator', rows: base + 23 });
    const lines = String(sent.file.csv).trim().split('\n');
    expect(lines[0]).toBe('name,email,id,status');
    expect(lines).toHaveLength(base + 24);
    expect(lines).toContainEqual(expect.stringContaining("'=cmd()"));
    // Without the answer it follows, the listing looks the role up itself.
    expect(await h.app.sendHoldersCsv('AutomationCreator', P.dan)).toEqual({ ok: true, rows: base + 23 });
  });

  it('refuses an unknown role with the closest names, and an unknown tenant naming the configured ones', async () => {
    expect(await h.app.whoHas('Stewart')).toEqual({
      ok: false,
      code: 'unknown-role',
      role: 'Stewart',
      system: 'Qlik',
      suggestions: ['Steward'],
    });
    expect(await h.app.whoHas('Steward', { instance: 'prod' })).toEqual({
      ok: false,
      code: 'unknown-instance',
      instance: 'prod',
      system: 'Qlik',
      noun: 'tenant',
      configured: ['default', 'dev'],
    });
    expect(await h.app.whoHas('Steward', { instance: 'dev' })).toMatchObject({ ok: true, instance: 'dev' });
  });

  it("passes Qlik's own words through when it fails", async () => {
    h.sim.injectFault({
      method: 'GET',
      path: /^\/api\/v1\/users$/,
      status: 403,
      times: Number.POSITIVE_INFINITY,
    });
    const res = await h.app.whoHas('Steward');
    expect(res).toEqual({ ok: false, code: 'target-error', message: expect.stringMatching(/\S/) });
  });
});

describe('spreadsheetSafe', () => {
  it.each([
    ['=HYPERLINK("http://evil")', `'=HYPERLINK("http://evil")`],
    ['+1', "'+1"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['Alice', 'Alice'],
    ['alice@corp.example', 'alice@corp.example'],
  ])('%s → %s', (input, out) => {
    expect(spreadsheetSafe(input)).toBe(out);
  });
});
