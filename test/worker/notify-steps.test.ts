// The notify processor's own bookkeeping, with an in-memory Notifier and no chat at all: which steps each event
// sends and to whom, each step once (the markers in real Redis), a retry after a partial failure sending only what
// is missing, a reply whose answer was lost found instead of posted twice, and the copies of a grant's result
// brought up to date when it ends.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Recipient, RequestEvent } from '../../src/app/notifier.ts';
import { type MessageRef, messagesWithButtons, type RoleChangeRequest } from '../../src/domain/request.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { RequestStore } from '../../src/store/request-store.ts';
import { type ResultNotifier, RetryLaterError } from '../../src/worker/context.ts';
import { workerKeys } from '../../src/worker/keys.ts';
import { notifyOutcome } from '../../src/worker/notify.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

const REQUESTER = 'U0REQ';
const TARGET = 'U0TARGET';
const PRESSER = 'U0PRESSER';
const APPROVER = 'U0APPR';

/** A call the worker made, as the fake chat saw it. */
interface Call {
  method: keyof ResultNotifier;
  requestId: string;
  state: RoleChangeRequest['state'];
  event?: RequestEvent;
  recipient?: Recipient;
  ref?: MessageRef;
  supersededBy?: string;
}

/** Remembers every call; a call can be made to fail, before or after it "reached" the chat. */
class FakeNotifier implements ResultNotifier {
  readonly front = 'slack' as const;
  readonly calls: Call[] = [];
  /** Messages the fake chat holds, by `channel ts`: what a reply lookup finds. */
  readonly posted = new Map<string, { requestId: string; event: string; seq?: number }>();
  readonly gone = new Set<string>();
  #failures: { method: keyof ResultNotifier; after: boolean; who?: string }[] = [];
  #n = 0;

  /** The next call of `method` (to `who`, for tell) throws; `after`: only once the message was posted. */
  failNext(method: keyof ResultNotifier, opts: { after?: boolean; who?: string } = {}): void {
    this.#failures.push({ method, after: opts.after ?? false, ...(opts.who ? { who: opts.who } : {}) });
  }

  #failure(method: keyof ResultNotifier, who?: string): { after: boolean } | undefined {
    const i = this.#failures.findIndex((f) => f.method === method && (f.who === undefined || f.who === who));
    if (i === -1) return undefined;
    return this.#failures.splice(i, 1)[0];
  }

  #ref(channel: string): MessageRef {
    return { channel, ts: `1700000000.${String(++this.#n).padStart(6, '0')}` };
  }

  #post(channel: string, req: RoleChangeRequest, event: RequestEvent, who?: string): MessageRef {
    const failure = this.#failure(who === undefined ? 'postResult' : 'tell', who);
    if (failure && !failure.after) throw new Error('the chat refused');
    const ref = this.#ref(channel);
    this.posted.set(`${ref.channel} ${ref.ts}`, {
      requestId: req.id,
      event: event.kind,
      ...(event.seq === undefined ? {} : { seq: event.seq }),
    });
    if (failure) throw new Error('the answer was lost');
    return ref;
  }

  /** Runs while a refresh is on its way (before the chat answers). */
  whileRefreshing: (() => Promise<void>) | undefined;

  async refresh(req: RoleChangeRequest, event?: RequestEvent): Promise<void> {
    this.calls.push({ method: 'refresh', requestId: req.id, state: req.state, ...(event ? { event } : {}) });
    const during = this.whileRefreshing;
    this.whileRefreshing = undefined;
    await during?.();
    if (this.#failure('refresh')) throw new Error('the chat refused');
  }

  async postResult(req: RoleChangeRequest, event: RequestEvent): Promise<MessageRef | undefined> {
    this.calls.push({ method: 'postResult', requestId: req.id, state: req.state, event });
    return this.#post('C0THREAD', req, event);
  }

  async findResult(req: RoleChangeRequest, event: RequestEvent): Promise<MessageRef | undefined> {
    this.calls.push({ method: 'findResult', requestId: req.id, state: req.state, event });
    for (const [key, m] of this.posted) {
      if (m.requestId !== req.id || m.event !== event.kind || m.seq !== event.seq) continue;
      if (!key.startsWith('C0THREAD ')) continue;
      const [channel, ts] = key.split(' ') as [string, string];
      return { channel, ts };
    }
    return undefined;
  }

  /** Runs while a DM is being posted (before the chat answers). */
  whileTelling: (() => Promise<void>) | undefined;

  async tell(recipient: Recipient, req: RoleChangeRequest, event: RequestEvent): Promise<MessageRef> {
    this.calls.push({ method: 'tell', requestId: req.id, state: req.state, event, recipient });
    await this.whileTelling?.();
    return this.#post(`D-${recipient.id}`, req, event, recipient.id);
  }

  async updateResult(
    ref: MessageRef,
    req: RoleChangeRequest,
    opts: { supersededBy?: string } = {},
  ): Promise<boolean> {
    this.calls.push({
      method: 'updateResult',
      requestId: req.id,
      state: req.state,
      ref,
      ...(opts.supersededBy === undefined ? {} : { supersededBy: opts.supersededBy }),
    });
    if (this.#failure('updateResult')) throw new Error('the chat refused');
    return !this.gone.has(`${ref.channel} ${ref.ts}`);
  }

  /** The calls made, in order, as short strings (a tell says to whom and why). */
  made(): string[] {
    return this.calls.map((c) =>
      c.method === 'tell' ? `tell ${c.recipient?.as} ${c.recipient?.id}` : c.method,
    );
  }
}

let redis: Redis;
let prefix: string;
let store: RequestStore;
let chat: FakeNotifier;

function ctx() {
  return { store, notifier: chat, redis, keys: workerKeys(prefix), logger: createLogger('silent') };
}

beforeAll(() => {
  redis = testRedis();
  prefix = uniquePrefix('notify-steps');
  store = new RequestStore(redis, prefix);
});
afterAll(async () => {
  if (redis) {
    await dropPrefix(redis, prefix);
    await redis.quit();
  }
});
beforeEach(() => {
  chat = new FakeNotifier();
});

let roleN = 0;
/** A grant filed and approved, announced (an approval message recorded), in `state` with what that state carries. */
async function request(
  state: 'applied' | 'denied',
  opts: { targetSlackId?: string; action?: 'grant' | 'revoke' } = {},
): Promise<RoleChangeRequest> {
  const now = Date.now();
  const created = await store.create(
    {
      action: opts.action ?? 'grant',
      target: {
        kind: 'user',
        id: `q-${++roleN}`,
        name: 'Terry Target',
        ...(opts.targetSlackId ? { person: { front: 'slack', id: opts.targetSlackId } } : {}),
      },
      entitlement: { id: `r-${roleN}`, name: 'Steward' },
      requester: { front: 'slack', id: REQUESTER },
      expiresAt: now + 3_600_000,
      approvalsRequired: 1,
    },
    now,
  );
  if (!created.ok) throw new Error('duplicate');
  const id = created.request.id;
  await store.addMessage(id, {
    front: 'slack',
    kind: 'announcement',
    channel: 'C0APPROVAL',
    ts: '1700000000.000001',
  });
  if (state === 'denied') {
    const t = await store.transition(id, 'pending', 'denied', { deniedBy: { front: 'slack', id: APPROVER } });
    if (!t.ok) throw new Error(t.reason);
    return t.request;
  }
  await store.addApproval(id, { front: 'slack', id: APPROVER });
  await store.transition(id, 'approved', 'applying');
  const t = await store.transition(id, 'applying', 'applied', {
    result: { before: [], after: ['Steward'], changed: true, message: '' },
  });
  if (!t.ok) throw new Error(t.reason);
  return t.request;
}

describe('the notify processor with a fake chat', () => {
  it('an applied grant: refreshed, a reply, the requester and the target told, each once', async () => {
    const req = await request('applied', { targetSlackId: TARGET });
    const out = await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    expect(out).toEqual({ sent: ['refresh', 'thread', 'dm', 'dm-target'], skipped: ['copies'] });
    expect(chat.made()).toEqual([
      'refresh',
      'postResult',
      `tell requester ${REQUESTER}`,
      `tell target ${TARGET}`,
    ]);
    expect(chat.calls.every((c) => c.event === undefined || c.event.kind === 'result')).toBe(true);

    // Again: every step is marked, so nothing reaches the chat.
    const again = await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    expect(again).toEqual({ sent: [], skipped: ['refresh', 'thread', 'dm', 'dm-target', 'copies'] });
    expect(chat.calls).toHaveLength(4);
  });

  it('a refresh held back past a later state shows the request again as it is now, live buttons gone', async () => {
    const req = await request('applied', { targetSlackId: TARGET });
    // While the "applied" update is on its way, someone presses Revoke now and the grant ends.
    chat.whileRefreshing = async () => {
      const t = await store.transition(req.id, 'applied', 'revoked', {});
      if (!t.ok) throw new Error(t.reason);
    };
    await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    const refreshes = chat.calls.filter((c) => c.method === 'refresh');
    expect(refreshes.map((c) => c.state)).toEqual(['applied', 'revoked']);
    expect(refreshes[1]?.event).toBeUndefined();
  });

  it('a refresh whose request did not move on is made once', async () => {
    const req = await request('applied');
    await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    expect(chat.calls.filter((c) => c.method === 'refresh')).toHaveLength(1);
  });

  it('a retry after a partial failure sends only what is missing', async () => {
    const req = await request('applied', { targetSlackId: TARGET });
    chat.failNext('tell', { who: TARGET });
    await expect(notifyOutcome(ctx(), { requestId: req.id, event: 'result' })).rejects.toThrow('refused');
    expect(chat.made()).toEqual([
      'refresh',
      'postResult',
      `tell requester ${REQUESTER}`,
      `tell target ${TARGET}`,
    ]);

    chat.calls.length = 0;
    const retry = await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    expect(retry).toEqual({ sent: ['dm-target'], skipped: ['refresh', 'thread', 'dm', 'copies'] });
    expect(chat.made()).toEqual([`tell target ${TARGET}`]);
  });

  it('a reply the chat took but whose answer was lost is looked up, not posted again', async () => {
    const req = await request('applied');
    chat.failNext('postResult', { after: true });
    await expect(notifyOutcome(ctx(), { requestId: req.id, event: 'result' })).rejects.toThrow('lost');
    expect([...chat.posted.keys()].filter((k) => k.startsWith('C0THREAD '))).toHaveLength(1);

    chat.calls.length = 0;
    const retry = await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    expect(retry.sent).toEqual(['thread', 'dm']);
    // Found by the chat: no second post; the requester, never told, is told now.
    expect(chat.made()).toEqual(['findResult', `tell requester ${REQUESTER}`]);
    expect([...chat.posted.keys()].filter((k) => k.startsWith('C0THREAD '))).toHaveLength(1);
  });

  it('a reply the chat refused is looked up and, not found, posted on the retry', async () => {
    const req = await request('applied');
    chat.failNext('postResult');
    await expect(notifyOutcome(ctx(), { requestId: req.id, event: 'result' })).rejects.toThrow('refused');
    chat.calls.length = 0;
    await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    expect(chat.made()).toEqual(['findResult', 'postResult', `tell requester ${REQUESTER}`]);
    expect([...chat.posted.keys()].filter((k) => k.startsWith('C0THREAD '))).toHaveLength(1);
  });

  it('waits for a reply another attempt is posting at this moment instead of posting it twice', async () => {
    const req = await request('applied');
    // Another run of the same job (its lock lost in a Redis restart) set the mark and is still posting.
    const posting = `${ctx().keys.notified(req.id, 'result', 'thread')}:posting`;
    await redis.set(posting, String(Date.now()));
    await expect(notifyOutcome(ctx(), { requestId: req.id, event: 'result' })).rejects.toBeInstanceOf(
      RetryLaterError,
    );
    expect(chat.made()).toEqual(['refresh', 'findResult']);
    // That attempt's mark is old by the time the job comes back and nothing was found: it is posted then, once.
    await redis.set(posting, String(Date.now() - 60_000));
    chat.calls.length = 0;
    await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    expect(chat.made()).toEqual(['findResult', 'postResult', `tell requester ${REQUESTER}`]);
  });

  it('a decision refreshes the request and tells the requester only; a refresh the app made is not repeated', async () => {
    const req = await request('denied', { targetSlackId: TARGET });
    expect(await notifyOutcome(ctx(), { requestId: req.id, event: 'decision' })).toEqual({
      sent: ['refresh', 'dm'],
      skipped: [],
    });
    expect(chat.made()).toEqual(['refresh', `tell requester ${REQUESTER}`]);

    const other = await request('denied');
    chat.calls.length = 0;
    expect(await notifyOutcome(ctx(), { requestId: other.id, event: 'decision', refreshed: true })).toEqual({
      sent: ['dm'],
      skipped: ['refresh'],
    });
    expect(chat.made()).toEqual([`tell requester ${REQUESTER}`]);
  });

  it("a grant's end brings every copy of its result up to date; a copy that is gone is skipped", async () => {
    const req = await request('applied', { targetSlackId: TARGET });
    await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    // The reply and both DMs carried the grant's actions: three copies recorded.
    const copies = [...chat.posted.keys()];
    expect(copies).toHaveLength(3);
    chat.gone.add(copies[1]!);

    const ended = await store.transition(req.id, 'applied', 'revoked', {
      result: { ...req.result!, message: 'Revoked by a press of Revoke now.' },
    });
    if (!ended.ok) throw new Error(ended.reason);
    chat.calls.length = 0;
    const out = await notifyOutcome(ctx(), { requestId: req.id, event: 'revoked' });
    expect(out.sent).toEqual(['refresh', 'thread', 'dm', 'dm-target', 'copies']);
    const updates = chat.calls.filter((c) => c.method === 'updateResult');
    expect(updates.map((c) => `${c.ref?.channel} ${c.ref?.ts}`).sort()).toEqual([...copies].sort());
    expect(updates.every((c) => c.state === 'revoked' && c.supersededBy === undefined)).toBe(true);
    // The end's own messages carry no actions: nothing more to keep up to date.
    const messages = (await store.get(req.id))?.messages ?? [];
    expect(messagesWithButtons({ messages }).map((m) => `${m.channel} ${m.ts}`)).toEqual(copies);
    // Every message sent is on the request: the announcement, then each reply and DM of both events.
    expect(messages.map((m) => [m.kind, m.recipient])).toEqual([
      ['announcement', undefined],
      ['result', undefined],
      ['dm', REQUESTER],
      ['dm', TARGET],
      ['result', undefined],
      ['dm', REQUESTER],
      ['dm', TARGET],
    ]);
    expect(await redis.exists(workerKeys(prefix).copies(req.id))).toBe(0);
  });

  it('a copy posted while the grant ended is brought up to date by the step that recorded it', async () => {
    const req = await request('applied');
    // The grant ends (and its own notification runs, finding only the reply) while the requester's DM is posted.
    chat.whileTelling = async () => {
      chat.whileTelling = undefined;
      await store.transition(req.id, 'applied', 'revoked');
      await notifyOutcome(ctx(), { requestId: req.id, event: 'revoked' });
    };
    await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    const dm = (await store.get(req.id))?.messages?.find((m) => m.kind === 'dm' && m.carriesButtons);
    expect(dm).toBeDefined();
    const updated = chat.calls
      .filter((c) => c.method === 'updateResult')
      .map((c) => `${c.ref?.channel} ${c.ref?.ts}`);
    expect(updated).toContain(`${dm!.channel} ${dm!.ts}`);
    expect(chat.calls.filter((c) => c.method === 'updateResult').every((c) => c.state === 'revoked')).toBe(
      true,
    );
  });

  it("also updates the copies an earlier version recorded in the worker's copies hash, each once", async () => {
    const req = await request('applied', { targetSlackId: TARGET });
    await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    const recorded = [...chat.posted.keys()];
    // v0.1.0 kept a grant's copies in `worker:copies:<id>` (field `channel ts`, value the ref as JSON); one of them
    // is also on the request (a rolling upgrade), one only in the hash.
    const [channel, ts] = recorded[0]!.split(' ') as [string, string];
    const legacy = { channel: 'D-OLDCOPY', ts: '1690000000.000001' };
    await redis.hset(
      workerKeys(prefix).copies(req.id),
      `${channel} ${ts}`,
      JSON.stringify({ channel, ts }),
      `${legacy.channel} ${legacy.ts}`,
      JSON.stringify(legacy),
    );
    await store.transition(req.id, 'applied', 'revoked');
    chat.calls.length = 0;
    await notifyOutcome(ctx(), { requestId: req.id, event: 'revoked' });
    const updated = chat.calls
      .filter((c) => c.method === 'updateResult')
      .map((c) => `${c.ref?.channel} ${c.ref?.ts}`);
    expect(updated.sort()).toEqual([...recorded, `${legacy.channel} ${legacy.ts}`].sort());
  });

  it('a copy update the chat refused fails the step, and the retry updates the copies again', async () => {
    const req = await request('applied');
    await notifyOutcome(ctx(), { requestId: req.id, event: 'result' });
    await store.transition(req.id, 'applied', 'revoked');
    chat.failNext('updateResult');
    chat.calls.length = 0;
    await expect(notifyOutcome(ctx(), { requestId: req.id, event: 'revoked' })).rejects.toThrow('refused');
    chat.calls.length = 0;
    const retry = await notifyOutcome(ctx(), { requestId: req.id, event: 'revoked' });
    expect(retry.sent).toEqual(['copies']);
    expect(chat.made()).toEqual(['updateResult', 'updateResult']);
  });

  it('a failed revoke tells the presser too, with what was recorded; a superseded failure tells nothing', async () => {
    const req = await request('applied', { targetSlackId: TARGET });
    const failure = {
      message: 'Qlik said no.',
      at: 1_700_000_000_000,
      actor: PRESSER,
      trigger: 'manual',
      seq: 2,
    };
    await redis.set(workerKeys(prefix).revokeFailure(req.id), JSON.stringify(failure));

    expect(await notifyOutcome(ctx(), { requestId: req.id, event: 'revoke-failed', seq: 1 })).toEqual({
      sent: [],
      skipped: [],
    });
    expect(chat.calls).toEqual([]);

    const out = await notifyOutcome(ctx(), { requestId: req.id, event: 'revoke-failed', seq: 2 });
    expect(out).toEqual({ sent: ['refresh', 'thread', 'dm', 'dm-actor', 'dm-target'], skipped: [] });
    expect(chat.made()).toEqual([
      'refresh',
      'postResult',
      `tell requester ${REQUESTER}`,
      `tell actor ${PRESSER}`,
      `tell target ${TARGET}`,
    ]);
    const { seq, ...notice } = failure;
    for (const c of chat.calls) expect(c.event).toEqual({ kind: 'revoke-failed', seq, failure: notice });
    // A failed revoke's messages carry no live actions: none is recorded as a copy.
    const messages = (await store.get(req.id))?.messages ?? [];
    expect(messages.map((m) => m.kind)).toEqual(['announcement', 'result', 'dm', 'dm', 'dm']);
    expect(messagesWithButtons({ messages })).toEqual([]);
    expect(await redis.exists(workerKeys(prefix).copies(req.id))).toBe(0);
  });
});
