// HTTP front of the Qlik Cloud tenant simulator (node:http): auth, per-owner/per-tier rate limits, latency,
// fault injection, the request log, and the Users/Groups/Roles routes with the specs' shapes and errors.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import {
  countIdComparisons,
  type FilterNode,
  type FilterResource,
  FilterSyntaxError,
  parseFilter,
} from './filter.ts';
import {
  type Cursor,
  decodeCursor,
  GROUP_SORT_FIELDS,
  groupPredicate,
  matchUsers,
  pageOf,
  parseSort,
  ROLE_SORT_FIELDS,
  rolePredicate,
  SortedViews,
  type SortSpec,
  USER_SORT_FIELDS,
} from './query.ts';
import {
  errorBody,
  type QlikErrorItem,
  type RenderContext,
  renderGroup,
  renderRole,
  renderUser,
} from './render.ts';
import { demoTenant } from './seed.ts';
import type { SimTenant } from './tenant.ts';
import type {
  FaultSpec,
  LoggedRequest,
  QlikSimulator,
  RateLimitOptions,
  SimCounts,
  SimOptions,
  Tier,
} from './types.ts';

const MAX_BODY_BYTES = 512 * 1024;
const MAX_FILTER_IDS = 100;
const MAX_GROUP_ROLES = 100;

/** An error answered in Qlik's error shape. */
class HttpError extends Error {
  readonly status: number;
  readonly item: QlikErrorItem;
  readonly headers: Record<string, string>;
  constructor(status: number, item: Omit<QlikErrorItem, 'status'>, headers: Record<string, string> = {}) {
    super(item.detail ?? item.title);
    this.status = status;
    this.item = { ...item, status };
    this.headers = headers;
  }
}

function badRequest(detail: string, source?: QlikErrorItem['source']): HttpError {
  return new HttpError(400, {
    code: 'HTTP-400',
    title: 'Bad Request',
    detail,
    ...(source ? { source } : {}),
  });
}

function notFound(resource: 'users' | 'groups' | 'roles', id: string): HttpError {
  if (resource === 'users')
    return new HttpError(404, { code: 'USERS-7', title: 'Not found', detail: `User ${id} not found.` });
  if (resource === 'groups') {
    return new HttpError(404, { code: 'GROUPS-7', title: 'Not found', detail: `Group ${id} not found.` });
  }
  return new HttpError(404, {
    code: 'IDENTITIES-10402',
    title: 'Not Found',
    detail: `Role ${id} not found.`,
  });
}

function forbidden(detail: string): HttpError {
  return new HttpError(403, { code: 'HTTP-403', title: 'Forbidden', detail });
}

/** The `x-qlik-tier` of a request: filter actions are "special", other GETs tier 1, writes tier 2. */
export function tierOf(method: string, path: string): Tier {
  if (method === 'POST' && /^\/api\/v1\/(users|groups)\/actions\/filter$/.test(path)) return 'special';
  return method === 'GET' || method === 'HEAD' ? '1' : '2';
}

// ---------------------------------------------------------------- rate limits

interface Window {
  start: number;
  count: number;
}

/** Fixed windows per (key owner, tier); once a tier's budget is spent the whole tier waits for the window. */
class RateLimiter {
  private readonly limits: Record<Tier, number>;
  private readonly windowMs: number;
  private readonly windows = new Map<string, Window>();

  constructor(opts: RateLimitOptions) {
    this.limits = {
      '1': opts.tier1PerMinute ?? 1000,
      '2': opts.tier2PerMinute ?? 100,
      special: opts.specialPerMinute ?? 200,
    };
    this.windowMs = opts.windowMs ?? 60_000;
  }

  /** Undefined when allowed (and counted), else the whole seconds until the tier frees up. */
  take(owner: string, tier: Tier, now: number): number | undefined {
    const key = `${owner}\u0000${tier}`;
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    if (w.count >= this.limits[tier]) return Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
    w.count += 1;
    return undefined;
  }
}

// ---------------------------------------------------------------- request parsing helpers

interface ListParams {
  limit: number;
  sort: SortSpec;
  sortLabel: string;
  cursor: { dir: 'next' | 'prev'; at: Cursor } | undefined;
  totalResults: boolean;
  fields: string[] | undefined;
}

function parseBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw badRequest(`Query parameter "${name}" must be true or false, got "${v}".`, { parameter: name });
}

function parseListParams(q: URLSearchParams, sortFields: readonly string[], defaultSort: string): ListParams {
  let limit = 20;
  const rawLimit = q.get('limit');
  if (rawLimit !== null) {
    const n = rawLimit.trim() === '' ? Number.NaN : Number(rawLimit);
    if (!Number.isInteger(n) || n < 1 || n > 100) {
      throw badRequest(`Query parameter "limit" must be a whole number from 1 to 100, got "${rawLimit}".`, {
        parameter: 'limit',
      });
    }
    limit = n;
  }
  const rawSort = q.get('sort') ?? defaultSort;
  const sort = parseSort(rawSort, sortFields);
  if (!sort) {
    throw badRequest(
      `Query parameter "sort" must be one of ${sortFields.join(', ')} with an optional + or - prefix, got "${rawSort}".`,
      { parameter: 'sort' },
    );
  }
  const sortLabel = `${sort.desc ? '-' : '+'}${sort.field === '_id' ? 'id' : sort.field}`;
  const next = q.get('next');
  const prev = q.get('prev');
  if (next !== null && prev !== null) {
    throw badRequest('Query parameters "next" and "prev" cannot be used together.', { parameter: 'next' });
  }
  let cursor: ListParams['cursor'];
  const raw = next ?? prev;
  if (raw !== null) {
    const parameter = next !== null ? 'next' : 'prev';
    const at = decodeCursor(raw);
    if (!at) throw badRequest(`Query parameter "${parameter}" is not a valid cursor.`, { parameter });
    if (at.sort !== sortLabel) {
      throw badRequest(`The "${parameter}" cursor belongs to another sort order; start again without it.`, {
        parameter,
      });
    }
    cursor = { dir: next !== null ? 'next' : 'prev', at };
  }
  const fieldsRaw = q.get('fields');
  const fields =
    fieldsRaw === null
      ? undefined
      : fieldsRaw
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean);
  return { limit, sort, sortLabel, cursor, totalResults: parseBool(q, 'totalResults'), fields };
}

function parseFilterParam(
  text: string | null | undefined,
  resource: FilterResource,
  parameter: string,
): FilterNode | undefined {
  if (text === null || text === undefined) return undefined;
  try {
    return parseFilter(text, resource);
  } catch (e) {
    if (e instanceof FilterSyntaxError) {
      throw badRequest(
        `Invalid filter: ${e.message}`,
        parameter === 'filter' ? { parameter } : { pointer: '/filter' },
      );
    }
    throw e;
  }
}

const RoleRef = z.union([
  z.object({ id: z.string().min(1) }).loose(),
  z.object({ name: z.string().min(1) }).loose(),
]);
type RoleRef = z.infer<typeof RoleRef>;

const PatchOp = z.object({ op: z.string(), path: z.string(), value: z.unknown() }).loose();
const PatchArray = z.array(PatchOp);

/** Deprecated list params removed from the users spec in 2025: answering 400 exposes stale client code. */
const REMOVED_USER_PARAMS = [
  'email',
  'subject',
  'status',
  'role',
  'startingAfter',
  'endingBefore',
  'sortBy',
  'sortOrder',
  'tenantId',
];

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------- the simulator

/** Starts the simulator on 127.0.0.1 (ephemeral port by default) and resolves once it listens. */
export async function startQlikSimulator(opts: SimOptions = {}): Promise<QlikSimulator> {
  const tenant = opts.tenant ?? demoTenant();
  const views = new SortedViews(tenant);
  // Warm the default order so the first list request on a big tenant is as fast as the rest.
  views.users('all', { field: 'name', desc: false });
  const apiKeys = new Map<string, string>();
  let adminKey: string;
  if (opts.apiKeys && Object.keys(opts.apiKeys).length > 0) {
    for (const [k, v] of Object.entries(opts.apiKeys)) apiKeys.set(k, v);
    adminKey = [...apiKeys].find(([, owner]) => tenant.isTenantAdmin(owner))?.[0] ?? [...apiKeys.keys()][0]!;
  } else {
    adminKey = `qsim_${randomBytes(24).toString('base64url')}`;
    apiKeys.set(adminKey, defaultKeyOwner(tenant));
  }

  let latencyMs = opts.latencyMs ?? 0;
  let limiter = opts.rateLimits ? new RateLimiter(opts.rateLimits) : undefined;
  const faults: Array<FaultSpec & { left: number }> = [];
  const requests: LoggedRequest[] = [];
  let rateLimited = 0;
  let baseUrl = '';

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        const body = errorBody({
          code: 'HTTP-500',
          title: 'Internal Server Error',
          status: 500,
          detail: String(err),
        });
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', baseUrl);
    const path = url.pathname;
    const tier = tierOf(method, path);
    const entry: LoggedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      at,
      tier,
    };
    requests.push(entry);

    const raw = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req);
    let body: unknown;
    let bodyError: string | undefined;
    if (raw === 'too-large') {
      bodyError = 'too-large';
    } else if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
        entry.body = body;
      } catch {
        bodyError = 'The request body is not valid JSON.';
      }
    }

    if (latencyMs > 0) await delay(latencyMs);

    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      if (payload === undefined) {
        res.writeHead(status, headers).end();
        return;
      }
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res
        .writeHead(status, {
          'content-type':
            typeof payload === 'string' ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(text)),
          ...headers,
        })
        .end(text);
    };
    const sendError = (e: HttpError) => send(e.status, errorBody(e.item), e.headers);

    // Injected faults come first: they stand for the platform failing before any business logic runs.
    const fault = faults.find(
      (f) =>
        f.left > 0 &&
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (f.path === undefined || matchesPath(f.path, path)),
    );
    if (fault) {
      fault.left -= 1;
      if (fault.closeConnection) {
        entry.status = 0;
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string> = {};
      if (fault.retryAfterSec !== undefined) headers['retry-after'] = String(fault.retryAfterSec);
      const title =
        fault.status === 429 ? 'API rate limit reached.' : (STATUS_CODES[fault.status] ?? 'Error');
      send(
        fault.status,
        errorBody({ code: `HTTP-${fault.status}`, title, status: fault.status, detail: 'Injected fault.' }),
        headers,
      );
      return;
    }

    const owner = authenticate(req);
    if (!owner) {
      sendError(
        new HttpError(401, {
          code: 'HTTP-401',
          title: 'Unauthorized',
          detail: 'Missing or invalid API key. Send "Authorization: Bearer <API key>".',
        }),
      );
      return;
    }
    entry.ownerId = owner;

    if (limiter) {
      const wait = limiter.take(owner, tier, at);
      if (wait !== undefined) {
        rateLimited += 1;
        send(
          429,
          errorBody({
            code: 'HTTP-429',
            title: 'API rate limit reached.',
            detail: `You need to wait ${wait} seconds until limit is lifted.`,
            status: 429,
          }),
          { 'retry-after': String(wait) },
        );
        return;
      }
    }

    if (bodyError === 'too-large') {
      sendError(
        new HttpError(413, {
          code: 'HTTP-413',
          title: 'Payload Too Large',
          detail: 'The body is over 500 kB.',
        }),
      );
      return;
    }
    if (bodyError) {
      sendError(badRequest(bodyError));
      return;
    }

    try {
      route(method, url, owner, body, send);
    } catch (e) {
      if (e instanceof HttpError) sendError(e);
      else throw e;
    }
  }

  function authenticate(req: IncomingMessage): string | undefined {
    const h = req.headers.authorization;
    const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
    if (!m) return undefined;
    const owner = apiKeys.get(m[1]!);
    if (!owner) return undefined;
    const u = tenant.getUser(owner);
    // A key dies with its owner (deleted or disabled users cannot call APIs).
    if (!u || u.status === 'deleted' || u.status === 'disabled') return undefined;
    return owner;
  }

  type Send = (status: number, payload?: unknown, headers?: Record<string, string>) => void;

  function ctxFor(owner: string, fields?: string[]): RenderContext {
    const admin = tenant.isTenantAdmin(owner);
    return { tenant, baseUrl, fields, canSeeRoles: (id) => admin || id === owner };
  }

  function linksFor(url: URL, page: { next?: string; prev?: string }) {
    const self = { href: `${baseUrl}${url.pathname}${url.search}` };
    const withCursor = (name: 'next' | 'prev', cursor: string) => {
      const q = new URLSearchParams(url.searchParams);
      q.delete('next');
      q.delete('prev');
      q.set(name, cursor);
      return { href: `${baseUrl}${url.pathname}?${q.toString()}` };
    };
    const links: Record<string, { href: string }> = { self };
    if (page.next) links.next = withCursor('next', page.next);
    if (page.prev) links.prev = withCursor('prev', page.prev);
    return links;
  }

  function route(method: string, url: URL, owner: string, body: unknown, send: Send): void {
    const path = url.pathname;
    const q = url.searchParams;
    const allow = (...methods: string[]) => {
      if (!methods.includes(method)) {
        throw new HttpError(
          405,
          { code: 'HTTP-405', title: 'Method Not Allowed', detail: `${method} is not supported on ${path}.` },
          { allow: methods.join(', ') },
        );
      }
    };
    const userMatch = /^\/api\/v1\/users\/([^/]+)$/.exec(path);
    const groupMatch = /^\/api\/v1\/groups\/([^/]+)$/.exec(path);

    if (path === '/api/v1/users') {
      allow('GET');
      for (const p of REMOVED_USER_PARAMS) {
        if (q.has(p)) {
          throw badRequest(`Query parameter "${p}" is no longer supported; use "filter" instead.`, {
            parameter: p,
          });
        }
      }
      const lp = parseListParams(q, USER_SORT_FIELDS, '+name');
      const node = parseFilterParam(q.get('filter'), 'users', 'filter');
      send(200, listUsers(url, owner, lp, node));
      return;
    }
    if (path === '/api/v1/users/me') {
      allow('GET');
      const location = `/api/v1/users/${owner}${url.search}`;
      send(301, `<a href="${location}">Moved Permanently</a>.\n`, { location });
      return;
    }
    if (path === '/api/v1/users/actions/filter') {
      allow('POST');
      const lp = parseListParams(q, ['name'], '+name');
      const node = filterFromBody(body, 'users');
      send(200, listUsers(url, owner, lp, node));
      return;
    }
    if (userMatch) {
      allow('GET', 'PATCH', 'DELETE');
      const id = decodeURIComponent(userMatch[1]!);
      if (method === 'GET') {
        const u = tenant.getUser(id);
        if (!u) throw notFound('users', id);
        const fields = q
          .get('fields')
          ?.split(',')
          .map((f) => f.trim())
          .filter(Boolean);
        send(200, renderUser(ctxFor(owner, fields), u));
        return;
      }
      if (!tenant.isTenantAdmin(owner)) throw forbidden('Only a TenantAdmin can change or delete users.');
      const u = tenant.getUser(id);
      if (!u || u.status === 'deleted') throw notFound('users', id);
      if (method === 'DELETE') {
        tenant.deleteUser(id);
        send(204);
        return;
      }
      patchUser(id, body);
      send(204);
      return;
    }

    if (path === '/api/v1/groups') {
      allow('GET');
      if (q.has('systemGroups') && parseBool(q, 'systemGroups')) {
        const others = [...q.keys()].filter((k) => k !== 'systemGroups');
        if (others.length > 0) {
          throw badRequest(`Query parameter "systemGroups" cannot be combined with ${others.join(', ')}.`, {
            parameter: 'systemGroups',
          });
        }
        const lp = parseListParams(new URLSearchParams(), GROUP_SORT_FIELDS, '+id');
        send(200, listGroups(url, lp, undefined, true));
        return;
      }
      const lp = parseListParams(q, GROUP_SORT_FIELDS, '+id');
      const node = parseFilterParam(q.get('filter'), 'groups', 'filter');
      send(200, listGroups(url, lp, node, false));
      return;
    }
    if (path === '/api/v1/groups/actions/filter') {
      allow('POST');
      const lp = parseListParams(q, ['name'], '+name');
      const node = filterFromBody(body, 'groups');
      send(200, listGroups(url, lp, node, false));
      return;
    }
    if (groupMatch) {
      allow('GET', 'PATCH');
      const id = decodeURIComponent(groupMatch[1]!);
      const g = tenant.getGroup(id);
      if (method === 'GET') {
        if (!g) throw notFound('groups', id);
        send(200, renderGroup(ctxFor(owner), g));
        return;
      }
      if (!tenant.isTenantAdmin(owner)) throw forbidden('Only a TenantAdmin can change groups.');
      if (!g) throw notFound('groups', id);
      patchGroup(id, body, owner);
      send(204);
      return;
    }

    if (path === '/api/v1/roles' || /^\/api\/v1\/roles\/[^/]+$/.test(path)) {
      allow('GET');
      if (!tenant.isTenantAdmin(owner)) {
        throw forbidden('Only users with the TenantAdmin role can use the Roles API.');
      }
      if (path === '/api/v1/roles') {
        const lp = parseListParams(q, ROLE_SORT_FIELDS, '+id');
        const node = parseFilterParam(q.get('filter'), 'roles', 'filter');
        const { sorted, keyOf } = views.roles(node ? rolePredicate(tenant, node) : undefined, lp.sort);
        const page = pageOf(sorted, keyOf, lp.sort, lp.sortLabel, lp.limit, lp.cursor);
        const ctx = ctxFor(owner);
        send(200, {
          data: page.items.map((r) => renderRole(ctx, r)),
          links: linksFor(url, page),
          ...(lp.totalResults ? { totalResults: page.total } : {}),
        });
        return;
      }
      const id = decodeURIComponent(path.slice('/api/v1/roles/'.length));
      const r = tenant.getRole(id);
      if (!r) throw notFound('roles', id);
      send(200, renderRole(ctxFor(owner), r));
      return;
    }

    throw new HttpError(404, {
      code: 'HTTP-404',
      title: 'Not Found',
      detail: `No route for ${method} ${path}.`,
    });
  }

  function filterFromBody(body: unknown, resource: FilterResource): FilterNode | undefined {
    if (body === undefined) return undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw badRequest('The body must be a JSON object like {"filter": "..."}.');
    }
    const f = (body as Record<string, unknown>).filter;
    if (f === undefined) return undefined;
    if (typeof f !== 'string') throw badRequest('"filter" must be a string.', { pointer: '/filter' });
    const node = parseFilterParam(f, resource, 'body');
    if (node && countIdComparisons(node) > MAX_FILTER_IDS) {
      throw badRequest(`Filter too complex: it may not contain more than ${MAX_FILTER_IDS} ids.`, {
        pointer: '/filter',
      });
    }
    return node;
  }

  function listUsers(url: URL, owner: string, lp: ListParams, node: FilterNode | undefined) {
    const match = matchUsers(tenant, node);
    const { sorted, keyOf } = views.users(match, lp.sort);
    const page = pageOf(sorted, keyOf, lp.sort, lp.sortLabel, lp.limit, lp.cursor);
    const ctx = ctxFor(owner, lp.fields);
    return {
      data: page.items.map((u) => renderUser(ctx, u)),
      links: linksFor(url, page),
      ...(lp.totalResults ? { totalResults: page.total } : {}),
    };
  }

  function listGroups(url: URL, lp: ListParams, node: FilterNode | undefined, system: boolean) {
    const { sorted, keyOf } = views.groups(node ? groupPredicate(tenant, node) : undefined, lp.sort, system);
    const page = pageOf(sorted, keyOf, lp.sort, lp.sortLabel, lp.limit, lp.cursor);
    const ctx = ctxFor('');
    return {
      data: page.items.map((g) => renderGroup(ctx, g)),
      links: linksFor(url, page),
      ...(lp.totalResults ? { totalResults: page.total } : {}),
    };
  }

  function resolveRoleRef(value: unknown, pointer: string): string {
    const parsed = RoleRef.safeParse(value);
    if (!parsed.success) {
      throw badRequest('A role reference must be an object with an "id" or a "name".', { pointer });
    }
    const ref: RoleRef = parsed.data;
    if ('id' in ref && typeof ref.id === 'string') {
      if (!tenant.getRole(ref.id))
        throw badRequest(`Role id "${ref.id}" does not exist in the tenant.`, { pointer });
      return ref.id;
    }
    const name = (ref as { name: string }).name;
    const r = tenant.roleByName(name);
    if (!r)
      throw badRequest(`Role "${name}" does not exist in the tenant (role names are case-sensitive).`, {
        pointer,
      });
    return r.id;
  }

  function resolveRoleList(value: unknown, pointer: string): string[] {
    if (!Array.isArray(value))
      throw badRequest('The value must be an array of {"id"} or {"name"} objects.', { pointer });
    return value.map((v, i) => resolveRoleRef(v, `${pointer}/${i}`));
  }

  function parsePatchArray(body: unknown): z.infer<typeof PatchArray> {
    const parsed = PatchArray.safeParse(body);
    if (!parsed.success) {
      throw badRequest('The body must be a JSON array of {"op", "path", "value"} objects.');
    }
    for (const [i, op] of parsed.data.entries()) {
      if (!('value' in op)) throw badRequest(`Operation ${i} has no "value".`, { pointer: `/${i}` });
    }
    return parsed.data;
  }

  /** Validates every operation first, then applies them all: a bad operation changes nothing. */
  function patchUser(id: string, body: unknown): void {
    const ops = parsePatchArray(body);
    const u = tenant.getUser(id)!;
    let roles = [...u.assignedRoleIds];
    const changes: Parameters<SimTenant['updateUser']>[1] = {};
    let customGroups: string[] | undefined;
    for (const [i, { op, path, value }] of ops.entries()) {
      const pointer = `/${i}/value`;
      const key = `${op} ${path}`;
      if (op === 'set' || op === 'unset' || path === '/roles') {
        throw badRequest(
          `"${op} ${path}" is deprecated and no longer supported; use "replace /assignedRoles".`,
          {
            pointer: `/${i}`,
          },
        );
      }
      if (key === 'replace /assignedRoles') {
        roles = resolveRoleList(value, pointer);
      } else if (key === 'add /assignedRoles/-') {
        const rid = resolveRoleRef(value, pointer);
        if (!roles.includes(rid)) roles.push(rid);
      } else if (key === 'remove-value /assignedRoles') {
        const rid = resolveRoleRef(value, pointer);
        roles = roles.filter((r) => r !== rid);
      } else if (key === 'replace /status') {
        if (value !== 'active' && value !== 'disabled') {
          throw badRequest('Status can only be replaced with "active" or "disabled".', { pointer });
        }
        changes.status = value;
      } else if (key === 'replace /name' || key === 'replace /email') {
        if (typeof value !== 'string' || value.trim() === '') {
          throw badRequest(`${path.slice(1)} must be a non-empty string.`, { pointer });
        }
        changes[path === '/name' ? 'name' : 'email'] = value;
      } else if (key === 'replace /preferredLocale') {
        if (typeof value !== 'string') throw badRequest('preferredLocale must be a string.', { pointer });
        changes.preferredLocale = value;
      } else if (key === 'replace /preferredZoneinfo' || key === 'replace /preferredZoneInfo') {
        if (typeof value !== 'string') throw badRequest('preferredZoneinfo must be a string.', { pointer });
        changes.preferredZoneinfo = value;
      } else if (key === 'replace /assignedGroups') {
        customGroups = resolveCustomGroups(value, pointer);
      } else {
        throw badRequest(`Unsupported operation "${op}" on path "${path}".`, { pointer: `/${i}` });
      }
    }
    if (roles.length !== u.assignedRoleIds.length || roles.some((r, i) => r !== u.assignedRoleIds[i])) {
      tenant.setUserRoleIds(id, roles);
    }
    if (Object.keys(changes).length > 0) tenant.updateUser(id, changes);
    if (customGroups) {
      const keep = u.groupIds.filter((g) => tenant.getGroup(g)?.providerType !== 'custom');
      for (const g of u.groupIds) if (!keep.includes(g)) tenant.removeUserFromGroup(id, g);
      for (const g of customGroups) tenant.addUserToGroup(id, g);
    }
  }

  function resolveCustomGroups(value: unknown, pointer: string): string[] {
    if (!Array.isArray(value))
      throw badRequest('assignedGroups must be an array of {"name", "providerType"}.', { pointer });
    return value.map((v, i) => {
      const name = (v as { name?: unknown })?.name;
      const g = typeof name === 'string' ? tenant.groupByName(name) : undefined;
      if (!g || g.system || g.providerType !== 'custom') {
        throw badRequest(`Custom group ${JSON.stringify(name)} does not exist.`, {
          pointer: `${pointer}/${i}`,
        });
      }
      return g.id;
    });
  }

  function patchGroup(id: string, body: unknown, owner: string): void {
    const ops = parsePatchArray(body);
    const g = tenant.getGroup(id)!;
    let roles: string[] | undefined;
    const changes: { name?: string; description?: string } = {};
    for (const [i, { op, path, value }] of ops.entries()) {
      const pointer = `/${i}/value`;
      if (op !== 'replace') {
        throw badRequest(
          `Unsupported operation "${op}": "replace" is the only supported operation on groups.`,
          {
            pointer: `/${i}/op`,
          },
        );
      }
      const field = path.startsWith('/') ? path.slice(1) : path;
      if (field === 'assignedRoles') {
        roles = resolveRoleList(value, pointer);
        if (roles.length > MAX_GROUP_ROLES) {
          throw badRequest(`A group can hold at most ${MAX_GROUP_ROLES} roles.`, { pointer });
        }
      } else if (field === 'name' || field === 'description') {
        if (g.providerType !== 'custom' || g.system) {
          throw badRequest(`The ${field} can only be changed on custom groups.`, { pointer: `/${i}/path` });
        }
        if (typeof value !== 'string' || (field === 'name' && (value.length < 1 || value.length > 256))) {
          throw badRequest(
            `The ${field} must be a string${field === 'name' ? ' of 1 to 256 characters' : ''}.`,
            {
              pointer,
            },
          );
        }
        if (field === 'name' && value !== g.name && tenant.groupByName(value)) {
          throw new HttpError(409, {
            code: 'GROUPS-409',
            title: 'Conflict',
            detail: `A group named "${value}" already exists.`,
          });
        }
        changes[field] = value;
      } else {
        throw badRequest(`Unsupported path "${path}": use assignedRoles, name or description.`, {
          pointer: `/${i}/path`,
        });
      }
    }
    if (roles) tenant.setGroupRoleIds(id, roles, owner);
    if (Object.keys(changes).length > 0) tenant.updateGroup(id, changes, owner);
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
  baseUrl = `http://${host}:${addr.port}`;

  return {
    url: baseUrl,
    apiKey: adminKey,
    tenant,
    requests,
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
    setRateLimits(o) {
      limiter = o ? new RateLimiter(o) : undefined;
    },
    addApiKey(key, ownerUserId) {
      apiKeys.set(key, ownerUserId);
    },
    injectFault(f) {
      faults.push({ ...f, left: f.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    counts(): SimCounts {
      const byTier: Record<string, number> = { '1': 0, '2': 0, special: 0 };
      for (const r of requests) byTier[r.tier] = (byTier[r.tier] ?? 0) + 1;
      return { total: requests.length, byTier, rateLimited };
    },
    resetLog() {
      requests.length = 0;
      rateLimited = 0;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

/** Tests a fault's path pattern; resets lastIndex so a /g regex matches every time. */
function matchesPath(re: RegExp, path: string): boolean {
  re.lastIndex = 0;
  return re.test(path);
}

/** The owner of the default key: the seed's service user, else any active TenantAdmin, else a new service user. */
function defaultKeyOwner(tenant: SimTenant): string {
  if (tenant.serviceUserId && tenant.isTenantAdmin(tenant.serviceUserId)) return tenant.serviceUserId;
  for (const id of tenant.userIdsWithRole(tenant.roleByName('TenantAdmin')?.id ?? '')) {
    if (tenant.isTenantAdmin(id)) return id;
  }
  const svc = tenant.addUser({
    name: 'Qlik Simulator (service)',
    subject: 'svc|qlik-sim',
    roles: ['TenantAdmin'],
  });
  tenant.serviceUserId = svc.id;
  return svc.id;
}
