// Owns the bot's HTTP server: GET /healthz, GET /readyz, GET /metrics, and the hand-off of POST /slack/events
// to the Slack receiver. One node:http server serves both HTTP and Socket Mode deployments, so health and
// metrics look the same either way. Every request is counted by route and status.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import type { RedisConnection } from '../store/redis.ts';
import type { Logger } from './logger.ts';
import { httpRequests, queueDepth, registry } from './metrics.ts';

export type ReadinessResult = { ok: true } | { ok: false; reason: string };
export type Readiness = () => Promise<ReadinessResult>;
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpServerOptions {
  logger: Logger;
  /** Decides /readyz: 200 when it answers ok, 503 with the reason otherwise. */
  readiness: Readiness;
  /** Runs before /metrics is rendered, e.g. to sample queue depth at scrape time. */
  beforeScrape?: () => Promise<void>;
  /** POST /slack/events goes here (HTTP mode); absent in Socket Mode. */
  slackEvents?: RequestHandler;
  /** The optional read-only queue UI, served under its own path (BULL_BOARD=on). */
  queueBoard?: { path: string; handler: RequestHandler };
}

const ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/slack/events']);

export function createHttpServer(opts: HttpServerOptions): Server {
  const logger = opts.logger.child({ module: 'http' });
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const board = opts.queueBoard;
    const onBoard = board !== undefined && (path === board.path || path.startsWith(`${board.path}/`));
    const route = ROUTES.has(path) ? path : onBoard ? board.path : 'other';
    res.on('finish', () => httpRequests.inc({ route, status: String(res.statusCode) }));
    const method = req.method ?? 'GET';
    try {
      if (path === '/slack/events' && opts.slackEvents) {
        if (method !== 'POST') return text(res, 405, 'POST only\n', { allow: 'POST' });
        return opts.slackEvents(req, res);
      }
      if (method !== 'GET' && method !== 'HEAD') return text(res, 405, 'GET only\n', { allow: 'GET, HEAD' });
      if (onBoard) return board.handler(req, res);
      if (path === '/healthz') return text(res, 200, 'ok\n');
      if (path === '/readyz') return void ready(opts.readiness, res, logger);
      if (path === '/metrics') return void metrics(opts.beforeScrape, res, logger);
      return text(res, 404, 'not found\n');
    } catch (err) {
      logger.error({ err }, 'http handler failed');
      if (!res.headersSent) text(res, 500, 'internal error\n');
      else res.destroy();
    }
  });
}

async function ready(readiness: Readiness, res: ServerResponse, logger: Logger): Promise<void> {
  let result: ReadinessResult;
  try {
    result = await readiness();
  } catch (err) {
    logger.warn({ err }, 'readiness check failed');
    result = { ok: false, reason: 'readiness check failed' };
  }
  if (result.ok) text(res, 200, 'ready\n');
  else text(res, 503, `not ready: ${result.reason}\n`);
}

async function metrics(beforeScrape: (() => Promise<void>) | undefined, res: ServerResponse, logger: Logger) {
  try {
    // A sampler that can't reach Redis must not take the process metrics down with it.
    await beforeScrape?.().catch((err: unknown) => logger.warn({ err }, 'metrics sampling failed'));
    const body = await registry.metrics();
    text(res, 200, body, { 'content-type': registry.contentType });
  } catch (err) {
    logger.error({ err }, 'metrics rendering failed');
    text(res, 500, 'metrics unavailable\n');
  }
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

/** Starts listening; resolves with the bound port (useful with port 0). */
export function listen(server: Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting connections and waits for open ones, closing idle keep-alive sockets at once. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** Readiness from Redis (PING within a timeout) and whether the Qlik credential has been verified. */
export function standardReadiness(deps: {
  redis: RedisConnection;
  qlikCredential: () => ReadinessResult;
  timeoutMs?: number;
}): Readiness {
  return async () => {
    const timeoutMs = deps.timeoutMs ?? 1_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const pong = await Promise.race([
        deps.redis.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
        }),
      ]);
      if (pong !== 'PONG') return { ok: false, reason: 'Redis did not answer PING' };
    } catch {
      return { ok: false, reason: 'Redis does not answer' };
    } finally {
      clearTimeout(timer);
    }
    return deps.qlikCredential();
  };
}

/**
 * The credential readiness of every Qlik tenant as one: ready when all are. With one tenant its reason as it is;
 * with several, each failing tenant named (`tenant dev: …`).
 */
export function tenantsReadiness(
  tenants: readonly { name: string; state: () => ReadinessResult }[],
): () => ReadinessResult {
  return () => {
    if (tenants.length === 1) return tenants[0]!.state();
    const failing = tenants.flatMap((t) => {
      const r = t.state();
      return r.ok ? [] : [`tenant ${t.name}: ${r.reason}`];
    });
    return failing.length === 0 ? { ok: true } : { ok: false, reason: failing.join('; ') };
  };
}

/** Sets the queue-depth gauge from BullMQ's counts (waiting, delayed, active, failed). */
export async function sampleQueueDepth(queues: Pick<Queue, 'name' | 'getJobCounts'>[]): Promise<void> {
  await Promise.all(
    queues.map(async (q) => {
      const counts = await q.getJobCounts('waiting', 'delayed', 'active', 'failed', 'prioritized');
      for (const [state, n] of Object.entries(counts)) queueDepth.set({ queue: q.name, state }, n);
    }),
  );
}
