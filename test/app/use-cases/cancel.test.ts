// Cancel, driven directly: only the requester, only while pending; audited, the message refreshed, nobody notified.
// The app answers with outcomes (codes and the request); the Slack front's words for them are tested in
// test/slack/views.test.ts.
import { describe, expect, it } from 'vitest';
import { jobIds } from '../../../src/queue/queues.ts';
import { P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-cancel' });

describe('cancel', () => {
  it('lets the requester withdraw a pending request: cancelled, audited, its message refreshed, no notice queued', async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
    });
    expect(await h.app.cancel(req.id.toLowerCase(), P.dan)).toEqual({
      ok: true,
      code: 'cancelled',
      request: expect.objectContaining({ id: req.id, state: 'cancelled', cancelledBy: P.dan }),
    });
    expect(h.notifier.refreshed.map((r) => [r.id, r.state])).toEqual([[req.id, 'cancelled']]);
    expect((await h.auditOf(req.id)).map((e) => [e.action, e.actor, e.outcome])).toEqual([
      ['requested', U.dan, 'pending'],
      ['cancelled', U.dan, 'cancelled'],
    ]);
    expect(await h.queues.notifications.getJob(jobIds.notify(req.id, 'decision', ''))).toBeUndefined();
    expect(await h.app.cancel(req.id, P.dan)).toEqual({
      ok: false,
      code: 'not-pending',
      request: expect.objectContaining({ id: req.id, state: 'cancelled' }),
    });
  });

  it('refuses anyone but the requester, and an unknown id', async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
    });
    expect(await h.app.cancel(req.id, P.alice)).toEqual({
      ok: false,
      code: 'not-requester',
      request: expect.objectContaining({ id: req.id, state: 'pending' }),
    });
    expect((await h.store.get(req.id))?.state).toBe('pending');
    expect(await h.app.cancel('r-zzzz', P.dan)).toEqual({
      ok: false,
      code: 'not-found',
      requestId: 'r-zzzz',
    });
  });

  it("keeps the cancellation when the message can't be refreshed", async () => {
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
    });
    h.notifier.refreshError = new Error('channel_not_found');
    expect(await h.app.cancel(req.id, P.dan)).toMatchObject({ ok: true });
    expect((await h.store.get(req.id))?.state).toBe('cancelled');
  });

  it('says when the store could not be reached, and what it was doing', async () => {
    const down = h.appWith({});
    const req = await h.file({
      requester: P.dan,
      who: { kind: 'person', person: { front: 'slack', id: U.frank } },
      roleName: 'Steward',
    });
    const get = h.store.get.bind(h.store);
    h.store.get = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    };
    try {
      expect(await down.cancel(req.id, P.dan)).toEqual({
        ok: false,
        code: 'store-unavailable',
        doing: 'cancelling',
      });
    } finally {
      h.store.get = get;
    }
  });
});
