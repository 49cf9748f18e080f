// Owns the space-write benchmark: approved space-role grants, spread over many spaces, are created directly in the
// store (as an approval click leaves them) and enqueued; the worker role (a child process) applies them through the
// space target (read the principal's assignment, POST or PUT it, read it back) while the simulator enforces Tier 1
// and Tier 2 at a scaled ceiling and the client's limiter is set to the same. Figures: assignment writes/min ÷ the
// Tier 2 ceiling, 429s, failed, lost (requests not applied, plus (space, user, role) triples that differ from the
// expected final state).
import { openQueues } from '../src/queue/queues.ts';
import { generateTenant } from '../src/sandbox/qlik-sim/index.ts';
import { RequestStore } from '../src/store/request-store.ts';
import {
  benchPrefix,
  benchRedis,
  DEFAULT_QLIK_LATENCY_MS,
  dropPrefix,
  nowMs,
  type ProcMemory,
  type RoleProcess,
  round,
  startRole,
  startWorld,
} from './harness.ts';
import { fileAndEnqueue, waitSettled } from './write-throughput.ts';

export interface SpaceWriteOptions {
  /** Approved space grants (issue: 500). */
  grants: number;
  /** Spaces they are spread over (issue: 50). */
  spaces: number;
  writesPerMinute: number;
  readsPerMinute: number;
  windowMs: number;
  latencyMs: number;
}

export const SPACE_WRITE_DEFAULTS: SpaceWriteOptions = {
  grants: 500,
  spaces: 50,
  writesPerMinute: 600,
  readsPerMinute: 6000,
  windowMs: 60_000,
  latencyMs: DEFAULT_QLIK_LATENCY_MS,
};

export const SPACE_WRITE_TARGETS = { ratio: 0.95, changeRatio: 1.5, failed: 0, lost: 0 };

export interface SpaceWriteResult {
  grants: number;
  spaces: number;
  ceilingPerMin: number;
  /** Assignment writes the simulator accepted: POST 201, PUT 200, DELETE 204. */
  writes: number;
  posts: number;
  puts: number;
  elapsedMs: number;
  writesPerMin: number;
  ratio: number;
  /** Grants applied per minute over the same time, and that ÷ the ceiling (a member's roles go in one write). */
  changesPerMin: number;
  changeRatio: number;
  rateLimited: { tier1: number; tier2: number };
  applied: number;
  failed: number;
  lost: number;
  compared: number;
  mismatches: number;
  memory: { workerIdle: ProcMemory; workerAfter: ProcMemory };
}

/** Roles every space type offers, so each grant is valid whatever type its space is. */
const ROLES = ['consumer', 'dataconsumer', 'facilitator'] as const;
const TYPES = ['shared', 'managed', 'data'] as const;

interface Grant {
  space: { id: string; name: string };
  user: { id: string; name: string; email?: string };
  role: string;
}

export async function runSpaceWrite(
  opts: Partial<SpaceWriteOptions> = {},
  log: (s: string) => void = () => {},
): Promise<SpaceWriteResult> {
  const o = { ...SPACE_WRITE_DEFAULTS, ...opts };
  const perSpace = Math.ceil(o.grants / o.spaces);
  // Each space's grants go to perSpace/2 users, two roles each: half POST a new assignment, half PUT onto it.
  const usersPerSpace = Math.max(1, Math.ceil(perSpace / 2));
  const tenant = generateTenant({ users: usersPerSpace * 4 + 2, groups: 0 });
  const users = [...tenant.users()].filter((u) => u.id !== tenant.serviceUserId && u.status === 'active');
  const owner = users[0]!;
  const botUser = tenant.serviceUserId;
  if (botUser === undefined) throw new Error('the generated tenant has no service user');
  const spaces = Array.from({ length: o.spaces }, (_, i) => {
    const type = TYPES[i % TYPES.length]!;
    const space = tenant.addSpace({
      name: `Bench Space ${String(i + 1).padStart(3, '0')}`,
      type,
      ownerId: owner.id,
    });
    // A data space is managed only by its owner and its facilitators, not by admins (README, "Spaces"): the bot's
    // user is made one, as its setup requires.
    if (type === 'data')
      tenant.assignSpace(space.id, {
        type: 'user',
        assigneeId: botUser,
        roles: ['facilitator'],
      });
    return space;
  });
  const grants: Grant[] = [];
  for (let i = 0; grants.length < o.grants; i++) {
    const space = spaces[i % spaces.length]!;
    const slot = Math.floor(i / spaces.length);
    const user = users[1 + (Math.floor(slot / 2) % (users.length - 1))]!;
    grants.push({
      space: { id: space.id, name: space.name },
      user: { id: user.id, name: user.name, ...(user.email ? { email: user.email } : {}) },
      role: ROLES[slot % 2]!,
    });
  }
  const expected = new Map<string, Set<string>>();
  for (const g of grants) {
    const key = `${g.space.id}\u0000${g.user.id}`;
    const set = expected.get(key) ?? new Set<string>();
    set.add(g.role);
    expected.set(key, set);
  }
  const perWindow = (perMinute: number) => Math.max(1, Math.round((perMinute * o.windowMs) / 60_000));
  const world = await startWorld({
    tenant,
    latencyMs: o.latencyMs,
    rateLimits: {
      tier1PerMinute: perWindow(o.readsPerMinute),
      tier2PerMinute: perWindow(o.writesPerMinute),
      windowMs: o.windowMs,
    },
    mirrorUsers: 0,
  });
  const prefix = benchPrefix('space-write');
  const redis = benchRedis();
  const store = new RequestStore(redis, prefix);
  const queues = openQueues(redis, prefix);
  let worker: RoleProcess | undefined;
  try {
    worker = await startRole({
      role: 'worker',
      world,
      prefix,
      env: {
        QLIK_WRITES_PER_MINUTE: String(o.writesPerMinute),
        QLIK_READS_PER_MINUTE: String(o.readsPerMinute),
      },
    });
    const workerIdle = await worker.memoryWithHeap();
    world.sim.resetLog();
    log(
      `space-write: ${o.grants} approved space grants over ${o.spaces} spaces, ceiling ${o.writesPerMinute} writes/min`,
    );
    const t0 = nowMs();
    const ids = await fileAndEnqueue(
      store,
      queues,
      grants.map((g) => ({
        action: 'grant',
        target: { kind: 'user', ...g.user },
        entitlement: { id: g.role, name: g.role },
        targetRef: { kind: 'qlik-spaces', instance: 'default', resource: { kind: 'space', ...g.space } },
      })),
    );
    const settled = await waitSettled(store, ids, (o.grants / o.writesPerMinute) * 60_000 * 2 + 60_000);
    const elapsedMs = nowMs() - t0;
    const assignmentWrites = world.sim.requests.filter((r) => r.path.includes('/assignments'));
    const posts = assignmentWrites.filter((r) => r.method === 'POST' && r.status === 201).length;
    const puts = assignmentWrites.filter((r) => r.method === 'PUT' && r.status === 200).length;
    const deletes = assignmentWrites.filter((r) => r.method === 'DELETE' && r.status === 204).length;
    const writes = posts + puts + deletes;
    const log429 = world.sim.requests.filter((r) => r.status === 429);
    const applied = settled.filter((r) => r.state === 'applied').length;
    const failed = settled.filter((r) => r.state === 'failed').length;
    let compared = 0;
    let mismatches = 0;
    for (const [key, want] of expected) {
      const [spaceId, userId] = key.split('\u0000') as [string, string];
      const have = new Set(tenant.spaceRolesOf(spaceId, userId));
      for (const r of new Set([...want, ...have])) {
        compared++;
        if (want.has(r) !== have.has(r)) mismatches++;
      }
    }
    const writesPerMin = (writes / elapsedMs) * 60_000;
    log(
      `space-write:   ${applied} grants in ${writes} writes (${posts} POST, ${puts} PUT) in ${round(elapsedMs / 1000, 1)} s = ${round(writesPerMin, 1)}/min, ${log429.length} × 429`,
    );
    return {
      grants: o.grants,
      spaces: o.spaces,
      ceilingPerMin: o.writesPerMinute,
      writes,
      posts,
      puts,
      elapsedMs: round(elapsedMs, 0),
      writesPerMin: round(writesPerMin, 1),
      ratio: round(writesPerMin / o.writesPerMinute, 3),
      changesPerMin: round((applied / elapsedMs) * 60_000, 1),
      changeRatio: round(((applied / elapsedMs) * 60_000) / o.writesPerMinute, 3),
      rateLimited: {
        tier1: log429.filter((r) => r.tier === '1').length,
        tier2: log429.filter((r) => r.tier === '2').length,
      },
      applied,
      failed,
      lost: ids.length - applied - failed + mismatches,
      compared,
      mismatches,
      memory: { workerIdle, workerAfter: await worker.memoryWithHeap() },
    };
  } finally {
    await worker?.stop();
    await queues.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
    await world.close();
  }
}
