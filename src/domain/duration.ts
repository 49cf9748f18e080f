// Owns how a duration is written for people: one format for the Slack views and the audit log alike, so a grant
// reads "4 hours" on its card and in its audit detail. Pure.

const UNITS: readonly [ms: number, one: string, many: string][] = [
  [604_800_000, 'week', 'weeks'],
  [86_400_000, 'day', 'days'],
  [3_600_000, 'hour', 'hours'],
  [60_000, 'minute', 'minutes'],
  [1_000, 'second', 'seconds'],
];

/**
 * `4 hours`, `1 week`, `1 day 12 hours`: at most the two largest units, rounded down; a whole number of days that
 * is not a whole number of weeks stays in days (`30 days`, not `4 weeks 2 days`), as people write it.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 1_000) return Number.isFinite(ms) && ms > 0 ? 'under a second' : 'no time';
  const DAY = 86_400_000;
  if (ms > 7 * DAY && ms % DAY === 0 && ms % (7 * DAY) !== 0) return `${ms / DAY} days`;
  const parts: string[] = [];
  let rest = ms;
  for (const [size, one, many] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(`${n} ${n === 1 ? one : many}`);
      rest -= n * size;
    } else if (parts.length > 0) break;
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}
