// Owns the access-request application (SPEC §1–§2): filing grant/revoke requests, approvals, denials,
// cancellation, extension, "Revoke now", and the read-only answers (who-has, whois, roles, requests, audit).
// It knows nothing about Bolt: Slack reaches it through the listeners, and it reaches Slack only through the small
// ports below (the Notifier: announce a request, refresh its messages, hand over a file; the directory: look people
// up). Every decision re-reads the policy and the request from Redis at the moment it is made, and every change
// goes through the store's guarded transitions, so double clicks, replays and concurrent approvers decide a
// request once.
import { stringify } from 'csv-stringify';
import { formatDuration } from '../domain/duration.ts';
import {
  approverEligibility,
  checkRequest,
  moreApprovals,
  type Policy,
  rolePolicy,
} from '../domain/policy.ts';
import {
  describeTarget,
  type MessageRef,
  type Principal,
  type RoleAction,
  type RoleChangeRequest,
} from '../domain/request.ts';
import { plainTime } from '../domain/time.ts';
import type { Logger } from '../observability/logger.ts';
import { requestTransitions } from '../observability/metrics.ts';
import type { HoldersPage } from '../qlik/client.ts';
import type { QlikGroup, QlikRole, QlikUser, QlikUserSummary } from '../qlik/schemas.ts';
import { enqueueApply, enqueueNotify, enqueueRevokeNow, type Queues } from '../queue/queues.ts';
import type { WhoRef } from '../slack/command-parser.ts';
import type { SlackUserLookup } from '../slack/directory.ts';
import { humanDuration } from '../slack/mrkdwn.ts';
import type { AuditEvent, StoredAuditEvent } from '../store/audit-log.ts';
import type { ApprovalResult, CreateResult, NewRequest, TransitionResult } from '../store/request-store.ts';
import { describeFailure, isRedisUnavailable, StoreUnavailableError } from './errors.ts';
import type { Notifier } from './notifier.ts';
import { holds, type ResolvedTarget, type RoleRef, resolveTarget } from './targets.ts';

// ---- ports: what the app needs from the outside world

export interface QlikPort {
  findUsersByEmail(email: string): Promise<QlikUser[]>;
  findGroupByName(name: string): Promise<QlikGroup | undefined>;
  findRole(name: string): Promise<{ role?: QlikRole; suggestions: string[] }>;
  listRoles(opts?: { refresh?: boolean }): Promise<QlikRole[]>;
  usersWithRolePage(roleName: string): Promise<HoldersPage>;
  usersWithRoleAll(roleName: string, start?: HoldersPage): AsyncIterable<QlikUserSummary>;
  usersWithRoleThroughGroupsPage(roleName: string): Promise<{ users: QlikUserSummary[]; total: number }>;
  groupsWithRolePage(roleName: string): Promise<{ groups: QlikGroup[]; total: number }>;
  getGroup(id: string): Promise<QlikGroup>;
}

/** Qlik's Everyone group: a system group that group listings leave out, whose roles every user holds. */
export const EVERYONE_GROUP_ID = '000000000000000000000001';

export interface DirectoryPort {
  lookupUser(userId: string): Promise<SlackUserLookup>;
  findUserIdByEmail(email: string): Promise<string | undefined>;
  /** True when the user is one of `ids`, or a member of one of the user groups (S…) among them. */
  isInAny(userId: string, ids: readonly string[]): Promise<boolean>;
}

/** What the app tells people through the chat (src/app/notifier.ts; SlackNotifier implements it). */
export type NotifierPort = Pick<Notifier, 'announce' | 'refresh' | 'sendFile'>;

export interface StorePort {
  create(input: NewRequest, now?: number, audit?: AuditEvent): Promise<CreateResult>;
  get(id: string): Promise<RoleChangeRequest | undefined>;
  transition(
    id: string,
    from: RoleChangeRequest['state'] | RoleChangeRequest['state'][],
    to: RoleChangeRequest['state'],
    patch?: Partial<RoleChangeRequest>,
    now?: number,
    audit?: AuditEvent,
  ): Promise<TransitionResult>;
  addApproval(id: string, approverId: string, now?: number, audit?: AuditEvent): Promise<ApprovalResult>;
  setApprovalMessage(id: string, ref: MessageRef): Promise<void>;
  listPendingByRequester(userId: string): Promise<RoleChangeRequest[]>;
  listPending(limit?: number): Promise<RoleChangeRequest[]>;
}

export interface AuditPort {
  append(e: AuditEvent): Promise<string>;
  recent(opts: { limit: number; who?: string; role?: string }): Promise<StoredAuditEvent[]>;
}

export interface AccessRequestDeps {
  store: StorePort;
  audit: AuditPort;
  queues: Queues;
  qlik: QlikPort;
  directory: DirectoryPort;
  notifier: NotifierPort;
  /** The policy, or a function returning the current one (decisions read it at the moment they are made). */
  policy: Policy | (() => Policy);
  /** How long a request may stay pending (REQUEST_TTL). */
  requestTtlMs: number;
  logger: Logger;
  now?: () => number;
}

// ---- results

/** A refusal or failure, written for the person who asked. Nothing was changed unless it says so. */
export interface Refusal {
  ok: false;
  message: string;
}

export type FileResult =
  | {
      ok: true;
      request: RoleChangeRequest;
      autoApproved: boolean;
      approvalChannel: string;
      postProblem?: string;
    }
  | { ok: false; duplicateOf: RoleChangeRequest; message: string }
  | Refusal;

/** The outcome of a button press (or `/qlik cancel`): what to tell the person who pressed it. */
export type ClickResult = { ok: true; message: string; request?: RoleChangeRequest } | Refusal;

export interface WhoHasAnswer {
  ok: true;
  role: string;
  directTotal: number;
  /** `status` is Qlik's (active, disabled, invited…), so a listing can show who can't use the role. */
  direct: { name: string; email?: string; status?: string }[];
  viaGroupsTotal: number;
  groups: { name: string }[];
  groupsTotal: number;
  /** More direct holders than are listed: the full list should follow as a CSV (see sendHoldersCsv). */
  csvNeeded: boolean;
  /** The first page already read, so the CSV listing carries on from it instead of reading it again. */
  firstPage: HoldersPage;
  /** The Everyone group holds the role: every user of the tenant has it. Undefined when Qlik didn't say. */
  everyone?: boolean;
}

export interface WhoisAnswer {
  ok: true;
  target: string;
  /** A group has no groups of its own, so its answer has no "through groups" part. */
  kind: 'user' | 'group';
  /** A user's Qlik status (active, disabled, invited…), when Qlik says. */
  status?: string;
  direct: string[];
  viaGroups: { group: string; roles: string[] }[];
}

export interface RolesAnswer {
  ok: true;
  roles: { name: string; type: 'default' | 'custom'; level?: string; description?: string }[];
}

export interface RequestsAnswer {
  ok: true;
  mine: RoleChangeRequest[];
  toApprove: RoleChangeRequest[];
}

export interface AuditAnswer {
  ok: true;
  events: StoredAuditEvent[];
}

export interface FileInput {
  requesterId: string;
  action: RoleAction;
  who: WhoRef;
  roleName: string;
  durationMs?: number;
  reason?: string;
}

/** How many direct holders who-has lists in the message itself; more go to a CSV file. */
export const WHO_HAS_LISTED = 20;
const AUDIT_LIMIT = 25;
const PENDING_SCAN = 500;

export class AccessRequestApp {
  readonly #d: AccessRequestDeps;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(deps: AccessRequestDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ module: 'access-requests' });
    this.#now = deps.now ?? Date.now;
  }

  get policy(): Policy {
    const p = this.#d.policy;
    return typeof p === 'function' ? p() : p;
  }

  // ---- filing ---------------------------------------------------------------------------------------------------

  /** `/qlik grant|revoke`: validates everything, files the request, announces it, and says what happened. */
  fileRequest(input: FileInput): Promise<FileResult> {
    return this.#guard(
      'filing your request',
      async () => {
        const role = await this.#role(input.roleName);
        if (!role.ok) return role;
        const check = checkRequest(this.policy, {
          action: input.action,
          roleName: role.role.name,
          ...(input.reason === undefined ? {} : { reason: input.reason }),
          ...(input.durationMs === undefined ? {} : { durationMs: input.durationMs }),
        });
        if (!check.ok) return { ok: false, message: check.message };
        const resolved = await resolveTarget(input.who, input.requesterId, {
          qlik: this.#d.qlik,
          slack: this.#d.directory,
        });
        if (!resolved.ok) return resolved;
        const held = heldRefusal(input.action, resolved.target, role.role);
        if (held) return held;
        if (
          input.action === 'grant' &&
          resolved.target.status === 'disabled' &&
          !check.rule.allowDisabledUsers
        ) {
          return {
            ok: false,
            message:
              `${resolved.target.principal.name}'s Qlik account is disabled, so a role granted to it would do nothing ` +
              'until a tenant admin enables the account. Ask them to enable it first; nothing was filed.',
          };
        }
        const notes = filingNotes(input.action, resolved.target, role.role, check);
        return this.#file({
          action: input.action,
          target: resolved.target.principal,
          role: { id: role.role.id, name: role.role.name },
          requesterId: input.requesterId,
          ...(input.reason === undefined ? {} : { reason: input.reason }),
          ...(input.action === 'grant' && check.durationMs !== undefined
            ? { durationMs: check.durationMs }
            : {}),
          ...(notes.length > 0 ? { notes } : {}),
        });
      },
      true,
    );
  }

  /** The "Extend" button of an applied time-bound grant: files a new grant of the same role for the same time. */
  extend(requestId: string, clickerId: string): Promise<ClickResult> {
    return this.#guard(
      'extending the grant',
      async () => {
        const orig = await this.#db(() => this.#d.store.get(requestId));
        if (!orig) return notFound(requestId);
        if (orig.action !== 'grant' || orig.durationMs === undefined) {
          return {
            ok: false,
            message: `${orig.id} is not a time-bound grant, so there is nothing to extend.`,
          };
        }
        if (orig.state !== 'applied') {
          return {
            ok: false,
            message: `${orig.id} is ${stateWords(orig.state)}, so it can't be extended. File a new request with \`/qlik grant\`.`,
          };
        }
        if (!(await this.#mayActOnGrant(orig, clickerId))) {
          return {
            ok: false,
            message: `Only the requester, the person it was granted to, or an approver of ${orig.role.name} can extend ${orig.id}.`,
          };
        }
        const check = checkRequest(this.policy, {
          action: 'grant',
          roleName: orig.role.name,
          reason: `Extends ${orig.id}${orig.reason ? `: ${orig.reason}` : ''}`,
          durationMs: orig.durationMs,
        });
        if (!check.ok) return { ok: false, message: check.message };
        const filed = await this.#file({
          action: 'grant',
          target: orig.target,
          role: orig.role,
          requesterId: clickerId,
          reason: clipText(`Extends ${orig.id}${orig.reason ? `: ${orig.reason}` : ''}`, 500),
          durationMs: check.durationMs ?? orig.durationMs,
          extends: orig.id,
        });
        if (!filed.ok) return { ok: false, message: filed.message };
        const verb = filed.autoApproved
          ? 'was approved automatically and is being applied'
          : 'is waiting for approval';
        const note = filed.postProblem ? ` ${filed.postProblem}` : '';
        // Say what Extend does: a new grant of the same length counted from ITS approval; the end moves only then.
        const endsNow =
          orig.result?.revokeAt === undefined ? '' : ` (now ${plainTime(orig.result.revokeAt)})`;
        const what = ` Once it is applied, ${orig.id} ends ${humanDuration(orig.durationMs)} after that${endsNow === '' ? '' : ` instead of at its current end${endsNow}`}; until then nothing changes.`;
        return {
          ok: true,
          request: filed.request,
          message: `Extension filed as ${filed.request.id}: ${filed.request.role.name} for ${describeTarget(filed.request.target)} ${verb}.${what}${note}`,
        };
      },
      true,
    );
  }

  async #file(input: Omit<NewRequest, 'expiresAt' | 'approvalsRequired'>): Promise<FileResult> {
    const policy = this.policy;
    const rule = rolePolicy(policy, input.role.name);
    const now = this.#now();
    const draft: NewRequest = {
      ...input,
      expiresAt: now + this.#d.requestTtlMs,
      approvalsRequired: Math.max(1, rule.approvalsRequired),
    };
    const created = await this.#db(() =>
      this.#d.store.create(draft, now, {
        time: now,
        actor: input.requesterId,
        action: 'requested',
        target: describeTarget(input.target),
        role: input.role.name,
        outcome: 'pending',
        detail: requestDetail(draft),
      }),
    );
    if (!created.ok) {
      return {
        ok: false,
        duplicateOf: created.duplicateOf,
        message: `The same request is already pending as ${created.duplicateOf.id}; nothing new was filed.`,
      };
    }
    requestTransitions.inc({ state: 'pending' });
    let request = created.request;
    if (rule.autoApprove) {
      const approved = await this.#db(() =>
        this.#d.store.transition(request.id, 'pending', 'approved', {}, this.#now(), {
          time: this.#now(),
          actor: 'policy',
          action: 'approved',
          target: describeTarget(request.target),
          role: request.role.name,
          outcome: 'approved',
          detail: 'approved automatically by policy',
        }),
      );
      if (approved.ok) {
        request = approved.request;
        requestTransitions.inc({ state: 'approved' });
      }
    }
    // Announce before enqueueing, so the worker finds the approval message when it reports the result.
    let postProblem: string | undefined;
    try {
      const ref = await this.#d.notifier.announce(policy.approvalChannel, request);
      await this.#db(() => this.#d.store.setApprovalMessage(request.id, ref));
      request = { ...request, approvalMessage: ref };
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      this.#log.warn({ err: errSummary(err), requestId: request.id }, 'could not post the approval message');
      postProblem =
        `I couldn't post it to the approval channel (${slackError(err)}), so approvers won't see it there — ` +
        'they can still find it with `/qlik requests`. Ask an admin to invite the bot to that channel.';
    }
    if (request.state === 'approved') await this.#db(() => enqueueApply(this.#d.queues, request.id));
    return {
      ok: true,
      request,
      autoApproved: request.state === 'approved',
      approvalChannel: policy.approvalChannel,
      ...(postProblem === undefined ? {} : { postProblem }),
    };
  }

  // ---- decisions ------------------------------------------------------------------------------------------------

  /** Approve button. Rights come from the policy and Slack user groups now, never from the payload. */
  approve(requestId: string, clickerId: string): Promise<ClickResult> {
    return this.#guard('recording your approval', async () => {
      const pending = await this.#pendingForDecision(requestId, 'approve');
      if (!pending.ok) return pending;
      const req = pending.request;
      const eligible = approverEligibility(req, clickerId);
      if (!eligible.ok) return { ok: false, message: `${eligible.message} Nothing changed.` };
      if (!(await this.#isApprover(req.role.name, clickerId))) {
        return { ok: false, message: `You are not an approver for ${req.role.name}, so nothing changed.` };
      }
      const self = await this.#selfGrantRefusal(req, clickerId);
      if (self) return self;
      const now = this.#now();
      const res = await this.#db(() =>
        this.#d.store.addApproval(req.id, clickerId, now, {
          time: now,
          actor: clickerId,
          action: 'approved',
          target: describeTarget(req.target),
          role: req.role.name,
          outcome: 'approved',
        }),
      );
      switch (res.outcome) {
        case 'not-found':
          return notFound(requestId);
        case 'duplicate':
          return {
            ok: false,
            message: `You already approved ${req.id}; it needs ${moreApprovals(res.request.approvalsRequired - res.request.approvals.length)} from someone else.`,
          };
        case 'not-pending':
          return {
            ok: false,
            message: `${req.id} is already ${stateWords(res.request.state)}; nothing changed.`,
          };
        case 'recorded':
          await this.#refresh(res.request);
          return {
            ok: true,
            request: res.request,
            message: `Approval recorded for ${req.id} (${res.request.approvals.length} of ${res.request.approvalsRequired}).`,
          };
        case 'approved':
          requestTransitions.inc({ state: 'approved' });
          // Exactly one caller ever reaches this branch for a request; the job id makes the enqueue idempotent too.
          await this.#db(() => enqueueApply(this.#d.queues, req.id));
          await this.#refresh(res.request);
          return {
            ok: true,
            request: res.request,
            message: `You approved ${req.id}; it is being applied now.`,
          };
      }
    });
  }

  /** Deny button: an approver of the role ends the request; the requester is told by DM (notification queue). */
  deny(requestId: string, clickerId: string): Promise<ClickResult> {
    return this.#guard('recording your denial', async () => {
      const pending = await this.#pendingForDecision(requestId, 'deny');
      if (!pending.ok) return pending;
      const req = pending.request;
      if (!(await this.#isApprover(req.role.name, clickerId))) {
        return { ok: false, message: `You are not an approver for ${req.role.name}, so nothing changed.` };
      }
      const now = this.#now();
      const res = await this.#db(() =>
        this.#d.store.transition(req.id, 'pending', 'denied', { deniedBy: clickerId }, now, {
          time: now,
          actor: clickerId,
          action: 'denied',
          target: describeTarget(req.target),
          role: req.role.name,
          outcome: 'denied',
        }),
      );
      if (!res.ok) return this.#lostRace(req.id, res);
      requestTransitions.inc({ state: 'denied' });
      const refreshed = await this.#refresh(res.request);
      await this.#db(() => enqueueNotify(this.#d.queues, req.id, 'decision', undefined, { refreshed }));
      return { ok: true, request: res.request, message: `You denied ${req.id}; the requester will be told.` };
    });
  }

  /** Cancel button or `/qlik cancel R-…`: only the requester may withdraw their pending request. */
  cancel(requestId: string, clickerId: string): Promise<ClickResult> {
    return this.#guard('cancelling the request', async () => {
      const req = await this.#db(() => this.#d.store.get(requestId));
      if (!req) return notFound(requestId);
      if (req.requesterId !== clickerId) {
        return { ok: false, message: `Only the person who filed ${req.id} can cancel it; nothing changed.` };
      }
      if (req.state !== 'pending') {
        return {
          ok: false,
          message: `${req.id} is already ${stateWords(req.state)}, so there is nothing to cancel.`,
        };
      }
      const now = this.#now();
      const res = await this.#db(() =>
        this.#d.store.transition(req.id, 'pending', 'cancelled', { cancelledBy: clickerId }, now, {
          time: now,
          actor: clickerId,
          action: 'cancelled',
          target: describeTarget(req.target),
          role: req.role.name,
          outcome: 'cancelled',
        }),
      );
      if (!res.ok) return this.#lostRace(req.id, res);
      requestTransitions.inc({ state: 'cancelled' });
      await this.#refresh(res.request);
      return { ok: true, request: res.request, message: `Cancelled ${req.id}; nothing will change in Qlik.` };
    });
  }

  /** "Revoke now" on an applied grant: approvers of the role, the requester or the target may press it. */
  revokeNow(requestId: string, clickerId: string): Promise<ClickResult> {
    return this.#guard('queueing the revoke', async () => {
      const req = await this.#db(() => this.#d.store.get(requestId));
      if (!req) return notFound(requestId);
      if (req.action !== 'grant')
        return { ok: false, message: `${req.id} is a revoke; there is nothing to revoke.` };
      if (req.state !== 'applied') {
        return {
          ok: false,
          message: `${req.id} is ${stateWords(req.state)}, so there is nothing to revoke now.`,
        };
      }
      if (!(await this.#mayActOnGrant(req, clickerId))) {
        return {
          ok: false,
          message: `Only the requester, the person it was granted to, or an approver of ${req.role.name} can revoke ${req.id}; nothing changed.`,
        };
      }
      // One press per attempt, across replicas: later presses are told who pressed and when, and record nothing.
      const queued = await this.#db(() => enqueueRevokeNow(this.#d.queues, req.id, clickerId, this.#now()));
      if (!queued.queued) {
        const by = queued.claim.by === clickerId ? 'you' : await this.#personName(queued.claim.by);
        return {
          ok: false,
          message: `The revoke of ${req.role.name} from ${describeTarget(req.target)} (${req.id}) is already under way: ${by} pressed Revoke now ${plainTime(queued.claim.at)}. The result follows in the approval thread.`,
        };
      }
      await this.#db(() =>
        this.#d.audit.append({
          time: this.#now(),
          requestId: req.id,
          actor: clickerId,
          action: 'revoke-requested',
          target: describeTarget(req.target),
          role: req.role.name,
          outcome: 'queued',
        }),
      );
      return {
        ok: true,
        request: req,
        message: `Revoking ${req.role.name} from ${describeTarget(req.target)} now (${req.id}); the result follows in the approval thread.`,
      };
    });
  }

  /** A pending request that may still be decided; an expired one is expired here and then refused. */
  async #pendingForDecision(
    requestId: string,
    verb: 'approve' | 'deny',
  ): Promise<{ ok: true; request: RoleChangeRequest } | Refusal> {
    const req = await this.#db(() => this.#d.store.get(requestId));
    if (!req) return notFound(requestId);
    if (req.state !== 'pending') {
      return { ok: false, message: `${req.id} is already ${stateWords(req.state)}; nothing changed.` };
    }
    const now = this.#now();
    if (now >= req.expiresAt) {
      // The reconciler sweeps expiries too; whoever gets there first moves it, the other sees wrong-state.
      const res = await this.#db(() =>
        this.#d.store.transition(req.id, 'pending', 'expired', {}, now, {
          time: now,
          actor: 'system',
          action: 'expired',
          target: describeTarget(req.target),
          role: req.role.name,
          outcome: 'expired',
        }),
      );
      if (res.ok) {
        requestTransitions.inc({ state: 'expired' });
        const refreshed = await this.#refresh(res.request);
        await this.#db(() => enqueueNotify(this.#d.queues, req.id, 'decision', undefined, { refreshed }));
      }
      return {
        ok: false,
        message: `${req.id} expired before anyone decided, so you can't ${verb} it any more. The requester can file it again.`,
      };
    }
    return { ok: true, request: req };
  }

  #lostRace(id: string, res: Extract<TransitionResult, { ok: false }>): Refusal {
    if (res.reason === 'not-found' || !res.request) return notFound(id);
    return { ok: false, message: `${id} is already ${stateWords(res.request.state)}; nothing changed.` };
  }

  // ---- read-only answers ----------------------------------------------------------------------------------------

  /** `/qlik who-has <role>`: counts and the first holders; the full list comes from sendHoldersCsv. */
  whoHas(roleName: string): Promise<WhoHasAnswer | Refusal> {
    return this.#guard('looking up who has the role', async () => {
      const role = await this.#role(roleName);
      if (!role.ok) return role;
      const name = role.role.name;
      const [direct, viaGroups, groups, everyone] = await Promise.all([
        this.#d.qlik.usersWithRolePage(name),
        this.#d.qlik.usersWithRoleThroughGroupsPage(name),
        this.#d.qlik.groupsWithRolePage(name),
        // Group listings leave system groups out, so the Everyone group is asked on its own; if Qlik won't say,
        // the answer just doesn't mention it rather than failing.
        this.#d.qlik.getGroup(EVERYONE_GROUP_ID).then(
          (g) => g.assignedRoles.some((r) => r.name === name),
          () => undefined,
        ),
      ]);
      return {
        ok: true,
        role: name,
        directTotal: direct.total,
        direct: direct.users.slice(0, WHO_HAS_LISTED).map((u) => ({
          name: u.name || u.email || u.id,
          ...(u.email ? { email: u.email } : {}),
          ...(u.status ? { status: u.status } : {}),
        })),
        viaGroupsTotal: viaGroups.total,
        groups: groups.groups.map((g) => ({ name: g.name })),
        groupsTotal: groups.total,
        csvNeeded: direct.total > WHO_HAS_LISTED,
        firstPage: direct,
        ...(everyone === undefined ? {} : { everyone }),
      };
    });
  }

  /**
   * Streams every direct holder of the role into a CSV and uploads it to the user's DM. Users are read page by
   * page and turned into CSV lines as they arrive; only the CSV text is kept, never the user objects.
   */
  async sendHoldersCsv(
    roleName: string,
    userId: string,
    firstPage?: HoldersPage,
  ): Promise<{ ok: true; rows: number } | Refusal> {
    return this.#guard('building the CSV', async () => {
      const csv = stringify({ header: true, columns: ['name', 'email', 'id', 'status'] });
      const chunks: Buffer[] = [];
      csv.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
      const finished = new Promise<void>((resolve, reject) => {
        csv.on('end', resolve);
        csv.on('error', reject);
      });
      let rows = 0;
      for await (const u of this.#d.qlik.usersWithRoleAll(roleName, firstPage)) {
        csv.write([spreadsheetSafe(u.name ?? ''), spreadsheetSafe(u.email ?? ''), u.id, u.status ?? '']);
        rows++;
      }
      csv.end();
      await finished;
      const date = new Date(this.#now()).toISOString().slice(0, 10);
      await this.#d.notifier.sendFile(userId, {
        filename: `who-has-${roleName.replace(/[^A-Za-z0-9_.-]+/g, '_')}-${date}.csv`,
        title: `Direct holders of ${roleName} (${rows})`,
        content: Buffer.concat(chunks),
        comment: `All ${rows} users who hold ${roleName} directly.`,
      });
      return { ok: true, rows };
    });
  }

  /** `/qlik whois <who>`: a user's or group's roles, direct and through groups. */
  whois(who: WhoRef, requesterId: string): Promise<WhoisAnswer | Refusal> {
    return this.#guard('looking up the roles', async () => {
      // Read-only: the Slack id of an email target is not needed, so a Slack outage doesn't stop the answer.
      const resolved = await resolveTarget(
        who,
        requesterId,
        { qlik: this.#d.qlik, slack: this.#d.directory },
        { linkSlack: false },
      );
      if (!resolved.ok) return resolved;
      const t = resolved.target;
      return {
        ok: true,
        target: describeTarget(t.principal),
        kind: t.principal.kind,
        ...(t.status ? { status: t.status } : {}),
        direct: t.direct.map((r) => r.name),
        viaGroups: t.viaGroups.map((g) => ({ group: g.group, roles: g.roles.map((r) => r.name) })),
      };
    });
  }

  /** `/qlik roles`: the tenant's roles (from the client's cache). */
  listRoles(): Promise<RolesAnswer | Refusal> {
    return this.#guard('listing the roles', async () => {
      const roles = await this.#d.qlik.listRoles();
      return {
        ok: true,
        roles: roles.map((r) => ({
          name: r.name,
          type: r.type === 'custom' ? ('custom' as const) : ('default' as const),
          ...(r.level ? { level: r.level } : {}),
          ...(r.description ? { description: r.description } : {}),
        })),
      };
    });
  }

  /** `/qlik requests`: my pending requests, and the pending ones I may approve right now. */
  listRequests(userId: string): Promise<RequestsAnswer | Refusal> {
    return this.#guard('listing the requests', async () => {
      const now = this.#now();
      const [mine, pending] = await Promise.all([
        this.#db(() => this.#d.store.listPendingByRequester(userId)),
        this.#db(() => this.#d.store.listPending(PENDING_SCAN)),
      ]);
      // A grant to me by email (no Slack id stored) is not mine to approve either; Approve checks it for real.
      const me = await this.#d.directory.lookupUser(userId).catch(() => undefined);
      const myEmail = me?.kind === 'ok' ? me.email.trim().toLowerCase() : undefined;
      const toApprove: RoleChangeRequest[] = [];
      for (const r of pending) {
        if (r.expiresAt <= now || r.requesterId === userId) continue;
        if (r.approvals.some((a) => a.slackUserId === userId)) continue;
        if (!approverEligibility(r, userId).ok) continue;
        if (
          myEmail !== undefined &&
          r.action === 'grant' &&
          r.target.kind === 'user' &&
          r.target.email?.trim().toLowerCase() === myEmail
        ) {
          continue;
        }
        if (await this.#isApprover(r.role.name, userId)) toApprove.push(r);
      }
      return { ok: true, mine: mine.filter((r) => r.expiresAt > now), toApprove };
    });
  }

  /** `/qlik audit [<who>|<role>]`: recent events, for approvers only. */
  auditLog(userId: string, filter: { who?: WhoRef; role?: string }): Promise<AuditAnswer | Refusal> {
    return this.#guard('reading the audit log', async () => {
      if (!(await this.#isAnyApprover(userId))) {
        return { ok: false, message: 'Only approvers can read the audit log.' };
      }
      const queries: { who?: string; role?: string }[] = [];
      if (filter.role !== undefined) queries.push({ role: filter.role });
      else if (filter.who === undefined) queries.push({});
      else {
        for (const w of await this.#auditNames(filter.who, userId)) queries.push({ who: w });
      }
      const batches = await Promise.all(
        queries.map((q) => this.#db(() => this.#d.audit.recent({ limit: AUDIT_LIMIT, ...q }))),
      );
      const byId = new Map<string, StoredAuditEvent>();
      for (const e of batches.flat()) byId.set(e.id, e);
      const events = [...byId.values()].sort((a, b) => compareStreamIds(b.id, a.id)).slice(0, AUDIT_LIMIT);
      if (events.length === 0 && filter.role !== undefined) {
        // "No events" for a role Qlik has never heard of is most likely a typo: say so, with the closest names.
        // A Qlik failure here only loses the hint, not the (empty) answer.
        const found = await this.#d.qlik.findRole(filter.role).catch(() => undefined);
        if (found && !found.role) {
          return {
            ok: false,
            message: `Qlik has no role \`${filter.role}\`, and the audit log has no events for it.${roleHint(found.suggestions)}`,
          };
        }
      }
      return { ok: true, events };
    });
  }

  /** The strings a person shows up as in the audit stream: their Slack id (actor) and email or name (target). */
  async #auditNames(who: WhoRef, requesterId: string): Promise<string[]> {
    switch (who.kind) {
      case 'email':
        return [who.email];
      case 'group':
        return [`group ${who.name}`];
      case 'me':
      case 'slack-user': {
        const id = who.kind === 'me' ? requesterId : who.userId;
        const u = await this.#d.directory.lookupUser(id).catch(() => undefined);
        return u?.kind === 'ok' ? [id, u.email] : [id];
      }
    }
  }

  // ---- shared decisions -----------------------------------------------------------------------------------------

  async #role(name: string): Promise<{ ok: true; role: QlikRole } | Refusal> {
    const found = await this.#d.qlik.findRole(name);
    if (found.role) return { ok: true, role: found.role };
    return {
      ok: false,
      message: `Qlik has no role \`${name}\`.${roleHint(found.suggestions)} Nothing was filed.`,
    };
  }

  /**
   * Refuses an approval of a grant to the clicker themselves, by what Slack and Qlik say now rather than by the
   * Slack id stored at filing (which is missing when the grant was filed by email): the clicker's profile email
   * against the target user's, or the clicker's Qlik groups against the target group. Fails closed: when either
   * can't be read, the approval is refused and the clicker told why.
   */
  async #selfGrantRefusal(req: RoleChangeRequest, clickerId: string): Promise<Refusal | undefined> {
    if (req.action !== 'grant') return undefined;
    const t = req.target;
    let me: SlackUserLookup;
    try {
      me = await this.#d.directory.lookupUser(clickerId);
    } catch (err) {
      this.#log.warn(
        { err: errSummary(err), requestId: req.id },
        "could not read the approver's Slack profile",
      );
      return {
        ok: false,
        message: `I couldn't read your Slack profile (${slackError(err)}), so I can't check that ${req.id} doesn't grant a role to you. Nothing changed; try again in a minute.`,
      };
    }
    if (me.kind !== 'ok') {
      return {
        ok: false,
        message: `Your Slack profile has no email I can read, so I can't check that ${req.id} doesn't grant a role to you. Nothing changed; ask another approver.`,
      };
    }
    const email = me.email.trim().toLowerCase();
    if (t.kind === 'user' && t.email !== undefined) {
      if (t.email.trim().toLowerCase() !== email) return undefined;
      return {
        ok: false,
        message: `${req.id} grants a role to you, so someone else has to approve it. Nothing changed.`,
      };
    }
    const youAre = `${req.id} grants a role to ${t.kind === 'group' ? `group ${t.name}, and you are a member of it` : 'you'}, so someone else has to approve it. Nothing changed.`;
    // Every user is a member of Qlik's Everyone group, though no listing says so.
    if (t.kind === 'group' && t.qlikId === EVERYONE_GROUP_ID) return { ok: false, message: youAre };
    let mine: QlikUser[];
    try {
      mine = await this.#d.qlik.findUsersByEmail(me.email);
    } catch (err) {
      this.#log.warn(
        { err: errSummary(err), requestId: req.id },
        "could not look up the approver's Qlik user",
      );
      const what =
        t.kind === 'group' ? `you are a member of group ${t.name}` : `${req.id} grants a role to you`;
      return {
        ok: false,
        message: `I couldn't ask Qlik whether ${what}, so I can't record your approval. Nothing changed; try again in a minute.`,
      };
    }
    const live = mine.filter((u) => u.status !== 'deleted');
    const isYou =
      t.kind === 'group'
        ? live.some((u) => u.assignedGroups.some((g) => g.id === t.qlikId))
        : live.some((u) => u.id === t.qlikId);
    return isYou ? { ok: false, message: youAre } : undefined;
  }

  async #isApprover(roleName: string, userId: string): Promise<boolean> {
    return this.#d.directory.isInAny(userId, rolePolicy(this.policy, roleName).approvers);
  }

  async #isAnyApprover(userId: string): Promise<boolean> {
    const p = this.policy;
    const ids = new Set<string>(p.defaults.approvers);
    for (const rule of p.roles.values()) for (const id of rule.approvers) ids.add(id);
    return this.#d.directory.isInAny(userId, [...ids]);
  }

  /** A person's Slack name for plain text (messages are escaped, so no mention); the id when it can't be read. */
  async #personName(userId: string): Promise<string> {
    const u = await this.#d.directory.lookupUser(userId).catch(() => undefined);
    return u && 'name' in u ? `@${u.name}` : userId;
  }

  async #mayActOnGrant(req: RoleChangeRequest, userId: string): Promise<boolean> {
    if (req.requesterId === userId) return true;
    if (req.target.kind === 'user' && req.target.slackUserId === userId) return true;
    return this.#isApprover(req.role.name, userId);
  }

  /** Updates the approval message; a Slack failure is logged, never allowed to undo a decision already stored. */
  /** True when the approval message now shows `req`'s state; false (logged) when Slack refused the update. */
  async #refresh(req: RoleChangeRequest): Promise<boolean> {
    try {
      await this.#d.notifier.refresh(req);
      return true;
    } catch (err) {
      this.#log.warn({ err: errSummary(err), requestId: req.id }, 'could not update the approval message');
      return false;
    }
  }

  /** Runs a store/queue operation, marking a Redis outage as such (anything else is a bug and stays one). */
  async #db<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw isRedisUnavailable(err) ? new StoreUnavailableError(err) : err;
    }
  }

  /** No method of the app throws: every failure becomes a refusal the listener can show. */
  async #guard<T>(doing: string, fn: () => Promise<T | Refusal>, filing = false): Promise<T | Refusal> {
    try {
      return await fn();
    } catch (err) {
      const failure = describeFailure(err, doing, filing);
      const cause = err instanceof StoreUnavailableError ? err.cause : err;
      this.#log.error({ err: errSummary(cause), ref: failure.ref, doing }, 'request failed');
      return { ok: false, message: failure.message };
    }
  }
}

// ---- pure helpers

function heldRefusal(action: RoleAction, t: ResolvedTarget, role: RoleRef): Refusal | undefined {
  const who = t.principal.kind === 'group' ? `Group ${t.principal.name}` : t.principal.name;
  const direct = holds(t.direct, role);
  const groups = t.viaGroups.filter((g) => holds(g.roles, role)).map((g) => g.group);
  if (action === 'grant' && direct) {
    return { ok: false, message: `${who} already has ${role.name} directly; nothing was filed.` };
  }
  if (action === 'revoke' && !direct) {
    const via =
      groups.length > 0
        ? ` They get it through ${groups.length === 1 ? 'group' : 'groups'} ${groups.join(', ')}: revoke it from the group instead (\`/qlik revoke group:"${groups[0]}" ${role.name}\`), or ask a tenant admin to change the membership.`
        : '';
    return {
      ok: false,
      message: `${who} doesn't hold ${role.name} directly, so there is nothing to revoke.${via}`,
    };
  }
  return undefined;
}

/** What the requester and approvers should know about a grant beyond the change itself (see RoleChangeRequest.notes). */
function filingNotes(
  action: RoleAction,
  t: ResolvedTarget,
  role: RoleRef,
  check: { durationMs?: number; durationDefaulted?: boolean },
): string[] {
  if (action !== 'grant') return [];
  const notes: string[] = [];
  if (check.durationDefaulted && check.durationMs !== undefined) {
    notes.push(
      `No \`for …\` was given, so this grant lasts ${formatDuration(check.durationMs)}: the most ${role.name} allows.`,
    );
  }
  const groups = t.viaGroups.filter((g) => holds(g.roles, role)).map((g) => g.group);
  if (groups.length > 0) {
    const they = t.principal.name;
    notes.push(
      `${they} already gets ${role.name} through ${groups.length === 1 ? 'group' : 'groups'} ${groups.join(', ')}; ` +
        `a direct grant keeps it if they leave ${groups.length === 1 ? 'the group' : 'those groups'}.`,
    );
  }
  return notes;
}

/** ` Did you mean X or Y?` for an unknown role, or where to look when nothing is close. */
function roleHint(s: readonly string[]): string {
  return s.length === 0
    ? ' Run `/qlik roles` to see the roles of this tenant.'
    : ` Did you mean ${s.length === 1 ? s[0] : `${s.slice(0, -1).join(', ')} or ${s.at(-1)}`}?`;
}

function requestDetail(r: Pick<NewRequest, 'action' | 'durationMs' | 'reason' | 'extends'>): string {
  const parts: string[] = [r.action];
  if (r.durationMs !== undefined) parts.push(`for ${formatDuration(r.durationMs)}`);
  if (r.extends) parts.push(`extends ${r.extends}`);
  if (r.reason) parts.push(`because ${r.reason}`);
  return clipText(parts.join(' '), 600);
}

/** Cells starting with = + - @ (or a tab/CR) are formulas to a spreadsheet; a leading ' keeps them text. */
export function spreadsheetSafe(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

function notFound(id: string): Refusal {
  return {
    ok: false,
    message: `I can't find request ${id.toUpperCase()}. Check the id with \`/qlik requests\`.`,
  };
}

const STATE_WORDS: Record<RoleChangeRequest['state'], string> = {
  pending: 'pending',
  approved: 'approved',
  denied: 'denied',
  expired: 'expired',
  cancelled: 'cancelled',
  applying: 'being applied',
  applied: 'applied',
  failed: 'failed',
  'expired-revoked': 'over (expired and revoked)',
  revoked: 'revoked',
};

function stateWords(s: RoleChangeRequest['state']): string {
  return STATE_WORDS[s] ?? s;
}

function clipText(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

/** A Slack API error code, or a short description, for a message to the user. */
function slackError(err: unknown): string {
  const data = (err as { data?: { error?: unknown } } | undefined)?.data;
  if (data && typeof data.error === 'string') return data.error;
  return err instanceof Error ? err.message.slice(0, 120) : 'unknown error';
}

/** What is safe to log about an error: its name, message and code (never request options or headers). */
export function errSummary(err: unknown): { name?: string; message: string; code?: string } {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
}

export type { Principal };
