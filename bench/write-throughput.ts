// Owns benchmark 2, write throughput at Qlik's ceiling: approved role changes are created directly in the store
// (create + transition to approved, as an approval click does) and enqueued; the worker role (a child process)
// applies them while the simulator enforces Tier 1 and Tier 2 at a scaled ceiling and the bot's client limiter is
// configured to the same ceiling. Figures: achieved writes/min ÷ ceiling, 429s, failed, lost — the simulator's final
// state compared with the expected one role by role — and a hot principal (many changes to one user).
import type { Principal, RoleChangeRequest } from '../src/domain/request.ts';
import { enqueueApproved, openQueues } from '../src/queue/queues.ts';
import { generateTenant, type SimTenant } from '../src/sandbox/qlik-sim/index.ts';
import { type NewRequest, RequestStore } from '../src/store/request-store.ts';
import {
  benchPrefix,
  benchRedis,
  buildDist,
  DEFAULT_QLIK_LATENCY_MS,
  dropPrefix,
  nowMs,
  type ProcMemory,
  REQUESTERS,
  type RoleProcess,
  RssSampler,
  round,
  startRole,
  startWorld,
  until,
} from './harness.ts';

export interface WriteOptions {
  /** Approved role changes (issue: 1,000). */
  changes: number;
  users: number;
  groups: number;
  /** Tier 2 ceiling, writes/min (simulator and client alike). */
  writesPerMinute: number;
  /** Tier 1 ceiling, reads/min (simulator and client alike). */
  readsPerMinute: number;
  /** The simulator's rate-limit window, ms (Qlik: a minute); the per-window allowance scales with it. */
  windowMs: number;
  /** Changes to the one hot user. */
  hotChanges: number;
  latencyMs: number;
}

/** The size: about 100 s of writes at 600/min, plus the hot principal. */
export const WRITE_DEFAULTS: WriteOptions = {
  changes: 1000,
  users: 500,
  groups: 50,
  writesPerMinute: 600,
  readsPerMinute: 6000,
  windowMs: 60_000,
  hotChanges: 100,
  latencyMs: DEFAULT_QLIK_LATENCY_MS,
};

/**
 * Half the size at the same ceiling (`--quick`). Shorter than one rate-limit window, so the client's initial burst
 * weighs more and the ratio reads high; use the default size for the figure of record.
 */
export const WRITE_QUICK: WriteOptions = {
  ...WRITE_DEFAULTS,
  changes: 500,
  users: 250,
  groups: 25,
  hotChanges: 50,
};

export const WRITE_TARGETS = {
  ratio: 0.95,
  /** Changes applied per minute ÷ the Tier 2 ceiling: several changes to a principal go in one write. */
  changeRatio: 1.5,
  failed: 0,
  lost: 0,
  /** The hot principal: its changes in at most this many writes… */
  hotWrites: 10,
  /** …taking at most this many times as long as one change on its own. */
  hotTimeRatio: 10,
};

export interface WriteResult {
  changes: number;
  principals: { users: number; groups: number };
  ceilingPerMin: number;
  /** Successful PATCHes (HTTP 204) the simulator received. */
  writes: number;
  elapsedMs: number;
  writesPerMin: number;
  /** writesPerMin ÷ ceiling. */
  ratio: number;
  /** Requests applied per minute over the same time, and that ÷ ceiling. */
  changesPerMin: number;
  changeRatio: number;
  /** 429 answers the simulator sent, by tier. */
  rateLimited: { tier1: number; tier2: number };
  applied: number;
  failed: number;
  /** Requests not applied at the end, plus principals whose final roles differ from the expected ones. */
  lost: number;
  rolesCompared: number;
  roleMismatches: number;
  hot: {
    changes: number;
    allPresent: boolean;
    elapsedMs: number;
    msPerChange: number;
    floorMsPerChange: number;
    /** PATCHes to the hot user. */
    writes: number;
    /** One change to another user on its own, enqueue to settled, in the same run… */
    singleMs: number;
    /** …and the hot principal's time ÷ that. */
    timeRatio: number;
  };
  memory: {
    workerIdle: ProcMemory;
    workerAfter: ProcMemory;
    /** The worker's RSS read every 250 ms through the run: the highest sample, overall and per phase. */
    rss: ReturnType<RssSampler['stop']>;
  };
}

/** The worker's RSS at every sample through the benchmark (issue 17). */
export const WORKER_RSS_TARGET_MB = 250;

interface Change extends BenchChange {
  action: 'grant' | 'revoke';
  target: Principal;
}

const WRITE_ROLES = Array.from({ length: 6 }, (_, i) => `WriteBench${i + 1}`);
const hotRoleName = (i: number) => `HotRole${String(i + 1).padStart(3, '0')}`;

/** Every principal gets its changes on distinct roles, so the expected final state does not depend on order. */
function planChanges(
  tenant: SimTenant,
  o: WriteOptions,
): { changes: Change[]; expected: Map<string, Set<string>> } {
  const users = [...tenant.users()].filter((u) => u.id !== tenant.serviceUserId).slice(0, o.users);
  const groups = [...tenant.groups()].filter((g) => !g.system).slice(0, o.groups);
  const principals: { p: Principal; roles: string[] }[] = [
    ...users.map((u) => ({
      p: { kind: 'user' as const, id: u.id, name: u.name, ...(u.email ? { email: u.email } : {}) },
      roles: tenant.userRoleNames(u.id),
    })),
    ...groups.map((g) => ({
      p: { kind: 'group' as const, id: g.id, name: g.name },
      roles: tenant.groupRoleNames(g.id),
    })),
  ];
  const expected = new Map(principals.map((x) => [x.p.id, new Set(x.roles)]));
  const used = new Map<string, Set<string>>();
  const changes: Change[] = [];
  for (let i = 0; i < o.changes; i++) {
    const { p, roles } = principals[i % principals.length]!;
    const taken = used.get(p.id) ?? new Set<string>();
    used.set(p.id, taken);
    // About one change in five revokes a role the principal holds directly (when it holds one still untouched).
    const revokable = roles.find((r) => !taken.has(r) && r !== 'TenantAdmin');
    const revoke = i % 5 === 0 && revokable !== undefined;
    const name = revoke ? revokable : WRITE_ROLES.find((r) => !taken.has(r) && !roles.includes(r))!;
    taken.add(name);
    const role = tenant.roleByName(name)!;
    changes.push({
      action: revoke ? 'revoke' : 'grant',
      target: p,
      entitlement: { id: role.id, name: role.name },
    });
    const exp = expected.get(p.id)!;
    if (revoke) exp.delete(name);
    else exp.add(name);
  }
  return { changes, expected };
}

/** An approved change as the benchmarks file it: what, for whom, and the target (tenant roles when absent). */
export type BenchChange = Pick<NewRequest, 'action' | 'target' | 'entitlement' | 'targetRef'>;

async function fileApproved(store: RequestStore, c: BenchChange, i: number): Promise<string> {
  const now = Date.now();
  const created = await store.create({
    ...c,
    requester: { front: 'slack', id: REQUESTERS[i % REQUESTERS.length]! },
    reason: 'benchmark',
    expiresAt: now + 86_400_000,
    approvalsRequired: 1,
  });
  if (!created.ok) throw new Error(`benchmark change ${i} is a duplicate of ${created.duplicateOf.id}`);
  const t = await store.transition(created.request.id, 'pending', 'approved', {}, now);
  if (!t.ok) throw new Error(`could not approve ${created.request.id}: ${t.reason}`);
  return created.request.id;
}

/** Files and enqueues the changes, a few dozen at a time (the store's scripts are the slow part). */
export async function fileAndEnqueue(
  store: RequestStore,
  queues: ReturnType<typeof openQueues>,
  changes: BenchChange[],
): Promise<string[]> {
  const ids: string[] = new Array(changes.length);
  const batch = 50;
  for (let start = 0; start < changes.length; start += batch) {
    await Promise.all(
      changes.slice(start, start + batch).map(async (c, j) => {
        const id = await fileApproved(store, c, start + j);
        ids[start + j] = id;
        // Queued as an approval queues it: listed as waiting for its principal, so the worker can take it together.
        await enqueueApproved(queues, { ...c, id }, Date.now());
      }),
    );
  }
  return ids;
}

export async function waitSettled(
  store: RequestStore,
  ids: string[],
  timeoutMs: number,
  pollMs = 250,
): Promise<RoleChangeRequest[]> {
  let last: RoleChangeRequest[] = [];
  await until(
    async () => {
      last = await store.getMany(ids);
      return last.length === ids.length && last.every((r) => r.state === 'applied' || r.state === 'failed');
    },
    `${ids.length} requests to be applied`,
    timeoutMs,
    pollMs,
  );
  return last;
}

export async function runWriteThroughput(
  opts: Partial<WriteOptions> = {},
  log: (s: string) => void = () => {},
): Promise<WriteResult> {
  const o = { ...WRITE_DEFAULTS, ...opts };
  const tenant = generateTenant({
    users: o.users + 1,
    groups: o.groups,
    customRoles: [...WRITE_ROLES, ...Array.from({ length: o.hotChanges }, (_, i) => hotRoleName(i))],
  });
  const hotUser = tenant.addUser({ name: 'Hot Principal', email: 'hot.principal@corp.example' });
  const { changes, expected } = planChanges(tenant, o);
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
  const prefix = benchPrefix('write');
  const redis = benchRedis();
  const store = new RequestStore(redis, prefix);
  const queues = openQueues(redis, prefix);
  let worker: RoleProcess | undefined;
  let sampler: RssSampler | undefined;
  // The worker runs compiled with production's Node options, as `npm start` and the image run it.
  log('write: building src/ as `npm run build` does into a temporary directory');
  const dist = buildDist();
  try {
    worker = await startRole({
      role: 'worker',
      world,
      prefix,
      dist,
      env: {
        QLIK_WRITES_PER_MINUTE: String(o.writesPerMinute),
        QLIK_READS_PER_MINUTE: String(o.readsPerMinute),
      },
    });
    sampler = new RssSampler(worker.pid);
    sampler.phase('idle');
    const workerIdle = await worker.memoryWithHeap();
    sampler.phase('write');
    world.sim.resetLog();

    log(
      `write: ${o.changes} approved changes over ${o.users} users + ${o.groups} groups, ceiling ${o.writesPerMinute} writes/min`,
    );
    const t0 = nowMs();
    const ids = await fileAndEnqueue(store, queues, changes);
    const budgetMs = (o.changes / o.writesPerMinute) * 60_000 * 2 + 60_000;
    const settled = await waitSettled(store, ids, budgetMs);
    const elapsedMs = nowMs() - t0;
    const log429 = world.sim.requests.filter((r) => r.status === 429);
    const writes = world.sim.requests.filter((r) => r.method === 'PATCH' && r.status === 204).length;
    const writesPerMin = (writes / elapsedMs) * 60_000;
    const applied = settled.filter((r) => r.state === 'applied').length;
    const failed = settled.filter((r) => r.state === 'failed').length;
    let rolesCompared = 0;
    let roleMismatches = 0;
    for (const [id, want] of expected) {
      const have = new Set(tenant.getUser(id) ? tenant.userRoleNames(id) : tenant.groupRoleNames(id));
      for (const r of new Set([...want, ...have])) {
        rolesCompared++;
        if (want.has(r) !== have.has(r)) roleMismatches++;
      }
    }
    const lost = ids.length - applied - failed + roleMismatches;
    log(
      `write:   ${applied} changes in ${writes} writes in ${round(elapsedMs / 1000, 1)} s = ${round(writesPerMin, 1)} writes/min, ${log429.length} × 429`,
    );

    sampler.phase('hot principal');
    // One change on its own, the unit the hot principal is measured against (same run, same worker, warm).
    const single = tenant.addUser({ name: 'Single Change', email: 'single.change@corp.example' });
    const singleRole = tenant.roleByName(hotRoleName(0))!;
    const s0 = nowMs();
    const singleIds = await fileAndEnqueue(store, queues, [
      {
        action: 'grant',
        target: { kind: 'user', id: single.id, name: single.name, email: single.email! },
        entitlement: { id: singleRole.id, name: singleRole.name },
      },
    ]);
    await waitSettled(store, singleIds, 60_000, 5);
    const singleMs = nowMs() - s0;

    // Hot principal: every change to the same user, all enqueued at once; the worker takes those waiting together.
    const hotIds = Array.from({ length: o.hotChanges }, (_, i) => {
      const role = tenant.roleByName(hotRoleName(i))!;
      return {
        action: 'grant' as const,
        target: { kind: 'user' as const, id: hotUser.id, name: hotUser.name, email: hotUser.email! },
        entitlement: { id: role.id, name: role.name },
      };
    });
    log(`write: hot principal, ${o.hotChanges} changes to one user`);
    const h0 = nowMs();
    const hot = await fileAndEnqueue(store, queues, hotIds);
    await waitSettled(store, hot, o.hotChanges * 5_000 + 60_000, 20);
    const hotElapsed = nowMs() - h0;
    const hotWrites = world.sim.requests.filter(
      (r) => r.method === 'PATCH' && r.path === `/api/v1/users/${hotUser.id}`,
    ).length;
    const hotRoles = new Set(tenant.userRoleNames(hotUser.id));
    const allPresent = hotIds.every((c) => hotRoles.has(c.entitlement.name));
    log(
      `write:   ${hotWrites} writes, ${round(hotElapsed, 0)} ms (one change alone: ${round(singleMs, 0)} ms), all present: ${allPresent}`,
    );

    return {
      changes: o.changes,
      principals: { users: o.users, groups: o.groups },
      ceilingPerMin: o.writesPerMinute,
      writes,
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
      lost,
      rolesCompared,
      roleMismatches,
      hot: {
        changes: o.hotChanges,
        allPresent,
        elapsedMs: round(hotElapsed, 0),
        msPerChange: round(hotElapsed / o.hotChanges, 1),
        // Each change is three Qlik round trips (read, PATCH, read back) one after another.
        floorMsPerChange: 3 * o.latencyMs,
        writes: hotWrites,
        singleMs: round(singleMs, 0),
        timeRatio: round(hotElapsed / singleMs, 2),
      },
      memory: { workerIdle, workerAfter: await worker.memoryWithHeap(), rss: sampler.stop() },
    };
  } finally {
    sampler?.stop();
    await worker?.stop();
    dist.remove();
    await queues.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
    await world.close();
  }
}
