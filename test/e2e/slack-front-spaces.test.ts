// A space role end to end through the real start-up (src/start.ts builds the space target beside tenant roles):
// `/qlik grant … in space:"…"` over signed Slack HTTP, the approval message naming the space, Approve, the real
// worker writing the assignment in the simulator, the thread reply; then Revoke now removes only that role; and the
// space questions answered over the same path.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listButtons } from '../../src/sandbox/slack-fake/index.ts';
import { allText, type Front, startFront, U } from './slack-front-harness.ts';

let f: Front;
beforeAll(async () => {
  f = await startFront({ label: 'spaces-e2e', role: 'all' });
});
afterAll(async () => {
  await f?.close();
});

it('grants a space role after approval, says so in the thread, and Revoke now removes only that role', async () => {
  const space = f.sim.tenant.spaceByName('Finance Reports')!;
  const frank = [...f.sim.tenant.users()].find((u) => u.email === 'frank@corp.example')!;
  const receipt = await f.command(
    U.dan,
    'grant frank@corp.example "Can edit" in space:"Finance Reports" for 2h because close',
  );
  const id = f.requestIdIn(receipt);
  expect(allText(receipt)).toContain('in space *Finance Reports*');
  const msg = await f.approvalMessage(id);
  expect(msg.text).toContain('grant producer in space Finance Reports to Frank Fischer');
  await f.driver.click(U.alice, msg, 'approve');
  const reply = await f.fake.waitFor(
    (m) => m.thread_ts === msg.ts && (m.text ?? '').includes(id) && /applied/i.test(m.text ?? ''),
    15_000,
  );
  expect(f.sim.tenant.spaceRolesOf(space.id, frank.id)).toEqual(['producer']);
  expect((await f.store.get(id))?.result?.outcome).toEqual({ code: 'granted' });
  expect(listButtons(reply).map((b) => b.actionId)).toContain('revoke_now');
  await f.driver.click(U.dan, reply, 'revoke_now');
  await f.fake
    .waitFor((m) => m.thread_ts === msg.ts && allText(m).includes('Revoked'), 15_000)
    .catch(() => undefined);
  for (let i = 0; i < 200 && (await f.store.get(id))?.state !== 'revoked'; i++)
    await new Promise((r) => setTimeout(r, 25));
  expect((await f.store.get(id))?.state).toBe('revoked');
  // The assignment is gone (it held only what the grant added); group Finance's consumer role stays.
  expect(f.sim.tenant.spaceAssignment(space.id, frank.id)).toBeUndefined();
  expect(f.sim.tenant.spaceAssignments(space.id).length).toBeGreaterThan(0);
});

it('answers spaces, who-has space:"…" and a refusal naming what the space offers', async () => {
  expect(allText(await f.command(U.dan, 'spaces finance'))).toContain('Finance Reports Archive');
  const members = allText(await f.command(U.dan, 'who-has space:"Finance Reports"'));
  expect(members).toContain('Members of Finance Reports');
  expect(members).toContain('Dan Dubois');
  const refused = allText(await f.command(U.dan, 'grant me contributor in space:"Finance Reports"'));
  expect(refused).toContain('does not offer');
  expect(refused).toContain('consumer (Can view)');
});
