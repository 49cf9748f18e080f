// The worker under a failing Qlik (issue 16's fault suite, the Qlik part): 30 % of reads and writes answer 503 and a
// burst of writes answers 429 with Retry-After, at random but repeatably (seeded). Every approved change still
// lands, exactly once: one successful write per change, and every user's roles end as asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueApply } from '../../src/queue/queues.ts';
import { createHarness, type Harness, userTarget } from './harness.ts';

let h: Harness;
let slow: Harness;
beforeAll(async () => {
  h = await createHarness({ label: 'worker-faults' });
  await h.start({ concurrency: 8 });
  // A client that gives up on Qlik after 250 ms, for a Qlik that hangs.
  slow = await createHarness({ label: 'worker-hang', qlik: { requestTimeoutMs: 250, maxRetries: 0 } });
  await slow.start({ concurrency: 8 });
});
afterAll(async () => {
  await h?.close();
  await slow?.close();
});

describe('Qlik failing at random', () => {
  it('40 approved grants under 30 % 503s and a 429 burst: all applied, each written once, roles exact', {
    timeout: 90_000,
  }, async () => {
    const users = Array.from({ length: 40 }, (_, i) =>
      h.sim.tenant.addUser({ name: `Fault User ${i}`, email: `fault${i}@corp.example` }),
    );
    const reqs = await Promise.all(
      users.map((u) =>
        h.approved({ target: userTarget(h.sim, u.id), role: 'DataSpaceCreator' }, { enqueue: false }),
      ),
    );
    h.sim.resetLog();
    h.sim.injectFault({
      method: 'PATCH',
      path: /^\/api\/v1\/users\//,
      status: 429,
      retryAfterSec: 1,
      times: 10,
    });
    h.sim.injectFault({
      method: 'PATCH',
      path: /^\/api\/v1\/users\//,
      status: 503,
      times: Infinity,
      probability: 0.3,
      seed: 7,
    });
    h.sim.injectFault({
      method: 'GET',
      path: /^\/api\/v1\/users/,
      status: 503,
      times: Infinity,
      probability: 0.3,
      seed: 8,
    });
    try {
      await Promise.all(reqs.map((r) => enqueueApply(h.queues, r.id)));
      const done = await Promise.all(reqs.map((r) => h.waitForState(r.id, ['applied', 'failed'], 80_000)));
      expect(done.map((r) => r.state)).toEqual(reqs.map(() => 'applied'));
    } finally {
      h.sim.clearFaults();
    }
    // The faults really happened, and yet each change was written once.
    const patches = h.sim.requests.filter((r) => r.method === 'PATCH' && r.path.startsWith('/api/v1/users/'));
    expect(patches.filter((r) => r.status === 503).length).toBeGreaterThan(3);
    expect(patches.filter((r) => r.status === 429).length).toBe(10);
    const written = patches.filter((r) => r.status === 204).map((r) => r.path);
    expect(written).toHaveLength(40);
    expect(new Set(written).size).toBe(40);
    for (const u of users) expect(h.sim.tenant.userRoleNames(u.id)).toEqual(['DataSpaceCreator']);
  });

  it('Qlik hanging past the client timeout, then back: every grant applied once, reported as this request’s change', {
    timeout: 90_000,
  }, async () => {
    const users = Array.from({ length: 10 }, (_, i) =>
      slow.sim.tenant.addUser({ name: `Hang User ${i}`, email: `hang${i}@corp.example` }),
    );
    const reqs = await Promise.all(
      users.map((u) =>
        slow.approved({ target: userTarget(slow.sim, u.id), role: 'Steward' }, { enqueue: false }),
      ),
    );
    slow.sim.resetLog();
    // Every answer takes 600 ms: each call times out, yet the writes Qlik got still happen after the client gave up.
    slow.sim.setLatency(600);
    await Promise.all(reqs.map((r) => enqueueApply(slow.queues, r.id)));
    await expect.poll(() => slow.sim.requests.length, { timeout: 20_000 }).toBeGreaterThan(20);
    slow.sim.setLatency(0);
    const done = await Promise.all(reqs.map((r) => slow.waitForState(r.id, ['applied', 'failed'], 80_000)));
    expect(done.map((r) => r.state)).toEqual(reqs.map(() => 'applied'));
    // A write that landed after its caller gave up is still this request's: the snapshot before it says so.
    expect(done.every((r) => r.result?.changed === true)).toBe(true);
    for (const u of users) expect(slow.sim.tenant.userRoleNames(u.id)).toEqual(['Steward']);
    const written = slow.sim.requests
      .filter((r) => r.method === 'PATCH' && r.status === 204)
      .map((r) => r.path);
    expect(new Set(written).size).toBe(10);
  });
});
