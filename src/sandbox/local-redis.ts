// Owns the sandbox's Redis: use the one at REDIS_URL when it answers; a REDIS_URL that is set but does not answer is
// refused, not quietly swapped for another Redis (the person asked for that one, and would look for the sandbox's
// keys there). With no REDIS_URL: the default local Redis when it answers, else a throwaway `redis-server` from PATH
// on a free port (temp dir, no persistence) stopped at exit, else exact instructions to install one.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { redactRedisUrl } from '../store/redis.ts';

export type LocalRedis =
  | { kind: 'existing'; url: string; stop(): Promise<void> }
  | { kind: 'started'; url: string; pid: number; stop(): Promise<void> }
  | { kind: 'missing'; url: string; instructions: string }
  | { kind: 'refused'; url: string; message: string };

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** True when a Redis at `url` answers PING within the timeout. Never retries: the answer is needed now. */
export async function redisAnswers(url: string, timeoutMs = 1_500): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', () => {}); // the outcome is the boolean; a refused connection is not worth a stack trace
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** The first executable called `name` on PATH, like `command -v`. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function installInstructions(url: string): string {
  return [
    `No Redis answers at ${url}, and there is no redis-server on your PATH to start one.`,
    'The sandbox needs Redis 7 or newer. Install one of these ways, then run `npm run sandbox` again:',
    '  Debian/Ubuntu:  sudo apt-get install -y redis-server',
    '  Fedora/RHEL:    sudo dnf install -y redis',
    '  macOS:          brew install redis',
    '  Docker:         docker run -d --name qlik-sandbox-redis -p 127.0.0.1:6379:6379 redis:7.4.6',
    'Or point REDIS_URL at a Redis you already have, e.g. REDIS_URL=redis://127.0.0.1:6380 npm run sandbox',
  ].join('\n');
}

/** Why an explicitly set REDIS_URL is not replaced by another Redis. */
function refusedMessage(url: string): string {
  return [
    `REDIS_URL is set to ${redactRedisUrl(url)}, but no Redis answers there.`,
    'The sandbox does not put another Redis in its place: you asked for that one, and would look for its keys there.',
    'Start that Redis or correct REDIS_URL — or unset REDIS_URL, and the sandbox uses the Redis at',
    `${DEFAULT_REDIS_URL} or starts a private redis-server for this run.`,
  ].join('\n');
}

export interface EnsureRedisOptions {
  /** The Redis the person asked for: used when it answers, refused when not. Default: REDIS_URL, when set. */
  url?: string;
  /** Where to look when no URL is asked for; default redis://127.0.0.1:6379. */
  defaultUrl?: string;
  /** PATH to search for redis-server; default process.env.PATH. */
  pathVar?: string;
  /** How long a started server may take to answer; default 10 s. */
  startTimeoutMs?: number;
}

/** Finds or starts a Redis for the sandbox. The caller must call stop() at exit (a no-op for an existing one). */
export async function ensureRedis(opts: EnsureRedisOptions = {}): Promise<LocalRedis> {
  // `url: undefined` given explicitly means nothing was asked for (REDIS_URL unset), whatever the environment says.
  const asked = ('url' in opts ? opts.url : process.env.REDIS_URL)?.trim() || undefined;
  const url = asked ?? opts.defaultUrl ?? DEFAULT_REDIS_URL;
  if (await redisAnswers(url)) return { kind: 'existing', url, stop: async () => {} };
  if (asked !== undefined) return { kind: 'refused', url, message: refusedMessage(url) };

  const binary = findOnPath('redis-server', opts.pathVar);
  if (!binary) return { kind: 'missing', url, instructions: installInstructions(url) };

  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'qlik-sandbox-redis-'));
  const child = spawn(
    binary,
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const startedUrl = `redis://127.0.0.1:${port}`;
  const stop = () => stopChild(child, dir);

  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await redisAnswers(startedUrl, 500)) {
      return { kind: 'started', url: startedUrl, pid: child.pid ?? 0, stop };
    }
    // redis-server needs a few ms to bind; wait for that or for it to die, whichever comes first
    await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
  }
  await stop();
  throw new Error(`redis-server (${binary}) did not start on port ${port}:\n${output.trim()}`);
}

async function stopChild(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(dir, { recursive: true, force: true });
}
