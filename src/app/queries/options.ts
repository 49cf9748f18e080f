// Owns what the request form offers (README, "The request form"): the kinds of access it can ask for (one per
// configured target, so a new target shows up without touching the form), what the policy lets a grant of a chosen
// role look like (the durations it allows, whether it needs a reason), and the options a select shows as the person
// types (roles, groups, spaces). Options come from a short-lived cache per target and list, and are ALWAYS answered
// within a budget (Slack drops an options answer after 3 s): a cold cache behind a slow system answers with what it
// has (a stale list, or "still loading") and fills itself in the background for the next keystroke.
import { ACCOUNT_KIND, checkRequest, requestRule } from '../../domain/policy.ts';
import type { AccessTarget } from '../../targets/types.ts';
import type { AppContext } from '../context.ts';

/** One kind of access the form offers: a configured target (kind on one instance). */
export interface FormKind {
  /** `<kind>:<instance>`: what the form's kind select carries. */
  key: string;
  kind: string;
  instance: string;
  /** The target's system (`Qlik`, `Mode`) and what an instance is called (`tenant`), for the front's words. */
  system: string;
  instanceNoun: string;
  /** What its resources are called (`space`) when its entitlements live in them: the form then asks for one. */
  resourceKind?: string;
  /** More than one instance of this kind is configured: the front names the instance. */
  several: boolean;
}

/** What the policy lets a grant of one role (in one space) look like, for the form's duration and reason fields. */
export interface FormRule {
  /** The durations the form offers, shortest first, each within the rule's minimum and maximum. */
  durationsMs: number[];
  /** A grant may be permanent (no maximum and no duration required). */
  permanent: boolean;
  /** The grant must name a duration (a permanent one, or the cap by default, is refused). */
  required: boolean;
  reasonRequired: boolean;
  /** The rule's cap, when it has one (a grant naming no duration gets it). */
  maxMs?: number;
}

/** One option of a select, as the app has it (the front clips the label to Slack's limits). */
export interface FormOption {
  label: string;
  value: string;
  description?: string;
}

export interface OptionsQuery {
  /** The kind's key (FormKind.key). */
  kindKey: string;
  /** Which list: the roles / groups of the kind, or its resources (spaces). */
  field: 'entitlement' | 'resource';
  /** What the person typed so far. */
  text: string;
  /** The resource already chosen (for the policy's per-space rules when filtering roles). */
  resource?: string;
}

export type OptionsAnswer =
  | {
      ok: true;
      options: FormOption[];
      /** The list is still being read (a slow system, nothing cached): the front says so and asks to type again. */
      loading: boolean;
      /** The answer came from a list older than the cache's lifetime (the system was too slow to read it again). */
      stale: boolean;
      /** More matched than fit. */
      more: boolean;
    }
  | { ok: false; code: 'unknown-kind' }
  | { ok: false; code: 'unavailable'; message?: string };

/** The grant durations the form picks from, when the policy allows them. */
const STANDARD_DURATIONS_MS = [
  15 * 60_000,
  3_600_000,
  4 * 3_600_000,
  8 * 3_600_000,
  86_400_000,
  3 * 86_400_000,
  7 * 86_400_000,
  30 * 86_400_000,
  90 * 86_400_000,
];

/** At most this many options go back to Slack ("a maximum of 100 options"). */
export const MAX_OPTIONS = 100;
/** Slack refuses an option value over 150 characters; a name that long can't be offered as a value. */
const MAX_VALUE = 150;
/** How long a list read from a target answers suggestions without reading it again. */
export const OPTIONS_TTL_MS = 45_000;
/**
 * How long a suggestion waits for a target before answering with what is cached: Slack gives up after 3 s, and
 * the answer still has to travel back.
 */
export const OPTIONS_BUDGET_MS = 2_000;

/** The kinds the form offers, in configuration order. Invites are not a kind of access to grant: they have their own command. */
export function formKinds(ctx: AppContext): FormKind[] {
  const targets = ctx.deps.targets.list().filter((t) => t.kind !== ACCOUNT_KIND);
  const count = new Map<string, number>();
  for (const t of targets) count.set(t.kind, (count.get(t.kind) ?? 0) + 1);
  return targets.map((t) => ({
    key: kindKey(t),
    kind: t.kind,
    instance: t.instance,
    system: t.words.system,
    instanceNoun: t.words.instance,
    ...(t.resourceKind === undefined ? {} : { resourceKind: t.resourceKind }),
    several: (count.get(t.kind) ?? 0) > 1,
  }));
}

export function kindKey(t: Pick<AccessTarget, 'kind' | 'instance'>): string {
  return `${t.kind}:${t.instance}`;
}

/** The configured kind a form's key names, or undefined (a kind since removed from the configuration, or forged). */
export function formKind(ctx: AppContext, key: string): FormKind | undefined {
  return formKinds(ctx).find((k) => k.key === key);
}

/** The rule a grant of `role` (in `resource`) of the kind is decided by, as the form's fields need it. */
export function formRule(
  kind: FormKind,
  policy: AppContext['policy'],
  role?: string,
  resource?: string,
): FormRule {
  const rule = requestRule(policy, {
    kind: kind.kind,
    entitlement: role ?? '',
    tenant: kind.instance,
    ...(resource === undefined ? {} : { space: resource }),
  });
  const min = rule.minDurationMs;
  const max = rule.maxDurationMs;
  const within = (ms: number) => ms >= min && (max === undefined || ms <= max);
  const durations = new Set(STANDARD_DURATIONS_MS.filter(within));
  // The cap itself is always a choice (it is what a grant without a duration gets); so is the minimum when no
  // standard duration fits between the two.
  if (max !== undefined && within(max)) durations.add(max);
  if (durations.size === 0 && within(min)) durations.add(min);
  return {
    durationsMs: [...durations].sort((a, b) => a - b),
    permanent: max === undefined && !rule.durationRequired,
    required: rule.durationRequired,
    reasonRequired: rule.reasonRequired,
    ...(max === undefined ? {} : { maxMs: max }),
  };
}

interface CacheEntry {
  options: FormOption[];
  /** Every match is in `options` (the target listed them all). */
  complete: boolean;
  at: number;
}

/**
 * The lists suggestions are answered from, per (target, list, typed text): read once per OPTIONS_TTL_MS, and a read
 * in flight is shared by every keystroke that needs it.
 */
export class FormOptionsCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #loading = new Map<string, Promise<CacheEntry>>();
  readonly ttlMs: number;
  readonly budgetMs: number;

  constructor(opts: { ttlMs?: number; budgetMs?: number } = {}) {
    this.ttlMs = opts.ttlMs ?? OPTIONS_TTL_MS;
    this.budgetMs = opts.budgetMs ?? OPTIONS_BUDGET_MS;
  }

  /**
   * The entry for `key`: fresh from the cache, else read (joining a read in flight) within the budget; when the
   * budget runs out first, the read carries on and fills the cache, and `undefined` is returned.
   */
  async get(
    key: string,
    now: number,
    read: () => Promise<Omit<CacheEntry, 'at'>>,
    clock: () => number,
  ): Promise<{ entry?: CacheEntry; stale: boolean; error?: unknown }> {
    const cached = this.#entries.get(key);
    if (cached && now - cached.at < this.ttlMs) return { entry: cached, stale: false };
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = read().then((e) => {
        const entry = { ...e, at: clock() };
        this.#entries.set(key, entry);
        this.#prune(clock());
        return entry;
      });
      const settle = () => this.#loading.delete(key);
      loading.then(settle, settle);
      this.#loading.set(key, loading);
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.budgetMs);
    });
    try {
      const got = await Promise.race([loading, late]);
      if (got !== 'late') return { entry: got, stale: false };
      return cached ? { entry: cached, stale: true } : { stale: false };
    } catch (error) {
      // A failed read answers with the old list when there is one: better a list a minute old than none.
      return cached ? { entry: cached, stale: true } : { stale: false, error };
    } finally {
      clearTimeout(timer);
    }
  }

  /** A fresh entry for `key`, without reading anything. */
  peek(key: string, now: number): CacheEntry | undefined {
    const e = this.#entries.get(key);
    return e && now - e.at < this.ttlMs ? e : undefined;
  }

  /** Drops entries well past their lifetime, so typing every letter of the alphabet does not grow memory for good. */
  #prune(now: number): void {
    for (const [k, e] of this.#entries) if (now - e.at > 4 * this.ttlMs) this.#entries.delete(k);
  }
}

/** Matches first by prefix, then by containing the text, each in the list's order. */
function filtered(options: readonly FormOption[], text: string): FormOption[] {
  const t = text.trim().toLowerCase();
  if (t === '') return [...options];
  const starts: FormOption[] = [];
  const contains: FormOption[] = [];
  for (const o of options) {
    const l = o.label.toLowerCase();
    if (l.startsWith(t)) starts.push(o);
    else if (l.includes(t)) contains.push(o);
  }
  return [...starts, ...contains];
}

/** The options of one select of the form for what the person typed, always within the cache's budget. */
export async function formOptions(
  ctx: AppContext,
  cache: FormOptionsCache,
  q: OptionsQuery,
): Promise<OptionsAnswer> {
  const kind = formKind(ctx, q.kindKey);
  if (kind === undefined) return { ok: false, code: 'unknown-kind' };
  const target = ctx.deps.targets.get({ kind: kind.kind, instance: kind.instance });
  const now = ctx.now();
  if (q.field === 'entitlement') {
    const policy = ctx.policy;
    // One list per target: the roles do not depend on what is typed, so the text filters a cached list.
    const got = await cache.get(
      `${kind.key}\u0000entitlement`,
      now,
      async () => {
        const all = await target.listEntitlements();
        return {
          options: all
            .filter((e) => e.name.length <= MAX_VALUE)
            .map((e) => ({
              label: e.name,
              value: e.name,
              ...(e.description ? { description: e.description } : {}),
            })),
          complete: true,
        };
      },
      ctx.now,
    );
    if (!got.entry) return unavailable(ctx, target, got.error);
    // What the policy says can't be asked for from the chat is not offered (it would only be refused).
    const requestable = got.entry.options.filter(
      (o) =>
        requestRule(policy, {
          kind: kind.kind,
          entitlement: o.value,
          tenant: kind.instance,
          ...(q.resource === undefined ? {} : { space: q.resource }),
        }).requestable,
    );
    return answer(filtered(requestable, q.text), got.stale);
  }
  if (!target.listResources) return { ok: false, code: 'unknown-kind' };
  const list = target.listResources.bind(target);
  const text = q.text.trim().toLowerCase();
  // Every resource, read once: when the system has few enough of them, any text is answered from this list.
  const allKey = `${kind.key}\u0000resource\u0000`;
  const whole = cache.peek(allKey, now);
  if (whole?.complete) return answer(filtered(whole.options, text), false);
  const got = await cache.get(
    `${allKey}${text}`,
    now,
    async () => {
      const found = await list(text === '' ? undefined : text, MAX_OPTIONS);
      const options = found.resources
        .filter((r) => r.name.length <= MAX_VALUE)
        .map((r) => ({ label: r.name, value: r.name, ...(r.type ? { description: r.type } : {}) }));
      return { options, complete: found.total <= found.resources.length };
    },
    ctx.now,
  );
  if (got.entry) return answer(filtered(got.entry.options, text), got.stale, !got.entry.complete);
  // Nothing for this text in time: a shorter text's complete list (typed a keystroke ago) still answers it.
  for (let n = text.length - 1; n >= 0; n--) {
    const shorter = cache.peek(`${allKey}${text.slice(0, n)}`, now);
    if (shorter?.complete) return answer(filtered(shorter.options, text), false);
  }
  return got.error === undefined
    ? { ok: true, options: [], loading: true, stale: false, more: false }
    : unavailable(ctx, target, got.error);
}

function answer(options: FormOption[], stale: boolean, more = false): OptionsAnswer {
  return {
    ok: true,
    options: options.slice(0, MAX_OPTIONS),
    loading: false,
    stale,
    more: more || options.length > MAX_OPTIONS,
  };
}

function unavailable(ctx: AppContext, target: AccessTarget, error: unknown): OptionsAnswer {
  // No list and no read under way: the read failed. Say so with the target's words when it has some.
  if (error === undefined) return { ok: true, options: [], loading: true, stale: false, more: false };
  ctx.log.warn(
    { err: { message: error instanceof Error ? error.message : String(error) } },
    'could not read the options for the request form',
  );
  const message = target.describeError(error);
  return { ok: false, code: 'unavailable', ...(message === undefined ? {} : { message }) };
}

/**
 * The policy's checks a form's grant can be given at once, without asking any system: the same checkRequest
 * fileRequest runs (with the role as the form picked it, so as the target spells it). fileRequest checks again.
 */
export function checkFormGrant(
  ctx: AppContext,
  f: { kindKey: string; role: string; resource?: string; reason?: string; durationMs?: number },
): ReturnType<typeof checkRequest> | { ok: false; code: 'unknown-kind' } {
  const kind = formKind(ctx, f.kindKey);
  if (kind === undefined) return { ok: false, code: 'unknown-kind' };
  return checkRequest(ctx.policy, {
    action: 'grant',
    roleName: f.role,
    tenant: kind.instance,
    kind: kind.kind,
    ...(f.resource === undefined ? {} : { space: f.resource }),
    ...(f.reason === undefined ? {} : { reason: f.reason }),
    ...(f.durationMs === undefined ? {} : { durationMs: f.durationMs }),
  });
}
