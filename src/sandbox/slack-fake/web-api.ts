// Owns the local Slack Web API fake: a node:http server that answers the Web API methods the bot uses the way
// Slack documents them (form or JSON bodies, bearer or body token, `{ok:false,error}` answers, 429 + Retry-After),
// the file-upload URLs of files.getUploadURLExternal, response_url endpoints, and Socket Mode (apps.connections.open
// for an app-level token and the WebSocket upgrades to its URLs, served by socket-mode.ts); it records every
// message, update, file and call so tests and the sandbox can read what a Slack user would have seen. The views.*
// methods (modals, Home tabs, trigger_ids) are answered from the view store in views.ts.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { checkBlocks, withBlockIds } from './block-limits.ts';
import { renderMessage } from './render.ts';
import { createSocketModeServer, type SocketModeServer } from './socket-mode.ts';
import { ApiError, createViewStore, type FakeView, type TriggerOptions, type ViewStore } from './views.ts';

export interface FakeUser {
  id: string /* U… */;
  name: string;
  realName?: string;
  email?: string;
  deleted?: boolean;
  isBot?: boolean;
  tz?: string;
}

export interface FakeChannel {
  id: string /* C… */;
  name: string;
}

export interface MessageUpdate {
  ts: string;
  text?: string;
  blocks?: unknown[];
  at: number;
}

export interface PostedMessage {
  channel: string;
  ts: string;
  /** Current text and blocks (after updates). */
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  /** For ephemerals: the only user who sees it. */
  user?: string;
  ephemeral: boolean;
  updates: MessageUpdate[];
  /** `ack`: the body of the slash command's HTTP answer, which Slack shows like a response_url reply. */
  via: 'chat.postMessage' | 'chat.postEphemeral' | 'response_url' | 'ack' | 'files.completeUploadExternal';
  response_type?: 'ephemeral' | 'in_channel';
  replace_original?: boolean;
  /** Set by chat.delete or a response_url `delete_original`. */
  deleted?: boolean;
  /** For file shares: the files shared with this message. */
  files?: { id: string; filename: string; title?: string }[];
  /** Message metadata given to chat.postMessage (invisible to people; returned with include_all_metadata). */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  at: number;
}

export interface FakeFile {
  id: string;
  channels: string[];
  filename: string;
  title?: string;
  content: Buffer;
  initialComment?: string;
  thread_ts?: string;
}

export interface RecordedCall {
  method: string;
  /** The arguments as parsed (the token removed). */
  args: Record<string, unknown>;
  at: number;
  /** HTTP status answered (429 when rate limited). */
  status: number;
  /** The `error` answered, when not ok. */
  error?: string;
}

/** Where a response_url posts to: the conversation, the user who sees ephemeral replies, the message it may replace. */
export interface ResponseUrlContext {
  channel: string;
  user?: string;
  messageTs?: string;
}

export type MessageEventKind = 'posted' | 'updated' | 'deleted';

export interface SlackFakeOptions {
  port?: number;
  botToken: string;
  users: FakeUser[];
  channels?: FakeChannel[];
  usergroups?: Record<string /* S… */, string[] /* member user ids */>;
  /** Delay before every Web API answer, to see how the bot behaves when Slack is slow. */
  latencyMs?: number;
  teamId?: string;
  teamDomain?: string;
  botUserId?: string;
  botId?: string;
  appId?: string;
  /**
   * The app-level token (xapp-…) apps.connections.open accepts, for Socket Mode. Without one every app token is
   * refused with invalid_auth, as Slack refuses a token of another app.
   */
  appToken?: string;
  /** Settings of the Socket Mode server (ping interval, retries, close grace). */
  socketMode?: Omit<Parameters<typeof createSocketModeServer>[0], 'appId'>;
  /**
   * The clock trigger_id expiry (3 s) and the driver's 3-second deadlines are read from; default Date.now. A test
   * clock lets a test pass those deadlines without waiting.
   */
  now?: () => number;
}

export interface SlackFake {
  /** 'http://127.0.0.1:PORT/api/' — what SLACK_API_URL gets. */
  apiUrl: string;
  url: string;
  teamId: string;
  teamDomain: string;
  botUserId: string;
  botId: string;
  appId: string;
  /** Slack's Socket Mode side: the connections apps.connections.open hands out, envelopes, acks, disconnects. */
  socketMode: SocketModeServer;
  /** Everything posted (channel messages, DMs, ephemerals, response_url replies, slash acks, file shares). */
  messages: PostedMessage[];
  files: FakeFile[];
  calls: RecordedCall[];
  /** A fresh response_url; posts to it are recorded as messages with via 'response_url'. */
  newResponseUrl(ctx?: ResponseUrlContext): string;
  /** Resolves on an existing or future match (also on updates); rejects on timeout with a dump of all messages. */
  waitFor(pred: (m: PostedMessage) => boolean, timeoutMs?: number): Promise<PostedMessage>;
  /** Calls the listener on every new, updated or deleted message; returns the unsubscribe function. */
  subscribe(listener: (m: PostedMessage, kind: MessageEventKind) => void): () => void;
  /** The next `times` calls of `method` answer HTTP 429 with Retry-After, as Slack does. */
  injectRateLimit(method: string, retryAfterSec: number, times?: number): void;
  /** The next `times` calls of `method` answer `{ok:false, error}`. */
  injectError(method: string, error: string, times?: number): void;
  /**
   * The next `times` calls of `method` fail on Slack's side: HTTP `status` (5xx) with `{ok:false, error}`
   * (`service_unavailable` for 503, `internal_error` otherwise), and nothing is carried out.
   */
  injectServerError(method: string, status?: number, times?: number): void;
  /**
   * The next `times` calls of `method` are CARRIED OUT (a message is posted) but the answer is lost: the connection
   * is closed without a response, as when a network or proxy fails after Slack accepted the call.
   */
  injectLostAnswer(method: string, times?: number): void;
  addUser(u: FakeUser): void;
  setUsergroup(id: string, members: string[]): void;
  getUser(id: string): FakeUser | undefined;
  listUsers(): FakeUser[];
  listChannels(): FakeChannel[];
  /** The channel's name, 'directmessage' for DMs, as Slack puts it in payloads. */
  channelName(id: string): string;
  /** The D… channel conversations.open returns for that user. */
  dmChannelOf(userId: string): string;
  findMessage(channel: string, ts: string): PostedMessage | undefined;
  /** Records a message that did not come through the Web API (the driver's slash-command acks). */
  recordMessage(m: Omit<PostedMessage, 'ts' | 'updates' | 'at'> & { ts?: string }): PostedMessage;
  /** The fake's clock (SlackFakeOptions.now). */
  now(): number;
  /** Modals, Home tabs and trigger_ids: what views.open/push/update/publish keep, and the driver's side of them. */
  views: ViewStore;
  /** A trigger_id as an interaction by that user would carry (one use, expires 3 s after `now - ageMs`). */
  issueTrigger(userId: string, opts?: TriggerOptions): string;
  /** The user's open modal stack, root first (empty when none is open). */
  openViews(userId: string): FakeView[];
  /** The user's published Home tab, if any. */
  homeView(userId: string): FakeView | undefined;
  /** Forgets messages, files, calls, views and trigger_ids (users, channels and usergroups stay). */
  clear(): void;
  close(): Promise<void>;
}

type Obj = Record<string, unknown>;
type ApiResult = Obj & { ok: boolean };

/** What Slack answers when it fails on its side (an injected server error), or undefined when none is due. */
function serverErrorAnswer(
  due: { status: number } | undefined,
): { status: number; body: ApiResult } | undefined {
  if (!due) return undefined;
  const error = due.status === 503 ? 'service_unavailable' : 'internal_error';
  return { status: due.status, body: { ok: false, error } };
}

/** Slack's 30-minute, five-use rule for response_url. */
const RESPONSE_URL_TTL_MS = 30 * 60_000;
const RESPONSE_URL_MAX_USES = 5;
/** Slack truncates message text beyond this length. */
const MAX_TEXT = 40_000;

// Form bodies carry every value as a string; booleans arrive as 'true'/'1'.
const flag = z
  .union([z.boolean(), z.string(), z.number()])
  .optional()
  .transform((v) => v === true || v === 'true' || v === '1' || v === 1);
const optStr = z.string().optional();
const messageArgs = z.object({
  channel: z.string().default(''),
  text: optStr,
  blocks: z.unknown().optional(),
  attachments: z.unknown().optional(),
  thread_ts: optStr,
  metadata: z.unknown().optional(),
});

function parseArgs<T extends z.ZodType>(schema: T, args: Obj): z.output<T> {
  const parsed = schema.safeParse(args);
  if (!parsed.success) {
    throw new ApiError('invalid_arguments', {
      response_metadata: {
        messages: parsed.error.issues.map((i) => `[ERROR] ${i.message} [json-pointer:/${i.path.join('/')}]`),
      },
    });
  }
  return parsed.data;
}

function newId(prefix: string): string {
  return prefix + randomBytes(6).toString('hex').toUpperCase().slice(0, 10);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

interface ParsedRequest {
  args: Obj;
  bodyToken?: string;
  /** Binary parts of a multipart body. */
  fileParts: Buffer[];
}

/** Reads arguments the way Slack accepts them: query string, form-urlencoded, JSON, or multipart bodies. */
async function parseRequest(req: IncomingMessage, body: Buffer, url: URL): Promise<ParsedRequest> {
  const args: Obj = Object.fromEntries(url.searchParams);
  const fileParts: Buffer[] = [];
  const rawType = req.headers['content-type'] ?? '';
  const type = rawType.toLowerCase();
  let bodyToken: string | undefined = typeof args.token === 'string' ? args.token : undefined;
  if (body.length === 0) return { args, bodyToken, fileParts };
  if (type.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ApiError('invalid_json');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new ApiError('json_not_object');
    // Slack ignores a token inside a JSON body: JSON callers must use the Authorization header.
    const { token: _ignored, ...rest } = parsed as Obj;
    Object.assign(args, rest);
  } else if (type.startsWith('multipart/form-data')) {
    const form = await new Response(new Uint8Array(body), {
      headers: { 'content-type': rawType },
    }).formData();
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') args[key] = value;
      else fileParts.push(Buffer.from(await value.arrayBuffer()));
    }
    if (typeof args.token === 'string') bodyToken = args.token;
  } else {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) args[k] = v;
    if (typeof args.token === 'string') bodyToken = args.token;
  }
  return { args, bodyToken, fileParts };
}

function parseJsonArg(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export async function startSlackFake(opts: SlackFakeOptions): Promise<SlackFake> {
  const teamId = opts.teamId ?? 'T0SANDBOX';
  const teamDomain = opts.teamDomain ?? 'sandbox';
  const botUserId = opts.botUserId ?? 'U0BOTUSER';
  const botId = opts.botId ?? 'B0BOTAPP1';
  const appId = opts.appId ?? 'A0QLIKBOT';
  const users = new Map<string, FakeUser>(opts.users.map((u) => [u.id, { ...u }]));
  const channels = new Map<string, FakeChannel>((opts.channels ?? []).map((c) => [c.id, { ...c }]));
  const usergroups = new Map<string, string[]>(Object.entries(opts.usergroups ?? {}));
  const mpims = new Map<string, string[]>();
  const messages: PostedMessage[] = [];
  const files: FakeFile[] = [];
  const calls: RecordedCall[] = [];
  const listeners = new Set<(m: PostedMessage, kind: MessageEventKind) => void>();
  const rateLimits = new Map<string, { retryAfterSec: number; times: number }[]>();
  const injectedErrors = new Map<string, { error: string; times: number }[]>();
  const lostAnswers = new Map<string, { times: number }[]>();
  const serverErrors = new Map<string, { status: number; times: number }[]>();
  const responseUrls = new Map<string, { ctx: ResponseUrlContext; created: number; uses: number }>();
  const pendingUploads = new Map<
    string,
    { fileId: string; filename: string; length: number; content?: Buffer }
  >();
  const uploadsById = new Map<
    string,
    { filename: string; length: number; content?: Buffer; completed: boolean }
  >();
  let baseUrl = '';
  let lastMicros = 0;
  const now = opts.now ?? Date.now;
  const views = createViewStore({
    teamId,
    appId,
    botId,
    now,
    userExists: (id) => {
      const u = users.get(id);
      return u !== undefined && u.deleted !== true;
    },
  });

  /** A views.* call's answer: the view; its ApiError is answered like any method's. */
  function viewCall(run: () => unknown): ApiResult {
    return { ok: true, view: run() };
  }

  // Message timestamps are unique and increasing, like Slack's "seconds.micros" ts.
  function nextTs(): string {
    lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  }

  function dmChannelOf(userId: string): string {
    return `D${userId.slice(1)}`;
  }

  function dmOwner(channel: string): FakeUser | undefined {
    if (!channel.startsWith('D')) return undefined;
    for (const u of users.values()) if (dmChannelOf(u.id) === channel) return u;
    return undefined;
  }

  function emit(m: PostedMessage, kind: MessageEventKind): void {
    for (const l of [...listeners]) l(m, kind);
  }

  function findMessage(channel: string, ts: string): PostedMessage | undefined {
    return messages.find((m) => m.channel === channel && m.ts === ts);
  }

  function recordMessage(m: Omit<PostedMessage, 'ts' | 'updates' | 'at'> & { ts?: string }): PostedMessage {
    const msg: PostedMessage = { ...m, ts: m.ts ?? nextTs(), updates: [], at: Date.now() };
    messages.push(msg);
    emit(msg, 'posted');
    return msg;
  }

  function applyUpdate(msg: PostedMessage, text: string | undefined, blocks: unknown[] | undefined): void {
    msg.text = text;
    msg.blocks = blocks;
    const u: MessageUpdate = { ts: msg.ts, at: Date.now() };
    if (text !== undefined) u.text = text;
    if (blocks !== undefined) u.blocks = blocks;
    msg.updates.push(u);
    emit(msg, 'updated');
  }

  /**
   * Resolves a `channel` argument: a channel id or name, a DM or MPIM id, or (where Slack allows it) a user id,
   * which means the app's DM with that user.
   */
  function resolveChannel(arg: string, allowUserId: boolean): string {
    if (channels.has(arg)) return arg;
    const name = arg.replace(/^#/, '');
    for (const c of channels.values()) if (c.name === name) return c.id;
    if (dmOwner(arg) || mpims.has(arg)) return arg;
    const user = users.get(arg);
    if (allowUserId && user && !user.deleted) return dmChannelOf(user.id);
    throw new ApiError('channel_not_found');
  }

  /** Validates a `blocks` argument (JSON string or array) and gives blocks without a block_id one, as Slack does. */
  function blocksArg(raw: unknown): unknown[] | undefined {
    if (raw === undefined) return undefined;
    const check = checkBlocks(raw);
    if (!check.ok) {
      throw new ApiError(check.error, {
        errors: check.errors,
        response_metadata: { messages: check.errors.map((e) => `[ERROR] ${e}`) },
      });
    }
    return withBlockIds(check.blocks);
  }

  /** A message needs text, blocks or attachments (`no_text`); text beyond Slack's limit is truncated. */
  function messageContent(
    text: string | undefined,
    blocks: unknown[] | undefined,
    attachments: unknown,
  ): { text?: string; blocks?: unknown[] } {
    const att = parseJsonArg(attachments);
    const hasAttachments = Array.isArray(att) && att.length > 0;
    if (
      (text === undefined || text === '') &&
      (blocks === undefined || blocks.length === 0) &&
      !hasAttachments
    ) {
      throw new ApiError('no_text');
    }
    const out: { text?: string; blocks?: unknown[] } = {};
    if (text !== undefined) out.text = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
    if (blocks !== undefined) out.blocks = blocks;
    return out;
  }

  /**
   * chat.postMessage's `metadata`: a JSON object (or its string) with a string event_type and an object
   * event_payload (docs.slack.dev/messaging/message-metadata); Slack answers invalid_metadata_format when it is not
   * JSON and invalid_metadata_schema when the shape is wrong.
   */
  function metadataArg(raw: unknown): PostedMessage['metadata'] {
    if (raw === undefined || raw === '') return undefined;
    let v: unknown = raw;
    if (typeof raw === 'string') {
      try {
        v = JSON.parse(raw);
      } catch {
        throw new ApiError('invalid_metadata_format');
      }
    }
    const shape = z
      .object({ event_type: z.string().min(1), event_payload: z.record(z.string(), z.unknown()) })
      .safeParse(v);
    if (!shape.success) throw new ApiError('invalid_metadata_schema');
    return shape.data;
  }

  /** A message as conversations.history/replies return it; metadata only when include_all_metadata is set. */
  function messageObject(m: PostedMessage, withMetadata = false): Obj {
    const o: Obj = {
      user: botUserId,
      type: 'message',
      ts: m.ts,
      bot_id: botId,
      app_id: appId,
      text: m.text ?? '',
      team: teamId,
      bot_profile: { id: botId, app_id: appId, name: 'qlik-access-bot', deleted: false, team_id: teamId },
    };
    if (m.blocks !== undefined) o.blocks = m.blocks;
    if (m.thread_ts !== undefined) o.thread_ts = m.thread_ts;
    if (m.files !== undefined) o.files = m.files.map((f) => ({ id: f.id, name: f.filename, title: f.title }));
    if (withMetadata && m.metadata !== undefined) o.metadata = m.metadata;
    return o;
  }

  /**
   * One page of messages, the way conversations.history/replies page: `limit` (default 100 for history, 1000 for
   * replies, at most 1000), an opaque `cursor`, `has_more` and response_metadata.next_cursor.
   */
  function page(
    list: PostedMessage[],
    a: { limit?: number | undefined; cursor?: string | undefined; include_all_metadata: boolean },
    defaultLimit: number,
  ): ApiResult {
    const start = a.cursor
      ? Number(
          Buffer.from(a.cursor, 'base64')
            .toString('utf8')
            .replace(/^next:/, ''),
        )
      : 0;
    if (!Number.isInteger(start) || start < 0) throw new ApiError('invalid_cursor');
    const limit = Math.min(Math.max(a.limit ?? defaultLimit, 1), 1000);
    const items = list.slice(start, start + limit);
    const more = start + limit < list.length;
    return {
      ok: true,
      messages: items.map((m) => messageObject(m, a.include_all_metadata)),
      has_more: more,
      response_metadata: { next_cursor: more ? Buffer.from(`next:${start + limit}`).toString('base64') : '' },
    };
  }

  /** Messages people can see in a conversation: not ephemerals, not deleted, not slash-command acks. */
  function visible(channel: string): PostedMessage[] {
    return messages.filter(
      (m) =>
        m.channel === channel && !m.ephemeral && !m.deleted && m.via !== 'ack' && m.via !== 'response_url',
    );
  }

  function userObject(u: FakeUser): Obj {
    const profile: Obj = {
      real_name: u.realName ?? u.name,
      real_name_normalized: u.realName ?? u.name,
      display_name: u.name,
      display_name_normalized: u.name,
      team: teamId,
    };
    // Slack only includes the email with the users:read.email scope; a user without one shows none.
    if (u.email !== undefined) profile.email = u.email;
    return {
      id: u.id,
      team_id: teamId,
      name: u.name,
      deleted: u.deleted === true,
      real_name: u.realName ?? u.name,
      tz: u.tz ?? 'Europe/Stockholm',
      tz_label: u.tz ?? 'Central European Time',
      tz_offset: 3600,
      profile,
      is_admin: false,
      is_owner: false,
      is_bot: u.isBot === true,
      is_app_user: false,
      updated: Math.floor(Date.now() / 1000),
    };
  }

  const socketMode = createSocketModeServer({ appId, ...opts.socketMode });

  const handlers: Record<string, (args: Obj) => ApiResult> = {
    'api.test': (args) => ({ ok: true, args }),

    // docs.slack.dev/reference/methods/apps.connections.open: a one-use WebSocket URL (the token is checked above).
    'apps.connections.open': () => ({ ok: true, url: socketMode.issueUrl(baseUrl.replace(/^http/, 'ws')) }),

    'auth.test': () => ({
      ok: true,
      url: `${baseUrl}/`,
      team: teamDomain,
      user: 'qlik-access-bot',
      team_id: teamId,
      user_id: botUserId,
      bot_id: botId,
      is_enterprise_install: false,
    }),

    'chat.postMessage': (raw) => {
      const a = parseArgs(messageArgs, raw);
      const channel = resolveChannel(a.channel, true);
      const content = messageContent(a.text, blocksArg(a.blocks), a.attachments);
      const metadata = metadataArg(a.metadata);
      const msg = recordMessage({
        channel,
        ...content,
        ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}),
        ...(metadata ? { metadata } : {}),
        ephemeral: false,
        via: 'chat.postMessage',
      });
      return { ok: true, channel, ts: msg.ts, message: messageObject(msg) };
    },

    'chat.postEphemeral': (raw) => {
      const a = parseArgs(messageArgs.extend({ user: z.string().default('') }), raw);
      const channel = resolveChannel(a.channel, true);
      const user = users.get(a.user);
      if (!user || user.deleted) throw new ApiError('user_not_in_channel');
      const dm = dmOwner(channel);
      if (dm && dm.id !== user.id) throw new ApiError('user_not_in_channel');
      const content = messageContent(a.text, blocksArg(a.blocks), a.attachments);
      const msg = recordMessage({
        channel,
        ...content,
        ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}),
        user: user.id,
        ephemeral: true,
        via: 'chat.postEphemeral',
      });
      return { ok: true, message_ts: msg.ts };
    },

    'chat.update': (raw) => {
      const a = parseArgs(messageArgs.extend({ ts: z.string().default('') }), raw);
      // chat.update needs the conversation id: a user id is not resolved to the DM (Slack documents this).
      const channel = resolveChannel(a.channel, false);
      const msg = findMessage(channel, a.ts);
      if (!msg || msg.ephemeral || msg.deleted) throw new ApiError('message_not_found');
      // Omitted blocks (or text) keep the previous ones; an empty blocks array removes them (chat.update docs).
      const blocks = a.blocks === undefined ? msg.blocks : blocksArg(a.blocks);
      const content = messageContent(a.text ?? msg.text, blocks, a.attachments);
      const text = content.text;
      applyUpdate(msg, text, content.blocks);
      return { ok: true, channel, ts: msg.ts, text: text ?? '', message: messageObject(msg) };
    },

    'chat.delete': (raw) => {
      const a = parseArgs(z.object({ channel: z.string().default(''), ts: z.string().default('') }), raw);
      const channel = resolveChannel(a.channel, false);
      const msg = findMessage(channel, a.ts);
      if (!msg || msg.ephemeral || msg.deleted) throw new ApiError('message_not_found');
      msg.deleted = true;
      emit(msg, 'deleted');
      return { ok: true, channel, ts: msg.ts };
    },

    'chat.getPermalink': (raw) => {
      const a = parseArgs(
        z.object({ channel: z.string().default(''), message_ts: z.string().default('') }),
        raw,
      );
      const channel = resolveChannel(a.channel, false);
      if (!findMessage(channel, a.message_ts)) throw new ApiError('message_not_found');
      return {
        ok: true,
        channel,
        permalink: `${baseUrl}/archives/${channel}/p${a.message_ts.replace('.', '')}`,
      };
    },

    'conversations.open': (raw) => {
      const a = parseArgs(z.object({ users: optStr, channel: optStr, return_im: flag }), raw);
      if (a.channel !== undefined && a.users === undefined) {
        if (!dmOwner(a.channel) && !mpims.has(a.channel)) throw new ApiError('channel_not_found');
        return { ok: true, no_op: true, already_open: true, channel: { id: a.channel } };
      }
      if (a.users === undefined || a.users.trim() === '') throw new ApiError('users_list_not_supplied');
      const ids = a.users.split(',').map((s) => s.trim());
      if (ids.length > 8) throw new ApiError('too_many_users');
      for (const id of ids) {
        const u = users.get(id);
        if (!u) throw new ApiError('user_not_found');
        if (u.deleted) throw new ApiError('user_disabled');
      }
      if (ids.length === 1) {
        const id = dmChannelOf(ids[0]!);
        const channel: Obj = { id };
        if (a.return_im)
          Object.assign(channel, {
            created: Math.floor(Date.now() / 1000),
            is_im: true,
            is_org_shared: false,
            user: ids[0],
            is_open: true,
          });
        return { ok: true, channel };
      }
      const key = [...ids].sort().join(',');
      let mpimId = [...mpims.entries()].find(([, members]) => [...members].sort().join(',') === key)?.[0];
      if (!mpimId) {
        mpimId = newId('G');
        mpims.set(mpimId, ids);
      }
      return { ok: true, channel: { id: mpimId } };
    },

    // A thread: the parent first, then its replies oldest first; an unthreaded message alone (Slack docs).
    'conversations.replies': (raw) => {
      const a = parseArgs(
        z.object({
          channel: z.string().default(''),
          ts: z.string().default(''),
          cursor: optStr,
          limit: z.coerce.number().int().positive().optional(),
          include_all_metadata: flag,
        }),
        raw,
      );
      const channel = resolveChannel(a.channel, false);
      const parent = findMessage(channel, a.ts);
      if (!parent || parent.ephemeral || parent.deleted) throw new ApiError('thread_not_found');
      const root = parent.thread_ts ?? parent.ts;
      const thread = visible(channel).filter((m) => m.ts === root || m.thread_ts === root);
      return page(thread, a, 1000);
    },

    // Newest first, top-level messages only (thread replies are read with conversations.replies).
    'conversations.history': (raw) => {
      const a = parseArgs(
        z.object({
          channel: z.string().default(''),
          cursor: optStr,
          limit: z.coerce.number().int().positive().optional(),
          include_all_metadata: flag,
        }),
        raw,
      );
      const channel = resolveChannel(a.channel, false);
      const top = visible(channel)
        .filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts)
        .reverse();
      return page(top, a, 100);
    },

    // docs.slack.dev/reference/methods/views.open: needs a fresh trigger_id; answers the opened view.
    'views.open': (raw) => viewCall(() => views.open(raw)),
    // views.push: onto the open modal of the trigger's user; at most 3 views in a stack (push_limit_reached).
    'views.push': (raw) => viewCall(() => views.push(raw)),
    // views.update: by view_id or external_id, optional hash (hash_conflict when stale); not_found otherwise.
    'views.update': (raw) => viewCall(() => views.update(raw)),
    // views.publish (Tier 4: 100+ per minute): a user's Home tab, optional hash against the current one.
    'views.publish': (raw) => viewCall(() => views.publish(raw)),

    'users.info': (raw) => {
      const a = parseArgs(z.object({ user: z.string().default('') }), raw);
      const u = users.get(a.user);
      if (!u) throw new ApiError('user_not_found');
      return { ok: true, user: userObject(u) };
    },

    'users.lookupByEmail': (raw) => {
      const a = parseArgs(z.object({ email: z.string().default('') }), raw);
      const wanted = a.email.trim().toLowerCase();
      const u = [...users.values()].find((x) => x.email !== undefined && x.email.toLowerCase() === wanted);
      if (!u || wanted === '') throw new ApiError('users_not_found');
      return { ok: true, user: userObject(u) };
    },

    'users.list': (raw) => {
      const a = parseArgs(
        z.object({ limit: z.coerce.number().int().positive().optional(), cursor: optStr }),
        raw,
      );
      const all = [...users.values()];
      const start = a.cursor
        ? Number(
            Buffer.from(a.cursor, 'base64')
              .toString('utf8')
              .replace(/^user:/, ''),
          )
        : 0;
      if (!Number.isInteger(start) || start < 0) throw new ApiError('invalid_cursor');
      const limit = Math.min(a.limit ?? 1000, 1000);
      const page = all.slice(start, start + limit);
      const next = start + limit < all.length ? Buffer.from(`user:${start + limit}`).toString('base64') : '';
      return {
        ok: true,
        members: page.map(userObject),
        cache_ts: Math.floor(Date.now() / 1000),
        response_metadata: { next_cursor: next },
      };
    },

    'usergroups.users.list': (raw) => {
      const a = parseArgs(z.object({ usergroup: z.string().default(''), include_disabled: flag }), raw);
      const members = usergroups.get(a.usergroup);
      if (!members) throw new ApiError('no_such_subteam');
      return { ok: true, users: [...members] };
    },

    'files.getUploadURLExternal': (raw) => {
      const a = parseArgs(
        z.object({
          filename: z.string().min(1),
          length: z.coerce.number().int().nonnegative(),
          alt_text: optStr,
          snippet_type: optStr,
        }),
        raw,
      );
      const fileId = newId('F');
      const uploadToken = randomBytes(12).toString('hex');
      pendingUploads.set(uploadToken, { fileId, filename: a.filename, length: a.length });
      uploadsById.set(fileId, { filename: a.filename, length: a.length, completed: false });
      return { ok: true, upload_url: `${baseUrl}/upload/v1/${uploadToken}`, file_id: fileId };
    },

    'files.completeUploadExternal': (raw) => {
      const a = parseArgs(
        z.object({
          files: z.unknown(),
          channel_id: optStr,
          channels: optStr,
          initial_comment: optStr,
          thread_ts: optStr,
          blocks: z.unknown().optional(),
        }),
        raw,
      );
      const list = z
        .array(z.object({ id: z.string(), title: z.string().optional() }))
        .min(1)
        .safeParse(parseJsonArg(a.files));
      if (!list.success) throw new ApiError('invalid_arguments');
      const targets = [a.channel_id, ...(a.channels ?? '').split(',')]
        .map((c) => c?.trim())
        .filter((c): c is string => c !== undefined && c !== '')
        .map((c) => resolveChannel(c, true));
      const shared: { id: string; filename: string; title?: string }[] = [];
      for (const f of list.data) {
        const up = uploadsById.get(f.id);
        if (!up || up.completed || up.content === undefined) throw new ApiError('file_not_found');
      }
      for (const f of list.data) {
        const up = uploadsById.get(f.id)!;
        up.completed = true;
        const file: FakeFile = { id: f.id, channels: targets, filename: up.filename, content: up.content! };
        if (f.title !== undefined) file.title = f.title;
        if (a.initial_comment !== undefined) file.initialComment = a.initial_comment;
        if (a.thread_ts !== undefined) file.thread_ts = a.thread_ts;
        files.push(file);
        shared.push({
          id: f.id,
          filename: up.filename,
          ...(f.title !== undefined ? { title: f.title } : {}),
        });
      }
      for (const channel of targets) {
        recordMessage({
          channel,
          ...(a.initial_comment !== undefined ? { text: a.initial_comment } : {}),
          ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}),
          ephemeral: false,
          via: 'files.completeUploadExternal',
          files: shared,
        });
      }
      return {
        ok: true,
        files: list.data.map((f) => ({ id: f.id, title: f.title ?? uploadsById.get(f.id)!.filename })),
      };
    },
  };

  function takeInjected<T extends { times: number }>(map: Map<string, T[]>, method: string): T | undefined {
    const queue = map.get(method);
    const head = queue?.[0];
    if (!head) return undefined;
    head.times -= 1;
    if (head.times <= 0) queue!.shift();
    return head;
  }

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    body: Buffer,
  ): Promise<void> {
    if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
    const call: RecordedCall = { method, args: {}, at: Date.now(), status: 200 };
    calls.push(call);
    const answer = (result: ApiResult, status = 200, headers: Record<string, string> = {}) => {
      call.status = status;
      if (!result.ok && typeof result.error === 'string') call.error = result.error;
      sendJson(res, status, result, headers);
    };
    let parsed: ParsedRequest;
    try {
      parsed = await parseRequest(req, body, url);
    } catch (e) {
      answer({ ok: false, error: e instanceof ApiError ? e.code : 'invalid_form_data' });
      return;
    }
    const { token: _token, ...args } = parsed.args;
    call.args = args;
    const handler = handlers[method];
    if (!handler) return answer({ ok: false, error: 'unknown_method', req_method: method });
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : parsed.bodyToken;
    if (token === undefined || token === '') return answer({ ok: false, error: 'not_authed' });
    if (method === 'apps.connections.open') {
      // Only an app-level token opens a Socket Mode connection; a bot or user token is the wrong kind.
      if (!token.startsWith('xapp-')) return answer({ ok: false, error: 'not_allowed_token_type' });
      if (token !== opts.appToken) return answer({ ok: false, error: 'invalid_auth' });
    } else {
      // An app-level token only opens connections: Slack refuses it for every other method.
      if (opts.appToken !== undefined && token === opts.appToken)
        return answer({ ok: false, error: 'not_allowed_token_type' });
      if (token !== opts.botToken) return answer({ ok: false, error: 'invalid_auth' });
    }
    const limited = takeInjected(rateLimits, method);
    if (limited) {
      return answer({ ok: false, error: 'ratelimited' }, 429, {
        'retry-after': String(limited.retryAfterSec),
      });
    }
    const failed = serverErrorAnswer(takeInjected(serverErrors, method));
    if (failed) return answer(failed.body, failed.status);
    const injected = takeInjected(injectedErrors, method);
    if (injected) return answer({ ok: false, error: injected.error });
    const lost = takeInjected(lostAnswers, method);
    try {
      const result = handler(args);
      if (lost) {
        call.status = 0;
        call.error = 'answer_lost';
        res.destroy();
        return;
      }
      answer(result);
    } catch (e) {
      if (e instanceof ApiError) answer({ ok: false, error: e.code, ...e.extra });
      else answer({ ok: false, error: 'internal_error', detail: String(e) });
    }
  }

  async function handleUpload(
    req: IncomingMessage,
    res: ServerResponse,
    uploadToken: string,
    body: Buffer,
  ): Promise<void> {
    const pending = pendingUploads.get(uploadToken);
    if (!pending) return sendText(res, 404, 'upload_not_found');
    let content = body;
    // Slack's upload URL takes raw bytes or a multipart form (what @slack/web-api's filesUploadV2 sends).
    if ((req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data')) {
      const parsed = await parseRequest(req, body, new URL('http://x/'));
      const part = parsed.fileParts[0];
      if (!part) return sendText(res, 400, 'no_file_data');
      content = part;
    }
    pendingUploads.delete(uploadToken);
    const up = uploadsById.get(pending.fileId);
    if (up) up.content = content;
    sendText(res, 200, `OK - ${content.length}`);
  }

  function handleResponseUrl(res: ServerResponse, id: string, body: Buffer): void {
    const entry = responseUrls.get(id);
    if (!entry || Date.now() - entry.created > RESPONSE_URL_TTL_MS) {
      sendText(res, 404, 'expired_url');
      return;
    }
    if (entry.uses >= RESPONSE_URL_MAX_USES) {
      sendText(res, 404, 'used_url');
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      sendText(res, 400, 'invalid_payload');
      return;
    }
    const p = z
      .object({
        text: optStr,
        blocks: z.unknown().optional(),
        attachments: z.unknown().optional(),
        response_type: z.enum(['ephemeral', 'in_channel']).optional(),
        replace_original: flag,
        delete_original: flag,
        thread_ts: optStr,
      })
      .safeParse(payload);
    if (!p.success) {
      sendText(res, 400, 'invalid_payload');
      return;
    }
    entry.uses += 1;
    const { ctx } = entry;
    const original = ctx.messageTs ? findMessage(ctx.channel, ctx.messageTs) : undefined;
    if (p.data.delete_original) {
      if (original && !original.deleted) {
        original.deleted = true;
        emit(original, 'deleted');
      }
      sendText(res, 200, 'ok');
      return;
    }
    let content: { text?: string; blocks?: unknown[] };
    try {
      content = messageContent(p.data.text, blocksArg(p.data.blocks), p.data.attachments);
    } catch (e) {
      sendText(res, 400, e instanceof ApiError ? e.code : 'invalid_payload');
      return;
    }
    if (p.data.replace_original && original && !original.deleted) {
      // A replacement is the whole message: what is not sent is gone.
      applyUpdate(original, content.text, content.blocks);
      sendText(res, 200, 'ok');
      return;
    }
    const inChannel = p.data.response_type === 'in_channel';
    recordMessage({
      channel: ctx.channel,
      ...content,
      ...(p.data.thread_ts ? { thread_ts: p.data.thread_ts } : {}),
      ...(!inChannel && ctx.user ? { user: ctx.user } : {}),
      ephemeral: !inChannel,
      via: 'response_url',
      response_type: inChannel ? 'in_channel' : 'ephemeral',
      ...(p.data.replace_original ? { replace_original: true } : {}),
    });
    sendText(res, 200, 'ok');
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(req);
      const parts = url.pathname.split('/').filter(Boolean);
      if (parts[0] === 'api' && parts.length === 2) return handleApi(req, res, parts[1]!, url, body);
      if (req.method === 'POST' && parts[0] === 'upload' && parts.length === 3)
        return handleUpload(req, res, parts[2]!, body);
      if (req.method === 'POST' && parts[0] === 'hooks' && parts.length === 2)
        return handleResponseUrl(res, parts[1]!, body);
      sendText(res, 404, 'not_found');
    })().catch((e: unknown) => {
      if (!res.headersSent) sendText(res, 500, `slack fake error: ${String(e)}`);
      else res.end();
    });
  });
  // WebSocket upgrades are Socket Mode connections (ws://…/link/?ticket=…).
  server.on('upgrade', (req, socket, head) => socketMode.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  function describe(m: PostedMessage): string {
    const who = m.ephemeral ? ` (ephemeral to ${m.user ?? '?'})` : '';
    const flags = `${m.updates.length ? ` [updated ×${m.updates.length}]` : ''}${m.deleted ? ' [deleted]' : ''}`;
    const files = m.files ? `\n  files: ${m.files.map((f) => f.filename).join(', ')}` : '';
    const body = renderMessage(m, { resolveUser: (id) => users.get(id)?.name ?? id })
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n');
    return `- ${m.via} → ${m.channel} ts=${m.ts}${m.thread_ts ? ` thread=${m.thread_ts}` : ''}${who}${flags}${files}\n${body}`;
  }

  const fake: SlackFake = {
    apiUrl: `${baseUrl}/api/`,
    url: baseUrl,
    teamId,
    teamDomain,
    botUserId,
    botId,
    appId,
    socketMode,
    messages,
    files,
    calls,
    newResponseUrl(ctx = { channel: '' }) {
      const id = randomBytes(16).toString('hex');
      responseUrls.set(id, { ctx: { ...ctx }, created: Date.now(), uses: 0 });
      return `${baseUrl}/hooks/${id}`;
    },
    waitFor(pred, timeoutMs = 5000) {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise<PostedMessage>((resolve, reject) => {
        const unsubscribe = fake.subscribe((m) => {
          if (!pred(m)) return;
          clearTimeout(timer);
          unsubscribe();
          resolve(m);
        });
        const timer = setTimeout(() => {
          unsubscribe();
          const dump = messages.length ? messages.map(describe).join('\n') : '  (no messages)';
          const recent = calls
            .slice(-10)
            .map((c) => `  ${c.method} → ${c.status}${c.error ? ` ${c.error}` : ''}`)
            .join('\n');
          reject(
            new Error(
              `slack fake: no matching message within ${timeoutMs} ms.\nMessages so far:\n${dump}\nLast Web API calls:\n${recent || '  (none)'}`,
            ),
          );
        }, timeoutMs);
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    injectRateLimit(method, retryAfterSec, times = 1) {
      const q = rateLimits.get(method) ?? [];
      q.push({ retryAfterSec, times });
      rateLimits.set(method, q);
    },
    injectLostAnswer(method, times = 1) {
      const q = lostAnswers.get(method) ?? [];
      q.push({ times });
      lostAnswers.set(method, q);
    },
    injectServerError(method, status = 500, times = 1) {
      if (status < 500 || status > 599) throw new Error(`slack fake: ${status} is not a 5xx status`);
      const q = serverErrors.get(method) ?? [];
      q.push({ status, times });
      serverErrors.set(method, q);
    },
    injectError(method, error, times = 1) {
      const q = injectedErrors.get(method) ?? [];
      q.push({ error, times });
      injectedErrors.set(method, q);
    },
    addUser(u) {
      users.set(u.id, { ...u });
    },
    setUsergroup(id, members) {
      usergroups.set(id, [...members]);
    },
    getUser(id) {
      return users.get(id);
    },
    listUsers() {
      return [...users.values()];
    },
    listChannels() {
      return [...channels.values()];
    },
    channelName(id) {
      if (id.startsWith('D')) return 'directmessage';
      if (mpims.has(id)) return 'mpdm';
      return channels.get(id)?.name ?? id;
    },
    dmChannelOf,
    findMessage,
    recordMessage,
    now,
    views,
    issueTrigger: (userId, o) => views.issueTrigger(userId, o),
    openViews: (userId) => views.openViews(userId),
    homeView: (userId) => views.homeView(userId),
    clear() {
      messages.length = 0;
      files.length = 0;
      calls.length = 0;
      views.clear();
    },
    async close() {
      listeners.clear();
      await socketMode.close();
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
  return fake;
}
