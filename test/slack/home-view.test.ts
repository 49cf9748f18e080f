// The App Home view: what each section offers (buttons only where they can still do something), the agreed
// Request access button, the notice answering a press, and valid Block Kit within a Home's 100 blocks whatever the
// data.
import type { ActionsBlock, Button, KnownBlock, SectionBlock } from '@slack/types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HomeAnswer } from '../../src/app/queries/home.ts';
import {
  HOME_LIMITS,
  HOME_LIST_MAX,
  homeUnavailableView,
  homeView,
  OPEN_REQUEST_FORM,
  timeLeft,
  validateHomeView,
} from '../../src/slack/views/home.ts';
import { anyRequest, hostile, time, unsafeTokens } from './arbitraries.ts';
import { H, T0, viewRequest } from './fixtures.ts';

function buttons(blocks: readonly KnownBlock[]): Button[] {
  const out: Button[] = [];
  for (const b of blocks) {
    if (b.type === 'actions')
      out.push(...(b as ActionsBlock).elements.filter((e): e is Button => e.type === 'button'));
    if (b.type === 'section' && (b as SectionBlock).accessory?.type === 'button')
      out.push((b as SectionBlock).accessory as Button);
  }
  return out;
}

const pressable = (blocks: readonly KnownBlock[]) =>
  buttons(blocks).map((b) => `${b.action_id}${b.value === undefined ? '' : `:${b.value}`}`);

function answer(over: Partial<HomeAnswer> = {}): HomeAnswer {
  return { ok: true, mine: [], toApprove: [], grants: [], recent: [], at: T0, ...over };
}

const text = (blocks: readonly KnownBlock[]) => JSON.stringify(blocks);

describe('home view', () => {
  it('offers Request access with the agreed action id and no value, even on an empty Home', () => {
    const v = homeView(answer());
    expect(v.type).toBe('home');
    expect(pressable(v.blocks)).toEqual([OPEN_REQUEST_FORM]);
    const t = text(v.blocks);
    expect(t).toContain('You have no pending requests.');
    expect(t).toContain('Nothing is waiting for you.');
    expect(t).toContain('No time-bound grant you filed or hold is running.');
    expect(t).toContain('Nothing you filed or received has been decided lately.');
    expect(validateHomeView(v)).toEqual([]);
  });

  it('puts Cancel on my requests, Approve/Deny on those I may decide, Extend/Revoke now on my grants, none on outcomes', () => {
    const mine = viewRequest({ id: 'R-MINE' });
    const approve = viewRequest({ id: 'R-APPR' });
    const grant = viewRequest({
      id: 'R-GRNT',
      state: 'applied',
      result: { before: [], after: ['TenantAdmin'], changed: true, message: 'done', revokeAt: T0 + 2 * H },
    });
    const denied = viewRequest({
      id: 'R-DENY',
      state: 'denied',
      deniedBy: { front: 'slack', id: 'U0CAROL' },
    });
    const v = homeView(
      answer({
        mine: [mine],
        toApprove: [approve],
        grants: [{ request: grant, leftMs: 2 * H + 5 * 60_000 }],
        recent: [denied],
      }),
    );
    expect(pressable(v.blocks)).toEqual([
      OPEN_REQUEST_FORM,
      'cancel:R-MINE',
      'approve:R-APPR',
      'deny:R-APPR',
      'extend:R-GRNT',
      'revoke_now:R-GRNT',
    ]);
    const t = text(v.blocks);
    expect(t).toContain('2 hours 5 minutes left');
    expect(t).toContain('R-DENY');
    expect(t).toContain('Denied');
    expect(validateHomeView(v)).toEqual([]);
  });

  it('flags a break-glass grant among the grants and the outcomes', () => {
    const grant = viewRequest({
      id: 'R-GLAS',
      state: 'applied',
      breakGlass: true,
      result: { before: [], after: ['TenantAdmin'], changed: true, message: 'done', revokeAt: T0 + H },
    });
    const v = homeView(
      answer({ grants: [{ request: grant, leftMs: H }], recent: [{ ...grant, state: 'revoked' }] }),
    );
    expect(text(v.blocks).match(/:rotating_light: \*break-glass\* · \*R-GLAS\*/g)).toHaveLength(2);
    expect(
      text(
        homeView(answer({ grants: [{ request: { ...grant, breakGlass: undefined }, leftMs: H }] })).blocks,
      ),
    ).not.toContain('break-glass');
  });

  it('counts what does not fit instead of listing it', () => {
    const many = Array.from({ length: HOME_LIST_MAX + 3 }, (_, i) => viewRequest({ id: `R-${i}` }));
    const v = homeView(answer({ mine: many, toApprove: many }));
    expect(buttons(v.blocks).filter((b) => b.action_id === 'cancel')).toHaveLength(HOME_LIST_MAX);
    expect(buttons(v.blocks).filter((b) => b.action_id === 'approve')).toHaveLength(HOME_LIST_MAX);
    expect(text(v.blocks)).toContain('…and 3 more (`/qlik requests` lists them all)');
    expect(text(v.blocks)).toContain('…and 3 more in the approval channel');
  });

  it('answers the last press at the top, and says when the requests could not be read', () => {
    const v = homeView(answer(), { notice: { ok: true, text: 'You approved R-7KQ2.', at: T0 } });
    expect(text(v.blocks.slice(0, 5))).toContain('You approved R-7KQ2.');
    const down = homeUnavailableView("The bot's database is unavailable right now.", T0);
    expect(text(down.blocks)).toContain('database is unavailable');
    expect(pressable(down.blocks)).toEqual([OPEN_REQUEST_FORM]);
    expect(validateHomeView(down)).toEqual([]);
  });

  it('words the time left in whole minutes, never negative', () => {
    expect(timeLeft(0)).toBe('ending now');
    expect(timeLeft(-5)).toBe('ending now');
    expect(timeLeft(59_000)).toBe('under a minute left');
    expect(timeLeft(90 * 60_000 + 59_000)).toBe('1 hour 30 minutes left');
  });

  it("is valid for arbitrary data, within a Home's 100 blocks, and cannot ping or link", () => {
    const list = fc.array(anyRequest, { maxLength: 25 });
    const arb = fc.record({
      mine: list,
      toApprove: list,
      grants: fc.array(fc.record({ request: anyRequest, leftMs: time }), { maxLength: 25 }),
      recent: list,
      at: time,
      notice: fc.option(fc.record({ ok: fc.boolean(), text: hostile, at: time }), { nil: undefined }),
    });
    fc.assert(
      fc.property(arb, ({ notice, ...d }) => {
        const v = homeView({ ok: true, ...d }, notice === undefined ? {} : { notice });
        expect(validateHomeView(v)).toEqual([]);
        expect(v.blocks.length).toBeLessThanOrEqual(HOME_LIMITS.blocks);
        expect(unsafeTokens({ text: 'home', blocks: v.blocks })).toEqual([]);
        expect(Buffer.byteLength(JSON.stringify(v))).toBeLessThan(250 * 1024);
      }),
      { numRuns: 40 },
    );
  });
});
