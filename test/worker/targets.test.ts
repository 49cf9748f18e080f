// The worker goes through the target a request names: a request for another configured instance changes that
// tenant only, a request that names none is the default tenant's, and one for a target no longer configured fails
// with a message saying so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QlikClient } from '../../src/qlik/index.ts';
import { type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';
import { TargetRegistry } from '../../src/targets/registry.ts';
import { applyRoleChange } from '../../src/worker/apply-role-change.ts';
import { RetryLaterError, type WorkerContext } from '../../src/worker/context.ts';
import { createHarness, type Harness, userTarget, workerContext } from './harness.ts';

let h: Harness;
let eu: QlikSimulator;
let euClient: QlikClient;
let targets: TargetRegistry;

beforeAll(async () => {
  h = await createHarness({ label: 'worker-targets' });
  eu = await startQlikSimulator({});
  euClient = new QlikClient({ tenantUrl: eu.url, apiKey: eu.apiKey, retryBaseDelayMs: 20 });
  targets = new TargetRegistry([
    new QlikRolesTarget({ instance: 'default', qlik: h.qlik }),
    new QlikRolesTarget({ instance: 'eu', qlik: euClient }),
  ]);
  await h.start({ targets });
});
afterAll(async () => {
  await h?.close();
  await euClient?.close();
  await eu?.close();
});

function patches(sim: QlikSimulator) {
  return sim.requests.filter((r) => r.method === 'PATCH').length;
}

describe('the target a request is for', () => {
  it('a request for the eu instance changes the eu tenant only', async () => {
    const here = h.sim.tenant.addUser({ name: 'Twin Here', email: 'twin@corp.example' });
    const there = eu.tenant.addUser({ name: 'Twin There', email: 'twin@corp.example' });
    const before = patches(h.sim);
    const req = await h.approved({
      target: { kind: 'user', id: there.id, name: there.name, email: 'twin@corp.example' },
      role: 'DataSpaceCreator',
      roleSim: eu,
      targetRef: { kind: 'qlik-roles', instance: 'eu' },
    });
    const done = await h.waitForState(req.id, ['applied', 'failed']);
    expect(done.error).toBeUndefined();
    expect(done.state).toBe('applied');
    expect(eu.tenant.userRoleNames(there.id)).toEqual(['DataSpaceCreator']);
    expect(h.sim.tenant.userRoleNames(here.id)).toEqual([]);
    expect(patches(h.sim)).toBe(before);
  });

  it('a request that names no target (as written before targets) is the default tenant’s', async () => {
    const u = h.sim.tenant.addUser({ name: 'Plain Default', email: 'plain.default@corp.example' });
    const req = await h.approved({ target: userTarget(h.sim, u.id), role: 'DataSpaceCreator' });
    expect(req.targetRef).toBeUndefined();
    await h.waitForState(req.id, 'applied');
    expect(h.sim.tenant.userRoleNames(u.id)).toEqual(['DataSpaceCreator']);
  });

  it('a request for a target no longer configured fails at once and says so', async () => {
    const u = h.sim.tenant.addUser({ name: 'Far Away', email: 'far.away@corp.example' });
    const req = await h.approved({
      target: userTarget(h.sim, u.id),
      role: 'DataSpaceCreator',
      targetRef: { kind: 'qlik-roles', instance: 'us' },
    });
    const failed = await h.waitForState(req.id, ['failed', 'applied']);
    expect(failed.state).toBe('failed');
    expect(failed.failure).toMatchObject({ cause: { code: 'target-gone' } });
    expect(failed.error).toMatch(/not configured for qlik-roles on "us"/);
    expect(h.sim.tenant.userRoleNames(u.id)).toEqual([]);
  });
});

describe('locks during a rolling upgrade', () => {
  /** Calls the processor directly, waiting only briefly for a lock. */
  function ctx(): WorkerContext {
    return { ...workerContext(h), targets, lockOptions: { waitMs: 100 } };
  }

  it('a default-tenant change also takes the lock older workers take, so it waits for theirs', async () => {
    const u = h.sim.tenant.addUser({ name: 'Upgrade Time', email: 'upgrade.time@corp.example' });
    const req = await h.approved(
      { target: userTarget(h.sim, u.id), role: 'DataSpaceCreator' },
      { enqueue: false },
    );
    // An older worker holds `user:<id>` (its key) while it changes the user.
    await h.lock.withLock(`user:${u.id}`, async () => {
      await expect(applyRoleChange(ctx(), req.id, { attempt: 1, final: false })).rejects.toBeInstanceOf(
        RetryLaterError,
      );
    });
    expect(h.sim.tenant.userRoleNames(u.id)).toEqual([]);
    expect((await applyRoleChange(ctx(), req.id, { attempt: 1, final: true })).outcome).toBe('applied');
    expect(h.sim.tenant.userRoleNames(u.id)).toEqual(['DataSpaceCreator']);
  });

  it('a change on another instance does not: older workers never changed that tenant', async () => {
    const there = eu.tenant.addUser({ name: 'Elsewhere', email: 'elsewhere@corp.example' });
    const req = await h.approved(
      {
        target: { kind: 'user', id: there.id, name: there.name },
        role: 'DataSpaceCreator',
        roleSim: eu,
        targetRef: { kind: 'qlik-roles', instance: 'eu' },
      },
      { enqueue: false },
    );
    await h.lock.withLock(`user:${there.id}`, async () => {
      expect((await applyRoleChange(ctx(), req.id, { attempt: 1, final: true })).outcome).toBe('applied');
    });
  });
});
