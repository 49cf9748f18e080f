// Owns the Redis key names the worker keeps beside the request store: Slack delivery markers, Extend hand-overs,
// revoke snapshots and the reconciler's bookkeeping. All start with `<prefix>:worker:` so they share the store's
// prefix (one Cluster slot with a hash-tag prefix) and never collide with BullMQ's `<prefix>:<queue>:` keys.

export interface WorkerKeys {
  /** STRING: set once a notification step (refresh, thread, dm) for a request's event reached Slack. */
  notified(requestId: string, event: string, step: string): string;
  /** STRING: the id of the Extend request that took over this time-bound grant's role. */
  supersededBy(requestId: string): string;
  /** STRING: the earlier grant whose role this Extend took over (so its own expiry removes the role). */
  tookOver(requestId: string): string;
  /** STRING (JSON): a grant's direct roles recorded just before its revoke PATCH, for a re-run after a crash. */
  revokeSnapshot(requestId: string): string;
  /** STRING: a revoke the target refused (e.g. Qlik's 400/403); the reconciler leaves it alone until this expires. */
  revokeBlocked(requestId: string): string;
  /** STRING (JSON {by, at}): a "Revoke now" under way; taken with SET NX by the press, released when it failed. */
  revokeRequested(requestId: string): string;
  /** STRING (JSON): the last failed revoke of a grant (the system's words, who pressed, which failure) for its notices. */
  revokeFailure(requestId: string): string;
  /** STRING: counts a grant's failed revokes, so each failure is its own notification. */
  revokeFailures(requestId: string): string;
  /**
   * HASH `channel ts` → JSON: the messages about a request that carry its buttons (thread reply, DMs), as versions
   * before the request kept its own list of messages recorded them. Read (never written) so those copies are still
   * updated when their grant ends; it expires with the TTL those versions set.
   */
  copies(requestId: string): string;
  /**
   * ZSET: requests approved or applying that the reconciler of versions before the store's unfinished index watched
   * (read once by the start-up backfill, then deleted).
   */
  readonly inflight: string;
  /** STRING: the audit stream time those versions' reconciler had read up to (read once by the backfill). */
  readonly auditCursor: string;
  /** STRING: set once the start-up backfill has indexed the requests those versions left approved or applying. */
  readonly unfinishedBackfilled: string;
  /** STRING: set once the start-up backfill has recorded what the requests applied before the record made held. */
  readonly managedBackfilled: string;
  /** STRING: how many times the reconciler re-enqueued a lost apply of this request. */
  requeued(requestId: string): string;
  /** STRING (JSON): a follow-on change's holdings recorded just before its write, for a re-run after a crash. */
  partSnapshot(requestId: string, index: number): string;
  /** STRING: the request a time-bound follow-on was filed as (set before it is approved, so a re-run files none). */
  partRequest(requestId: string, index: number): string;
}

export function workerKeys(prefix: string): WorkerKeys {
  const base = `${prefix}:worker`;
  return {
    notified: (id, event, step) => `${base}:notified:${id}:${event}:${step}`,
    supersededBy: (id) => `${base}:superseded-by:${id}`,
    tookOver: (id) => `${base}:took-over:${id}`,
    revokeSnapshot: (id) => `${base}:revoke-snapshot:${id}`,
    revokeBlocked: (id) => `${base}:revoke-blocked:${id}`,
    revokeRequested: (id) => `${base}:revoke-requested:${id}`,
    revokeFailure: (id) => `${base}:revoke-failure:${id}`,
    revokeFailures: (id) => `${base}:revoke-failures:${id}`,
    copies: (id) => `${base}:copies:${id}`,
    inflight: `${base}:inflight`,
    auditCursor: `${base}:audit-cursor`,
    unfinishedBackfilled: `${base}:unfinished-backfilled`,
    managedBackfilled: `${base}:managed-backfilled`,
    requeued: (id) => `${base}:requeued:${id}`,
    partSnapshot: (id, i) => `${base}:part-snapshot:${id}:${i}`,
    partRequest: (id, i) => `${base}:part-request:${id}:${i}`,
  };
}
