// Target resolution against the Qlik simulator and the Slack fake through the real clients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holds, resolveTarget, type TargetLookups } from '../../src/app/targets.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { QlikClient } from '../../src/qlik/index.ts';
import { demoTenant, type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import { type SlackFake, startSlackFake } from '../../src/sandbox/slack-fake/index.ts';
import { createWebClient } from '../../src/slack/app.ts';
import { SlackDirectory } from '../../src/slack/directory.ts';
import { slackDirectoryPort } from '../../src/slack/people.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';

let sim: QlikSimulator;
let fake: SlackFake;
let qlik: QlikClient;
let deps: TargetLookups;

beforeAll(async () => {
  const tenant = demoTenant();
  tenant.addUser({ name: 'Twin One', email: 'twin@corp.example' });
  tenant.addUser({ name: 'Twin Two', email: 'twin@corp.example' });
  sim = await startQlikSimulator({ tenant });
  fake = await startSlackFake({
    botToken: 'xoxb-targets',
    users: [
      { id: 'U0DAN', name: 'dan', email: 'dan@corp.example' },
      { id: 'U0CONOR', name: 'conor', email: "o'brien@corp.example" },
      { id: 'U0MIXED', name: 'mixed', email: 'mixed.case@corp.example' },
      { id: 'U0TWIN', name: 'twin', email: 'twin@corp.example' },
      { id: 'U0BOT', name: 'deploybot', isBot: true },
    ],
  });
  qlik = new QlikClient({ tenantUrl: sim.url, apiKey: sim.apiKey });
  const directory = new SlackDirectory(
    createWebClient({ botToken: 'xoxb-targets', apiUrl: fake.apiUrl }, createLogger('silent')),
  );
  deps = {
    target: new QlikRolesTarget({ instance: 'default', qlik }),
    directory: slackDirectoryPort(directory),
  };
});

afterAll(async () => {
  await qlik?.close();
  await Promise.all([sim?.close(), fake?.close()]);
});

describe('resolveTarget', () => {
  it('maps `me` to the Qlik user with the profile email, with direct roles and roles through groups', async () => {
    const r = await resolveTarget({ kind: 'me' }, { front: 'slack', id: 'U0DAN' }, deps);
    if (!r.ok) throw new Error(`refused: ${JSON.stringify(r)}`);
    expect(r.target.principal).toMatchObject({
      kind: 'user',
      name: 'Dan Dubois',
      email: 'dan@corp.example',
      person: { front: 'slack', id: 'U0DAN' },
    });
    expect(r.target.direct.map((x) => x.name)).toEqual(['SharedSpaceCreator']);
    expect(r.target.viaGroups).toContainEqual({
      group: 'Finance',
      roles: [expect.objectContaining({ name: 'SharedSpaceCreator' })],
    });
  });

  it("finds emails with quotes and apostrophes, and ignores the email's case", async () => {
    const conor = await resolveTarget(
      { kind: 'person', person: { front: 'slack', id: 'U0CONOR' } },
      { front: 'slack', id: 'U0DAN' },
      deps,
    );
    expect(conor.ok && conor.target.principal.name).toBe("Conor O'Brien");
    const quote = await resolveTarget(
      { kind: 'email', email: 'a"b@corp.example' },
      { front: 'slack', id: 'U0DAN' },
      deps,
    );
    expect(quote.ok && quote.target.principal).toMatchObject({ name: 'Quote "Q" Tester' });
    expect(quote.ok && 'person' in quote.target.principal).toBe(false);
    const mixed = await resolveTarget(
      { kind: 'person', person: { front: 'slack', id: 'U0MIXED' } },
      { front: 'slack', id: 'U0DAN' },
      deps,
    );
    expect(mixed.ok && mixed.target.principal.name).toBe('Mixed Case');
  });

  it('links an email target to its Slack user, so the target cannot approve a grant to themselves', async () => {
    const r = await resolveTarget(
      { kind: 'email', email: 'dan@corp.example' },
      { front: 'slack', id: 'U0CONOR' },
      deps,
    );
    expect(r.ok && r.target.principal).toMatchObject({ person: { front: 'slack', id: 'U0DAN' } });
  });

  it("refuses to file for an email when Slack can't be asked who it is, and says why", async () => {
    for (const code of ['missing_scope', 'internal_error']) {
      fake.injectError('users.lookupByEmail', code, 1);
      const r = await resolveTarget(
        { kind: 'email', email: 'dan@corp.example' },
        { front: 'slack', id: 'U0CONOR' },
        deps,
      );
      expect(r).toEqual({ ok: false, code: 'email-lookup-failed', email: 'dan@corp.example', problem: code });
    }
    // Slack saying "no such user" is an answer: the target simply has no Slack id.
    const none = await resolveTarget(
      { kind: 'email', email: 'a"b@corp.example' },
      { front: 'slack', id: 'U0DAN' },
      deps,
    );
    expect(none.ok && none.target.principal.name).toBe('Quote "Q" Tester');
    // A read-only lookup doesn't need the Slack id, so it doesn't ask (and can't fail on it).
    fake.injectError('users.lookupByEmail', 'missing_scope', 1);
    const read = await resolveTarget(
      { kind: 'email', email: 'dan@corp.example' },
      { front: 'slack', id: 'U0CONOR' },
      deps,
      {
        linkSlack: false,
      },
    );
    expect(read.ok && read.target.principal).toMatchObject({ name: 'Dan Dubois' });
    expect(read.ok && 'person' in read.target.principal).toBe(false);
    const again = await resolveTarget(
      { kind: 'email', email: 'dan@corp.example' },
      { front: 'slack', id: 'U0CONOR' },
      deps,
    );
    expect(again.ok).toBe(false); // the injected error was still waiting: whois never called Slack
  });

  it("carries the user's Qlik status", async () => {
    const viktor = await resolveTarget(
      { kind: 'email', email: 'viktor@corp.example' },
      { front: 'slack', id: 'U0DAN' },
      deps,
    );
    expect(viktor.ok && viktor.target.status).toBe('disabled');
    const dan = await resolveTarget({ kind: 'me' }, { front: 'slack', id: 'U0DAN' }, deps);
    expect(dan.ok && dan.target.status).toBe('active');
  });

  it('refuses several Qlik users with one email, unknown Slack users and bots', async () => {
    const twin = await resolveTarget(
      { kind: 'person', person: { front: 'slack', id: 'U0TWIN' } },
      { front: 'slack', id: 'U0DAN' },
      deps,
    );
    // The words are the front's (test/slack/words.test.ts); here, the code and what they need.
    expect(twin).toEqual({
      ok: false,
      code: 'several-users',
      email: 'twin@corp.example',
      count: 2,
      system: 'Qlik',
    });
    const nobody = await resolveTarget(
      { kind: 'person', person: { front: 'slack', id: 'U0NOBODY' } },
      { front: 'slack', id: 'U0DAN' },
      deps,
    );
    expect(nobody).toEqual({ ok: false, code: 'chat-user-unknown', userId: 'U0NOBODY' });
    const bot = await resolveTarget(
      { kind: 'person', person: { front: 'slack', id: 'U0BOT' } },
      { front: 'slack', id: 'U0DAN' },
      deps,
    );
    expect(bot).toEqual({ ok: false, code: 'chat-user-bot', name: expect.any(String) });
  });

  it('matches group names exactly (Finance is not finance)', async () => {
    const upper = await resolveTarget(
      { kind: 'group', name: 'Finance' },
      { front: 'slack', id: 'U0DAN' },
      deps,
    );
    const lower = await resolveTarget(
      { kind: 'group', name: 'finance' },
      { front: 'slack', id: 'U0DAN' },
      deps,
    );
    expect(upper.ok && lower.ok).toBe(true);
    if (!upper.ok || !lower.ok) return;
    expect(upper.target.principal.id).not.toBe(lower.target.principal.id);
    expect(upper.target.direct.map((x) => x.name)).toEqual(['SharedSpaceCreator']);
    expect(lower.target.direct).toEqual([]);
    const none = await resolveTarget(
      { kind: 'group', name: 'FINANCE' },
      { front: 'slack', id: 'U0DAN' },
      deps,
    );
    expect(none.ok).toBe(false);
  });
});

describe('holds', () => {
  it('matches by id, or by name without regard to case', () => {
    const roles = [{ id: 'r1', name: 'Steward' }];
    expect(holds(roles, { id: 'r1', name: 'x' })).toBe(true);
    expect(holds(roles, { id: 'r2', name: 'steward' })).toBe(true);
    expect(holds(roles, { id: 'r2', name: 'DataAdmin' })).toBe(false);
  });
});
