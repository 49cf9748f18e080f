// Access reviews through the app, driven directly: who may open one and over which holders, Keep and Revoke (a real
// revoke request, pending and announced), nobody deciding their own access, one decision per holder however the
// clicks race, closing early and by itself, what each message shows afterwards, the outcome CSV and the audit trail.
import { beforeAll, describe, expect, it } from 'vitest';
import type { AccessReview } from '../../../src/domain/review.ts';
import { verifyChain } from '../../../src/store/audit-chain.ts';
import { P, U, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-review', spaces: true });

/** A role held by more users than one batch message shows (25 direct holders). */
const LONG_ROLE = 'AutomationCreator';

beforeAll(() => {
  // Mixed Case holds it in the demo tenant; 24 more make two batches.
  for (let i = 1; i <= 24; i++)
    h.sim.tenant.addUser({ name: `Bulk ${i}`, email: `bulk${i}@corp.example`, roles: [LONG_ROLE] });
});

/** The CSV's rows by its header (RFC 4180 quoting; enough for these files). */
function parse(csv: Buffer, _opts: { columns: true }): Record<string, string>[] {
  const cells = (line: string) =>
    [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) =>
      m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!,
    );
  const [head, ...lines] = csv.toString('utf8').trimEnd().split('\n');
  const columns = cells(head!);
  return lines.map((l) => Object.fromEntries(cells(l).map((c, i) => [columns[i], c])));
}

async function open(roleName: string, opener = P.alice): Promise<AccessReview> {
  const res = await h.app.openReview({ opener, roleName });
  if (res.code !== 'opened') throw new Error(`not opened: ${JSON.stringify(res)}`);
  return res.review;
}

function indexOf(r: AccessReview, name: string): number {
  const i = r.holders.findIndex((x) => x.name === name);
  if (i < 0) throw new Error(`${name} is not a holder: ${r.holders.map((x) => x.name).join(', ')}`);
  return i;
}

function userByEmail(email: string) {
  const u = h.sim.tenant.usersByEmail(email)[0];
  if (!u) throw new Error(`no user ${email}`);
  return u;
}

/** What the review's messages show now (the fake notifier keeps the review each message was last rendered from). */
function shownMessages(r: AccessReview): AccessReview[] {
  return [r.header!, ...(r.batches ?? [])].map((m) => {
    const shown = h.reviewNotifier.shown.get(m.ts);
    if (!shown) throw new Error(`message ${m.ts} was never shown`);
    return shown;
  });
}

async function reviewEvents(id: string) {
  return (await h.auditOf(id)).map((e) => ({
    action: e.action,
    actor: e.actor,
    outcome: e.outcome,
    detail: e.detail,
  }));
}

describe('opening a review', () => {
  it("snapshots the role's holders and posts the header and one batch to the approval channel", async () => {
    const res = await h.app.openReview({ opener: P.alice, roleName: 'steward' });
    expect(res).toMatchObject({ ok: true, code: 'opened', channel: 'C0APPROVALS' });
    if (res.code !== 'opened') return;
    const r = res.review;
    expect(r.id).toMatch(/^V-[2-9A-HJKMNP-Z]{4}$/);
    expect(r.entitlement.name).toBe('Steward');
    expect(r.holders.map((x) => [x.kind, x.name, x.email]).sort()).toEqual([
      ['user', 'Jamal Haddad', 'jamal@corp.example'],
      ['user', 'Zoë Zhang', 'zoe@corp.example'],
    ]);
    expect(h.reviewNotifier.headers.map((x) => x.channel)).toEqual(['C0APPROVALS']);
    expect(h.reviewNotifier.batches.map((x) => x.batch)).toEqual([0]);
    // One batch needs no CSV; the stored review knows where its messages are.
    expect(h.reviewNotifier.csvs).toEqual([]);
    const stored = await h.reviews.get(r.id);
    expect(stored).toMatchObject({ state: 'open', header: r.header, batches: r.batches, openedBy: P.alice });
    expect(await reviewEvents(r.id)).toEqual([
      { action: 'review-opened', actor: U.alice, outcome: 'open', detail: '2 holders: 2 users, 0 groups' },
    ]);
  });

  it('lists the groups holding the role after its users', async () => {
    const r = await open('DataServicesContributor');
    expect(r.holders.map((x) => `${x.kind}:${x.name}`)).toEqual([
      'user:Tess Tanaka',
      'group:Data Engineering',
    ]);
  });

  it('posts a long list in batches of 20, with the holders as CSV in the thread', async () => {
    const r = await open(LONG_ROLE);
    expect(r.holders).toHaveLength(25);
    expect(h.reviewNotifier.batches.map((x) => x.batch)).toEqual([0, 1]);
    expect(r.batches).toHaveLength(2);
    expect(h.reviewNotifier.csvs).toHaveLength(1);
    const csv = h.reviewNotifier.csvs[0]!.file;
    expect(csv.kind).toBe('holders');
    const rows = parse(csv.csv, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(25);
    expect(rows.find((x) => x.email === 'bulk7@corp.example')).toMatchObject({
      holder: 'Bulk 7',
      kind: 'user',
    });
  });

  it('refuses someone who does not approve the role, an unknown role, and nothing is posted', async () => {
    expect(await h.app.openReview({ opener: P.dan, roleName: 'Steward' })).toEqual({
      ok: false,
      code: 'not-approver',
      role: 'Steward',
    });
    expect(await h.app.openReview({ opener: P.alice, roleName: 'Stewart' })).toMatchObject({
      ok: false,
      code: 'unknown-role',
      suggestions: expect.arrayContaining(['Steward']),
    });
    expect(h.reviewNotifier.headers).toEqual([]);
  });

  it('refuses a role with more holders than REVIEW_MAX_HOLDERS, saying how many', async () => {
    const app = h.appWith({ reviewMaxHolders: 3 });
    const res = await app.openReview({ opener: P.alice, roleName: 'SharedSpaceCreator' });
    expect(res).toMatchObject({ ok: false, code: 'too-many-holders', max: 3, role: 'SharedSpaceCreator' });
    // Every user holding it directly and every group holding it, as the simulator has them.
    const t = h.sim.tenant;
    const roleId = t.roleByName('SharedSpaceCreator')!.id;
    const holders = t.userIdsWithRole(roleId).size + t.groupIdsWithRole(roleId).size;
    expect(res.ok === false && 'count' in res ? res.count : 0).toBe(holders);
    expect(h.reviewNotifier.headers).toEqual([]);
  });

  it('says so for a role nobody holds, and opens nothing', async () => {
    const liam = userByEmail('liam@corp.example');
    h.sim.tenant.setUserRoles(liam.id, []);
    try {
      expect(await h.app.openReview({ opener: P.alice, roleName: 'EmbeddedAnalyticsUser' })).toEqual({
        ok: false,
        code: 'no-holders',
        role: 'EmbeddedAnalyticsUser',
      });
    } finally {
      h.sim.tenant.setUserRoles(liam.id, ['EmbeddedAnalyticsUser']);
    }
    expect(h.reviewNotifier.headers).toEqual([]);
  });

  it('closes a review the chat would not post, and says so', async () => {
    h.reviewNotifier.postError = Object.assign(new Error('An API error occurred: channel_not_found'), {
      data: { ok: false, error: 'channel_not_found' },
    });
    const res = await h.app.openReview({ opener: P.alice, roleName: 'Steward' });
    expect(res).toMatchObject({ ok: false, code: 'not-posted', problem: 'channel_not_found' });
    if (res.code !== 'not-posted') return;
    expect((await h.reviews.get(res.review.id))?.state).toBe('closed');
    expect((await reviewEvents(res.review.id)).map((e) => `${e.action}:${e.outcome}`)).toEqual([
      'review-opened:open',
      'review-closed:not-posted',
    ]);
  });

  it('tells of a Redis outage and posts nothing', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    const app = h.appWith({
      reviews: {
        ...h.reviews,
        create: () => Promise.reject(down),
        get: (id: string) => h.reviews.get(id),
      } as never,
    });
    expect(await app.openReview({ opener: P.alice, roleName: 'Steward' })).toEqual({
      ok: false,
      code: 'store-unavailable',
      doing: 'opening-review',
    });
    expect(h.reviewNotifier.headers).toEqual([]);
  });
});

describe('deciding holders', () => {
  it('keeps a holder once: the second click is told who kept it, and the batch shows it without buttons', async () => {
    const r = await open('Steward');
    const jamal = indexOf(r, 'Jamal Haddad');
    const kept = await h.app.decideReviewHolder({
      reviewId: r.id,
      index: jamal,
      choice: 'keep',
      clicker: P.alice,
    });
    expect(kept).toMatchObject({ ok: true, code: 'kept', closed: false });
    expect(
      await h.app.decideReviewHolder({ reviewId: r.id, index: jamal, choice: 'revoke', clicker: P.bob }),
    ).toMatchObject({
      ok: false,
      code: 'already-decided',
      byYou: false,
      byName: 'alice',
      decision: { choice: 'keep', by: P.alice },
    });
    const [header, batch] = shownMessages(r);
    expect(batch!.decisions[jamal]).toMatchObject({ choice: 'keep', by: P.alice });
    expect(header!.decisions[jamal]).toMatchObject({ choice: 'keep' });
    // Nothing was filed for the second click.
    expect(h.notifier.posted).toEqual([]);
    expect((await reviewEvents(r.id)).map((e) => e.action)).toEqual(['review-opened', 'review-kept']);
  });

  it('files a real revoke request for a Revoke, pending and announced, and closes the review after the last holder', async () => {
    const r = await open('Steward');
    await h.app.decideReviewHolder({
      reviewId: r.id,
      index: indexOf(r, 'Jamal Haddad'),
      choice: 'keep',
      clicker: P.bob,
    });
    const zoe = indexOf(r, 'Zoë Zhang');
    const res = await h.app.decideReviewHolder({
      reviewId: r.id,
      index: zoe,
      choice: 'revoke',
      clicker: P.alice,
    });
    expect(res).toMatchObject({ ok: true, code: 'revoke-requested', alreadyPending: false, closed: true });
    if (res.code !== 'revoke-requested') return;
    const req = await h.store.get(res.requestId);
    expect(req).toMatchObject({
      state: 'pending',
      action: 'revoke',
      requester: P.alice,
      reason: `Access review ${r.id}`,
      entitlement: { name: 'Steward' },
      target: { kind: 'user', email: 'zoe@corp.example' },
    });
    expect(h.notifier.posted.map((x) => x.id)).toEqual([res.requestId]);
    const closed = await h.reviews.get(r.id);
    expect(closed).toMatchObject({
      state: 'closed',
      decisions: { [zoe]: { choice: 'revoke', requestId: res.requestId } },
    });
    expect(closed?.closedBy).toBeUndefined();
    // Closed everywhere, a summary, and the outcome as CSV.
    expect(shownMessages(r).map((x) => x.state)).toEqual(['closed', 'closed']);
    expect(h.reviewNotifier.summaries.map((x) => x.id)).toEqual([r.id]);
    const outcome = h.reviewNotifier.csvs.find((c) => c.file.kind === 'outcome')!;
    const rows = parse(outcome.file.csv, { columns: true }) as Record<string, string>[];
    expect(rows.map((x) => [x.holder, x.decision, x.decided_by, x.request_id]).sort()).toEqual([
      ['Jamal Haddad', 'keep', U.bob, ''],
      ['Zoë Zhang', 'revoke', U.alice, res.requestId],
    ]);
    expect(rows[0]!.decided_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await reviewEvents(r.id)).toEqual([
      { action: 'review-opened', actor: U.alice, outcome: 'open', detail: '2 holders: 2 users, 0 groups' },
      { action: 'review-kept', actor: U.bob, outcome: 'kept', detail: undefined },
      {
        action: 'review-revoke-requested',
        actor: U.alice,
        outcome: 'revoke-requested',
        detail: `revoke request ${res.requestId}`,
      },
      {
        action: 'review-closed',
        actor: 'system',
        outcome: 'all-decided',
        detail: 'kept 1, revoke requested 1, undecided 0 of 2',
      },
    ]);
    // The review's events are links of the one audit chain, like every other event.
    expect((await verifyChain(h.audit.raw())).problem).toBeUndefined();
  });

  it('refuses a decision on your own access, as a user or through a group you are in', async () => {
    const r = await open('SharedSpaceCreator');
    expect(
      await h.app.decideReviewHolder({
        reviewId: r.id,
        index: indexOf(r, 'Bob Brown'),
        choice: 'keep',
        clicker: P.bob,
      }),
    ).toMatchObject({ ok: false, code: 'own-access' });
    const d = await open('DataServicesContributor');
    expect(
      await h.app.decideReviewHolder({
        reviewId: d.id,
        index: indexOf(d, 'Data Engineering'),
        choice: 'keep',
        clicker: P.carol,
      }),
    ).toMatchObject({ ok: false, code: 'own-access', group: 'Data Engineering' });
    // Someone else decides it.
    expect(
      await h.app.decideReviewHolder({
        reviewId: d.id,
        index: indexOf(d, 'Data Engineering'),
        choice: 'keep',
        clicker: P.alice,
      }),
    ).toMatchObject({ ok: true, code: 'kept' });
  });

  it('refuses a clicker who does not approve the role, and a review id nobody has', async () => {
    const r = await open('Steward');
    expect(
      await h.app.decideReviewHolder({ reviewId: r.id, index: 0, choice: 'keep', clicker: P.dan }),
    ).toMatchObject({
      ok: false,
      code: 'not-approver',
    });
    expect(
      await h.app.decideReviewHolder({ reviewId: 'V-2222', index: 0, choice: 'keep', clicker: P.alice }),
    ).toEqual({
      ok: false,
      code: 'review-not-found',
      reviewId: 'V-2222',
    });
    expect(
      await h.app.decideReviewHolder({ reviewId: r.id, index: 99, choice: 'keep', clicker: P.alice }),
    ).toMatchObject({
      ok: false,
      code: 'holder-not-found',
    });
  });

  it('decides a holder once when two approvers click at the same moment, filing at most one revoke', async () => {
    const r = await open('Steward');
    const jamal = indexOf(r, 'Jamal Haddad');
    const results = await Promise.all([
      h.app.decideReviewHolder({ reviewId: r.id, index: jamal, choice: 'revoke', clicker: P.alice }),
      h.app.decideReviewHolder({ reviewId: r.id, index: jamal, choice: 'revoke', clicker: P.bob }),
      h.app.decideReviewHolder({ reviewId: r.id, index: jamal, choice: 'keep', clicker: P.carol }),
    ]);
    expect(results.filter((x) => x.ok)).toHaveLength(1);
    expect(results.filter((x) => !x.ok).map((x) => x.code)).toEqual(['already-decided', 'already-decided']);
    expect(h.notifier.posted.length).toBeLessThanOrEqual(1);
    const decided = (await reviewEvents(r.id)).filter((e) => e.action !== 'review-opened');
    expect(decided).toHaveLength(1);
  });

  it('leaves a holder undecided when the revoke is refused, so it can be decided again', async () => {
    const r = await open('Steward');
    const jamal = indexOf(r, 'Jamal Haddad');
    const user = userByEmail('jamal@corp.example');
    // Someone removed the role in Qlik after the review opened: there is nothing to revoke.
    h.sim.tenant.setUserRoles(user.id, []);
    try {
      const res = await h.app.decideReviewHolder({
        reviewId: r.id,
        index: jamal,
        choice: 'revoke',
        clicker: P.alice,
      });
      expect(res).toMatchObject({ ok: false, code: 'revoke-refused', refusal: { code: 'not-held' } });
      expect((await h.reviews.get(r.id))?.decisions[jamal]).toBeUndefined();
      expect(
        await h.app.decideReviewHolder({ reviewId: r.id, index: jamal, choice: 'keep', clicker: P.alice }),
      ).toMatchObject({ ok: true, code: 'kept' });
    } finally {
      h.sim.tenant.setUserRoles(user.id, ['Steward']);
    }
  });
});

describe('reviewing a space role', () => {
  it("reviews a role in a space and files the revoke for that space's role", async () => {
    const res = await h.app.openReview({
      opener: P.alice,
      roleName: 'Can view',
      resource: { kind: 'space', name: 'finance reports' },
    });
    expect(res).toMatchObject({ ok: true, code: 'opened', channel: 'C0APPROVALS' });
    if (res.code !== 'opened') return;
    const r = res.review;
    const space = h.sim.tenant.spaceByName('Finance Reports')!;
    expect(r.targetRef).toEqual({
      kind: 'qlik-spaces',
      instance: 'default',
      resource: { kind: 'space', id: space.id, name: 'Finance Reports' },
    });
    // As who-has lists them: the space's owner (who holds every role there) too.
    expect(r.holders.map((x) => `${x.kind}:${x.name}`)).toEqual([
      'user:Dan Dubois',
      'user:Ingrid Johansson',
      'group:Finance',
    ]);
    // The owner's roles come with owning the space: nothing to revoke, and the holder stays undecided.
    expect(
      await h.app.decideReviewHolder({ reviewId: r.id, index: 0, choice: 'revoke', clicker: P.bob }),
    ).toMatchObject({ ok: false, code: 'revoke-refused', refusal: { code: 'owner' } });
    expect((await h.reviews.get(r.id))?.decisions[0]).toBeUndefined();
    const revoked = await h.app.decideReviewHolder({
      reviewId: r.id,
      index: 1,
      choice: 'revoke',
      clicker: P.bob,
    });
    expect(revoked).toMatchObject({ ok: true, code: 'revoke-requested' });
    if (revoked.code !== 'revoke-requested') return;
    expect(await h.store.get(revoked.requestId)).toMatchObject({
      state: 'pending',
      action: 'revoke',
      entitlement: { name: 'consumer' },
      targetRef: { kind: 'qlik-spaces', resource: { name: 'Finance Reports' } },
    });
  });

  it('refuses a space nobody has that name, as who-has does', async () => {
    expect(
      await h.app.openReview({
        opener: P.alice,
        roleName: 'consumer',
        resource: { kind: 'space', name: 'Nope' },
      }),
    ).toMatchObject({ ok: false, code: 'resource-refused', refusal: { code: 'no-such-resource' } });
  });
});

describe('closing a review', () => {
  it('closes early for an approver: undecided listed, no button anywhere, later clicks refused', async () => {
    const r = await open(LONG_ROLE);
    await h.app.decideReviewHolder({ reviewId: r.id, index: 0, choice: 'keep', clicker: P.alice });
    expect(await h.app.closeReview(r.id, P.dan)).toMatchObject({ ok: false, code: 'not-approver' });
    const res = await h.app.closeReview(r.id, P.bob);
    expect(res).toMatchObject({ ok: true, code: 'closed', review: { state: 'closed', closedBy: P.bob } });
    expect(shownMessages(r).map((x) => x.state)).toEqual(['closed', 'closed', 'closed']);
    expect(h.reviewNotifier.summaries).toHaveLength(1);
    const rows = parse(h.reviewNotifier.csvs.find((c) => c.file.kind === 'outcome')!.file.csv, {
      columns: true,
    }) as Record<string, string>[];
    expect(rows.filter((x) => x.decision === 'undecided')).toHaveLength(24);
    expect(await h.app.closeReview(r.id, P.alice)).toMatchObject({ ok: false, code: 'review-closed' });
    expect(
      await h.app.decideReviewHolder({ reviewId: r.id, index: 3, choice: 'keep', clicker: P.alice }),
    ).toMatchObject({
      ok: false,
      code: 'review-closed',
    });
    expect((await reviewEvents(r.id)).at(-1)).toEqual({
      action: 'review-closed',
      actor: U.bob,
      outcome: 'closed-early',
      detail: 'kept 1, revoke requested 0, undecided 24 of 25',
    });
  });
});
