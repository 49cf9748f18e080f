// Break-glass, driven directly: a grant to oneself under the role's break-glass rule is approved at once (audited
// as break-glass by the person who took it), bounded by the rule's cap (never permanent), and refused in every other
// case: no rule, someone else, not eligible, no reason, too long, a revoke.
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/domain/policy.ts';
import { jobIds } from '../../../src/queue/queues.ts';
import { breakGlassRefusalText } from '../../../src/slack/words.ts';
import { BASE_POLICY, H, P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-break-glass' });

const POLICY = `${BASE_POLICY.trimEnd()}
  DataAdmin:
    approvalsRequired: 2
    breakGlass: { who: [${U.frank}], maxDuration: 2h }
  Steward:
    breakGlass: { who: [${U.frank}], maxDuration: 1h, reasonRequired: false }
`;

const take = (over: Record<string, unknown> = {}) => ({
  requester: P.frank,
  who: { kind: 'me' as const },
  roleName: 'DataAdmin',
  reason: 'INC-4711',
  breakGlass: true,
  ...over,
});

describe('break-glass', () => {
  it('applies at once without approval, time-bound by the rule, audited as break-glass by the taker', async () => {
    h.policyText = POLICY;
    const res = await h.app.fileRequest({ action: 'grant', ...take() });
    if (res.code !== 'filed') throw new Error(JSON.stringify(res));
    expect(res.autoApproved).toBe(true);
    expect(res.request).toMatchObject({ state: 'approved', breakGlass: true, durationMs: 2 * H });
    expect(res.request.nudges).toBeUndefined();
    expect(await h.queues.roleChanges.getJob(jobIds.apply(res.request.id))).toBeDefined();
    const approved = (await h.auditOf(res.request.id)).find((e) => e.action === 'approved');
    expect(approved).toMatchObject({ actor: U.frank, outcome: 'break-glass' });
    expect(approved?.detail).toContain('INC-4711');
    // Announced like any request, so the approvers see it.
    expect(h.notifier.posted.map((r) => r.id)).toContain(res.request.id);
  });

  it('takes a shorter duration as asked, and no reason where the rule does not want one', async () => {
    h.policyText = POLICY;
    const res = await h.app.fileRequest({
      action: 'grant',
      ...take({ roleName: 'Steward', reason: undefined, durationMs: 30 * 60_000 }),
    });
    expect(res).toMatchObject({ code: 'filed', request: { durationMs: 30 * 60_000, breakGlass: true } });
  });

  it.each([
    ['a role with no rule', { roleName: 'SharedSpaceCreator' }, 'not-allowed'],
    ['someone else', { who: { kind: 'person', person: P.dan } }, 'self-only'],
    ['a person the rule does not name', { requester: P.dan }, 'not-eligible'],
    ['no reason', { reason: undefined }, 'reason-required'],
    ['longer than the cap', { durationMs: 3 * H }, 'too-long'],
  ])('refuses %s, filing nothing', async (_what, over, why) => {
    h.policyText = POLICY;
    const res = await h.app.fileRequest({ action: 'grant', ...take(over) });
    expect(res).toMatchObject({ ok: false, code: 'break-glass-refused', why });
    if (res.code === 'break-glass-refused') expect(breakGlassRefusalText(res)).toMatch(/nothing was filed/i);
    expect(await h.pendingBy(U.frank)).toEqual([]);
  });

  it('refuses a revoke', async () => {
    h.policyText = POLICY;
    expect(await h.app.fileRequest({ ...take(), action: 'revoke' })).toMatchObject({
      code: 'break-glass-refused',
      why: 'revoke',
    });
  });

  it('reads the rule from the policy: who, cap, reason; false turns an inherited one off', () => {
    const p = parsePolicy(POLICY);
    expect(p.roles.get('dataadmin')?.breakGlass).toEqual({
      who: [U.frank],
      maxDurationMs: 2 * H,
      reasonRequired: true,
    });
    const q = parsePolicy(
      `approvalChannel: C0APPROVALS\napprovers: [${U.alice}]\nbreakGlass: { who: [${U.frank}], maxDuration: 1h }\nroles:\n  X: { breakGlass: false }\n`,
    );
    expect(q.roles.get('x')?.breakGlass).toBeUndefined();
    expect(q.defaults.breakGlass?.maxDurationMs).toBe(H);
    expect(() => parsePolicy(`${BASE_POLICY}  Y: { breakGlass: { who: [${U.frank}] } }\n`)).toThrow(
      /breakGlass/,
    );
  });
});
