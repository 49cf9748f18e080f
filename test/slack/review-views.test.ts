// The access review's Block Kit (src/slack/views/review.ts): valid for arbitrary data (Block Kit limits, as the
// bot's own checker and the Slack fake's both say; nothing in data can ping or link), and truthful about state:
// Keep / Revoke only on undecided holders of an open review, Close review only while it is open.
import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AccessReview, REVIEW_BATCH_SIZE, type ReviewDecision } from '../../src/domain/review.ts';
import { checkBlocks } from '../../src/sandbox/slack-fake/block-limits.ts';
import { type SlackMessage, validateMessage } from '../../src/slack/views/blocks.ts';
import {
  REVIEW_ACTION_IDS,
  reviewBatchMessage,
  reviewHeaderMessage,
  reviewSummaryMessage,
} from '../../src/slack/views/review.ts';
import { auditMessage } from '../../src/slack/views.ts';

const T0 = 1_750_000_000_000;

const hostile = fc.oneof(
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
    .tuple(fc.constantFrom('<', '&', '>', '😀', 'a', '<@U1>', '&lt;'), fc.integer({ min: 100, max: 4000 }))
    .map(([s, n]) => s.repeat(n)),
);
const slackId = fc.oneof(fc.stringMatching(/^[UW][A-Z0-9]{4,10}$/), hostile);
const time = fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.constant(Number.NaN));

const holderArb = fc.record(
  {
    kind: fc.constantFrom('user' as const, 'group' as const),
    id: hostile,
    name: hostile,
    email: hostile,
    status: hostile,
  },
  { requiredKeys: ['kind', 'id', 'name'] },
);

const decisionArb: fc.Arbitrary<ReviewDecision> = fc.record(
  {
    choice: fc.constantFrom('keep' as const, 'revoke' as const),
    by: fc.record({ front: fc.constant('slack' as const), id: slackId }),
    at: time,
    requestId: hostile,
    filing: fc.boolean(),
  },
  { requiredKeys: ['choice', 'by', 'at'] },
);

const reviewArb: fc.Arbitrary<AccessReview> = fc
  .record({
    id: fc.stringMatching(/^V-[2-9A-HJKMNP-Z]{4,8}$/),
    role: hostile,
    resource: fc.option(fc.record({ kind: fc.constant('space'), id: hostile, name: hostile }), {
      nil: undefined,
    }),
    instance: fc.constantFrom('default', 'dev'),
    openedBy: slackId,
    openedAt: time,
    state: fc.constantFrom('open' as const, 'closed' as const),
    closedBy: fc.option(slackId, { nil: undefined }),
    closedAt: time,
    holders: fc.array(holderArb, { minLength: 1, maxLength: 70 }),
    decisions: fc.array(fc.option(decisionArb, { nil: undefined }), { maxLength: 70 }),
    groupsLeftOut: fc.nat(500),
  })
  .map((x) => ({
    id: x.id,
    entitlement: { id: 'e1', name: x.role, ...(x.resource === undefined ? {} : { resource: x.resource }) },
    targetRef: {
      kind: 'qlik-roles',
      instance: x.instance,
      ...(x.resource === undefined ? {} : { resource: x.resource }),
    },
    openedBy: { front: 'slack' as const, id: x.openedBy },
    openedAt: x.openedAt,
    state: x.state,
    ...(x.state === 'closed' && x.closedBy !== undefined
      ? { closedBy: { front: 'slack' as const, id: x.closedBy } }
      : {}),
    ...(x.state === 'closed' ? { closedAt: x.closedAt } : {}),
    holders: x.holders,
    groupsLeftOut: x.groupsLeftOut,
    batchSize: REVIEW_BATCH_SIZE,
    decisions: Object.fromEntries(
      x.decisions.flatMap((d, i) => (d === undefined || i >= x.holders.length ? [] : [[i, d]])),
    ),
  }));

/** Every mrkdwn text Slack parses (the fallback and the mrkdwn text objects). */
function mrkdwnTexts(m: SlackMessage): string[] {
  const out = [m.text];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      const o = v as { type?: unknown; text?: unknown };
      if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
      for (const x of Object.values(v)) visit(x);
    }
  };
  visit(m.blocks);
  return out;
}

const SAFE_TOKEN = [/^<@[UW][A-Z0-9]{2,40}>$/, /^<!date\^-?\d+\^\{date_short_pretty\} \{time\}\|[^<>|]+>$/];

/** `<…>` sequences the views did not build themselves: a ping, a link, a broken tag. */
function unsafeTokens(m: SlackMessage): string[] {
  const bad: string[] = [];
  for (const t of mrkdwnTexts(m)) {
    for (const match of t.matchAll(/<[^<>]*>?/g))
      if (!SAFE_TOKEN.some((re) => re.test(match[0]))) bad.push(match[0]);
    if (/>/.test(t.replace(/<[^<>]*>/g, ''))) bad.push(`stray > in ${t.slice(0, 80)}`);
  }
  return bad;
}

function buttons(m: SlackMessage): Button[] {
  return m.blocks
    .filter((b): b is ActionsBlock => b.type === 'actions')
    .flatMap((b) => b.elements.filter((e): e is Button => e.type === 'button'));
}

function expectValid(m: SlackMessage): void {
  expect(validateMessage(m)).toEqual([]);
  expect(unsafeTokens(m)).toEqual([]);
  expect(checkBlocks(m.blocks as unknown[])).toMatchObject({ ok: true });
  expect(m.blocks.length).toBeLessThanOrEqual(50);
}

describe('access review views', () => {
  it('are valid Block Kit for arbitrary data, and carry buttons only where a decision can still be made', () => {
    fc.assert(
      fc.property(reviewArb, (r) => {
        const head = reviewHeaderMessage(r, { tenants: { names: ['default', 'dev'] } });
        expectValid(head);
        expect(buttons(head).map((b) => b.action_id)).toEqual(
          r.state === 'open' ? [REVIEW_ACTION_IDS.close] : [],
        );
        const batches = Math.ceil(r.holders.length / r.batchSize);
        for (let b = 0; b < batches; b++) {
          const m = reviewBatchMessage(r, b);
          expectValid(m);
          // Nothing was left out to fit: every holder of the batch has its line.
          expect(
            m.blocks.some((x: KnownBlock) => x.type === 'context' && JSON.stringify(x).includes('left out')),
          ).toBe(false);
          const live = Array.from({ length: r.batchSize }, (_, k) => b * r.batchSize + k).filter(
            (i) => i < r.holders.length && r.state === 'open' && r.decisions[i] === undefined,
          );
          const values = buttons(m).map((x) => `${x.action_id}=${x.value}`);
          expect(values).toEqual(
            live.flatMap((i) => [
              `${REVIEW_ACTION_IDS.keep}=${r.id}:${i}`,
              `${REVIEW_ACTION_IDS.revoke}=${r.id}:${i}`,
            ]),
          );
        }
        expectValid(reviewSummaryMessage(r));
        expect(buttons(reviewSummaryMessage(r))).toEqual([]);
      }),
      { numRuns: 80 },
    );
  });

  it('shows who decided what, and undecided holders as undecided once the review closed', () => {
    const r: AccessReview = {
      id: 'V-ABCD',
      entitlement: { id: 's', name: 'Steward' },
      targetRef: { kind: 'qlik-roles', instance: 'default' },
      openedBy: { front: 'slack', id: 'U0ALICE' },
      openedAt: T0,
      state: 'open',
      holders: [
        { kind: 'user', id: '1', name: 'Jamal Haddad', email: 'jamal@corp.example' },
        { kind: 'user', id: '2', name: 'Zoë Zhang', email: 'zoe@corp.example' },
        { kind: 'group', id: 'Finance', name: 'Finance' },
      ],
      groupsLeftOut: 0,
      batchSize: REVIEW_BATCH_SIZE,
      decisions: {
        0: { choice: 'keep', by: { front: 'slack', id: 'U0BOB' }, at: T0 },
        1: { choice: 'revoke', by: { front: 'slack', id: 'U0ALICE' }, at: T0, requestId: 'R-7KQ2' },
      },
    };
    const open = JSON.stringify(reviewBatchMessage(r, 0).blocks);
    expect(open).toContain('Kept by <@U0BOB>');
    expect(open).toContain('Revoke requested by <@U0ALICE>');
    expect(open).toContain('R-7KQ2');
    expect(buttons(reviewBatchMessage(r, 0)).map((b) => b.value)).toEqual(['V-ABCD:2', 'V-ABCD:2']);
    expect(reviewHeaderMessage(r).text).toContain('2 of 3 decided');
    const closed = {
      ...r,
      state: 'closed' as const,
      closedAt: T0,
      closedBy: { front: 'slack' as const, id: 'U0BOB' },
    };
    expect(JSON.stringify(reviewBatchMessage(closed, 0).blocks)).toContain('Undecided (the review closed)');
    expect(buttons(reviewBatchMessage(closed, 0))).toEqual([]);
    expect(buttons(reviewHeaderMessage(closed))).toEqual([]);
    const summary = JSON.stringify(reviewSummaryMessage(closed).blocks);
    expect(summary).toContain('kept 1, revoke requested 1, undecided 1 (of 3)');
    expect(summary).toContain('R-7KQ2');
    expect(summary).toContain('group Finance');
  });

  it('fits a full batch of holders with long names in one message', () => {
    const holders = Array.from({ length: REVIEW_BATCH_SIZE }, (_, i) => ({
      kind: 'user' as const,
      id: String(i),
      name: 'N'.repeat(400),
      email: `${'e'.repeat(300)}@corp.example`,
    }));
    const r: AccessReview = {
      id: 'V-ABCD',
      entitlement: { id: 's', name: 'Steward' },
      targetRef: { kind: 'qlik-roles', instance: 'default' },
      openedBy: { front: 'slack', id: 'U0ALICE' },
      openedAt: T0,
      state: 'open',
      holders,
      groupsLeftOut: 0,
      batchSize: REVIEW_BATCH_SIZE,
      decisions: {},
    };
    const m = reviewBatchMessage(r, 0);
    expectValid(m);
    expect(buttons(m)).toHaveLength(2 * REVIEW_BATCH_SIZE);
  });

  it('/qlik audit words the review events', () => {
    const m = auditMessage([
      {
        time: T0,
        requestId: 'V-7KQ2',
        actor: 'U0ALICE',
        action: 'review-opened',
        role: 'Steward',
        outcome: 'open',
      },
      {
        time: T0,
        requestId: 'V-7KQ2',
        actor: 'system',
        action: 'review-closed',
        role: 'Steward',
        outcome: 'all-decided',
      },
    ]);
    const text = JSON.stringify(m.blocks);
    expect(text).toContain('<@U0ALICE> opened access review *V-7KQ2* (*Steward*)');
    expect(text).toContain('The bot closed access review *V-7KQ2*');
  });
});
