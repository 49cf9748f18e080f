// The arithmetic of one accessor's permission in a Mode collection: edit covers view (never a downgrade), a revoke
// removes only the action asked, and an edit given over a view ends by putting the view back.
import { describe, expect, it } from 'vitest';
import { isAsAsked, planPermission } from '../../src/targets/mode-collections/permission-plan.ts';

const edit = { token: 'p1', action: 'edit' };
const view = { token: 'p1', action: 'view' };

describe('planPermission', () => {
  it.each([
    ['grant view to nobody', undefined, 'grant', 'view', { op: 'create', action: 'view' }, ['view']],
    ['grant view to an editor: edit covers it', edit, 'grant', 'view', { op: 'none' }, ['edit']],
    [
      'grant edit to a viewer: raised',
      view,
      'grant',
      'edit',
      { op: 'update', token: 'p1', action: 'edit' },
      ['edit'],
    ],
    ['grant edit to an editor', edit, 'grant', 'edit', { op: 'none' }, ['edit']],
    ['revoke view from an editor: not theirs to lose', edit, 'revoke', 'view', { op: 'none' }, ['edit']],
    ['revoke edit from an editor', edit, 'revoke', 'edit', { op: 'delete', token: 'p1' }, []],
    ['revoke from nobody', undefined, 'revoke', 'edit', { op: 'none' }, []],
  ] as const)('%s', (_name, current, action, asked, write, after) => {
    const plan = planPermission(current, action, asked);
    expect(plan.write).toEqual(write);
    expect(plan.after).toEqual(after);
    // What the plan leaves is as the change asks.
    const left = plan.after[0] === undefined ? undefined : { token: 'p1', action: plan.after[0] };
    expect(isAsAsked(left, action, asked)).toBe(true);
  });

  it('ends an edit given over a view by putting the view back', () => {
    const plan = planPermission(edit, 'revoke', 'edit', 'view');
    expect(plan).toEqual({
      write: { op: 'update', token: 'p1', action: 'view' },
      before: ['edit'],
      after: ['view'],
    });
    expect(isAsAsked(view, 'revoke', 'edit')).toBe(true);
  });
});
