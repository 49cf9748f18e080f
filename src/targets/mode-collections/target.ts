// Owns Mode Collection permissions as an access target: a workspace member's (accessor `Account`, their
// member_token) or a group's (accessor `UserGroup`, its token) DIRECT permission, `view` or `edit`, in one
// Collection of the one configured workspace (the API calls Collections spaces). A change lists the Collection's
// permissions fresh → POST one, PATCH its action or DELETE it → reads back to verify; the caller's
// per-(Collection, accessor) lock keeps two changes from interleaving. What members get through their groups is
// read, never written.
import { describeTarget, type ResourceRef } from '../../domain/request.ts';
import {
  type AccessorType,
  collectAll,
  isSoftDeleted,
  type ModeClient,
  type ModeCollection,
  type ModeGroup,
  type ModePermission,
  type ModePerson,
  type PermissionAction,
} from '../../mode/index.ts';
import { closestRoleNames } from '../../qlik/index.ts';
import { DriftError } from '../errors.ts';
import {
  classifyModeError,
  describeModeError,
  isGoneState,
  isModeNotFound,
  memberGone,
  resourceGone,
} from '../mode-groups/failures.ts';
import { GroupLookup } from '../mode-groups/group-lookup.ts';
import type { PeopleLookup } from '../mode-groups/target.ts';
import { applyOutcome } from '../qlik-roles/role-list.ts';
import type {
  AccessChange,
  AccessTarget,
  AppliedChange,
  ApplyOptions,
  EndedGrant,
  EndOptions,
  Entitlement,
  EntitlementQuery,
  EntitlementRef,
  EntitlementResult,
  ErrorAction,
  ErrorSubject,
  Holder,
  HoldersSummary,
  Holdings,
  HoldingsAcross,
  PrincipalQuery,
  PrincipalRef,
  PrincipalResult,
  ResourceInfo,
  ResourceMember,
  ResourceMembers,
} from '../types.ts';
import {
  type CurrentPermission,
  isAsAsked,
  type PermissionWrite,
  planPermission,
} from './permission-plan.ts';
import { MODE_COLLECTIONS_WORDS } from './words.ts';

export const MODE_COLLECTIONS_KIND = 'mode-collections';

/** What this target's resources are called, as a front's `collection:"…"` names them. */
export const COLLECTION_RESOURCE = 'collection';

/** The two actions Mode offers on a Collection, weakest first. */
export const COLLECTION_ACTIONS: readonly PermissionAction[] = ['view', 'edit'];

/** The Mode calls this target makes. */
export type ModeCollectionsApi = Pick<
  ModeClient,
  | 'groups'
  | 'group'
  | 'groupMemberships'
  | 'collections'
  | 'collection'
  | 'permissions'
  | 'createPermission'
  | 'updatePermission'
  | 'deletePermission'
>;

export interface ModeCollectionsTargetOptions {
  instance: string;
  mode: ModeCollectionsApi;
  people: PeopleLookup;
  /** How long the Collection and group lists (names, suggestions) are remembered; default 10 s. */
  cacheTtlMs?: number;
  now?: () => number;
}

const SUMMARY_LISTED = 20;
const SUMMARY_GROUPS = 100;
const HOLDERS_BATCH = 100;
const ACROSS_PARALLEL = 8;

interface HoldersResume {
  kind: 'mode-collections-holders';
  collection: string;
  action: string;
  tokens: string[];
}

export class ModeCollectionsTarget implements AccessTarget {
  readonly kind = MODE_COLLECTIONS_KIND;
  readonly instance: string;
  readonly words = MODE_COLLECTIONS_WORDS;
  readonly resourceKind = COLLECTION_RESOURCE;
  readonly #mode: ModeCollectionsApi;
  readonly #people: PeopleLookup;
  readonly #groups: GroupLookup;
  readonly #ttl: number;
  readonly #now: () => number;
  #collections: { at: number; value: Promise<ModeCollection[]> } | undefined;

  constructor(opts: ModeCollectionsTargetOptions) {
    this.instance = opts.instance;
    this.#mode = opts.mode;
    this.#people = opts.people;
    this.#ttl = opts.cacheTtlMs ?? 10_000;
    this.#now = opts.now ?? Date.now;
    this.#groups = new GroupLookup(opts.mode, { ttlMs: this.#ttl, now: this.#now });
  }

  /** A member by email or a group by name. Holdings are per Collection, and none is named yet: left empty. */
  async resolvePrincipal(query: PrincipalQuery): Promise<PrincipalResult> {
    if (query.kind === 'group') {
      const found = await this.#groups.byName(query.name);
      if (!found.ok) return { ok: false, code: 'no-such-group', name: query.name };
      return { ok: true, principal: groupPrincipal(found.group), holdings: { direct: [], inherited: [] } };
    }
    const live = (await this.#people.byEmail(query.email)).filter((p) => !isGoneState(p.state));
    if (live.length === 0) return { ok: false, code: 'no-such-user', email: query.email };
    if (live.length > 1) return { ok: false, code: 'several-users', email: query.email, count: live.length };
    const p = live[0]!;
    return {
      ok: true,
      principal: personRef(p, query.fallbackName ?? query.email),
      ...(p.state ? { status: p.state } : {}),
      holdings: { direct: [], inherited: [] },
    };
  }

  async resolveEntitlement(query: EntitlementQuery): Promise<EntitlementResult> {
    const asked = query.resource;
    if (asked === undefined)
      return { ok: false, code: 'resource-required', resourceKind: COLLECTION_RESOURCE };
    const found = await this.resolveResource(asked);
    if (!found.ok) return found;
    const resource = refOf(found.resource);
    const action = matchAction(query.name);
    if (action) return { ok: true, entitlement: { id: action, name: action, resource } };
    const suggestions = closestRoleNames(query.name, COLLECTION_ACTIONS);
    if (suggestions.length > 0) return { ok: false, code: 'not-found', suggestions };
    return { ok: false, code: 'not-offered', resource, asked: query.name, offered: [...COLLECTION_ACTIONS] };
  }

  async listEntitlements(opts: { refresh?: boolean; resource?: ResourceRef } = {}): Promise<Entitlement[]> {
    const resource = opts.resource;
    return COLLECTION_ACTIONS.map((a) => ({
      id: a,
      name: a,
      ...(resource ? { resource } : {}),
      description:
        a === 'view' ? 'Can view the Collection and its reports' : 'Can edit the Collection and its reports',
    }));
  }

  async readHoldings(principal: PrincipalRef, resource?: ResourceRef): Promise<Holdings> {
    const c = requireCollection(resource);
    const perms = await this.#freshPermissions(c);
    const own = mine(perms, principal);
    const inherited: Holdings['inherited'] = [];
    if (principal.kind === 'user') {
      for (const { group, permission } of await this.#viaGroups(perms, principal.id))
        inherited.push({ via: group.name, entitlements: [entitlementRef(permission.action, c)] });
    }
    return { direct: own ? [entitlementRef(own.action, c)] : [], inherited };
  }

  /** One permission per (Collection, accessor): every change to it takes the same lock. */
  lockKey(change: AccessChange): string {
    const c = requireCollection(change.entitlement.resource);
    return `collection:${c.id}:${change.principal.kind}:${change.principal.id}`;
  }

  async applyChange(change: AccessChange, opts: ApplyOptions): Promise<AppliedChange> {
    const { principal, action } = change;
    const c = requireCollection(change.entitlement.resource);
    const asked = requireAction(change.entitlement.id);
    const plan = planPermission(current(mine(await this.#freshPermissions(c), principal)), action, asked);
    let after = plan.before;
    let wrote = false;
    if (plan.write.op !== 'none') {
      // A principal Mode no longer has gets a message naming it, not a permission for nobody.
      if (plan.write.op === 'create') await this.#requirePrincipal(principal);
      await opts.beforeWrite({ before: plan.before, after: plan.after });
      opts.signal.throwIfAborted(); // the lock expired under us: another worker may be writing
      wrote = await this.#write(c, principal, plan.write);
      const fresh = current(mine(await collectAll(this.#mode.permissions(c.id)), principal));
      if (!isAsAsked(fresh, action, asked)) throw drift(principal, c, asked, action);
      after = fresh ? [fresh.action] : [];
    }
    const { before, changed } = applyOutcome({
      wroteNow: wrote,
      beforeNow: plan.before,
      action,
      roleName: asked,
      ...(opts.earlier ? { snapshot: opts.earlier } : {}),
    });
    return { before, after, changed };
  }

  /**
   * Removes the permission the grant gave, only while it is still the action granted: an action someone changed
   * since is theirs, and stays (reported as gone, with what was found).
   */
  async endGrant(grant: AccessChange, opts: EndOptions): Promise<EndedGrant> {
    const { principal } = grant;
    const c = requireCollection(grant.entitlement.resource);
    const asked = requireAction(grant.entitlement.id);
    if (await this.#principalGone(principal)) return { outcome: 'principal-gone' };
    let perms: ModePermission[];
    try {
      perms = await collectAll(this.#mode.permissions(c.id));
    } catch (err) {
      // The Collection is gone, and every permission in it: nothing is left to remove.
      if (isModeNotFound(err)) return gone(opts.earlier, asked, []);
      throw err;
    }
    // An edit given over a view ends by putting the view back.
    const restore = asked === 'edit' && opts.grantedOver?.includes('view') ? 'view' : undefined;
    const plan = planPermission(current(mine(perms, principal)), 'revoke', asked, restore);
    if (plan.write.op === 'none') return gone(opts.earlier, asked, plan.before);
    await opts.beforeWrite(plan.before);
    opts.signal.throwIfAborted(); // the lock expired under us: another worker may be writing
    await this.#write(c, principal, plan.write);
    const fresh = current(mine(await collectAll(this.#mode.permissions(c.id)), principal));
    if (!isAsAsked(fresh, 'revoke', asked)) throw drift(principal, c, asked, 'revoke');
    return { outcome: 'removed', before: plan.before, after: fresh ? [fresh.action] : [] };
  }

  async includesPerson(principal: PrincipalRef, email: string): Promise<boolean> {
    const people = (await this.#people.byEmail(email)).filter((p) => !isGoneState(p.state));
    if (principal.kind === 'user') return people.some((p) => p.memberToken === principal.id);
    if (people.length === 0) return false;
    const tokens = new Set(people.map((p) => p.memberToken));
    for await (const gm of this.#mode.groupMemberships(principal.id))
      if (tokens.has(gm.memberToken)) return true;
    return false;
  }

  /**
   * Who holds the action in the Collection: members with their own permission, the groups with it, and the
   * members who get it only through those groups; "everyone" when the Collection's default access gives it.
   */
  async holdersSummary(entitlement: EntitlementRef): Promise<HoldersSummary> {
    const c = requireCollection(entitlement.resource);
    const [info, perms] = await Promise.all([this.#freshCollection(c), this.#freshPermissions(c)]);
    const resume = holdersOf(c.id, perms, entitlement.id);
    const groupTokens = perms
      .filter((p) => p.accessorType === 'UserGroup' && p.action === entitlement.id)
      .map((p) => p.accessorToken);
    const [first, groups, viaGroups] = await Promise.all([
      this.#holders(resume.tokens.slice(0, SUMMARY_LISTED)),
      this.#groupsByToken(groupTokens),
      this.#membersOf(groupTokens),
    ]);
    const direct = new Set(resume.tokens);
    return {
      direct: { total: resume.tokens.length, first },
      inherited: { total: [...viaGroups].filter((t) => !direct.has(t)).length },
      groups: {
        total: groupTokens.length,
        first: groupTokens.slice(0, SUMMARY_GROUPS).map((t) => ({ name: groups.get(t)?.name ?? t })),
      },
      heldByEveryone: defaultGives(info.defaultAccessLevel, entitlement.id),
      resume,
    };
  }

  async *holders(entitlement: EntitlementRef, resume?: unknown): AsyncIterable<Holder> {
    const c = requireCollection(entitlement.resource);
    const from = isHoldersResume(resume, c.id, entitlement.id)
      ? resume
      : holdersOf(c.id, await this.#freshPermissions(c), entitlement.id);
    for (let i = 0; i < from.tokens.length; i += HOLDERS_BATCH)
      yield* await this.#holders(from.tokens.slice(i, i + HOLDERS_BATCH));
  }

  /** The Collection a person named: exactly, else the one matching in another case; several are ambiguous. */
  async resolveResource(query: {
    kind: string;
    name: string;
  }): ReturnType<NonNullable<AccessTarget['resolveResource']>> {
    if (query.kind.trim().toLowerCase() !== COLLECTION_RESOURCE)
      return { ok: false, code: 'resource-unsupported', resourceKind: query.kind };
    const wanted = query.name.trim();
    const pick = (all: ModeCollection[]) => {
      const exact = all.filter((c) => c.name === wanted);
      return exact.length > 0 ? exact : all.filter((c) => c.name.toLowerCase() === wanted.toLowerCase());
    };
    let all = await this.#allCollections();
    let matches = pick(all);
    // A Collection made seconds ago is not in the remembered list yet.
    if (matches.length === 0 && wanted !== '') {
      all = await this.#allCollections({ refresh: true });
      matches = pick(all);
    }
    if (matches.length === 1) return { ok: true, resource: infoOf(matches[0]!) };
    const base = { resourceKind: COLLECTION_RESOURCE, name: query.name };
    if (matches.length > 1) return { ok: false, code: 'ambiguous-resource', ...base, count: matches.length };
    const suggestions = closestRoleNames(
      wanted,
      all.map((c) => c.name),
    );
    return { ok: false, code: 'no-such-resource', ...base, suggestions };
  }

  async listResources(
    text: string | undefined,
    limit: number,
  ): Promise<{ resources: ResourceInfo[]; total: number }> {
    const q = text?.trim() ?? '';
    const matching = (await this.#allCollections()).filter((c) =>
      c.name.toLowerCase().includes(q.toLowerCase()),
    );
    const ranked = matching
      .sort((a, b) => rank(a.name, q) - rank(b.name, q) || a.name.localeCompare(b.name))
      .slice(0, Math.max(0, limit));
    return { resources: ranked.map(infoOf), total: matching.length };
  }

  async resourceMembers(resource: ResourceRef, limit: number): Promise<ResourceMembers> {
    const c = requireCollection(resource);
    const [info, perms] = await Promise.all([this.#freshCollection(c), this.#freshPermissions(c)]);
    const users = perms.filter((p) => p.accessorType === 'Account');
    const groups = perms.filter((p) => p.accessorType === 'UserGroup');
    const shownUsers = users.slice(0, Math.max(0, limit));
    const shownGroups = groups.slice(0, Math.max(0, limit));
    const [people, named] = await Promise.all([
      this.#people.many(shownUsers.map((p) => p.accessorToken)),
      this.#groupsByToken(shownGroups.map((p) => p.accessorToken)),
    ]);
    return {
      resource: infoOf(info),
      users: {
        total: users.length,
        first: shownUsers.map(
          (p): ResourceMember => ({
            principal: personOrToken(p.accessorToken, people.get(p.accessorToken)),
            entitlements: [p.action],
          }),
        ),
      },
      groups: {
        total: groups.length,
        first: shownGroups.map((p) => ({
          principal: {
            kind: 'group',
            id: p.accessorToken,
            name: named.get(p.accessorToken)?.name ?? p.accessorToken,
          },
          entitlements: [p.action],
        })),
      },
    };
  }

  /**
   * What the principal holds in each Collection: for a member, first which groups they are in (one read for the
   * groups, one per group), then one read per Collection. Stops before a read that would pass `maxReads`.
   */
  async holdingsAcross(principal: PrincipalRef, opts: { maxReads: number }): Promise<HoldingsAcross> {
    let reads = 0;
    const budget = Math.max(0, opts.maxReads);
    const spend = (n: number) => {
      if (reads + n > budget) return false;
      reads += n;
      return true;
    };
    const held: HoldingsAcross['held'] = [];
    if (!spend(1)) return { held, checked: 0, total: 0, partial: true };
    const collections = await this.#allCollections({ refresh: true });
    let myGroups = new Map<string, string>();
    if (principal.kind === 'user') {
      if (!spend(1)) return { held, checked: 0, total: collections.length, partial: true };
      const groups = await this.#groups.all({ refresh: true });
      if (!spend(groups.length)) return { held, checked: 0, total: collections.length, partial: true };
      myGroups = await this.#groupsOfMember(groups, principal.id);
    }
    let checked = 0;
    const queue = [...collections];
    const worker = async () => {
      for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
        if (!spend(1)) return;
        const perms = await collectAll(this.#mode.permissions(c.token)).catch((err: unknown) => {
          // A Collection deleted since the list was read holds nothing.
          if (isModeNotFound(err)) return [] as ModePermission[];
          throw err;
        });
        const ref = refOf(infoOf(c));
        const own = mine(perms, principal);
        if (own) held.push({ resource: ref, entitlements: [own.action] });
        for (const p of perms) {
          const via = p.accessorType === 'UserGroup' ? myGroups.get(p.accessorToken) : undefined;
          if (via !== undefined) held.push({ resource: ref, entitlements: [p.action], via });
        }
        checked++;
      }
    };
    await Promise.all(Array.from({ length: ACROSS_PARALLEL }, worker));
    return { held, checked, total: collections.length, partial: checked < collections.length };
  }

  classifyError(err: unknown, subject: ErrorSubject, random?: () => number): ErrorAction | undefined {
    return classifyModeError(err, subject, random);
  }

  describeError(err: unknown): string | undefined {
    return describeModeError(err);
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  #allCollections(opts: { refresh?: boolean } = {}): Promise<ModeCollection[]> {
    const hit = this.#collections;
    if (!opts.refresh && hit && this.#now() - hit.at < this.#ttl) return hit.value;
    const value = collectAll(this.#mode.collections());
    const entry = { at: this.#now(), value };
    this.#collections = entry;
    value.catch(() => {
      if (this.#collections === entry) this.#collections = undefined;
    });
    return value;
  }

  /** The Collection read now; a 404 (or a soft delete) says it is gone, by the name it was asked by. */
  async #freshCollection(c: ResourceRef): Promise<ModeCollection> {
    try {
      const info = await this.#mode.collection(c.id);
      if (isSoftDeleted(info.state)) throw resourceGone(`Collection ${c.name}`);
      return info;
    } catch (err) {
      if (isModeNotFound(err)) throw resourceGone(`Collection ${c.name}`);
      throw err;
    }
  }

  async #freshPermissions(c: ResourceRef): Promise<ModePermission[]> {
    try {
      return await collectAll(this.#mode.permissions(c.id));
    } catch (err) {
      if (isModeNotFound(err)) throw resourceGone(`Collection ${c.name}`);
      throw err;
    }
  }

  /** The one write the plan needs; false when a permission someone else made already said what was asked. */
  async #write(c: ResourceRef, principal: PrincipalRef, write: PermissionWrite): Promise<boolean> {
    switch (write.op) {
      case 'none':
        return false;
      case 'create':
        try {
          await this.#mode.createPermission(c.id, {
            action: write.action,
            accessorType: accessorOf(principal),
            accessorToken: principal.id,
          });
          return true;
        } catch (err) {
          // Not retried blindly: a permission that appeared meanwhile with this action means it is done.
          const now = mine(await collectAll(this.#mode.permissions(c.id)), principal);
          if (now?.action === write.action) return false;
          throw err;
        }
      case 'update':
        await this.#mode.updatePermission(c.id, write.token, write.action);
        return true;
      case 'delete':
        await this.#mode.deletePermission(c.id, write.token);
        return true;
    }
  }

  async #requirePrincipal(principal: PrincipalRef): Promise<void> {
    if (await this.#principalGone(principal))
      throw principal.kind === 'user'
        ? memberGone(describeTarget(principal))
        : resourceGone(`group ${principal.name}`);
  }

  async #principalGone(principal: PrincipalRef): Promise<boolean> {
    if (principal.kind === 'user') {
      const p = await this.#people.fresh(principal.id);
      return p === undefined || isGoneState(p.state);
    }
    try {
      return isSoftDeleted((await this.#mode.group(principal.id)).state);
    } catch (err) {
      if (isModeNotFound(err)) return true;
      throw err;
    }
  }

  /** The groups with a permission here that the member is in, each with its permission. */
  async #viaGroups(
    perms: readonly ModePermission[],
    memberToken: string,
  ): Promise<{ group: ModeGroup; permission: ModePermission }[]> {
    const byGroup = perms.filter((p) => p.accessorType === 'UserGroup');
    if (byGroup.length === 0) return [];
    const groups = await this.#groupsByToken(byGroup.map((p) => p.accessorToken));
    const mineOf = await this.#groupsOfMember([...groups.values()], memberToken);
    return byGroup.flatMap((p) => {
      const g = groups.get(p.accessorToken);
      return g && mineOf.has(g.token) ? [{ group: g, permission: p }] : [];
    });
  }

  /** Of `groups`, the ones the member is in, by token → name (one read per group). */
  async #groupsOfMember(groups: readonly ModeGroup[], memberToken: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const queue = [...groups];
    const worker = async () => {
      for (let g = queue.shift(); g !== undefined; g = queue.shift()) {
        try {
          for await (const gm of this.#mode.groupMemberships(g.token))
            if (gm.memberToken === memberToken) out.set(g.token, g.name);
        } catch (err) {
          if (!isModeNotFound(err)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: ACROSS_PARALLEL }, worker));
    return out;
  }

  async #groupsByToken(tokens: readonly string[]): Promise<Map<string, ModeGroup>> {
    if (tokens.length === 0) return new Map();
    const wanted = new Set(tokens);
    return new Map((await this.#groups.all()).filter((g) => wanted.has(g.token)).map((g) => [g.token, g]));
  }

  /** Every member of the groups, by member token, each once. */
  async #membersOf(groupTokens: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    await Promise.all(
      [...new Set(groupTokens)].map(async (g) => {
        for await (const gm of this.#mode.groupMemberships(g)) out.add(gm.memberToken);
      }),
    );
    return out;
  }

  async #holders(tokens: readonly string[]): Promise<Holder[]> {
    let people = await this.#people.many(tokens);
    const missing = tokens.find((t) => !people.has(t));
    // Someone who joined since the map was built: one lookup lets the cache rebuild (at most once per interval).
    if (missing !== undefined && (await this.#people.byToken(missing)))
      people = await this.#people.many(tokens);
    return tokens.map((t) => {
      const p = people.get(t);
      if (!p) return { id: t };
      return {
        id: t,
        name: p.name || p.username,
        ...(p.email ? { email: p.email } : {}),
        ...(p.state ? { status: p.state } : {}),
      };
    });
  }
}

function requireCollection(resource: ResourceRef | undefined): ResourceRef {
  if (resource === undefined || resource.kind !== COLLECTION_RESOURCE) {
    // A programming error: every Collection permission the target hands out carries its Collection.
    throw new TypeError(
      'A Mode Collection permission needs its Collection (entitlement.resource of kind collection).',
    );
  }
  return resource;
}

function requireAction(id: string): PermissionAction {
  const a = matchAction(id);
  if (!a) throw new TypeError(`A Mode Collection permission is view or edit, not ${id}.`);
  return a;
}

/** `view` or `edit` as typed, any case; `Can view` / `Can edit` as Mode's share dialog words them. */
function matchAction(typed: string): PermissionAction | undefined {
  const t = typed
    .trim()
    .toLowerCase()
    .replace(/^can\s+/, '');
  return COLLECTION_ACTIONS.find((a) => a === t);
}

function accessorOf(p: PrincipalRef): AccessorType {
  return p.kind === 'user' ? 'Account' : 'UserGroup';
}

function mine(perms: readonly ModePermission[], p: PrincipalRef): ModePermission | undefined {
  const type = accessorOf(p);
  return perms.find((x) => x.accessorType === type && x.accessorToken === p.id);
}

function current(p: ModePermission | undefined): CurrentPermission | undefined {
  return p === undefined ? undefined : { token: p.token, action: p.action };
}

function entitlementRef(action: string, c: ResourceRef): EntitlementRef {
  return { id: action, name: action, resource: c };
}

function infoOf(c: ModeCollection): ResourceInfo {
  return {
    kind: COLLECTION_RESOURCE,
    id: c.token,
    name: c.name,
    ...(c.defaultAccessLevel ? { type: c.defaultAccessLevel } : {}),
  };
}

function refOf(r: ResourceInfo): ResourceRef {
  return { kind: r.kind, id: r.id, name: r.name };
}

function personRef(p: ModePerson, fallbackName: string): PrincipalRef {
  return {
    kind: 'user',
    id: p.memberToken,
    name: p.name || p.username || fallbackName,
    ...(p.email ? { email: p.email } : {}),
  };
}

function personOrToken(token: string, p: ModePerson | undefined): PrincipalRef {
  return p ? personRef(p, token) : { kind: 'user', id: token, name: token };
}

function groupPrincipal(g: ModeGroup): PrincipalRef {
  return { kind: 'group', id: g.token, name: g.name };
}

/** Whether the Collection's default access (what every member gets) gives the action. */
function defaultGives(level: string | undefined, action: string): boolean {
  const order = ['restricted', 'view', 'edit'];
  const have = order.indexOf(level ?? 'restricted');
  const want = order.indexOf(action);
  return have > 0 && want > 0 && have >= want;
}

function holdersOf(collection: string, perms: readonly ModePermission[], action: string): HoldersResume {
  const tokens = [
    ...new Set(
      perms.filter((p) => p.accessorType === 'Account' && p.action === action).map((p) => p.accessorToken),
    ),
  ];
  return { kind: 'mode-collections-holders', collection, action, tokens };
}

function isHoldersResume(v: unknown, collection: string, action: string): v is HoldersResume {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<HoldersResume>;
  return (
    r.kind === 'mode-collections-holders' &&
    r.collection === collection &&
    r.action === action &&
    Array.isArray(r.tokens)
  );
}

/** How an end that found nothing to remove went: its own earlier attempt removed it, or someone else did. */
function gone(earlier: string[] | undefined, action: string, now: string[]): EndedGrant {
  if (earlier?.includes(action)) return { outcome: 'removed', before: earlier, after: now };
  return { outcome: 'already-gone', before: now, after: now };
}

function drift(
  principal: PrincipalRef,
  c: ResourceRef,
  action: string,
  change: 'grant' | 'revoke',
): DriftError {
  const state = change === 'grant' ? `still lacks ${action}` : `still has ${action}`;
  return new DriftError(
    `Mode accepted the change, but reading the Collection ${c.name} back shows ${describeTarget(principal)} ${state}: someone changed its access at the same time. Check it in Mode (the Collection's Manage access) and file the request again if it is still needed.`,
  );
}

/** 0 exact (any case), 1 starts with the text, 2 a word starts with it, 3 contains it anywhere. */
function rank(name: string, text: string): number {
  if (text === '') return 0;
  const n = name.toLowerCase();
  const t = text.toLowerCase();
  if (n === t) return 0;
  if (n.startsWith(t)) return 1;
  if (n.split(/[\s\-_./]+/).some((w) => w.startsWith(t))) return 2;
  return 3;
}
