// Owns the arithmetic of one principal's assignment in one space for a grant or revoke: what to POST, PUT or DELETE
// from what is there and what is asked. A principal has at most one assignment per space, holding a non-empty list
// of roles, and Qlik's PUT takes the complete list; the owner has no assignment and holds every role implicitly.
// No I/O, so each rule is tested on its own.
import type { RoleAction } from '../../domain/request.ts';

/** The principal's assignment in the space as read: its id and roles (API names). */
export interface CurrentAssignment {
  id: string;
  roles: readonly string[];
}

/** The one write a change needs, if any. */
export type AssignmentWrite =
  | { op: 'none' }
  /** No assignment yet: POST one holding exactly these roles. */
  | { op: 'create'; roles: string[] }
  /** PUT the complete new list. */
  | { op: 'update'; assignmentId: string; roles: string[] }
  /** The last role goes: DELETE the assignment (Qlik refuses an empty list). */
  | { op: 'delete'; assignmentId: string };

export type AssignmentPlan =
  | { ok: true; write: AssignmentWrite; before: string[]; after: string[] }
  /** A revoke from the space's owner: the owner holds every role and can't be removed here. */
  | { ok: false; refused: 'owner' };

export interface PlanInput {
  current: CurrentAssignment | undefined;
  /** The principal owns the space. */
  owner: boolean;
  action: RoleAction;
  role: string;
}

export function planAssignment(input: PlanInput): AssignmentPlan {
  const { current, owner, action, role } = input;
  const before = rolesOf(current);
  const has = before.includes(role);
  const unchanged: AssignmentPlan = { ok: true, write: { op: 'none' }, before, after: before };
  if (action === 'grant') {
    // The owner holds every role the space offers already: nothing to add.
    if (owner || has) return unchanged;
    const after = [...before, role];
    if (current === undefined) return { ok: true, write: { op: 'create', roles: after }, before, after };
    return { ok: true, write: { op: 'update', assignmentId: current.id, roles: after }, before, after };
  }
  if (owner) return { ok: false, refused: 'owner' };
  if (!has || current === undefined) return unchanged;
  const after = before.filter((r) => r !== role);
  if (after.length === 0)
    return { ok: true, write: { op: 'delete', assignmentId: current.id }, before, after };
  return { ok: true, write: { op: 'update', assignmentId: current.id, roles: after }, before, after };
}

/** True when the principal's assignment is as the change asks (the owner's implicit roles are not counted). */
export function isAsAsked(current: CurrentAssignment | undefined, action: RoleAction, role: string): boolean {
  const has = rolesOf(current).includes(role);
  return action === 'grant' ? has : !has;
}

/** The roles of an assignment, each once, in Qlik's order; none without an assignment. */
export function rolesOf(current: CurrentAssignment | undefined): string[] {
  return current === undefined ? [] : [...new Set(current.roles)];
}

/** One change of a batch as planned: the roles just before and just after its turn, or refused (owner). */
export type PlannedAssignmentStep =
  | { ok: true; before: string[]; after: string[]; changed: boolean }
  | { ok: false; refused: 'owner' };

/**
 * A batch of changes (each to a different role) to one principal's assignment in one space, made one after the
 * other: each step as if applied alone at its turn, and the one write that makes them all (POST, PUT or DELETE,
 * decided from what is there now and the roles at the end, whatever the steps in between would have written).
 */
export function planAssignments(input: {
  current: CurrentAssignment | undefined;
  owner: boolean;
  changes: ReadonlyArray<{ action: RoleAction; role: string }>;
}): { steps: PlannedAssignmentStep[]; write: AssignmentWrite } {
  const { current, owner } = input;
  let roles = rolesOf(current);
  const steps: PlannedAssignmentStep[] = [];
  for (const { action, role } of input.changes) {
    const plan = planAssignment({
      current: roles.length > 0 ? { id: current?.id ?? '', roles } : undefined,
      owner,
      action,
      role,
    });
    if (!plan.ok) {
      steps.push(plan);
      continue;
    }
    const changed = plan.write.op !== 'none';
    steps.push({ ok: true, before: plan.before, after: plan.after, changed });
    roles = plan.after;
  }
  return { steps, write: writeFor(current, roles) };
}

/** The one write that turns the assignment read into one holding exactly `roles`. */
function writeFor(current: CurrentAssignment | undefined, roles: string[]): AssignmentWrite {
  const now = rolesOf(current);
  const same = now.length === roles.length && now.every((r) => roles.includes(r));
  if (same) return { op: 'none' };
  if (current === undefined) return { op: 'create', roles };
  if (roles.length === 0) return { op: 'delete', assignmentId: current.id };
  return { op: 'update', assignmentId: current.id, roles };
}
