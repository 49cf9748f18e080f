// HTTP front of the Mode workspace simulator (node:http): Basic auth with one Workspace API token, a leaky-bucket
// rate limit (429, no Retry-After), latency, fault injection, the request log, and the memberships, users, groups,
// group memberships and collection ("spaces") permission routes with Mode's HAL shapes, paging quirks and errors.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import {
  errorId,
  renderCollection,
  renderGroup,
  renderGroupMembership,
  renderMembership,
  renderPermission,
  renderUser,
  renderWorkspace,
} from './render.ts';
import { demoModeWorkspace } from './seed.ts';
import type {
  AccessorType,
  CollectionAccessLevel,
  ModeFaultSpec,
  ModeLoggedRequest,
  ModeSimOptions,
  ModeSimulator,
  PermissionAction,
} from './types.ts';
import { ModeSimError, type ModeWorkspace } from './workspace.ts';

const MAX_BODY_BYTES = 512 * 1024;
/** Mode clamps per_page to 30 without an error ([SDK pagination.py]). */
export const MODE_PER_PAGE_MAX = 30;
const CONTENT_TYPE = 'application/hal+json; charset=utf-8';

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const notFound = (message: string) => new HttpError(404, message);
const badRequest = (message: string) => new HttpError(400, message);

/** A state refusal in HTTP terms: unknown → 404, bad input and duplicates → 400 (Mode documents no 409/422). */
function fromSimError(e: ModeSimError): HttpError {
  return e.kind === 'not-found' ? notFound(e.message) : badRequest(e.message);
}

/** Leaky bucket: holds perMinute requests and drains at perMinute per minute, on the workspace clock. */
class LeakyBucket {
  private level = 0;
  private last: number | undefined;
  private readonly perMinute: number;
  constructor(perMinute: number) {
    this.perMinute = perMinute;
  }

  take(now: number): boolean {
    if (this.last !== undefined) {
      this.level = Math.max(0, this.level - ((now - this.last) * this.perMinute) / 60_000);
    }
    this.last = now;
    if (this.level + 1 > this.perMinute) return false;
    this.level += 1;
    return true;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Rails-like `page`/`per_page`: junk or values below 1 fall back silently, per_page is clamped silently. */
function paging(q: URLSearchParams, max: number): { page: number; perPage: number } {
  const page = Number.parseInt(q.get('page') ?? '', 10);
  const perPage = Number.parseInt(q.get('per_page') ?? '', 10);
  return {
    page: Number.isFinite(page) && page >= 1 ? page : 1,
    perPage: Number.isFinite(perPage) && perPage >= 1 ? Math.min(perPage, max) : max,
  };
}

function withQuery(path: string, q: URLSearchParams, set: Record<string, string>): string {
  const next = new URLSearchParams(q);
  for (const [k, v] of Object.entries(set)) next.set(k, v);
  return `${path}?${next.toString()}`;
}

function objectField(body: unknown, key: string): Record<string, unknown> {
  const inner =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)[key]
      : undefined;
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    throw badRequest(`param is missing or the value is empty: ${key}`);
  }
  return inner as Record<string, unknown>;
}

/** Starts the simulator on 127.0.0.1 (ephemeral port by default) and resolves once it listens. */
export async function startModeSimulator(opts: ModeSimOptions = {}): Promise<ModeSimulator> {
  const ws: ModeWorkspace = opts.workspace ?? demoModeWorkspace();
  const token = opts.token ?? randomBytes(6).toString('hex');
  const secret = opts.secret ?? randomBytes(24).toString('base64url');
  const perPageMax = Math.max(1, opts.perPageMax ?? MODE_PER_PAGE_MAX);
  const bucket = opts.rateLimit ? new LeakyBucket(opts.rateLimit.perMinute) : undefined;
  let latencyMs = opts.latencyMs ?? 0;
  const faults: Array<ModeFaultSpec & { left: number }> = [];
  const requests: ModeLoggedRequest[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const text = JSON.stringify({ id: 'internal_server_error', message: String(err) });
      res.writeHead(500, { 'content-type': CONTENT_TYPE }).end(text);
    });
  });
  server.keepAliveTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mode-sim.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const entry: ModeLoggedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      at: ws.now(),
    };
    requests.push(entry);

    const raw = await readBody(req);
    let body: unknown;
    let bodyError: string | undefined;
    if (raw === 'too-large') bodyError = 'Request body is too large.';
    else if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
        entry.body = body;
      } catch {
        bodyError = 'Request body is not valid JSON.';
      }
    }

    if (latencyMs > 0) await delay(latencyMs);

    const send = (status: number, payload: unknown) => {
      entry.status = status;
      const text = JSON.stringify(payload);
      res
        .writeHead(status, {
          'content-type': CONTENT_TYPE,
          'content-length': String(Buffer.byteLength(text)),
        })
        .end(text);
    };
    const sendError = (status: number, message: string) => send(status, { id: errorId(status), message });

    // Faults first: they stand for the platform failing before any of Mode's own logic runs.
    const fault = faults.find(
      (f) =>
        f.left > 0 &&
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (f.path === undefined || testPath(f.path, path)),
    );
    if (fault) {
      fault.left -= 1;
      if (fault.closeConnection) {
        req.socket.destroy();
        return;
      }
      send(fault.status, fault.body ?? { id: errorId(fault.status), message: 'Injected fault.' });
      return;
    }

    if (!authenticated(req)) {
      sendError(401, 'You must be authenticated to access this resource.');
      return;
    }
    // Mode documents no rate-limit header at all: a 429 comes with no Retry-After.
    if (bucket && !bucket.take(ws.now())) {
      sendError(429, 'Too many requests. Please slow down.');
      return;
    }
    if (bodyError) {
      sendError(400, bodyError);
      return;
    }
    try {
      send(200, route(method, url, body));
    } catch (e) {
      if (e instanceof HttpError) sendError(e.status, e.message);
      else if (e instanceof ModeSimError) {
        const h = fromSimError(e);
        sendError(h.status, h.message);
      } else throw e;
    }
  }

  function authenticated(req: IncomingMessage): boolean {
    const m = /^Basic\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    return sameSecret(decoded.slice(0, colon), token) && sameSecret(decoded.slice(colon + 1), secret);
  }

  /** Every route answers 200 on success, as Mode documents for reads, creates and deletes alike. */
  function route(method: string, url: URL, body: unknown): unknown {
    const parts = url.pathname.split('/').filter(Boolean).map(safeDecode);
    // Mode's router answers unknown paths and methods alike with 404.
    const noRoute = () => notFound(`No route matches ${method} ${url.pathname}`);
    if (parts[0] !== 'api' || parts.length < 2) throw noRoute();
    const [, first, resource, id, sub, subId, extra] = parts;

    if (first === 'verify' && parts.length === 2) {
      if (method !== 'GET') throw noRoute();
      return {
        workspace: ws.username,
        api_key_scope: 'workspace',
        _links: { self: { href: '/api/verify' } },
      };
    }
    // /api/{username}: a user, or the workspace itself (accounts share one namespace).
    if (parts.length === 2) {
      if (method !== 'GET') throw noRoute();
      if (first === ws.username) return renderWorkspace(ws);
      const m = ws.memberByUsername(first!);
      if (!m) throw notFound('User not found');
      return renderUser(m);
    }
    // The one workspace the key belongs to; any other slug is unknown to it.
    if (first !== ws.username) throw notFound('Account not found');
    if (extra !== undefined) throw noRoute();

    if (resource === 'memberships') {
      if (sub !== undefined || method !== 'GET') throw noRoute();
      if (id === undefined) {
        // Mode documents no paging here: the whole list, whatever page/per_page say.
        return {
          _links: { self: { href: `/api/${ws.username}/memberships` } },
          _embedded: { memberships: ws.members().map((m) => renderMembership(ws, m)) },
        };
      }
      const m = ws.memberByMembershipToken(id);
      if (!m) throw notFound('Membership not found for Workspace');
      return renderMembership(ws, m);
    }

    if (resource === 'groups') {
      if (id === undefined) {
        if (method !== 'GET') throw noRoute();
        return listGroups(url);
      }
      const g = ws.group(id);
      if (!g) throw notFound('User group not found');
      if (sub === undefined) {
        if (method !== 'GET') throw noRoute();
        // Soft-deleted groups still answer 200, with state "soft_deleted".
        return renderGroup(ws, g);
      }
      if (sub !== 'memberships') throw noRoute();
      if (subId === undefined) {
        if (method === 'GET') return listGroupMemberships(url, g.token);
        if (method === 'POST') {
          const memberToken = objectField(body, 'membership').member_token;
          if (typeof memberToken !== 'string' || memberToken === '') {
            throw badRequest('membership.member_token is required');
          }
          if (g.state === 'soft_deleted') throw badRequest('User group has been deleted');
          if (!ws.member(memberToken)) throw badRequest('Member not found in Workspace');
          const gm = ws.addToGroup(g.token, memberToken);
          return renderGroupMembership(ws, ws.groupMembership(g.token, gm)!);
        }
        throw noRoute();
      }
      const row = ws.groupMembership(g.token, subId);
      if (!row) throw notFound('Membership not found for Workspace');
      if (method === 'GET') return renderGroupMembership(ws, row);
      if (method === 'DELETE') {
        const rendered = renderGroupMembership(ws, row);
        ws.removeFromGroup(g.token, row.token);
        return rendered;
      }
      throw noRoute();
    }

    if (resource === 'spaces') {
      if (id === undefined) {
        if (method !== 'GET') throw noRoute();
        return listCollections(url);
      }
      const c = ws.collection(id);
      if (!c) throw notFound('Space not found');
      // A just-deleted Collection has answered 403 rather than 404 ([TF helpers.go]).
      if (c.deleted) throw new HttpError(403, 'You do not have access to this space');
      if (sub === undefined) {
        if (method === 'GET') return renderCollection(ws, c);
        if (method === 'PATCH') {
          const level = objectField(body, 'space').default_access_level;
          if (level !== undefined) {
            if (level !== 'restricted' && level !== 'view' && level !== 'edit') {
              throw badRequest('default_access_level must be restricted, view or edit');
            }
            ws.setDefaultAccessLevel(c.token, level as CollectionAccessLevel);
          }
          return renderCollection(ws, c);
        }
        throw noRoute();
      }
      if (sub !== 'permissions') throw noRoute();
      if (subId === undefined) {
        if (method === 'GET') {
          return {
            _links: { self: { href: `/api/${ws.username}/spaces/${c.token}/permissions` } },
            _embedded: { permissions: ws.permissionsOf(c.token).map((p) => renderPermission(ws, p)) },
          };
        }
        if (method === 'POST') {
          const p = objectField(body, 'permission');
          const token = ws.setPermission(c.token, {
            action: p.action as PermissionAction,
            accessorType: p.accessor_type as AccessorType,
            accessorToken: typeof p.accessor_token === 'string' ? p.accessor_token : '',
          });
          return renderPermission(ws, ws.permission(c.token, token)!);
        }
        throw noRoute();
      }
      const p = ws.permission(c.token, subId);
      if (!p) throw notFound('Permission not found');
      if (method === 'GET') return renderPermission(ws, p);
      if (method === 'PATCH') {
        // Only `action` can change; accessor fields in the body are ignored, as Rails' strong params would.
        ws.updatePermission(c.token, p.token, objectField(body, 'permission').action as PermissionAction);
        return renderPermission(ws, p);
      }
      if (method === 'DELETE') {
        const rendered = renderPermission(ws, p);
        ws.deletePermission(c.token, p.token);
        return rendered;
      }
      throw noRoute();
    }
    throw noRoute();
  }

  /**
   * Groups page properly (the one admin list that does): `page`/`per_page`, per_page clamped silently,
   * `pagination{…}`, and a `next_page` link also on the last page, pointing one past the end (observed), where
   * the page is empty and has no next_page. `?member=<username>` keeps the groups that member is in.
   */
  function listGroups(url: URL) {
    const q = url.searchParams;
    const { page, perPage } = paging(q, perPageMax);
    const member = q.get('member');
    let all = ws.groups();
    if (member !== null) {
      const m = ws.memberByUsername(member);
      all = m ? ws.groupsOfMember(m.memberToken) : [];
    }
    const totalPages = Math.max(1, Math.ceil(all.length / perPage));
    const rows = all.slice((page - 1) * perPage, page * perPage);
    const path = url.pathname;
    const links: Record<string, { href: string }> = { self: { href: `${path}${url.search}` } };
    if (page <= totalPages) links.next_page = { href: withQuery(path, q, { page: String(page + 1) }) };
    if (page > 1) links.prev_page = { href: withQuery(path, q, { page: String(page - 1) }) };
    return {
      pagination: { first_page: 1, last_page: totalPages, total_pages: totalPages, total_count: all.length },
      _links: links,
      _embedded: { groups: rows.map((g) => renderGroup(ws, g)) },
    };
  }

  /**
   * Group memberships ignore `page` and `per_page` (observed: of the admin lists only /groups pages), so every
   * page holds the whole list; yet `next_page` always points one further. A client must stop on a repeated page.
   * Filters (`filter=by_user_id`, `filter=preview`, unknown ones) are ignored silently, as observed.
   */
  function listGroupMemberships(url: URL, groupToken: string) {
    const q = url.searchParams;
    const { page } = paging(q, perPageMax);
    const rows = ws.groupMemberships(groupToken);
    const path = url.pathname;
    const links: Record<string, { href: string }> = {
      self: { href: `${path}${url.search}` },
      next_page: { href: withQuery(path, q, { page: String(page + 1) }) },
    };
    if (page > 1) links.prev_page = { href: withQuery(path, q, { page: String(page - 1) }) };
    return {
      pagination: { first_page: 1, last_page: 1, total_pages: 1, total_count: rows.length },
      _links: links,
      _embedded: { group_memberships: rows.map((r) => renderGroupMembership(ws, r)) },
    };
  }

  /**
   * Collections: only "the caller's" unless `?filter=all` ([SDK workspace.py]). A Workspace token belongs to no
   * person, so the simulator reads "the caller's" as the ones open to every member (default access view or
   * edit); restricted collections come back only with filter=all. Not paged.
   */
  function listCollections(url: URL) {
    const all = url.searchParams.get('filter') === 'all';
    const rows = ws.collections().filter((c) => all || c.defaultAccessLevel !== 'restricted');
    return {
      _links: { self: { href: `${url.pathname}${url.search}` } },
      _embedded: { spaces: rows.map((c) => renderCollection(ws, c)) },
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    url: `http://${host}:${addr.port}/api`,
    token,
    secret,
    workspace: ws,
    requests,
    injectFault(f) {
      faults.push({ ...f, left: f.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
    resetLog() {
      requests.length = 0;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

/** Resets lastIndex so a /g regex matches every time. */
function testPath(re: RegExp, path: string): boolean {
  re.lastIndex = 0;
  return re.test(path);
}
