// Types of the Mode workspace simulator: the records ModeWorkspace keeps, the options of startModeSimulator and
// the handle it returns (request log, faults, latency). Field names follow Mode's API where a record is rendered.

import type { ModeWorkspace } from './workspace.ts';

/** Mode documents no values for a membership's `state`; these are the ones the simulator knows (see README). */
export type MemberState = 'active' | 'deactivated' | 'banned';
export type GroupState = 'active' | 'soft_deleted';
export type CollectionAccessLevel = 'restricted' | 'view' | 'edit';
export type AccessorType = 'Account' | 'UserGroup';
export type PermissionAction = 'view' | 'edit';

export interface ModeMemberInput {
  /** Lowercase Mode username (the `/api/{username}` slug); unique in the workspace. */
  username: string;
  email?: string;
  name?: string;
  admin?: boolean;
  state?: MemberState;
  /** An invitation not accepted yet: `invited: true` and `activated_at: null`. */
  invited?: boolean;
  managedByScim?: boolean;
}

export interface ModeMember {
  /** The user's token; memberships name it as `member_token` and permissions as `accessor_token`. */
  memberToken: string;
  /** The membership's own token: the last segment of its `_links.self.href` (memberships have no token field). */
  membershipToken: string;
  username: string;
  name: string;
  email: string | undefined;
  admin: boolean;
  state: MemberState;
  invited: boolean;
  managedByScim: boolean;
  /** ms since the epoch, or undefined while invited. */
  activatedAt: number | undefined;
  createdAt: number;
}

export interface ModeGroupInput {
  name: string;
  /** Owned by the identity provider (SCIM); rendered as the string "true"/"false" like Mode does. */
  managed?: boolean;
  state?: GroupState;
  description?: string;
}

export interface ModeGroup {
  token: string;
  name: string;
  description: string;
  managed: boolean;
  state: GroupState;
  createdAt: number;
}

export interface ModeGroupMembership {
  token: string;
  groupToken: string;
  memberToken: string;
  /** Who added the row (a member token), or undefined when the API key (or the seed) did. */
  creatorToken: string | undefined;
  createdAt: number;
}

export interface ModeCollectionInput {
  name: string;
  description?: string;
  defaultAccessLevel?: CollectionAccessLevel;
}

export interface ModeCollection {
  token: string;
  name: string;
  description: string;
  defaultAccessLevel: CollectionAccessLevel;
  /** Deleted collections stay readable as 403 for a while (observed by the Terraform provider). */
  deleted: boolean;
  createdAt: number;
}

export interface ModePermissionInput {
  accessorType: AccessorType;
  /** The member_token for Account, the group token for UserGroup. */
  accessorToken: string;
  action: PermissionAction;
}

export interface ModePermission extends ModePermissionInput {
  token: string;
  collectionToken: string;
  createdAt: number;
  updatedAt: number;
}

export interface ModeLoggedRequest {
  method: string;
  /** Path without the query string, e.g. /api/acme/groups. */
  path: string;
  query: Record<string, string>;
  /** 0 when the connection was dropped by a fault. */
  status: number;
  /** The workspace clock (ms) when the request arrived. */
  at: number;
  /** Parsed JSON body of writes, when there was one. */
  body?: unknown;
}

export interface ModeFaultSpec {
  /** Case-insensitive; any method when absent. */
  method?: string;
  /** Tested against the path without the query string; any path when absent. */
  path?: RegExp;
  status: number;
  /** How many matching requests get the fault; default 1. Infinity for "until cleared". */
  times?: number;
  /** The body to answer with instead of `{id, message}` (e.g. a Rails-style 422 or an id that disagrees). */
  body?: unknown;
  /** Drop the socket without answering (status ignored). */
  closeConnection?: boolean;
}

export interface ModeRateLimit {
  /** Leaky bucket: this many requests fit, and the bucket drains at this rate per minute. */
  perMinute: number;
}

export interface ModeSimOptions {
  /** Default: demoModeWorkspace(). */
  workspace?: ModeWorkspace;
  /** Added before every answer; default 0. */
  latencyMs?: number;
  /** per_page is clamped to this silently, as Mode does (default 30). */
  perPageMax?: number;
  /** Off by default. Uses the workspace clock, so a fake `now` drains the bucket. */
  rateLimit?: ModeRateLimit;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: random 12-character token and a random secret. */
  token?: string;
  secret?: string;
}

export interface ModeSimulator {
  /** Base URL ending in /api, like https://app.mode.com/api. */
  url: string;
  /** The Workspace API token (Basic auth username) and its secret (password). It acts with admin rights. */
  token: string;
  secret: string;
  workspace: ModeWorkspace;
  requests: ModeLoggedRequest[];
  injectFault(f: ModeFaultSpec): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  /** Empties the request log (the rate-limit bucket is kept). */
  resetLog(): void;
  close(): Promise<void>;
}
