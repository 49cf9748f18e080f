// Public API of the Qlik Cloud tenant simulator (Users, Groups and Roles APIs over node:http), used by tests,
// the sandbox and benchmarks. Import from here only.

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
export { startQlikSimulator } from './server.ts';
export {
  DEFAULT_ROLES,
  EVERYONE_GROUP_ID,
  EVERYONE_GROUP_NAME,
  SimTenant,
  SimTenantError,
  type SimTenantErrorKind,
  type SimTenantOptions,
  type UserIndexedField,
} from './tenant.ts';
export type {
  FaultSpec,
  GroupStatus,
  LoggedRequest,
  ProviderType,
  QlikSimulator,
  RateLimitOptions,
  RoleLevel,
  RoleType,
  SimCounts,
  SimGroup,
  SimGroupInput,
  SimOptions,
  SimRole,
  SimRoleInput,
  SimUser,
  SimUserInput,
  Tier,
  UserStatus,
} from './types.ts';
