// Owns Qlik Cloud tenant roles as an access target: a user's or group's DIRECT roles (`assignedRoles`; roles through
// groups are read, never written). A change is fetch → append or remove → replace the whole list (Qlik has no ETag
// and no add-one-role call) → read back to verify; the caller's per-principal lock keeps two changes from
// interleaving. Which tenant is this instance's QlikClient.
import { describeTarget, type RoleAction } from '../../domain/request.ts';
import { type HoldersPage, type QlikClient, QlikError } from '../../qlik/index.ts';
import { applyOneByOne, checkBatch, refusedWrite } from '../batch.ts';
import { DriftError } from '../errors.ts';
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
  PrincipalQuery,
  PrincipalRef,
  PrincipalResult,
} from '../types.ts';
import { classifyQlikError, isNotFound } from './failures.ts';
import { findPrincipal, userHoldings } from './principals.ts';
import {
  applyOutcome,
  isAsAsked,
  nextDirectRoles,
  planDirectRoles,
  type RoleRef,
  roleNames,
} from './role-list.ts';
import { QLIK_ROLES_WORDS } from './words.ts';

export const QLIK_ROLES_KIND = 'qlik-roles';

/** Qlik's system group every user is in; group listings leave it out, so who-has asks for it on its own. */
export const EVERYONE_GROUP_ID = '000000000000000000000001';

/** The Qlik calls this target makes. */
export type QlikRolesApi = Pick<
  QlikClient,
  | 'findUsersByEmail'
  | 'findGroupByName'
  | 'getUser'
  | 'getGroup'
  | 'replaceUserRoles'
  | 'replaceGroupRoles'
  | 'findRole'
  | 'listRoles'
  | 'usersWithRolePage'
  | 'usersWithRoleAll'
  | 'usersWithRoleThroughGroupsPage'
  | 'groupsWithRolePage'
>;

export interface QlikRolesTargetOptions {
  /** The configured tenant's name; `default` for the single configured one. */
  instance: string;
  /** The client of that tenant. */
  qlik: QlikRolesApi;
}

/** How many holders the summary lists by name. */
const SUMMARY_LISTED = 20;

export class QlikRolesTarget implements AccessTarget {
  readonly kind = QLIK_ROLES_KIND;
  readonly instance: string;
  readonly words = QLIK_ROLES_WORDS;
  readonly #qlik: QlikRolesApi;

  constructor(opts: QlikRolesTargetOptions) {
    this.instance = opts.instance;
    this.#qlik = opts.qlik;
  }

  resolvePrincipal(query: PrincipalQuery): Promise<PrincipalResult> {
    return findPrincipal(this.#qlik, query);
  }

  async resolveEntitlement(query: EntitlementQuery): Promise<EntitlementResult> {
    if (query.resource !== undefined)
      return { ok: false, code: 'resource-unsupported', resourceKind: query.resource.kind };
    const found = await this.#qlik.findRole(query.name);
    if (found.role) return { ok: true, entitlement: { id: found.role.id, name: found.role.name } };
    return { ok: false, code: 'not-found', suggestions: found.suggestions };
  }

  async listEntitlements(opts: { refresh?: boolean } = {}): Promise<Entitlement[]> {
    const roles = await this.#qlik.listRoles(opts.refresh ? { refresh: true } : {});
    return roles.map((r) => ({
      id: r.id,
      name: r.name,
      custom: r.type === 'custom',
      ...(r.level ? { level: r.level } : {}),
      ...(r.description ? { description: r.description } : {}),
    }));
  }

  async readHoldings(principal: PrincipalRef): Promise<Holdings> {
    if (principal.kind === 'user') return userHoldings(await this.#qlik.getUser(principal.id));
    const g = await this.#qlik.getGroup(principal.id);
    return { direct: g.assignedRoles.map((r) => ({ id: r.id, name: r.name })), inherited: [] };
  }

  /** A principal's assignedRoles are one list: every change to it, whatever the role, takes the same lock. */
  lockKey(change: AccessChange): string {
    return `${change.principal.kind}:${change.principal.id}`;
  }

  async applyChange(change: AccessChange, opts: ApplyOptions): Promise<AppliedChange> {
    const { principal, entitlement: role, action } = change;
    const current = await this.#readDirect(principal);
    const plan = nextDirectRoles(current, action, role);
    const beforeNow = roleNames(current);
    let after = beforeNow;
    if (plan.changed) {
      const planned = roleNames(plan.ids.map((id) => current.find((r) => r.id === id) ?? role));
      // Recorded BEFORE the write: a crash after the PATCH must still know this change made it.
      await opts.beforeWrite({ before: beforeNow, after: planned });
      opts.signal.throwIfAborted(); // the lock expired under us: another worker may be writing
      await this.#writeDirect(principal, plan.ids);
      const fresh = await this.#readDirect(principal);
      if (!isAsAsked(fresh, action, role)) throw drift(principal, role, action);
      after = roleNames(fresh);
    }
    const { before, changed } = applyOutcome({
      wroteNow: plan.changed,
      beforeNow,
      action,
      roleName: role.name,
      ...(opts.earlier ? { snapshot: opts.earlier } : {}),
    });
    return { before, after, changed };
  }

  /**
   * Every change in one fetch → replace → read back: the list written is the current one with each change made in
   * turn, and each change's before / after is the list just before and just after its turn.
   */
  async applyChanges(changes: readonly AccessChange[], opts: BatchApplyOptions): Promise<BatchResult[]> {
    checkBatch(this, changes);
    const principal = changes[0]?.principal as PrincipalRef;
    const current = await this.#readDirect(principal);
    const plan = planDirectRoles(
      current,
      changes.map((c) => ({ action: c.action, role: { id: c.entitlement.id, name: c.entitlement.name } })),
    );
    let fresh = current;
    if (plan.changed) {
      await opts.beforeWrite(
        plan.steps.flatMap((s, index) =>
          s.changed ? [{ index, snapshot: { before: s.before, after: s.after } }] : [],
        ),
      );
      opts.signal.throwIfAborted(); // the lock expired under us: another worker may be writing
      try {
        await this.#writeDirect(principal, plan.ids);
      } catch (err) {
        // Qlik refused the list (e.g. one of the roles was deleted): nothing was written, so each change alone
        // tells which one it refuses.
        if (refusedWrite(this, err, changes)) return applyOneByOne(this, changes, opts);
        throw err;
      }
      fresh = await this.#readDirect(principal);
    }
    return changes.map((change, i): BatchResult => {
      const step = plan.steps[i] as (typeof plan.steps)[number];
      const role = change.entitlement;
      if (!isAsAsked(fresh, change.action, role))
        return { ok: false, error: drift(principal, role, change.action) };
      const earlier = opts.earlier[i];
      const { before, changed } = applyOutcome({
        wroteNow: step.changed,
        beforeNow: step.before,
        action: change.action,
        roleName: role.name,
        ...(earlier === undefined ? {} : { snapshot: earlier }),
      });
      return { ok: true, applied: { before, after: step.after, changed } };
    });
  }

  async endGrant(grant: AccessChange, opts: EndOptions): Promise<EndedGrant> {
    const { principal, entitlement: role } = grant;
    let current: RoleRef[];
    try {
      current = await this.#readDirect(principal);
    } catch (err) {
      if (isNotFound(err)) return { outcome: 'principal-gone' };
      throw err;
    }
    const before = roleNames(current);
    const plan = nextDirectRoles(current, 'revoke', role);
    if (!plan.changed) {
      // Gone already: by an earlier attempt of this end (its snapshot says so) or by someone else.
      if (opts.earlier?.includes(role.name))
        return { outcome: 'removed', before: opts.earlier, after: before };
      return { outcome: 'already-gone', before, after: before };
    }
    await opts.beforeWrite(before);
    opts.signal.throwIfAborted(); // the lock expired under us: another worker may be writing
    await this.#writeDirect(principal, plan.ids);
    const fresh = await this.#readDirect(principal);
    if (fresh.some((r) => r.id === role.id))
      throw new DriftError(
        `Qlik accepted the removal of ${role.name}, but reading ${describeTarget(principal)} back shows it is still there: someone changed their roles at the same time.`,
      );
    return { outcome: 'removed', before, after: roleNames(fresh) };
  }

  async includesPerson(principal: PrincipalRef, email: string): Promise<boolean> {
    // Every user is a member of the Everyone group, though no listing says so.
    if (principal.kind === 'group' && principal.id === EVERYONE_GROUP_ID) return true;
    const live = (await this.#qlik.findUsersByEmail(email)).filter((u) => u.status !== 'deleted');
    return principal.kind === 'group'
      ? live.some((u) => u.assignedGroups.some((g) => g.id === principal.id))
      : live.some((u) => u.id === principal.id);
  }

  async holdersSummary(entitlement: EntitlementRef): Promise<HoldersSummary> {
    const name = entitlement.name;
    const [direct, viaGroups, groups, everyone] = await Promise.all([
      this.#qlik.usersWithRolePage(name),
      this.#qlik.usersWithRoleThroughGroupsPage(name),
      this.#qlik.groupsWithRolePage(name),
      // If Qlik won't say about the Everyone group, the answer just doesn't mention it rather than failing.
      this.#qlik.getGroup(EVERYONE_GROUP_ID).then(
        (g) => g.assignedRoles.some((r) => r.name === name),
        () => undefined,
      ),
    ]);
    return {
      direct: { total: direct.total, first: direct.users.slice(0, SUMMARY_LISTED).map(holder) },
      inherited: { total: viaGroups.total },
      groups: { total: groups.total, first: groups.groups.map((g) => ({ name: g.name })) },
      ...(everyone === undefined ? {} : { heldByEveryone: everyone }),
      resume: direct,
    };
  }

  async *holders(entitlement: EntitlementRef, resume?: unknown): AsyncIterable<Holder> {
    const start = isHoldersPage(resume) ? resume : undefined;
    for await (const u of this.#qlik.usersWithRoleAll(entitlement.name, start)) yield holder(u);
  }

  classifyError(err: unknown, subject: ErrorSubject, random?: () => number): ErrorAction | undefined {
    return classifyQlikError(err, subject, random);
  }

  describeError(err: unknown): string | undefined {
    return err instanceof QlikError ? err.userMessage() : undefined;
  }

  /** The principal's DIRECT roles only: for a user, `assignedRoles` (never roles through groups). */
  async #readDirect(principal: PrincipalRef): Promise<RoleRef[]> {
    const p =
      principal.kind === 'user'
        ? await this.#qlik.getUser(principal.id)
        : await this.#qlik.getGroup(principal.id);
    return p.assignedRoles.map((r) => ({ id: r.id, name: r.name }));
  }

  async #writeDirect(principal: PrincipalRef, ids: string[]): Promise<void> {
    if (principal.kind === 'user') await this.#qlik.replaceUserRoles(principal.id, ids);
    else await this.#qlik.replaceGroupRoles(principal.id, ids);
  }
}

/** The read-back shows the principal's roles not as the change asked: someone changed them at the same time. */
function drift(principal: PrincipalRef, role: EntitlementRef, action: RoleAction): DriftError {
  const state = action === 'grant' ? 'still lacks' : 'still has';
  return new DriftError(
    `Qlik accepted the change, but reading ${describeTarget(principal)} back shows they ${state} ${role.name}: someone changed their roles at the same time. Check them in the Qlik Management Console and file the request again if it is still needed.`,
  );
}

function holder(u: {
  id: string;
  name?: string | undefined;
  email?: string | undefined;
  status?: string | undefined;
}): Holder {
  return {
    id: u.id,
    ...(u.name ? { name: u.name } : {}),
    ...(u.email ? { email: u.email } : {}),
    ...(u.status ? { status: u.status } : {}),
  };
}

function isHoldersPage(v: unknown): v is HoldersPage {
  return typeof v === 'object' && v !== null && Array.isArray((v as HoldersPage).users);
}
