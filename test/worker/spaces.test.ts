// Space-role requests through the real worker (Redis, queue, lock, the Qlik simulator over HTTP): many approved
// grants to one user in one space all land, each applied once, with every role the space offers held at the end;
// many users granted into one space at once are all members; a time-bound space grant ends by removing only what
// it added.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal, ResourceRef, RoleChangeRequest } from '../../src/domain/request.ts';
import { enqueueApply } from '../../src/queue/queues.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';
import { QlikSpacesTarget } from '../../src/targets/qlik-spaces/target.ts';
import { TargetRegistry } from '../../src/targets/registry.ts';
import { createHarness, type Harness, userTarget } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ label: 'worker-spaces' });
  const targets = new TargetRegistry([
    new QlikRolesTarget({ instance: 'default', qlik: h.qlik }),
    new QlikSpacesTarget({ instance: 'default', qlik: h.qlik }),
  ]);
  await h.start({ targets, concurrency: 8 });
});
afterAll(async () => {
  await h?.close();
});

let n = 0;

function newSpace(type: 'shared' | 'managed' | 'data' = 'managed'): ResourceRef {
  const owner = h.sim.tenant.addUser({ name: `Owner ${++n}`, email: `space.owner.${n}@corp.example` });
  const s = h.sim.tenant.addSpace({ name: `Worker Space ${n}`, type, ownerId: owner.id });
  return { kind: 'space', id: s.id, name: s.name };
}

function newUser(): Principal {
  const u = h.sim.tenant.addUser({ name: `Space Member ${++n}`, email: `space.member.${n}@corp.example` });
  return userTarget(h.sim, u.id);
}

/** Files a space-role request, approves it and posts its approval message, as the Slack front would; queues it. */
async function approvedSpaceGrant(
  target: Principal,
  space: ResourceRef,
  role: string,
  opts: { durationMs?: number; enqueue?: boolean } = {},
): Promise<RoleChangeRequest> {
  return h.approvedChange(
    {
      target,
      entitlement: { id: role, name: role },
      targetRef: { kind: 'qlik-spaces', instance: 'default', resource: space },
      ...(opts.durationMs === undefined ? {} : { durationMs: opts.durationMs }),
    },
    { enqueue: opts.enqueue !== false },
  );
}

const assignmentWrites = (spaceId: string) =>
  h.sim.requests.filter(
    (r) => r.method !== 'GET' && r.path.startsWith(`/api/v1/spaces/${spaceId}/assignments`) && r.status < 300,
  );

describe('space grants through the worker', () => {
  it('20 grants to one user in one space: every role held at the end, each request applied once', async () => {
    const space = newSpace('managed');
    const offered = h.sim.tenant.assignableSpaceRoles('managed');
    expect(offered).toHaveLength(7);
    const user = newUser();
    const roles = Array.from({ length: 20 }, (_, i) => offered[i % offered.length]!);
    // Filed one after the other (a pending duplicate would be refused), queued together so they race.
    const reqs: RoleChangeRequest[] = [];
    for (const role of roles) reqs.push(await approvedSpaceGrant(user, space, role, { enqueue: false }));
    await Promise.all(reqs.map((r) => enqueueApply(h.queues, r.id)));
    const done = await Promise.all(reqs.map((r) => h.waitForState(r.id, ['applied', 'failed'], 30_000)));
    expect(done.map((r) => r.state)).toEqual(roles.map(() => 'applied'));
    expect([...h.sim.tenant.spaceRolesOf(space.id, user.id)].sort()).toEqual([...offered].sort());
    // Each role was added by exactly one request; its repeats found it held.
    const changed = done.filter((r) => r.result?.changed);
    expect(changed.map((r) => r.entitlement.name).sort()).toEqual([...offered].sort());
    expect(assignmentWrites(space.id)).toHaveLength(7);
    for (const r of reqs) {
      const applied = (await h.auditOf(r.id)).filter((e) => e.action === 'applied');
      expect(applied).toHaveLength(1);
    }
  });

  it('20 different users into one space at once: all members at the end', async () => {
    const space = newSpace('shared');
    const users = Array.from({ length: 20 }, () => newUser());
    const reqs = await Promise.all(users.map((u) => approvedSpaceGrant(u, space, 'consumer')));
    const done = await Promise.all(reqs.map((r) => h.waitForState(r.id, ['applied', 'failed'], 30_000)));
    expect(done.every((r) => r.state === 'applied' && r.result?.changed)).toBe(true);
    for (const u of users) expect(h.sim.tenant.spaceRolesOf(space.id, u.id)).toEqual(['consumer']);
    expect(assignmentWrites(space.id).map((r) => r.method)).toEqual(users.map(() => 'POST'));
  });

  it('a time-bound space grant expires and removes only the role it added', async () => {
    const space = newSpace('managed');
    const user = newUser();
    h.sim.tenant.setSpaceRoles(space.id, user.id, ['publisher']);
    const req = await approvedSpaceGrant(user, space, 'consumer', { durationMs: 1_000 });
    const applied = await h.waitForState(req.id, 'applied');
    expect(applied.result).toMatchObject({
      before: ['publisher'],
      after: ['publisher', 'consumer'],
      changed: true,
    });
    expect(h.sim.tenant.spaceRolesOf(space.id, user.id)).toEqual(['publisher', 'consumer']);
    const ended = await h.waitForState(req.id, 'expired-revoked', 10_000);
    expect(h.sim.tenant.spaceRolesOf(space.id, user.id)).toEqual(['publisher']);
    expect(ended.result).toMatchObject({
      before: ['publisher', 'consumer'],
      after: ['publisher'],
      outcome: { code: 'ended', trigger: 'expiry' },
    });
  });
});
