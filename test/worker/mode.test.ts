// Mode group requests through the real worker (Redis, queue, lock, the Mode simulator over HTTP through the real
// client and people cache): 20 approved grants into one group at once all land, each member in it exactly once
// (Mode itself would add someone twice); a time-bound group grant ends by removing the membership it added.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal, RoleChangeRequest } from '../../src/domain/request.ts';
import { ModeClient, ModePeople } from '../../src/mode/index.ts';
import { enqueueApply } from '../../src/queue/queues.ts';
import { type ModeSimulator, ModeWorkspace, startModeSimulator } from '../../src/sandbox/mode-sim/index.ts';
import { ModeCollectionsTarget } from '../../src/targets/mode-collections/target.ts';
import { ModeGroupsTarget } from '../../src/targets/mode-groups/target.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';
import { TargetRegistry } from '../../src/targets/registry.ts';
import { createHarness, type Harness, REQUESTER } from './harness.ts';

let h: Harness;
let sim: ModeSimulator;
let ws: ModeWorkspace;
let mode: ModeClient;

beforeAll(async () => {
  h = await createHarness({ label: 'worker-mode' });
  ws = new ModeWorkspace({ username: 'acme', seed: 5 });
  sim = await startModeSimulator({ workspace: ws });
  mode = new ModeClient({ baseUrl: sim.url, workspace: 'acme', token: sim.token, secret: sim.secret });
  const people = new ModePeople({ redis: h.redis, prefix: h.prefix, client: mode, missRefreshMs: 0 });
  const targets = new TargetRegistry([
    new QlikRolesTarget({ instance: 'default', qlik: h.qlik }),
    new ModeGroupsTarget({ instance: 'default', mode, people }),
    new ModeCollectionsTarget({ instance: 'default', mode, people }),
  ]);
  await h.start({ targets, concurrency: 8 });
});
afterAll(async () => {
  await h?.close();
  await mode?.close();
  await sim?.close();
});

let n = 0;

function newMember(): Principal {
  const i = ++n;
  const { memberToken } = ws.addMember({
    username: `w${i}`,
    name: `Worker Member ${i}`,
    email: `w${i}@corp.example`,
  });
  return { kind: 'user', id: memberToken, name: `Worker Member ${i}`, email: `w${i}@corp.example` };
}

/** Files a Mode group request, approves it and posts its approval message, as the Slack front would; queues it. */
async function approvedGroupGrant(
  target: Principal,
  group: { token: string; name: string },
  opts: { durationMs?: number } = {},
): Promise<RoleChangeRequest> {
  return h.approvedChange({
    target,
    entitlement: { id: group.token, name: group.name },
    targetRef: { kind: 'mode-groups', instance: 'default' },
    ...(opts.durationMs === undefined ? {} : { durationMs: opts.durationMs }),
  });
}

const posts = (g: string) =>
  sim.requests.filter(
    (r) => r.method === 'POST' && r.path === `/api/acme/groups/${g}/memberships` && r.status < 300,
  );

describe('Mode group grants through the worker', () => {
  it('20 approved grants into one group at once: every member in it, each exactly once', async () => {
    const name = 'Worker Group';
    const { token } = ws.addGroup({ name });
    const members = Array.from({ length: 20 }, () => newMember());
    // One member asked for twice: the second finds them there and must not add a second row.
    const reqs = await Promise.all(members.map((m) => approvedGroupGrant(m, { token, name })));
    const done = await Promise.all(reqs.map((r) => h.waitForState(r.id, ['applied', 'failed'], 30_000)));
    expect(done.map((r) => r.state)).toEqual(members.map(() => 'applied'));
    expect(done.every((r) => r.result?.changed)).toBe(true);
    const tokens = ws.groupMemberTokens(token);
    expect(tokens).toHaveLength(20);
    expect([...tokens].sort()).toEqual(members.map((m) => m.id).sort());
    expect(posts(token)).toHaveLength(20);
    const again = await approvedGroupGrant(members[0]!, { token, name });
    const repeat = await h.waitForState(again.id, ['applied', 'failed'], 15_000);
    expect(repeat).toMatchObject({ state: 'applied', result: { changed: false } });
    expect(ws.groupMemberTokens(token)).toHaveLength(20);
    expect(posts(token)).toHaveLength(20);
  });

  it('a time-bound group grant ends by removing the membership it added', async () => {
    const name = 'Short Group';
    const { token } = ws.addGroup({ name });
    const keep = ws.addGroup({ name: 'Kept Group' }).token;
    const m = newMember();
    ws.addToGroup(keep, m.id);
    const req = await approvedGroupGrant(m, { token, name }, { durationMs: 1_000 });
    const applied = await h.waitForState(req.id, 'applied');
    expect(applied.result).toMatchObject({
      before: ['Kept Group'],
      after: ['Kept Group', name],
      changed: true,
    });
    expect(ws.groupMemberTokens(token)).toEqual([m.id]);
    const ended = await h.waitForState(req.id, 'expired-revoked', 10_000);
    expect(ws.groupMemberTokens(token)).toEqual([]);
    expect(ws.groupMemberTokens(keep)).toEqual([m.id]);
    expect(ended.result).toMatchObject({
      before: ['Kept Group', name],
      after: ['Kept Group'],
      outcome: { code: 'ended', trigger: 'expiry' },
    });
    const deletes = sim.requests.filter(
      (r) => r.method === 'DELETE' && r.path.startsWith(`/api/acme/groups/${token}/`),
    );
    expect(deletes).toHaveLength(1);
  });

  it('a time-bound edit given over a view ends by putting the view back, not by removing access', async () => {
    const c = ws.addCollection({ name: 'Worker Collection' });
    const m = newMember();
    ws.setPermission(c.token, { accessorType: 'Account', accessorToken: m.id, action: 'view' });
    const now = Date.now();
    const created = await h.store.create(
      {
        action: 'grant',
        target: m,
        entitlement: { id: 'edit', name: 'edit' },
        requester: { front: 'slack', id: REQUESTER },
        expiresAt: now + 3_600_000,
        approvalsRequired: 1,
        durationMs: 1_000,
        targetRef: {
          kind: 'mode-collections',
          instance: 'default',
          resource: { kind: 'collection', id: c.token, name: 'Worker Collection' },
        },
      },
      now,
    );
    if (!created.ok) throw new Error('duplicate');
    await h.store.transition(created.request.id, 'pending', 'approved');
    await enqueueApply(h.queues, created.request.id);
    const applied = await h.waitForState(created.request.id, 'applied');
    expect(applied.result).toMatchObject({ before: ['view'], after: ['edit'], changed: true });
    const ended = await h.waitForState(created.request.id, 'expired-revoked', 10_000);
    expect(ended.result).toMatchObject({ before: ['edit'], after: ['view'] });
    expect(
      ws
        .permissionsOf(c.token)
        .filter((p) => p.accessorToken === m.id)
        .map((p) => p.action),
    ).toEqual(['view']);
  });
});
