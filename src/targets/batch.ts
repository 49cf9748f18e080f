// Owns what every target that applies a batch of changes (one principal, one lock key) shares: checking that the
// batch is one a single write can carry, and the fall-back to one change at a time when the system refuses the
// combined write, so that only the change it refuses fails. How a batch is read, planned and written is each
// target's own (qlik-roles: one assignedRoles list; qlik-spaces: one assignment per space).
import type { AccessChange, AccessTarget, BatchApplyOptions, BatchResult } from './types.ts';

/** Throws unless every change is to the first one's principal and each names a different entitlement. */
export function checkBatch(target: Pick<AccessTarget, 'lockKey'>, changes: readonly AccessChange[]): void {
  const first = changes[0];
  if (first === undefined) throw new Error('A batch needs at least one change.');
  const key = target.lockKey(first);
  const seen = new Set<string>();
  for (const c of changes) {
    if (target.lockKey(c) !== key) throw new Error('A batch holds changes under one lock key only.');
    if (seen.has(c.entitlement.id))
      throw new Error(`A batch changes each entitlement once; ${c.entitlement.name} is in it twice.`);
    seen.add(c.entitlement.id);
  }
}

/**
 * True when the combined write's failure means the system refused what was written (the target classes it as
 * final), so trying each change alone tells which one it refuses. A passing failure (5xx, 429, a timeout) is not:
 * the whole batch is tried again.
 */
export function refusedWrite(
  target: Pick<AccessTarget, 'classifyError'>,
  err: unknown,
  changes: readonly AccessChange[],
): boolean {
  const first = changes[0];
  if (first === undefined || changes.length < 2) return false;
  const subject = { who: first.principal.name, kind: first.principal.kind };
  return target.classifyError(err, subject)?.kind === 'fail';
}

/**
 * Each change on its own, in order, with its own read, write and read back, its own `beforeWrite` and its own
 * result. A change the system refuses fails alone; what the caller's `beforeWrite` throws, or a lost lock, stops the
 * rest (each stays as the caller left it, for its own job).
 */
export async function applyOneByOne(
  target: Pick<AccessTarget, 'applyChange'>,
  changes: readonly AccessChange[],
  opts: BatchApplyOptions,
): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  for (const [index, change] of changes.entries()) {
    const earlier = opts.earlier[index];
    let stopped: { err: unknown } | undefined;
    try {
      const applied = await target.applyChange(change, {
        ...(earlier === undefined ? {} : { earlier }),
        signal: opts.signal,
        beforeWrite: async (snapshot) => {
          try {
            await opts.beforeWrite([{ index, snapshot }]);
          } catch (err) {
            stopped = { err };
            throw err;
          }
        },
      });
      results.push({ ok: true, applied });
    } catch (err) {
      if (stopped !== undefined || opts.signal.aborted) throw err;
      results.push({ ok: false, error: err });
    }
  }
  return results;
}
