// /mode end to end through the real start-up: with Mode configured (a Mode workspace simulator), a group grant goes
// command → approval message saying Mode → Approve → the real worker adding the membership → the thread reply;
// who-has and groups answer from the workspace. Without Mode configured, /mode says exactly what to set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demoModeWorkspace,
  type ModeSimulator,
  startModeSimulator,
} from '../../src/sandbox/mode-sim/index.ts';
import type { PostedMessage } from '../../src/sandbox/slack-fake/index.ts';
import { allText, type Front, startFront, U } from './slack-front-harness.ts';

/** Types `/mode <text>` as the user and returns the first answer (the ack's, or the response_url one). */
async function mode(f: Front, userId: string, text: string): Promise<PostedMessage> {
  const before = new Set(f.fake.messages);
  const res = await f.driver.slash(userId, text, { command: '/mode' });
  if (res.status !== 200) throw new Error(`slash answered ${res.status}: ${res.body}`);
  if (res.ackMessage) return res.ackMessage;
  return f.fake.waitFor((m) => m.via === 'response_url' && m.user === userId && !before.has(m), 15_000);
}

describe('/mode with a Mode workspace', () => {
  let sim: ModeSimulator;
  let f: Front;
  beforeAll(async () => {
    sim = await startModeSimulator({ workspace: demoModeWorkspace() });
    f = await startFront({
      label: 'mode-e2e',
      role: 'all',
      env: {
        MODE_WORKSPACE: sim.workspace.username,
        MODE_TOKEN: sim.token,
        MODE_SECRET: sim.secret,
        MODE_API_URL: sim.url,
      },
    });
  });
  afterAll(async () => {
    await f?.close();
    await sim?.close();
  });

  it('adds a Mode group membership after approval, once, and says so in Mode words', async () => {
    const group = sim.workspace.groupByName('Analysts')!;
    const frank = sim.workspace.memberByEmail('frank@corp.example')!;
    expect(sim.workspace.groupMemberTokens(group.token)).not.toContain(frank.memberToken);
    const receipt = await mode(f, U.dan, 'grant frank@corp.example analysts for 2w because Q3 report');
    const id = f.requestIdIn(receipt);
    const msg = await f.approvalMessage(id);
    expect(msg.text).toContain('grant Mode group Analysts to Frank');
    await f.driver.click(U.alice, msg, 'approve');
    await f.fake.waitFor((m) => m.thread_ts === msg.ts && (m.text ?? '').includes(id), 15_000);
    expect(sim.workspace.groupMemberTokens(group.token).filter((t) => t === frank.memberToken)).toHaveLength(
      1,
    );
    const done = await f.store.get(id);
    expect(done).toMatchObject({ state: 'applied', targetRef: { kind: 'mode-groups' } });
    expect(done?.result?.message).toMatch(/now has Mode group Analysts/);
    // The same questions as /qlik, from the Mode workspace.
    expect(allText(await mode(f, U.dan, 'who-has Analysts'))).toContain('Frank');
    expect(allText(await mode(f, U.dan, 'groups'))).toContain('Sales Ops');
  });

  it('gives a Mode group edit on a collection (over its view) after approval, and answers who-has for it', async () => {
    const revenue = sim.workspace.collectionByName('Revenue')!;
    const finance = sim.workspace.groupByName('Finance')!;
    const receipt = await mode(
      f,
      U.dan,
      'grant group:Finance edit in collection:"Revenue" because month end',
    );
    const id = f.requestIdIn(receipt);
    const msg = await f.approvalMessage(id);
    expect(msg.text).toContain('grant edit in Mode collection Revenue to group Finance');
    await f.driver.click(U.alice, msg, 'approve');
    await f.approvalMessage(id, (m) => allText(m).includes('*Applied*'));
    expect(
      sim.workspace
        .permissionsOf(revenue.token)
        .filter((p) => p.accessorType === 'UserGroup' && p.accessorToken === finance.token)
        .map((p) => p.action),
    ).toEqual(['edit']);
    expect(allText(await mode(f, U.dan, 'who-has collection:"Revenue"'))).toContain('Finance');
  });

  it('refuses what Mode would not let it change safely, in words', async () => {
    // A group the identity provider owns: filed, approved, and refused by the worker with the reason.
    const receipt = await mode(f, U.dan, 'grant frank@corp.example "Okta Engineers"');
    const id = f.requestIdIn(receipt);
    await f.driver.click(U.alice, await f.approvalMessage(id), 'approve');
    const failed = await f.approvalMessage(id, (m) => allText(m).includes('*Failed*'));
    expect(allText(failed)).toMatch(/identity provider/i);
    expect((await f.store.get(id))?.state).toBe('failed');
    expect(allText(await mode(f, U.dan, 'grant me Analystz'))).toMatch(/Did you mean[\s\S]*Analysts/);
    expect(allText(await mode(f, U.dan, 'gramt me Analysts'))).toContain('Did you mean `grant`?');
  });
});

describe('/mode without Mode configured', () => {
  let f: Front;
  beforeAll(async () => {
    f = await startFront({ label: 'mode-off' });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('says exactly which variables to set', async () => {
    const answer = allText(await mode(f, U.dan, 'grant me Analysts'));
    expect(answer).toMatch(/Mode is not configured[\s\S]*MODE_WORKSPACE[\s\S]*MODE_TOKEN[\s\S]*MODE_SECRET/);
  });
});
