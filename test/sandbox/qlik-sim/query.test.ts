import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../../src/sandbox/qlik-sim/filter.ts';
import { generateTenant } from '../../../src/sandbox/qlik-sim/index.ts';
import {
  type Cursor,
  decodeCursor,
  matchUsers,
  pageOf,
  SortedViews,
  userPredicate,
} from '../../../src/sandbox/qlik-sim/query.ts';

interface Item {
  id: string;
  key: string | undefined;
}
const keyOf = (i: Item) => i.key;

function walk(
  page: (c: { dir: 'next' | 'prev'; at: Cursor } | undefined) => ReturnType<typeof pageOf<Item>>,
): { forward: string[][]; backward: string[][] } {
  const forward: string[][] = [];
  let p = page(undefined);
  let guard = 0;
  for (;;) {
    forward.push(p.items.map((i) => i.id));
    if (!p.next || guard++ > 1000) break;
    p = page({ dir: 'next', at: decodeCursor(p.next)! });
  }
  const backward: string[][] = [];
  while (p.prev && guard++ < 2000) {
    p = page({ dir: 'prev', at: decodeCursor(p.prev)! });
    backward.push(p.items.map((i) => i.id));
  }
  return { forward, backward };
}

describe('pageOf', () => {
  const itemsArb = fc
    .uniqueArray(
      fc.record({
        id: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 4, maxLength: 4 }),
        key: fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { nil: undefined }),
      }),
      { selector: (i) => i.id, maxLength: 60 },
    )
    .map((xs) => [...xs]);

  it('walks every item exactly once forward, and the same pages backward, in both directions', () => {
    fc.assert(
      fc.property(itemsArb, fc.integer({ min: 1, max: 7 }), fc.boolean(), (items, limit, desc) => {
        const sort = { field: 'key', desc };
        const cmp = (a: Item, b: Item) => {
          const ka = a.key ?? '';
          const kb = b.key ?? '';
          const d =
            a.key === undefined && b.key !== undefined
              ? -1
              : b.key === undefined && a.key !== undefined
                ? 1
                : ka < kb
                  ? -1
                  : ka > kb
                    ? 1
                    : 0;
          return (desc ? -1 : 1) * (d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        };
        const sorted = [...items].sort(cmp);
        const { forward, backward } = walk((c) => pageOf(sorted, keyOf, sort, 'x', limit, c));
        expect(forward.flat()).toEqual(sorted.map((i) => i.id));
        for (const p of forward.slice(0, -1)) expect(p).toHaveLength(limit);
        expect(backward).toEqual(forward.slice(0, -1).reverse());
      }),
      { numRuns: 300 },
    );
  });

  it('pages a subset of a larger order exactly as it pages the subset itself', () => {
    fc.assert(
      fc.property(itemsArb, fc.func(fc.boolean()), fc.integer({ min: 1, max: 5 }), (items, pick, limit) => {
        const sort = { field: 'key', desc: false };
        const byKeyThenId = (a: Item, b: Item) =>
          a.key! < b.key! ? -1 : a.key! > b.key! ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
        const sorted = items.map((i) => ({ id: i.id, key: i.key ?? 'a' })).sort(byKeyThenId);
        const chosen = new Set(sorted.filter((i) => pick(i.id)).map((i) => i.id));
        const subset = sorted.filter((i) => chosen.has(i.id));
        const viaSubset = walk((c) => pageOf(subset, keyOf, sort, 'x', limit, c));
        const viaFilter = walk((c) =>
          pageOf(sorted, keyOf, sort, 'x', limit, c, { has: (i) => chosen.has(i.id), total: chosen.size }),
        );
        expect(viaFilter).toEqual(viaSubset);
      }),
      { numRuns: 300 },
    );
  });
});

describe('user filters over a generated tenant', () => {
  const t = generateTenant({
    users: 3_000,
    groups: 60,
    seed: 3,
    roleMix: { Steward: 40, SharedSpaceCreator: 900 },
  });
  const views = new SortedViews(t);
  const all = [...t.users()];

  const filters = [
    'assignedRoles.name eq "steward"',
    'assignedRoles.name eq "SharedSpaceCreator"',
    '(assignedRoles.name eq "SharedSpaceCreator" or assignedRoles.name eq "Steward") and (status eq "active")',
    'name co "zh" and assignedRoles.name eq "SharedSpaceCreator"',
    'name co "ZH" or email co "silva"',
    'status eq "invited" or status eq "disabled"',
    `assignedGroups.id eq "${all[10]!.groupIds[0]}"`,
    'assignedGroupsAssignedRoles.name eq "AnalyticsAdmin"',
    `id eq "${all[5]!.id.toUpperCase()}" or email eq "${all[6]!.email}"`,
    'subject eq "nobody"',
  ];

  it.each(filters)('index answer equals a full scan: %s', (text) => {
    const node = parseFilter(text);
    const viaIndex = matchUsers(t, node);
    const pred = userPredicate(t, node);
    const scanned = all.filter((u) => pred(u)).map((u) => u.id);
    expect(viaIndex === 'all' ? [] : [...viaIndex].sort()).toEqual(scanned.sort());
  });

  it.each(filters)('pages of %s hold every match once, sorted by name', (text) => {
    const match = matchUsers(t, parseFilter(text));
    if (match === 'all') throw new Error('unexpected');
    const sort = { field: 'name', desc: false };
    const ids: string[] = [];
    let page = views.userPage(match, sort, '+name', 37, undefined);
    expect(page.total).toBe(match.size);
    for (;;) {
      ids.push(...page.items.map((u) => u.id));
      if (!page.next) break;
      page = views.userPage(match, sort, '+name', 37, { dir: 'next', at: decodeCursor(page.next)! });
    }
    expect(ids).toHaveLength(match.size);
    expect(new Set(ids)).toEqual(new Set(match));
    const names = ids.map((id) => t.getUser(id)!.name);
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});
