// Public API of the Qlik Cloud client. Import from here only.
export {
  type AssignmentFilter,
  type CountedPage,
  type CredentialCheck,
  type HoldersPage,
  type Invitee,
  type InviteOutcome,
  type NewSpaceAssignment,
  QlikClient,
  type QlikClientOptions,
  type RoleLookup,
  type SpacesPage,
} from './client.ts';
export {
  errorFromResponse,
  kindForStatus,
  parseErrorBody,
  parseRetryAfter,
  QlikError,
  type QlikErrorItem,
  type QlikErrorKind,
} from './errors.ts';
export {
  and,
  type ContainsField,
  co,
  eq,
  type Filter,
  type FilterField,
  FilterValueError,
  type GroupFilterField,
  or,
  quoteValue,
  type RoleFilterField,
  type UserFilterField,
} from './filter.ts';
export { type CallEvent, DEFAULT_API_VERSION, USER_AGENT } from './http.ts';
export { collect, PAGE_LIMIT } from './paging.ts';
export {
  DEFAULT_LIMITS,
  InProcessRateLimiter,
  type LimiterClock,
  type QlikRateLimiter,
  RateLimiter,
  RateLimiterClosedError,
  type RateTier,
  type TierLimit,
} from './rate-limiter.ts';
export { DEFAULT_RETRY, type RetryMode, type RetryPolicy } from './retry.ts';
export { closestRoleNames, matchRole } from './role-match.ts';
export type {
  QlikAssignedGroup,
  QlikGroup,
  QlikRole,
  QlikRoleRef,
  QlikSpace,
  QlikSpaceAssignment,
  QlikUser,
  QlikUserSummary,
} from './schemas.ts';
export {
  credentialId,
  SharedRateLimiter,
  type SharedRateLimiterOptions,
} from './shared-rate-limiter.ts';
