// Owns what every use case of the app shares: its collaborators (src/app/ports.ts), the policy and the clock as
// they are at the moment of a decision, choosing the access target an input or a request is for, the approver
// checks, and the two guards every use case runs under (a store outage is named as such; nothing ever throws to the
// front: every failure becomes a failure outcome it can word, src/app/outcomes.ts).
import { type Policy, requestRule } from '../domain/policy.ts';
import {
  DEFAULT_TARGET,
  type PersonRef,
  type RoleChangeRequest,
  samePerson,
  targetOf,
} from '../domain/request.ts';
import type { Logger } from '../observability/logger.ts';
import { UnknownTargetError } from '../targets/registry.ts';
import type { AccessTarget, EntitlementRef } from '../targets/types.ts';
import { describeFailure, isRedisUnavailable, StoreUnavailableError } from './errors.ts';
import type { Doing, Failure, ResourceRefused, UnknownInstance, UnknownRole } from './outcomes.ts';
import type { AccessRequestDeps } from './ports.ts';
import type { TransitionDeps } from './transitions.ts';
import { errSummary } from './words.ts';

/** How many times refresh() shows a request again that moved on while its update was on the way. */
const MAX_REFRESH_ROUNDS = 3;

/** True when the stored request is no longer what an approval message rendered from `shown` says. */
function movedOn(shown: RoleChangeRequest, now: RoleChangeRequest): boolean {
  return (
    now.state !== shown.state ||
    now.updatedAt !== shown.updatedAt ||
    (now.approvals?.length ?? 0) !== (shown.approvals?.length ?? 0)
  );
}

export class AppContext {
  readonly deps: AccessRequestDeps;
  readonly log: Logger;
  readonly now: () => number;
  /** What the transitions module needs (src/app/transitions.ts): the store, the queues and this clock. */
  readonly transitions: TransitionDeps;

  constructor(deps: AccessRequestDeps) {
    this.deps = deps;
    this.log = deps.logger.child({ module: 'access-requests' });
    this.now = deps.now ?? Date.now;
    this.transitions = { store: deps.store, queues: deps.queues, now: this.now };
  }

  get policy(): Policy {
    const p = this.deps.policy;
    return typeof p === 'function' ? p() : p;
  }

  /**
   * The target an input is for, on the named instance (tenant) or the default one when none is named: tenant roles,
   * or for a role in a resource (`resourceKind`, e.g. `space`) the kind of access whose entitlements live in such
   * resources. An unknown instance is refused, naming the configured ones; so is a kind of resource no configured
   * target has.
   */
  target(instance?: string): { ok: true; target: AccessTarget } | UnknownInstance;
  target(
    instance: string | undefined,
    resourceKind: undefined,
    kind: string | undefined,
  ): { ok: true; target: AccessTarget } | UnknownInstance;
  target(
    instance: string | undefined,
    resourceKind: string | undefined,
    kind?: string,
  ): { ok: true; target: AccessTarget } | UnknownInstance | ResourceRefused;
  target(
    instance?: string,
    resourceKind?: string,
    /** The kind of access the front asks about (`mode-groups` for /mode); tenant roles when absent. */
    asked?: string,
  ): { ok: true; target: AccessTarget } | UnknownInstance | ResourceRefused {
    const kind =
      resourceKind === undefined ? (asked ?? DEFAULT_TARGET.kind) : this.kindWithResource(resourceKind);
    if (kind === undefined) {
      const system = this.deps.targets.defaultOf(DEFAULT_TARGET.kind)?.words.system ?? 'Qlik';
      return {
        ok: false,
        code: 'resource-refused',
        system,
        refusal: { ok: false, code: 'resource-unsupported', resourceKind: resourceKind ?? '' },
      };
    }
    if (instance === undefined) {
      const t = this.deps.targets.defaultOf(kind);
      if (!t) throw new UnknownTargetError({ kind, instance: DEFAULT_TARGET.instance });
      return { ok: true, target: t };
    }
    const ofKind = this.deps.targets.list().filter((t) => t.kind === kind);
    const wanted = instance.trim().toLowerCase();
    const t = ofKind.find((x) => x.instance.toLowerCase() === wanted);
    if (t) return { ok: true, target: t };
    return {
      ok: false,
      code: 'unknown-instance',
      instance,
      system: ofKind[0]?.words.system ?? kind,
      noun: ofKind[0]?.words.instance ?? 'instance',
      configured: ofKind.map((x) => x.instance),
    };
  }

  /** Whether a target of `kind` is configured (e.g. Mode, which is off unless its variables are set). */
  hasKind(kind: string): boolean {
    return this.deps.targets.defaultOf(kind) !== undefined;
  }

  /** The kind of access whose entitlements live in resources of `resourceKind`, when one is configured. */
  kindWithResource(resourceKind: string): string | undefined {
    const wanted = resourceKind.toLowerCase();
    return this.deps.targets.list().find((t) => t.resourceKind === wanted)?.kind;
  }

  /** The target a request is for (its own record, or the default tenant's roles); throws when not configured. */
  targetOfRequest(req: Pick<RoleChangeRequest, 'targetRef'>): AccessTarget {
    return this.deps.targets.get(targetOf(req));
  }

  /**
   * The role a person typed (in the resource they named, for targets with resources), as the target spells it;
   * refused with the closest names when it has none, or with why the resource does not do.
   */
  async entitlement(
    target: AccessTarget,
    name: string,
    resource?: { kind: string; name: string },
  ): Promise<{ ok: true; entitlement: EntitlementRef } | UnknownRole | ResourceRefused> {
    const found = await target.resolveEntitlement({ name, ...(resource === undefined ? {} : { resource }) });
    if (found.ok) return found;
    if (found.code !== 'not-found')
      return { ok: false, code: 'resource-refused', system: target.words.system, refusal: found };
    return {
      ok: false,
      code: 'unknown-role',
      role: name,
      system: target.words.system,
      suggestions: found.suggestions,
    };
  }

  /**
   * Whether the person approves the request: an approver of its role on its tenant (the `tenants.<name>` policy
   * section, when the file has one), or of its space role in its space; and, where the policy lets a space's
   * managers approve, one of that space's managers as the system says now (its owner, `facilitator` holders),
   * matched by the email on their chat profile.
   */
  async isApprover(
    req: Pick<RoleChangeRequest, 'entitlement' | 'targetRef'> &
      Pick<Partial<RoleChangeRequest>, 'escalation'>,
    person: PersonRef,
  ): Promise<boolean> {
    const ref = targetOf(req);
    const resource = ref.resource;
    const rule = requestRule(this.policy, {
      kind: ref.kind,
      entitlement: req.entitlement.name,
      tenant: this.tenantOf(req),
      ...(resource === undefined ? {} : { space: resource.name }),
    });
    if (await this.deps.directory.isInAny(person, rule.approvers)) return true;
    // Once a request escalated, its fallback approvers (as the policy names them now) may decide it too.
    if (
      req.escalation !== undefined &&
      rule.fallbackApprovers.length > 0 &&
      (await this.deps.directory.isInAny(person, rule.fallbackApprovers))
    )
      return true;
    if (!rule.managersApprove || resource === undefined) return false;
    const managers = await this.targetOfRequest(req).resourceManagers?.(resource);
    if (!managers || managers.length === 0) return false;
    const u = await this.deps.directory.lookupUser(person);
    if (u.kind !== 'ok') return false;
    const email = u.email.trim().toLowerCase();
    return managers.some((m) => m.email.trim().toLowerCase() === email);
  }

  /** The instance (tenant) a request is for, as configured: the policy's `tenants.<name>` sections are keyed by it. */
  tenantOf(req: Pick<RoleChangeRequest, 'targetRef'>): string {
    try {
      return this.targetOfRequest(req).instance;
    } catch {
      return targetOf(req).instance;
    }
  }

  async isAnyApprover(person: PersonRef): Promise<boolean> {
    const p = this.policy;
    const ids = new Set<string>(p.defaults.approvers);
    for (const rule of p.roles.values()) for (const id of rule.approvers) ids.add(id);
    for (const id of p.invites.rule.approvers) ids.add(id);
    for (const rule of [p.mode.defaults, ...p.mode.groups.values(), ...p.mode.collections.values()])
      for (const id of rule.approvers) ids.add(id);
    for (const section of [...(p.tenants?.values() ?? []), p.spaceDefaults, ...p.spaces.values()]) {
      for (const id of section.defaults.approvers) ids.add(id);
      for (const rule of section.roles.values()) for (const id of rule.approvers) ids.add(id);
    }
    return this.deps.directory.isInAny(person, [...ids]);
  }

  /** The requester, the person it was granted to, or an approver of the role may act on an applied grant. */
  async mayActOnGrant(req: RoleChangeRequest, person: PersonRef): Promise<boolean> {
    if (samePerson(req.requester, person)) return true;
    if (req.target.kind === 'user' && samePerson(req.target.person, person)) return true;
    return this.isApprover(req, person);
  }

  /** A person's name in the chat, when it can be read (the front words who pressed a button). */
  async personName(person: PersonRef): Promise<string | undefined> {
    const u = await this.deps.directory.lookupUser(person).catch(() => undefined);
    return u && 'name' in u ? u.name : undefined;
  }

  /**
   * Updates the approval message: true when it now shows `req`'s state; false (logged) when the chat refused the
   * update, which is never allowed to undo a decision already stored.
   */
  async refresh(req: RoleChangeRequest): Promise<boolean> {
    // Every decision the app stores comes through here: the people's Homes are refreshed beside the message.
    await this.homesChanged(req);
    let shown = req;
    try {
      // An update the chat held back (a rate limit waited out, a retry) can land after a later one, e.g. the
      // worker's "applied": the message would then show an older state for good. So once it has landed, the request
      // is read again, and a request that moved on meanwhile is shown again as it is now.
      for (let round = 0; round < MAX_REFRESH_ROUNDS; round++) {
        await this.deps.notifier.refresh(shown);
        const now = await this.deps.store.get(shown.id).catch(() => undefined);
        if (now === undefined || !movedOn(shown, now)) break;
        shown = now;
      }
      return true;
    } catch (err) {
      this.log.warn({ err: errSummary(err), requestId: req.id }, 'could not update the approval message');
      return false;
    }
  }

  /**
   * Tells the front the request changed, for the personal views it keeps (App Home). Never fails the use case: a
   * Home that missed a change is redrawn at the next change or opening.
   */
  async homesChanged(req: RoleChangeRequest): Promise<void> {
    try {
      await this.deps.notifier.homesChanged?.(req);
    } catch (err) {
      this.log.warn({ err: errSummary(err), requestId: req.id }, 'could not schedule the App Home refresh');
    }
  }

  /** Runs a store/queue operation, marking a Redis outage as such (anything else is a bug and stays one). */
  async db<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw isRedisUnavailable(err) ? new StoreUnavailableError(err) : err;
    }
  }

  /** No use case throws: every failure becomes a failure outcome the front can word. */
  async guard<T>(doing: Doing, fn: () => Promise<T>): Promise<T | Failure> {
    try {
      return await fn();
    } catch (err) {
      const failure = describeFailure(err, doing, (e) => this.#targetWords(e));
      const cause = err instanceof StoreUnavailableError ? err.cause : err;
      const ref = failure.code === 'failed' ? failure.ref : undefined;
      this.log.error({ err: errSummary(cause), ref, doing }, 'request failed');
      return failure;
    }
  }

  #targetWords(err: unknown): string | undefined {
    for (const t of this.deps.targets.list()) {
      const words = t.describeError(err);
      if (words !== undefined) return words;
    }
    return undefined;
  }
}
