// The filter builder: exact output for the documented shapes, rejection of control characters, and a property
// test that the simulator's SCIM parser reads back exactly the field and value that went in, whatever the value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { and, co, eq, type FilterField, FilterValueError, or, quoteValue } from '../../src/qlik/filter.ts';
import { parseFilter } from '../../src/sandbox/qlik-sim/filter.ts';

describe('filter builder', () => {
  it('builds the documented shapes', () => {
    expect(eq('email', 'alice@corp.example')).toBe('email eq "alice@corp.example"');
    expect(co('name', 'ali')).toBe('name co "ali"');
    expect(and(or(eq('name', 'Bob'), eq('name', 'Alice')), eq('status', 'active'))).toBe(
      '((name eq "Bob") or (name eq "Alice")) and (status eq "active")',
    );
    expect(and(eq('id', 'x'))).toBe('id eq "x"');
    expect(() => or()).toThrow();
  });

  it('escapes quotes and backslashes so values cannot break out', () => {
    expect(eq('email', `o'brien@corp.example`)).toBe(`email eq "o'brien@corp.example"`);
    expect(eq('email', 'a"b@corp.example')).toBe('email eq "a\\"b@corp.example"');
    expect(quoteValue('a\\" or name co "')).toBe('"a\\\\\\" or name co \\""');
    const node = parseFilter(eq('name', 'x" or name co "'), 'users');
    expect(node).toEqual({ kind: 'cmp', field: 'name', op: 'eq', value: 'x" or name co "' });
  });

  it('rejects control characters with a typed error that does not echo the value', () => {
    for (const c of ['\u0000', '\n', '\r', '\t', '\u001f', '\u007f']) {
      const value = `secret-${c}-value`;
      let caught: unknown;
      try {
        eq('email', value);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(FilterValueError);
      expect((caught as FilterValueError).position).toBe(7);
      expect((caught as FilterValueError).message).not.toContain('secret');
    }
  });

  const userFields: FilterField[] = [
    'id',
    'subject',
    'name',
    'email',
    'status',
    'clientId',
    'assignedRoles.id',
    'assignedRoles.name',
    'assignedGroups.id',
    'assignedGroupsAssignedRoles.name',
    'assignedScopes',
  ];
  // Full Unicode, plus strings made of the filter grammar's own characters and keywords.
  const tricky = fc.string({
    unit: fc.constantFrom('"', "'", '\\', ' ', '(', ')', 'a', ' eq ', ' or ', ' and ', '%', '+', '@'),
    maxLength: 30,
  });
  const noControl = fc
    .oneof(fc.string({ unit: 'binary', maxLength: 60 }), tricky)
    .filter((s) => ![...s].some((c) => c.charCodeAt(0) <= 0x1f || c.charCodeAt(0) === 0x7f));

  it('property: the simulator parses back exactly one comparison with the same field and value', () => {
    fc.assert(
      fc.property(fc.constantFrom(...userFields), noControl, (field, value) => {
        const node = parseFilter(eq(field, value), 'users');
        expect(node).toEqual({ kind: 'cmp', field, op: 'eq', value });
      }),
      { numRuns: 2000 },
    );
  });

  it('property: co and compound filters keep every value intact', () => {
    fc.assert(
      fc.property(noControl, noControl, (a, b) => {
        const node = parseFilter(or(co('email', a), co('name', b)), 'users');
        expect(node).toEqual({
          kind: 'or',
          children: [
            { kind: 'cmp', field: 'email', op: 'co', value: a },
            { kind: 'cmp', field: 'name', op: 'co', value: b },
          ],
        });
      }),
      { numRuns: 500 },
    );
  });

  it('property: any string with a control character is refused', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.integer({ min: 0, max: 0x20 }).map((c) => String.fromCharCode(c === 0x20 ? 0x7f : c)),
        fc.string(),
        (pre, c, post) => {
          expect(() => eq('name', pre + c + post)).toThrow(FilterValueError);
        },
      ),
    );
  });
});
