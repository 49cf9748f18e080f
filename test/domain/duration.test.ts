// One duration format for the views and the audit log.
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/domain/duration.ts';
import { humanDuration } from '../../src/slack/mrkdwn.ts';

describe('formatDuration', () => {
  it.each([
    [240 * 60_000, '4 hours'],
    [90 * 60_000, '1 hour 30 minutes'],
    [7 * 86_400_000, '1 week'],
    [36 * 3_600_000, '1 day 12 hours'],
    [5 * 60_000, '5 minutes'],
    [30 * 86_400_000, '30 days'],
    [14 * 86_400_000, '2 weeks'],
  ])('%d ms → %s, and the views use the same function', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(humanDuration).toBe(formatDuration);
  });
});
