// Invites through the real worker (Redis, queue, locks, the Qlik simulator over HTTP): an approved invite makes the
// account, then gives it its roles and its space role, each through its own target under its own lock; the result
// says what was done part by part. A crash (here: a failure that makes the job run again) between the invite and the
// roles neither invites twice nor loses a role; a part Qlik refuses fails alone; Qlik's own refusals of the invite
// (an IdP tenant's 1003, a disabled account) fail the request in words; an invited person is invited again with
// `resend` and gets no second account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FollowOn, RoleChangeRequest } from '../../src/domain/request.ts';
import { INVITE, QlikAccountTarget, RESEND_INVITE } from '../../src/targets/qlik-account/target.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';
import { QlikSpacesTarget } from '../../src/targets/qlik-spaces/target.ts';
import { TargetRegistry } from '../../src/targets/registry.ts';
import { createHarness, type Harness } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ label: 'worker-invite' });
  const targets = new TargetRegistry([
    new QlikRolesTarget({ instance: 'default', qlik: h.qlik }),
    new QlikSpacesTarget({ instance: 'default', qlik: h.qlik, cacheTtlMs: 0 }),
    new QlikAccountTarget({ instance: 'default', qlik: h.qlik }),
  ]);
  await h.start({ targets, concurrency: 4 });
});
afterAll(async () => {
  await h?.close();
});

let n = 0;
const newEmail = () => `newcomer.${++n}.${Date.now()}@corp.example`;

function role(name: string): FollowOn {
  const r = h.sim.tenant.roleByName(name)!;
  return { targetRef: { kind: 'qlik-roles', instance: 'default' }, entitlement: { id: r.id, name: r.name } };
}

function spaceRole(spaceName: string, r: string): FollowOn {
  const s = h.sim.tenant.spaceByName(spaceName)!;
  return {
    targetRef: {
      kind: 'qlik-spaces',
      instance: 'default',
      resource: { kind: 'space', id: s.id, name: s.name },
    },
    entitlement: { id: r, name: r },
  };
}

/** Files an invite as the app does (id `invite:<email>` until Qlik gives one), approves it and queues its apply. */
async function approvedInvite(
  email: string,
  followOns: FollowOn[],
  opts: { resend?: boolean; existingId?: string } = {},
): Promise<RoleChangeRequest> {
  return h.approvedChange({
    target: { kind: 'user', id: opts.existingId ?? `invite:${email}`, name: email, email },
    entitlement: opts.resend ? RESEND_INVITE : INVITE,
    targetRef: { kind: 'qlik-account', instance: 'default' },
    ...(followOns.length > 0 ? { followOns } : {}),
  });
}

const userByEmail = (email: string) => h.sim.tenant.usersByEmail(email).find((u) => u.status !== 'deleted');

describe('invites through the worker', () => {
  it('invites once, then grants every role and the space role to the new account, part by part', async () => {
    const email = newEmail();
    const req = await approvedInvite(email, [
      role('Steward'),
      role('DataSpaceCreator'),
      spaceRole('Finance Reports', 'producer'),
    ]);
    const done = await h.waitForState(req.id, ['applied', 'failed'], 20_000);
    expect(done.state).toBe('applied');
    const user = userByEmail(email)!;
    expect(user.status).toBe('invited');
    expect(h.sim.tenant.invites(email)).toHaveLength(1);
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(
      expect.arrayContaining(['Steward', 'DataSpaceCreator']),
    );
    expect(h.sim.tenant.spaceRolesOf(h.sim.tenant.spaceByName('Finance Reports')!.id, user.id)).toEqual([
      'producer',
    ]);
    // The request now names the account Qlik made, and says what each part did.
    expect(done.target.id).toBe(user.id);
    expect(done.result?.outcome).toEqual({ code: 'invited', resent: false });
    expect(done.result?.parts?.map((p) => [p.entitlement.name, p.outcome])).toEqual([
      ['Steward', 'granted'],
      ['DataSpaceCreator', 'granted'],
      ['producer', 'granted'],
    ]);
    expect(done.result?.message).toMatch(
      /^Invited .* to Qlik: the invitation email was sent\. Then: Steward: granted; DataSpaceCreator: granted; producer in space Finance Reports: granted\.$/,
    );
  });

  it('a failure after the invite runs the job again: no second invitation, and every role still lands', async () => {
    const email = newEmail();
    // The first role's write fails once with a 503: the whole job runs again after the invite went out.
    h.sim.injectFault({ method: 'PATCH', path: /^\/api\/v1\/users\//, status: 503, times: 1 });
    const req = await approvedInvite(email, [role('Steward'), spaceRole('EMEA Sales', 'consumer')]);
    const done = await h.waitForState(req.id, ['applied', 'failed'], 30_000);
    expect(done.state).toBe('applied');
    const user = userByEmail(email)!;
    expect(h.sim.tenant.invites(email)).toHaveLength(1);
    expect(h.sim.tenant.inviteEmailsSent(email)).toBe(1);
    expect(h.sim.tenant.userRoleNames(user.id)).toContain('Steward');
    expect(done.result?.outcome).toEqual({ code: 'invited', resent: false });
    expect(done.result?.parts?.map((p) => p.outcome)).toEqual(['granted', 'granted']);
  });

  it('a part Qlik refuses fails alone; the others are done and the result says which', async () => {
    const email = newEmail();
    // Qlik refuses the first role's write (400): that part fails for good; the next one still runs.
    h.sim.injectFault({ method: 'PATCH', path: /^\/api\/v1\/users\//, status: 400, times: 1 });
    const req = await approvedInvite(email, [role('DataAdmin'), role('Steward')]);
    const done = await h.waitForState(req.id, ['applied', 'failed'], 20_000);
    expect(done.state).toBe('applied');
    expect(done.result?.parts?.map((p) => p.outcome)).toEqual(['failed', 'granted']);
    expect(done.result?.parts?.[0]?.failure?.cause.code).toBe('target');
    expect(done.result?.message).toMatch(
      /Then \(1 of 2 not done\): DataAdmin: NOT granted \(.*400.*\); Steward: granted\./,
    );
    expect(h.sim.tenant.userRoleNames(userByEmail(email)!.id)).not.toContain('DataAdmin');
    expect(h.sim.tenant.userRoleNames(userByEmail(email)!.id)).toContain('Steward');
  });

  it('files a time-bound follow-on as its own approved request, once, which applies and is due to end', async () => {
    const email = newEmail();
    const capped: FollowOn = { ...role('DataAdmin'), durationMs: 3_600_000 };
    // The permanent part after it fails once with a 503: the job runs again after the child was filed.
    h.sim.injectFault({ method: 'PATCH', path: /^\/api\/v1\/users\//, status: 503, times: 1 });
    const req = await approvedInvite(email, [capped, role('Steward')]);
    const done = await h.waitForState(req.id, ['applied', 'failed'], 30_000);
    expect(done.state).toBe('applied');
    const part = done.result?.parts?.[0];
    expect(part).toMatchObject({
      outcome: 'filed',
      durationMs: 3_600_000,
      request: expect.stringMatching(/^R-/),
    });
    expect(done.result?.parts?.[1]?.outcome).toBe('granted');
    const child = await h.waitForState(part!.request!, ['applied', 'failed'], 20_000);
    expect(child).toMatchObject({ state: 'applied', followsOn: req.id, durationMs: 3_600_000 });
    expect(child.result?.revokeAt).toBeGreaterThan(Date.now());
    const user = userByEmail(email)!;
    expect(child.target.id).toBe(user.id);
    expect(h.sim.tenant.userRoleNames(user.id)).toEqual(expect.arrayContaining(['DataAdmin', 'Steward']));
    // Filed once, whatever the re-run: the audit stream holds one filing of a request following this invite.
    const events: string[] = [];
    for await (const e of h.audit.since(0))
      if (e.action === 'requested' && e.detail === `follows ${req.id}`) events.push(e.requestId!);
    expect(events).toEqual([part!.request]);
  });

  it("fails in words when Qlik can't invite: a tenant with its own identity provider (1003)", async () => {
    const email = newEmail();
    h.sim.tenant.failNextInvites(1);
    const req = await approvedInvite(email, [role('Steward')]);
    const done = await h.waitForState(req.id, ['applied', 'failed'], 20_000);
    expect(done.state).toBe('failed');
    expect(done.failure?.cause.code).toBe('target');
    expect(done.error).toMatch(
      /Qlik could not invite .*\(1003.*own identity provider.*first login or through SCIM/,
    );
    expect(userByEmail(email)).toBeUndefined();
  });

  it('invites an already-invited person again with resend: the same account, one more email', async () => {
    const ivy = userByEmail('ivy@corp.example')!;
    expect(ivy.status).toBe('invited');
    const before = h.sim.tenant.inviteEmailsSent('ivy@corp.example');
    const req = await approvedInvite('ivy@corp.example', [role('Steward')], {
      resend: true,
      existingId: ivy.id,
    });
    const done = await h.waitForState(req.id, ['applied', 'failed'], 20_000);
    expect(done.state).toBe('applied');
    expect(done.result?.outcome).toEqual({ code: 'invited', resent: true });
    expect(h.sim.tenant.inviteEmailsSent('ivy@corp.example')).toBe(before + 1);
    expect(h.sim.tenant.usersByEmail('ivy@corp.example').filter((u) => u.status !== 'deleted')).toHaveLength(
      1,
    );
    expect(h.sim.tenant.userRoleNames(ivy.id)).toContain('Steward');
  });
});
