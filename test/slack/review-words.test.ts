// The words of access reviews (src/slack/review-words.ts): every outcome code is worded, and each sentence says what
// state things are in afterwards (opened or not, recorded or not, filed or not).
import { describe, expect, it } from 'vitest';
import type {
  CloseReviewOutcome,
  DecideReviewOutcome,
  OpenReviewOutcome,
} from '../../src/app/use-cases/review.ts';
import type { AccessReview, ReviewHolder } from '../../src/domain/review.ts';
import { closeReviewText, decideReviewText, openReviewText } from '../../src/slack/review-words.ts';

const T0 = Date.UTC(2026, 0, 31, 12, 0, 0);
const review: AccessReview = {
  id: 'V-7KQ2',
  entitlement: { id: 's', name: 'Steward' },
  targetRef: { kind: 'qlik-roles', instance: 'default' },
  openedBy: { front: 'slack', id: 'U0ALICE' },
  openedAt: T0,
  state: 'open',
  holders: [
    { kind: 'user', id: '1', name: 'Jamal Haddad', email: 'jamal@corp.example' },
    { kind: 'group', id: 'Finance', name: 'Finance' },
  ],
  groupsLeftOut: 0,
  batchSize: 20,
  decisions: {},
};
const jamal = review.holders[0] as ReviewHolder;
const finance = review.holders[1] as ReviewHolder;

describe('review words', () => {
  it('words every outcome of opening a review', () => {
    const cases: [OpenReviewOutcome, RegExp][] = [
      [{ ok: true, code: 'opened', review, channel: 'C1' }, /V-7KQ2 of Steward is open .*2 holders/],
      [
        { ok: false, code: 'not-posted', review, channel: 'C1', problem: 'not_in_channel' },
        /not_in_channel.*closed it again/,
      ],
      [
        { ok: false, code: 'not-approver', role: 'Steward' },
        /Only approvers of Steward.*No review was opened/,
      ],
      [
        { ok: false, code: 'too-many-holders', role: 'Steward', count: 501, max: 500 },
        /more than 500 holders.*at most 500.*who-has/,
      ],
      [{ ok: false, code: 'too-many-holders', role: 'Steward', count: 742, max: 500 }, /has 742 holders/],
      [
        {
          ok: false,
          code: 'no-holders',
          role: 'consumer',
          resource: { kind: 'space', id: 's', name: 'Sales' },
        },
        /Nobody holds consumer in space Sales directly.*No review was opened/,
      ],
      [
        { ok: false, code: 'unknown-role', role: 'Stewart', system: 'Qlik', suggestions: ['Steward'] },
        /Did you mean Steward\? No review was opened/,
      ],
      [{ ok: false, code: 'store-unavailable', doing: 'opening-review' }, /Redis.*while opening the review/],
    ];
    for (const [o, re] of cases) expect(openReviewText(o)).toMatch(re);
  });

  it('words every outcome of a Keep or Revoke, saying whether anything was recorded or filed', () => {
    const by = { front: 'slack' as const, id: 'U0BOB' };
    const cases: [DecideReviewOutcome, RegExp][] = [
      [
        { ok: true, code: 'kept', review, holder: jamal, closed: false },
        /^Kept: Jamal Haddad \(jamal@corp.example\) keeps Steward\.$/,
      ],
      [
        { ok: true, code: 'kept', review, holder: jamal, closed: true },
        /last holder: review V-7KQ2 is closed/,
      ],
      [
        {
          ok: true,
          code: 'revoke-requested',
          review,
          holder: finance,
          requestId: 'R-AB23',
          alreadyPending: false,
          closed: false,
        },
        /Revoke request R-AB23 filed for the group Finance; .*stays until it is approved and applied/,
      ],
      [
        {
          ok: true,
          code: 'revoke-requested',
          review,
          holder: jamal,
          requestId: 'R-AB23',
          alreadyPending: true,
          closed: false,
        },
        /already pending: R-AB23/,
      ],
      [{ ok: false, code: 'own-access', review, holder: jamal }, /your own access.*Nothing was recorded/],
      [
        { ok: false, code: 'own-access', review, holder: finance, group: 'Finance' },
        /You are in the group Finance/,
      ],
      [{ ok: false, code: 'self-unknown', review }, /no email.*nothing was recorded/],
      [
        {
          ok: false,
          code: 'already-decided',
          review,
          holder: jamal,
          decision: { choice: 'keep', by, at: T0 },
          byYou: false,
          byName: 'bob',
        },
        /^bob already kept Jamal Haddad .* at 2026-01-31 12:00 UTC; nothing else was recorded\.$/,
      ],
      [
        {
          ok: false,
          code: 'already-decided',
          review,
          holder: jamal,
          decision: { choice: 'revoke', by, at: T0, filing: true },
          byYou: true,
        },
        /^You are filing a revoke for Jamal Haddad .* right now; nothing else was recorded\.$/,
      ],
      [{ ok: false, code: 'no-email', review, holder: jamal }, /without an email.*Nothing was recorded/],
      [
        {
          ok: false,
          code: 'revoke-refused',
          review,
          holder: jamal,
          refusal: {
            ok: false,
            code: 'not-held',
            principal: { kind: 'user', name: 'Jamal Haddad' },
            role: 'Steward',
            viaGroups: [],
          },
        },
        /No revoke was filed for Jamal Haddad.*still undecided/,
      ],
      [
        { ok: false, code: 'review-closed', review: { ...review, state: 'closed', closedAt: T0 } },
        /is closed \(since 2026-01-31 12:00 UTC\); nothing was recorded/,
      ],
      [{ ok: false, code: 'not-approver', review }, /Only approvers of Steward decide/],
      [{ ok: false, code: 'review-not-found', reviewId: 'V-2222' }, /can't find access review V-2222/],
      [{ ok: false, code: 'holder-not-found', review }, /isn't part of review V-7KQ2/],
      [{ ok: false, code: 'store-unavailable', doing: 'deciding-review' }, /while recording your decision/],
    ];
    for (const [o, re] of cases) expect(decideReviewText(o)).toMatch(re);
  });

  it('words closing a review', () => {
    const closed = {
      ...review,
      state: 'closed' as const,
      decisions: { 0: { choice: 'keep' as const, by: review.openedBy, at: T0 } },
    };
    const cases: [CloseReviewOutcome, RegExp][] = [
      [
        { ok: true, code: 'closed', review: closed },
        /V-7KQ2 is closed; 1 holder was left undecided and keeps? their access/,
      ],
      [
        { ok: true, code: 'closed', review: closed, postProblem: 'ratelimited' },
        /couldn't post its summary .*ratelimited/,
      ],
      [{ ok: false, code: 'not-approver', review }, /can close its review; it stays open/],
      [{ ok: false, code: 'review-closed', review: closed }, /closed already; nothing was changed/],
    ];
    for (const [o, re] of cases) expect(closeReviewText(o)).toMatch(re);
  });
});
