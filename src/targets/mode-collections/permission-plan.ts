// Owns the arithmetic of one accessor's permission in one Collection for a grant or revoke: what to POST, PATCH or
// DELETE from what is there and what is asked. Mode keeps one action (`view` or `edit`) per accessor and
// Collection; a grant of another action replaces it, and a revoke removes it only when it is the action asked
// (anything else was changed by someone since, and is theirs). No I/O, so each rule is tested on its own.
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
): PermissionPlan {
  const before = actionsOf(current);
  if (action === 'grant') {
    if (current === undefined) return { write: { op: 'create', action: asked }, before, after: [asked] };
    if (current.action === asked) return { write: { op: 'none' }, before, after: before };
    return { write: { op: 'update', token: current.token, action: asked }, before, after: [asked] };
  }
  if (current === undefined || current.action !== asked)
    return { write: { op: 'none' }, before, after: before };
  return { write: { op: 'delete', token: current.token }, before, after: [] };
}

/** True when the permission read is as the change asks. */
export function isAsAsked(
  current: CurrentPermission | undefined,
  action: RoleAction,
  asked: string,
): boolean {
  return action === 'grant' ? current?.action === asked : current?.action !== asked;
}

export function actionsOf(current: CurrentPermission | undefined): string[] {
  return current === undefined ? [] : [current.action];
}
