// The `/mode` grammar: group memberships and collection access, with /qlik's words for people, durations and
// reasons; every problem named with the command's usage.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ModeCommand, parseModeCommand } from '../../src/slack/mode-parser.ts';

const H = 3_600_000;
const me = { kind: 'me' } as const;

describe('parseModeCommand', () => {
  it.each<[string, ModeCommand]>([
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['grant me Analysts', { kind: 'grant', who: me, role: 'Analysts' }],
    [
      'grant <@U0ALICE1|alice> "Sales Ops" for 2w because Q3',
      {
        kind: 'grant',
        who: { kind: 'slack-user', userId: 'U0ALICE1', handle: 'alice' },
        role: 'Sales Ops',
        durationMs: 14 * 24 * H,
        durationText: '2w',
        reason: 'Q3',
      },
    ],
    [
      'revoke bob@corp.example Analysts because left',
      { kind: 'revoke', who: { kind: 'email', email: 'bob@corp.example' }, role: 'Analysts', reason: 'left' },
    ],
    [
      'grant group:Finance VIEW in collection:"Revenue"',
      { kind: 'grant', who: { kind: 'group', name: 'Finance' }, role: 'view', collection: 'Revenue' },
    ],
    [
      'revoke me edit collection:Marketing',
      { kind: 'revoke', who: me, role: 'edit', collection: 'Marketing' },
    ],
    ['who-has Analysts', { kind: 'who-has', role: 'Analysts' }],
    ['who-has collection:"Revenue"', { kind: 'who-has', collection: 'Revenue' }],
    ['whois me', { kind: 'whois', who: me }],
    ['groups', { kind: 'groups' }],
  ])('%s', (text, expected) => {
    expect(parseModeCommand(text)).toEqual(expected);
  });

  it.each([
    ['gramt me Analysts', /I don't know the command `gramt`\. Did you mean `grant`\?/],
    ['grant me', /Name the Mode group/],
    ['grant me admin in collection:Revenue', /In a collection, say `view` or `edit`/],
    ['revoke me Analysts for 2h', /A revoke takes effect at once/],
    ['grant me Analysts in', /Name the collection after `in`/],
    ['who-has collection:Revenue extra', /takes nothing more/],
    ['groups extra', /takes nothing after it/],
    ['grant me Sales Ops', /Group names with spaces go in quotes/],
    ['grant group:Finance Analysts', /Mode groups hold people, not other groups/],
  ])('%s is refused, naming the part', (text, problem) => {
    const r = parseModeCommand(text);
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') expect(r.problem).toMatch(problem);
  });

  it('never throws, whatever it is given', () => {
    for (const text of ['"', 'grant "', 'grant me "x', '\u0000', 'who-has collection:""', 'x'.repeat(5000)])
      expect(() => parseModeCommand(text)).not.toThrow();
  });
});

describe('parseModeCommand properties', () => {
  const hostile = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: fc.nat(0x10ffff).map((c) => String.fromCodePoint(c)), maxLength: 200 }),
    fc.constantFrom('\u202E', '\u200B', '"', '\\"', '<@U1|x>', '<!channel>', 'collection:"', '%', '\n'),
    fc.constantFrom('"', 'x', '\\').chain((s) => fc.integer({ min: 500, max: 4000 }).map((n) => s.repeat(n))),
  );
  it('is total: any text gives a command, never an exception, and an invalid one names a problem and a usage', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(hostile, fc.constantFrom('grant', 'revoke', 'who-has', 'me', 'view', 'in')), {
          maxLength: 8,
        }),
        (parts) => {
          const r = parseModeCommand(parts.join(' '));
          expect(['grant', 'revoke', 'who-has', 'whois', 'groups', 'help', 'invalid']).toContain(r.kind);
          if (r.kind === 'invalid') {
            expect(r.problem.length).toBeGreaterThan(0);
            expect(r.usage.startsWith('/mode')).toBe(true);
          }
          if ((r.kind === 'grant' || r.kind === 'revoke') && r.collection !== undefined)
            expect(['view', 'edit']).toContain(r.role);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips a quoted group name with quotes, backslashes and unicode', () => {
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 1, maxLength: 80 })
          .filter(
            (s) =>
              s.trim() !== '' &&
              !s.includes('&') &&
              !/[\u2066-\u2069\u202A-\u202E\u200E\u200F\u061C]/.test(s),
          ),
        (name) => {
          const quoted = `"${name.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
          const r = parseModeCommand(`who-has ${quoted}`);
          if (r.kind !== 'who-has') return; // names Slack would escape (`<`, `&`) may legitimately be refused
          expect(r.role).toBe(name.trim());
        },
      ),
      { numRuns: 300 },
    );
  });
});
