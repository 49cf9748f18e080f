// Owns access reviews (`/qlik review <role> [in space:"…"] [on <tenant>]`, SPEC §9): an approver of the role opens
// one over the role's holders as they are now (every direct user, and the groups holding it), it is posted to the
// role's approval channel, the role's approvers Keep or Revoke each holder (a revoke is a normal revoke request,
// filed in the clicker's name, that then goes through approval and the worker), and it closes when every holder is
// decided or an approver closes it early, with a summary and the outcome as CSV. Every decision is the review
// store's once-only write, re-checked at the click (an approver, not the holder, the review still open), so double
// clicks and two approvers at once decide a holder once. It answers with outcomes the front words
// (src/slack/review-words.ts); the messages are the ReviewNotifier's (src/app/review-notifier.ts).
import { approvalChannelOf } from '../../domain/policy.ts';
import type { MessageRef } from '../../domain/request.ts';
import {
  describeTarget,
  type PersonRef,
  personKey,
  type ResourceRef,
  samePerson,
  type TargetRef,
  type WhoRef,
} from '../../domain/request.ts';
import {
  type AccessReview,
  allDecided,
  batchCount,
  batchIndexes,
  DEFAULT_REVIEW_MAX_HOLDERS,
  REVIEW_BATCH_SIZE,
  REVIEW_ID_PATTERN,
  type ReviewChoice,
  type ReviewDecision,
  type ReviewHolder,
} from '../../domain/review.ts';
import type { AccessTarget, EntitlementRef } from '../../targets/types.ts';
import type { AppContext } from '../context.ts';
import { StoreUnavailableError } from '../errors.ts';
import type { Failure, ResourceRefused, UnknownInstance, UnknownRole } from '../outcomes.ts';
import type { PersonLookup } from '../ports.ts';
import { holdersCsv, outcomeCsv } from '../review-csv.ts';
import { resolveTarget } from '../targets.ts';
import { errSummary, slackError } from '../words.ts';
import { type FileOutcome, fileRequest } from './file-request.ts';

export interface OpenReviewInput {
  opener: PersonRef;
  roleName: string;
  /** The tenant as typed (`on <tenant>`); the default one when absent. */
  instance?: string;
  /** The resource the role is in, as typed (`in space:"…"`). */
  resource?: { kind: string; name: string };
}

/** What the words need to name the role reviewed: its name, the resource it is in. */
interface RoleNamed {
  role: string;
  resource?: ResourceRef;
}

export type OpenReviewOutcome =
  /** Stored and posted to `channel` (header, batches, and the holders' CSV when there is more than one batch). */
  | { ok: true; code: 'opened'; review: AccessReview; channel: string }
  /** Stored, but the chat refused to post it (`problem`, its error code): the review was closed at once. */
  | { ok: false; code: 'not-posted'; review: AccessReview; channel: string; problem: string }
  | UnknownInstance
  | UnknownRole
  | ResourceRefused
  /** Only an approver of the role may open a review of it. Nothing was opened. */
  | ({ ok: false; code: 'not-approver' } & RoleNamed)
  /** More holders than one review takes (REVIEW_MAX_HOLDERS). Nothing was opened. */
  | ({ ok: false; code: 'too-many-holders'; count: number; max: number } & RoleNamed)
  /** Nobody holds it directly (users or groups); `viaGroups` users get it through groups. Nothing was opened. */
  | ({ ok: false; code: 'no-holders' } & RoleNamed)
  | Failure;

/** Why a click on a review did nothing. */
export type ReviewRefusal =
  | { ok: false; code: 'review-not-found'; reviewId: string }
  /** The review is closed; `review` says when and by whom. */
  | { ok: false; code: 'review-closed'; review: AccessReview }
  /** Only the role's approvers decide (or close) a review of it. */
  | { ok: false; code: 'not-approver'; review: AccessReview };

export type DecideReviewOutcome =
  /** Kept. `closed` when that was the last holder (the review closed by itself). */
  | { ok: true; code: 'kept'; review: AccessReview; holder: ReviewHolder; closed: boolean }
  /**
   * A revoke request was filed in the clicker's name (`alreadyPending`: one was pending already, and is the one
   * recorded); it goes through the normal approval flow.
   */
  | {
      ok: true;
      code: 'revoke-requested';
      review: AccessReview;
      holder: ReviewHolder;
      requestId: string;
      alreadyPending: boolean;
      approvalChannel?: string;
      postProblem?: string;
      closed: boolean;
    }
  | ReviewRefusal
  /** Nobody reviews their own access (`group`: a group the clicker is in). Nothing recorded. */
  | { ok: false; code: 'own-access'; review: AccessReview; holder: ReviewHolder; group?: string }
  /** The clicker's chat profile or account couldn't be read, so their own access can't be ruled out. */
  | { ok: false; code: 'self-unknown'; review: AccessReview; problem?: string }
  /** Someone decided this holder first (or is filing its revoke: `decision.filing`). Nothing recorded. */
  | {
      ok: false;
      code: 'already-decided';
      review: AccessReview;
      holder: ReviewHolder;
      decision: ReviewDecision;
      byYou: boolean;
      byName?: string;
    }
  /** A user the system lists without an email can't be named in a revoke request. Nothing recorded. */
  | { ok: false; code: 'no-email'; review: AccessReview; holder: ReviewHolder }
  /** The revoke request was refused (`refusal` says why); the holder stays undecided. */
  | {
      ok: false;
      code: 'revoke-refused';
      review: AccessReview;
      holder: ReviewHolder;
      refusal: Exclude<FileOutcome, { code: 'filed' | 'duplicate' }>;
    }
  | { ok: false; code: 'holder-not-found'; review: AccessReview }
  | Failure;

export type CloseReviewOutcome =
  /** Closed now; `postProblem` when the summary could not be posted. */
  { ok: true; code: 'closed'; review: AccessReview; postProblem?: string } | ReviewRefusal | Failure;

/** `/qlik review <role>`. */
export function openReview(ctx: AppContext, input: OpenReviewInput): Promise<OpenReviewOutcome> {
  return ctx.guard('opening-review', async (): Promise<OpenReviewOutcome> => {
    const chosen = ctx.target(input.instance, input.resource?.kind);
    if (!chosen.ok) return chosen;
    const target = chosen.target;
    const role = await ctx.entitlement(target, input.roleName, input.resource);
    if (!role.ok) return role;
    const entitlement = role.entitlement;
    const resource = entitlement.resource;
    const named: RoleNamed = { role: entitlement.name, ...(resource === undefined ? {} : { resource }) };
    const targetRef: TargetRef = {
      kind: target.kind,
      instance: target.instance,
      ...(resource === undefined ? {} : { resource }),
    };
    if (
      !(await ctx.isApprover(
        { entitlement: { id: entitlement.id, name: entitlement.name }, targetRef },
        input.opener,
      ))
    )
      return { ok: false, code: 'not-approver', ...named };
    const max = ctx.deps.reviewMaxHolders ?? DEFAULT_REVIEW_MAX_HOLDERS;
    const summary = await target.holdersSummary(entitlement);
    const count = summary.direct.total + summary.groups.total;
    if (count > max) return { ok: false, code: 'too-many-holders', count, max, ...named };
    const holders = await readHolders(target, entitlement, summary.resume, max);
    if (holders === 'over') return { ok: false, code: 'too-many-holders', count: max + 1, max, ...named };
    const groups = summary.groups.first.slice(0, Math.max(0, max - holders.length));
    for (const g of groups) holders.push({ kind: 'group', id: g.name, name: g.name });
    if (holders.length === 0) return { ok: false, code: 'no-holders', ...named };
    const now = ctx.now();
    const review = await ctx.db(() =>
      ctx.deps.reviews.create(
        {
          entitlement,
          targetRef,
          openedBy: input.opener,
          openedAt: now,
          holders,
          groupsLeftOut: summary.groups.total - groups.length,
          batchSize: REVIEW_BATCH_SIZE,
        },
        {
          time: now,
          actor: personKey(input.opener),
          action: 'review-opened',
          role: entitlement.name,
          ...(resource === undefined ? {} : { target: `${resource.kind} ${resource.name}` }),
          outcome: 'open',
          detail: holdersDetail(holders),
        },
      ),
    );
    const channel = approvalChannelOf(ctx.policy, target.instance);
    const posted = await post(ctx, review, channel);
    if (posted.ok) return { ok: true, code: 'opened', review: posted.review, channel };
    // Half a review would leave approvers with buttons for some holders only: it is closed, and the opener told.
    await ctx.db(() =>
      ctx.deps.reviews.close(review, personKey(input.opener), ctx.now(), {
        time: ctx.now(),
        actor: personKey(input.opener),
        action: 'review-closed',
        role: entitlement.name,
        outcome: 'not-posted',
      }),
    );
    const closed = (await ctx.db(() => ctx.deps.reviews.get(review.id))) ?? review;
    await showAll(ctx, closed);
    return { ok: false, code: 'not-posted', review: closed, channel, problem: posted.problem };
  });
}

/** Every direct user holder, read page by page; `over` as soon as there are more than `max`. */
async function readHolders(
  target: AccessTarget,
  entitlement: EntitlementRef,
  resume: unknown,
  max: number,
): Promise<ReviewHolder[] | 'over'> {
  const out: ReviewHolder[] = [];
  for await (const u of target.holders(entitlement, resume)) {
    if (out.length >= max) return 'over';
    out.push({
      kind: 'user',
      id: u.id,
      name: u.name || u.email || u.id,
      ...(u.email ? { email: u.email } : {}),
      ...(u.status && u.status !== 'active' ? { status: u.status } : {}),
    });
  }
  return out;
}

function holdersDetail(holders: readonly ReviewHolder[]): string {
  const users = holders.filter((h) => h.kind === 'user').length;
  return `${holders.length} holders: ${users} users, ${holders.length - users} groups`;
}

/** Posts the header, every batch in its thread, and for a long list the holders' CSV; where they landed is stored. */
async function post(
  ctx: AppContext,
  review: AccessReview,
  channel: string,
): Promise<{ ok: true; review: AccessReview } | { ok: false; problem: string }> {
  const n = ctx.deps.reviewNotifier;
  let header: MessageRef;
  try {
    header = await n.postHeader(channel, review);
  } catch (err) {
    ctx.log.warn({ err: errSummary(err), reviewId: review.id }, 'could not post the review');
    return { ok: false, problem: slackError(err) };
  }
  await ctx.db(() => ctx.deps.reviews.setMessages(review.id, { header }));
  const withHeader = { ...review, header };
  const batches: MessageRef[] = [];
  try {
    for (let b = 0; b < batchCount(review); b++) {
      batches.push(await n.postBatch(withHeader, b));
      await ctx.db(() => ctx.deps.reviews.setMessages(review.id, { batches }));
    }
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw err;
    ctx.log.warn({ err: errSummary(err), reviewId: review.id }, 'could not post a batch of the review');
    return { ok: false, problem: slackError(err) };
  }
  const posted = { ...withHeader, batches };
  if (batchCount(review) > 1) {
    // A long list is easier to read (and sort) as a file; the buttons stay in the batches.
    await n.uploadCsv(posted, holdersCsv(review)).catch((err: unknown) => {
      ctx.log.warn(
        { err: errSummary(err), reviewId: review.id },
        "could not upload the review's holders CSV",
      );
    });
  }
  return { ok: true, review: posted };
}

/** A button on a review: Keep or Revoke on holder `index`. */
export function decideReviewHolder(
  ctx: AppContext,
  input: { reviewId: string; index: number; choice: ReviewChoice; clicker: PersonRef },
): Promise<DecideReviewOutcome> {
  return ctx.guard('deciding-review', async (): Promise<DecideReviewOutcome> => {
    const { clicker, index } = input;
    const found = await openForClick(ctx, input.reviewId, clicker);
    if (!found.ok) return found;
    const review = found.review;
    const holder = review.holders[index];
    if (holder === undefined) return { ok: false, code: 'holder-not-found', review };
    const own = await ownAccess(ctx, review, holder, clicker);
    if (own) return own;
    const now = ctx.now();
    const decision: ReviewDecision = { choice: input.choice, by: clicker, at: now };
    if (input.choice === 'keep') {
      const res = await ctx.db(() =>
        ctx.deps.reviews.decide(
          review.id,
          index,
          decision,
          decisionAudit(review, holder, clicker, now, 'keep'),
          now,
        ),
      );
      if (res.outcome !== 'recorded') return lost(ctx, review, holder, clicker, res);
      const after = await afterDecision(ctx, review.id, index);
      return { ok: true, code: 'kept', review: after.review, holder, closed: after.closed };
    }
    if (holder.kind === 'user' && holder.email === undefined)
      return { ok: false, code: 'no-email', review, holder };
    // Claimed first, so a second Revoke (or a Keep) waits for this one instead of filing a second request.
    const claimed = await ctx.db(() => ctx.deps.reviews.claimRevoke(review.id, index, decision, now));
    if (claimed.outcome !== 'recorded') return lost(ctx, review, holder, clicker, claimed);
    const who: WhoRef =
      holder.kind === 'user' ? { kind: 'email', email: holder.email! } : { kind: 'group', name: holder.name };
    const resource = review.targetRef.resource;
    let filed: FileOutcome;
    try {
      filed = await fileRequest(ctx, {
        requester: clicker,
        action: 'revoke',
        who,
        roleName: review.entitlement.name,
        reason: `Access review ${review.id}`,
        instance: review.targetRef.instance,
        ...(resource === undefined ? {} : { resource: { kind: resource.kind, name: resource.name } }),
      });
    } catch (err) {
      await release(ctx, review, index, decision);
      throw err;
    }
    if (filed.code !== 'filed' && filed.code !== 'duplicate') {
      await release(ctx, review, index, decision);
      return { ok: false, code: 'revoke-refused', review, holder, refusal: filed };
    }
    const request = filed.code === 'filed' ? filed.request : filed.duplicateOf;
    const final: ReviewDecision = { ...decision, requestId: request.id };
    const at = ctx.now();
    const res = await ctx.db(() =>
      ctx.deps.reviews.finalizeRevoke(
        review.id,
        index,
        decision,
        final,
        decisionAudit(review, holder, clicker, at, 'revoke', request.id),
        at,
      ),
    );
    // Lost only when the claim went stale and another click took the holder over meanwhile: say what it is now.
    if (res.outcome !== 'recorded') return lost(ctx, review, holder, clicker, res);
    const after = await afterDecision(ctx, review.id, index);
    return {
      ok: true,
      code: 'revoke-requested',
      review: after.review,
      holder,
      requestId: request.id,
      alreadyPending: filed.code === 'duplicate',
      ...(filed.code === 'filed' ? { approvalChannel: filed.approvalChannel } : {}),
      ...(filed.code === 'filed' && filed.postProblem !== undefined
        ? { postProblem: filed.postProblem }
        : {}),
      closed: after.closed,
    };
  });
}

/** The Close review button: closes it early, the holders nobody decided listed as undecided. */
export function closeReview(
  ctx: AppContext,
  reviewId: string,
  clicker: PersonRef,
): Promise<CloseReviewOutcome> {
  return ctx.guard('closing-review', async (): Promise<CloseReviewOutcome> => {
    const found = await openForClick(ctx, reviewId, clicker);
    if (!found.ok) return found;
    const closed = await closeNow(ctx, found.review, clicker);
    if (!closed.ok) {
      const now = (await ctx.db(() => ctx.deps.reviews.get(found.review.id))) ?? found.review;
      return { ok: false, code: 'review-closed', review: now };
    }
    return {
      ok: true,
      code: 'closed',
      review: closed.review,
      ...(closed.postProblem === undefined ? {} : { postProblem: closed.postProblem }),
    };
  });
}

/** The review a click is about, open, and the clicker one of its role's approvers (as the policy says now). */
async function openForClick(
  ctx: AppContext,
  reviewId: string,
  clicker: PersonRef,
): Promise<{ ok: true; review: AccessReview } | ReviewRefusal> {
  const id = reviewId.trim().toUpperCase();
  const review = REVIEW_ID_PATTERN.test(id) ? await ctx.db(() => ctx.deps.reviews.get(id)) : undefined;
  if (!review) return { ok: false, code: 'review-not-found', reviewId: id };
  if (review.state !== 'open') return { ok: false, code: 'review-closed', review };
  const req = {
    entitlement: { id: review.entitlement.id, name: review.entitlement.name },
    targetRef: review.targetRef,
  };
  if (!(await ctx.isApprover(req, clicker))) return { ok: false, code: 'not-approver', review };
  return { ok: true, review };
}

/**
 * Refuses a decision on the clicker's own access: their profile email against the holder's, or for a group whether
 * the target says they are in it. Fails closed, as approving a grant does: unreadable means refused.
 */
async function ownAccess(
  ctx: AppContext,
  review: AccessReview,
  holder: ReviewHolder,
  clicker: PersonRef,
): Promise<DecideReviewOutcome | undefined> {
  let me: PersonLookup;
  try {
    me = await ctx.deps.directory.lookupUser(clicker);
  } catch (err) {
    ctx.log.warn({ err: errSummary(err), reviewId: review.id }, "could not read the reviewer's chat profile");
    return { ok: false, code: 'self-unknown', review, problem: slackError(err) };
  }
  if (me.kind !== 'ok') return { ok: false, code: 'self-unknown', review };
  const email = me.email.trim().toLowerCase();
  if (holder.kind === 'user') {
    return holder.email?.trim().toLowerCase() === email
      ? { ok: false, code: 'own-access', review, holder }
      : undefined;
  }
  try {
    const target = ctx.targetOfRequest(review);
    const group = await resolveTarget({ kind: 'group', name: holder.name }, clicker, {
      target,
      directory: ctx.deps.directory,
    });
    // A group gone since the review opened has no members to be; the revoke's own filing says it is gone.
    if (!group.ok) return undefined;
    const p = group.target.principal;
    const inIt = await target.includesPerson({ kind: p.kind, id: p.id, name: p.name }, me.email);
    return inIt ? { ok: false, code: 'own-access', review, holder, group: holder.name } : undefined;
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw err;
    ctx.log.warn(
      { err: errSummary(err), reviewId: review.id },
      'could not tell whether the reviewer is in the group',
    );
    return { ok: false, code: 'self-unknown', review };
  }
}

function decisionAudit(
  review: AccessReview,
  holder: ReviewHolder,
  clicker: PersonRef,
  at: number,
  choice: ReviewChoice,
  requestId?: string,
) {
  return {
    time: at,
    actor: personKey(clicker),
    action: choice === 'keep' ? 'review-kept' : 'review-revoke-requested',
    target: describeTarget(holder),
    role: review.entitlement.name,
    outcome: choice === 'keep' ? 'kept' : 'revoke-requested',
    ...(requestId === undefined ? {} : { detail: `revoke request ${requestId}` }),
  };
}

/** A click that lost: the review closed meanwhile, or someone decided the holder first. */
async function lost(
  ctx: AppContext,
  review: AccessReview,
  holder: ReviewHolder,
  clicker: PersonRef,
  res: Awaited<ReturnType<AppContext['deps']['reviews']['decide']>>,
): Promise<DecideReviewOutcome> {
  if (res.outcome === 'decided') {
    const byYou = samePerson(res.decision.by, clicker);
    const byName = byYou ? undefined : await ctx.personName(res.decision.by);
    return {
      ok: false,
      code: 'already-decided',
      review,
      holder,
      decision: res.decision,
      byYou,
      ...(byName === undefined ? {} : { byName }),
    };
  }
  if (res.outcome === 'closed') {
    const now = (await ctx.db(() => ctx.deps.reviews.get(review.id))) ?? review;
    return { ok: false, code: 'review-closed', review: now };
  }
  return { ok: false, code: 'review-not-found', reviewId: review.id };
}

/** Gives a revoke's claim back: nothing was filed. A failure here leaves the claim to go stale (FILING_STALE_MS). */
async function release(
  ctx: AppContext,
  review: AccessReview,
  index: number,
  claim: ReviewDecision,
): Promise<void> {
  try {
    await ctx.deps.reviews.releaseRevoke(review.id, index, claim, ctx.now());
  } catch (err) {
    ctx.log.warn(
      { err: errSummary(err), reviewId: review.id },
      'could not release a revoke claim; it goes stale',
    );
  }
}

/** After a decision: its batch and the header show it; the last decision closes the review. */
async function afterDecision(
  ctx: AppContext,
  reviewId: string,
  index: number,
): Promise<{ review: AccessReview; closed: boolean }> {
  const review = await ctx.db(() => ctx.deps.reviews.get(reviewId));
  if (!review) throw new Error(`Review ${reviewId} vanished after a decision.`);
  if (review.state === 'open' && allDecided(review)) {
    const closed = await closeNow(ctx, review, undefined);
    if (closed.ok) return { review: closed.review, closed: true };
  }
  await showBatch(ctx, review, Math.floor(index / review.batchSize));
  return { review, closed: false };
}

/** Closes the review (once) and shows it closed everywhere: header, every batch, a summary with the outcome CSV. */
async function closeNow(
  ctx: AppContext,
  review: AccessReview,
  by: PersonRef | undefined,
): Promise<{ ok: true; review: AccessReview; postProblem?: string } | { ok: false }> {
  const now = ctx.now();
  const res = await ctx.db(() =>
    ctx.deps.reviews.close(review, by === undefined ? undefined : personKey(by), now, {
      time: now,
      actor: by === undefined ? 'system' : personKey(by),
      action: 'review-closed',
      role: review.entitlement.name,
      outcome: by === undefined ? 'all-decided' : 'closed-early',
    }),
  );
  if (res.outcome !== 'closed') return { ok: false };
  const closed = (await ctx.db(() => ctx.deps.reviews.get(review.id))) ?? review;
  await showAll(ctx, closed);
  let postProblem: string | undefined;
  if (closed.header) {
    const withHeader = { ...closed, header: closed.header };
    try {
      await ctx.deps.reviewNotifier.postSummary(withHeader);
      await ctx.deps.reviewNotifier.uploadCsv(withHeader, outcomeCsv(closed));
    } catch (err) {
      ctx.log.warn({ err: errSummary(err), reviewId: review.id }, "could not post the review's summary");
      postProblem = slackError(err);
    }
  }
  return { ok: true, review: closed, ...(postProblem === undefined ? {} : { postProblem }) };
}

/** How many times a message is shown again when the review moved on while its update was on the way. */
const MAX_SHOW_ROUNDS = 3;

/**
 * Updates batch `b`'s message and the header. Two clicks in one batch update it at about the same time, and the
 * chat may land the older render last: so once an update landed, the review is read again and shown again when
 * what the message shows has changed meanwhile. A refused update never undoes a recorded decision (logged).
 */
async function showBatch(ctx: AppContext, review: AccessReview, b: number): Promise<void> {
  let shown = review;
  for (let round = 0; round < MAX_SHOW_ROUNDS; round++) {
    await update(ctx, shown, b);
    const now = await ctx.deps.reviews.get(review.id).catch(() => undefined);
    if (now === undefined || sameInBatch(shown, now, b)) return;
    shown = now;
  }
}

function sameInBatch(a: AccessReview, b: AccessReview, batch: number): boolean {
  if (a.state !== b.state) return false;
  if (Object.keys(a.decisions).length !== Object.keys(b.decisions).length) return false;
  return batchIndexes(a, batch).every(
    (i) => JSON.stringify(a.decisions[i]) === JSON.stringify(b.decisions[i]),
  );
}

async function update(ctx: AppContext, review: AccessReview, b: number | undefined): Promise<void> {
  const n = ctx.deps.reviewNotifier;
  try {
    if (review.header) await n.updateHeader({ ...review, header: review.header });
    if (b !== undefined && review.batches?.[b])
      await n.updateBatch({ ...review, batches: review.batches }, b);
  } catch (err) {
    ctx.log.warn({ err: errSummary(err), reviewId: review.id }, "could not update the review's messages");
  }
}

/** Shows every message of the review as it is now (after it closed: no button anywhere). */
async function showAll(ctx: AppContext, review: AccessReview): Promise<void> {
  await update(ctx, review, undefined);
  const batches = review.batches;
  if (!batches) return;
  for (let b = 0; b < batches.length; b++) {
    try {
      await ctx.deps.reviewNotifier.updateBatch({ ...review, batches }, b);
    } catch (err) {
      ctx.log.warn(
        { err: errSummary(err), reviewId: review.id, batch: b },
        'could not update a batch of the review',
      );
    }
  }
}
