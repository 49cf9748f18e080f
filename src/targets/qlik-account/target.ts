// Owns Qlik accounts as a kind of access: inviting a person by email (`POST /api/v1/users/actions/invite`), the
// first step of onboarding. The one entitlement is the account itself (`invite`, or `resend-invite` for a person
// already invited). Qlik answers 207 with a status per invitee: `ok` (a new user, the email sent), `exists` (already a
// user, no email), or an error with a code (1001 active user, 1002 disabled user, 1003 external dependency, which a
// tenant signing people in through its own identity provider gives). The account is verified by reading the user
// back by email. An account is not taken away here: ending or revoking one is refused.
import { ACCOUNT_KIND } from '../../domain/policy.ts';
import { QlikError } from '../../qlik/index.ts';
import { DriftError } from '../errors.ts';
import { classifyQlikError } from '../qlik-roles/failures.ts';
import { findPrincipal, type PrincipalLookups } from '../qlik-roles/principals.ts';
import type {
  AccessChange,
  AccessTarget,
  AppliedChange,
  ApplyOptions,
  EndedGrant,
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
import { QLIK_ACCOUNT_WORDS } from './words.ts';

/** One invitee's answer in Qlik's 207 (src/qlik: `inviteUsers`). */
export type InviteOutcome =
  | { email: string; status: 'ok' | 'exists'; userId: string; subject?: string }
  | { email: string; status: 'error'; code: string; title?: string; detail?: string };

/** The Qlik calls the account target makes. */
export interface AccountApi extends PrincipalLookups {
  inviteUsers(
    invitees: { email: string; name?: string; language?: string; resend?: boolean }[],
    opts?: { signal?: AbortSignal },
  ): Promise<InviteOutcome[]>;
}

/** The entitlement an invite asks for: the account; `resend-invite` sends the invitation again. */
export const INVITE: EntitlementRef = { id: 'invite', name: 'Qlik account' };
export const RESEND_INVITE: EntitlementRef = { id: 'resend-invite', name: 'Qlik account' };

/** Qlik's invite error codes (users.json InviteErrorItem). */
const ACTIVE_USER = '1001';
const DISABLED_USER = '1002';
const EXTERNAL_DEPENDENCY = '1003';

/** Raised when Qlik refuses one invitee: what it said, for the requester (classified as a final failure). */
export class InviteRefusedError extends Error {
  override readonly name = 'InviteRefusedError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface QlikAccountTargetOptions {
  instance: string;
  qlik: AccountApi;
  /**
   * Who signs the tenant's people in: Qlik Account logins (invites work), or the tenant's own identity provider
   * (`custom`: invites are not possible; people appear on first login or through SCIM).
   */
  identityProvider?: 'qlik' | 'custom';
}

export class QlikAccountTarget implements AccessTarget {
  readonly kind = ACCOUNT_KIND;
  readonly instance: string;
  readonly words = QLIK_ACCOUNT_WORDS;
  readonly identityProvider: 'qlik' | 'custom';
  readonly #qlik: AccountApi;

  constructor(opts: QlikAccountTargetOptions) {
    this.instance = opts.instance;
    this.#qlik = opts.qlik;
    this.identityProvider = opts.identityProvider ?? 'qlik';
  }

  resolvePrincipal(query: PrincipalQuery): Promise<PrincipalResult> {
    return findPrincipal(this.#qlik, query);
  }

  async resolveEntitlement(query: EntitlementQuery): Promise<EntitlementResult> {
    if (query.resource !== undefined)
      return { ok: false, code: 'resource-unsupported', resourceKind: query.resource.kind };
    const name = query.name.trim().toLowerCase();
    if (name === INVITE.id || name === 'account') return { ok: true, entitlement: INVITE };
    if (name === RESEND_INVITE.id) return { ok: true, entitlement: RESEND_INVITE };
    return { ok: false, code: 'not-found', suggestions: [INVITE.id] };
  }

  async listEntitlements(): Promise<Entitlement[]> {
    return [{ ...INVITE, description: 'A Qlik account, by invitation email (Qlik Account logins only).' }];
  }

  /** A user's account: held (`Qlik account`) when a live user has the email, with its status. */
  async readHoldings(principal: PrincipalRef): Promise<Holdings> {
    const user = await this.#liveUser(principal);
    return { direct: user ? [INVITE] : [], inherited: [] };
  }

  /** Invites are serialised per email: two invites of one person never race. */
  lockKey(change: AccessChange): string {
    return `account:${(change.principal.email ?? change.principal.id).trim().toLowerCase()}`;
  }

  async applyChange(change: AccessChange, opts: ApplyOptions): Promise<AppliedChange> {
    if (change.action !== 'grant')
      throw new InviteRefusedError(
        'revoke',
        'A Qlik account is not removed from Slack; ask a Qlik tenant admin.',
      );
    const email = change.principal.email;
    if (!email) throw new InviteRefusedError('no-email', 'An invite needs an email address.');
    const resend = change.entitlement.id === RESEND_INVITE.id;
    const existing = await this.#liveUser(change.principal);
    // A re-run after the invite went out (recorded as `earlier`) finds the user: no second invitation email.
    if (existing && (opts.earlier !== undefined || (!resend && existing.status !== 'invited'))) {
      return {
        before: opts.earlier?.before ?? [existing.status ?? 'active'],
        after: [existing.status ?? 'active'],
        changed: opts.earlier !== undefined,
        principal: principalOf(existing, change.principal),
        outcome:
          opts.earlier !== undefined
            ? { code: 'invited', resent: resend }
            : { code: 'account-exists', ...(existing.status ? { status: existing.status } : {}) },
      };
    }
    const before = existing ? [existing.status ?? 'active'] : [];
    await opts.beforeWrite({ before, after: ['invited'] });
    if (opts.signal.aborted) throw opts.signal.reason ?? new Error('aborted');
    const [answer] = await this.#qlik.inviteUsers(
      [
        {
          email,
          ...(change.principal.name && change.principal.name !== email
            ? { name: change.principal.name }
            : {}),
          ...(resend ? { resend: true } : {}),
        },
      ],
      { signal: opts.signal },
    );
    if (answer === undefined)
      throw new DriftError(`Qlik answered the invite of ${email} with no result for it.`);
    if (answer.status === 'error') return this.#refused(answer, change.principal);
    // Verify: the user is there now, by email, with the id Qlik gave.
    const after = await this.#liveUser(change.principal);
    if (!after || after.id !== answer.userId)
      throw new DriftError(
        `Qlik said it invited ${email}, but reading the user back did not find that account; check the Qlik Management Console.`,
      );
    return {
      before,
      after: [after.status ?? 'invited'],
      changed: answer.status === 'ok',
      principal: principalOf(after, change.principal),
      outcome:
        answer.status === 'ok'
          ? { code: 'invited', resent: resend }
          : { code: 'account-exists', ...(after.status ? { status: after.status } : {}) },
    };
  }

  async endGrant(): Promise<EndedGrant> {
    throw new InviteRefusedError('end', 'A Qlik account is not time-bound and is not removed from Slack.');
  }

  async includesPerson(principal: PrincipalRef, email: string): Promise<boolean> {
    return (principal.email ?? '').trim().toLowerCase() === email.trim().toLowerCase();
  }

  /** Who holds an account is a users listing, not an entitlement's holders: who-has asks tenant roles. */
  async holdersSummary(): Promise<HoldersSummary> {
    throw new Error('Qlik accounts have no holders listing; ask who-has about a role.');
  }

  // biome-ignore lint/correctness/useYield: refuses before listing anything, like holdersSummary
  async *holders(): AsyncIterable<Holder> {
    throw new Error('Qlik accounts have no holders listing; ask who-has about a role.');
  }

  classifyError(err: unknown, subject: ErrorSubject, random?: () => number): ErrorAction | undefined {
    if (err instanceof InviteRefusedError) return { kind: 'fail', message: err.message };
    return classifyQlikError(err, subject, random);
  }

  describeError(err: unknown): string | undefined {
    if (err instanceof InviteRefusedError) return err.message;
    return err instanceof QlikError ? err.userMessage() : undefined;
  }

  async #liveUser(p: PrincipalRef) {
    if (!p.email) return undefined;
    const users = (await this.#qlik.findUsersByEmail(p.email)).filter((u) => u.status !== 'deleted');
    return users.length === 1 ? users[0] : undefined;
  }

  /** Qlik refused this invitee: an active user is an account that exists; anything else fails, in its words. */
  async #refused(
    answer: Extract<InviteOutcome, { status: 'error' }>,
    p: PrincipalRef,
  ): Promise<AppliedChange> {
    const code = String(answer.code);
    if (code === ACTIVE_USER) {
      const user = await this.#liveUser(p);
      if (user)
        return {
          before: [user.status ?? 'active'],
          after: [user.status ?? 'active'],
          changed: false,
          principal: principalOf(user, p),
          outcome: { code: 'account-exists', status: user.status ?? 'active' },
        };
    }
    const said = [answer.title, answer.detail].filter(Boolean).join(': ');
    const why = said ? ` (${code}: ${said})` : ` (${code})`;
    if (code === DISABLED_USER)
      throw new InviteRefusedError(
        code,
        `${p.email} has a disabled Qlik account${why}; a Qlik tenant admin must enable it, so nothing was changed.`,
      );
    if (code === EXTERNAL_DEPENDENCY)
      throw new InviteRefusedError(
        code,
        `Qlik could not invite ${p.email}${why}. This tenant probably signs people in through its own identity provider, where invites are not possible: the person appears in Qlik on their first login or through SCIM. Nothing was changed.`,
      );
    throw new InviteRefusedError(code, `Qlik refused to invite ${p.email}${why}; nothing was changed.`);
  }
}

function principalOf(u: { id: string; name?: string; email?: string }, asked: PrincipalRef): PrincipalRef {
  return {
    kind: 'user',
    id: u.id,
    name: u.name || asked.name,
    ...(u.email || asked.email ? { email: (u.email ?? asked.email)! } : {}),
  };
}
