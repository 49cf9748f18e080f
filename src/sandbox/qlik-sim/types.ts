// Shared types of the Qlik Cloud tenant simulator: the in-memory entities and the server's option/handle shapes.

import type { SimTenant } from './tenant.ts';

export type RoleType = 'default' | 'custom';
export type RoleLevel = 'admin' | 'user';
export type UserStatus = 'active' | 'invited' | 'disabled' | 'deleted' | 'provisioned';
export type GroupStatus = 'active' | 'disabled';
export type ProviderType = 'idp' | 'custom';
export type SpaceType = 'shared' | 'managed' | 'data';
/** How a tenant's users sign in: Qlik Account ('qlik') or the tenant's own identity provider ('custom'). */
export type SimIdentityProvider = 'qlik' | 'custom';
/** Who an assignment is for. The spec's enum also has `bot`, but the docs only allow users and groups. */
export type AssigneeType = 'user' | 'group';

/** A tenant role (Roles API `Role`). Names are unique per tenant and compared exactly (case-sensitive). */
export interface SimRole {
  id: string;
  name: string;
  type: RoleType;
  level?: RoleLevel;
  description: string;
  permissions: string[];
  assignedScopes: string[];
  canEdit: boolean;
  canDelete: boolean;
  userEntitlementType?: string;
  createdAt: string;
  lastUpdatedAt: string;
  createdBy?: string;
  updatedBy?: string;
}

/** A tenant user (Users API `User`), with role and group membership kept as ids. */
export interface SimUser {
  id: string;
  subject: string;
  name: string;
  email?: string;
  status: UserStatus;
  /** Direct role assignments only (group-inherited roles are not here). */
  assignedRoleIds: string[];
  /** Non-system group memberships (Everyone is implicit for every user). */
  groupIds: string[];
  assignedScopes: string[];
  clientId?: string;
  createdAt: string;
  lastUpdatedAt: string;
  inviteExpiry?: number;
  locale?: string;
  zoneinfo?: string;
  preferredLocale?: string;
  preferredZoneinfo?: string;
  picture?: string;
}

/** A tenant group (Groups API `Group`). `system` marks com.qlik.Everyone, listed only with systemGroups=true. */
export interface SimGroup {
  id: string;
  name: string;
  status: GroupStatus;
  providerType: ProviderType;
  assignedRoleIds: string[];
  description?: string;
  idpId?: string;
  system: boolean;
  createdAt: string;
  lastUpdatedAt: string;
  createdBy?: string;
  updatedBy?: string;
}

/** A shared, managed or data space (Spaces API `Space`). Personal spaces are not in the API, so not here. */
export interface SimSpace {
  id: string;
  name: string;
  type: SpaceType;
  /** The owner implicitly holds every assignable role and has no assignment record. */
  ownerId: string;
  description?: string;
  createdAt: string;
  createdBy?: string;
  updatedAt: string;
}

/** One user's or group's roles in one space (Spaces API `Assignment`); at most one per space and assignee. */
export interface SimAssignment {
  id: string;
  spaceId: string;
  type: AssigneeType;
  assigneeId: string;
  /** Space role API names (`consumer`, `facilitator`, ...), never empty. */
  roles: string[];
  createdAt: string;
  createdBy?: string;
  updatedAt: string;
  updatedBy?: string;
}

/** One invitee of POST /users/actions/invite (users.json InviteItem); only email is required. */
export interface SimInviteInput {
  email: string;
  name?: string;
  /** ISO 639-1; 'en' when missing or not one Qlik has. */
  language?: string;
  /** Send the email again to a user who is not yet active. */
  resend?: boolean;
}

/** One item of the invite's 207 answer: users.json ResultItem or InviteErrorItem (code a string there). */
export type SimInviteResult =
  | { email: string; status: 'ok' | 'exists'; subject: string; userId: string }
  | { email: string; status: 'error'; code: '1001' | '1002' | '1003'; title: string; detail: string };

/** What the tenant recorded of one invite item, so tests can tell "invited once" from "resent". */
export interface SimInviteRecord {
  email: string;
  /** The language the email went (or would have gone) out in. */
  language: string;
  resend: boolean;
  /** Tenant clock (ms) when it was processed. */
  at: number;
  status: SimInviteResult['status'];
  /** 'new' (a user was created and emailed), 'resent' (an existing invitee emailed again), or false (no email). */
  sent: 'new' | 'resent' | false;
  userId?: string;
  code?: string;
}

/** Input to SimTenant.addSpace: the rest (id, timestamps) gets realistic defaults. */
export interface SimSpaceInput {
  name: string;
  type: SpaceType;
  ownerId: string;
  description?: string;
  id?: string;
  createdAt?: string;
  createdBy?: string;
}

/** Input to SimTenant.assignSpace. */
export interface SimAssignmentInput {
  type: AssigneeType;
  assigneeId: string;
  roles: readonly string[];
  /** The user making the change (the API key's owner over HTTP). */
  createdBy?: string;
}

/** Input to SimTenant.addRole: only name is required; the rest gets realistic defaults. */
export type SimRoleInput = { name: string } & Partial<Omit<SimRole, 'name'>>;

/**
 * Input to SimTenant.addUser: only name is required. Roles and groups may be given by id (assignedRoleIds,
 * groupIds) or by exact name (roles, groups) for convenient test setup.
 */
export type SimUserInput = { name: string; roles?: string[]; groups?: string[] } & Partial<
  Omit<SimUser, 'name'>
>;

/** Input to SimTenant.addGroup: only name is required; roles may be given by id or by exact name. */
export type SimGroupInput = { name: string; roles?: string[] } & Partial<Omit<SimGroup, 'name'>>;

export interface RateLimitOptions {
  /** Tier 1 (GETs) requests per window; default 1000. */
  tier1PerMinute?: number;
  /** Tier 2 (writes) requests per window; default 100. */
  tier2PerMinute?: number;
  /** Special tier (actions/filter) requests per window; default 200. */
  specialPerMinute?: number;
  /** Window length in ms; default 60_000. */
  windowMs?: number;
}

export interface SimOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: demoTenant(). */
  tenant?: SimTenant;
  /** Bearer key -> userId of the key's owner. Default: one key owned by the tenant's TenantAdmin service user. */
  apiKeys?: Record<string, string>;
  /** Added to every response; default 0. */
  latencyMs?: number;
  /** Default false (off). */
  rateLimits?: RateLimitOptions | false;
}

export type Tier = '1' | '2' | 'special';

export interface LoggedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  status: number;
  /** Date.now() when the request arrived. */
  at: number;
  tier: Tier;
  /** Parsed JSON body of writes and filter actions, when there was one. */
  body?: unknown;
  /** Owner user id of the API key used, when the key was valid. */
  ownerId?: string;
}

export interface FaultSpec {
  /** Case-insensitive HTTP method; any when absent. */
  method?: string;
  /** Tested against the path without the query string; any when absent. */
  path?: RegExp;
  /** HTTP status to answer with (body in Qlik's error shape). Ignored when closeConnection is set. */
  status: number;
  /** How many matching requests get the fault; default 1. Use Infinity for "until cleared". */
  times?: number;
  /** Sets a Retry-After header (seconds). */
  retryAfterSec?: number;
  /** Destroy the socket without answering. */
  closeConnection?: boolean;
  /**
   * Each matching request gets the fault with this chance (0–1), drawn from a generator seeded with `seed`
   * (default 1), so a run is repeatable: "30 % of writes fail". `times` still bounds how many get it.
   */
  probability?: number;
  seed?: number;
}

export interface SimCounts {
  total: number;
  byTier: Record<string, number>;
  rateLimited: number;
}

export interface QlikSimulator {
  /** e.g. http://127.0.0.1:41234 (no trailing slash): the "tenant URL". */
  url: string;
  /** An API key of a TenantAdmin user. */
  apiKey: string;
  tenant: SimTenant;
  /** Every request answered (or dropped), in arrival order. */
  requests: LoggedRequest[];
  setLatency(ms: number): void;
  setRateLimits(opts: RateLimitOptions | false): void;
  /** Registers an API key (bearer -> owner user id). */
  addApiKey(key: string, ownerUserId: string): void;
  /** The next matching requests answer this status (Qlik error shape) or drop the socket. */
  injectFault(f: FaultSpec): void;
  clearFaults(): void;
  counts(): SimCounts;
  /** Empties the request log and counters (rate-limit windows are kept). */
  resetLog(): void;
  close(): Promise<void>;
}
