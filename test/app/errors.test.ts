import { describe, expect, it } from 'vitest';
import { describeFailure, isRedisUnavailable, StoreUnavailableError } from '../../src/app/errors.ts';
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
  it("carries a target's own words (Qlik's, as the tenant-roles target describes them)", () => {
    const err = new QlikError({
      kind: 'forbidden',
      status: 403,
      method: 'GET',
      path: '/api/v1/roles',
      title: 'Forbidden',
    });
    const target = new QlikRolesTarget({ instance: 'default', qlik: {} as never });
    expect(describeFailure(err, 'listing-roles', (e) => target.describeError(e))).toEqual({
      ok: false,
      code: 'target-error',
      message: err.userMessage(),
    });
    expect(target.describeError(new Error('x'))).toBeUndefined();
  });

  it("says a target is no longer configured in the registry's words", () => {
    const err = new UnknownTargetError({ kind: 'qlik-roles', instance: 'dev' });
    expect(describeFailure(err, 'approving')).toEqual({
      ok: false,
      code: 'target-gone',
      message: err.message,
    });
  });

  it('names Redis, with what was being done', () => {
    const down = new StoreUnavailableError(new Error('Connection is closed.'));
    expect(describeFailure(down, 'filing')).toEqual({
      ok: false,
      code: 'store-unavailable',
      doing: 'filing',
    });
    expect(describeFailure(new Error('Connection is closed.'), 'approving')).toEqual({
      ok: false,
      code: 'store-unavailable',
      doing: 'approving',
    });
  });

  it('gives anything else a reference, without carrying the error', () => {
    const f = describeFailure(new Error('xoxb-secret-token leaked?'), 'listing-roles');
    expect(f).toEqual({
      ok: false,
      code: 'failed',
      doing: 'listing-roles',
      ref: expect.stringMatching(/^[0-9a-f]{6}$/),
    });
    expect(JSON.stringify(f)).not.toContain('xoxb');
  });
});
