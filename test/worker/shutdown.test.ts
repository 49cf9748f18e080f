// Graceful shutdown (running jobs finish within the deadline; past it the close is forced) and job metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../src/observability/metrics.ts';
import { createHarness, type Harness, userTarget } from './harness.ts';

let h: Harness;
// BullMQ runs one stalled-job check per interval across all workers of a queue (a shared key), so every worker in
// this file uses the same short intervals.
const quick = { concurrency: 2, lockDurationMs: 1_000, stalledIntervalMs: 300 };

beforeAll(async () => {
  h = await createHarness({ label: 'worker-shutdown' });
});
afterAll(async () => {
  await h?.close();
});

describe('worker lifecycle', () => {
  it('close() lets a running job finish before it resolves', async () => {
    const worker = await h.start(quick);
    const user = h.sim.tenant.addUser({ name: 'Gil Graceful', email: 'gil@corp.example' });
    h.sim.setLatency(300);
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' });
    await h.waitForState(req.id, 'applying');
    await worker.close(20_000);
    expect((await h.store.get(req.id))?.state).toBe('applied');
    h.sim.setLatency(0);
  });

  it('close(deadline) stops waiting at the deadline; the abandoned job is finished by the next worker', async () => {
    const worker = await h.start(quick);
    const user = h.sim.tenant.addUser({ name: 'Dee Deadline', email: 'dee@corp.example' });
    h.sim.setLatency(1_500);
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' });
    await h.waitForState(req.id, 'applying');
    await worker.close(50);
    expect((await h.store.get(req.id))?.state).toBe('applying');
    h.sim.setLatency(0);
    await h.start(quick);
    await h.waitForState(req.id, 'applied', 20_000);
    expect((await h.auditOf(req.id)).filter((e) => e.action === 'applied')).toHaveLength(1);
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(['Steward']);
  });

  it('counts jobs by queue, name and outcome, with their duration', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/qab_jobs_total\{queue="role-changes",name="apply",outcome="applied"\} [1-9]/);
    expect(text).toMatch(/qab_jobs_total\{queue="notifications",name="notify",outcome="notified"\} [1-9]/);
    expect(text).toMatch(/qab_job_duration_seconds_count\{name="apply",outcome="applied"\} [1-9]/);
    expect(text).toMatch(/qab_request_transitions_total\{state="applied"\} [1-9]/);
  });
});
