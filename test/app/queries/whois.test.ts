// whois, driven directly: a user's or group's roles and status as the tenant-roles target reads them now.
import { describe, expect, it } from 'vitest';
import { whoisMessage } from '../../../src/slack/views.ts';
import { P, slackApiError, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-whois', extraTenants: ['dev'] });

describe('whois', () => {
  it('shows the status in whois (issue 10 item 2)', async () => {
    const whois = await h.app.whois({ kind: 'person', person: { front: 'slack', id: U.viktor } }, P.dan);
    if (!whois.ok) throw new Error(`refused: ${JSON.stringify(whois)}`);
    expect(whois.status).toBe('disabled');
    expect(JSON.stringify(whoisMessage(whois).blocks)).toContain('The Qlik account is *disabled*');
    const active = await h.app.whois({ kind: 'person', person: { front: 'slack', id: U.frank } }, P.dan);
    expect(active.ok && JSON.stringify(whoisMessage(active).blocks)).not.toContain('Qlik account is');
  });

  it('lists direct roles and roles through groups', async () => {
    expect(await h.app.whois({ kind: 'person', person: { front: 'slack', id: U.frank } }, P.dan)).toEqual({
      ok: true,
      target: 'Frank Fischer (frank@corp.example)',
      kind: 'user',
      status: 'active',
      direct: expect.any(Array),
      viaGroups: expect.arrayContaining([{ group: 'Finance', roles: ['SharedSpaceCreator'] }]),
    });
  });

  it("answers whois for an email even when Slack can't be asked (it doesn't need the Slack id)", async () => {
    h.dir.emailLookupError = slackApiError('missing_scope');
    const whois = await h.app.whois({ kind: 'email', email: 'frank@corp.example' }, P.dan);
    expect(whois).toMatchObject({ ok: true, target: 'Frank Fischer (frank@corp.example)' });
    expect(h.dir.emailLookups).toEqual([]);
  });

  it('answers whois for a group without claiming it has no roles through groups (issue 10 item 11)', async () => {
    const res = await h.app.whois({ kind: 'group', name: 'Finance' }, P.dan);
    if (!res.ok) throw new Error(`refused: ${JSON.stringify(res)}`);
    expect(res.kind).toBe('group');
    const text = JSON.stringify(whoisMessage(res));
    expect(text).not.toContain('through groups');
    expect(text).not.toContain('through 0 groups');
    const user = await h.app.whois({ kind: 'person', person: { front: 'slack', id: U.frank } }, P.dan);
    expect(user.ok && user.kind).toBe('user');
  });

  it('says who is unknown, and refuses a tenant that is not configured', async () => {
    expect(await h.app.whois({ kind: 'email', email: 'nobody@corp.example' }, P.dan)).toEqual({
      ok: false,
      code: 'no-such-user',
      email: 'nobody@corp.example',
      system: 'Qlik',
    });
    expect(await h.app.whois({ kind: 'me' }, P.dan, { instance: 'staging' })).toEqual({
      ok: false,
      code: 'unknown-instance',
      instance: 'staging',
      system: 'Qlik',
      noun: 'tenant',
      configured: ['default', 'dev'],
    });
  });
});
