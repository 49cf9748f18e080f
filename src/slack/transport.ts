// Owns how the bot's Slack traffic goes over HTTP: the Web API client's calls (through the `fetch` option that
// @slack/web-api and Bolt take) and the answers posted to response_urls, on one keep-alive undici Agent. Node's own
// fetch builds WHATWG Request, Response, Headers and stream objects for every call and arms an AbortSignal timer
// that fires (building a DOMException) long after the call is done; per command that was a large share of the
// bot's CPU. undici's `request` does the same exchange without them. Each call has its own deadline, a timer
// cleared as soon as the answer is read. What cannot go this way (a multipart file upload, a redirect to follow)
// goes through Node's fetch as before.
import type { FetchFunction } from '@slack/web-api';
import { Agent, type Dispatcher } from 'undici';

export type SlackFetchResponse = Awaited<ReturnType<FetchFunction>>;
type FetchInit = Parameters<FetchFunction>[1];

/** Keep-alive connections to Slack's hosts (slack.com, hooks.slack.com, files.slack.com), shared by every call. */
let sharedAgent: Agent | undefined;

function agent(): Agent {
  sharedAgent ??= new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  return sharedAgent;
}

/** Thrown when a call's deadline passes: named like the TimeoutError Node's fetch rejects with. */
function timeoutError(ms: number): DOMException {
  return new DOMException(`The Slack call took longer than ${ms} ms`, 'TimeoutError');
}

export interface ExchangeOptions {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** The whole exchange, from sending to the last byte of the answer. */
  timeoutMs: number;
  /** The caller giving up. */
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
}

export interface Exchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The whole body, read before the call resolves (Slack's answers are small), so no connection is left busy. */
  body: Buffer;
}

/**
 * One HTTP exchange with undici's `request`: resolves with the status, headers and whole body, or rejects with the
 * transport's error (a TimeoutError DOMException at the deadline, the signal's reason when the caller aborts).
 */
export async function exchange(url: string | URL, opts: ExchangeOptions): Promise<Exchange> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(timeoutError(opts.timeoutMs)), opts.timeoutMs);
  const outer = opts.signal;
  const onAbort = () => ac.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await (opts.dispatcher ?? agent()).request({
      ...splitUrl(url),
      method: opts.method as Dispatcher.HttpMethod,
      headers: opts.headers,
      ...(opts.body === undefined ? {} : { body: opts.body }),
      signal: ac.signal,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body };
  } catch (err) {
    // undici rejects an aborted request with its own error; the reason (timeout, the caller's) says more.
    if (ac.signal.aborted) throw ac.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
}

function splitUrl(url: string | URL): { origin: string; path: string } {
  const u = typeof url === 'string' ? new URL(url) : url;
  return { origin: u.origin, path: `${u.pathname}${u.search}` };
}

/** The fetch Response subset the Web API client reads, over a body already read. */
function response(url: string, x: Exchange): SlackFetchResponse {
  const headers = x.headers;
  const get = (name: string): string | null => {
    const v = headers[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  };
  return {
    ok: x.status >= 200 && x.status < 300,
    status: x.status,
    statusText: '',
    url,
    headers: {
      get,
      *entries(): Generator<[string, string]> {
        for (const name of Object.keys(headers)) {
          const v = get(name);
          if (v !== null) yield [name, v];
        }
      },
    },
    arrayBuffer: async () =>
      x.body.buffer.slice(x.body.byteOffset, x.body.byteOffset + x.body.byteLength) as ArrayBuffer,
    text: async () => x.body.toString('utf8'),
    json: async () => JSON.parse(x.body.toString('utf8')) as unknown,
  };
}

/**
 * A `fetch` for the Web API client (`WebClientOptions.fetch`, Bolt's `clientOptions.fetch`). A call with a text
 * body (or none) that does not ask to follow redirects — every Web API method call, which asks for
 * `redirect: 'error'` — goes through `exchange` with `timeoutMs` as its deadline (the caller's signal still ends it
 * sooner); a redirect then rejects as fetch's would. Anything else (multipart uploads, redirects to follow) goes
 * to Node's fetch unchanged, with the same deadline.
 */
export function slackFetch(
  opts: { timeoutMs: number; dispatcher?: Dispatcher; fallback?: typeof fetch } = { timeoutMs: 30_000 },
): FetchFunction {
  const fallback = opts.fallback ?? globalThis.fetch;
  return async (input, init: FetchInit = {}) => {
    const url = typeof input === 'string' ? input : input.href;
    const lean =
      (init.body === undefined || typeof init.body === 'string') &&
      (init.redirect === 'error' || init.redirect === 'manual');
    if (!lean) {
      const deadline = AbortSignal.timeout(opts.timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
      return fallback(url, { ...init, signal } as RequestInit) as Promise<SlackFetchResponse>;
    }
    const x = await exchange(url, {
      method: init.method ?? 'GET',
      headers: init.headers ?? {},
      ...(typeof init.body === 'string' ? { body: init.body } : {}),
      timeoutMs: opts.timeoutMs,
      ...(init.signal ? { signal: init.signal } : {}),
      ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
    });
    if (init.redirect === 'error' && x.status >= 300 && x.status < 400) {
      // As fetch does with `redirect: 'error'`.
      throw new TypeError('fetch failed', { cause: new Error(`unexpected redirect (HTTP ${x.status})`) });
    }
    return response(url, x);
  };
}

/** Closes the shared connections (tests, shutdown); the next call opens new ones. */
export async function closeSlackTransport(): Promise<void> {
  const a = sharedAgent;
  sharedAgent = undefined;
  await a?.close();
}
