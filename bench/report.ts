// Owns what a benchmark run reports: the machine it ran on, the results of each benchmark, and one table of every
// figure against its target (printed, and written as Markdown next to the JSON so the README can quote it).
import { cpus, loadavg, release, totalmem } from 'node:os';
import { ACK_TARGETS, type AckResult } from './ack.ts';
import { APPROVE_TARGETS, type ApproveResult } from './approve-result.ts';
import type { ProcMemory } from './harness.ts';
import type { MemoryResult } from './memory.ts';
import type { ModeWhoHasResult } from './mode-who-has.ts';
import { SPACE_WRITE_TARGETS, type SpaceWriteResult } from './space-write.ts';
import { WHO_HAS_TARGETS, type WhoHasResult } from './who-has.ts';
import { WORKER_RSS_TARGET_MB, WRITE_TARGETS, type WriteResult } from './write-throughput.ts';

export const MEMORY_TARGETS = { idleMb: 150, whoHasPeakMb: WHO_HAS_TARGETS.botPeakMb };

export interface Machine {
  cpuModel: string;
  cores: number;
  totalMemGb: number;
  node: string;
  kernel: string;
  /** 1-minute load average when the run started and ended (other work on the machine shows here). */
  loadAvgStart: number;
  loadAvgEnd?: number;
}

export function describeMachine(): Machine {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    totalMemGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: release(),
    loadAvgStart: Math.round(loadavg()[0]! * 100) / 100,
  };
}

export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  machine: Machine;
  options: Record<string, unknown>;
  ack?: AckResult;
  write?: WriteResult;
  spaceWrite?: SpaceWriteResult;
  modeWhoHas?: ModeWhoHasResult;
  approve?: ApproveResult;
  whoHas?: WhoHasResult;
  memory?: MemoryResult;
  /** Every benchmark that failed to run, with why. */
  errors: { benchmark: string; message: string }[];
}

export interface Row {
  benchmark: string;
  figure: string;
  value: string;
  target: string;
  /** true = met, false = missed, undefined = no target. */
  met?: boolean;
}

const ms = (x: number) => `${x} ms`;
const mb = (m: ProcMemory) =>
  `${m.rssMb} MB (peak ${m.peakMb}${m.heapUsedMb === undefined ? '' : `, heap used ${m.heapUsedMb}`})`;

/** Every figure of the run as rows, with its target and whether it was met. */
export function rows(r: BenchResults): Row[] {
  const out: Row[] = [];
  const add = (benchmark: string, figure: string, value: string, target = '', met?: boolean) =>
    out.push({ benchmark, figure, value, target, ...(met === undefined ? {} : { met }) });
  if (r.ack) {
    const a = r.ack;
    const b = 'ack latency';
    const phase = (label: string, f: AckResult['base'], target: boolean) => {
      add(
        b,
        `${label}: p50 / p95 / p99`,
        `${f.latency.p50} / ${f.latency.p95} / ${f.latency.p99} ms`,
        target ? `p99 ≤ ${ACK_TARGETS.p99Ms} ms` : '',
        target ? f.latency.p99 <= ACK_TARGETS.p99Ms && f.errors === 0 : undefined,
      );
    };
    phase(`${a.base.commands} cmds @ ${a.base.rate}/s, Qlik ${a.base.qlikLatencyMs} ms`, a.base, true);
    add(
      b,
      `CPU at ${a.base.rate}/s: bot / simulator+fake / load generator`,
      `${a.base.cpu.botPct}% / ${a.base.cpu.benchPct}% / ${a.base.cpu.loadGenPct}% of a core; bot ${a.base.cpu.botMsPerCommand} ms per command`,
    );
    add(
      b,
      `after-ack work at ${a.base.rate}/s: Qlik calls per command, drain after the last send`,
      `${a.base.qlikPerCommand}; ${(a.base.drainMs / 1000).toFixed(1)} s (slow Qlik: ${(a.slowQlik.drainMs / 1000).toFixed(1)} s)`,
    );
    phase(
      `${a.slowQlik.commands} cmds @ ${a.slowQlik.rate}/s, Qlik ${a.slowQlik.qlikLatencyMs} ms`,
      a.slowQlik,
      true,
    );
    add(
      b,
      'p99 change when Qlik takes 5 s',
      `${a.p99DeltaMs >= 0 ? '+' : ''}${a.p99DeltaMs} ms`,
      'must not move',
      undefined,
    );
    add(
      b,
      'non-200 answers (base / slow)',
      `${a.base.errors} / ${a.slowQlik.errors}`,
      '0',
      a.base.errors === 0 && a.slowQlik.errors === 0,
    );
    for (const s of a.steps)
      add(
        b,
        `step ${s.rate}/s (${s.commands} cmds): p50 / p99 (bot CPU)`,
        `${s.latency.p50} / ${s.latency.p99} ms (${s.cpu.botPct}%)`,
        `p99 ≤ ${ACK_TARGETS.stepP99LimitMs} ms`,
        s.latency.p99 <= ACK_TARGETS.stepP99LimitMs && s.errors === 0,
      );
    add(
      b,
      'highest rate with p99 ≤ 100 ms',
      `${a.maxRateWithinLimit}/s`,
      `≥ ${ACK_TARGETS.minRatePerSec}/s`,
      a.maxRateWithinLimit >= ACK_TARGETS.minRatePerSec,
    );
    if (a.bare) {
      const bare = a.bare;
      add(
        b,
        `bare Bolt baseline, ${bare.base.commands} cmds @ ${bare.base.rate}/s: p50 / p95 / p99 (CPU per command)`,
        `${bare.base.latency.p50} / ${bare.base.latency.p95} / ${bare.base.latency.p99} ms (${bare.base.cpu.botMsPerCommand} ms)`,
      );
      add(
        b,
        `p99 at ${a.base.rate}/s: ours ÷ bare Bolt`,
        `${a.base.latency.p99} ÷ ${bare.base.latency.p99} = ${bare.ratios.p99}`,
        `≤ ${ACK_TARGETS.p99Ratio}`,
        bare.ratios.p99 <= ACK_TARGETS.p99Ratio,
      );
      add(
        b,
        `CPU per command at ${a.base.rate}/s: ours ÷ bare Bolt`,
        `${a.base.cpu.botMsPerCommand} ÷ ${bare.base.cpu.botMsPerCommand} ms = ${bare.ratios.cpuPerCommand}`,
        `≤ ${ACK_TARGETS.cpuRatio}`,
        bare.ratios.cpuPerCommand <= ACK_TARGETS.cpuRatio,
      );
      add(
        b,
        'bare Bolt: steps p99 (highest rate with p99 ≤ 100 ms)',
        `${bare.steps.map((s) => `${s.rate}/s ${s.latency.p99}`).join(', ')} ms (${bare.maxRateWithinLimit}/s)`,
      );
    }
  }
  if (r.write) {
    const w = r.write;
    const b = 'write throughput';
    add(
      b,
      `${w.changes} changes, ${w.principals.users} users + ${w.principals.groups} groups`,
      `${w.applied} applied in ${w.writes} writes in ${(w.elapsedMs / 1000).toFixed(1)} s`,
    );
    add(
      b,
      `changes applied/min ÷ ceiling (${w.ceilingPerMin}/min)`,
      `${w.changesPerMin} ÷ ${w.ceilingPerMin} = ${w.changeRatio}`,
      `≥ ${WRITE_TARGETS.changeRatio}`,
      w.changeRatio >= WRITE_TARGETS.changeRatio,
    );
    add(
      b,
      `writes/min ÷ ceiling (${w.ceilingPerMin}/min)`,
      `${w.writesPerMin} ÷ ${w.ceilingPerMin} = ${w.ratio}`,
      `≥ ${WRITE_TARGETS.ratio}`,
      w.ratio >= WRITE_TARGETS.ratio,
    );
    add(b, '429s received (tier 1 / tier 2)', `${w.rateLimited.tier1} / ${w.rateLimited.tier2}`, 'rare');
    add(b, 'failed', String(w.failed), '0', w.failed === 0);
    add(
      b,
      'lost (not applied + final-state mismatches)',
      `${w.lost} (${w.roleMismatches} of ${w.rolesCompared} roles differ)`,
      '0',
      w.lost === 0,
    );
    add(
      b,
      `hot principal: ${w.hot.changes} changes to one user`,
      `${w.hot.msPerChange} ms/change (one at a time: ≥ ${w.hot.floorMsPerChange}), all present: ${w.hot.allPresent ? 'yes' : 'NO'}`,
      'all present',
      w.hot.allPresent,
    );
    add(
      b,
      `worker RSS through the write bench (dist/main.js), every ${w.memory.rss.everyMs} ms: highest sample`,
      `${w.memory.rss.maxMb} MB (${w.memory.rss.samples} samples; ${w.memory.rss.phases.map((p) => `${p.label} ${p.maxMb}`).join(', ')})`,
      `≤ ${WORKER_RSS_TARGET_MB} MB`,
      w.memory.rss.maxMb <= WORKER_RSS_TARGET_MB,
    );
    add(
      b,
      'hot principal: writes; time ÷ one change alone',
      `${w.hot.writes} writes; ${w.hot.elapsedMs} ÷ ${w.hot.singleMs} ms = ${w.hot.timeRatio}`,
      `≤ ${WRITE_TARGETS.hotWrites} writes, ≤ ${WRITE_TARGETS.hotTimeRatio}×`,
      w.hot.writes <= WRITE_TARGETS.hotWrites && w.hot.timeRatio <= WRITE_TARGETS.hotTimeRatio,
    );
  }
  if (r.spaceWrite) {
    const w = r.spaceWrite;
    const b = 'space write';
    add(
      b,
      `${w.grants} space grants over ${w.spaces} spaces`,
      `${w.writes} writes (${w.posts} POST, ${w.puts} PUT) in ${(w.elapsedMs / 1000).toFixed(1)} s`,
    );
    add(
      b,
      `grants applied/min ÷ ceiling (${w.ceilingPerMin}/min)`,
      `${w.changesPerMin} ÷ ${w.ceilingPerMin} = ${w.changeRatio}`,
      `≥ ${SPACE_WRITE_TARGETS.changeRatio}`,
      w.changeRatio >= SPACE_WRITE_TARGETS.changeRatio,
    );
    add(
      b,
      `writes/min ÷ ceiling (${w.ceilingPerMin}/min)`,
      `${w.writesPerMin} ÷ ${w.ceilingPerMin} = ${w.ratio}`,
      `≥ ${SPACE_WRITE_TARGETS.ratio}`,
      w.ratio >= SPACE_WRITE_TARGETS.ratio,
    );
    add(b, '429s received (tier 1 / tier 2)', `${w.rateLimited.tier1} / ${w.rateLimited.tier2}`, 'rare');
    add(b, 'failed', String(w.failed), '0', w.failed === 0);
    add(
      b,
      'lost (not applied + final-state mismatches)',
      `${w.lost} (${w.mismatches} of ${w.compared} space roles differ)`,
      '0',
      w.lost === 0,
    );
  }
  if (r.modeWhoHas) {
    const m = r.modeWhoHas;
    const b = 'mode who-has';
    add(b, `${m.members} members, a ${m.groupSize}-member group, ${m.latencyMs} ms per request`, '');
    add(
      b,
      'cold (people cache empty): requests, time',
      `${m.cold.requests} requests, ${m.cold.ms} ms, ${m.cold.holders} holders`,
    );
    add(b, 'warm: requests, time', `${m.warm.requests} requests, ${m.warm.ms} ms, ${m.warm.holders} holders`);
    add(
      b,
      'people cache: size, build cost',
      `${m.cache.size} people, ${m.cache.refreshRequests} requests, ${m.cache.refreshMs} ms`,
    );
  }
  if (r.approve) {
    const p = r.approve;
    const b = 'approve → result';
    add(b, `click → thread reply (${p.flows} flows): p50 / p95`, `${p.total.p50} / ${p.total.p95} ms`);
    add(b, 'Qlik round trips per flow', `${p.roundTrips.p50} × ${p.qlikLatencyMs} ms`);
    add(
      b,
      'bot overhead: p50 / p95',
      `${p.overhead.p50} / ${p.overhead.p95} ms`,
      `p95 ≤ ${APPROVE_TARGETS.overheadP95Ms} ms`,
      p.overhead.p95 <= APPROVE_TARGETS.overheadP95Ms,
    );
    add(
      b,
      'overhead p50 (p95): before / between / after Qlik',
      `${p.breakdown.beforeQlik.p50} (${p.breakdown.beforeQlik.p95}) / ${p.breakdown.betweenQlik.p50} (${p.breakdown.betweenQlik.p95}) / ${p.breakdown.afterQlik.p50} (${p.breakdown.afterQlik.p95}) ms`,
    );
    add(b, 'click ack p50 / p95', `${ms(p.clickAck.p50)} / ${ms(p.clickAck.p95)}`);
  }
  if (r.whoHas) {
    const h = r.whoHas;
    const b = 'who-has at scale';
    add(b, 'tenant', `${h.tenant.users} users, ${h.tenant.holders} holders, ${h.tenant.groups} groups`);
    add(
      b,
      'slash: ack / summary / CSV uploaded',
      `${h.slash.ackMs} / ${h.slash.summaryMs} / ${h.slash.csvMs} ms (${h.slash.csvRows} rows)`,
    );
    add(
      b,
      'Qlik requests of the listing (all requests)',
      `${h.slash.listingRequests} (${h.slash.qlikRequests})`,
      `${h.slash.minimum} = ⌈${h.tenant.holders}/100⌉ + group pages`,
      h.slash.listingRequests <= h.slash.minimum,
    );
    const c = h.comparison;
    add(
      b,
      `listing, Qlik ${c.qlikLatencyMs} ms: ours / @qlik/api`,
      `${c.ours.medianMs} / ${c.theirs.medianMs} ms (${c.ours.requests} / ${c.theirs.requests} requests)`,
    );
    add(b, 'ours ÷ theirs', String(c.ratio), `≤ ${WHO_HAS_TARGETS.ratio}`, c.ratio <= WHO_HAS_TARGETS.ratio);
    const z = h.comparisonNoLatency;
    add(
      b,
      'listing, no latency: ours / @qlik/api (ratio)',
      `${z.ours.medianMs} / ${z.theirs.medianMs} ms (${z.ratio})`,
    );
    add(b, 'listing child peak RSS: ours / @qlik/api', `${c.ours.peakMb} / ${c.theirs.peakMb} MB`);
    add(
      b,
      'bot peak RSS during the who-has',
      `${h.memory.botAfter.peakMb} MB`,
      `≤ ${MEMORY_TARGETS.whoHasPeakMb} MB`,
      h.memory.botAfter.peakMb <= MEMORY_TARGETS.whoHasPeakMb,
    );
  }
  for (const i of r.memory?.idle ?? [])
    add(
      'memory',
      `${i.role} idle, ${i.entry === 'src' ? 'src/main.ts (npm run dev)' : 'dist/main.js (npm start, image)'}`,
      mb(i.memory),
      `≤ ${MEMORY_TARGETS.idleMb} MB`,
      i.memory.rssMb <= MEMORY_TARGETS.idleMb,
    );
  const span = (label: string, before: ProcMemory, after: ProcMemory) =>
    add('memory', label, `${before.rssMb} → ${mb(after)}`);
  if (r.ack) {
    span('bot: ack bench, start → end', r.ack.memory.botIdle, r.ack.memory.botAfter);
    const rss = r.ack.memory.rss;
    add(
      'memory',
      `bot RSS through the ack bench (${r.ack.entry === 'dist' ? 'dist/main.js' : 'src/main.ts'}), every ${rss.everyMs} ms: highest sample`,
      `${rss.maxMb} MB (${rss.samples} samples)`,
      `≤ ${ACK_TARGETS.rssMb} MB`,
      rss.maxMb <= ACK_TARGETS.rssMb,
    );
    add(
      'memory',
      'bot RSS, highest sample per ack phase',
      rss.phases.map((p) => `${p.label} ${p.maxMb}`).join(', '),
    );
    if (r.ack.bare)
      add(
        'memory',
        'bare Bolt baseline: RSS idle → highest sample',
        `${r.ack.bare.memory.idle.rssMb} → ${r.ack.bare.memory.rssMaxMb} MB`,
      );
  }
  if (r.write)
    span('worker: write bench, start → end', r.write.memory.workerIdle, r.write.memory.workerAfter);
  if (r.spaceWrite)
    span(
      'worker: space-write bench, start → end',
      r.spaceWrite.memory.workerIdle,
      r.spaceWrite.memory.workerAfter,
    );
  if (r.approve) {
    span('bot: approve bench, start → end', r.approve.memory.botIdle, r.approve.memory.botAfter);
    span('worker: approve bench, start → end', r.approve.memory.workerIdle, r.approve.memory.workerAfter);
  }
  if (r.whoHas) span('bot: 50k who-has, start → end', r.whoHas.memory.botIdle, r.whoHas.memory.botAfter);
  for (const e of r.errors)
    add(e.benchmark, 'DID NOT COMPLETE', e.message.split('\n')[0]!.slice(0, 120), '', false);
  return out;
}

const mark = (met?: boolean) => (met === undefined ? '' : met ? 'met' : 'MISSED');

/** A plain-text table for the terminal. */
export function textTable(r: BenchResults): string {
  const all = rows(r);
  const header = ['benchmark', 'figure', 'value', 'target', ''];
  const cells = [header, ...all.map((x) => [x.benchmark, x.figure, x.value, x.target, mark(x.met)])];
  const widths = header.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** The same table as Markdown, with the machine it ran on. */
export function markdownTable(r: BenchResults): string {
  const m = r.machine;
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `Run ${r.startedAt} on ${m.cores} × ${m.cpuModel}, ${m.totalMemGb} GB RAM, Node ${m.node}, Linux ${m.kernel}; ` +
      `1-min load average ${m.loadAvgStart} at the start, ${m.loadAvgEnd ?? '?'} at the end.`,
    '',
    '| benchmark | figure | value | target | |',
    '| --- | --- | --- | --- | --- |',
    ...rows(r).map(
      (x) =>
        `| ${esc(x.benchmark)} | ${esc(x.figure)} | ${esc(x.value)} | ${esc(x.target)} | ${mark(x.met)} |`,
    ),
  ].join('\n');
}
