// A tenant whose people sign in through its own identity provider (QLIK_IDENTITY_PROVIDER=custom): Qlik cannot
// invite there, so an invite is refused before anything is filed, and no Invite and grant button is offered.
import { describe, expect, it } from 'vitest';
import { P, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-invite-idp', accounts: 'custom' });

describe('an identity-provider tenant', () => {
  it('refuses invites, naming the tenant, and offers none', async () => {
    expect(h.app.invitesOffered()).toBe(false);
    expect(
      await h.app.invite({
        requester: P.bob,
        who: { kind: 'email', email: 'new@corp.example' },
        roleNames: [],
      }),
    ).toEqual({ ok: false, code: 'invites-impossible', instance: 'default' });
  });
});
