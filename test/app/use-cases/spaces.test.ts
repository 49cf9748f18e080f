// Space roles through the app, driven directly: filing (the space and its roles through the space target over the
// Qlik simulator, owners and held roles refused), approval by the space's own managers where the policy says so,
// and the space questions (members, listings, who-has in a space, whois's space roles).
import { describe, expect, it } from 'vitest';
import { slackPerson } from '../../../src/slack/people.ts';
import { BASE_POLICY, P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-spaces', spaces: true });
const FINANCE = { kind: 'space', name: 'Finance Reports' };
const frank = { kind: 'person', person: { front: 'slack', id: U.frank } } as const;

function space(name: string) {
  const s = h.sim.tenant.spaceByName(name);
  if (!s) throw new Error(`the demo tenant has no space ${name}`);
  return s;
}

describe('filing a space role', () => {
  it('files a role named as the UI names it, in any case, for the space as Qlik spells it', async () => {
    const req = await h.file({
      requester: P.bob,
      who: frank,
      roleName: 'can EDIT',
      resource: { kind: 'space', name: 'finance reports' },
    });
    const s = space('Finance Reports');
    expect(req.targetRef).toEqual({
      kind: 'qlik-spaces',
      instance: 'default',
      resource: { kind: 'space', id: s.id, name: 'Finance Reports' },
    });
    expect(req.entitlement).toEqual({ id: 'producer', name: 'producer' });
    // Frank gets consumer there through group Finance: the note says so, as for tenant roles.
    const consumer = await h.file({ requester: P.bob, who: frank, roleName: 'consumer', resource: FINANCE });
    expect(consumer.notes).toEqual([{ code: 'held-via-groups', groups: ['Finance'] }]);
  });

  it('refuses a role the space type does not offer with the roles it does, and a missing space with the closest names', async () => {
    expect(
      await h.app.fileRequest({
        requester: P.bob,
        action: 'grant',
        who: frank,
        roleName: 'contributor',
        resource: FINANCE,
      }),
    ).toMatchObject({
      ok: false,
      code: 'resource-refused',
      refusal: {
        code: 'not-offered',
        asked: 'contributor',
        offered: expect.arrayContaining(['consumer (Can view)']),
      },
    });
    expect(
      await h.app.fileRequest({
        requester: P.bob,
        action: 'grant',
        who: frank,
        roleName: 'consumer',
        resource: { kind: 'space', name: 'Finanse Reports' },
      }),
    ).toMatchObject({
      ok: false,
      code: 'resource-refused',
      refusal: { code: 'no-such-resource', suggestions: expect.arrayContaining(['Finance Reports']) },
    });
  });

  it("answers a grant to the space's owner and refuses a revoke from them; a role not held directly is not revoked", async () => {
    const owner = { kind: 'email', email: 'dan@corp.example' } as const;
    for (const action of ['grant', 'revoke'] as const) {
      expect(
        await h.app.fileRequest({
          requester: P.bob,
          action,
          who: owner,
          roleName: 'consumer',
          resource: FINANCE,
        }),
      ).toMatchObject({ ok: false, code: 'owner', action, resource: { name: 'Finance Reports' } });
    }
    expect(
      await h.app.fileRequest({
        requester: P.bob,
        action: 'revoke',
        who: frank,
        roleName: 'consumer',
        resource: FINANCE,
      }),
    ).toMatchObject({
      ok: false,
      code: 'not-held',
      viaGroups: ['Finance'],
      resource: { name: 'Finance Reports' },
    });
  });

  it('checks the space sections of the policy, not the tenant roles', async () => {
    h.policyText = `${BASE_POLICY}spaces:\n  Finance Reports:\n    roles:\n      producer: { reasonRequired: true }\n`;
    h.app = h.appWith({});
    expect(
      await h.app.fileRequest({
        requester: P.bob,
        action: 'grant',
        who: frank,
        roleName: 'producer',
        resource: FINANCE,
      }),
    ).toMatchObject({
      ok: false,
      code: 'policy-refused',
      refusal: { code: 'reason-required', role: 'producer' },
    });
  });
});

describe('Extend on a space grant', () => {
  it('files the extension for the same space, under the space rules', async () => {
    const grant = await h.applied(
      await h.file({
        requester: P.bob,
        who: frank,
        roleName: 'producer',
        resource: FINANCE,
        durationMs: 2 * 3_600_000,
      }),
    );
    const ext = await h.app.extend(grant.id, P.bob);
    if (!ext.ok) throw new Error(`refused: ${JSON.stringify(ext)}`);
    expect(ext.request.targetRef).toEqual(grant.targetRef);
    expect(ext.request).toMatchObject({ extends: grant.id, entitlement: { name: 'producer' } });
    // Under the space's own rule: a cap there caps the extension too.
    h.policyText = `${BASE_POLICY}spaces:\n  Finance Reports:\n    roles:\n      producer: { maxDuration: 1h }\n`;
    h.app = h.appWith({});
    await h.app.cancel(ext.request.id, P.bob);
    expect(await h.app.extend(grant.id, P.bob)).toMatchObject({
      ok: false,
      code: 'policy-refused',
      refusal: { code: 'max-duration', role: 'producer' },
    });
  });
});

describe("the space's managers approve where the policy says so", () => {
  it('lets the owner (not an approver) approve in a space with managersApprove, and nowhere else', async () => {
    h.policyText = `${BASE_POLICY}spaces:\n  Finance Reports: { managersApprove: true }\n`;
    h.app = h.appWith({});
    // Dan owns Finance Reports and is in no approver list. The announcement names him (Conor, a facilitator, has
    // no Slack account with his email here).
    const inFinance = await h.file({ requester: P.bob, who: frank, roleName: 'producer', resource: FINANCE });
    expect(inFinance.notes).toContainEqual({ code: 'managers-may-approve', people: [P.dan], unmatched: 1 });
    expect(await h.app.approve(inFinance.id, P.dan)).toMatchObject({ ok: true, code: 'approved' });
    const elsewhere = await h.file({
      requester: P.bob,
      who: frank,
      roleName: 'consumer',
      resource: { kind: 'space', name: 'EMEA Sales' },
    });
    expect(await h.app.approve(elsewhere.id, P.dan)).toMatchObject({ ok: false, code: 'not-approver' });
  });

  it('counts a facilitator as a manager, read from Qlik at click time, and never the requester', async () => {
    h.policyText = `${BASE_POLICY}spaces:\n  Finance Reports: { managersApprove: true }\n`;
    h.app = h.appWith({});
    h.dir.add('U0CONOR', 'conor', "o'brien@corp.example"); // facilitator of Finance Reports
    const conor = slackPerson('U0CONOR');
    const own = await h.file({ requester: conor, who: frank, roleName: 'producer', resource: FINANCE });
    expect(await h.app.approve(own.id, conor)).toMatchObject({ ok: false, code: 'not-eligible' });
    await h.app.cancel(own.id, conor);
    const req = await h.file({ requester: P.bob, who: frank, roleName: 'producer', resource: FINANCE });
    // Conor stops managing the space after the request was filed: his click no longer counts.
    const s = space('Finance Reports');
    const conorId = [...h.sim.tenant.users()].find((u) => u.email === "o'brien@corp.example")!.id;
    const before = h.sim.tenant.spaceRolesOf(s.id, conorId);
    h.sim.tenant.setSpaceRoles(s.id, conorId, ['consumer']);
    try {
      expect(await h.app.approve(req.id, conor)).toMatchObject({ ok: false, code: 'not-approver' });
      h.sim.tenant.setSpaceRoles(s.id, conorId, before);
      expect(await h.app.approve(req.id, conor)).toMatchObject({ ok: true, code: 'approved' });
    } finally {
      h.sim.tenant.setSpaceRoles(s.id, conorId, before);
    }
  });
});

describe('space questions', () => {
  it('lists the members of a space: owner, users and groups with their roles', async () => {
    const res = await h.app.resourceMembers({ kind: 'space', name: 'finance reports' });
    if (!res.ok) throw new Error(`refused: ${JSON.stringify(res)}`);
    expect(res.resource).toMatchObject({ name: 'Finance Reports', type: 'shared' });
    expect(res.owner?.email).toBe('dan@corp.example');
    expect(res.groups.first).toContainEqual({
      principal: expect.objectContaining({ name: 'Finance' }),
      entitlements: ['consumer'],
    });
    expect(res.users.first.map((m) => m.entitlements)).toContainEqual(['facilitator']);
    expect(await h.app.resourceMembers({ kind: 'space', name: 'Nope' })).toMatchObject({
      ok: false,
      code: 'resource-refused',
      refusal: { code: 'no-such-resource' },
    });
  });

  it('lists spaces whose name contains the text, with type and owner', async () => {
    const res = await h.app.listResources('space', 'finance');
    if (!res.ok) throw new Error(`refused: ${JSON.stringify(res)}`);
    expect(res.resources.map((r) => r.name)).toEqual(['Finance Reports', 'Finance Reports Archive']);
    expect(res.resources[0]).toMatchObject({
      type: 'shared',
      owner: expect.objectContaining({ email: 'dan@corp.example' }),
    });
  });

  it('answers who-has for a role in a space, and whois with the space roles', async () => {
    const who = await h.app.whoHas('consumer', { resource: FINANCE });
    if (!who.ok) throw new Error(`refused: ${JSON.stringify(who)}`);
    expect(who.resource?.name).toBe('Finance Reports');
    expect(who.groups).toContainEqual({ name: 'Finance' });
    const whois = await h.app.whois({ kind: 'email', email: 'dan@corp.example' }, P.bob);
    if (!whois.ok) throw new Error(`refused: ${JSON.stringify(whois)}`);
    expect(whois.resourceKind).toBe('space');
    const across = whois.resources;
    if (!across || 'unavailable' in across) throw new Error('space roles not read');
    expect(across.partial).toBe(false);
    expect(across.held).toContainEqual(
      expect.objectContaining({
        resource: expect.objectContaining({ name: 'Finance Reports' }),
        owner: true,
      }),
    );
  });
});
