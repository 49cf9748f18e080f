// Owns what follows a request's change of state, once for the app and the worker: the audit event (written by the
// store in the same Lua script as the change), the `requestTransitions` metric, and the follow-up jobs each state
// asks for (declared in FOLLOW_UPS: apply after an approval, a notification after a decision or an outcome, the
// revoke of a time-bound grant once applied). Call sites say who did it and how it went; nothing else is by hand.
import {
  describeTarget,
  type PersonRef,
  personKey,
  type RequestState,
  type RoleChangeRequest,
} from '../domain/request.ts';
import { requestTransitions } from '../observability/metrics.ts';
import {
  cancelNudges,
  enqueueApproved,
  enqueueNotify,
  type Queues,
  scheduleRevoke,
} from '../queue/queues.ts';
import type { AuditEvent } from '../store/audit-log.ts';
import type {
  ApprovalResult,
  CreateResult,
  NewRequest,
  RequestStore,
  TransitionResult,
} from '../store/request-store.ts';

/** What a transition needs: the store's guarded writes, the queues for the follow-ups, and the clock. */
export interface TransitionDeps {
  store: Pick<RequestStore, 'create' | 'transition' | 'addApproval'>;
  queues: Queues;
  now: () => number;
}

/** Who made the change and how it went, for its audit event (the action is the state it moved to). */
export interface TransitionNote {
  /** A person's id on the front, `system` (worker, sweeps) or `policy` (auto-approval). */
  actor: string;
  outcome: string;
  detail?: string;
  before?: string[];
  after?: string[];
}

/** What the caller learnt between the change and its follow-ups that the follow-ups should know. */
export interface FollowUpHints {
  /** The request's messages already show the new state: the notification need not refresh them again. */
  refreshed?: boolean;
}

export interface TransitionOptions {
  /**
   * Runs after the change is stored and before its follow-up jobs are queued (e.g. refresh the messages first, or
   * announce an auto-approved request before its apply job can report on it).
   */
  beforeFollowUps?: (request: RoleChangeRequest) => Promise<FollowUpHints | undefined>;
}

type FollowUp = (deps: TransitionDeps, request: RoleChangeRequest, hints: FollowUpHints) => Promise<unknown>;

const notifyDecision: FollowUp = (d, r, hints) =>
  enqueueNotify(d.queues, r.id, 'decision', undefined, hints.refreshed ? { refreshed: true } : {});
const notifyRevoked: FollowUp = (d, r) => enqueueNotify(d.queues, r.id, 'revoked');

/** A decided request's reminder and escalation are removed first (each also checks the state, should one run). */
const decided =
  (f: FollowUp): FollowUp =>
  async (d, r, hints) => {
    if (r.nudges !== undefined) await cancelNudges(d.queues, r.id);
    return f(d, r, hints);
  };

/** The jobs that must follow a request reaching each state. Each is idempotent (stable job ids). */
const FOLLOW_UPS: Partial<Record<RequestState, FollowUp>> = {
  approved: decided((d, r) => enqueueApproved(d.queues, r, d.now())),
  denied: decided(notifyDecision),
  expired: decided(notifyDecision),
  cancelled: decided(async () => undefined),
  applied: async (d, r) => {
    const revokeAt = r.result?.revokeAt;
    if (revokeAt !== undefined) await scheduleRevoke(d.queues, r.id, revokeAt, d.now());
    await enqueueNotify(d.queues, r.id, 'result');
  },
  failed: (d, r) => enqueueNotify(d.queues, r.id, 'result'),
  revoked: notifyRevoked,
  'expired-revoked': notifyRevoked,
};

/**
 * Moves the request from one of `from` to `to` (the store's compare-and-set) with its audit event in the same
 * script; when it moved, counts it and queues what the new state asks for. A refused move does none of that.
 */
export async function transition(
  deps: TransitionDeps,
  request: RoleChangeRequest,
  from: RequestState | RequestState[],
  to: RequestState,
  patch: Partial<RoleChangeRequest>,
  note: TransitionNote,
  opts: TransitionOptions = {},
): Promise<TransitionResult> {
  const now = deps.now();
  const res = await deps.store.transition(
    request.id,
    from,
    to,
    patch,
    now,
    auditEvent(request, to, note, now),
  );
  if (!res.ok) return res;
  requestTransitions.inc({ state: to });
  const hints = (await opts.beforeFollowUps?.(res.request)) ?? {};
  await followUps(deps, res.request, hints);
  return res;
}

/** Files a request (pending, audited as `requested`), unless a pending duplicate exists. */
export async function file(
  deps: TransitionDeps,
  draft: NewRequest,
  note: TransitionNote,
  now: number = deps.now(),
): Promise<CreateResult> {
  // The store sets the event's requestId once it has chosen the id.
  const res = await deps.store.create(draft, now, {
    ...auditEvent({ ...draft, id: '' }, 'pending', note, now),
    action: 'requested',
  });
  if (res.ok) requestTransitions.inc({ state: 'pending' });
  return res;
}

/**
 * Counts one approver's approval (audited when it counted); the approval that completes the request moves it to
 * approved, which is then counted and followed up like any other transition.
 */
export async function addApproval(
  deps: TransitionDeps,
  request: RoleChangeRequest,
  approver: PersonRef,
): Promise<ApprovalResult> {
  const now = deps.now();
  const res = await deps.store.addApproval(
    request.id,
    approver,
    now,
    auditEvent(request, 'approved', { actor: personKey(approver), outcome: 'approved' }, now),
  );
  if (res.outcome === 'approved') {
    requestTransitions.inc({ state: 'approved' });
    await followUps(deps, res.request, {});
  }
  return res;
}

/**
 * Queues again what the request's current state asks for: for a re-run that finds the request already moved (a
 * crash between the change and its follow-ups). Each job is queued once however often this runs.
 */
export async function followUps(
  deps: TransitionDeps,
  request: RoleChangeRequest,
  hints: FollowUpHints = {},
): Promise<void> {
  await FOLLOW_UPS[request.state]?.(deps, request, hints);
}

function auditEvent(
  request: Pick<RoleChangeRequest, 'id' | 'target' | 'entitlement'>,
  to: RequestState,
  note: TransitionNote,
  now: number,
): AuditEvent {
  return {
    time: now,
    ...(request.id === '' ? {} : { requestId: request.id }),
    actor: note.actor,
    action: to,
    target: describeTarget(request.target),
    role: request.entitlement.name,
    outcome: note.outcome,
    ...(note.detail === undefined ? {} : { detail: note.detail }),
    ...(note.before === undefined ? {} : { before: note.before }),
    ...(note.after === undefined ? {} : { after: note.after }),
  };
}
