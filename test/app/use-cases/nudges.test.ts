// Reminders and escalation from the app's side, driven directly: filing schedules a pending request's reminder and
// escalation from its rule (none for one that approves itself, none past its expiry), any decision removes them,
// and the fallback approvers may decide the request only once it escalated.
import { describe, expect, it } from 'vitest';
import { nudgesOf } from '../../../src/app/use-cases/file-request.ts';
import { parsePolicy } from '../../../src/domain/policy.ts';
import { jobIds } from '../../../src/queue/queues.ts';
import { BASE_POLICY, H, P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-nudges' });

const POLICY = `${BASE_POLICY.trimEnd()}
  Steward: { remindAfter: 2h, escalateAfter: 6h, fallbackApprovers: [${U.viktor}] }
  DataAdmin: { remindAfter: off }
  SharedSpaceCreator: { autoApprove: true }
`;

const steward = (roleName = 'Steward') => ({
  requester: P.dan,
  who: { kind: 'person' as const, person: P.frank },
  roleName,
});

describe('reminders and escalation when filing', () => {
  it('schedules the reminder and the escalation the rule asks for, as delayed jobs', async () => {
    h.policyText = POLICY;
    const before = Date.now();
    const req = await h.file(steward());
    expect(req.nudges?.remindAt).toBeGreaterThanOrEqual(before + 2 * H);
    expect(req.nudges?.escalateAt).toBeGreaterThanOrEqual(before + 6 * H);
    const remind = await h.queues.roleChanges.getJob(jobIds.nudge(req.id, 'reminder'));
    const escalate = await h.queues.roleChanges.getJob(jobIds.nudge(req.id, 'escalation'));
    expect(await remind?.getState()).toBe('delayed');
    expect(remind?.opts.delay).toBeGreaterThan(2 * H - 60_000);
    expect(escalate?.opts.delay).toBeGreaterThan(6 * H - 60_000);
  });

  it('schedules nothing that is turned off, or for a request that approves itself', async () => {
    h.policyText = POLICY;
    const off = await h.file(steward('DataAdmin'));
    expect(off.nudges).toBeUndefined();
    expect(await h.queues.roleChanges.getJob(jobIds.nudge(off.id, 'reminder'))).toBeUndefined();
    const auto = await h.file(steward('SharedSpaceCreator'));
    expect(auto.state).toBe('approved');
    expect(auto.nudges).toBeUndefined();
  });

  it('leaves out what would fall after the request expires, and reads the defaults (4 h, no escalation)', () => {
    const rule = parsePolicy(POLICY).roles.get('steward')!;
    expect(nudgesOf(rule, 0, 24 * H)).toEqual({ remindAt: 2 * H, escalateAt: 6 * H });
    expect(nudgesOf(rule, 0, 3 * H)).toEqual({ remindAt: 2 * H });
    expect(nudgesOf(rule, 0, H)).toBeUndefined();
    expect(nudgesOf(parsePolicy(BASE_POLICY).defaults, 0, 24 * H)).toEqual({ remindAt: 4 * H });
  });

  it('removes both jobs on a decision', async () => {
    h.policyText = POLICY;
    const req = await h.file(steward());
    expect((await h.app.deny(req.id, P.alice)).ok).toBe(true);
    expect(await h.queues.roleChanges.getJob(jobIds.nudge(req.id, 'reminder'))).toBeUndefined();
    expect(await h.queues.roleChanges.getJob(jobIds.nudge(req.id, 'escalation'))).toBeUndefined();
    const other = await h.file(steward());
    expect((await h.app.cancel(other.id, P.dan)).ok).toBe(true);
    expect(await h.queues.roleChanges.getJob(jobIds.nudge(other.id, 'reminder'))).toBeUndefined();
  });

  it('lets the fallback approvers decide only once the request escalated', async () => {
    h.policyText = POLICY;
    const req = await h.file(steward());
    expect(await h.app.approve(req.id, P.viktor)).toMatchObject({ ok: false, code: 'not-approver' });
    expect((await h.store.get(req.id))?.state).toBe('pending');
    await h.store.transition(req.id, 'pending', 'pending', {
      escalation: { at: Date.now(), to: [U.viktor] },
    });
    expect(await h.app.approve(req.id, P.viktor)).toMatchObject({ ok: true, code: 'approved' });
    expect(await h.queues.roleChanges.getJob(jobIds.nudge(req.id, 'escalation'))).toBeUndefined();
  });
});
