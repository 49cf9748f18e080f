// The access-request app driven directly, without Slack HTTP: the real request store, audit log and queues in Redis
// (own prefix), the Qlik simulator through the real client and the real tenant-roles target in a registry, and
// small in-memory stand-ins for the two Slack ports (the directory and the notifier), so a test can make Slack fail
// exactly where it wants. `useAppHarness()` registers the hooks of one test file and returns what it set up.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { AccessRequestApp } from '../../src/app/access-requests.ts';
import type { HoldersExport } from '../../src/app/notifier.ts';
import type { AccessRequestDeps, NotifierPort } from '../../src/app/ports.ts';
import type { ReviewCsv, ReviewNotifier } from '../../src/app/review-notifier.ts';
import type { FileInput } from '../../src/app/use-cases/file-request.ts';
import { parsePolicy } from '../../src/domain/policy.ts';
import type { MessageRef, PersonRef, RoleChangeRequest } from '../../src/domain/request.ts';
import type { AccessReview } from '../../src/domain/review.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { QlikClient } from '../../src/qlik/index.ts';
import { openQueues, type Queues } from '../../src/queue/queues.ts';
import { demoTenant, type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import type { SlackUserLookup } from '../../src/slack/directory.ts';
import { type SlackPeopleLookups, slackDirectoryPort, slackPerson } from '../../src/slack/people.ts';
import { AuditLog, type StoredAuditEvent } from '../../src/store/audit-log.ts';
import { storeKeys } from '../../src/store/keys.ts';
import { ManagedHoldings } from '../../src/store/managed.ts';
import { RequestStore } from '../../src/store/request-store.ts';
import { ReviewStore } from '../../src/store/review-store.ts';
import { QlikAccountTarget } from '../../src/targets/qlik-account/target.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';
import { QlikSpacesTarget } from '../../src/targets/qlik-spaces/target.ts';
import { TargetRegistry } from '../../src/targets/registry.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

export const H = 3_600_000;
export const CHANNEL = 'C0APPROVALS';
export const U = {
  alice: 'U0ALICE',
  bob: 'U0BOB',
  carol: 'U0CAROL', // approver, and a member of the Qlik group Data Engineering
  dan: 'U0DAN',
  frank: 'U0FRANK',
  viktor: 'U0VIKTOR',
  approver2: 'U0APPROVER2',
  noMail: 'U0NOMAIL', // approver whose profile has no email
} as const;

/** The same people as the app takes them (PersonRef on the Slack front). */
export const P = Object.fromEntries(Object.entries(U).map(([k, id]) => [k, slackPerson(id)])) as Record<
  keyof typeof U,
  PersonRef
>;

export const BASE_POLICY = `
approvalChannel: ${CHANNEL}
approvers: [${U.alice}, ${U.bob}, ${U.carol}, ${U.approver2}, ${U.noMail}]
roles:
  TenantAdmin: { approvalsRequired: 2, reasonRequired: true, maxDuration: 4h }
  AuditAdmin: { requestable: false }
`;

/**
 * The Slack directory (SlackDirectory's lookups): profiles by id, and a lookup by email that can be made to fail. The
 * app sees it through the real Slack adapter (slackDirectoryPort), as it sees SlackDirectory in the bot.
 */
export class FakeDirectory implements SlackPeopleLookups {
  readonly profiles = new Map<string, SlackUserLookup>();
  /** Emails users.lookupByEmail should not find (as if the profile were different or hidden). */
  readonly hiddenEmails = new Set<string>();
  /** Set: the next lookups by email throw it, as the real directory does for anything but users_not_found. */
  emailLookupError: Error | undefined;
  /** Set: users.info for these ids throws (rate limit, outage). */
  readonly infoFails = new Set<string>();
  readonly emailLookups: string[] = [];

  add(id: string, name: string, email?: string): void {
    this.profiles.set(
      id,
      email === undefined ? { kind: 'no-email', userId: id, name } : { kind: 'ok', userId: id, name, email },
    );
  }

  async lookupUser(userId: string): Promise<SlackUserLookup> {
    if (this.infoFails.has(userId)) throw slackApiError('ratelimited');
    return this.profiles.get(userId) ?? { kind: 'not-found', userId };
  }

  async findUserIdByEmail(email: string): Promise<string | undefined> {
    this.emailLookups.push(email);
    if (this.emailLookupError) throw this.emailLookupError;
    const wanted = email.toLowerCase();
    if (this.hiddenEmails.has(wanted)) return undefined;
    for (const p of this.profiles.values()) {
      if (p.kind === 'ok' && p.email.toLowerCase() === wanted) return p.userId;
    }
    return undefined;
  }

  async isInAny(userId: string, ids: readonly string[]): Promise<boolean> {
    return ids.includes(userId);
  }
}

/** What @slack/web-api throws for `{ok:false, error}`. */
export function slackApiError(code: string): Error {
  return Object.assign(new Error(`An API error occurred: ${code}`), {
    code: 'slack_webapi_platform_error',
    data: { ok: false, error: code },
  });
}

/** The Notifier as the app sees it: records announcements, refreshes and files; each can be made to fail. */
export class FakeNotifier implements NotifierPort {
  readonly front = 'slack' as const;
  readonly posted: RoleChangeRequest[] = [];
  readonly refreshed: RoleChangeRequest[] = [];
  readonly files: { to: PersonRef; file: HoldersExport }[] = [];
  announceError: Error | undefined;
  refreshError: Error | undefined;
  #n = 0;
  async announce(channel: string, req: RoleChangeRequest): Promise<MessageRef> {
    if (this.announceError) throw this.announceError;
    this.posted.push(req);
    return { channel, ts: `1700000000.${String(++this.#n).padStart(6, '0')}` };
  }
  /** Approvers sent a copy of the announcement by DM (policy approverDms), with the request as it was. */
  readonly copies: { to: PersonRef; request: RoleChangeRequest }[] = [];
  copyError: Error | undefined;
  async copyTo(to: PersonRef, req: RoleChangeRequest): Promise<MessageRef> {
    if (this.copyError) throw this.copyError;
    this.copies.push({ to, request: req });
    return { channel: `D${to.id}`, ts: `1700000001.${String(++this.#n).padStart(6, '0')}` };
  }
  async refresh(req: RoleChangeRequest): Promise<void> {
    if (this.refreshError) throw this.refreshError;
    this.refreshed.push(req);
  }
  async sendFile(to: PersonRef, file: HoldersExport): Promise<void> {
    this.files.push({ to, file });
  }
}

/**
 * The ReviewNotifier as the app sees it: every message it was asked to post or update, with the review as it was
 * shown, so a test reads what each message shows now (`shown`); posting can be made to fail.
 */
export class FakeReviewNotifier implements ReviewNotifier {
  readonly headers: { channel: string; review: AccessReview }[] = [];
  readonly batches: { batch: number; review: AccessReview }[] = [];
  readonly summaries: AccessReview[] = [];
  readonly csvs: { review: AccessReview; file: ReviewCsv }[] = [];
  /** What each message (by ts) shows now: the review as last rendered into it. */
  readonly shown = new Map<string, AccessReview>();
  /** Set: posting the header fails with it. */
  postError: Error | undefined;
  /** Set: posting batch number `failBatch` fails with postError. */
  failBatch: number | undefined;
  #n = 0;
  async postHeader(channel: string, review: AccessReview): Promise<MessageRef> {
    if (this.postError && this.failBatch === undefined) throw this.postError;
    this.headers.push({ channel, review });
    const ref = { channel, ts: `1700000001.${String(++this.#n).padStart(6, '0')}` };
    this.shown.set(ref.ts, review);
    return ref;
  }
  async postBatch(review: AccessReview & { header: MessageRef }, batch: number): Promise<MessageRef> {
    if (this.postError && this.failBatch === batch) throw this.postError;
    this.batches.push({ batch, review });
    const ref = { channel: review.header.channel, ts: `1700000001.${String(++this.#n).padStart(6, '0')}` };
    this.shown.set(ref.ts, review);
    return ref;
  }
  async updateHeader(review: AccessReview & { header: MessageRef }): Promise<void> {
    this.shown.set(review.header.ts, review);
  }
  async updateBatch(review: AccessReview & { batches: MessageRef[] }, batch: number): Promise<void> {
    const ref = review.batches[batch];
    if (ref) this.shown.set(ref.ts, review);
  }
  async postSummary(review: AccessReview & { header: MessageRef }): Promise<void> {
    this.summaries.push(review);
  }
  async uploadCsv(review: AccessReview & { header: MessageRef }, file: ReviewCsv): Promise<void> {
    this.csvs.push({ review, file });
  }
}

export interface AppHarness {
  sim: QlikSimulator;
  redis: Redis;
  prefix: string;
  store: RequestStore;
  audit: AuditLog;
  /** The bot's record of what it made principals hold (the store's transitions write it). */
  managed: ManagedHoldings;
  queues: Queues;
  targets: TargetRegistry;
  dir: FakeDirectory;
  notifier: FakeNotifier;
  reviews: ReviewStore;
  reviewNotifier: FakeReviewNotifier;
  app: AccessRequestApp;
  /** The policy file's text the app reads at each decision; a test may change it. */
  policyText: string;
  /** The app's clock: real time unless a test sets it. */
  clock: { now: number | undefined };
  /** Files a request and returns it, failing the test with the refusal's words when it is refused. */
  file(input: Omit<FileInput, 'action'> & { action?: FileInput['action'] }): Promise<RoleChangeRequest>;
  /** Stands in for the approvals and the worker: the request is applied, its grant due to end in an hour. */
  applied(req: RoleChangeRequest): Promise<RoleChangeRequest>;
  pendingBy(userId: string): Promise<RoleChangeRequest[]>;
  auditOf(id: string): Promise<StoredAuditEvent[]>;
  /** Builds another app over the same store, e.g. with other targets. */
  appWith(over: {
    targets?: TargetRegistry;
    reviewMaxHolders?: number;
    reviews?: AccessRequestDeps['reviews'];
  }): AccessRequestApp;
}

/**
 * Registers the hooks for one test file (a fresh directory, notifier, policy and app per test; pending requests
 * cancelled after each) and returns the harness. `extraTenants` adds Qlik tenants (instances) over the same
 * simulator, after the default one.
 */
export function useAppHarness(opts: {
  label: string;
  extraTenants?: string[];
  spaces?: boolean;
  /** Qlik accounts (invites) beside tenant roles; `custom`: the tenant signs people in through its own IdP. */
  accounts?: 'qlik' | 'custom';
}): AppHarness {
  const h = { clock: { now: undefined } } as AppHarness;
  let qlik: QlikClient;

  beforeAll(async () => {
    const tenant = demoTenant();
    tenant.addUser({ name: 'Approver Two', email: 'approver2@corp.example' });
    h.sim = await startQlikSimulator({ tenant });
    // No retries: a Qlik failure injected by a test should be seen at once, not after backoff.
    qlik = new QlikClient({ tenantUrl: h.sim.url, apiKey: h.sim.apiKey, maxRetries: 0 });
    h.targets = new TargetRegistry([
      new QlikRolesTarget({ instance: 'default', qlik }),
      ...(opts.extraTenants ?? []).map((instance) => new QlikRolesTarget({ instance, qlik })),
      // Space roles beside tenant roles, as src/start.ts configures them (a short cache: tests change spaces).
      ...(opts.spaces ? [new QlikSpacesTarget({ instance: 'default', qlik, cacheTtlMs: 0 })] : []),
      ...(opts.accounts
        ? [new QlikAccountTarget({ instance: 'default', qlik, identityProvider: opts.accounts })]
        : []),
    ]);
    h.redis = testRedis();
    h.prefix = uniquePrefix(opts.label);
    h.store = new RequestStore(h.redis, h.prefix);
    h.managed = new ManagedHoldings(h.redis, storeKeys(h.prefix));
    h.audit = new AuditLog(h.redis, h.prefix);
    h.reviews = new ReviewStore(h.redis, h.prefix);
    h.queues = openQueues(h.redis, h.prefix);
  });

  afterAll(async () => {
    await h.queues?.close();
    await qlik?.close();
    await h.sim?.close();
    if (h.redis) {
      await dropPrefix(h.redis, h.prefix);
      await h.redis.quit();
    }
  });

  beforeEach(() => {
    const dir = new FakeDirectory();
    dir.add(U.alice, 'alice', 'alice@corp.example');
    dir.add(U.bob, 'bob', 'bob@corp.example');
    dir.add(U.carol, 'carol', 'carol@corp.example');
    dir.add(U.dan, 'dan', 'dan@corp.example');
    dir.add(U.frank, 'frank', 'frank@corp.example');
    dir.add(U.viktor, 'viktor', 'viktor@corp.example');
    // Slack stores the address as the person typed it; Qlik has it in lower case.
    dir.add(U.approver2, 'approver2', 'Approver2@Corp.Example');
    dir.add(U.noMail, 'nomail');
    h.dir = dir;
    h.notifier = new FakeNotifier();
    h.reviewNotifier = new FakeReviewNotifier();
    h.policyText = BASE_POLICY;
    h.clock.now = undefined;
    h.app = h.appWith({});
  });

  afterEach(async () => {
    h.sim.clearFaults();
    h.clock.now = undefined;
    for (const id of Object.values(U)) {
      for (const r of await h.pendingBy(id)) await h.app.cancel(r.id, slackPerson(id));
    }
  });

  h.appWith = (over) =>
    new AccessRequestApp({
      store: h.store,
      audit: h.audit,
      managed: h.managed,
      queues: h.queues,
      targets: over.targets ?? h.targets,
      directory: slackDirectoryPort(h.dir),
      notifier: h.notifier,
      reviews: over.reviews ?? h.reviews,
      reviewNotifier: h.reviewNotifier,
      ...(over.reviewMaxHolders === undefined ? {} : { reviewMaxHolders: over.reviewMaxHolders }),
      policy: () => parsePolicy(h.policyText),
      requestTtlMs: 24 * H,
      logger: createLogger('silent'),
      now: () => h.clock.now ?? Date.now(),
    });
  h.file = async (input) => {
    const res = await h.app.fileRequest({ action: 'grant', ...input });
    if (!res.ok) throw new Error(`refused: ${JSON.stringify(res)}`);
    return res.request;
  };
  h.applied = async (req) => {
    await h.store.transition(req.id, 'pending', 'approved');
    await h.store.transition(req.id, 'approved', 'applying');
    const t = await h.store.transition(req.id, 'applying', 'applied', {
      result: {
        before: [],
        after: [req.entitlement.name],
        changed: true,
        message: 'done',
        revokeAt: Date.now() + H,
      },
    });
    if (!t.ok) throw new Error('not applied');
    return t.request;
  };
  h.pendingBy = (userId) => h.store.listPendingByRequester(slackPerson(userId));
  h.auditOf = async (id) => {
    const out: StoredAuditEvent[] = [];
    for await (const e of h.audit.since(0)) if (e.requestId === id) out.push(e);
    return out;
  };
  return h;
}
