// Throwaway Redis Cluster and Sentinel deployments for tests: real `redis-server` child processes on free loopback
// ports, their files in one temp dir, torn down (processes killed, dir removed) by stop(). Never touches the shared
// Redis on 6379.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface Topology {
  /** The REDIS_URL the bot would be configured with. */
  url: string;
  /** Kills every server and removes the temp dir; safe to call twice. */
  stop(): Promise<void>;
}

export interface ClusterTopology extends Topology {
  /** The masters, in creation order. */
  ports: number[];
}

export interface SentinelTopology extends Topology {
  masterPort: number;
  sentinelPort: number;
  masterName: string;
}

/** Why the suites cannot run here, or undefined when redis-server and redis-cli are both on PATH. */
export function redisToolsMissing(): string | undefined {
  for (const tool of ['redis-server', 'redis-cli']) {
    const r = spawnSync(tool, ['--version'], { stdio: 'ignore' });
    if (r.error || r.status !== 0)
      return `${tool} is not on PATH, so no throwaway Redis Cluster or Sentinel can be started`;
  }
  return undefined;
}

const READY = /Ready to accept connections/;
const START_TIMEOUT_MS = 10_000;

/** Processes started by this module that are still running, killed on exit should a suite never reach stop(). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A free loopback port below the ephemeral range, so an outgoing connection is unlikely to take it meanwhile; with
 * `bus`, free together with port + 10 000 (a Cluster node's bus port). Starting a server still retries if it lost
 * the race.
 */
export async function freeLoopbackPort(opts: { taken?: Set<number>; bus?: boolean } = {}): Promise<number> {
  const taken = opts.taken ?? new Set<number>();
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port) || (opts.bus && taken.has(port + 10_000))) continue;
    if ((await portFree(port)) && (!opts.bus || (await portFree(port + 10_000)))) return port;
  }
}

/**
 * Spawns `redis-server <args>` in `cwd` (killed when the test process exits, should a suite never stop it) and
 * waits until its log matches `ready`: whether it started, and its output so far. Its pipes keep being drained,
 * so a chatty server never blocks on a full pipe.
 */
export async function launchRedisServer(
  args: string[],
  cwd: string,
  opts: { ready?: RegExp; timeoutMs?: number } = {},
): Promise<{ child: ChildProcess; started: boolean; output: string }> {
  const ready = opts.ready ?? READY;
  const child = spawn('redis-server', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  const started = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), opts.timeoutMs ?? START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { child, started, output };
}

interface Server {
  port: number;
  child: ChildProcess;
}

/** Starts `redis-server <args(port)>` and resolves once its log matches `ready`; retries on a port lost to a race. */
async function startServer(
  taken: Set<number>,
  args: (port: number) => string[] | Promise<string[]>,
  cwd: string,
  ready: RegExp = READY,
): Promise<Server> {
  let lastOutput = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeLoopbackPort({ taken, bus: true });
    taken.add(port);
    taken.add(port + 10_000);
    const { child, started, output } = await launchRedisServer(await args(port), cwd, { ready });
    lastOutput = output;
    if (started) return { port, child };
    await kill(child);
  }
  throw new Error(`redis-server did not start:\n${lastOutput.slice(-2000)}`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

/** Polls `check` (every 20 ms) until it returns true, failing with `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = START_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A plain connection to one node, for the test's own inspection (CLUSTER INFO, KEYSLOT, SCAN). */
export function nodeClient(port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: false });
}

function stopper(servers: Server[], dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      await Promise.all(servers.map((s) => kill(s.child)));
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
}

const COMMON = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];

/** A Redis Cluster of `masters` masters and no replicas, all slots assigned and cluster_state:ok on every node. */
export async function startRedisCluster(masters = 3): Promise<ClusterTopology> {
  const dir = await mkdtemp(join(tmpdir(), 'qab-redis-cluster-'));
  const servers: Server[] = [];
  const stop = stopper(servers, dir);
  try {
    const taken = new Set<number>();
    for (let i = 0; i < masters; i++)
      servers.push(
        await startServer(
          taken,
          (port) => [
            '--port',
            String(port),
            ...COMMON,
            '--dir',
            dir,
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
          ],
          dir,
        ),
      );
    const ports = servers.map((s) => s.port);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const clients = ports.map(nodeClient);
    try {
      await until('cluster_state:ok on every node', async () => {
        const infos = await Promise.all(clients.map((c) => c.cluster('INFO')));
        return infos.every((info) => /cluster_state:ok/.test(String(info)));
      });
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
    return {
      url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
      ports,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One master and one Sentinel monitoring it as `masterName` (quorum 1), the Sentinel already naming the master. */
export async function startRedisSentinel(masterName = 'qabmaster'): Promise<SentinelTopology> {
  const dir = await mkdtemp(join(tmpdir(), 'qab-redis-sentinel-'));
  const servers: Server[] = [];
  const stop = stopper(servers, dir);
  try {
    const taken = new Set<number>();
    const master = await startServer(taken, (port) => ['--port', String(port), ...COMMON, '--dir', dir], dir);
    servers.push(master);
    // Sentinel rewrites its config file as it learns, so it needs a writable file of its own per start.
    const sentinel = await startServer(
      taken,
      async (port) => {
        const conf = join(dir, `sentinel-${port}.conf`);
        await writeFile(
          conf,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${dir}`,
            `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1`,
            '',
          ].join('\n'),
        );
        return [conf, '--sentinel'];
      },
      dir,
      // A Sentinel never says "Ready to accept connections"; it is listening once it reports the monitor.
      /\+monitor master/,
    );
    servers.push(sentinel);
    const client = nodeClient(sentinel.port);
    try {
      await until('the Sentinel to name the master', async () => {
        const addr = (await client.call('SENTINEL', 'get-master-addr-by-name', masterName)) as
          | string[]
          | null;
        return addr?.[1] === String(master.port);
      });
    } finally {
      client.disconnect(); // a Sentinel has no QUIT
    }
    return {
      url: `redis+sentinel://127.0.0.1:${sentinel.port}/${masterName}`,
      masterPort: master.port,
      sentinelPort: sentinel.port,
      masterName,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
