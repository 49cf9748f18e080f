// Owns finding the space a person named: exactly by name first, then one that matches ignoring case, with the
// closest names when there is none. Lookups are remembered for a few seconds, as tenant roles are, so typing a
// request and its pickers do not read the same space again and again; a change never reads through this cache.
import { closestRoleNames, type QlikClient, type QlikSpace } from '../../qlik/index.ts';

export type SpaceLookupApi = Pick<QlikClient, 'allSpaces' | 'getSpace'>;

export type SpaceByName =
  | { ok: true; space: QlikSpace }
  | { ok: false; code: 'no-such-resource'; suggestions: string[] }
  | { ok: false; code: 'ambiguous-resource'; count: number };

export interface SpaceLookupOptions {
  /** How long a lookup is remembered; default 10 s. */
  ttlMs?: number;
  now?: () => number;
}

/** How many spaces a miss reads at most to suggest names (10 pages): a typo should not read a huge tenant. */
const SUGGESTION_SCAN = 1000;

/** Past this many remembered lookups, expired ones are dropped. */
const MAX_REMEMBERED = 500;

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

export class SpaceLookup {
  readonly #qlik: SpaceLookupApi;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #byName = new Map<string, Cached<QlikSpace[]>>();
  readonly #byId = new Map<string, Cached<QlikSpace>>();

  constructor(qlik: SpaceLookupApi, opts: SpaceLookupOptions = {}) {
    this.#qlik = qlik;
    this.#ttl = opts.ttlMs ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * The space named `name`: the one with exactly that name, else the only one with that name in another case.
   * Qlik's `name` search is a case-insensitive "contains", so its answer is compared here.
   */
  async byName(name: string): Promise<SpaceByName> {
    const wanted = name.trim();
    const found =
      wanted === ''
        ? []
        : await this.#remember(this.#byName, wanted.toLowerCase(), () => this.#search(wanted));
    const exact = found.filter((s) => s.name === wanted);
    const folded = found.filter((s) => s.name.toLowerCase() === wanted.toLowerCase());
    const matches = exact.length > 0 ? exact : folded;
    if (matches.length === 1) return { ok: true, space: matches[0]! };
    if (matches.length > 1) return { ok: false, code: 'ambiguous-resource', count: matches.length };
    const names = (
      await this.#remember(this.#byName, '', () => this.#search(undefined, SUGGESTION_SCAN))
    ).map((s) => s.name);
    return { ok: false, code: 'no-such-resource', suggestions: closestRoleNames(wanted, names) };
  }

  /** The space by id (its owner and assignable roles), remembered briefly; `refresh` reads it again. */
  byId(id: string, opts: { refresh?: boolean } = {}): Promise<QlikSpace> {
    if (opts.refresh) this.#byId.delete(id);
    return this.#remember(this.#byId, id, () => this.#qlik.getSpace(id));
  }

  /** Remembers the read (in flight too, so callers at the same moment share one), but never a failed one. */
  #remember<T>(cache: Map<string, Cached<T>>, key: string, read: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit && this.#now() - hit.at < this.#ttl) return hit.value;
    // Names are typed by people, so keys are unbounded: drop what has expired before the map grows large.
    if (cache.size >= MAX_REMEMBERED) {
      for (const [k, v] of cache) if (this.#now() - v.at >= this.#ttl) cache.delete(k);
    }
    const value = read();
    cache.set(key, { at: this.#now(), value });
    value.catch(() => {
      if (cache.get(key)?.value === value) cache.delete(key);
    });
    return value;
  }

  async #search(name: string | undefined, max = Number.POSITIVE_INFINITY): Promise<QlikSpace[]> {
    const out: QlikSpace[] = [];
    for await (const s of this.#qlik.allSpaces(name === undefined ? {} : { name })) {
      // Personal spaces have no name and can't be asked for.
      if (s.name !== '') out.push(s);
      if (out.length >= max) break;
    }
    return out;
  }
}
