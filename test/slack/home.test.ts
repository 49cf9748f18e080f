// The App Home's runtime against real Redis and BullMQ, with a scripted app and a counting views.publish: openings
// publish at once and are remembered, a burst of changes publishes each concerned person's Home once (the figure
// the README gives), a press's answer shows on the Home, and Slack's refusals are handled.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HomeAnswer } from '../../src/app/queries/home.ts';
import type { PersonRef, RoleChangeRequest } from '../../src/domain/request.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { HOME_REFRESH_DELAY_MS, HomeRefreshes, HomeTab, homeKeys } from '../../src/slack/home.ts';
import type { HomeView } from '../../src/slack/views/home.ts';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../helpers/redis.ts';
import { viewRequest } from './fixtures.ts';

const DELAY_MS = 300;

let redis: Redis;
const opened: { prefix: string; tab: HomeTab; refreshes: HomeRefreshes }[] = [];

beforeAll(() => {
  redis = testRedis();
});
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.tab.close();
    await o.refreshes.close();
    await dropPrefix(redis, o.prefix);
  }
});
afterAll(async () => {
  await redis.quit();
});

interface Scripted {
  /** The people the request concerns (its audience among the candidates). */
  audience: Set<string>;
  home?: (
    person: PersonRef,
  ) => Promise<HomeAnswer | { ok: false; code: 'store-unavailable'; doing: 'listing-requests' }>;
}

function setup(
  script: Scripted,
  client?: {
    /** The refresh window (default a short one; the burst test uses the bot's own). */
    delayMs?: number;
    fail?: (userId: string, args: { hash?: string }) => Error | undefined;
    hashes?: Map<string, string>;
  },
) {
  const prefix = uniquePrefix('slack-home');
  const published: { userId: string; view: HomeView }[] = [];
  const req: RoleChangeRequest = viewRequest({ id: 'R-7KQ2' });
  const refreshes = new HomeRefreshes({ redis, prefix, delayMs: client?.delayMs ?? DELAY_MS });
  const tab = new HomeTab({
    app: {
      home: async (person) =>
        script.home
          ? ((await script.home(person)) as HomeAnswer)
          : { ok: true, mine: [req], toApprove: [], grants: [], recent: [], at: Date.now() },
      homeAudience: async (_r, candidates) => candidates.filter((p) => script.audience.has(p.id)),
      request: async (id) => (id === req.id ? req : undefined),
    },
    client: {
      views: {
        async publish(args) {
          const err = client?.fail?.(args.user_id, args);
          if (err) throw err;
          // As Slack: a publish over a Home that changed since `hash` was read is refused.
          const hashes = client?.hashes;
          if (hashes && args.hash !== undefined && args.hash !== hashes.get(args.user_id))
            throw Object.assign(new Error('An API error occurred: hash_conflict'), {
              data: { ok: false, error: 'hash_conflict' },
            });
          const hash = `h${published.length + 1}`;
          hashes?.set(args.user_id, hash);
          published.push({ userId: args.user_id, view: args.view });
          return { ok: true, view: { hash } };
        },
      },
    },
    redis,
    redisUrl: REDIS_URL,
    prefix,
    refreshes,
    logger: createLogger('silent'),
  });
  tab.start();
  opened.push({ prefix, tab, refreshes });
  const count = (userId: string) => published.filter((p) => p.userId === userId).length;
  /** Resolves once nothing more is queued or running: every publish the changes caused has been made. */
  const settled = () =>
    vi.waitFor(
      async () => {
        const [c, p] = await Promise.all([
          refreshes.changes.getJobCounts('waiting', 'delayed', 'active', 'prioritized'),
          refreshes.publishes.getJobCounts('waiting', 'delayed', 'active', 'prioritized'),
        ]);
        const left =
          Object.values(c).reduce((a, b) => a + b, 0) + Object.values(p).reduce((a, b) => a + b, 0);
        if (left > 0) throw new Error(`${left} home jobs left`);
      },
      { timeout: 10_000, interval: 50 },
    );
  return { prefix, tab, refreshes, published, count, settled, req };
}

describe('App Home runtime', () => {
  it('publishes on opening, remembers who opened it, and refreshes only them', async () => {
    const s = setup({ audience: new Set(['U0DAN', 'U0ALICE', 'U0FRANK']) });
    await s.tab.opened('U0DAN');
    expect(s.count('U0DAN')).toBe(1);
    expect(s.published[0]!.view.type).toBe('home');
    expect(await redis.sismember(homeKeys(s.prefix).opened, 'U0DAN')).toBe(1);
    await s.tab.opened('U0ALICE');
    // Frank is concerned but never opened his Home: there is nothing of his to refresh.
    expect(await s.tab.requestChanged(s.req.id)).toBe(2);
    await s.settled();
    expect([s.count('U0DAN'), s.count('U0ALICE'), s.count('U0FRANK')]).toEqual([2, 2, 0]);
    // A forged user id is never stored.
    await s.tab.opened('not a user');
    expect(await redis.scard(homeKeys(s.prefix).opened)).toBe(2);
  });

  it('coalesces a burst: 20 changes within a second publish each concerned Home once', async () => {
    // The bot's own window (2 s): the burst must fit in it whatever the machine's load.
    const s = setup({ audience: new Set(['U0DAN', 'U0ALICE']) }, { delayMs: HOME_REFRESH_DELAY_MS });
    await s.tab.opened('U0DAN');
    await s.tab.opened('U0ALICE');
    await s.tab.opened('U0BOB'); // not concerned
    const before = s.published.length;
    const started = Date.now();
    for (let i = 0; i < 20; i++) await s.refreshes.requestChanged(s.req.id);
    expect(Date.now() - started).toBeLessThan(1_000);
    await s.settled();
    expect([s.count('U0DAN'), s.count('U0ALICE'), s.count('U0BOB')]).toEqual([2, 2, 1]);
    expect(s.published.length - before).toBe(2);
    // The window closed with its publish: the next change publishes again.
    await s.refreshes.requestChanged(s.req.id);
    await s.settled();
    expect([s.count('U0DAN'), s.count('U0ALICE')]).toEqual([3, 3]);
  });

  it('shows the answer to a press at the top of the Home', async () => {
    const s = setup({ audience: new Set() });
    await s.tab.pressed('U0ALICE', { ok: true, text: 'You approved R-7KQ2.' });
    const v = s.published.at(-1)!;
    expect(v.userId).toBe('U0ALICE');
    expect(JSON.stringify(v.view.blocks.slice(0, 5))).toContain('You approved R-7KQ2.');
    // It stays on the next refresh, dated, until it is old.
    await s.tab.publish('U0ALICE');
    expect(JSON.stringify(s.published.at(-1)!.view.blocks)).toContain('You approved R-7KQ2.');
  });

  it('says the requests could not be read instead of an empty Home', async () => {
    const s = setup({
      audience: new Set(),
      home: async () => ({ ok: false, code: 'store-unavailable', doing: 'listing-requests' }),
    });
    await s.tab.opened('U0DAN');
    const text = JSON.stringify(s.published.at(-1)!.view.blocks);
    expect(text).toContain("couldn't reach my database");
    expect(text).not.toContain('You have no pending requests');
  });

  it('never lets a Home drawn from older requests land over a newer one', async () => {
    // The first publish reads the requests, then stalls; a second one reads newer requests and lands first.
    let version = 0;
    let releaseFirst: () => void = () => undefined;
    const firstStalled = new Promise<void>((r) => {
      releaseFirst = r;
    });
    let first = false;
    const s = setup(
      {
        audience: new Set(),
        home: async () => {
          const at = ++version;
          if (first) {
            first = false;
            await firstStalled;
          }
          return {
            ok: true,
            mine: [viewRequest({ id: `R-VER${at}` })],
            toApprove: [],
            grants: [],
            recent: [],
            at: Date.now(),
          };
        },
      },
      { hashes: new Map() },
    );
    await s.tab.publish('U0DAN'); // the Home as last seen: its hash is kept
    first = true;
    const older = s.tab.publish('U0DAN');
    await vi.waitFor(() => expect(version).toBe(2));
    await s.tab.publish('U0DAN'); // reads version 3 and lands
    releaseFirst();
    await older;
    // The stalled publish was refused (hash_conflict) and drawn again from the requests as they are now.
    const last = JSON.stringify(s.published.at(-1)!.view.blocks);
    expect(version).toBe(4);
    expect(last).toContain('R-VER4'); // the newest read, not the stalled one's (R-VER2)
    expect(s.published).toHaveLength(3);
  });

  it('forgets a person Slack no longer has, and retries other failures', async () => {
    let failures = 1;
    const s = setup(
      { audience: new Set(['U0GONE', 'U0DAN']) },
      {
        fail: (userId) => {
          if (userId === 'U0GONE')
            return Object.assign(new Error('An API error occurred: user_not_found'), {
              data: { ok: false, error: 'user_not_found' },
            });
          if (userId === 'U0DAN' && failures-- > 0)
            return Object.assign(new Error('An API error occurred: internal_error'), {
              data: { ok: false, error: 'internal_error' },
            });
          return undefined;
        },
      },
    );
    await redis.sadd(homeKeys(s.prefix).opened, 'U0GONE', 'U0DAN');
    await s.tab.requestChanged(s.req.id);
    await s.settled();
    expect(await redis.smembers(homeKeys(s.prefix).opened)).toEqual(['U0DAN']);
    // Dan's publish failed once and was retried by the queue.
    expect(s.count('U0DAN')).toBe(1);
  });
});
