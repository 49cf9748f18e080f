// Owns the HTTP exchange with one Qlik Cloud tenant: a keep-alive undici Pool for the tenant's origin, the
// headers every call carries (bearer key, API version, User-Agent), timeouts, the rate limiter, and the retry
// loop. The API key lives in a private field and is sent only in the Authorization header; errors carry
// method, path and status, never headers.
import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import pkg from '../../package.json' with { type: 'json' };
import { retry } from '../retry.ts';
import { errorFromResponse, errorFromTransport, QlikError } from './errors.ts';
import { type RateLimiter, RateLimiterClosedError, type RateTier } from './rate-limiter.ts';
import { DEFAULT_RETRY, qlikBackoff, type RetryMode, type RetryPolicy, shouldRetry } from './retry.ts';

export const DEFAULT_API_VERSION = '2026-08';
export const USER_AGENT = `qlik-access-bot/${pkg.version}`;

export interface CallEvent {
  /** Method and route template, e.g. `GET /users` or `PATCH /groups/{id}`. */
  endpoint: string;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  durationMs: number;
  /** 1 for the first try. */
  attempt: number;
}

export interface QlikHttpOptions {
  tenantUrl: string;
  apiKey: string;
  limiter: RateLimiter;
  apiVersion?: string;
  /** Budget for one attempt, from sending to the last byte of the body; default 15 s. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Sockets kept open to the tenant; default 8. */
  connections?: number;
  retry?: Partial<RetryPolicy>;
  onCall?: (e: CallEvent) => void;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  url: URL;
}

export type HttpMethod = 'GET' | 'PATCH' | 'POST' | 'PUT' | 'DELETE';

export interface CallSpec {
  method: HttpMethod;
  endpoint: string;
  url: URL;
  tier: RateTier;
  retry: RetryMode;
  body?: unknown;
  /** Non-2xx statuses handed back to the caller instead of thrown (e.g. 301 from /users/me). */
  accept?: readonly number[];
  /**
   * The caller giving up: ends a wait for a rate-limit token, the request in flight, or a wait between attempts,
   * and the call rejects with the signal's reason (as fetch does). A write aborted after sending may have applied.
   */
  signal?: AbortSignal;
}

export type QueryValue = string | number | boolean | undefined;

export class QlikHttp {
  readonly origin: string;
  /** Tenant URL without trailing slash; API paths are appended to it. */
  readonly base: string;
  readonly #apiKey: string;
  readonly #apiVersion: string;
  readonly #pool: Pool;
  readonly #limiter: RateLimiter;
  readonly #retry: RetryPolicy;
  readonly #onCall: ((e: CallEvent) => void) | undefined;
  readonly #closing = new AbortController();
  /** Attempts in flight, ended with the closing reason when the client closes. */
  readonly #attempts = new Set<AbortController>();
  readonly #timeoutMs: number;

  constructor(opts: QlikHttpOptions) {
    const tenant = new URL(opts.tenantUrl);
    if (tenant.protocol !== 'https:' && tenant.protocol !== 'http:') {
      throw new Error(
        'The Qlik tenant URL must start with https:// (for example https://acme.eu.qlikcloud.com).',
      );
    }
    if (opts.apiKey.trim() === '') throw new Error('The Qlik API key is empty; set QLIK_API_KEY.');
    this.origin = tenant.origin;
    this.base = `${tenant.origin}${tenant.pathname.replace(/\/+$/, '')}`;
    this.#apiKey = opts.apiKey;
    this.#apiVersion = opts.apiVersion ?? DEFAULT_API_VERSION;
    this.#limiter = opts.limiter;
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#onCall = opts.onCall;
    const timeout = opts.requestTimeoutMs ?? 15_000;
    this.#timeoutMs = timeout;
    this.#pool = new Pool(this.origin, {
      connections: opts.connections ?? 32,
      connectTimeout: opts.connectTimeoutMs ?? Math.min(timeout, 10_000),
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: 30_000,
    });
  }

  /** `/users` + query → absolute URL under /api/v1, values percent-encoded (spaces as %20, never `+`). */
  url(path: string, query: Record<string, QueryValue> = {}): URL {
    const qs = Object.entries(query)
      .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return new URL(`${this.base}/api/v1${path}${qs ? `?${qs}` : ''}`);
  }

  /** Resolves a link Qlik returned (next page, redirect) and refuses one that leaves the tenant's origin. */
  resolveLink(href: string, current: URL, method: string): URL {
    let url: URL;
    try {
      url = new URL(href, current);
    } catch {
      throw this.#unexpected(method, current, 'Qlik returned a link the bot could not read');
    }
    if (url.origin !== this.origin) {
      throw this.#unexpected(method, current, `Qlik returned a link to another origin (${url.origin})`);
    }
    return url;
  }

  /**
   * One logical call: waits for the tier's rate limit, sends, retries per `spec.retry`, and returns a 2xx (or
   * accepted) response. Anything else is thrown as QlikError; a 429 blocks the whole tier for Retry-After.
   */
  async call(spec: CallSpec): Promise<RawResponse> {
    // Errors that end the call at once, whatever their kind: the client closing, a QlikError raised while sending.
    const final = new WeakSet<object>();
    try {
      return await retry(
        async (attempt) => {
          // Not retried: classify only retries QlikErrors, and the reason is the caller's own.
          spec.signal?.throwIfAborted();
          try {
            await untilAborted(this.#limiter.acquire(spec.tier), spec.signal);
          } catch (e) {
            if (spec.signal?.aborted && e === spec.signal.reason) throw e;
            const err = e instanceof RateLimiterClosedError ? this.#closedError(spec) : e;
            if (err instanceof Object) final.add(err);
            throw err;
          }
          const t0 = performance.now();
          let error: QlikError;
          try {
            const res = await this.#send(spec);
            this.#report(spec.endpoint, res.status, t0, attempt);
            if ((res.status >= 200 && res.status < 300) || spec.accept?.includes(res.status)) return res;
            error = this.responseError(spec.method, res);
          } catch (e) {
            if (spec.signal?.aborted) throw spec.signal.reason;
            if (e instanceof QlikError || this.#closing.signal.aborted) {
              const err = e instanceof QlikError ? e : this.#closedError(spec);
              final.add(err);
              throw err;
            }
            this.#report(spec.endpoint, 0, t0, attempt);
            error = errorFromTransport(spec.method, spec.url.pathname, e);
          }
          if (error.kind === 'rate-limited') this.#limiter.block(spec.tier, error.retryAfterMs ?? 1000);
          throw error;
        },
        {
          maxAttempts: this.#retry.maxAttempts,
          maxElapsedMs: this.#retry.maxElapsedMs,
          backoff: qlikBackoff(this.#retry),
          signal: spec.signal ? AbortSignal.any([this.#closing.signal, spec.signal]) : this.#closing.signal,
          classify: (e) => {
            if (final.has(e as object) || !(e instanceof QlikError) || !shouldRetry(e, spec.retry))
              return { retry: false };
            // A 429 blocked the tier: the next attempt's acquire waits out Retry-After, so no delay here.
            if (e.kind === 'rate-limited')
              return { retry: true, delayMs: 0, blockedMs: e.retryAfterMs ?? 1000 };
            return { retry: true };
          },
        },
      );
    } catch (e) {
      // The client closed during a wait between attempts.
      if (this.#closing.signal.aborted && e === this.#closing.signal.reason) throw this.#closedError(spec);
      throw e;
    }
  }

  /** The QlikError for a response (Qlik's error body parsed; anything echoing the key scrubbed). */
  responseError(method: string, res: RawResponse): QlikError {
    return errorFromResponse({
      method,
      path: res.url.pathname,
      status: res.status,
      body: res.text,
      retryAfter: res.headers['retry-after'],
      secrets: [this.#apiKey],
    });
  }

  /** Parses a 2xx JSON body; a body that is not JSON is an `unexpected` QlikError. */
  json(res: RawResponse, method: string): unknown {
    try {
      return JSON.parse(res.text);
    } catch {
      throw this.#unexpected(method, res.url, `Qlik answered ${res.status} with a body that is not JSON`);
    }
  }

  unexpected(method: string, url: URL, title: string, detail?: string): QlikError {
    return this.#unexpected(method, url, title, detail);
  }

  async close(): Promise<void> {
    this.#closing.abort();
    for (const a of this.#attempts) a.abort(this.#closing.signal.reason);
    await this.#pool.close();
  }

  async #send(spec: CallSpec): Promise<RawResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: 'application/json',
      'qlik-api-version': this.#apiVersion,
      'user-agent': USER_AGENT,
    };
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['content-type'] = 'application/json';
    }
    // undici's own header/body timers tick once a second; this deadline is exact and covers the whole attempt. It is
    // a timer cleared with the answer (AbortSignal.timeout would stay armed, and fire, for the whole 15 s), and the
    // client closing or the caller giving up end the attempt through the same controller.
    const attempt = new AbortController();
    const timer = setTimeout(
      () => attempt.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      this.#timeoutMs,
    );
    const giveUp = () => attempt.abort(spec.signal?.reason);
    if (spec.signal?.aborted) giveUp();
    else spec.signal?.addEventListener('abort', giveUp, { once: true });
    if (this.#closing.signal.aborted) attempt.abort(this.#closing.signal.reason);
    this.#attempts.add(attempt);
    try {
      const res = await this.#pool.request({
        method: spec.method,
        path: `${spec.url.pathname}${spec.url.search}`,
        headers,
        body,
        signal: attempt.signal,
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text, url: spec.url };
    } finally {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', giveUp);
      this.#attempts.delete(attempt);
    }
  }

  #report(endpoint: string, status: number, t0: number, attempt: number): void {
    if (!this.#onCall) return;
    try {
      this.#onCall({ endpoint, status, durationMs: performance.now() - t0, attempt });
    } catch {
      // A metrics hook must never break a Qlik call.
    }
  }

  #unexpected(method: string, url: URL, title: string, detail?: string): QlikError {
    return new QlikError({
      kind: 'unexpected',
      status: 0,
      method,
      path: url.pathname,
      title,
      ...(detail === undefined ? {} : { detail }),
    });
  }

  #closedError(spec: CallSpec): QlikError {
    return new QlikError({
      kind: 'unexpected',
      status: 0,
      method: spec.method,
      path: spec.url.pathname,
      title: 'The Qlik client was closed',
    });
  }
}

/**
 * Waits for `p` unless `signal` aborts first, then rejects with its reason. The limiter's token is still taken
 * when it comes (and goes unused): a rate-limiter wait cannot be withdrawn.
 */
function untilAborted(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return p;
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
