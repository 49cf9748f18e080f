// Filing an invite, driven directly: the email (typed, or a chat user's profile), the policy's invites section, the
// person's account in Qlik (none: invite; invited: invite again; active or disabled: refused), and the roles and
// space role that follow the account, each checked as a grant of its own would be.
import { describe, expect, it } from 'vitest';
import { slackPerson } from '../../../src/slack/people.ts';
import { INVITE, RESEND_INVITE } from '../../../src/targets/qlik-account/target.ts';
import { BASE_POLICY, P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-invite', spaces: true, accounts: 'qlik' });
const email = (e: string) => ({ kind: 'email', email: e }) as const;

describe('filing an invite', () => {
  it('files one request for the account, with its roles and space role to follow', async () => {
    const res = await h.app.invite({
      requester: P.bob,
      who: email('newcomer@corp.example'),
      roleNames: ['steward', 'DataSpaceCreator'],
      space: { name: 'Finance Reports', role: 'Can view' },
      reason: 'joins finance',
    });
    if (res.code !== 'filed') throw new Error(`refused: ${JSON.stringify(res)}`);
    const space = h.sim.tenant.spaceByName('Finance Reports')!;
    expect(res.request).toMatchObject({
      state: 'pending',
      targetRef: { kind: 'qlik-account', instance: 'default' },
      entitlement: INVITE,
      target: { kind: 'user', id: 'invite:newcomer@corp.example', email: 'newcomer@corp.example' },
      followOns: [
        { targetRef: { kind: 'qlik-roles', instance: 'default' }, entitlement: { name: 'Steward' } },
        { targetRef: { kind: 'qlik-roles', instance: 'default' }, entitlement: { name: 'DataSpaceCreator' } },
        {
          targetRef: {
            kind: 'qlik-spaces',
            resource: { kind: 'space', id: space.id, name: 'Finance Reports' },
          },
          entitlement: { id: 'consumer', name: 'consumer' },
        },
      ],
    });
    expect(h.notifier.posted.map((r) => r.id)).toEqual([res.request.id]);
    // The same invite again is a duplicate, not a second request.
    const again = await h.app.invite({
      requester: P.bob,
      who: email('NEWCOMER@corp.example'),
      roleNames: [],
    });
    expect(again).toMatchObject({ ok: false, code: 'duplicate', duplicateOf: { id: res.request.id } });
  });

  it('invites a chat user by the email on their profile, linked so they cannot approve it themselves', async () => {
    h.dir.add('U0NEWBIE', 'newbie', 'newbie@corp.example');
    const newbie = slackPerson('U0NEWBIE');
    const res = await h.app.invite({
      requester: P.bob,
      who: { kind: 'person', person: newbie },
      roleNames: [],
    });
    if (res.code !== 'filed') throw new Error(`refused: ${JSON.stringify(res)}`);
    expect(res.request.target).toMatchObject({ email: 'newbie@corp.example', person: newbie });
    expect(await h.app.approve(res.request.id, newbie)).toMatchObject({ ok: false, code: 'not-eligible' });
    expect(await h.app.approve(res.request.id, P.alice)).toMatchObject({ ok: true, code: 'approved' });
  });

  it('sends the invitation again to someone already invited, and refuses an active or a disabled account', async () => {
    const ivy = h.sim.tenant.usersByEmail('ivy@corp.example')[0]!;
    const res = await h.app.invite({ requester: P.bob, who: email('ivy@corp.example'), roleNames: [] });
    if (res.code !== 'filed') throw new Error(`refused: ${JSON.stringify(res)}`);
    expect(res.request).toMatchObject({ entitlement: RESEND_INVITE, target: { id: ivy.id } });
    expect(
      await h.app.invite({ requester: P.bob, who: email('alice@corp.example'), roleNames: [] }),
    ).toMatchObject({
      ok: false,
      code: 'has-account',
      email: 'alice@corp.example',
    });
    expect(
      await h.app.invite({ requester: P.bob, who: email('viktor@corp.example'), roleNames: [] }),
    ).toMatchObject({
      ok: false,
      code: 'account-disabled',
    });
  });

  it('checks each role as a grant: unknown, not requestable, or time-bound only', async () => {
    const invite = (roleNames: string[]) =>
      h.app.invite({ requester: P.bob, who: email('roles.check@corp.example'), roleNames });
    expect(await invite(['Stewart'])).toMatchObject({
      ok: false,
      code: 'unknown-role',
      suggestions: ['Steward'],
    });
    expect(await invite(['AuditAdmin'])).toMatchObject({
      ok: false,
      code: 'policy-refused',
      refusal: { code: 'not-requestable', role: 'AuditAdmin' },
    });
    // TenantAdmin wants a reason (the invite's counts) and has a 4h cap: it follows the invite for 4 hours.
    expect(await invite(['TenantAdmin'])).toMatchObject({
      ok: false,
      code: 'policy-refused',
      refusal: { code: 'reason-required', role: 'TenantAdmin' },
    });
    const capped = await h.app.invite({
      requester: P.bob,
      who: email('roles.check@corp.example'),
      roleNames: ['TenantAdmin'],
      reason: 'r',
    });
    if (capped.code !== 'filed') throw new Error(`refused: ${JSON.stringify(capped)}`);
    expect(capped.request.followOns).toEqual([
      expect.objectContaining({
        entitlement: expect.objectContaining({ name: 'TenantAdmin' }),
        durationMs: 4 * 3_600_000,
      }),
    ]);
    await h.app.cancel(capped.request.id, P.bob);
    // A role that must be time-bound with no longest time given can't follow an invite.
    h.policyText = `${BASE_POLICY.replace('roles:', 'roles:\n  Steward: { durationRequired: true }')}`;
    h.app = h.appWith({});
    expect(await invite(['Steward'])).toMatchObject({
      ok: false,
      code: 'invite-role-time-bound',
      role: 'Steward',
    });
    expect(
      await h.app.invite({
        requester: P.bob,
        who: email('roles.check@corp.example'),
        roleNames: [],
        space: { name: 'Finance Reports', role: 'contributor' },
      }),
    ).toMatchObject({ ok: false, code: 'resource-refused', refusal: { code: 'not-offered' } });
  });

  it('follows the policy: invites off, allowed domains, a reason required, and only people', async () => {
    h.policyText = `${BASE_POLICY}invites: { enabled: false }\n`;
    h.app = h.appWith({});
    expect(h.app.invitesOffered()).toBe(false);
    expect(
      await h.app.invite({ requester: P.bob, who: email('x@corp.example'), roleNames: [] }),
    ).toMatchObject({
      code: 'invites-off',
    });
    h.policyText = `${BASE_POLICY}invites: { allowedDomains: [partner.example], reasonRequired: true }\n`;
    h.app = h.appWith({});
    expect(h.app.invitesOffered()).toBe(true);
    expect(
      await h.app.invite({ requester: P.bob, who: email('x@corp.example'), roleNames: [], reason: 'r' }),
    ).toMatchObject({ code: 'invite-domain', allowed: ['partner.example'] });
    expect(
      await h.app.invite({ requester: P.bob, who: email('x@eu.partner.example'), roleNames: [] }),
    ).toMatchObject({
      code: 'policy-refused',
      refusal: { code: 'reason-required', role: 'invite' },
    });
    const ok = await h.app.invite({
      requester: P.bob,
      who: email('x@eu.partner.example'),
      roleNames: [],
      reason: 'r',
    });
    expect(ok).toMatchObject({ code: 'filed' });
    expect(
      await h.app.invite({
        requester: P.bob,
        who: { kind: 'group', name: 'Finance' },
        roleNames: [],
        reason: 'r',
      }),
    ).toMatchObject({
      code: 'invite-group',
    });
  });

  it("approvers come from the policy's invites section", async () => {
    h.policyText = `${BASE_POLICY}invites: { approvers: [${U.carol}] }\n`;
    h.app = h.appWith({});
    const res = await h.app.invite({ requester: P.bob, who: email('approvals@corp.example'), roleNames: [] });
    if (res.code !== 'filed') throw new Error(`refused: ${JSON.stringify(res)}`);
    expect(await h.app.approve(res.request.id, P.alice)).toMatchObject({ ok: false, code: 'not-approver' });
    expect(await h.app.approve(res.request.id, P.carol)).toMatchObject({ ok: true, code: 'approved' });
  });
});
