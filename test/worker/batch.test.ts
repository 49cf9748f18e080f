// Changes applied together through the real worker (Redis, queue, lock, the Qlik simulator over HTTP, the Slack
// fake): every approved change waiting for a principal goes into one read → write → read back, and each request
// still gets its own state, result, audit events and thread reply; a change Qlik refuses fails alone; a crash after
// the batch's write leaves each request's snapshot to tell its own job what it did; a time-bound grant applied
// together still ends by removing only its role; the waiting list is left empty.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  announcementOf,
  batchKeyOf,
  type Principal,
  type ResourceRef,
  type RoleChangeRequest,
} from '../../src/domain/request.ts';
import { enqueueApply, enqueueApproved, waitingKey } from '../../src/queue/queues.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';
import { QlikSpacesTarget } from '../../src/targets/qlik-spaces/target.ts';
import { TargetRegistry } from '../../src/targets/registry.ts';
import type { AccessTarget } from '../../src/targets/types.ts';
import { applyRoleChange } from '../../src/worker/apply-role-change.ts';
import { revokeGrant } from '../../src/worker/revoke-grant.ts';
import { createHarness, type Harness, userTarget, workerContext } from './harness.ts';

let h: Harness;
let targets: TargetRegistry;
let started = false;

beforeAll(async () => {
  h = await createHarness({ label: 'worker-batch' });
  targets = new TargetRegistry([
    new QlikRolesTarget({ instance: 'default', qlik: h.qlik }),
    new QlikSpacesTarget({ instance: 'default', qlik: h.qlik }),
  ]);
});
afterAll(async () => {
  await h?.close();
});

async function startWorker(): Promise<void> {
  if (started) return;
  started = true;
  await h.start({ targets, concurrency: 8 });
}

/**
 * Queues approved requests (filed with `enqueue: false`) as approvals queue them, all listed as waiting before the
 * first job is added: so the first job to hold the lock finds every one of them, whatever the worker is doing.
 */
async function queueTogether(reqs: RoleChangeRequest[]): Promise<void> {
  const at = Date.now();
  for (const [i, r] of reqs.entries()) await h.redis.zadd(waitingKey(h.prefix, batchKeyOf(r)), at + i, r.id);
  for (const [i, r] of reqs.entries()) await enqueueApproved(h.queues, r, at + i);
  await startWorker();
}

let n = 0;
function newUser(roles: string[] = []): Principal {
  const u = h.sim.tenant.addUser({
    name: `Batch Member ${++n}`,
    email: `batch.member.${n}@corp.example`,
    roles,
  });
  return userTarget(h.sim, u.id);
}
function newRoles(count: number): string[] {
  return Array.from({ length: count }, () => h.sim.tenant.addRole({ name: `WorkerBatchRole${++n}` }).name);
}
const userWrites = (id: string) =>
  h.sim.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/v1/users/${id}`);

describe('changes to one principal applied together', () => {
  it('20 grants and a revoke waiting for one user: one PATCH, and each request settled as its own', async () => {
    const roles = newRoles(20);
    const user = newUser(['Steward']);
    const reqs = [
      ...(await Promise.all(roles.map((role) => h.approved({ target: user, role }, { enqueue: false })))),
      await h.approved({ action: 'revoke', target: user, role: 'Steward' }, { enqueue: false }),
    ];
    await queueTogether(reqs);
    const done = await Promise.all(reqs.map((r) => h.waitForState(r.id, ['applied', 'failed'], 30_000)));
    expect(done.map((r) => r.state)).toEqual(reqs.map(() => 'applied'));
    expect(userWrites(user.id)).toHaveLength(1);
    expect(h.sim.tenant.userRoleNames(user.id).sort()).toEqual([...roles].sort());
    for (const r of done) {
      const role = r.entitlement.name;
      // Its own before and after, as if the changes were made one after the other: only its role differs.
      expect(r.result?.changed).toBe(true);
      if (r.action === 'grant') {
        expect(r.result?.before).not.toContain(role);
        expect(r.result?.after).toEqual([...(r.result?.before ?? []), role]);
      } else {
        expect(r.result?.before).toContain(role);
        expect(r.result?.after).toEqual(r.result?.before.filter((x) => x !== role));
      }
      expect((await h.auditOf(r.id)).map((e) => e.action)).toEqual([
        'requested',
        'approved',
        'applying',
        'applied',
      ]);
      const approval = announcementOf(r);
      await h.slack.waitFor((m) => m.thread_ts === approval?.ts && (m.text ?? '').includes(r.id));
    }
    expect(await h.redis.zcard(waitingKey(h.prefix, batchKeyOf(reqs[0] as RoleChangeRequest)))).toBe(0);
  });

  it('a role deleted after approval fails only its own request, in words; the others are applied', async () => {
    const roles = newRoles(5);
    const user = newUser();
    const reqs = await Promise.all(
      roles.map((role) => h.approved({ target: user, role }, { enqueue: false })),
    );
    const gone = reqs[2] as RoleChangeRequest;
    h.sim.tenant.deleteRole(gone.entitlement.id);
    await queueTogether(reqs);
    const done = await Promise.all(reqs.map((r) => h.waitForState(r.id, ['applied', 'failed'], 30_000)));
    expect(done.map((r) => r.state)).toEqual(['applied', 'applied', 'failed', 'applied', 'applied']);
    const failed = done[2] as RoleChangeRequest;
    expect(failed.failure?.cause.code).toBe('target');
    expect(failed.error).toMatch(/Qlik/);
    expect(h.sim.tenant.userRoleNames(user.id).sort()).toEqual(roles.filter((_, i) => i !== 2).sort());
    // The batch's write was refused; then each change alone (the deleted role's refused again).
    const [first, ...alone] = userWrites(user.id).map((r) => r.status);
    expect(first).toBe(400);
    expect(alone.sort()).toEqual([204, 204, 204, 204, 400]);
  });

  it("a crash after the batch's write: each request's own job finds its change made and reports it as its own", async () => {
    const roles = newRoles(4);
    const user = newUser();
    const reqs = await Promise.all(
      roles.map((role) => h.approved({ target: user, role }, { enqueue: false })),
    );
    for (const r of reqs) await h.redis.zadd(waitingKey(h.prefix, batchKeyOf(r)), Date.now(), r.id);
    // The batch writes, then "the process dies" before any result is recorded.
    const real = targets.get({ kind: 'qlik-roles', instance: 'default' });
    const dying: AccessTarget = Object.assign(Object.create(real) as AccessTarget, {
      async applyChanges(...args: Parameters<NonNullable<AccessTarget['applyChanges']>>) {
        await real.applyChanges?.(...args);
        throw new Error('the worker died here');
      },
    });
    const ctx = { ...workerContext(h), targets: new TargetRegistry([dying]) };
    await expect(
      applyRoleChange(ctx, (reqs[0] as RoleChangeRequest).id, { attempt: 1, final: false }),
    ).rejects.toThrow('the worker died here');
    for (const r of reqs) expect((await h.store.get(r.id))?.state).toBe('applying');
    expect(h.sim.tenant.userRoleNames(user.id).sort()).toEqual([...roles].sort());
    // Their jobs (the crashed one's retry among them) run now.
    await queueTogether(reqs);
    const done = await Promise.all(reqs.map((r) => h.waitForState(r.id, ['applied', 'failed'], 30_000)));
    expect(done.map((r) => r.state)).toEqual(reqs.map(() => 'applied'));
    expect(done.map((r) => r.result?.changed)).toEqual(reqs.map(() => true));
    for (const r of done) expect(r.result?.before).not.toContain(r.entitlement.name);
    expect(userWrites(user.id)).toHaveLength(1);
  });

  it('a time-bound grant applied together ends by removing only its own role', async () => {
    const [temporary, kept] = newRoles(2) as [string, string];
    const user = newUser();
    const timed = await h.approved(
      { target: user, role: temporary, durationMs: 3_600_000 },
      { enqueue: false },
    );
    const permanent = await h.approved({ target: user, role: kept }, { enqueue: false });
    await queueTogether([timed, permanent]);
    await h.waitForState(timed.id, 'applied');
    await h.waitForState(permanent.id, 'applied');
    expect(userWrites(user.id)).toHaveLength(1);
    const ctx = { ...workerContext(h), targets };
    await revokeGrant(
      ctx,
      { requestId: timed.id, trigger: 'manual', actor: 'U0APPROVER' },
      { attempt: 1, final: false },
    );
    expect((await h.store.get(timed.id))?.state).toBe('revoked');
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual([kept]);
  });

  it('space roles for one member of one space go in one POST', async () => {
    const owner = h.sim.tenant.addUser({ name: `Owner ${++n}`, email: `batch.owner.${n}@corp.example` });
    const s = h.sim.tenant.addSpace({ name: `Batch Space ${n}`, type: 'managed', ownerId: owner.id });
    const space: ResourceRef = { kind: 'space', id: s.id, name: s.name };
    const user = newUser();
    const roles = ['consumer', 'contributor', 'dataconsumer', 'publisher'];
    const reqs = await Promise.all(
      roles.map((role) =>
        h.approvedChange(
          {
            target: user,
            entitlement: { id: role, name: role },
            targetRef: { kind: 'qlik-spaces', instance: 'default', resource: space },
          },
          { enqueue: false },
        ),
      ),
    );
    await queueTogether(reqs);
    const done = await Promise.all(reqs.map((r) => h.waitForState(r.id, ['applied', 'failed'], 30_000)));
    expect(done.map((r) => r.state)).toEqual(roles.map(() => 'applied'));
    const writes = h.sim.requests.filter(
      (r) => r.method !== 'GET' && r.path.startsWith(`/api/v1/spaces/${s.id}/assignments`),
    );
    expect(writes.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 201']);
    expect(h.sim.tenant.spaceRolesOf(s.id, user.id).sort()).toEqual([...roles].sort());
  });

  it('a change queued without the waiting list (an older version, the reconciler of one) still applies', async () => {
    const [role] = newRoles(1) as [string];
    const user = newUser();
    const req = await h.approved({ target: user, role }, { enqueue: false });
    await enqueueApply(h.queues, req.id);
    await startWorker();
    expect((await h.waitForState(req.id, ['applied', 'failed'])).state).toBe('applied');
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual([role]);
  });
});
