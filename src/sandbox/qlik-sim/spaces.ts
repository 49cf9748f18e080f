// Space rules of the simulator that need no tenant state: the roles each space type offers, the space-name rules,
// and the UI names of the roles. SimTenant keeps the spaces themselves and uses these to validate.

import type { SpaceType } from './types.ts';

export const SPACE_TYPES: readonly SpaceType[] = ['shared', 'managed', 'data'];

/** Every space role API name (the spec's `RoleType` enum). Names are case-sensitive. */
export const SPACE_ROLES = [
  'consumer',
  'contributor',
  'dataconsumer',
  'datapreview',
  'facilitator',
  'operator',
  'producer',
  'publisher',
  'basicconsumer',
  'codeveloper',
] as const;
export type SpaceRole = (typeof SPACE_ROLES)[number];

/**
 * Roles assignable per space type, from qlik.dev "Space roles" (reference §5). The spec's RoleType description
 * omits `operator` for managed spaces; the roles page (newer, and what the product offers) lists it, so it's here.
 */
const ASSIGNABLE: Record<SpaceType, readonly SpaceRole[]> = {
  shared: ['consumer', 'dataconsumer', 'facilitator', 'producer', 'codeveloper'],
  managed: [
    'consumer',
    'contributor',
    'dataconsumer',
    'facilitator',
    'operator',
    'publisher',
    'basicconsumer',
  ],
  data: ['consumer', 'dataconsumer', 'facilitator', 'operator', 'producer', 'publisher', 'datapreview'],
};

/** The roles an assignment in a space of this type may hold, in the table's order (copy: callers may keep it). */
export function assignableSpaceRoles(type: SpaceType): string[] {
  return [...ASSIGNABLE[type]];
}

/** The UI names Qlik shows for the API names (qlik.dev "Space roles"). */
export const SPACE_ROLE_UI_NAMES: Readonly<Record<SpaceRole, string>> = {
  consumer: 'Can view',
  contributor: 'Can contribute',
  dataconsumer: 'Can consume data',
  datapreview: 'Can view data',
  facilitator: 'Can manage',
  operator: 'Can operate',
  producer: 'Can edit',
  publisher: 'Can publish',
  basicconsumer: 'Has restricted view',
  codeveloper: 'Can edit data in applications',
};

export const MAX_SPACE_NAME_LENGTH = 256;
const FORBIDDEN_NAME_CHARS = /["*?<>/|\\:]/;

/** Why a space name is not allowed (empty, over 256 characters, or one of `" * ? < > / | \ :`), else undefined. */
export function spaceNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'A space name must not be empty.';
  if (name.length > MAX_SPACE_NAME_LENGTH) {
    return `A space name may have at most ${MAX_SPACE_NAME_LENGTH} characters.`;
  }
  if (FORBIDDEN_NAME_CHARS.test(name)) {
    return 'A space name may not contain any of " * ? < > / | \\ :';
  }
  return undefined;
}

export function isSpaceType(v: unknown): v is SpaceType {
  return typeof v === 'string' && (SPACE_TYPES as readonly string[]).includes(v);
}
