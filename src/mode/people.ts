// Owns finding Mode workspace members by email. Memberships carry no email (reference §3, §9), so the map email →
// member is built by listing the memberships and reading each member's user (a bounded number at a time), kept in
// Redis for every process and in memory for this one, and rebuilt when older than its bounded age. A lookup that
// finds nobody rebuilds it at once (someone may just have joined), but at most once per short interval, so a typo
// can't make every lookup reload the workspace. Each rebuild's cost (requests, ms) is reported for benchmarks.
import type { RedisConnection } from '../store/redis.ts';
import type { ModeClient } from './client.ts';
import { ModeError } from './errors.ts';
import type { ModeMembership } from './schemas.ts';

/** One workspace member as the bot needs them. */
export interface ModePerson {
  memberToken: string;
  /** The workspace membership's own token, to read the member's state fresh. */
  membershipToken?: string;
  username: string;
  name?: string;
  /** Lower-cased as the map keys it; absent when Mode has none for the user. */
  email?: string;
  state?: string;
  admin: boolean;
  managedByScim: boolean;
}

export type PeopleApi = Pick<ModeClient, 'memberships' | 'membership' | 'user' | 'requestsSent'>;

export interface ModePeopleOptions {
  redis: RedisConnection;
  /** Key prefix (tests use their own); the map lives at `<prefix>:mode:people`. */
  prefix: string;
  client: PeopleApi;
  /** A map older than this is rebuilt before use; default 1 h. */
  maxAgeMs?: number;
  /** A miss rebuilds the map only when it is at least this old; default 60 s. */
  missRefreshMs?: number;
  /** Users read at the same time while rebuilding; default 8. */
  concurrency?: number;
  now?: () => number;
}

export interface RefreshCost {
  /** HTTP exchanges the rebuild sent (approximate when other calls share the client at the same time). */
  requests: number;
  ms: number;
}

export interface PeopleStats {
  /** Members in the map now (0 before the first build). */
  size: number;
  /** When the map was built (epoch ms). */
  builtAt?: number;
  /** What this process's last rebuild cost. */
  lastRefresh?: RefreshCost;
}

interface Snapshot {
  at: number;
  people: ModePerson[];
}

interface Indexed extends Snapshot {
  byEmail: Map<string, ModePerson[]>;
  byToken: Map<string, ModePerson>;
}

export class ModePeople {
  readonly #redis: RedisConnection;
  readonly #key: string;
  readonly #client: PeopleApi;
  readonly #maxAge: number;
  readonly #missRefresh: number;
  readonly #concurrency: number;
  readonly #now: () => number;
  #snapshot: Indexed | undefined;
  #building: Promise<Indexed> | undefined;
  #lastRefresh: RefreshCost | undefined;

  constructor(opts: ModePeopleOptions) {
    this.#redis = opts.redis;
    this.#key = `${opts.prefix}:mode:people`;
    this.#client = opts.client;
    this.#maxAge = opts.maxAgeMs ?? 3_600_000;
    this.#missRefresh = opts.missRefreshMs ?? 60_000;
    this.#concurrency = Math.max(1, opts.concurrency ?? 8);
    this.#now = opts.now ?? Date.now;
  }

  /** Every member with this email (any case): usually one, none when nobody in the workspace has it. */
  async byEmail(email: string): Promise<ModePerson[]> {
    const key = email.trim().toLowerCase();
    if (key === '') return [];
    const hit = (await this.#current()).byEmail.get(key);
    if (hit) return hit;
    return (await this.#afterMiss())?.byEmail.get(key) ?? [];
  }

  /** The member with this member_token, read again from Mode (at most once per interval) when not in the map. */
  async byToken(memberToken: string): Promise<ModePerson | undefined> {
    const hit = (await this.#current()).byToken.get(memberToken);
    if (hit) return hit;
    return (await this.#afterMiss())?.byToken.get(memberToken);
  }

  /**
   * The member as Mode has them now (state, admin, SCIM flag read fresh from their membership), or undefined when
   * they are no longer in the workspace: what a change decides from, since the map may be an hour old.
   */
  async fresh(memberToken: string): Promise<ModePerson | undefined> {
    const p = await this.byToken(memberToken);
    if (p?.membershipToken === undefined) return p;
    try {
      const m = await this.#client.membership(p.membershipToken);
      const { state: _old, ...rest } = p;
      return {
        ...rest,
        ...(m.state ? { state: m.state } : {}),
        admin: m.admin,
        managedByScim: m.managedByScim,
      };
    } catch (err) {
      if (err instanceof ModeError && err.kind === 'not-found') return undefined;
      throw err;
    }
  }

  /** Members by token, from the map as it is (no rebuild on a miss: listings show many people at once). */
  async many(memberTokens: readonly string[]): Promise<Map<string, ModePerson>> {
    const snap = await this.#current();
    const out = new Map<string, ModePerson>();
    for (const t of memberTokens) {
      const p = snap.byToken.get(t);
      if (p) out.set(t, p);
    }
    return out;
  }

  /** Rebuilds the map now (one rebuild at a time per process; callers at the same moment share it). */
  refresh(): Promise<Indexed> {
    if (this.#building) return this.#building;
    const building = this.#build().finally(() => {
      if (this.#building === building) this.#building = undefined;
    });
    this.#building = building;
    return building;
  }

  stats(): PeopleStats {
    return {
      size: this.#snapshot?.people.length ?? 0,
      ...(this.#snapshot ? { builtAt: this.#snapshot.at } : {}),
      ...(this.#lastRefresh ? { lastRefresh: { ...this.#lastRefresh } } : {}),
    };
  }

  /** The map young enough to use: this process's, else the one in Redis, else a new one. */
  async #current(): Promise<Indexed> {
    const now = this.#now();
    if (this.#snapshot && now - this.#snapshot.at < this.#maxAge) return this.#snapshot;
    const stored = await this.#load();
    if (stored && now - stored.at < this.#maxAge) {
      this.#snapshot = stored;
      return stored;
    }
    return this.refresh();
  }

  /** After a miss: a rebuild when the map is old enough for one, else nothing (the miss stands). */
  async #afterMiss(): Promise<Indexed | undefined> {
    const snap = this.#snapshot;
    if (snap && this.#now() - snap.at < this.#missRefresh) return undefined;
    // Another process may have rebuilt it meanwhile.
    const stored = await this.#load();
    if (stored && snap && stored.at > snap.at && this.#now() - stored.at < this.#missRefresh) {
      this.#snapshot = stored;
      return stored;
    }
    return this.refresh();
  }

  async #load(): Promise<Indexed | undefined> {
    const raw = await this.#redis.get(this.#key);
    if (raw === null) return undefined;
    try {
      const parsed = JSON.parse(raw) as Snapshot;
      if (typeof parsed.at !== 'number' || !Array.isArray(parsed.people)) return undefined;
      return indexed(parsed);
    } catch {
      return undefined;
    }
  }

  async #build(): Promise<Indexed> {
    const t0 = performance.now();
    const sent0 = this.#client.requestsSent;
    const members: ModeMembership[] = [];
    for await (const m of this.#client.memberships()) members.push(m);
    const people: ModePerson[] = new Array(members.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < members.length; i = next++) {
        const m = members[i]!;
        let name: string | undefined;
        let email: string | undefined;
        try {
          const u = await this.#client.user(m.username);
          name = u.name;
          email = u.email?.trim().toLowerCase() || undefined;
        } catch (err) {
          // A member whose user Mode can't show (deleted meanwhile) is still a member, known without an email.
          if (!(err instanceof ModeError && err.kind === 'not-found')) throw err;
        }
        people[i] = {
          memberToken: m.memberToken,
          ...(m.token ? { membershipToken: m.token } : {}),
          username: m.username,
          ...(name ? { name } : {}),
          ...(email ? { email } : {}),
          ...(m.state ? { state: m.state } : {}),
          admin: m.admin,
          managedByScim: m.managedByScim,
        };
      }
    };
    await Promise.all(Array.from({ length: this.#concurrency }, worker));
    const snap: Snapshot = { at: this.#now(), people };
    // Kept twice its age at most: an old map is never used, only replaced.
    await this.#redis.set(this.#key, JSON.stringify(snap), 'PX', Math.max(1, this.#maxAge * 2));
    this.#lastRefresh = {
      requests: this.#client.requestsSent - sent0,
      ms: Math.round(performance.now() - t0),
    };
    const out = indexed(snap);
    this.#snapshot = out;
    return out;
  }
}

function indexed(snap: Snapshot): Indexed {
  const byEmail = new Map<string, ModePerson[]>();
  const byToken = new Map<string, ModePerson>();
  for (const p of snap.people) {
    byToken.set(p.memberToken, p);
    if (p.email) byEmail.set(p.email, [...(byEmail.get(p.email) ?? []), p]);
  }
  return { ...snap, byEmail, byToken };
}
