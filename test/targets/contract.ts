// The contract every AccessTarget keeps, as one suite any implementation runs against its own simulator: call
// `accessTargetContract(name, factory)` from the target's test file. The factory builds a fresh world (a target over
// a real simulated system, and ways to add principals to it); the suite only speaks the interface.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AccessChange,
  AccessTarget,
  BatchResult,
  EntitlementQuery,
  EntitlementRef,
  HoldingsSnapshot,
  PrincipalRef,
} from '../../src/targets/types.ts';

export interface ContractWorld {
  target: AccessTarget;
  /** Adds a user who holds nothing directly; returns their email. */
  addUser(): Promise<string>;
  /** Adds a group that holds nothing directly; returns its name. */
  addGroup(): Promise<string>;
  /** Two different entitlements the target offers, as a person would type them (in another case, say). */
  grantable: [EntitlementQuery, EntitlementQuery];
  /** A misspelt name and the name the target should suggest for it. */
  typo: { query: EntitlementQuery; suggests: string };
  /** A principal the system does not have (deleted, or never there). */
  ghost: PrincipalRef;
  /** After the next write, someone else undoes it before the target reads back. */
  undoNextWrite(): void;
  /** The system refuses the next write for now (rate limit: come back later, nothing was written). */
  rateLimitNextWrite(): void;
  /** The system refuses the next write for good (e.g. not allowed). */
  forbidNextWrite(): void;
  close(): Promise<void>;
}

/** What is true of a target's system that some cases depend on. */
export interface ContractTraits {
  /**
   * The target's entitlements replace each other (a Mode collection keeps one of view or edit per accessor), so the
   * cases that hold two at once do not apply.
   */
  exclusive?: boolean;
  /** The target applies a batch of changes to one principal in one write (AccessTarget.applyChanges). */
  batches?: boolean;
}

const neverAborted = () => new AbortController().signal;

/** Runs the AccessTarget contract against the target `factory` builds. */
export function accessTargetContract(
  name: string,
  factory: () => Promise<ContractWorld>,
  traits: ContractTraits = {},
): void {
  describe(`AccessTarget contract: ${name}`, () => {
    let w: ContractWorld;
    let roleA: EntitlementRef;
    let roleB: EntitlementRef;

    beforeAll(async () => {
      w = await factory();
      roleA = await entitlement(w.grantable[0]);
      roleB = await entitlement(w.grantable[1]);
    });
    afterAll(async () => {
      await w?.close();
    });

    async function entitlement(q: EntitlementQuery): Promise<EntitlementRef> {
      const r = await w.target.resolveEntitlement(q);
      if (!r.ok) throw new Error(`no entitlement ${q.name}: ${r.code}`);
      return r.entitlement;
    }

    async function user(): Promise<PrincipalRef> {
      const r = await w.target.resolvePrincipal({ kind: 'user', email: await w.addUser() });
      if (!r.ok) throw new Error(JSON.stringify(r));
      return r.principal;
    }

    function grant(principal: PrincipalRef, e: EntitlementRef = roleA): AccessChange {
      return { action: 'grant', principal, entitlement: e };
    }

    /** Applies with a beforeWrite that records what it was given. */
    async function apply(change: AccessChange, earlier?: { before: string[] }) {
      const recorded: HoldingsSnapshot[] = [];
      const result = await w.target.applyChange(change, {
        ...(earlier ? { earlier } : {}),
        signal: neverAborted(),
        beforeWrite: async (s) => {
          recorded.push(s);
        },
      });
      return { result, recorded };
    }

    /** What it holds directly, in the resource the entitlements are in (for targets that have them). */
    async function directNames(p: PrincipalRef): Promise<string[]> {
      return (await w.target.readHoldings(p, roleA.resource)).direct.map((e) => e.name);
    }

    it('names its kind and instance', () => {
      expect(w.target.kind).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(w.target.instance.length).toBeGreaterThan(0);
      expect(w.target.words.system.length).toBeGreaterThan(0);
      expect(w.target.words.checkByHand.length).toBeGreaterThan(0);
      expect(w.target.words.instance.length).toBeGreaterThan(0);
    });

    describe('who a principal includes', () => {
      it('includes the person with the email when they are the user, and nobody else', async () => {
        const a = await user();
        const b = await user();
        expect(await w.target.includesPerson(a, a.email!)).toBe(true);
        expect(await w.target.includesPerson(a, b.email!)).toBe(false);
        const g = await w.target.resolvePrincipal({ kind: 'group', name: await w.addGroup() });
        if (!g.ok) throw new Error(JSON.stringify(g));
        expect(await w.target.includesPerson(g.principal, a.email!)).toBe(false);
      });
    });

    describe('resolving', () => {
      it('finds a user by email and a group by name, with their holdings', async () => {
        const email = await w.addUser();
        const u = await w.target.resolvePrincipal({ kind: 'user', email });
        if (!u.ok) throw new Error(JSON.stringify(u));
        expect(u.principal).toMatchObject({ kind: 'user', email });
        expect(u.holdings.direct).toEqual([]);
        const name = await w.addGroup();
        const g = await w.target.resolvePrincipal({ kind: 'group', name });
        if (!g.ok) throw new Error(JSON.stringify(g));
        expect(g.principal).toMatchObject({ kind: 'group', name });
      });

      it('says no-such-user or no-such-group, with what was asked, for an unknown user or group', async () => {
        const u = await w.target.resolvePrincipal({ kind: 'user', email: 'nobody-at-all@nowhere.example' });
        expect(u).toEqual({ ok: false, code: 'no-such-user', email: 'nobody-at-all@nowhere.example' });
        const g = await w.target.resolvePrincipal({ kind: 'group', name: 'No Such Group Anywhere' });
        expect(g).toEqual({ ok: false, code: 'no-such-group', name: 'No Such Group Anywhere' });
      });

      it('finds an entitlement whatever the case, and suggests the closest names for a miss', async () => {
        expect(roleA.name.toLowerCase()).toBe(w.grantable[0].name.toLowerCase());
        const miss = await w.target.resolveEntitlement(w.typo.query);
        expect(miss.ok).toBe(false);
        if (!miss.ok) {
          expect(miss.code).toBe('not-found');
          if (miss.code === 'not-found') expect(miss.suggestions).toContain(w.typo.suggests);
        }
      });

      it('lists the entitlements it offers, including those it resolves', async () => {
        const names = (await w.target.listEntitlements()).map((e) => e.name);
        expect(names).toEqual(expect.arrayContaining([roleA.name, roleB.name]));
      });
    });

    describe('lock keys', () => {
      it('are the same for the same change and differ between principals', async () => {
        const [a, b] = [await user(), await user()];
        expect(w.target.lockKey(grant(a))).toBe(w.target.lockKey({ ...grant(a), action: 'revoke' }));
        expect(w.target.lockKey(grant(a))).not.toBe(w.target.lockKey(grant(b)));
      });
    });

    describe('applying', () => {
      it('grants: records the snapshot before the write, writes, and reports before and after', async () => {
        const p = await user();
        const { result, recorded } = await apply(grant(p));
        expect(recorded).toEqual([{ before: [], after: [roleA.name] }]);
        expect(result).toEqual({ before: [], after: [roleA.name], changed: true });
        expect(await directNames(p)).toEqual([roleA.name]);
      });

      it.skipIf(traits.exclusive === true)(
        'keeps what the principal held: a second grant appends, a revoke removes only its own',
        async () => {
          const p = await user();
          await apply(grant(p, roleA));
          const second = await apply(grant(p, roleB));
          expect(second.result.before).toEqual([roleA.name]);
          expect([...second.result.after].sort()).toEqual([roleA.name, roleB.name].sort());
          const revoke = await apply({ ...grant(p, roleA), action: 'revoke' });
          expect(revoke.result).toMatchObject({ changed: true, after: [roleB.name] });
          expect(await directNames(p)).toEqual([roleB.name]);
        },
      );

      it('is idempotent: a change already in place writes nothing and reports unchanged', async () => {
        const p = await user();
        await apply(grant(p));
        const again = await apply(grant(p));
        expect(again.recorded).toEqual([]);
        expect(again.result).toMatchObject({ changed: false, before: [roleA.name] });
        const revokeMissing = await apply({ ...grant(p, roleB), action: 'revoke' });
        expect(revokeMissing.result.changed).toBe(false);
      });

      it('a re-run after a crash after the write still reports the change as its own (the earlier snapshot)', async () => {
        const p = await user();
        const first = await apply(grant(p));
        const rerun = await apply(grant(p), { before: first.recorded[0]!.before });
        expect(rerun.result).toMatchObject({ changed: true, before: [] });
      });

      it('writes nothing when beforeWrite throws or the lock was lost', async () => {
        const p = await user();
        await expect(
          w.target.applyChange(grant(p), {
            signal: neverAborted(),
            beforeWrite: async () => {
              throw new Error('stop');
            },
          }),
        ).rejects.toThrow('stop');
        const lost = new AbortController();
        await expect(
          w.target.applyChange(grant(p), {
            signal: lost.signal,
            beforeWrite: async () => lost.abort(new Error('lock lost')),
          }),
        ).rejects.toThrow('lock lost');
        expect(await directNames(p)).toEqual([]);
      });

      it('works on groups too', async () => {
        const g = await w.target.resolvePrincipal({ kind: 'group', name: await w.addGroup() });
        if (!g.ok) throw new Error(JSON.stringify(g));
        const { result } = await apply(grant(g.principal));
        expect(result.changed).toBe(true);
        expect(await directNames(g.principal)).toEqual([roleA.name]);
      });

      it('verifies by reading back: a write someone undid at once is an error that fails with a message', async () => {
        const p = await user();
        w.undoNextWrite();
        const err = await apply(grant(p)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        const action = w.target.classifyError(err, { who: p.name, kind: 'user' });
        expect(action?.kind).toBe('fail');
      });
    });

    // Targets whose holdings are one list apply a batch of changes to one principal in one write; the others leave
    // applyChanges out and the worker applies their changes one at a time.
    describe('applying a batch', () => {
      const single = traits.batches !== true;
      const oneAtATime = single || traits.exclusive === true;

      it('offers batches exactly when it says it does', () => {
        expect(w.target.applyChanges !== undefined).toBe(!single);
      });

      async function applyBatch(changes: AccessChange[], earlier: ({ before: string[] } | undefined)[] = []) {
        const recorded: { index: number; snapshot: HoldingsSnapshot }[][] = [];
        const applyChanges = w.target.applyChanges?.bind(w.target);
        if (applyChanges === undefined) throw new Error('no batches');
        const results = await applyChanges(changes, {
          earlier: changes.map((_, i) => earlier[i]),
          signal: neverAborted(),
          beforeWrite: async (planned) => {
            recorded.push([...planned]);
          },
        });
        return { results, recorded };
      }

      function applied(r: BatchResult) {
        if (!r.ok) throw new Error(`refused: ${String(r.error)}`);
        return r.applied;
      }

      it.skipIf(oneAtATime)(
        'makes every change in one write, each with its own before and after as if made in turn',
        async () => {
          const p = await user();
          const { results, recorded } = await applyBatch([grant(p, roleA), grant(p, roleB)]);
          expect(recorded).toEqual([
            [
              { index: 0, snapshot: { before: [], after: [roleA.name] } },
              { index: 1, snapshot: { before: [roleA.name], after: [roleA.name, roleB.name] } },
            ],
          ]);
          expect(results.map(applied)).toEqual([
            { before: [], after: [roleA.name], changed: true },
            { before: [roleA.name], after: [roleA.name, roleB.name], changed: true },
          ]);
          expect((await directNames(p)).sort()).toEqual([roleA.name, roleB.name].sort());
        },
      );

      it.skipIf(oneAtATime)(
        'writes only for the changes that need it, and a re-run after a crash still says which made the change',
        async () => {
          const p = await user();
          await apply(grant(p, roleA));
          const first = await applyBatch([grant(p, roleA), grant(p, roleB)]);
          expect(first.recorded).toEqual([
            [{ index: 1, snapshot: { before: [roleA.name], after: [roleA.name, roleB.name] } }],
          ]);
          expect(first.results.map((r) => applied(r).changed)).toEqual([false, true]);
          // The same batch again, as a job re-run after its write: nothing to write, and B's snapshot says B made it.
          const again = await applyBatch(
            [grant(p, roleA), grant(p, roleB)],
            [undefined, { before: [roleA.name] }],
          );
          expect(again.recorded).toEqual([]);
          expect(again.results.map((r) => applied(r).changed)).toEqual([false, true]);
        },
      );

      it.skipIf(oneAtATime)('revokes several at once, down to nothing', async () => {
        const p = await user();
        await applyBatch([grant(p, roleA), grant(p, roleB)]);
        const { results } = await applyBatch([
          { action: 'revoke', principal: p, entitlement: roleB },
          { action: 'revoke', principal: p, entitlement: roleA },
        ]);
        expect(results.map(applied)).toEqual([
          { before: [roleA.name, roleB.name], after: [roleA.name], changed: true },
          { before: [roleA.name], after: [], changed: true },
        ]);
        expect(await directNames(p)).toEqual([]);
      });

      it.skipIf(oneAtATime)(
        'falls back to one change at a time when the system refuses the combined write',
        async () => {
          const p = await user();
          w.forbidNextWrite();
          const { results, recorded } = await applyBatch([grant(p, roleA), grant(p, roleB)]);
          // The batch's snapshot, then each change's own before its own write.
          expect(recorded.map((r) => r.map((x) => x.index))).toEqual([[0, 1], [0], [1]]);
          expect(results.map((r) => applied(r).changed)).toEqual([true, true]);
          expect((await directNames(p)).sort()).toEqual([roleA.name, roleB.name].sort());
        },
      );

      it.skipIf(oneAtATime)(
        'throws when the whole batch must come back later, with nothing written',
        async () => {
          const p = await user();
          w.rateLimitNextWrite();
          const err = await applyBatch([grant(p, roleA), grant(p, roleB)]).catch((e: unknown) => e);
          expect(w.target.classifyError(err, { who: p.name, kind: 'user' }, () => 0)?.kind).toBe('later');
          expect(await directNames(p)).toEqual([]);
        },
      );

      it.skipIf(oneAtATime)(
        'reports each change the read-back disagrees with as its own failure',
        async () => {
          const p = await user();
          w.undoNextWrite();
          const { results } = await applyBatch([grant(p, roleA), grant(p, roleB)]);
          expect(results.map((r) => r.ok)).toEqual([false, false]);
          for (const r of results)
            if (!r.ok)
              expect(w.target.classifyError(r.error, { who: p.name, kind: 'user' })?.kind).toBe('fail');
        },
      );

      it.skipIf(single)(
        'refuses a batch that is not one principal, or names an entitlement twice',
        async () => {
          const p = await user();
          const q = await user();
          await expect(applyBatch([grant(p, roleA), grant(p, roleA)])).rejects.toThrow(/twice/);
          await expect(applyBatch([grant(p, roleA), grant(q, roleB)])).rejects.toThrow(/one lock key/);
          expect(await directNames(p)).toEqual([]);
        },
      );

      it.skipIf(single)('stops before writing when the lock was lost', async () => {
        const p = await user();
        const lost = new AbortController();
        lost.abort(new Error('lock lost'));
        const applyChanges = w.target.applyChanges?.bind(w.target);
        await expect(
          applyChanges?.([grant(p, roleA), grant(p, roleB)], {
            earlier: [undefined, undefined],
            signal: lost.signal,
            beforeWrite: async () => {},
          }),
        ).rejects.toThrow();
        expect(await directNames(p)).toEqual([]);
      });
    });

    describe('ending a grant', () => {
      async function end(change: AccessChange, earlier?: string[]) {
        const recorded: string[][] = [];
        const ended = await w.target.endGrant(change, {
          ...(earlier ? { earlier } : {}),
          signal: neverAborted(),
          beforeWrite: async (before) => {
            recorded.push(before);
          },
        });
        return { ended, recorded };
      }

      it.skipIf(traits.exclusive === true)(
        'removes exactly what was granted and keeps the rest',
        async () => {
          const p = await user();
          await apply(grant(p, roleB));
          await apply(grant(p, roleA));
          const { ended, recorded } = await end(grant(p, roleA));
          expect(recorded).toHaveLength(1);
          expect(ended).toMatchObject({ outcome: 'removed', after: [roleB.name] });
          expect(await directNames(p)).toEqual([roleB.name]);
        },
      );

      it('says already-gone when someone else removed it, and removed on a re-run its snapshot covers', async () => {
        const p = await user();
        await apply(grant(p));
        const first = await end(grant(p));
        const again = await end(grant(p));
        expect(again.ended.outcome).toBe('already-gone');
        const rerun = await end(grant(p), first.recorded[0]);
        expect(rerun.ended.outcome).toBe('removed');
      });

      it('says principal-gone for a principal the system no longer has', async () => {
        expect((await end(grant(w.ghost))).ended).toEqual({ outcome: 'principal-gone' });
      });
    });

    describe('holders', () => {
      it('the summary counts direct holders and the iterator lists each of them once', async () => {
        const [a, b] = [await user(), await user()];
        const fresh = await entitlement(w.grantable[1]);
        await apply(grant(a, fresh));
        await apply(grant(b, fresh));
        const summary = await w.target.holdersSummary(fresh);
        expect(summary.direct.total).toBeGreaterThanOrEqual(2);
        const ids: string[] = [];
        for await (const h of w.target.holders(fresh, summary.resume)) ids.push(h.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
        expect(ids).toHaveLength(summary.direct.total);
        const cold: string[] = [];
        for await (const h of w.target.holders(fresh)) cold.push(h.id);
        expect(cold.sort()).toEqual([...ids].sort());
      });
    });

    describe('classifying errors', () => {
      it('a rate limit comes back later; a refusal fails with a message; a missing principal says who', async () => {
        const p = await user();
        const subject = { who: p.name, kind: 'user' as const };
        w.forbidNextWrite();
        const refused = await apply(grant(p)).catch((e: unknown) => e);
        const fail = w.target.classifyError(refused, subject);
        expect(fail?.kind).toBe('fail');
        expect(fail?.kind === 'fail' && fail.message.length).toBeGreaterThan(0);
        w.rateLimitNextWrite();
        const limited = await apply(grant(p)).catch((e: unknown) => e);
        expect(w.target.classifyError(limited, subject, () => 0)?.kind).toBe('later');
        expect(await directNames(p)).toEqual([]);
        const gone = await apply(grant(w.ghost)).catch((e: unknown) => e);
        const ghost = w.target.classifyError(gone, { who: w.ghost.name, kind: 'user' });
        expect(ghost?.kind === 'fail' && ghost.message).toContain(w.ghost.name);
      });

      it('claims no error that is not its own', () => {
        expect(w.target.classifyError(new Error('ECONNRESET on Redis'), { who: 'x', kind: 'user' })).toBe(
          undefined,
        );
        expect(w.target.describeError(new Error('ECONNRESET on Redis'))).toBeUndefined();
      });

      it('describes its own failures in words for the person who asked', async () => {
        w.forbidNextWrite();
        const refused = await apply(grant(await user())).catch((e: unknown) => e);
        expect(w.target.describeError(refused)?.length).toBeGreaterThan(0);
      });
    });
  });
}
