// Owns benchmark 5's idle figures: the resident memory of the bot and the worker roles just started and settled,
// both from the TypeScript sources (`npm run dev`, through Node's type stripping) and compiled, as `npm start` and the Docker image run them
// (compiled JavaScript, dist/main.js). The figures after each benchmark come from the benchmarks themselves.
import { generateTenant } from '../src/sandbox/qlik-sim/index.ts';
import {
  benchPrefix,
  benchRedis,
  buildDist,
  DEFAULT_QLIK_LATENCY_MS,
  type DistBuild,
  dropPrefix,
  type Entry,
  type ProcMemory,
  type RoleProcess,
  startRole,
  startWorld,
} from './harness.ts';

export interface MemoryOptions {
  /** How long the processes sit idle after /readyz before they are measured, ms. */
  settleMs: number;
  entries: Entry[];
}

export const MEMORY_DEFAULTS: MemoryOptions = { settleMs: 3_000, entries: ['src', 'dist'] };

export interface IdleMemory {
  entry: Entry;
  role: 'bot' | 'worker';
  memory: ProcMemory;
}

export interface MemoryResult {
  idle: IdleMemory[];
}

export async function runMemory(
  opts: Partial<MemoryOptions> = {},
  log: (s: string) => void = () => {},
): Promise<MemoryResult> {
  const o = { ...MEMORY_DEFAULTS, ...opts };
  let dist: DistBuild | undefined;
  if (o.entries.includes('dist')) {
    log('memory: building src/ as `npm run build` does into a temporary directory');
    dist = buildDist();
  }
  const world = await startWorld({
    tenant: generateTenant({ users: 1000, groups: 20 }),
    latencyMs: DEFAULT_QLIK_LATENCY_MS,
    mirrorUsers: 0,
  });
  const redis = benchRedis();
  const idle: IdleMemory[] = [];
  try {
    for (const entry of o.entries) {
      const prefix = benchPrefix(`memory-${entry}`);
      const procs: RoleProcess[] = [];
      try {
        // One at a time, so start-up work of one never inflates the other's figures.
        for (const role of ['bot', 'worker'] as const) {
          procs.push(await startRole({ role, world, prefix, ...(entry === 'dist' ? { dist: dist! } : {}) }));
        }
        await new Promise((r) => setTimeout(r, o.settleMs));
        for (const p of procs) {
          const memory = await p.memoryWithHeap();
          idle.push({ entry, role: p.role, memory });
          log(
            `memory: ${p.role} (${entry}) idle ${memory.rssMb} MB RSS, heap ${memory.heapUsedMb ?? '?'} MB used`,
          );
        }
      } finally {
        await Promise.all(procs.map((p) => p.stop()));
        await dropPrefix(redis, prefix);
      }
    }
    return { idle };
  } finally {
    await redis.quit();
    await world.close();
    dist?.remove();
  }
}
