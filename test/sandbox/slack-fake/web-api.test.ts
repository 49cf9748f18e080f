// The fake Web API driven by the real @slack/web-api WebClient, as the bot will drive it.
import { type Logger, LogLevel, WebClient, WebClientEvent } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SlackFake, startSlackFake } from '../../../src/sandbox/slack-fake/index.ts';

const TOKEN = 'xoxb-test-fake-token';
// The fake answers invalid_blocks with response_metadata messages, which the WebClient logs as errors: keep quiet.
const quiet: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};
let fake: SlackFake;
let client: WebClient;

function section(text: string, extra: Record<string, unknown> = {}) {
  return { type: 'section', text: { type: 'mrkdwn', text }, ...extra };
}

function approveDeny(value = 'R-1') {
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: 'approve',
        text: { type: 'plain_text', text: 'Approve' },
        value,
        style: 'primary',
      },
      {
        type: 'button',
        action_id: 'deny',
        text: { type: 'plain_text', text: 'Deny' },
        value,
        style: 'danger',
      },
    ],
  };
}

/** The Slack error code a WebClient call failed with. */
async function slackError(p: Promise<unknown>): Promise<{ error: string; errors?: string[] }> {
  try {
    await p;
  } catch (e) {
    const data = (e as { data?: { error: string; errors?: string[] } }).data;
    if (data) return data;
    throw e;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  fake = await startSlackFake({
    botToken: TOKEN,
    users: [
      { id: 'U0ALICE', name: 'alice', realName: 'Alice Andersson', email: 'alice@corp.example' },
      { id: 'U0BOB', name: 'bob' },
      { id: 'U0GONE', name: 'gone', email: 'gone@corp.example', deleted: true },
    ],
    channels: [{ id: 'C0APPROVE', name: 'qlik-approvals' }],
    usergroups: { S0ADMINS: ['U0ALICE', 'U0BOB'] },
  });
  client = new WebClient(TOKEN, {
    slackApiUrl: fake.apiUrl,
    logger: quiet,
    retryConfig: { retries: 3, factor: 1, minTimeout: 10, maxTimeout: 10 },
  });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.clear();
});

describe('auth', () => {
  it('answers auth.test for the bot token with the bot identity', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({
      ok: true,
      team_id: fake.teamId,
      user_id: fake.botUserId,
      bot_id: fake.botId,
    });
  });

  it('rejects a wrong token (invalid_auth) and a missing one (not_authed)', async () => {
    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: fake.apiUrl, logLevel: LogLevel.ERROR });
    expect((await slackError(wrong.auth.test())).error).toBe('invalid_auth');
    const none = new WebClient(undefined, { slackApiUrl: fake.apiUrl, logLevel: LogLevel.ERROR });
    expect((await slackError(none.auth.test())).error).toBe('not_authed');
  });

  it('reads a token from a form body but not from a JSON body (Slack wants the header for JSON)', async () => {
    const form = await fetch(`${fake.apiUrl}auth.test`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
    expect(await form.json()).toMatchObject({ ok: true });
    const json = await fetch(`${fake.apiUrl}auth.test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: TOKEN }),
    });
    expect(await json.json()).toMatchObject({ ok: false, error: 'not_authed' });
  });

  it('accepts JSON bodies with a bearer token, blocks as a real array', async () => {
    const res = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: 'C0APPROVE', text: 'json', blocks: [section('from *JSON*')] }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C0APPROVE' });
    expect(fake.messages[0]?.blocks).toHaveLength(1);
  });

  it('answers unknown_method for a method it does not know', async () => {
    expect((await slackError(client.apiCall('chat.teleport', {}))).error).toBe('unknown_method');
  });
});

describe('chat.postMessage', () => {
  it('posts to a channel, returns ts/channel/message and records it with generated block_ids', async () => {
    const res = await client.chat.postMessage({
      channel: 'C0APPROVE',
      text: 'alice asks for Admin',
      blocks: [section('*alice* asks for `Admin`'), approveDeny()],
    });
    expect(res.ok).toBe(true);
    expect(res.channel).toBe('C0APPROVE');
    expect(res.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(res.message?.text).toBe('alice asks for Admin');
    const m = fake.messages[0]!;
    expect(m).toMatchObject({ channel: 'C0APPROVE', ts: res.ts, ephemeral: false, via: 'chat.postMessage' });
    const blocks = m.blocks as { block_id?: string }[];
    expect(blocks.every((b) => typeof b.block_id === 'string' && b.block_id.length > 0)).toBe(true);
    expect(res.message?.blocks?.[0]?.block_id).toBe(blocks[0]?.block_id);
    expect(fake.calls.at(-1)).toMatchObject({ method: 'chat.postMessage', status: 200 });
    expect(fake.calls.at(-1)?.args).not.toHaveProperty('token');
  });

  it('gives strictly increasing ts values', async () => {
    const a = await client.chat.postMessage({ channel: 'C0APPROVE', text: 'a' });
    const b = await client.chat.postMessage({ channel: 'C0APPROVE', text: 'b' });
    expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
  });

  it('resolves a channel name and posts thread replies', async () => {
    const parent = await client.chat.postMessage({ channel: '#qlik-approvals', text: 'parent' });
    expect(parent.channel).toBe('C0APPROVE');
    await client.chat.postMessage({ channel: 'C0APPROVE', text: 'reply', thread_ts: parent.ts! });
    expect(fake.messages[1]).toMatchObject({ thread_ts: parent.ts, text: 'reply' });
  });

  it('posts to a user id as a DM in the channel conversations.open returns', async () => {
    const open = await client.conversations.open({ users: 'U0ALICE' });
    expect(open.channel?.id).toBe(fake.dmChannelOf('U0ALICE'));
    expect(open.channel?.id).toMatch(/^D/);
    const again = await client.conversations.open({ users: 'U0ALICE' });
    expect(again.channel?.id).toBe(open.channel?.id);
    const res = await client.chat.postMessage({ channel: 'U0ALICE', text: 'your request was approved' });
    expect(res.channel).toBe(open.channel?.id);
    await client.chat.postMessage({ channel: open.channel!.id!, text: 'second DM' });
    expect(fake.messages.map((m) => m.channel)).toEqual([open.channel?.id, open.channel?.id]);
  });

  it('refuses unknown channels and DMs with deactivated users', async () => {
    expect((await slackError(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' }))).error).toBe(
      'channel_not_found',
    );
    expect((await slackError(client.conversations.open({ users: 'U0GONE' }))).error).toBe('user_disabled');
    expect((await slackError(client.conversations.open({ users: 'U0NOBODY' }))).error).toBe('user_not_found');
  });

  it('answers no_text when there is neither text nor blocks', async () => {
    expect((await slackError(client.chat.postMessage({ channel: 'C0APPROVE', text: '' }))).error).toBe(
      'no_text',
    );
    expect(fake.messages).toHaveLength(0);
  });

  it('accepts messages exactly at Block Kit limits', async () => {
    const longButton = 'x'.repeat(75);
    const res = await client.chat.postMessage({
      channel: 'C0APPROVE',
      text: 'at the limits',
      blocks: [
        section('y'.repeat(3000)),
        {
          type: 'section',
          fields: Array.from({ length: 10 }, (_, i) => ({ type: 'mrkdwn', text: `f${i}` })),
        },
        {
          type: 'actions',
          elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: longButton } }],
        },
        ...Array.from({ length: 47 }, (_, i) => section(`s${i}`)),
      ],
    });
    expect(res.ok).toBe(true);
    expect(fake.messages[0]?.blocks).toHaveLength(50);
  });

  it.each([
    ['51 blocks', Array.from({ length: 51 }, (_, i) => section(`s${i}`)), '/blocks'],
    ['section text of 3001 characters', [section('y'.repeat(3001))], '/blocks/0/text/text'],
    [
      '11 fields',
      [
        {
          type: 'section',
          fields: Array.from({ length: 11 }, (_, i) => ({ type: 'mrkdwn', text: `f${i}` })),
        },
      ],
      '/blocks/0/fields',
    ],
    [
      'button text of 76 characters',
      [
        {
          type: 'actions',
          elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'x'.repeat(76) } }],
        },
      ],
      '/blocks/0/elements/0/text/text',
    ],
    ['an unknown block type', [{ type: 'banner', text: 'hi' }], '/blocks/0/type'],
    [
      'duplicate block_ids',
      [section('a', { block_id: 'b1' }), section('b', { block_id: 'b1' })],
      '/blocks/1/block_id',
    ],
  ])('answers invalid_blocks for %s, naming the JSON pointer', async (_name, blocks, pointer) => {
    const err = await slackError(client.chat.postMessage({ channel: 'C0APPROVE', text: 'fallback', blocks }));
    expect(err.error).toBe('invalid_blocks');
    expect(err.errors?.some((e) => e.includes(`[json-pointer:${pointer}]`))).toBe(true);
    expect(fake.messages).toHaveLength(0);
  });

  it('answers invalid_blocks_format when blocks is not a JSON array', async () => {
    const res = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${TOKEN}` },
      body: new URLSearchParams({ channel: 'C0APPROVE', text: 'x', blocks: '{"type":"section"' }).toString(),
    });
    expect(await res.json()).toMatchObject({ ok: false, error: 'invalid_blocks_format' });
  });
});

describe('chat.update', () => {
  it('replaces text and blocks, keeps the history, and returns the message', async () => {
    const posted = await client.chat.postMessage({
      channel: 'C0APPROVE',
      text: 'pending',
      blocks: [section('pending'), approveDeny()],
    });
    const res = await client.chat.update({
      channel: 'C0APPROVE',
      ts: posted.ts!,
      text: 'approved by bob',
      blocks: [section('approved by <@U0BOB>')],
    });
    expect(res).toMatchObject({ ok: true, channel: 'C0APPROVE', ts: posted.ts, text: 'approved by bob' });
    const m = fake.messages[0]!;
    expect(m.text).toBe('approved by bob');
    expect(m.blocks).toHaveLength(1);
    expect(m.updates).toHaveLength(1);
    expect(m.updates[0]).toMatchObject({ ts: posted.ts, text: 'approved by bob' });
  });

  it('keeps the blocks when only text is sent, and removes them with an empty array', async () => {
    const posted = await client.chat.postMessage({
      channel: 'C0APPROVE',
      text: 't',
      blocks: [section('keep me')],
    });
    await client.chat.update({ channel: 'C0APPROVE', ts: posted.ts!, text: 't2' });
    expect(fake.messages[0]?.blocks).toHaveLength(1);
    await client.chat.update({ channel: 'C0APPROVE', ts: posted.ts!, text: 't3', blocks: [] });
    expect(fake.messages[0]?.blocks).toEqual([]);
  });

  it('answers message_not_found for an unknown ts, another channel, or an ephemeral message', async () => {
    const posted = await client.chat.postMessage({ channel: 'C0APPROVE', text: 'x' });
    expect(
      (await slackError(client.chat.update({ channel: 'C0APPROVE', ts: '1.000001', text: 'y' }))).error,
    ).toBe('message_not_found');
    const dm = await client.conversations.open({ users: 'U0BOB' });
    expect(
      (await slackError(client.chat.update({ channel: dm.channel!.id!, ts: posted.ts!, text: 'y' }))).error,
    ).toBe('message_not_found');
    const eph = await client.chat.postEphemeral({ channel: 'C0APPROVE', user: 'U0BOB', text: 'only bob' });
    expect(
      (await slackError(client.chat.update({ channel: 'C0APPROVE', ts: eph.message_ts!, text: 'y' }))).error,
    ).toBe('message_not_found');
  });

  it('wants the DM channel id, not the user id, as Slack documents', async () => {
    const posted = await client.chat.postMessage({ channel: 'U0BOB', text: 'dm' });
    expect(
      (await slackError(client.chat.update({ channel: 'U0BOB', ts: posted.ts!, text: 'y' }))).error,
    ).toBe('channel_not_found');
    await client.chat.update({ channel: posted.channel!, ts: posted.ts!, text: 'y' });
    expect(fake.messages[0]?.text).toBe('y');
  });

  it('validates the new blocks like chat.postMessage', async () => {
    const posted = await client.chat.postMessage({ channel: 'C0APPROVE', text: 'x' });
    const blocks = Array.from({ length: 51 }, (_, i) => section(`s${i}`));
    expect(
      (await slackError(client.chat.update({ channel: 'C0APPROVE', ts: posted.ts!, text: 'y', blocks })))
        .error,
    ).toBe('invalid_blocks');
    expect(fake.messages[0]?.updates).toHaveLength(0);
  });
});

describe('chat.postEphemeral', () => {
  it('records an ephemeral message for one user and returns message_ts', async () => {
    const res = await client.chat.postEphemeral({ channel: 'C0APPROVE', user: 'U0ALICE', text: 'only you' });
    expect(res.ok).toBe(true);
    expect(fake.messages[0]).toMatchObject({
      channel: 'C0APPROVE',
      ts: res.message_ts,
      user: 'U0ALICE',
      ephemeral: true,
      via: 'chat.postEphemeral',
    });
  });

  it('needs a user who can be in the conversation', async () => {
    const missing = await slackError(
      client.apiCall('chat.postEphemeral', { channel: 'C0APPROVE', text: 'x' }),
    );
    expect(missing.error).toBe('user_not_in_channel');
    const otherDm = await slackError(
      client.chat.postEphemeral({ channel: fake.dmChannelOf('U0ALICE'), user: 'U0BOB', text: 'x' }),
    );
    expect(otherDm.error).toBe('user_not_in_channel');
  });
});

describe('users and usergroups', () => {
  it('users.info returns the profile with email only when the user has one', async () => {
    const alice = await client.users.info({ user: 'U0ALICE' });
    expect(alice.user).toMatchObject({
      id: 'U0ALICE',
      name: 'alice',
      deleted: false,
      real_name: 'Alice Andersson',
      profile: { email: 'alice@corp.example', real_name: 'Alice Andersson' },
    });
    const bob = await client.users.info({ user: 'U0BOB' });
    expect(bob.user?.profile).not.toHaveProperty('email');
    const gone = await client.users.info({ user: 'U0GONE' });
    expect(gone.user?.deleted).toBe(true);
    expect((await slackError(client.users.info({ user: 'U0NOBODY' }))).error).toBe('user_not_found');
  });

  it('users.lookupByEmail finds by email, case-insensitively', async () => {
    const res = await client.users.lookupByEmail({ email: 'Alice@Corp.Example' });
    expect(res.user?.id).toBe('U0ALICE');
    expect((await slackError(client.users.lookupByEmail({ email: 'nobody@corp.example' }))).error).toBe(
      'users_not_found',
    );
  });

  it('addUser makes a user visible to the API', async () => {
    fake.addUser({ id: 'U0CAROL', name: 'carol', email: 'carol@corp.example' });
    expect((await client.users.info({ user: 'U0CAROL' })).user?.name).toBe('carol');
  });

  it('usergroups.users.list lists members, follows setUsergroup, and answers no_such_subteam', async () => {
    expect((await client.usergroups.users.list({ usergroup: 'S0ADMINS' })).users).toEqual([
      'U0ALICE',
      'U0BOB',
    ]);
    fake.setUsergroup('S0ADMINS', ['U0BOB']);
    expect((await client.usergroups.users.list({ usergroup: 'S0ADMINS' })).users).toEqual(['U0BOB']);
    expect((await slackError(client.usergroups.users.list({ usergroup: 'S0NOPE' }))).error).toBe(
      'no_such_subteam',
    );
  });

  it('users.list pages with a cursor', async () => {
    const names: string[] = [];
    let pages = 0;
    for await (const page of client.paginate('users.list', { limit: 2 })) {
      pages += 1;
      names.push(...((page as { members?: { name: string }[] }).members ?? []).map((m) => m.name));
    }
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(names).toEqual(expect.arrayContaining(['alice', 'bob', 'gone']));
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('files (filesUploadV2)', () => {
  it('records the uploaded content, channel, title, comment and thread end to end', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0APPROVE', text: 'audit export' });
    const csv = 'time,actor,action\n2026-01-01T00:00:00Z,alice,grant\n';
    const res = await client.filesUploadV2({
      channel_id: 'C0APPROVE',
      filename: 'audit.csv',
      title: 'Audit export',
      content: csv,
      initial_comment: 'Here is the export',
      thread_ts: parent.ts!,
    });
    expect(res.ok).toBe(true);
    expect(fake.files).toHaveLength(1);
    const f = fake.files[0]!;
    expect(f).toMatchObject({
      channels: ['C0APPROVE'],
      filename: 'audit.csv',
      title: 'Audit export',
      initialComment: 'Here is the export',
      thread_ts: parent.ts,
    });
    expect(f.content.toString('utf8')).toBe(csv);
    expect(f.id).toMatch(/^F/);
    const share = fake.messages.find((m) => m.via === 'files.completeUploadExternal');
    expect(share).toMatchObject({ channel: 'C0APPROVE', text: 'Here is the export', thread_ts: parent.ts });
    expect(share?.files?.[0]).toMatchObject({ id: f.id, filename: 'audit.csv' });
    expect(fake.calls.map((c) => c.method)).toEqual([
      'chat.postMessage',
      'files.getUploadURLExternal',
      'files.completeUploadExternal',
    ]);
  });

  it('uploads binary content (a Buffer) byte for byte', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 255]);
    await client.filesUploadV2({ channel_id: 'C0APPROVE', filename: 'blob.bin', file: bytes });
    expect(fake.files[0]?.content.equals(bytes)).toBe(true);
  });

  it('refuses to complete a file that was never uploaded', async () => {
    const url = await client.files.getUploadURLExternal({ filename: 'x.txt', length: 3 });
    const err = await slackError(client.files.completeUploadExternal({ files: [{ id: url.file_id! }] }));
    expect(err.error).toBe('file_not_found');
  });
});

describe('rate limits and injected errors', () => {
  it('answers 429 with Retry-After; the WebClient waits, retries and succeeds', async () => {
    fake.injectRateLimit('chat.postMessage', 1);
    const seen: number[] = [];
    client.once(WebClientEvent.RATE_LIMITED, (retryAfter: number) => seen.push(retryAfter));
    const res = await client.chat.postMessage({ channel: 'C0APPROVE', text: 'after the limit' });
    expect(res.ok).toBe(true);
    expect(seen).toEqual([1]);
    const posts = fake.calls.filter((c) => c.method === 'chat.postMessage');
    expect(posts.map((c) => c.status)).toEqual([429, 200]);
    expect(posts[0]?.error).toBe('ratelimited');
    expect(fake.messages).toHaveLength(1);
  });

  it('answers 429 to a client that rejects rate-limited calls', async () => {
    fake.injectRateLimit('users.info', 30);
    const strict = new WebClient(TOKEN, {
      slackApiUrl: fake.apiUrl,
      logLevel: LogLevel.ERROR,
      rejectRateLimitedCalls: true,
    });
    await expect(strict.users.info({ user: 'U0ALICE' })).rejects.toMatchObject({
      code: 'slack_webapi_rate_limited_error',
      retryAfter: 30,
    });
    expect((await strict.users.info({ user: 'U0ALICE' })).ok).toBe(true);
  });

  it('injectError answers {ok:false,error} the given number of times, then recovers', async () => {
    fake.injectError('chat.update', 'cant_update_message', 2);
    const posted = await client.chat.postMessage({ channel: 'C0APPROVE', text: 'x' });
    for (let i = 0; i < 2; i++) {
      expect(
        (await slackError(client.chat.update({ channel: 'C0APPROVE', ts: posted.ts!, text: 'y' }))).error,
      ).toBe('cant_update_message');
    }
    expect((await client.chat.update({ channel: 'C0APPROVE', ts: posted.ts!, text: 'y' })).ok).toBe(true);
  });
});

describe('message metadata, conversations.replies and conversations.history', () => {
  const metadata = { event_type: 'qab_notify', event_payload: { request_id: 'R-1', step: 'thread', seq: 2 } };

  it('keeps chat.postMessage metadata and returns it only with include_all_metadata', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0APPROVE', text: 'parent' });
    const reply = await client.chat.postMessage({
      channel: 'C0APPROVE',
      thread_ts: parent.ts!,
      text: 'reply',
      metadata,
    });
    expect(fake.findMessage('C0APPROVE', reply.ts!)?.metadata).toEqual(metadata);
    const plain = await client.conversations.replies({ channel: 'C0APPROVE', ts: parent.ts! });
    expect(plain.messages?.map((m) => m.text)).toEqual(['parent', 'reply']);
    expect(plain.messages?.every((m) => !('metadata' in m))).toBe(true);
    const full = await client.conversations.replies({
      channel: 'C0APPROVE',
      ts: parent.ts!,
      include_all_metadata: true,
    });
    expect(full.messages?.[1]).toMatchObject({ ts: reply.ts, thread_ts: parent.ts, metadata });
    // A reply's own ts reads the same thread, as Slack does.
    const viaReply = await client.conversations.replies({ channel: 'C0APPROVE', ts: reply.ts! });
    expect(viaReply.messages?.map((m) => m.ts)).toEqual([parent.ts, reply.ts]);
  });

  it('accepts metadata as a JSON string (form bodies) and refuses malformed metadata as Slack does', async () => {
    const posted = await client.apiCall('chat.postMessage', {
      channel: 'C0APPROVE',
      text: 'x',
      metadata: JSON.stringify(metadata),
    });
    expect(fake.findMessage('C0APPROVE', (posted as { ts?: string }).ts!)?.metadata).toEqual(metadata);
    expect(
      (
        await slackError(
          client.apiCall('chat.postMessage', { channel: 'C0APPROVE', text: 'x', metadata: '{' }),
        )
      ).error,
    ).toBe('invalid_metadata_format');
    expect(
      (
        await slackError(
          client.apiCall('chat.postMessage', {
            channel: 'C0APPROVE',
            text: 'x',
            metadata: { event_payload: {} },
          }),
        )
      ).error,
    ).toBe('invalid_metadata_schema');
  });

  it('pages a thread with a cursor and answers thread_not_found for an unknown ts', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0APPROVE', text: 'p' });
    for (let i = 0; i < 4; i++)
      await client.chat.postMessage({ channel: 'C0APPROVE', thread_ts: parent.ts!, text: `r${i}` });
    const first = await client.conversations.replies({ channel: 'C0APPROVE', ts: parent.ts!, limit: 3 });
    expect(first.messages?.map((m) => m.text)).toEqual(['p', 'r0', 'r1']);
    expect(first.has_more).toBe(true);
    const rest = await client.conversations.replies({
      channel: 'C0APPROVE',
      ts: parent.ts!,
      limit: 3,
      cursor: first.response_metadata!.next_cursor!,
    });
    expect(rest.messages?.map((m) => m.text)).toEqual(['r2', 'r3']);
    expect(rest.response_metadata?.next_cursor).toBe('');
    expect(
      (await slackError(client.conversations.replies({ channel: 'C0APPROVE', ts: '1.000001' }))).error,
    ).toBe('thread_not_found');
  });

  it('conversations.history lists top-level messages newest first, metadata only when asked', async () => {
    const dm = await client.conversations.open({ users: 'U0ALICE' });
    const channel = dm.channel!.id!;
    await client.chat.postMessage({ channel, text: 'one' });
    const two = await client.chat.postMessage({ channel, text: 'two', metadata });
    await client.chat.postMessage({ channel, text: 'in thread', thread_ts: two.ts! });
    const h = await client.conversations.history({ channel, include_all_metadata: true });
    expect(h.messages?.map((m) => m.text)).toEqual(['two', 'one']);
    expect(h.messages?.[0]).toMatchObject({ metadata });
    const plain = await client.conversations.history({ channel });
    expect(plain.messages?.every((m) => !('metadata' in m))).toBe(true);
  });

  it('injectLostAnswer carries the call out but loses the answer', async () => {
    const once = new WebClient(TOKEN, {
      slackApiUrl: fake.apiUrl,
      logger: quiet,
      retryConfig: { retries: 0 },
    });
    fake.injectLostAnswer('chat.postMessage');
    await expect(once.chat.postMessage({ channel: 'C0APPROVE', text: 'lost' })).rejects.toThrow();
    expect(fake.messages.filter((m) => m.text === 'lost')).toHaveLength(1);
    // Only once: the next call is answered.
    expect((await once.chat.postMessage({ channel: 'C0APPROVE', text: 'ok' })).ok).toBe(true);
  });
});

describe('waitFor', () => {
  it('resolves on a message already posted', async () => {
    await client.chat.postMessage({ channel: 'C0APPROVE', text: 'already here' });
    const m = await fake.waitFor((x) => x.text === 'already here');
    expect(m.channel).toBe('C0APPROVE');
  });

  it('resolves on a future message and on an update', async () => {
    const posting = fake.waitFor((x) => x.text === 'soon');
    await client.chat.postMessage({ channel: 'C0APPROVE', text: 'soon' });
    const posted = await posting;
    const updating = fake.waitFor((x) => x.ts === posted.ts && x.text === 'updated');
    await client.chat.update({ channel: 'C0APPROVE', ts: posted.ts, text: 'updated' });
    expect((await updating).updates).toHaveLength(1);
  });

  it('rejects on timeout with a readable dump of what was posted', async () => {
    await client.chat.postMessage({
      channel: 'C0APPROVE',
      text: 'fallback',
      blocks: [section('*Request R-9*'), approveDeny('R-9')],
    });
    const err = await fake.waitFor((x) => x.text === 'never', 50).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('no matching message within 50 ms');
    expect((err as Error).message).toContain('Request R-9');
    expect((err as Error).message).toContain('1:[ Approve ]');
    expect((err as Error).message).toContain('chat.postMessage → 200');
  });

  it('subscribe reports posts, updates and deletes', async () => {
    const kinds: string[] = [];
    const off = fake.subscribe((_m, kind) => kinds.push(kind));
    const posted = await client.chat.postMessage({ channel: 'C0APPROVE', text: 'x' });
    await client.chat.update({ channel: 'C0APPROVE', ts: posted.ts!, text: 'y' });
    await client.chat.delete({ channel: 'C0APPROVE', ts: posted.ts! });
    off();
    await client.chat.postMessage({ channel: 'C0APPROVE', text: 'after unsubscribe' });
    expect(kinds).toEqual(['posted', 'updated', 'deleted']);
    expect(fake.messages[0]?.deleted).toBe(true);
  });
});

describe('response_url', () => {
  async function respond(url: string, body: unknown) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.text() };
  }

  it('records an ephemeral reply by default, and an in_channel one when asked', async () => {
    const url = fake.newResponseUrl({ channel: 'C0APPROVE', user: 'U0ALICE' });
    expect(await respond(url, { text: 'only alice sees this' })).toEqual({ status: 200, body: 'ok' });
    expect(fake.messages[0]).toMatchObject({
      channel: 'C0APPROVE',
      user: 'U0ALICE',
      ephemeral: true,
      via: 'response_url',
      response_type: 'ephemeral',
    });
    await respond(url, { text: 'everyone sees this', response_type: 'in_channel' });
    expect(fake.messages[1]).toMatchObject({ ephemeral: false, response_type: 'in_channel' });
    expect(fake.messages[1]).not.toHaveProperty('user');
  });

  it('replace_original replaces the message the action came from; delete_original deletes it', async () => {
    const posted = await client.chat.postMessage({
      channel: 'C0APPROVE',
      text: 'pending',
      blocks: [approveDeny()],
    });
    const url = fake.newResponseUrl({ channel: 'C0APPROVE', user: 'U0BOB', messageTs: posted.ts! });
    await respond(url, { replace_original: true, text: 'approved' });
    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0]).toMatchObject({ text: 'approved', blocks: undefined });
    expect(fake.messages[0]?.updates).toHaveLength(1);
    await respond(url, { delete_original: true });
    expect(fake.messages[0]?.deleted).toBe(true);
  });

  it('refuses invalid blocks, unknown urls, and more than five uses', async () => {
    const url = fake.newResponseUrl({ channel: 'C0APPROVE', user: 'U0ALICE' });
    const tooMany = Array.from({ length: 51 }, (_, i) => section(`s${i}`));
    expect(await respond(url, { text: 'x', blocks: tooMany })).toEqual({
      status: 400,
      body: 'invalid_blocks',
    });
    for (let i = 0; i < 4; i++) expect((await respond(url, { text: `use ${i}` })).status).toBe(200);
    expect(await respond(url, { text: 'sixth' })).toEqual({ status: 404, body: 'used_url' });
    expect((await respond(`${fake.url}/hooks/nope`, { text: 'x' })).status).toBe(404);
  });
});
