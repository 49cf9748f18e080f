// The ack never waits for Qlik: who-has on a 50,000-user tenant answers through response_url with the full list
// as a CSV file, and with Qlik answering in 5 s a grant is still acked at once and answered later.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EVERYONE_GROUP_ID, generateTenant } from '../../src/sandbox/qlik-sim/index.ts';
import { allText, type Front, startFront, U } from './slack-front-harness.ts';

const HOLDERS = 6_000;
let f: Front;

beforeAll(async () => {
  const tenant = generateTenant({
    users: 50_000,
    groups: 100,
    seed: 7,
    roleMix: { ManagedSpaceCreator: HOLDERS },
    groupRoles: { ManagedSpaceCreator: 3 },
  });
  // The slash-command users must exist in Qlik by email for the grant below.
  tenant.addUser({ name: 'Frank Fischer', email: 'frank@corp.example' });
  f = await startFront({ label: 'scale', tenant });
}, 60_000);

afterAll(async () => {
  await f?.close();
});

it('who-has on a 50,000-user tenant: acked first, summary via response_url, every holder in the CSV', async () => {
  const res = await f.driver.slash(U.dan, 'who-has managedspacecreator');
  const ackedAt = Date.now();
  expect(res.status).toBe(200);
  expect(res.body).toBe('');

  const summary = await f.fake.waitFor((m) => m.via === 'response_url' && m.user === U.dan, 30_000);
  expect(summary.at).toBeGreaterThanOrEqual(ackedAt);
  const text = allText(summary);
  expect(text).toContain(`*${HOLDERS}* people hold *ManagedSpaceCreator* directly`);
  expect(text).toContain('full list is attached as CSV');
  expect(text).toContain('3 groups');
  expect((text.match(/• /g) ?? []).length).toBe(20);
  expect(text).not.toContain('Everyone');

  await f.fake.waitFor((m) => m.via === 'files.completeUploadExternal' || (m.files?.length ?? 0) > 0, 60_000);
  const file = f.fake.files.find((x) => x.filename.startsWith('who-has-ManagedSpaceCreator'));
  expect(file).toBeDefined();
  expect(file?.channels).toContain(f.fake.dmChannelOf(U.dan));
  const lines = file!.content.toString('utf8').trimEnd().split('\n');
  expect(lines[0]).toBe('name,email,id,status');
  expect(lines).toHaveLength(HOLDERS + 1);
  const ids = new Set(lines.slice(1).map((l) => l.split(',').at(-2)));
  expect(ids.size).toBe(HOLDERS);
}, 90_000);

it('acks at once while Qlik takes 5 s per call, and answers through response_url', async () => {
  await f.command(U.dan, 'roles'); // warm the role cache, as a running bot would have it
  f.sim.setLatency(5_000);
  try {
    const answered = () =>
      f.fake.messages.filter(
        (m) => m.via === 'response_url' && m.user === U.frank && allText(m).includes('Steward'),
      );
    const res = await f.driver.slash(U.frank, 'grant me Steward because slow day');
    const ackedAt = Date.now();
    expect(res.status).toBe(200);
    expect(answered()).toHaveLength(0);
    const receipt = await f.fake.waitFor(
      (m) => m.via === 'response_url' && m.user === U.frank && allText(m).includes('Steward'),
      20_000,
    );
    expect(receipt.at).toBeGreaterThan(ackedAt);
    expect(receipt.text).toMatch(/Request R-\w+ filed/);
  } finally {
    f.sim.setLatency(0);
  }
}, 30_000);

it('who-has says when the Everyone group holds the role (group listings leave system groups out)', async () => {
  f.sim.tenant.setGroupRoles(EVERYONE_GROUP_ID, ['DataSpaceCreator']);
  try {
    const text = allText(await f.command(U.dan, 'who-has DataSpaceCreator'));
    expect(text).toContain(
      'The *Everyone* group holds *DataSpaceCreator*, so every user of the tenant has it.',
    );
  } finally {
    f.sim.tenant.setGroupRoles(EVERYONE_GROUP_ID, []);
  }
}, 30_000);
