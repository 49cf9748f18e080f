// The Slack fake's Socket Mode server against the real @slack/socket-mode client (what Bolt runs): tokens checked
// as Slack checks them, hello, envelopes of each kind acked by envelope_id with their payload, refresh_requested and
// dropped sockets followed by a reconnect, un-acked or lost-ack envelopes delivered again with retry_attempt raised.
import { type Logger, LogLevel } from '@slack/logger';
import { SocketModeClient } from '@slack/socket-mode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SlackFake, startSlackFake } from '../../src/sandbox/slack-fake/index.ts';

const BOT_TOKEN = 'xoxb-socket-test-0001';
const APP_TOKEN = 'xapp-1-A0QLIKBOT-1-socket-test-0001';

const quiet: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

let fake: SlackFake;
const clients: SocketModeClient[] = [];

beforeAll(async () => {
  fake = await startSlackFake({ botToken: BOT_TOKEN, users: [], appToken: APP_TOKEN });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect().catch(() => undefined)));
  // Every test starts with no connection open.
  fake.socketMode.drop();
});
afterAll(async () => {
  await fake?.close();
});

/** The SDK's client as Bolt builds it, pointed at the fake; a short ping timeout makes its reconnect delay short. */
function client(appToken = APP_TOKEN): SocketModeClient {
  const c = new SocketModeClient({
    appToken,
    logger: quiet,
    clientPingTimeout: 1_500,
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
  });
  clients.push(c);
  return c;
}

async function connected(): Promise<SocketModeClient> {
  const c = client();
  await c.start();
  return c;
}

async function api(
  method: string,
  token: string | undefined,
): Promise<{ ok: boolean; error?: string; url?: string }> {
  const res = await fetch(`${fake.apiUrl}${method}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: method === 'chat.postMessage' ? 'channel=C1&text=hi' : '',
  });
  return (await res.json()) as { ok: boolean; error?: string; url?: string };
}

/** A bare WebSocket (Node's) on a fresh URL: frames as they come, to check shapes the SDK hides. */
async function rawSocket(): Promise<{
  ws: WebSocket;
  frames: Record<string, unknown>[];
  next: () => Promise<Record<string, unknown>>;
}> {
  const { url } = await api('apps.connections.open', APP_TOKEN);
  const ws = new WebSocket(url!);
  const frames: Record<string, unknown>[] = [];
  const waiting: ((f: Record<string, unknown>) => void)[] = [];
  let read = 0;
  ws.addEventListener('message', (e) => {
    frames.push(JSON.parse(String(e.data)) as Record<string, unknown>);
    waiting.shift()?.(frames[read++]!);
  });
  const next = () =>
    read < frames.length
      ? Promise.resolve(frames[read++]!)
      : new Promise<Record<string, unknown>>((resolve) => waiting.push(resolve));
  return { ws, frames, next };
}

describe('apps.connections.open', () => {
  it('gives an app-level token a one-use ws://127.0.0.1 URL and refuses other tokens as Slack does', async () => {
    const ok = await api('apps.connections.open', APP_TOKEN);
    expect(ok.ok).toBe(true);
    expect(ok.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[0-9a-f-]{36}/);
    expect((await api('apps.connections.open', BOT_TOKEN)).error).toBe('not_allowed_token_type');
    expect((await api('apps.connections.open', 'xapp-1-A0OTHER-1-nope')).error).toBe('invalid_auth');
    expect((await api('apps.connections.open', undefined)).error).toBe('not_authed');
    // The app-level token opens connections and nothing else.
    expect((await api('chat.postMessage', APP_TOKEN)).error).toBe('not_allowed_token_type');

    const first = new WebSocket(ok.url!);
    await new Promise((resolve) => first.addEventListener('message', resolve, { once: true }));
    const again = new WebSocket(ok.url!);
    await new Promise((resolve) => again.addEventListener('error', resolve, { once: true }));
    expect(again.readyState).toBe(WebSocket.CLOSED);
    first.close();
  });

  it('refuses the SDK client a bad app token: start() fails with invalid_auth and no connection opens', async () => {
    const before = fake.socketMode.connections.length;
    await expect(client('xapp-1-A0QLIKBOT-1-wrong').start()).rejects.toMatchObject({
      data: { error: 'invalid_auth' },
    });
    expect(fake.socketMode.connections.length).toBe(before);
  });
});

describe('a connection', () => {
  it('opens with the hello Slack documents', async () => {
    const { ws, next } = await rawSocket();
    const hello = await next();
    expect(hello).toMatchObject({
      type: 'hello',
      num_connections: 1,
      connection_info: { app_id: fake.appId },
      debug_info: { host: expect.any(String), approximate_connection_time: 3600 },
    });
    ws.close();
  });

  it('connects the SDK client (start() resolves on hello)', async () => {
    const before = fake.socketMode.connections.length;
    await connected();
    expect(fake.socketMode.connections.length).toBe(before + 1);
    expect(fake.socketMode.openConnections()).toHaveLength(1);
  });
});

describe('envelopes', () => {
  it('delivers a slash command and settles it with the payload of the ack', async () => {
    const c = await connected();
    const seen: { body: unknown; accepts: unknown }[] = [];
    c.on('slash_commands', async ({ ack, body, accepts_response_payload }) => {
      seen.push({ body, accepts: accepts_response_payload });
      await ack({ text: `you said ${(body as { text: string }).text}` });
    });
    const ack = await fake.socketMode.deliver('slash_commands', {
      command: '/qlik',
      text: 'help',
      user_id: 'U1',
    });
    expect(ack.payload).toEqual({ text: 'you said help' });
    expect(ack.deliveries).toBe(1);
    expect(seen).toEqual([{ body: { command: '/qlik', text: 'help', user_id: 'U1' }, accepts: true }]);
  });

  it('delivers interactive payloads (block_actions, view_submission, shortcut) with accepts_response_payload as Slack sets it', async () => {
    const c = await connected();
    const seen: { type: string; accepts: boolean }[] = [];
    c.on('interactive', async ({ ack, body, accepts_response_payload }) => {
      const type = (body as { type: string }).type;
      seen.push({ type, accepts: accepts_response_payload });
      await ack(type === 'view_submission' ? { response_action: 'clear' } : undefined);
    });
    const button = await fake.socketMode.deliver('interactive', {
      type: 'block_actions',
      actions: [{ action_id: 'a' }],
    });
    const view = await fake.socketMode.deliver('interactive', {
      type: 'view_submission',
      view: { id: 'V1' },
    });
    const shortcut = await fake.socketMode.deliver('interactive', { type: 'shortcut', callback_id: 's' });
    expect(button.payload).toBeUndefined();
    expect(view.payload).toEqual({ response_action: 'clear' });
    expect(shortcut.payload).toBeUndefined();
    expect(seen).toEqual([
      { type: 'block_actions', accepts: false },
      { type: 'view_submission', accepts: true },
      { type: 'shortcut', accepts: false },
    ]);
  });

  it('delivers an events_api envelope to the listener of its event type, first try 0 with no reason', async () => {
    const c = await connected();
    const got: { event: unknown; retry: unknown; reason: unknown }[] = [];
    c.on('app_mention', async ({ ack, event, retry_num, retry_reason }) => {
      got.push({ event, retry: retry_num, reason: retry_reason });
      await ack();
    });
    const event = { type: 'app_mention', user: 'U1', text: '<@U0BOTUSER> hi', ts: '1.000001', channel: 'C1' };
    const ack = await fake.socketMode.deliver('events_api', {
      type: 'event_callback',
      event_id: 'Ev1',
      event,
    });
    expect(ack.deliveries).toBe(1);
    expect(got).toEqual([{ event, retry: 0, reason: '' }]);
  });

  it('sends the raw envelope with envelope_id, type, accepts_response_payload, retry_attempt and retry_reason', async () => {
    const { ws, next } = await rawSocket();
    await next(); // hello
    const settled = fake.socketMode.deliver('events_api', { type: 'event_callback', event: { type: 'x' } });
    const envelope = await next();
    expect(envelope).toEqual({
      envelope_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'events_api',
      payload: { type: 'event_callback', event: { type: 'x' } },
      accepts_response_payload: false,
      retry_attempt: 0,
      retry_reason: '',
    });
    // An ack for an envelope the server never sent changes nothing; the right envelope_id settles it.
    ws.send(JSON.stringify({ envelope_id: 'not-one-of-ours' }));
    ws.send(JSON.stringify({ envelope_id: envelope.envelope_id, payload: {} }));
    expect((await settled).envelopeId).toBe(envelope.envelope_id);
    ws.close();
  });
});

describe('reconnects', () => {
  it('refresh_requested: the client closes, opens a new connection, and the next envelope goes there', async () => {
    const c = await connected();
    c.on('slash_commands', async ({ ack }) => ack({ text: 'ok' }));
    const sm = fake.socketMode;
    const old = sm.openConnections()[0]!;
    sm.requestDisconnect('refresh_requested');
    const fresh = await sm.waitForConnections(old.seq + 1);
    expect(old.disconnects).toEqual(['refresh_requested']);
    expect(old.closedBy).toBe('app');
    const ack = await sm.deliver('slash_commands', { command: '/qlik', text: 'x' });
    expect(ack.payload).toEqual({ text: 'ok' });
    expect(sm.envelopes.at(-1)!.deliveries.map((d) => d.connectionId)).toEqual([fresh.id]);
  });

  it('an envelope sent while the app is between connections waits for the next one', async () => {
    const c = await connected();
    c.on('slash_commands', async ({ ack }) => ack());
    const sm = fake.socketMode;
    const old = sm.openConnections()[0]!;
    sm.requestDisconnect('refresh_requested');
    const settled = sm.deliver('slash_commands', { command: '/qlik', text: 'during' });
    const ack = await settled;
    expect(ack.deliveries).toBe(1);
    expect(sm.envelopes.at(-1)!.deliveries[0]!.connectionId).not.toBe(old.id);
  });

  it('a dropped socket: the client notices, reconnects, and envelopes flow again', async () => {
    const c = await connected();
    c.on('slash_commands', async ({ ack }) => ack({ text: 'back' }));
    const sm = fake.socketMode;
    const old = sm.openConnections()[0]!;
    sm.drop();
    expect(old.closedBy).toBe('dropped');
    await sm.waitForConnections(old.seq + 1);
    expect((await sm.deliver('slash_commands', { command: '/qlik', text: 'y' })).payload).toEqual({
      text: 'back',
    });
  });

  it('redelivers an envelope un-acked when its socket dropped: same envelope_id, retry_attempt 1, reason timeout', async () => {
    const c = await connected();
    const sm = fake.socketMode;
    const tries: string[] = [];
    c.on('slash_commands', async ({ ack, envelope_id }) => {
      tries.push(envelope_id);
      // The first delivery is never acked: the socket goes before the app answers.
      if (tries.length === 1) sm.drop();
      else await ack();
    });
    const raw: { retry: unknown; reason: unknown }[] = [];
    c.on('slack_event', ({ retry_num, retry_reason }) =>
      raw.push({ retry: retry_num, reason: retry_reason }),
    );
    const ack = await sm.deliver('slash_commands', { command: '/qlik', text: 'z' });
    expect(ack.deliveries).toBe(2);
    expect(tries).toEqual([ack.envelopeId, ack.envelopeId]);
    expect(raw).toEqual([
      { retry: 0, reason: '' },
      { retry: 1, reason: 'timeout' },
    ]);
  });

  it('redelivers an envelope whose ack was lost on the way, and counts the lost ack', async () => {
    const c = await connected();
    let handled = 0;
    c.on('interactive', async ({ ack }) => {
      handled += 1;
      await ack();
    });
    const sm = fake.socketMode;
    sm.loseNextAcks(1, { thenDrop: true });
    const ack = await sm.deliver('interactive', { type: 'block_actions', actions: [{ action_id: 'a' }] });
    expect(handled).toBe(2);
    expect(ack.deliveries).toBe(2);
    expect(sm.envelopes.find((e) => e.envelopeId === ack.envelopeId)!.lostAcks).toBe(1);
  });

  it('gives up on an envelope never acked after four deliveries', async () => {
    const c = await connected();
    const sm = fake.socketMode;
    c.on('slash_commands', () => sm.drop());
    await expect(sm.deliver('slash_commands', { command: '/qlik', text: 'never' })).rejects.toMatchObject({
      code: 'not_acknowledged',
    });
    expect(sm.envelopes.at(-1)!.deliveries.map((d) => d.retryAttempt)).toEqual([0, 1, 2, 3]);
  }, 20_000);

  it('with no connection and whenNoConnection fail, answers dispatch_failed at once', async () => {
    await expect(
      fake.socketMode.deliver('slash_commands', { command: '/qlik' }, { whenNoConnection: 'fail' }),
    ).rejects.toMatchObject({ code: 'dispatch_failed' });
  });
});

describe('disconnect messages', () => {
  it('sends warning, refresh_requested and link_disabled as Slack words them; closes a connection that stays', async () => {
    const { ws, next } = await rawSocket();
    await next(); // hello
    const sm = fake.socketMode;
    const conn = sm.openConnections().at(-1)!;
    sm.requestDisconnect('warning');
    expect(await next()).toEqual({
      type: 'disconnect',
      reason: 'warning',
      debug_info: { host: expect.any(String) },
    });
    sm.requestDisconnect('link_disabled');
    expect(await next()).toMatchObject({ type: 'disconnect', reason: 'link_disabled' });
    // This socket does not leave: Slack sends it nothing more and closes it after the grace period.
    const closed = new Promise((resolve) => ws.addEventListener('close', resolve, { once: true }));
    await closed;
    expect(conn.closedBy).toBe('fake');
    expect(conn.disconnects).toEqual(['warning', 'link_disabled']);
  });
});
