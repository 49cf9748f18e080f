// Owns Redis connections: the one factory every module uses, so options stay consistent (BullMQ workers need
// maxRetriesPerRequest: null; commands issued by the bot fail fast instead), and the one reader of REDIS_URL for
// the deployments the README names ("Scale out") — a single node (redis://, rediss://), Sentinel (redis+sentinel://) or Cluster
// (redis+cluster://). Passwords never reach an error or a log: use redactRedisUrl() to show a URL.
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { backoffDelay, NO_JITTER } from '../retry.ts';

export type RedisRole = 'command' | 'blocking';
export type RedisConnection = Redis | Cluster;

export interface RedisNode {
  host: string;
  port: number;
}

/** What a REDIS_URL asks for, with the options the connection will be made with (secrets included). */
export type RedisPlan =
  | { mode: 'standalone'; url: string; options: RedisOptions }
  | { mode: 'sentinel'; options: RedisOptions }
  | { mode: 'cluster'; nodes: RedisNode[]; options: ClusterOptions };

/** A REDIS_URL the bot cannot use; the message shows the URL with its password replaced. */
export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

const SENTINEL_PORT = 26379;
const REDIS_PORT = 6379;
const SCHEME = /^(rediss?)\+(sentinel|cluster):\/\//i;
const SECRET_PARAMS = /([?&](?:password|sentinelPassword|pass|auth)=)[^&#]*/gi;

/** ioredis reconnects after `times` failures: 400 ms doubling to 5 s. */
const backoff = (times: number) => backoffDelay(times + 1, { baseMs: 200, capMs: 5_000, jitter: NO_JITTER });

function baseOptions(role: RedisRole): RedisOptions {
  return {
    maxRetriesPerRequest: role === 'blocking' ? null : 3,
    enableReadyCheck: true,
    connectTimeout: 5_000,
    retryStrategy: backoff,
    lazyConnect: false,
  };
}

/**
 * The URL with any password (in the userinfo or a password-like query parameter) replaced by `***`. The userinfo
 * is taken to end at the last `@`, so a password with unencoded `/`, `?` or `#` is still hidden (at worst more is).
 */
export function redactRedisUrl(url: string): string {
  const schemeEnd = url.indexOf('://');
  let out = url;
  if (schemeEnd >= 0) {
    const start = schemeEnd + 3;
    const at = url.lastIndexOf('@');
    if (at >= start) {
      const userinfo = url.slice(start, at);
      const colon = userinfo.indexOf(':');
      // A lone `secret@host` may be meant as a password: hidden too.
      const redacted = colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***';
      out = `${url.slice(0, start)}${redacted}${url.slice(at)}`;
    }
  }
  return out.replace(SECRET_PARAMS, '$1***');
}

/**
 * Reads a REDIS_URL into the connection it describes:
 * - `redis://…`, `rediss://…` (and anything else ioredis reads) — a single node, passed to ioredis unchanged;
 * - `redis+sentinel://[user:password@]host1:26379,host2:26379/<masterName>[?db=0&sentinelPassword=…]` — the
 *   master that the Sentinels name; the password is the master's, `sentinelPassword` the Sentinels' own;
 * - `redis+cluster://[user:password@]host1:7000,host2:7001` — a Cluster seeded from those nodes.
 * `rediss+sentinel://` and `rediss+cluster://` use TLS. Throws RedisUrlError (password redacted) when malformed.
 */
export function redisPlan(url: string, role: RedisRole = 'command', extra: RedisOptions = {}): RedisPlan {
  const scheme = SCHEME.exec(url);
  if (!scheme) return { mode: 'standalone', url, options: { ...baseOptions(role), ...extra } };
  const tls = scheme[1]!.toLowerCase() === 'rediss';
  const mode = scheme[2]!.toLowerCase() as 'sentinel' | 'cluster';
  const fail = (what: string): never => {
    throw new RedisUrlError(`REDIS_URL ${redactRedisUrl(url)}: ${what}`);
  };

  // Userinfo ends at the last `@` (as in redactRedisUrl); nothing before it ever appears in an error.
  const afterScheme = url.slice(scheme[0].length);
  const at = afterScheme.lastIndexOf('@');
  const auth = at < 0 ? {} : credentials(afterScheme.slice(0, at), fail);
  const rest = afterScheme.slice(at + 1);
  const hash = rest.indexOf('#');
  const noFragment = hash < 0 ? rest : rest.slice(0, hash);
  const q = noFragment.indexOf('?');
  const beforeQuery = q < 0 ? noFragment : noFragment.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : noFragment.slice(q + 1));
  const slash = beforeQuery.indexOf('/');
  const hostList = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash < 0 ? '' : beforeQuery.slice(slash + 1);

  const defaultPort = mode === 'sentinel' ? SENTINEL_PORT : REDIS_PORT;
  if (hostList.trim() === '') fail('expected at least one host:port');
  const nodes = hostList.split(',').map((h) => parseNode(h.trim(), defaultPort, fail));

  if (mode === 'sentinel') {
    const name = decode(path.replace(/\/+$/, ''), fail);
    if (name === '' || name.includes('/'))
      fail(
        'expected the master name after the hosts, e.g. redis+sentinel://host1:26379,host2:26379/mymaster',
      );
    for (const key of query.keys())
      if (key !== 'db' && key !== 'sentinelPassword' && key !== 'sentinelUsername')
        fail(`unknown parameter "${key}" (known: db, sentinelPassword, sentinelUsername)`);
    const options: RedisOptions = {
      ...baseOptions(role),
      ...extra,
      sentinels: nodes,
      name,
      ...auth,
    };
    const db = query.get('db');
    if (db !== null) {
      if (!/^\d+$/.test(db)) fail('db must be a whole number, e.g. ?db=0');
      options.db = Number(db);
    }
    const sentinelPassword = query.get('sentinelPassword');
    if (sentinelPassword !== null) options.sentinelPassword = sentinelPassword;
    const sentinelUsername = query.get('sentinelUsername');
    if (sentinelUsername !== null) options.sentinelUsername = sentinelUsername;
    if (tls) {
      options.tls = {};
      options.enableTLSForSentinelMode = true;
      options.sentinelTLS = {};
    }
    return { mode: 'sentinel', options };
  }

  if (path.replace(/\/+$/, '') !== '' && path !== '0')
    fail('a Cluster has only database 0; leave the path empty, e.g. redis+cluster://host1:7000,host2:7001');
  for (const key of query.keys()) fail(`unknown parameter "${key}" (a Cluster URL takes none)`);
  // Options Cluster keeps for itself rather than per node.
  const {
    retryStrategy,
    enableOfflineQueue,
    lazyConnect,
    keyPrefix,
    host: _host,
    port: _port,
    path: _path,
    sentinels: _sentinels,
    readOnly: _readOnly,
    ...nodeExtra
  } = extra;
  const base = baseOptions(role);
  const options: ClusterOptions = {
    // A caller that wants to fail fast (e.g. the audit export) passes retryStrategy; it governs the whole Cluster.
    clusterRetryStrategy: retryStrategy ?? backoff,
    enableReadyCheck: true,
    lazyConnect: lazyConnect ?? false,
    redisOptions: {
      maxRetriesPerRequest: base.maxRetriesPerRequest,
      connectTimeout: base.connectTimeout,
      ...nodeExtra,
      ...auth,
      ...(tls ? { tls: {} } : {}),
    },
  };
  if (enableOfflineQueue !== undefined) options.enableOfflineQueue = enableOfflineQueue;
  if (keyPrefix !== undefined) options.keyPrefix = keyPrefix;
  return { mode: 'cluster', nodes, options };
}

/**
 * Creates an ioredis connection for any REDIS_URL form, including Cluster. `blocking` connections (BullMQ
 * workers, queue events) retry forever, as BullMQ requires; `command` connections fail a command after a few
 * retries so users get an answer.
 */
export function createRedisConnection(
  url: string,
  role: RedisRole = 'command',
  extra: RedisOptions = {},
): RedisConnection {
  return connect(redisPlan(url, role, extra));
}

function connect(plan: RedisPlan): RedisConnection {
  switch (plan.mode) {
    case 'standalone':
      return new Redis(plan.url, plan.options);
    case 'sentinel':
      return new Redis(plan.options);
    case 'cluster':
      return new Cluster(plan.nodes, plan.options);
  }
}

/**
 * Creates an ioredis connection to a single node or a Sentinel-managed master (both are a `Redis`). A Cluster
 * URL is refused here because callers of this function are typed for `Redis`; use createRedisConnection.
 */
export function createRedis(url: string, role: RedisRole = 'command', extra: RedisOptions = {}): Redis {
  const plan = redisPlan(url, role, extra);
  if (plan.mode === 'cluster')
    throw new RedisUrlError(
      `REDIS_URL ${redactRedisUrl(url)} names a Redis Cluster, which this part of the bot cannot use yet; ` +
        'use a single node or Sentinel URL.',
    );
  return connect(plan) as Redis;
}

/**
 * With Cluster, every key a Lua script or MULTI touches must live in one slot, and BullMQ requires it too: the
 * prefix needs a hash tag. Returns what to change, or undefined when the prefix is fine.
 */
export function validatePrefixForCluster(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  // Redis hashes the text between the first `{` and the next `}` only when it is not empty.
  if (open >= 0 && close > open + 1) return undefined;
  const suggestion = `{${prefix.replace(/[{}]/g, '') || 'qlikops'}}`;
  return (
    `QUEUE_PREFIX "${prefix}" has no hash tag, so with Redis Cluster the bot's keys would spread over slots ` +
    `and its scripts and queues would fail with CROSSSLOT. Wrap it in braces, e.g. QUEUE_PREFIX=${suggestion}.`
  );
}

/** `user:password`, `:password` or `user`, percent-decoded, as ioredis reads a redis:// URL. */
function credentials(
  userinfo: string,
  fail: (what: string) => never,
): { username?: string; password?: string } {
  const colon = userinfo.indexOf(':');
  const username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), fail);
  const password = colon < 0 ? '' : decode(userinfo.slice(colon + 1), fail);
  return { ...(username === '' ? {} : { username }), ...(password === '' ? {} : { password }) };
}

function parseNode(text: string, defaultPort: number, fail: (what: string) => never): RedisNode {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+))(?::(\d+))?$/.exec(text);
  if (!m) return fail(`"${text}" is not a host or host:port`);
  const host = m[1] ?? m[2]!;
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (!(port >= 1 && port <= 65535)) fail(`port ${m[3]} of ${host} is not between 1 and 65535`);
  return { host, port };
}

function decode(text: string, fail: (what: string) => never): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return fail(
      'a part of it is not valid percent-encoding (encode special characters such as @ : / as %40 %3A %2F)',
    );
  }
}

/**
 * Deletes every key whose name starts with `prefix` (SCAN + UNLINK, never KEYS), on every master of a Cluster.
 * For cleaning up after a sandbox run, a test or a benchmark — never for a live deployment's prefix.
 */
export async function dropPrefix(redis: RedisConnection, prefix: string): Promise<void> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      // One UNLINK per key: on a Cluster a multi-key UNLINK must stay in one slot, which arbitrary keys may not.
      if (keys.length > 0) {
        if (redis instanceof Cluster) await Promise.all(keys.map((k) => node.unlink(k)));
        else await node.unlink(...keys);
      }
    } while (cursor !== '0');
  }
}
