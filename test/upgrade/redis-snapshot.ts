// A readable, type-aware snapshot of every Redis key under one prefix, and its restore under another. The upgrade
// fixture is such a snapshot of what the old version wrote (requests, approvals, indexes, BullMQ queues, worker
// markers, the audit stream), with the prefix replaced by a placeholder wherever it occurs (key names, and values
// that name keys, such as a request's index keys or a BullMQ job's parent key). JSON rather than DUMP payloads: a
// reviewer can read what each record holds, and the payload format of RESTORE is tied to one Redis version.
import type { Redis } from 'ioredis';

export const PREFIX_PLACEHOLDER = '{{prefix}}';

interface Common {
  key: string;
  /** Remaining time to live in ms at capture; absent when the key does not expire. */
  ttlMs?: number;
}
export type KeySnapshot = Common &
  (
    | { type: 'string'; value: string }
    | { type: 'hash'; value: Record<string, string> }
    /** Members with their scores (as Redis prints them, so no precision is lost), lowest score first. */
    | { type: 'zset'; value: [string, string][] }
    | { type: 'list'; value: string[] }
    | { type: 'set'; value: string[] }
    | { type: 'stream'; value: { lastId: string; entries: [string, string[]][] } }
  );

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function text(buf: Buffer, key: string): string {
  const s = buf.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(buf)) throw new Error(`${key} holds bytes that are not UTF-8 text`);
  return s;
}

/** Every key under `prefix:` with its type, value and TTL, sorted by key, the prefix replaced by the placeholder. */
export async function snapshotPrefix(redis: Redis, prefix: string): Promise<KeySnapshot[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}:*`, 'COUNT', 1000);
    for (const k of batch) keys.add(k);
    cursor = next;
  } while (cursor !== '0');
  const hide = (s: string) => s.split(prefix).join(PREFIX_PLACEHOLDER);
  const out: KeySnapshot[] = [];
  for (const key of [...keys].sort()) {
    const type = await redis.type(key);
    const pttl = await redis.pttl(key);
    const common: Common = { key: hide(key), ...(pttl >= 0 ? { ttlMs: pttl } : {}) };
    const t = (b: Buffer) => hide(text(b, key));
    switch (type) {
      case 'string':
        out.push({ ...common, type, value: t((await redis.getBuffer(key))!) });
        break;
      case 'hash': {
        const flat = await redis.hgetallBuffer(key);
        const value: Record<string, string> = {};
        for (const f of Object.keys(flat).sort()) value[hide(f)] = t(flat[f]!);
        out.push({ ...common, type, value });
        break;
      }
      case 'zset': {
        const flat = await redis.zrangeBuffer(key, '0', '-1', 'WITHSCORES');
        const value: [string, string][] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) value.push([t(flat[i]!), flat[i + 1]!.toString()]);
        out.push({ ...common, type, value });
        break;
      }
      case 'list':
        out.push({ ...common, type, value: (await redis.lrangeBuffer(key, 0, -1)).map(t) });
        break;
      case 'set':
        out.push({ ...common, type, value: (await redis.smembersBuffer(key)).map(t).sort() });
        break;
      case 'stream': {
        const info = (await redis.xinfo('STREAM', key)) as unknown[];
        const lastId = String(info[info.indexOf('last-generated-id') + 1]);
        const groups = (await redis.xinfo('GROUPS', key)) as unknown[];
        if (groups.length > 0) throw new Error(`${key}: streams with consumer groups are not captured`);
        const entries = (await redis.xrangeBuffer(key, '-', '+')) as unknown as [Buffer, Buffer[]][];
        out.push({
          ...common,
          type,
          value: { lastId, entries: entries.map(([id, fields]) => [id.toString(), fields.map(t)]) },
        });
        break;
      }
      case 'none':
        break; // expired between SCAN and TYPE
      default:
        throw new Error(`${key}: Redis type ${type} is not captured`);
    }
  }
  return out;
}

/** Writes a snapshot under `prefix` (which should be empty), keeping each key's remaining TTL. */
export async function restorePrefix(
  redis: Redis,
  snapshot: readonly KeySnapshot[],
  prefix: string,
): Promise<void> {
  const fill = (s: string) => s.split(PREFIX_PLACEHOLDER).join(prefix);
  const p = redis.multi();
  for (const k of snapshot) {
    const key = fill(k.key);
    p.del(key);
    switch (k.type) {
      case 'string':
        p.set(key, fill(k.value));
        break;
      case 'hash':
        p.hset(key, ...Object.entries(k.value).flatMap(([f, v]) => [fill(f), fill(v)]));
        break;
      case 'zset':
        if (k.value.length > 0) p.zadd(key, ...k.value.flatMap(([m, score]) => [score, fill(m)]));
        break;
      case 'list':
        if (k.value.length > 0) p.rpush(key, ...k.value.map(fill));
        break;
      case 'set':
        if (k.value.length > 0) p.sadd(key, ...k.value.map(fill));
        break;
      case 'stream':
        if (k.value.entries.length === 0) {
          p.xadd(key, '0-1', 'x', 'x');
          p.xdel(key, '0-1');
        }
        for (const [id, fields] of k.value.entries) p.xadd(key, id, ...fields.map(fill));
        p.xsetid(key, k.value.lastId);
        break;
    }
    if (k.ttlMs !== undefined) p.pexpire(key, Math.max(1, k.ttlMs));
  }
  const results = (await p.exec()) ?? [];
  for (const [err] of results) if (err) throw err;
}
