// Owns every Redis key name the bot's own stores use. All of them start with the one prefix (QUEUE_PREFIX), so
// with a Redis Cluster hash-tag prefix such as `{qlikops}` every key lands in one slot and a Lua script may touch
// any of them. BullMQ shares the prefix (`<prefix>:<queue>:…`): queue names must not be one of the segments here.

export interface StoreKeys {
  readonly prefix: string;
  /** HASH: one request, one field per top-level field (JSON), plus raw `state` and internal `_…` fields. */
  request(id: string): string;
  /** ZSET: distinct approvers of one request, scored by approval time. */
  approvals(id: string): string;
  /** `request(id)` is `requestPrefix + id`; Lua needs it to read a request found through the dedupe index. */
  readonly requestPrefix: string;
  /** `approvals(id)` is `request(id) + approvalsSuffix`. */
  readonly approvalsSuffix: string;
  /** ZSET: ids of pending requests, scored by expiresAt. */
  readonly pending: string;
  /** STRING: id of the pending request with this dedupe key (see domain `dedupeKey`). */
  dedupe(dedupeKey: string): string;
  /** ZSET: ids of one requester's pending requests, scored by createdAt; keyed by the requester's `personKey`. */
  pendingByRequester(requesterKey: string): string;
  /** ZSET: ids of applied time-bound grants, scored by result.revokeAt. */
  readonly timebound: string;
  /** ZSET: ids of requests approved or applying (not settled yet), scored by when they were approved. */
  readonly unfinished: string;
  /** STREAM: the audit log. */
  readonly audit: string;
  /** HASH: one access review (src/store/review-store.ts): `state`, its snapshot `doc`, where its messages are. */
  review(id: string): string;
  /** HASH: one access review's decisions, one field per holder index. */
  reviewDecisions(id: string): string;
  /**
   * HASH: what the bot last made each principal hold, one field per (target, resource, entitlement, principal)
   * (`managedField`), its value a JSON ManagedEntry. Kept by the transition script (applied, and the end of a
   * grant it made), never aged out: it is what `/qlik drift` and the drift check compare the target system with.
   */
  readonly managed: string;
  /** STRING: holder token of the lock on one Qlik principal (`user:<id>`, `group:<id>`). */
  lock(principalKey: string): string;
  /** Pub/sub channel: a principal key is published here when its lock is released. */
  readonly lockReleased: string;
}

export function storeKeys(prefix: string): StoreKeys {
  if (prefix.length === 0) throw new Error('The Redis key prefix must not be empty (set QUEUE_PREFIX).');
  const requestPrefix = `${prefix}:req:`;
  const approvalsSuffix = ':approvals';
  return {
    prefix,
    request: (id) => `${requestPrefix}${id}`,
    approvals: (id) => `${requestPrefix}${id}${approvalsSuffix}`,
    requestPrefix,
    approvalsSuffix,
    pending: `${prefix}:pending`,
    dedupe: (dedupeKey) => `${prefix}:dedupe:${dedupeKey}`,
    pendingByRequester: (requesterKey) => `${prefix}:by-requester:${requesterKey}`,
    timebound: `${prefix}:timebound`,
    unfinished: `${prefix}:unfinished`,
    audit: `${prefix}:audit`,
    review: (id) => `${prefix}:review:${id}`,
    reviewDecisions: (id) => `${prefix}:review:${id}:decisions`,
    managed: `${prefix}:managed`,
    lock: (principalKey) => `${prefix}:lock:${principalKey}`,
    lockReleased: `${prefix}:lock-released`,
  };
}
