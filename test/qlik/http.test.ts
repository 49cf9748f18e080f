// The HTTP layer against a hand-written local server (for what the simulator cannot be made to do): the headers
// every call carries, /users/me redirects (same origin only), paging links that are null or leave the tenant,
// bodies that are not JSON, a server that ignores totalResults, and the onCall hook.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QlikClient, QlikError } from '../../src/qlik/index.ts';

const KEY = 'test-key-4f1c9a7e-do-not-leak';

type Handler = (
  url: URL,
  origin: string,
) => { status: number; body?: unknown; headers?: Record<string, string> };

let server: Server;
let origin: string;
const seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
const routes = new Map<string, Handler>();

const user = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `User ${id}`,
  subject: id,
  ...extra,
});

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ path: url.pathname + url.search, headers: req.headers });
    const handler = routes.get(url.pathname);
    const out = handler
      ? handler(url, origin)
      : { status: 404, body: { errors: [{ code: 'T-404', title: 'Not found' }] } };
    const text =
      typeof out.body === 'string' ? out.body : out.body === undefined ? '' : JSON.stringify(out.body);
    res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

function client(extra: Partial<ConstructorParameters<typeof QlikClient>[0]> = {}): QlikClient {
  return new QlikClient({ tenantUrl: origin, apiKey: KEY, retryBaseDelayMs: 1, ...extra });
}

async function caught(p: Promise<unknown>): Promise<QlikError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(QlikError);
    const err = e as QlikError;
    expect(err.message).not.toContain(KEY);
    expect(err.userMessage()).not.toContain(KEY);
    expect(JSON.stringify(err)).not.toContain(KEY);
    return err;
  }
  throw new Error('expected a QlikError');
}

describe('QlikHttp over a raw local server', () => {
  it('sends the bearer key, JSON accept, API version and User-Agent', async () => {
    routes.set('/api/v1/users/u1', () => ({ status: 200, body: user('u1') }));
    const c = client();
    seen.length = 0;
    expect((await c.getUser('u1')).name).toBe('User u1');
    const h = seen[0]!.headers;
    expect(h.authorization).toBe(`Bearer ${KEY}`);
    expect(h.accept).toBe('application/json');
    expect(h['qlik-api-version']).toBe('2026-08');
    expect(h['user-agent']).toBe('qlik-access-bot/0.1.0');
    await c.close();
  });

  it('encodes filter values with %20, never +, and escapes quotes', async () => {
    routes.set('/api/v1/users', () => ({ status: 200, body: { data: [], links: { self: { href: 'x' } } } }));
    const c = client();
    seen.length = 0;
    await c.findUsersByEmail('a"b+c@corp.example');
    expect(seen[0]!.path).toBe(
      `/api/v1/users?filter=${encodeURIComponent('email eq "a\\"b+c@corp.example"')}&limit=100`,
    );
    expect(seen[0]!.path).not.toContain('+');
    await c.close();
  });

  it('follows /users/me to the same origin, and refuses a redirect elsewhere', async () => {
    routes.set('/api/v1/users/me', (_u, o) => ({
      status: 301,
      headers: { location: `${o}/api/v1/users/me1` },
    }));
    routes.set('/api/v1/users/me1', () => ({
      status: 200,
      body: user('me1', {
        assignedRoles: [{ id: 'r1', name: 'TenantAdmin', type: 'default', level: 'admin' }],
      }),
    }));
    const events: string[] = [];
    const c = client({ onCall: (e) => events.push(`${e.endpoint} ${e.status}`) });
    expect((await c.whoAmI()).id).toBe('me1');
    expect(events).toEqual(['GET /users/me 301', 'GET /users/{id} 200']);
    const check = await c.verifyCredential();
    expect(check.ok).toBe(true);

    routes.set('/api/v1/users/me', () => ({
      status: 301,
      headers: { location: 'https://evil.example/api/v1/users/x' },
    }));
    const before = seen.length;
    const e = await caught(c.whoAmI());
    expect(e.kind).toBe('unexpected');
    expect(e.message).toContain('another origin');
    expect(seen.length).toBe(before + 1);
    const v = await c.verifyCredential();
    expect(v.ok).toBe(false);
    await c.close();
  });

  it('stops paging at a null next href and refuses a next link to another origin', async () => {
    routes.set('/api/v1/groups', (url, o) => {
      if (url.searchParams.get('next') === 'p2') {
        return {
          status: 200,
          body: { data: [{ id: 'g2', name: 'Two' }], links: { self: { href: 'x' }, next: { href: null } } },
        };
      }
      return {
        status: 200,
        body: {
          data: [{ id: 'g1', name: 'One' }],
          links: { self: { href: 'x' }, next: { href: `${o}/api/v1/groups?next=p2` }, prev: null },
        },
      };
    });
    const c = client();
    const names: string[] = [];
    for await (const g of c.groupsWithRole('Any')) names.push(g.name);
    expect(names).toEqual(['One', 'Two']);

    routes.set('/api/v1/groups', () => ({
      status: 200,
      body: {
        data: [{ id: 'g1', name: 'One' }],
        links: { self: { href: 'x' }, next: { href: 'http://169.254.169.254/api/v1/groups?next=x' } },
      },
    }));
    const e = await caught(
      (async () => {
        for await (const _ of c.groupsWithRole('Any')) {
          /* drain */
        }
      })(),
    );
    expect(e.kind).toBe('unexpected');
    await c.close();
  });

  it('detects a next link that points back at a page already read', async () => {
    routes.set('/api/v1/groups', (url, o) => ({
      status: 200,
      body: { data: [], links: { self: { href: 'x' }, next: { href: `${o}${url.pathname}${url.search}` } } },
    }));
    const c = client();
    const e = await caught(
      (async () => {
        for await (const _ of c.groupsWithRole('Loop')) {
          /* drain */
        }
      })(),
    );
    expect(e.message).toContain('same page twice');
    await c.close();
  });

  it('counts by paging when the server ignores totalResults', async () => {
    routes.set('/api/v1/users', (url, o) => {
      const page = Number(url.searchParams.get('next') ?? '0');
      const data = [user(`a${page}`), user(`b${page}`)];
      const next = page < 2 ? { href: `${o}/api/v1/users?next=${page + 1}` } : undefined;
      return { status: 200, body: { data, links: { self: { href: 'x' }, ...(next ? { next } : {}) } } };
    });
    const c = client();
    const { users, total } = await c.usersWithRolePage('X');
    expect(users.map((u) => u.id)).toEqual(['a0', 'b0']);
    expect(total).toBe(6);
    await c.close();
  });

  it('maps a 200 that is not JSON, or not the documented shape, to an unexpected error', async () => {
    routes.set('/api/v1/users/html', () => ({ status: 200, body: '<html>login</html>' }));
    routes.set('/api/v1/users/shape', () => ({ status: 200, body: { nope: true } }));
    const c = client();
    expect((await caught(c.getUser('html'))).kind).toBe('unexpected');
    const e = await caught(c.getUser('shape'));
    expect(e.kind).toBe('unexpected');
    expect(e.detail).toContain('id');
    await c.close();
  });

  it('retries a 5xx with an HTML body on GET, then gives up with a typed error', async () => {
    let calls = 0;
    routes.set('/api/v1/users/flaky', () => {
      calls += 1;
      return { status: 502, body: '<html>Bad gateway</html>', headers: { 'content-type': 'text/html' } };
    });
    const c = client({ maxRetries: 2 });
    const e = await caught(c.getUser('flaky'));
    expect(calls).toBe(3);
    expect(e).toMatchObject({ kind: 'server', status: 502, retryable: true, title: 'Bad Gateway' });
    await c.close();
  });

  it('reports a refused connection as a retryable network error without the key', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const c = new QlikClient({
      tenantUrl: `http://127.0.0.1:${port}`,
      apiKey: KEY,
      maxRetries: 1,
      retryBaseDelayMs: 1,
    });
    const e = await caught(c.getUser('x'));
    expect(e).toMatchObject({ kind: 'network', status: 0, retryable: true, causeCode: 'ECONNREFUSED' });
    const v = await c.verifyCredential();
    expect(v).toMatchObject({ ok: false });
    expect(JSON.stringify(v)).not.toContain(KEY);
    await c.close();
  });
});
