// The drift check against the real worker, store, Qlik simulator and Slack fake: a grant the bot applied and then
// removed in Qlik by hand, and a role the bot revoked and then given back by hand, are each reported to the
// approval channel once, audited, listed as open, and closed when Qlik agrees again; old changes and unreadable
// principals are left alone, reads stay within the budget, and a report Slack refused is sent at the next run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { storeKeys } from '../../src/store/keys.ts';
import { ManagedHoldings, managedField } from '../../src/store/managed.ts';
import { backfillManaged, checkDrift, type DriftDeps } from '../../src/worker/drift.ts';
import { CHANNEL, createHarness, type Harness, userTarget } from './harness.ts';

let h: Harness;
let managed: ManagedHoldings;

beforeAll(async () => {
  h = await createHarness({ label: 'worker-drift' });
  managed = new ManagedHoldings(h.redis, storeKeys(h.prefix));
  await h.start({ concurrency: 4, drift: { everyMs: 0 } });
});
afterAll(async () => {
  await h?.close();
});

function deps(over: Partial<DriftDeps> = {}): DriftDeps {
  return {
    targets: h.targets,
    managed,
    audit: h.audit,
    notifier: h.notifier,
    logger: createLogger('silent'),
    now: Date.now,
    channelFor: () => CHANNEL,
    ...over,
  };
}

/** A user the bot granted `role` through the worker, applied. */
async function grantedUser(name: string, role: string, durationMs?: number) {
  const user = h.sim.tenant.addUser({ name, email: `${name.toLowerCase()}@corp.example`, roles: [] });
  const req = await h.approved({
    target: userTarget(h.sim, user.id),
    role,
    ...(durationMs === undefined ? {} : { durationMs }),
  });
  await h.waitForState(req.id, 'applied');
  return { user, req };
}

const driftReports = (role: string, who: string) =>
  h.slack.messages.filter(
    (m) =>
      m.channel === CHANNEL &&
      (m.text ?? '').startsWith('Drift:') &&
      JSON.stringify(m.blocks).includes(who) &&
      (m.text ?? '').includes(role),
  );

describe('the drift check', () => {
  it('reports a grant removed in Qlik by hand once, audits it, and closes it when the role is back', async () => {
    const { user, req } = await grantedUser('Rita', 'Steward');
    expect((await checkDrift(deps())).found).toEqual([]);

    h.sim.tenant.removeUserRole(user.id, 'Steward');
    const first = await checkDrift(deps());
    const field = managedField(
      { kind: 'qlik-roles', instance: 'default' },
      h.sim.tenant.roleByName('Steward')!.id,
      {
        kind: 'user',
        id: user.id,
      },
    );
    // Seen once, it may be a change being made right now: a finding only when the next run sees it again.
    expect(first.found).toEqual([field]);
    expect(first.reported).toEqual([]);
    expect(driftReports('Steward', 'Rita')).toHaveLength(0);
    expect((await checkDrift(deps())).reported).toEqual([field]);
    const report = await h.slack.waitFor(
      (m) => m.channel === CHANNEL && driftReports('Steward', 'Rita').includes(m),
    );
    const words = JSON.stringify(report.blocks);
    expect(words).toContain('no longer shows *Steward* for *Rita* (rita@corp.example)');
    expect(words).toContain(req.id);
    expect(words).toContain('removed outside the bot');

    // Once each: the next runs find the same disagreement and say nothing more.
    const again = await checkDrift(deps());
    expect(again).toMatchObject({ found: [], reported: [] });
    await checkDrift(deps());
    expect(driftReports('Steward', 'Rita')).toHaveLength(1);
    expect((await managed.openFindings()).map((f) => f.entry.field)).toContain(field);
    const events = await h.auditOf(req.id);
    expect(events.filter((e) => e.action === 'drift')).toEqual([
      expect.objectContaining({ actor: 'system', outcome: 'removed', role: 'Steward' }),
    ]);

    h.sim.tenant.addUserRole(user.id, 'Steward');
    expect((await checkDrift(deps())).resolved).toEqual([field]);
    expect((await managed.openFindings()).map((f) => f.entry.field)).not.toContain(field);
    // Removed by hand again later: a new finding, reported again.
    h.sim.tenant.removeUserRole(user.id, 'Steward');
    expect((await checkDrift(deps())).found).toEqual([field]);
    expect((await checkDrift(deps())).reported).toEqual([field]);
    expect(driftReports('Steward', 'Rita')).toHaveLength(2);
  });

  it('reports a role the bot revoked that was given back by hand', async () => {
    const user = h.sim.tenant.addUser({ name: 'Ravi', email: 'ravi@corp.example', roles: ['DataAdmin'] });
    const req = await h.approved({ action: 'revoke', target: userTarget(h.sim, user.id), role: 'DataAdmin' });
    await h.waitForState(req.id, 'applied');
    expect((await checkDrift(deps())).found).toEqual([]);
    h.sim.tenant.addUserRole(user.id, 'DataAdmin');
    const out = await checkDrift(deps());
    expect(out.found).toHaveLength(1);
    expect((await checkDrift(deps())).reported).toEqual(out.found);
    const report = await h.slack.waitFor((m) => driftReports('DataAdmin', 'Ravi').includes(m));
    expect(JSON.stringify(report.blocks)).toContain(
      `shows *DataAdmin* for *Ravi* (ravi@corp.example) again, though ${req.id} revoked it`,
    );
  });

  it('reports a time-bound grant removed early, whatever its age, and says when it was to end', async () => {
    const { user } = await grantedUser('Tara', 'Steward', 3_600_000);
    h.sim.tenant.removeUserRole(user.id, 'Steward');
    // Twenty minutes on, with a one-minute window: past the window, but still running, so still compared.
    const later = deps({ now: () => Date.now() + 20 * 60_000 });
    const out = await checkDrift(later, { windowMs: 60_000 });
    expect(out.found).toHaveLength(1);
    expect((await checkDrift(later, { windowMs: 60_000 })).reported).toEqual(out.found);
    const report = await h.slack.waitFor((m) => driftReports('Steward', 'Tara').includes(m));
    expect(JSON.stringify(report.blocks)).toContain('(until');
  });

  it('leaves changes older than the window alone, and reads at most maxReads principals a run', async () => {
    const { user } = await grantedUser('Olga', 'Steward');
    h.sim.tenant.removeUserRole(user.id, 'Steward');
    const later = () => Date.now() + 2 * 86_400_000;
    const old = await checkDrift(deps({ now: later }), { windowMs: 86_400_000 });
    expect(old.found.some((f) => f.endsWith(`user:${user.id}`))).toBe(false);
    const budget = await checkDrift(deps(), { maxReads: 2 });
    expect(budget.checked + budget.failed).toBeLessThanOrEqual(2);
    h.sim.tenant.addUserRole(user.id, 'Steward');
  });

  it('does not count a change the bot records while the read is under way', async () => {
    const { user, req } = await grantedUser('Mid', 'Steward');
    // The bot's revoke of the role lands in Qlik; its record follows a moment later.
    h.sim.tenant.removeUserRole(user.id, 'Steward');
    const field = managedField(
      { kind: 'qlik-roles', instance: 'default' },
      h.sim.tenant.roleByName('Steward')!.id,
      {
        kind: 'user',
        id: user.id,
      },
    );
    const racing = deps({
      managed: new Proxy(managed, {
        get(target, prop, receiver) {
          if (prop === 'get')
            return async (f: string) => {
              const entry = await target.get(f);
              // What the record says by the time the check looks again: the bot's revoke, recorded.
              return f === field && entry
                ? { ...entry, a: 'revoke' as const, r: 'R-ZZZZ', at: entry.at + 1 }
                : entry;
            };
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }),
    });
    expect((await checkDrift(racing)).found).not.toContain(field);
    expect(await managed.finding(field)).toBe(undefined);
    h.sim.tenant.addUserRole(user.id, 'Steward');
    expect(req.id).toMatch(/^R-/);
  });

  it('leaves a principal Qlik cannot be read for to the next run, reporting nothing about it', async () => {
    const { user } = await grantedUser('Gone', 'Steward');
    h.sim.tenant.deleteUser(user.id);
    const out = await checkDrift(deps());
    expect(out.failed).toBeGreaterThanOrEqual(1);
    expect(out.found.some((f) => f.endsWith(`user:${user.id}`))).toBe(false);
  });

  it('sends a report Slack refused at the next run', async () => {
    const { user } = await grantedUser('Sue', 'Steward');
    h.sim.tenant.removeUserRole(user.id, 'Steward');
    // Slack refuses the post (the worker's own notifications share chat.postMessage, so the refusal is the notifier's).
    const refused = deps({
      notifier: {
        reportDrift: () =>
          Promise.reject(
            Object.assign(new Error('An API error occurred: channel_not_found'), {
              data: { error: 'channel_not_found' },
            }),
          ),
      },
    });
    const seen = await checkDrift(refused);
    expect(seen.found).toHaveLength(1);
    const first = await checkDrift(refused);
    expect(first.reported).toEqual([]);
    expect(driftReports('Steward', 'Sue')).toHaveLength(0);
    const second = await checkDrift(deps());
    expect(second.reported).toEqual(seen.found);
    expect(driftReports('Steward', 'Sue')).toHaveLength(1);
    h.sim.tenant.addUserRole(user.id, 'Steward');
    await checkDrift(deps());
  });

  it('the worker runs it on its schedule', async () => {
    const { user } = await grantedUser('Sched', 'Steward');
    h.sim.tenant.removeUserRole(user.id, 'Steward');
    const w = await h.start({ concurrency: 1, drift: { everyMs: 200, channelFor: () => CHANNEL } });
    try {
      await h.slack.waitFor((m) => driftReports('Steward', 'Sched').includes(m), 10_000);
    } finally {
      await w.close(2_000);
      await h.queues.roleChanges.removeJobScheduler('drift-check');
    }
  });
});

describe('the record of requests applied before it existed', () => {
  it('is backfilled once at start, and never over a later change', async () => {
    const { user, req } = await grantedUser('Back', 'Steward');
    const field = managedField(
      { kind: 'qlik-roles', instance: 'default' },
      h.sim.tenant.roleByName('Steward')!.id,
      {
        kind: 'user',
        id: user.id,
      },
    );
    await h.redis.hdel(storeKeys(h.prefix).managed, field);
    const marker = `${h.prefix}:test-backfill-marker`;
    const looked = await backfillManaged({
      store: h.store,
      redis: h.redis,
      markerKey: marker,
      now: Date.now,
    });
    expect(looked).toBeGreaterThan(0);
    expect(await managed.get(field)).toMatchObject({ a: 'grant', r: req.id });
    expect(await backfillManaged({ store: h.store, redis: h.redis, markerKey: marker, now: Date.now })).toBe(
      0,
    );
  });
});
