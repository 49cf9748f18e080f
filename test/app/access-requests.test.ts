// AccessRequestApp driven directly, without Slack HTTP: the real request store, audit log and queues in Redis
// (own prefix), the Qlik simulator through the real client, and small in-memory stand-ins for the two Slack ports
// (the directory and the notifier), so a test can make Slack fail exactly where it wants.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AccessRequestApp,
  type DirectoryPort,
  type FileInput,
  type NotifierPort,
} from '../../src/app/access-requests.ts';
import { parsePolicy } from '../../src/domain/policy.ts';
import type { MessageRef, RoleChangeRequest } from '../../src/domain/request.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { QlikClient } from '../../src/qlik/index.ts';
import { openQueues, type Queues } from '../../src/queue/queues.ts';
import { demoTenant, type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import type { SlackUserLookup } from '../../src/slack/directory.ts';
import { approvalMessage, requestFiledMessage, whoHasMessage, whoisMessage } from '../../src/slack/views.ts';
import { AuditLog } from '../../src/store/audit-log.ts';
import { RequestStore } from '../../src/store/request-store.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

const H = 3_600_000;
const CHANNEL = 'C0APPROVALS';
const U = {
  alice: 'U0ALICE',
  bob: 'U0BOB',
  carol: 'U0CAROL', // approver, and a member of the Qlik group Data Engineering
  dan: 'U0DAN',
  frank: 'U0FRANK',
  viktor: 'U0VIKTOR',
  approver2: 'U0APPROVER2',
  noMail: 'U0NOMAIL', // approver whose profile has no email
} as const;

const BASE_POLICY = `
approvalChannel: ${CHANNEL}
approvers: [${U.alice}, ${U.bob}, ${U.carol}, ${U.approver2}, ${U.noMail}]
roles:
  TenantAdmin: { approvalsRequired: 2, reasonRequired: true, maxDuration: 4h }
  AuditAdmin: { requestable: false }
`;

/** The Slack directory as the app sees it: profiles by id, and a lookup by email that can be made to fail. */
class FakeDirectory implements DirectoryPort {
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
function slackApiError(code: string): Error {
  return Object.assign(new Error(`An API error occurred: ${code}`), {
    code: 'slack_webapi_platform_error',
    data: { ok: false, error: code },
  });
}

class FakeAnnouncer implements NotifierPort {
  readonly posted: RoleChangeRequest[] = [];
  #n = 0;
  async announce(channel: string, req: RoleChangeRequest): Promise<MessageRef> {
    this.posted.push(req);
    return { channel, ts: `1700000000.${String(++this.#n).padStart(6, '0')}` };
  }
  async refresh(): Promise<void> {}
  async sendFile(): Promise<void> {}
}

let sim: QlikSimulator;
let qlik: QlikClient;
let redis: Redis;
let prefix: string;
let store: RequestStore;
let audit: AuditLog;
let queues: Queues;
let dir: FakeDirectory;
let announcer: FakeAnnouncer;
let policyText: string;
let app: AccessRequestApp;

beforeAll(async () => {
  const tenant = demoTenant();
  tenant.addUser({ name: 'Approver Two', email: 'approver2@corp.example' });
  sim = await startQlikSimulator({ tenant });
  // No retries: a Qlik failure injected by a test should be seen at once, not after backoff.
  qlik = new QlikClient({ tenantUrl: sim.url, apiKey: sim.apiKey, maxRetries: 0 });
  redis = testRedis();
  prefix = uniquePrefix('app');
  store = new RequestStore(redis, prefix);
  audit = new AuditLog(redis, prefix);
  queues = openQueues(redis, prefix);
});

afterAll(async () => {
  await queues?.close();
  await qlik?.close();
  await sim?.close();
  if (redis) {
    await dropPrefix(redis, prefix);
    await redis.quit();
  }
});

beforeEach(() => {
  dir = new FakeDirectory();
  dir.add(U.alice, 'alice', 'alice@corp.example');
  dir.add(U.bob, 'bob', 'bob@corp.example');
  dir.add(U.carol, 'carol', 'carol@corp.example');
  dir.add(U.dan, 'dan', 'dan@corp.example');
  dir.add(U.frank, 'frank', 'frank@corp.example');
  dir.add(U.viktor, 'viktor', 'viktor@corp.example');
  // Slack stores the address as the person typed it; Qlik has it in lower case.
  dir.add(U.approver2, 'approver2', 'Approver2@Corp.Example');
  dir.add(U.noMail, 'nomail');
  announcer = new FakeAnnouncer();
  policyText = BASE_POLICY;
  app = new AccessRequestApp({
    store,
    audit,
    queues,
    qlik,
    directory: dir,
    notifier: announcer,
    policy: () => parsePolicy(policyText),
    requestTtlMs: 24 * H,
    logger: createLogger('silent'),
  });
});

afterEach(() => {
  sim.clearFaults();
});

/** Files a request and returns it, failing the test with the refusal's words when it is refused. */
async function file(
  input: Omit<FileInput, 'action'> & { action?: FileInput['action'] },
): Promise<RoleChangeRequest> {
  const res = await app.fileRequest({ action: 'grant', ...input });
  if (!res.ok) throw new Error(`refused: ${res.message}`);
  return res.request;
}

async function pendingBy(userId: string): Promise<RoleChangeRequest[]> {
  return store.listPendingByRequester(userId);
}

async function cancelAll(userId: string): Promise<void> {
  for (const r of await pendingBy(userId)) await app.cancel(r.id, userId);
}

afterEach(async () => {
  for (const id of Object.values(U)) await cancelAll(id);
});

describe('self-approval (issue 9 item 2)', () => {
  it("refuses to file a grant by email when Slack can't say who the target is; nothing is filed or posted", async () => {
    dir.emailLookupError = slackApiError('missing_scope');
    const res = await app.fileRequest({
      requesterId: U.dan,
      action: 'grant',
      who: { kind: 'email', email: 'approver2@corp.example' },
      roleName: 'TenantAdmin',
      reason: 'on call',
    });
    expect(res).toEqual({
      ok: false,
      message: expect.stringMatching(
        /couldn't ask Slack who has the email approver2@corp\.example \(missing_scope\).*Nothing was filed/,
      ),
    });
    expect(await pendingBy(U.dan)).toEqual([]);
    expect(announcer.posted).toEqual([]);
  });

  it('files when Slack answers that nobody has the email (the target then has no Slack id)', async () => {
    const req = await file({
      requesterId: U.dan,
      who: { kind: 'email', email: 'a"b@corp.example' },
      roleName: 'Steward',
    });
    expect(req.target).not.toHaveProperty('slackUserId');
  });

  it("refuses the target's own approval by their profile email, even when no Slack id was stored", async () => {
    // As if the lookup by email had found nobody at filing time.
    dir.hiddenEmails.add('approver2@corp.example');
    const req = await file({
      requesterId: U.dan,
      who: { kind: 'email', email: 'approver2@corp.example' },
      roleName: 'TenantAdmin',
      reason: 'on call',
      durationMs: H,
    });
    expect(req.target).not.toHaveProperty('slackUserId');
    // `/qlik requests` doesn't offer it to them to approve, while it does to another approver.
    const listed = await app.listRequests(U.approver2);
    expect(listed.ok && listed.toApprove.map((r) => r.id)).not.toContain(req.id);
    const forBob = await app.listRequests(U.bob);
    expect(forBob.ok && forBob.toApprove.map((r) => r.id)).toContain(req.id);
    const res = await app.approve(req.id, U.approver2);
    expect(res).toEqual({ ok: false, message: expect.stringContaining(`${req.id} grants a role to you`) });
    expect((await store.get(req.id))?.approvals).toEqual([]);
    // Anyone else may approve.
    expect(await app.approve(req.id, U.alice)).toMatchObject({ ok: true });
  });

  it("fails closed when the approver's own profile email can't be read", async () => {
    const req = await file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'Steward',
    });
    dir.infoFails.add(U.bob);
    expect(await app.approve(req.id, U.bob)).toEqual({
      ok: false,
      message: expect.stringMatching(/couldn't read your Slack profile \(ratelimited\).*Nothing changed/),
    });
    expect(await app.approve(req.id, U.noMail)).toEqual({
      ok: false,
      message: expect.stringMatching(/Your Slack profile has no email I can read.*Nothing changed/),
    });
    expect((await store.get(req.id))?.approvals).toEqual([]);
    dir.infoFails.clear();
    expect(await app.approve(req.id, U.bob)).toMatchObject({ ok: true });
  });

  it("refuses a member of the target group, by the member's Qlik groups; fails closed when Qlik can't say", async () => {
    const req = await file({
      requesterId: U.dan,
      who: { kind: 'group', name: 'Data Engineering' },
      roleName: 'Steward',
    });
    expect(await app.approve(req.id, U.carol)).toEqual({
      ok: false,
      message: expect.stringContaining('grants a role to group Data Engineering, and you are a member of it'),
    });
    sim.injectFault({
      method: 'GET',
      path: /^\/api\/v1\/users$/,
      status: 503,
      times: Number.POSITIVE_INFINITY,
    });
    expect(await app.approve(req.id, U.bob)).toEqual({
      ok: false,
      message: expect.stringMatching(
        /couldn't ask Qlik whether you are a member of group Data Engineering.*Nothing changed/,
      ),
    });
    expect((await store.get(req.id))?.approvals).toEqual([]);
    sim.clearFaults();
    expect(await app.approve(req.id, U.bob)).toMatchObject({ ok: true });
  });
});

describe('durations (issue 9 item 6, issue 10 item 1)', () => {
  it('refuses grants shorter than the policy minimum (default 5 minutes), naming it', async () => {
    for (const ms of [1_000, 45_000]) {
      const res = await app.fileRequest({
        requesterId: U.dan,
        action: 'grant',
        who: { kind: 'slack-user', userId: U.frank },
        roleName: 'Steward',
        durationMs: ms,
      });
      expect(res).toEqual({ ok: false, message: expect.stringContaining('no less than 5 minutes') });
    }
    expect(await pendingBy(U.dan)).toEqual([]);
    policyText = `${BASE_POLICY}minDuration: 30s\n`;
    const ok = await file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'Steward',
      durationMs: 45_000,
    });
    expect(ok.durationMs).toBe(45_000);
  });

  it('never files a capped role permanently: no `for …` gets the cap, and the receipt and approval message say so', async () => {
    const req = await file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'TenantAdmin',
      reason: 'x',
    });
    expect(req.durationMs).toBe(4 * H);
    expect((await store.get(req.id))?.durationMs).toBe(4 * H);
    expect(req.notes).toEqual([
      expect.stringContaining('this grant lasts 4 hours: the most TenantAdmin allows'),
    ]);
    const approval = JSON.stringify(approvalMessage(announcer.posted[0]!).blocks);
    expect(approval).toContain('Grant for 4 hours');
    expect(approval).toContain('the most TenantAdmin allows');
    expect(JSON.stringify(requestFiledMessage(req).blocks)).toContain('the most TenantAdmin allows');
    // An uncapped role stays permanent, with no note.
    const steward = await file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'Steward',
    });
    expect(steward.durationMs).toBeUndefined();
    expect(steward.notes).toBeUndefined();
  });

  it('extends with the duration of the original grant', async () => {
    const req = await file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'TenantAdmin',
      reason: 'x',
    });
    // Stand in for the approvals and the worker: the grant is applied.
    await store.transition(req.id, 'pending', 'approved');
    await store.transition(req.id, 'approved', 'applying');
    await store.transition(req.id, 'applying', 'applied');
    const ext = await app.extend(req.id, U.dan);
    expect(ext).toMatchObject({ ok: true });
    if (!ext.ok) return;
    expect(ext.request?.durationMs).toBe(4 * H);
    expect(ext.request?.extends).toBe(req.id);
  });
});

describe('disabled Qlik users (issue 10 item 2)', () => {
  it('refuses a grant to a disabled user by default; the policy may allow it', async () => {
    const res = await app.fileRequest({
      requesterId: U.dan,
      action: 'grant',
      who: { kind: 'slack-user', userId: U.viktor },
      roleName: 'DataSpaceCreator',
    });
    expect(res).toEqual({
      ok: false,
      message: expect.stringMatching(/Viktor Varga's Qlik account is disabled.*nothing was filed/),
    });
    expect(await pendingBy(U.dan)).toEqual([]);
    policyText = `${BASE_POLICY}allowDisabledUsers: true\n`;
    const filed = await file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.viktor },
      roleName: 'DataSpaceCreator',
    });
    expect(filed.target.name).toBe('Viktor Varga');
  });

  it('still files a revoke from a disabled user (taking access away is always allowed)', async () => {
    const req = await file({
      requesterId: U.dan,
      action: 'revoke',
      who: { kind: 'slack-user', userId: U.viktor },
      roleName: 'SharedSpaceCreator',
    });
    expect(req.action).toBe('revoke');
  });

  it('shows the status in who-has and whois', async () => {
    const who = await app.whoHas('SharedSpaceCreator');
    if (!who.ok) throw new Error(who.message);
    expect(who.direct).toContainEqual({
      name: 'Viktor Varga',
      email: 'viktor@corp.example',
      status: 'disabled',
    });
    expect(JSON.stringify(whoHasMessage({ ...who, csvAttached: false }).blocks)).toContain(
      'Viktor Varga (viktor@corp.example) · _disabled_',
    );
    const whois = await app.whois({ kind: 'slack-user', userId: U.viktor }, U.dan);
    if (!whois.ok) throw new Error(whois.message);
    expect(whois.status).toBe('disabled');
    expect(JSON.stringify(whoisMessage(whois).blocks)).toContain('The Qlik account is *disabled*');
    const active = await app.whois({ kind: 'slack-user', userId: U.frank }, U.dan);
    expect(active.ok && JSON.stringify(whoisMessage(active).blocks)).not.toContain('Qlik account is');
  });

  it("answers whois for an email even when Slack can't be asked (it doesn't need the Slack id)", async () => {
    dir.emailLookupError = slackApiError('missing_scope');
    const whois = await app.whois({ kind: 'email', email: 'frank@corp.example' }, U.dan);
    expect(whois).toMatchObject({ ok: true, target: 'Frank Fischer (frank@corp.example)' });
    expect(dir.emailLookups).toEqual([]);
  });
});

describe('wording (issue 10 item 11)', () => {
  it('says "1 more approval" in the singular', async () => {
    const req = await file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'TenantAdmin',
      reason: 'x',
      durationMs: H,
    });
    expect(await app.approve(req.id, U.alice)).toMatchObject({ ok: true });
    const again = await app.approve(req.id, U.alice);
    expect(again).toEqual({
      ok: false,
      message: expect.stringContaining('needs 1 more approval from someone else'),
    });
    expect(again.message).not.toContain('(s)');
  });

  it('says a role is unknown when the audit has nothing for it, with the closest names', async () => {
    const res = await app.auditLog(U.alice, { role: 'ManagedSpaceCreater' });
    expect(res).toEqual({
      ok: false,
      message: expect.stringMatching(
        /Qlik has no role `ManagedSpaceCreater`, and the audit log has no events for it\. Did you mean ManagedSpaceCreator/,
      ),
    });
    expect(await app.auditLog(U.alice, { role: 'NoSuchRoleAtAll' })).toMatchObject({ ok: false });
    // A real role with no events is just an empty answer.
    expect(await app.auditLog(U.alice, { role: 'AutomationCreator' })).toEqual({ ok: true, events: [] });
  });

  it('answers whois for a group without claiming it has no roles through groups', async () => {
    const res = await app.whois({ kind: 'group', name: 'Finance' }, U.dan);
    if (!res.ok) throw new Error(res.message);
    expect(res.kind).toBe('group');
    const text = JSON.stringify(whoisMessage(res));
    expect(text).not.toContain('through groups');
    expect(text).not.toContain('through 0 groups');
    const user = await app.whois({ kind: 'slack-user', userId: U.frank }, U.dan);
    expect(user.ok && user.kind).toBe('user');
  });

  it('notes a direct grant of a role the target already gets through a group', async () => {
    const req = await file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'SharedSpaceCreator',
    });
    expect(req.notes).toEqual([
      'Frank Fischer already gets SharedSpaceCreator through group Finance; a direct grant keeps it if they leave the group.',
    ]);
    expect(JSON.stringify(approvalMessage(announcer.posted.at(-1)!).blocks)).toContain(
      'already gets SharedSpaceCreator through group Finance',
    );
  });
});
