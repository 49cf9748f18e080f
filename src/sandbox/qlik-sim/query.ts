// Filter evaluation, sorting and keyset paging over a SimTenant. Single comparisons on indexed fields (email,
// role, group, status, ...) are answered from the tenant's indexes; full sorted lists are cached per tenant
// version so a 50k-user page costs a binary search, not a sort.

import type { FilterNode } from './filter.ts';
import { EVERYONE_GROUP_ID, type SimTenant, type UserIndexedField } from './tenant.ts';
import type { SimAssignment, SimGroup, SimRole, SimSpace, SimUser } from './types.ts';

type SortKey = string | number | undefined;
type Cmp = Extract<FilterNode, { kind: 'cmp' }>;

export interface SortSpec {
  field: string;
  desc: boolean;
}

/** Sort fields accepted by GET /users (the spec's enum, without the sign). */
export const USER_SORT_FIELDS = [
  'name',
  '_id',
  'id',
  'tenantId',
  'clientId',
  'status',
  'subject',
  'email',
  'inviteExpiry',
  'createdAt',
] as const;
export const GROUP_SORT_FIELDS = [
  'name',
  '_id',
  'id',
  'status',
  'providerType',
  'createdAt',
  'lastUpdatedAt',
] as const;
export const ROLE_SORT_FIELDS = [
  'name',
  '_id',
  'id',
  'type',
  'level',
  'description',
  'createdAt',
  'lastUpdatedAt',
] as const;

/** Sort fields GET /spaces documents ("type", "name" and "createdAt"), plus id for a stable default. */
export const SPACE_SORT_FIELDS = ['name', 'createdAt', 'type', 'id'] as const;

/** Parses `name`, `+name`, `-name` (and ` name`, which is what `+name` becomes when a client forgets to encode). */
export function parseSort(raw: string, allowed: readonly string[]): SortSpec | undefined {
  let s = raw;
  let desc = false;
  if (s.startsWith('-')) {
    desc = true;
    s = s.slice(1);
  } else if (s.startsWith('+') || s.startsWith(' ')) {
    s = s.slice(1);
  }
  return allowed.includes(s) ? { field: s, desc } : undefined;
}

function compareKeys(a: SortKey, b: SortKey): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

type KeyOf<T> = (t: T) => SortKey;

function userKey(field: string): KeyOf<SimUser> {
  switch (field) {
    case '_id':
    case 'id':
      return (u) => u.id;
    case 'tenantId':
      return () => undefined;
    case 'inviteExpiry':
      return (u) => u.inviteExpiry;
    default:
      return (u) => (u as unknown as Record<string, SortKey>)[field];
  }
}

function entityKey<T extends { id: string }>(field: string): KeyOf<T> {
  if (field === '_id' || field === 'id') return (e) => e.id;
  return (e) => (e as unknown as Record<string, SortKey>)[field];
}

/** Opaque cursor: the sort field plus the (key, id) of the boundary item, base64url JSON. */
export interface Cursor {
  sort: string;
  key: SortKey;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.sort, c.key ?? null, c.id])).toString('base64url');
}

export function decodeCursor(raw: string): Cursor | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 3) return undefined;
    const [sort, key, id] = v as unknown[];
    if (typeof sort !== 'string' || typeof id !== 'string') return undefined;
    if (key !== null && typeof key !== 'string' && typeof key !== 'number') return undefined;
    return { sort, key: key ?? undefined, id };
  } catch {
    return undefined;
  }
}

export interface PageResult<T> {
  items: T[];
  total: number;
  /** Cursor for links.next, when later items exist. */
  next?: string;
  /** Cursor for links.prev, when earlier items exist. */
  prev?: string;
}

/**
 * One page of `sorted` (already in the requested order) after/before a cursor. Keyset paging by (key, id) keeps
 * pages stable when entities are added or removed between requests. With `only`, `sorted` is a superset and
 * just the items it accepts count: for dense matches, walking the cached full order beats sorting the matches.
 */
export function pageOf<T extends { id: string }>(
  sorted: readonly T[],
  keyOf: KeyOf<T>,
  sort: SortSpec,
  sortLabel: string,
  limit: number,
  cursor: { dir: 'next' | 'prev'; at: Cursor } | undefined,
  only?: { has: (t: T) => boolean; total: number },
): PageResult<T> {
  const sign = sort.desc ? -1 : 1;
  const n = sorted.length;
  const cmpTo = (item: T, c: Cursor) =>
    sign * (compareKeys(keyOf(item), c.key) || (item.id < c.id ? -1 : item.id > c.id ? 1 : 0));
  // First index whose item sorts after the cursor (strict) or at/after it.
  const lowerBound = (c: Cursor, strict: boolean) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const d = cmpTo(sorted[mid]!, c);
      if (d < 0 || (strict && d === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const has = only?.has ?? (() => true);
  const anyIn = (from: number, to: number) => {
    if (!only) return from < to;
    for (let i = from; i < to; i += 1) if (has(sorted[i]!)) return true;
    return false;
  };
  const items: T[] = [];
  // [start, end) is the span of the full order the page covers.
  let start: number;
  let end: number;
  if (!cursor || cursor.dir === 'next') {
    start = cursor ? lowerBound(cursor.at, true) : 0;
    end = start;
    let first = -1;
    while (end < n && items.length < limit) {
      const item = sorted[end]!;
      if (has(item)) {
        if (first < 0) first = end;
        items.push(item);
      }
      end += 1;
    }
    if (first >= 0) start = first;
  } else {
    end = lowerBound(cursor.at, false);
    start = end;
    let last = -1;
    while (start > 0 && items.length < limit) {
      const item = sorted[start - 1]!;
      if (has(item)) {
        if (last < 0) last = start;
        items.push(item);
      }
      start -= 1;
    }
    items.reverse();
    if (last >= 0) end = last;
  }
  const result: PageResult<T> = { items, total: only ? only.total : n };
  const mk = (item: T) => encodeCursor({ sort: sortLabel, key: keyOf(item), id: item.id });
  if (items.length > 0) {
    if (anyIn(end, n)) result.next = mk(items[items.length - 1]!);
    if (anyIn(0, start)) result.prev = mk(items[0]!);
  } else if (cursor) {
    // An empty page past either end still offers the way back.
    const back = encodeCursor({ ...cursor.at, sort: sortLabel });
    if (cursor.dir === 'next' && anyIn(0, start)) result.prev = back;
    if (cursor.dir === 'prev' && anyIn(end, n)) result.next = back;
  }
  return result;
}

// ---------------------------------------------------------------- users

const INDEXED_USER_FIELDS: ReadonlySet<string> = new Set([
  'subject',
  'name',
  'email',
  'status',
  'clientId',
  'assignedScopes',
]);

function hasCo(node: FilterNode): boolean {
  return node.kind === 'cmp' ? node.op === 'co' : node.children.some(hasCo);
}

function lc(s: string | undefined): string | undefined {
  return s === undefined ? undefined : s.toLowerCase();
}

/** Predicate form of a filter over users (used for `co` and for narrowing index candidates). */
export function userPredicate(t: SimTenant, node: FilterNode): (u: SimUser) => boolean {
  if (node.kind === 'and') {
    const ps = node.children.map((c) => userPredicate(t, c));
    return (u) => ps.every((p) => p(u));
  }
  if (node.kind === 'or') {
    const ps = node.children.map((c) => userPredicate(t, c));
    return (u) => ps.some((p) => p(u));
  }
  const v = node.value.toLowerCase();
  if (node.op === 'co') {
    const field = node.field as 'name' | 'email' | 'subject';
    return (u) => lc(u[field])?.includes(v) ?? false;
  }
  const set = userCmpSet(t, node);
  return (u) => set.has(u.id);
}

function union(sets: Iterable<ReadonlySet<string>>): Set<string> {
  const out = new Set<string>();
  for (const s of sets) for (const x of s) out.add(x);
  return out;
}

/** Users matching one `eq` comparison, from the indexes. */
function userCmpSet(t: SimTenant, node: Cmp): ReadonlySet<string> {
  const v = node.value;
  if (node.field === 'id') {
    const id = v.toLowerCase();
    return t.getUser(id) ? new Set([id]) : new Set();
  }
  if (INDEXED_USER_FIELDS.has(node.field)) return t.userIdsWhere(node.field as UserIndexedField, v);
  switch (node.field) {
    case 'assignedRoles.id':
      return t.userIdsWithRole(v);
    case 'assignedRoles.name': {
      const ids = [...t.roleIdsByNameInsensitive(v)];
      return ids.length === 1 ? t.userIdsWithRole(ids[0]!) : union(ids.map((r) => t.userIdsWithRole(r)));
    }
    case 'assignedGroups.id':
      return v.toLowerCase() === EVERYONE_GROUP_ID ? new Set() : t.userIdsInGroup(v);
    case 'assignedGroupsAssignedRoles.name': {
      const groups = new Set<string>();
      for (const r of t.roleIdsByNameInsensitive(v)) for (const g of t.groupIdsWithRole(r)) groups.add(g);
      groups.delete(EVERYONE_GROUP_ID);
      return union([...groups].map((g) => t.userIdsInGroup(g)));
    }
    default:
      throw new Error(`Unhandled user filter field ${node.field}`);
  }
}

/** Ids of matching users, or 'all' when there is no filter. */
export function matchUsers(t: SimTenant, node: FilterNode | undefined): ReadonlySet<string> | 'all' {
  if (!node) return 'all';
  return userSet(t, node);
}

function userSet(t: SimTenant, node: FilterNode): ReadonlySet<string> {
  if (node.kind === 'cmp') {
    if (node.op === 'eq') return userCmpSet(t, node);
    return scanUsers(t, userPredicate(t, node));
  }
  if (node.kind === 'or') return union(node.children.map((c) => userSet(t, c)));
  // and: intersect the index-answerable operands (smallest first), then narrow by the rest.
  const indexable = node.children.filter((c) => !hasCo(c));
  const rest = node.children.filter(hasCo);
  if (indexable.length === 0) return scanUsers(t, userPredicate(t, node));
  const sets = indexable.map((c) => userSet(t, c)).sort((a, b) => a.size - b.size);
  const [smallest, ...others] = sets;
  const preds = rest.map((c) => userPredicate(t, c));
  const out = new Set<string>();
  for (const id of smallest!) {
    if (!others.every((s) => s.has(id))) continue;
    if (preds.length > 0) {
      const u = t.getUser(id)!;
      if (!preds.every((p) => p(u))) continue;
    }
    out.add(id);
  }
  return out;
}

function scanUsers(t: SimTenant, pred: (u: SimUser) => boolean): Set<string> {
  const out = new Set<string>();
  for (const u of t.users()) if (pred(u)) out.add(u.id);
  return out;
}

// ---------------------------------------------------------------- groups and roles (small: scans)

function groupField(t: SimTenant, g: SimGroup, field: string): string[] {
  switch (field) {
    case 'assignedRoles.id':
      return g.assignedRoleIds;
    case 'assignedRoles.name':
      return g.assignedRoleIds.map((r) => t.getRole(r)?.name ?? '');
    default: {
      const v = (g as unknown as Record<string, unknown>)[field];
      return typeof v === 'string' ? [v] : [];
    }
  }
}

function rolesField(r: SimRole, field: string, tenantId: string): string[] {
  if (field === 'tenantId') return [tenantId];
  if (field === 'permissions') return r.permissions;
  const v = (r as unknown as Record<string, unknown>)[field];
  return typeof v === 'string' ? [v] : [];
}

function genericPredicate<T>(node: FilterNode, values: (e: T, field: string) => string[]): (e: T) => boolean {
  if (node.kind === 'and') {
    const ps = node.children.map((c) => genericPredicate(c, values));
    return (e) => ps.every((p) => p(e));
  }
  if (node.kind === 'or') {
    const ps = node.children.map((c) => genericPredicate(c, values));
    return (e) => ps.some((p) => p(e));
  }
  const v = node.value.toLowerCase();
  if (node.op === 'co') return (e) => values(e, node.field).some((x) => x.toLowerCase().includes(v));
  return (e) => values(e, node.field).some((x) => x.toLowerCase() === v);
}

export function groupPredicate(t: SimTenant, node: FilterNode): (g: SimGroup) => boolean {
  return genericPredicate<SimGroup>(node, (g, f) => groupField(t, g, f));
}

export function rolePredicate(t: SimTenant, node: FilterNode): (r: SimRole) => boolean {
  return genericPredicate<SimRole>(node, (r, f) => rolesField(r, f, t.tenantId));
}

// ---------------------------------------------------------------- sorted list cache

interface Order<T> {
  sorted: T[];
  /** id -> position in `sorted`, for sorting a subset by lookup instead of by comparison. */
  rank: Map<string, number>;
}

/**
 * Per-tenant cache of fully sorted entity arrays. Entries live until the tenant's orderVersion for that kind
 * changes, which role and membership writes never do; the arrays hold the live entity objects.
 */
export class SortedViews {
  private readonly tenant: SimTenant;
  private readonly cache = new Map<string, { version: number; order: Order<unknown> }>();

  constructor(tenant: SimTenant) {
    this.tenant = tenant;
  }

  private order<T extends { id: string }>(
    kind: 'users' | 'groups' | 'roles',
    label: string,
    build: () => T[],
  ): Order<T> {
    const version = this.tenant.orderVersion[kind];
    const key = `${kind}:${label}`;
    const hit = this.cache.get(key);
    if (hit && hit.version === version) return hit.order as Order<T>;
    const sorted = build();
    const rank = new Map<string, number>();
    for (let i = 0; i < sorted.length; i += 1) rank.set(sorted[i]!.id, i);
    const order: Order<T> = { sorted, rank };
    this.cache.set(key, { version, order: order as Order<unknown> });
    return order;
  }

  /** One page of matching users in the requested order. */
  userPage(
    match: ReadonlySet<string> | 'all',
    sort: SortSpec,
    sortLabel: string,
    limit: number,
    cursor: { dir: 'next' | 'prev'; at: Cursor } | undefined,
  ): PageResult<SimUser> {
    const keyOf = userKey(sort.field);
    const { sorted, rank } = this.order('users', `${sort.field}:${sort.desc}`, () =>
      Array.from(this.tenant.users() as Iterable<SimUser>).sort(comparator(keyOf, sort.desc)),
    );
    if (match === 'all') return pageOf(sorted, keyOf, sort, sortLabel, limit, cursor);
    // Dense matches: walk the cached order and stop after one page.
    if (match.size * 16 >= sorted.length) {
      return pageOf(sorted, keyOf, sort, sortLabel, limit, cursor, {
        has: (u) => match.has(u.id),
        total: match.size,
      });
    }
    // Sparse matches: order them by their cached rank (no comparisons).
    const ranks = new Int32Array(match.size);
    let n = 0;
    for (const id of match) {
      const r = rank.get(id);
      if (r !== undefined) ranks[n++] = r;
    }
    const subset = Array.from(ranks.subarray(0, n).sort(), (r) => sorted[r]!);
    return pageOf(subset, keyOf, sort, sortLabel, limit, cursor);
  }

  groups(pred: ((g: SimGroup) => boolean) | undefined, sort: SortSpec, system: boolean) {
    const keyOf = entityKey<SimGroup>(sort.field);
    const { sorted } = this.order('groups', `${system}:${sort.field}:${sort.desc}`, () =>
      Array.from(this.tenant.groups() as Iterable<SimGroup>)
        .filter((g) => g.system === system)
        .sort(comparator(keyOf, sort.desc)),
    );
    return { sorted: pred ? sorted.filter(pred) : sorted, keyOf };
  }

  roles(pred: ((r: SimRole) => boolean) | undefined, sort: SortSpec) {
    const keyOf = entityKey<SimRole>(sort.field);
    const { sorted } = this.order('roles', `${sort.field}:${sort.desc}`, () =>
      Array.from(this.tenant.roles() as Iterable<SimRole>).sort(comparator(keyOf, sort.desc)),
    );
    return { sorted: pred ? sorted.filter(pred) : sorted, keyOf };
  }
}

function comparator<T extends { id: string }>(keyOf: KeyOf<T>, desc: boolean): (a: T, b: T) => number {
  const sign = desc ? -1 : 1;
  return (a, b) => sign * (compareKeys(keyOf(a), keyOf(b)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// ---------------------------------------------------------------- spaces and assignments (small: sorted per request)

/** Spaces in the requested order (ties by id), with the key function pageOf needs for cursors. */
export function sortSpaces(spaces: Iterable<SimSpace>, sort: SortSpec) {
  const keyOf = entityKey<SimSpace>(sort.field);
  return { sorted: Array.from(spaces).sort(comparator(keyOf, sort.desc)), keyOf };
}

/** Assignments in creation order (ObjectIds increase with time), the order Qlik lists them in. */
export function sortAssignments(assignments: Iterable<SimAssignment>) {
  const keyOf = entityKey<SimAssignment>('id');
  return { sorted: Array.from(assignments).sort(comparator(keyOf, false)), keyOf };
}
