// Public API of the Mode workspace simulator (workspace memberships, users, groups, group memberships and
// collection permissions over node:http), used by tests, the sandbox and benchmarks. Import from here only.

export { demoModeWorkspace, type GenerateModeWorkspaceOptions, generateModeWorkspace } from './seed.ts';
export { MODE_PER_PAGE_MAX, startModeSimulator } from './server.ts';
export type {
  AccessorType,
  CollectionAccessLevel,
  GroupState,
  MemberState,
  ModeCollection,
  ModeCollectionInput,
  ModeFaultSpec,
  ModeGroup,
  ModeGroupInput,
  ModeGroupMembership,
  ModeLoggedRequest,
  ModeMember,
  ModeMemberInput,
  ModePermission,
  ModePermissionInput,
  ModeRateLimit,
  ModeSimOptions,
  ModeSimulator,
  PermissionAction,
} from './types.ts';
export {
  ModeSimError,
  type ModeSimErrorKind,
  ModeWorkspace,
  type ModeWorkspaceOptions,
} from './workspace.ts';
