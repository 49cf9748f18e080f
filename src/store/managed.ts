// Owns reading the bot's record of what it made each principal hold (StoreKeys.managed, written by the transition
// script with each applied change and each grant's end), and the drift check's own state: the disagreements it
// found and reported (one field per entry, so each is reported once), and when each principal was last compared.
// The record outlives the requests (a permanent grant's request ages out; its entry stays), so `/qlik drift <role>`
// can tell holders the bot granted from those it never did.
import { z } from 'zod';
import type { StoreKeys } from './keys.ts';
import type { RedisConnection } from './redis.ts';

/** What the bot last did about one (target, resource, entitlement, principal), as the transition script wrote it. */
const managedEntry = z.object({
  /** `grant`: it made them hold it; `revoke`: it removed it; `ended`: a grant it made ended (expiry or Revoke now). */
  a: z.enum(['grant', 'revoke', 'ended']),
  /** The request that did it. */
  r: z.string(),
  at: z.number(),
  /** The entitlement's and the principal's names then, for messages (the request may have aged out). */
  ent: z.string(),
  who: z.string(),
  email: z.string().optional(),
  /** The resource's name and kind, for an entitlement in one (a space role). */
  res: z.string().optional(),
  resKind: z.string().optional(),
  /** A time-bound grant: when it ends. */
  until: z.number().optional(),
  /** Where the request was announced (its approval channel), when it was. */
  ch: z.string().optional(),
});

export interface ManagedHolding extends z.infer<typeof managedEntry> {
  /** The record's field: its identity (and the identity of a drift finding about it). */
  field: string;
  target: { kind: string; instance: string; resourceId?: string };
  entitlementId: string;
  principal: { kind: 'user' | 'group'; id: string };
}

/** What a drift finding says: the target system no longer shows a grant the bot made, or shows a role it removed. */
export type DriftKind = 'removed' | 'returned';

const driftFinding = z.object({
  kind: z.enum(['removed', 'returned']),
  /** The record it is about, as it was when found. */
  entry: z.custom<ManagedHolding>((v) => typeof v === 'object' && v !== null),
  foundAt: z.number(),
  /**
   * Set when a later check saw the same disagreement again: only then is it a finding to report and list. A single
   * sighting may be a change the bot is making at that moment (written, not yet recorded).
   */
  confirmedAt: z.number().optional(),
  /** Set once the approvers were told; a finding not yet reported is reported at the next check. */
  reportedAt: z.number().optional(),
});
export type DriftFinding = z.infer<typeof driftFinding>;

/** `<kind>|<instance>|<resource id or empty>|<entitlement id>|<user or group>:<principal id>`. */
export function managedField(
  target: { kind: string; instance: string; resourceId?: string },
  entitlementId: string,
  principal: { kind: string; id: string },
): string {
  return [
    target.kind,
    target.instance,
    target.resourceId ?? '',
    entitlementId,
    `${principal.kind}:${principal.id}`,
  ].join('|');
}

/** The field's parts; undefined for one this version can't read. The entitlement id is what lies between. */
export function parseManagedField(
  field: string,
): Pick<ManagedHolding, 'target' | 'entitlementId' | 'principal'> | undefined {
  const parts = field.split('|');
  if (parts.length < 5) return undefined;
  const [kind, instance, resourceId] = parts as [string, string, string];
  const who = parts[parts.length - 1]!;
  const at = who.indexOf(':');
  const pkind = who.slice(0, at);
  if (at < 0 || (pkind !== 'user' && pkind !== 'group')) return undefined;
  return {
    target: { kind, instance, ...(resourceId === '' ? {} : { resourceId }) },
    entitlementId: parts.slice(3, -1).join('|'),
    principal: { kind: pkind, id: who.slice(at + 1) },
  };
}

/** A glob (HSCAN MATCH) that matches `text` literally. */
function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

export class ManagedHoldings {
  readonly #redis: RedisConnection;
  readonly #keys: Pick<StoreKeys, 'managed' | 'prefix'>;

  constructor(redis: RedisConnection, keys: Pick<StoreKeys, 'managed' | 'prefix'>) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /**
   * Every record, or those of one entitlement (`of`: its target, under any of the names its instance answers to,
   * and its id), read in pages of the hash: memory stays flat however many there are.
   */
  async *scan(of?: {
    kind: string;
    instances: readonly string[];
    resourceId?: string;
    entitlementId: string;
  }): AsyncIterable<ManagedHolding> {
    const patterns =
      of === undefined
        ? ['*']
        : of.instances.map(
            (instance) =>
              `${globLiteral([of.kind, instance, of.resourceId ?? '', of.entitlementId].join('|'))}|*`,
          );
    for (const match of patterns) {
      let cursor = '0';
      do {
        const [next, flat] = await this.#redis.hscan(
          this.#keys.managed,
          cursor,
          'MATCH',
          match,
          'COUNT',
          500,
        );
        cursor = next;
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const h = decode(flat[i]!, flat[i + 1]!);
          // The pattern is a prefix; an entitlement id with a `|` of its own could match a longer one.
          if (h && (of === undefined || h.entitlementId === of.entitlementId)) yield h;
        }
      } while (cursor !== '0');
    }
  }

  /** The record of one field, if there is one. */
  async get(field: string): Promise<ManagedHolding | undefined> {
    const raw = await this.#redis.hget(this.#keys.managed, field);
    return raw === null ? undefined : decode(field, raw);
  }

  // ---- the drift check's state

  #openKey(): string {
    return `${this.#keys.prefix}:drift:open`;
  }
  #checkedKey(): string {
    return `${this.#keys.prefix}:drift:checked`;
  }

  /** The findings not resolved yet, newest first. */
  async openFindings(): Promise<DriftFinding[]> {
    const all = await this.#redis.hgetall(this.#openKey());
    const out: DriftFinding[] = [];
    for (const raw of Object.values(all)) {
      const f = parseJson(raw, driftFinding);
      if (f) out.push(f);
    }
    return out.sort((a, b) => b.foundAt - a.foundAt);
  }

  async finding(field: string): Promise<DriftFinding | undefined> {
    const raw = await this.#redis.hget(this.#openKey(), field);
    return raw === null ? undefined : parseJson(raw, driftFinding);
  }

  async putFinding(f: DriftFinding): Promise<void> {
    await this.#redis.hset(this.#openKey(), f.entry.field, JSON.stringify(f));
  }

  /** The target system agrees with the record again (or the record moved on): the finding is closed. */
  async resolveFinding(field: string): Promise<boolean> {
    return (await this.#redis.hdel(this.#openKey(), field)) > 0;
  }

  /** When each principal (by its check key) was last compared with the target system; 0 for never. */
  async lastChecked(keys: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (keys.length === 0) return out;
    const scores = await this.#redis.zmscore(this.#checkedKey(), ...keys);
    keys.forEach((k, i) => {
      const s = scores[i];
      out.set(k, s === null || s === undefined ? 0 : Number(s));
    });
    return out;
  }

  async markChecked(key: string, at: number): Promise<void> {
    await this.#redis.zadd(this.#checkedKey(), at, key);
  }
}

function decode(field: string, raw: string): ManagedHolding | undefined {
  const parts = parseManagedField(field);
  const entry = parseJson(raw, managedEntry);
  return parts && entry ? { ...entry, ...parts, field } : undefined;
}

function parseJson<T>(raw: string, schema: z.ZodType<T>): T | undefined {
  try {
    const r = schema.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
