// Arbitrary data for the Slack views' property tests ("every view is valid for arbitrary data"): hostile strings,
// Slack ids, times and whole requests as any version of the store might hold them, and the check that a rendered
// message can neither ping nor link. Shared by the message views' and the Home view's tests.
import fc from 'fast-check';
import type { RequestState, RoleChangeRequest } from '../../src/domain/request.ts';
import type { SlackMessage } from '../../src/slack/views.ts';

/**
 * Every text Slack parses as mrkdwn: the fallback and all mrkdwn text objects. (plain_text, used for headers
 * and button labels, is shown as typed: Slack parses no mentions or links in it.)
 */
export function texts(m: SlackMessage, type: 'mrkdwn' | 'plain_text' = 'mrkdwn'): string[] {
  const out = type === 'mrkdwn' ? [m.text] : [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      const o = v as { type?: unknown; text?: unknown };
      if (o.type === type && typeof o.text === 'string') out.push(o.text);
      for (const x of Object.values(v)) visit(x);
    }
  };
  visit(m.blocks);
  return out;
}

const SAFE_TOKEN = [
  /^<@[UW][A-Z0-9]{2,40}>$/,
  /^<#[CGD][A-Z0-9]{2,40}>$/,
  /^<!subteam\^S[A-Z0-9]{2,40}>$/,
  /^<!date\^-?\d+\^\{date_short_pretty\} \{time\}\|[^<>|]+>$/,
];

/** `<…>` sequences that are not one of the tokens the views build themselves: a ping, a link, a broken tag. */
export function unsafeTokens(m: SlackMessage): string[] {
  const bad: string[] = [];
  for (const t of texts(m)) {
    for (const match of t.matchAll(/<[^<>]*>?/g)) {
      if (!SAFE_TOKEN.some((re) => re.test(match[0]))) bad.push(match[0]);
    }
    if (/>/.test(t.replace(/<[^<>]*>/g, ''))) bad.push(`stray > in ${t.slice(0, 80)}`);
  }
  return bad;
}

export const hostile = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  fc.string({ unit: fc.nat(0x10ffff).map((c) => String.fromCodePoint(c)), maxLength: 300 }),
  fc.constantFrom(
    '<!channel>',
    '<!here|here>',
    '<https://evil.example|click>',
    '<@U0VICTIM>',
    '&amp;&lt;',
    '`*_~',
    '',
  ),
  fc
    .tuple(fc.constantFrom('<', '&', '>', '😀', 'a', '<@U1>', '&lt;'), fc.integer({ min: 100, max: 6000 }))
    .map(([s, n]) => s.repeat(n)),
);
export const slackId = fc.oneof(fc.stringMatching(/^[UW][A-Z0-9]{4,10}$/), hostile);
export const time = fc.oneof(
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  fc.double(),
  fc.constant(Number.NaN),
);
export const names = (max: number) => fc.array(hostile, { maxLength: max });
export const states: RequestState[] = [
  'pending',
  'approved',
  'denied',
  'expired',
  'cancelled',
  'applying',
  'applied',
  'failed',
  'expired-revoked',
  'revoked',
];

export const slackPersonArb = fc.record({ front: fc.constant('slack' as const), id: slackId });

/** Every outcome code, one a newer version might write, with hostile data. */
export const outcomeArb = fc.oneof(
  fc.constantFrom(
    ...(['recorded-before', 'granted', 'already-held', 'extended', 'removed', 'not-held'] as const).map(
      (code) => ({
        code,
      }),
    ),
    { code: 'kept-held-before' as const },
    { code: 'principal-gone' as const },
    { code: 'already-removed' as const },
  ),
  fc.record({
    code: fc.constant('ended' as const),
    trigger: fc.constantFrom('expiry' as const, 'manual' as const),
  }),
  fc.record({ code: fc.constant('kept-extended' as const), by: hostile }),
  fc.record({ code: hostile }) as fc.Arbitrary<never>,
);
export const failureArb = fc.record(
  {
    cause: fc.oneof(
      fc.record({ code: fc.constantFrom('target' as const, 'target-gone' as const), detail: hostile }),
      fc.constantFrom(
        { code: 'lock-lost' as const },
        { code: 'job-lost' as const },
        { code: 'internal' as const },
      ),
      fc.record({ code: hostile }) as fc.Arbitrary<never>,
    ),
    gaveUpAfter: fc.integer({ min: 0, max: 1_000_000 }),
  },
  { requiredKeys: ['cause'] },
);
export const noteArb = fc.oneof(
  hostile,
  fc.record({
    code: fc.constant('duration-defaulted' as const),
    durationMs: fc.integer({ min: 1, max: 4e10 }),
  }),
  fc.record({ code: fc.constant('held-via-groups' as const), groups: fc.array(hostile, { maxLength: 40 }) }),
  fc.record({
    code: fc.constant('managers-may-approve' as const),
    people: fc.array(slackPersonArb, { maxLength: 30 }),
    unmatched: fc.integer({ min: 0, max: 1e6 }),
  }),
  fc.record({ code: hostile }) as fc.Arbitrary<never>,
);

export const targetRefArb = fc.record(
  {
    kind: fc.oneof(fc.constantFrom('qlik-roles', 'qlik-spaces', 'qlik-account'), hostile),
    instance: fc.oneof(fc.constant('default'), hostile),
    resource: fc.record({ kind: hostile, id: hostile, name: hostile }),
  },
  { requiredKeys: ['kind', 'instance'] },
);
export const partArb = fc.record(
  {
    targetRef: targetRefArb,
    entitlement: fc.record({ id: hostile, name: hostile }),
    outcome: fc.constantFrom('granted' as const, 'already-held' as const, 'failed' as const),
    failure: failureArb,
  },
  { requiredKeys: ['targetRef', 'entitlement', 'outcome'] },
);

export const anyRequest: fc.Arbitrary<RoleChangeRequest> = fc.record(
  {
    id: fc.oneof(fc.stringMatching(/^R-[2-9A-HJKMNP-Z]{4}$/), hostile),
    action: fc.constantFrom('grant' as const, 'revoke' as const),
    target: fc.oneof(
      fc.record(
        {
          kind: fc.constant('user' as const),
          id: hostile,
          name: hostile,
          email: hostile,
          person: slackPersonArb,
        },
        { requiredKeys: ['kind', 'id', 'name'] },
      ),
      fc.record({ kind: fc.constant('group' as const), id: hostile, name: hostile }),
    ),
    entitlement: fc.record({ id: hostile, name: hostile }),
    requester: slackPersonArb,
    reason: hostile,
    durationMs: fc.oneof(fc.integer({ min: 1, max: 400 * 86_400_000 }), fc.double()),
    state: fc.constantFrom(...states),
    createdAt: time,
    updatedAt: time,
    expiresAt: time,
    approvalsRequired: fc.oneof(fc.integer({ min: -3, max: 50 }), fc.double()),
    approvals: fc.array(fc.record({ by: slackPersonArb, at: time }), { maxLength: 40 }),
    deniedBy: slackPersonArb,
    cancelledBy: slackPersonArb,
    result: fc.record(
      {
        before: names(200),
        after: names(200),
        changed: fc.boolean(),
        outcome: outcomeArb,
        message: hostile,
        revokeAt: time,
        extended: fc.record({ from: hostile, previousEnd: time }, { requiredKeys: ['from'] }),
        parts: fc.array(partArb, { maxLength: 12 }),
      },
      { requiredKeys: ['before', 'after', 'changed', 'message'] },
    ),
    failure: failureArb,
    error: hostile,
    notes: fc.array(noteArb, { maxLength: 8 }),
    followOns: fc.array(
      fc.record({ targetRef: targetRefArb, entitlement: fc.record({ id: hostile, name: hostile }) }),
      {
        maxLength: 12,
      },
    ),
    targetRef: targetRefArb,
    extends: hostile,
    revokes: hostile,
  },
  {
    requiredKeys: [
      'id',
      'action',
      'target',
      'entitlement',
      'requester',
      'state',
      'createdAt',
      'updatedAt',
      'expiresAt',
      'approvalsRequired',
      'approvals',
    ],
  },
);
