// Owns ModeError: every failure of a Mode API call (HTTP status, network, timeout, a body the bot can't read) as one
// typed error that says what kind it is, whether retrying can help, and a sentence fit for Slack. Mode's error body
// is `{id, message}`; Rails-style 422s put a field → problems map in `message`, and `id` can disagree with the
// status, so the kind always follows the status and `id` is kept only as a detail. It never carries request
// headers, and anything the server echoes is scrubbed of the credential.

import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { scrub, transportFailure } from '../http-failures.ts';

export type ModeErrorKind =
  | 'rate-limited'
  | 'server'
  | 'network'
  | 'timeout'
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  /** 409 (undocumented): the thing exists already, so the caller re-reads. */
  | 'conflict'
  | 'unexpected';

export interface ModeErrorInit {
  kind: ModeErrorKind;
  /** HTTP status; 0 when no response arrived (network, timeout). */
  status: number;
  method: string;
  /** URL path without query string. */
  path: string;
  /** Mode's `id` (`bad_request`, `not_found`, …) when the body had one. */
  id?: string;
  /** Mode's message, or the field problems of a Rails-style 422, as one line. */
  detail?: string;
  /** Low-level cause code such as ECONNREFUSED (never an object with headers). */
  causeCode?: string;
}

const RETRYABLE: ReadonlySet<ModeErrorKind> = new Set(['rate-limited', 'server', 'network', 'timeout']);

export class ModeError extends Error {
  override readonly name = 'ModeError';
  readonly kind: ModeErrorKind;
  readonly status: number;
  readonly method: string;
  readonly path: string;
  readonly id: string | undefined;
  readonly detail: string | undefined;
  readonly causeCode: string | undefined;
  /** True for 429, 5xx, network errors and timeouts: the same request may succeed later. */
  readonly retryable: boolean;

  constructor(init: ModeErrorInit) {
    super(technicalMessage(init));
    this.kind = init.kind;
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.id = init.id;
    this.detail = init.detail;
    this.causeCode = init.causeCode;
    this.retryable = RETRYABLE.has(init.kind);
  }

  /** A sentence for the person in Slack: what went wrong and what to do next. */
  userMessage(): string {
    const what = this.method === 'GET' ? 'request' : 'change';
    const why = this.reason();
    switch (this.kind) {
      case 'rate-limited':
        return `Mode is rate-limiting the bot (${why}); try again in a minute.`;
      case 'server':
        return `Mode had an internal problem (${why}); try again in a few minutes.`;
      case 'network':
        return 'The bot could not reach Mode (network error); try again in a few minutes.';
      case 'timeout':
        return 'Mode did not answer in time; try again in a few minutes.';
      case 'bad-request':
        return `Mode rejected the ${what} as invalid (${why}).`;
      case 'unauthorized':
        return `Mode did not accept the bot's API token (${why}); a Mode admin needs to renew the bot's workspace API token.`;
      case 'forbidden':
        return `Mode refused the ${what} (${why}). The bot's Mode API token lacks the permission (groups need a Business workspace and an admin token); ask a Mode admin.`;
      case 'not-found':
        return `Mode could not find it (${why}); it may have been deleted or renamed.`;
      case 'conflict':
        return `Mode refused the ${what} because it clashes with what is there now (${why}); someone changed it at the same time. Try again.`;
      case 'unexpected':
        return `Mode answered in a way the bot did not expect (${why}); try again, and tell an admin if it persists.`;
    }
  }

  private reason(): string {
    const head = this.status > 0 ? `${this.status} ${STATUS_CODES[this.status] ?? ''}`.trim() : '';
    const detail = this.detail ?? (this.status > 0 ? undefined : this.causeCode);
    if (head === '') return detail ?? 'no answer';
    return detail ? `${head}: ${clip(detail, 300)}` : head;
  }
}

function technicalMessage(init: ModeErrorInit): string {
  const status = init.status > 0 ? ` with ${init.status}` : '';
  const id = init.id ? ` ${init.id}` : init.causeCode ? ` ${init.causeCode}` : '';
  const detail = init.detail ? `: ${init.detail}` : '';
  return clip(`Mode ${init.method} ${init.path} failed${status}${id}${detail}`, 600);
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Maps an HTTP status to the error kind; Mode's `id` is never trusted over the status. */
export function kindForStatus(status: number): ModeErrorKind {
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server';
  if (status === 400 || status === 413 || status === 422) return 'bad-request';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  return 'unexpected';
}

const errorBodySchema = z.looseObject({
  id: z.string().optional(),
  message: z
    .union([z.string(), z.record(z.string(), z.union([z.array(z.unknown()), z.string()]))])
    .optional(),
  error: z.string().optional(),
});

export interface ParsedModeError {
  id?: string;
  detail?: string;
}

/**
 * Reads Mode's error body: `{id, message}`, or a Rails-style `{message: {field: [problems]}}` (as `field is too
 * long; …`). Anything else (HTML, empty) yields nothing, and the status speaks alone.
 */
export function parseErrorBody(text: string): ParsedModeError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {};
  }
  const parsed = errorBodySchema.safeParse(json);
  if (!parsed.success) return {};
  const { id, message, error } = parsed.data;
  const out: ParsedModeError = {};
  if (id !== undefined && id !== '') out.id = id;
  if (typeof message === 'string' && message !== '') out.detail = message;
  else if (message !== undefined && typeof message === 'object') {
    const parts = Object.entries(message).map(([field, problems]) => {
      const list = Array.isArray(problems) ? problems.map(String).join(', ') : problems;
      return `${field} ${list}`;
    });
    if (parts.length > 0) out.detail = parts.join('; ');
  } else if (error !== undefined && error !== '') out.detail = error;
  return out;
}

export interface ResponseErrorInput {
  method: string;
  path: string;
  status: number;
  body: string;
  /** Values that must never appear in the error (token, secret, the Basic header), scrubbed from any echo. */
  secrets?: readonly string[];
}

/** The ModeError for a non-success response. */
export function errorFromResponse(input: ResponseErrorInput): ModeError {
  const { id, detail } = parseErrorBody(input.body);
  const secrets = input.secrets ?? [];
  return new ModeError({
    kind: kindForStatus(input.status),
    status: input.status,
    method: input.method,
    path: scrub(input.path, secrets),
    ...(id === undefined ? {} : { id: scrub(id, secrets) }),
    ...(detail === undefined ? {} : { detail: scrub(detail, secrets) }),
  });
}

/** Wraps a transport failure (no usable response) without keeping the original error object. */
export function errorFromTransport(method: string, path: string, cause: unknown): ModeError {
  const { code, timeout } = transportFailure(cause);
  return new ModeError({
    kind: timeout ? 'timeout' : 'network',
    status: 0,
    method,
    path,
    causeCode: code,
  });
}
