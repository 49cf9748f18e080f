// The request form end to end through signed HTTP (the real bot and worker, the Qlik simulator, the Slack fake):
// `/qlik` alone, `/qlik grant` alone, the Request access shortcut and App Home's button open it; its menus are
// answered within Slack's 3 s (from the cache under a slow Qlik); a bad duration comes back inline; a valid form
// files exactly the request `/qlik grant` files, announced the same way; and a form submitted twice files once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleChangeRequest } from '../../src/domain/request.ts';
import type { FakeView } from '../../src/sandbox/slack-fake/index.ts';
import { slackPerson } from '../../src/slack/people.ts';
import { APPROVAL_CHANNEL, allText, type Front, startFront, U } from './slack-front-harness.ts';

let f: Front;
beforeAll(async () => {
  f = await startFront({ label: 'form-e2e', role: 'all' });
});
afterAll(async () => {
  await f?.close();
});

/** Resolves once `pred` holds (checked as the fake records calls), failing after `ms`. */
async function until<T>(what: string, pred: () => T | undefined, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = pred();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Does `act`, then resolves with the request form it opened (a new modal on top of the user's stack). */
async function opens(userId: string, act: () => Promise<unknown>): Promise<FakeView> {
  const before = f.fake.openViews(userId).at(-1);
  await act();
  return until(`${userId}'s request form`, () => {
    const top = f.fake.openViews(userId).at(-1);
    return top && top !== before && top.view.callback_id === 'request_form' ? top : undefined;
  });
}

/** `/qlik` alone as the user: the form it opens. */
function slashForm(userId: string): Promise<FakeView> {
  return opens(userId, () => f.driver.slash(userId, ''));
}

function blockOf(fv: FakeView, blockId: string): Record<string, unknown> {
  const b = fv.view.blocks.find((x) => (x as { block_id?: string }).block_id === blockId);
  if (!b) throw new Error(`no block ${blockId} in ${JSON.stringify(fv.view.blocks)}`);
  return b as Record<string, unknown>;
}

function durationOptions(fv: FakeView): string[] {
  const el = blockOf(fv, 'duration').element as { options: { value: string }[] };
  return el.options.map((o) => o.value);
}

const H = 3_600_000;

/** What makes two requests the same request, whatever front filed them. */
function essence(r: RoleChangeRequest) {
  return {
    action: r.action,
    target: r.target,
    entitlement: r.entitlement,
    requester: r.requester,
    reason: r.reason,
    durationMs: r.durationMs,
    targetRef: r.targetRef,
    approvalsRequired: r.approvalsRequired,
    notes: r.notes,
    state: r.state,
  };
}

describe('opening the form', () => {
  it('/qlik alone opens the form at once, with the person as who and the configured kinds', async () => {
    let res: Awaited<ReturnType<typeof f.driver.slash>> | undefined;
    const form = await opens(U.frank, async () => {
      res = await f.driver.slash(U.frank, '');
    });
    expect(res?.status).toBe(200);
    expect(res?.ackMessage).toBeUndefined();
    expect((blockOf(form, 'who_person').element as { initial_user?: string }).initial_user).toBe(U.frank);
    const kinds = (blockOf(form, 'kind').element as { options: { value: string }[] }).options.map(
      (o) => o.value,
    );
    // Tenant roles and space roles of the one tenant; invites are their own command, Mode is not configured.
    expect(kinds).toEqual(['qlik-roles:default', 'qlik-spaces:default']);
    // Tenant roles need no space.
    expect(form.view.blocks.some((b) => (b as { block_id?: string }).block_id === 'space')).toBe(false);
  });

  it('/qlik grant alone opens it too; /qlik help still answers the help', async () => {
    await opens(U.dan, () => f.driver.slash(U.dan, 'grant'));
    const help = await f.command(U.dan, 'help');
    expect(allText(help)).toContain('commands');
  });

  it('the Request access shortcut opens it', async () => {
    await opens(U.carol, async () => {
      const res = await f.driver.shortcut(U.carol, 'request_access');
      expect(res.status).toBe(200);
    });
  });

  it("App Home's Request access button opens it", async () => {
    // The Home tab is the App Home module's; here a Home with just the agreed button stands in for it.
    f.fake.views.publish({
      user_id: U.bob,
      view: {
        type: 'home',
        blocks: [
          {
            type: 'actions',
            elements: [
              {
                type: 'button',
                action_id: 'open_request_form',
                text: { type: 'plain_text', text: 'Request access' },
              },
            ],
          },
        ],
      },
    });
    await opens(U.bob, () => f.driver.click(U.bob, f.fake.homeView(U.bob)!, 'open_request_form'));
  });

  it('answers with the help through response_url when Slack will not open the form', async () => {
    f.fake.injectError('views.open', 'internal_error');
    const answer = await f.command(U.ghost, '');
    expect(allText(answer)).toContain("couldn't open the request form (Slack said internal_error)");
    expect(allText(answer)).toContain('/qlik grant');
  });
});

describe('filling it in and submitting it', () => {
  it('suggests roles within 3 s, leaving out the ones the policy does not let anyone ask for', async () => {
    const form = await slashForm(U.frank);
    const all = await f.driver.suggest(U.frank, form, 'form_entitlement', '');
    expect(all.failure).toBeUndefined();
    expect(all.ms).toBeLessThan(3_000);
    const names = all.options.map((o) => o.value);
    expect(names).toContain('Steward');
    expect(names).toContain('TenantAdmin');
    expect(names).not.toContain('AuditAdmin'); // requestable: false
    const typed = await f.driver.suggest(U.frank, form, 'form_entitlement', 'stew');
    expect(typed.options.map((o) => o.value)).toEqual(['Steward']);
  });

  it('offers only the durations the chosen role allows, and asks for the reason it needs', async () => {
    const form = await slashForm(U.frank);
    await f.driver.suggest(U.frank, form, 'form_entitlement', 'Tenant');
    const before = form.view.hash;
    const picked = await f.driver.select(U.frank, form, 'entitlement', 'TenantAdmin');
    expect(picked).toMatchObject({ dispatched: true, status: 200 });
    await until('the form to update', () => form.view.hash !== before);
    // TenantAdmin: at most 4 hours, a reason required (DEFAULT_POLICY).
    expect(durationOptions(form).map(Number)).toEqual([15 * 60_000, H, 4 * H]);
    expect(blockOf(form, 'reason').optional).toBe(false);
    expect(JSON.stringify(blockOf(form, 'reason'))).toContain('The policy asks for a reason');
  });

  it('answers a duration the role does not allow with an inline error, and files nothing', async () => {
    const form = await slashForm(U.frank);
    await f.driver.suggest(U.frank, form, 'form_entitlement', 'Tenant');
    // Picked before the form re-rendered for the role: a day is on offer for roles without a cap.
    const res = await f.driver.submit(U.frank, form, {
      kind: 'qlik-roles:default',
      entitlement: 'TenantAdmin',
      duration: String(24 * H),
      reason: 'quarter close',
    });
    expect(res.failure).toBeUndefined();
    expect(res.action).toBe('errors');
    expect(res.ms).toBeLessThan(3_000);
    expect(res.top?.errors).toEqual({
      duration:
        'TenantAdmin can be granted for at most 4 hours, and you asked for 1 day. Pick a shorter duration.',
    });
    expect(await f.store.listPendingByRequester(slackPerson(U.frank))).toEqual([]);
  });

  it('files exactly the request /qlik grant files, announced the same way, with the receipt by DM', async () => {
    // First as the command files it…
    await f.command(U.frank, 'grant me Steward for 4h because quarter close');
    const [byCommand] = await f.store.listPendingByRequester(slackPerson(U.frank));
    expect(byCommand).toBeDefined();
    // The message is live (the cancel below updates it): its words as announced.
    const announced = (await f.approvalMessage(byCommand!.id)).text ?? '';
    await f.command(U.frank, `cancel ${byCommand!.id}`);
    expect(await f.store.listPendingByRequester(slackPerson(U.frank))).toEqual([]);

    // …then through the form.
    const form = await slashForm(U.frank);
    await f.driver.suggest(U.frank, form, 'form_entitlement', 'Stew');
    const res = await f.driver.submit(U.frank, form, {
      kind: 'qlik-roles:default',
      entitlement: 'Steward',
      duration: String(4 * H),
      reason: 'quarter close',
    });
    expect(res.failure).toBeUndefined();
    expect(res.ms).toBeLessThan(3_000);
    expect(res.action).toBe('update');
    const [byForm] = await f.store.listPendingByRequester(slackPerson(U.frank));
    expect(byForm).toBeDefined();
    expect(essence(byForm!)).toEqual(essence({ ...byCommand!, state: 'pending' }));
    // The modal now shows the receipt (no buttons), and the same receipt arrives by DM.
    expect(JSON.stringify(res.top?.view.blocks)).toContain(byForm!.id);
    expect(res.top?.view.submit).toBeNull();
    const dm = await f.fake.waitFor(
      (m) => m.channel === f.fake.dmChannelOf(U.frank) && (m.text ?? '').includes(byForm!.id),
    );
    expect(allText(dm)).toContain('Steward');
    // Announced to the approvers as the command's was: the same words but for the request id.
    const formAnnouncement = await f.approvalMessage(byForm!.id);
    expect(formAnnouncement.channel).toBe(APPROVAL_CHANNEL);
    const words = (m: { text?: string }, id: string) => (m.text ?? '').replaceAll(id, 'R-X');
    expect(words(formAnnouncement, byForm!.id)).toBe(words({ text: announced }, byCommand!.id));
    await f.command(U.frank, `cancel ${byForm!.id}`);
  });

  it('files once when the form is submitted twice, and the second submission says so', async () => {
    const form = await slashForm(U.dan);
    await f.driver.suggest(U.dan, form, 'form_entitlement', 'Stew');
    const values = {
      kind: 'qlik-roles:default',
      who_other: 'frank@corp.example',
      entitlement: 'Steward',
      duration: String(H),
    };
    const [a, b] = await Promise.all([
      f.driver.submit(U.dan, form, values),
      f.driver.submit(U.dan, form, values),
    ]);
    const pending = await f.store.listPendingByRequester(slackPerson(U.dan));
    expect(pending, `${a.body} ${b.body}`).toHaveLength(1);
    expect(pending[0]!.target).toMatchObject({ kind: 'user', name: 'Frank Fischer' });
    const answers = [a, b].map((r) => JSON.stringify(r.body));
    expect(answers.filter((t) => t.includes('already pending'))).toHaveLength(1);
    expect(answers.every((t) => t.includes(pending[0]!.id))).toBe(true);
    await f.command(U.dan, `cancel ${pending[0]!.id}`);
  });

  it('asks for the space of a space role, suggesting the spaces as the person types', async () => {
    const form = await slashForm(U.carol);
    const before = form.view.hash;
    await f.driver.select(U.carol, form, 'kind', 'qlik-spaces:default');
    await until('the space field', () => form.view.hash !== before);
    const spaces = await f.driver.suggest(U.carol, form, 'form_space', 'finance');
    expect(spaces.failure).toBeUndefined();
    expect(spaces.options.map((o) => o.value)).toContain('Finance Reports');
    await f.driver.select(U.carol, form, 'space', 'Finance Reports');
    const roles = await f.driver.suggest(U.carol, form, 'form_entitlement', '');
    expect(roles.options.map((o) => o.value)).toContain('consumer');
    const res = await f.driver.submit(U.carol, form, {
      kind: 'qlik-spaces:default',
      space: 'Finance Reports',
      entitlement: 'consumer',
      duration: String(H),
    });
    expect(res.failure).toBeUndefined();
    const [filed] = await f.store.listPendingByRequester(slackPerson(U.carol));
    expect(filed?.targetRef).toMatchObject({ kind: 'qlik-spaces', resource: { name: 'Finance Reports' } });
    expect(filed?.entitlement.name).toBe('consumer');
    await f.command(U.carol, `cancel ${filed!.id}`);
  });
});

describe('a slow Qlik', () => {
  it('still answers suggestions within 3 s: from the cache, or saying the list is loading', async () => {
    const form = await slashForm(U.alice);
    // Warm: the roles were read a moment ago, so a Qlik taking 5 s per answer is not asked again.
    await f.driver.suggest(U.alice, form, 'form_entitlement', '');
    f.sim.setLatency(5_000);
    try {
      const cached = await f.driver.suggest(U.alice, form, 'form_entitlement', 'Data');
      expect(cached.failure).toBeUndefined();
      expect(cached.ms).toBeLessThan(3_000);
      expect(cached.options.map((o) => o.value)).toContain('DataAdmin');
      // Cold: no space list for this text has been read; the answer says so in time instead of arriving late.
      const before = form.view.hash;
      await f.driver.select(U.alice, form, 'kind', 'qlik-spaces:default');
      await until('the space field', () => form.view.hash !== before);
      const cold = await f.driver.suggest(U.alice, form, 'form_space', 'sales');
      expect(cold.failure).toBeUndefined();
      expect(cold.ms).toBeLessThan(3_000);
      expect(cold.options).toHaveLength(1);
      expect(cold.options[0]!.text.text).toContain('Still loading');
      // Picking that line is refused with a word to pick again, never filed.
      await f.driver.suggest(U.alice, form, 'form_entitlement', '');
      const res = await f.driver.submit(U.alice, form, {
        kind: 'qlik-spaces:default',
        space: '~loading',
        entitlement: 'consumer',
      });
      expect(res.action).toBe('errors');
      expect(res.top?.errors?.space).toContain('still loading');
    } finally {
      f.sim.setLatency(0);
    }
  }, 20_000);
});
