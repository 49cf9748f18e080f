// State of one simulated Mode workspace: members (users and their workspace memberships), groups and group
// memberships, collections ("spaces" in the API) and their permissions. Tokens are 12 hex characters like Mode's.
// No HTTP here: server.ts renders this state, tests and seeds change it directly.

import { randomBytes } from 'node:crypto';
import { mulberry32 } from '../qlik-sim/tenant.ts';
import type {
  ModeCollection,
  ModeCollectionInput,
  ModeGroup,
  ModeGroupInput,
  ModeGroupMembership,
  ModeMember,
  ModeMemberInput,
  ModePermission,
  ModePermissionInput,
} from './types.ts';

export type ModeSimErrorKind = 'not-found' | 'invalid' | 'conflict';

/** A refusal of the state itself (unknown token, bad input, duplicate); server.ts turns it into Mode's error body. */
export class ModeSimError extends Error {
  readonly kind: ModeSimErrorKind;
  constructor(kind: ModeSimErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.name = 'ModeSimError';
  }
}

export interface ModeWorkspaceOptions {
  /** The workspace username: the `{ws}` slug of every path. Default 'acme'. */
  username?: string;
  /** Display name of the workspace; default the username with a capital. */
  name?: string;
  /** The clock for timestamps and the rate limit; default Date.now. */
  now?: () => number;
  /** Same seed, same tokens. Default: random tokens. */
  seed?: number;
}

const USERNAME = /^[a-z0-9][a-z0-9_.-]*$/;
/** Paths the API serves at /api/{name}, so no account can take these names. */
const RESERVED_USERNAMES = new Set(['verify', 'account', 'batch']);

export class ModeWorkspace {
  readonly username: string;
  readonly name: string;
  readonly now: () => number;
  private readonly rnd: (() => number) | undefined;
  private readonly usedTokens = new Set<string>();
  private readonly membersByToken = new Map<string, ModeMember>();
  private readonly membersByUsername = new Map<string, ModeMember>();
  private readonly membersByMembership = new Map<string, ModeMember>();
  private readonly groupsByToken = new Map<string, ModeGroup>();
  private readonly gmsByGroup = new Map<string, ModeGroupMembership[]>();
  private readonly collectionsByToken = new Map<string, ModeCollection>();
  private readonly permsByCollection = new Map<string, ModePermission[]>();

  constructor(opts: ModeWorkspaceOptions = {}) {
    this.username = opts.username ?? 'acme';
    if (!USERNAME.test(this.username)) {
      throw new ModeSimError('invalid', `Workspace username "${this.username}" is not a lowercase slug.`);
    }
    this.name = opts.name ?? this.username.charAt(0).toUpperCase() + this.username.slice(1);
    this.now = opts.now ?? Date.now;
    this.rnd = opts.seed === undefined ? undefined : mulberry32(opts.seed);
  }

  /** A fresh 12-character lowercase hex token, unique across every kind of record. */
  newToken(): string {
    for (;;) {
      const t = this.rnd
        ? Array.from({ length: 12 }, () => Math.floor(this.rnd!() * 16).toString(16)).join('')
        : randomBytes(6).toString('hex');
      if (!this.usedTokens.has(t)) {
        this.usedTokens.add(t);
        return t;
      }
    }
  }

  // ------------------------------------------------------------ members

  addMember(input: ModeMemberInput): { memberToken: string; username: string; membershipToken: string } {
    const username = input.username;
    if (!USERNAME.test(username)) {
      throw new ModeSimError('invalid', `Username "${username}" must be a lowercase slug.`);
    }
    // Workspaces and users share one namespace (both are accounts at /api/{username}).
    if (
      username === this.username ||
      RESERVED_USERNAMES.has(username) ||
      this.membersByUsername.has(username)
    ) {
      throw new ModeSimError('conflict', `Username "${username}" is taken.`);
    }
    const at = this.now();
    const invited = input.invited ?? false;
    const m: ModeMember = {
      memberToken: this.newToken(),
      membershipToken: this.newToken(),
      username,
      name: input.name ?? username,
      email: input.email,
      admin: input.admin ?? false,
      state: input.state ?? 'active',
      invited,
      managedByScim: input.managedByScim ?? false,
      activatedAt: invited ? undefined : at,
      createdAt: at,
    };
    this.membersByToken.set(m.memberToken, m);
    this.membersByUsername.set(username, m);
    this.membersByMembership.set(m.membershipToken, m);
    return { memberToken: m.memberToken, username, membershipToken: m.membershipToken };
  }

  /** Members in the order they joined. */
  members(): ModeMember[] {
    return [...this.membersByToken.values()];
  }

  member(memberToken: string): ModeMember | undefined {
    return this.membersByToken.get(memberToken);
  }

  memberByUsername(username: string): ModeMember | undefined {
    return this.membersByUsername.get(username);
  }

  memberByMembershipToken(membershipToken: string): ModeMember | undefined {
    return this.membersByMembership.get(membershipToken);
  }

  /** Case-insensitive; the first member with that address (Mode does not promise unique emails to the API). */
  memberByEmail(email: string): ModeMember | undefined {
    const want = email.trim().toLowerCase();
    for (const m of this.membersByToken.values()) if (m.email?.toLowerCase() === want) return m;
    return undefined;
  }

  setMemberState(memberToken: string, state: ModeMember['state']): void {
    this.requireMember(memberToken).state = state;
  }

  setMemberEmail(memberToken: string, email: string | undefined): void {
    this.requireMember(memberToken).email = email;
  }

  /** Takes someone out of the workspace: their membership, group memberships and Account permissions go too. */
  removeMember(memberToken: string): void {
    const m = this.requireMember(memberToken);
    this.membersByToken.delete(m.memberToken);
    this.membersByUsername.delete(m.username);
    this.membersByMembership.delete(m.membershipToken);
    for (const [g, rows] of this.gmsByGroup) {
      this.gmsByGroup.set(
        g,
        rows.filter((r) => r.memberToken !== memberToken),
      );
    }
    for (const [c, perms] of this.permsByCollection) {
      this.permsByCollection.set(
        c,
        perms.filter((p) => !(p.accessorType === 'Account' && p.accessorToken === memberToken)),
      );
    }
  }

  private requireMember(memberToken: string): ModeMember {
    const m = this.membersByToken.get(memberToken);
    if (!m) throw new ModeSimError('not-found', `No member with token ${memberToken}.`);
    return m;
  }

  // ------------------------------------------------------------ groups

  addGroup(input: ModeGroupInput): { token: string } {
    const name = input.name.trim();
    if (name === '') throw new ModeSimError('invalid', 'A group needs a name.');
    if (this.groupByName(name)) throw new ModeSimError('conflict', `A group named "${name}" exists.`);
    const g: ModeGroup = {
      token: this.newToken(),
      name,
      description: input.description ?? '',
      managed: input.managed ?? false,
      state: input.state ?? 'active',
      createdAt: this.now(),
    };
    this.groupsByToken.set(g.token, g);
    this.gmsByGroup.set(g.token, []);
    return { token: g.token };
  }

  /** Every group, soft-deleted ones too (the API lists them with their state), in creation order. */
  groups(): ModeGroup[] {
    return [...this.groupsByToken.values()];
  }

  group(token: string): ModeGroup | undefined {
    return this.groupsByToken.get(token);
  }

  /** Exact name, soft-deleted groups included (a deleted group keeps its name until renamed). */
  groupByName(name: string): ModeGroup | undefined {
    for (const g of this.groupsByToken.values()) if (g.name === name) return g;
    return undefined;
  }

  /** Mode's delete is soft: the group keeps answering, with state "soft_deleted", and keeps its rows. */
  softDeleteGroup(token: string): void {
    this.requireGroup(token).state = 'soft_deleted';
  }

  /**
   * Adds a membership row. Mode does not document adding someone who is already in the group; the simulator
   * answers with a second row (a new token) so a bot that does not check first is caught by the duplicate.
   */
  addToGroup(groupToken: string, memberToken: string, creatorToken?: string): string {
    this.requireGroup(groupToken);
    this.requireMember(memberToken);
    const row: ModeGroupMembership = {
      token: this.newToken(),
      groupToken,
      memberToken,
      creatorToken,
      createdAt: this.now(),
    };
    this.gmsByGroup.get(groupToken)!.push(row);
    return row.token;
  }

  /** False when the group has no row with that token. */
  removeFromGroup(groupToken: string, gmToken: string): boolean {
    const rows = this.gmsByGroup.get(groupToken);
    const i = rows?.findIndex((r) => r.token === gmToken) ?? -1;
    if (!rows || i < 0) return false;
    rows.splice(i, 1);
    return true;
  }

  /** The group's rows in the order they were added (duplicates included). */
  groupMemberships(groupToken: string): ModeGroupMembership[] {
    return [...(this.gmsByGroup.get(groupToken) ?? [])];
  }

  groupMembership(groupToken: string, gmToken: string): ModeGroupMembership | undefined {
    return this.gmsByGroup.get(groupToken)?.find((r) => r.token === gmToken);
  }

  /** The distinct member tokens in the group. */
  groupMemberTokens(groupToken: string): string[] {
    return [...new Set(this.groupMemberships(groupToken).map((r) => r.memberToken))];
  }

  /** The groups a member is in (distinct, creation order). */
  groupsOfMember(memberToken: string): ModeGroup[] {
    return this.groups().filter((g) =>
      this.gmsByGroup.get(g.token)!.some((r) => r.memberToken === memberToken),
    );
  }

  private requireGroup(token: string): ModeGroup {
    const g = this.groupsByToken.get(token);
    if (!g) throw new ModeSimError('not-found', `No group with token ${token}.`);
    return g;
  }

  // ------------------------------------------------------------ collections and permissions

  addCollection(input: ModeCollectionInput): { token: string } {
    const name = input.name.trim();
    if (name === '') throw new ModeSimError('invalid', 'A collection needs a name.');
    const c: ModeCollection = {
      token: this.newToken(),
      name,
      description: input.description ?? '',
      defaultAccessLevel: input.defaultAccessLevel ?? 'restricted',
      deleted: false,
      createdAt: this.now(),
    };
    this.collectionsByToken.set(c.token, c);
    this.permsByCollection.set(c.token, []);
    return { token: c.token };
  }

  /** Live collections in creation order (deleted ones are left out). */
  collections(): ModeCollection[] {
    return [...this.collectionsByToken.values()].filter((c) => !c.deleted);
  }

  /** Deleted collections too (the server answers 403 for them). */
  collection(token: string): ModeCollection | undefined {
    return this.collectionsByToken.get(token);
  }

  /** Exact name, live collections only; the first when names repeat (Mode does not make them unique). */
  collectionByName(name: string): ModeCollection | undefined {
    return this.collections().find((c) => c.name === name);
  }

  setDefaultAccessLevel(token: string, level: ModeCollection['defaultAccessLevel']): void {
    this.requireCollection(token).defaultAccessLevel = level;
  }

  deleteCollection(token: string): void {
    this.requireCollection(token).deleted = true;
  }

  /**
   * Gives an accessor a permission. One permission per accessor per collection: a second one is refused as a
   * conflict (the server answers 400), so a bot must read the list and PATCH instead.
   */
  setPermission(collectionToken: string, input: ModePermissionInput): string {
    const perms = this.livePerms(collectionToken);
    if (input.action !== 'view' && input.action !== 'edit') {
      throw new ModeSimError('invalid', `Action must be view or edit, got "${String(input.action)}".`);
    }
    if (input.accessorType === 'Account') {
      if (!this.membersByToken.has(input.accessorToken)) {
        throw new ModeSimError('invalid', `No member with token ${input.accessorToken}.`);
      }
    } else if (input.accessorType === 'UserGroup') {
      const g = this.groupsByToken.get(input.accessorToken);
      if (!g || g.state === 'soft_deleted') {
        throw new ModeSimError('invalid', `No group with token ${input.accessorToken}.`);
      }
    } else {
      throw new ModeSimError(
        'invalid',
        `Accessor type must be Account or UserGroup, got "${String(input.accessorType)}".`,
      );
    }
    if (perms.some((p) => p.accessorType === input.accessorType && p.accessorToken === input.accessorToken)) {
      throw new ModeSimError('conflict', 'Accessor already has a permission on this collection.');
    }
    const at = this.now();
    const p: ModePermission = {
      token: this.newToken(),
      collectionToken,
      accessorType: input.accessorType,
      accessorToken: input.accessorToken,
      action: input.action,
      createdAt: at,
      updatedAt: at,
    };
    perms.push(p);
    return p.token;
  }

  permissionsOf(collectionToken: string): ModePermission[] {
    return [...(this.permsByCollection.get(collectionToken) ?? [])];
  }

  permission(collectionToken: string, permissionToken: string): ModePermission | undefined {
    return this.permsByCollection.get(collectionToken)?.find((p) => p.token === permissionToken);
  }

  updatePermission(collectionToken: string, permissionToken: string, action: ModePermission['action']): void {
    if (action !== 'view' && action !== 'edit') {
      throw new ModeSimError('invalid', `Action must be view or edit, got "${String(action)}".`);
    }
    const p = this.livePerms(collectionToken).find((x) => x.token === permissionToken);
    if (!p) throw new ModeSimError('not-found', `No permission ${permissionToken}.`);
    p.action = action;
    p.updatedAt = this.now();
  }

  /** False when there was no such permission. */
  deletePermission(collectionToken: string, permissionToken: string): boolean {
    const perms = this.permsByCollection.get(collectionToken);
    const i = perms?.findIndex((p) => p.token === permissionToken) ?? -1;
    if (!perms || i < 0) return false;
    perms.splice(i, 1);
    return true;
  }

  private requireCollection(token: string): ModeCollection {
    const c = this.collectionsByToken.get(token);
    if (!c || c.deleted) throw new ModeSimError('not-found', `No collection with token ${token}.`);
    return c;
  }

  private livePerms(collectionToken: string): ModePermission[] {
    this.requireCollection(collectionToken);
    return this.permsByCollection.get(collectionToken)!;
  }
}
