import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FilterNode,
  type FilterResource,
  FilterSyntaxError,
  parseFilter,
} from '../../../src/sandbox/qlik-sim/filter.ts';

const cmp = (field: string, value: string, op: 'eq' | 'co' = 'eq'): FilterNode => ({
  kind: 'cmp',
  field,
  op,
  value,
});
const and = (...children: FilterNode[]): FilterNode => ({ kind: 'and', children });
const or = (...children: FilterNode[]): FilterNode => ({ kind: 'or', children });

describe('parseFilter accepts the documented grammar', () => {
  const valid: Array<[string, FilterNode, FilterResource?]> = [
    ['email eq "jane@corp.example"', cmp('email', 'jane@corp.example')],
    ["subject eq 'user1234'", cmp('subject', 'user1234')],
    ['EMAIL EQ "A@B.C"', cmp('email', 'A@B.C')],
    ['assignedroles.NAME Eq "TenantAdmin"', cmp('assignedRoles.name', 'TenantAdmin')],
    ['name co "bo"', cmp('name', 'bo', 'co')],
    ['email CO "@corp"', cmp('email', '@corp', 'co')],
    ['subject co "auth0|"', cmp('subject', 'auth0|', 'co')],
    [
      'assignedGroupsAssignedRoles.name eq "TenantAdmin"',
      cmp('assignedGroupsAssignedRoles.name', 'TenantAdmin'),
    ],
    ['assignedGroups.id eq "507f191e810c19729de860eb"', cmp('assignedGroups.id', '507f191e810c19729de860eb')],
    ['assignedScopes eq "user_default"', cmp('assignedScopes', 'user_default')],
    ['clientId eq "abc"', cmp('clientId', 'abc')],
    ['name eq ""', cmp('name', '')],
    ['  name   eq   "x"  ', cmp('name', 'x')],
    ['((name eq "x"))', cmp('name', 'x')],
    ['email eq "a\\"b@corp.example"', cmp('email', 'a"b@corp.example')],
    ["email eq 'o\\'brien@corp.example'", cmp('email', "o'brien@corp.example")],
    ['email eq "o\'brien@corp.example"', cmp('email', "o'brien@corp.example")],
    ['name eq \'say "hi"\'', cmp('name', 'say "hi"')],
    ['name eq "back\\\\slash"', cmp('name', 'back\\slash')],
    ['name eq "a (b) and c or d"', cmp('name', 'a (b) and c or d')],
    ['name eq "Zoë Zhang 🎉"', cmp('name', 'Zoë Zhang 🎉')],
    [
      '(id eq "62716ab404a7bd8626af9bd6" or id eq "62716ac4c7e500e13ff5fa22") and (status eq "active" or status eq "disabled")',
      and(
        or(cmp('id', '62716ab404a7bd8626af9bd6'), cmp('id', '62716ac4c7e500e13ff5fa22')),
        or(cmp('status', 'active'), cmp('status', 'disabled')),
      ),
    ],
    [
      'name co "q" or email co "q" or subject co "q" or id eq "q" or assignedRoles.name eq "q"',
      or(
        cmp('name', 'q', 'co'),
        cmp('email', 'q', 'co'),
        cmp('subject', 'q', 'co'),
        cmp('id', 'q'),
        cmp('assignedRoles.name', 'q'),
      ),
    ],
    // `and` binds tighter than `or`, as in SCIM.
    [
      'name eq "a" or name eq "b" and email eq "c"',
      or(cmp('name', 'a'), and(cmp('name', 'b'), cmp('email', 'c'))),
    ],
    [
      'name eq "a" and (email eq "b" and subject eq "c")',
      and(cmp('name', 'a'), cmp('email', 'b'), cmp('subject', 'c')),
    ],
    ['status eq "active" or status eq "disabled"', or(cmp('status', 'active'), cmp('status', 'disabled'))],
    [
      '(assignedRoles.name eq "X") and (status eq "active")',
      and(cmp('assignedRoles.name', 'X'), cmp('status', 'active')),
    ],
    ["name eq 'My Group'", cmp('name', 'My Group'), 'groups'],
    [
      "assignedRoles.name eq 'ManagedSpaceCreator'",
      cmp('assignedRoles.name', 'ManagedSpaceCreator'),
      'groups',
    ],
    [
      'providerType eq "custom" and status eq "active"',
      and(cmp('providerType', 'custom'), cmp('status', 'active')),
      'groups',
    ],
    ['name eq "TenantAdmin"', cmp('name', 'TenantAdmin'), 'roles'],
    ['type eq "custom" or level eq "admin"', or(cmp('type', 'custom'), cmp('level', 'admin')), 'roles'],
    ['permissions eq "edit_foo"', cmp('permissions', 'edit_foo'), 'roles'],
  ];
  it.each(valid)('%s', (text, expected, resource = 'users') => {
    expect(parseFilter(text, resource)).toEqual(expected);
  });
});

describe('parseFilter rejects what the specs do not document', () => {
  const invalid: Array<[string, RegExp, FilterResource?]> = [
    ['', /empty/],
    ['   ', /empty/],
    ['email ne "x"', /"ne" operator is not supported/],
    ['email sw "x"', /"sw" operator is not supported/],
    ['email pr', /"pr" operator is not supported/],
    ['email gt "x"', /"gt" operator is not supported/],
    ['email like "x"', /Unknown operator "like"/],
    ['not (email eq "x")', /"not" operator is not supported/],
    ['createdAt eq "2024-01-01"', /Unknown filter field "createdAt"/],
    ['roles eq "TenantAdmin"', /Unknown filter field "roles"/],
    ['id co "abc"', /"co" operator is not supported on the field "id"/],
    ['assignedRoles.name co "Admin"', /"co" operator is not supported/],
    ['(email eq "x"', /never closed/],
    ['email eq "x")', /no matching "\("/],
    ['((email eq "x") or name eq "y"', /never closed/],
    ['email eq "x', /Unterminated/],
    ['email eq \'x"', /Unterminated/],
    ['email eq "x\\', /Unterminated/],
    ['email eq "a\nb"', /Control character U\+000a/],
    ['email eq "a\tb"', /Control character U\+0009/],
    ['email\teq "a"', /Control character U\+0009/],
    ['email eq "a\u0000b"', /Control character U\+0000/],
    ['email eq "a\u007fb"', /Control character U\+007f/],
    ['email eq "a\\nb"', /Unsupported escape "\\n"/],
    ['email eq "a\\u0041"', /Unsupported escape "\\u"/],
    ['email eq "x" garbage', /Unexpected "garbage"/],
    ['email eq "x" "y"', /Unexpected quoted value "y"/],
    ['email eq "x" and', /expected a field name/],
    ['email eq "x" or or name eq "y"', /Unknown filter field "or"/],
    ['and email eq "x"', /Unknown filter field "and"/],
    ['email eq', /expected a quoted value/],
    ['email eq active', /Unquoted value "active"/],
    ['email "x"', /expected an operator/],
    ['"x" eq email', /expected a field name/],
    ['()', /expected a field name/],
    ['name eq "Bob" or name eq "Alice" and (status eq "active" or status eq "disabled")', /grouped together/],
    ['status eq "active" or name eq "Bob"', /grouped together/],
    ['(name eq "Bob" and status eq "active") or name eq "Al"', /grouped together/],
    ['name co "x"', /"co" operator is not supported/, 'groups'],
    ['email eq "x"', /Unknown filter field "email"/, 'groups'],
    ['name co "Admin"', /"co" operator is not supported/, 'roles'],
    ['assignedRoles.name eq "x"', /Unknown filter field/, 'roles'],
    [`${'('.repeat(40)}name eq "x"${')'.repeat(40)}`, /too complex/],
  ];
  it.each(invalid)('%j', (text, message, resource = 'users') => {
    let caught: unknown;
    try {
      parseFilter(text, resource);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FilterSyntaxError);
    expect((caught as Error).message).toMatch(message);
  });

  it('reports the position of the problem', () => {
    try {
      parseFilter('email eq "x" garbage');
      expect.unreachable();
    } catch (e) {
      expect((e as FilterSyntaxError).position).toBe(13);
    }
  });
});

// Strings without control characters (which the grammar rejects outright), heavy on quotes and backslashes.
const tricky = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', "'", '\\', ' ', '(', ')', 'and', 'or', 'eq', 'co', '@', 'é', '🎉', '%', '+'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  ),
});
const noControls = (s: string) =>
  [...s].every((c) => {
    const code = c.codePointAt(0)!;
    return code >= 0x20 && code !== 0x7f;
  });

describe('quoted values round-trip', () => {
  it('email eq "<escaped>" parses to exactly one comparison with exactly that value', () => {
    fc.assert(
      fc.property(tricky.filter(noControls), (value) => {
        const escaped = value.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
        expect(parseFilter(`email eq "${escaped}"`)).toEqual(cmp('email', value));
      }),
      { numRuns: 500 },
    );
  });

  it('single-quoted values round-trip the same way', () => {
    fc.assert(
      fc.property(tricky.filter(noControls), (value) => {
        const escaped = value.replaceAll('\\', '\\\\').replaceAll("'", "\\'");
        expect(parseFilter(`email eq '${escaped}'`)).toEqual(cmp('email', value));
      }),
      { numRuns: 500 },
    );
  });

  it('JSON.stringify is a valid way to quote any value without control characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }).filter(noControls), (value) => {
        expect(parseFilter(`name eq ${JSON.stringify(value)}`)).toEqual(cmp('name', value));
      }),
      { numRuns: 500 },
    );
  });

  it('values inside and/or keep their exact text', () => {
    fc.assert(
      fc.property(tricky.filter(noControls), tricky.filter(noControls), (a, b) => {
        const q = (v: string) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
        expect(parseFilter(`(email eq ${q(a)} or name co ${q(b)}) and status eq "active"`)).toEqual(
          and(or(cmp('email', a), cmp('name', b, 'co')), cmp('status', 'active')),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('any input either parses or throws FilterSyntaxError, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'()"\'\\ \t\nabeqcorndstmil.') }), (text) => {
        try {
          parseFilter(text);
        } catch (e) {
          expect(e).toBeInstanceOf(FilterSyntaxError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
