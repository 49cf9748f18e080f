// Owns playing Slack's side of the bot's front: slash commands, global shortcuts, button clicks (in messages,
// modals and the Home tab), App Home openings, select-menu suggestions, view submissions and closes, sent to
// POST /slack/events exactly as Slack sends them (form bodies or JSON events, v0 HMAC signatures, response_urls
// and trigger_ids the fake knows), or, for a bot in Socket Mode, as envelopes on its WebSocket connection to the
// fake (the same payloads; the ack's payload is the answer the HTTP response body would carry); plus raw posts
// and raw envelopes for forged or replayed requests. It also judges the app's answers the way Slack's client
// would: options within 3 s and within Block Kit's limits, response_actions a modal can take.
import { createHmac, randomBytes } from 'node:crypto';
import { checkBlocks, withBlockIds } from './block-limits.ts';
import { listButtons } from './render.ts';
import type { DeliverOptions, EnvelopeType } from './socket-mode.ts';
import {
  type EnteredValue,
  type FakeView,
  type MenuOption,
  type PlainText,
  submissionState,
  type ViewResponseOutcome,
} from './views.ts';
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
  /** How long ago the command was typed, as its trigger_id sees it (to test the 3 s expiry without waiting). */
  triggerAgeMs?: number;
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

/** Slack gives up on an app's answer to an interaction (an options request, a submission) after 3 seconds. */
export const ANSWER_DEADLINE_MS = 3000;

/** Option limits Slack's client enforces on an options answer (docs.slack.dev composition-objects). */
export const OPTION_LIMITS = {
  /** "options … a maximum of 100 options or option groups" (block_suggestion payload reference). */
  options: 100,
  optionGroups: 100,
  /** Option object: text "Maximum length … 75 characters", value "Maximum length … 150 characters". */
  text: 75,
  value: 150,
  description: 75,
  /** Option group: label "Maximum length … 75 characters". */
  groupLabel: 75,
  /** external_select: min_query_length "The default value is 3". */
  defaultMinQueryLength: 3,
} as const;

export interface OptionGroup {
  label: PlainText;
  options: MenuOption[];
}

/** What an options request got the person: the menu Slack shows, or why it shows an error instead. */
export interface SuggestResult {
  status: number;
  body: string;
  /** On the fake's clock, from sending to the answer. */
  ms: number;
  /** Every option offered (flattened out of option_groups). */
  options: MenuOption[];
  optionGroups?: OptionGroup[];
  /** Set when Slack would show an error instead of the options (late, malformed, over a limit, not 200). */
  failure?: string;
}

/** What a view submission did: the HTTP/ack answer and the effect of its response_action on the modal. */
export interface SubmitResult extends Partial<ViewResponseOutcome> {
  status: number;
  body: string;
  ms: number;
  /** The view_submission payload sent (its view.state.values is what the app read). */
  payload: Record<string, unknown>;
}

export interface CloseResult {
  /** The views that closed (all of them with clear_on_close). */
  closed: FakeView[];
  /** Whether a view_closed was sent (only with notify_on_close) and what it was answered. */
  notified: boolean;
  status?: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function isFakeView(v: unknown): v is FakeView {
  return isObj(v) && isObj(v.view) && typeof v.userId === 'string';
}

/** The external_select (or multi) with that action_id among the blocks, with its block_id. */
function findExternalSelect(
  blocks: unknown[],
  actionId: string,
): { blockId: string; element: Obj } | undefined {
  for (const b of blocks) {
    if (!isObj(b)) continue;
    const els = b.type === 'input' ? [b.element] : b.type === 'section' ? [b.accessory] : b.elements;
    for (const el of Array.isArray(els) ? els : []) {
      if (
        isObj(el) &&
        el.action_id === actionId &&
        (el.type === 'external_select' || el.type === 'multi_external_select')
      )
        return { blockId: String(b.block_id ?? ''), element: el };
    }
  }
  return undefined;
}

/** Checks an options answer as Slack's client does; returns the menu or the reason Slack shows an error. */
export function checkOptionsAnswer(
  answer: unknown,
): { ok: true; options: MenuOption[]; groups?: OptionGroup[] } | { ok: false; failure: string } {
  if (!isObj(answer)) return { ok: false, failure: 'the answer is not a JSON object' };
  const problems: string[] = [];
  const plain = (t: unknown, max: number, where: string) => {
    if (!isObj(t) || t.type !== 'plain_text' || typeof t.text !== 'string')
      problems.push(`${where} must be a plain_text object`);
    else if (t.text.length === 0 || t.text.length > max)
      problems.push(`${where} must be 1 to ${max} characters (got ${t.text.length})`);
  };
  const checkOptions = (list: unknown, where: string): MenuOption[] => {
    if (!Array.isArray(list)) {
      problems.push(`${where} must be an array`);
      return [];
    }
    if (list.length > OPTION_LIMITS.options)
      problems.push(`${where} has ${list.length} options (at most ${OPTION_LIMITS.options})`);
    list.forEach((o, i) => {
      const at = `${where}[${i}]`;
      if (!isObj(o)) {
        problems.push(`${at} must be an option object`);
        return;
      }
      plain(o.text, OPTION_LIMITS.text, `${at}.text`);
      if (typeof o.value !== 'string' || o.value.length === 0 || o.value.length > OPTION_LIMITS.value)
        problems.push(`${at}.value must be a string of 1 to ${OPTION_LIMITS.value} characters`);
      if (o.description !== undefined) plain(o.description, OPTION_LIMITS.description, `${at}.description`);
    });
    return list.filter(isObj) as unknown as MenuOption[];
  };
  const hasOptions = answer.options !== undefined;
  const hasGroups = answer.option_groups !== undefined;
  if (hasOptions === hasGroups)
    return { ok: false, failure: 'the answer must have exactly one of options or option_groups' };
  if (hasOptions) {
    const options = checkOptions(answer.options, 'options');
    return problems.length ? { ok: false, failure: problems.join('; ') } : { ok: true, options };
  }
  const groups = answer.option_groups;
  if (!Array.isArray(groups)) return { ok: false, failure: 'option_groups must be an array' };
  if (groups.length > OPTION_LIMITS.optionGroups)
    problems.push(`option_groups has ${groups.length} groups (at most ${OPTION_LIMITS.optionGroups})`);
  const out: OptionGroup[] = [];
  groups.forEach((g, i) => {
    if (!isObj(g)) {
      problems.push(`option_groups[${i}] must be an object`);
      return;
    }
    plain(g.label, OPTION_LIMITS.groupLabel, `option_groups[${i}].label`);
    out.push({
      label: g.label as PlainText,
      options: checkOptions(g.options, `option_groups[${i}].options`),
    });
  });
  if (problems.length) return { ok: false, failure: problems.join('; ') };
  return { ok: true, options: out.flatMap((g) => g.options), groups: out };
}

/** The answer to an interaction: the HTTP body or the ack payload as JSON; undefined when empty. */
function answerObject(body: string): { ok: true; value: Obj | undefined } | { ok: false } {
  if (body.trim() === '') return { ok: true, value: undefined };
  try {
    const v: unknown = JSON.parse(body);
    return isObj(v) ? { ok: true, value: v } : { ok: false };
  } catch {
    return { ok: false };
  }
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

export interface ClickOptions {
  /** Picks among buttons sharing the action_id. */
  value?: string;
  timestampSec?: number;
  /** How long ago the press happened, as its trigger_id sees it (3 s expiry). */
  triggerAgeMs?: number;
}

export class SlackDriver {
  readonly #opts: SlackDriverOptions;
  /** Options the app offered per surface and menu (`<view id or channel/ts>/<action_id>`), for submissions. */
  readonly #suggested = new Map<string, MenuOption[]>();
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
      trigger_id: fake.issueTrigger(userId, { ageMs: opts.triggerAgeMs ?? 0 }),
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
   *
   * Given a view (`fake.openViews(user).at(-1)`, `fake.homeView(user)`) it presses a button in that modal or Home
   * tab: a block_actions with `container.type: 'view'` and the view (with its state), no response_url, and a
   * trigger_id views.push accepts. A modal must be the user's top view (the only one they can see).
   */
  click(
    userId: string,
    message: PostedMessage,
    actionId: string,
    opts?: ClickOptions,
  ): Promise<{ status: number; body: string; responseUrl: string }>;
  click(
    userId: string,
    view: FakeView,
    actionId: string,
    opts?: ClickOptions,
  ): Promise<{ status: number; body: string }>;
  click(
    userId: string,
    target: PostedMessage | FakeView,
    actionId: string,
    opts: ClickOptions = {},
  ): Promise<{ status: number; body: string; responseUrl?: string }> {
    return isFakeView(target)
      ? this.#clickView(userId, target, actionId, opts)
      : this.#clickMessage(userId, target, actionId, opts);
  }

  async #clickMessage(
    userId: string,
    message: PostedMessage,
    actionId: string,
    opts: ClickOptions,
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
    const action = this.#buttonAction(current, actionId, opts, `message ${current.ts}`);
    const responseUrl = fake.newResponseUrl({
      channel: current.channel,
      user: userId,
      messageTs: current.ts,
    });
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
      trigger_id: fake.issueTrigger(userId, { ageMs: opts.triggerAgeMs ?? 0 }),
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
    const { status, body } = await this.#interactive(payload, opts.timestampSec);
    return { status, body, responseUrl };
  }

  /** The block_actions `actions[0]` for the button, looked up in the surface's current blocks. */
  #buttonAction(
    surface: { blocks?: unknown[] },
    actionId: string,
    opts: ClickOptions,
    where: string,
  ): Record<string, unknown> {
    const buttons = listButtons(surface);
    const button = buttons.find(
      (b) => b.actionId === actionId && (opts.value === undefined || b.value === opts.value),
    );
    if (!button) {
      const available = buttons
        .map((b) => `${b.actionId}${b.value !== undefined ? `=${b.value}` : ''}`)
        .join(', ');
      throw new Error(
        `slack driver: no button ${actionId}${opts.value !== undefined ? ` with value ${opts.value}` : ''} on ${where} (buttons now: ${available || 'none'})`,
      );
    }
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
    return action;
  }

  /** The view as the user sees it now: their top modal or their Home tab (throws otherwise). */
  #visibleView(userId: string, target: FakeView | string): FakeView {
    const fake = this.#opts.fake;
    const viewId = typeof target === 'string' ? target : target.view.id;
    const fv = fake.views.findView(viewId);
    if (!fv) throw new Error(`slack driver: the fake knows no view ${viewId}`);
    if (fv.userId !== userId)
      throw new Error(`slack driver: ${userId} cannot see view ${viewId}, which is ${fv.userId}'s`);
    if (fv.view.type === 'home') return fv;
    if (fv.closedAt !== undefined)
      throw new Error(`slack driver: view ${viewId} was closed (${fv.closedBy ?? 'closed'})`);
    const top = fake.openViews(userId).at(-1);
    if (top !== fv)
      throw new Error(
        `slack driver: view ${viewId} is under ${top?.view.id ?? '?'} in ${userId}'s modal stack`,
      );
    return fv;
  }

  #userObject(userId: string): Record<string, unknown> {
    const user = this.#user(userId);
    return { id: user.id, username: user.name, name: user.name, team_id: this.#teamId };
  }

  /** The fields every interaction payload carries. */
  #interactionBase(type: string, userId: string): Record<string, unknown> {
    return {
      type,
      user: this.#userObject(userId),
      api_app_id: this.#appId,
      token: this.#token,
      team: { id: this.#teamId, domain: this.#opts.fake.teamDomain },
      enterprise: null,
      is_enterprise_install: false,
    };
  }

  /**
   * Sends an interaction payload: a signed form post of `payload=…` or an `interactive` envelope. `ms` is on the
   * fake's clock, so a test clock the app advances makes an answer late without waiting.
   */
  async #interactive(
    payload: Record<string, unknown>,
    timestampSec?: number,
  ): Promise<{ status: number; body: string; ms: number }> {
    const started = this.#opts.fake.now();
    if (this.socketMode) {
      const { status, body } = await this.envelope('interactive', payload);
      return { status, body, ms: this.#opts.fake.now() - started };
    }
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const res = await this.#post(body, this.#signedHeaders(body, timestampSec));
    return { ...res, ms: this.#opts.fake.now() - started };
  }

  async #clickView(
    userId: string,
    target: FakeView,
    actionId: string,
    opts: ClickOptions,
  ): Promise<{ status: number; body: string }> {
    const fake = this.#opts.fake;
    const fv = this.#visibleView(userId, target);
    const action = this.#buttonAction(fv.view, actionId, opts, `view ${fv.view.id}`);
    const payload: Record<string, unknown> = {
      ...this.#interactionBase('block_actions', userId),
      container: { type: 'view', view_id: fv.view.id },
      trigger_id: fake.issueTrigger(userId, { ageMs: opts.triggerAgeMs ?? 0, viewId: fv.view.id }),
      view: structuredClone(fv.view),
      actions: [action],
    };
    const { status, body } = await this.#interactive(payload, opts.timestampSec);
    return { status, body };
  }

  /**
   * The user picks `value` (an option's value, a user id, or text) in the input `blockId` of their top modal: the
   * view's state takes it, and when the input block has `dispatch_action`, Slack sends the app a `block_actions`
   * with the pick and the view as it now stands (`dispatched: false` otherwise: Slack sends nothing until submit).
   * An external select's value must be one the app suggested (or its initial option), as for a submission.
   */
  async select(
    userId: string,
    view: FakeView | string,
    blockId: string,
    value: EnteredValue,
    opts: ClickOptions = {},
  ): Promise<{ dispatched: boolean; status?: number; body?: string }> {
    const fake = this.#opts.fake;
    const fv = this.#visibleView(userId, view);
    const block = fv.view.blocks.find(
      (b): b is Record<string, unknown> => isObj(b) && b.type === 'input' && b.block_id === blockId,
    );
    if (!block || !isObj(block.element))
      throw new Error(`slack driver: view ${fv.view.id} has no input block ${blockId}`);
    const viewId = fv.view.id;
    // The one input as a submission would carry it, then merged into what the view holds already.
    const one = submissionState(
      { ...fv.view, blocks: [{ ...block, optional: true }] },
      { [blockId]: value },
      (a) => this.#suggested.get(`${viewId}/${a}`) ?? [],
    );
    fake.views.setState(viewId, { ...fv.view.state.values, ...one });
    if (block.dispatch_action !== true) return { dispatched: false };
    const entered = Object.values(one[blockId] ?? {})[0] ?? { type: String(block.element.type) };
    const action: Record<string, unknown> = {
      ...entered,
      action_id: String(block.element.action_id),
      block_id: blockId,
      action_ts: actionTs(),
    };
    const payload: Record<string, unknown> = {
      ...this.#interactionBase('block_actions', userId),
      container: { type: 'view', view_id: viewId },
      trigger_id: fake.issueTrigger(userId, { ageMs: opts.triggerAgeMs ?? 0, viewId }),
      view: structuredClone(fv.view),
      actions: [action],
    };
    const { status, body } = await this.#interactive(payload, opts.timestampSec);
    return { dispatched: true, status, body };
  }

  /** Runs the global shortcut `callbackId` (from the composer or search) as the user: a `shortcut` payload. */
  async shortcut(
    userId: string,
    callbackId: string,
    opts: { triggerAgeMs?: number; timestampSec?: number } = {},
  ): Promise<{ status: number; body: string; triggerId: string }> {
    const triggerId = this.#opts.fake.issueTrigger(userId, { ageMs: opts.triggerAgeMs ?? 0 });
    const base = this.#interactionBase('shortcut', userId);
    // A shortcut payload's user has no `name` (docs.slack.dev global shortcut payload).
    const { name: _name, ...user } = base.user as Record<string, unknown>;
    const payload = { ...base, user, callback_id: callbackId, trigger_id: triggerId, action_ts: actionTs() };
    const { status, body } = await this.#interactive(payload, opts.timestampSec);
    return { status, body, triggerId };
  }

  /**
   * The user opens the app's Home (tab `home`, default) or Messages tab: an `app_home_opened` event in an
   * `event_callback`, with the user's current Home view when one was published. Over HTTP a signed JSON post;
   * over Socket Mode an `events_api` envelope.
   */
  async openHome(
    userId: string,
    opts: { tab?: 'home' | 'messages'; timestampSec?: number } = {},
  ): Promise<{ status: number; body: string; event: Record<string, unknown> }> {
    const fake = this.#opts.fake;
    this.#user(userId);
    const tab = opts.tab ?? 'home';
    const home = fake.homeView(userId);
    const event: Record<string, unknown> = {
      type: 'app_home_opened',
      user: userId,
      channel: fake.dmChannelOf(userId),
      tab,
      event_ts: actionTs(),
    };
    if (tab === 'home' && home) event.view = structuredClone(home.view);
    const sec = Math.floor(Date.now() / 1000);
    const callback = {
      token: this.#token,
      team_id: this.#teamId,
      context_team_id: this.#teamId,
      api_app_id: this.#appId,
      event,
      type: 'event_callback',
      event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
      event_time: sec,
      authorizations: [
        {
          enterprise_id: null,
          team_id: this.#teamId,
          user_id: fake.botUserId,
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
    };
    if (this.socketMode) {
      const { status, body } = await this.envelope('events_api', callback);
      return { status, body, event };
    }
    const body = JSON.stringify(callback);
    const headers = { ...this.#signedHeaders(body, opts.timestampSec), 'content-type': 'application/json' };
    const res = await this.#post(body, headers);
    return { ...res, event };
  }

  /**
   * The user types `value` into the external select `actionId` of a view (their top modal or Home tab) or a
   * message: a `block_suggestion`, and the app's options answer judged as Slack's client judges it (`failure` set
   * when it came after 3 s, is not 200, or breaks the options limits). Throws when Slack would send nothing: no
   * such menu, or fewer typed characters than its min_query_length (default 3).
   */
  async suggest(
    userId: string,
    target: FakeView | PostedMessage,
    actionId: string,
    value: string,
    opts: { timestampSec?: number } = {},
  ): Promise<SuggestResult> {
    const fake = this.#opts.fake;
    const base = this.#interactionBase('block_suggestion', userId);
    let payload: Record<string, unknown>;
    let blocks: unknown[];
    let key: string;
    if (isFakeView(target)) {
      const fv = this.#visibleView(userId, target);
      blocks = fv.view.blocks;
      key = fv.view.id;
      payload = {
        ...base,
        container: { type: 'view', view_id: fv.view.id },
        view: structuredClone(fv.view),
      };
    } else {
      const m = fake.findMessage(target.channel, target.ts) ?? target;
      if (m.deleted) throw new Error(`slack driver: message ${m.ts} in ${m.channel} was deleted`);
      blocks = m.blocks ?? [];
      key = `${m.channel}/${m.ts}`;
      payload = {
        ...base,
        container: {
          type: 'message',
          message_ts: m.ts,
          channel_id: m.channel,
          is_ephemeral: m.ephemeral,
        },
        channel: { id: m.channel, name: fake.channelName(m.channel) },
        ...(m.ephemeral ? {} : { message: { type: 'message', ts: m.ts, text: m.text ?? '', blocks } }),
      };
    }
    const menu = findExternalSelect(blocks, actionId);
    if (!menu) throw new Error(`slack driver: no external select ${actionId} in ${key}`);
    const min = menu.element.min_query_length;
    const minLength = typeof min === 'number' ? min : OPTION_LIMITS.defaultMinQueryLength;
    if (value.length < minLength) {
      throw new Error(
        `slack driver: Slack sends no block_suggestion for "${value}": ${actionId} waits for ${minLength} typed characters`,
      );
    }
    Object.assign(payload, { action_id: actionId, block_id: menu.blockId, value });
    const { status, body, ms } = await this.#interactive(payload, opts.timestampSec);
    const result: SuggestResult = { status, body, ms, options: [] };
    if (status !== 200) return { ...result, failure: `the options request answered HTTP ${status}` };
    if (ms > ANSWER_DEADLINE_MS)
      return { ...result, failure: `the options came after ${ms} ms (Slack waits ${ANSWER_DEADLINE_MS} ms)` };
    const parsed = answerObject(body);
    if (!parsed.ok || parsed.value === undefined)
      return { ...result, failure: `the options answer is not a JSON object: ${body || '(empty)'}` };
    const check = checkOptionsAnswer(parsed.value);
    if (!check.ok) return { ...result, failure: check.failure };
    this.#suggested.set(`${key}/${actionId}`, check.options);
    return { ...result, options: check.options, ...(check.groups ? { optionGroups: check.groups } : {}) };
  }

  /**
   * Submits the user's top modal with `values` keyed by input block_id (a string for text, a date, a picked
   * option's value or a user/conversation id; an array for multi-selects and checkboxes): a `view_submission`
   * whose view.state.values holds every input of the view. Throws when a value names no input, a required input
   * is empty, or a picked value is not on offer (external selects: options the app suggested via `suggest`, or
   * the initial option). Then carries out the app's ack as Slack does: none → the view closes; `errors` (each
   * key an input block of the view) → it stays open with them; `update`, `push`, `clear`. `failure` is set, and
   * the modal left as it was, when Slack would show an error (late, not 200, an answer Slack refuses).
   */
  async submit(
    userId: string,
    view: FakeView | string,
    values: Record<string, EnteredValue> = {},
    opts: { timestampSec?: number } = {},
  ): Promise<SubmitResult> {
    const fake = this.#opts.fake;
    const fv = this.#visibleView(userId, view);
    if (fv.view.type !== 'modal') throw new Error('slack driver: a Home tab has no submit button');
    const viewId = fv.view.id;
    const state = submissionState(fv.view, values, (a) => this.#suggested.get(`${viewId}/${a}`) ?? []);
    fake.views.setState(viewId, state);
    const payload: Record<string, unknown> = {
      ...this.#interactionBase('view_submission', userId),
      trigger_id: fake.issueTrigger(userId, { viewId }),
      view: structuredClone(fv.view),
      response_urls: [],
    };
    const { status, body, ms } = await this.#interactive(payload, opts.timestampSec);
    const sent = { status, body, ms, payload };
    if (status !== 200) return { ...sent, failure: `the submission answered HTTP ${status}`, top: fv };
    if (ms > ANSWER_DEADLINE_MS) {
      return {
        ...sent,
        failure: `the submission was answered after ${ms} ms (Slack waits ${ANSWER_DEADLINE_MS} ms)`,
        top: fv,
      };
    }
    const parsed = answerObject(body);
    if (!parsed.ok) return { ...sent, failure: `the answer is not a JSON object: ${body}`, top: fv };
    return { ...sent, ...fake.views.applySubmissionAck(userId, viewId, parsed.value) };
  }

  /**
   * The user presses Close (or ×) on their top modal: it closes, or the whole stack with clear_on_close. With
   * notify_on_close the app gets a `view_closed` (is_cleared true when the stack was cleared).
   */
  async closeView(
    userId: string,
    view: FakeView | string,
    opts: { timestampSec?: number } = {},
  ): Promise<CloseResult> {
    const fv = this.#visibleView(userId, view);
    if (fv.view.type !== 'modal') throw new Error('slack driver: a Home tab cannot be closed');
    const snapshot = structuredClone(fv.view);
    const { closed, isCleared } = this.#opts.fake.views.closeByUser(userId, fv.view.id);
    if (!snapshot.notify_on_close) return { closed, notified: false };
    const payload = {
      ...this.#interactionBase('view_closed', userId),
      view: snapshot,
      is_cleared: isCleared,
    };
    const { status } = await this.#interactive(payload, opts.timestampSec);
    return { closed, notified: true, status };
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
