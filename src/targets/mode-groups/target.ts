// Owns Mode group memberships as an access target: a workspace member's DIRECT membership of one group of the one
// configured workspace. A member is found by email through the people cache (memberships carry no email); a group
// by name. A change reads the group and its memberships fresh → POST or DELETE one membership → reads back to
// verify; the caller's per-(group, member) lock keeps two changes from interleaving. Groups and members the
// identity provider owns (`managed`, `managed_by_scim`) are refused, since the next sync would undo the change.
import { describeTarget, type ResourceRef } from '../../domain/request.ts';
import {
  collectAll,
  isSoftDeleted,
  type ModeClient,
  type ModeGroup,
  type ModeGroupMembership,
  type ModePeople,
  type ModePerson,
} from '../../mode/index.ts';
import { DriftError } from '../errors.ts';
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
  PrincipalQuery,
  PrincipalRef,
  PrincipalResult,
} from '../types.ts';
import {
  classifyModeError,
  describeModeError,
  isGoneState,
  isModeNotFound,
  ModeRefusal,
  managedGroup,
  memberGone,
  resourceGone,
  scimMember,
} from './failures.ts';
import { GroupLookup } from './group-lookup.ts';
import { MODE_GROUPS_WORDS } from './words.ts';

export const MODE_GROUPS_KIND = 'mode-groups';

/** The Mode calls this target makes. */
export type ModeGroupsApi = Pick<
  ModeClient,
  'groups' | 'group' | 'groupMemberships' | 'addGroupMembership' | 'removeGroupMembership'
>;

/** The people-cache lookups this target makes. */
export type PeopleLookup = Pick<ModePeople, 'byEmail' | 'byToken' | 'fresh' | 'many'>;

export interface ModeGroupsTargetOptions {
  /** The configured workspace's name; `default` for the single configured one. */
  instance: string;
  mode: ModeGroupsApi;
  people: PeopleLookup;
  /** How long the group list (for names and suggestions) is remembered; default 10 s. */
  cacheTtlMs?: number;
  now?: () => number;
}

/** How many holders the summary lists by name. */
const SUMMARY_LISTED = 20;
/** How many groups' memberships are read at the same time to find a member's groups. */
const GROUPS_PARALLEL = 8;
/** How many holders' names are looked up at once while streaming the CSV. */
const HOLDERS_BATCH = 100;

/** Where `holders` carries on after a summary: every holder's member token, in the summary's order. */
interface HoldersResume {
  kind: 'mode-groups-holders';
  group: string;
  tokens: string[];
}

export class ModeGroupsTarget implements AccessTarget {
  readonly kind = MODE_GROUPS_KIND;
  readonly instance: string;
  readonly words = MODE_GROUPS_WORDS;
  readonly #mode: ModeGroupsApi;
  readonly #people: PeopleLookup;
  readonly #groups: GroupLookup;

  constructor(opts: ModeGroupsTargetOptions) {
    this.instance = opts.instance;
    this.#mode = opts.mode;
    this.#people = opts.people;
    this.#groups = new GroupLookup(opts.mode, {
      ...(opts.cacheTtlMs === undefined ? {} : { ttlMs: opts.cacheTtlMs }),
      ...(opts.now === undefined ? {} : { now: opts.now }),
    });
  }

  /**
   * A workspace member by email, with the groups they are in. A group is found by name too, so the front can say
   * what it is, but Mode groups hold members only: a change for a group principal is refused at apply.
   */
  async resolvePrincipal(query: PrincipalQuery): Promise<PrincipalResult> {
    if (query.kind === 'group') {
      const found = await this.#groups.byName(query.name);
      if (!found.ok) return { ok: false, code: 'no-such-group', name: query.name };
      return {
        ok: true,
        principal: { kind: 'group', id: found.group.token, name: found.group.name },
        holdings: { direct: [], inherited: [] },
      };
    }
    const live = (await this.#people.byEmail(query.email)).filter((p) => !isGoneState(p.state));
    if (live.length === 0) return { ok: false, code: 'no-such-user', email: query.email };
    if (live.length > 1) return { ok: false, code: 'several-users', email: query.email, count: live.length };
    const person = live[0]!;
    const principal = personRef(person, query.fallbackName ?? query.email);
    const { groups } = await this.#memberGroups(person.memberToken);
    return {
      ok: true,
      principal,
      ...(person.state ? { status: person.state } : {}),
      holdings: { direct: groups.map(groupRef), inherited: [] },
    };
  }

  async resolveEntitlement(query: EntitlementQuery): Promise<EntitlementResult> {
    if (query.resource !== undefined)
      return { ok: false, code: 'resource-unsupported', resourceKind: query.resource.kind };
    const found = await this.#groups.byName(query.name);
    if (!found.ok) return { ok: false, code: 'not-found', suggestions: found.suggestions };
    return { ok: true, entitlement: groupRef(found.group) };
  }

  async listEntitlements(opts: { refresh?: boolean; resource?: ResourceRef } = {}): Promise<Entitlement[]> {
    const groups = await this.#groups.all(opts.refresh ? { refresh: true } : {});
    return groups.map((g) => ({
      ...groupRef(g),
      ...(g.description ? { description: g.description } : {}),
      // The identity provider's groups are shown as such: the bot refuses to change them.
      ...(g.managed ? { level: 'managed' } : {}),
    }));
  }

  async readHoldings(principal: PrincipalRef): Promise<Holdings> {
    if (principal.kind === 'group') return { direct: [], inherited: [] };
    const { groups } = await this.#memberGroups(principal.id);
    return { direct: groups.map(groupRef), inherited: [] };
  }

  /** One membership per (group, member): every change to it takes the same lock. */
  lockKey(change: AccessChange): string {
    return `group:${change.entitlement.id}:${change.principal.kind}:${change.principal.id}`;
  }

  async applyChange(change: AccessChange, opts: ApplyOptions): Promise<AppliedChange> {
    const { principal, action, entitlement } = change;
    const group = await this.#writableGroup(principal, entitlement);
    // Read fresh, never through a cache: the write is planned from exactly what is there now.
    const { groups, focus } = await this.#memberGroups(principal.id, group);
    const beforeNow = groups.map((g) => g.name);
    const want = action === 'grant';
    let after = beforeNow;
    let wrote = false;
    if (want !== (focus !== undefined)) {
      const planned = want ? [...beforeNow, group.name] : beforeNow.filter((n) => n !== group.name);
      await this.#requireMember(principal);
      // Recorded BEFORE the write: a crash after it must still know this change made it.
      await opts.beforeWrite({ before: beforeNow, after: planned });
      opts.signal.throwIfAborted(); // the lock expired under us: another worker may be writing
      wrote = await this.#write(group.token, principal.id, focus);
      const now = await this.#membershipOf(group.token, principal.id);
      if ((now !== undefined) !== want) throw drift(principal, group.name, action);
      after = planned;
    }
    const { before, changed } = applyOutcome({
      wroteNow: wrote,
      beforeNow,
      action,
      roleName: group.name,
      ...(opts.earlier ? { snapshot: opts.earlier } : {}),
    });
    return { before, after, changed };
  }

  async endGrant(grant: AccessChange, opts: EndOptions): Promise<EndedGrant> {
    const { principal, entitlement } = grant;
    if (principal.kind === 'user' && (await this.#memberGone(principal.id)))
      return { outcome: 'principal-gone' };
    let group: ModeGroup;
    try {
      group = await this.#mode.group(entitlement.id);
    } catch (err) {
      // The group itself is gone, and every membership with it: nothing is left to remove.
      if (isModeNotFound(err)) return gone(opts.earlier, entitlement.name, []);
      throw err;
    }
    if (isSoftDeleted(group.state)) return gone(opts.earlier, entitlement.name, []);
    const { groups, focus } = await this.#memberGroups(principal.id, group);
    const before = groups.map((g) => g.name);
    if (focus === undefined) return gone(opts.earlier, group.name, before);
    this.#refuseManaged(group);
    await this.#refuseScim(principal);
    await opts.beforeWrite(before);
    opts.signal.throwIfAborted(); // the lock expired under us: another worker may be writing
    await this.#write(group.token, principal.id, focus);
    if ((await this.#membershipOf(group.token, principal.id)) !== undefined)
      throw drift(principal, group.name, 'revoke');
    return { outcome: 'removed', before, after: before.filter((n) => n !== group.name) };
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

  /** Who is in the group: its members by name and email (from the people cache), each once. */
  async holdersSummary(entitlement: EntitlementRef): Promise<HoldersSummary> {
    const tokens = unique(
      (await collectAll(this.#mode.groupMemberships(entitlement.id))).map((gm) => gm.memberToken),
    );
    const resume: HoldersResume = { kind: 'mode-groups-holders', group: entitlement.id, tokens };
    return {
      direct: { total: tokens.length, first: await this.#holders(tokens.slice(0, SUMMARY_LISTED)) },
      // Mode has no groups in groups, so nobody holds a membership any other way.
      inherited: { total: 0 },
      groups: { total: 0, first: [] },
      resume,
    };
  }

  async *holders(entitlement: EntitlementRef, resume?: unknown): AsyncIterable<Holder> {
    const tokens = isHoldersResume(resume, entitlement.id)
      ? resume.tokens
      : unique((await collectAll(this.#mode.groupMemberships(entitlement.id))).map((gm) => gm.memberToken));
    for (let i = 0; i < tokens.length; i += HOLDERS_BATCH)
      yield* await this.#holders(tokens.slice(i, i + HOLDERS_BATCH));
  }

  classifyError(err: unknown, subject: ErrorSubject, random?: () => number): ErrorAction | undefined {
    return classifyModeError(err, subject, random);
  }

  describeError(err: unknown): string | undefined {
    return describeModeError(err);
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  /** The group read fresh, after every refusal that applies before anything is read about the member. */
  async #writableGroup(principal: PrincipalRef, entitlement: EntitlementRef): Promise<ModeGroup> {
    if (principal.kind === 'group')
      throw new ModeRefusal(
        `Mode groups hold workspace members, not other groups, so ${describeTarget(principal)} can't be added to the group ${entitlement.name}. Ask for each member instead.`,
      );
    let group: ModeGroup;
    try {
      group = await this.#mode.group(entitlement.id);
    } catch (err) {
      if (isModeNotFound(err)) throw resourceGone(`group ${entitlement.name}`);
      throw err;
    }
    if (isSoftDeleted(group.state)) throw resourceGone(`group ${entitlement.name}`);
    this.#refuseManaged(group);
    await this.#refuseScim(principal);
    return group;
  }

  #refuseManaged(group: ModeGroup): void {
    if (group.managed) throw managedGroup(group.name);
  }

  async #refuseScim(principal: PrincipalRef): Promise<void> {
    const person = await this.#people.fresh(principal.id);
    if (person?.managedByScim) throw scimMember(describeTarget(principal));
  }

  /** Throws for a member who has left the workspace, naming them, rather than write for nobody. */
  async #requireMember(principal: PrincipalRef): Promise<void> {
    if (await this.#memberGone(principal.id)) throw memberGone(describeTarget(principal));
  }

  async #memberGone(memberToken: string): Promise<boolean> {
    const person = await this.#people.fresh(memberToken);
    return person === undefined || isGoneState(person.state);
  }

  /** Adds (no membership yet) or removes (the membership found) exactly one membership. */
  async #write(group: string, memberToken: string, found: ModeGroupMembership | undefined): Promise<boolean> {
    if (found === undefined) {
      try {
        await this.#mode.addGroupMembership(group, memberToken);
        return true;
      } catch (err) {
        // Mode documents nothing for adding someone already there: if they are there now, someone else added them.
        if ((await this.#membershipOf(group, memberToken)) !== undefined) return false;
        throw err;
      }
    }
    try {
      await this.#mode.removeGroupMembership(group, found.token);
      return true;
    } catch (err) {
      // Removed by someone else between the read and the DELETE: the verify read decides.
      if (isModeNotFound(err) && (await this.#membershipOf(group, memberToken)) === undefined) return false;
      throw err;
    }
  }

  async #membershipOf(group: string, memberToken: string): Promise<ModeGroupMembership | undefined> {
    for await (const gm of this.#mode.groupMemberships(group)) if (gm.memberToken === memberToken) return gm;
    return undefined;
  }

  /**
   * The live groups the member is in, read fresh (Mode can't list a member's groups, so each group's memberships),
   * and their membership of `focus` when one is given (read even when the group list is stale or leaves it out).
   */
  async #memberGroups(
    memberToken: string,
    focus?: ModeGroup,
  ): Promise<{ groups: ModeGroup[]; focus: ModeGroupMembership | undefined }> {
    // The group list read fresh too: a group made seconds ago would otherwise be missing from before and after.
    const listed = await this.#groups.all({ refresh: true });
    const all = focus ? [...listed.filter((g) => g.token !== focus.token), focus] : listed;
    const found = new Map<string, ModeGroupMembership>();
    const queue = [...all];
    const worker = async () => {
      for (let g = queue.shift(); g !== undefined; g = queue.shift()) {
        try {
          const gm = await this.#membershipOf(g.token, memberToken);
          if (gm) found.set(g.token, gm);
        } catch (err) {
          // A group deleted since the list was read holds nobody; the focus group's own failure is the change's.
          if (!(isModeNotFound(err) && g.token !== focus?.token)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: GROUPS_PARALLEL }, worker));
    // In the list's order (Mode's), so before and after read the same way each time.
    const groups = listed.filter((g) => found.has(g.token) && g.token !== focus?.token);
    if (focus && found.has(focus.token)) groups.push(focus);
    return { groups, focus: focus ? found.get(focus.token) : undefined };
  }

  /** Holders in `tokens`' order, with names and emails from the people cache; a member it lacks, by token alone. */
  async #holders(tokens: readonly string[]): Promise<Holder[]> {
    let people = await this.#people.many(tokens);
    const missing = tokens.find((t) => !people.has(t));
    // Someone who joined since the map was built: one lookup lets the cache rebuild (at most once per interval).
    if (missing !== undefined && (await this.#people.byToken(missing)))
      people = await this.#people.many(tokens);
    return tokens.map((t) => holderOf(t, people.get(t)));
  }
}

function personRef(p: ModePerson, fallbackName: string): PrincipalRef {
  return {
    kind: 'user',
    id: p.memberToken,
    name: p.name || p.username || fallbackName,
    ...(p.email ? { email: p.email } : {}),
  };
}

function holderOf(token: string, p: ModePerson | undefined): Holder {
  if (!p) return { id: token };
  return {
    id: token,
    name: p.name || p.username,
    ...(p.email ? { email: p.email } : {}),
    ...(p.state ? { status: p.state } : {}),
  };
}

function groupRef(g: Pick<ModeGroup, 'token' | 'name'>): EntitlementRef {
  return { id: g.token, name: g.name };
}

/** How an end that found nothing to remove went: its own earlier attempt removed it, or someone else did. */
function gone(earlier: string[] | undefined, name: string, now: string[]): EndedGrant {
  if (earlier?.includes(name)) return { outcome: 'removed', before: earlier, after: now };
  return { outcome: 'already-gone', before: now, after: now };
}

function drift(principal: PrincipalRef, group: string, action: 'grant' | 'revoke'): DriftError {
  const state = action === 'grant' ? 'is still not in' : 'is still in';
  return new DriftError(
    `Mode accepted the change, but reading the group ${group} back shows ${describeTarget(principal)} ${state} it: someone changed its members at the same time. Check them in Mode (Workspace Settings → Groups) and file the request again if it is still needed.`,
  );
}

function isHoldersResume(v: unknown, group: string): v is HoldersResume {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<HoldersResume>;
  return r.kind === 'mode-groups-holders' && r.group === group && Array.isArray(r.tokens);
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}
