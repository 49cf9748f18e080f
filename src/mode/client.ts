// Owns the Mode operations the bot needs (issue 14): check the credential, list the workspace's members and read a
// user, read groups and change their memberships, read Collections and change their permissions. One instance per
// workspace credential: a keep-alive undici Pool to Mode's origin, Basic auth (token:secret, held in a private
// field and sent only in the Authorization header; errors carry method, path and status, never headers), HAL
// headers, a deadline per attempt, and the retry loop. Mode documents no rate limit and no Retry-After, so a 429
// waits from 10 s up (as Mode's Terraform provider does), with jitter and a bounded number of attempts; reads are
// also retried on 5xx and network failures, writes only on 429 (a 5xx may have applied, so the caller re-reads).
import { Pool } from 'undici';
import type { z } from 'zod';
import pkg from '../../package.json' with { type: 'json' };
import { backoffDelay, EQUAL_JITTER, retry } from '../retry.ts';
import { errorFromResponse, errorFromTransport, ModeError } from './errors.ts';
import {
  collectionSchema,
  countOf,
  groupMembershipSchema,
  groupSchema,
  halListSchema,
  type ModeCollection,
  type ModeGroup,
  type ModeGroupMembership,
  type ModeMembership,
  type ModePermission,
  type ModeUser,
  membershipSchema,
  permissionSchema,
  userSchema,
  verifySchema,
} from './schemas.ts';

export const MODE_API_URL = 'https://app.mode.com/api';
export const USER_AGENT = `qlik-access-bot/${pkg.version}`;

export interface ModeCallEvent {
  /** Method and route template, e.g. `GET /{ws}/groups/{g}/memberships`. */
  endpoint: string;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  durationMs: number;
  /** 1 for the first try. */
  attempt: number;
}

export interface ModeClientOptions {
  /** Mode's API base, ending in `/api`; default https://app.mode.com/api. */
  baseUrl?: string;
  /** The workspace's username: the slug in `app.mode.com/<slug>/`. */
  workspace: string;
  /** API token (Basic auth username). Never logged, never in an error. */
  token: string;
  /** API secret (Basic auth password). Never logged, never in an error. */
  secret: string;
  /** Deadline of one attempt (send to last body byte); default 15 s. */
  requestTimeoutMs?: number;
  /** Sockets kept open to Mode; default 8. */
  connections?: number;
  /** Attempts in total per call, the first included; default 6. */
  maxAttempts?: number;
  /** First wait after a 429, doubling after each one; default 10 s. */
  rateLimitDelayMs?: number;
  /** Longest wait after a 429; default 60 s. */
  rateLimitMaxDelayMs?: number;
  /** First wait after a 5xx or network failure of a read; default 500 ms. */
  retryBaseDelayMs?: number;
  /** Rows asked per page; Mode clamps to 30 without an error, so default 30. */
  perPage?: number;
  /** A list longer than this many pages is an error rather than read for ever; default 2000. */
  maxPages?: number;
  /** Waits between attempts (tests inject one that records and returns at once). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Called after every HTTP exchange (each retry too), e.g. for metrics. */
  onCall?: (e: ModeCallEvent) => void;
}

export type PermissionAction = 'view' | 'edit';
export type AccessorType = 'Account' | 'UserGroup';

export interface NewPermission {
  action: PermissionAction;
  accessorType: AccessorType;
  /** The member_token for `Account`, the group token for `UserGroup`. */
  accessorToken: string;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface CallSpec {
  method: Method;
  endpoint: string;
  url: URL;
  body?: unknown;
}

interface Raw {
  status: number;
  text: string;
  url: URL;
}

/** Mode's soft delete leaves a group (or Collection) readable with this state. */
export function isSoftDeleted(state: string | undefined): boolean {
  return state !== undefined && /deleted/i.test(state);
}

export class ModeClient {
  readonly workspace: string;
  /** The API base without trailing slash, e.g. https://app.mode.com/api. */
  readonly base: string;
  readonly #origin: string;
  readonly #auth: string;
  readonly #secrets: string[];
  readonly #pool: Pool;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #rateBase: number;
  readonly #rateCap: number;
  readonly #retryBase: number;
  readonly #perPage: number;
  readonly #maxPages: number;
  readonly #sleep: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  readonly #random: () => number;
  readonly #onCall: ((e: ModeCallEvent) => void) | undefined;
  readonly #closing = new AbortController();
  #sent = 0;

  constructor(opts: ModeClientOptions) {
    const base = new URL(opts.baseUrl ?? MODE_API_URL);
    if (base.protocol !== 'https:' && base.protocol !== 'http:')
      throw new Error('The Mode API URL must start with https:// (for example https://app.mode.com/api).');
    if (opts.workspace.trim() === '')
      throw new Error('The Mode workspace is empty; set its username (slug).');
    if (opts.token.trim() === '' || opts.secret.trim() === '')
      throw new Error('The Mode API token or secret is empty.');
    this.workspace = opts.workspace.trim();
    this.#origin = base.origin;
    this.base = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
    this.#auth = `Basic ${Buffer.from(`${opts.token}:${opts.secret}`).toString('base64')}`;
    this.#secrets = [opts.token, opts.secret, this.#auth.slice('Basic '.length)];
    this.#timeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.#maxAttempts = Math.max(1, opts.maxAttempts ?? 6);
    this.#rateBase = opts.rateLimitDelayMs ?? 10_000;
    this.#rateCap = opts.rateLimitMaxDelayMs ?? 60_000;
    this.#retryBase = opts.retryBaseDelayMs ?? 500;
    this.#perPage = opts.perPage ?? 30;
    this.#maxPages = opts.maxPages ?? 2000;
    this.#sleep = opts.sleep;
    this.#random = opts.random ?? Math.random;
    this.#onCall = opts.onCall;
    this.#pool = new Pool(this.#origin, {
      connections: opts.connections ?? 8,
      connectTimeout: Math.min(this.#timeoutMs, 10_000),
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  /** HTTP exchanges sent so far (each retry too): what a refresh cost, for the people cache's report. */
  get requestsSent(): number {
    return this.#sent;
  }

  // ---- credential ------------------------------------------------------------------------------------------------

  /** `GET /verify`: the credential works (readiness). Throws ModeError (401 for a bad token) otherwise. */
  async verify(): Promise<{ workspace?: unknown; scope?: string }> {
    const v = await this.#get(this.#url('/verify'), 'GET /verify', verifySchema);
    return {
      ...(v.workspace === undefined ? {} : { workspace: v.workspace }),
      ...(v.scope ? { scope: v.scope } : {}),
    };
  }

  // ---- people ----------------------------------------------------------------------------------------------------

  /** Every workspace membership (no emails: read each user for that). */
  memberships(): AsyncIterable<ModeMembership> {
    return this.#list(this.#ws('/memberships'), 'GET /{ws}/memberships', 'memberships', membershipSchema);
  }

  /** One workspace membership by its own token (from its self link): fresh state and SCIM flag; 404 once gone. */
  membership(token: string): Promise<ModeMembership> {
    return this.#get(this.#ws(`/memberships/${enc(token)}`), 'GET /{ws}/memberships/{m}', membershipSchema);
  }

  /** A Mode user by username (`GET /{username}`), with their email when Mode has one. */
  user(username: string): Promise<ModeUser> {
    return this.#get(this.#url(`/${encodeURIComponent(username)}`), 'GET /{username}', userSchema);
  }

  // ---- groups ----------------------------------------------------------------------------------------------------

  /** Every live group (soft-deleted ones left out). */
  async *groups(): AsyncIterable<ModeGroup> {
    for await (const g of this.#list(this.#ws('/groups'), 'GET /{ws}/groups', 'groups', groupSchema))
      if (!isSoftDeleted(g.state)) yield g;
  }

  /** One group by token; a soft-deleted one is returned as Mode has it (its `state` says so). */
  group(token: string): Promise<ModeGroup> {
    return this.#get(this.#ws(`/groups/${enc(token)}`), 'GET /{ws}/groups/{g}', groupSchema);
  }

  groupMemberships(group: string): AsyncIterable<ModeGroupMembership> {
    return this.#list(
      this.#ws(`/groups/${enc(group)}/memberships`),
      'GET /{ws}/groups/{g}/memberships',
      'group_memberships',
      groupMembershipSchema,
    );
  }

  /** Adds a workspace member to a group. Not retried except on 429: re-read the group before trying again. */
  addGroupMembership(group: string, memberToken: string): Promise<ModeGroupMembership> {
    return this.#write(
      {
        method: 'POST',
        endpoint: 'POST /{ws}/groups/{g}/memberships',
        url: this.#ws(`/groups/${enc(group)}/memberships`),
        body: { membership: { member_token: memberToken } },
      },
      groupMembershipSchema,
    );
  }

  /** Removes one group membership by its own token (from groupMemberships). */
  async removeGroupMembership(group: string, groupMembership: string): Promise<void> {
    await this.#call({
      method: 'DELETE',
      endpoint: 'DELETE /{ws}/groups/{g}/memberships/{gm}',
      url: this.#ws(`/groups/${enc(group)}/memberships/${enc(groupMembership)}`),
    });
  }

  // ---- Collections -----------------------------------------------------------------------------------------------

  /** Every Collection of the workspace (`filter=all`: without it Mode lists only the caller's). */
  async *collections(): AsyncIterable<ModeCollection> {
    const listed = this.#list(
      this.#ws('/spaces', { filter: 'all' }),
      'GET /{ws}/spaces',
      'spaces',
      collectionSchema,
    );
    for await (const c of listed) if (!isSoftDeleted(c.state)) yield c;
  }

  collection(token: string): Promise<ModeCollection> {
    return this.#get(this.#ws(`/spaces/${enc(token)}`), 'GET /{ws}/spaces/{s}', collectionSchema);
  }

  permissions(collection: string): AsyncIterable<ModePermission> {
    return this.#list(
      this.#ws(`/spaces/${enc(collection)}/permissions`),
      'GET /{ws}/spaces/{s}/permissions',
      'permissions',
      permissionSchema,
    );
  }

  createPermission(collection: string, p: NewPermission): Promise<ModePermission> {
    return this.#write(
      {
        method: 'POST',
        endpoint: 'POST /{ws}/spaces/{s}/permissions',
        url: this.#ws(`/spaces/${enc(collection)}/permissions`),
        body: {
          permission: { action: p.action, accessor_type: p.accessorType, accessor_token: p.accessorToken },
        },
      },
      permissionSchema,
    );
  }

  /** Changes a permission's action (Mode's PATCH takes only `action`). */
  updatePermission(
    collection: string,
    permission: string,
    action: PermissionAction,
  ): Promise<ModePermission> {
    return this.#write(
      {
        method: 'PATCH',
        endpoint: 'PATCH /{ws}/spaces/{s}/permissions/{p}',
        url: this.#ws(`/spaces/${enc(collection)}/permissions/${enc(permission)}`),
        body: { permission: { action } },
      },
      permissionSchema,
    );
  }

  async deletePermission(collection: string, permission: string): Promise<void> {
    await this.#call({
      method: 'DELETE',
      endpoint: 'DELETE /{ws}/spaces/{s}/permissions/{p}',
      url: this.#ws(`/spaces/${enc(collection)}/permissions/${enc(permission)}`),
    });
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await this.#pool.close();
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  #url(path: string, query: Record<string, string | number> = {}): URL {
    const qs = Object.entries(query)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return new URL(`${this.base}${path}${qs ? `?${qs}` : ''}`);
  }

  #ws(path: string, query: Record<string, string | number> = {}): URL {
    return this.#url(`/${enc(this.workspace)}${path}`, query);
  }

  async #get<S extends z.ZodType>(url: URL, endpoint: string, schema: S): Promise<z.output<S>> {
    const res = await this.#call({ method: 'GET', endpoint, url });
    return this.#parse(res, 'GET', schema);
  }

  async #write<S extends z.ZodType>(spec: CallSpec, schema: S): Promise<z.output<S>> {
    const res = await this.#call(spec);
    return this.#parse(res, spec.method, schema);
  }

  #parse<S extends z.ZodType>(res: Raw, method: string, schema: S): z.output<S> {
    const parsed = schema.safeParse(this.#json(res, method));
    if (!parsed.success)
      throw this.#unexpected(
        method,
        res.url,
        `Mode answered ${res.status} with a body the bot could not read`,
      );
    return parsed.data;
  }

  #json(res: Raw, method: string): unknown {
    try {
      return JSON.parse(res.text);
    } catch {
      throw this.#unexpected(method, res.url, `Mode answered ${res.status} with a body that is not JSON`);
    }
  }

  /**
   * Every row of a HAL list, page by page (`page`/`per_page`). Mode's paging is unreliable: more than 30 per page
   * is clamped silently, `next_page` can point past the end, and some lists ignore `page`. So the next page is
   * read while the last one was full or linked onward, and reading stops on an empty page, on a page that repeats
   * one already read, or past `total_pages` when Mode gives it.
   */
  async *#list<S extends z.ZodType>(
    first: URL,
    endpoint: string,
    key: string,
    schema: S,
  ): AsyncGenerator<z.output<S>> {
    const seen = new Set<string>();
    for (let page = 1; ; page++) {
      if (page > this.#maxPages)
        throw this.#unexpected('GET', first, `Mode listed more than ${this.#maxPages} pages`);
      const url = new URL(first);
      url.searchParams.set('page', String(page));
      url.searchParams.set('per_page', String(this.#perPage));
      const res = await this.#call({ method: 'GET', endpoint, url });
      const body = halListSchema.safeParse(this.#json(res, 'GET'));
      if (!body.success) throw this.#unexpected('GET', url, 'Mode answered a list the bot could not read');
      const rows = rowsOf(body.data._embedded ?? undefined, key);
      if (rows === undefined) throw this.#unexpected('GET', url, `Mode's list has no _embedded.${key}`);
      if (rows.length === 0) return;
      const signature = JSON.stringify(rows);
      if (seen.has(signature)) return;
      seen.add(signature);
      for (const row of rows) {
        const parsed = schema.safeParse(row);
        if (!parsed.success)
          throw this.#unexpected('GET', url, `Mode listed a ${key} row the bot could not read`);
        yield parsed.data;
      }
      const totalPages = countOf(body.data.pagination?.total_pages as string | number | null | undefined);
      if (totalPages !== undefined && page >= totalPages) return;
      const linked = body.data._links?.next_page?.href !== undefined;
      if (!linked && rows.length < this.#perPage) return;
    }
  }

  /** One logical call: sends, retries as the method allows, and returns a 2xx; anything else is a ModeError. */
  async #call(spec: CallSpec): Promise<Raw> {
    const final = new WeakSet<object>();
    try {
      return await retry(
        async (attempt) => {
          const t0 = performance.now();
          let error: ModeError;
          try {
            const res = await this.#send(spec);
            this.#report(spec.endpoint, res.status, t0, attempt);
            if (res.status >= 200 && res.status < 300) return res;
            error = errorFromResponse({
              method: spec.method,
              path: res.url.pathname,
              status: res.status,
              body: res.text,
              secrets: this.#secrets,
            });
          } catch (e) {
            if (this.#closing.signal.aborted) {
              const err = this.#unexpected(spec.method, spec.url, 'The Mode client was closed');
              final.add(err);
              throw err;
            }
            this.#report(spec.endpoint, 0, t0, attempt);
            error = errorFromTransport(spec.method, spec.url.pathname, e);
          }
          throw error;
        },
        {
          maxAttempts: this.#maxAttempts,
          backoff: { baseMs: this.#retryBase, capMs: 8_000, jitter: EQUAL_JITTER },
          signal: this.#closing.signal,
          random: this.#random,
          ...(this.#sleep ? { sleep: this.#sleep } : {}),
          classify: (e, n) => {
            if (final.has(e as object) || !(e instanceof ModeError)) return { retry: false };
            // No Retry-After from Mode: back off from rateLimitDelayMs, doubling, with jitter.
            if (e.kind === 'rate-limited')
              return {
                retry: true,
                delayMs: backoffDelay(
                  n,
                  { baseMs: this.#rateBase, capMs: this.#rateCap, jitter: EQUAL_JITTER },
                  this.#random,
                ),
              };
            // A write that failed otherwise may have been applied: the caller re-reads before writing again.
            return spec.method === 'GET' && e.retryable ? { retry: true } : { retry: false };
          },
        },
      );
    } catch (e) {
      if (this.#closing.signal.aborted && e === this.#closing.signal.reason)
        throw this.#unexpected(spec.method, spec.url, 'The Mode client was closed');
      throw e;
    }
  }

  async #send(spec: CallSpec): Promise<Raw> {
    const headers: Record<string, string> = {
      authorization: this.#auth,
      accept: 'application/hal+json',
      'user-agent': USER_AGENT,
    };
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['content-type'] = 'application/json';
    }
    this.#sent++;
    const res = await this.#pool.request({
      method: spec.method,
      path: `${spec.url.pathname}${spec.url.search}`,
      headers,
      body,
      signal: AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.#timeoutMs)]),
    });
    const text = await res.body.text();
    return { status: res.statusCode, text, url: spec.url };
  }

  #report(endpoint: string, status: number, t0: number, attempt: number): void {
    if (!this.#onCall) return;
    try {
      this.#onCall({ endpoint, status, durationMs: performance.now() - t0, attempt });
    } catch {
      // A metrics hook must never break a Mode call.
    }
  }

  #unexpected(method: string, url: URL, detail: string): ModeError {
    return new ModeError({ kind: 'unexpected', status: 0, method, path: url.pathname, detail });
  }
}

/**
 * The rows of a list under `_embedded.<key>`. The key of some lists is undocumented (Collection permissions), so
 * when the expected one is missing and `_embedded` holds exactly one list, that list is it.
 */
function rowsOf(embedded: Record<string, unknown> | undefined, key: string): unknown[] | undefined {
  if (embedded === undefined) return [];
  const rows = embedded[key];
  if (Array.isArray(rows)) return rows;
  const lists = Object.values(embedded).filter(Array.isArray);
  if (lists.length === 1) return lists[0] as unknown[];
  return lists.length === 0 ? [] : undefined;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** Collects an async iterable into an array. */
export async function collectAll<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}
