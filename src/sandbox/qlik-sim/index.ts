// Public API of the Qlik Cloud tenant simulator (Users incl. invites, Groups, Roles and Spaces APIs over node:http), used by
// tests, the sandbox and benchmarks. Import from here only.

export {
  FILTER_FIELDS,
  type FilterField,
  type FilterNode,
  type FilterOp,
  type FilterResource,
  FilterSyntaxError,
  parseFilter,
} from './filter.ts';
export {
  demoTenant,
  type GenerateTenantOptions,
  generateTenant,
  TenantSeed,
  tenantFromJson,
} from './seed.ts';
export { SPACES_LIMITS, startQlikSimulator } from './server.ts';
export {
  assignableSpaceRoles,
  MAX_SPACE_NAME_LENGTH,
  SPACE_ROLE_UI_NAMES,
  SPACE_ROLES,
  SPACE_TYPES,
  type SpaceRole,
  spaceNameProblem,
} from './spaces.ts';
export {
  DEFAULT_ROLES,
  EVERYONE_GROUP_ID,
  EVERYONE_GROUP_NAME,
  INVITE_ERROR_TITLES,
  INVITE_LANGUAGES,
  INVITE_VALIDITY_DAYS,
  SimTenant,
  SimTenantError,
  type SimTenantErrorKind,
  type SimTenantOptions,
  type UserIndexedField,
} from './tenant.ts';
export type {
  AssigneeType,
  FaultSpec,
  GroupStatus,
  LoggedRequest,
  ProviderType,
  QlikSimulator,
  RateLimitOptions,
  RoleLevel,
  RoleType,
  SimAssignment,
  SimAssignmentInput,
  SimCounts,
  SimGroup,
  SimGroupInput,
  SimIdentityProvider,
  SimInviteInput,
  SimInviteRecord,
  SimInviteResult,
  SimOptions,
  SimRole,
  SimRoleInput,
  SimSpace,
  SimSpaceInput,
  SimUser,
  SimUserInput,
  SpaceType,
  Tier,
  UserStatus,
} from './types.ts';
