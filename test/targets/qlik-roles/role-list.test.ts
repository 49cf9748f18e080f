import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyOutcome,
  isAsAsked,
  nextDirectRoles,
  planDirectRoles,
  type RoleRef,
} from '../../../src/targets/qlik-roles/role-list.ts';

const A = { id: 'a1', name: 'A' };
const B = { id: 'b2', name: 'B' };
const C = { id: 'c3', name: 'C' };

describe('nextDirectRoles', () => {
  it.each([
    { current: [], action: 'grant', role: A, ids: ['a1'], changed: true },
    { current: [B], action: 'grant', role: A, ids: ['b2', 'a1'], changed: true },
    { current: [A, B], action: 'grant', role: A, ids: ['a1', 'b2'], changed: false },
    { current: [A, B, C], action: 'revoke', role: B, ids: ['a1', 'c3'], changed: true },
    { current: [A, C], action: 'revoke', role: B, ids: ['a1', 'c3'], changed: false },
    { current: [], action: 'revoke', role: B, ids: [], changed: false },
    // Duplicates from a misbehaving API are not written back twice; a revoke removes every copy.
    { current: [A, B, A], action: 'revoke', role: A, ids: ['b2'], changed: true },
    { current: [B, B], action: 'grant', role: A, ids: ['b2', 'a1'], changed: true },
    // Matching is by id: a role of the same name but another id is a different role.
    { current: [{ id: 'other', name: 'A' }], action: 'grant', role: A, ids: ['other', 'a1'], changed: true },
  ] as const)(
    '$action $role.name on $current.length roles → $ids',
    ({ current, action, role, ids, changed }) => {
      expect(nextDirectRoles(current, action, role)).toEqual({ ids, changed });
    },
  );

  const roleArb = fc.record({
    id: fc.string({ minLength: 1, maxLength: 6 }),
    name: fc.string({ maxLength: 6 }),
  });
  const listArb = fc.array(roleArb, { maxLength: 12 });

  it('grant: the role is present exactly once, every other id kept in order, changed iff it was missing', () => {
    fc.assert(
      fc.property(listArb, roleArb, (current, role) => {
        const r = nextDirectRoles(current, 'grant', role);
        expect(r.ids.filter((id) => id === role.id)).toHaveLength(1);
        expect(r.changed).toBe(!current.some((c) => c.id === role.id));
        const others = [...new Set(current.map((c) => c.id))].filter((id) => id !== role.id);
        expect(r.ids.filter((id) => id !== role.id)).toEqual(others);
        expect(new Set(r.ids).size).toBe(r.ids.length);
      }),
    );
  });

  it('revoke: the role is absent, every other id kept in order, changed iff it was present', () => {
    fc.assert(
      fc.property(listArb, roleArb, (current, role) => {
        const r = nextDirectRoles(current, 'revoke', role);
        expect(r.ids).not.toContain(role.id);
        expect(r.changed).toBe(current.some((c) => c.id === role.id));
        expect(r.ids).toEqual([...new Set(current.map((c) => c.id))].filter((id) => id !== role.id));
      }),
    );
  });

  it('is idempotent: applying the result again changes nothing, and the result is as asked', () => {
    fc.assert(
      fc.property(
        listArb,
        roleArb,
        fc.constantFrom('grant' as const, 'revoke' as const),
        (current, role, action) => {
          const first = nextDirectRoles(current, action, role);
          const after: RoleRef[] = first.ids.map((id) => ({ id, name: id === role.id ? role.name : id }));
          expect(isAsAsked(after, action, role)).toBe(true);
          const second = nextDirectRoles(after, action, role);
          expect(second.changed).toBe(false);
          expect(second.ids).toEqual(first.ids);
        },
      ),
    );
  });

  it('grant then revoke of a missing role gives the original list back', () => {
    fc.assert(
      fc.property(listArb, roleArb, (current, role) => {
        fc.pre(!current.some((c) => c.id === role.id));
        const granted = nextDirectRoles(current, 'grant', role).ids.map((id) => ({ id, name: '' }));
        expect(nextDirectRoles(granted, 'revoke', role).ids).toEqual([...new Set(current.map((c) => c.id))]);
      }),
    );
  });
});

describe('applyOutcome', () => {
  it.each([
    {
      name: 'wrote now',
      wroteNow: true,
      beforeNow: ['B'],
      snapshot: undefined,
      before: ['B'],
      changed: true,
    },
    {
      name: 'already had it',
      wroteNow: false,
      beforeNow: ['A'],
      snapshot: undefined,
      before: ['A'],
      changed: false,
    },
    // An earlier attempt recorded B only, then crashed after its PATCH: this request added A.
    {
      name: 'crashed after PATCH',
      wroteNow: false,
      beforeNow: ['A', 'B'],
      snapshot: { before: ['B'] },
      before: ['B'],
      changed: true,
    },
    // The snapshot shows A was already there: nothing was added by this request.
    {
      name: 'snapshot had it',
      wroteNow: false,
      beforeNow: ['A'],
      snapshot: { before: ['A'] },
      before: ['A'],
      changed: false,
    },
  ])('grant: $name', ({ wroteNow, beforeNow, snapshot, before, changed }) => {
    expect(
      applyOutcome({
        wroteNow,
        beforeNow,
        action: 'grant',
        roleName: 'A',
        ...(snapshot ? { snapshot } : {}),
      }),
    ).toEqual({
      before,
      changed,
    });
  });

  it('revoke after a crash: the snapshot held the role, so this request removed it', () => {
    expect(
      applyOutcome({
        wroteNow: false,
        beforeNow: ['B'],
        snapshot: { before: ['A', 'B'] },
        action: 'revoke',
        roleName: 'A',
      }),
    ).toEqual({ before: ['A', 'B'], changed: true });
  });
});

describe('planDirectRoles (a batch, each change in turn)', () => {
  it('chains each step from the one before and writes one list for all', () => {
    const plan = planDirectRoles(
      [A, B],
      [
        { action: 'grant', role: C },
        { action: 'revoke', role: A },
        { action: 'grant', role: B },
      ],
    );
    expect(plan.steps).toEqual([
      { before: ['A', 'B'], after: ['A', 'B', 'C'], changed: true },
      { before: ['A', 'B', 'C'], after: ['B', 'C'], changed: true },
      { before: ['B', 'C'], after: ['B', 'C'], changed: false },
    ]);
    expect(plan.ids).toEqual(['b2', 'c3']);
    expect(plan.changed).toBe(true);
  });

  it('changes nothing when every step is as asked already', () => {
    const plan = planDirectRoles(
      [A],
      [
        { action: 'grant', role: A },
        { action: 'revoke', role: B },
      ],
    );
    expect(plan.changed).toBe(false);
    expect(plan.ids).toEqual(['a1']);
  });

  it('ends where the same changes made one at a time end (property)', () => {
    const role = fc.constantFrom(A, B, C, { id: 'd4', name: 'D' });
    fc.assert(
      fc.property(
        fc.uniqueArray(role, { selector: (r) => r.id }),
        fc.uniqueArray(fc.record({ action: fc.constantFrom('grant', 'revoke'), role }), {
          selector: (c) => c.role.id,
        }),
        (current, changes) => {
          let one: RoleRef[] = current;
          for (const c of changes) {
            const next = nextDirectRoles(one, c.action as 'grant' | 'revoke', c.role);
            const byId = new Map([...one, c.role].map((r) => [r.id, r]));
            one = next.ids.map((id) => byId.get(id) as RoleRef);
          }
          const plan = planDirectRoles(
            current,
            changes.map((c) => ({ action: c.action as 'grant' | 'revoke', role: c.role })),
          );
          expect(plan.ids).toEqual(one.map((r) => r.id));
          expect(plan.steps.at(-1)?.after ?? current.map((r) => r.name)).toEqual(one.map((r) => r.name));
        },
      ),
    );
  });
});
