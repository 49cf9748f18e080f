// Owns the drift check: a periodic comparison of what the bot did (its record of what it made each principal hold,
// src/store/managed.ts) with what each target system says now, for the principals it manages lately (time-bound
// grants still running, and changes within the window). A grant the bot made that is gone, or a role it removed
// that is back, was changed outside the bot. A disagreement is a finding once two runs in a row saw it about the
// same record (one sighting may be a change the bot is writing at that moment), and each finding is reported to
// the approvers once (in the
// channel its request was announced in, else the tenant's approval channel) and audited; it is reported again only
// after it was resolved (the system agrees again) and comes back. Reads are budgeted per run, longest-unchecked
// principals first, so a large record never floods the target's API; a principal whose read fails is left for
// the next run. The check only reads and reports: it never changes access.
import { driftNotice, type Notifier } from '../app/notifier.ts';
import type { Logger } from '../observability/logger.ts';
import type { AuditLog } from '../store/audit-log.ts';
import type { DriftFinding, DriftKind, ManagedHolding, ManagedHoldings } from '../store/managed.ts';
import type { RequestStore } from '../store/request-store.ts';
import type { TargetLookup } from '../targets/registry.ts';
import type { AccessTarget, Holdings } from '../targets/types.ts';

export interface DriftDeps {
  targets: TargetLookup;
  managed: ManagedHoldings;
  audit: Pick<AuditLog, 'append'>;
  notifier: Pick<Notifier, 'reportDrift'>;
  logger: Logger;
  now: () => number;
  /** The approval channel of an instance (tenant), for a finding whose request was announced nowhere. */
  channelFor?: (instance: string) => string | undefined;
}

export interface DriftOptions {
  /** Changes this recent are compared, besides time-bound grants still running; default 30 days. */
  windowMs?: number;
  /** At most this many principals are read from the target systems per run; default 50. */
  maxReads?: number;
}

export interface DriftOutcome {
  /** Principals read this run. */
  checked: number;
  /**
   * Disagreements first seen this run (a finding once the next run sees them again), and findings reported this
   * run (confirmed ones, and ones a failed post left unreported).
   */
  found: string[];
  reported: string[];
  /** Findings the system agrees with again. */
  resolved: string[];
  /** Principals whose read failed (left for the next run). */
  failed: number;
}

const DAY_MS = 86_400_000;

/** One principal in one target (and resource): one read answers every record about it. */
interface Subject {
  key: string;
  entries: ManagedHolding[];
}

export async function checkDrift(deps: DriftDeps, opts: DriftOptions = {}): Promise<DriftOutcome> {
  const out: DriftOutcome = { checked: 0, found: [], reported: [], resolved: [], failed: 0 };
  const now = deps.now();
  const windowMs = opts.windowMs ?? 30 * DAY_MS;
  const open = new Map((await deps.managed.openFindings()).map((f) => [f.entry.field, f]));
  const subjects = new Map<string, Subject>();
  for await (const h of deps.managed.scan()) {
    const running = h.a === 'grant' && h.until !== undefined && h.until > now;
    // An open finding is compared again whatever its age, so its resolution is noticed.
    if (!running && now - h.at > windowMs && !open.has(h.field)) continue;
    const key = subjectKey(h);
    const s = subjects.get(key) ?? { key, entries: [] };
    s.entries.push(h);
    subjects.set(key, s);
  }
  const last = await deps.managed.lastChecked([...subjects.keys()]);
  const due = [...subjects.values()]
    .sort((a, b) => (last.get(a.key) ?? 0) - (last.get(b.key) ?? 0))
    .slice(0, opts.maxReads ?? 50);
  for (const s of due) {
    const read = await readSubject(deps, s);
    await deps.managed.markChecked(s.key, now);
    if (read === undefined) {
      out.failed++;
      continue;
    }
    out.checked++;
    for (const h of s.entries) {
      const kind = disagreement(h, read.holdings);
      const before = open.get(h.field);
      if (kind === undefined) {
        if (before !== undefined && (await deps.managed.resolveFinding(h.field))) {
          open.delete(h.field);
          out.resolved.push(h.field);
        }
        continue;
      }
      // A change the bot made while this read was under way: compare again at the next run.
      const fresh = await deps.managed.get(h.field);
      if (fresh === undefined || fresh.r !== h.r || fresh.a !== h.a || fresh.at !== h.at) continue;
      // The same disagreement about the same change is one finding; another change of the role starts a new one.
      const same =
        before !== undefined && before.kind === kind && before.entry.r === h.r && before.entry.at === h.at;
      if (same && before.confirmedAt !== undefined) continue;
      // Seen once, it may be a change the bot is making right now (written, not yet recorded): it becomes a
      // finding when the next run sees it again.
      const finding: DriftFinding = same ? { ...before, confirmedAt: now } : { kind, entry: h, foundAt: now };
      await deps.managed.putFinding(finding);
      open.set(h.field, finding);
      if (!same) out.found.push(h.field);
    }
  }
  for (const f of open.values()) {
    if (f.confirmedAt === undefined || f.reportedAt !== undefined) continue;
    if (await report(deps, f)) out.reported.push(f.entry.field);
  }
  if (out.found.length + out.resolved.length + out.failed > 0) deps.logger.info(out, 'drift checked');
  return out;
}

/** The principal's holdings in the target (and resource) its records are about; undefined when they can't be read. */
async function readSubject(
  deps: DriftDeps,
  s: Subject,
): Promise<{ target: AccessTarget; holdings: Holdings } | undefined> {
  const h = s.entries[0]!;
  try {
    const target = deps.targets.get(h.target);
    const principal = {
      kind: h.principal.kind,
      id: h.principal.id,
      name: h.who,
      ...(h.email === undefined ? {} : { email: h.email }),
    };
    const resource =
      h.target.resourceId === undefined
        ? undefined
        : {
            kind: h.resKind ?? target.resourceKind ?? 'resource',
            id: h.target.resourceId,
            name: h.res ?? '',
          };
    return { target, holdings: await target.readHoldings(principal, resource) };
  } catch (err) {
    deps.logger.warn(
      {
        err: { message: err instanceof Error ? err.message : String(err) },
        principal: h.principal,
        target: h.target,
      },
      'drift check could not read a principal; trying again at the next run',
    );
    return undefined;
  }
}

/** How the system disagrees with the record, if it does. Only direct holdings count: groups are not the bot's. */
export function disagreement(h: ManagedHolding, holdings: Holdings): DriftKind | undefined {
  // A resource's owner holds everything in it implicitly: neither a grant nor a removal can be told from that.
  if (holdings.owner) return undefined;
  const name = h.ent.toLowerCase();
  const held = holdings.direct.some((e) => e.id === h.entitlementId || e.name.toLowerCase() === name);
  if (h.a === 'grant') return held ? undefined : 'removed';
  return held ? 'returned' : undefined;
}

/** Tells the approvers, then audits it and marks it reported; false (logged) when the chat refused. */
async function report(deps: DriftDeps, f: DriftFinding): Promise<boolean> {
  const h = f.entry;
  const destination = h.ch || deps.channelFor?.(h.target.instance);
  if (!destination) {
    deps.logger.warn({ field: h.field }, 'drift found but no channel to report it to');
    return false;
  }
  let system = 'the target system';
  try {
    system = deps.targets.get(h.target).words.system;
  } catch {
    // Not configured any more: the record's words still say what drifted.
  }
  const notice = driftNotice(f, system);
  try {
    await deps.notifier.reportDrift(destination, notice);
  } catch (err) {
    deps.logger.warn(
      { err: { message: err instanceof Error ? err.message : String(err) }, field: h.field },
      'could not report a drift; trying again at the next run',
    );
    return false;
  }
  await deps.managed.putFinding({ ...f, reportedAt: deps.now() });
  await deps.audit.append({
    time: deps.now(),
    requestId: h.r,
    actor: 'system',
    action: 'drift',
    target:
      h.email === undefined
        ? `${h.principal.kind === 'group' ? 'group ' : ''}${h.who}`
        : `${h.who} (${h.email})`,
    role: h.ent,
    outcome: f.kind,
    detail:
      f.kind === 'removed'
        ? `${system} no longer shows ${h.ent}, which ${h.r} granted: it was removed outside the bot.`
        : `${system} shows ${h.ent} again, which ${h.r} removed: it was given back outside the bot.`,
  });
  return true;
}

function subjectKey(h: ManagedHolding): string {
  return [
    h.target.kind,
    h.target.instance,
    h.target.resourceId ?? '',
    `${h.principal.kind}:${h.principal.id}`,
  ].join('|');
}

/**
 * Once per deployment, at worker start: records what the requests applied before the record existed made their
 * principals hold (those still stored: applied ones, and grants that ended). Returns how many it looked at.
 */
export async function backfillManaged(deps: {
  store: Pick<RequestStore, 'allIds' | 'indexManaged'>;
  redis: { exists(k: string): Promise<number>; set(k: string, v: string): Promise<unknown> };
  markerKey: string;
  now: () => number;
}): Promise<number> {
  if ((await deps.redis.exists(deps.markerKey)) === 1) return 0;
  let n = 0;
  for await (const ids of deps.store.allIds()) n += await deps.store.indexManaged(ids);
  await deps.redis.set(deps.markerKey, String(deps.now()));
  return n;
}
