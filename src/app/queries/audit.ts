// Owns `/qlik audit [<who>|<role>]`: the most recent audit events, for approvers only, about a person (by every
// name they appear under) or a role; an empty answer for a role the target has never heard of says so.

import { type PersonRef, personKey, type WhoRef } from '../../domain/request.ts';
import type { StoredAuditEvent } from '../../store/audit-log.ts';
import type { AppContext } from '../context.ts';
import type { Failure, UnknownInstance } from '../outcomes.ts';

export interface AuditAnswer {
  ok: true;
  events: StoredAuditEvent[];
}

export interface AuditFilter {
  who?: WhoRef;
  role?: string;
  /** The tenant (target instance) a role filter's hint looks the role up in; the default one when absent. */
  instance?: string;
}

export type AuditOutcome =
  | AuditAnswer
  /** Only approvers may read the audit log. */
  | { ok: false; code: 'not-approver' }
  /** No events for a role the target has never heard of (most likely a typo); `suggestions` are the closest. */
  | {
      ok: false;
      code: 'unknown-role-no-events';
      role: string;
      system: string;
      suggestions: readonly string[];
    }
  | UnknownInstance
  | Failure;

const AUDIT_LIMIT = 25;

export function auditLog(ctx: AppContext, asker: PersonRef, filter: AuditFilter): Promise<AuditOutcome> {
  return ctx.guard('reading-audit', async (): Promise<AuditOutcome> => {
    if (!(await ctx.isAnyApprover(asker))) return { ok: false, code: 'not-approver' };
    const chosen = ctx.target(filter.instance);
    if (!chosen.ok) return chosen;
    const queries: { who?: string; role?: string }[] = [];
    if (filter.role !== undefined) queries.push({ role: filter.role });
    else if (filter.who === undefined) queries.push({});
    else {
      for (const w of await auditNames(ctx, filter.who, asker)) queries.push({ who: w });
    }
    const batches = await Promise.all(
      queries.map((q) => ctx.db(() => ctx.deps.audit.recent({ limit: AUDIT_LIMIT, ...q }))),
    );
    const byId = new Map<string, StoredAuditEvent>();
    for (const e of batches.flat()) byId.set(e.id, e);
    const events = [...byId.values()].sort((a, b) => compareStreamIds(b.id, a.id)).slice(0, AUDIT_LIMIT);
    if (events.length === 0 && filter.role !== undefined) {
      // "No events" for a role the target has never heard of is most likely a typo: say so, with the closest
      // names. A failure of the target here only loses the hint, not the (empty) answer.
      const target = chosen.target;
      const found = await target.resolveEntitlement({ name: filter.role }).catch(() => undefined);
      if (found && !found.ok && found.code === 'not-found') {
        return {
          ok: false,
          code: 'unknown-role-no-events',
          role: filter.role,
          system: target.words.system,
          suggestions: found.suggestions,
        };
      }
    }
    return { ok: true, events };
  });
}

/** The strings a person shows up as in the audit stream: their Slack id (actor) and email or name (target). */
async function auditNames(ctx: AppContext, who: WhoRef, asker: PersonRef): Promise<string[]> {
  switch (who.kind) {
    case 'email':
      return [who.email];
    case 'group':
      return [`group ${who.name}`];
    case 'me':
    case 'person': {
      const person = who.kind === 'me' ? asker : who.person;
      const id = personKey(person);
      const u = await ctx.deps.directory.lookupUser(person).catch(() => undefined);
      return u?.kind === 'ok' ? [id, u.email] : [id];
    }
  }
}

function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
