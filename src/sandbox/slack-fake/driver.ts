// Owns playing Slack's side of the bot's front: slash commands and button clicks sent to POST /slack/events
// exactly as Slack sends them (form bodies, v0 HMAC signatures, response_urls on the fake), or, for a bot in
// Socket Mode, as envelopes on its WebSocket connection to the fake (the same payloads; the ack's payload is the
// answer the HTTP response body would carry); plus raw posts and raw envelopes for forged or replayed requests.
import { createHmac, randomBytes } from 'node:crypto';
import { checkBlocks, withBlockIds } from './block-limits.ts';
import { listButtons } from './render.ts';
import type { DeliverOptions, EnvelopeType } from './socket-mode.ts';
import type { PostedMessage, SlackFake } from './web-api.ts';

/** Slack's v0 request signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` under the signing secret. */
export function signSlackRequest(
  signingSecret: string,
  rawBody: string,
  timestampSec: number = Math.floor(Date.now() / 1000),
): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  const hmac = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex');
  return { 'x-slack-signature': `v0=${hmac}`, 'x-slack-request-timestamp': String(timestampSec) };
}

export interface SlashResult {
  /** HTTP status; over Socket Mode 200 once the envelope is acked. */
  status: number;
  /** The answer: the HTTP body, or over Socket Mode the ack's payload as JSON ('' when it has none). */
  body: string;
  responseUrl: string;
  /** Wall time until the bot answered (over Socket Mode, retries included); Slack gives up after 3000 ms. */
  ms: number;
  /** Over Socket Mode: how many times the envelope was delivered before the ack that counted. */
  deliveries?: number;
  /** The message Slack would show for a non-empty answer body (also recorded in fake.messages, via 'ack'). */
  ackMessage?: PostedMessage;
}

export interface SlashOptions {
  channelId?: string;
  /** Default '/qlik'. */
  command?: string;
  timestampSec?: number;
  signatureOverride?: string;
  /**
   * Send the text untouched. Otherwise it is escaped as Slack does for a command with "Escape channels, users,
   * and links" on: `&<>` become entities, `@name` → `<@U…|name>`, `#name` → `<#C…|name>`, emails →
   * `<mailto:…|…>`, URLs → `<…>`; tokens already written as Slack entities (`<@U1>`) pass through.
   */
  raw?: boolean;
}

/** Escapes typed text the way Slack delivers it to a slash command that escapes users, channels and links. */
export function escapeSlashText(
  text: string,
  lookup: {
    userByName: (name: string) => string | undefined;
    channelByName: (name: string) => string | undefined;
  },
): string {
  return text
    .split(/(\s+)/)
    .map((token) => {
      if (/^\s*$/.test(token)) return token;
      if (/^<(?:[@#!]|mailto:|https?:)[^<>]*>$/.test(token)) return token;
      const m = /^(.*?)([.,;:!?)"']*)$/.exec(token)!;
      const word = m[1] ?? '';
      const trail = m[2] ?? '';
      const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
      if (/^[^\s@<>|]+@[^\s@<>|]+\.[a-z]{2,}$/i.test(word)) return `<mailto:${word}|${word}>${esc(trail)}`;
      if (/^https?:\/\/\S+$/.test(word)) return `<${esc(word)}>${esc(trail)}`;
      if (word.startsWith('@')) {
        const id = lookup.userByName(word.slice(1));
        if (id) return `<@${id}|${word.slice(1)}>${esc(trail)}`;
      }
      if (word.startsWith('#')) {
        const id = lookup.channelByName(word.slice(1));
        if (id) return `<#${id}|${word.slice(1)}>${esc(trail)}`;
      }
      return esc(token);
    })
    .join('');
}

function actionTs(): string {
  const us = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
}

function triggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e9)}.${randomBytes(16).toString('hex')}`;
}

export interface SlackDriverOptions {
  /** http://127.0.0.1:PORT/slack/events (HTTP mode). */
  eventsUrl?: string;
  /** The bot's signing secret (HTTP mode). */
  signingSecret?: string;
  /** Send everything as envelopes on the bot's Socket Mode connections to the fake instead of signed HTTP. */
  socketMode?: boolean;
  fake: SlackFake;
  teamId?: string;
  appId?: string;
  /** The legacy verification token Slack still puts in payloads (Bolt ignores it). */
  verificationToken?: string;
  /** Channels known by name for `#name` escaping, beyond those the fake was started with. */
  channels?: { id: string; name: string }[];
}

export class SlackDriver {
  readonly #opts: SlackDriverOptions;
  readonly #teamId: string;
  readonly #appId: string;
  readonly #token: string;

  constructor(opts: SlackDriverOptions) {
    this.#opts = opts;
    this.#teamId = opts.teamId ?? opts.fake.teamId;
    this.#appId = opts.appId ?? opts.fake.appId;
    this.#token = opts.verificationToken ?? 'fakeVerificationToken0001';
  }

  #user(userId: string): { id: string; name: string } {
    const u = this.#opts.fake.getUser(userId);
    if (!u)
      throw new Error(`slack driver: no user ${userId} in the fake workspace (add it with fake.addUser)`);
    return u;
  }

  /** Whether requests go over Socket Mode (no HTTP endpoint, no signatures). */
  get socketMode(): boolean {
    return this.#opts.socketMode === true;
  }

  async #post(body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    if (this.#opts.eventsUrl === undefined)
      throw new Error('slack driver: no eventsUrl (a Socket Mode driver has no HTTP endpoint to post to)');
    const res = await fetch(this.#opts.eventsUrl, { method: 'POST', headers, body });
    return { status: res.status, body: await res.text() };
  }

  /**
   * Delivers an envelope on the bot's Socket Mode connections and waits for its ack: status 200 and the ack's
   * payload as the body, as an HTTP answer would carry it.
   */
  async envelope(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    opts: DeliverOptions = {},
  ): Promise<{ status: number; body: string; ms: number; deliveries: number }> {
    const ack = await this.#opts.fake.socketMode.deliver(type, payload, opts);
    return {
      status: 200,
      body: ack.payload ? JSON.stringify(ack.payload) : '',
      ms: ack.ms,
      deliveries: ack.deliveries,
    };
  }

  #signedHeaders(body: string, timestampSec?: number, signatureOverride?: string): Record<string, string> {
    if (this.#opts.signingSecret === undefined)
      throw new Error('slack driver: no signingSecret (a Socket Mode driver signs nothing)');
    const sig = signSlackRequest(this.#opts.signingSecret, body, timestampSec);
    if (signatureOverride !== undefined) sig['x-slack-signature'] = signatureOverride;
    return {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...sig,
    };
  }

  /** Types `/qlik <text>` as the user (in their DM with the app unless channelId is given). */
  async slash(userId: string, text: string, opts: SlashOptions = {}): Promise<SlashResult> {
    const fake = this.#opts.fake;
    const user = this.#user(userId);
    const channelId = opts.channelId ?? fake.dmChannelOf(userId);
    const responseUrl = fake.newResponseUrl({ channel: channelId, user: userId });
    const sentText = opts.raw
      ? text
      : escapeSlashText(text, {
          userByName: (name) => this.#userIdByName(name),
          channelByName: (name) => this.#channelIdByName(name),
        });
    const fields = {
      token: this.#token,
      team_id: this.#teamId,
      team_domain: fake.teamDomain,
      channel_id: channelId,
      channel_name: fake.channelName(channelId),
      user_id: user.id,
      user_name: user.name,
      command: opts.command ?? '/qlik',
      text: sentText,
      api_app_id: this.#appId,
      is_enterprise_install: 'false',
      response_url: responseUrl,
      trigger_id: triggerId(),
    };
    let result: SlashResult;
    if (this.socketMode) {
      // Over Socket Mode the payload is the same fields, as JSON strings (docs.slack.dev, "Using Socket Mode").
      const { ms, deliveries, ...res } = await this.envelope('slash_commands', fields);
      result = { ...res, responseUrl, ms, deliveries };
    } else {
      const body = new URLSearchParams(fields).toString();
      const started = performance.now();
      const res = await this.#post(
        body,
        this.#signedHeaders(body, opts.timestampSec, opts.signatureOverride),
      );
      result = { ...res, responseUrl, ms: performance.now() - started };
    }
    if (result.status === 200 && result.body.trim() !== '') {
      result.ackMessage = this.#recordAck(result.body, channelId, userId);
    }
    return result;
  }

  /** Slack shows a non-empty slash-command answer as a message: JSON (text, blocks, response_type) or plain text. */
  #recordAck(raw: string, channel: string, user: string): PostedMessage {
    let msg: { text?: unknown; blocks?: unknown; response_type?: unknown } = { text: raw };
    if (raw.trimStart().startsWith('{')) {
      try {
        msg = JSON.parse(raw) as typeof msg;
      } catch {
        msg = { text: raw };
      }
    }
    let blocks: unknown[] | undefined;
    if (msg.blocks !== undefined) {
      const check = checkBlocks(msg.blocks);
      if (!check.ok)
        throw new Error(`the slash command's answer has ${check.error}: ${check.errors.join('; ')}`);
      blocks = withBlockIds(check.blocks);
    }
    const inChannel = msg.response_type === 'in_channel';
    return this.#opts.fake.recordMessage({
      channel,
      ...(typeof msg.text === 'string' ? { text: msg.text } : {}),
      ...(blocks ? { blocks } : {}),
      ...(inChannel ? {} : { user }),
      ephemeral: !inChannel,
      via: 'ack',
      response_type: inChannel ? 'in_channel' : 'ephemeral',
    });
  }

  #userIdByName(name: string): string | undefined {
    const lower = name.toLowerCase();
    return this.#opts.fake.listUsers().find((u) => !u.deleted && u.name.toLowerCase() === lower)?.id;
  }

  #channelIdByName(name: string): string | undefined {
    const extra = this.#opts.channels ?? [];
    return [...this.#opts.fake.listChannels(), ...extra].find((c) => c.name === name)?.id;
  }

  /**
   * Presses the button `actionId` on the message as the user. The button is looked up in the message's current
   * blocks (throws if it is gone, so a test pressing a vanished button knows). `value` picks among buttons sharing
   * the action_id. Ephemeral messages carry no `message` in the payload, as in Slack.
   */
  async click(
    userId: string,
    message: PostedMessage,
    actionId: string,
    opts: { value?: string; timestampSec?: number } = {},
  ): Promise<{ status: number; body: string; responseUrl: string }> {
    const fake = this.#opts.fake;
    const user = this.#user(userId);
    const current = fake.findMessage(message.channel, message.ts) ?? message;
    if (current.deleted)
      throw new Error(`slack driver: message ${current.ts} in ${current.channel} was deleted`);
    if (current.ephemeral && current.user !== undefined && current.user !== userId) {
      throw new Error(
        `slack driver: ${userId} cannot see the ephemeral message ${current.ts} shown to ${current.user}`,
      );
    }
    if (current.channel.startsWith('D') && current.channel !== fake.dmChannelOf(userId)) {
      throw new Error(
        `slack driver: ${userId} cannot see ${current.channel}, another user's DM with the app`,
      );
    }
    const buttons = listButtons(current);
    const button = buttons.find(
      (b) => b.actionId === actionId && (opts.value === undefined || b.value === opts.value),
    );
    if (!button) {
      const available = buttons
        .map((b) => `${b.actionId}${b.value !== undefined ? `=${b.value}` : ''}`)
        .join(', ');
      throw new Error(
        `slack driver: no button ${actionId}${opts.value !== undefined ? ` with value ${opts.value}` : ''} on message ${current.ts} (buttons now: ${available || 'none'})`,
      );
    }
    const responseUrl = fake.newResponseUrl({
      channel: current.channel,
      user: userId,
      messageTs: current.ts,
    });
    const action: Record<string, unknown> = {
      action_id: button.actionId,
      block_id: button.blockId ?? '',
      text: { type: 'plain_text', text: button.text, emoji: true },
      type: 'button',
      action_ts: actionTs(),
    };
    if (button.value !== undefined) action.value = button.value;
    if (button.style !== undefined) action.style = button.style;
    if (button.url !== undefined) action.url = button.url;
    const payload: Record<string, unknown> = {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: this.#teamId },
      api_app_id: this.#appId,
      token: this.#token,
      container: {
        type: 'message',
        message_ts: current.ts,
        channel_id: current.channel,
        is_ephemeral: current.ephemeral,
      },
      trigger_id: triggerId(),
      team: { id: this.#teamId, domain: fake.teamDomain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: current.channel, name: fake.channelName(current.channel) },
      state: { values: {} },
      response_url: responseUrl,
      actions: [action],
    };
    if (!current.ephemeral) {
      const m: Record<string, unknown> = {
        user: fake.botUserId,
        type: 'message',
        ts: current.ts,
        bot_id: fake.botId,
        app_id: this.#appId,
        text: current.text ?? '',
        team: this.#teamId,
        blocks: current.blocks ?? [],
      };
      if (current.thread_ts !== undefined) m.thread_ts = current.thread_ts;
      const last = current.updates.at(-1);
      if (last) m.edited = { user: fake.botUserId, ts: `${Math.floor(last.at / 1000)}.000000` };
      payload.message = m;
    }
    if (this.socketMode) {
      const { status, body } = await this.envelope('interactive', payload);
      return { status, body, responseUrl };
    }
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const res = await this.#post(body, this.#signedHeaders(body, opts.timestampSec));
    return { ...res, responseUrl };
  }

  /** Posts a body as is (for forged, replayed or malformed requests); content-type defaults to form-urlencoded. */
  rawPost(body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
    return this.#post(
      body,
      hasType ? headers : { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    );
  }
}
