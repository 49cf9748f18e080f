import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import {
  approvalChannelOf,
  approverEligibility,
  checkRequest,
  inviteDomainAllowed,
  loadPolicy,
  type Policy,
  PolicyError,
  parsePolicy,
  requestRule,
  rolePolicy,
  splitApprovers,
} from '../../src/domain/policy.ts';
import type { RoleChangeRequest } from '../../src/domain/request.ts';
import { demoPolicyYaml } from '../../src/sandbox/run/demo-world.ts';

const H = 3_600_000;
const ENV = { approvalChannel: 'C0ENVCHAN', approvers: ['U0ENVAPPR'] };

function problemsOf(yaml: string, env: Parameters<typeof parsePolicy>[1] = ENV): readonly string[] {
  try {
    parsePolicy(yaml, env);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).problems;
  }
  throw new Error('expected a PolicyError');
}

describe('parsePolicy: reminders and escalation', () => {
  it('reminds after 4 h and never escalates by default; REMIND_AFTER and ESCALATE_AFTER set the defaults', () => {
    expect(parsePolicy('', ENV).defaults).toMatchObject({ remindAfterMs: 4 * 3_600_000, escalateAfterMs: 0 });
    const p = parsePolicy('fallbackApprovers: [U0BOSS001, S0LEADS01]\n', {
      ...ENV,
      remindAfterMs: 0,
      escalateAfterMs: 8 * 3_600_000,
    });
    expect(p.defaults).toMatchObject({
      remindAfterMs: 0,
      escalateAfterMs: 8 * 3_600_000,
      fallbackApprovers: ['U0BOSS001', 'S0LEADS01'],
    });
  });

  it('takes per-role overrides, `off` included, and the fallback approvers per role', () => {
    const p = parsePolicy(
      `fallbackApprovers: [U0BOSS001]
escalateAfter: 1d
roles:
  TenantAdmin: { remindAfter: 30m, escalateAfter: 2h, fallbackApprovers: [U0CISO001] }
  Steward: { remindAfter: off, escalateAfter: off }
`,
      ENV,
    );
    expect(p.defaults).toMatchObject({ escalateAfterMs: 86_400_000, fallbackApprovers: ['U0BOSS001'] });
    expect(p.roles.get('tenantadmin')).toMatchObject({
      remindAfterMs: 30 * 60_000,
      escalateAfterMs: 2 * 3_600_000,
      fallbackApprovers: ['U0CISO001'],
    });
    expect(p.roles.get('steward')).toMatchObject({
      remindAfterMs: 0,
      escalateAfterMs: 0,
      fallbackApprovers: ['U0BOSS001'],
    });
  });

  it('refuses an escalation with nobody to escalate to, and a malformed duration', () => {
    expect(() => parsePolicy('escalateAfter: 8h\n', ENV)).toThrow(/escalateAfter: list fallbackApprovers/);
    expect(() => parsePolicy('', { ...ENV, escalateAfterMs: 3_600_000 })).toThrow(/unset ESCALATE_AFTER/);
    expect(() => parsePolicy('roles:\n  X: { remindAfter: soon }\n', ENV)).toThrow(/roles.X.remindAfter/);
    expect(() => parsePolicy('fallbackApprovers: [alice]\n', ENV)).toThrow(/fallbackApprovers/);
  });
});

describe('parsePolicy: defaults and the environment', () => {
  it('builds a policy from the environment alone', () => {
    const p = parsePolicy('', ENV);
    expect(p.approvalChannel).toBe('C0ENVCHAN');
    expect(p.defaults).toEqual({
      approvers: ['U0ENVAPPR'],
      approvalsRequired: 1,
      reasonRequired: false,
      minDurationMs: 5 * 60_000,
      durationRequired: false,
      allowDisabledUsers: false,
      autoApprove: false,
      requestable: true,
      managersApprove: false,
      approverDms: false,
      remindAfterMs: 4 * 3_600_000,
      escalateAfterMs: 0,
      fallbackApprovers: [],
    });
    expect(p.roles.size).toBe(0);
  });

  it('lets the file win over the environment, and the environment fill what the file leaves out', () => {
    const p = parsePolicy('approvers: [U0FILE001]\n', ENV);
    expect(p.defaults.approvers).toEqual(['U0FILE001']);
    expect(p.approvalChannel).toBe('C0ENVCHAN');
    const q = parsePolicy('approvalChannel: C0FILECHN\n', ENV);
    expect(q.approvalChannel).toBe('C0FILECHN');
    expect(q.defaults.approvers).toEqual(['U0ENVAPPR']);
  });

  it('accepts approvers as a comma-separated string', () => {
    expect(parsePolicy('approvers: U0AAA001, S0GRP001', ENV).defaults.approvers).toEqual([
      'U0AAA001',
      'S0GRP001',
    ]);
  });

  it('requires an approval channel and approvers from somewhere', () => {
    expect(problemsOf('', {})).toEqual([
      expect.stringMatching(/^approvalChannel: required.*APPROVAL_CHANNEL/),
      expect.stringMatching(/^approvers: required.*APPROVERS/),
    ]);
    expect(problemsOf('approvers: []', { approvalChannel: 'C0X1' })).toEqual([
      expect.stringMatching(/^approvers: required/),
    ]);
  });

  it('merges role rules over the defaults, matched without regard to case', () => {
    const p = parsePolicy(
      `
approvers: [U0DEF0001]
approvalsRequired: 1
maxDuration: 30d
reasonRequired: true
roles:
  TenantAdmin: { approvers: [U0TA00001, U0TA00002], approvalsRequired: 2, maxDuration: 4h, durationRequired: true }
  SharedSpaceCreator: { autoApprove: true }
  AuditAdmin: { requestable: false }
  "My Custom Role":
`,
      ENV,
    );
    expect(rolePolicy(p, 'tenantADMIN')).toEqual({
      approvers: ['U0TA00001', 'U0TA00002'],
      approvalsRequired: 2,
      reasonRequired: true,
      durationRequired: true,
      maxDurationMs: 4 * H,
      minDurationMs: 5 * 60_000,
      allowDisabledUsers: false,
      autoApprove: false,
      requestable: true,
      managersApprove: false,
      approverDms: false,
      remindAfterMs: 4 * 3_600_000,
      escalateAfterMs: 0,
      fallbackApprovers: [],
    });
    expect(rolePolicy(p, 'sharedspacecreator')).toMatchObject({
      autoApprove: true,
      approvers: ['U0DEF0001'],
      maxDurationMs: 30 * 24 * H,
    });
    expect(rolePolicy(p, 'AuditAdmin').requestable).toBe(false);
    expect(rolePolicy(p, 'my custom role')).toEqual(p.defaults);
    expect(rolePolicy(p, 'NotListed')).toBe(p.defaults);
  });
});

describe('parsePolicy: invalid policies name every problem by path', () => {
  const cases: [name: string, yaml: string, problems: RegExp[]][] = [
    ['YAML syntax', 'approvers: [U0AAA001\nroles: x', [/^.*(line \d+|Flow sequence)/]],
    ['duplicate YAML keys', 'approvers: [U0AAA001]\napprovers: [U0AAA002]', [/unique/i]],
    ['not a mapping', '- a\n- b', [/^expected a mapping/]],
    [
      'bad values everywhere, all at once',
      `
approvalChannel: general
approvers: [U0AAA001, bob]
approvalsRequired: 0
maxDuration: forever
aprovers: [U0AAA001]
roles:
  TenantAdmin: { maxDuration: 4x, reasonRequired: "yes", colour: red }
  X: 5
`,
      [
        /^approvalChannel: expected a channel id such as C0123ABCD$/,
        /^approvers\[1\]: expected a Slack user id .* got "bob"$/,
        /^approvalsRequired: expected a whole number of approvals, 1 or more$/,
        /^maxDuration: expected a duration such as 4h/,
        /^aprovers: unknown key "aprovers" \(did you mean approvers\?\)/,
        /^roles\.TenantAdmin\.maxDuration: expected a duration such as 4h/,
        /^roles\.TenantAdmin\.reasonRequired: expected true or false$/,
        /^roles\.TenantAdmin\.colour: unknown key "colour"/,
        /^roles\.X: expected a mapping/,
      ],
    ],
    [
      'rules that contradict themselves',
      `
roles:
  TenantAdmin: { approvers: [U0AAA001], approvalsRequired: 2 }
  tenantadmin: { requestable: false }
  AuditAdmin: { requestable: false, autoApprove: true }
  Steward: { approvers: [] }
`,
      [
        /^roles\.TenantAdmin\.approvalsRequired: 2 approvals are required but only 1 approver is listed$/,
        /^roles\.tenantadmin: the same role as roles\.TenantAdmin/,
        /^roles\.AuditAdmin\.autoApprove: has no effect because requestable is false/,
        /^roles\.Steward\.approvers: list at least one approver/,
      ],
    ],
    [
      'too few default approvers',
      'approvalsRequired: 3\napprovers: [U0AAA001, U0AAA002]',
      [/^approvalsRequired: 3 approvals are required but only 2 approvers are listed$/],
    ],
  ];
  it.each(cases)('%s', (_name, yaml, expected) => {
    const problems = problemsOf(yaml);
    for (const re of expected)
      expect(
        problems.some((p) => re.test(p)),
        `${re} in ${JSON.stringify(problems)}`,
      ).toBe(true);
    expect(problems).toHaveLength(expected.length);
  });

  it('does not count approvals against user groups, whose size is only known at click time', () => {
    expect(() => parsePolicy('approvers: [S0GRP0001]\napprovalsRequired: 3', ENV)).not.toThrow();
  });

  it('reports missing settings together with other problems', () => {
    const problems = problemsOf('approvalsRequired: -1', {});
    expect(problems).toEqual([
      expect.stringMatching(/^approvalsRequired:/),
      expect.stringMatching(/^approvalChannel: required/),
      expect.stringMatching(/^approvers: required/),
    ]);
  });

  it('PolicyError lists the problems in its message', () => {
    expect(() => parsePolicy('', {})).toThrow(/Invalid policy:\n {2}- approvalChannel: required/);
  });
});

describe('the example policy', () => {
  it('parses, with the rules its comments describe', () => {
    const p = parsePolicy(readFileSync(new URL('../../examples/policy.yml', import.meta.url), 'utf8'), {});
    expect(p.approvalChannel).toMatch(/^C/);
    expect(rolePolicy(p, 'TenantAdmin')).toMatchObject({
      approvalsRequired: 2,
      reasonRequired: true,
      maxDurationMs: 4 * H,
    });
    expect(rolePolicy(p, 'SharedSpaceCreator').autoApprove).toBe(true);
    expect(rolePolicy(p, 'AuditAdmin').requestable).toBe(false);
    expect(rolePolicy(p, 'finance reader').approvers).toEqual(['S0FINANCE1']);
    expect(p.defaults).toMatchObject({ minDurationMs: 5 * 60_000, allowDisabledUsers: false });
    // As its comments say: a capped role without `for …` gets the cap; durationRequired refuses instead.
    expect(checkRequest(p, { action: 'grant', roleName: 'AnalyticsAdmin', reason: 'x' })).toMatchObject({
      ok: true,
      durationMs: 7 * 24 * H,
      durationDefaulted: true,
    });
    expect(checkRequest(p, { action: 'grant', roleName: 'TenantAdmin', reason: 'x' }).ok).toBe(false);
  });
});

describe('the sandbox policy', () => {
  it("allows the help's `TenantAdmin for 2m` (its minimum is 1m) and gives uncapped grants 30 days", () => {
    const p = parsePolicy(demoPolicyYaml(), {});
    expect(
      checkRequest(p, {
        action: 'grant',
        roleName: 'TenantAdmin',
        reason: 'incident',
        durationMs: 2 * 60_000,
      }).ok,
    ).toBe(true);
    expect(checkRequest(p, { action: 'grant', roleName: 'Steward' })).toMatchObject({
      durationMs: 30 * 24 * H,
      durationDefaulted: true,
    });
  });
});

describe('loadPolicy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const config = (over: Partial<Config>): Config =>
    ({ approvalChannel: 'C0ENVCHAN', approvers: ['U0ENVAPPR'], ...over }) as Config;

  it('reads POLICY_FILE when set', () => {
    const file = join(dir, 'policy.yml');
    writeFileSync(file, 'roles:\n  TenantAdmin: { approvalsRequired: 1, reasonRequired: true }\n');
    const p = loadPolicy(config({ policyFile: file }));
    expect(rolePolicy(p, 'TenantAdmin').reasonRequired).toBe(true);
    expect(p.approvalChannel).toBe('C0ENVCHAN');
  });

  it('uses the environment alone without a file', () => {
    expect(loadPolicy(config({})).defaults.approvers).toEqual(['U0ENVAPPR']);
  });

  it('names the file when it cannot be read or is invalid', () => {
    expect(() => loadPolicy(config({ policyFile: join(dir, 'missing.yml') }))).toThrow(
      /POLICY_FILE: cannot read .*missing\.yml \(ENOENT\)/,
    );
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'approvalsRequired: lots\n');
    expect(() => loadPolicy(config({ policyFile: bad }))).toThrow(
      /Invalid policy file .*bad\.yml:\n {2}- approvalsRequired:/,
    );
  });
});

describe('checkRequest', () => {
  const policy: Policy = parsePolicy(
    `
maxDuration: 30d
roles:
  TenantAdmin: { reasonRequired: true, maxDuration: 4h, durationRequired: true }
  AuditAdmin: { requestable: false }
  Steward: { maxDuration: 2d }
`,
    ENV,
  );

  // The words for each refusal are in test/slack/words.test.ts; here, the code and the data they need.
  it.each([
    ['grant', 'AuditAdmin', {}, { code: 'not-requestable', role: 'AuditAdmin', action: 'grant' }],
    ['revoke', 'auditadmin', {}, { code: 'not-requestable', role: 'auditadmin', action: 'revoke' }],
    ['grant', 'TenantAdmin', { durationMs: H }, { code: 'reason-required', role: 'TenantAdmin' }],
    ['revoke', 'TenantAdmin', {}, { code: 'reason-required', role: 'TenantAdmin' }],
    [
      'grant',
      'TenantAdmin',
      { reason: '   ', durationMs: H },
      { code: 'reason-required', role: 'TenantAdmin' },
    ],
    [
      'grant',
      'TenantAdmin',
      { reason: 'incident', durationMs: 2 * 24 * H },
      { code: 'max-duration', role: 'TenantAdmin', maxMs: 4 * H, askedMs: 2 * 24 * H },
    ],
    [
      'grant',
      'TenantAdmin',
      { reason: 'incident' },
      { code: 'duration-required', role: 'TenantAdmin', maxMs: 4 * H },
    ],
    [
      'grant',
      'Steward',
      { durationMs: 3 * 24 * H },
      { code: 'max-duration', role: 'Steward', maxMs: 2 * 24 * H, askedMs: 3 * 24 * H },
    ],
    [
      'grant',
      'NotListed',
      { durationMs: 31 * 24 * H },
      { code: 'max-duration', role: 'NotListed', maxMs: 30 * 24 * H, askedMs: 31 * 24 * H },
    ],
  ] as const)('%s %s %j is refused', (action, roleName, extra, refusal) => {
    expect(checkRequest(policy, { action, roleName, ...extra })).toEqual({ ok: false, ...refusal });
  });

  it('refuses a grant without `for …` when durations are required, without a cap to name', () => {
    const required = parsePolicy('durationRequired: true\n', ENV);
    expect(checkRequest(required, { action: 'grant', roleName: 'X' })).toEqual({
      ok: false,
      code: 'duration-required',
      role: 'X',
    });
  });

  it.each([
    ['grant', 'TenantAdmin', { reason: 'incident', durationMs: 4 * H }, 4 * H],
    ['revoke', 'TenantAdmin', { reason: 'done', durationMs: 99 * 24 * H }, undefined],
    ['grant', 'steward', { durationMs: 2 * 24 * H }, 2 * 24 * H],
    ['grant', 'Steward', { durationMs: 5 * 60_000 }, 5 * 60_000],
  ] as const)(
    '%s %s %j is allowed, with the rule and the duration asked for',
    (action, roleName, extra, ms) => {
      const r = checkRequest(policy, { action, roleName, ...extra });
      expect(r).toEqual({
        ok: true,
        rule: rolePolicy(policy, roleName),
        ...(ms === undefined ? {} : { durationMs: ms }),
      });
    },
  );

  it('never grants a capped role permanently: no `for …` means the cap, and says it was defaulted', () => {
    expect(checkRequest(policy, { action: 'grant', roleName: 'Steward' })).toEqual({
      ok: true,
      rule: rolePolicy(policy, 'Steward'),
      durationMs: 2 * 24 * H,
      durationDefaulted: true,
    });
    // The default cap (30d) applies to roles not listed too.
    expect(checkRequest(policy, { action: 'grant', roleName: 'NotListed' })).toMatchObject({
      ok: true,
      durationMs: 30 * 24 * H,
      durationDefaulted: true,
    });
    // Without any cap a grant without `for …` stays permanent.
    const uncapped = parsePolicy('', ENV);
    expect(checkRequest(uncapped, { action: 'grant', roleName: 'X' })).toEqual({
      ok: true,
      rule: uncapped.defaults,
    });
  });

  it('refuses grants shorter than the minimum (default 5 minutes), naming it', () => {
    for (const ms of [1_000, 45_000, 4 * 60_000]) {
      const r = checkRequest(policy, { action: 'grant', roleName: 'Steward', durationMs: ms });
      expect(r).toEqual({ ok: false, code: 'min-duration', role: 'Steward', minMs: 5 * 60_000, askedMs: ms });
    }
    const set = parsePolicy(
      'minDuration: 1m\nroles:\n  Steward: { minDuration: 30s }\n  TenantAdmin: { minDuration: 1h }\n',
      ENV,
    );
    expect(checkRequest(set, { action: 'grant', roleName: 'Steward', durationMs: 30_000 }).ok).toBe(true);
    expect(checkRequest(set, { action: 'grant', roleName: 'Other', durationMs: 30_000 })).toEqual({
      ok: false,
      code: 'min-duration',
      role: 'Other',
      minMs: 60_000,
      askedMs: 30_000,
    });
    expect(checkRequest(set, { action: 'grant', roleName: 'TenantAdmin', durationMs: H / 2 })).toEqual({
      ok: false,
      code: 'min-duration',
      role: 'TenantAdmin',
      minMs: H,
      askedMs: H / 2,
    });
  });

  it('refuses a minimum above the cap, by path', () => {
    expect(problemsOf('roles:\n  Steward: { minDuration: 2h, maxDuration: 1h }\n')).toEqual([
      expect.stringMatching(/^roles\.Steward\.minDuration: 2 hours is longer than maxDuration \(1 hour\)/),
    ]);
    expect(problemsOf('minDuration: 2h\nmaxDuration: 1h\n')).toEqual([
      expect.stringMatching(/^minDuration: 2 hours is longer than maxDuration/),
    ]);
  });

  it('reads allowDisabledUsers (default false), per role too', () => {
    const p = parsePolicy('roles:\n  Steward: { allowDisabledUsers: true }\n', ENV);
    expect(p.defaults.allowDisabledUsers).toBe(false);
    expect(rolePolicy(p, 'steward').allowDisabledUsers).toBe(true);
  });
});

describe('approverEligibility', () => {
  const req = (over: Partial<RoleChangeRequest> = {}): RoleChangeRequest => ({
    id: 'R-7KQ2',
    action: 'grant',
    target: { kind: 'user', id: 'q1', name: 'Alice', person: { front: 'slack', id: 'U0ALICE01' } },
    entitlement: { id: 'r1', name: 'TenantAdmin' },
    requester: { front: 'slack', id: 'U0BOB0001' },
    state: 'pending',
    createdAt: 0,
    updatedAt: 0,
    expiresAt: 1,
    approvalsRequired: 2,
    approvals: [],
    ...over,
  });

  it('refuses the requester', () => {
    expect(approverEligibility(req(), { front: 'slack', id: 'U0BOB0001' })).toEqual({
      ok: false,
      code: 'own-request',
      requestId: 'R-7KQ2',
    });
  });
  it('refuses the target of a grant, but not of a revoke', () => {
    expect(approverEligibility(req(), { front: 'slack', id: 'U0ALICE01' })).toEqual({
      ok: false,
      code: 'grants-to-clicker',
      requestId: 'R-7KQ2',
    });
    expect(approverEligibility(req({ action: 'revoke' }), { front: 'slack', id: 'U0ALICE01' })).toEqual({
      ok: true,
    });
  });
  it('counts one approval per person, and says how many more are needed', () => {
    const r = req({ approvals: [{ by: { front: 'slack', id: 'U0CAROL01' }, at: 0 }] });
    expect(approverEligibility(r, { front: 'slack', id: 'U0CAROL01' })).toEqual({
      ok: false,
      code: 'approved-already',
      requestId: 'R-7KQ2',
      more: 1,
    });
    const three = req({
      approvalsRequired: 3,
      approvals: [{ by: { front: 'slack', id: 'U0CAROL01' }, at: 0 }],
    });
    expect(approverEligibility(three, { front: 'slack', id: 'U0CAROL01' })).toMatchObject({
      code: 'approved-already',
      more: 2,
    });
    expect(approverEligibility(r, { front: 'slack', id: 'U0DAVE001' })).toEqual({ ok: true });
  });
  it('allows anyone else, including for group targets', () => {
    expect(
      approverEligibility(req({ target: { kind: 'group', id: 'g', name: 'Finance' } }), {
        front: 'slack',
        id: 'U0ALICE01',
      }),
    ).toEqual({
      ok: true,
    });
  });
});

describe('splitApprovers', () => {
  it('separates Slack user groups (S…) from users (U…/W…)', () => {
    expect(splitApprovers(['U0A', 'S0B', 'W0C', 'S0D'])).toEqual({
      users: ['U0A', 'W0C'],
      groups: ['S0B', 'S0D'],
    });
    expect(splitApprovers([])).toEqual({ users: [], groups: [] });
  });
});

describe('tenants.<name> sections (several Qlik tenants)', () => {
  const TENANTS = { ...ENV, tenants: ['prod', 'dev'] };
  const yaml = [
    'approvalsRequired: 1',
    'roles:',
    '  TenantAdmin: { approvers: [U0ADMIN01], reasonRequired: true, maxDuration: 4h }',
    'tenants:',
    '  dev:',
    '    approvalChannel: C0DEVCHAN',
    '    approvers: [U0DEVAPPR]',
    '    autoApprove: true',
    '    roles:',
    '      Steward: { autoApprove: false, approvalsRequired: 1, approvers: [U0STEWARD] }',
    '      tenantadmin: { maxDuration: 1h }',
  ].join('\n');

  it('overrides the defaults and roles for its tenant only; the more specific section wins', () => {
    const p = parsePolicy(yaml, TENANTS);
    // prod has no section: the file's rules, as without a tenant.
    expect(rolePolicy(p, 'Steward', 'prod')).toEqual(p.defaults);
    expect(rolePolicy(p, 'TenantAdmin', 'prod')).toEqual(rolePolicy(p, 'TenantAdmin'));
    // dev's own keys over the defaults.
    expect(rolePolicy(p, 'Analyzer', 'dev')).toMatchObject({ approvers: ['U0DEVAPPR'], autoApprove: true });
    // dev's roles.<Role> over dev's keys.
    expect(rolePolicy(p, 'steward', 'dev')).toMatchObject({ approvers: ['U0STEWARD'], autoApprove: false });
    // A role of the file's roles: its rule, then dev's keys, then dev's roles.<Role> (matched without case).
    expect(rolePolicy(p, 'TenantAdmin', 'dev')).toMatchObject({
      approvers: ['U0DEVAPPR'],
      reasonRequired: true,
      autoApprove: true,
      maxDurationMs: 1 * H,
    });
    // Where the requests are announced.
    expect(p.tenants?.get('dev')?.approvalChannel).toBe('C0DEVCHAN');
    expect(approvalChannelOf(p, 'dev')).toBe('C0DEVCHAN');
    expect(approvalChannelOf(p, 'prod')).toBe('C0ENVCHAN');
    expect(approvalChannelOf(p)).toBe('C0ENVCHAN');
  });

  it('checks a request against its tenant rule', () => {
    const p = parsePolicy(yaml, TENANTS);
    const twoHours = { action: 'grant' as const, roleName: 'TenantAdmin', reason: 'x', durationMs: 2 * H };
    expect(checkRequest(p, twoHours)).toMatchObject({ ok: true });
    expect(checkRequest(p, { ...twoHours, tenant: 'dev' })).toMatchObject({ ok: false });
  });

  it('a file without tenants has no tenant sections, and the old calls answer as before', () => {
    const p = parsePolicy('roles:\n  Steward: { approvalsRequired: 1 }\n', TENANTS);
    expect(p.tenants).toBeUndefined();
    expect(rolePolicy(p, 'Steward', 'dev')).toEqual(rolePolicy(p, 'Steward'));
  });

  it('validates a tenant section like the rest, every problem at once, by path', () => {
    const problems = problemsOf(
      [
        'tenants:',
        '  qa: { approvers: [U0QA0001] }',
        '  dev:',
        '    approvalChannel: dev-channel',
        '    autoAprove: true',
        '    approvers: []',
        '    roles:',
        '      Steward: { maxDuration: soon, approverz: [U0X00001] }',
      ].join('\n'),
      TENANTS,
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'tenants.dev.approvalChannel: expected a channel id such as C0123ABCD',
        expect.stringMatching(
          /^tenants\.dev\.autoAprove: unknown key "autoAprove" \(did you mean autoApprove\?\)/,
        ),
        expect.stringMatching(/^tenants\.dev\.roles\.Steward\.maxDuration: expected a duration/),
        expect.stringMatching(
          /^tenants\.dev\.roles\.Steward\.approverz: unknown key "approverz" \(did you mean approvers\?\)/,
        ),
      ]),
    );
    // Once the shapes are right, the rules' own checks and the tenant names are checked too.
    expect(
      problemsOf('tenants:\n  qa: { approvers: [U0QA0001] }\n  dev: { approvers: [] }\n', TENANTS),
    ).toEqual([
      'tenants.qa: no tenant qa is configured (QLIK_TENANTS names prod, dev)',
      'tenants.dev.approvers: list at least one approver, or leave the key out to use the default approvers',
    ]);
    expect(problemsOf('tenants:\n  dev: {}\n', { ...ENV, tenants: ['default'] })).toEqual([
      'tenants.dev: tenant sections need QLIK_TENANTS, which names the tenants',
    ]);
  });
});

describe('space sections (spaceDefaults, spaces.<name>)', () => {
  const yaml = [
    'roles:',
    '  consumer: { autoApprove: true }',
    'spaceDefaults:',
    '  approvers: [U0SPACEAP]',
    '  roles:',
    '    facilitator: { approvalsRequired: 2, approvers: [U0ADMIN01, U0ADMIN02] }',
    'spaces:',
    '  Finance Reports:',
    '    managersApprove: true',
    '    roles:',
    '      consumer: { maxDuration: 1w }',
  ].join('\n');

  it('layers file defaults → spaceDefaults → its roles → spaces.<name> → its roles; tenant roles never apply', () => {
    const p = parsePolicy(yaml, ENV);
    // A space role takes nothing from the tenant roles' `roles` section (consumer is autoApprove there).
    expect(rolePolicy(p, 'consumer', undefined, 'Other Space')).toMatchObject({
      approvers: ['U0SPACEAP'],
      autoApprove: false,
      managersApprove: false,
      approverDms: false,
      remindAfterMs: 4 * 3_600_000,
      escalateAfterMs: 0,
      fallbackApprovers: [],
    });
    expect(rolePolicy(p, 'Facilitator', undefined, 'Other Space')).toMatchObject({ approvalsRequired: 2 });
    // The named space (any case): its keys over spaceDefaults, also over spaceDefaults' role rules.
    expect(rolePolicy(p, 'consumer', 'prod', 'finance reports')).toMatchObject({
      approvers: ['U0SPACEAP'],
      managersApprove: true,
      maxDurationMs: 7 * 24 * H,
    });
    expect(rolePolicy(p, 'facilitator', undefined, 'Finance Reports')).toMatchObject({
      approvalsRequired: 2,
      managersApprove: true,
    });
    // A tenant role is untouched.
    expect(rolePolicy(p, 'consumer')).toMatchObject({ autoApprove: true, managersApprove: false });
    expect(
      checkRequest(p, { action: 'grant', roleName: 'consumer', space: 'Finance Reports' }),
    ).toMatchObject({
      ok: true,
      durationMs: 7 * 24 * H,
      durationDefaulted: true,
    });
  });

  it('names problems in space sections by path, with the keys a space section knows', () => {
    expect(problemsOf('spaces:\n  Sales:\n    managersAprove: true')).toEqual([
      expect.stringMatching(/^spaces\.Sales\.managersAprove: unknown key .*did you mean managersApprove\?/),
    ]);
    expect(problemsOf('spaceDefaults:\n  roles:\n    consumer: { autoApprov: true }')).toEqual([
      expect.stringMatching(
        /^spaceDefaults\.roles\.consumer\.autoApprov: unknown key .*did you mean autoApprove\?/,
      ),
    ]);
    expect(problemsOf('roles:\n  Steward: { managersApprove: true }')).toEqual([
      expect.stringMatching(/^roles\.Steward\.managersApprove: unknown key/),
    ]);
    expect(problemsOf('spaces:\n  Sales: {}\n  sales: {}')).toEqual([
      expect.stringMatching(/^spaces\.sales: the same space as spaces\.Sales/),
    ]);
  });

  it('does not count approvers against approvalsRequired when the space managers approve too', () => {
    expect(() =>
      parsePolicy('spaces:\n  Sales: { managersApprove: true, approvalsRequired: 3 }', ENV),
    ).not.toThrow();
    expect(problemsOf('spaces:\n  Sales: { approvalsRequired: 3 }')).toEqual([
      expect.stringMatching(
        /^spaces\.Sales\.approvalsRequired: 3 approvals are required but only 1 approver is listed/,
      ),
    ]);
  });
});

describe('the invites section', () => {
  it('is on by default for any domain, decided by the default approvers', () => {
    const p = parsePolicy('', ENV);
    expect(p.invites).toEqual({ enabled: true, rule: p.defaults });
    expect(inviteDomainAllowed(p, 'x@anywhere.example')).toBe(true);
    expect(requestRule(p, { kind: 'qlik-account', entitlement: 'Qlik account' })).toBe(p.invites.rule);
  });

  it('takes enabled, allowedDomains (a domain and its subdomains) and the rule keys', () => {
    const p = parsePolicy(
      'invites:\n  enabled: true\n  allowedDomains: [Corp.Example, "@partner.example"]\n  approvers: [U0INVITE1]\n  reasonRequired: true',
      ENV,
    );
    expect(p.invites.allowedDomains).toEqual(['corp.example', 'partner.example']);
    expect(p.invites.rule).toMatchObject({ approvers: ['U0INVITE1'], reasonRequired: true });
    expect(inviteDomainAllowed(p, 'a@corp.example')).toBe(true);
    expect(inviteDomainAllowed(p, 'a@eu.corp.example')).toBe(true);
    expect(inviteDomainAllowed(p, 'a@evilcorp.example')).toBe(false);
    expect(inviteDomainAllowed(p, 'a@corp.example.evil')).toBe(false);
  });

  it('names its problems by path', () => {
    expect(problemsOf('invites: { enable: false }')).toEqual([
      expect.stringMatching(/^invites\.enable: unknown key .*did you mean enabled\?/),
    ]);
    expect(problemsOf('invites: { allowedDomains: [not a domain] }')).toEqual([
      expect.stringMatching(/^invites\.allowedDomains\[0\]: expected an email domain/),
    ]);
    expect(problemsOf('invites: { allowedDomains: [] }')).toEqual([
      expect.stringMatching(/^invites\.allowedDomains: list at least one domain/),
    ]);
  });
});

describe('the mode section', () => {
  it('has rules for every Mode request, per group and per collection (any case), over the file defaults', () => {
    const p = parsePolicy(
      [
        'roles:',
        '  Analysts: { autoApprove: true }',
        'mode:',
        '  approvers: [U0MODEAPP]',
        '  groups:',
        '    Analysts: { maxDuration: 30d }',
        '  collections:',
        '    Revenue: { approvalsRequired: 2, approvers: [U0FIN0001, U0FIN0002] }',
      ].join('\n'),
      ENV,
    );
    // A Mode group named like a Qlik role takes nothing from `roles:`.
    expect(requestRule(p, { kind: 'mode-groups', entitlement: 'analysts' })).toMatchObject({
      approvers: ['U0MODEAPP'],
      autoApprove: false,
      maxDurationMs: 30 * 24 * H,
    });
    expect(requestRule(p, { kind: 'mode-groups', entitlement: 'Finance' })).toEqual(p.mode.defaults);
    expect(requestRule(p, { kind: 'mode-collections', entitlement: 'view', space: 'revenue' })).toMatchObject(
      {
        approvalsRequired: 2,
      },
    );
    expect(checkRequest(p, { action: 'grant', roleName: 'Analysts', kind: 'mode-groups' })).toMatchObject({
      ok: true,
      durationMs: 30 * 24 * H,
      durationDefaulted: true,
    });
  });

  it('names its problems by path', () => {
    expect(problemsOf('mode: { grups: {} }')).toEqual([
      expect.stringMatching(/^mode\.grups: unknown key .*did you mean groups\?/),
    ]);
    expect(problemsOf('mode:\n  groups:\n    Analysts: { autoAprove: true }')).toEqual([
      expect.stringMatching(/^mode\.groups\.Analysts\.autoAprove: unknown key .*did you mean autoApprove\?/),
    ]);
  });
});
