// Owns benchmark 1, ack latency: real signed slash commands into the bot role's HTTP receiver at a fixed arrival
// rate (open loop, from a separate load-generator process), latency from each command's SCHEDULED send time to the
// complete HTTP answer. Three phases: the base rate with Qlik at its normal latency, the same with Qlik answering in
// 5 s (the ack must not care), and a step-up of the rate to find the highest one whose p99 stays ≤ 100 ms.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { generateTenant } from '../src/sandbox/qlik-sim/index.ts';
import {
  benchPrefix,
  benchRedis,
  buildDist,
  COMMAND_CHANNEL,
  DEFAULT_QLIK_LATENCY_MS,
  type DistBuild,
  dropPrefix,
  type Entry,
  nowMs,
  type ProcMemory,
  procCpuMs,
  quiet,
  REQUESTERS,
  type RoleProcess,
  type RssPhase,
  RssSampler,
  round,
  SIGNING_SECRET,
  type Summary,
  selfCpuMs,
  startRole,
  startWorld,
  summarize,
  until,
  type World,
} from './harness.ts';
import type { LoadItem, LoadRequest, LoadResult } from './load-gen.ts';

export interface AckOptions {
  /** Commands in the base and slow-Qlik phases (issue: 2,000). */
  commands: number;
  /** Arrival rate of those phases, per second (issue: 100). */
  rate: number;
  /** Qlik latency of the slow phase, ms (issue: 5,000). */
  slowLatencyMs: number;
  /** Rates of the step-up, per second. */
  steps: number[];
  /** Length of each step, s. */
  stepSeconds: number;
  /** Keep stepping after a step misses the limit (default: stop at the first miss). */
  allSteps: boolean;
  tenantUsers: number;
  latencyMs: number;
  /** How long to wait for the bot's after-ack work between phases. */
  drainTimeoutMs: number;
  /** Silence (no Slack or Qlik traffic) that marks the after-ack work as drained, ms. */
  quietMs: number;
  /**
   * Unmeasured commands first, at the base rate: a bot runs for days, so what is measured is a warm process (JIT
   * compiled, V8 heap grown to its working size), not the first seconds after a start.
   */
  warmupCommands: number;
  /**
   * Also run the baseline (bench/bare-bolt.ts: a bare Bolt app that acks, makes one Qlik GET and answers once through
   * response_url per command) through the warm-up, the base phase and the step-up, for the ratios.
   */
  bare: boolean;
  /** How often the bot's RSS is read from /proc during the run, ms. */
  rssEveryMs: number;
  /**
   * Which build of the bot runs: the compiled one (`dist`, what `npm start` and the image run, as its memory is
   * what the RSS target is about) or the TypeScript sources (`src`, `npm run dev`).
   */
  entry: Entry;
}

export const ACK_DEFAULTS: AckOptions = {
  commands: 2000,
  rate: 100,
  slowLatencyMs: 5000,
  steps: [100, 200, 300, 400, 600, 800],
  stepSeconds: 5,
  allSteps: false,
  tenantUsers: 5000,
  latencyMs: DEFAULT_QLIK_LATENCY_MS,
  drainTimeoutMs: 180_000,
  quietMs: 750,
  warmupCommands: 500,
  bare: true,
  rssEveryMs: 250,
  entry: 'dist',
};

/**
 * Targets of issue #6 (p99 at the base rate, the step limit), and of issue #17: the highest rate within the step
 * limit, the bot's RSS at every sample, and the ratios to the bare Bolt baseline at the base rate.
 */
export const ACK_TARGETS = {
  p99Ms: 20,
  stepP99LimitMs: 100,
  minRatePerSec: 600,
  rssMb: 250,
  p99Ratio: 1.5,
  cpuRatio: 2,
};

export interface PhaseFigures {
  rate: number;
  commands: number;
  qlikLatencyMs: number;
  latency: Summary;
  /** Per command kind. */
  byKind: Record<string, Summary>;
  /** Answers other than HTTP 200 (0 = transport failure or timeout). */
  errors: number;
  /** The generator's own lateness in sending (shows it kept the schedule). */
  sendLag: Summary;
  achievedRate: number;
  /**
   * CPU while the commands were sent, in % of one core: the bot, this process (simulator + fake Slack, which serve
   * the bot's after-ack calls) and the load generator; and the bot's CPU per command including its after-ack work.
   */
  cpu: { botPct: number; benchPct: number; loadGenPct: number; botMsPerCommand: number };
  /** Qlik requests the bot made per command (after the ack), and how long its after-ack work ran on after the last send, ms. */
  qlikPerCommand: number;
  drainMs: number;
}

export interface AckResult {
  base: PhaseFigures;
  slowQlik: PhaseFigures;
  /** slowQlik p99 − base p99, ms (the issue: must not move). */
  p99DeltaMs: number;
  steps: PhaseFigures[];
  /** Highest step rate with p99 ≤ 100 ms (0 when none). */
  maxRateWithinLimit: number;
  /** The build of the bot that ran. */
  entry: Entry;
  memory: {
    botIdle: ProcMemory;
    botAfter: ProcMemory;
    /** The bot's RSS sampled through the whole run: the highest sample, and the highest of each phase. */
    rss: { everyMs: number; maxMb: number; samples: number; phases: RssPhase[] };
  };
  /** The bare Bolt baseline under the same load (absent with `bare: false`). */
  bare?: BareFigures;
}

export interface BareFigures {
  base: PhaseFigures;
  steps: PhaseFigures[];
  maxRateWithinLimit: number;
  /** Ours ÷ the baseline's, at the base rate: p99 latency and CPU per command. */
  ratios: { p99: number; cpuPerCommand: number };
  memory: { idle: ProcMemory; after: ProcMemory; rssMaxMb: number };
}

const GRANT_ROLES = ['BenchRole1', 'BenchRole2', 'BenchRole3'];
const WHO_HAS_ROLES = ['Steward', 'DataAdmin', 'AnalyticsAdmin'];

/** Builds signed-at-send slash commands in the mix: 40 % grant (each to a different user), 20 % who-has, 20 % whois, 20 % help. */
class CommandMix {
  readonly #world: World;
  #grantCursor = 0;
  #n = 0;
  constructor(world: World) {
    this.#world = world;
  }

  next(): { kind: string; text: string } {
    const users = this.#world.slackUsers;
    const slot = this.#n++ % 10;
    if (slot < 4) {
      const g = this.#grantCursor++;
      const u = users[g % users.length]!;
      const role = GRANT_ROLES[Math.floor(g / users.length) % GRANT_ROLES.length]!;
      return { kind: 'grant', text: `grant <@${u.id}|${u.name}> ${role}` };
    }
    if (slot < 6)
      return { kind: 'who-has', text: `who-has ${WHO_HAS_ROLES[this.#n % WHO_HAS_ROLES.length]}` };
    if (slot < 8) {
      const u = users[(this.#n * 7919) % users.length]!;
      return { kind: 'whois', text: `whois <@${u.id}|${u.name}>` };
    }
    return { kind: 'help', text: 'help' };
  }
}

function slashBody(world: World, userId: string, text: string): string {
  const fake = world.fake;
  const user = fake.getUser(userId)!;
  return new URLSearchParams({
    token: 'fakeVerificationToken0001',
    team_id: fake.teamId,
    team_domain: fake.teamDomain,
    channel_id: COMMAND_CHANNEL,
    channel_name: fake.channelName(COMMAND_CHANNEL),
    user_id: user.id,
    user_name: user.name,
    command: '/qlik',
    text,
    api_app_id: fake.appId,
    is_enterprise_install: 'false',
    response_url: fake.newResponseUrl({ channel: COMMAND_CHANNEL, user: user.id }),
    trigger_id: `${Date.now()}.${Math.floor(Math.random() * 1e9)}.bench`,
  }).toString();
}

function schedule(world: World, mix: CommandMix, rate: number, count: number): LoadItem[] {
  const gap = 1000 / rate;
  return Array.from({ length: count }, (_, i) => {
    const c = mix.next();
    return { at: i * gap, kind: c.kind, body: slashBody(world, REQUESTERS[i % REQUESTERS.length]!, c.text) };
  });
}

/** A forked load generator: one process for the whole benchmark, one schedule at a time. */
async function startLoadGen(): Promise<{ run(r: LoadRequest): Promise<LoadResult>; close(): void }> {
  const child = fork(join(import.meta.dirname, 'load-gen.ts'), [], { execArgv: [], stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) =>
      reject(new Error(`the load generator exited (${code}) before it was ready`)),
    );
  });
  return {
    run: (r) =>
      new Promise((resolve, reject) => {
        child.once('message', (m: { ok: boolean; result?: LoadResult; error?: string }) =>
          m.ok ? resolve(m.result!) : reject(new Error(`load generator: ${m.error}`)),
        );
        child.send(r);
      }),
    close: () => child.kill(),
  };
}

function figures(
  res: LoadResult,
  rate: number,
  qlikLatencyMs: number,
  extra: Pick<PhaseFigures, 'cpu' | 'qlikPerCommand' | 'drainMs'>,
): PhaseFigures {
  const byKindValues: Record<string, number[]> = {};
  res.kinds.forEach((k, i) => {
    const list = byKindValues[k] ?? [];
    list.push(res.latencyMs[i]!);
    byKindValues[k] = list;
  });
  return {
    rate,
    commands: res.latencyMs.length,
    qlikLatencyMs,
    latency: summarize(res.latencyMs),
    byKind: Object.fromEntries(Object.entries(byKindValues).map(([k, v]) => [k, summarize(v)])),
    errors: res.status.filter((s) => s !== 200).length,
    sendLag: summarize(res.sendLagMs),
    achievedRate: round((res.latencyMs.length / res.elapsedMs) * 1000, 1),
    ...extra,
  };
}

/** Waits until every command that answers through response_url has answered, then for a quiet moment. */
async function drain(
  world: World,
  bot: RoleProcess,
  expectedReplies: number,
  timeoutMs: number,
  quietMs: number,
): Promise<void> {
  await until(
    () => world.fake.messages.filter((m) => m.via === 'response_url').length >= expectedReplies,
    `${expectedReplies} response_url answers from the bot (log: ${bot.logFile})`,
    timeoutMs,
    100,
  );
  await quiet(world.fake, world.sim, quietMs, timeoutMs);
}

export async function runAck(
  opts: Partial<AckOptions> = {},
  log: (s: string) => void = () => {},
): Promise<AckResult> {
  const o = { ...ACK_DEFAULTS, ...opts };
  const tenant = generateTenant({
    users: o.tenantUsers,
    groups: 50,
    customRoles: [...GRANT_ROLES, 'Report Publisher'],
  });
  if (o.entry === 'dist') log('ack: building src/ as `npm run build` does into a temporary directory');
  const dist: DistBuild | undefined = o.entry === 'dist' ? buildDist() : undefined;
  const world = await startWorld({ tenant, latencyMs: o.latencyMs });
  const prefix = benchPrefix('ack');
  const redis = benchRedis();
  let bot: RoleProcess | undefined;
  let bare: RoleProcess | undefined;
  let sampler: RssSampler | undefined;
  const gen = await startLoadGen();
  try {
    // The bot's Qlik budget is opened wide: 100+ commands/s is far beyond any team's typing, and a Tier-1 budget of
    // 1000 reads/min would only make the after-ack backlog grow for minutes; the ack path itself never reads Qlik.
    bot = await startRole({
      role: 'bot',
      world,
      prefix,
      env: { QLIK_READS_PER_MINUTE: '1000000', QLIK_FILTER_PER_MINUTE: '1000000' },
      ...(dist ? { dist } : {}),
    });
    sampler = new RssSampler(bot.pid, o.rssEveryMs);
    sampler.phase('idle');
    const botIdle = await bot.memoryWithHeap();
    const mix = new CommandMix(world);
    /**
     * One phase against `proc`: the schedule sent, then its after-ack work drained (`answers`: how many of the
     * commands answer through response_url).
     */
    const phase = async (
      proc: RoleProcess,
      rate: number,
      count: number,
      qlikLatencyMs: number,
      answers: (items: LoadItem[]) => number,
    ): Promise<PhaseFigures> => {
      world.fake.clear();
      world.sim.resetLog();
      world.sim.setLatency(qlikLatencyMs);
      const items = schedule(world, mix, rate, count);
      const pid = proc.pid;
      const [bot0, self0, wall0] = [procCpuMs(pid), selfCpuMs(), nowMs()];
      const res = await gen.run({
        eventsUrl: `${proc.url}/slack/events`,
        signingSecret: SIGNING_SECRET,
        items,
      });
      const [bot1, self1, wall1] = [procCpuMs(pid), selfCpuMs(), nowMs()];
      // Back to normal latency so the backlog of a slow phase drains at the usual pace.
      world.sim.setLatency(o.latencyMs);
      await drain(world, proc, answers(items), o.drainTimeoutMs, o.quietMs);
      const drainMs = round(Math.max(0, nowMs() - wall1 - o.quietMs), 0);
      const bot2 = procCpuMs(pid);
      const pct = (cpuMs: number, wallMs: number) => round((cpuMs / wallMs) * 100, 1);
      return figures(res, rate, qlikLatencyMs, {
        cpu: {
          botPct: pct(bot1 - bot0, wall1 - wall0),
          benchPct: pct(self1 - self0, wall1 - wall0),
          loadGenPct: pct(res.cpuMs, res.elapsedMs),
          botMsPerCommand: round((bot2 - bot0) / count, 2),
        },
        qlikPerCommand: round(world.sim.requests.length / count, 2),
        drainMs,
      });
    };
    // The bot answers help in the ack itself; everything else through response_url.
    const ours = (items: LoadItem[]) => items.filter((i) => i.kind !== 'help').length;
    const stepUp = async (
      proc: RoleProcess,
      answers: (items: LoadItem[]) => number,
      who: string,
      mark?: (label: string) => void,
    ): Promise<{ steps: PhaseFigures[]; maxRateWithinLimit: number }> => {
      const steps: PhaseFigures[] = [];
      let maxRateWithinLimit = 0;
      for (const rate of o.steps) {
        mark?.(`step ${rate}/s`);
        const f = await phase(proc, rate, Math.round(rate * o.stepSeconds), o.latencyMs, answers);
        steps.push(f);
        const ok = f.latency.p99 <= ACK_TARGETS.stepP99LimitMs && f.errors === 0;
        log(`ack: ${who}step ${rate}/s → p99 ${f.latency.p99} ms${ok ? '' : ' (over the limit)'}`);
        if (ok) maxRateWithinLimit = Math.max(maxRateWithinLimit, rate);
        else if (!o.allSteps) break;
      }
      return { steps, maxRateWithinLimit };
    };
    const mark = (label: string) => sampler?.phase(label);

    log(`ack: warm-up, ${o.warmupCommands} commands at ${o.rate}/s (not measured)`);
    mark('warm-up');
    if (o.warmupCommands > 0) await phase(bot, o.rate, o.warmupCommands, o.latencyMs, ours);

    log(`ack: ${o.commands} commands at ${o.rate}/s, Qlik ${o.latencyMs} ms`);
    mark('base');
    const base = await phase(bot, o.rate, o.commands, o.latencyMs, ours);
    log(`ack:   p50 ${base.latency.p50} p95 ${base.latency.p95} p99 ${base.latency.p99} ms`);
    log(`ack: ${o.commands} commands at ${o.rate}/s, Qlik ${o.slowLatencyMs} ms`);
    mark('slow Qlik');
    const slowQlik = await phase(bot, o.rate, o.commands, o.slowLatencyMs, ours);
    log(`ack:   p50 ${slowQlik.latency.p50} p95 ${slowQlik.latency.p95} p99 ${slowQlik.latency.p99} ms`);

    const { steps, maxRateWithinLimit } = await stepUp(bot, ours, '', mark);
    const botAfter = await bot.memoryWithHeap();
    const rss = sampler.stop();
    log(`ack: bot RSS through the run: highest sample ${rss.maxMb} MB (${rss.samples} samples)`);
    await bot.stop();

    let bareFigures: BareFigures | undefined;
    if (o.bare) {
      // The baseline, under the same load: the same mix, schedule, simulator and fake, in the same run.
      bare = await startRole({
        role: 'bot',
        world,
        prefix,
        script: { path: join(import.meta.dirname, 'bare-bolt.ts'), label: 'bare-bolt' },
      });
      const bareSampler = new RssSampler(bare.pid, o.rssEveryMs);
      const idle = bare.memory();
      const all = (items: LoadItem[]) => items.length;
      log(`ack: bare Bolt baseline: warm-up, ${o.warmupCommands} commands at ${o.rate}/s (not measured)`);
      if (o.warmupCommands > 0) await phase(bare, o.rate, o.warmupCommands, o.latencyMs, all);
      log(`ack: bare Bolt baseline: ${o.commands} commands at ${o.rate}/s, Qlik ${o.latencyMs} ms`);
      const bareBase = await phase(bare, o.rate, o.commands, o.latencyMs, all);
      log(`ack:   p50 ${bareBase.latency.p50} p95 ${bareBase.latency.p95} p99 ${bareBase.latency.p99} ms`);
      const bareSteps = await stepUp(bare, all, 'bare Bolt ');
      const after = bare.memory();
      bareFigures = {
        base: bareBase,
        ...bareSteps,
        ratios: {
          p99: round(base.latency.p99 / bareBase.latency.p99),
          cpuPerCommand: round(base.cpu.botMsPerCommand / bareBase.cpu.botMsPerCommand),
        },
        memory: { idle, after, rssMaxMb: bareSampler.stop().maxMb },
      };
    }
    return {
      base,
      slowQlik,
      p99DeltaMs: round(slowQlik.latency.p99 - base.latency.p99),
      steps,
      maxRateWithinLimit,
      entry: o.entry,
      memory: { botIdle, botAfter, rss },
      ...(bareFigures ? { bare: bareFigures } : {}),
    };
  } finally {
    sampler?.stop();
    gen.close();
    await bot?.stop();
    await bare?.stop();
    await dropPrefix(redis, prefix);
    await redis.quit();
    await world.close();
    dist?.remove();
  }
}
