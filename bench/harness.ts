// Owns what every benchmark shares: the local world (Qlik simulator + Slack fake, in this process), the bot and
// worker roles as child processes (`node src/main.ts bot|worker`, exactly what production runs) with their logs in
// files, their memory read from /proc, percentiles, and the Redis key prefix of a run and its clean-up.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { freePort } from '../src/sandbox/local-redis.ts';
import {
  type QlikSimulator,
  type RateLimitOptions,
  type SimTenant,
  startQlikSimulator,
} from '../src/sandbox/qlik-sim/index.ts';
import {
  type FakeUser,
  SlackDriver,
  type SlackFake,
  startSlackFake,
} from '../src/sandbox/slack-fake/index.ts';
import { createRedis } from '../src/store/redis.ts';

export const ROOT = join(import.meta.dirname, '..');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Default simulated Qlik latency per request (issue #6). */
export const DEFAULT_QLIK_LATENCY_MS = 80;

export const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-bench-0000000000-0000000000000-benchtoken';
export const APPROVAL_CHANNEL = 'C0BENCHAPPR';
export const COMMAND_CHANNEL = 'C0BENCHCMDS';
export const APPROVERS = ['U0APPROVER1', 'U0APPROVER2', 'U0APPROVER3'];
export const REQUESTERS = ['U0REQUEST01', 'U0REQUEST02', 'U0REQUEST03', 'U0REQUEST04'];

// ---------------------------------------------------------------- numbers

/** Nearest-rank percentile of an unsorted sample (p in 0..100); NaN for an empty sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  const mean = n === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / n;
  return {
    n,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    max: round(n === 0 ? Number.NaN : Math.max(...values)),
    mean: round(mean),
  };
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on this machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

// ---------------------------------------------------------------- memory

export interface ProcMemory {
  /** Resident set size now, MB. */
  rssMb: number;
  /** Peak resident set size since the process started (VmHWM), MB. */
  peakMb: number;
  /** V8 heap in use and reserved, MB, from the process's own /metrics (when it was asked for). */
  heapUsedMb?: number;
  heapTotalMb?: number;
}

/** Reads VmRSS and VmHWM of a process from /proc (Linux). */
export function procMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: round(kb('VmRSS') / 1024, 1), peakMb: round(kb('VmHWM') / 1024, 1) };
}

/** One RSS reading of a sampled process: ms since the sampler started, and VmRSS in MB. */
export interface RssSample {
  t: number;
  rssMb: number;
}

/** The RSS series of one phase: its highest sample and how many samples it had. */
export interface RssPhase {
  label: string;
  maxMb: number;
  samples: number;
}

/**
 * Reads a process's VmRSS from /proc every `everyMs` while a benchmark runs, so a peak between two phases (or one
 * that the kernel's VmHWM would only show as "somewhere since start") is seen when it happens. Phases are marked
 * with `phase(label)`; each gets the highest sample taken while it was current.
 */
export class RssSampler {
  readonly #pid: number;
  readonly #everyMs: number;
  readonly #t0 = performance.now();
  readonly #timer: NodeJS.Timeout;
  readonly samples: RssSample[] = [];
  readonly phases: RssPhase[] = [];
  #current: RssPhase | undefined;
  #stopped = false;

  constructor(pid: number, everyMs = 250) {
    this.#pid = pid;
    this.#everyMs = everyMs;
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.#timer.unref();
  }

  /** Takes one sample now (also done on every tick); a process that has exited is not sampled. */
  sample(): void {
    if (this.#stopped) return;
    let rssMb: number;
    try {
      rssMb = procMemory(this.#pid).rssMb;
    } catch {
      return;
    }
    if (!Number.isFinite(rssMb)) return;
    this.samples.push({ t: round(performance.now() - this.#t0, 0), rssMb });
    if (this.#current) {
      this.#current.maxMb = Math.max(this.#current.maxMb, rssMb);
      this.#current.samples++;
    }
  }

  /** Starts a new phase (ending the current one) with a sample at its start. */
  phase(label: string): void {
    this.#current = { label, maxMb: 0, samples: 0 };
    this.phases.push(this.#current);
    this.sample();
  }

  /** The highest sample so far, MB. */
  get maxMb(): number {
    return this.samples.reduce((m, s) => Math.max(m, s.rssMb), 0);
  }

  /** Stops sampling (one last sample first) and returns the figures; once stopped, it takes no more samples. */
  stop(): { everyMs: number; maxMb: number; phases: RssPhase[]; samples: number } {
    this.sample();
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#current = undefined;
    return { everyMs: this.#everyMs, maxMb: this.maxMb, phases: this.phases, samples: this.samples.length };
  }
}

// ---------------------------------------------------------------- CPU

let clockTicks: number | undefined;

/** CPU time (user + system) a process has used so far, ms, from /proc/<pid>/stat (Linux). */
export function procCpuMs(pid: number): number {
  clockTicks ??= (() => {
    try {
      return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      return 100;
    }
  })();
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at state; utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** CPU time this process has used so far, ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// ---------------------------------------------------------------- child processes

export { freePort };

export function logDir(): string {
  const dir = join(tmpdir(), 'qlik-access-bot-bench');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface RoleProcess {
  role: 'bot' | 'worker';
  child: ChildProcess;
  pid: number;
  url: string;
  logFile: string;
  memory(): ProcMemory;
  /** RSS and peak from /proc plus the V8 heap figures the process exports on GET /metrics. */
  memoryWithHeap(): Promise<ProcMemory>;
  stop(): Promise<void>;
}

/**
 * The Node options production runs the bot with: package.json `config.nodeOptions`, which the start scripts put in
 * NODE_OPTIONS and the Dockerfile sets as the image's NODE_OPTIONS.
 */
export function productionNodeOptions(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    config?: { nodeOptions?: string };
  };
  return pkg.config?.nodeOptions ?? '';
}

/** Which build of the bot runs: the TypeScript sources (`npm run dev`, the sandbox) or the compiled JavaScript (`npm start`, the Docker image). */
export type Entry = 'src' | 'dist';

export interface DistBuild {
  /** The compiled entry's directory (main.js inside). */
  distDir: string;
  remove(): void;
}

/**
 * Builds src/ as `npm run build` does (scripts/build.ts: tsc with tsconfig.build.json, then the stores' Lua scripts)
 * into a fresh temporary directory laid out like the image (package.json, node_modules, dist/) — outside the
 * repository, so nothing compiled lands in the tree; node_modules is a link to the repository's.
 */
export function buildDist(): DistBuild {
  const dir = mkdtempSync(join(tmpdir(), 'qlik-access-bot-bench-build-'));
  const distDir = join(dir, 'dist');
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.ts'), '--outDir', distDir], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  } catch (err) {
    remove();
    throw err;
  }
  return { distDir, remove };
}

async function scrapeHeap(url: string): Promise<{ heapUsedMb?: number; heapTotalMb?: number }> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const mb = (name: string) => {
      const v = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text)?.[1];
      return v === undefined ? undefined : round(Number(v) / 1024 ** 2, 1);
    };
    const heapUsedMb = mb('qab_nodejs_heap_size_used_bytes');
    const heapTotalMb = mb('qab_nodejs_heap_size_total_bytes');
    return {
      ...(heapUsedMb === undefined ? {} : { heapUsedMb }),
      ...(heapTotalMb === undefined ? {} : { heapTotalMb }),
    };
  } catch {
    return {};
  }
}

export interface RoleProcessOptions {
  role: 'bot' | 'worker';
  world: World;
  prefix: string;
  /** Extra environment (e.g. QLIK_WRITES_PER_MINUTE) over the defaults below. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Run the compiled build (from buildDist) instead of the TypeScript sources. */
  dist?: DistBuild;
  /**
   * Another script to run instead of the entry (e.g. bench/bare-bolt.ts, the ack benchmark's baseline), with the same
   * environment, Node flags and readiness check; `label` names its log file.
   */
  script?: { path: string; label: string };
}

/**
 * Starts `node src/main.ts <role>` with its environment pointed at the simulator, the fake and Redis, logs going
 * straight to a file (not through this process, which would then share the child's logging work), and resolves
 * once GET /readyz answers 200 (Redis reachable, Qlik credential verified).
 */
export async function startRole(opts: RoleProcessOptions): Promise<RoleProcess> {
  const port = await freePort();
  const logFile = join(
    logDir(),
    `${opts.prefix.replace(/[^A-Za-z0-9_-]/g, '_')}-${opts.script?.label ?? opts.role}.log`,
  );
  const fd = openSync(logFile, 'a');
  const base: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TZ', 'LANG', 'TMPDIR']) {
    const v = process.env[k];
    if (v !== undefined) base[k] = v;
  }
  const env: Record<string, string> = {
    ...base,
    QLIK_TENANT_URL: opts.world.sim.url,
    QLIK_API_KEY: opts.world.sim.apiKey,
    SLACK_API_URL: opts.world.fake.apiUrl,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    APPROVAL_CHANNEL,
    APPROVERS: APPROVERS.join(','),
    REDIS_URL,
    QUEUE_PREFIX: opts.prefix,
    PORT: String(port),
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    ...opts.env,
  };
  // process.execPath is the Node 24 binary npm put first on PATH (node_modules/.bin/node), so the pid is Node's own.
  const script = opts.script?.path ?? (opts.dist ? join(opts.dist.distDir, 'main.js') : 'src/main.ts');
  // Production's Node options (package.json `config.nodeOptions`, which `npm start` and the image's NODE_OPTIONS
  // carry), so every child runs as production does; BENCH_NODE_ARGS, for experiments on the children only (e.g.
  // --trace-gc, --cpu-prof), come on the command line after them and win where they overlap.
  const nodeOptions = productionNodeOptions();
  if (nodeOptions !== '') env.NODE_OPTIONS = nodeOptions;
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, script, opts.role], {
    cwd: ROOT,
    env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  const stop = async () => {
    if (dead) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(force);
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  let problem = 'no answer yet';
  while (Date.now() < deadline && !dead) {
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      const text = await res.text();
      if (res.status === 200) {
        const pid = child.pid!;
        const memory = () => procMemory(pid);
        const memoryWithHeap = async () => ({ ...memory(), ...(await scrapeHeap(url)) });
        return { role: opts.role, child, pid, url, logFile, memory, memoryWithHeap, stop };
      }
      problem = `/readyz ${res.status}: ${text.slice(0, 200)}`;
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    // The child offers no readiness event but its port: ask again shortly, bounded by the deadline.
    await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
  }
  await stop();
  const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
  throw new Error(
    `the ${opts.role} process did not become ready (${dead ? 'it exited' : problem}). Log tail:\n${tail}`,
  );
}

// ---------------------------------------------------------------- the world: simulator + fake

export interface World {
  sim: QlikSimulator;
  fake: SlackFake;
  /** Slack users mirroring Qlik users (same email), in tenant order; the approvers and requesters come on top. */
  slackUsers: FakeUser[];
  /** Slack user id for a Qlik user id (only those mirrored). */
  slackIdOf: Map<string, string>;
  driver(botUrl: string): SlackDriver;
  close(): Promise<void>;
}

export interface WorldOptions {
  tenant: SimTenant;
  latencyMs?: number;
  rateLimits?: RateLimitOptions | false;
  /** How many tenant users get a Slack twin (default: all with an email). */
  mirrorUsers?: number;
}

/**
 * Starts the simulator and the fake in THIS process. Both serve the bot's after-ack traffic; the load that is
 * measured is generated elsewhere (a child process for the ack benchmark) so it never waits for them.
 */
export async function startWorld(opts: WorldOptions): Promise<World> {
  const sim = await startQlikSimulator({
    tenant: opts.tenant,
    latencyMs: opts.latencyMs ?? DEFAULT_QLIK_LATENCY_MS,
    rateLimits: opts.rateLimits ?? false,
  });
  const slackUsers: FakeUser[] = [];
  const slackIdOf = new Map<string, string>();
  let i = 0;
  const limit = opts.mirrorUsers ?? Number.POSITIVE_INFINITY;
  for (const u of opts.tenant.users()) {
    if (slackUsers.length >= limit) break;
    if (!u.email || u.id === opts.tenant.serviceUserId || u.status === 'deleted') continue;
    i += 1;
    const id = `U0B${i.toString(36).toUpperCase().padStart(7, '0')}`;
    slackUsers.push({ id, name: `user${i}`, realName: u.name, email: u.email });
    slackIdOf.set(u.id, id);
  }
  const staff: FakeUser[] = [
    ...APPROVERS.map((id, n) => ({ id, name: `approver${n + 1}`, email: `approver${n + 1}@bench.example` })),
    ...REQUESTERS.map((id, n) => ({
      id,
      name: `requester${n + 1}`,
      email: `requester${n + 1}@bench.example`,
    })),
  ];
  const fake = await startSlackFake({
    botToken: BOT_TOKEN,
    users: [...staff, ...slackUsers],
    channels: [
      { id: APPROVAL_CHANNEL, name: 'qlik-approvals' },
      { id: COMMAND_CHANNEL, name: 'general' },
    ],
  });
  return {
    sim,
    fake,
    slackUsers,
    slackIdOf,
    driver: (botUrl) =>
      new SlackDriver({ eventsUrl: `${botUrl}/slack/events`, signingSecret: SIGNING_SECRET, fake }),
    async close() {
      await Promise.allSettled([sim.close(), fake.close()]);
    },
  };
}

// ---------------------------------------------------------------- Redis

export function benchPrefix(label: string): string {
  return `qab-bench:${label}:${randomBytes(4).toString('hex')}`;
}

export function benchRedis(): Redis {
  return createRedis(REDIS_URL, 'command');
}

export { dropPrefix } from '../src/store/redis.ts';

// ---------------------------------------------------------------- waiting

/** Resolves when `check` is true, asking every `everyMs`; rejects after `timeoutMs` with `what`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves once no new Slack message or Web API call arrived for `quietMs` (after-ack work has drained). */
export async function quiet(
  fake: SlackFake,
  sim: QlikSimulator,
  quietMs: number,
  timeoutMs: number,
): Promise<void> {
  let last = -1;
  let since = Date.now();
  await until(
    () => {
      const n = fake.messages.length + fake.calls.length + sim.requests.length;
      if (n !== last) {
        last = n;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    'the bot to finish its after-ack work',
    timeoutMs,
    50,
  );
}
