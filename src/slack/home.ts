// Owns the App Home tab's life (README "App Home"): who opened it (a Redis set, so only they get a Home published),
// publishing one person's Home (the app's query, views/home.ts, views.publish), the line answering a press made on
// it, and keeping it up to date when a request changes. A change anywhere (the app in the bot, the worker in its own
// process) is queued as "request R changed" (HomeRefreshes, beside the Notifier); the bot, which has the app to ask,
// finds whose Home shows it (requester, its user, its approvers among those who opened a Home) and schedules each of
// them once: a person's first change opens a window (a Redis key with a TTL) and queues one delayed publish at its
// end; every change inside the window rides on it, since the publish reads the state when it runs. So a burst of
// changes publishes each person's Home once, and publishes are paced below views.publish's rate limit (Tier 4,
// "100+ per minute" per workspace) by BullMQ's queue limiter, shared by every bot replica.
import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { AccessRequestApp } from '../app/access-requests.ts';
import type { Logger } from '../observability/logger.ts';
import { createRedisConnection, type RedisConnection } from '../store/redis.ts';
import { slackPerson } from './people.ts';
import { type HomeNotice, type HomeView, homeUnavailableView, homeView } from './views/home.ts';
import type { TenantLabels } from './views.ts';
import { failureText } from './words.ts';

/** "Request R changed": whose Home shows it is found by the bot. */
export const HOME_CHANGES_QUEUE = 'home-changes';
/** "Publish this person's Home": paced below views.publish's limit. */
export const HOME_PUBLISH_QUEUE = 'home-publish';
/** How long a person's changes are gathered before their Home is published once. */
export const HOME_REFRESH_DELAY_MS = 2_000;
/**
 * The window's key ends this much before its publish is due, so a change just before the publish can never be
 * dropped by a window the publish no longer covers (the job's delay is timed by this process, the key's TTL by
 * Redis): at worst it schedules one more publish.
 */
const WINDOW_MARGIN_MS = 250;
/**
 * Background publishes per minute, across every bot replica: below Tier 4's 100 so the publishes answering an
 * opening or a press (made at once, outside this queue) still fit. A 429 is waited out (Retry-After) by the Web API
 * client; one that still comes back pauses the queue for as long as Slack asked.
 */
export const HOME_PUBLISHES_PER_MINUTE = 60;
/**
 * How many times a publish is tried against the Home as last seen (Slack's `hash`) before it is made without one.
 * Two publishes can race (a press's and a refresh's): the one that read the requests first must not land last and
 * show a decided request's buttons again. Each reads the last hash before the requests, so one that lost the race
 * is refused (hash_conflict) and drawn again from the requests as they are now.
 */
const HASH_ATTEMPTS = 3;
/** How long the last hash is kept; an older one is useless anyway (Slack's Home moved on since). */
const HASH_TTL_SECONDS = 7 * 24 * 3600;
/** How long the line answering a press stays on the Home. */
const NOTICE_TTL_SECONDS = 600;
/** The most people who opened a Home a change looks at (SSCAN pages); beyond that a Home refreshes when opened. */
const OPENED_SCAN = 5_000;

const JOB_OPTIONS = {
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600, count: 1000 },
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
} as const;

/** The Redis keys of the Home tab, under the bot's prefix (src/store/keys.ts lists the stores' own). */
export function homeKeys(prefix: string) {
  return {
    /** SET: Slack ids of the people who opened the bot's Home tab. */
    opened: `${prefix}:home:opened`,
    /** STRING with a TTL: a person's refresh window is open (a publish is queued for its end). */
    window: (userId: string) => `${prefix}:home:window:${userId}`,
    /** STRING with a TTL: JSON HomeNotice, the answer to the person's last press on their Home. */
    notice: (userId: string) => `${prefix}:home:notice:${userId}`,
    /** STRING with a TTL: the `hash` Slack gave the person's Home at its last publish (views.publish `hash`). */
    hash: (userId: string) => `${prefix}:home:hash:${userId}`,
  };
}

/** Slack user ids are short and plain; anything else in a payload is not used as a key. */
const USER_ID = /^[UW][A-Z0-9]{2,40}$/;

/**
 * The producer side, usable in every process (the Notifier holds one): queues a request's change, and a person's
 * publish once per window.
 */
export class HomeRefreshes {
  readonly #redis: RedisConnection;
  readonly #keys: ReturnType<typeof homeKeys>;
  readonly #delayMs: number;
  readonly changes: Queue;
  readonly publishes: Queue;

  constructor(opts: { redis: RedisConnection; prefix: string; delayMs?: number; logger?: Logger }) {
    this.#redis = opts.redis;
    this.#keys = homeKeys(opts.prefix);
    this.#delayMs = opts.delayMs ?? HOME_REFRESH_DELAY_MS;
    const q = { connection: opts.redis, prefix: opts.prefix, defaultJobOptions: JOB_OPTIONS };
    this.changes = new Queue(HOME_CHANGES_QUEUE, q);
    this.publishes = new Queue(HOME_PUBLISH_QUEUE, q);
    // BullMQ re-emits connection errors on each queue; without a listener an 'error' event would end the process.
    for (const queue of [this.changes, this.publishes])
      queue.on('error', (err: Error) =>
        opts.logger?.warn({ err: { message: err.message }, queue: queue.name }, 'queue error'),
      );
  }

  /** The request changed: the Homes that show it are refreshed (by the bot, soon). */
  async requestChanged(requestId: string): Promise<void> {
    await this.changes.add('changed', { requestId });
  }

  /**
   * Schedules one publish of the person's Home at the end of their current window, opening one if none is open;
   * false when one was already scheduled (this change rides on it).
   */
  async personChanged(userId: string): Promise<boolean> {
    const key = this.#keys.window(userId);
    const ttl = Math.max(1, this.#delayMs - WINDOW_MARGIN_MS);
    if ((await this.#redis.set(key, '1', 'PX', ttl, 'NX')) !== 'OK') return false;
    try {
      await this.publishes.add('publish', { userId }, { delay: this.#delayMs });
    } catch (err) {
      // No publish is queued: leave no window that would swallow the next change.
      await this.#redis.del(key).catch(() => undefined);
      throw err;
    }
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([this.changes.close(), this.publishes.close()]);
  }
}

/** The views.publish call, as the Web API client makes it. */
export interface HomePublisher {
  views: { publish(args: { user_id: string; view: HomeView; hash?: string }): Promise<unknown> };
}

export interface HomeTabDeps {
  app: Pick<AccessRequestApp, 'home' | 'homeAudience' | 'request'>;
  client: HomePublisher;
  redis: RedisConnection;
  /** For the queue workers' own (blocking) connections. */
  redisUrl: string;
  prefix: string;
  refreshes: HomeRefreshes;
  logger: Logger;
  tenants?: TenantLabels;
  now?: () => number;
  publishesPerMinute?: number;
}

/** The bot's side: answers openings and presses, and runs the two queues. */
export class HomeTab {
  readonly #d: HomeTabDeps;
  readonly #keys: ReturnType<typeof homeKeys>;
  readonly #log: Logger;
  readonly #now: () => number;
  #workers: Worker[] = [];
  #connections: RedisConnection[] = [];
  #closed = false;
  #stopWaiting: () => void = () => undefined;

  constructor(deps: HomeTabDeps) {
    this.#d = deps;
    this.#keys = homeKeys(deps.prefix);
    this.#log = deps.logger.child({ module: 'app-home' });
    this.#now = deps.now ?? Date.now;
  }

  /** app_home_opened on the Home tab: remembered (so changes refresh it) and published now. */
  async opened(userId: string): Promise<void> {
    if (!USER_ID.test(userId)) return;
    await this.#d.redis.sadd(this.#keys.opened, userId);
    await this.publish(userId);
  }

  /** A press on the Home: its answer goes on the Home (there is nowhere else to say it), published now. */
  async pressed(userId: string, answer: { ok: boolean; text: string }): Promise<void> {
    if (!USER_ID.test(userId)) return;
    const notice: HomeNotice = { ...answer, at: this.#now() };
    await this.#d.redis.set(this.#keys.notice(userId), JSON.stringify(notice), 'EX', NOTICE_TTL_SECONDS);
    await this.#d.redis.sadd(this.#keys.opened, userId);
    await this.publish(userId);
  }

  /**
   * Publishes the person's Home as it is now (or why it cannot be read), over the Home as last published: a
   * publish that lost a race to a newer one is drawn again (HASH_ATTEMPTS).
   */
  async publish(userId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // The hash is read before the requests: whoever published after it read newer requests than ours.
      const hash = attempt <= HASH_ATTEMPTS ? await this.#d.redis.get(this.#keys.hash(userId)) : null;
      const view = await this.#render(userId);
      try {
        const res = await this.#d.client.views.publish({
          user_id: userId,
          view,
          ...(hash === null ? {} : { hash }),
        });
        const next = (res as { view?: { hash?: unknown } } | undefined)?.view?.hash;
        if (typeof next === 'string' && next !== '')
          await this.#d.redis.set(this.#keys.hash(userId), next, 'EX', HASH_TTL_SECONDS);
        return;
      } catch (err) {
        const code = slackError(err);
        if (code === 'hash_conflict' && attempt <= HASH_ATTEMPTS) continue;
        // Someone who left the workspace has no Home to keep: forget them rather than retry for ever.
        if (code === 'user_not_found') {
          await this.#d.redis.srem(this.#keys.opened, userId);
          this.#log.info({ user: userId }, 'a person who opened the Home is gone; forgotten');
          return;
        }
        throw err;
      }
    }
  }

  async #render(userId: string): Promise<HomeView> {
    const [answer, notice] = await Promise.all([this.#d.app.home(slackPerson(userId)), this.#notice(userId)]);
    const opts = { ...(notice ? { notice } : {}), ...(this.#d.tenants ? { tenants: this.#d.tenants } : {}) };
    return answer.ok ? homeView(answer, opts) : homeUnavailableView(failureText(answer), this.#now(), notice);
  }

  /** Whose Home shows the request, among those who opened one: each is scheduled once per window. */
  async requestChanged(requestId: string): Promise<number> {
    const req = await this.#d.app.request(requestId);
    if (!req) return 0;
    const candidates = await this.#openedPeople();
    if (candidates.length === 0) return 0;
    const audience = await this.#d.app.homeAudience(req, candidates.map(slackPerson));
    let scheduled = 0;
    for (const p of audience) if (await this.#d.refreshes.personChanged(p.id)) scheduled++;
    return scheduled;
  }

  /** Starts the queues' workers (the bot's processes only: they have the app to ask). */
  start(): void {
    // Once Redis is up: a BullMQ worker that never connected cannot be closed (it waits for its connection).
    if (this.#d.redis.status === 'ready') this.#startWorkers();
    else {
      const onReady = () => {
        if (!this.#closed) this.#startWorkers();
      };
      this.#d.redis.once('ready', onReady);
      this.#stopWaiting = () => this.#d.redis.off('ready', onReady);
    }
  }

  #startWorkers(): void {
    if (this.#workers.length > 0) return;
    const connection = (): ConnectionOptions => {
      const c = createRedisConnection(this.#d.redisUrl, 'blocking');
      this.#connections.push(c);
      return c;
    };
    const common = { prefix: this.#d.prefix, autorun: true };
    const changes = new Worker(
      HOME_CHANGES_QUEUE,
      async (job) => {
        const id = (job.data as { requestId?: unknown }).requestId;
        if (typeof id === 'string') await this.requestChanged(id);
      },
      { ...common, connection: connection(), concurrency: 4 },
    );
    const publishes: Worker = new Worker(
      HOME_PUBLISH_QUEUE,
      async (job) => {
        const userId = (job.data as { userId?: unknown }).userId;
        if (typeof userId !== 'string' || !USER_ID.test(userId)) return;
        try {
          await this.publish(userId);
        } catch (err) {
          const wait = retryAfterMs(err);
          if (wait === undefined) throw err;
          // Slack asked us to wait: the whole queue waits (every replica), and this job runs again after.
          await publishes.rateLimit(wait);
          throw Worker.RateLimitError();
        }
      },
      {
        ...common,
        connection: connection(),
        concurrency: 4,
        limiter: { max: this.#d.publishesPerMinute ?? HOME_PUBLISHES_PER_MINUTE, duration: 60_000 },
      },
    );
    for (const w of [changes, publishes]) {
      w.on('error', (err) => this.#log.warn({ err: err.message, queue: w.name }, 'home queue error'));
      w.on('failed', (job, err) =>
        this.#log.warn({ err: err.message, queue: w.name, attempts: job?.attemptsMade }, 'home job failed'),
      );
    }
    this.#workers = [changes, publishes];
  }

  /** Stops the workers, letting a publish under way finish within `deadlineMs`; then drops the connections. */
  async close(deadlineMs = 5_000): Promise<void> {
    this.#closed = true;
    this.#stopWaiting();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(r, deadlineMs);
    });
    await Promise.race([Promise.allSettled(this.#workers.map((w) => w.close())), deadline]);
    clearTimeout(timer);
    await Promise.allSettled(this.#connections.map((c) => c.quit().catch(() => c.disconnect())));
    this.#workers = [];
    this.#connections = [];
  }

  async #openedPeople(): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, ids] = await this.#d.redis.sscan(this.#keys.opened, cursor, 'COUNT', 500);
      cursor = next;
      out.push(...ids.filter((id) => USER_ID.test(id)));
    } while (cursor !== '0' && out.length < OPENED_SCAN);
    return out.slice(0, OPENED_SCAN);
  }

  async #notice(userId: string): Promise<HomeNotice | undefined> {
    const raw = await this.#d.redis.get(this.#keys.notice(userId));
    if (raw === null) return undefined;
    try {
      const n = JSON.parse(raw) as Partial<HomeNotice>;
      return typeof n.text === 'string' && typeof n.ok === 'boolean' && typeof n.at === 'number'
        ? { ok: n.ok, text: n.text, at: n.at }
        : undefined;
    } catch {
      return undefined;
    }
  }
}

function slackError(err: unknown): string | undefined {
  const data = (err as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

/** How long Slack asked us to wait, for a rate-limited call the Web API client gave up on. */
function retryAfterMs(err: unknown): number | undefined {
  const e = err as { code?: unknown; retryAfter?: unknown } | undefined;
  if (e?.code !== 'slack_webapi_rate_limited_error') return undefined;
  const s = typeof e.retryAfter === 'number' && Number.isFinite(e.retryAfter) ? e.retryAfter : 1;
  return Math.max(1, s) * 1000;
}
