// Entry of `npm run bench`: runs the benchmarks of issue #6 (all, or those named), prints one table of every figure
// against its target, and writes the figures as JSON (and the table as Markdown) under bench/results/.
//   npm run bench                      every benchmark at its default size
//   npm run bench -- ack who-has       only those
//   npm run bench -- --quick           the write benchmark at half size (about 50 s instead of 100 s)
//   npm run bench -- --help            every flag
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ACK_DEFAULTS, type AckOptions, runAck } from './ack.ts';
import { APPROVE_DEFAULTS, type ApproveOptions, runApproveResult } from './approve-result.ts';
import { DEFAULT_QLIK_LATENCY_MS } from './harness.ts';
import { type MemoryOptions, runMemory } from './memory.ts';
import { type ModeWhoHasOptions, runModeWhoHas } from './mode-who-has.ts';
import { type BenchResults, describeMachine, markdownTable, textTable } from './report.ts';
import { runSpaceWrite, SPACE_WRITE_DEFAULTS, type SpaceWriteOptions } from './space-write.ts';
import { runWhoHas, WHO_HAS_DEFAULTS, type WhoHasOptions } from './who-has.ts';
import { runWriteThroughput, WRITE_DEFAULTS, WRITE_QUICK, type WriteOptions } from './write-throughput.ts';

export const BENCHMARKS = [
  'memory',
  'ack',
  'write',
  'space-write',
  'approve',
  'who-has',
  'mode-who-has',
] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

export interface RunOptions {
  ack?: Partial<AckOptions>;
  write?: Partial<WriteOptions>;
  spaceWrite?: Partial<SpaceWriteOptions>;
  modeWhoHas?: Partial<ModeWhoHasOptions>;
  approve?: Partial<ApproveOptions>;
  whoHas?: Partial<WhoHasOptions>;
  memory?: Partial<MemoryOptions>;
}

/** Runs the selected benchmarks one after another; a failing one is recorded and the others still run. */
export async function runBenchmarks(
  selected: readonly BenchmarkName[],
  opts: RunOptions = {},
  log: (s: string) => void = () => {},
): Promise<BenchResults> {
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    machine: describeMachine(),
    options: { ...opts },
    errors: [],
  };
  const attempt = async (name: BenchmarkName, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log(`${name}: FAILED — ${message}`);
      results.errors.push({ benchmark: name, message });
    }
  };
  for (const name of selected) {
    if (name === 'memory')
      await attempt(name, async () => {
        results.memory = await runMemory(opts.memory, log);
      });
    if (name === 'ack')
      await attempt(name, async () => {
        results.ack = await runAck(opts.ack, log);
      });
    if (name === 'write')
      await attempt(name, async () => {
        results.write = await runWriteThroughput(opts.write, log);
      });
    if (name === 'space-write')
      await attempt(name, async () => {
        results.spaceWrite = await runSpaceWrite(opts.spaceWrite, log);
      });
    if (name === 'mode-who-has')
      await attempt(name, async () => {
        results.modeWhoHas = await runModeWhoHas(opts.modeWhoHas, log);
      });
    if (name === 'approve')
      await attempt(name, async () => {
        results.approve = await runApproveResult(opts.approve, log);
      });
    if (name === 'who-has')
      await attempt(name, async () => {
        results.whoHas = await runWhoHas(opts.whoHas, log);
      });
  }
  results.finishedAt = new Date().toISOString();
  results.machine.loadAvgEnd = Math.round(loadavg()[0]! * 100) / 100;
  return results;
}

/** Writes bench/results/<timestamp>.json, latest.json and latest.md; returns the JSON path. */
export function saveResults(results: BenchResults, dir = join(import.meta.dirname, 'results')): string {
  mkdirSync(dir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-').replace(/Z$/, 'Z');
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const file = join(dir, `${stamp}.json`);
  writeFileSync(file, json);
  writeFileSync(join(dir, 'latest.json'), json);
  writeFileSync(join(dir, 'latest.md'), `${markdownTable(results)}\n`);
  return file;
}

const HELP = `Usage: npm run bench -- [memory] [ack] [write] [space-write] [approve] [who-has] [mode-who-has] [flags]

With no names every benchmark runs. Flags (defaults in brackets):
  --latency <ms>          simulated Qlik latency per request [${DEFAULT_QLIK_LATENCY_MS}]
  --ack-commands <n>      commands per ack phase [${ACK_DEFAULTS.commands}]
  --ack-rate <n/s>        arrival rate of the ack phases [${ACK_DEFAULTS.rate}]
  --slow-latency <ms>     Qlik latency of the slow ack phase [${ACK_DEFAULTS.slowLatencyMs}]
  --steps <a,b,…>         step-up rates [${ACK_DEFAULTS.steps.join(',')}]
  --step-seconds <s>      length of each step [${ACK_DEFAULTS.stepSeconds}]
  --all-steps             keep stepping after a step misses p99 ≤ 100 ms
  --ack-warmup <n>        unmeasured commands before the ack phases [${ACK_DEFAULTS.warmupCommands}]
  --no-bare               skip the ack benchmark's bare Bolt baseline (and its ratios)
  --rss-every <ms>        ack: how often the bot's RSS is sampled [${ACK_DEFAULTS.rssEveryMs}]
  --ack-src               ack: run the bot from the TypeScript sources instead of the compiled build
  --quick                 write benchmark at half size (${WRITE_QUICK.changes} changes, ${WRITE_QUICK.users} users, ${WRITE_QUICK.groups} groups)
  --changes <n>           write: approved changes [${WRITE_DEFAULTS.changes}]
  --users <n>             write: users [${WRITE_DEFAULTS.users}]
  --groups <n>            write: groups [${WRITE_DEFAULTS.groups}]
  --ceiling <n/min>       write: Tier 2 ceiling, simulator and client [${WRITE_DEFAULTS.writesPerMinute}]
  --read-ceiling <n/min>  write: Tier 1 ceiling, simulator and client [${WRITE_DEFAULTS.readsPerMinute}]
  --window-ms <ms>        write: the simulator's rate-limit window [${WRITE_DEFAULTS.windowMs}]
  --hot <n>               write: changes to the one hot user [${WRITE_DEFAULTS.hotChanges}]
  --space-grants <n>      space-write: approved space grants [${SPACE_WRITE_DEFAULTS.grants}]
  --spaces <n>            space-write: spaces they go to [${SPACE_WRITE_DEFAULTS.spaces}]
  --flows <n>             approve → result flows [${APPROVE_DEFAULTS.flows}]
  --pace <ms>             approve: least time between two approvals [${APPROVE_DEFAULTS.paceMs}]
  --tenant-users <n>      who-has: tenant size [${WHO_HAS_DEFAULTS.users}]
  --holders <n>           who-has: direct holders [${WHO_HAS_DEFAULTS.holders}]
  --pairs <n>             who-has: ours/@qlik/api listing pairs [${WHO_HAS_DEFAULTS.pairs}]
  --no-save               print only; write nothing under bench/results/
Environment: REDIS_URL (default redis://127.0.0.1:6379), BENCH_LOG_LEVEL (the children's LOG_LEVEL, default info),
BENCH_NODE_ARGS (Node flags for the children, on top of production's NODE_OPTIONS from package.json
config.nodeOptions, e.g. --trace-gc or --cpu-prof; none by default).`;

function parseCli(argv: string[]): { selected: BenchmarkName[]; opts: RunOptions; save: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean' },
      latency: { type: 'string' },
      'ack-commands': { type: 'string' },
      'ack-rate': { type: 'string' },
      'slow-latency': { type: 'string' },
      steps: { type: 'string' },
      'step-seconds': { type: 'string' },
      'all-steps': { type: 'boolean' },
      'ack-warmup': { type: 'string' },
      'no-bare': { type: 'boolean' },
      'rss-every': { type: 'string' },
      'ack-src': { type: 'boolean' },
      pace: { type: 'string' },
      quick: { type: 'boolean' },
      changes: { type: 'string' },
      users: { type: 'string' },
      groups: { type: 'string' },
      ceiling: { type: 'string' },
      'read-ceiling': { type: 'string' },
      'window-ms': { type: 'string' },
      hot: { type: 'string' },
      flows: { type: 'string' },
      'space-grants': { type: 'string' },
      spaces: { type: 'string' },
      'tenant-users': { type: 'string' },
      holders: { type: 'string' },
      pairs: { type: 'string' },
      'no-save': { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const bad = positionals.filter((p) => !(BENCHMARKS as readonly string[]).includes(p));
  if (bad.length > 0) {
    console.error(`Unknown benchmark ${bad.join(', ')}; choose from ${BENCHMARKS.join(', ')}.\n\n${HELP}`);
    process.exit(2);
  }
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) {
      console.error(`--${name} expects a number, got "${v}".`);
      process.exit(2);
    }
    return n;
  };
  const defined = <T extends object>(o: T): Partial<T> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const latencyMs = num('latency', values.latency);
  const steps = values.steps?.split(',').map((s) => num('steps', s.trim())!);
  const opts: RunOptions = {
    ack: defined({
      latencyMs,
      commands: num('ack-commands', values['ack-commands']),
      rate: num('ack-rate', values['ack-rate']),
      slowLatencyMs: num('slow-latency', values['slow-latency']),
      steps,
      stepSeconds: num('step-seconds', values['step-seconds']),
      allSteps: values['all-steps'],
      warmupCommands: num('ack-warmup', values['ack-warmup']),
      bare: values['no-bare'] ? false : undefined,
      rssEveryMs: num('rss-every', values['rss-every']),
      entry: values['ack-src'] ? 'src' : undefined,
    }),
    write: {
      ...(values.quick ? WRITE_QUICK : {}),
      ...defined({
        latencyMs,
        changes: num('changes', values.changes),
        users: num('users', values.users),
        groups: num('groups', values.groups),
        writesPerMinute: num('ceiling', values.ceiling),
        readsPerMinute: num('read-ceiling', values['read-ceiling']),
        windowMs: num('window-ms', values['window-ms']),
        hotChanges: num('hot', values.hot),
      }),
    },
    modeWhoHas: defined({ latencyMs }),
    spaceWrite: defined({
      latencyMs,
      grants: num('space-grants', values['space-grants']),
      spaces: num('spaces', values.spaces),
      writesPerMinute: num('ceiling', values.ceiling),
      readsPerMinute: num('read-ceiling', values['read-ceiling']),
      windowMs: num('window-ms', values['window-ms']),
    }),
    approve: defined({ latencyMs, flows: num('flows', values.flows), paceMs: num('pace', values.pace) }),
    whoHas: defined({
      latencyMs,
      users: num('tenant-users', values['tenant-users']),
      holders: num('holders', values.holders),
      pairs: num('pairs', values.pairs),
    }),
  };
  const selected = positionals.length > 0 ? (positionals as BenchmarkName[]) : [...BENCHMARKS];
  return { selected, opts, save: !values['no-save'] };
}

if (import.meta.main) {
  const { selected, opts, save } = parseCli(process.argv.slice(2));
  const t0 = Date.now();
  const results = await runBenchmarks(selected, opts, (s) => console.log(s));
  console.log(`\n${textTable(results)}\n`);
  if (save)
    console.log(`Figures written to ${saveResults(results)} (and bench/results/latest.json, latest.md).`);
  console.log(`Took ${Math.round((Date.now() - t0) / 1000)} s.`);
  process.exit(results.errors.length > 0 ? 1 : 0);
}
