// Owns Qlik Cloud space roles as an access target: a user's or group's DIRECT roles in one space (its one
// assignment there; roles through groups and the owner's implicit roles are read, never written). A change is a
// fresh read of the assignment → POST a new one, PUT the complete new list or DELETE the last role → read back to
// verify; the caller's per-(space, principal) lock keeps two changes from interleaving. Which tenant is this
// instance's QlikClient.
import { describeTarget, type ResourceRef } from '../../domain/request.ts';
import {
  collect,
  type QlikClient,
  QlikError,
  type QlikSpace,
  type QlikSpaceAssignment,
  type QlikUserSummary,
} from '../../qlik/index.ts';
import { applyOneByOne, checkBatch, refusedWrite } from '../batch.ts';
import { DriftError } from '../errors.ts';
import { isNotFound } from '../qlik-roles/failures.ts';
import { findPrincipal } from '../qlik-roles/principals.ts';
import { applyOutcome } from '../qlik-roles/role-list.ts';
import { EVERYONE_GROUP_ID } from '../qlik-roles/target.ts';
import type {
  AccessChange,
  AccessTarget,
  AppliedChange,
  ApplyOptions,
  BatchApplyOptions,
  BatchResult,
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
  ResourceManager,
  ResourceMember,
  ResourceMembers,
} from '../types.ts';
import {
  type AssignmentWrite,
  type CurrentAssignment,
  isAsAsked,
  planAssignment,
  planAssignments,
  rolesOf,
} from './assignment-plan.ts';
import {
  classifySpacesError,
  describeSpacesError,
  isSpaceNotFound,
  SpaceGoneError,
  SpaceOwnerError,
} from './failures.ts';
import { SpaceLookup } from './space-lookup.ts';
import { KNOWN_SPACE_ROLES, MANAGER_ROLE, matchSpaceRole, roleLabel, uiNameOf } from './space-roles.ts';
import { QLIK_SPACES_WORDS } from './words.ts';

export const QLIK_SPACES_KIND = 'qlik-spaces';

/** What this target's resources are called, as a front's `space:"…"` names them. */
export const SPACE_RESOURCE = 'space';

/** The Qlik calls this target makes. */
export type QlikSpacesApi = Pick<
  QlikClient,
  | 'findUsersByEmail'
  | 'findGroupByName'
  | 'getUser'
  | 'getGroup'
  | 'usersByIds'
  | 'groupsByIds'
  | 'usersInGroup'
  | 'listSpaces'
  | 'allSpaces'
  | 'getSpace'
  | 'listSpaceAssignments'
  | 'spaceAssignmentsPage'
  | 'findSpaceAssignment'
  | 'createSpaceAssignment'
  | 'updateSpaceAssignment'
  | 'deleteSpaceAssignment'
>;

export interface QlikSpacesTargetOptions {
  /** The configured tenant's name; `default` for the single configured one. */
  instance: string;
  /** The client of that tenant. */
  qlik: QlikSpacesApi;
  /** How long space lookups by name (and a space's assignable roles) are remembered; default 10 s. */
  cacheTtlMs?: number;
  /** Clock of that cache (tests). */
  now?: () => number;
}

/** How many holders the summary lists by name. */
const SUMMARY_LISTED = 20;
/** How many groups the summary names. */
const SUMMARY_GROUPS = 100;
/** How many holders' names one lookup reads while streaming the CSV. */
const HOLDERS_BATCH = 100;
/** How many spaces holdingsAcross reads at the same time. */
const ACROSS_PARALLEL = 8;
/** The status a listing shows on the space's owner, who holds every role without an assignment. */
export const OWNER_STATUS = 'owner';

/** Where `holders` carries on after a summary: every holder's id, in the summary's order. */
interface HoldersResume {
  kind: 'qlik-spaces-holders';
  spaceId: string;
  role: string;
  ownerId?: string;
  ids: string[];
}

export class QlikSpacesTarget implements AccessTarget {
  readonly kind = QLIK_SPACES_KIND;
  readonly instance: string;
  readonly words = QLIK_SPACES_WORDS;
  readonly resourceKind = SPACE_RESOURCE;
  readonly #qlik: QlikSpacesApi;
  readonly #spaces: SpaceLookup;

  constructor(opts: QlikSpacesTargetOptions) {
    this.instance = opts.instance;
    this.#qlik = opts.qlik;
    this.#spaces = new SpaceLookup(opts.qlik, {
      ...(opts.cacheTtlMs === undefined ? {} : { ttlMs: opts.cacheTtlMs }),
      ...(opts.now === undefined ? {} : { now: opts.now }),
    });
  }

  /**
   * The user or group, as for tenant roles. What it holds is left empty: holdings here are per space, and no space
   * is named yet (readHoldings reads them in one).
   */
  async resolvePrincipal(query: PrincipalQuery): Promise<PrincipalResult> {
    const found = await findPrincipal(this.#qlik, query);
    if (!found.ok) return found;
    return { ...found, holdings: { direct: [], inherited: [] } };
  }

  async resolveEntitlement(query: EntitlementQuery): Promise<EntitlementResult> {
    const asked = query.resource;
    if (asked === undefined) return { ok: false, code: 'resource-required', resourceKind: SPACE_RESOURCE };
    if (asked.kind.trim().toLowerCase() !== SPACE_RESOURCE)
      return { ok: false, code: 'resource-unsupported', resourceKind: asked.kind };
    const found = await this.#spaces.byName(asked.name);
    if (!found.ok) {
      return found.code === 'no-such-resource'
        ? {
            ok: false,
            code: 'no-such-resource',
            resourceKind: SPACE_RESOURCE,
            name: asked.name,
            suggestions: found.suggestions,
          }
        : {
            ok: false,
            code: 'ambiguous-resource',
            resourceKind: SPACE_RESOURCE,
            name: asked.name,
            count: found.count,
          };
    }
    const resource = spaceRef(found.space);
    const offered = await this.#assignable(found.space);
    const match = matchSpaceRole(query.name, offered);
    if (match.kind === 'offered')
      return { ok: true, entitlement: { id: match.role, name: match.role, resource } };
    // A typo close to a role the space offers gets "did you mean"; anything else, what the space does offer.
    if (match.kind === 'unknown' && match.suggestions.length > 0)
      return { ok: false, code: 'not-found', suggestions: match.suggestions };
    return { ok: false, code: 'not-offered', resource, asked: query.name, offered: offered.map(roleLabel) };
  }

  /** The roles the space offers; without a space, every space role Qlik has (what some space may offer). */
  async listEntitlements(opts: { refresh?: boolean; resource?: ResourceRef } = {}): Promise<Entitlement[]> {
    const resource = opts.resource;
    if (resource === undefined) return KNOWN_SPACE_ROLES.map((r) => entitlementOf(r));
    const space = await this.#spaces.byId(resource.id, opts.refresh ? { refresh: true } : {});
    return space.meta.assignableRoles.map((r) => entitlementOf(r, spaceRef(space)));
  }

  async readHoldings(principal: PrincipalRef, resource?: ResourceRef): Promise<Holdings> {
    const space = requireSpace(resource);
    const [info, own, groups] = await Promise.all([
      this.#freshSpace(space),
      this.#qlik.findSpaceAssignment(space.id, principal.id),
      principal.kind === 'user' ? this.#groupsOf(principal.id) : new Map<string, string>(),
    ]);
    const ref = spaceRef(info);
    const inherited: Holdings['inherited'] = [];
    if (groups.size > 0) {
      for await (const a of this.#qlik.listSpaceAssignments(space.id, { type: 'group' })) {
        const via = groups.get(a.assigneeId);
        if (via !== undefined && a.roles.length > 0)
          inherited.push({ via, entitlements: a.roles.map((r) => entitlementRef(r, ref)) });
      }
    }
    return {
      direct: rolesOf(current(own)).map((r) => entitlementRef(r, ref)),
      inherited,
      ...(isOwner(principal, info) ? { owner: true } : {}),
    };
  }

  /** One assignment per (space, principal) holds all its roles there: every change to it takes the same lock. */
  lockKey(change: AccessChange): string {
    const space = requireSpace(change.entitlement.resource);
    return `space:${space.id}:${change.principal.kind}:${change.principal.id}`;
  }

  async applyChange(change: AccessChange, opts: ApplyOptions): Promise<AppliedChange> {
    const { principal, action } = change;
    const space = requireSpace(change.entitlement.resource);
    const role = change.entitlement.id;
    // Read fresh, never through the lookup cache: the write is planned from exactly what is there now.
    const [info, found] = await Promise.all([
      this.#freshSpace(space),
      this.#qlik.findSpaceAssignment(space.id, principal.id),
    ]);
    const plan = planAssignment({ current: current(found), owner: isOwner(principal, info), action, role });
    if (!plan.ok) throw new SpaceOwnerError(describeTarget(principal), info.name || space.name);
    let after = plan.before;
    let wrote = false;
    if (plan.write.op !== 'none') {
      // A principal Qlik no longer has gets a message naming it, not an assignment for nobody.
      if (plan.write.op === 'create') await this.#requirePrincipal(principal);
      // Recorded BEFORE the write: a crash after it must still know this change made it.
      await opts.beforeWrite({ before: plan.before, after: plan.after });
      opts.signal.throwIfAborted(); // the lock expired under us: another worker may be writing
      wrote = await this.#write(space.id, principal, plan.write, role);
      const fresh = await this.#qlik.findSpaceAssignment(space.id, principal.id);
      if (!isAsAsked(current(fresh), action, role)) throw drift(principal, space, role, action);
      after = rolesOf(current(fresh));
    }
    const { before, changed } = applyOutcome({
      wroteNow: wrote,
      beforeNow: plan.before,
      action,
      roleName: role,
      ...(opts.earlier ? { snapshot: opts.earlier } : {}),
    });
    return { before, after, changed };
  }

  /**
   * Every change to the principal's assignment in one space in one read → POST / PUT / DELETE → read back. A revoke
   * from the owner fails alone; a write Qlik refuses, or a POST that meets an assignment made meanwhile (409), falls
   * back to one change at a time.
   */
  async applyChanges(changes: readonly AccessChange[], opts: BatchApplyOptions): Promise<BatchResult[]> {
    checkBatch(this, changes);
    const first = changes[0] as AccessChange;
    const { principal } = first;
    const space = requireSpace(first.entitlement.resource);
    const [info, found] = await Promise.all([
      this.#freshSpace(space),
      this.#qlik.findSpaceAssignment(space.id, principal.id),
    ]);
    const plan = planAssignments({
      current: current(found),
      owner: isOwner(principal, info),
      changes: changes.map((c) => ({ action: c.action, role: c.entitlement.id })),
    });
    let fresh = found;
    if (plan.write.op !== 'none') {
      if (plan.write.op === 'create') await this.#requirePrincipal(principal);
      await opts.beforeWrite(
        plan.steps.flatMap((s, index) =>
          s.ok && s.changed ? [{ index, snapshot: { before: s.before, after: s.after } }] : [],
        ),
      );
      opts.signal.throwIfAborted(); // the lock expired under us: another worker may be writing
      try {
        await this.#writePlanned(space.id, principal, plan.write);
      } catch (err) {
        const conflict = err instanceof QlikError && err.kind === 'conflict';
        if (conflict || refusedWrite(this, err, changes)) return applyOneByOne(this, changes, opts);
        throw err;
      }
      fresh = await this.#qlik.findSpaceAssignment(space.id, principal.id);
    }
    return changes.map((change, i): BatchResult => {
      const step = plan.steps[i] as (typeof plan.steps)[number];
      if (!step.ok)
        return { ok: false, error: new SpaceOwnerError(describeTarget(principal), info.name || space.name) };
      const role = change.entitlement.id;
      // The owner holds every role without an assignment: a grant to them is as asked with nothing written.
      if (step.changed && !isAsAsked(current(fresh), change.action, role))
        return { ok: false, error: drift(principal, space, role, change.action) };
      const earlier = opts.earlier[i];
      const { before, changed } = applyOutcome({
        wroteNow: step.changed,
        beforeNow: step.before,
        action: change.action,
        roleName: role,
        ...(earlier === undefined ? {} : { snapshot: earlier }),
      });
      return { ok: true, applied: { before, after: step.after, changed } };
    });
  }

  async endGrant(grant: AccessChange, opts: EndOptions): Promise<EndedGrant> {
    const { principal } = grant;
    const space = requireSpace(grant.entitlement.resource);
    const role = grant.entitlement.id;
    if (await this.#principalGone(principal)) return { outcome: 'principal-gone' };
    let found: QlikSpaceAssignment | undefined;
    try {
      found = await this.#qlik.findSpaceAssignment(space.id, principal.id);
    } catch (err) {
      // The space itself is gone, and every role in it with it: nothing is left to remove.
      if (isSpaceNotFound(err)) return gone(opts.earlier, role, []);
      throw err;
    }
    // Only the assignment is touched: the grant added the role there, whoever owns the space now.
    const plan = planAssignment({ current: current(found), owner: false, action: 'revoke', role });
    if (!plan.ok || plan.write.op === 'none') return gone(opts.earlier, role, plan.ok ? plan.before : []);
    await opts.beforeWrite(plan.before);
    opts.signal.throwIfAborted(); // the lock expired under us: another worker may be writing
    await this.#write(space.id, principal, plan.write, role);
    const fresh = await this.#qlik.findSpaceAssignment(space.id, principal.id);
    if (!isAsAsked(current(fresh), 'revoke', role)) throw drift(principal, space, role, 'revoke');
    return { outcome: 'removed', before: plan.before, after: rolesOf(current(fresh)) };
  }

  async includesPerson(principal: PrincipalRef, email: string): Promise<boolean> {
    // Every user is a member of the Everyone group, though no listing says so.
    if (principal.kind === 'group' && principal.id === EVERYONE_GROUP_ID) return true;
    const live = (await this.#qlik.findUsersByEmail(email)).filter((u) => u.status !== 'deleted');
    return principal.kind === 'group'
      ? live.some((u) => u.assignedGroups.some((g) => g.id === principal.id))
      : live.some((u) => u.id === principal.id);
  }

  /**
   * Who holds the role in the space: the owner first (marked, holding it without an assignment), then the users
   * whose assignment has it, the groups whose assignment has it, and the users who get it only through those
   * groups. Qlik can't filter assignments by role, so the space's assignments are read in full.
   */
  async holdersSummary(entitlement: EntitlementRef): Promise<HoldersSummary> {
    const space = requireSpace(entitlement.resource);
    const role = entitlement.id;
    const [info, all] = await Promise.all([
      this.#freshSpace(space),
      collect(this.#qlik.listSpaceAssignments(space.id)),
    ]);
    const resume = holdersOf(info, all, role);
    const groupIds = all.filter((a) => a.type === 'group' && a.roles.includes(role)).map((a) => a.assigneeId);
    const named = groupIds.filter((id) => id !== EVERYONE_GROUP_ID);
    const [first, groups, viaGroups] = await Promise.all([
      this.#holders(resume.ids.slice(0, SUMMARY_LISTED), resume.ownerId),
      this.#qlik.groupsByIds(named.slice(0, SUMMARY_GROUPS)),
      this.#membersOf(named),
    ]);
    const direct = new Set(resume.ids);
    const byId = new Map(groups.map((g) => [g.id, g.name]));
    return {
      direct: { total: resume.ids.length, first },
      inherited: { total: [...viaGroups.keys()].filter((id) => !direct.has(id)).length },
      groups: {
        total: groupIds.length,
        first: [
          ...(groupIds.includes(EVERYONE_GROUP_ID) ? [{ name: 'Everyone' }] : []),
          ...named.slice(0, SUMMARY_GROUPS).map((id) => ({ name: byId.get(id) ?? id })),
        ],
      },
      heldByEveryone: groupIds.includes(EVERYONE_GROUP_ID),
      resume,
    };
  }

  /** Every direct holder (the owner first, marked), each once, with names read a hundred at a time. */
  async *holders(entitlement: EntitlementRef, resume?: unknown): AsyncIterable<Holder> {
    const space = requireSpace(entitlement.resource);
    let from = isHoldersResume(resume, space.id, entitlement.id) ? resume : undefined;
    if (from === undefined) {
      const [info, all] = await Promise.all([
        this.#freshSpace(space),
        collect(this.#qlik.listSpaceAssignments(space.id)),
      ]);
      from = holdersOf(info, all, entitlement.id);
    }
    for (let i = 0; i < from.ids.length; i += HOLDERS_BATCH) {
      yield* await this.#holders(from.ids.slice(i, i + HOLDERS_BATCH), from.ownerId);
    }
  }

  /** Spaces whose name contains `text`, the closest first (exact, then starting with it, then containing it). */
  async resolveResource(query: {
    kind: string;
    name: string;
  }): ReturnType<NonNullable<AccessTarget['resolveResource']>> {
    if (query.kind.trim().toLowerCase() !== SPACE_RESOURCE)
      return { ok: false, code: 'resource-unsupported', resourceKind: query.kind };
    const found = await this.#spaces.byName(query.name);
    if (found.ok) return { ok: true, resource: resourceInfo(found.space, new Map()) };
    return found.code === 'no-such-resource'
      ? {
          ok: false,
          code: 'no-such-resource',
          resourceKind: SPACE_RESOURCE,
          name: query.name,
          suggestions: found.suggestions,
        }
      : {
          ok: false,
          code: 'ambiguous-resource',
          resourceKind: SPACE_RESOURCE,
          name: query.name,
          count: found.count,
        };
  }

  async listResources(
    text: string | undefined,
    limit: number,
  ): Promise<{ resources: ResourceInfo[]; total: number }> {
    const query = text?.trim() ?? '';
    const page = await this.#qlik.listSpaces(query === '' ? {} : { name: query });
    const ranked = page.spaces
      .filter((s) => s.name !== '')
      .sort((a, b) => rank(a.name, query) - rank(b.name, query) || a.name.localeCompare(b.name))
      .slice(0, Math.max(0, limit));
    const owners = await this.#usersById(ranked.flatMap((s) => (s.ownerId ? [s.ownerId] : [])));
    return {
      resources: ranked.map((s) => resourceInfo(s, owners)),
      total: page.total,
    };
  }

  async resourceMembers(resource: ResourceRef, limit: number): Promise<ResourceMembers> {
    const space = requireSpace(resource);
    const [info, users, groups] = await Promise.all([
      this.#freshSpace(space),
      this.#qlik.spaceAssignmentsPage(space.id, { type: 'user', limit }),
      this.#qlik.spaceAssignmentsPage(space.id, { type: 'group', limit }),
    ]);
    const shownUsers = users.assignments.slice(0, Math.max(0, limit));
    const shownGroups = groups.assignments.slice(0, Math.max(0, limit));
    // One lookup for the owner and every user shown, one for the groups.
    const [people, named] = await Promise.all([
      this.#usersById([...(info.ownerId ? [info.ownerId] : []), ...shownUsers.map((a) => a.assigneeId)]),
      this.#qlik.groupsByIds(shownGroups.map((a) => a.assigneeId)),
    ]);
    const groupNames = new Map(named.map((g) => [g.id, g.name]));
    const infoRef = resourceInfo(info, people);
    return {
      resource: infoRef,
      ...(infoRef.owner ? { owner: infoRef.owner } : {}),
      users: {
        total: users.total,
        first: shownUsers.map((a): ResourceMember => {
          const u = people.get(a.assigneeId);
          return {
            principal: {
              kind: 'user',
              id: a.assigneeId,
              name: u?.name || u?.email || a.assigneeId,
              ...(u?.email ? { email: u.email } : {}),
            },
            entitlements: [...a.roles],
          };
        }),
      },
      groups: {
        total: groups.total,
        first: shownGroups.map((a) => ({
          principal: {
            kind: 'group',
            id: a.assigneeId,
            name:
              groupNames.get(a.assigneeId) ??
              (a.assigneeId === EVERYONE_GROUP_ID ? 'Everyone' : a.assigneeId),
          },
          entitlements: [...a.roles],
        })),
      },
    };
  }

  /**
   * What the principal holds in each space: owned spaces from the listing itself, then one read per space for its
   * own assignment and, for a user in groups, one for the space's group assignments. Stops before a space whose
   * reads would pass `maxReads`; the answer says how many spaces it looked at.
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
    const empty = { held, checked: 0, total: 0, partial: true };
    let groups = new Map<string, string>();
    if (principal.kind === 'user') {
      if (!spend(1)) return empty;
      groups = await this.#groupsOf(principal.id);
    }
    // Every space, page by page, within the budget.
    const spaces: QlikSpace[] = [];
    let total = 0;
    let next: string | undefined;
    let listed = false;
    while (spend(1)) {
      const page = await this.#qlik.listSpaces(next === undefined ? {} : { next });
      if (next === undefined) total = page.total;
      spaces.push(...page.spaces);
      next = page.next;
      if (next === undefined) {
        listed = true;
        break;
      }
    }
    let checked = 0;
    const perSpace = 1 + (groups.size > 0 ? 1 : 0);
    const queue = [...spaces];
    let stopped = false;
    const worker = async () => {
      for (let s = queue.shift(); s !== undefined && !stopped; s = queue.shift()) {
        const ref = spaceRef(s);
        if (isOwner(principal, s)) {
          held.push({ resource: ref, entitlements: [...s.meta.assignableRoles], owner: true });
          checked++;
          continue;
        }
        if (!spend(perSpace)) {
          stopped = true;
          return;
        }
        const [own, viaGroups] = await Promise.all([
          this.#qlik.findSpaceAssignment(s.id, principal.id),
          groups.size > 0 ? this.#qlik.spaceAssignmentsPage(s.id, { type: 'group' }) : undefined,
        ]);
        if (own && own.roles.length > 0) held.push({ resource: ref, entitlements: [...own.roles] });
        for (const a of viaGroups?.assignments ?? []) {
          const via = groups.get(a.assigneeId);
          if (via !== undefined && a.roles.length > 0)
            held.push({ resource: ref, entitlements: [...a.roles], via });
        }
        // A space with more group assignments than one page holds is counted as not fully looked at.
        if (viaGroups === undefined || viaGroups.total <= viaGroups.assignments.length) checked++;
      }
    };
    await Promise.all(Array.from({ length: ACROSS_PARALLEL }, worker));
    const seen = Math.max(total, spaces.length);
    return { held, checked, total: seen, partial: !listed || checked < seen };
  }

  /** The owner and every user holding `facilitator` (directly or through a group), with an email; read fresh. */
  async resourceManagers(resource: ResourceRef): Promise<ResourceManager[]> {
    const space = requireSpace(resource);
    const [info, all] = await Promise.all([
      this.#freshSpace(space),
      collect(this.#qlik.listSpaceAssignments(space.id)),
    ]);
    const managing = all.filter((a) => a.roles.includes(MANAGER_ROLE));
    const directIds = managing.filter((a) => a.type === 'user').map((a) => a.assigneeId);
    const groupIds = managing
      .filter((a) => a.type === 'group' && a.assigneeId !== EVERYONE_GROUP_ID)
      .map((a) => a.assigneeId);
    const [direct, viaGroups] = await Promise.all([
      this.#usersById([...(info.ownerId ? [info.ownerId] : []), ...directIds]),
      this.#membersOf(groupIds),
    ]);
    const out: ResourceManager[] = [];
    const seen = new Set<string>();
    const add = (u: QlikUserSummary | undefined, as: ResourceManager['as']) => {
      if (!u || seen.has(u.id) || !u.email || !canApprove(u.status)) return;
      seen.add(u.id);
      out.push({ name: u.name || u.email, email: u.email, as });
    };
    if (info.ownerId) add(direct.get(info.ownerId), 'owner');
    for (const id of directIds) add(direct.get(id), 'manager');
    for (const u of viaGroups.values()) add(u, 'manager');
    return out;
  }

  classifyError(err: unknown, subject: ErrorSubject, random?: () => number): ErrorAction | undefined {
    return classifySpacesError(err, subject, random);
  }

  describeError(err: unknown): string | undefined {
    return describeSpacesError(err);
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  /** The roles a space offers: from the listing when it carried them, else from the space itself. */
  async #assignable(space: QlikSpace): Promise<string[]> {
    if (space.meta.assignableRoles.length > 0) return space.meta.assignableRoles;
    return (await this.#spaces.byId(space.id)).meta.assignableRoles;
  }

  /** The space read now (its owner may have changed); a 404 says the space is gone, by the name it was asked by. */
  async #freshSpace(space: ResourceRef): Promise<QlikSpace> {
    try {
      return await this.#qlik.getSpace(space.id);
    } catch (err) {
      if (isSpaceNotFound(err)) throw new SpaceGoneError(space.name);
      throw err;
    }
  }

  /** The one write the plan needs. False when a 409 showed someone had already made the change. */
  async #write(
    spaceId: string,
    principal: PrincipalRef,
    write: AssignmentWrite,
    role: string,
  ): Promise<boolean> {
    if (write.op === 'none') return false;
    try {
      await this.#writePlanned(spaceId, principal, write);
      return true;
    } catch (err) {
      if (write.op !== 'create' || !(err instanceof QlikError && err.kind === 'conflict')) throw err;
      // An assignment appeared since the read (only one per assignee): add the role to it instead.
      const now = await this.#qlik.findSpaceAssignment(spaceId, principal.id);
      if (now === undefined) throw err;
      if (now.roles.includes(role)) return false;
      await this.#qlik.updateSpaceAssignment(spaceId, now.id, [...rolesOf(current(now)), role]);
      return true;
    }
  }

  /** The write as planned, nothing more: a 409 on the POST is left to the caller (`#write`, or a batch's fall-back). */
  async #writePlanned(spaceId: string, principal: PrincipalRef, write: AssignmentWrite): Promise<void> {
    switch (write.op) {
      case 'none':
        return;
      case 'create':
        await this.#qlik.createSpaceAssignment(spaceId, {
          type: principal.kind,
          assigneeId: principal.id,
          roles: write.roles,
        });
        return;
      case 'update':
        await this.#qlik.updateSpaceAssignment(spaceId, write.assignmentId, write.roles);
        return;
      case 'delete':
        await this.#qlik.deleteSpaceAssignment(spaceId, write.assignmentId);
        return;
    }
  }

  /** Throws Qlik's 404 for a principal it no longer has (or a deleted user), so the failure names them. */
  async #requirePrincipal(principal: PrincipalRef): Promise<void> {
    if (principal.kind === 'group') {
      await this.#qlik.getGroup(principal.id);
      return;
    }
    const u = await this.#qlik.getUser(principal.id);
    if (u.status === 'deleted')
      throw new QlikError({
        kind: 'not-found',
        status: 404,
        method: 'GET',
        path: `/api/v1/users/${principal.id}`,
        title: 'The user is deleted',
      });
  }

  async #principalGone(principal: PrincipalRef): Promise<boolean> {
    try {
      await this.#requirePrincipal(principal);
      return false;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }

  /** The groups a user is in, by id → name. */
  async #groupsOf(userId: string): Promise<Map<string, string>> {
    const u = await this.#qlik.getUser(userId);
    return new Map(u.assignedGroups.map((g) => [g.id, g.name]));
  }

  /** Users by id → lean user, in as few lookups as the filter allows. */
  async #usersById(ids: readonly string[]): Promise<Map<string, QlikUserSummary>> {
    if (ids.length === 0) return new Map();
    return new Map((await this.#qlik.usersByIds(ids)).map((u) => [u.id, u]));
  }

  /** Every member of the groups, each once. */
  async #membersOf(groupIds: readonly string[]): Promise<Map<string, QlikUserSummary>> {
    const out = new Map<string, QlikUserSummary>();
    await Promise.all(
      [...new Set(groupIds)].map(async (id) => {
        for await (const u of this.#qlik.usersInGroup(id)) out.set(u.id, u);
      }),
    );
    return out;
  }

  /** Holders in `ids`' order, with their names; the owner marked; a user Qlik no longer has, by id alone. */
  async #holders(ids: readonly string[], ownerId: string | undefined): Promise<Holder[]> {
    const users = await this.#usersById(ids);
    return ids.map((id) => {
      const u = users.get(id);
      const h = holder(u ?? { id });
      return id === ownerId ? { ...h, status: OWNER_STATUS } : h;
    });
  }
}

function requireSpace(resource: ResourceRef | undefined): ResourceRef {
  if (resource === undefined || resource.kind !== SPACE_RESOURCE) {
    // A programming error: every space role the target hands out carries its space.
    throw new TypeError('A Qlik space role needs the space it is in (entitlement.resource of kind space).');
  }
  return resource;
}

function spaceRef(s: Pick<QlikSpace, 'id' | 'name'>): ResourceRef {
  return { kind: SPACE_RESOURCE, id: s.id, name: s.name };
}

function current(a: QlikSpaceAssignment | undefined): CurrentAssignment | undefined {
  return a === undefined ? undefined : { id: a.id, roles: a.roles };
}

function isOwner(principal: PrincipalRef, space: Pick<QlikSpace, 'ownerId'>): boolean {
  return principal.kind === 'user' && space.ownerId !== undefined && space.ownerId === principal.id;
}

function entitlementRef(role: string, resource: ResourceRef): EntitlementRef {
  return { id: role, name: role, resource };
}

function entitlementOf(role: string, resource?: ResourceRef): Entitlement {
  const ui = uiNameOf(role);
  return {
    id: role,
    name: role,
    ...(resource ? { resource } : {}),
    ...(ui ? { description: ui } : {}),
  };
}

/** How an end that found nothing to remove went: its own earlier attempt removed it, or someone else did. */
function gone(earlier: string[] | undefined, role: string, now: string[]): EndedGrant {
  if (earlier?.includes(role)) return { outcome: 'removed', before: earlier, after: now };
  return { outcome: 'already-gone', before: now, after: now };
}

function drift(
  principal: PrincipalRef,
  space: ResourceRef,
  role: string,
  action: 'grant' | 'revoke',
): DriftError {
  const state = action === 'grant' ? 'still lacks' : 'still has';
  return new DriftError(
    `Qlik accepted the change, but reading ${describeTarget(principal)} back in the space ${space.name} shows they ${state} ${roleLabel(role)}: someone changed the space's members at the same time. Check them in Qlik (Space settings → Members) and file the request again if it is still needed.`,
  );
}

/** Direct holders of `role` in the space: its owner first when the space offers the role, then users by assignment. */
function holdersOf(info: QlikSpace, all: readonly QlikSpaceAssignment[], role: string): HoldersResume {
  const owner = info.ownerId && info.meta.assignableRoles.includes(role) ? info.ownerId : undefined;
  const users = all
    .filter((a) => a.type === 'user' && a.roles.includes(role) && a.assigneeId !== owner)
    .map((a) => a.assigneeId);
  return {
    kind: 'qlik-spaces-holders',
    spaceId: info.id,
    role,
    ...(owner ? { ownerId: owner } : {}),
    ids: [...(owner ? [owner] : []), ...new Set(users)],
  };
}

function isHoldersResume(v: unknown, spaceId: string, role: string): v is HoldersResume {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<HoldersResume>;
  return r.kind === 'qlik-spaces-holders' && r.spaceId === spaceId && r.role === role && Array.isArray(r.ids);
}

function holder(u: Partial<QlikUserSummary> & { id: string }): Holder {
  return {
    id: u.id,
    ...(u.name ? { name: u.name } : {}),
    ...(u.email ? { email: u.email } : {}),
    ...(u.status ? { status: u.status } : {}),
  };
}

function resourceInfo(s: QlikSpace, people: ReadonlyMap<string, QlikUserSummary>): ResourceInfo {
  const owner = s.ownerId ? people.get(s.ownerId) : undefined;
  return {
    ...spaceRef(s),
    ...(s.type ? { type: s.type } : {}),
    ...(s.ownerId ? { owner: owner ? holder(owner) : { id: s.ownerId } } : {}),
  };
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

/** Only people who can sign in approve: a deleted or disabled account can't. */
function canApprove(status: string | undefined): boolean {
  return status !== 'deleted' && status !== 'disabled';
}
