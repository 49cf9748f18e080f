// Owns telling people about an outcome, through the Notifier port (src/app/notifier.ts) and whichever chat
// implements it: which messages an event sends (the request's messages updated to its state, a reply where it was
// announced, private notes to the requester, to the person who received the role and, for a failed revoke, to
// whoever pressed), and keeping every copy of a result truthful: each message that offers a grant's actions is
// recorded, and updated to its final state when the grant ends or an Extend takes it over. It only reads the
// request — it never touches the target system — so a chat failure retried by BullMQ can never re-run a role
// change. Each step is recorded once the chat accepted it, so a retry after a partial failure sends only what is
// missing; a reply is marked before it is posted, so a retry after the chat accepted it but the answer was lost
// asks the chat to find it instead of posting twice. Every message sent is added to the request's messages (by the
// store, atomically), marked when it offers the grant's actions; copies that versions before that list recorded in
// the worker's own `copies` hash are still read, so they are updated too.

import type { Recipient, RequestEvent } from '../app/notifier.ts';
import { ACCOUNT_KIND } from '../domain/policy.ts';
import {
  announcementOf,
  type MessageRef,
  messagesWithButtons,
  type PersonRef,
  personFromKey,
  type RequestMessage,
  type RoleChangeRequest,
  sameMessage,
  samePerson,
  targetOf,
} from '../domain/request.ts';
import type { NotifyJob } from '../queue/queues.ts';
import { MARKER_TTL_SECONDS, RetryLaterError, type WorkerContext } from './context.ts';
import { readRevokeFailure } from './revoke-grant.ts';

export type NotifyStep = 'refresh' | 'thread' | 'dm' | 'dm-target' | 'dm-actor' | 'copies';

export interface NotifyOutcome {
  sent: NotifyStep[];
  skipped: NotifyStep[];
}

type Ctx = Pick<WorkerContext, 'store' | 'notifier' | 'redis' | 'keys' | 'logger'>;

/**
 * Which messages an event sends. Decisions (denied, expired, cancelled) get no reply where the request was
 * announced — nothing happened — and reach the requester only. Outcomes also tell the person who received the role
 * (a user whose chat id is known; a group's members are not told: the target system's group is not a chat
 * audience) and bring older copies up to date.
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
  const event = await requestEvent(ctx, job, req.id);
  // The failure this job is about was superseded by a later one (or the grant ended): the later job tells.
  if (event === undefined) return out;
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
    const did = await send(ctx, req, event, step, marker);
    // Recorded only after the chat accepted it: a crash in between repeats one message rather than losing it
    // (a reply is then found by the chat instead of posted again).
    await ctx.redis.set(marker, String(Date.now()), 'EX', MARKER_TTL_SECONDS);
    (did ? out.sent : out.skipped).push(step);
  }
  // Last, and outside the marked steps: a Home is redrawn from the state, so one refresh too many is harmless.
  await homesChanged(ctx, (await ctx.store.get(req.id)) ?? req);
  ctx.logger.debug({ requestId: req.id, event: occurrence, ...out }, 'notified');
  return out;
}

/**
 * Tells the front the request changed, for the people's personal views (App Home). Never fails the job: the
 * messages it sent must not be sent again for a Home, which is redrawn at its next change or opening anyway.
 */
export async function homesChanged(
  ctx: Pick<WorkerContext, 'notifier' | 'logger'>,
  req: RoleChangeRequest,
): Promise<void> {
  try {
    await ctx.notifier.homesChanged?.(req);
  } catch (err) {
    ctx.logger.warn(
      { requestId: req.id, err: err instanceof Error ? err.message : String(err) },
      'could not schedule the App Home refresh',
    );
  }
}

/**
 * The job's event as the Notifier hears it; a failed revoke with what was recorded about it, or undefined when the
 * failure recorded now is a later one than the job's.
 */
async function requestEvent(ctx: Ctx, job: NotifyJob, requestId: string): Promise<RequestEvent | undefined> {
  if (job.event !== 'revoke-failed')
    return { kind: job.event, ...(job.seq === undefined ? {} : { seq: job.seq }) };
  const failure = await readRevokeFailure(ctx, requestId);
  if (failure === undefined || failure.seq !== job.seq) return undefined;
  const { message, at, actor, trigger, seq } = failure;
  const recorded = failure.failure === undefined ? {} : { failure: failure.failure };
  return { kind: 'revoke-failed', seq, failure: { ...recorded, message, at, actor, trigger } };
}

/** The person who received the role, when they are a chat user other than the requester. */
function targetUser(req: RoleChangeRequest): PersonRef | undefined {
  if (req.target.kind !== 'user') return undefined;
  const person = req.target.person;
  return person !== undefined && !samePerson(person, req.requester) ? person : undefined;
}

/**
 * True when the message offers the grant's live actions (Extend / Revoke now), so it must be kept up to date when
 * the grant ends or is extended.
 */
function carriesButtons(req: RoleChangeRequest, event: RequestEvent): boolean {
  // An invite's result has no live actions: an account is not ended from the chat.
  return (
    event.kind === 'result' &&
    req.state === 'applied' &&
    req.action === 'grant' &&
    targetOf(req).kind !== ACCOUNT_KIND
  );
}

/** How many times a refresh shows a request again that moved on while the update was on its way. */
const MAX_REFRESH_ROUNDS = 3;

/**
 * Refreshes the request's messages, then reads it again: an update the chat held back (a rate limit waited out, a
 * retry) can land after a later state's own update (a quick Revoke now after "applied"), which would leave the
 * message showing the older state, with live buttons, for good. When the state moved on meanwhile, the messages are
 * shown again as the request is now, without this job's event (the later state's own job tells its own).
 */
async function refreshAsItIs(ctx: Ctx, req: RoleChangeRequest, event: RequestEvent): Promise<void> {
  let shown = req;
  let ev: RequestEvent | undefined = event;
  for (let round = 0; round < MAX_REFRESH_ROUNDS; round++) {
    await ctx.notifier.refresh(shown, ev);
    const now = await ctx.store.get(req.id).catch(() => undefined);
    if (now === undefined || now.state === shown.state) return;
    shown = now;
    ev = undefined;
  }
}

/** Sends one step; false when there was nobody to send it to. */
async function send(
  ctx: Ctx,
  req: RoleChangeRequest,
  event: RequestEvent,
  step: NotifyStep,
  marker: string,
): Promise<boolean> {
  switch (step) {
    case 'refresh':
      await refreshAsItIs(ctx, req, event);
      return true;
    case 'thread': {
      const ref = await postResultOnce(ctx, req, event, marker);
      if (ref) await recordMessage(ctx, req, event, ref, { kind: 'result' });
      return ref !== undefined;
    }
    case 'dm':
      return tell(ctx, req, event, { ...req.requester, as: 'requester' });
    case 'dm-target': {
      const user = targetUser(req);
      return user === undefined ? false : tell(ctx, req, event, { ...user, as: 'target' });
    }
    case 'dm-actor': {
      // The actor is recorded as the audit stream writes it (a personKey, or `system` for the bot's own revoke).
      const actor = event.kind === 'revoke-failed' ? event.failure.actor : undefined;
      if (actor === undefined || actor === 'system') return false;
      const person = personFromKey(actor);
      if (samePerson(person, req.requester) || samePerson(person, targetUser(req))) return false;
      return tell(ctx, req, event, { ...person, as: 'actor' });
    }
    case 'copies': {
      // An Extend's result: the grant it took over now points to it. An ending: this grant's own copies.
      const extendedFrom = event.kind === 'result' ? req.result?.extended?.from : undefined;
      if (extendedFrom === undefined) return updateCopies(ctx, req);
      const earlier = await ctx.store.get(extendedFrom);
      return earlier ? updateCopies(ctx, earlier) : false;
    }
  }
}

/**
 * Posts the reply where the request was announced once, even when the chat accepted an earlier post whose answer
 * was lost (or the process died before the marker): a "posting" mark is set before the post, and when it is found
 * the chat is asked for the earlier reply first.
 */
async function postResultOnce(
  ctx: Ctx,
  req: RoleChangeRequest,
  event: RequestEvent,
  marker: string,
): Promise<MessageRef | undefined> {
  if (!announcementOf(req)) return undefined;
  const posting = `${marker}:posting`;
  const since = await ctx.redis.get(posting);
  if (since !== null) {
    const found = await ctx.notifier.findResult(req, event);
    if (found) {
      ctx.logger.info(
        { requestId: req.id, step: 'thread' },
        'thread reply already posted; not posting again',
      );
      return found;
    }
    // An attempt began posting moments ago and its reply has not shown yet: after a Redis restart the job can run
    // twice at once (its lock lost, the first run still posting). Come back once that post had time to land.
    const age = Date.now() - Number(since);
    if (Number.isFinite(age) && age >= 0 && age < POSTING_GRACE_MS)
      throw new RetryLaterError(POSTING_GRACE_MS - age, 'another attempt is posting this thread reply');
  }
  await ctx.redis.set(posting, String(Date.now()), 'EX', MARKER_TTL_SECONDS);
  try {
    return await ctx.notifier.postResult(req, event);
  } catch (err) {
    // This attempt is over (refused, or its answer lost): the next one looks the reply up and posts without waiting.
    await ctx.redis.set(posting, 'ended', 'EX', MARKER_TTL_SECONDS).catch(() => undefined);
    throw err;
  }
}

/** How long a thread reply another attempt started posting is given to show before this one posts it. */
const POSTING_GRACE_MS = 10_000;

/** Tells one person privately; not looked up before a retry, so a lost answer can repeat one message. */
async function tell(
  ctx: Ctx,
  req: RoleChangeRequest,
  event: RequestEvent,
  recipient: Recipient,
): Promise<boolean> {
  const ref = await ctx.notifier.tell(recipient, req, event);
  await recordMessage(ctx, req, event, ref, { kind: 'dm', recipient: recipient.id });
  return true;
}

/**
 * Adds a message just sent to the request's messages (a chat that gave no ts gave nothing to find it by). When it
 * offers the grant's actions, the grant may have ended (or been extended) while it was being posted, after the step
 * that updates copies ran: then it is brought up to date at once. The list is appended before the state is read
 * and the step that updates copies reads the list after the state moved, so one of the two always sees the other.
 */
async function recordMessage(
  ctx: Ctx,
  req: RoleChangeRequest,
  event: RequestEvent,
  ref: MessageRef,
  what: { kind: RequestMessage['kind']; recipient?: string },
): Promise<void> {
  if (!ref.ts) return;
  const buttons = carriesButtons(req, event);
  await ctx.store.addMessage(req.id, {
    front: ctx.notifier.front,
    kind: what.kind,
    channel: ref.channel,
    ts: ref.ts,
    ...(what.recipient === undefined ? {} : { recipient: what.recipient }),
    ...(buttons ? { carriesButtons: true } : {}),
  });
  if (!buttons) return;
  const now = await ctx.store.get(req.id);
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
 * took over a pointer to the extension; neither offers live actions. A grant still live keeps its actions. A copy
 * the chat no longer has is skipped; any other failure fails the step, so BullMQ retries it (updates are
 * idempotent) — never the role change.
 */
async function updateCopies(ctx: Ctx, subject: RoleChangeRequest): Promise<boolean> {
  const supersededBy = await supersedingRequest(ctx, subject);
  if (subject.state === 'applied' && supersededBy === undefined) return false; // still live: buttons stay
  const copies = await copiesOf(ctx, subject.id);
  if (copies.length === 0) return false;
  const opts = supersededBy === undefined ? {} : { supersededBy };
  for (const ref of copies) {
    let updated: boolean;
    try {
      updated = await ctx.notifier.updateResult(ref, subject, opts);
    } catch (err) {
      ctx.logger.warn(
        { requestId: subject.id, ...ref, err: err instanceof Error ? err.message : String(err) },
        'could not update a copy of the result; will retry',
      );
      throw err;
    }
    if (!updated)
      ctx.logger.warn({ requestId: subject.id, ...ref }, 'a copy of the result is gone; not updated');
  }
  return true;
}

/**
 * Where the request's result was posted with the grant's actions: its messages as the store has them now (a copy
 * recorded by a step running at the same time included), and those a version before the request's list recorded in
 * the worker's `copies` hash (read, never written: it expires with its TTL). Each message once.
 */
async function copiesOf(ctx: Ctx, requestId: string): Promise<MessageRef[]> {
  const now = await ctx.store.get(requestId);
  const copies: MessageRef[] = now
    ? messagesWithButtons(now).map(({ channel, ts }) => ({ channel, ts }))
    : [];
  for (const raw of await ctx.redis.hvals(ctx.keys.copies(requestId))) {
    const ref = JSON.parse(raw) as MessageRef;
    if (!copies.some((c) => sameMessage(c, ref))) copies.push({ channel: ref.channel, ts: ref.ts });
  }
  return copies;
}
