// Owns the access-request app's one entry point for a front (README, "How it works"): filing grant/revoke
// requests, approvals, denials, cancellation, extension, "Revoke now", and the read-only answers (who-has, whois,
// roles, requests, audit). Each is its own use case (src/app/use-cases/, src/app/queries/) over the shared context
// (src/app/context.ts); this facade only hands them the context. It knows nothing about Bolt or any target system:
// Slack reaches it through the listeners, and it reaches the outside through the ports (src/app/ports.ts). Every
// decision re-reads the policy and the request at the moment it is made, and every change goes through the
// store's guarded transitions (src/app/transitions.ts), so double clicks, replays and concurrent approvers decide a
// request once.
import type { Policy } from '../domain/policy.ts';
import type { WhoRef } from '../slack/command-parser.ts';
import { AppContext } from './context.ts';
import type { AccessRequestDeps } from './ports.ts';
import { type AuditAnswer, type AuditFilter, auditLog } from './queries/audit.ts';
import { listRequests, type RequestsAnswer } from './queries/requests.ts';
import { listRoles, type RolesAnswer } from './queries/roles.ts';
import { type HoldersFrom, sendHoldersCsv, type WhoHasAnswer, whoHas } from './queries/who-has.ts';
import { type WhoisAnswer, whois } from './queries/whois.ts';
import { type CancelOutcome, cancel } from './use-cases/cancel.ts';
import { approve, deny } from './use-cases/decide.ts';
import { extend } from './use-cases/extend.ts';
import { type FileInput, type FileResult, fileRequest } from './use-cases/file-request.ts';
import { revokeNow } from './use-cases/revoke-now.ts';
import type { ClickResult, Refusal } from './words.ts';

export class AccessRequestApp {
  readonly #ctx: AppContext;

  constructor(deps: AccessRequestDeps) {
    this.#ctx = new AppContext(deps);
  }

  get policy(): Policy {
    return this.#ctx.policy;
  }

  /** `/qlik grant|revoke`. */
  fileRequest(input: FileInput): Promise<FileResult> {
    return fileRequest(this.#ctx, input);
  }

  /** The "Extend" button of an applied time-bound grant. */
  extend(requestId: string, clickerId: string): Promise<ClickResult> {
    return extend(this.#ctx, requestId, clickerId);
  }

  /** The Approve button. */
  approve(requestId: string, clickerId: string): Promise<ClickResult> {
    return approve(this.#ctx, requestId, clickerId);
  }

  /** The Deny button. */
  deny(requestId: string, clickerId: string): Promise<ClickResult> {
    return deny(this.#ctx, requestId, clickerId);
  }

  /** The Cancel button or `/qlik cancel R-…`: an outcome the front words (views.ts cancelOutcomeText). */
  cancel(requestId: string, clickerId: string): Promise<CancelOutcome> {
    return cancel(this.#ctx, requestId, clickerId);
  }

  /** "Revoke now" on an applied grant. */
  revokeNow(requestId: string, clickerId: string): Promise<ClickResult> {
    return revokeNow(this.#ctx, requestId, clickerId);
  }

  /** `/qlik who-has <role>`. */
  whoHas(roleName: string, opts?: { instance?: string }): Promise<WhoHasAnswer | Refusal> {
    return whoHas(this.#ctx, roleName, opts);
  }

  /** The full list of who-has as a CSV file in the person's DM; `from` is the who-has answer it follows. */
  sendHoldersCsv(
    roleName: string,
    userId: string,
    from?: HoldersFrom,
  ): Promise<{ ok: true; rows: number } | Refusal> {
    return sendHoldersCsv(this.#ctx, roleName, userId, from);
  }

  /** `/qlik whois <who>`. */
  whois(who: WhoRef, requesterId: string, opts?: { instance?: string }): Promise<WhoisAnswer | Refusal> {
    return whois(this.#ctx, who, requesterId, opts);
  }

  /** `/qlik roles`. */
  listRoles(opts?: { instance?: string }): Promise<RolesAnswer | Refusal> {
    return listRoles(this.#ctx, opts);
  }

  /** `/qlik requests`. */
  listRequests(userId: string): Promise<RequestsAnswer | Refusal> {
    return listRequests(this.#ctx, userId);
  }

  /** `/qlik audit [<who>|<role>]`, for approvers only. */
  auditLog(userId: string, filter: AuditFilter): Promise<AuditAnswer | Refusal> {
    return auditLog(this.#ctx, userId, filter);
  }
}
