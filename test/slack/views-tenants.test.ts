// Messages with several Qlik tenants: each names the tenant of its request (or answer) once more than one tenant
// is configured, and with one tenant every message is word for word what it was.
import { describe, expect, it } from 'vitest';
import type { RequestState, RoleChangeRequest } from '../../src/domain/request.ts';
import {
  approvalMessage,
  autoApprovedMessage,
  decisionNotice,
  duplicateRequestMessage,
  requestFiledMessage,
  requestsMessage,
  resultMessage,
  revokeFailedMessage,
  rolesMessage,
  type SlackMessage,
  type TenantLabels,
  tenantLabel,
  validateMessage,
  whoHasMessage,
  whoisMessage,
} from '../../src/slack/views.ts';
import { H, T0, viewRequest } from './fixtures.ts';

const TWO: TenantLabels = { names: ['prod', 'dev'] };
const ONE: TenantLabels = { names: ['default'] };

function request(over: Partial<RoleChangeRequest> = {}): RoleChangeRequest {
  return viewRequest({ approvalsRequired: 1, ...over });
}

const onDev = (over: Partial<RoleChangeRequest> = {}) =>
  request({ targetRef: { kind: 'qlik-roles', instance: 'dev' }, ...over });
const applied = (r: RoleChangeRequest): RoleChangeRequest => ({
  ...r,
  state: 'applied',
  approvals: [{ by: { front: 'slack', id: 'U0CAROL' }, at: T0 + H }],
  result: { changed: true, message: '', before: [], after: ['TenantAdmin'], revokeAt: T0 + 5 * H },
});
const failure = { message: 'Qlik refused.', at: T0 + 5 * H, actor: 'U0CAROL', trigger: 'manual' as const };

/** Every request message, rendered with the given tenants. */
function requestViews(r: RoleChangeRequest, tenants?: TenantLabels): Record<string, SlackMessage> {
  const t = tenants ? { tenants } : {};
  return {
    approval: approvalMessage(r, t),
    receipt: requestFiledMessage(r, 'qlik-approvals', undefined, tenants),
    receiptUnposted: requestFiledMessage(r, 'qlik-approvals', 'not_in_channel', tenants),
    duplicate: duplicateRequestMessage(r, tenants),
    auto: autoApprovedMessage(r, tenants),
    result: resultMessage(applied(r), t),
    failed: resultMessage({ ...r, state: 'failed', error: 'Qlik said no.' }, t),
    decision: decisionNotice({ ...r, state: 'denied', deniedBy: { front: 'slack', id: 'U0CAROL' } }, tenants),
    revokeFailed: revokeFailedMessage(applied(r), failure, tenants),
    requests: requestsMessage({ mine: [r], toApprove: [r] }, tenants),
  };
}

const all = (m: SlackMessage) => `${m.text}\n${JSON.stringify(m.blocks)}`;

describe('tenantLabel', () => {
  it('names a tenant only when several are configured; no instance or `default` is the first', () => {
    expect(tenantLabel(undefined, 'dev')).toBeUndefined();
    expect(tenantLabel(ONE, 'default')).toBeUndefined();
    expect(tenantLabel(TWO, 'dev')).toBe('dev');
    expect(tenantLabel(TWO, undefined)).toBe('prod');
    expect(tenantLabel(TWO, 'default')).toBe('prod');
  });
});

describe('one tenant: every message word for word as before', () => {
  const states: RequestState[] = ['pending', 'approved', 'applying', 'denied', 'expired', 'cancelled'];
  it.each(states)('a %s request, with and without a recorded target', (state) => {
    for (const r of [
      request({ state }),
      request({ state, targetRef: { kind: 'qlik-roles', instance: 'default' } }),
    ])
      expect(requestViews(r, ONE)).toEqual(requestViews(r));
  });
});

describe('two tenants: the tenant is named', () => {
  it('in every message about a request on dev', () => {
    for (const [name, m] of Object.entries(requestViews(onDev(), TWO))) {
      expect(validateMessage(m), name).toEqual([]);
      expect(all(m), name).toMatch(/ on \*?dev\b/);
      expect(all(m), name).not.toContain('prod');
    }
  });

  it('a request that records no tenant is the default tenant’s, and says so', () => {
    for (const [name, m] of Object.entries(requestViews(request(), TWO))) {
      expect(all(m), name).toMatch(/ on \*?prod\b/);
      expect(all(m), name).not.toContain('dev');
    }
  });

  it('the approval message has a Tenant field and the change names it', () => {
    const m = approvalMessage(onDev(), { tenants: TWO });
    expect(all(m)).toContain('*Tenant*\\ndev');
    expect(m.text).toBe(
      'Request R-7KQ2: grant TenantAdmin to Alice (alice@corp.com) on dev for 4 hours: waiting for approval',
    );
  });

  it('the receipt and result read naturally', () => {
    expect(JSON.stringify(requestFiledMessage(onDev(), 'qlik-approvals', undefined, TWO).blocks)).toContain(
      'grant *TenantAdmin* to Alice (alice@corp.com) on *dev* for 4 hours.',
    );
    expect(JSON.stringify(resultMessage(applied(onDev()), { tenants: TWO }).blocks)).toContain(
      'granted *TenantAdmin* to Alice (alice@corp.com) on *dev*.',
    );
  });

  it('in the who-has, whois and roles answers', () => {
    const holders = {
      role: 'Steward',
      directTotal: 0,
      direct: [],
      viaGroupsTotal: 0,
      groups: [],
      groupsTotal: 0,
    };
    const who = whoHasMessage({ ...holders, csvAttached: false, tenant: 'dev' });
    expect(all(who)).toContain('Who has Steward on dev');
    const whois = whoisMessage({ target: 'Alice', direct: ['Steward'], viaGroups: [], tenant: 'dev' });
    expect(all(whois)).toContain('Roles of Alice on dev');
    expect(whois.text).toMatch(/^Alice on dev: 1 direct role/);
    const roles = rolesMessage([{ name: 'Steward', type: 'custom' }], 'dev');
    expect(all(roles)).toContain('Roles in tenant dev');
    expect(roles.text).toBe('1 role in tenant dev.');
  });
});
