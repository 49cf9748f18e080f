// Drift end to end through the real start-up (bot and worker in one process, signed Slack HTTP): a grant approved
// and applied, then removed in the Qlik simulator by hand, is reported to the approval channel by the worker's
// scheduled check, once; `/qlik drift` lists it for an approver and refuses anyone else; `/qlik drift <role>` pages
// through the holders no request of the bot granted (Next replaces the page) and sends them all as a CSV.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoTenant } from '../../src/sandbox/qlik-sim/index.ts';
import { APPROVAL_CHANNEL, allText, type Front, startFront, U } from './slack-front-harness.ts';

let f: Front;
beforeAll(async () => {
  const tenant = demoTenant();
  tenant.addRole({ name: 'DriftE2E' });
  for (let i = 0; i < 25; i++)
    tenant.addUser({
      name: `Hand ${String(i).padStart(2, '0')}`,
      email: `hand${i}@corp.example`,
      roles: ['DriftE2E'],
    });
  f = await startFront({ label: 'drift-e2e', role: 'all', tenant, env: { DRIFT_CHECK_EVERY: '1s' } });
});
afterAll(async () => {
  await f?.close();
});

it('reports a grant removed in Qlik by hand to the approval channel once, and lists it with /qlik drift', async () => {
  const receipt = await f.command(U.dan, 'grant <@U0FRANK|frank> Steward because drift test');
  const id = f.requestIdIn(receipt);
  await f.driver.click(U.alice, await f.approvalMessage(id), 'approve');
  const frank = f.sim.tenant.usersByEmail('frank@corp.example')[0]!;
  for (let i = 0; i < 200 && (await f.store.get(id))?.state !== 'applied'; i++)
    await new Promise((r) => setTimeout(r, 25));
  expect(f.sim.tenant.userRoleNames(frank.id)).toContain('Steward');

  f.sim.tenant.removeUserRole(frank.id, 'Steward');
  const report = await f.fake.waitFor(
    (m) => m.channel === APPROVAL_CHANNEL && (m.text ?? '').startsWith('Drift:') && allText(m).includes(id),
    15_000,
  );
  expect(allText(report)).toContain('no longer shows *Steward* for *Frank Fischer* (frank@corp.example)');
  // A few more runs of the check: still one report.
  await new Promise((r) => setTimeout(r, 2_500));
  expect(
    f.fake.messages.filter((m) => (m.text ?? '').startsWith('Drift:') && allText(m).includes(id)),
  ).toHaveLength(1);

  expect(allText(await f.command(U.dan, 'drift'))).toContain('Only approvers can see drift.');
  const list = await f.command(U.alice, 'drift');
  expect(allText(list)).toContain('no longer shows *Steward* for *Frank Fischer*');
});

it('pages through the holders no request of the bot granted, and sends them all as a CSV', async () => {
  expect(allText(await f.command(U.dan, 'drift DriftE2E'))).toContain(
    'Only approvers of `DriftE2E` can see which of its holders the bot did not grant.',
  );
  const first = await f.command(U.bob, 'drift DriftE2E');
  const text = allText(first);
  expect(text).toContain('*25 of 25* direct holders of *DriftE2E*');
  expect(text).toContain('Page 1 of 2');
  expect(text).toContain('Hand 00');
  await f.fake.waitFor((m) => (m.files?.length ?? 0) > 0 && m.channel === f.fake.dmChannelOf(U.bob), 15_000);
  const file = f.fake.files.find((x) => x.filename.startsWith('drift-DriftE2E-'));
  expect(file?.channels).toContain(f.fake.dmChannelOf(U.bob));
  const lines = file!.content.toString('utf8').trimEnd().split('\n');
  expect(lines[0]).toBe('kind,name,email,id,status');
  expect(lines).toHaveLength(26);

  await f.driver.click(U.bob, first, 'drift_page_next');
  const replaced = await f.fake.waitFor(
    (m) => m.ts === first.ts && allText(m).includes('Page 2 of 2'),
    10_000,
  );
  expect(allText(replaced)).toContain('Previous');
  expect(allText(replaced)).not.toContain('Hand 00*');
});
