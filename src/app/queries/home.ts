// Owns what one person's App Home shows (README "App Home"): their pending requests, the pending requests they may
// approve now (the same finding as `/qlik requests`), their applied time-bound grants with the time left, and their
// recent outcomes; and who is concerned by a change to one request (whose Home may show it). Every read is bounded,
// so a Home is drawn in the same time whatever the size of the store; the buttons a front shows on it run the same
// click-time checks as everywhere else, so what the Home shows only decides what is offered, never what is allowed.
import {
  type PersonRef,
  type RequestState,
  type RoleChangeRequest,
  samePerson,
} from '../../domain/request.ts';
import type { AppContext } from '../context.ts';
import type { Failure } from '../outcomes.ts';
import { listRequests } from './requests.ts';

/** An applied time-bound grant as its Home shows it: the grant, and how long it still runs (ms, never negative). */
export interface HomeGrant {
  request: RoleChangeRequest;
  leftMs: number;
}

export interface HomeAnswer {
  ok: true;
  /** Their pending requests as requester, oldest first. */
  mine: RoleChangeRequest[];
  /** Pending requests they may approve now, by the policy and their groups (never their own, nor a grant to them). */
  toApprove: RoleChangeRequest[];
  /** Their applied time-bound grants (as requester or as the person who holds it), the soonest to end first. */
  grants: HomeGrant[];
  /** Their requests that settled most recently (filed or received), the newest first; at most HOME_RECENT. */
  recent: RoleChangeRequest[];
  /** When this was read (epoch ms): the front says "as of". */
  at: number;
}

/** How many recent outcomes a Home lists. */
export const HOME_RECENT = 10;
/** How many applied time-bound grants are read to find one person's (the index holds every person's). */
export const TIMEBOUND_SCAN = 1000;
/** How many of the newest audit events are read to find the requests that settled recently. */
export const RECENT_AUDIT_SCAN = 2000;
/** How many distinct requests of those events are read at most. */
const RECENT_REQUEST_SCAN = 300;

/** States a request rests in once it is settled: what "recent outcomes" lists. */
const SETTLED: ReadonlySet<RequestState> = new Set([
  'denied',
  'expired',
  'cancelled',
  'applied',
  'failed',
  'revoked',
  'expired-revoked',
]);

/** True when the person filed the request or is the user it is for. */
export function concerns(req: RoleChangeRequest, person: PersonRef): boolean {
  if (samePerson(req.requester, person)) return true;
  return req.target.kind === 'user' && samePerson(req.target.person, person);
}

/** The Home of one person, as of now. */
export async function home(ctx: AppContext, person: PersonRef): Promise<HomeAnswer | Failure> {
  const pending = await listRequests(ctx, person);
  if (!pending.ok) return pending;
  return ctx.guard('listing-requests', async (): Promise<HomeAnswer> => {
    const now = ctx.now();
    const [timeBound, recent] = await Promise.all([
      ctx.db(() => ctx.deps.store.listTimeBound(TIMEBOUND_SCAN)),
      recentOutcomes(ctx, person),
    ]);
    const grants = timeBound
      .filter((r) => r.action === 'grant' && concerns(r, person) && r.result?.revokeAt !== undefined)
      .map((r) => ({ request: r, leftMs: Math.max(0, (r.result?.revokeAt ?? now) - now) }));
    const live = new Set(grants.map((g) => g.request.id));
    return {
      ok: true,
      mine: pending.mine,
      toApprove: pending.toApprove,
      grants,
      // A grant still running is shown with its actions above; listing it again as an outcome says nothing new.
      recent: recent.filter((r) => !live.has(r.id)),
      at: now,
    };
  });
}

/**
 * The person's most recently settled requests: the requests named by the newest audit events (every settling is
 * audited), read once each, kept when the person filed or received them. Bounded by RECENT_AUDIT_SCAN events, so
 * on a busy bot an outcome older than that many events is no longer listed (`/qlik audit` still has it).
 */
async function recentOutcomes(ctx: AppContext, person: PersonRef): Promise<RoleChangeRequest[]> {
  const events = await ctx.db(() => ctx.deps.audit.recent({ limit: RECENT_AUDIT_SCAN }));
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const e of events) {
    if (e.requestId === undefined || seen.has(e.requestId)) continue;
    seen.add(e.requestId);
    ids.push(e.requestId);
    if (ids.length >= RECENT_REQUEST_SCAN) break;
  }
  const requests = await ctx.db(() => ctx.deps.store.getMany(ids));
  return requests
    .filter((r) => SETTLED.has(r.state) && concerns(r, person))
    .sort((a, b) => b.updatedAt - a.updatedAt)
    .slice(0, HOME_RECENT);
}

/**
 * The people whose Home may show the request, among `candidates` (the people who opened their Home): its requester,
 * the user it is for, and everyone who approves it by the policy as it is now (user groups, fallback approvers
 * once escalated and a space's managers included: the same check as Approve). Someone who was an approver when
 * their Home was drawn and no longer is keeps a stale line until their next refresh or opening, where the buttons'
 * own checks refuse it.
 */
export async function homeAudience(
  ctx: AppContext,
  req: RoleChangeRequest,
  candidates: readonly PersonRef[],
): Promise<PersonRef[]> {
  const out: PersonRef[] = [];
  for (const person of candidates) {
    if (concerns(req, person)) {
      out.push(person);
      continue;
    }
    const approver = await ctx.isApprover(req, person).catch((err: unknown) => {
      // One person's lookup failing must not keep the others' Homes stale.
      ctx.log.warn({ err: { message: String(err) }, requestId: req.id }, 'could not check an approver');
      return false;
    });
    if (approver) out.push(person);
  }
  return out;
}
