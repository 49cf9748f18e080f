// Owns finding the Qlik principal a person means: the one live user with an email, or the group with an exact name,
// with the roles it holds now (directly and through its groups). Every way this can fail (no or several users, no
// such group) ends in a code with what the front needs to tell the person what to do instead.
import type { QlikGroup, QlikUser } from '../../qlik/index.ts';
import type { EntitlementRef, PrincipalQuery, PrincipalResult } from '../types.ts';

/** The Qlik reads that finding a principal makes. */
export interface PrincipalLookups {
  findUsersByEmail(email: string): Promise<QlikUser[]>;
  findGroupByName(name: string): Promise<QlikGroup | undefined>;
}

export async function findPrincipal(qlik: PrincipalLookups, query: PrincipalQuery): Promise<PrincipalResult> {
  return query.kind === 'user'
    ? fromEmail(qlik, query.email, query.fallbackName)
    : fromGroup(qlik, query.name);
}

async function fromEmail(
  qlik: PrincipalLookups,
  email: string,
  fallbackName: string | undefined,
): Promise<PrincipalResult> {
  const users = await qlik.findUsersByEmail(email);
  const live = users.filter((u) => u.status !== 'deleted');
  if (live.length === 0) {
    return { ok: false, code: 'no-such-user', email };
  }
  if (live.length > 1) {
    return { ok: false, code: 'several-users', email, count: live.length };
  }
  const user = live[0]!;
  return {
    ok: true,
    principal: {
      kind: 'user',
      id: user.id,
      name: user.name || fallbackName || user.email || email,
      email: user.email ?? email,
    },
    ...(user.status ? { status: user.status } : {}),
    holdings: userHoldings(user),
  };
}

async function fromGroup(qlik: PrincipalLookups, name: string): Promise<PrincipalResult> {
  const group = await qlik.findGroupByName(name);
  if (!group) {
    // Qlik matches group names exactly, case included: the words say so.
    return { ok: false, code: 'no-such-group', name };
  }
  return {
    ok: true,
    principal: { kind: 'group', id: group.id, name: group.name },
    holdings: { direct: group.assignedRoles.map(ref), inherited: [] },
  };
}

/** A user's roles: `assignedRoles` directly, and each group's roles (groups without roles left out). */
export function userHoldings(user: Pick<QlikUser, 'assignedRoles' | 'assignedGroups'>) {
  return {
    direct: user.assignedRoles.map(ref),
    inherited: user.assignedGroups
      .filter((g) => g.assignedRoles.length > 0)
      .map((g) => ({ via: g.name, entitlements: g.assignedRoles.map(ref) })),
  };
}

function ref(r: { id: string; name: string }): EntitlementRef {
  return { id: r.id, name: r.name };
}
