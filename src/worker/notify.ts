// Owns telling Slack about an outcome (SPEC §2–3): the approval message updated to its final state, a reply in its
// thread, DMs to the requester, to the person who received the role and (for a failed revoke) to whoever pressed,
// and keeping every copy of a result truthful: each message that carries a grant's buttons is recorded, and updated
// to its final state without buttons when the grant ends or an Extend takes it over. It only reads the request — it
// never touches Qlik — so a Slack failure retried by BullMQ can never re-run a role change. Each step is recorded
// once it reached Slack, so a retry after a partial failure posts only what is missing; a thread reply carries
// message metadata, so a retry after Slack accepted it but the answer was lost finds it instead of posting twice.
import type { MessageMetadata } from '@slack/types';
import type { MessageRef, RoleChangeRequest } from '../domain/request.ts';
import type { NotifyJob } from '../queue/queues.ts';
import {
  decisionNotice,
  resultMessage,
  revokeFailedMessage,
  revokeFailedNotice,
  type SlackMessage,
} from '../slack/views.ts';
import { MARKER_TTL_SECONDS, type WorkerContext } from './context.ts';
import { type RevokeFailure, readRevokeFailure } from './revoke-grant.ts';

export type NotifyStep = 'refresh' | 'thread' | 'dm' | 'dm-target' | 'dm-actor' | 'copies';

export interface NotifyOutcome {
  sent: NotifyStep[];
  skipped: NotifyStep[];
}

/** The metadata event type of the bot's notifications (Slack: an alphanumeric, human-readable name). */
export const NOTIFY_EVENT_TYPE = 'qab_notify';

type Ctx = Pick<WorkerContext, 'store' | 'messenger' | 'redis' | 'keys' | 'logger'>;

/**
 * Which messages an event sends. Decisions (denied, expired, cancelled) get no thread reply — nothing happened —
 * and reach the requester only. Outcomes also tell the person who received the role (a user whose Slack id is
 * known; a group's members are not told: Qlik's group is not a Slack audience) and bring older copies up to date.
 */
export function stepsFor(event: NotifyJob['event']): NotifyStep[] {
  switch (event) {
    case 'decision':
      return ['refresh', 'dm'];
    case 'revoke-failed':
      return ['refresh', 'thread', 'dm', 'dm-actor', 'dm-target'];
    default:
      return ['refresh', 'thread', 'dm', 'dm-target', 'copies'];
  }
}

export async function notifyOutcome(ctx: Ctx, job: NotifyJob): Promise<NotifyOutcome> {
  const out: NotifyOutcome = { sent: [], skipped: [] };
  const req = await ctx.store.get(job.requestId);
  if (!req) return out;
  const failure = job.event === 'revoke-failed' ? await readRevokeFailure(ctx, req.id) : undefined;
  // The failure this job is about was superseded by a later one (or the grant ended): the later job tells.
  if (job.event === 'revoke-failed' && (failure === undefined || failure.seq !== job.seq)) return out;
  const occurrence = `${job.event}${job.seq === undefined ? '' : `-${job.seq}`}`;
  for (const step of stepsFor(job.event)) {
    if (step === 'refresh' && job.refreshed) {
      out.skipped.push(step);
      continue;
    }
    const marker = ctx.keys.notified(req.id, occurrence, step);
    if ((await ctx.redis.exists(marker)) === 1) {
      out.skipped.push(step);
      continue;
    }
    const did = await send(ctx, req, job, step, failure, marker);
    // Recorded only after Slack accepted it: a crash in between repeats one message rather than losing it
    // (a thread reply is then found by its metadata instead of posted again).
    await ctx.redis.set(marker, String(Date.now()), 'EX', MARKER_TTL_SECONDS);
    (did ? out.sent : out.skipped).push(step);
  }
  ctx.logger.debug({ requestId: req.id, event: occurrence, ...out }, 'notified');
  return out;
}

/** The message a recipient gets for this event. */
function messageFor(
  req: RoleChangeRequest,
  event: NotifyJob['event'],
  failure: RevokeFailure | undefined,
): SlackMessage {
  if (event === 'decision') return decisionNotice(req);
  if (event === 'revoke-failed' && failure) return revokeFailedMessage(req, failure);
  return resultMessage(req);
}

/** The person who received the role, when they are a Slack user other than the requester. */
function targetUser(req: RoleChangeRequest): string | undefined {
  if (req.target.kind !== 'user') return undefined;
  const id = req.target.slackUserId;
  return id !== undefined && id !== req.requesterId ? id : undefined;
}

/** True when the message carries the grant's live buttons (Extend / Revoke now), so it must be kept up to date. */
function carriesButtons(req: RoleChangeRequest, event: NotifyJob['event']): boolean {
  return event === 'result' && req.state === 'applied' && req.action === 'grant';
}

/** Sends one step; false when there was nobody to send it to. */
async function send(
  ctx: Ctx,
  req: RoleChangeRequest,
  job: NotifyJob,
  step: NotifyStep,
  failure: RevokeFailure | undefined,
  marker: string,
): Promise<boolean> {
  const msg = () => messageFor(req, job.event, failure);
  switch (step) {
    case 'refresh':
      await ctx.messenger.refreshApproval(
        req,
        failure && req.state === 'applied' ? { notice: revokeFailedNotice(failure) } : {},
      );
      return true;
    case 'thread': {
      const ref = await postThreadOnce(ctx, req, job, msg(), marker);
      if (ref && carriesButtons(req, job.event)) await recordCopy(ctx, req.id, ref);
      return ref !== undefined;
    }
    case 'dm':
      return dmOnce(ctx, req, job, req.requesterId, msg());
    case 'dm-target': {
      const user = targetUser(req);
      return user === undefined ? false : dmOnce(ctx, req, job, user, msg());
    }
    case 'dm-actor': {
      const actor = failure?.actor;
      if (actor === undefined || actor === 'system' || actor === req.requesterId || actor === targetUser(req))
        return false;
      return dmOnce(ctx, req, job, actor, msg());
    }
    case 'copies': {
      // An Extend's result: the grant it took over now points to it. An ending: this grant's own copies.
      const extendedFrom = job.event === 'result' ? req.result?.extended?.from : undefined;
      if (extendedFrom === undefined) return updateCopies(ctx, req);
      const earlier = await ctx.store.get(extendedFrom);
      return earlier ? updateCopies(ctx, earlier) : false;
    }
  }
}

/**
 * Posts the thread reply once even when Slack accepted an earlier post whose answer was lost (or the process died
 * before the marker): a "posting" mark is set before the post, and when it is found the thread is searched for the
 * reply by its metadata first.
 */
async function postThreadOnce(
  ctx: Ctx,
  req: RoleChangeRequest,
  job: NotifyJob,
  msg: SlackMessage,
  marker: string,
): Promise<MessageRef | undefined> {
  if (!req.approvalMessage) return undefined;
  const metadata = notifyMetadata(req, job, 'thread');
  const posting = `${marker}:posting`;
  if ((await ctx.redis.exists(posting)) === 1) {
    const found = await ctx.messenger.findThreadReply(req, NOTIFY_EVENT_TYPE, metadata.event_payload);
    if (found) {
      ctx.logger.info(
        { requestId: req.id, step: 'thread' },
        'thread reply already posted; not posting again',
      );
      return found;
    }
  }
  await ctx.redis.set(posting, '1', 'EX', MARKER_TTL_SECONDS);
  return ctx.messenger.replyInThread(req, msg, metadata);
}

/**
 * A DM, with the same metadata as the thread reply. Not looked up before a retry: reading DM history needs the
 * im:history scope (every DM with the bot), which the bot does not ask for; a lost answer can repeat one DM.
 */
async function dmOnce(
  ctx: Ctx,
  req: RoleChangeRequest,
  job: NotifyJob,
  userId: string,
  msg: SlackMessage,
): Promise<boolean> {
  const ref = await ctx.messenger.dm(userId, msg, notifyMetadata(req, job, `dm:${userId}`));
  if (carriesButtons(req, job.event) && ref.ts) await recordCopy(ctx, req.id, ref);
  return true;
}

function notifyMetadata(
  req: RoleChangeRequest,
  job: NotifyJob,
  step: string,
): MessageMetadata & { event_payload: Record<string, string | number> } {
  return {
    event_type: NOTIFY_EVENT_TYPE,
    event_payload: {
      request_id: req.id,
      event: job.event,
      step,
      ...(job.seq === undefined ? {} : { seq: job.seq }),
    },
  };
}

/**
 * Remembers a message that carries the grant's buttons. The grant may have ended (or been extended) while it was
 * being posted, after the step that updates copies ran: then this copy is brought up to date at once.
 */
async function recordCopy(ctx: Ctx, requestId: string, ref: MessageRef): Promise<void> {
  await ctx.redis.hset(ctx.keys.copies(requestId), `${ref.channel} ${ref.ts}`, JSON.stringify(ref));
  await ctx.redis.expire(ctx.keys.copies(requestId), MARKER_TTL_SECONDS);
  const now = await ctx.store.get(requestId);
  if (!now) return;
  const supersededBy = await supersedingRequest(ctx, now);
  if (now.state !== 'applied' || supersededBy !== undefined) await updateCopies(ctx, now);
}

/** The Extend that took this applied grant over and was applied, if any. */
async function supersedingRequest(ctx: Ctx, req: RoleChangeRequest): Promise<string | undefined> {
  if (req.state !== 'applied') return undefined;
  return (await ctx.redis.get(ctx.keys.supersededBy(req.id))) ?? undefined;
}

/**
 * Brings every recorded copy of a grant's result up to date: for an ended grant its final state, for one an Extend
 * took over a pointer to the extension; neither has live buttons. A grant still live keeps its buttons. A copy
 * Slack no longer has is skipped; any other failure fails the step, so BullMQ retries it (updates are idempotent)
 * — never the Qlik change.
 */
async function updateCopies(ctx: Ctx, subject: RoleChangeRequest): Promise<boolean> {
  const supersededBy = await supersedingRequest(ctx, subject);
  if (subject.state === 'applied' && supersededBy === undefined) return false; // still live: buttons stay
  const copies = await ctx.redis.hvals(ctx.keys.copies(subject.id));
  if (copies.length === 0) return false;
  const msg = resultMessage(subject, supersededBy === undefined ? {} : { supersededBy });
  for (const raw of copies) {
    const ref = JSON.parse(raw) as MessageRef;
    try {
      await ctx.messenger.update(ref, msg);
    } catch (err) {
      if (slackError(err) === 'message_not_found') {
        ctx.logger.warn({ requestId: subject.id, ...ref }, 'a copy of the result is gone; not updated');
        continue;
      }
      ctx.logger.warn(
        { requestId: subject.id, ...ref, err: err instanceof Error ? err.message : String(err) },
        'could not update a copy of the result; will retry',
      );
      throw err;
    }
  }
  return true;
}

function slackError(err: unknown): string | undefined {
  const data = (err as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}
