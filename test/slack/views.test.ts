import type { ActionsBlock, Button, KnownBlock, SectionBlock } from '@slack/types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RequestState, RoleChangeRequest } from '../../src/domain/request.ts';
import { demoTenant } from '../../src/sandbox/qlik-sim/index.ts';
import {
  driftFindingsMessage,
  driftReportMessage,
  unmanagedHoldersMessage,
} from '../../src/slack/views/drift.ts';
import { nudgeMessage } from '../../src/slack/views/nudge.ts';
import {
  ACTION_IDS,
  type AuditEventView,
  approvalMessage,
  auditMessage,
  autoApprovedMessage,
  decisionNotice,
  duplicateRequestMessage,
  errorMessage,
  helpMessage,
  inviteOfferMessage,
  modeGroupsMessage,
  modeHelpMessage,
  modeNotConfiguredMessage,
  requestFiledMessage,
  requestsMessage,
  resultMessage,
  revokeFailedMessage,
  revokeFailedNotice,
  rolesMessage,
  type SlackMessage,
  validateMessage,
  whoHasMessage,
  whoisMessage,
} from '../../src/slack/views.ts';
import { anyRequest, hostile, names, slackId, texts, time, unsafeTokens } from './arbitraries.ts';
import { H, T0, viewRequest } from './fixtures.ts';

const request = viewRequest;

function all(m: SlackMessage): string {
  return texts(m).join('\n');
}

function buttons(m: SlackMessage): Button[] {
  const out: Button[] = [];
  for (const b of m.blocks) {
    if (b.type === 'actions')
      out.push(...(b as ActionsBlock).elements.filter((e): e is Button => e.type === 'button'));
    if (b.type === 'section' && (b as SectionBlock).accessory?.type === 'button')
      out.push((b as SectionBlock).accessory as Button);
  }
  return out;
}

function expectValid(m: SlackMessage): void {
  expect(validateMessage(m)).toEqual([]);
  expect(unsafeTokens(m)).toEqual([]);
}

describe('approvalMessage', () => {
  it('shows everything an approver needs, with Approve / Deny while pending', () => {
    const m = approvalMessage(request());
    expectValid(m);
    const s = all(m);
    for (const part of [
      'R-7KQ2',
      '<@U0BOB>',
      'Alice (alice@corp.com)',
      'TenantAdmin',
      'Grant for 4 hours',
      'incident 4711',
    ]) {
      expect(s).toContain(part);
    }
    expect(s).toContain('<!date^1714564800^{date_short_pretty} {time}|2024-05-01 12:00 UTC>');
    expect(s).toContain('(0 of 2)');
    expect(m.blocks[0]).toMatchObject({ type: 'header' });
    expect(buttons(m)).toEqual([
      expect.objectContaining({ action_id: 'approve', value: 'R-7KQ2', style: 'primary' }),
      expect.objectContaining({ action_id: 'deny', value: 'R-7KQ2', style: 'danger' }),
      expect.objectContaining({ action_id: 'deny_with_reason', value: 'R-7KQ2' }),
    ]);
    expect(m.text).toMatch(/R-7KQ2.*grant TenantAdmin to Alice.*waiting for approval/);
  });

  it('shows "1 of 2" and who approved so far, using display names when given', () => {
    const m = approvalMessage(
      request({ approvals: [{ by: { front: 'slack', id: 'U0CAROL' }, at: T0 + H }] }),
      {
        approverNames: { U0CAROL: 'Carol <CISO>' },
      },
    );
    expectValid(m);
    expect(all(m)).toContain('(1 of 2)');
    expect(all(m)).toContain('Carol &lt;CISO&gt;');
    expect(buttons(m)).toHaveLength(3);
  });

  const decided: [RequestState, Partial<RoleChangeRequest>, RegExp][] = [
    [
      'approved',
      { approvals: [{ by: { front: 'slack', id: 'U0CAROL' }, at: T0 }] },
      /\*Approved\* by <@U0CAROL>/,
    ],
    ['approved', { approvals: [] }, /\*Approved\* automatically by policy/],
    ['applying', { approvals: [{ by: { front: 'slack', id: 'U0CAROL' }, at: T0 }] }, /\*Applying…\*/],
    [
      'applied',
      {
        result: {
          before: [],
          after: ['TenantAdmin'],
          changed: true,
          message: 'alice now has TenantAdmin',
          revokeAt: T0 + 4 * H,
        },
      },
      /\*Applied\*: alice now has TenantAdmin\. Access ends <!date\^1714579200/,
    ],
    ['failed', { error: 'Qlik said: Forbidden (403)' }, /\*Failed\*: Qlik said: Forbidden \(403\)/],
    [
      'denied',
      { deniedBy: { front: 'slack', id: 'U0DAVE' }, updatedAt: T0 + H },
      /\*Denied\* by <@U0DAVE> <!date\^1714568400/,
    ],
    ['expired', {}, /\*Expired\*: nobody decided before <!date\^1714651200/],
    ['cancelled', { cancelledBy: { front: 'slack', id: 'U0BOB' } }, /\*Cancelled\* by <@U0BOB>/],
    ['revoked', {}, /\*Revoked\*/],
    ['expired-revoked', {}, /\*Ended\*.*ran out/],
    [
      'expired-revoked',
      {
        result: {
          before: ['TenantAdmin'],
          after: ['TenantAdmin'],
          changed: false,
          message:
            'Alice keeps TenantAdmin: they had it before this grant, so ending the grant leaves it in place',
        },
      },
      /\*Ended\* <!date[^>]*>: Alice keeps TenantAdmin: they had it before this grant, so ending the grant leaves it in place\./,
    ],
    [
      'revoked',
      {
        result: {
          before: ['TenantAdmin'],
          after: [],
          changed: true,
          message: 'Removed TenantAdmin from Alice.',
        },
      },
      /\*Revoked\* <!date[^>]*>: Removed TenantAdmin from Alice\./,
    ],
  ];
  it.each(decided)('%s: state line, and no buttons once decided', (state, over, line) => {
    const m = approvalMessage(request({ state, ...over }));
    expectValid(m);
    expect(all(m)).toMatch(line);
    expect(buttons(m)).toEqual([]);
  });

  it('cannot be made to ping or link by any field', () => {
    const evil = '<!channel> <https://evil.example|click here> <@U0VICTIM> &amp;';
    const m = approvalMessage(
      request({
        reason: evil,
        entitlement: { id: 'x', name: evil },
        target: { kind: 'group', id: 'g', name: evil },
        id: evil,
        requester: { front: 'slack', id: '<!here>' },
        approvals: [{ by: { front: 'slack', id: '<!everyone>' }, at: T0 }],
      }),
    );
    expectValid(m);
    expect(all(m)).not.toMatch(/<!channel>|<!here>|<!everyone>|<https:|<@U0VICTIM>/);
    expect(all(m)).toContain('&lt;!channel&gt;');
  });
});

describe('replies to the requester', () => {
  it('requestFiledMessage: the id, where it waits, and a Cancel button', () => {
    const m = requestFiledMessage(request(), 'C0APPROVE');
    expectValid(m);
    expect(all(m)).toMatch(
      /Request \*R-7KQ2\* filed: grant \*TenantAdmin\* to Alice \(alice@corp.com\) for 4 hours/,
    );
    expect(all(m)).toContain('in <#C0APPROVE> (needs 2 approvals)');
    expect(buttons(m)).toEqual([expect.objectContaining({ action_id: 'cancel', value: 'R-7KQ2' })]);
    expect(all(requestFiledMessage(request({ approvalsRequired: 1 }), 'access-requests'))).toContain(
      'in #access-requests (needs 1 approval)',
    );
  });

  it('requestFiledMessage says first and plainly that approvers were not notified when the post failed', () => {
    const problem =
      "I couldn't post it to the approval channel (not_in_channel), so approvers won't see it there.";
    const m = requestFiledMessage(request(), 'C0APPROVE', problem);
    expectValid(m);
    expect(m.text).toMatch(/^Approvers were NOT notified/);
    const first = (m.blocks[0] as SectionBlock).text?.text ?? '';
    expect(first).toMatch(/^:warning: \*Approvers were NOT notified in <#C0APPROVE>\.\*/);
    expect(first).toContain('not_in_channel');
    expect(all(m)).not.toContain('waiting for approval');
  });

  it("labels a request's expiry apart from the end of the access it asks for", () => {
    expect(all(requestFiledMessage(request(), 'C0APPROVE'))).toContain('Request expires if undecided <!date');
    expect(all(approvalMessage(request()))).toContain('request expires if undecided <!date');
    expect(all(requestsMessage({ mine: [request()], toApprove: [] }))).toContain(
      'request expires if undecided',
    );
    expect(all(approvalMessage(request()))).not.toMatch(/· expires/);
  });

  it('drops bidi controls from everything it echoes: reason, names, role, fallback text', () => {
    const evil = 'fix\u202Eevil\u2066x\u2069\u200F\u061C';
    const r = request({ reason: evil, entitlement: { id: 'r', name: `Tenant\u202DAdmin` } });
    for (const m of [approvalMessage(r), requestFiledMessage(r, 'C0APPROVE'), errorMessage(evil)]) {
      expect(JSON.stringify(m)).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/);
      expect(JSON.stringify(m)).not.toMatch(/\\u202[a-e]/i);
    }
    expect(all(approvalMessage(r))).toContain('fixevilx');
  });

  it('duplicateRequestMessage points at the pending request', () => {
    const m = duplicateRequestMessage(request({ id: 'R-AAAA' }));
    expectValid(m);
    expect(all(m)).toMatch(/already pending: \*R-AAAA\*/);
    expect(m.text).toContain('No new request was filed');
  });

  it('autoApprovedMessage says it is being applied', () => {
    const m = autoApprovedMessage(request({ state: 'approved' }));
    expectValid(m);
    expect(all(m)).toMatch(/approved automatically by policy.*\n.*Applying it now/);
  });

  it('resultMessage: applied time-bound grant shows before → after, expiry, Extend and Revoke now', () => {
    const m = resultMessage(
      request({
        state: 'applied',
        result: {
          before: ['Steward'],
          after: ['Steward', 'TenantAdmin'],
          changed: true,
          message: 'done',
          revokeAt: T0 + 4 * H,
        },
      }),
    );
    expectValid(m);
    expect(all(m)).toMatch(/\*R-7KQ2\*: granted \*TenantAdmin\* to Alice/);
    expect(all(m)).toMatch(/\*Roles before:\* Steward\n\*Roles after:\* Steward and TenantAdmin/);
    expect(all(m)).toMatch(/removed <!date\^1714579200/);
    expect(buttons(m).map((b) => [b.action_id, b.value])).toEqual([
      [ACTION_IDS.extend, 'R-7KQ2'],
      [ACTION_IDS.revokeNow, 'R-7KQ2'],
    ]);
  });

  it('resultMessage: a permanent grant gets only Revoke now; "already had" says nothing changed', () => {
    const m = resultMessage(
      request({
        state: 'applied',
        durationMs: undefined,
        result: {
          before: ['TenantAdmin'],
          after: ['TenantAdmin'],
          changed: false,
          message: 'alice already has TenantAdmin',
        },
      }),
    );
    expectValid(m);
    expect(all(m)).toMatch(/Alice already had \*TenantAdmin\*; nothing changed/);
    expect(buttons(m).map((b) => b.action_id)).toEqual(['revoke_now']);
  });

  it('resultMessage: an applied revoke has no buttons; a failure carries the error', () => {
    const revoked = resultMessage(
      request({
        action: 'revoke',
        state: 'applied',
        result: { before: ['TenantAdmin'], after: [], changed: true, message: '' },
      }),
    );
    expectValid(revoked);
    expect(all(revoked)).toMatch(/\*R-7KQ2\*: revoked \*TenantAdmin\* from Alice/);
    expect(all(revoked)).toContain('*Roles after:* _none_');
    expect(buttons(revoked)).toEqual([]);

    const failed = resultMessage(request({ state: 'failed', error: 'Qlik refused: <forbidden>' }));
    expectValid(failed);
    expect(all(failed)).toMatch(/couldn't grant \*TenantAdmin\*.*\nQlik refused: &lt;forbidden&gt;/);
    expect(buttons(failed)).toEqual([]);
  });

  it('resultMessage: an extension says the end moved (old → new), never "nothing changed"', () => {
    const m = resultMessage(
      request({
        state: 'applied',
        extends: 'R-AAAA',
        result: {
          before: ['TenantAdmin'],
          after: ['TenantAdmin'],
          changed: false,
          message: 'kept',
          revokeAt: T0 + 8 * H,
          extended: { from: 'R-AAAA', previousEnd: T0 + 4 * H },
        },
      }),
    );
    expectValid(m);
    expect(m.text).toBe(
      'R-7KQ2 extended: TenantAdmin for Alice (alice@corp.com) now ends 2024-05-01 20:00 UTC (was 2024-05-01 16:00 UTC).',
    );
    expect(all(m)).toMatch(
      /extended \*TenantAdmin\* for Alice .* now ends <!date\^1714593600.*\(was <!date\^1714579200/,
    );
    expect(all(m)).not.toContain('nothing changed');
    // Extend says what it does before it does it.
    const extend = buttons(m).find((b) => b.action_id === ACTION_IDS.extend);
    expect(extend?.confirm?.text.text).toContain('counted from when it is approved');
  });

  it('resultMessage: a copy of a grant an Extend took over, or one that ended, has no live buttons', () => {
    const applied = request({
      state: 'applied',
      result: { before: [], after: ['TenantAdmin'], changed: true, message: '', revokeAt: T0 + 4 * H },
    });
    const superseded = resultMessage(applied, { supersededBy: 'R-BBBB' });
    expectValid(superseded);
    expect(buttons(superseded)).toEqual([]);
    expect(all(superseded)).toContain('Extended by R-BBBB');
    expect(all(superseded)).not.toContain('the role is removed');
    const ended = resultMessage({ ...applied, state: 'revoked', updatedAt: T0 + H });
    expectValid(ended);
    expect(buttons(ended)).toEqual([]);
    expect(all(ended)).toContain('*Revoked*');
  });

  it("revokeFailedMessage: Qlik's words, who pressed, and that the role is still held", () => {
    const req = request({ state: 'applied' });
    const manual = revokeFailedMessage(req, {
      message: 'Qlik refused the change (403 <Forbidden>).',
      at: T0,
      actor: 'U0DAVE',
      trigger: 'manual',
    });
    expectValid(manual);
    expect(all(manual)).toContain("couldn't revoke *TenantAdmin* from Alice");
    expect(all(manual)).toContain('Qlik refused the change (403 &lt;Forbidden&gt;).');
    expect(all(manual)).toContain('*Alice still has TenantAdmin*');
    expect(all(manual)).toContain('Revoke now pressed by <@U0DAVE>');
    expect(all(manual)).toContain('Press *Revoke now* again');
    const expiry = revokeFailedMessage(req, { message: 'x', at: T0, actor: 'system', trigger: 'expiry' });
    expectValid(expiry);
    expect(all(expiry)).toContain('the time-bound grant ended');
    expect(all(expiry)).toContain('next sweep');
    expect(revokeFailedNotice(req, { message: 'why', at: T0 })).toContain('Revoke now stays available');
  });

  it.each([
    ['denied', { deniedBy: { front: 'slack', id: 'U0DAVE' } }, /was denied by <@U0DAVE>/],
    ['expired', {}, /expired: nobody decided in time/],
    ['cancelled', { cancelledBy: { front: 'slack', id: 'U0BOB' } }, /was cancelled\./],
    ['cancelled', { cancelledBy: { front: 'slack', id: 'U0ADMIN' } }, /was cancelled by <@U0ADMIN>/],
  ] as const)('decisionNotice %s', (state, over, line) => {
    const m = decisionNotice(request({ state, ...over }));
    expectValid(m);
    expect(all(m)).toMatch(line);
    expect(all(m)).toContain('R-7KQ2');
  });
});

describe('recorded outcomes: codes worded by the front, older records shown as they were written', () => {
  const applied = (
    result: Partial<NonNullable<RoleChangeRequest['result']>>,
    over: Partial<RoleChangeRequest> = {},
  ) =>
    request({
      state: 'applied',
      durationMs: undefined,
      result: { before: [], after: ['TenantAdmin'], changed: true, message: '', ...result },
      ...over,
    });

  it('words each result code, ignoring the stored sentence when there is a code', () => {
    const cases: [Partial<NonNullable<RoleChangeRequest['result']>>, Partial<RoleChangeRequest>, string][] = [
      [
        { outcome: { code: 'granted' }, message: 'stale words' },
        {},
        'Alice (alice@corp.com) now has TenantAdmin.',
      ],
      [
        { outcome: { code: 'already-held' }, changed: false },
        { durationMs: 4 * H },
        'Alice (alice@corp.com) already has TenantAdmin; nothing was changed. They had it before this grant, so it stays when the grant ends.',
      ],
      [
        { outcome: { code: 'removed' } },
        { action: 'revoke' },
        'Removed TenantAdmin from Alice (alice@corp.com).',
      ],
      [
        { outcome: { code: 'not-held' }, changed: false },
        { action: 'revoke' },
        'Alice (alice@corp.com) did not have TenantAdmin directly; nothing was changed.',
      ],
    ];
    for (const [result, over, words] of cases) {
      const m = approvalMessage(applied(result, over));
      expectValid(m);
      expect(all(m)).toContain(`*Applied*: ${words}`);
      expect(all(m)).not.toContain('stale words');
    }
  });

  it('words how a grant ended, by its code', () => {
    const ended = (outcome: NonNullable<NonNullable<RoleChangeRequest['result']>['outcome']>) =>
      all(approvalMessage(applied({ outcome }, { state: 'revoked', updatedAt: T0 + H })));
    expect(ended({ code: 'ended', trigger: 'manual' })).toContain(
      'Removed TenantAdmin from Alice (alice@corp.com): revoked on request.',
    );
    expect(ended({ code: 'kept-extended', by: 'R-BBBB' })).toContain(
      'Alice (alice@corp.com) keeps TenantAdmin: this grant was extended by R-BBBB, which now decides when it ends.',
    );
    expect(ended({ code: 'kept-held-before' })).toContain('they had it before this grant');
    expect(ended({ code: 'principal-gone' })).toContain(
      'no longer exists in Qlik, so there was no TenantAdmin left',
    );
    expect(ended({ code: 'already-removed' })).toContain('TenantAdmin had already been removed from Alice');
  });

  it('shows what an older version wrote when there is no code, or a code this version does not know', () => {
    expect(all(approvalMessage(applied({ message: 'Old words: done' })))).toContain(
      '*Applied*: Old words: done.',
    );
    const newer = applied({ outcome: { code: 'from-the-future' } as never, message: 'Newer words.' });
    expect(all(approvalMessage(newer))).toContain('*Applied*: Newer words.');
    expect(all(approvalMessage(applied({ message: '' })))).toContain('*Applied*: done.');
  });

  it('words a failure by its cause, naming where to check when the bot gave up', () => {
    const failed = (over: Partial<RoleChangeRequest>) =>
      all(resultMessage(request({ state: 'failed', ...over })));
    expect(failed({ failure: { cause: { code: 'lock-lost' }, gaveUpAfter: 3 }, error: 'stale' })).toContain(
      'The bot lost its hold on the principal while changing it. The bot tried 3 times and gave up; check the roles in the Qlik Management Console before filing the request again.',
    );
    expect(
      failed({ failure: { cause: { code: 'target', detail: 'Qlik refused the change (<403>).' } } }),
    ).toContain('Qlik refused the change (&lt;403&gt;).');
    expect(failed({ failure: { cause: { code: 'job-lost' } } })).toContain('its job was lost several times');
    expect(failed({ error: 'Old failure words.' })).toContain('Old failure words.');
    expect(failed({ failure: { cause: { code: 'newer' } as never }, error: 'Stored beside it.' })).toContain(
      'Stored beside it.',
    );
    expect(failed({})).toContain('No details were recorded.');
  });

  it('words filing notes by code; keeps an older sentence; drops a code it does not know', () => {
    const m = approvalMessage(
      request({
        notes: [
          { code: 'duration-defaulted', durationMs: 4 * H },
          { code: 'held-via-groups', groups: ['Finance', 'Sales'] },
          'An older note.',
          { code: 'managers-may-approve', people: [{ front: 'slack', id: 'U0DAN' }], unmatched: 2 },
          { code: 'from-the-future' } as never,
        ],
      }),
    );
    expectValid(m);
    const text = all(m);
    expect(text).toContain('No `for …` was given, so this grant lasts 4 hours: the most TenantAdmin allows.');
    expect(text).toContain(
      'Alice already gets TenantAdmin through groups Finance, Sales; a direct grant keeps it if they leave those groups.',
    );
    expect(text).toContain('An older note.');
    expect(text).toContain(
      "The space's managers may approve too: <@U0DAN> (and 2 without a Slack account with their email).",
    );
    expect(text.match(/:information_source:/g)).toHaveLength(4);
  });

  it("a failed revoke's notice words its cause, or shows the older record's words", () => {
    const req = request({ state: 'applied' });
    const coded = revokeFailedMessage(req, {
      failure: { cause: { code: 'internal' }, gaveUpAfter: 8 },
      message: 'stale',
      at: T0,
      actor: 'system',
      trigger: 'expiry',
    });
    expect(all(coded)).toContain(
      'internal error while applying the change. The bot tried 8 times and gave up',
    );
    expect(revokeFailedNotice(req, { message: 'Older words.', at: T0 })).toContain('Older words.');
  });
});

describe('read-only answers stay within limits for big tenants', () => {
  it('whoHasMessage: first 20 of thousands, groups, CSV note', () => {
    const direct = Array.from({ length: 20 }, (_, i) => ({ name: `User ${i}`, email: `u${i}@corp.com` }));
    const groups = Array.from({ length: 500 }, (_, i) => ({ name: `Group ${i}` }));
    const m = whoHasMessage({
      role: 'TenantAdmin',
      directTotal: 5000,
      direct,
      viaGroupsTotal: 1200,
      groups,
      groupsTotal: 800,
      csvAttached: true,
    });
    expectValid(m);
    const s = all(m);
    expect(s).toMatch(
      /\*5000\* people hold \*TenantAdmin\* directly, and 800 groups hold it \(1200 people through them\)/,
    );
    expect(s).toContain('• User 0 (u0@corp.com)');
    expect(s).toContain('Showing 20 of 5000. The full list is attached as CSV.');
    expect(s).toMatch(/Group 29 and 770 more/);
  });

  it('whoHasMessage: nobody', () => {
    const m = whoHasMessage({
      role: 'X',
      directTotal: 0,
      direct: [],
      viaGroupsTotal: 0,
      groups: [],
      groupsTotal: 0,
      csvAttached: false,
    });
    expectValid(m);
    expect(all(m)).toContain('Nobody holds *X*');
  });

  it('whoHasMessage: the Everyone group holding the role is said first, never "nobody"', () => {
    const base = {
      role: 'Steward',
      direct: [],
      viaGroupsTotal: 0,
      groups: [],
      groupsTotal: 0,
      csvAttached: false,
    };
    const none = whoHasMessage({ ...base, directTotal: 0, everyone: true });
    expectValid(none);
    expect(all(none)).toContain('The *Everyone* group holds *Steward*, so every user of the tenant has it.');
    expect(all(none)).not.toContain('Nobody holds');
    const some = whoHasMessage({
      ...base,
      directTotal: 1,
      direct: [{ name: 'Alice' }],
      everyone: true,
    });
    expectValid(some);
    expect(some.text).toContain('Everyone holds it through the Everyone group.');
    expect(all(whoHasMessage({ ...base, directTotal: 1, direct: [{ name: 'Alice' }] }))).not.toContain(
      'Everyone',
    );
  });

  it('whoisMessage: direct and through groups', () => {
    const m = whoisMessage({
      target: 'Alice (alice@corp.com)',
      direct: ['TenantAdmin', 'Steward'],
      viaGroups: [{ group: 'Finance', roles: ['AnalyticsAdmin'] }],
    });
    expectValid(m);
    expect(all(m)).toContain('*Direct roles:* TenantAdmin and Steward');
    expect(all(m)).toContain('• *Finance*: AnalyticsAdmin');
    const many = whoisMessage({
      target: 'x',
      direct: Array.from({ length: 600 }, (_, i) => `Role${i}`),
      viaGroups: Array.from({ length: 2000 }, (_, i) => ({ group: `G${i}`, roles: ['A', 'B'] })),
    });
    expectValid(many);
    expect(all(many)).toMatch(/and 570 more/);
    expect(all(many)).toMatch(/…and \d+ more groups/);
  });

  it('rolesMessage: default and custom roles, sorted, bounded', () => {
    const m = rolesMessage([
      { name: 'TenantAdmin', type: 'default', level: 'admin', description: 'Everything' },
      { name: 'AnalyticsAdmin', type: 'default', level: 'admin' },
      { name: 'My Custom Role', type: 'custom', description: 'Reads <things>' },
    ]);
    expectValid(m);
    const s = all(m);
    expect(s.indexOf('AnalyticsAdmin')).toBeLessThan(s.indexOf('TenantAdmin'));
    expect(s).toContain('*Custom roles* (1)');
    expect(s).toContain('• *My Custom Role*: Reads &lt;things&gt;');
    const huge = rolesMessage(
      Array.from(
        { length: 3000 },
        (_, i) =>
          ({ name: `Role ${i}`, type: i % 2 ? 'custom' : 'default', description: 'd'.repeat(300) }) as const,
      ),
    );
    expectValid(huge);
    expect(all(huge)).toMatch(/…and \d+ more/);
  });

  it('requestsMessage: Cancel on mine, Approve/Deny on those to approve, at most 10 of each', () => {
    const mine = Array.from({ length: 30 }, (_, i) => request({ id: `R-M${i}` }));
    const toApprove = Array.from({ length: 30 }, (_, i) =>
      request({ id: `R-A${i}`, requester: { front: 'slack', id: 'U0ZED' } }),
    );
    const m = requestsMessage({ mine, toApprove });
    expectValid(m);
    const b = buttons(m);
    expect(b.filter((x) => x.action_id === 'cancel')).toHaveLength(10);
    expect(b.filter((x) => x.action_id === 'approve')).toHaveLength(10);
    expect(b.filter((x) => x.action_id === 'deny').map((x) => x.value)).toContain('R-A0');
    expect(all(m)).toContain('…and 20 more.');
    const empty = requestsMessage({ mine: [], toApprove: [] });
    expectValid(empty);
    expect(all(empty)).toContain('You have no pending requests.');
  });

  it('auditMessage: events with before/after, bounded', () => {
    const event: AuditEventView = {
      time: T0,
      requestId: 'R-7KQ2',
      actor: 'U0CAROL',
      action: 'approved',
      target: 'Alice',
      role: 'TenantAdmin',
      before: ['Steward'],
      after: ['Steward', 'TenantAdmin'],
      outcome: 'ok',
    };
    const m = auditMessage([event, { ...event, actor: 'worker', action: 'applied', detail: 'took 2 tries' }]);
    expectValid(m);
    expect(all(m)).toMatch(
      /: <@U0CAROL> approved \*R-7KQ2\* \(\*TenantAdmin\* for Alice\)\. Outcome: ok\.\n\s+Steward → Steward and TenantAdmin/,
    );
    expect(all(m)).toContain('The bot applied *R-7KQ2* (*TenantAdmin* for Alice). Outcome: ok.');
    const huge = auditMessage(Array.from({ length: 5000 }, () => ({ ...event, detail: 'x'.repeat(2000) })));
    expectValid(huge);
    expect(all(huge)).toContain('5000 events; the first 100 are listed');
    expectValid(auditMessage([]));
  });
});

describe('wording', () => {
  it('says who approved once', () => {
    const m = approvalMessage(
      request({ state: 'approved', approvals: [{ by: { front: 'slack', id: 'U0CAROL' }, at: T0 }] }),
    );
    expect(all(m)).not.toMatch(/[Aa]pproved\W+approved/);
    expect(all(m).match(/U0CAROL/g)).toHaveLength(1);
  });

  it("renders an extension's reason as 'extends R-… (reason: …)', on the card, in lists and in the audit", () => {
    const ext = request({ id: 'R-AAAA', extends: 'R-7Q9F', reason: 'Extends R-7Q9F: quarter end' });
    const card = all(approvalMessage(ext));
    expect(card).toContain('Extends R-7Q9F (reason: quarter end)');
    expect(card).not.toContain('Extends R-7Q9F:');
    expect(card.match(/R-7Q9F/g)).toHaveLength(1);
    expect(all(requestsMessage({ mine: [], toApprove: [ext] }))).toContain(
      'Extends R-7Q9F (reason: quarter end)',
    );
    const audit = all(
      auditMessage([
        {
          time: T0,
          requestId: 'R-AAAA',
          actor: 'U0DAN',
          action: 'requested',
          role: 'TenantAdmin',
          target: 'Alice',
          outcome: 'pending',
          detail: 'grant for 4 hours extends R-7Q9F because Extends R-7Q9F: quarter end',
        },
      ]),
    );
    expect(audit).toContain('grant for 4 hours extends R-7Q9F (reason: quarter end)');
    expect(audit).not.toContain('because Extends');
  });

  it('reads an audit line as a sentence, also for a revoke by a person', () => {
    const line = all(
      auditMessage([
        {
          time: T0,
          requestId: 'R-EPZE',
          actor: 'U0FRANK',
          action: 'revoke-requested',
          role: 'ManagedSpaceCreator',
          target: 'Frank Fischer',
          outcome: 'queued',
        },
      ]),
    );
    expect(line).toContain(
      '<@U0FRANK> asked to revoke *R-EPZE* now (*ManagedSpaceCreator* for Frank Fischer). Outcome: queued.',
    );
    expect(line).not.toMatch(/ManagedSpaceCreator\* ·/);
  });
});

describe('help and errors', () => {
  it("helpMessage's examples name people, groups and roles the sandbox has", () => {
    const tenant = demoTenant();
    const help = all(helpMessage());
    const emails = help.match(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g) ?? [];
    expect(emails.length).toBeGreaterThan(0);
    for (const e of emails) expect(tenant.usersByEmail(e), e).toHaveLength(1);
    for (const g of help.matchAll(/group:(?:"([^"]+)"|&quot;([^&]+)&quot;|(\w+))/g)) {
      const name = g[1] ?? g[2] ?? g[3]!;
      if (name !== 'Name') expect(tenant.groupByName(name), name).toBeDefined();
    }
    for (const r of ['ManagedSpaceCreator', 'TenantAdmin']) expect(tenant.roleByName(r)).toBeDefined();
  });

  it('helpMessage lists every command with an example', () => {
    const m = helpMessage();
    expectValid(m);
    expect(all(m)).toContain('`/mode help`');
    for (const cmd of [
      'grant',
      'revoke',
      'invite',
      'spaces',
      'who-has',
      'whois',
      'roles',
      'requests',
      'cancel',
      'audit',
      'review',
      'help',
    ]) {
      expect(all(m)).toContain(`/qlik ${cmd}`);
    }
    expect(all(m)).toContain('&lt;who&gt;');
  });

  it('helpMessage puts the problem and its usage first', () => {
    const m = helpMessage(
      "I don't know the command `gramt`. Did you mean `grant`?",
      '/qlik grant <who> <role>',
    );
    expectValid(m);
    expect((m.blocks[0] as SectionBlock).text?.text).toContain("I don't know the command `gramt`");
    expect((m.blocks[1] as SectionBlock).text?.text).toContain('/qlik grant &lt;who&gt; &lt;role&gt;');
    expect(m.text).toContain('gramt');
  });

  it('errorMessage escapes and bounds the text', () => {
    const m = errorMessage(`<!channel> ${'x'.repeat(10_000)}`);
    expectValid(m);
    expect(all(m)).toContain(':warning: &lt;!channel&gt;');
  });
});

describe('validateMessage', () => {
  it('finds every kind of violation', () => {
    const long = (n: number) => 'x'.repeat(n);
    const blocks: KnownBlock[] = [
      { type: 'header', text: { type: 'plain_text', text: long(151) } },
      { type: 'section', text: { type: 'mrkdwn', text: long(3001) } },
      { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn' as const, text: 'a' })) },
      { type: 'section', fields: [{ type: 'mrkdwn', text: long(2001) }] },
      { type: 'section', text: { type: 'mrkdwn', text: '' } },
      {
        type: 'context',
        elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn' as const, text: 'a' })),
      },
      {
        type: 'actions',
        elements: [
          { type: 'button', text: { type: 'plain_text', text: long(76) }, action_id: 'a', value: long(2001) },
          { type: 'button', text: { type: 'plain_text', text: 'ok' }, action_id: 'a' },
          { type: 'button', text: { type: 'plain_text', text: 'ok' }, action_id: long(256) },
        ],
      },
      ...Array.from({ length: 44 }, () => ({ type: 'divider' as const })),
    ];
    const problems = validateMessage({ text: long(3001), blocks });
    const expected = [
      /^text: 3001 characters/,
      /^blocks: 51 blocks/,
      /^blocks\[0\]\.text: 151 characters \(max 150\)/,
      /^blocks\[1\]\.text: 3001 characters/,
      /^blocks\[2\]\.fields: 11 fields/,
      /^blocks\[3\]\.fields\[0\]: 2001 characters/,
      /^blocks\[4\]\.text: empty text/,
      /^blocks\[5\]\.elements: 11 elements/,
      /^blocks\[6\]\.elements\[0\]\.text: 76 characters/,
      /^blocks\[6\]\.elements\[0\]\.value: 2001 characters/,
      /^blocks\[6\]\.elements\[1\]\.action_id: "a" repeated/,
      /^blocks\[6\]\.elements\[2\]\.action_id: 256 characters/,
    ];
    for (const re of expected)
      expect(
        problems.some((p) => re.test(p)),
        String(re),
      ).toBe(true);
    expect(problems).toHaveLength(expected.length);
    expect(validateMessage({ text: ' ', blocks: [] })).toEqual(['text: fallback text is empty']);
  });
});

// ---- property: whatever the data, every view gives a message Slack accepts and that cannot ping or link

describe('every view is valid for arbitrary data', () => {
  const run = <T>(arb: fc.Arbitrary<T>, view: (x: T) => SlackMessage) => {
    fc.assert(
      fc.property(arb, (x) => {
        const m = view(x);
        expect(validateMessage(m)).toEqual([]);
        expect(unsafeTokens(m)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  };

  it('approvalMessage', () => {
    run(fc.tuple(anyRequest, fc.dictionary(slackId, hostile, { maxKeys: 5 })), ([r, approverNames]) =>
      approvalMessage(r, { approverNames }),
    );
  });
  it('requestFiledMessage, duplicateRequestMessage, autoApprovedMessage', () => {
    run(fc.tuple(anyRequest, hostile), ([r, ch]) => requestFiledMessage(r, ch));
    run(anyRequest, duplicateRequestMessage);
    run(anyRequest, autoApprovedMessage);
  });
  it('resultMessage, decisionNotice', () => {
    run(anyRequest, resultMessage);
    run(fc.tuple(anyRequest, hostile), ([r, by]) => resultMessage(r, { supersededBy: by }));
    run(anyRequest, decisionNotice);
  });
  it('revokeFailedMessage, approvalMessage with a notice', () => {
    run(fc.tuple(anyRequest, hostile, slackId), ([r, message, actor]) =>
      revokeFailedMessage(r, { message, at: T0, actor, trigger: 'manual' }),
    );
    run(fc.tuple(anyRequest, hostile), ([r, message]) =>
      approvalMessage(r, { notice: revokeFailedNotice(r, { message, at: T0 }) }),
    );
  });
  it('whoHasMessage', () => {
    run(
      fc.record({
        role: hostile,
        directTotal: fc.integer({ min: 0, max: 1e6 }),
        direct: fc.array(fc.record({ name: hostile, email: hostile }, { requiredKeys: ['name'] }), {
          maxLength: 60,
        }),
        viaGroupsTotal: fc.integer({ min: 0, max: 1e6 }),
        groups: fc.array(fc.record({ name: hostile }), { maxLength: 60 }),
        groupsTotal: fc.integer({ min: 0, max: 1e6 }),
        csvAttached: fc.boolean(),
      }),
      whoHasMessage,
    );
  });
  it('whoisMessage, rolesMessage', () => {
    run(
      fc.record({
        target: hostile,
        direct: names(100),
        viaGroups: fc.array(fc.record({ group: hostile, roles: names(20) }), { maxLength: 100 }),
      }),
      whoisMessage,
    );
    run(
      fc.array(
        fc.record(
          {
            name: hostile,
            type: fc.constantFrom('default' as const, 'custom' as const),
            level: hostile,
            description: hostile,
          },
          { requiredKeys: ['name', 'type'] },
        ),
        { maxLength: 200 },
      ),
      rolesMessage,
    );
  });
  it('requestsMessage', () => {
    run(
      fc.record({
        mine: fc.array(anyRequest, { maxLength: 15 }),
        toApprove: fc.array(anyRequest, { maxLength: 15 }),
      }),
      requestsMessage,
    );
  });
  it('auditMessage', () => {
    run(
      fc.array(
        fc.record(
          {
            time,
            requestId: hostile,
            actor: slackId,
            action: hostile,
            target: hostile,
            role: hostile,
            before: names(50),
            after: names(50),
            outcome: hostile,
            detail: hostile,
          },
          { requiredKeys: ['time', 'actor', 'action', 'outcome'] },
        ),
        { maxLength: 150 },
      ),
      auditMessage,
    );
  });
  it('helpMessage, errorMessage', () => {
    run(fc.tuple(fc.option(hostile, { nil: undefined }), fc.option(hostile, { nil: undefined })), ([p, u]) =>
      helpMessage(p, u),
    );
    run(hostile, errorMessage);
  });
  const driftNoticeArb = fc.record(
    {
      kind: fc.constantFrom('removed' as const, 'returned' as const),
      change: fc.constantFrom('grant' as const, 'revoke' as const, 'ended' as const),
      requestId: hostile,
      changedAt: time,
      until: time,
      entitlement: hostile,
      resource: fc.record({ kind: hostile, name: hostile }),
      principal: fc.record(
        { kind: fc.constantFrom('user' as const, 'group' as const), name: hostile, email: hostile },
        { requiredKeys: ['kind', 'name'] },
      ),
      system: hostile,
      instance: hostile,
      foundAt: time,
    },
    {
      requiredKeys: [
        'kind',
        'change',
        'requestId',
        'changedAt',
        'entitlement',
        'principal',
        'system',
        'instance',
        'foundAt',
      ],
    },
  );
  it('approvalMessage and autoApprovedMessage of a break-glass grant', () => {
    run(anyRequest, (r) => approvalMessage({ ...r, breakGlass: true }));
    run(anyRequest, (r) => autoApprovedMessage({ ...r, breakGlass: true }));
  });
  it('nudgeMessage, and the approval message of an escalated request', () => {
    const ids = fc.array(fc.oneof(slackId, fc.stringMatching(/^S[A-Z0-9]{4,10}$/)), { maxLength: 40 });
    run(fc.tuple(anyRequest, ids, fc.nat()), ([r, approvers, afterMs]) =>
      nudgeMessage(r, { kind: 'reminder', approvers, afterMs }),
    );
    run(fc.tuple(anyRequest, ids, fc.nat()), ([r, to, afterMs]) =>
      nudgeMessage(r, { kind: 'escalation', to, afterMs }),
    );
    run(fc.tuple(anyRequest, ids, time), ([r, to, at]) =>
      approvalMessage({ ...r, state: 'pending', escalation: { at, to } }),
    );
  });
  it('driftReportMessage, driftFindingsMessage', () => {
    run(driftNoticeArb, (n) => driftReportMessage(n));
    run(fc.array(driftNoticeArb, { maxLength: 60 }), (list) => driftFindingsMessage(list));
  });
  it('unmanagedHoldersMessage, every page', () => {
    run(
      fc.record({
        role: hostile,
        space: fc.option(hostile, { nil: undefined }),
        holders: fc.integer({ min: 0, max: 1e6 }),
        unmanaged: fc.array(
          fc.record(
            {
              kind: fc.constantFrom('user' as const, 'group' as const),
              id: hostile,
              name: hostile,
              email: hostile,
              status: hostile,
            },
            { requiredKeys: ['kind', 'id', 'name'] },
          ),
          { maxLength: 70 },
        ),
        page: fc.integer({ min: -2, max: 6 }),
        groupsPartial: fc.boolean(),
      }),
      (x) =>
        unmanagedHoldersMessage(
          {
            ok: true,
            role: x.role,
            ...(x.space === undefined ? {} : { resource: { kind: 'space', id: 's1', name: x.space } }),
            instance: 'default',
            system: 'Qlik',
            holders: x.holders,
            granted: 0,
            unmanaged: x.unmanaged,
            groupsPartial: x.groupsPartial,
          },
          {
            page: x.page,
            query: {
              role: x.role,
              ...(x.space === undefined ? {} : { resource: { kind: 'space', name: x.space } }),
            },
            csvAttached: true,
          },
        ),
    );
  });
});

describe('a role in a space', () => {
  const inSpace = (over: Partial<RoleChangeRequest> = {}) =>
    request({
      entitlement: { id: 'producer', name: 'producer' },
      targetRef: {
        kind: 'qlik-spaces',
        instance: 'default',
        resource: { kind: 'space', id: 's1', name: 'Finance <Reports>' },
      },
      ...over,
    });

  it('names the space on the approval message, the receipt and the result, escaped', () => {
    const approval = approvalMessage(inSpace());
    expectValid(approval);
    expect(all(approval)).toContain('*Space*\nFinance &lt;Reports&gt;');
    expect(texts(approval, 'plain_text')).toContain('Grant producer in Finance <Reports>: request R-7KQ2');
    expect(approval.text).toContain('grant producer in space Finance &lt;Reports&gt; to Alice');
    const receipt = requestFiledMessage(inSpace(), 'C0APPROVALS');
    expect(all(receipt)).toContain('grant *producer* in space *Finance &lt;Reports&gt;* to Alice');
    const applied = resultMessage(
      inSpace({
        state: 'applied',
        durationMs: undefined,
        result: { before: [], after: ['producer'], changed: true, outcome: { code: 'granted' }, message: '' },
      }),
    );
    expectValid(applied);
    expect(all(applied)).toContain('granted *producer in space Finance &lt;Reports&gt;* to Alice');
    expect(all(applied)).toContain(
      'Alice (alice@corp.com) now has producer in space Finance &lt;Reports&gt;.',
    );
  });
});

describe('an invite', () => {
  const invite = (over: Partial<RoleChangeRequest> = {}) =>
    request({
      target: { kind: 'user', id: 'invite:new@corp.com', name: 'new@corp.com', email: 'new@corp.com' },
      entitlement: { id: 'invite', name: 'Qlik account' },
      targetRef: { kind: 'qlik-account', instance: 'default' },
      durationMs: undefined,
      followOns: [
        {
          targetRef: { kind: 'qlik-roles', instance: 'default' },
          entitlement: { id: 'r1', name: 'Steward' },
        },
        {
          targetRef: {
            kind: 'qlik-spaces',
            instance: 'default',
            resource: { kind: 'space', id: 's1', name: 'Finance' },
          },
          entitlement: { id: 'consumer', name: 'consumer' },
        },
      ],
      ...over,
    });

  it('asks to invite, naming the roles that follow, and once done says each part with no live button', () => {
    const approval = approvalMessage(invite());
    expectValid(approval);
    expect(texts(approval, 'plain_text')).toContain('Invite to Qlik: request R-7KQ2');
    expect(all(approval)).toContain('*Then grant*\nSteward, consumer in space Finance');
    expect(approval.text).toContain(
      'invite new@corp.com to Qlik, then grant Steward, consumer in space Finance',
    );
    const done = resultMessage(
      invite({
        state: 'applied',
        result: {
          before: [],
          after: ['invited'],
          changed: true,
          outcome: { code: 'invited', resent: false },
          message: '',
          parts: [
            {
              targetRef: { kind: 'qlik-roles', instance: 'default' },
              entitlement: { id: 'r1', name: 'Steward' },
              outcome: 'granted',
            },
            {
              targetRef: {
                kind: 'qlik-spaces',
                instance: 'default',
                resource: { kind: 'space', id: 's1', name: 'Finance' },
              },
              entitlement: { id: 'consumer', name: 'consumer' },
              outcome: 'failed',
              failure: { cause: { code: 'target', detail: 'Qlik refused the change (403).' } },
            },
          ],
        },
      }),
    );
    expectValid(done);
    const text = all(done);
    expect(text).toContain(':envelope: *R-7KQ2*: invited new@corp.com to Qlik.');
    expect(text).toContain(
      'Invited new@corp.com to Qlik: the invitation email was sent. Then (1 of 2 not done): Steward: granted; consumer in space Finance: NOT granted (Qlik refused the change (403).).',
    );
    expect(text).not.toContain('Roles before');
    expect(buttons(done)).toEqual([]);
  });

  it('offers Invite and grant with what it will file, in a value that round-trips', () => {
    const offer = inviteOfferMessage('There is no Qlik user with the email <x>.', {
      email: 'x@corp.com',
      role: 'consumer',
      space: 'Finance "Q1"',
    });
    expectValid(offer);
    const b = buttons(offer).find((x) => x.action_id === ACTION_IDS.inviteAndGrant);
    expect(JSON.parse(b?.value ?? '')).toEqual({ e: 'x@corp.com', r: 'consumer', s: 'Finance "Q1"' });
    expect(all(offer)).toContain('with *consumer in space Finance "Q1"* granted once the account exists');
  });
});

describe('Mode', () => {
  const modeReq = (over: Partial<RoleChangeRequest> = {}) =>
    request({
      entitlement: { id: 'g1', name: 'Analysts' },
      targetRef: { kind: 'mode-groups', instance: 'default' },
      ...over,
    });

  it('says Mode on a Mode request, and never names a Qlik tenant for it', () => {
    const m = approvalMessage(modeReq(), { tenants: { names: ['prod', 'dev'] } });
    expectValid(m);
    expect(texts(m, 'plain_text')).toContain('Grant Mode group Analysts: request R-7KQ2');
    expect(all(m)).toContain('*Group*\nAnalysts');
    expect(m.text).toContain('grant Mode group Analysts to Alice');
    expect(all(m)).not.toContain('prod');
  });

  it('helps with /mode, says exactly what to set when Mode is off, and lists groups', () => {
    const help = modeHelpMessage();
    expectValid(help);
    for (const cmd of ['grant', 'revoke', 'who-has', 'whois', 'groups', 'help'])
      expect(all(help)).toContain(`/mode ${cmd}`);
    const off = modeNotConfiguredMessage();
    expectValid(off);
    expect(all(off)).toMatch(/MODE_WORKSPACE.*MODE_TOKEN.*MODE_SECRET/);
    const groups = modeGroupsMessage([
      { name: 'Sales Ops' },
      { name: 'analysts', description: 'the <analysts>' },
    ]);
    expectValid(groups);
    expect(all(groups)).toMatch(/\*analysts\*: the &lt;analysts&gt;[\s\S]*\*Sales Ops\*/);
  });
});
