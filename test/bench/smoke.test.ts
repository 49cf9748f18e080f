// Runs every benchmark at a tiny size so the benchmarks never rot: each must complete and produce all its figures.
// No timing is asserted here (performance lives in `npm run bench`, not in the test suite).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAck } from '../../bench/ack.ts';
import { runApproveResult } from '../../bench/approve-result.ts';
import { percentile, productionNodeOptions, summarize } from '../../bench/harness.ts';
import { runMemory } from '../../bench/memory.ts';
import { type BenchResults, describeMachine, markdownTable, rows, textTable } from '../../bench/report.ts';
import { saveResults } from '../../bench/run.ts';
import { runWhoHas } from '../../bench/who-has.ts';
import { runWriteThroughput } from '../../bench/write-throughput.ts';

const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
const summaryOf = (s: { n: number; p50: number; p95: number; p99: number }, n: number) => {
  expect(s.n).toBe(n);
  for (const v of [s.p50, s.p95, s.p99]) expect(finite(v)).toBe(true);
};

const results: BenchResults = {
  startedAt: new Date().toISOString(),
  machine: describeMachine(),
  options: {},
  errors: [],
};

describe('percentiles', () => {
  it('uses the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 95)).toBe(7);
    expect(summarize([]).n).toBe(0);
  });
});

// The four benchmarks spend most of their time starting child processes, so they run side by side.
// Under the full suite's load (two cores, every other file too) a run can take several times its 10 s alone.
describe.concurrent('benchmarks at a tiny size', { timeout: 90_000 }, () => {
  it('memory measures idle bot and worker from the compiled build', async () => {
    const m = await runMemory({ entries: ['dist'], settleMs: 50 });
    expect(m.idle.map((i) => `${i.entry}:${i.role}`)).toEqual(['dist:bot', 'dist:worker']);
    for (const i of m.idle) {
      expect(i.memory.rssMb).toBeGreaterThan(0);
      expect(finite(i.memory.heapUsedMb)).toBe(true);
    }
    results.memory = m;
  });

  it('ack latency produces every phase and the step-up', async () => {
    const a = await runAck({
      commands: 20,
      rate: 50,
      slowLatencyMs: 300,
      steps: [40, 60],
      stepSeconds: 0.25,
      allSteps: true,
      tenantUsers: 200,
      latencyMs: 5,
      quietMs: 150,
      warmupCommands: 10,
    });
    summaryOf(a.base.latency, 20);
    summaryOf(a.slowQlik.latency, 20);
    expect(finite(a.base.cpu.botMsPerCommand)).toBe(true);
    expect(Object.keys(a.base.byKind).sort()).toEqual(['grant', 'help', 'who-has', 'whois']);
    expect(a.steps.map((s) => s.commands)).toEqual([10, 15]);
    expect(finite(a.p99DeltaMs)).toBe(true);
    expect(a.maxRateWithinLimit).toBeGreaterThanOrEqual(0);
    expect(a.memory.botIdle.rssMb).toBeGreaterThan(0);
    // The bot's RSS sampled through the run, per phase, from the compiled build production runs.
    expect(a.entry).toBe('dist');
    expect(a.memory.rss.samples).toBeGreaterThan(a.memory.rss.phases.length);
    expect(a.memory.rss.phases.map((p) => p.label)).toEqual([
      'idle',
      'warm-up',
      'base',
      'slow Qlik',
      'step 40/s',
      'step 60/s',
    ]);
    for (const p of a.memory.rss.phases) expect(p.maxMb).toBeGreaterThan(0);
    expect(a.memory.rss.maxMb).toBe(Math.max(...a.memory.rss.phases.map((p) => p.maxMb)));
    // The bare Bolt baseline under the same load, and our figures as ratios to its.
    const bare = a.bare!;
    summaryOf(bare.base.latency, 20);
    expect(bare.base.errors).toBe(0);
    expect(bare.steps.map((s) => s.commands)).toEqual([10, 15]);
    expect(finite(bare.base.cpu.botMsPerCommand)).toBe(true);
    expect(bare.ratios.p99).toBe(Math.round((a.base.latency.p99 / bare.base.latency.p99) * 100) / 100);
    expect(finite(bare.ratios.cpuPerCommand)).toBe(true);
    expect(bare.memory.rssMaxMb).toBeGreaterThan(0);
    results.ack = a;
  });

  it('write throughput produces throughput, 429s, failed, lost and the hot principal', async () => {
    const w = await runWriteThroughput({
      changes: 12,
      users: 5,
      groups: 2,
      writesPerMinute: 600,
      readsPerMinute: 6000,
      windowMs: 2000,
      hotChanges: 4,
      latencyMs: 5,
    });
    expect(w.applied + w.failed).toBe(12);
    expect(finite(w.ratio)).toBe(true);
    expect(finite(w.rateLimited.tier2)).toBe(true);
    expect(w.rolesCompared).toBeGreaterThan(0);
    expect(w.hot.changes).toBe(4);
    expect(finite(w.hot.msPerChange)).toBe(true);
    expect(finite(w.changeRatio)).toBe(true);
    expect(w.hot.writes).toBeGreaterThan(0);
    expect(finite(w.hot.timeRatio)).toBe(true);
    expect(w.memory.workerAfter.peakMb).toBeGreaterThan(0);
    results.write = w;
  });

  it('approve → result produces the overhead and its breakdown', async () => {
    const p = await runApproveResult({ flows: 3, warmup: 1, latencyMs: 5, paceMs: 0 });
    summaryOf(p.total, 3);
    summaryOf(p.overhead, 3);
    expect(p.roundTrips.p50).toBeGreaterThan(0);
    summaryOf(p.breakdown.afterQlik, 3);
    results.approve = p;
  });

  it('who-has at scale produces requests, the client comparison and memory', async () => {
    const h = await runWhoHas({
      users: 2000,
      holders: 150,
      groups: 20,
      groupHolders: 3,
      pairs: 1,
      latencyMs: 5,
    });
    expect(h.slash.csvRows).toBe(150);
    expect(h.slash.minimum).toBe(3);
    expect(h.slash.listingRequests).toBeGreaterThan(0);
    expect(h.comparison.ours.users).toBe(150);
    expect(h.comparison.theirs.users).toBe(150);
    expect(h.comparison.theirs.groups).toBe(3);
    expect(finite(h.comparison.ratio)).toBe(true);
    expect(finite(h.comparisonNoLatency.ratio)).toBe(true);
    expect(h.memory.botAfter.peakMb).toBeGreaterThan(0);
    results.whoHas = h;
  });
});

describe('the report', () => {
  it('tabulates every figure and saves JSON and Markdown', () => {
    const table = textTable(results);
    for (const b of ['ack latency', 'write throughput', 'approve → result', 'who-has at scale', 'memory'])
      expect(table).toContain(b);
    expect(table).toContain('bot idle, dist/main.js (npm start, image)');
    expect(table).toContain('p99 at 50/s: ours ÷ bare Bolt');
    expect(table).toContain('CPU per command at 50/s: ours ÷ bare Bolt');
    expect(table).toContain('bot RSS through the ack bench (dist/main.js), every 250 ms: highest sample');
    expect(rows(results).filter((r) => r.met !== undefined).length).toBeGreaterThan(10);
    const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    try {
      const file = saveResults(results, dir);
      expect(JSON.parse(readFileSync(file, 'utf8')).whoHas.slash.csvRows).toBe(150);
      expect(readFileSync(join(dir, 'latest.md'), 'utf8')).toBe(`${markdownTable(results)}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the children run as production does', () => {
  it("with the Node options npm start and the image's NODE_OPTIONS carry", () => {
    const root = join(import.meta.dirname, '..', '..');
    const options = productionNodeOptions();
    expect(options).toMatch(/--max-semi-space-size=\d+/);
    expect(options).toMatch(/--max-old-space-size=\d+/);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    for (const script of ['start', 'start:bot', 'start:worker'])
      expect(pkg.scripts[script]).toContain('NODE_OPTIONS="$npm_package_config_nodeOptions');
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`NODE_OPTIONS="${options}"`);
  });
});
