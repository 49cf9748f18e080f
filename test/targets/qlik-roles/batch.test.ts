// Tenant roles applied as a batch against the simulator over HTTP: one GET, one PATCH and one GET for many changes,
// and a role Qlik refuses (deleted since the request was approved) failing only its own change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QlikClient, QlikError } from '../../../src/qlik/index.ts';
import { type QlikSimulator, startQlikSimulator } from '../../../src/sandbox/qlik-sim/index.ts';
import { QlikRolesTarget } from '../../../src/targets/qlik-roles/target.ts';
import type { AccessChange, BatchResult, PrincipalRef } from '../../../src/targets/types.ts';

let sim: QlikSimulator;
let client: QlikClient;
let target: QlikRolesTarget;

beforeAll(async () => {
  sim = await startQlikSimulator({});
  client = new QlikClient({
    tenantUrl: sim.url,
    apiKey: sim.apiKey,
    readsPerMinute: 600_000,
    writesPerMinute: 600_000,
    maxRetries: 0,
  });
  target = new QlikRolesTarget({ instance: 'default', qlik: client });
});
afterAll(async () => {
  await client.close();
  await sim.close();
});

let n = 0;
function newUser(roles: string[] = []): PrincipalRef {
  const u = sim.tenant.addUser({ name: `Batch User ${++n}`, email: `batch.${n}@corp.example`, roles });
  return { kind: 'user', id: u.id, name: u.name, email: u.email! };
}
function newRole() {
  const r = sim.tenant.addRole({ name: `BatchRole${++n}` });
  return { id: r.id, name: r.name };
}
const calls = (id: string) =>
  sim.requests.filter((r) => r.path.endsWith(`/users/${id}`)).map((r) => `${r.method} ${r.status}`);

async function batch(changes: AccessChange[]) {
  const planned: number[][] = [];
  const results = await target.applyChanges(changes, {
    earlier: changes.map(() => undefined),
    signal: new AbortController().signal,
    beforeWrite: async (p) => {
      planned.push(p.map((x) => x.index));
    },
  });
  return { results, planned };
}

describe('tenant roles in one write', () => {
  it('20 grants and a revoke to one user: one read, one PATCH, one read back', async () => {
    const roles = Array.from({ length: 20 }, newRole);
    const p = newUser(['Steward']);
    const steward = { id: sim.tenant.roleByName('Steward')!.id, name: 'Steward' };
    const { results } = await batch([
      ...roles.map((entitlement): AccessChange => ({ action: 'grant', principal: p, entitlement })),
      { action: 'revoke', principal: p, entitlement: steward },
    ]);
    expect(results.every((r) => r.ok && r.applied.changed)).toBe(true);
    expect(calls(p.id)).toEqual(['GET 200', 'PATCH 204', 'GET 200']);
    expect(sim.tenant.userRoleNames(p.id).sort()).toEqual(roles.map((r) => r.name).sort());
  });

  it('a role deleted since approval fails only its own change; the others are made one at a time', async () => {
    const [a, gone, b] = [newRole(), newRole(), newRole()];
    const p = newUser();
    sim.tenant.deleteRole(gone.id);
    const { results, planned } = await batch(
      [a, gone, b].map((entitlement): AccessChange => ({ action: 'grant', principal: p, entitlement })),
    );
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    const refused = results[1] as Extract<BatchResult, { ok: false }>;
    expect(refused.error).toBeInstanceOf(QlikError);
    expect(target.classifyError(refused.error, { who: p.name, kind: 'user' })?.kind).toBe('fail');
    // The batch's PATCH is refused (400), then each change alone: a, the deleted role (refused again), b.
    expect(calls(p.id).filter((c) => c.startsWith('PATCH'))).toEqual([
      'PATCH 400',
      'PATCH 204',
      'PATCH 400',
      'PATCH 204',
    ]);
    expect(planned).toEqual([[0, 1, 2], [0], [1], [2]]);
    expect(sim.tenant.userRoleNames(p.id).sort()).toEqual([a.name, b.name].sort());
  });

  it('a 5xx on the write is not a refusal: the whole batch is tried again, nothing made one at a time', async () => {
    const p = newUser();
    sim.injectFault({ method: 'PATCH', path: new RegExp(`/users/${p.id}$`), status: 503 });
    const err = await batch(
      [newRole(), newRole()].map(
        (entitlement): AccessChange => ({ action: 'grant', principal: p, entitlement }),
      ),
    ).catch((e: unknown) => e);
    expect(target.classifyError(err, { who: p.name, kind: 'user' })?.kind).toBe('retry');
    expect(calls(p.id).filter((c) => c.startsWith('PATCH'))).toEqual(['PATCH 503']);
    expect(sim.tenant.userRoleNames(p.id)).toEqual([]);
  });
});
