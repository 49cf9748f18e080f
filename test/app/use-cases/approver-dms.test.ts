// Approver DMs, driven directly: with the policy's approverDms, each approver the rule lists (Slack users; not the
// requester) gets a copy of the announcement, recorded among the request's messages so every refresh updates it;
// a copy the chat refuses leaves the filing as it was.
import { describe, expect, it } from 'vitest';
import { BASE_POLICY, P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-approver-dms' });

const POLICY = `${BASE_POLICY.trimEnd()}
  Steward: { approvers: [${U.alice}, ${U.bob}, S0GROUP01], approverDms: true }
`;

const steward = (requester = P.dan) => ({
  requester,
  who: { kind: 'person' as const, person: P.frank },
  roleName: 'Steward',
});

describe('approver DMs', () => {
  it('sends each listed approver a copy, recorded as an approval copy', async () => {
    h.policyText = POLICY;
    const req = await h.file(steward());
    expect(h.notifier.copies.map((c) => [c.to.id, c.request.id])).toEqual([
      [U.alice, req.id],
      [U.bob, req.id],
    ]);
    const stored = (await h.store.get(req.id))!;
    expect(stored.messages?.filter((m) => m.kind === 'approval-copy').map((m) => m.recipient)).toEqual([
      U.alice,
      U.bob,
    ]);
  });

  it('sends the requester no copy of their own request, and none without the option', async () => {
    h.policyText = POLICY;
    await h.file(steward(P.alice));
    expect(h.notifier.copies.map((c) => c.to.id)).toEqual([U.bob]);
    h.policyText = BASE_POLICY;
    h.notifier.copies.length = 0;
    await h.file({ ...steward(), roleName: 'DataAdmin' });
    expect(h.notifier.copies).toEqual([]);
  });

  it('files and announces the request when the chat refuses a copy', async () => {
    h.policyText = POLICY;
    h.notifier.copyError = new Error('cannot_dm_bot');
    const res = await h.app.fileRequest({ action: 'grant', ...steward() });
    expect(res).toMatchObject({ ok: true, code: 'filed' });
    if (res.code === 'filed') {
      const stored = (await h.store.get(res.request.id))!;
      expect(stored.messages?.map((m) => m.kind)).toEqual(['announcement']);
    }
  });
});
