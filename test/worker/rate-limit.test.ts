// Throughput under Qlik's Tier-2 write limit: the simulator answers 429s (the client's own limiter is set above the
// simulator's limit on purpose, so they really happen) and every grant still ends applied, none lost, none failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueApply, jobIds } from '../../src/queue/queues.ts';
import { createHarness, type Harness, userTarget } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({
    label: 'worker-429',
    // 100 writes per 1 s window, and the window is used up right before the burst: the simulator answers 429 with
    // Retry-After to the first writes for certain, and again whenever the jobs outpace it.
    sim: {
      rateLimits: {
        tier1PerMinute: 1_000_000,
        tier2PerMinute: 100,
        specialPerMinute: 1_000_000,
        windowMs: 1_000,
      },
    },
    // No retries inside the client: a 429 reaches the job, which must be postponed without burning an attempt.
    qlik: { maxRetries: 0, writesPerMinute: 600_000 },
  });
  await h.start({ concurrency: 16 });
});
afterAll(async () => {
  await h?.close();
});

describe('under a Tier-2 write limit', () => {
  it('200 approved grants across 200 users → all applied, none lost, none failed', {
    timeout: 60_000,
  }, async () => {
    const users = Array.from({ length: 200 }, (_, i) =>
      h.sim.tenant.addUser({ name: `Rate User ${i}`, email: `rate${i}@corp.example` }),
    );
    const reqs = await Promise.all(
      users.map((u) =>
        h.approved({ target: userTarget(h.sim, u.id), role: 'SharedSpaceCreator' }, { enqueue: false }),
      ),
    );
    // Another client of the same credential just used up this window's writes.
    const busy = h.sim.tenant.addUser({ name: 'Busy Elsewhere', email: 'busy@corp.example' });
    for (let i = 0; i < 100; i++) await h.qlik.replaceUserRoles(busy.id, []).catch(() => undefined);
    // All enqueued at once, as a burst of approvals would.
    await Promise.all(reqs.map((r) => enqueueApply(h.queues, r.id)));
    const settled = await Promise.all(reqs.map((r) => h.waitForState(r.id, ['applied', 'failed'], 50_000)));
    expect(settled.filter((r) => r.state === 'failed').map((r) => r.error)).toEqual([]);
    for (const u of users) expect(h.sim.tenant.userRoleNames(u.id)).toEqual(['SharedSpaceCreator']);
    expect(h.sim.counts().rateLimited).toBeGreaterThan(0);

    // Each user was written exactly once successfully, and no job used up a retry attempt on a 429: BullMQ counts
    // the one finished attempt only (attemptsMade 1), however often the job was postponed.
    const ok = h.sim.requests.filter(
      (r) => r.method === 'PATCH' && r.status === 204 && !r.path.endsWith(busy.id),
    );
    expect(ok).toHaveLength(200);
    // The request turns applied a moment before its job is marked completed.
    const states = async () =>
      (
        await Promise.all(
          reqs.map(async (r) => (await h.queues.roleChanges.getJob(jobIds.apply(r.id)))?.getState()),
        )
      ).filter((s) => s !== 'completed');
    await expect.poll(states, { timeout: 10_000 }).toEqual([]);
    const jobs = await Promise.all(reqs.map((r) => h.queues.roleChanges.getJob(jobIds.apply(r.id))));
    expect(jobs.map((j) => j?.attemptsMade ?? -1).filter((n) => n !== 1)).toEqual([]);
    const ids = new Set(reqs.map((r) => r.id));
    const applied: string[] = [];
    for await (const e of h.audit.since(0))
      if (e.action === 'applied' && ids.has(e.requestId ?? '')) applied.push(e.requestId!);
    expect(applied).toHaveLength(200);
    expect(new Set(applied).size).toBe(200);
  });
});
