// The contract every AccessTarget keeps, as one suite any implementation runs against its own simulator: call
// `accessTargetContract(name, factory)` from the target's test file. The factory builds a fresh world (a target over
// a real simulated system, and ways to add principals to it); the suite only speaks the interface.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AccessChange,
  AccessTarget,
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
