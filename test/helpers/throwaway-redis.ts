// One throwaway `redis-server` for the fault suite: a child process on a free loopback port, its files (the AOF) in
// its own temp dir, which a test may kill (SIGKILL), shut down (`SHUTDOWN NOSAVE`) and start again on the same port
// and the same files, as an operator's restart would. Never touches the shared Redis on 6379.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freeLoopbackPort, launchRedisServer } from './redis-topologies.ts';

export interface ThrowawayRedis {
  port: number;
  /** redis://127.0.0.1:<port> */
  url: string;
  /** True while the server process runs. */
  running(): boolean;
  /** SIGKILLs the server (no chance to write anything more) and waits for it to exit. */
  kill(): Promise<void>;
  /** `SHUTDOWN NOSAVE` (no RDB snapshot; the AOF stays as fsynced), then waits for the process to exit. */
  shutdownNoSave(): Promise<void>;
  /** Starts the server again on the same port and files; resolves once it accepts connections (AOF loaded). */
  restart(): Promise<void>;
  /** Kills the server and removes its files; safe to call twice. */
  stop(): Promise<void>;
}

/** Why no throwaway Redis can be started here, or undefined when `redis-server` is on PATH. */
export function redisServerMissing(): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) return 'redis-server is not on PATH, so no throwaway Redis can be started';
  return undefined;
}

const START_TIMEOUT_MS = 15_000;

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts `redis-server` with AOF on (`appendfsync always` by default: every write acknowledged is on disk before
 * the client hears of it) and no RDB snapshots.
 */
export async function startThrowawayRedis(
  opts: { appendfsync?: 'always' | 'everysec'; label?: string } = {},
): Promise<ThrowawayRedis> {
  const dir = await mkdtemp(join(tmpdir(), `qab-${opts.label ?? 'redis'}-`));
  let port = await freeLoopbackPort();
  let child: ChildProcess | undefined;
  let log = '';

  const args = () => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    opts.appendfsync ?? 'always',
    '--daemonize',
    'no',
  ];

  const launch = async (): Promise<boolean> => {
    const launched = await launchRedisServer(args(), dir, { timeoutMs: START_TIMEOUT_MS });
    child = launched.child;
    log = launched.output.slice(-4000);
    if (!launched.started) {
      launched.child.kill('SIGKILL');
      await exited(launched.child);
    }
    return launched.started;
  };

  // The first start may lose its port to a race; pick another then. A restart must keep the port.
  let started = false;
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    if (attempt > 0) port = await freeLoopbackPort();
    started = await launch();
  }
  if (!started) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`redis-server did not start:\n${log}`);
  }

  let stopping: Promise<void> | undefined;
  const self: ThrowawayRedis = {
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async kill() {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
    },
    async shutdownNoSave() {
      if (!child || !self.running()) return;
      const c = child;
      const admin = new Redis({
        host: '127.0.0.1',
        port,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      admin.on('error', () => {});
      // The server closes the connection instead of answering SHUTDOWN.
      await admin.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      admin.disconnect();
      await exited(c);
    },
    async restart() {
      if (self.running()) throw new Error('the throwaway redis-server is still running');
      // The port may be in TIME_WAIT or briefly taken; try a few times on the SAME port.
      for (let attempt = 0; attempt < 10; attempt++) {
        if (await launch()) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`redis-server did not start again on port ${port}:\n${log}`);
    },
    stop() {
      stopping ??= (async () => {
        if (child && self.running()) {
          child.kill('SIGKILL');
          await exited(child);
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  return self;
}
