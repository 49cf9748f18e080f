// SlackDirectory against the Slack fake: profile lookups tell deleted users, bots and missing emails apart, and
// user-group membership is cached for a bounded time (re-read after the TTL). The app's directory over it
// (slackDirectoryPort) speaks PersonRefs, and knows nobody of another front.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PersonRef } from '../../src/domain/request.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { type SlackFake, startSlackFake } from '../../src/sandbox/slack-fake/index.ts';
import { createWebClient } from '../../src/slack/app.ts';
import { SlackDirectory } from '../../src/slack/directory.ts';
import { slackDirectoryPort } from '../../src/slack/people.ts';

let fake: SlackFake;
const client = () => createWebClient({ botToken: 'xoxb-dir', apiUrl: fake.apiUrl }, createLogger('silent'));

beforeAll(async () => {
  fake = await startSlackFake({
    botToken: 'xoxb-dir',
    users: [
      { id: 'U0A', name: 'alice', realName: 'Alice A', email: 'alice@corp.example' },
      { id: 'U0B', name: 'bob', realName: 'Bob B' },
      { id: 'U0C', name: 'carl', realName: 'Carl C', email: 'carl@corp.example', deleted: true },
      { id: 'U0D', name: 'deploybot', isBot: true },
    ],
    usergroups: { S0ADMINS: ['U0A'] },
  });
});
afterAll(async () => {
  await fake?.close();
});

describe('lookupUser', () => {
  it('returns typed results for every kind of Slack user', async () => {
    const dir = new SlackDirectory(client());
    expect(await dir.lookupUser('U0A')).toEqual({
      kind: 'ok',
      userId: 'U0A',
      email: 'alice@corp.example',
      name: 'alice',
    });
    expect(await dir.lookupUser('U0B')).toMatchObject({ kind: 'no-email', name: 'bob' });
    expect(await dir.lookupUser('U0C')).toMatchObject({ kind: 'deleted' });
    expect(await dir.lookupUser('U0D')).toMatchObject({ kind: 'bot' });
    expect(await dir.lookupUser('U0ZZZ')).toEqual({ kind: 'not-found', userId: 'U0ZZZ' });
    expect(await dir.displayName('U0A')).toBe('alice');
    expect(await dir.displayName('U0ZZZ')).toBe('U0ZZZ');
    expect(await dir.findUserIdByEmail('alice@corp.example')).toBe('U0A');
    expect(await dir.findUserIdByEmail('nobody@corp.example')).toBeUndefined();
  });

  it('tells Slack\'s "no such user" apart from not being able to ask', async () => {
    const dir = new SlackDirectory(client());
    expect(await dir.findUserIdByEmail('nobody@corp.example')).toBeUndefined();
    for (const code of ['missing_scope', 'ratelimited', 'internal_error', 'invalid_auth']) {
      fake.injectError('users.lookupByEmail', code, 1);
      await expect(dir.findUserIdByEmail('alice@corp.example')).rejects.toMatchObject({
        data: { error: code },
      });
    }
    expect(await dir.findUserIdByEmail('alice@corp.example')).toBe('U0A');
  });

  it('does not remember a failed lookup', async () => {
    const dir = new SlackDirectory(client());
    fake.injectError('users.info', 'internal_error', 1);
    await expect(dir.lookupUser('U0A')).rejects.toThrow();
    expect((await dir.lookupUser('U0A')).kind).toBe('ok');
  });
});

describe('user groups', () => {
  it('answers membership from the cache within the TTL and re-reads Slack after it', async () => {
    let now = 1_000;
    const dir = new SlackDirectory(client(), { usergroupTtlMs: 60_000, now: () => now });
    fake.setUsergroup('S0ADMINS', ['U0A']);
    expect(await dir.isInAny('U0B', ['S0ADMINS'])).toBe(false);
    fake.setUsergroup('S0ADMINS', ['U0A', 'U0B']);
    now += 59_000;
    expect(await dir.isInAny('U0B', ['S0ADMINS'])).toBe(false);
    now += 2_000;
    expect(await dir.isInAny('U0B', ['S0ADMINS'])).toBe(true);
    const calls = fake.calls.filter(
      (c) => c.method === 'usergroups.users.list' && c.args.usergroup === 'S0ADMINS',
    );
    expect(calls.length).toBe(2);
  });

  it('lists users directly, and treats an unknown group as empty', async () => {
    const dir = new SlackDirectory(client());
    expect(await dir.isInAny('U0B', ['U0B'])).toBe(true);
    expect(await dir.isInAny('U0A', ['S0NOSUCH'])).toBe(false);
    expect(await dir.usergroupMembers('S0NOSUCH')).toEqual([]);
  });
});

describe("the app's directory on Slack (slackDirectoryPort)", () => {
  const slack = (id: string): PersonRef => ({ front: 'slack', id });
  // No other front exists yet; a person of one must still not pass for the Slack user with the same id.
  const elsewhere = (id: string) => ({ front: 'mode', id }) as unknown as PersonRef;

  it('answers in PersonRefs, asking Slack by the user id', async () => {
    const dir = slackDirectoryPort(new SlackDirectory(client()));
    expect(await dir.lookupUser(slack('U0A'))).toEqual({
      kind: 'ok',
      person: slack('U0A'),
      email: 'alice@corp.example',
      name: 'alice',
    });
    expect(await dir.lookupUser(slack('U0B'))).toEqual({
      kind: 'no-email',
      person: slack('U0B'),
      name: 'bob',
    });
    expect(await dir.lookupUser(slack('U0C'))).toMatchObject({ kind: 'deleted', person: slack('U0C') });
    expect(await dir.lookupUser(slack('U0D'))).toMatchObject({ kind: 'bot', person: slack('U0D') });
    expect(await dir.lookupUser(slack('U0ZZZ'))).toEqual({ kind: 'not-found', person: slack('U0ZZZ') });
    expect(await dir.findPersonByEmail('alice@corp.example')).toEqual(slack('U0A'));
    expect(await dir.findPersonByEmail('nobody@corp.example')).toBeUndefined();
    fake.setUsergroup('S0ADMINS', ['U0A']);
    expect(await dir.isInAny(slack('U0A'), ['S0ADMINS'])).toBe(true);
    expect(await dir.isInAny(slack('U0B'), ['U0B'])).toBe(true);
    expect(await dir.isInAny(slack('U0B'), ['S0ADMINS'])).toBe(false);
  });

  it('finds no one of another front and puts them in no approver list, without asking Slack', async () => {
    const dir = slackDirectoryPort(new SlackDirectory(client()));
    fake.setUsergroup('S0ADMINS', ['U0A']);
    const before = fake.calls.length;
    expect(await dir.lookupUser(elsewhere('U0A'))).toEqual({ kind: 'not-found', person: elsewhere('U0A') });
    expect(await dir.isInAny(elsewhere('U0A'), ['U0A', 'S0ADMINS'])).toBe(false);
    expect(fake.calls.length).toBe(before);
  });
});
