// Role matching: case-insensitive exact match, and "did you mean" suggestions (substring first, then edit
// distance, nothing for far-off input).
import { describe, expect, it } from 'vitest';
import { closestRoleNames, matchRole } from '../../src/qlik/role-match.ts';

const names = [
  'TenantAdmin',
  'AnalyticsAdmin',
  'AuditAdmin',
  'DataAdmin',
  'ManagedSpaceCreator',
  'SharedSpaceCreator',
  'DataSpaceCreator',
  'Steward',
  'AutomationCreator',
];
const roles = names.map((name, i) => ({ id: `r${i}`, name }));

describe('matchRole', () => {
  it('matches ignoring case and spaces, and only exactly', () => {
    expect(matchRole('managedspacecreator', roles)?.id).toBe('r4');
    expect(matchRole('  TENANTADMIN ', roles)?.id).toBe('r0');
    expect(matchRole('Tenant', roles)).toBeUndefined();
  });
});

describe('closestRoleNames', () => {
  it('suggests the typo fix first', () => {
    expect(closestRoleNames('ManagedSpaceCreater', names)[0]).toBe('ManagedSpaceCreator');
    expect(closestRoleNames('tenantadmn', names)[0]).toBe('TenantAdmin');
  });

  it('puts names containing the query first, at most three', () => {
    const s = closestRoleNames('spacecreator', names);
    expect(s).toHaveLength(3);
    expect(new Set(s)).toEqual(new Set(['ManagedSpaceCreator', 'SharedSpaceCreator', 'DataSpaceCreator']));
    expect(closestRoleNames('admin', names, 2)).toHaveLength(2);
  });

  it('suggests nothing for far-off input', () => {
    expect(closestRoleNames('xyz', names)).toEqual([]);
    expect(closestRoleNames('', names)).toEqual([]);
  });
});
