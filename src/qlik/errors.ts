// Owns QlikError: every failure of a Qlik Cloud call (HTTP status, network, timeout, partial PATCH, conflict) as one typed
// error that says what kind it is, whether retrying can help, and a sentence fit for Slack. It never carries
// request headers, so the API key cannot leak through an error.

import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { scrub, transportFailure } from '../http-failures.ts';

export type QlikErrorKind =
  | 'rate-limited'
  | 'server'
  | 'network'
  | 'timeout'
  | 'bad-request'
  | 'forbidden'
  | 'not-found'
  /** 409: the thing to create exists already (a space assignment for that assignee), so the caller re-reads. */
  | 'conflict'
  | 'unauthorized'
  | 'partial'
  | 'unexpected';

/** One entry of Qlik's `errors[]` body, reduced to what a person can read. */
export interface QlikErrorItem {
  code?: string;
  title: string;
  detail?: string;
}

export interface QlikErrorInit {
  kind: QlikErrorKind;
  /** HTTP status; 0 when no response arrived (network, timeout). */
  status: number;
  method: string;
  /** URL path without query string. */
  path: string;
  title: string;
  code?: string;
  detail?: string;
  traceId?: string;
  retryAfterMs?: number;
  errors?: QlikErrorItem[];
  /** Low-level cause code such as ECONNREFUSED or UND_ERR_HEADERS_TIMEOUT (never an object with headers). */
  causeCode?: string;
}

const RETRYABLE: ReadonlySet<QlikErrorKind> = new Set(['rate-limited', 'server', 'network', 'timeout']);

export class QlikError extends Error {
  override readonly name = 'QlikError';
  readonly kind: QlikErrorKind;
  readonly status: number;
  readonly method: string;
  readonly path: string;
  readonly title: string;
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly traceId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly errors: readonly QlikErrorItem[];
  readonly causeCode: string | undefined;
  /** True for 429, 5xx, network errors and timeouts: the same request may succeed later. */
  readonly retryable: boolean;

  constructor(init: QlikErrorInit) {
    super(technicalMessage(init));
    this.kind = init.kind;
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.title = init.title;
    this.code = init.code;
    this.detail = init.detail;
    this.traceId = init.traceId;
    this.retryAfterMs = init.retryAfterMs;
    this.errors = init.errors ?? [];
    this.causeCode = init.causeCode;
    this.retryable = RETRYABLE.has(init.kind);
  }

  /** A sentence for the person in Slack: what went wrong and what to do next. */
  userMessage(): string {
    const what = this.method === 'GET' ? 'request' : 'change';
    const why = this.reason();
    switch (this.kind) {
      case 'rate-limited': {
        const wait =
          this.retryAfterMs === undefined
            ? 'a minute'
            : `${Math.max(1, Math.ceil(this.retryAfterMs / 1000))} s`;
        return `Qlik Cloud is rate-limiting the bot (${why}); try again in ${wait}.`;
      }
      case 'server':
        return `Qlik Cloud had an internal problem (${why}); try again in a few minutes.`;
      case 'network':
        return 'The bot could not reach Qlik Cloud (network error); try again in a few minutes.';
      case 'timeout':
        return 'Qlik Cloud did not answer in time; try again in a few minutes.';
      case 'bad-request':
        return `Qlik rejected the ${what} as invalid (${why}).`;
      case 'forbidden':
        return `Qlik refused the ${what} (${why}). The bot's Qlik credential lacks the permission; ask a Qlik tenant admin.`;
      case 'not-found':
        return `Qlik could not find it (${why}); it may have been deleted or renamed.`;
      case 'conflict':
        return `Qlik refused the ${what} because it clashes with what is there now (${why}); someone changed it at the same time. Try again.`;
      case 'unauthorized':
        return `Qlik did not accept the bot's credential (${why}); an admin needs to renew the bot's Qlik API key.`;
      case 'partial':
        return `Qlik applied the change only in part (${why}); check the roles in the Qlik Management Console.`;
      case 'unexpected':
        return `Qlik Cloud answered in a way the bot did not expect (${why}); try again, and tell an admin if it persists.`;
    }
  }

  private reason(): string {
    const statusText = this.status > 0 ? (STATUS_CODES[this.status] ?? '') : '';
    const head = this.status > 0 ? `${this.status} ${statusText}`.trim() : this.title;
    // A title that only repeats the status text ("Forbidden" after "403 Forbidden") adds nothing.
    const redundant = (t: string | undefined) =>
      t === undefined || t === '' || t.toLowerCase() === statusText.toLowerCase() || t === head;
    const items = this.errors.length > 0 ? this.errors : [{ title: this.title, detail: this.detail }];
    const parts = items
      .map((e) =>
        [redundant(e.title) ? undefined : e.title, e.detail]
          .filter((x) => x !== undefined && x !== '')
          .join(' — '),
      )
      .filter((x) => x !== '');
    return parts.length > 0 ? `${head}: ${clip(parts.join('; '), 400)}` : head;
  }
}

function technicalMessage(init: QlikErrorInit): string {
  const head = `Qlik ${init.method} ${init.path} failed`;
  const status = init.status > 0 ? ` with ${init.status}` : '';
  const code = init.code ? ` ${init.code}` : init.causeCode ? ` ${init.causeCode}` : '';
  const detail = init.detail ? ` — ${init.detail}` : '';
  return clip(`${head}${status}${code}: ${init.title}${detail}`, 600);
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Maps an HTTP status to the error kind; 2xx other than 207 never reach here. */
export function kindForStatus(status: number): QlikErrorKind {
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server';
  if (status === 400 || status === 413 || status === 422) return 'bad-request';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 207) return 'partial';
  return 'unexpected';
}

const errorItemSchema = z.looseObject({
  code: z.union([z.string(), z.number()]).optional(),
  title: z.string().optional(),
  detail: z.string().optional(),
});

/** Qlik's `Errors` body; the top-level code/title/detail are the deprecated shape some APIs still send. */
const errorsBodySchema = z.looseObject({
  errors: z.array(errorItemSchema).optional(),
  traceId: z.string().optional(),
  code: z.union([z.string(), z.number()]).optional(),
  title: z.string().optional(),
  detail: z.string().optional(),
});

export interface ParsedErrorBody {
  errors: QlikErrorItem[];
  traceId?: string;
}

/** Reads Qlik's error body; anything that is not the documented JSON (HTML, empty, garbage) yields no items. */
export function parseErrorBody(text: string): ParsedErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { errors: [] };
  }
  const parsed = errorsBodySchema.safeParse(json);
  if (!parsed.success) return { errors: [] };
  const body = parsed.data;
  const raw = body.errors ?? (body.title !== undefined || body.code !== undefined ? [body] : []);
  const errors = raw.map((e) => {
    const item: QlikErrorItem = { title: e.title ?? (e.code !== undefined ? String(e.code) : 'Error') };
    if (e.code !== undefined) item.code = String(e.code);
    if (e.detail !== undefined) item.detail = e.detail;
    return item;
  });
  return body.traceId === undefined ? { errors } : { errors, traceId: body.traceId };
}

/**
 * Parses Retry-After (delta seconds, or an HTTP date) into milliseconds from `now`.
 * Undefined when absent or unreadable so callers apply their own default.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface ResponseErrorInput {
  method: string;
  path: string;
  status: number;
  body: string;
  retryAfter?: string | string[] | undefined;
  /** Values that must never appear in the error (the API key), scrubbed from anything the server echoed. */
  secrets?: readonly string[];
}

/** Builds the QlikError for a non-success response (including 207, whose body lists what failed). */
export function errorFromResponse(input: ResponseErrorInput): QlikError {
  const { errors, traceId } = parseErrorBody(input.body);
  const scrubbed = errors.map((e) => scrubItem(e, input.secrets ?? []));
  const first = scrubbed[0];
  const kind = kindForStatus(input.status);
  const init: QlikErrorInit = {
    kind,
    status: input.status,
    method: input.method,
    path: input.path,
    title: first?.title ?? STATUS_CODES[input.status] ?? `HTTP ${input.status}`,
    errors: scrubbed,
  };
  if (first?.code !== undefined) init.code = first.code;
  if (first?.detail !== undefined) init.detail = first.detail;
  if (traceId !== undefined) init.traceId = traceId;
  if (kind === 'rate-limited') init.retryAfterMs = parseRetryAfter(input.retryAfter) ?? 1000;
  return new QlikError(init);
}

function scrubItem(item: QlikErrorItem, secrets: readonly string[]): QlikErrorItem {
  const out: QlikErrorItem = { title: scrub(item.title, secrets) };
  if (item.code !== undefined) out.code = scrub(item.code, secrets);
  if (item.detail !== undefined) out.detail = scrub(item.detail, secrets);
  return out;
}

/** Wraps a transport failure (no usable response) without keeping the original error object. */
export function errorFromTransport(method: string, path: string, cause: unknown): QlikError {
  const { code, timeout } = transportFailure(cause);
  return new QlikError({
    kind: timeout ? 'timeout' : 'network',
    status: 0,
    method,
    path,
    title: timeout ? 'Qlik Cloud did not answer in time' : 'Could not reach Qlik Cloud',
    causeCode: code,
  });
}
