// The apply path end to end against real Redis, the Qlik simulator over HTTP and the Slack fake.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcementOf } from '../../src/domain/request.ts';
import { jobIds } from '../../src/queue/queues.ts';
import { CHANNEL, createHarness, groupTarget, type Harness, REQUESTER, userTarget } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ label: 'worker-apply' });
  await h.start({ concurrency: 8 });
});
afterAll(async () => {
  await h?.close();
});

function patches(path: string) {
  return h.sim.requests.filter((r) => r.method === 'PATCH' && r.path === path);
}

describe('applying approved requests', () => {
  it('30 grants of 30 different roles to one user, all at once → all 30 present', async () => {
    const roles = Array.from(
      { length: 30 },
      (_, i) => h.sim.tenant.addRole({ name: `WorkerUserRole${i}` }).name,
    );
    const user = h.sim.tenant.addUser({
      name: 'Many Roles',
      email: 'many@corp.example',
      roles: ['SharedSpaceCreator'],
    });
    const reqs = await Promise.all(
      roles.map((role) => h.approved({ target: userTarget(h.sim, user.id), role })),
    );
    await Promise.all(reqs.map((r) => h.waitForState(r.id, 'applied', 25_000)));
    expect(h.sim.tenant.userRoleNames(user.id).sort()).toEqual([...roles, 'SharedSpaceCreator'].sort());
    for (const r of reqs) {
      const done = await h.store.get(r.id);
      expect(done?.result?.changed).toBe(true);
      expect(done?.result?.after).toContain(r.entitlement.name);
    }
  });

  it('30 grants of 30 different roles to one group, all at once → all 30 present', async () => {
    const roles = Array.from(
      { length: 30 },
      (_, i) => h.sim.tenant.addRole({ name: `WorkerGroupRole${i}` }).name,
    );
    const group = h.sim.tenant.addGroup({ name: 'Worker Many', roles: ['Steward'] });
    const reqs = await Promise.all(
      roles.map((role) => h.approved({ target: groupTarget(h.sim, group.id), role })),
    );
    await Promise.all(reqs.map((r) => h.waitForState(r.id, 'applied', 25_000)));
    expect(h.sim.tenant.groupRoleNames(group.id).sort()).toEqual([...roles, 'Steward'].sort());
  });

  it('applies once with before/after, one "applied" audit event, and tells the thread and the requester', async () => {
    const user = h.sim.tenant.addUser({
      name: 'Alice Apply',
      email: 'alice.apply@corp.example',
      roles: ['Steward'],
    });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'ManagedSpaceCreator' });
    const done = await h.waitForState(req.id, 'applied');
    expect(done.result).toMatchObject({
      before: ['Steward'],
      after: ['Steward', 'ManagedSpaceCreator'],
      changed: true,
    });
    const events = await h.auditOf(req.id);
    expect(events.filter((e) => e.action === 'applied')).toHaveLength(1);
    expect(events.find((e) => e.action === 'applied')).toMatchObject({
      actor: 'system',
      role: 'ManagedSpaceCreator',
      before: ['Steward'],
      after: ['Steward', 'ManagedSpaceCreator'],
    });
    expect(events.map((e) => e.action)).toEqual(['requested', 'approved', 'applying', 'applied']);

    const approval = announcementOf(done)!;
    const thread = await h.slack.waitFor(
      (m) => m.thread_ts === approval.ts && (m.text ?? '').includes(req.id),
    );
    expect(thread.channel).toBe(CHANNEL);
    const dm = await h.slack.waitFor(
      (m) => m.channel === h.slack.dmChannelOf(REQUESTER) && (m.text ?? '').includes(req.id),
    );
    expect(dm.text).toContain('applied');
    // The approval message itself was updated to its final state.
    await h.slack.waitFor(
      (m) => m.ts === approval.ts && m.updates.length > 0 && JSON.stringify(m.blocks).includes('Applied'),
    );
  });

  it('writes nothing when the principal already has the role, and says so', async () => {
    const user = h.sim.tenant.addUser({
      name: 'Bob Has',
      email: 'bob.has@corp.example',
      roles: ['DataAdmin'],
    });
    const path = `/api/v1/users/${user.id}`;
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'DataAdmin' });
    const done = await h.waitForState(req.id, 'applied');
    expect(done.result).toMatchObject({ changed: false, before: ['DataAdmin'], after: ['DataAdmin'] });
    expect(done.result?.outcome).toEqual({ code: 'already-held' });
    expect(done.result?.message).toMatch(/already has DataAdmin/);
    expect(patches(path)).toHaveLength(0);
  });

  it('writes back only direct roles, never roles that come through groups', async () => {
    const group = h.sim.tenant.addGroup({ name: 'Worker Analysts', roles: ['AnalyticsAdmin'] });
    const user = h.sim.tenant.addUser({
      name: 'Carol Groups',
      email: 'carol.groups@corp.example',
      roles: ['Steward'],
      groupIds: [group.id],
    });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'DataSpaceCreator' });
    await h.waitForState(req.id, 'applied');
    const [patch] = patches(`/api/v1/users/${user.id}`);
    const ids = (patch!.body as { value: { id: string }[] }[])[0]!.value.map((v) => v.id);
    const names = ids.map((id) => h.sim.tenant.getRole(id)?.name);
    expect(names).toEqual(['Steward', 'DataSpaceCreator']);
    expect(h.sim.tenant.userRoleNames(user.id)).not.toContain('AnalyticsAdmin');
  });

  it('revokes a direct role', async () => {
    const user = h.sim.tenant.addUser({
      name: 'Dan Revoke',
      email: 'dan@corp.example',
      roles: ['Steward', 'AuditAdmin'],
    });
    const req = await h.approved({
      action: 'revoke',
      target: userTarget(h.sim, user.id),
      role: 'AuditAdmin',
    });
    const done = await h.waitForState(req.id, 'applied');
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(['Steward']);
    expect(done.result).toMatchObject({
      before: ['Steward', 'AuditAdmin'],
      after: ['Steward'],
      changed: true,
    });
  });

  it('a user deleted in Qlik before the job runs → failed, with a clear message in the DM and the thread', async () => {
    const user = h.sim.tenant.addUser({ name: 'Erin Gone', email: 'erin.gone@corp.example' });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' }, { enqueue: false });
    h.sim.tenant.deleteUser(user.id);
    await h.queues.roleChanges.add('apply', { requestId: req.id }, { jobId: jobIds.apply(req.id) });
    const failed = await h.waitForState(req.id, 'failed');
    expect(failed.failure).toEqual({ cause: { code: 'target', detail: failed.error } });
    expect(failed.error).toMatch(/Erin Gone.*no longer exists.*404/);
    const approval = announcementOf(failed)!;
    const thread = await h.slack.waitFor(
      (m) => m.thread_ts === approval.ts && (m.text ?? '').includes(req.id),
    );
    expect(JSON.stringify(thread.blocks)).toContain('no longer exists');
    const dm = await h.slack.waitFor(
      (m) => m.channel === h.slack.dmChannelOf(REQUESTER) && (m.text ?? '').includes(req.id),
    );
    expect(JSON.stringify(dm.blocks)).toContain('no longer exists');
    const events = await h.auditOf(req.id);
    expect(events.filter((e) => e.action === 'failed')).toHaveLength(1);
  });

  it("a 403 on the write fails at once, without retries, with Qlik's reason", async () => {
    const user = h.sim.tenant.addUser({ name: 'Fay Forbidden', email: 'fay@corp.example' });
    const path = `/api/v1/users/${user.id}`;
    h.sim.injectFault({ method: 'PATCH', path: new RegExp(`^${path}$`), status: 403, times: 5 });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' });
    const failed = await h.waitForState(req.id, 'failed');
    expect(failed.error).toMatch(/403/);
    expect(patches(path)).toHaveLength(1);
    // The request fails a moment before its job is marked failed; then the job has used one attempt of eight.
    const job = () => h.queues.roleChanges.getJob(jobIds.apply(req.id));
    await expect.poll(async () => (await job())?.getState()).toBe('failed');
    expect((await job())?.attemptsMade).toBe(1);
    expect((await job())?.failedReason).toMatch(/403/);
    h.sim.clearFaults();
  });

  it('a 400 on the write fails at once, without retries', async () => {
    const user = h.sim.tenant.addUser({ name: 'Gus Bad', email: 'gus@corp.example' });
    const path = `/api/v1/users/${user.id}`;
    h.sim.injectFault({ method: 'PATCH', path: new RegExp(`^${path}$`), status: 400, times: 5 });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' });
    const failed = await h.waitForState(req.id, 'failed');
    expect(failed.error).toMatch(/400/);
    expect(patches(path)).toHaveLength(1);
    h.sim.clearFaults();
  });

  it('a 5xx on the write is retried and the role applied once (one "applied" event)', async () => {
    const user = h.sim.tenant.addUser({ name: 'Hal Flaky', email: 'hal@corp.example' });
    const path = `/api/v1/users/${user.id}`;
    h.sim.injectFault({ method: 'PATCH', path: new RegExp(`^${path}$`), status: 503, times: 1 });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' });
    const done = await h.waitForState(req.id, 'applied');
    expect(done.result?.changed).toBe(true);
    expect(patches(path).map((p) => p.status)).toEqual([503, 204]);
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(['Steward']);
    const events = await h.auditOf(req.id);
    expect(events.filter((e) => e.action === 'applied')).toHaveLength(1);
  });

  it('a 5xx that lasts through every attempt ends failed, with the reason and what to do', async () => {
    const user = h.sim.tenant.addUser({ name: 'Jo Down', email: 'jo.down@corp.example' });
    const path = `/api/v1/users/${user.id}`;
    h.sim.injectFault({
      method: 'PATCH',
      path: new RegExp(`^${path}$`),
      status: 502,
      times: Number.POSITIVE_INFINITY,
    });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' }, { enqueue: false });
    // Two quick attempts instead of the production eight with exponential backoff.
    await h.queues.roleChanges.add(
      'apply',
      { requestId: req.id },
      { jobId: jobIds.apply(req.id), attempts: 2, backoff: { type: 'fixed', delay: 50 } },
    );
    const failed = await h.waitForState(req.id, 'failed');
    expect(failed.failure).toMatchObject({ cause: { code: 'target' }, gaveUpAfter: 2 });
    expect(failed.error).toMatch(/502 Bad Gateway.*tried 2 times and gave up/);
    expect(patches(path)).toHaveLength(2);
    expect((await h.auditOf(req.id)).filter((e) => e.action === 'failed')).toHaveLength(1);
    h.sim.clearFaults();
  });

  it('running the same apply job again after it finished changes nothing and posts nothing twice', async () => {
    const user = h.sim.tenant.addUser({ name: 'Ivy Twice', email: 'ivy@corp.example' });
    const req = await h.approved({ target: userTarget(h.sim, user.id), role: 'Steward' });
    await h.waitForState(req.id, 'applied');
    await h.slack.waitFor(
      (m) => m.channel === h.slack.dmChannelOf(REQUESTER) && (m.text ?? '').includes(req.id),
    );
    const job = await h.queues.roleChanges.getJob(jobIds.apply(req.id));
    await job!.remove();
    await h.queues.roleChanges.add(
      'apply',
      { requestId: req.id },
      { jobId: `${jobIds.apply(req.id)}-again` },
    );
    const again = await h.queues.roleChanges.getJob(`${jobIds.apply(req.id)}-again`);
    await expect.poll(async () => again!.getState(), { timeout: 10_000 }).toBe('completed');
    expect(patches(`/api/v1/users/${user.id}`)).toHaveLength(1);
    expect((await h.auditOf(req.id)).filter((e) => e.action === 'applied')).toHaveLength(1);
    const dms = h.slack.messages.filter(
      (m) => m.channel === h.slack.dmChannelOf(REQUESTER) && (m.text ?? '').includes(req.id),
    );
    expect(dms).toHaveLength(1);
  });
});
