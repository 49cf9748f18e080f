// Owns the Qlik Cloud operations the bot needs (README, "The `/qlik` command" and "How it works"): find users and groups, read the tenant's roles,
// list who holds a role, replace a principal's direct roles, invite people by email, read spaces and change their
// assignments, and check the bot's own credential. One instance per
// tenant credential: it holds the connection pool, the per-tier rate limits and the role cache.
import type { z } from 'zod';
import { QlikError } from './errors.ts';
import { eq, type Filter, or } from './filter.ts';
import { type CallEvent, QlikHttp, type QueryValue } from './http.ts';
import { collect, items, PAGE_LIMIT, type PageSource, pages } from './paging.ts';
import { RateLimiter, type RateTier, type TierLimit } from './rate-limiter.ts';
import { closestRoleNames, matchRole } from './role-match.ts';
import {
  groupSchema,
  inviteResponseSchema,
  type ListPage,
  listPageSchema,
  type QlikGroup,
  type QlikRole,
  type QlikSpace,
  type QlikSpaceAssignment,
  type QlikUser,
  type QlikUserSummary,
  roleSchema,
  spaceAssignmentSchema,
  spaceSchema,
  spacesListPageSchema,
  userSchema,
} from './schemas.ts';

export interface QlikClientOptions {
  /** e.g. https://acme.eu.qlikcloud.com */
  tenantUrl: string;
  /** API key (or OAuth access token) of a TenantAdmin. Never logged, never in an error. */
  apiKey: string;
  /** Tier 1 budget; default 1000/min. */
  readsPerMinute?: number;
  /** Tier 2 budget; default 100/min. */
  writesPerMinute?: number;
  /** Special tier (POST …/actions/filter); default 200/min. */
  filterPerMinute?: number;
  /** How long `listRoles` serves from memory; default 5 min. */
  roleCacheTtlMs?: number;
  /** Deadline of one attempt (send to last body byte); default 15 s. */
  requestTimeoutMs?: number;
  /** Retries after the first attempt (GETs: 429/5xx/network/timeout; PATCH: 429 only); default 4. */
  maxRetries?: number;
  /** Base of the exponential backoff between retries; default 500 ms. */
  retryBaseDelayMs?: number;
  /** Upper bound of time spent retrying one call; default 30 s. */
  maxRetryElapsedMs?: number;
  /** `qlik-api-version` header; default 2026-08. */
  apiVersion?: string;
  /** Called after every HTTP exchange (each retry too), e.g. for metrics. */
  onCall?: (e: CallEvent) => void;
  /**
   * Share one limiter between clients that use the same credential: an in-process `RateLimiter`, or a
   * `SharedRateLimiter` (Redis) so every replica spends one budget. The caller closes a limiter it passes in.
   */
  limiter?: RateLimiter;
  /** Clock for the role cache (tests). */
  now?: () => number;
}

export type CredentialCheck = { ok: true; user: QlikUser } | { ok: false; reason: string };

export interface RoleLookup {
  role?: QlikRole;
  /** Up to 3 closest role names when there was no exact (case-insensitive) match. */
  suggestions: string[];
}

export interface CountedPage<T> {
  /** The first page (up to 100). */
  items: T[];
  /** Every match, counted by Qlik. */
  total: number;
  /** Qlik's link to the next page, as given (absent on the last page). */
  next?: string;
}

/** The first page of a holders listing, as usersWithRolePage returns it: where usersWithRoleAll carries on. */
export interface HoldersPage {
  users: QlikUserSummary[];
  total: number;
  next?: string;
}

/** One page of spaces, with Qlik's count of every match. */
export interface SpacesPage {
  spaces: QlikSpace[];
  total: number;
  /** Qlik's link to the next page, as given: pass it back as `next` (absent on the last page). */
  next?: string;
}

/** Which assignments of a space to list. */
export interface AssignmentFilter {
  /** Only this user's or group's assignment (a principal has at most one per space). */
  assigneeId?: string;
  type?: 'user' | 'group';
}

/** A new assignment: who, and the roles they get (at least one). */
export interface NewSpaceAssignment {
  type: 'user' | 'group';
  assigneeId: string;
  roles: readonly string[];
}

/** One person to invite by email (users.json InviteItem). */
export interface Invitee {
  email: string;
  /** Display name of the new user; Qlik's default is the email. */
  name?: string;
  /** ISO 639-1 language of the invite email; Qlik uses 'en' when missing or unknown. */
  language?: string;
  /** Send the email again to someone invited (or not yet active) already. */
  resend?: boolean;
}

/**
 * What became of one invitee: `ok` (a new user, emailed; or with `resend`, emailed again), `exists` (a user already
 * there, not emailed), or `error` (code '1001' active user, '1002' disabled user, '1003' external dependency, e.g.
 * a tenant whose users sign in through its own identity provider).
 */
export type InviteOutcome =
  | { email: string; status: 'ok' | 'exists'; userId: string; subject?: string }
  | { email: string; status: 'error'; code: string; title?: string; detail?: string };

const userPage = listPageSchema(userSchema);
const groupPage = listPageSchema(groupSchema);
const rolePage = listPageSchema(roleSchema);
const spacesPage = spacesListPageSchema(spaceSchema);
const assignmentsPage = spacesListPageSchema(spaceAssignmentSchema);

/**
 * Ids per users-by-id lookup: an `or` of `id eq` clauses, one GET each. Qlik rejects "complex" filters and takes at
 * most 100 ids in its filter body, so stay well below that and keep the URL short.
 */
const IDS_PER_LOOKUP = 50;

/** Enough for a who-has listing; keeps 50k-user listings lean. Leaving out `links` also drops each user's link. */
const SUMMARY_FIELDS = 'id,name,email,status';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 3;

export class QlikClient {
  readonly tenantUrl: string;
  readonly #http: QlikHttp;
  readonly #limiter: RateLimiter;
  readonly #ownsLimiter: boolean;
  readonly #roleTtl: number;
  readonly #now: () => number;
  #roles: { at: number; roles: QlikRole[] } | undefined;
  #rolesInFlight: Promise<QlikRole[]> | undefined;

  constructor(opts: QlikClientOptions) {
    const limits: Partial<Record<RateTier, TierLimit>> = {};
    if (opts.readsPerMinute !== undefined) limits.read = { perMinute: opts.readsPerMinute };
    if (opts.writesPerMinute !== undefined) limits.write = { perMinute: opts.writesPerMinute };
    if (opts.filterPerMinute !== undefined) limits.filter = { perMinute: opts.filterPerMinute };
    this.#limiter = opts.limiter ?? new RateLimiter(limits);
    this.#ownsLimiter = opts.limiter === undefined;
    this.#roleTtl = opts.roleCacheTtlMs ?? 5 * 60_000;
    this.#now = opts.now ?? Date.now;
    const retry: { maxAttempts?: number; baseDelayMs?: number; maxElapsedMs?: number } = {};
    if (opts.maxRetries !== undefined) retry.maxAttempts = Math.max(0, opts.maxRetries) + 1;
    if (opts.retryBaseDelayMs !== undefined) retry.baseDelayMs = opts.retryBaseDelayMs;
    if (opts.maxRetryElapsedMs !== undefined) retry.maxElapsedMs = opts.maxRetryElapsedMs;
    this.#http = new QlikHttp({
      tenantUrl: opts.tenantUrl,
      apiKey: opts.apiKey,
      limiter: this.#limiter,
      retry,
      ...(opts.apiVersion === undefined ? {} : { apiVersion: opts.apiVersion }),
      ...(opts.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: opts.requestTimeoutMs }),
      ...(opts.onCall === undefined ? {} : { onCall: opts.onCall }),
    });
    this.tenantUrl = this.#http.base;
  }

  /** The rate limiter (e.g. to observe `blockedFor('write')` after a 429). */
  get limiter(): RateLimiter {
    return this.#limiter;
  }

  // ---- users ---------------------------------------------------------------------------------------------------

  /** Every user whose email matches (Qlik compares case-insensitively): none, one or several. */
  findUsersByEmail(email: string): Promise<QlikUser[]> {
    return collect(this.#list('/users', { filter: eq('email', email.trim()) }, userPage, 'GET /users'));
  }

  getUser(id: string): Promise<QlikUser> {
    return this.#get(`/users/${encodeURIComponent(id)}`, 'GET /users/{id}', userSchema);
  }

  /** Users holding the role directly (lean: id, name, email, status). */
  usersWithRole(roleName: string): AsyncIterable<QlikUserSummary> {
    return this.#list(
      '/users',
      { filter: eq('assignedRoles.name', roleName), fields: SUMMARY_FIELDS },
      userPage,
      'GET /users',
    );
  }

  /** The first page of direct holders plus their total, in one request. */
  async usersWithRolePage(roleName: string): Promise<HoldersPage> {
    const {
      items: users,
      total,
      next,
    } = await this.#counted(
      '/users',
      { filter: eq('assignedRoles.name', roleName), fields: SUMMARY_FIELDS },
      userPage,
      'GET /users',
    );
    return { users, total, ...(next ? { next } : {}) };
  }

  /**
   * Every direct holder of the role, each once, read from both ends of the name order at once: one cursor walks
   * `+name`, another `-name`, and they stop when together they have seen the total Qlik counted. Cursors are
   * opaque, so one listing is a chain of round trips; two chains halve the wall time for the same number of
   * requests (⌈holders/100⌉, or one more when the two ends overlap on their last pages). Pass the page
   * usersWithRolePage already read to spend no request twice.
   */
  async *usersWithRoleAll(roleName: string, start?: HoldersPage): AsyncGenerator<QlikUserSummary> {
    const query = { filter: eq('assignedRoles.name', roleName), fields: SUMMARY_FIELDS, limit: PAGE_LIMIT };
    const source = this.#source(userPage, 'GET /users');
    const seen = new Set<string>();
    const fresh = (users: QlikUserSummary[]) => users.filter((u) => !seen.has(u.id) && seen.add(u.id));
    const follow = (href: string | null | undefined, from: URL) =>
      href ? source.resolveNext(href, from) : undefined;

    const first = start ?? (await this.usersWithRolePage(roleName));
    const total = first.total;
    yield* fresh(first.users);
    let asc = follow(first.next, this.#http.url('/users', { ...query, totalResults: true }));
    // The descending chain starts only when more than one page is left to read.
    let desc: URL | undefined =
      asc && total - seen.size > PAGE_LIMIT
        ? this.#http.url('/users', { ...query, sort: '-name' })
        : undefined;
    const visited = new Set<string>();
    const read = async (url: URL) => {
      if (visited.has(url.href)) throw source.loopError(url);
      visited.add(url.href);
      return { url, page: await source.fetchPage(url) };
    };
    while ((asc || desc) && seen.size < total) {
      // Near the end one chain is enough: a second would read what the first is about to cover.
      const useDesc = desc !== undefined && (asc === undefined || total - seen.size > PAGE_LIMIT);
      const [a, d] = await Promise.all([
        asc ? read(asc) : undefined,
        useDesc && desc ? read(desc) : undefined,
      ]);
      if (a) {
        yield* fresh(a.page.data);
        asc = follow(a.page.links.next?.href, a.url);
      }
      if (d) {
        yield* fresh(d.page.data);
        desc = follow(d.page.links.next?.href, d.url);
      }
    }
  }

  /** Users holding the role through a group they belong to (lean: id, name, email, status). */
  usersWithRoleThroughGroups(roleName: string): AsyncIterable<QlikUserSummary> {
    return this.#list(
      '/users',
      { filter: eq('assignedGroupsAssignedRoles.name', roleName), fields: SUMMARY_FIELDS },
      userPage,
      'GET /users',
    );
  }

  async usersWithRoleThroughGroupsPage(
    roleName: string,
  ): Promise<{ users: QlikUserSummary[]; total: number }> {
    const { items: users, total } = await this.#counted(
      '/users',
      { filter: eq('assignedGroupsAssignedRoles.name', roleName), fields: SUMMARY_FIELDS },
      userPage,
      'GET /users',
    );
    return { users, total };
  }

  /**
   * The users with these ids (lean: id, name, email, status), in as few requests as the filter allows: one GET per
   * 50 ids. Ids Qlik does not have are simply missing from the answer.
   */
  async usersByIds(ids: readonly string[]): Promise<QlikUserSummary[]> {
    const out: QlikUserSummary[] = [];
    for (const chunk of chunks([...new Set(ids)], IDS_PER_LOOKUP)) {
      const filter = or(...chunk.map((id) => eq('id', id)));
      out.push(
        ...(await collect(this.#list('/users', { filter, fields: SUMMARY_FIELDS }, userPage, 'GET /users'))),
      );
    }
    return out;
  }

  /** Every member of the group (lean: id, name, email, status). */
  usersInGroup(groupId: string): AsyncIterable<QlikUserSummary> {
    return this.#list(
      '/users',
      { filter: eq('assignedGroups.id', groupId), fields: SUMMARY_FIELDS },
      userPage,
      'GET /users',
    );
  }

  /** Replaces the user's direct roles with exactly `roleIds`. Not retried except on 429 (see retry.ts). */
  replaceUserRoles(userId: string, roleIds: readonly string[]): Promise<void> {
    return this.#replaceRoles(`/users/${encodeURIComponent(userId)}`, 'PATCH /users/{id}', roleIds);
  }

  /**
   * Invites people by email (POST /users/actions/invite, Tier 2): one outcome per invitee, in order. Qlik answers
   * 207 with an item each, so a refused invitee is an outcome, not a throw. Retried only on 429: a 5xx or lost
   * connection after sending may have invited, and a blind re-send could email twice, so that goes back to the
   * caller, who can re-read (an invitee then answers `exists`). A 403 is a QlikError `forbidden`; a body that is
   * not one item per invitee is `unexpected`.
   */
  async inviteUsers(
    invitees: readonly Invitee[],
    opts: { signal?: AbortSignal } = {},
  ): Promise<InviteOutcome[]> {
    if (invitees.length === 0) throw new TypeError('invite users: at least one invitee is needed');
    const body = invitees.map((i) => {
      const email = typeof i.email === 'string' ? i.email.trim() : '';
      if (email === '') throw new TypeError('invite users: every invitee needs an email');
      return {
        email,
        ...(i.name === undefined ? {} : { name: i.name }),
        ...(i.language === undefined ? {} : { language: i.language }),
        ...(i.resend === undefined ? {} : { resend: i.resend }),
      };
    });
    const url = this.#http.url('/users/actions/invite');
    const res = await this.#http.call({
      method: 'POST',
      endpoint: 'POST /users/actions/invite',
      url,
      tier: 'write',
      retry: 'rate-limit-only',
      body: { invitees: body },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    // The spec documents 207 only; 200 would carry the same body, so it is read the same way.
    if (res.status !== 207 && res.status !== 200) {
      throw this.#http.unexpected('POST', url, `Qlik answered ${res.status} to an invite, not 207`);
    }
    const { data } = this.#parse(inviteResponseSchema, this.#http.json(res, 'POST'), url, 'POST');
    // Outcomes are matched to invitees by position, so the answer must be one item per invitee, same emails.
    const mismatch = data.length !== body.length || data.some((d, i) => !sameEmail(d.email, body[i]!.email));
    if (mismatch) {
      throw this.#http.unexpected(
        'POST',
        url,
        'Qlik answered the invite with items that do not match the invitees',
        `${body.length} invitee(s), ${data.length} item(s)`,
      );
    }
    return data.map((d): InviteOutcome => {
      if (d.status === 'error') {
        return {
          email: d.email,
          status: 'error',
          code: d.code,
          ...(d.title === undefined ? {} : { title: d.title }),
          ...(d.detail === undefined ? {} : { detail: d.detail }),
        };
      }
      return {
        email: d.email,
        status: d.status,
        userId: d.userId,
        ...(d.subject === undefined ? {} : { subject: d.subject }),
      };
    });
  }

  // ---- groups --------------------------------------------------------------------------------------------------

  getGroup(id: string): Promise<QlikGroup> {
    return this.#get(`/groups/${encodeURIComponent(id)}`, 'GET /groups/{id}', groupSchema);
  }

  /** The group named exactly `name` (case-sensitive, as Qlik's group names are; the filter itself is not). */
  async findGroupByName(name: string): Promise<QlikGroup | undefined> {
    for await (const g of this.#list('/groups', { filter: eq('name', name) }, groupPage, 'GET /groups')) {
      if (g.name === name) return g;
    }
    return undefined;
  }

  groupsWithRole(roleName: string): AsyncIterable<QlikGroup> {
    return this.#list('/groups', { filter: eq('assignedRoles.name', roleName) }, groupPage, 'GET /groups');
  }

  async groupsWithRolePage(roleName: string): Promise<{ groups: QlikGroup[]; total: number }> {
    const { items: groups, total } = await this.#counted(
      '/groups',
      { filter: eq('assignedRoles.name', roleName) },
      groupPage,
      'GET /groups',
    );
    return { groups, total };
  }

  replaceGroupRoles(groupId: string, roleIds: readonly string[]): Promise<void> {
    return this.#replaceRoles(`/groups/${encodeURIComponent(groupId)}`, 'PATCH /groups/{id}', roleIds);
  }

  /** The groups with these ids, one GET per 50 ids; ids Qlik does not have are missing from the answer. */
  async groupsByIds(ids: readonly string[]): Promise<QlikGroup[]> {
    const out: QlikGroup[] = [];
    for (const chunk of chunks([...new Set(ids)], IDS_PER_LOOKUP)) {
      const filter = or(...chunk.map((id) => eq('id', id)));
      out.push(...(await collect(this.#list('/groups', { filter }, groupPage, 'GET /groups'))));
    }
    return out;
  }

  // ---- spaces --------------------------------------------------------------------------------------------------

  /**
   * One page of spaces, by name: `name` is Qlik's case-insensitive "contains" search (a query parameter, not a
   * filter expression, so it needs no quoting beyond the URL's). Pass the previous page's `next` to go on; a page
   * whose next link is the one just followed is the last (a server that loops must not make a caller loop).
   */
  async listSpaces(opts: { name?: string; limit?: number; next?: string } = {}): Promise<SpacesPage> {
    const url =
      opts.next === undefined
        ? this.#http.url('/spaces', spacesQuery(opts.name, opts.limit))
        : this.#http.resolveLink(opts.next, this.#http.url('/spaces'), 'GET');
    const page = await this.#spacesSource(spacesPage, 'GET /spaces').fetchPage(url);
    const next = page.links.next?.href ?? undefined;
    const repeated = next !== undefined && this.#http.resolveLink(next, url, 'GET').href === url.href;
    return {
      spaces: page.data,
      total: page.totalResults ?? page.data.length,
      ...(next && !repeated ? { next } : {}),
    };
  }

  /** Every space whose name contains `name` (any case), or every space, page by page. */
  allSpaces(opts: { name?: string } = {}): AsyncIterable<QlikSpace> {
    const first = this.#http.url('/spaces', spacesQuery(opts.name, PAGE_LIMIT));
    return items(first, this.#spacesSource(spacesPage, 'GET /spaces'));
  }

  /** A space with `meta.assignableRoles` (the roles its type offers) and its owner. */
  getSpace(id: string): Promise<QlikSpace> {
    return this.#get(`/spaces/${encodeURIComponent(id)}`, 'GET /spaces/{id}', spaceSchema);
  }

  /** Every assignment of the space that matches, page by page. */
  listSpaceAssignments(spaceId: string, filter: AssignmentFilter = {}): AsyncIterable<QlikSpaceAssignment> {
    const first = this.#http.url(assignmentsPath(spaceId), { ...filter, limit: PAGE_LIMIT });
    return items(first, this.#spacesSource(assignmentsPage, 'GET /spaces/{id}/assignments'));
  }

  /** The first page (up to `limit`, at most 100) of the space's assignments that match, and how many match. */
  async spaceAssignmentsPage(
    spaceId: string,
    filter: AssignmentFilter & { limit?: number } = {},
  ): Promise<{ assignments: QlikSpaceAssignment[]; total: number }> {
    const { limit, ...rest } = filter;
    const url = this.#http.url(assignmentsPath(spaceId), {
      ...rest,
      limit: Math.min(PAGE_LIMIT, Math.max(1, limit ?? PAGE_LIMIT)),
    });
    const page = await this.#spacesSource(assignmentsPage, 'GET /spaces/{id}/assignments').fetchPage(url);
    return { assignments: page.data, total: page.totalResults ?? page.data.length };
  }

  /**
   * The principal's one assignment in the space, read fresh, or undefined when it has none. The answer is checked
   * against the id asked for, so a server that ignored the filter cannot hand back someone else's assignment.
   */
  async findSpaceAssignment(spaceId: string, assigneeId: string): Promise<QlikSpaceAssignment | undefined> {
    for await (const a of this.listSpaceAssignments(spaceId, { assigneeId })) {
      if (a.assigneeId === assigneeId) return a;
    }
    return undefined;
  }

  /**
   * Creates the assignee's assignment with `roles`. A 409 (it has one already: only one per assignee and space) is
   * a QlikError of kind `conflict`: re-read and update instead. Not retried except on 429.
   */
  async createSpaceAssignment(spaceId: string, input: NewSpaceAssignment): Promise<QlikSpaceAssignment> {
    const roles = spaceRoles(input.roles, 'create');
    const url = this.#http.url(assignmentsPath(spaceId));
    const res = await this.#http.call({
      method: 'POST',
      endpoint: 'POST /spaces/{id}/assignments',
      url,
      tier: 'write',
      retry: 'rate-limit-only',
      body: { type: input.type, assigneeId: input.assigneeId, roles },
    });
    return this.#parse(spaceAssignmentSchema, this.#http.json(res, 'POST'), url, 'POST');
  }

  /** Replaces the assignment's roles with exactly `roles` (Qlik takes the complete list, never one role). */
  async updateSpaceAssignment(
    spaceId: string,
    assignmentId: string,
    roles: readonly string[],
  ): Promise<QlikSpaceAssignment> {
    const list = spaceRoles(roles, 'update');
    const url = this.#http.url(`${assignmentsPath(spaceId)}/${encodeURIComponent(assignmentId)}`);
    const res = await this.#http.call({
      method: 'PUT',
      endpoint: 'PUT /spaces/{id}/assignments/{assignmentId}',
      url,
      tier: 'write',
      retry: 'rate-limit-only',
      body: { roles: list },
    });
    return this.#parse(spaceAssignmentSchema, this.#http.json(res, 'PUT'), url, 'PUT');
  }

  /** Removes the assignment (the assignee then holds nothing in the space directly). */
  async deleteSpaceAssignment(spaceId: string, assignmentId: string): Promise<void> {
    await this.#http.call({
      method: 'DELETE',
      endpoint: 'DELETE /spaces/{id}/assignments/{assignmentId}',
      url: this.#http.url(`${assignmentsPath(spaceId)}/${encodeURIComponent(assignmentId)}`),
      tier: 'write',
      retry: 'rate-limit-only',
    });
  }

  // ---- roles ---------------------------------------------------------------------------------------------------

  /** The tenant's roles, from memory for `roleCacheTtlMs`; concurrent callers share one fetch. */
  async listRoles(opts: { refresh?: boolean } = {}): Promise<QlikRole[]> {
    if (!opts.refresh && this.#roles && this.#now() - this.#roles.at < this.#roleTtl)
      return [...this.#roles.roles];
    if (!this.#rolesInFlight) {
      const fetching = collect(this.#list('/roles', {}, rolePage, 'GET /roles'))
        .then((roles) => {
          this.#roles = { at: this.#now(), roles };
          return roles;
        })
        .finally(() => {
          this.#rolesInFlight = undefined;
        });
      this.#rolesInFlight = fetching;
    }
    return [...(await this.#rolesInFlight)];
  }

  /** Case-insensitive exact lookup; on a miss the cache is refreshed once (a role may be new) before giving up. */
  async findRole(name: string): Promise<RoleLookup> {
    const cachedBefore = this.#roles !== undefined && this.#now() - this.#roles.at < this.#roleTtl;
    let roles = await this.listRoles();
    let role = matchRole(name, roles);
    if (!role && cachedBefore) {
      roles = await this.listRoles({ refresh: true });
      role = matchRole(name, roles);
    }
    if (role) return { role, suggestions: [] };
    return {
      suggestions: closestRoleNames(
        name,
        roles.map((r) => r.name),
      ),
    };
  }

  // ---- the bot's own credential --------------------------------------------------------------------------------

  /** The user the API key belongs to (GET /users/me, following Qlik's 301 on the same origin). */
  async whoAmI(): Promise<QlikUser> {
    let url = this.#http.url('/users/me');
    let endpoint = 'GET /users/me';
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const res = await this.#http.call({
        method: 'GET',
        endpoint,
        url,
        tier: 'read',
        retry: 'idempotent',
        accept: [...REDIRECTS],
      });
      if (!REDIRECTS.has(res.status)) return this.#parse(userSchema, this.#http.json(res, 'GET'), res.url);
      const location = res.headers.location;
      const href = Array.isArray(location) ? location[0] : location;
      if (!href)
        throw this.#http.unexpected('GET', res.url, `Qlik answered ${res.status} without a Location`);
      url = this.#http.resolveLink(href, res.url, 'GET');
      endpoint = 'GET /users/{id}';
    }
    throw this.#http.unexpected('GET', url, 'Qlik redirected /users/me too many times');
  }

  /** Checks that the key works and that its user is a TenantAdmin (directly or through a group). */
  async verifyCredential(): Promise<CredentialCheck> {
    let user: QlikUser;
    try {
      user = await this.whoAmI();
    } catch (e) {
      if (!(e instanceof QlikError)) throw e;
      return { ok: false, reason: credentialFailure(e, this.tenantUrl) };
    }
    const roles = [...user.assignedRoles, ...user.assignedGroups.flatMap((g) => g.assignedRoles)];
    if (roles.some((r) => r.name === 'TenantAdmin')) return { ok: true, user };
    const who = user.email ? `${user.name} (${user.email})` : user.name || user.id;
    return {
      ok: false,
      reason:
        `The Qlik API key works, but its user ${who} is not a TenantAdmin, and the bot needs TenantAdmin to read ` +
        'roles and change them. Assign TenantAdmin to that user, or use an API key of a TenantAdmin.',
    };
  }

  /** Closes the connection pool; calls still waiting for a rate-limit token are rejected. */
  async close(): Promise<void> {
    if (this.#ownsLimiter) this.#limiter.close();
    await this.#http.close();
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  async #get<S extends z.ZodType>(path: string, endpoint: string, schema: S): Promise<z.output<S>> {
    const res = await this.#http.call({
      method: 'GET',
      endpoint,
      url: this.#http.url(path),
      tier: 'read',
      retry: 'idempotent',
    });
    return this.#parse(schema, this.#http.json(res, 'GET'), res.url);
  }

  #source<T>(schema: z.ZodType<ListPage<T>>, endpoint: string): PageSource<T> {
    return {
      fetchPage: async (url) => {
        const res = await this.#http.call({
          method: 'GET',
          endpoint,
          url,
          tier: 'read',
          retry: 'idempotent',
        });
        return this.#parse(schema, this.#http.json(res, 'GET'), url);
      },
      resolveNext: (href, current) => this.#http.resolveLink(href, current, 'GET'),
      loopError: (url) => this.#http.unexpected('GET', url, 'Qlik returned the same page twice while paging'),
    };
  }

  /** Spaces list endpoints count in `meta.count`; read as the common page shape so the same pager walks them. */
  #spacesSource<T>(
    schema: z.ZodType<{
      data: T[];
      links: ListPage<T>['links'];
      meta: { count?: number | undefined };
    }>,
    endpoint: string,
  ): PageSource<T> {
    return {
      fetchPage: async (url) => {
        const res = await this.#http.call({
          method: 'GET',
          endpoint,
          url,
          tier: 'read',
          retry: 'idempotent',
        });
        const page = this.#parse(schema, this.#http.json(res, 'GET'), url);
        return { data: page.data, links: page.links, totalResults: page.meta.count };
      },
      resolveNext: (href, current) => this.#http.resolveLink(href, current, 'GET'),
      loopError: (url) => this.#http.unexpected('GET', url, 'Qlik returned the same page twice while paging'),
    };
  }

  #list<T>(
    path: string,
    query: { filter?: Filter } & Record<string, QueryValue>,
    schema: z.ZodType<ListPage<T>>,
    endpoint: string,
  ): AsyncIterable<T> {
    const first = this.#http.url(path, { ...query, limit: PAGE_LIMIT });
    return items(first, this.#source(schema, endpoint));
  }

  async #counted<T>(
    path: string,
    query: { filter?: Filter } & Record<string, QueryValue>,
    schema: z.ZodType<ListPage<T>>,
    endpoint: string,
  ): Promise<CountedPage<T>> {
    const first = this.#http.url(path, { ...query, limit: PAGE_LIMIT, totalResults: true });
    const it = pages(first, this.#source(schema, endpoint));
    const head = await it.next();
    if (head.done) return { items: [], total: 0 };
    const page = head.value;
    const next = page.links.next?.href ?? undefined;
    if (page.totalResults !== undefined) {
      await it.return(undefined);
      return { items: page.data, total: page.totalResults, ...(next ? { next } : {}) };
    }
    // A server that ignores totalResults: count the rest by paging (correct, if slower).
    let total = page.data.length;
    for await (const p of it) total += p.data.length;
    return { items: page.data, total };
  }

  async #replaceRoles(path: string, endpoint: string, roleIds: readonly string[]): Promise<void> {
    const ids = [...new Set(roleIds)];
    if (ids.some((id) => typeof id !== 'string' || id.trim() === '')) {
      throw new TypeError('replace roles: every role id must be a non-empty string');
    }
    const url = this.#http.url(path);
    const res = await this.#http.call({
      method: 'PATCH',
      endpoint,
      url,
      tier: 'write',
      retry: 'rate-limit-only',
      body: [{ op: 'replace', path: '/assignedRoles', value: ids.map((id) => ({ id })) }],
    });
    // 207: "partially successful with non-critical failures" — for a single replace that is not a success.
    if (res.status === 207) throw this.#http.responseError('PATCH', res);
  }

  #parse<S extends z.ZodType>(schema: S, json: unknown, url: URL, method = 'GET'): z.output<S> {
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw this.#http.unexpected(
      method,
      url,
      'Qlik sent a response the bot could not read',
      `${issue?.message ?? 'invalid'}${where}`,
    );
  }
}

function assignmentsPath(spaceId: string): string {
  return `/spaces/${encodeURIComponent(spaceId)}/assignments`;
}

/** Sorted by name so a listing is stable; `name` left out when there is no text to search for. */
function spacesQuery(name: string | undefined, limit: number | undefined): Record<string, QueryValue> {
  const text = name?.trim();
  return {
    ...(text ? { name: text } : {}),
    sort: '+name',
    limit: Math.min(PAGE_LIMIT, Math.max(1, limit ?? PAGE_LIMIT)),
  };
}

/** An assignment's roles: each a non-empty name, none twice, at least one (Qlik refuses an empty list). */
function spaceRoles(roles: readonly string[], what: string): string[] {
  const list = [...new Set(roles)];
  if (list.length === 0 || list.some((r) => typeof r !== 'string' || r.trim() === '')) {
    throw new TypeError(`${what} space assignment: roles must be one or more non-empty names`);
  }
  return list;
}

/** Emails compare ignoring case and surrounding space, as Qlik's own lookups do. */
function sameEmail(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

function credentialFailure(e: QlikError, tenantUrl: string): string {
  switch (e.kind) {
    case 'unauthorized':
      return `Qlik rejected the API key (401 Unauthorized) at ${tenantUrl}: it may be expired, revoked or from another tenant. Create a new key for a TenantAdmin and set QLIK_API_KEY.`;
    case 'forbidden':
      return `Qlik refused the API key (403 Forbidden) at ${tenantUrl}: its user may be disabled. Use an API key of an active TenantAdmin.`;
    case 'network':
      return `Could not reach Qlik Cloud at ${tenantUrl} (${e.causeCode ?? 'network error'}). Check QLIK_TENANT_URL and the network.`;
    case 'timeout':
      return `Qlik Cloud at ${tenantUrl} did not answer in time. Check QLIK_TENANT_URL and try again.`;
    case 'not-found':
      return `Qlik answered 404 for /api/v1/users/me at ${tenantUrl}: is QLIK_TENANT_URL the tenant's URL (e.g. https://acme.eu.qlikcloud.com)?`;
    default:
      return `Checking the Qlik credential failed: ${e.userMessage()}`;
  }
}
