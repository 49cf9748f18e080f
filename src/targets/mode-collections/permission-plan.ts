// Owns the arithmetic of one accessor's permission in one Collection for a grant or revoke: what to POST, PATCH or
// DELETE from what is there and what is asked. Mode keeps one action (`view` or `edit`) per accessor and
// Collection. `edit` covers `view`: a grant of view to an editor changes nothing (never a downgrade); a grant of
// edit to a viewer raises it. A revoke removes the permission only when it is the action asked (anything else was
// changed by someone since, and is theirs); ending an edit grant given over a view puts the view back
// (`restore`). No I/O, so each rule is tested on its own.
import type { RoleAction } from '../../domain/request.ts';
import type { PermissionAction } from '../../mode/index.ts';

/** The accessor's permission as read: its token and action. */
export interface CurrentPermission {
  token: string;
  action: string;
}

export type PermissionWrite =
  | { op: 'none' }
  | { op: 'create'; action: PermissionAction }
  | { op: 'update'; token: string; action: PermissionAction }
  | { op: 'delete'; token: string };

export interface PermissionPlan {
  write: PermissionWrite;
  before: string[];
  after: string[];
}

export function planPermission(
  current: CurrentPermission | undefined,
  action: RoleAction,
  asked: PermissionAction,
  /** Ending a grant: the action the accessor had before it (from the grant's before-snapshot), to put back. */
  restore?: PermissionAction,
): PermissionPlan {
  const before = actionsOf(current);
  if (action === 'grant') {
    if (current === undefined) return { write: { op: 'create', action: asked }, before, after: [asked] };
    if (covers(current.action, asked)) return { write: { op: 'none' }, before, after: before };
    return { write: { op: 'update', token: current.token, action: asked }, before, after: [asked] };
  }
  if (current === undefined || current.action !== asked)
    return { write: { op: 'none' }, before, after: before };
  if (restore !== undefined && restore !== asked)
    return { write: { op: 'update', token: current.token, action: restore }, before, after: [restore] };
  return { write: { op: 'delete', token: current.token }, before, after: [] };
}

/** `edit` includes `view`. */
function covers(held: string, asked: string): boolean {
  return held === asked || (held === 'edit' && asked === 'view');
}

/** True when the permission read is as the change asks. */
export function isAsAsked(
  current: CurrentPermission | undefined,
  action: RoleAction,
  asked: string,
): boolean {
  return action === 'grant'
    ? current !== undefined && covers(current.action, asked)
    : current?.action !== asked;
}

export function actionsOf(current: CurrentPermission | undefined): string[] {
  return current === undefined ? [] : [current.action];
}
