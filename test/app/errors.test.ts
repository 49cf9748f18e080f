import { describe, expect, it } from 'vitest';
import {
  describeFailure,
  isRedisUnavailable,
  REDIS_DOWN_MESSAGE,
  StoreUnavailableError,
} from '../../src/app/errors.ts';
import { QlikError } from '../../src/qlik/index.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';
import { UnknownTargetError } from '../../src/targets/registry.ts';

describe('isRedisUnavailable', () => {
  it.each([
    [
      Object.assign(new Error('Reached the max retries per request limit (which is 3).'), {
        name: 'MaxRetriesPerRequestError',
      }),
      true,
    ],
    [new Error('Connection is closed.'), true],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), true],
    [new Error("Stream isn't writeable and enableOfflineQueue options is false"), true],
    [new Error('ERR wrong number of arguments'), false],
    ['ECONNREFUSED', false],
  ])('%s → %s', (err, expected) => {
    expect(isRedisUnavailable(err)).toBe(expected);
  });
});

describe('describeFailure', () => {
  it("passes a target's own sentence through (Qlik's, as the tenant-roles target describes it)", () => {
    const err = new QlikError({
      kind: 'forbidden',
      status: 403,
      method: 'GET',
      path: '/api/v1/roles',
      title: 'Forbidden',
    });
    const target = new QlikRolesTarget({ instance: 'default', qlik: {} as never });
    expect(describeFailure(err, 'x', false, (e) => target.describeError(e)).message).toBe(err.userMessage());
    expect(target.describeError(new Error('x'))).toBeUndefined();
  });

  it('says a target is no longer configured in its own words', () => {
    const err = new UnknownTargetError({ kind: 'qlik-roles', instance: 'dev' });
    expect(describeFailure(err, 'x')).toEqual({ message: err.message });
  });

  it('names Redis, with the filing wording when filing', () => {
    const down = new StoreUnavailableError(new Error('Connection is closed.'));
    expect(describeFailure(down, 'filing', true).message).toBe(REDIS_DOWN_MESSAGE);
    expect(describeFailure(down, 'recording your approval').message).toContain(
      'while recording your approval',
    );
  });

  it('apologises with a reference for anything else, without echoing the error', () => {
    const f = describeFailure(new Error('xoxb-secret-token leaked?'), 'listing the roles');
    expect(f.ref).toMatch(/^[0-9a-f]{6}$/);
    expect(f.message).toContain(f.ref);
    expect(f.message).not.toContain('xoxb');
  });
});
