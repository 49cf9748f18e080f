// The Slack front's words for the app's outcomes (src/slack/words.ts): one table per outcome type, each row an
// outcome as the app returns it and the sentence the person sees, word for word as before the app returned codes.
import { describe, expect, it } from 'vitest';
import type { Failure } from '../../src/app/outcomes.ts';
import type { RoleChangeRequest } from '../../src/domain/request.ts';
import { plainTime } from '../../src/domain/time.ts';
import {
  approveOutcomeText,
  auditRefusalText,
  cancelOutcomeText,
  denyOutcomeText,
  eligibilityRefusalText,
  extendOutcomeText,
  failureText,
  fileRefusalText,
  instanceRefusalText,
  inviteRefusalText,
  postProblemText,
  principalRefusalText,
  REDIS_DOWN_MESSAGE,
  requestRefusalText,
  revokeNowOutcomeText,
  roleQueryRefusalText,
  whoisRefusalText,
} from '../../src/slack/words.ts';
import { H, T0, viewRequest } from './fixtures.ts';

/** The words tests speak of Frank (the target) and Dan (the requester), as the sandbox does. */
function request(over: Partial<RoleChangeRequest> = {}): RoleChangeRequest {
  return viewRequest({
    target: {
      kind: 'user',
      id: 'q-frank',
      name: 'Frank Fischer',
      email: 'frank@corp.example',
      person: { front: 'slack', id: 'U0FRANK' },
    },
    requester: { front: 'slack', id: 'U0DAN' },
    ...over,
  });
}

const R = request();

describe('failures', () => {
  it.each<[Failure, string]>([
    [
      { ok: false, code: 'target-error', message: 'Qlik refused the bot (403).' },
      'Qlik refused the bot (403).',
    ],
    [
      { ok: false, code: 'target-gone', message: 'This bot is not configured …' },
      'This bot is not configured …',
    ],
    [{ ok: false, code: 'store-unavailable', doing: 'filing' }, REDIS_DOWN_MESSAGE],
    [{ ok: false, code: 'store-unavailable', doing: 'extending' }, REDIS_DOWN_MESSAGE],
    [
      { ok: false, code: 'store-unavailable', doing: 'cancelling' },
      "I couldn't reach my database (Redis) while cancelling the request; try again in a minute.",
    ],
    [
      { ok: false, code: 'store-unavailable', doing: 'approving' },
      "I couldn't reach my database (Redis) while recording your approval; try again in a minute.",
    ],
    [
      { ok: false, code: 'failed', doing: 'listing-roles', ref: 'a1b2c3' },
      'Something went wrong on my side while listing the roles (ref a1b2c3). Try again, and tell an admin if it keeps happening.',
    ],
  ])('%j', (f, text) => {
    expect(failureText(f)).toBe(text);
  });

  it('says nothing was filed when Redis is down while filing', () => {
    expect(REDIS_DOWN_MESSAGE).toBe(
      "I couldn't reach my database (Redis); nothing was filed — try again in a minute.",
    );
  });
});

describe('who can be mapped to a principal', () => {
  it.each([
    [
      { ok: false, code: 'chat-user-unknown', userId: 'U0NOBODY' },
      "Slack doesn't know the user U0NOBODY. Pick the person with an @-mention, or use their email.",
    ],
    [
      { ok: false, code: 'chat-user-deactivated', name: 'Lee Leaver' },
      "Lee Leaver's Slack account is deactivated, so I can't map them to a Qlik user. Use their email instead if they still need Qlik access.",
    ],
    [
      { ok: false, code: 'chat-user-bot', name: 'Reminder Bot' },
      'Reminder Bot is a bot, and bots have no Qlik account. Pick a person or a group.',
    ],
    [
      { ok: false, code: 'chat-user-no-email', name: 'Nora', self: true },
      "Your Slack profile has no email I can read, so I can't find the matching Qlik user. Use the email instead, e.g. `/qlik grant alice@corp.example <role>`.",
    ],
    [
      { ok: false, code: 'chat-user-no-email', name: 'Nora', self: false },
      "Nora's Slack profile has no email I can read, so I can't find the matching Qlik user. Use the email instead, e.g. `/qlik grant alice@corp.example <role>`.",
    ],
    [
      { ok: false, code: 'email-lookup-failed', email: 'approver2@corp.example', problem: 'missing_scope' },
      "I couldn't ask Slack who has the email approver2@corp.example (missing_scope), so I can't make sure they won't approve their own request. Nothing was filed; try again in a minute, or @-mention the person instead.",
    ],
    [
      { ok: false, code: 'no-such-user', email: 'x@y.z', system: 'Qlik' },
      'No Qlik user has the email x@y.z — ask a tenant admin to invite them first.',
    ],
    [
      { ok: false, code: 'several-users', email: 'twin@corp.example', count: 2, system: 'Qlik' },
      "2 Qlik users have the email twin@corp.example, so I can't tell which one you mean. Ask a tenant admin to remove the duplicate.",
    ],
    [
      { ok: false, code: 'no-such-group', name: 'finance', system: 'Qlik' },
      'Qlik has no group named exactly "finance" (group names are case-sensitive). Check the spelling in the Management Console.',
    ],
  ] as const)('%j', (r, text) => {
    expect(principalRefusalText(r)).toBe(text);
    expect(whoisRefusalText(r)).toBe(text);
    expect(fileRefusalText(r)).toBe(text);
  });
});

describe('tenants and roles', () => {
  it.each([
    [
      {
        ok: false,
        code: 'unknown-instance',
        instance: ' x ',
        system: 'Qlik',
        noun: 'tenant',
        configured: ['default', 'dev'],
      },
      'There is no Qlik tenant `x` here; the tenants are default and dev.',
    ],
    [
      {
        ok: false,
        code: 'unknown-instance',
        instance: 'dev',
        system: 'Qlik',
        noun: 'tenant',
        configured: ['default'],
      },
      'There is no Qlik tenant `dev` here; the tenant is default.',
    ],
    [
      {
        ok: false,
        code: 'unknown-instance',
        instance: 'x'.repeat(50),
        system: 'Qlik',
        noun: 'tenant',
        configured: ['a', 'b', 'c'],
      },
      `There is no Qlik tenant \`${'x'.repeat(40)}\` here; the tenants are a, b and c.`,
    ],
  ] as const)('%j', (r, text) => {
    expect(instanceRefusalText(r)).toBe(text);
    expect(roleQueryRefusalText(r)).toBe(text);
    expect(whoisRefusalText(r)).toBe(text);
    expect(fileRefusalText(r)).toBe(text);
    expect(auditRefusalText(r)).toBe(text);
  });

  it.each([
    [['Steward'], 'Qlik has no role `Stewart`. Did you mean Steward? Nothing was filed.'],
    [
      ['Steward', 'DataSteward'],
      'Qlik has no role `Stewart`. Did you mean Steward or DataSteward? Nothing was filed.',
    ],
    [['A', 'B', 'C'], 'Qlik has no role `Stewart`. Did you mean A, B or C? Nothing was filed.'],
    [[], 'Qlik has no role `Stewart`. Run `/qlik roles` to see the roles of this tenant. Nothing was filed.'],
  ])('unknown role, suggesting %j', (suggestions, text) => {
    const r = { ok: false, code: 'unknown-role', role: 'Stewart', system: 'Qlik', suggestions } as const;
    expect(roleQueryRefusalText(r)).toBe(text);
    expect(fileRefusalText(r)).toBe(text);
  });

  it('words a resource the target does not have, for a role lookup and a filing alike', () => {
    const r = {
      ok: false,
      code: 'resource-refused',
      system: 'Qlik',
      refusal: { ok: false, code: 'resource-unsupported', resourceKind: 'space' },
    } as const;
    const text = 'This kind of Qlik access is not given in a space; leave out the `space:"…"` part.';
    expect(roleQueryRefusalText(r)).toBe(text);
    expect(fileRefusalText(r)).toBe(text);
  });
});

describe("the policy's refusals", () => {
  const M = 60_000;
  it.each([
    [
      { code: 'not-requestable', role: 'AuditAdmin', action: 'grant' },
      "`AuditAdmin` can't be granted from Slack. Ask a tenant admin to change it in the Qlik Cloud Management Console.",
    ],
    [
      { code: 'not-requestable', role: 'auditadmin', action: 'revoke' },
      "`auditadmin` can't be revoked from Slack. Ask a tenant admin to change it in the Qlik Cloud Management Console.",
    ],
    [
      { code: 'reason-required', role: 'TenantAdmin' },
      '`TenantAdmin` needs a reason. Add one at the end of your command: `because <reason>`.',
    ],
    [
      { code: 'min-duration', role: 'Steward', minMs: 5 * M, askedMs: 1_000 },
      '`Steward` can be granted for no less than 5 minutes, and you asked for 1 second. Ask again with `for 5m` or more.',
    ],
    [
      { code: 'min-duration', role: 'Steward', minMs: 5 * M, askedMs: 45_000 },
      '`Steward` can be granted for no less than 5 minutes, and you asked for 45 seconds. Ask again with `for 5m` or more.',
    ],
    [
      { code: 'min-duration', role: 'Steward', minMs: 5 * M, askedMs: 4 * M },
      '`Steward` can be granted for no less than 5 minutes, and you asked for 4 minutes. Ask again with `for 5m` or more.',
    ],
    [
      { code: 'min-duration', role: 'Other', minMs: M, askedMs: 30_000 },
      '`Other` can be granted for no less than 1 minute, and you asked for 30 seconds. Ask again with `for 1m` or more.',
    ],
    [
      { code: 'min-duration', role: 'TenantAdmin', minMs: H, askedMs: H / 2 },
      '`TenantAdmin` can be granted for no less than 1 hour, and you asked for 30 minutes. Ask again with `for 1h` or more.',
    ],
    [
      { code: 'max-duration', role: 'TenantAdmin', maxMs: 4 * H, askedMs: 2 * 24 * H },
      '`TenantAdmin` can be granted for at most 4 hours, and you asked for 2 days. Ask again with `for 4h` or less.',
    ],
    [
      { code: 'max-duration', role: 'Steward', maxMs: 2 * 24 * H, askedMs: 3 * 24 * H },
      '`Steward` can be granted for at most 2 days, and you asked for 3 days. Ask again with `for 2d` or less.',
    ],
    [
      { code: 'max-duration', role: 'NotListed', maxMs: 30 * 24 * H, askedMs: 31 * 24 * H },
      '`NotListed` can be granted for at most 30 days, and you asked for 31 days. Ask again with `for 30d` or less.',
    ],
    [
      { code: 'duration-required', role: 'TenantAdmin', maxMs: 4 * H },
      '`TenantAdmin` is only granted for a limited time (at most 4 hours). Add `for 4h` to your command.',
    ],
    [
      { code: 'duration-required', role: 'X' },
      '`X` is only granted for a limited time. Add `for 4h` to your command.',
    ],
  ] as const)('words the request refusal %j', (refusal, text) => {
    expect(requestRefusalText({ ok: false, ...refusal })).toBe(text);
  });

  it.each([
    [{ code: 'own-request', requestId: 'R-7KQ2' }, 'You filed R-7KQ2, so someone else has to approve it.'],
    [
      { code: 'grants-to-clicker', requestId: 'R-7KQ2' },
      'R-7KQ2 grants a role to you, so someone else has to approve it.',
    ],
    // How many more approvals, in proper English, and at least one (issue 10 item 11).
    [
      { code: 'approved-already', requestId: 'R-7KQ2', more: 1 },
      'You already approved R-7KQ2; it needs 1 more approval from someone else.',
    ],
    [
      { code: 'approved-already', requestId: 'R-7KQ2', more: 2 },
      'You already approved R-7KQ2; it needs 2 more approvals from someone else.',
    ],
    [
      { code: 'approved-already', requestId: 'R-7KQ2', more: 0 },
      'You already approved R-7KQ2; it needs 1 more approval from someone else.',
    ],
  ] as const)('words the eligibility refusal %j', (refusal, text) => {
    expect(eligibilityRefusalText({ ok: false, ...refusal })).toBe(text);
  });
});

describe('filing', () => {
  it.each([
    [
      {
        ok: false,
        code: 'policy-refused',
        refusal: { ok: false, code: 'min-duration', role: 'Steward', minMs: 5 * 60_000, askedMs: 1_000 },
      },
      '`Steward` can be granted for no less than 5 minutes, and you asked for 1 second. Ask again with `for 5m` or more.',
    ],
    [
      {
        ok: false,
        code: 'already-held',
        principal: { kind: 'user', name: 'Dan Dubois' },
        role: 'SharedSpaceCreator',
      },
      'Dan Dubois already has SharedSpaceCreator directly; nothing was filed.',
    ],
    [
      { ok: false, code: 'already-held', principal: { kind: 'group', name: 'Finance' }, role: 'Steward' },
      'Group Finance already has Steward directly; nothing was filed.',
    ],
    [
      {
        ok: false,
        code: 'not-held',
        principal: { kind: 'user', name: 'Frank Fischer' },
        role: 'SharedSpaceCreator',
        viaGroups: ['Finance'],
      },
      'Frank Fischer doesn\'t hold SharedSpaceCreator directly, so there is nothing to revoke. They get it through group Finance: revoke it from the group instead (`/qlik revoke group:"Finance" SharedSpaceCreator`), or ask a tenant admin to change the membership.',
    ],
    [
      {
        ok: false,
        code: 'not-held',
        principal: { kind: 'user', name: 'Frank Fischer' },
        role: 'Steward',
        viaGroups: ['Finance', 'Sales Ops'],
      },
      'Frank Fischer doesn\'t hold Steward directly, so there is nothing to revoke. They get it through groups Finance, Sales Ops: revoke it from the group instead (`/qlik revoke group:"Finance" Steward`), or ask a tenant admin to change the membership.',
    ],
    [
      {
        ok: false,
        code: 'not-held',
        principal: { kind: 'group', name: 'Finance' },
        role: 'Steward',
        viaGroups: [],
      },
      "Group Finance doesn't hold Steward directly, so there is nothing to revoke.",
    ],
    [
      { ok: false, code: 'disabled-user', name: 'Viktor Varga' },
      "Viktor Varga's Qlik account is disabled, so a role granted to it would do nothing until a tenant admin enables the account. Ask them to enable it first; nothing was filed.",
    ],
    [{ ok: false, code: 'store-unavailable', doing: 'filing' }, REDIS_DOWN_MESSAGE],
  ] as const)('%j', (o, text) => {
    expect(fileRefusalText(o)).toBe(text);
  });

  it('says where approvers can find a request that was not posted', () => {
    expect(postProblemText('not_in_channel')).toBe(
      "I couldn't post it to the approval channel (not_in_channel), so approvers won't see it there — they can still find it with `/qlik requests`. Ask an admin to invite the bot to that channel.",
    );
  });
});

describe('approve', () => {
  it.each([
    [
      {
        ok: true,
        code: 'recorded',
        request: request({ approvals: [{ by: { front: 'slack', id: 'U0ALICE' }, at: T0 }] }),
      },
      'Approval recorded for R-7KQ2 (1 of 2).',
    ],
    [
      { ok: true, code: 'approved', request: request({ state: 'approved' }) },
      'You approved R-7KQ2; it is being applied now.',
    ],
    [
      {
        ok: false,
        code: 'already-approved',
        request: request({ approvals: [{ by: { front: 'slack', id: 'U0ALICE' }, at: T0 }] }),
      },
      'You already approved R-7KQ2; it needs 1 more approval from someone else.',
    ],
    [
      {
        ok: false,
        code: 'already-approved',
        request: request({
          approvalsRequired: 3,
          approvals: [{ by: { front: 'slack', id: 'U0ALICE' }, at: T0 }],
        }),
      },
      'You already approved R-7KQ2; it needs 2 more approvals from someone else.',
    ],
    [
      { ok: false, code: 'not-eligible', refusal: { ok: false, code: 'own-request', requestId: 'R-7KQ2' } },
      'You filed R-7KQ2, so someone else has to approve it. Nothing changed.',
    ],
    [
      {
        ok: false,
        code: 'not-eligible',
        refusal: { ok: false, code: 'approved-already', requestId: 'R-7KQ2', more: 1 },
      },
      'You already approved R-7KQ2; it needs 1 more approval from someone else. Nothing changed.',
    ],
    [
      { ok: false, code: 'not-found', requestId: 'r-zzzz' },
      "I can't find request R-ZZZZ. Check the id with `/qlik requests`.",
    ],
    [
      { ok: false, code: 'not-pending', request: request({ state: 'approved' }) },
      'R-7KQ2 is already approved; nothing changed.',
    ],
    [
      { ok: false, code: 'not-pending', request: request({ state: 'applying' }) },
      'R-7KQ2 is already being applied; nothing changed.',
    ],
    [
      { ok: false, code: 'expired', request: R },
      "R-7KQ2 expired before anyone decided, so you can't approve it any more. The requester can file it again.",
    ],
    [
      { ok: false, code: 'not-approver', request: R },
      'You are not an approver for TenantAdmin, so nothing changed.',
    ],
    [
      { ok: false, code: 'profile-unreadable', request: R, problem: 'ratelimited' },
      "I couldn't read your Slack profile (ratelimited), so I can't check that R-7KQ2 doesn't grant a role to you. Nothing changed; try again in a minute.",
    ],
    [
      { ok: false, code: 'profile-no-email', request: R },
      "Your Slack profile has no email I can read, so I can't check that R-7KQ2 doesn't grant a role to you. Nothing changed; ask another approver.",
    ],
    [
      { ok: false, code: 'grants-to-you', request: R },
      'R-7KQ2 grants a role to you, so someone else has to approve it. Nothing changed.',
    ],
    [
      { ok: false, code: 'grants-to-you', request: R, group: 'com.qlik.Everyone' },
      'R-7KQ2 grants a role to group com.qlik.Everyone, and you are a member of it, so someone else has to approve it. Nothing changed.',
    ],
    [
      { ok: false, code: 'membership-unknown', request: R, system: 'Qlik', group: 'Data Engineering' },
      "I couldn't ask Qlik whether you are a member of group Data Engineering, so I can't record your approval. Nothing changed; try again in a minute.",
    ],
    [
      { ok: false, code: 'membership-unknown', request: R, system: 'Qlik' },
      "I couldn't ask Qlik whether R-7KQ2 grants a role to you, so I can't record your approval. Nothing changed; try again in a minute.",
    ],
    [
      { ok: false, code: 'failed', doing: 'approving', ref: 'abc123' },
      'Something went wrong on my side while recording your approval (ref abc123). Try again, and tell an admin if it keeps happening.',
    ],
  ] as const)('%j', (o, text) => {
    expect(approveOutcomeText(o)).toBe(text);
  });
});

describe('deny', () => {
  it.each([
    [
      { ok: true, code: 'denied', request: request({ state: 'denied' }) },
      'You denied R-7KQ2; the requester will be told.',
    ],
    [
      { ok: false, code: 'not-pending', request: request({ state: 'denied' }) },
      'R-7KQ2 is already denied; nothing changed.',
    ],
    [
      { ok: false, code: 'expired', request: R },
      "R-7KQ2 expired before anyone decided, so you can't deny it any more. The requester can file it again.",
    ],
    [
      { ok: false, code: 'not-approver', request: R },
      'You are not an approver for TenantAdmin, so nothing changed.',
    ],
    [
      { ok: false, code: 'not-found', requestId: 'r-zzzz' },
      "I can't find request R-ZZZZ. Check the id with `/qlik requests`.",
    ],
    [
      { ok: false, code: 'store-unavailable', doing: 'denying' },
      "I couldn't reach my database (Redis) while recording your denial; try again in a minute.",
    ],
  ] as const)('%j', (o, text) => {
    expect(denyOutcomeText(o)).toBe(text);
  });
});

describe('cancel', () => {
  it.each([
    [
      { ok: true, code: 'cancelled', request: request({ state: 'cancelled' }) },
      'Cancelled R-7KQ2; nothing will change in Qlik.',
    ],
    [
      { ok: false, code: 'not-found', requestId: 'r-zzzz' },
      "I can't find request R-ZZZZ. Check the id with `/qlik requests`.",
    ],
    [
      { ok: false, code: 'not-requester', request: request() },
      'Only the person who filed R-7KQ2 can cancel it; nothing changed.',
    ],
    [
      { ok: false, code: 'not-pending', request: request({ state: 'applying' }) },
      'R-7KQ2 is already being applied, so there is nothing to cancel.',
    ],
    [
      { ok: false, code: 'not-pending', request: request({ state: 'expired-revoked' }) },
      'R-7KQ2 is already over (expired and revoked), so there is nothing to cancel.',
    ],
    [
      { ok: false, code: 'decided-meanwhile', request: request({ state: 'approved' }) },
      'R-7KQ2 is already approved; nothing changed.',
    ],
    [
      { ok: false, code: 'store-unavailable', doing: 'cancelling' },
      "I couldn't reach my database (Redis) while cancelling the request; try again in a minute.",
    ],
  ] as const)('%j', (outcome, text) => {
    expect(cancelOutcomeText(outcome)).toBe(text);
  });
});

describe('extend', () => {
  const applied = request({
    id: 'R-AAAA',
    state: 'applied',
    durationMs: 4 * H,
    result: { before: [], after: ['TenantAdmin'], changed: true, message: 'done', revokeAt: T0 + 4 * H },
  });
  const ext = request({ id: 'R-BBBB', extends: 'R-AAAA' });
  it.each([
    [
      { ok: true, code: 'filed', request: ext, original: applied, autoApproved: false },
      `Extension filed as R-BBBB: TenantAdmin for Frank Fischer (frank@corp.example) is waiting for approval. Once it is applied, R-AAAA ends 4 hours after that instead of at its current end (now ${plainTime(T0 + 4 * H)}); until then nothing changes.`,
    ],
    [
      {
        ok: true,
        code: 'filed',
        request: request({ id: 'R-BBBB', state: 'approved' }),
        original: { ...applied, result: undefined },
        autoApproved: true,
        postProblem: 'not_in_channel',
      },
      `Extension filed as R-BBBB: TenantAdmin for Frank Fischer (frank@corp.example) was approved automatically and is being applied. Once it is applied, R-AAAA ends 4 hours after that; until then nothing changes. ${postProblemText('not_in_channel')}`,
    ],
    [
      { ok: false, code: 'not-time-bound', request: R },
      'R-7KQ2 is not a time-bound grant, so there is nothing to extend.',
    ],
    [
      { ok: false, code: 'not-applied', request: R },
      "R-7KQ2 is pending, so it can't be extended. File a new request with `/qlik grant`.",
    ],
    [
      { ok: false, code: 'not-allowed', request: request({ entitlement: { id: 'r', name: 'DataAdmin' } }) },
      'Only the requester, the person it was granted to, or an approver of DataAdmin can extend R-7KQ2.',
    ],
    [
      {
        ok: false,
        code: 'policy-refused',
        refusal: { ok: false, code: 'max-duration', role: 'Steward', maxMs: 2 * 24 * H, askedMs: 3 * 24 * H },
      },
      '`Steward` can be granted for at most 2 days, and you asked for 3 days. Ask again with `for 2d` or less.',
    ],
    [
      { ok: false, code: 'duplicate', duplicateOf: ext },
      'The same request is already pending as R-BBBB; nothing new was filed.',
    ],
    [
      { ok: false, code: 'not-found', requestId: 'r-zzzz' },
      "I can't find request R-ZZZZ. Check the id with `/qlik requests`.",
    ],
    [{ ok: false, code: 'store-unavailable', doing: 'extending' }, REDIS_DOWN_MESSAGE],
  ] as const)('%j', (o, text) => {
    expect(extendOutcomeText(o)).toBe(text);
  });
});

describe('revoke now', () => {
  const grant = request({ state: 'applied', entitlement: { id: 'r', name: 'Steward' } });
  it.each([
    [
      { ok: true, code: 'queued', request: grant },
      'Revoking Steward from Frank Fischer (frank@corp.example) now (R-7KQ2); the result follows in the approval thread.',
    ],
    [
      {
        ok: false,
        code: 'under-way',
        request: grant,
        by: { front: 'slack', id: 'U0FRANK' },
        byName: 'frank',
        byYou: false,
        at: T0,
      },
      `The revoke of Steward from Frank Fischer (frank@corp.example) (R-7KQ2) is already under way: @frank pressed Revoke now ${plainTime(T0)}. The result follows in the approval thread.`,
    ],
    [
      {
        ok: false,
        code: 'under-way',
        request: grant,
        by: { front: 'slack', id: 'U0FRANK' },
        byYou: true,
        at: T0,
      },
      `The revoke of Steward from Frank Fischer (frank@corp.example) (R-7KQ2) is already under way: you pressed Revoke now ${plainTime(T0)}. The result follows in the approval thread.`,
    ],
    [
      {
        ok: false,
        code: 'under-way',
        request: grant,
        by: { front: 'slack', id: 'U0GONE' },
        byYou: false,
        at: T0,
      },
      `The revoke of Steward from Frank Fischer (frank@corp.example) (R-7KQ2) is already under way: U0GONE pressed Revoke now ${plainTime(T0)}. The result follows in the approval thread.`,
    ],
    [{ ok: false, code: 'not-applied', request: R }, 'R-7KQ2 is pending, so there is nothing to revoke now.'],
    [
      { ok: false, code: 'not-a-grant', request: request({ action: 'revoke' }) },
      'R-7KQ2 is a revoke; there is nothing to revoke.',
    ],
    [
      { ok: false, code: 'not-allowed', request: request({ entitlement: { id: 'r', name: 'DataAdmin' } }) },
      'Only the requester, the person it was granted to, or an approver of DataAdmin can revoke R-7KQ2; nothing changed.',
    ],
    [
      { ok: false, code: 'not-found', requestId: 'r-zzzz' },
      "I can't find request R-ZZZZ. Check the id with `/qlik requests`.",
    ],
  ] as const)('%j', (o, text) => {
    expect(revokeNowOutcomeText(o)).toBe(text);
  });
});

describe('audit', () => {
  it.each([
    [{ ok: false, code: 'not-approver' }, 'Only approvers can read the audit log.'],
    [
      {
        ok: false,
        code: 'unknown-role-no-events',
        role: 'ManagedSpaceCreater',
        system: 'Qlik',
        suggestions: ['ManagedSpaceCreator'],
      },
      'Qlik has no role `ManagedSpaceCreater`, and the audit log has no events for it. Did you mean ManagedSpaceCreator?',
    ],
    [
      { ok: false, code: 'unknown-role-no-events', role: 'Zzz', system: 'Qlik', suggestions: [] },
      'Qlik has no role `Zzz`, and the audit log has no events for it. Run `/qlik roles` to see the roles of this tenant.',
    ],
    [
      { ok: false, code: 'store-unavailable', doing: 'reading-audit' },
      "I couldn't reach my database (Redis) while reading the audit log; try again in a minute.",
    ],
  ] as const)('%j', (o, text) => {
    expect(auditRefusalText(o)).toBe(text);
  });
});

describe('space refusals', () => {
  const space = { kind: 'space', id: 's1', name: 'Finance Reports' };
  const refused = (refusal: never) =>
    fileRefusalText({ ok: false, code: 'resource-refused', system: 'Qlik', refusal });
  it.each([
    [
      { ok: false, code: 'resource-required', resourceKind: 'space' },
      'Name the space too, e.g. `in space:"Finance Reports"`.',
    ],
    [
      {
        ok: false,
        code: 'no-such-resource',
        resourceKind: 'space',
        name: 'Finanse',
        suggestions: ['Finance Reports', 'Finance'],
      },
      'Qlik has no space named `Finanse`. Did you mean `Finance Reports` or `Finance`? `/qlik spaces <text>` lists them.',
    ],
    [
      { ok: false, code: 'ambiguous-resource', resourceKind: 'space', name: 'Sales', count: 2 },
      "Qlik has 2 spaces named `Sales`, so the bot can't tell which one you mean; ask a Qlik admin to rename one.",
    ],
    [
      {
        ok: false,
        code: 'not-offered',
        resource: space,
        asked: 'contributor',
        offered: ['consumer (Can view)', 'producer (Can edit)'],
      },
      'The space Finance Reports does not offer `contributor`. It offers: `consumer (Can view)`, `producer (Can edit)`.',
    ],
  ])('%o', (refusal, text) => {
    expect(refused(refusal as never)).toBe(text);
  });

  it('says an owner holds every role in the space, for a grant and a revoke', () => {
    const principal = { kind: 'user', name: 'Olga Owner' } as const;
    expect(fileRefusalText({ ok: false, code: 'owner', action: 'grant', principal, resource: space })).toBe(
      'Olga Owner owns the space Finance Reports, so they already hold every role in it; nothing was filed.',
    );
    expect(
      fileRefusalText({ ok: false, code: 'owner', action: 'revoke', principal, resource: space }),
    ).toMatch(
      /owns the space Finance Reports: an owner holds every role in it and can't be removed from it here/,
    );
  });

  it('names the space when the role is already held there, or not held', () => {
    const principal = { kind: 'group', name: 'Finance' } as const;
    expect(
      fileRefusalText({ ok: false, code: 'already-held', principal, role: 'consumer', resource: space }),
    ).toBe('Group Finance already has consumer in space Finance Reports directly; nothing was filed.');
    expect(
      fileRefusalText({
        ok: false,
        code: 'not-held',
        principal,
        role: 'consumer',
        viaGroups: [],
        resource: space,
      }),
    ).toBe(
      "Group Finance doesn't hold consumer in space Finance Reports directly, so there is nothing to revoke.",
    );
  });
});

describe('invite refusals', () => {
  it.each([
    [{ ok: false, code: 'invites-off' }, /Invites are turned off in the policy/],
    [
      { ok: false, code: 'invites-impossible', instance: 'prod' },
      /Tenant prod signs people in through its own identity provider.*first login \(or through SCIM\)/,
    ],
    [{ ok: false, code: 'invite-group', name: 'Finance' }, /Only people are invited, not groups \(Finance\)/],
    [
      { ok: false, code: 'invite-domain', email: 'x@evil.example', allowed: ['corp.example'] },
      /only emails at corp\.example; x@evil\.example is not one of them/,
    ],
    [
      { ok: false, code: 'has-account', email: 'a@corp.example', name: 'Alice' },
      /Alice \(a@corp\.example\) already has a Qlik account: grant the roles with `\/qlik grant` instead/,
    ],
    [
      { ok: false, code: 'account-disabled', email: 'v@corp.example', name: 'Viktor' },
      /disabled Qlik account; an invite wouldn't change that/,
    ],
    [
      { ok: false, code: 'invite-role-time-bound', role: 'TenantAdmin' },
      /TenantAdmin must be granted for a limited time, and the policy gives it no longest time/,
    ],
  ])('%o', (refusal, text) => {
    expect(inviteRefusalText(refusal as never)).toMatch(text);
  });
});
