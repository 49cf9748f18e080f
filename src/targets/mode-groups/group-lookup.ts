// Owns finding the Mode group a person named: exactly by name first, then the one that matches ignoring case, with
// the closest names when there is none; soft-deleted groups never match. The workspace's group list is remembered
// for a few seconds (typing a request and its pickers should not list every group again and again); a change
// never decides from it alone, it reads the group itself fresh.

import type { ModeClient, ModeGroup } from '../../mode/index.ts';
import { closestRoleNames } from '../../qlik/index.ts';

export type GroupLookupApi = Pick<ModeClient, 'groups'>;

export type GroupByName = { ok: true; group: ModeGroup } | { ok: false; suggestions: string[] };

export class GroupLookup {
  readonly #mode: GroupLookupApi;
  readonly #ttl: number;
  readonly #now: () => number;
  #cached: { at: number; value: Promise<ModeGroup[]> } | undefined;

  constructor(mode: GroupLookupApi, opts: { ttlMs?: number; now?: () => number } = {}) {
    this.#mode = mode;
    this.#ttl = opts.ttlMs ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Every live group, remembered briefly (in flight too, so callers at the same moment share one read). */
  all(opts: { refresh?: boolean } = {}): Promise<ModeGroup[]> {
    const hit = this.#cached;
    if (!opts.refresh && hit && this.#now() - hit.at < this.#ttl) return hit.value;
    const value = (async () => {
      const out: ModeGroup[] = [];
      for await (const g of this.#mode.groups()) out.push(g);
      return out;
    })();
    const entry = { at: this.#now(), value };
    this.#cached = entry;
    value.catch(() => {
      if (this.#cached === entry) this.#cached = undefined;
    });
    return value;
  }

  /** The group named `name`: exactly, else the one whose name matches in another case (the first, if several). */
  async byName(name: string): Promise<GroupByName> {
    const wanted = name.trim();
    if (wanted === '') return { ok: false, suggestions: [] };
    const find = (groups: ModeGroup[]) =>
      groups.find((g) => g.name === wanted) ??
      groups.find((g) => g.name.toLowerCase() === wanted.toLowerCase());
    let groups = await this.all();
    let found = find(groups);
    // A group made seconds ago is not in the remembered list yet.
    if (!found) {
      groups = await this.all({ refresh: true });
      found = find(groups);
    }
    if (found) return { ok: true, group: found };
    return {
      ok: false,
      suggestions: closestRoleNames(
        wanted,
        groups.map((g) => g.name),
      ),
    };
  }
}
