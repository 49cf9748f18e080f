// Owns the names of Qlik space roles: the API name Qlik stores (`consumer`) and the name its UI shows (`Can view`),
// and matching what a person typed against the roles one space offers (its `meta.assignableRoles`). Pure.
import { closestRoleNames } from '../../qlik/index.ts';

/** The UI name of each space role Qlik documents (reference §5); a role missing here is shown by its API name. */
export const SPACE_ROLE_UI_NAMES: Readonly<Record<string, string>> = Object.freeze({
  consumer: 'Can view',
  contributor: 'Can contribute',
  dataconsumer: 'Can consume data',
  facilitator: 'Can manage',
  operator: 'Can operate',
  producer: 'Can edit',
  publisher: 'Can publish',
  basicconsumer: 'Has restricted view',
  codeveloper: 'Can edit data in applications',
  datapreview: 'Can view data',
});

/** The role that manages a space's members, beside its owner. */
export const MANAGER_ROLE = 'facilitator';

/** Every space role Qlik documents, by API name. */
export const KNOWN_SPACE_ROLES: readonly string[] = Object.freeze(Object.keys(SPACE_ROLE_UI_NAMES));

export function uiNameOf(role: string): string | undefined {
  return Object.hasOwn(SPACE_ROLE_UI_NAMES, role) ? SPACE_ROLE_UI_NAMES[role] : undefined;
}

/** A role as people read it: `consumer (Can view)`, or just the API name when Qlik's UI name is not known. */
export function roleLabel(role: string): string {
  const ui = uiNameOf(role);
  return ui === undefined ? role : `${role} (${ui})`;
}

export type SpaceRoleMatch =
  /** A role the space offers, by its API name. */
  | { kind: 'offered'; role: string }
  /** A space role Qlik has, but not in this space (its type does not offer it). */
  | { kind: 'not-offered'; role: string }
  /** No space role by that name: the closest names this space offers, best first. */
  | { kind: 'unknown'; suggestions: string[] };

/**
 * What `typed` names among the space's `assignable` roles: the API name (`consumer`), the UI name (`Can view`) or
 * the label (`consumer (Can view)`), any case and surrounding spaces.
 */
export function matchSpaceRole(typed: string, assignable: readonly string[]): SpaceRoleMatch {
  const wanted = normalise(typed);
  const named = (role: string) =>
    [role, uiNameOf(role), roleLabel(role)].some((n) => n !== undefined && normalise(n) === wanted);
  const offered = assignable.find(named);
  if (offered !== undefined) return { kind: 'offered', role: offered };
  const known = KNOWN_SPACE_ROLES.find(named);
  if (known !== undefined) return { kind: 'not-offered', role: known };
  // Suggest by both names, as either may be what the person half-remembered; each role once, in the form closest.
  const names = assignable.flatMap((r) => [r, uiNameOf(r) ?? r]);
  const suggestions: string[] = [];
  const seen = new Set<string>();
  for (const name of closestRoleNames(typed, names, names.length)) {
    const role = assignable.find((r) => r === name || uiNameOf(r) === name);
    if (role === undefined || seen.has(role)) continue;
    seen.add(role);
    suggestions.push(name);
    if (suggestions.length === 3) break;
  }
  return { kind: 'unknown', suggestions };
}

function normalise(s: string): string {
  return s.trim().replace(/\s+/g, ' ').toLowerCase();
}
