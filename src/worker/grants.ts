// Owns the pure decisions about time-bound grants that hold for every target: whether a grant owns (and so may
// later remove) what it granted, through Extend hand-overs, and what ending a grant must do. No I/O.
import type { RoleAction } from '../domain/request.ts';

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
