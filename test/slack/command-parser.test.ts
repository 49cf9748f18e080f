import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GENERAL_USAGE,
  MAX_REASON_LENGTH,
  type ParsedCommand,
  type ParsedWho,
  parseCommand,
  type TypedWho,
  USAGE,
} from '../../src/slack/command-parser.ts';

// Any code point, lone surrogates included (fast-check 4's replacement for fullUnicodeString, without the
// one-off cost of its 'binary' unit).
function fullUnicodeString(maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.nat(0x10ffff).map((c) => String.fromCodePoint(c)), maxLength });
}

// ---- formatting: the inverse of parsing, as Slack would send it (for the round-trip properties below)

function slackEscape(text: string): string {
  return text.replace(/[&<>]/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : '&gt;'));
}

function quote(name: string): string {
  return `"${slackEscape(name.replace(/["\\\u201C\u201D]/g, (ch) => `\\${ch}`))}"`;
}

const PLAIN_ROLE = /^[A-Za-z0-9_.:-]+$/;
const RESERVED_WORDS = new Set(['for', 'because', 'me']);

/** A role as it would be typed: bare when it is a plain word, otherwise quoted. */
function formatRole(role: string): string {
  return PLAIN_ROLE.test(role) && !RESERVED_WORDS.has(role.toLowerCase()) && !/^group:/i.test(role)
    ? role
    : quote(role);
}

function formatWho(who: ParsedWho): string {
  switch (who.kind) {
    case 'handle':
      return `@${who.handle}`;
    case 'me':
      return 'me';
    case 'email':
      return slackEscape(who.email);
    case 'slack-user':
      return who.handle ? `<@${who.userId}|${slackEscape(who.handle)}>` : `<@${who.userId}>`;
    case 'group':
      return /^[^\s"\\\u201C\u201D\u200B]+$/.test(who.name)
        ? `group:${slackEscape(who.name)}`
        : `group:${quote(who.name)}`;
  }
}

function onTenant(cmd: { tenant?: string }): string {
  return cmd.tenant === undefined ? '' : ` on ${cmd.tenant}`;
}

/** Writes a command back as `/qlik` text (without `/qlik`), escaped the way Slack escapes it. */
function formatCommand(cmd: Exclude<ParsedCommand, { kind: 'invalid' }>): string {
  switch (cmd.kind) {
    case 'grant':
    case 'revoke': {
      let s = `${cmd.kind} ${formatWho(cmd.who)} ${formatRole(cmd.role)}${onTenant(cmd)}`;
      if (cmd.kind === 'grant' && cmd.durationText !== undefined) s += ` for ${cmd.durationText}`;
      if (cmd.reason !== undefined) s += ` because ${slackEscape(cmd.reason)}`;
      return s;
    }
    case 'drift':
    case 'review':
      return `${cmd.kind}${cmd.role === undefined ? '' : ` ${formatRole(cmd.role)}`}${cmd.space === undefined ? '' : ` in space:"${cmd.space.replace(/["\\]/g, '\\$&')}"`}${onTenant(cmd)}`;
    case 'who-has':
      return `who-has ${cmd.role === undefined ? '' : formatRole(cmd.role)}${cmd.space === undefined ? '' : ` ${cmd.role === undefined ? '' : 'in '}space:"${cmd.space.replace(/["\\]/g, '\\$&')}"`}${onTenant(cmd)}`;
    case 'spaces':
      return `spaces${cmd.text === undefined ? '' : ` "${cmd.text.replace(/["\\]/g, '\\$&')}"`}${onTenant(cmd)}`;
    case 'whois':
      return `whois ${formatWho(cmd.who)}${onTenant(cmd)}`;
    case 'roles':
      return `roles${onTenant(cmd)}`;
    case 'cancel':
      return `cancel ${cmd.requestId}`;
    case 'audit':
      return cmd.who
        ? `audit ${formatWho(cmd.who)}`
        : cmd.role !== undefined
          ? `audit ${formatRole(cmd.role)}`
          : 'audit';
    default:
      return cmd.kind;
  }
}

const H = 3_600_000;
const D = 24 * H;

describe('parseCommand: well-formed commands', () => {
  const cases: [string, ParsedCommand][] = [
    // Nothing typed, or `grant` and nothing else: the request form.
    ['', { kind: 'form' }],
    ['   \n ', { kind: 'form' }],
    ['grant', { kind: 'form' }],
    ['GRANT  \n', { kind: 'form' }],
    ['help', { kind: 'help' }],
    ['HELP me please', { kind: 'help' }],
    ['roles', { kind: 'roles' }],
    ['Roles', { kind: 'roles' }],
    ['requests', { kind: 'requests' }],
    ['grant me TenantAdmin', { kind: 'grant', who: { kind: 'me' }, role: 'TenantAdmin' }],
    [
      'grant <@U123ABC|alice> TenantAdmin',
      { kind: 'grant', who: { kind: 'slack-user', userId: 'U123ABC', handle: 'alice' }, role: 'TenantAdmin' },
    ],
    [
      'grant <@W123ABC> Steward',
      { kind: 'grant', who: { kind: 'slack-user', userId: 'W123ABC' }, role: 'Steward' },
    ],
    [
      'grant alice@corp.com ManagedSpaceCreator for 4h',
      {
        kind: 'grant',
        who: { kind: 'email', email: 'alice@corp.com' },
        role: 'ManagedSpaceCreator',
        durationMs: 4 * H,
        durationText: '4h',
      },
    ],
    [
      'grant <mailto:alice@corp.com|alice@corp.com> X for 30m',
      {
        kind: 'grant',
        who: { kind: 'email', email: 'alice@corp.com' },
        role: 'X',
        durationMs: 30 * 60_000,
        durationText: '30m',
      },
    ],
    [
      'grant group:Finance AnalyticsAdmin for 2d because month end',
      {
        kind: 'grant',
        who: { kind: 'group', name: 'Finance' },
        role: 'AnalyticsAdmin',
        durationMs: 2 * D,
        durationText: '2d',
        reason: 'month end',
      },
    ],
    [
      'grant group:"Sales Ops" X for 1w',
      {
        kind: 'grant',
        who: { kind: 'group', name: 'Sales Ops' },
        role: 'X',
        durationMs: 7 * D,
        durationText: '1w',
      },
    ],
    [
      'grant group:"A \\"quoted\\" \\\\ name" X',
      { kind: 'grant', who: { kind: 'group', name: 'A "quoted" \\ name' }, role: 'X' },
    ],
    [
      'grant GROUP:\u201CSales Ops\u201D X',
      { kind: 'grant', who: { kind: 'group', name: 'Sales Ops' }, role: 'X' },
    ],
    ['grant group:R&amp;D X', { kind: 'grant', who: { kind: 'group', name: 'R&D' }, role: 'X' }],
    ['grant group: Finance X', { kind: 'grant', who: { kind: 'group', name: 'Finance' }, role: 'X' }],
    [
      'GRANT ME tenantadmin FOR 4H BECAUSE Incident 7',
      {
        kind: 'grant',
        who: { kind: 'me' },
        role: 'tenantadmin',
        durationMs: 4 * H,
        durationText: '4H',
        reason: 'Incident 7',
      },
    ],
    [
      'grant\u00a0me\u00a0\u00a0X\nfor\t4 hours',
      { kind: 'grant', who: { kind: 'me' }, role: 'X', durationMs: 4 * H, durationText: '4 hours' },
    ],
    [
      'grant me "My Custom Role" for 2 days',
      {
        kind: 'grant',
        who: { kind: 'me' },
        role: 'My Custom Role',
        durationMs: 2 * D,
        durationText: '2 days',
      },
    ],
    [
      // The reason is everything after `because`, verbatim (Slack's &lt; &gt; &amp; decoded), trimmed.
      'grant me X because  incident &lt;!channel&gt; &amp; for 4h\n  second line  ',
      {
        kind: 'grant',
        who: { kind: 'me' },
        role: 'X',
        reason: 'incident <!channel> & for 4h\n  second line',
      },
    ],
    ['revoke me X', { kind: 'revoke', who: { kind: 'me' }, role: 'X' }],
    [
      'revoke <@U1AB|bob> TenantAdmin because left the team',
      {
        kind: 'revoke',
        who: { kind: 'slack-user', userId: 'U1AB', handle: 'bob' },
        role: 'TenantAdmin',
        reason: 'left the team',
      },
    ],
    ['who-has TenantAdmin', { kind: 'who-has', role: 'TenantAdmin' }],
    ['who has TenantAdmin', { kind: 'who-has', role: 'TenantAdmin' }],
    ['whohas "My Custom Role"', { kind: 'who-has', role: 'My Custom Role' }],
    ['whois me', { kind: 'whois', who: { kind: 'me' } }],
    [
      'grant me TenantAdmin for 1h because INC-123 --break-glass',
      {
        kind: 'grant',
        who: { kind: 'me' },
        role: 'TenantAdmin',
        durationMs: H,
        durationText: '1h',
        reason: 'INC-123',
        breakGlass: true,
      },
    ],
    [
      'grant me TenantAdmin --break-glass because INC-9',
      { kind: 'grant', who: { kind: 'me' }, role: 'TenantAdmin', reason: 'INC-9', breakGlass: true },
    ],
    [
      'grant me Steward because see "--break-glass" docs',
      { kind: 'grant', who: { kind: 'me' }, role: 'Steward', reason: 'see "--break-glass" docs' },
    ],
    ['drift', { kind: 'drift' }],
    ['drift on dev', { kind: 'drift', tenant: 'dev' }],
    ['drift TenantAdmin', { kind: 'drift', role: 'TenantAdmin' }],
    [
      'drift consumer in space:"Finance Reports"',
      { kind: 'drift', role: 'consumer', space: 'Finance Reports' },
    ],
    ['review "Data Steward" on prod', { kind: 'review', role: 'Data Steward', tenant: 'prod' }],
    ['review consumer space:Sales', { kind: 'review', role: 'consumer', space: 'Sales' }],
    ['whois group:"Sales Ops"', { kind: 'whois', who: { kind: 'group', name: 'Sales Ops' } }],
    ['who is bob@corp.com', { kind: 'whois', who: { kind: 'email', email: 'bob@corp.com' } }],
    ['cancel R-7KQ2', { kind: 'cancel', requestId: 'R-7KQ2' }],
    ['cancel r-7kq2xy', { kind: 'cancel', requestId: 'R-7KQ2XY' }],
    ['cancel 7kq2', { kind: 'cancel', requestId: 'R-7KQ2' }],
    ['audit', { kind: 'audit' }],
    ['audit TenantAdmin', { kind: 'audit', role: 'TenantAdmin' }],
    ['audit <@U123ABC>', { kind: 'audit', who: { kind: 'slack-user', userId: 'U123ABC' } }],
    ['audit me', { kind: 'audit', who: { kind: 'me' } }],
    ['audit alice@corp.com', { kind: 'audit', who: { kind: 'email', email: 'alice@corp.com' } }],
    ['audit group:Finance', { kind: 'audit', who: { kind: 'group', name: 'Finance' } }],
    // An @name Slack did not link (a deactivated account, or a name typed without picking it) goes to the listener.
    ['grant @leaver Steward', { kind: 'grant', who: { kind: 'handle', handle: 'leaver' }, role: 'Steward' }],
    ['whois @first.last-2', { kind: 'whois', who: { kind: 'handle', handle: 'first.last-2' } }],
    ['audit @leaver', { kind: 'audit', who: { kind: 'handle', handle: 'leaver' } }],
  ];
  it.each(cases)('%j', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });
});

describe('parseCommand: problems name the offending part and give the relevant usage', () => {
  const cases: [text: string, problem: RegExp, usage: string][] = [
    ['gramt me X', /don't know the command `gramt`.*Did you mean `grant`/, USAGE.grant],
    ['revok me X', /Did you mean `revoke`/, USAGE.revoke],
    ['frobnicate', /don't know the command `frobnicate`\.$/, GENERAL_USAGE],
    ['grant for 4h', /Say who should get the role/, USAGE.grant],
    ['revoke', /Say who should lose the role/, USAGE.revoke],
    ['grant me', /Name the role to grant/, USAGE.grant],
    ['grant me for 4h', /Name the role to grant/, USAGE.grant],
    ['grant TenantAdmin me', /`TenantAdmin` isn't someone I can look up/, USAGE.grant],
    ['grant me alice@corp.com', /`alice@corp.com` looks like a person or group, not a role/, USAGE.grant],
    ['grant @ X', /can't tell who `@` is/, USAGE.grant],
    ['grant @a!b X', /can't tell who `@a!b` is/, USAGE.grant],
    ['grant alice@ X', /`alice@` doesn't look like an email/, USAGE.grant],
    ['grant <!subteam^S0123|@finance> X', /`@finance` is a Slack user group/, USAGE.grant],
    ['grant <#C0123|general> X', /`#general` is a channel/, USAGE.grant],
    ['grant <!channel> X', /`@channel` isn't one person/, USAGE.grant],
    ['grant group:"Sales Ops X', /no closing quote/, USAGE.grant],
    ['grant group:"Sales"Ops X', /`Ops` right after the closing quote/, USAGE.grant],
    ['grant group:"" X', /group name is empty/, USAGE.grant],
    ['grant me Tenant Admin for 4h', /`Admin` after the role `Tenant`.*one word.*quotes/, USAGE.grant],
    ['grant me X for 4h please', /`please` after `for 4h`/, USAGE.grant],
    ['grant me X for', /Say how long after `for`/, USAGE.grant],
    ['grant me X for because ok', /Say how long after `for`/, USAGE.grant],
    ['grant me X for 4x', /`4x` isn't a duration/, USAGE.grant],
    ['grant me X for 1.5h', /whole numbers/, USAGE.grant],
    ['grant me X for 0h', /`0h` is no time/, USAGE.grant],
    ['grant me X for 53w', /`53w` is too long/, USAGE.grant],
    ['grant me X for 4h for 2h', /duration once/, USAGE.grant],
    ['grant me X because', /Add your reason after `because`/, USAGE.grant],
    ['grant me X because   \n ', /Add your reason after `because`/, USAGE.grant],
    ['revoke me X for 4h', /revoke takes effect at once/, USAGE.revoke],
    ['revoke me X soon', /`soon` after the role `X`.*`because <reason>`/, USAGE.revoke],
    ['who-has', /Name the role/, USAGE['who-has']],
    ['who-has Tenant Admin', /`Admin`.*one role/, USAGE['who-has']],
    ['who-has <@U123ABC>', /looks like a person or group/, USAGE['who-has']],
    ['whois', /Say whose roles/, USAGE.whois],
    ['review', /Name the role to review/, USAGE.review],
    ['revoke me X --break-glass', /Break-glass is for grants only/, USAGE.revoke],
    ['revoke me X because y --break-glass', /Break-glass is for grants only/, USAGE.revoke],
    ['review Tenant Admin', /`Admin`.*one role/, USAGE.review],
    ['drift a b', /`b`.*one role/, USAGE.drift],
    ['review <@U123ABC>', /looks like a person or group/, USAGE.review],
    ['whois me you', /`you`.*one person or group/, USAGE.whois],
    ['cancel', /Say which request/, USAGE.cancel],
    ['cancel R-0O1I', /`R-0O1I` isn't a request id/, USAGE.cancel],
    ['cancel R-7KQ2 R-7KQ3', /one request id/, USAGE.cancel],
    ['audit a b', /at most one/, USAGE.audit],
    ['roles extra', /`extra`.*takes nothing/, USAGE.roles],
  ];
  it.each(cases)('%j', (text, problem, usage) => {
    const r = parseCommand(text);
    expect(r.kind).toBe('invalid');
    if (r.kind !== 'invalid') return;
    expect(r.problem).toMatch(problem);
    expect(r.usage).toBe(usage);
  });

  it('limits the reason to 500 characters (code points)', () => {
    const ok = parseCommand(`grant me X because ${'😀'.repeat(MAX_REASON_LENGTH)}`);
    expect(ok).toMatchObject({ kind: 'grant', reason: '😀'.repeat(MAX_REASON_LENGTH) });
    const tooLong = parseCommand(`grant me X because ${'a'.repeat(MAX_REASON_LENGTH + 1)}`);
    expect(tooLong).toMatchObject({ kind: 'invalid', problem: expect.stringMatching(/501 characters.*500/) });
  });

  it('shortens a huge offending token in the problem', () => {
    const r = parseCommand(`grant me ${'A'.repeat(10_000)} ${'B'.repeat(10_000)}`);
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') expect(r.problem.length).toBeLessThan(400);
  });
});

// ---- properties

const KINDS = new Set([
  'form',
  'grant',
  'revoke',
  'who-has',
  'whois',
  'roles',
  'requests',
  'help',
  'cancel',
  'audit',
  'drift',
  'review',
  'invalid',
]);
const TOKENS = [
  'grant',
  'revoke',
  'who-has',
  'whois',
  'who',
  'has',
  'roles',
  'requests',
  'audit',
  'cancel',
  'help',
  'for',
  'because',
  'me',
  'group:',
  'group:"',
  '"',
  '\\',
  '\\"',
  '\u201C',
  '\u201D',
  '<@U123ABC|alice>',
  '<@U1',
  '<mailto:a@b.co|a@b.co>',
  'a@b.co',
  '@',
  '<',
  '>',
  '&amp;',
  '&lt;',
  '4h',
  '0m',
  '1.5h',
  'R-7KQ2',
  'TenantAdmin',
  '\u00a0',
  '\n',
  ' ',
  '\u200B',
];
const grammarText = fc
  .tuple(
    fc.array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 6 })), { maxLength: 12 }),
    fc.constantFrom(' ', '', '  ', '\n'),
  )
  .map(([parts, sep]) => parts.join(sep));

function dataStrings(cmd: ParsedCommand): string[] {
  const out: string[] = [];
  const addWho = (w: ParsedWho | undefined) => {
    if (w?.kind === 'handle') out.push(w.handle);
    if (w?.kind === 'email') out.push(w.email);
    if (w?.kind === 'group') out.push(w.name);
    if (w?.kind === 'slack-user' && w.handle !== undefined) out.push(w.handle);
  };
  if ('who' in cmd) addWho(cmd.who);
  if ('role' in cmd && cmd.role !== undefined) out.push(cmd.role);
  if ('reason' in cmd && cmd.reason !== undefined) out.push(cmd.reason);
  return out;
}

describe('parseCommand properties', () => {
  it('never throws and always returns one of the kinds, for any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fullUnicodeString(200), grammarText), (text) => {
        const r = parseCommand(text);
        expect(KINDS.has(r.kind)).toBe(true);
        if (r.kind === 'invalid') {
          expect(r.problem.length).toBeGreaterThan(0);
          expect(r.usage.startsWith('/qlik')).toBe(true);
        }
      }),
      { numRuns: 800 },
    );
  });

  const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,20}$/);
  const anyName = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const who: fc.Arbitrary<TypedWho> = fc.oneof(
    fc.constant<TypedWho>({ kind: 'me' }),
    fc.emailAddress().map<TypedWho>((email) => ({ kind: 'email', email })),
    fc
      .tuple(
        fc.stringMatching(/^[UW][A-Z0-9]{4,10}$/),
        fc.option(
          anyName.filter((s) => !s.includes('>')),
          { nil: undefined },
        ),
      )
      .map<TypedWho>(([userId, handle]) =>
        handle === undefined ? { kind: 'slack-user', userId } : { kind: 'slack-user', userId, handle },
      ),
    fc.oneof(word, anyName).map<TypedWho>((name) => ({ kind: 'group', name })),
  );
  const role = fc.oneof(word, anyName);
  const duration = fc
    .tuple(fc.integer({ min: 1, max: 52 }), fc.constantFrom('m', 'h', 'd', 'w'))
    .map(([n, u]) => ({ text: `${n}${u}`, ms: n * { m: 60_000, h: H, d: D, w: 7 * D }[u] }));
  const tenant = fc.option(fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/), { nil: undefined });
  const withTenant = <T extends object>(c: T, t: string | undefined): T =>
    t === undefined ? c : { ...c, tenant: t };
  const reason = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

  const command: fc.Arbitrary<Exclude<ParsedCommand, { kind: 'invalid' }>> = fc.oneof(
    fc
      .record({
        who,
        role,
        tenant,
        duration: fc.option(duration, { nil: undefined }),
        reason: fc.option(reason, { nil: undefined }),
      })
      .map(({ who, role, tenant, duration, reason }) => {
        const c: ParsedCommand = withTenant({ kind: 'grant', who, role }, tenant);
        if (duration) Object.assign(c, { durationMs: duration.ms, durationText: duration.text });
        if (reason !== undefined) c.reason = reason;
        return c;
      }),
    fc
      .record({ who, role, tenant, reason: fc.option(reason, { nil: undefined }) })
      .map(({ who, role, tenant, reason }) => {
        const c: ParsedCommand = withTenant({ kind: 'revoke', who, role }, tenant);
        if (reason !== undefined) c.reason = reason;
        return c;
      }),
    fc.tuple(role, tenant).map(([r, t]) => withTenant({ kind: 'who-has' as const, role: r }, t)),
    fc.tuple(who, tenant).map(([w, t]) => withTenant({ kind: 'whois' as const, who: w }, t)),
    tenant.map((t) => withTenant({ kind: 'roles' as const }, t)),
    fc.tuple(role, tenant).map(([r, t]) => withTenant({ kind: 'review' as const, role: r }, t)),
    fc
      .tuple(fc.option(role, { nil: undefined }), tenant)
      .map(([r, t]) =>
        withTenant(r === undefined ? { kind: 'drift' as const } : { kind: 'drift' as const, role: r }, t),
      ),
    fc.stringMatching(/^R-[2-9A-HJKMNP-Z]{4,8}$/).map((id) => ({ kind: 'cancel' as const, requestId: id })),
    who.map((w) => ({ kind: 'audit' as const, who: w })),
    word
      .filter((w) => !['me', 'for', 'because'].includes(w.toLowerCase()))
      .map((r) => ({ kind: 'audit' as const, role: r })),
    fc.constantFrom(
      { kind: 'roles' as const },
      { kind: 'requests' as const },
      { kind: 'help' as const },
      { kind: 'audit' as const },
    ),
  );

  it('round-trips well-formed commands built from generated parts', () => {
    fc.assert(
      fc.property(command, (cmd) => {
        expect(parseCommand(formatCommand(cmd))).toEqual(cmd);
      }),
      { numRuns: 1500 },
    );
  });

  it('round-trips with any mix of Slack whitespace between words', () => {
    fc.assert(
      fc.property(command, fc.constantFrom(' ', '  ', '\u00a0', '\n', '\t', ' \u00a0\n'), (cmd, space) => {
        // Spaces inside quoted names and reasons are data, so only commands without them are respaced.
        fc.pre(dataStrings(cmd).every((s) => !/[\s\u200B]/.test(s)));
        const text = `${space}${formatCommand(cmd).split(' ').join(space)}${space}`;
        expect(parseCommand(text)).toEqual(cmd);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseCommand: on <tenant>', () => {
  const alice = { kind: 'slack-user', userId: 'U0ALICE1', handle: 'alice' } as const;
  it.each<[string, ParsedCommand]>([
    [
      'grant <@U0ALICE1|alice> Steward on dev for 4h because incident 4711',
      {
        kind: 'grant',
        who: alice,
        role: 'Steward',
        tenant: 'dev',
        durationMs: 4 * H,
        durationText: '4h',
        reason: 'incident 4711',
      },
    ],
    ['grant me Steward on DEV', { kind: 'grant', who: { kind: 'me' }, role: 'Steward', tenant: 'dev' }],
    // After the duration too: the order of the options is free, as for `for` and `because`.
    [
      'grant me Steward for 2h on eu-west',
      {
        kind: 'grant',
        who: { kind: 'me' },
        role: 'Steward',
        tenant: 'eu-west',
        durationMs: 2 * H,
        durationText: '2h',
      },
    ],
    ['grant me Steward on "dev"', { kind: 'grant', who: { kind: 'me' }, role: 'Steward', tenant: 'dev' }],
    [
      'revoke group:Finance Steward on dev because left on Friday',
      {
        kind: 'revoke',
        who: { kind: 'group', name: 'Finance' },
        role: 'Steward',
        tenant: 'dev',
        reason: 'left on Friday',
      },
    ],
    ['who-has Steward on dev', { kind: 'who-has', role: 'Steward', tenant: 'dev' }],
    ['who has "Data Steward" on prod', { kind: 'who-has', role: 'Data Steward', tenant: 'prod' }],
    ['whois <@U0ALICE1|alice> on dev', { kind: 'whois', who: alice, tenant: 'dev' }],
    [
      'whois group:"Sales Ops" on dev',
      { kind: 'whois', who: { kind: 'group', name: 'Sales Ops' }, tenant: 'dev' },
    ],
    ['roles on dev', { kind: 'roles', tenant: 'dev' }],
    // A reason that says `on` keeps it, and names no tenant.
    [
      'grant me Steward because on call on dev tonight',
      { kind: 'grant', who: { kind: 'me' }, role: 'Steward', reason: 'on call on dev tonight' },
    ],
    // A role called `on`, or starting with it, is still the role: the role is the word after the person.
    ['grant me on', { kind: 'grant', who: { kind: 'me' }, role: 'on' }],
    ['grant me on on dev', { kind: 'grant', who: { kind: 'me' }, role: 'on', tenant: 'dev' }],
    ['who-has on', { kind: 'who-has', role: 'on' }],
    ['who-has OnCall on dev', { kind: 'who-has', role: 'OnCall', tenant: 'dev' }],
    ['grant me Online on dev', { kind: 'grant', who: { kind: 'me' }, role: 'Online', tenant: 'dev' }],
    // Without `on`, exactly as before: no tenant field at all.
    [
      'grant me Steward for 4h',
      { kind: 'grant', who: { kind: 'me' }, role: 'Steward', durationMs: 4 * H, durationText: '4h' },
    ],
    ['roles', { kind: 'roles' }],
  ])('%s', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it.each([
    ['grant me Steward on', /^Name the tenant after `on`, e\.g\. `on dev`\.$/, USAGE.grant],
    ['grant me Steward on for 4h', /^Name the tenant after `on`/, USAGE.grant],
    ['grant me Steward on dev on prod', /^Name the tenant once/, USAGE.grant],
    [
      'revoke me Steward on "dev team"',
      /^`"dev team"` isn't a tenant name; tenant names are one word/,
      USAGE.revoke,
    ],
    [
      'who-has Steward on dev extra',
      /^I didn't understand `extra`: `who-has` takes one role/,
      USAGE['who-has'],
    ],
    ['whois me on', /^Name the tenant after `on`/, USAGE.whois],
    ['roles on dev please', /^I didn't understand `please`: `roles` takes nothing after it/, USAGE.roles],
    ['requests on dev', /^I didn't understand `on dev`: `requests` takes nothing after it/, USAGE.requests],
    ['grant me Steward on dev bogus', /^I didn't understand `bogus` after `on dev`/, USAGE.grant],
  ])('%s is refused, naming the part', (text, problem, usage) => {
    const r = parseCommand(text);
    expect(r.kind).toBe('invalid');
    if (r.kind !== 'invalid') return;
    expect(r.problem).toMatch(problem);
    expect(r.usage).toBe(usage);
  });
});

describe('parseCommand: bidi controls', () => {
  it('drops them from a reason before it is stored', () => {
    const cmd = parseCommand('grant me Steward because fix\u202Eevil\u2067 now\u200E');
    expect(cmd).toMatchObject({ kind: 'grant', reason: 'fixevil now' });
  });
});

describe('parseCommand: spaces', () => {
  const me = { kind: 'me' } as const;
  it.each<[string, ParsedCommand]>([
    [
      'grant me consumer in space:"Finance Reports" for 2w because audit',
      {
        kind: 'grant',
        who: me,
        role: 'consumer',
        space: 'Finance Reports',
        durationMs: 14 * 24 * H,
        durationText: '2w',
        reason: 'audit',
      },
    ],
    ['grant me "Can view" in space:Sales', { kind: 'grant', who: me, role: 'Can view', space: 'Sales' }],
    // Without `in`, and with `space: Name` spaced out; the order of the options is free.
    [
      'grant me producer for 4h space:Sales',
      { kind: 'grant', who: me, role: 'producer', space: 'Sales', durationMs: 4 * H, durationText: '4h' },
    ],
    [
      'grant me producer in space: "EMEA Sales" on dev',
      { kind: 'grant', who: me, role: 'producer', space: 'EMEA Sales', tenant: 'dev' },
    ],
    [
      'revoke group:Finance facilitator in space:"Finance \\"Q1\\"" because moved',
      {
        kind: 'revoke',
        who: { kind: 'group', name: 'Finance' },
        role: 'facilitator',
        space: 'Finance "Q1"',
        reason: 'moved',
      },
    ],
    // `in space:` inside a reason is part of the reason.
    [
      'grant me consumer in space:A because in space:B',
      { kind: 'grant', who: me, role: 'consumer', space: 'A', reason: 'in space:B' },
    ],
    ['who-has space:"Finance Reports"', { kind: 'who-has', space: 'Finance Reports' }],
    ['who-has space:Sales on dev', { kind: 'who-has', space: 'Sales', tenant: 'dev' }],
    [
      'who-has consumer in space:"Finance Reports"',
      { kind: 'who-has', role: 'consumer', space: 'Finance Reports' },
    ],
    ['spaces', { kind: 'spaces' }],
    ['spaces fin', { kind: 'spaces', text: 'fin' }],
    ['spaces "sales emea" on dev', { kind: 'spaces', text: 'sales emea', tenant: 'dev' }],
    ['spaces on dev', { kind: 'spaces', tenant: 'dev' }],
  ])('%s', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it.each([
    ['grant me consumer in', /Name the space after `in`/],
    ['grant me consumer in Sales', /Name the space after `in`/],
    ['grant me consumer in space:""', /space name is empty/],
    ['grant me consumer in space:A in space:B', /Name the space once/],
    ['grant me space:Sales', /is a space, not a role/],
    ['who-has space:A extra', /takes nothing more/],
    ['spaces a b', /takes one word or a quoted text/],
    [`grant me consumer in space:"${'x'.repeat(257)}"`, /longer than Qlik allows/],
  ])('%s is refused, naming the part', (text, problem) => {
    const r = parseCommand(text);
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') expect(r.problem).toMatch(problem);
  });
});

describe('parseCommand: invite', () => {
  const alice = { kind: 'email', email: 'alice@corp.example' } as const;
  it.each<[string, ParsedCommand]>([
    ['invite alice@corp.example', { kind: 'invite', who: alice, roles: [] }],
    [
      'invite alice@corp.example with Steward,DataSpaceCreator because new analyst',
      { kind: 'invite', who: alice, roles: ['Steward', 'DataSpaceCreator'], reason: 'new analyst' },
    ],
    [
      'invite alice@corp.example with Steward, "Report Publisher" in space:"Finance" as "Can view" on dev',
      {
        kind: 'invite',
        who: alice,
        roles: ['Steward', 'Report Publisher'],
        space: { name: 'Finance', role: 'Can view' },
        tenant: 'dev',
      },
    ],
    [
      'invite <@U0ALICE1|alice> in space:Sales as consumer',
      {
        kind: 'invite',
        who: { kind: 'slack-user', userId: 'U0ALICE1', handle: 'alice' },
        roles: [],
        space: { name: 'Sales', role: 'consumer' },
      },
    ],
  ])('%s', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it.each([
    ['invite', /Say who to invite/],
    ['invite group:Finance', /Only people are invited/],
    ['invite me', /only invite someone else/],
    ['invite a@corp.example with', /Name the roles after `with`/],
    ['invite a@corp.example in space:Sales', /Say which role in the space/],
    ['invite a@corp.example with Steward for 4h', /roles are permanent/],
    ['invite a@corp.example Steward', /Continue with `with <role>,…`/],
    [
      `invite a@corp.example with ${Array.from({ length: 11 }, (_, i) => `R${i}`).join(',')}`,
      /at most 10 roles/,
    ],
  ])('%s is refused, naming the part', (text, problem) => {
    const r = parseCommand(text);
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') expect(r.problem).toMatch(problem);
  });
});
