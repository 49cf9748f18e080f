// Owns the mode-who-has benchmark: `/mode who-has <group>` on a 5,000-member workspace with a 500-member group, as
// the app asks it (the group target's holders summary, with names and emails from the people-by-email cache), once
// with the cache empty (cold: the map is built from every membership and user) and again with it warm. Figures:
// requests to Mode and time for each, and the cache's size and what building it cost. The Mode simulator answers
// after a fixed latency per request, as the Qlik benchmarks' simulator does.
import { ModeClient, ModePeople } from '../src/mode/index.ts';
import { generateModeWorkspace, startModeSimulator } from '../src/sandbox/mode-sim/index.ts';
import { ModeGroupsTarget } from '../src/targets/mode-groups/target.ts';
import { benchPrefix, benchRedis, DEFAULT_QLIK_LATENCY_MS, dropPrefix, nowMs, round } from './harness.ts';

export interface ModeWhoHasOptions {
  members: number;
  groupSize: number;
  groups: number;
  latencyMs: number;
}

export const MODE_WHO_HAS_DEFAULTS: ModeWhoHasOptions = {
  members: 5000,
  groupSize: 500,
  groups: 40,
  latencyMs: DEFAULT_QLIK_LATENCY_MS,
};

export interface ModeWhoHasResult {
  members: number;
  groupSize: number;
  latencyMs: number;
  cold: { requests: number; ms: number; holders: number };
  warm: { requests: number; ms: number; holders: number };
  cache: { size: number; refreshRequests: number; refreshMs: number };
}

export async function runModeWhoHas(
  opts: Partial<ModeWhoHasOptions> = {},
  log: (s: string) => void = () => {},
): Promise<ModeWhoHasResult> {
  const o = { ...MODE_WHO_HAS_DEFAULTS, ...opts };
  const ws = generateModeWorkspace({ members: o.members, groups: o.groups, groupSize: o.groupSize });
  const sim = await startModeSimulator({ workspace: ws, latencyMs: o.latencyMs });
  const redis = benchRedis();
  const prefix = benchPrefix('mode-who-has');
  const client = new ModeClient({
    baseUrl: sim.url,
    workspace: ws.username,
    token: sim.token,
    secret: sim.secret,
  });
  try {
    const people = new ModePeople({ redis, prefix, client });
    const target = new ModeGroupsTarget({ instance: 'default', mode: client, people });
    const group = ws.groupByName('Benchmark Group');
    if (!group) throw new Error('the generated workspace has no Benchmark Group');
    const entitlement = { id: group.token, name: 'Benchmark Group' };
    const measure = async () => {
      const before = sim.requests.length;
      const t0 = nowMs();
      const s = await target.holdersSummary(entitlement);
      return { requests: sim.requests.length - before, ms: round(nowMs() - t0, 0), holders: s.direct.total };
    };
    log(
      `mode-who-has: ${o.members} members, a ${o.groupSize}-member group, ${o.latencyMs} ms per Mode request`,
    );
    const cold = await measure();
    log(`mode-who-has:   cold ${cold.requests} requests in ${cold.ms} ms`);
    const warm = await measure();
    log(`mode-who-has:   warm ${warm.requests} requests in ${warm.ms} ms`);
    const stats = people.stats();
    return {
      members: o.members,
      groupSize: o.groupSize,
      latencyMs: o.latencyMs,
      cold,
      warm,
      cache: {
        size: stats.size,
        refreshRequests: stats.lastRefresh?.requests ?? 0,
        refreshMs: round(stats.lastRefresh?.ms ?? 0, 0),
      },
    };
  } finally {
    await client.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
    await sim.close();
  }
}
