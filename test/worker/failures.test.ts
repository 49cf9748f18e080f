import { describe, expect, it } from 'vitest';
import { failureSentence } from '../../src/app/outcome-words.ts';
import type { FailureCause } from '../../src/domain/outcome.ts';
import { QlikError, type QlikErrorKind } from '../../src/qlik/index.ts';
import { LockLostError, LockTimeoutError } from '../../src/store/principal-lock.ts';
import { DriftError } from '../../src/targets/errors.ts';
import { classifyQlikError } from '../../src/targets/qlik-roles/failures.ts';
import { QLIK_ROLES_WORDS } from '../../src/targets/qlik-roles/words.ts';
import { UnknownTargetError } from '../../src/targets/registry.ts';
import { RetryLaterError } from '../../src/worker/context.ts';
import { classifyFailure, failureOf } from '../../src/worker/failures.ts';
import { attemptInfo } from '../../src/worker/index.ts';

const alice = { who: 'alice (alice@corp.example)', kind: 'user' as const };
// The worker's classification with the Qlik tenant-roles target's.
const qlikRoles = { classifyError: classifyQlikError };
const noJitter = () => 0;

function qlikError(
  kind: QlikErrorKind,
  status: number,
  extra: { retryAfterMs?: number; method?: string } = {},
) {
  return new QlikError({
    kind,
    status,
    method: extra.method ?? 'PATCH',
    path: '/api/v1/users/abc',
    title: 'Some title',
    detail: 'Some detail',
    ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }),
  });
}

describe('classifyFailure', () => {
  it.each([
    {
      name: '429 → later, after Retry-After',
      err: qlikError('rate-limited', 429, { retryAfterMs: 7_000 }),
      kind: 'later',
      delay: 7_000,
    },
    {
      name: '429 without Retry-After → later, a safe default',
      err: qlikError('rate-limited', 429),
      kind: 'later',
      delay: 30_000,
    },
    {
      name: 'busy principal lock → later',
      err: new LockTimeoutError('user:1', 60_000),
      kind: 'later',
      delay: 1_000,
    },
    { name: 'RetryLaterError → later', err: new RetryLaterError(1234, 'x'), kind: 'later', delay: 1234 },
    { name: '503 → retry', err: qlikError('server', 503), kind: 'retry' },
    { name: 'network → retry', err: qlikError('network', 0), kind: 'retry' },
    { name: 'timeout → retry', err: qlikError('timeout', 0), kind: 'retry' },
    { name: 'lost lock → retry', err: new LockLostError('user:1'), kind: 'retry' },
    { name: 'unknown error → retry', err: new Error('ECONNRESET on Redis'), kind: 'retry' },
    { name: '400 → fail', err: qlikError('bad-request', 400), kind: 'fail' },
    { name: '403 → fail', err: qlikError('forbidden', 403), kind: 'fail' },
    { name: '404 → fail', err: qlikError('not-found', 404, { method: 'GET' }), kind: 'fail' },
    { name: '207 partial → fail', err: qlikError('partial', 207), kind: 'fail' },
    { name: 'drift → fail', err: new DriftError('someone changed it'), kind: 'fail' },
  ])('$name', ({ err, kind, delay }) => {
    const action = classifyFailure(err, qlikRoles, alice, noJitter);
    expect(action.kind).toBe(kind);
    if (action.kind === 'later' && delay !== undefined) expect(action.delayMs).toBe(delay);
  });

  it('a request for a target no longer configured fails at once, saying so', () => {
    const action = classifyFailure(
      new UnknownTargetError({ kind: 'qlik-roles', instance: 'eu' }),
      undefined,
      alice,
    );
    expect(action).toMatchObject({ kind: 'fail', cause: { code: 'target-gone' } });
    expect(action.kind === 'fail' && action.cause.code === 'target-gone' && action.cause.detail).toMatch(
      /not configured for qlik-roles on "eu"/,
    );
  });

  it('an error no target claims is retried', () => {
    const unclaimed = { classifyError: () => undefined };
    expect(classifyFailure(qlikError('forbidden', 403), unclaimed, alice).kind).toBe('retry');
  });

  it('a 404 says who no longer exists, in words for the requester', () => {
    const action = classifyFailure(
      qlikError('not-found', 404, { method: 'GET' }),
      qlikRoles,
      alice,
      noJitter,
    );
    expect(action).toMatchObject({ kind: 'fail' });
    expect(action.kind === 'fail' && detail(action)).toMatch(
      /^Qlik says the user alice \(alice@corp\.example\) no longer exists \(404 Not Found\)/,
    );
    const group = classifyFailure(
      qlikError('not-found', 404),
      qlikRoles,
      { who: 'group Finance', kind: 'group' },
      noJitter,
    );
    expect(group.kind === 'fail' && detail(group)).toMatch(/the group group Finance no longer exists/);
  });

  it("a 403 carries Qlik's own title and detail", () => {
    const action = classifyFailure(qlikError('forbidden', 403), qlikRoles, alice, noJitter);
    expect(action.kind === 'fail' && detail(action)).toMatch(/403 Forbidden: Some title — Some detail/);
  });

  it('429 delays are jittered a little so blocked jobs do not return in the same instant', () => {
    const a = classifyFailure(
      qlikError('rate-limited', 429, { retryAfterMs: 1000 }),
      qlikRoles,
      alice,
      () => 0.99,
    );
    expect(a.kind === 'later' && a.delayMs).toBeGreaterThan(1000);
    expect(a.kind === 'later' && a.delayMs).toBeLessThan(1300);
  });

  it('a lost lock and an error nobody claims are retried with their own causes', () => {
    const lost = Object.assign(new Error('lock lost'), { name: 'LockLostError' });
    expect(classifyFailure(lost, qlikRoles, alice)).toMatchObject({
      kind: 'retry',
      cause: { code: 'lock-lost' },
    });
    expect(classifyFailure(new TypeError('boom'), qlikRoles, alice)).toMatchObject({
      kind: 'retry',
      cause: { code: 'internal' },
    });
  });

  it('exhausted retries record the attempts; a final refusal does not', () => {
    const server = classifyFailure(qlikError('server', 503), qlikRoles, alice, noJitter);
    if (server.kind === 'later') throw new Error('a 503 is retried, not delayed');
    expect(failureOf(server, 8)).toEqual({ cause: server.cause, gaveUpAfter: 8 });
    const forbidden = classifyFailure(qlikError('forbidden', 403), qlikRoles, alice, noJitter);
    if (forbidden.kind === 'later') throw new Error('a 403 fails');
    expect(failureOf(forbidden, 3)).toEqual({ cause: forbidden.cause });
    expect(
      failureSentence(
        { target: { kind: 'user', name: 'alice' } as never },
        failureOf(server, 8),
        QLIK_ROLES_WORDS,
      ),
    ).toMatch(/tried 8 times and gave up; check the roles in the Qlik Management Console/);
  });
});

/** The target's words a failure carries. */
function detail(action: { cause: FailureCause }): string | undefined {
  return action.cause.code === 'target' ? action.cause.detail : undefined;
}

describe('attemptInfo', () => {
  it.each([
    { attemptsMade: 0, attempts: 8, attempt: 1, final: false },
    { attemptsMade: 7, attempts: 8, attempt: 8, final: true },
    { attemptsMade: 0, attempts: 1, attempt: 1, final: true },
    { attemptsMade: 0, attempts: undefined, attempt: 1, final: true },
  ])(
    'attemptsMade $attemptsMade of $attempts → attempt $attempt, final $final',
    ({ attemptsMade, attempts, attempt, final }) => {
      expect(attemptInfo({ attemptsMade, opts: attempts === undefined ? {} : { attempts } })).toEqual({
        attempt,
        final,
      });
    },
  );
});
