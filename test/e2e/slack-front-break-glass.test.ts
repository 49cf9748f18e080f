// Break-glass end to end through the real start-up (bot and worker in one process, signed Slack HTTP): a person the
// policy names takes a role at once with `--break-glass`; the approval channel gets a loud BREAK-GLASS message that
// carries Revoke now once it is applied; an approver's Revoke now ends it, and no button is left on it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listButtons } from '../../src/sandbox/slack-fake/index.ts';
import {
  APPROVAL_CHANNEL,
  allText,
  DEFAULT_POLICY,
  type Front,
  startFront,
  U,
} from './slack-front-harness.ts';

let f: Front;
beforeAll(async () => {
  f = await startFront({
    label: 'break-glass-e2e',
    role: 'all',
    policy: `${DEFAULT_POLICY.trimEnd()}
  DataAdmin: { approvalsRequired: 2, breakGlass: { who: [${U.frank}], maxDuration: 2h } }
`,
  });
});
afterAll(async () => {
  await f?.close();
});

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

it('applies at once, announces it loudly with Revoke now, and an approver can end it', async () => {
  const refused = await f.command(U.dan, 'grant me DataAdmin for 1h because INC-1 --break-glass');
  expect(allText(refused)).toContain(
    'You are not among the people the policy lets take `DataAdmin` by break-glass',
  );

  const receipt = await f.command(U.frank, 'grant me DataAdmin for 1h because INC-4711 --break-glass');
  expect(allText(receipt)).toContain('*Break-glass*');
  const id = f.requestIdIn(receipt);
  const frank = f.sim.tenant.usersByEmail('frank@corp.example')[0]!;
  await until('the role applied', async () => (await f.store.get(id))?.state === 'applied');
  expect(f.sim.tenant.userRoleNames(frank.id)).toContain('DataAdmin');

  const announcement = await f.approvalMessage(id, (m) =>
    listButtons(m).some((b) => b.actionId === 'revoke_now'),
  );
  expect(announcement.channel).toBe(APPROVAL_CHANNEL);
  expect(allText(announcement)).toContain('BREAK-GLASS');
  expect(listButtons(announcement).map((b) => b.actionId)).toEqual(['revoke_now']);
  const audit = await f.command(U.alice, 'audit DataAdmin');
  expect(allText(audit)).toContain('break-glass');

  await f.driver.click(U.alice, announcement, 'revoke_now');
  await until('the grant revoked', async () => (await f.store.get(id))?.state === 'revoked');
  expect(f.sim.tenant.userRoleNames(frank.id)).not.toContain('DataAdmin');
  await until('the announcement without buttons', () => {
    const now = f.fake.findMessage(announcement.channel, announcement.ts)!;
    return listButtons(now).length === 0;
  });
});
