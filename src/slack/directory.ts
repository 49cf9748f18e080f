// Owns what the bot learns about Slack people: a user's profile email (users.info, scope users:read.email),
// user-group membership (usergroups.users.list) and display names. Results are typed so callers can tell a
// deleted user, a bot and a user without an email apart and say so plainly.
import type { WebClient } from '@slack/web-api';

export type SlackUserLookup =
  | { kind: 'ok'; userId: string; email: string; name: string }
  | { kind: 'not-found'; userId: string }
  | { kind: 'deleted'; userId: string; name: string }
  | { kind: 'bot'; userId: string; name: string }
  | { kind: 'no-email'; userId: string; name: string };

export interface SlackDirectoryOptions {
  /**
   * How long user-group membership is trusted. Approver rights are re-read at click time through this cache, so a
   * member removed from an approver group can still approve for at most this long. Default 60 s.
   */
  usergroupTtlMs?: number;
  /** How long a looked-up profile (name, email) is reused. Default 60 s. */
  userTtlMs?: number;
  now?: () => number;
}

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

/** The Slack error code (`user_not_found`, `no_such_subteam`, …) of a Web API failure, if it is one. */
export function slackErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('data' in err)) return undefined;
  const data = (err as { data?: unknown }).data;
  if (typeof data !== 'object' || data === null || !('error' in data)) return undefined;
  const code = (data as { error?: unknown }).error;
  return typeof code === 'string' ? code : undefined;
}

export class SlackDirectory {
  readonly #client: WebClient;
  readonly #groupTtl: number;
  readonly #userTtl: number;
  readonly #now: () => number;
  readonly #groups = new Map<string, Cached<string[]>>();
  readonly #users = new Map<string, Cached<SlackUserLookup>>();

  constructor(client: WebClient, opts: SlackDirectoryOptions = {}) {
    this.#client = client;
    this.#groupTtl = opts.usergroupTtlMs ?? 60_000;
    this.#userTtl = opts.userTtlMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** The Slack user's profile, reduced to what mapping them to a Qlik user needs. */
  lookupUser(userId: string): Promise<SlackUserLookup> {
    return this.#cached(this.#users, userId, this.#userTtl, () => this.#fetchUser(userId));
  }

  async #fetchUser(userId: string): Promise<SlackUserLookup> {
    let res: Awaited<ReturnType<WebClient['users']['info']>>;
    try {
      res = await this.#client.users.info({ user: userId });
    } catch (err) {
      const code = slackErrorCode(err);
      if (code === 'user_not_found' || code === 'user_not_visible') return { kind: 'not-found', userId };
      throw err;
    }
    const u = res.user;
    if (!u) return { kind: 'not-found', userId };
    const name = u.profile?.display_name || u.real_name || u.profile?.real_name || u.name || userId;
    if (u.deleted) return { kind: 'deleted', userId, name };
    if (u.is_bot || u.id === 'USLACKBOT') return { kind: 'bot', userId, name };
    const email = u.profile?.email?.trim();
    if (!email) return { kind: 'no-email', userId, name };
    return { kind: 'ok', userId, email, name };
  }

  /**
   * The Slack user with this email (users.lookupByEmail); undefined only when Slack says there is none
   * (`users_not_found`). Any other failure (missing scope, rate limit, timeout, network) throws: "couldn't ask"
   * must not read as "nobody", or the target of a grant filed by email could approve it themselves.
   */
  async findUserIdByEmail(email: string): Promise<string | undefined> {
    try {
      const res = await this.#client.users.lookupByEmail({ email });
      return res.user?.id ?? undefined;
    } catch (err) {
      if (slackErrorCode(err) === 'users_not_found') return undefined;
      throw err;
    }
  }

  /** Members of a Slack user group (S…); an unknown group has no members. */
  usergroupMembers(groupId: string): Promise<string[]> {
    return this.#cached(this.#groups, groupId, this.#groupTtl, async () => {
      try {
        const res = await this.#client.usergroups.users.list({ usergroup: groupId });
        return res.users ?? [];
      } catch (err) {
        const code = slackErrorCode(err);
        if (code === 'no_such_subteam' || code === 'subteam_not_found') return [];
        throw err;
      }
    });
  }

  /** True when the user is listed directly or is a member of one of the listed user groups (S…). */
  async isInAny(userId: string, ids: readonly string[]): Promise<boolean> {
    if (ids.includes(userId)) return true;
    const groups = ids.filter((id) => id.startsWith('S'));
    for (const g of groups) {
      if ((await this.usergroupMembers(g)).includes(userId)) return true;
    }
    return false;
  }

  /** A readable name for a Slack user, falling back to the id when Slack can't say. */
  async displayName(userId: string): Promise<string> {
    try {
      const u = await this.lookupUser(userId);
      return 'name' in u ? u.name : userId;
    } catch {
      return userId;
    }
  }

  /** Forgets cached membership and profiles (tests; or after a policy reload). */
  clear(): void {
    this.#groups.clear();
    this.#users.clear();
  }

  #cached<T>(map: Map<string, Cached<T>>, key: string, ttl: number, load: () => Promise<T>): Promise<T> {
    const now = this.#now();
    const hit = map.get(key);
    if (hit && now - hit.at < ttl) return hit.value;
    const value = load();
    map.set(key, { at: now, value });
    // A failed lookup must not be remembered: the next caller asks Slack again.
    value.catch(() => {
      if (map.get(key)?.value === value) map.delete(key);
    });
    if (map.size > 5_000) {
      for (const [k, v] of map) if (now - v.at >= ttl) map.delete(k);
    }
    return value;
  }
}
