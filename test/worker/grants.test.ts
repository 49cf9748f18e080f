import { describe, expect, it } from 'vitest';
import { ownsGrant, revokeDecision } from '../../src/worker/grants.ts';

describe('ownsGrant', () => {
  it.each([
    { name: 'added the role', changed: true, extended: undefined, owns: true },
    { name: 'had it before, no extend', changed: false, extended: undefined, owns: false },
    {
      name: 'extends an owning applied grant',
      changed: false,
      extended: { state: 'applied', changed: true },
      owns: true,
    },
    {
      name: 'extends a grant that did not add it',
      changed: false,
      extended: { state: 'applied', changed: false },
      owns: false,
    },
    {
      name: 'extends an ended grant',
      changed: false,
      extended: { state: 'expired-revoked', changed: true },
      owns: false,
    },
    {
      name: 'extends a grant someone else took over',
      changed: false,
      extended: { state: 'applied', changed: true, supersededBy: 'R-OTHR' },
      owns: false,
    },
    {
      name: 'already took it over in an earlier attempt',
      changed: false,
      extended: { state: 'expired-revoked', changed: true, supersededBy: 'R-ME22' },
      owns: true,
    },
  ])('$name → $owns', ({ changed, extended, owns }) => {
    expect(ownsGrant({ requestId: 'R-ME22', changed, ...(extended ? { extended } : {}) })).toBe(owns);
  });
});

describe('revokeDecision', () => {
  it.each([
    { action: 'grant', changed: true, supersededBy: undefined, kind: 'remove' },
    { action: 'grant', changed: false, supersededBy: undefined, kind: 'leave' },
    { action: 'grant', changed: true, supersededBy: 'R-NEXT', kind: 'leave' },
    { action: 'revoke', changed: true, supersededBy: undefined, kind: 'leave' },
  ] as const)(
    '$action changed=$changed superseded=$supersededBy → $kind',
    ({ action, changed, supersededBy, kind }) => {
      expect(revokeDecision({ action, changed, ...(supersededBy ? { supersededBy } : {}) }).kind).toBe(kind);
    },
  );
});
