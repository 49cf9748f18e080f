// Owns the small pieces of wording and formatting the use cases share: the refusal shape, "can't find request",
// how a state reads in a sentence, the "Did you mean" hint, and what of an error is safe to log or quote.
import type { RoleChangeRequest } from '../domain/request.ts';

/** A refusal or failure, written for the person who asked. Nothing was changed unless it says so. */
export interface Refusal {
  ok: false;
  message: string;
}

/** The outcome of a button press (or `/qlik cancel`): what to tell the person who pressed it. */
export type ClickResult = { ok: true; message: string; request?: RoleChangeRequest } | Refusal;

export function notFound(id: string): Refusal {
  return {
    ok: false,
    message: `I can't find request ${id.toUpperCase()}. Check the id with \`/qlik requests\`.`,
  };
}

// The Slack front keeps the same words for the outcomes it words itself (views.ts, DECISION_STATE_WORDS); this copy
// goes once the remaining use cases return outcomes too.
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

export function stateWords(s: RoleChangeRequest['state']): string {
  return STATE_WORDS[s] ?? s;
}

/** ` Did you mean X or Y?` for an unknown role, or where to look when nothing is close. */
export function roleHint(s: readonly string[]): string {
  return s.length === 0
    ? ' Run `/qlik roles` to see the roles of this tenant.'
    : ` Did you mean ${s.length === 1 ? s[0] : `${s.slice(0, -1).join(', ')} or ${s.at(-1)}`}?`;
}

export function clipText(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** A Slack API error code, or a short description, for a message to the user. */
export function slackError(err: unknown): string {
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
