// Graceful shutdown (running jobs finish within the deadline; past it the close is forced) and job metrics.
// Each test has its own harness (key prefix, simulator, workers), so none depends on what another left behind and
// they pass in any order.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registry } from '../../src/observability/metrics.ts';
import { jobIds } from '../../src/queue/queues.ts';
import { createHarness, type Harness, userTarget } from './harness.ts';

let h: Harness;
// BullMQ runs one stalled-job check per interval across all workers of a queue (a shared key), so every worker in
// this file uses the same short intervals.
const quick = { concurrency: 2, lockDurationMs: 1_000, stalledIntervalMs: 300 };

beforeEach(async () => {
  h = await createHarness({ label: 'worker-shutdown' });
});
afterEach(async () => {
  await h?.close();
});

/** The current value of one series of a counter (or a histogram's `_count`) in the process-wide registry. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const base = name.replace(/_count$/, '');
  const m = registry.getSingleMetric(base);
  if (!m) return 0;
  const { values } = await m.get();
  // A histogram lists its _bucket, _sum and _count series under metricName; a counter has none.
  const match = values.find(
    (v) =>
      (base === name || (v as { metricName?: string }).metricName === name) &&
      Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
  );
  return match?.value ?? 0;
}

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
    const series = [
      ['qab_jobs_total', { queue: 'role-changes', name: 'apply', outcome: 'applied' }],
      ['qab_jobs_total', { queue: 'notifications', name: 'notify', outcome: 'notified' }],
      ['qab_job_duration_seconds_count', { name: 'apply', outcome: 'applied' }],
      ['qab_request_transitions_total', { state: 'applied' }],
    ] as const;
    const before = await Promise.all(series.map(([n, l]) => metric(n, l)));
    await h.start(quick);
    const user = h.sim.tenant.addUser({ name: 'Mo Metrics', email: 'mo@corp.example' });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' });
    await h.waitForState(req.id, 'applied');
    // The result notification is counted when its job finishes.
    for (;;) {
      const job = await h.queues.notifications.getJob(jobIds.notify(req.id, 'result'));
      if (job && (await job.isCompleted())) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const after = await Promise.all(series.map(([n, l]) => metric(n, l)));
    expect(after.map((v, i) => v - before[i]!)).toEqual([1, 1, 1, 1]);
    const text = await registry.metrics();
    expect(text).toMatch(/qab_jobs_total\{queue="role-changes",name="apply",outcome="applied"\} [1-9]/);
    expect(text).toMatch(/qab_jobs_total\{queue="notifications",name="notify",outcome="notified"\} [1-9]/);
    expect(text).toMatch(/qab_job_duration_seconds_count\{name="apply",outcome="applied"\} [1-9]/);
    expect(text).toMatch(/qab_request_transitions_total\{state="applied"\} [1-9]/);
  });
});
