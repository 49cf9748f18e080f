// Issue 16's fault suite: Redis down for 20 s. The bot and the worker run in their own processes on a throwaway
// redis-server, four approved grants are being applied (Qlik slow, so they are in flight), and Redis is killed for
// 20 real seconds. A slash command during the outage is acknowledged and answered in words; after Redis is back on
// its AOF, the grants approved before the outage are applied, once each, and a new request goes all the way through
// the same bot and worker processes: no restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIds } from '../../src/queue/queues.ts';
import { REDIS_DOWN_MESSAGE } from '../../src/slack/words.ts';
import { redisServerMissing, startThrowawayRedis, type ThrowawayRedis } from '../helpers/throwaway-redis.ts';
import { allText, type Proc, startWorld, U, until, type World } from './fixtures/world.ts';

const missing = redisServerMissing();
const skipped = missing === undefined ? '' : ` (skipped: ${missing})`;
const OUTAGE_MS = 20_000;
const ROLE = 'Steward';

let redis: ThrowawayRedis;
let w: World;
let procs: Proc[];
beforeAll(async () => {
  if (missing !== undefined) return;
  redis = await startThrowawayRedis({ label: 'faults-down' });
  w = await startWorld({ label: 'faults-down', redisUrl: redis.url, people: 5 });
  procs = await Promise.all([w.startBot(), w.startWorker()]);
});
afterAll(async () => {
  await w?.close();
  await redis?.stop();
});

describe.skipIf(missing !== undefined)(`Redis down for 20 s${skipped}`, () => {
  it('a command meanwhile is answered in words; grants approved before are applied after; no restart', {
    timeout: 75_000,
  }, async () => {
    const before = w.people.slice(0, 4);
    const late = w.people[4]!;
    const ids: string[] = [];
    for (const p of before) ids.push(await w.fileGrant(p, ROLE));
    // Every Qlik answer takes 1.5 s: the applies are still under way when Redis goes.
    w.sim.setLatency(1_500);
    for (const id of ids) expect(await w.approve(id)).toBe(200);
    for (const id of ids) await w.waitForState(id, ['approved', 'applying'], 10_000);
    // Approved AND queued (an approval whose job was lost with Redis is the reconciler's, test/faults/redis-restart).
    await until('every apply job to be queued', async () =>
      (await Promise.all(ids.map((id) => w.queues.roleChanges.getJob(jobIds.apply(id))))).every(Boolean),
    );
    expect(
      (await Promise.all(ids.map((id) => w.store.get(id)))).filter((r) => r?.state === 'applied'),
    ).toHaveLength(0);

    await redis.kill();
    const downAt = Date.now();
    w.sim.setLatency(0);

    // During the outage: the command is acknowledged, and the answer says what happened in words.
    const answer = await w.command(U.dan, `grant @${late.handle} ${ROLE} because during the outage`);
    expect(Date.now() - downAt).toBeLessThan(OUTAGE_MS);
    expect(allText(answer)).toContain(REDIS_DOWN_MESSAGE);

    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));
    await redis.restart();

    // Nothing lost: everything approved before the outage is applied, once, by the same processes.
    const done = await Promise.all(
      ids.map((id) =>
        w.waitForState(id, ['applied', 'failed'], 40_000).catch(async (err: Error) => {
          const job = await w.queues.roleChanges.getJob(jobIds.apply(id));
          throw new Error(`${err.message}; its job is ${job ? await job.getState() : 'missing'}`);
        }),
      ),
    );
    expect(done.map((r) => r.state)).toEqual(ids.map(() => 'applied'));
    for (const [i, p] of before.entries()) {
      expect(w.sim.tenant.userRoleNames(p.qlikId)).toEqual([ROLE]);
      expect(w.successfulPatches(p.qlikId)).toBe(1);
      expect((await w.auditOf(ids[i]!)).filter((e) => e.action === 'applied')).toHaveLength(1);
    }
    await until('every thread reply', () => ids.every((id) => w.threadReplies(id).length === 1), 20_000);
    // Nothing was filed by the command that met the outage.
    expect((await w.allAudit()).filter((e) => e.action === 'requested')).toHaveLength(ids.length);

    // Recovered without a restart: the same bot and worker take a new request end to end.
    for (const p of procs) expect(p.child.exitCode).toBeNull();
    const id = await w.fileGrant(late, ROLE);
    expect(await w.approve(id)).toBe(200);
    await w.waitForState(id, ['applied'], 20_000);
    expect(w.sim.tenant.userRoleNames(late.qlikId)).toEqual([ROLE]);
    expect(w.successfulPatches(late.qlikId)).toBe(1);
    for (const p of procs) expect(p.child.exitCode).toBeNull();
  });
});
