// The Slack transport (src/slack/transport.ts) against a local HTTP server: what the Web API client and the
// response_url answers rely on — the exchange itself, its deadline and the caller's abort, the fetch subset the Web
// API client reads, a redirect refused as fetch refuses it, and what goes to Node's fetch instead.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogLevel, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { slackErrorCode } from '../../src/slack/directory.ts';
import { closeSlackTransport, exchange, slackFetch } from '../../src/slack/transport.ts';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const route = routes.get((req.url ?? '').split('?')[0]!);
      if (route) route(req, body, res);
      else {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await closeSlackTransport();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
};

describe('exchange', () => {
  it('sends the method, headers and body, and resolves with the status, headers and whole body', async () => {
    routes.set('/echo', (req, body, res) =>
      json(res, 201, { got: body, type: req.headers['content-type'] }, { 'x-thing': 'yes' }),
    );
    const x = await exchange(`${base}/echo?a=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":"hello"}',
      timeoutMs: 5_000,
    });
    expect(x.status).toBe(201);
    expect(x.headers['x-thing']).toBe('yes');
    expect(JSON.parse(x.body.toString('utf8'))).toEqual({
      got: '{"text":"hello"}',
      type: 'application/json',
    });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/echo?a=1' });
  });

  it('rejects with a TimeoutError when the answer does not come by the deadline', async () => {
    routes.set('/never', () => {});
    const err = await exchange(`${base}/never`, { method: 'GET', headers: {}, timeoutMs: 50 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DOMException);
    expect((err as DOMException).name).toBe('TimeoutError');
  });

  it("rejects with the caller's reason when the caller aborts", async () => {
    routes.set('/never', () => {});
    const ac = new AbortController();
    const reason = new Error('the caller gave up');
    const p = exchange(`${base}/never`, { method: 'GET', headers: {}, timeoutMs: 5_000, signal: ac.signal });
    setTimeout(() => ac.abort(reason), 20);
    await expect(p).rejects.toBe(reason);
  });

  it('rejects with the network error when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = (await exchange(`http://127.0.0.1:${port}/`, {
      method: 'GET',
      headers: {},
      timeoutMs: 5_000,
    }).catch((e: unknown) => e)) as { code?: string };
    expect(err.code).toBe('ECONNREFUSED');
  });
});

describe('slackFetch', () => {
  const fetchLike = slackFetch({ timeoutMs: 5_000 });

  it('answers with the fetch subset the Web API client reads', async () => {
    routes.set('/api/thing', (_req, _body, res) =>
      json(res, 200, { ok: true, n: 1 }, { 'X-OAuth-Scopes': 'chat:write,users:read' }),
    );
    const res = await fetchLike(`${base}/api/thing`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
      redirect: 'error',
    });
    expect(res.ok).toBe(true);
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${base}/api/thing`);
    expect(res.headers.get('x-oauth-scopes')).toBe('chat:write,users:read');
    expect(res.headers.get('X-OAuth-Scopes')).toBe('chat:write,users:read');
    expect(res.headers.get('retry-after')).toBeNull();
    expect(Object.fromEntries(res.headers.entries())['content-type']).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ ok: true, n: 1 });
    expect(await res.text()).toBe('{"ok":true,"n":1}');
    expect(new TextDecoder().decode(await res.arrayBuffer())).toBe('{"ok":true,"n":1}');
  });

  it('refuses a redirect when asked to, as fetch does', async () => {
    routes.set('/moved', (_req, _body, res) => {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    });
    await expect(
      fetchLike(`${base}/moved`, { method: 'POST', headers: {}, body: '', redirect: 'error' }),
    ).rejects.toThrow(TypeError);
  });

  it("sends what it can't (multipart bodies, redirects to follow) through Node's fetch, with a deadline", async () => {
    const fallback = vi.fn(
      async (_url: string | URL | Request, _init?: RequestInit) =>
        new Response('{"ok":true}', { status: 200 }),
    );
    const f = slackFetch({ timeoutMs: 5_000, fallback });
    const form = new FormData();
    form.append('file', new Blob(['a,b\n']), 'x.csv');
    await f(`${base}/upload`, { method: 'POST', body: form, redirect: 'error' });
    await f(`${base}/api/thing`, { method: 'POST', body: 'a=1' });
    expect(fallback).toHaveBeenCalledTimes(2);
    const init = fallback.mock.calls[0]![1]!;
    expect(init.body).toBe(form);
    expect(init.signal).toBeInstanceOf(AbortSignal);
  });
});

describe('the Web API client on slackFetch', () => {
  // As src/slack/app.ts configures it: no client-side timeout, the transport's deadline instead.
  const client = () =>
    new WebClient('xoxb-transport-test', {
      slackApiUrl: `${base}/api/`,
      timeout: 0,
      fetch: slackFetch({ timeoutMs: 5_000 }),
      retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 },
      logLevel: LogLevel.ERROR,
    });

  it('calls a method and reads its result', async () => {
    routes.set('/api/users.info', (_req, body, res) =>
      json(res, 200, { ok: true, user: { id: new URLSearchParams(body).get('user'), name: 'frank' } }),
    );
    const res = await client().users.info({ user: 'U0F' });
    expect(res.user).toMatchObject({ id: 'U0F', name: 'frank' });
    expect(seen.at(-1)?.headers.authorization).toBe('Bearer xoxb-transport-test');
  });

  it("keeps Slack's error code where the directory reads it", async () => {
    routes.set('/api/users.info', (_req, _body, res) =>
      json(res, 200, { ok: false, error: 'user_not_found' }),
    );
    const err = await client()
      .users.info({ user: 'U0X' })
      .catch((e: unknown) => e);
    expect(slackErrorCode(err)).toBe('user_not_found');
  });

  it('waits out a rate limit (Retry-After) and retries', async () => {
    let calls = 0;
    routes.set('/api/chat.postMessage', (_req, _body, res) => {
      calls++;
      if (calls === 1) json(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': '0' });
      else json(res, 200, { ok: true, channel: 'C1', ts: '1.2' });
    });
    const res = await client().chat.postMessage({ channel: 'C1', text: 'hi' });
    expect(res.ts).toBe('1.2');
    expect(calls).toBe(2);
  });
});
