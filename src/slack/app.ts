// Owns the Bolt app and its transport: an HTTP endpoint at POST /slack/events (slash commands and interactivity)
// behind our own request verification, or Socket Mode when an app-level token is set; in both modes one node:http
// server also serves /healthz, /readyz and /metrics. Bolt only checks that a timestamp is not too old; this module
// also refuses timestamps from the future, so a captured request signed with a skewed clock can't be replayed later.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { App, type Logger as BoltLogger, HTTPReceiver, LogLevel } from '@slack/bolt';
import { type RetryOptions, WebClient, type WebClientOptions } from '@slack/web-api';
import type { AccessRequestApp } from '../app/access-requests.ts';
import type { Config } from '../config.ts';
import {
  closeServer,
  createHttpServer,
  type HttpServerOptions,
  listen,
  type Readiness,
} from '../observability/http.ts';
import type { Logger } from '../observability/logger.ts';
import type { ClaimCommand } from './deliveries.ts';
import { findUserIdByHandle } from './handles.ts';
import type { HomeTab } from './home.ts';
import { InFlight, registerListeners } from './listeners/index.ts';
import type { SlackMessage, SlackMessenger } from './messenger.ts';
import { slackFetch } from './transport.ts';
import type { TenantLabels } from './views.ts';

/** Slack's documented window for a request timestamp, either side of now. */
export const MAX_CLOCK_SKEW_SEC = 5 * 60;
/** Slash-command and interactivity payloads are small; anything far larger is not from Slack. */
const BODY_LIMIT_BYTES = 1024 * 1024;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * Verifies Slack's v0 request signature and that the timestamp is within five minutes of now, in the past OR the
 * future. Constant-time comparison; the reason never contains the secret or the expected signature.
 */
export function verifySlackSignature(opts: {
  signingSecret: string;
  rawBody: Buffer | string;
  signature: string | undefined;
  timestamp: string | undefined;
  nowMs?: number;
}): SignatureCheck {
  const { signature, timestamp } = opts;
  if (!signature || !timestamp) return { ok: false, reason: 'missing signature headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed timestamp' };
  const nowSec = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  const ts = Number(timestamp);
  if (ts < nowSec - MAX_CLOCK_SKEW_SEC) return { ok: false, reason: 'stale timestamp' };
  if (ts > nowSec + MAX_CLOCK_SKEW_SEC) return { ok: false, reason: 'timestamp in the future' };
  const m = /^v0=([0-9a-f]{64})$/.exec(signature);
  if (!m) return { ok: false, reason: 'malformed signature' };
  const hmac = createHmac('sha256', opts.signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(opts.rawBody);
  const expected = hmac.digest();
  const given = Buffer.from(m[1]!, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? { ok: true }
    : { ok: false, reason: 'signature mismatch' };
}

/** Web API retries: Slack's `rate_limited` answers are waited out (Retry-After) and retried, as are network errors. */
const SLACK_RETRY: RetryOptions = {
  retries: 5,
  factor: 2,
  minTimeout: 250,
  maxTimeout: 10_000,
  randomize: true,
};

/** How long one Web API call may take (each attempt), from sending to the last byte of the answer. */
const WEB_API_TIMEOUT_MS = 30_000;

function webClientOptions(slack: Config['slack'], logger: Logger): WebClientOptions {
  return {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl.endsWith('/') ? slack.apiUrl : `${slack.apiUrl}/` } : {}),
    retryConfig: SLACK_RETRY,
    rejectRateLimitedCalls: false,
    // The deadline is the transport's (a timer cleared with the answer); the client's own `timeout` would arm an
    // AbortSignal.timeout per call that fires 30 s later whatever happened.
    timeout: 0,
    fetch: slackFetch({ timeoutMs: WEB_API_TIMEOUT_MS }),
    logger: boltLogger(logger.child({ module: 'slack-web-api' })),
  };
}

/** The WebClient the messenger and the directory use (the same options Bolt's own client gets). */
export function createWebClient(slack: Config['slack'], logger: Logger): WebClient {
  return new WebClient(slack.botToken, webClientOptions(slack, logger));
}

/**
 * Adapts pino to the logger interface Bolt and the Web API client expect, at info and above whatever LOG_LEVEL
 * says: at debug both log raw request and response bodies (users.info profiles with emails, error bodies that may
 * echo the token), which no redaction of ours can be trusted to catch. Bolt and the client may ask for a lower
 * level; it is never applied.
 */
export function boltLogger(log: Logger): BoltLogger {
  const fmt = (msg: unknown[]) =>
    msg
      .map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m)))
      .join(' ');
  return {
    debug: () => {},
    info: (...msg: unknown[]) => log.info(fmt(msg)),
    warn: (...msg: unknown[]) => log.warn(fmt(msg)),
    error: (...msg: unknown[]) => log.error(fmt(msg)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}

export interface SlackAppDeps {
  config: Pick<Config, 'slack'>;
  logger: Logger;
  accessRequests: AccessRequestApp;
  messenger: SlackMessenger;
  /** Decides GET /readyz. */
  readiness: Readiness;
  /** Runs before GET /metrics renders (e.g. sample queue depth). */
  beforeScrape?: () => Promise<void>;
  /** The bot's identity from auth.test, when the caller already has it; fetched otherwise. */
  botIdentity?: { botId: string; botUserId: string };
  /** The slash command to listen for; default `/qlik`. */
  command?: string;
  /** The optional read-only queue UI (BULL_BOARD=on). */
  queueBoard?: HttpServerOptions['queueBoard'];
  /** The configured Qlik tenants: with several, answers name the tenant. */
  tenants?: TenantLabels;
  /** Tells a command Slack delivered again from its first delivery (src/slack/deliveries.ts). */
  claimCommand?: ClaimCommand;
  /** The App Home tab (src/slack/home.ts): published on app_home_opened, answers presses made on it. */
  home?: HomeTab;
}

export interface SlackApp {
  app: App;
  mode: 'http' | 'socket';
  /** Serves HTTP (and connects Socket Mode); resolves with the bound port. */
  start(port: number, host?: string): Promise<number>;
  /** Stops taking new work, waits for answers in flight up to the deadline, then closes. */
  stop(deadlineMs?: number): Promise<void>;
}

/** Builds the Bolt app with its listeners and the HTTP server; nothing listens until start(). */
export async function createSlackApp(deps: SlackAppDeps): Promise<SlackApp> {
  const { slack } = deps.config;
  const log = deps.logger.child({ module: 'slack-app' });
  const clientOptions = webClientOptions(slack, deps.logger);
  const identity = deps.botIdentity ?? (await fetchIdentity(slack, deps.logger));
  const inflight = new InFlight();
  const common = {
    token: slack.botToken,
    botId: identity.botId,
    botUserId: identity.botUserId,
    clientOptions,
    logger: boltLogger(deps.logger.child({ module: 'bolt' })),
    convoStore: false as const,
  };

  let app: App;
  let receiver: HTTPReceiver | undefined;
  const mode = slack.appToken ? 'socket' : 'http';
  if (slack.appToken) {
    app = new App({ ...common, appToken: slack.appToken, socketMode: true });
  } else {
    if (!slack.signingSecret) throw new Error('SLACK_SIGNING_SECRET is required in HTTP mode');
    receiver = new HTTPReceiver({
      signingSecret: slack.signingSecret,
      endpoints: '/slack/events',
      logger: common.logger,
      processBeforeResponse: false,
      // Every request reaches the receiver through verifiedSlackEvents, which has checked the signature and both
      // edges of the timestamp window already; Bolt's own check would repeat the HMAC (and tsscmp's two more).
      signatureVerification: false,
      // The listeners ack everything Slack sends (listeners/index.ts); should anything still go unacked, answer
      // 200 rather than Bolt's 404, so Slack shows no error for it.
      unhandledRequestHandler: ({ logger, response }) => {
        logger.warn('a signed request was not acknowledged in time by any listener');
        if (!response.headersSent) {
          response.writeHead(200);
          response.end();
        }
      },
    });
    app = new App({ ...common, receiver });
  }

  registerListeners(
    app,
    {
      app: deps.accessRequests,
      respond: (url: string, msg: SlackMessage, opts?: { replaceOriginal?: boolean }) =>
        deps.messenger.respond(url, msg, opts),
      ephemeral: (channel, user, msg) => deps.messenger.ephemeral(channel, user, msg),
      dm: (user, msg) => deps.messenger.dm(user, msg),
      logger: deps.logger.child({ module: 'listeners' }),
      inflight,
      findUserByHandle: (handle) => findUserIdByHandle(app.client, handle),
      ...(deps.tenants ? { tenants: deps.tenants } : {}),
      ...(deps.claimCommand ? { claimCommand: deps.claimCommand } : {}),
      ...(deps.home ? { home: deps.home } : {}),
    },
    deps.command,
  );
  app.error(async (err) => {
    log.error(
      { err: { name: err.name, message: err.message, code: err.code } },
      'unhandled error in a listener',
    );
  });

  const signingSecret = slack.signingSecret;
  const slackEvents =
    receiver && signingSecret ? verifiedSlackEvents(signingSecret, receiver, log) : undefined;
  const server: Server = createHttpServer({
    logger: deps.logger,
    readiness: deps.readiness,
    ...(deps.beforeScrape ? { beforeScrape: deps.beforeScrape } : {}),
    ...(slackEvents ? { slackEvents } : {}),
    ...(deps.queueBoard ? { queueBoard: deps.queueBoard } : {}),
  });

  return {
    app,
    mode,
    async start(port, host) {
      const bound = await listen(server, port, host);
      if (mode === 'socket') await app.start();
      log.info({ port: bound, mode }, 'slack front listening');
      return bound;
    },
    async stop(deadlineMs = 10_000) {
      const closing = closeServer(server);
      if (mode === 'socket') await app.stop().catch(() => undefined);
      const drained = await inflight.drain(deadlineMs);
      if (!drained) log.warn({ inflight: inflight.size }, 'stopped with answers still in flight');
      server.closeAllConnections();
      await closing;
    },
  };
}

async function fetchIdentity(
  slack: Config['slack'],
  logger: Logger,
): Promise<{ botId: string; botUserId: string }> {
  const client = createWebClient(slack, logger);
  let res: Awaited<ReturnType<WebClient['auth']['test']>>;
  try {
    res = await client.auth.test();
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    throw new Error(
      code
        ? `Slack did not accept SLACK_BOT_TOKEN (${code}). Check the token in the app's OAuth settings.`
        : `Could not reach Slack's Web API to check SLACK_BOT_TOKEN (${err instanceof Error ? err.message : String(err)}).`,
    );
  }
  if (!res.user_id || !res.bot_id)
    throw new Error('SLACK_BOT_TOKEN is not a bot token (auth.test returned no bot id).');
  return { botId: res.bot_id, botUserId: res.user_id };
}

/**
 * Our verification in front of Bolt's: buffer the body (bounded), check signature and both edges of the
 * timestamp window, and only then hand the request to Bolt (which re-reads the buffered body).
 */
function verifiedSlackEvents(signingSecret: string, receiver: HTTPReceiver, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      let raw: Buffer;
      try {
        raw = await readBody(req, BODY_LIMIT_BYTES);
      } catch (err) {
        const tooLarge = (err as { tooLarge?: boolean }).tooLarge === true;
        res.writeHead(tooLarge ? 413 : 400);
        res.end();
        return;
      }
      if (isSslCheck(req, raw)) {
        // Slack's unsigned SSL probe: answer it without letting anything in it reach Bolt.
        res.writeHead(200);
        res.end();
        return;
      }
      const check = verifySlackSignature({
        signingSecret,
        rawBody: raw,
        signature: header(req, 'x-slack-signature'),
        timestamp: header(req, 'x-slack-request-timestamp'),
      });
      if (!check.ok) {
        log.warn({ reason: check.reason }, 'rejected a request that did not verify as coming from Slack');
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('invalid request signature\n');
        return;
      }
      const unfit = notForBolt(req, raw);
      if (unfit) {
        // Signed, so it is from Slack: ack it at once (Slack shows an error for anything else) and drop it.
        log.warn({ reason: unfit }, 'acked a signed request the bot has nothing to do with');
        res.writeHead(200);
        res.end();
        return;
      }
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
      try {
        receiver.requestListener(req, res);
      } catch (err) {
        log.error(
          { err: { message: err instanceof Error ? err.message : String(err) } },
          'slack receiver failed',
        );
        if (!res.headersSent) {
          res.writeHead(500);
          res.end();
        }
      }
    })();
  };
}

/**
 * Why Bolt can't take a verified request, if it can't: Bolt answers a body with neither `command` nor `payload`
 * (or a payload it can't classify) with nothing, i.e. a 404 after 3 s, and throws (a 500) on an interactivity
 * payload without `user.id` or a block_actions without an action. Everything else goes to Bolt, whose listeners
 * ack every command, button, view and shortcut (listeners/index.ts).
 */
function notForBolt(req: IncomingMessage, raw: Buffer): string | undefined {
  const type = req.headers['content-type'] ?? '';
  const text = raw.toString('utf8');
  let body: unknown;
  if (type.startsWith('application/json')) {
    try {
      body = JSON.parse(text);
    } catch {
      return 'unreadable JSON';
    }
    const b = body as { type?: unknown; event?: unknown } | null;
    if (typeof b !== 'object' || b === null || typeof b.type !== 'string') return 'no type';
    if (b.type === 'event_callback' && (typeof b.event !== 'object' || b.event === null)) return 'no event';
    return undefined;
  }
  const form = new URLSearchParams(text);
  if (form.has('command')) return undefined;
  const payload = form.get('payload');
  if (payload === null) return 'neither a command nor a payload';
  try {
    body = JSON.parse(payload);
  } catch {
    return 'unreadable payload';
  }
  const p = body as { type?: unknown; user?: { id?: unknown }; actions?: unknown } | null;
  if (typeof p !== 'object' || p === null || typeof p.type !== 'string') return 'payload without a type';
  if (typeof p.user !== 'object' || p.user === null || typeof p.user.id !== 'string' || p.user.id === '')
    return `${p.type.slice(0, 40)} without a user`;
  if (p.type === 'block_actions') {
    const first = Array.isArray(p.actions) ? (p.actions[0] as unknown) : undefined;
    if (typeof first !== 'object' || first === null) return 'block_actions without an action';
  }
  return undefined;
}

function isSslCheck(req: IncomingMessage, raw: Buffer): boolean {
  if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return false;
  if (req.headers['x-slack-signature']) return false;
  return new URLSearchParams(raw.toString('utf8')).get('ssl_check') === '1';
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Past the limit the rest is read and dropped, so the client still gets a 413 instead of a reset.
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () =>
      size > limit
        ? reject(Object.assign(new Error('body too large'), { tooLarge: true }))
        : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}
