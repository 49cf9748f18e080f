// Issue 16's fault suite: Redis restarted (AOF, appendfsync always) in the middle of approvals and applies. The bot
// and the worker run in their own processes on a throwaway redis-server; twelve requests are approved one after
// another while the worker applies them, and Redis is SIGKILLed (or shut down with SHUTDOWN NOSAVE) and started
// again on its files part-way. Every request must end applied, Qlik exactly as asked, nothing written or recorded
// twice. An approval whose click met the outage is pressed again, as the approver would (its buttons are still
// there); the reconciler runs once, as its periodic sweep would.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redisServerMissing, startThrowawayRedis, type ThrowawayRedis } from '../helpers/throwaway-redis.ts';
import { startWorld, until, type World } from './fixtures/world.ts';

const missing = redisServerMissing();
const skipped = missing === undefined ? '' : ` (skipped: ${missing})`;
const N = 12;
const ROLE = 'Steward';

let redis: ThrowawayRedis;
let w: World;
beforeEach(async () => {
  if (missing !== undefined) return;
  redis = await startThrowawayRedis({ label: 'faults-restart' });
  w = await startWorld({ label: 'faults-restart', redisUrl: redis.url, people: N });
  await Promise.all([w.startBot(), w.startWorker()]);
});
afterEach(async () => {
  await w?.close();
  await redis?.stop();
});

async function approvalsAcrossARestart(stopRedis: () => Promise<void>): Promise<void> {
  // Filed before the fault: the approval messages are there to press.
  const ids: string[] = [];
  for (const p of w.people) ids.push(await w.fileGrant(p, ROLE));
  for (const id of ids) await w.announcement(id);
  // Each Qlik answer takes a little while, so applies are in flight when Redis goes.
  w.sim.setLatency(60);

  const clicks: Promise<number>[] = [];
  let stopped: Promise<void> | undefined;
  for (const [i, id] of ids.entries()) {
    clicks.push(w.approve(id).catch(() => 0));
    await new Promise((r) => setTimeout(r, 120));
    // Part-way: some requests applied, some applying, some approved, some not yet clicked.
    if (i === Math.floor(N / 2)) stopped = stopRedis();
  }
  await stopped;
  await new Promise((r) => setTimeout(r, 1_000));
  await redis.restart();
  w.sim.setLatency(0);
  await Promise.all(clicks);

  // The approver presses Approve again where the click met the outage (the request is still pending).
  await until('the store to answer again', async () => (await w.store.get(ids[0]!)) !== undefined, 15_000);
  for (const id of ids) {
    const r = await w.store.get(id);
    if (r?.state === 'pending') {
      expect(w.hasLiveButtons(id)).toBe(true);
      expect(await w.approve(id)).toBe(200);
    }
  }
  await w.waitForState(ids.at(-1)!, ['approved', 'applying', 'applied', 'failed'], 15_000);
  // An approval recorded just before Redis went, whose job was not queued, is found by the sweep.
  await w.reconcileNow();

  const done = await Promise.all(
    ids.map((id) => w.waitForState(id, ['applied', 'failed', 'denied'], 40_000)),
  );
  expect(done.map((r) => r.state)).toEqual(ids.map(() => 'applied'));
  for (const [i, p] of w.people.entries()) {
    // Qlik exactly as asked: the one role, written once.
    expect(w.sim.tenant.userRoleNames(p.qlikId)).toEqual([ROLE]);
    expect(w.successfulPatches(p.qlikId)).toBe(1);
    const events = await w.auditOf(ids[i]!);
    expect(events.filter((e) => e.action === 'applied')).toHaveLength(1);
    expect(events.filter((e) => e.action === 'approved')).toHaveLength(1);
    expect(done[i]!.result?.changed).toBe(true);
  }
  // Every result reached the approval thread, once.
  await until('every thread reply', () => ids.every((id) => w.threadReplies(id).length >= 1), 30_000);
  for (const id of ids) {
    expect(w.threadReplies(id)).toHaveLength(1);
    await until(`${id}'s buttons to go`, () => !w.hasLiveButtons(id), 15_000);
  }
}

describe.skipIf(missing !== undefined)(
  `Redis restarted with AOF in the middle of approvals and applies${skipped}`,
  () => {
    it('SIGKILL, then a restart on the same files: every request applied once, Qlik exact', {
      timeout: 120_000,
    }, async () => {
      await approvalsAcrossARestart(() => redis.kill());
    });

    it('SHUTDOWN NOSAVE, then a restart: every request applied once, Qlik exact', {
      timeout: 120_000,
    }, async () => {
      await approvalsAcrossARestart(() => redis.shutdownNoSave());
    });
  },
);
