import { describe, expect, it } from 'vitest';
import { plainTime } from '../../src/domain/time.ts';

describe('plainTime', () => {
  it('writes a moment in UTC to the minute, and says so when it is not a time', () => {
    expect(plainTime(Date.UTC(2024, 4, 1, 12, 0, 59))).toBe('2024-05-01 12:00 UTC');
    expect(plainTime(Number.NaN)).toBe('an unknown time');
    expect(plainTime(1e20)).toBe('an unknown time');
  });
});
