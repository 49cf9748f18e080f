import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  channelRef,
  clip,
  escapeMrkdwn,
  humanDuration,
  listNames,
  mention,
  person,
  slackDate,
  stripBidi,
  truncate,
  unescapeSlack,
} from '../../src/slack/mrkdwn.ts';

// Any code point, lone surrogates included (fast-check 4's replacement for fullUnicodeString, without the
// one-off cost of its 'binary' unit).
function fullUnicodeString(maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.nat(0x10ffff).map((c) => String.fromCodePoint(c)), maxLength });
}

describe('escapeMrkdwn', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    ['<https://evil.example|click>', '&lt;https://evil.example|click&gt;'],
    ['R&D <@U123>', 'R&amp;D &lt;@U123&gt;'],
    ['&amp;', '&amp;amp;'],
    ['plain *bold* text', 'plain *bold* text'],
  ])('%j → %j', (input, expected) => {
    expect(escapeMrkdwn(input)).toBe(expected);
  });

  it('is undone by unescapeSlack for any text', () => {
    fc.assert(
      fc.property(fullUnicodeString(100), (s) => {
        expect(unescapeSlack(escapeMrkdwn(s))).toBe(s);
        expect(escapeMrkdwn(s)).not.toMatch(/[<>]/);
      }),
    );
  });
});

describe('truncate', () => {
  it('leaves short text alone and ends long text with an ellipsis within the limit', () => {
    expect(truncate('hello', 5)).toBe('hello');
    expect(truncate('hello world', 8)).toBe('hello w…');
  });

  it('never splits a surrogate pair, an entity or one of our <…> tokens', () => {
    expect(truncate('ab😀cd', 4)).toBe('ab…');
    expect(truncate('a &amp; b', 5)).toBe('a …');
    expect(truncate('hi <@U123ABC> there', 8)).toBe('hi …');
  });

  it('always returns at most max code units, without lone surrogates', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.integer({ min: 0, max: 300 }),
        (s, max) => {
          const t = truncate(s, max);
          expect(t.length).toBeLessThanOrEqual(max);
          expect(t.isWellFormed()).toBe(true);
        },
      ),
    );
  });
});

describe('mentions, dates, durations', () => {
  it('mentions only well-formed Slack ids; anything else is escaped text', () => {
    expect(mention('U0123ABC')).toBe('<@U0123ABC>');
    expect(mention('W0123ABC')).toBe('<@W0123ABC>');
    expect(mention('<!channel>')).toBe('&lt;!channel&gt;');
    expect(person('U0123ABC', { U0123ABC: 'Ann <admin>' })).toBe('Ann &lt;admin&gt;');
    expect(person('U0123ABC', {})).toBe('<@U0123ABC>');
    expect(person('toString', {})).toBe('toString');
    expect(channelRef('C0123ABCD')).toBe('<#C0123ABCD>');
    expect(channelRef('#access-<requests>')).toBe('#access-&lt;requests&gt;');
    expect(clip('<b>', 6)).toBe('&lt;b…');
    expect(clip('a<b', 4)).toBe('a…');
  });

  it("renders Slack's date token with a UTC fallback", () => {
    expect(slackDate(Date.UTC(2024, 4, 1, 12, 0))).toBe(
      '<!date^1714564800^{date_short_pretty} {time}|2024-05-01 12:00 UTC>',
    );
    expect(slackDate(Number.NaN)).toBe('an unknown time');
    expect(slackDate(1e20)).toBe('an unknown time');
  });

  it.each([
    [4 * 3_600_000, '4 hours'],
    [3_600_000, '1 hour'],
    [30 * 60_000, '30 minutes'],
    [2 * 86_400_000, '2 days'],
    [604_800_000, '1 week'],
    [36 * 3_600_000, '1 day 12 hours'],
    [90 * 60_000, '1 hour 30 minutes'],
    [86_400_000 + 60_000, '1 day'],
    [500, 'under a second'],
    [0, 'no time'],
    [Number.NaN, 'no time'],
  ])('humanDuration(%d) = %j', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it('lists names with "and N more"', () => {
    expect(listNames([])).toBe('none');
    expect(listNames(['a'])).toBe('a');
    expect(listNames(['a', 'b', 'c'])).toBe('a, b and c');
    expect(listNames(['a', 'b', 'c', 'd'], 2)).toBe('a, b and 2 more');
  });
});

describe('bidi controls', () => {
  it('escapeMrkdwn and truncate drop every one of them', () => {
    const all = '\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C';
    expect(escapeMrkdwn(`a${all}<b>`)).toBe('a&lt;b&gt;');
    expect(truncate(`a${all}b`, 100)).toBe('ab');
    expect(stripBidi('\u05D0\u202Eb')).toBe('\u05D0b');
  });
});
