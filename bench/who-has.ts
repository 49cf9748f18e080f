// Owns benchmark 4, who-has at scale: a 50,000-user tenant with 5,000 direct holders of a role and 200 groups.
// (a) The real thing: `/qlik who-has <role>` as a signed slash command into the bot role (a child process): ack,
//     summary and the uploaded CSV of every holder; the Qlik requests it made, by kind, against the minimum
//     (⌈holders/100⌉ + group pages); the bot process's peak RSS.
// (b) The same listing (every direct holder, then every group holding the role) with our QlikClient and with the
//     official @qlik/api client, each in its own fresh child process, alternating, on the same simulator: wall time
//     of ours ÷ theirs, requests, peak RSS. Also once with no simulated latency, which isolates the clients' own work.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { generateTenant, type LoggedRequest } from '../src/sandbox/qlik-sim/index.ts';
import type { PostedMessage } from '../src/sandbox/slack-fake/index.ts';
import {
  benchPrefix,
  benchRedis,
  COMMAND_CHANNEL,
  DEFAULT_QLIK_LATENCY_MS,
  dropPrefix,
  nowMs,
  type ProcMemory,
  percentile,
  quiet,
  REQUESTERS,
  type RoleProcess,
  round,
  startRole,
  startWorld,
  type World,
} from './harness.ts';
import type { ListingRequest, ListingResult } from './listing-child.ts';

export interface WhoHasOptions {
  users: number;
  holders: number;
  groups: number;
  /** Groups holding the role. */
  groupHolders: number;
  /** Alternating ours/theirs pairs of the listing comparison (median taken). */
  pairs: number;
  latencyMs: number;
}

export const WHO_HAS_DEFAULTS: WhoHasOptions = {
  users: 50_000,
  holders: 5_000,
  groups: 200,
  groupHolders: 20,
  pairs: 3,
  latencyMs: DEFAULT_QLIK_LATENCY_MS,
};

export const WHO_HAS_TARGETS = { ratio: 0.8, botPeakMb: 250 };

const ROLE = 'ManagedSpaceCreator';

export interface ListingSide {
  runsMs: number[];
  medianMs: number;
  /** Qlik requests per listing (the same every run). */
  requests: number;
  peakMb: number;
  users: number;
  groups: number;
}

export interface Comparison {
  qlikLatencyMs: number;
  ours: ListingSide;
  theirs: ListingSide;
  /** ours ÷ theirs, median wall time. */
  ratio: number;
}

export interface WhoHasResult {
  tenant: { users: number; holders: number; groups: number; groupHolders: number };
  slash: {
    ackMs: number;
    summaryMs: number;
    csvMs: number;
    csvRows: number;
    qlikRequests: number;
    byKind: Record<string, number>;
    /** Pages the full listing needs at 100 per page: ⌈holders/100⌉ + ⌈groups holding/100⌉. */
    minimum: number;
    /** Requests of the listing itself (every direct-holder page, the summary's first included, + group pages). */
    listingRequests: number;
  };
  comparison: Comparison;
  /** The same comparison with no simulated latency: the clients' own cost (and the simulator's rendering). */
  comparisonNoLatency: Comparison;
  memory: { botIdle: ProcMemory; botAfter: ProcMemory };
}

function kindOf(r: LoggedRequest): string {
  const filter = r.query.filter ?? '';
  if (r.path === '/api/v1/users' && filter.includes('assignedGroupsAssignedRoles.name'))
    return r.query.totalResults === 'true' ? 'users via groups (count page)' : 'users via groups';
  if (r.path === '/api/v1/users' && filter.includes('assignedRoles.name'))
    return `direct holders (${(r.query.sort ?? '+name').startsWith('-') ? 'descending' : 'ascending'})`;
  if (r.path === '/api/v1/groups') return r.query.totalResults === 'true' ? 'groups (count page)' : 'groups';
  if (r.path.startsWith('/api/v1/roles')) return 'roles';
  return `${r.method} ${r.path}`;
}

async function listing(req: ListingRequest): Promise<ListingResult> {
  const child = fork(join(import.meta.dirname, 'listing-child.ts'), [], { execArgv: [], stdio: 'inherit' });
  return new Promise<ListingResult>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean; ok?: boolean; result?: ListingResult; error?: string }) => {
      if (m.ready) child.send(req);
      else if (m.ok) resolve(m.result!);
      else reject(new Error(`listing child (${req.mode}): ${m.error}`));
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`listing child (${req.mode}) exited with ${code}`));
    });
  });
}

async function compare(world: World, pairs: number, latencyMs: number): Promise<Comparison> {
  world.sim.setLatency(latencyMs);
  const sides: Record<'ours' | 'theirs', ListingResult[]> = { ours: [], theirs: [] };
  const requests: Record<'ours' | 'theirs', number> = { ours: 0, theirs: 0 };
  for (let i = 0; i < pairs; i++) {
    // Alternate who goes first, so drift over the run does not favour one side.
    const order: ('ours' | 'theirs')[] = i % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
    for (const mode of order) {
      world.sim.resetLog();
      const r = await listing({ mode, tenantUrl: world.sim.url, apiKey: world.sim.apiKey, role: ROLE });
      sides[mode].push(r);
      requests[mode] = world.sim.requests.length;
    }
  }
  const side = (mode: 'ours' | 'theirs'): ListingSide => {
    const runs = sides[mode];
    return {
      runsMs: runs.map((r) => r.ms),
      medianMs: percentile(
        runs.map((r) => r.ms),
        50,
      ),
      requests: requests[mode],
      peakMb: Math.max(...runs.map((r) => r.peakMb)),
      users: runs[0]!.users,
      groups: runs[0]!.groups,
    };
  };
  const ours = side('ours');
  const theirs = side('theirs');
  return { qlikLatencyMs: latencyMs, ours, theirs, ratio: round(ours.medianMs / theirs.medianMs, 3) };
}

export async function runWhoHas(
  opts: Partial<WhoHasOptions> = {},
  log: (s: string) => void = () => {},
): Promise<WhoHasResult> {
  const o = { ...WHO_HAS_DEFAULTS, ...opts };
  const share = (f: number) => Math.round(o.users * f);
  const tenant = generateTenant({
    users: o.users,
    groups: o.groups,
    // A realistic spread of other roles too, so the filter has to pick the holders out of a busy tenant.
    roleMix: {
      [ROLE]: o.holders,
      SharedSpaceCreator: share(0.2),
      PrivateAnalyticsContentCreator: share(0.5),
      AutomationCreator: share(0.08),
      AnalyticsAdmin: share(0.004),
    },
    groupRoles: { [ROLE]: o.groupHolders, SharedSpaceCreator: Math.round(o.groups * 0.1) },
  });
  const world = await startWorld({ tenant, latencyMs: o.latencyMs, mirrorUsers: 0 });
  const prefix = benchPrefix('who-has');
  const redis = benchRedis();
  let bot: RoleProcess | undefined;
  try {
    bot = await startRole({ role: 'bot', world, prefix });
    const botIdle = await bot.memoryWithHeap();
    const driver = world.driver(bot.url);
    // Warm the role cache (a who-has of a small role), as a running bot would have it.
    await driver.slash(REQUESTERS[1]!, 'who-has AnalyticsAdmin', { channelId: COMMAND_CHANNEL, raw: true });
    await world.fake.waitFor((m) => m.via === 'response_url', 60_000);
    await quiet(world.fake, world.sim, 300, 60_000);
    world.fake.clear();
    world.sim.resetLog();

    log(`who-has: /qlik who-has ${ROLE} on ${o.users} users (${o.holders} holders), Qlik ${o.latencyMs} ms`);
    let summaryAt = 0;
    let csvAt = 0;
    const unsubscribe = world.fake.subscribe((m: PostedMessage, kind) => {
      if (kind !== 'posted') return;
      if (m.via === 'response_url' && summaryAt === 0) summaryAt = nowMs();
      if (m.via === 'files.completeUploadExternal' && csvAt === 0) csvAt = nowMs();
    });
    const t0 = nowMs();
    const ack = await driver.slash(REQUESTERS[0]!, `who-has ${ROLE}`, {
      channelId: COMMAND_CHANNEL,
      raw: true,
    });
    const ackMs = nowMs() - t0;
    await world.fake.waitFor((m) => m.via === 'files.completeUploadExternal', 120_000);
    unsubscribe();
    if (ack.status !== 200) throw new Error(`who-has answered ${ack.status}`);
    const file = world.fake.files.at(-1)!;
    const csvRows = file.content.toString('utf8').trimEnd().split('\n').length - 1;
    const byKind: Record<string, number> = {};
    for (const r of world.sim.requests) byKind[kindOf(r)] = (byKind[kindOf(r)] ?? 0) + 1;
    const minimum = Math.ceil(o.holders / 100) + Math.max(1, Math.ceil(o.groupHolders / 100));
    // The listing: every page of direct holders (the summary's first page included: the CSV carries on from it) and
    // the group pages; the via-groups count of the summary is extra.
    const listingRequests = Object.entries(byKind)
      .filter(([k]) => k.startsWith('direct holders') || k.startsWith('groups'))
      .reduce((n, [, v]) => n + v, 0);
    const botAfter = await bot.memoryWithHeap();
    const slash = {
      ackMs: round(ackMs),
      summaryMs: round(summaryAt - t0, 0),
      csvMs: round(csvAt - t0, 0),
      csvRows,
      qlikRequests: world.sim.requests.length,
      byKind,
      minimum,
      listingRequests,
    };
    log(
      `who-has:   ack ${slash.ackMs} ms, summary ${slash.summaryMs} ms, CSV (${csvRows} rows) ${slash.csvMs} ms, ${slash.qlikRequests} Qlik requests (minimum ${minimum}), bot peak ${botAfter.peakMb} MB`,
    );
    await bot.stop();
    bot = undefined;

    log(`who-has: listing with our client vs @qlik/api, ${o.pairs} pairs, Qlik ${o.latencyMs} ms`);
    const comparison = await compare(world, o.pairs, o.latencyMs);
    log(
      `who-has:   ours ${comparison.ours.medianMs} ms, theirs ${comparison.theirs.medianMs} ms, ratio ${comparison.ratio}`,
    );
    const comparisonNoLatency = await compare(world, o.pairs, 0);
    log(
      `who-has:   no latency: ours ${comparisonNoLatency.ours.medianMs} ms, theirs ${comparisonNoLatency.theirs.medianMs} ms, ratio ${comparisonNoLatency.ratio}`,
    );
    return {
      tenant: { users: o.users, holders: o.holders, groups: o.groups, groupHolders: o.groupHolders },
      slash,
      comparison,
      comparisonNoLatency,
      memory: { botIdle, botAfter },
    };
  } finally {
    await bot?.stop();
    await dropPrefix(redis, prefix);
    await redis.quit();
    await world.close();
  }
}
