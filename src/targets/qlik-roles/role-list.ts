// Owns the arithmetic of a principal's DIRECT role list (assignedRoles) for a grant or revoke, and what a re-run
// after a crash reports. No I/O, so each rule is table- and property-tested on its own.
import type { RoleAction } from '../../domain/request.ts';

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

/** One change of a batch as planned: the direct roles by name just before it and just after it, and whether it writes. */
export interface PlannedStep {
  before: string[];
  after: string[];
  changed: boolean;
}

/**
 * A batch of changes (each to a different role) to one principal's direct roles, made one after the other from
 * `currentDirect`: each step as if it were applied alone at its turn, and the one list of ids that makes them all.
 */
export function planDirectRoles(
  currentDirect: readonly RoleRef[],
  changes: ReadonlyArray<{ action: RoleAction; role: RoleRef }>,
): { steps: PlannedStep[]; ids: string[]; changed: boolean } {
  let roles: RoleRef[] = uniqueRoles(currentDirect);
  const steps: PlannedStep[] = [];
  for (const { action, role } of changes) {
    const before = roleNames(roles);
    const next = nextDirectRoles(roles, action, role);
    if (next.changed) roles = action === 'grant' ? [...roles, role] : roles.filter((r) => r.id !== role.id);
    steps.push({ before, after: roleNames(roles), changed: next.changed });
  }
  return { steps, ids: roles.map((r) => r.id), changed: steps.some((s) => s.changed) };
}

function uniqueRoles(roles: readonly RoleRef[]): RoleRef[] {
  const seen = new Set<string>();
  return roles.filter((r) => !seen.has(r.id) && seen.add(r.id));
}
