// Upgrades lose nothing: what an earlier version left in Redis mid-flight is loaded under a fresh prefix, one fixture
// per describe: v0.1.0 (fixtures/v0.1.0.json, from the code just before the redesign, written by
// scripts/capture-upgrade-fixture.ts) and a12d65d (fixtures/a12d65d.json, the version deployed before the redesign,
// written by scripts/capture-upgrade-fixture-a12d65d.ts from a checkout of that commit). The code under test is
// started on it
// (start('all') of src/main.ts, as an operator would after the upgrade) with the same Qlik roles and Slack messages,
// and every request still under way is run to its end: pending ones approved through their old approval messages,
// queued jobs run, the one past its TTL expired by the reconciler, delayed revokes fired when due. The final states
// (the fixture's manifest), Qlik's roles, the Slack messages and the audit stream (the old events, then the new ones)
// are checked. Where a version wrote fewer records (a12d65d kept no record of where a result's copies are, nor a
// Revoke now claim), what it did write must still carry every request to its end.
//
// Only public entry points: start(), settings, the Slack driver, the store's get(), the audit log's read, and
// BullMQ's own Job API to promote delayed jobs whose time has come on the fake clock.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, start } from '../../src/main.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { demoTenant, type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import {
  listButtons,
  type PostedMessage,
  SlackDriver,
  type SlackFake,
  startSlackFake,
} from '../../src/sandbox/slack-fake/index.ts';
import { loadSettings } from '../../src/settings.ts';
import { AuditLog, type StoredAuditEvent } from '../../src/store/audit-log.ts';
import { RequestStore } from '../../src/store/request-store.ts';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../helpers/redis.ts';
import { readFixture, type UpgradeManifest } from './fixture.ts';
import { restorePrefix } from './redis-snapshot.ts';
import {
  APPROVAL_CHANNEL,
  botEnv,
  type FakeClock,
  installClock,
  SIGNING_SECRET,
  SLACK_FAKE_OPTIONS,
  seedSlackMessages,
  slackUsers,
  U,
  until,
} from './world.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Stream ids of BullMQ: the queue names are part of what an upgrade must keep reading. */
const QUEUE_NAMES = ['role-changes', 'notifications'];

upgradeSuite('v0.1.0', 'v0.1.0 (the code just before the redesign)');
upgradeSuite('a12d65d', 'a12d65d (the version deployed before the redesign)');

/** One fixture (fixtures/<name>.json and its manifest), loaded into the code under test and run to its end. */
function upgradeSuite(name: string, title: string): void {
  describe(`upgrading from ${title} with requests under way`, () => {
    const { fixture, manifest } = readFixture(name);

    const open = manifest.requests.filter((r) => r.next.kind !== 'none');
    const finished = manifest.requests.filter((r) => r.next.kind === 'none');
    const byKind = (kind: string) => manifest.requests.filter((r) => r.next.kind === kind);

    let clock: FakeClock;
    let redis: Redis;
    let prefix: string;
    let sim: QlikSimulator;
    let fake: SlackFake;
    let bot: Running | undefined;
    let driver: SlackDriver;
    let store: RequestStore;
    let audit: AuditLog;
    let queues: Queue[] = [];
    const seeded = new Set<PostedMessage>();
    /** States as the new code reads them from the old records, before it runs anything. */
    const loaded = new Map<string, string | undefined>();

    beforeAll(async () => {
      // The clock goes on from the moment the old version wrote its last record: the upgrade is a restart.
      clock = installClock(fixture.clock.capturedAt + 1_000);
      redis = testRedis();
      prefix = uniquePrefix('upgrade');
      await restorePrefix(redis, fixture.keys, prefix);
      const tenant = demoTenant();
      for (const u of fixture.qlik.users) tenant.setUserRoles(u.id, u.roles);
      sim = await startQlikSimulator({ tenant });
      fake = await startSlackFake({ ...SLACK_FAKE_OPTIONS, users: slackUsers() });
      seedSlackMessages(fake, fixture.slack.messages);
      for (const m of fake.messages) seeded.add(m);
      store = new RequestStore(redis, prefix);
      audit = new AuditLog(redis, prefix);
      queues = QUEUE_NAMES.map((name) => new Queue(name, { connection: redis, prefix }));
      for (const r of manifest.requests) loaded.set(r.id, (await store.get(r.id))?.state);

      const { config, policy } = loadSettings(
        botEnv({
          qlikUrl: sim.url,
          qlikApiKey: sim.apiKey,
          slackApiUrl: fake.apiUrl,
          redisUrl: REDIS_URL,
          prefix,
        }),
      );
      bot = await start('all', config, policy, createLogger('silent'));
      await bot.credentialChecked;
      driver = new SlackDriver({
        eventsUrl: `http://127.0.0.1:${bot.port}/slack/events`,
        signingSecret: SIGNING_SECRET,
        fake,
      });
    }, 30_000);

    afterAll(async () => {
      await bot?.stop(5_000);
      await Promise.all(queues.map((q) => q.close()));
      if (redis) {
        await dropPrefix(redis, prefix);
        await redis.quit();
      }
      await Promise.all([sim?.close(), fake?.close()]);
      clock?.uninstall();
    });

    function stateOf(id: string): Promise<string | undefined> {
      return store.get(id).then((r) => r?.state);
    }

    function waitState(id: string, states: string[]): Promise<string | undefined> {
      return until(
        `${id} to be ${states.join(' or ')}`,
        () => stateOf(id),
        (s) => s !== undefined && states.includes(s),
      );
    }

    /** The approval message the old version posted for a request (it lives on in Slack). */
    function oldApprovalMessage(id: string): PostedMessage {
      const m = [...seeded].find(
        (s) => s.channel === APPROVAL_CHANNEL && !s.thread_ts && (s.text ?? '').includes(id),
      );
      if (!m) throw new Error(`no approval message of ${id} in the fixture`);
      return m;
    }

    /**
     * Hands the worker every delayed job whose time has come on the fake clock (BullMQ would, within its 10 s block
     * timeout). With `sweep`, the next reconcile run too, however far off: a sweep is harmless at any time, and one
     * that happened to run just before the clock moved must not leave the test waiting a minute for the next.
     */
    async function promoteDue(opts: { sweep?: boolean } = {}): Promise<void> {
      for (const q of queues)
        for (const job of await q.getDelayed())
          if (job.timestamp + job.delay <= Date.now() || (opts.sweep && job.name === 'reconcile'))
            await job.promote().catch(() => undefined); // taken meanwhile
    }

    /** Waits for a request's state while the worker is handed what has come due. */
    function waitStateWhileDue(id: string, state: string, opts: { sweep?: boolean } = {}) {
      return until(
        `${id} to be ${state}`,
        async () => {
          await promoteDue(opts);
          return stateOf(id);
        },
        (s) => s === state,
      );
    }

    /** The audit events written since the upgrade (the fixture's stream holds the ones before). */
    async function newEvents(): Promise<StoredAuditEvent[]> {
      const events: StoredAuditEvent[] = [];
      for await (const e of audit.since(0)) events.push(e);
      return events.slice(oldAuditEntries().length);
    }

    function oldAuditEntries(): [string, string[]][] {
      const old = fixture.keys.find((k) => k.key === '{{prefix}}:audit');
      if (old?.type !== 'stream') throw new Error('the fixture has no audit stream');
      return old.value.entries;
    }

    function qlikRoles(email: string): string[] {
      return sim.tenant.userRoleNames(sim.tenant.usersByEmail(email)[0]!.id);
    }

    it('reads every request the old version wrote, in the state it left it', () => {
      for (const r of manifest.requests)
        expect({ id: r.id, state: loaded.get(r.id) }).toEqual({ id: r.id, state: r.state });
      // Every kind of record the fixture is meant to hold is there.
      expect(new Set(manifest.requests.map((r) => r.state))).toEqual(
        new Set(['pending', 'approved', 'applying', 'applied', 'denied', 'failed', 'revoked']),
      );
    });

    it('runs the jobs the old version queued: applies (waiting, and mid-retry), a Revoke now, a notification', async () => {
      await expectOldJobsCompleted(byKind('run'));
      for (const r of byKind('run')) expect(await stateOf(r.id), r.id).toBe(r.endsAs);
    });

    it('counts the approvals given before the upgrade and takes new ones on the old approval messages', async () => {
      for (const r of byKind('approve')) {
        if (r.next.kind !== 'approve') continue;
        const message = oldApprovalMessage(r.id);
        for (const [i, approver] of r.next.by.entries()) {
          const res = await driver.click(approver, message, 'approve');
          expect(res.status).toBe(200);
          // Each approval is recorded (the audit log says so) before the next; the approvals from before the upgrade
          // count, so the request stays pending until the last of those still missing.
          await until(
            `${approver}'s approval of ${r.id} in the audit log`,
            () => newEvents(),
            (es) => es.some((e) => e.requestId === r.id && e.actor === approver),
          );
          if (i < r.next.by.length - 1) expect(await stateOf(r.id)).toBe('pending');
        }
        expect(r.approvals + r.next.by.length).toBe(r.approvalsRequired);
        await waitState(r.id, ['applied']);
      }
    });

    it('expires the pending request past its TTL through the reconciler', async () => {
      const [expiring] = byKind('expire');
      expect(await stateOf(expiring!.id)).toBe('pending');
      clock.advance(15 * MINUTE);
      expect(await waitStateWhileDue(expiring!.id, 'expired', { sweep: true })).toBe('expired');
      // Nobody pressed anything: the system's sweep did it.
      expect(
        (await newEvents()).filter((e) => e.requestId === expiring!.id).map((e) => [e.actor, e.action]),
      ).toEqual([['system', 'expired']]);
    });

    it('fires the delayed revokes when their time comes, including the ones scheduled by the old version', async () => {
      // Nothing ends before its time (a12d65d's 2-minute grant came due while the expiry above moved the clock on;
      // it is run with the others below).
      for (const r of byKind('revoke-due')) {
        const now = await store.get(r.id);
        if ((now?.result?.revokeAt ?? 0) > Date.now()) expect(now?.state, r.id).toBe('applied');
      }
      clock.advance(6 * HOUR);
      for (const r of open)
        expect(await waitStateWhileDue(r.id, r.endsAs), `${r.id} ${r.label}`).toBe(r.endsAs);
      await expectOldJobsCompleted(byKind('revoke-due'));
    });

    it('ends every request as the manifest says, and Qlik shows it', async () => {
      for (const r of manifest.requests)
        expect({ id: r.id, state: await stateOf(r.id) }).toEqual({ id: r.id, state: r.endsAs });
      for (const r of manifest.requests)
        if (r.qlik)
          expect(qlikRoles(r.qlik.email).includes(r.qlik.role), `${r.qlik.email} ${r.qlik.role}`).toBe(
            r.qlik.holds,
          );
    });

    it('updates the old approval messages and leaves finished requests alone in Slack', async () => {
      // The approval message from before the upgrade of every request that moved since now shows its end (a denial
      // the old bot showed already is left as it is).
      for (const r of open.filter((o) => o.state !== o.endsAs)) {
        const m = oldApprovalMessage(r.id);
        await until(
          `the approval message of ${r.id} updated`,
          () => fake.findMessage(m.channel, m.ts)?.updates.length ?? 0,
          (n) => n > 0,
        );
      }
      // Every copy of an ended grant's result the old version posted (thread reply, DMs) lost its buttons: the new
      // version found them through the old version's records of where they are. A version that kept no such record
      // (a12d65d) leaves its copies as they are, buttons and all (it never updated them either): a press on one
      // is answered truthfully further down and changes nothing.
      const stale: { r: (typeof open)[number]; m: PostedMessage }[] = [];
      for (const r of byKind('revoke-due')) {
        const copies = resultCopies(r.id);
        expect(copies.length, `${r.id} result copies in the fixture`).toBeGreaterThan(0);
        if (!fixture.keys.some((k) => k.key === `{{prefix}}:worker:copies:${r.id}`)) {
          stale.push(...copies.map((m) => ({ r, m })));
          continue;
        }
        for (const m of copies)
          expect(
            listButtons(m).map((b) => b.actionId),
            `${r.id} ${m.channel} ${m.ts}`,
          ).toEqual([]);
      }
      const fresh = fake.messages.filter((m) => !seeded.has(m));
      // The old version's delivery markers hold: nothing it had told already is told again.
      const told = new Set(fixture.slack.messages.map((m) => `${m.channel} ${m.text}`));
      expect(fresh.filter((m) => told.has(`${m.channel} ${m.text}`)).map((m) => m.text)).toEqual([]);
      for (const r of finished)
        expect(fresh.filter((m) => (m.text ?? '').includes(r.id)).map((m) => m.text)).toEqual([]);
      // A notification the old bot queued for the worker reached the requester (every request is dan's).
      for (const r of byKind('run'))
        if ('jobs' in r.next && r.next.jobs.some((j) => j.queue === 'notifications'))
          expect(
            fresh.some((m) => m.channel === fake.dmChannelOf(U.dan) && (m.text ?? '').includes(r.id)),
            `${r.id} told to the requester`,
          ).toBe(true);
      // Revoke now on a copy left with its buttons: the grant has ended, so the bot says so and nothing changes.
      for (const { r, m } of stale) {
        const eventsBefore = (await newEvents()).length;
        const before = new Set(fake.messages);
        const res = await driver.click(U.dan, m, 'revoke_now');
        expect(res.status).toBe(200);
        const answer = await fake.waitFor((a) => !before.has(a) && (a.text ?? '').includes(r.id), 15_000);
        expect(answer.text).toContain('so there is nothing to revoke now');
        expect(
          answer.ephemeral || answer.via === 'response_url',
          `${r.id} answered to the presser only`,
        ).toBe(true);
        expect(await stateOf(r.id)).toBe(r.endsAs);
        expect((await newEvents()).length).toBe(eventsBefore);
      }
    });

    it('keeps the old audit events and appends the new ones after them, in order', async () => {
      const oldEntries = oldAuditEntries();
      const events: StoredAuditEvent[] = [];
      for await (const e of audit.since(0)) events.push(e);
      const before = events.slice(0, oldEntries.length);
      expect(before.map((e) => [e.id, e.requestId, e.action])).toEqual(
        oldEntries.map(([id, fields]) => [id, field(fields, 'requestId'), field(fields, 'action')]),
      );
      const after = events.slice(oldEntries.length);
      for (const e of after) expect(e.time).toBeGreaterThanOrEqual(fixture.clock.capturedAt);
      // Finished requests got no new event; every request's history ends with the event of its final state.
      const ids = new Set(after.map((e) => e.requestId));
      for (const r of finished) expect(ids.has(r.id), r.id).toBe(false);
      for (const r of manifest.requests)
        expect(events.filter((e) => e.requestId === r.id).at(-1)?.action, r.id).toBe(r.endsAs);
    });

    /** The copies of a request's result the old version posted with a Revoke now button (thread reply, DMs). */
    function resultCopies(id: string): PostedMessage[] {
      return [...seeded]
        .filter((m) => m.thread_ts !== undefined || m.channel.startsWith('D'))
        .filter((m) =>
          fixture.slack.messages.some(
            (o) =>
              o.ts === m.ts &&
              o.channel === m.channel &&
              (o.text ?? '').includes(id) &&
              listButtons(o).some((b) => b.actionId === 'revoke_now'),
          ),
        );
    }

    /** The jobs the old version queued for these requests all ran to completion: the new worker took them as they were. */
    async function expectOldJobsCompleted(requests: UpgradeManifest['requests']): Promise<void> {
      for (const r of requests)
        for (const j of 'jobs' in r.next ? r.next.jobs : []) {
          const q = queues[QUEUE_NAMES.indexOf(j.queue)]!;
          const state = await until(
            `job ${j.queue}/${j.id} of ${r.id}`,
            async () => (await q.getJob(j.id))?.getState(),
            (s) => s === 'completed',
          );
          expect(state, j.id).toBe('completed');
        }
    }
  });
}

function field(fields: string[], name: string): string | undefined {
  const i = fields.findIndex((f, j) => j % 2 === 0 && f === name);
  return i < 0 ? undefined : fields[i + 1];
}
