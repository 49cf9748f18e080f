// The signed-request driver against Bolt's own verifier and a real Bolt App wired to the fake Web API.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type BlockButtonAction, LogLevel, type SlashCommand, verifySlackRequest } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type SlackDriver as Driver,
  escapeSlashText,
  SlackDriver,
  type SlackFake,
  signSlackRequest,
  startSlackFake,
} from '../../../src/sandbox/slack-fake/index.ts';

const SECRET = 'test-signing-secret-0123456789';
const TOKEN = 'xoxb-driver-test-token';

describe('signSlackRequest', () => {
  const body = 'token=x&team_id=T1&command=%2Fqlik&text=help';
  const now = Math.floor(Date.now() / 1000);

  function verify(headers: { 'x-slack-signature': string; 'x-slack-request-timestamp': string }, raw = body) {
    verifySlackRequest({
      signingSecret: SECRET,
      body: raw,
      headers: {
        'x-slack-signature': headers['x-slack-signature'],
        'x-slack-request-timestamp': Number(headers['x-slack-request-timestamp']),
      },
    });
  }

  it("produces a v0 signature that Bolt's verifier accepts", () => {
    const headers = signSlackRequest(SECRET, body, now);
    expect(headers['x-slack-signature']).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(headers['x-slack-request-timestamp']).toBe(String(now));
    expect(() => verify(headers)).not.toThrow();
  });

  it('fails verification for a tampered body, another secret, or a stale timestamp', () => {
    const headers = signSlackRequest(SECRET, body, now);
    expect(() => verify(headers, body.replace('help', 'grant'))).toThrow(/signature mismatch/);
    expect(() => verify(signSlackRequest('another-secret', body, now))).toThrow(/signature mismatch/);
    expect(() => verify(signSlackRequest(SECRET, body, now - 600))).toThrow(/stale/);
  });
});

describe('escapeSlashText', () => {
  const lookup = {
    userByName: (n: string) => ({ alice: 'U0ALICE', bob: 'U0BOB' })[n],
    channelByName: (n: string) => (n === 'general' ? 'C0GENERAL' : undefined),
  };
  it.each([
    ['grant @alice Admin', 'grant <@U0ALICE|alice> Admin'],
    ['grant alice@corp.com Admin', 'grant <mailto:alice@corp.com|alice@corp.com> Admin'],
    ['whois @nobody', 'whois @nobody'],
    ['post in #general, please', 'post in <#C0GENERAL|general>, please'],
    ['see https://example.com/x?a=1&b=2', 'see <https://example.com/x?a=1&amp;b=2>'],
    ['because a<b & c>d', 'because a&lt;b &amp; c&gt;d'],
    ['grant <@U0BOB> Admin', 'grant <@U0BOB> Admin'],
    ['grant group:"Sales Ops" Viewer', 'grant group:"Sales Ops" Viewer'],
  ])('%s → %s', (typed, sent) => {
    expect(escapeSlashText(typed, lookup)).toBe(sent);
  });
});

describe('SlackDriver with a real Bolt App', () => {
  let fake: SlackFake;
  let app: App;
  let server: Server;
  let driver: Driver;
  const commands: SlashCommand[] = [];
  const actions: BlockButtonAction[] = [];

  beforeAll(async () => {
    fake = await startSlackFake({
      botToken: TOKEN,
      users: [
        { id: 'U0ALICE', name: 'alice', email: 'alice@corp.example' },
        { id: 'U0BOB', name: 'bob', email: 'bob@corp.example' },
      ],
      channels: [{ id: 'C0APPROVE', name: 'qlik-approvals' }],
    });
    app = new App({
      token: TOKEN,
      signingSecret: SECRET,
      clientOptions: { slackApiUrl: fake.apiUrl },
      logLevel: LogLevel.ERROR,
    });
    app.command('/qlik', async ({ command, ack, respond, client }) => {
      commands.push(command);
      if (command.text === 'help') {
        await ack({ text: 'Usage: /qlik grant <who> <role>' });
        return;
      }
      if (command.text === 'public') {
        await ack({ response_type: 'in_channel', text: 'for everyone' });
        return;
      }
      await ack();
      if (command.text.startsWith('ask')) {
        await respond({
          text: 'Confirm?',
          blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: 'Confirm your request?' } },
            {
              type: 'actions',
              elements: [
                {
                  type: 'button',
                  action_id: 'confirm',
                  text: { type: 'plain_text', text: 'Confirm' },
                  value: 'yes',
                },
              ],
            },
          ],
        });
        return;
      }
      await client.chat.postMessage({
        channel: 'C0APPROVE',
        text: `${command.user_name} asks: ${command.text}`,
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: `<@${command.user_id}> asks: ${command.text}` } },
          {
            type: 'actions',
            block_id: 'decide',
            elements: [
              {
                type: 'button',
                action_id: 'approve',
                text: { type: 'plain_text', text: 'Approve' },
                value: 'R-1',
              },
              { type: 'button', action_id: 'deny', text: { type: 'plain_text', text: 'Deny' }, value: 'R-1' },
            ],
          },
        ],
      });
      await respond({ text: 'Your request R-1 was sent for approval.' });
    });
    app.action<BlockButtonAction>('approve', async ({ ack, body, client }) => {
      await ack();
      actions.push(body);
      await client.chat.update({
        channel: body.container.channel_id as string,
        ts: body.container.message_ts as string,
        text: `Approved by ${body.user.name}`,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `Approved by <@${body.user.id}>` } }],
      });
    });
    app.action<BlockButtonAction>('confirm', async ({ ack, body, respond }) => {
      await ack();
      actions.push(body);
      await respond({ replace_original: true, text: 'Confirmed.' });
    });
    server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    const { port } = server.address() as AddressInfo;
    driver = new SlackDriver({
      eventsUrl: `http://127.0.0.1:${port}/slack/events`,
      signingSecret: SECRET,
      fake,
    });
  });

  afterAll(async () => {
    server.closeAllConnections();
    await app.stop();
    await fake.close();
  });

  beforeEach(() => {
    fake.clear();
    commands.length = 0;
    actions.length = 0;
  });

  it('sends a slash command Bolt accepts, with the fields Slack sends and escaped mentions', async () => {
    const res = await driver.slash('U0ALICE', 'grant @bob Admin because quarterly <review>', {
      channelId: 'C0APPROVE',
    });
    expect(res.status).toBe(200);
    expect(res.ms).toBeGreaterThan(0);
    const cmd = commands[0]!;
    expect(cmd).toMatchObject({
      command: '/qlik',
      text: 'grant <@U0BOB|bob> Admin because quarterly &lt;review&gt;',
      user_id: 'U0ALICE',
      user_name: 'alice',
      channel_id: 'C0APPROVE',
      channel_name: 'qlik-approvals',
      team_id: fake.teamId,
      api_app_id: fake.appId,
      is_enterprise_install: 'false',
      response_url: res.responseUrl,
    });
    expect(cmd.trigger_id).toMatch(/^\d+\.\d+\.[0-9a-f]+$/);
    const reply = await fake.waitFor((m) => m.via === 'response_url');
    expect(reply).toMatchObject({ channel: 'C0APPROVE', user: 'U0ALICE', ephemeral: true });
    expect(reply.text).toContain('R-1');
  });

  it('defaults to the user’s DM with the app and can send raw text', async () => {
    await driver.slash('U0BOB', 'help <@U0ALICE>', { raw: true });
    expect(commands[0]).toMatchObject({
      channel_id: fake.dmChannelOf('U0BOB'),
      channel_name: 'directmessage',
      text: 'help <@U0ALICE>',
    });
  });

  it('records a non-empty ack as the message Slack would show', async () => {
    const res = await driver.slash('U0ALICE', 'help');
    expect(res.ackMessage).toMatchObject({
      via: 'ack',
      ephemeral: true,
      user: 'U0ALICE',
      text: expect.stringContaining('Usage'),
    });
    expect(fake.messages).toContain(res.ackMessage);
    const pub = await driver.slash('U0ALICE', 'public', { channelId: 'C0APPROVE' });
    expect(pub.ackMessage).toMatchObject({
      ephemeral: false,
      response_type: 'in_channel',
      text: 'for everyone',
    });
  });

  it('clicks a button with a faithful block_actions payload; the bot updates the message', async () => {
    await driver.slash('U0ALICE', 'grant @bob Admin');
    const request = await fake.waitFor((m) => m.channel === 'C0APPROVE' && m.via === 'chat.postMessage');
    const res = await driver.click('U0BOB', request, 'approve');
    expect(res.status).toBe(200);
    const updated = await fake.waitFor((m) => m.ts === request.ts && m.updates.length === 1);
    expect(updated.text).toBe('Approved by bob');
    const body = actions[0]!;
    expect(body).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0BOB', username: 'bob', name: 'bob', team_id: fake.teamId },
      api_app_id: fake.appId,
      container: { type: 'message', message_ts: request.ts, channel_id: 'C0APPROVE', is_ephemeral: false },
      team: { id: fake.teamId, domain: fake.teamDomain },
      channel: { id: 'C0APPROVE', name: 'qlik-approvals' },
      response_url: res.responseUrl,
      message: { ts: request.ts, text: 'alice asks: grant <@U0BOB|bob> Admin', user: fake.botUserId },
    });
    expect(body.actions[0]).toMatchObject({
      type: 'button',
      action_id: 'approve',
      block_id: 'decide',
      value: 'R-1',
      text: { type: 'plain_text', text: 'Approve' },
    });
    expect(body.actions[0]?.action_ts).toMatch(/^\d+\.\d{6}$/);
    expect(body.trigger_id).toBeTruthy();
  });

  it("refuses a click on another user's DM", async () => {
    const dm = fake.recordMessage({
      channel: fake.dmChannelOf('U0ALICE'),
      text: 'pick',
      blocks: [
        {
          type: 'actions',
          elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Go' } }],
        },
      ],
      ephemeral: false,
      via: 'chat.postMessage',
    });
    await expect(driver.click('U0BOB', dm, 'approve')).rejects.toThrow(/another user's DM/);
    expect(actions).toHaveLength(0);
  });

  it('throws when the button is no longer on the message', async () => {
    await driver.slash('U0ALICE', 'grant @bob Admin');
    const request = await fake.waitFor((m) => m.channel === 'C0APPROVE' && m.via === 'chat.postMessage');
    await driver.click('U0BOB', request, 'approve');
    await fake.waitFor((m) => m.ts === request.ts && m.updates.length === 1);
    await expect(driver.click('U0BOB', request, 'approve')).rejects.toThrow(
      /no button approve.*buttons now: none/,
    );
    await expect(driver.click('U0BOB', request, 'deny', { value: 'R-2' })).rejects.toThrow(
      /no button deny with value R-2/,
    );
  });

  it('clicks on an ephemeral message: no message in the payload; replace_original replaces it', async () => {
    await driver.slash('U0ALICE', 'ask');
    const prompt = await fake.waitFor((m) => m.via === 'response_url' && m.text === 'Confirm?');
    await expect(driver.click('U0BOB', prompt, 'confirm')).rejects.toThrow(
      /cannot see the ephemeral message/,
    );
    await driver.click('U0ALICE', prompt, 'confirm');
    const replaced = await fake.waitFor((m) => m.ts === prompt.ts && m.text === 'Confirmed.');
    expect(replaced.blocks).toBeUndefined();
    const body = actions[0]!;
    expect(body.container).toMatchObject({ is_ephemeral: true, message_ts: prompt.ts });
    expect(body.message).toBeUndefined();
    expect(fake.messages.filter((m) => m.text === 'Confirmed.')).toHaveLength(1);
  });

  it('Bolt rejects forged and stale requests sent through the driver', async () => {
    const forged = await driver.slash('U0ALICE', 'help', { signatureOverride: `v0=${'0'.repeat(64)}` });
    expect(forged.status).toBe(401);
    const stale = await driver.slash('U0ALICE', 'help', {
      timestampSec: Math.floor(Date.now() / 1000) - 600,
    });
    expect(stale.status).toBe(401);
    const body = 'command=%2Fqlik&text=help&user_id=U0ALICE';
    const signed = signSlackRequest(SECRET, body);
    const tampered = await driver.rawPost(body.replace('help', 'grant'), signed);
    expect(tampered.status).toBe(401);
    expect(commands).toHaveLength(0);
    expect(fake.messages).toHaveLength(0);
  });
});
