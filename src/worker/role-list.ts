// Owns the pure decisions of the worker: the new list of a principal's DIRECT roles for a grant or revoke, whether a
// time-bound grant owns (and so may later remove) the role, and what a revoke of a grant must do. No I/O, so each
// rule is table- and property-tested on its own.
import type { RoleAction } from '../domain/request.ts';

export interface RoleRef {
  id: string;
  name: string;
}

export interface NextDirectRoles {
  /** The role ids to PATCH back (direct roles only, order kept, duplicates dropped). */
  ids: string[];
  /** Whether the role list differs from the current one as far as the requested role goes. */
  changed: boolean;
}

/**
 * The direct role ids after granting or revoking `role`. Only `currentDirect` (the principal's own assignedRoles)
 * goes in, so roles that come through groups can never be copied into the direct list.
 */
export function nextDirectRoles(
  currentDirect: readonly RoleRef[],
  action: RoleAction,
  role: RoleRef,
): NextDirectRoles {
  const ids = unique(currentDirect.map((r) => r.id));
  const has = ids.includes(role.id);
  if (action === 'grant') return has ? { ids, changed: false } : { ids: [...ids, role.id], changed: true };
  return has ? { ids: ids.filter((id) => id !== role.id), changed: true } : { ids, changed: false };
}

/** True when the principal's direct roles are as the request asks. */
export function isAsAsked(currentDirect: readonly RoleRef[], action: RoleAction, role: RoleRef): boolean {
  const has = currentDirect.some((r) => r.id === role.id);
  return action === 'grant' ? has : !has;
}

export function roleNames(roles: readonly RoleRef[]): string[] {
  return unique(roles.map((r) => r.name));
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/** What an earlier attempt of the same request recorded just before its PATCH. */
export interface ApplySnapshot {
  before: string[];
}

/**
 * The outcome of applying once the principal is as asked: `changed` is true when this request made the change —
 * now (`wroteNow`) or in an earlier attempt that crashed after its PATCH (the snapshot says so).
 */
export function applyOutcome(input: {
  wroteNow: boolean;
  beforeNow: string[];
  snapshot?: ApplySnapshot;
  action: RoleAction;
  roleName: string;
}): { before: string[]; changed: boolean } {
  if (input.wroteNow) return { before: input.beforeNow, changed: true };
  const snap = input.snapshot;
  if (snap !== undefined) {
    const hadIt = snap.before.includes(input.roleName);
    const snapshotChanges = input.action === 'grant' ? !hadIt : hadIt;
    if (snapshotChanges) return { before: snap.before, changed: true };
  }
  return { before: input.beforeNow, changed: false };
}

/** What the worker knows about the earlier grant an Extend request continues. */
export interface ExtendedGrant {
  state: string;
  /** The earlier grant added the role itself (its result said changed). */
  changed: boolean;
  /** The request that already took the earlier grant over, if any. */
  supersededBy?: string;
}

/**
 * Whether a time-bound grant owns the role, i.e. its expiry must remove it: it added the role itself, or it extends
 * an earlier grant that owned it (still applied and not taken over by someone else, or already taken over by this
 * very request in an earlier attempt).
 */
export function ownsGrant(input: { requestId: string; changed: boolean; extended?: ExtendedGrant }): boolean {
  if (input.changed) return true;
  const e = input.extended;
  if (e === undefined) return false;
  if (e.supersededBy === input.requestId) return true;
  return e.state === 'applied' && e.changed && e.supersededBy === undefined;
}

export type RevokeDecision =
  | { kind: 'remove' }
  | { kind: 'leave'; reason: 'had-before' | 'superseded' | 'not-a-grant'; supersededBy?: string };

/**
 * Whether ending a grant removes the role. Only a grant that added the role removes it; a role the principal held
 * before the grant, or one a later Extend took over, stays. "Revoke now" follows the same rule: it skips approval,
 * so it must never take away more than the grant gave.
 */
export function revokeDecision(input: {
  action: RoleAction;
  /** The grant added the role, or took it over from the grant it extends. */
  changed: boolean;
  supersededBy?: string;
}): RevokeDecision {
  if (input.action !== 'grant') return { kind: 'leave', reason: 'not-a-grant' };
  if (input.supersededBy !== undefined)
    return { kind: 'leave', reason: 'superseded', supersededBy: input.supersededBy };
  if (!input.changed) return { kind: 'leave', reason: 'had-before' };
  return { kind: 'remove' };
}
