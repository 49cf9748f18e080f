// Onboarding end to end through the real start-up: `/qlik invite` over signed Slack HTTP, the approval message, the
// real worker inviting in the simulator and granting the roles, the thread reply saying each part; and a `grant` for
// a Slack user with no Qlik account answered with an Invite and grant button that files the invite when pressed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listButtons } from '../../src/sandbox/slack-fake/index.ts';
import { allText, type Front, startFront, U } from './slack-front-harness.ts';

let f: Front;
beforeAll(async () => {
  f = await startFront({ label: 'invite-e2e', role: 'all' });
});
afterAll(async () => {
  await f?.close();
});

it('invites after approval, grants the roles and the space role, and says which parts were done', async () => {
  const receipt = await f.command(
    U.dan,
    'invite newhire@corp.example with Steward in space:"Finance Reports" as "Can view" because starts Monday',
  );
  const id = f.requestIdIn(receipt);
  const msg = await f.approvalMessage(id);
  expect(msg.text).toContain(
    'invite newhire@corp.example to Qlik, then grant Steward, consumer in space Finance Reports',
  );
  await f.driver.click(U.alice, msg, 'approve');
  const reply = await f.fake.waitFor(
    (m) => m.thread_ts === msg.ts && (m.text ?? '').includes(id) && /applied/i.test(m.text ?? ''),
    15_000,
  );
  const text = allText(reply);
  expect(text).toContain('invited newhire@corp.example to Qlik');
  expect(text).toContain('Steward: granted; consumer in space Finance Reports: granted');
  expect(listButtons(reply)).toEqual([]); // an account is not revoked from Slack
  const user = f.sim.tenant.usersByEmail('newhire@corp.example')[0]!;
  expect(user.status).toBe('invited');
  expect(f.sim.tenant.userRoleNames(user.id)).toContain('Steward');
  // whois shows the account as invited.
  expect(allText(await f.command(U.dan, 'whois newhire@corp.example'))).toContain('invited');
});

it('answers a grant to someone with no Qlik account with Invite and grant, which files the invite', async () => {
  const answer = await f.command(U.dan, 'grant ghost@corp.example Steward because onboarding');
  expect(allText(answer)).toContain('Invite and grant');
  const button = listButtons(answer).find((b) => b.actionId === 'invite_and_grant');
  expect(button).toBeDefined();
  await f.driver.click(U.dan, answer, 'invite_and_grant');
  const filed = await f.fake.waitFor(
    (m) =>
      m.via === 'response_url' && m.user === U.dan && /invite ghost@corp\.example to Qlik/.test(m.text ?? ''),
    10_000,
  );
  const id = f.requestIdIn(filed);
  const req = await f.store.get(id);
  expect(req?.targetRef?.kind).toBe('qlik-account');
  expect(req?.followOns?.map((x) => x.entitlement.name)).toEqual(['Steward']);
  expect(req?.requester.id).toBe(U.dan);
});
