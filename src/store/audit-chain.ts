// Owns checking the audit stream's hash chain (written by src/store/lua/audit-chain.lua): each event carries the
// hash of the one before it (`prev`) and its own (`hash`, SHA-1 over every field and value before it, each as
// <byte length>:<text>). Walking the stream oldest first finds the first event that was edited (its hash no longer
// matches its fields), or that follows a deleted or moved one (its `prev` is not the hash before it). Events written
// before the chain existed (no `hash`) are counted as unchained; the chain starts at the first event that has one.
// A chain says nothing about its own end: anchor the head hash elsewhere (README, "Audit") to notice a deleted tail.
import { createHash } from 'node:crypto';

export interface ChainProblem {
  /** The stream id of the first event that does not fit. */
  id: string;
  /** `edited`: its fields no longer give its hash; `broken`: its `prev` is not the hash of the event before it. */
  kind: 'edited' | 'broken' | 'unchained-after-chain';
  detail: string;
}

export interface ChainReport {
  events: number;
  /** Events before the chain started (written by versions before it). */
  unchained: number;
  chained: number;
  /** The hash of the last event: the head to anchor elsewhere. */
  head?: string;
  firstChained?: string;
  lastId?: string;
  problem?: ChainProblem;
}

/** The hash an event's stored fields (in stored order, `hash` and what follows left out) should have. */
export function eventHash(fields: readonly string[]): string {
  const h = createHash('sha1');
  for (const f of fields) h.update(`${Buffer.byteLength(f, 'utf8')}:${f}`, 'utf8');
  return h.digest('hex');
}

function field(fields: readonly string[], name: string): { value?: string; index: number } {
  for (let i = 0; i + 1 < fields.length; i += 2)
    if (fields[i] === name) return { value: fields[i + 1]!, index: i };
  return { index: -1 };
}

/** Walks the events oldest first and stops at the first that does not fit the chain. */
export async function verifyChain(
  events: AsyncIterable<{ id: string; fields: string[] }>,
): Promise<ChainReport> {
  const report: ChainReport = { events: 0, unchained: 0, chained: 0 };
  let expectedPrev: string | undefined;
  for await (const { id, fields } of events) {
    report.events++;
    report.lastId = id;
    const hash = field(fields, 'hash');
    if (hash.value === undefined) {
      if (expectedPrev !== undefined) {
        report.problem = {
          id,
          kind: 'unchained-after-chain',
          detail:
            "it has no hash, though events before it do: it was added by hand, its hash was removed, or a replica of a version before the chain wrote it during a rollout (then check it against that version's log and the exports)",
        };
        return report;
      }
      report.unchained++;
      continue;
    }
    const prev = field(fields, 'prev').value ?? '';
    // The first chained event follows nothing chained: its prev is '' (or, after trimming, the hash of an event
    // no longer in the stream, which cannot be checked).
    if (expectedPrev !== undefined && prev !== expectedPrev) {
      report.problem = {
        id,
        kind: 'broken',
        detail: `its prev (${prev.slice(0, 12)}…) is not the hash of the event before it (${expectedPrev.slice(0, 12)}…): an event before it was deleted, or the order was changed`,
      };
      return report;
    }
    if (eventHash(fields.slice(0, hash.index)) !== hash.value) {
      report.problem = { id, kind: 'edited', detail: 'its fields no longer give its hash: it was edited' };
      return report;
    }
    if (report.firstChained === undefined) report.firstChained = id;
    report.chained++;
    report.head = hash.value;
    expectedPrev = hash.value;
  }
  return report;
}
