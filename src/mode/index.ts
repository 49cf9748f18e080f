// Public API of the Mode client and its people cache. Import from here only.
export {
  type AccessorType,
  collectAll,
  isSoftDeleted,
  MODE_API_URL,
  type ModeCallEvent,
  ModeClient,
  type ModeClientOptions,
  type NewPermission,
  type PermissionAction,
} from './client.ts';
export {
  errorFromResponse,
  kindForStatus,
  ModeError,
  type ModeErrorKind,
  parseErrorBody,
} from './errors.ts';
export {
  ModePeople,
  type ModePeopleOptions,
  type ModePerson,
  type PeopleApi,
  type PeopleStats,
  type RefreshCost,
} from './people.ts';
export type {
  ModeCollection,
  ModeGroup,
  ModeGroupMembership,
  ModeMembership,
  ModePermission,
  ModeUser,
} from './schemas.ts';
