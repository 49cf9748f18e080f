// The arithmetic of one principal's space assignment (what to POST, PUT or DELETE from what is there and what is
// asked, the owner's rules) and matching a typed space role by API name, UI name or label, any case.
import { describe, expect, it } from 'vitest';
import { isAsAsked, planAssignment, planAssignments } from '../../src/targets/qlik-spaces/assignment-plan.ts';
import { matchSpaceRole, roleLabel } from '../../src/targets/qlik-spaces/space-roles.ts';

const A = (roles: string[]) => ({ id: 'as-1', roles });

describe('planning a space assignment change', () => {
  it.each([
    [
      'grant, no assignment → POST just that role',
      undefined,
      'grant',
      'consumer',
      { op: 'create', roles: ['consumer'] },
      [],
    ],
    [
      'grant, other roles → PUT the complete list',
      A(['producer']),
      'grant',
      'consumer',
      { op: 'update', assignmentId: 'as-1', roles: ['producer', 'consumer'] },
      ['producer'],
    ],
    ['grant, already held → nothing', A(['consumer']), 'grant', 'consumer', { op: 'none' }, ['consumer']],
    [
      'revoke, the last role → DELETE',
      A(['consumer']),
      'revoke',
      'consumer',
      { op: 'delete', assignmentId: 'as-1' },
      ['consumer'],
    ],
    [
      'revoke, one of several → PUT without it',
      A(['consumer', 'producer']),
      'revoke',
      'consumer',
      { op: 'update', assignmentId: 'as-1', roles: ['producer'] },
      ['consumer', 'producer'],
    ],
    ['revoke, not held → nothing', A(['producer']), 'revoke', 'consumer', { op: 'none' }, ['producer']],
    ['revoke, no assignment → nothing', undefined, 'revoke', 'consumer', { op: 'none' }, []],
  ] as const)('%s', (_, current, action, role, write, before) => {
    const plan = planAssignment({ current, owner: false, action, role });
    expect(plan).toMatchObject({ ok: true, write, before });
    if (plan.ok && plan.write.op !== 'none')
      expect(isAsAsked({ id: 'x', roles: plan.after }, action, role)).toBe(true);
  });

  it('keeps Qlik order and drops duplicates in the list it PUTs', () => {
    const plan = planAssignment({
      current: A(['producer', 'producer', 'facilitator']),
      owner: false,
      action: 'grant',
      role: 'consumer',
    });
    expect(plan).toMatchObject({
      ok: true,
      write: { op: 'update', roles: ['producer', 'facilitator', 'consumer'] },
    });
  });

  it('a grant to the owner changes nothing; a revoke from the owner is refused', () => {
    expect(planAssignment({ current: undefined, owner: true, action: 'grant', role: 'facilitator' })).toEqual(
      {
        ok: true,
        write: { op: 'none' },
        before: [],
        after: [],
      },
    );
    expect(planAssignment({ current: undefined, owner: true, action: 'revoke', role: 'consumer' })).toEqual({
      ok: false,
      refused: 'owner',
    });
  });

  it('is as asked only when the assignment says so', () => {
    expect(isAsAsked(undefined, 'grant', 'consumer')).toBe(false);
    expect(isAsAsked(undefined, 'revoke', 'consumer')).toBe(true);
    expect(isAsAsked(A(['consumer']), 'revoke', 'consumer')).toBe(false);
  });
});

describe('matching a typed space role', () => {
  const managed = [
    'consumer',
    'contributor',
    'dataconsumer',
    'facilitator',
    'operator',
    'publisher',
    'basicconsumer',
  ];

  it.each([
    ['consumer'],
    ['CONSUMER'],
    ['Can view'],
    ['can VIEW'],
    ['  can   view '],
    ['consumer (Can view)'],
  ])('%s is consumer', (typed) => {
    expect(matchSpaceRole(typed, managed)).toEqual({ kind: 'offered', role: 'consumer' });
  });

  it('a space role the space does not offer is not-offered; a typo suggests the closest offered names', () => {
    expect(matchSpaceRole('Can edit', managed)).toEqual({ kind: 'not-offered', role: 'producer' });
    expect(matchSpaceRole('producer', managed)).toEqual({ kind: 'not-offered', role: 'producer' });
    const typo = matchSpaceRole('Can veiw', managed);
    expect(typo.kind === 'unknown' && typo.suggestions[0]).toBe('Can view');
    const api = matchSpaceRole('publsher', managed);
    expect(api.kind === 'unknown' && api.suggestions).toContain('publisher');
    expect(matchSpaceRole('xyzzy', managed)).toEqual({ kind: 'unknown', suggestions: [] });
  });

  it('labels roles with their UI names', () => {
    expect(roleLabel('consumer')).toBe('consumer (Can view)');
    expect(roleLabel('somethingnew')).toBe('somethingnew');
  });
});

describe('planning a batch of changes to one assignment', () => {
  const g = (role: string) => ({ action: 'grant' as const, role });
  const r = (role: string) => ({ action: 'revoke' as const, role });

  it.each([
    [
      'no assignment, two grants → one POST of both',
      undefined,
      [g('consumer'), g('producer')],
      { op: 'create', roles: ['consumer', 'producer'] },
    ],
    [
      'grants onto an assignment → one PUT of the complete list',
      A(['consumer']),
      [g('producer'), g('dataconsumer')],
      { op: 'update', assignmentId: 'as-1', roles: ['consumer', 'producer', 'dataconsumer'] },
    ],
    [
      'revoking every role → one DELETE',
      A(['consumer', 'producer']),
      [r('consumer'), r('producer')],
      { op: 'delete', assignmentId: 'as-1' },
    ],
    [
      'the last role goes and another comes → one PUT, not DELETE then POST',
      A(['consumer']),
      [r('consumer'), g('producer')],
      { op: 'update', assignmentId: 'as-1', roles: ['producer'] },
    ],
    ['nothing to do → no write', A(['consumer']), [g('consumer'), r('producer')], { op: 'none' }],
  ] as const)('%s', (_label, current, changes, write) => {
    expect(planAssignments({ current, owner: false, changes }).write).toEqual(write);
  });

  it('chains each step from the one before', () => {
    const plan = planAssignments({
      current: A(['consumer']),
      owner: false,
      changes: [g('producer'), r('consumer')],
    });
    expect(plan.steps).toEqual([
      { ok: true, before: ['consumer'], after: ['consumer', 'producer'], changed: true },
      { ok: true, before: ['consumer', 'producer'], after: ['producer'], changed: true },
    ]);
  });

  it("refuses only the owner's revoke; the owner's grants need no write", () => {
    const plan = planAssignments({
      current: undefined,
      owner: true,
      changes: [g('consumer'), r('producer')],
    });
    expect(plan.steps).toEqual([
      { ok: true, before: [], after: [], changed: false },
      { ok: false, refused: 'owner' },
    ]);
    expect(plan.write).toEqual({ op: 'none' });
  });
});
