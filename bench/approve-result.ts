// Owns benchmark 3, approve → result: a grant is filed with a real signed slash command, then an approver's signed
// click on the approval message starts the clock; it stops when the result reply lands in the approval message's
// thread in the fake Slack. The bot and the worker run as separate child processes (the scaled-out layout). The
// simulator's latency times the Qlik round trips made in between (counted in its request log) is subtracted: what
// remains is the bot's own overhead (receiver, Redis, queue hand-offs, Slack calls). One flow at a time, so no flow
// waits behind another.
import { generateTenant } from '../src/sandbox/qlik-sim/index.ts';
import { listButtons, type PostedMessage } from '../src/sandbox/slack-fake/index.ts';
import {
  APPROVAL_CHANNEL,
  APPROVERS,
  benchPrefix,
  benchRedis,
  COMMAND_CHANNEL,
  DEFAULT_QLIK_LATENCY_MS,
  dropPrefix,
  nowMs,
  type ProcMemory,
  REQUESTERS,
  type RoleProcess,
  type Summary,
  startRole,
  startWorld,
  summarize,
} from './harness.ts';

export interface ApproveOptions {
  /** Flows measured (issue: ~50). */
  flows: number;
  /** Unmeasured flows first, so JIT warm-up is not what is measured. */
  warmup: number;
  latencyMs: number;
  /**
   * Least time between two clicks, ms. The default keeps one approval per 0.7 s, inside the default Tier-2 budget of
   * 100 writes/min (one token per 0.6 s), so the client's limiter never holds a write back: a burst of approvals
   * beyond the budget waits for tokens by design, which is Qlik's pace, not the bot's overhead.
   */
  paceMs: number;
}

export const APPROVE_DEFAULTS: ApproveOptions = {
  flows: 50,
  warmup: 3,
  latencyMs: DEFAULT_QLIK_LATENCY_MS,
  paceMs: 700,
};
export const APPROVE_TARGETS = { overheadP95Ms: 50 };

export interface ApproveResult {
  flows: number;
  qlikLatencyMs: number;
  /** Click → result reply in the thread, ms. */
  total: Summary;
  /** Qlik round trips between click and result, per flow. */
  roundTrips: Summary;
  /** total − latency × round trips: the bot's own time, ms. */
  overhead: Summary;
  /** HTTP answer to the click, ms. */
  clickAck: Summary;
  /**
   * Where the overhead goes (ms, from the simulator's arrival times, 1 ms resolution): click → first Qlik request
   * (receiver, approval in Redis, enqueue, worker pick-up, lock); between Qlik calls beyond their latency (worker
   * work between read, PATCH and read-back); last Qlik answer → reply in the thread (applied transition, notify job
   * hand-off, Slack calls).
   */
  breakdown: { beforeQlik: Summary; betweenQlik: Summary; afterQlik: Summary };
  memory: { botIdle: ProcMemory; workerIdle: ProcMemory; botAfter: ProcMemory; workerAfter: ProcMemory };
}

const ROLE = 'ApproveBench';

export async function runApproveResult(
  opts: Partial<ApproveOptions> = {},
  log: (s: string) => void = () => {},
): Promise<ApproveResult> {
  const o = { ...APPROVE_DEFAULTS, ...opts };
  const tenant = generateTenant({ users: 1000, groups: 20, customRoles: [ROLE, 'Report Publisher'] });
  const world = await startWorld({ tenant, latencyMs: o.latencyMs, mirrorUsers: o.flows + o.warmup + 10 });
  const prefix = benchPrefix('approve');
  const redis = benchRedis();
  let bot: RoleProcess | undefined;
  let worker: RoleProcess | undefined;
  try {
    [bot, worker] = await Promise.all([
      startRole({ role: 'bot', world, prefix }),
      startRole({ role: 'worker', world, prefix }),
    ]);
    const botIdle = await bot.memoryWithHeap();
    const workerIdle = await worker.memoryWithHeap();
    const driver = world.driver(bot.url);
    const totals: number[] = [];
    const trips: number[] = [];
    const overheads: number[] = [];
    const clickAcks: number[] = [];
    const before: number[] = [];
    const between: number[] = [];
    const after: number[] = [];
    log(`approve: ${o.flows} flows (grant → approve → result), Qlik ${o.latencyMs} ms`);
    let lastClick = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < o.warmup + o.flows; i++) {
      const target = world.slackUsers[i]!;
      const requester = REQUESTERS[i % REQUESTERS.length]!;
      const approver = APPROVERS[i % APPROVERS.length]!;
      const filed = await driver.slash(requester, `grant <@${target.id}|${target.name}> ${ROLE}`, {
        channelId: COMMAND_CHANNEL,
        raw: true,
      });
      if (filed.status !== 200) throw new Error(`the grant command answered ${filed.status}`);
      const approval = await world.fake.waitFor(
        (m) =>
          m.channel === APPROVAL_CHANNEL &&
          !m.thread_ts &&
          (m.text ?? '').includes(target.email!) &&
          listButtons(m).some((b) => b.actionId === 'approve'),
        15_000,
      );
      // The clock stops in the fake's own message callback, the moment the thread reply is recorded.
      let resultAt = 0;
      let resolveResult: (m: PostedMessage) => void = () => {};
      const result = new Promise<PostedMessage>((resolve) => {
        resolveResult = resolve;
      });
      const unsubscribe = world.fake.subscribe((m, kind) => {
        if (
          kind === 'posted' &&
          m.channel === APPROVAL_CHANNEL &&
          m.thread_ts === approval.ts &&
          resultAt === 0
        ) {
          resultAt = nowMs();
          resolveResult(m);
        }
      });
      const wait = lastClick + o.paceMs - nowMs();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const firstRequest = world.sim.requests.length;
      const clickAt = nowMs();
      lastClick = clickAt;
      const clickWall = Date.now();
      const click = await driver.click(approver, approval, 'approve');
      const clickAck = nowMs() - clickAt;
      if (click.status !== 200) throw new Error(`the approve click answered ${click.status}`);
      const timeout = setTimeout(() => resolveResult(undefined as unknown as PostedMessage), 30_000);
      const reply = await result;
      clearTimeout(timeout);
      unsubscribe();
      if (!reply)
        throw new Error(`no result in the thread of ${approval.ts} within 30 s (bot log: ${bot.logFile})`);
      const resultWall = Date.now();
      const qlik = world.sim.requests.slice(firstRequest);
      const roundTrips = qlik.length;
      if (i < o.warmup) continue;
      if (qlik.length > 0) {
        before.push(qlik[0]!.at - clickWall);
        let gaps = 0;
        for (let k = 1; k < qlik.length; k++) gaps += qlik[k]!.at - qlik[k - 1]!.at - o.latencyMs;
        between.push(gaps);
        after.push(resultWall - (qlik.at(-1)!.at + o.latencyMs));
      }
      const total = resultAt - clickAt;
      totals.push(total);
      trips.push(roundTrips);
      overheads.push(total - roundTrips * o.latencyMs);
      clickAcks.push(clickAck);
    }
    const res: ApproveResult = {
      flows: o.flows,
      qlikLatencyMs: o.latencyMs,
      total: summarize(totals),
      roundTrips: summarize(trips),
      overhead: summarize(overheads),
      clickAck: summarize(clickAcks),
      breakdown: {
        beforeQlik: summarize(before),
        betweenQlik: summarize(between),
        afterQlik: summarize(after),
      },
      memory: {
        botIdle,
        workerIdle,
        botAfter: await bot.memoryWithHeap(),
        workerAfter: await worker.memoryWithHeap(),
      },
    };
    log(
      `approve:   click → result p50 ${res.total.p50} ms, ${res.roundTrips.p50} Qlik round trips; overhead p50 ${res.overhead.p50} p95 ${res.overhead.p95} ms`,
    );
    return res;
  } finally {
    await Promise.all([bot?.stop(), worker?.stop()]);
    await dropPrefix(redis, prefix);
    await redis.quit();
    await world.close();
  }
}
