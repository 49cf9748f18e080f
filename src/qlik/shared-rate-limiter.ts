// Owns the Qlik rate budget shared by every process that uses one credential (README, "Scale out": many bot and worker
// replicas, one API key). Qlik counts per credential and tier and blocks the whole tier after a 429, so the
// buckets live in Redis: one hash per tier per credential, changed only by one Lua script that refills by Redis
// TIME (never the callers' clocks). A caller either takes a token or reserves the next free one and sleeps until
// it is due — reservations are handed out in the order Redis sees them, so nobody starves — and a 429 anywhere
// blocks the tier for everyone. When Redis does not answer, the limiter falls back to an in-process bucket so the
// bot keeps working (each replica then spends the full budget) and says so once per outage.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../observability/logger.ts';
import { withJitter } from '../retry.ts';
import {
  bucketShape,
  DEFAULT_LIMITS,
  InProcessRateLimiter,
  type QlikRateLimiter,
  RateLimiterClosedError,
  type RateTier,
  type TierLimit,
} from './rate-limiter.ts';

export interface SharedRateLimiterOptions {
  /** A command connection (createRedis(url, 'command')); the caller owns it and closes it after the limiter. */
  redis: Redis | Cluster;
  /** Key prefix (QUEUE_PREFIX); may carry a `{hash-tag}` for Cluster. */
  prefix: string;
  /** Tenant URL and API key identify the credential; only a short SHA-256 of them reaches Redis. */
  tenantUrl: string;
  apiKey: string;
  /** Per-tier budgets; defaults as in DEFAULT_LIMITS (burst 10% of perMinute). Every process must agree. */
  limits?: Partial<Record<RateTier, TierLimit>>;
  /** Gets one warning when Redis stops answering and one info line when it answers again. */
  logger?: Logger;
  /** Called when the limiter falls back to counting in this process (once per outage). */
  onFallback?: (error: Error) => void;
  /** Called when the shared budget is used again after a fallback. */
  onRecover?: () => void;
  /** Called when a caller has to wait for the shared budget, with the wait Redis gave (e.g. for metrics). */
  onWait?: (tier: RateTier, ms: number) => void;
  /** How long one Redis round trip may take before the caller falls back; default 1000 ms. */
  redisTimeoutMs?: number;
  /** Upper bound of the random delay added to a wait so waiters don't wake in lockstep; default 10 ms. */
  maxJitterMs?: number;
}

/** The bucket script (lua/rate-bucket.lua beside this file, copied into dist/ by npm run build). */
const RATE_SCRIPT = readFileSync(new URL('./lua/rate-bucket.lua', import.meta.url), 'utf8');

const RATE_SCRIPT_SHA = createHash('sha1').update(RATE_SCRIPT).digest('hex');

/** A short, stable id of a credential: SHA-256 of the normalized tenant URL and the key, 16 hex digits. */
export function credentialId(tenantUrl: string, apiKey: string): string {
  let tenant = tenantUrl.trim();
  try {
    const u = new URL(tenant);
    tenant = `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    // Not a URL: hash it as given; the client refuses such a tenant anyway.
  }
  return createHash('sha256').update(`${tenant}\n${apiKey}`).digest('hex').slice(0, 16);
}

/** The Redis key of one tier's bucket: `${prefix}:qlik-rate:<credential id>:<tier>`. */
function rateKey(prefix: string, credential: string, tier: RateTier): string {
  return `${prefix}:qlik-rate:${credential}:${tier}`;
}

interface Reply {
  wait: number;
  epoch: number;
  blocked: number;
}

interface Sleeper {
  tier: RateTier;
  timer: NodeJS.Timeout | undefined;
  reject: (e: Error) => void;
}

function parseReply(r: unknown): Reply {
  if (Array.isArray(r) && r.length === 3) {
    const [wait, epoch, blocked] = r as unknown[];
    if (typeof wait === 'number' && typeof epoch === 'number' && typeof blocked === 'number')
      return { wait, epoch, blocked };
  }
  throw new Error('The Qlik rate-limit script in Redis returned something unexpected.');
}

function isNoScript(e: unknown): boolean {
  return e instanceof Error && e.message.startsWith('NOSCRIPT');
}

export class SharedRateLimiter implements QlikRateLimiter {
  /** The credential's id in key names (never the key itself). */
  readonly credential: string;
  readonly #redis: Redis | Cluster;
  readonly #keys: Record<RateTier, string>;
  readonly #shape: Record<RateTier, { capacity: string; perMs: string }>;
  readonly #local: InProcessRateLimiter;
  readonly #logger: Logger | undefined;
  readonly #onFallback: ((error: Error) => void) | undefined;
  readonly #onRecover: (() => void) | undefined;
  readonly #onWait: ((tier: RateTier, ms: number) => void) | undefined;
  readonly #timeoutMs: number;
  readonly #maxJitterMs: number;
  /** performance.now() until which each tier is known to be blocked (Redis is the authority; this is a view). */
  readonly #blockedUntil: Record<RateTier, number> = { read: 0, write: 0, filter: 0 };
  readonly #sleepers = new Set<Sleeper>();
  #degraded = false;
  #closed = false;

  constructor(opts: SharedRateLimiterOptions) {
    if (opts.apiKey.trim() === '') throw new TypeError('The Qlik API key is empty; set QLIK_API_KEY.');
    if (opts.prefix === '') throw new TypeError('The Redis key prefix is empty; set QUEUE_PREFIX.');
    const limits = opts.limits ?? {};
    this.credential = credentialId(opts.tenantUrl, opts.apiKey);
    this.#redis = opts.redis;
    const key = (tier: RateTier) => rateKey(opts.prefix, this.credential, tier);
    this.#keys = { read: key('read'), write: key('write'), filter: key('filter') };
    const shape = (tier: RateTier) => {
      const { capacity, perMs } = bucketShape(limits[tier] ?? DEFAULT_LIMITS[tier]);
      return { capacity: String(capacity), perMs: String(perMs) };
    };
    this.#shape = { read: shape('read'), write: shape('write'), filter: shape('filter') };
    this.#local = new InProcessRateLimiter(limits);
    this.#logger = opts.logger;
    this.#onFallback = opts.onFallback;
    this.#onRecover = opts.onRecover;
    this.#onWait = opts.onWait;
    this.#timeoutMs = opts.redisTimeoutMs ?? 1_000;
    this.#maxJitterMs = opts.maxJitterMs ?? 10;
  }

  /** True while the budget is shared through Redis; false while counting in this process only. */
  get shared(): boolean {
    return !this.#degraded;
  }

  /** The Redis key of a tier's bucket (for operators and tests). */
  key(tier: RateTier): string {
    return this.#keys[tier];
  }

  async acquire(tier: RateTier): Promise<void> {
    for (;;) {
      if (this.#closed) throw new RateLimiterClosedError();
      if (!this.#usable()) return this.#local.acquire(tier);
      let reply: Reply;
      try {
        reply = await this.#run(tier, 'take', 0);
      } catch (e) {
        this.#degrade(e);
        return this.#local.acquire(tier);
      }
      this.#recover();
      this.#noteBlocked(tier, reply.blocked);
      if (this.#closed) throw new RateLimiterClosedError();
      if (reply.wait <= 0) return;
      this.#onWait?.(tier, reply.wait);
      // Late, never early: the reservation is due at `wait`, and a timer never fires before its delay.
      await this.#sleep(tier, withJitter(reply.wait, Math.min(this.#maxJitterMs, reply.wait * 0.05)));
      let epoch: string | null;
      try {
        epoch = await this.#timed(this.#redis.hget(this.#keys[tier], 'epoch'));
      } catch {
        return; // The reservation stands; Redis trouble shows up (and is reported) on the next acquire.
      }
      if (this.#closed) throw new RateLimiterClosedError();
      if (Number(epoch ?? 0) === reply.epoch) return;
      // A 429 blocked the tier after this reservation was made: queue again behind the block.
    }
  }

  /**
   * Blocks the tier for every process using this credential (a 429's Retry-After). Returns when Redis has it
   * (never rejects); callers may ignore the promise. A shorter block never shortens a longer one.
   */
  block(tier: RateTier, ms: number): Promise<void> {
    const wait = Math.max(0, ms);
    this.#local.block(tier, wait);
    this.#blockedUntil[tier] = Math.max(this.#blockedUntil[tier], performance.now() + wait);
    if (this.#closed) return Promise.resolve();
    if (!this.#usable()) return Promise.resolve();
    return this.#run(tier, 'block', wait).then(
      (reply) => {
        this.#recover();
        this.#noteBlocked(tier, reply.blocked);
      },
      (e: unknown) => this.#degrade(e),
    );
  }

  blockedFor(tier: RateTier): number {
    return Math.max(0, this.#blockedUntil[tier] - performance.now(), this.#local.blockedFor(tier));
  }

  pending(tier: RateTier): number {
    let n = this.#local.pending(tier);
    for (const s of this.#sleepers) if (s.tier === tier) n += 1;
    return n;
  }

  /** Rejects every waiter of this process; the Redis connection stays open (its owner closes it). */
  close(): void {
    this.#closed = true;
    for (const s of this.#sleepers) {
      clearTimeout(s.timer);
      s.reject(new RateLimiterClosedError());
    }
    this.#sleepers.clear();
    this.#local.close();
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  /** Before Redis has ever failed, a connection still starting up is given a chance; afterwards only `ready`. */
  #usable(): boolean {
    const status = this.#redis.status;
    if (status === 'ready') return true;
    if (!this.#degraded && (status === 'wait' || status === 'connecting' || status === 'connect'))
      return true;
    if (!this.#degraded) this.#degrade(new Error(`the Redis connection is ${status}`));
    return false;
  }

  async #run(tier: RateTier, op: 'take' | 'block', ms: number): Promise<Reply> {
    const { capacity, perMs } = this.#shape[tier];
    const args = [op, capacity, perMs, String(Math.ceil(ms))];
    try {
      return parseReply(
        await this.#timed(this.#redis.evalsha(RATE_SCRIPT_SHA, 1, this.#keys[tier], ...args)),
      );
    } catch (e) {
      if (!isNoScript(e)) throw e;
      // First use on this server (or after a restart / SCRIPT FLUSH): EVAL also caches the script.
      return parseReply(await this.#timed(this.#redis.eval(RATE_SCRIPT, 1, this.#keys[tier], ...args)));
    }
  }

  #timed<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Redis did not answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      timer.unref();
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  #sleep(tier: RateTier, ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = { tier, timer: undefined, reject };
      sleeper.timer = setTimeout(() => {
        this.#sleepers.delete(sleeper);
        resolve();
      }, Math.ceil(ms));
      this.#sleepers.add(sleeper);
    });
  }

  #noteBlocked(tier: RateTier, ms: number): void {
    if (ms > 0) this.#blockedUntil[tier] = Math.max(this.#blockedUntil[tier], performance.now() + ms);
  }

  #degrade(e: unknown): void {
    if (this.#degraded) return;
    this.#degraded = true;
    const error = e instanceof Error ? e : new Error(String(e));
    this.#logger?.warn(
      { err: { message: error.message }, credential: this.credential },
      'Redis is not answering: Qlik rate limits now count in this process only, so replicas may together ' +
        'exceed the budget (Qlik answers 429 and the bot waits) until Redis is back',
    );
    this.#onFallback?.(error);
  }

  #recover(): void {
    if (!this.#degraded) return;
    this.#degraded = false;
    this.#logger?.info(
      { credential: this.credential },
      'Redis answers again: Qlik rate limits are shared across processes again',
    );
    this.#onRecover?.();
  }
}
