// Cancel, driven directly: only the requester, only while pending; audited, the message refreshed, nobody notified.
import { describe, expect, it } from 'vitest';
import { jobIds } from '../../../src/queue/queues.ts';
import { U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-cancel' });

describe('cancel', () => {
  it('lets the requester withdraw a pending request: cancelled, audited, its message refreshed, no notice queued', async () => {
    const req = await h.file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'Steward',
    });
    expect(await h.app.cancel(req.id.toLowerCase(), U.dan)).toEqual({
      ok: true,
      request: expect.objectContaining({ id: req.id, state: 'cancelled', cancelledBy: U.dan }),
      message: `Cancelled ${req.id}; nothing will change in Qlik.`,
    });
    expect(h.notifier.refreshed.map((r) => [r.id, r.state])).toEqual([[req.id, 'cancelled']]);
    expect((await h.auditOf(req.id)).map((e) => [e.action, e.actor, e.outcome])).toEqual([
      ['requested', U.dan, 'pending'],
      ['cancelled', U.dan, 'cancelled'],
    ]);
    expect(await h.queues.notifications.getJob(jobIds.notify(req.id, 'decision', ''))).toBeUndefined();
    expect(await h.app.cancel(req.id, U.dan)).toEqual({
      ok: false,
      message: `${req.id} is already cancelled, so there is nothing to cancel.`,
    });
  });

  it('refuses anyone but the requester, and an unknown id', async () => {
    const req = await h.file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'Steward',
    });
    expect(await h.app.cancel(req.id, U.alice)).toEqual({
      ok: false,
      message: `Only the person who filed ${req.id} can cancel it; nothing changed.`,
    });
    expect((await h.store.get(req.id))?.state).toBe('pending');
    expect(await h.app.cancel('R-ZZZZ', U.dan)).toMatchObject({
      ok: false,
      message: expect.stringContaining("I can't find request R-ZZZZ"),
    });
  });

  it("keeps the cancellation when the message can't be refreshed", async () => {
    const req = await h.file({
      requesterId: U.dan,
      who: { kind: 'slack-user', userId: U.frank },
      roleName: 'Steward',
    });
    h.notifier.refreshError = new Error('channel_not_found');
    expect(await h.app.cancel(req.id, U.dan)).toMatchObject({ ok: true });
    expect((await h.store.get(req.id))?.state).toBe('cancelled');
  });
});
