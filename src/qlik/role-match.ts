// Owns matching a typed role name against the tenant's roles: case-insensitive exact match, and the "did you
// mean …?" suggestions for a miss. Pure.
import { distance } from 'fastest-levenshtein';

/** The role whose name equals `name` ignoring case and surrounding spaces (role names are unique per tenant). */
export function matchRole<R extends { name: string }>(name: string, roles: readonly R[]): R | undefined {
  const wanted = name.trim().toLowerCase();
  return roles.find((r) => r.name.toLowerCase() === wanted);
}

/**
 * Up to `max` role names closest to `query`: names containing the query first, then by edit distance on
 * lowercased names. Names too far away to be a typo are left out, so "xyz" suggests nothing.
 */
export function closestRoleNames(query: string, names: readonly string[], max = 3): string[] {
  const q = query.trim().toLowerCase();
  if (q === '') return [];
  const limit = Math.max(3, Math.ceil(q.length / 2));
  const scored = [...new Set(names)].map((name) => {
    const n = name.toLowerCase();
    return { name, contains: q.length >= 2 && n.includes(q), d: distance(q, n) };
  });
  return scored
    .filter((s) => s.contains || s.d <= limit)
    .sort((a, b) => Number(b.contains) - Number(a.contains) || a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, max)
    .map((s) => s.name);
}
