// Owns the access-request app's one entry point for a front (README, "How it works"): filing grant/revoke
// requests, approvals, denials, cancellation, extension, "Revoke now", access reviews, and the read-only answers (who-has, whois,
// roles, requests, audit). Each is its own use case (src/app/use-cases/, src/app/queries/) over the shared context
// (src/app/context.ts); this facade only hands them the context. Each answers with an outcome (a code and the data
// the words need; src/app/outcomes.ts) that a front words. It knows nothing about Bolt or any target system:
// Slack reaches it through the listeners, and it reaches the outside through the ports (src/app/ports.ts). Every
// decision re-reads the policy and the request at the moment it is made, and every change goes through the
// store's guarded transitions (src/app/transitions.ts), so double clicks, replays and concurrent approvers decide a
// request once.
import type { Policy } from '../domain/policy.ts';
import type { PersonRef, RoleChangeRequest, WhoRef } from '../domain/request.ts';
import { AppContext } from './context.ts';
import type { Failure, UnknownInstance } from './outcomes.ts';
import type { AccessRequestDeps } from './ports.ts';
import { type AuditFilter, type AuditOutcome, auditLog } from './queries/audit.ts';
import {
  type DriftOutcome,
  type DriftQuery,
  driftFindings,
  type FindingsAnswer,
  sendUnmanagedCsv,
  type UnmanagedAnswer,
  unmanagedHolders,
} from './queries/drift.ts';
import { type HomeAnswer, home, homeAudience } from './queries/home.ts';
import {
  checkFormGrant,
  type FormKind,
  FormOptionsCache,
  type FormRule,
  formKind,
  formKinds,
  formOptions,
  formRule,
  type OptionsAnswer,
  type OptionsQuery,
} from './queries/options.ts';
import { listRequests, type RequestsAnswer } from './queries/requests.ts';
import {
  listResources,
  type MembersAnswer,
  type ResourceQueryRefusal,
  type ResourcesAnswer,
  resourceMembers,
} from './queries/resources.ts';
import { listRoles, type RolesAnswer } from './queries/roles.ts';
import {
  type HoldersFrom,
  type RoleQueryRefusal,
  sendHoldersCsv,
  type WhoHasAnswer,
  whoHas,
} from './queries/who-has.ts';
import { type WhoisOutcome, whois } from './queries/whois.ts';
import { type CancelOutcome, cancel } from './use-cases/cancel.ts';
import { type ApproveOutcome, approve, type DenyOutcome, deny } from './use-cases/decide.ts';
import { type ExtendOutcome, extend } from './use-cases/extend.ts';
import { type FileInput, type FileOutcome, fileRequest } from './use-cases/file-request.ts';
import {
  accountTargetOf,
  fileInvite,
  type InviteInput,
  type InviteOutcome,
  invitesPossible,
} from './use-cases/invite.ts';
import {
  type CloseReviewOutcome,
  closeReview,
  type DecideReviewOutcome,
  decideReviewHolder,
  type OpenReviewInput,
  type OpenReviewOutcome,
  openReview,
} from './use-cases/review.ts';
import { type RevokeNowOutcome, revokeNow } from './use-cases/revoke-now.ts';

export class AccessRequestApp {
  readonly #ctx: AppContext;
  /** The request form's suggestion lists, shared by every form this process answers. */
  readonly #formOptions: FormOptionsCache;

  constructor(deps: AccessRequestDeps, opts: { formOptions?: { ttlMs?: number; budgetMs?: number } } = {}) {
    this.#ctx = new AppContext(deps);
    this.#formOptions = new FormOptionsCache(opts.formOptions);
  }

  get policy(): Policy {
    return this.#ctx.policy;
  }

  /** `/qlik grant|revoke`. */
  fileRequest(input: FileInput): Promise<FileOutcome> {
    return fileRequest(this.#ctx, input);
  }

  /** `/qlik invite …` and the Invite and grant button. */
  invite(input: InviteInput): Promise<InviteOutcome> {
    return fileInvite(this.#ctx, input);
  }

  /** Whether a kind of access is configured (Mode is off unless its variables are set). */
  hasKind(kind: string): boolean {
    return this.#ctx.hasKind(kind);
  }

  /** Whether invites can be offered on the tenant (`instance`, the default when absent): allowed and possible. */
  invitesOffered(instance?: string): boolean {
    if (!this.#ctx.policy.invites.enabled) return false;
    const chosen = this.#ctx.target(instance);
    if (!chosen.ok) return false;
    const account = accountTargetOf(this.#ctx, chosen.target.instance);
    return account !== undefined && invitesPossible(account);
  }

  /** The "Extend" button of an applied time-bound grant. */
  extend(requestId: string, clicker: PersonRef): Promise<ExtendOutcome> {
    return extend(this.#ctx, requestId, clicker);
  }

  /** The Approve button. */
  approve(requestId: string, clicker: PersonRef): Promise<ApproveOutcome> {
    return approve(this.#ctx, requestId, clicker);
  }

  /** The Deny button. */
  deny(requestId: string, clicker: PersonRef, reason?: string): Promise<DenyOutcome> {
    return deny(this.#ctx, requestId, clicker, reason);
  }

  /** The Cancel button or `/qlik cancel R-…`: an outcome the front words (src/slack/words.ts cancelOutcomeText). */
  cancel(requestId: string, clicker: PersonRef): Promise<CancelOutcome> {
    return cancel(this.#ctx, requestId, clicker);
  }

  /** "Revoke now" on an applied grant. */
  revokeNow(requestId: string, clicker: PersonRef): Promise<RevokeNowOutcome> {
    return revokeNow(this.#ctx, requestId, clicker);
  }

  /** `/qlik who-has <role> [in space:"<name>"]`. */
  whoHas(
    roleName: string,
    opts?: { instance?: string; resource?: { kind: string; name: string }; kind?: string },
  ): Promise<WhoHasAnswer | RoleQueryRefusal> {
    return whoHas(this.#ctx, roleName, opts);
  }

  /** `/qlik who-has space:"<name>"`: everyone who holds something in the resource. */
  resourceMembers(
    query: { kind: string; name: string },
    opts?: { instance?: string },
  ): Promise<MembersAnswer | ResourceQueryRefusal> {
    return resourceMembers(this.#ctx, query, opts);
  }

  /** `/qlik spaces [<text>]`. */
  listResources(
    resourceKind: string,
    text: string | undefined,
    opts?: { instance?: string },
  ): Promise<ResourcesAnswer | ResourceQueryRefusal> {
    return listResources(this.#ctx, resourceKind, text, opts);
  }

  /** The full list of who-has as a CSV file in the person's DM; `from` is the who-has answer it follows. */
  sendHoldersCsv(
    roleName: string,
    to: PersonRef,
    from?: HoldersFrom,
  ): Promise<{ ok: true; rows: number } | RoleQueryRefusal> {
    return sendHoldersCsv(this.#ctx, roleName, to, from);
  }

  /** `/qlik whois <who>`. */
  whois(who: WhoRef, asker: PersonRef, opts?: { instance?: string; kind?: string }): Promise<WhoisOutcome> {
    return whois(this.#ctx, who, asker, opts);
  }

  /** `/qlik roles`. */
  listRoles(opts?: { instance?: string; kind?: string }): Promise<RolesAnswer | UnknownInstance | Failure> {
    return listRoles(this.#ctx, opts);
  }

  /** `/qlik requests`. */
  listRequests(asker: PersonRef): Promise<RequestsAnswer | Failure> {
    return listRequests(this.#ctx, asker);
  }

  /** What one person's App Home shows now. */
  home(person: PersonRef): Promise<HomeAnswer | Failure> {
    return home(this.#ctx, person);
  }

  /** Among `candidates`, the people whose App Home may show this request (requester, its user, its approvers). */
  homeAudience(request: RoleChangeRequest, candidates: readonly PersonRef[]): Promise<PersonRef[]> {
    return homeAudience(this.#ctx, request, candidates);
  }

  /** A request as stored now, or undefined (App Home reads the request a change was about). */
  request(id: string): Promise<RoleChangeRequest | undefined> {
    return this.#ctx.deps.store.get(id);
  }

  /** `/qlik review <role> [in space:"…"] [on <tenant>]`: an access review of the role's holders, for its approvers. */
  openReview(input: OpenReviewInput): Promise<OpenReviewOutcome> {
    return openReview(this.#ctx, input);
  }

  /** Keep or Revoke on one holder of a review. */
  decideReviewHolder(input: {
    reviewId: string;
    index: number;
    choice: 'keep' | 'revoke';
    clicker: PersonRef;
  }): Promise<DecideReviewOutcome> {
    return decideReviewHolder(this.#ctx, input);
  }

  /** The Close review button. */
  closeReview(reviewId: string, clicker: PersonRef): Promise<CloseReviewOutcome> {
    return closeReview(this.#ctx, reviewId, clicker);
  }

  /** `/qlik drift <role>`: the role's holders no request of the bot granted, for the role's approvers. */
  unmanagedHolders(asker: PersonRef, query: DriftQuery): Promise<DriftOutcome<UnmanagedAnswer>> {
    return unmanagedHolders(this.#ctx, asker, query);
  }

  /** The full list of `/qlik drift <role>` as a CSV in the person's DM. */
  sendUnmanagedCsv(to: PersonRef, answer: UnmanagedAnswer): Promise<{ ok: true; rows: number } | Failure> {
    return sendUnmanagedCsv(this.#ctx, to, answer);
  }

  /** `/qlik drift`: the drift check's findings that still stand, for approvers. */
  driftFindings(
    asker: PersonRef,
    opts?: { instance?: string },
  ): Promise<FindingsAnswer | { ok: false; code: 'not-approver' } | UnknownInstance | Failure> {
    return driftFindings(this.#ctx, asker, opts);
  }

  /** `/qlik audit [<who>|<role>]`, for approvers only. */
  auditLog(asker: PersonRef, filter: AuditFilter): Promise<AuditOutcome> {
    return auditLog(this.#ctx, asker, filter);
  }

  // ---- the request form (src/app/queries/options.ts)

  /** The kinds of access the request form offers: one per configured target. */
  formKinds(): FormKind[] {
    return formKinds(this.#ctx);
  }

  /** What the policy lets a grant of `role` (in `resource`) of the form's kind look like; undefined for an unknown kind. */
  formRule(kindKey: string, role?: string, resource?: string): FormRule | undefined {
    const kind = formKind(this.#ctx, kindKey);
    return kind === undefined ? undefined : formRule(kind, this.#ctx.policy, role, resource);
  }

  /** The options a select of the request form shows for what the person typed, within Slack's deadline. */
  async formOptions(q: OptionsQuery): Promise<OptionsAnswer> {
    const res = await this.#ctx.guard('listing-roles', () => formOptions(this.#ctx, this.#formOptions, q));
    if (res.ok || res.code === 'unknown-kind' || res.code === 'unavailable') return res;
    return {
      ok: false,
      code: 'unavailable',
      ...(res.code === 'target-error' ? { message: res.message } : {}),
    };
  }

  /** The policy's checks of a form's grant that need no system: the front answers them inline at once. */
  checkFormGrant(f: Parameters<typeof checkFormGrant>[1]): ReturnType<typeof checkFormGrant> {
    return checkFormGrant(this.#ctx, f);
  }
}
