// People as the core knows them (PersonRef): compared by front and id, and written as one string (personKey) the way
// every earlier version wrote a Slack user, so old and new entries of one person in the store and the audit agree.
import { describe, expect, it } from 'vitest';
import { type PersonRef, personFromKey, personKey, samePerson } from '../../src/domain/request.ts';

describe('samePerson', () => {
  it('is true for the same id on the same front only', () => {
    expect(samePerson({ front: 'slack', id: 'U0ALICE' }, { front: 'slack', id: 'U0ALICE' })).toBe(true);
    expect(samePerson({ front: 'slack', id: 'U0ALICE' }, { front: 'slack', id: 'U0BOB' })).toBe(false);
    const other = { front: 'teams', id: 'U0ALICE' } as unknown as PersonRef;
    expect(samePerson({ front: 'slack', id: 'U0ALICE' }, other)).toBe(false);
    expect(samePerson(undefined, { front: 'slack', id: 'U0ALICE' })).toBe(false);
    expect(samePerson(undefined, undefined)).toBe(false);
  });
});

describe('personKey', () => {
  it('writes a Slack person as their bare user id, as earlier versions did, and reads it back', () => {
    expect(personKey({ front: 'slack', id: 'U0ALICE' })).toBe('U0ALICE');
    expect(personFromKey('U0ALICE')).toEqual({ front: 'slack', id: 'U0ALICE' });
    expect(personFromKey('W0ENTERPRISE')).toEqual({ front: 'slack', id: 'W0ENTERPRISE' });
  });

  it('prefixes a person on any other front with it, so they never collide with a Slack id', () => {
    const other = { front: 'teams', id: 'U0ALICE' } as unknown as PersonRef;
    expect(personKey(other)).toBe('teams:U0ALICE');
    expect(personFromKey('teams:U0ALICE')).toEqual(other);
    expect(personFromKey(personKey(other))).toEqual(other);
  });
});
