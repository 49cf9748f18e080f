// Contract tests of the Slack fake's views: views.open / push / update / publish driven by the real @slack/web-api
// WebClient (shapes, trigger_id single use and 3 s expiry, view limits, hash conflicts, stack depth, Home publish,
// rate limits), and the driver's shortcut, App Home, select-menu suggestions, submissions, closes and clicks in
// views against a real Bolt app, over signed HTTP and over Socket Mode.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { type HomeView, type ModalView, WebClient, LogLevel as WebLogLevel } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeView,
  SlackDriver,
  type SlackFake,
  startSlackFake,
  VIEW_LIMITS,
} from '../../src/sandbox/slack-fake/index.ts';

const TOKEN = 'xoxb-views-test-token';
const APP_TOKEN = 'xapp-1-A0QLIKBOT-1-views-test';
const SECRET = 'views-test-signing-secret-0123';
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';

type Obj = Record<string, unknown>;
const plain = (text: string) => ({ type: 'plain_text' as const, text });
const section = (text: string, extra: Obj = {}) => ({
  type: 'section',
  text: { type: 'mrkdwn', text },
  ...extra,
});
const button = (action_id: string, text: string) => ({ type: 'button', action_id, text: plain(text) });

function modal(extra: Obj = {}): ModalView {
  return {
    type: 'modal',
    title: plain('Request access'),
    blocks: [section('Pick a role')],
    ...extra,
  } as ModalView;
}

/** The request form issue 15 wants: a live role picker, a reason, an optional date, a button. */
function requestForm(extra: Obj = {}): ModalView {
  return modal({
    callback_id: 'request_form',
    notify_on_close: true,
    private_metadata: 'draft-1',
    submit: plain('Send'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: 'role',
        label: plain('Role'),
        element: {
          type: 'external_select',
          action_id: 'role_pick',
          min_query_length: 1,
          placeholder: plain('Pick a role'),
        },
      },
      {
        type: 'input',
        block_id: 'reason',
        label: plain('Why'),
        element: { type: 'plain_text_input', action_id: 'reason_text', multiline: true },
      },
      {
        type: 'input',
        block_id: 'until',
        optional: true,
        label: plain('Until'),
        element: { type: 'datepicker', action_id: 'until_date' },
      },
      { type: 'actions', block_id: 'more', elements: [button('add_detail', 'Add detail')] },
    ],
    ...extra,
  });
}

const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => WebLogLevel.ERROR,
  setName() {},
};

/** The Slack error code a WebClient call failed with, and Slack's response_metadata messages. */
async function slackError(p: Promise<unknown>): Promise<{ error: string; messages: string[] }> {
  try {
    await p;
  } catch (e) {
    const data = (e as { data?: { error: string; response_metadata?: { messages?: string[] } } }).data;
    if (data) return { error: data.error, messages: data.response_metadata?.messages ?? [] };
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('views.* on the Web API (real WebClient)', () => {
  let fake: SlackFake;
  let client: WebClient;
  let clock = 1_800_000_000_000;

  beforeAll(async () => {
    fake = await startSlackFake({
      botToken: TOKEN,
      users: [
        { id: ALICE, name: 'alice' },
        { id: BOB, name: 'bob' },
        { id: 'U0GONE', name: 'gone', deleted: true },
      ],
      now: () => clock,
    });
    client = new WebClient(TOKEN, {
      slackApiUrl: fake.apiUrl,
      logger: quiet,
      retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 10 },
    });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.clear();
  });

  describe('views.open', () => {
    it('opens a modal for the trigger’s user and answers the view object as Slack does', async () => {
      const trigger = fake.issueTrigger(ALICE);
      expect(trigger).toMatch(/^\d+\.\d+\.[0-9a-f]+$/);
      const res = await client.views.open({ trigger_id: trigger, view: requestForm() });
      const view = res.view as Obj;
      expect(view).toMatchObject({
        id: expect.stringMatching(/^V[0-9A-F]+$/),
        team_id: fake.teamId,
        type: 'modal',
        title: { type: 'plain_text', text: 'Request access' },
        submit: { type: 'plain_text', text: 'Send' },
        close: { type: 'plain_text', text: 'Cancel' },
        private_metadata: 'draft-1',
        callback_id: 'request_form',
        external_id: '',
        state: { values: {} },
        hash: expect.stringMatching(/^\d+\.\w+$/),
        clear_on_close: false,
        notify_on_close: true,
        previous_view_id: null,
        app_id: fake.appId,
        bot_id: fake.botId,
        app_installed_team_id: fake.teamId,
      });
      expect(view.root_view_id).toBe(view.id);
      const open = fake.openViews(ALICE);
      expect(open.map((v) => v.view.id)).toEqual([view.id]);
      expect(fake.openViews(BOB)).toEqual([]);
      expect(fake.calls.at(-1)).toMatchObject({ method: 'views.open', status: 200 });
    });

    it('gives blocks a block_id and input elements an action_id when the app gave none', async () => {
      const res = await client.views.open({
        trigger_id: fake.issueTrigger(ALICE),
        view: modal({
          submit: plain('Send'),
          blocks: [
            section('hello'),
            { type: 'input', label: plain('Why'), element: { type: 'plain_text_input' } },
          ],
        }),
      });
      const blocks = (res.view as { blocks: Obj[] }).blocks;
      expect(blocks[0]?.block_id).toEqual(expect.any(String));
      expect((blocks[1]!.element as Obj).action_id).toEqual(expect.any(String));
    });

    it('takes a trigger_id once (exchanged_trigger_id), within 3 s (expired_trigger_id), and only one it made', async () => {
      const once = fake.issueTrigger(ALICE);
      await client.views.open({ trigger_id: once, view: modal() });
      expect((await slackError(client.views.open({ trigger_id: once, view: modal() }))).error).toBe(
        'exchanged_trigger_id',
      );

      const late = fake.issueTrigger(ALICE);
      clock += VIEW_LIMITS.triggerTtlMs + 1;
      expect((await slackError(client.views.open({ trigger_id: late, view: modal() }))).error).toBe(
        'expired_trigger_id',
      );
      const justInTime = fake.issueTrigger(ALICE);
      clock += VIEW_LIMITS.triggerTtlMs;
      expect((await client.views.open({ trigger_id: justInTime, view: modal() })).ok).toBe(true);
      const aged = fake.issueTrigger(ALICE, { ageMs: 3_500 });
      expect((await slackError(client.views.open({ trigger_id: aged, view: modal() }))).error).toBe(
        'expired_trigger_id',
      );

      expect((await slackError(client.views.open({ trigger_id: 'nope', view: modal() }))).error).toBe(
        'invalid_trigger_id',
      );
      expect(
        (await slackError(client.views.open({ trigger_id: '12345.98765.abcd2358fdea', view: modal() })))
          .error,
      ).toBe('invalid_trigger_id');
      const missing = await slackError(client.apiCall('views.open', { view: modal() }));
      expect(missing.error).toBe('invalid_arguments');
      expect(missing.messages).toEqual([
        '[ERROR] missing required field: trigger_id [json-pointer:/trigger_id]',
      ]);
    });

    it.each([
      ['a title over 24 characters', { title: plain('x'.repeat(25)) }, '/view/title/text', 'less than 25'],
      ['a submit over 24 characters', { submit: plain('x'.repeat(25)) }, '/view/submit/text', 'less than 25'],
      ['a close over 24 characters', { close: plain('x'.repeat(25)) }, '/view/close/text', 'less than 25'],
      ['a mrkdwn title', { title: { type: 'mrkdwn', text: 'x' } }, '/view/title', 'plain_text'],
      ['no title', { title: undefined }, '/view/title', 'missing required field'],
      [
        'private_metadata over 3000 characters',
        { private_metadata: 'm'.repeat(3001) },
        '/view/private_metadata',
        'less than 3001',
      ],
      ['a callback_id over 255', { callback_id: 'c'.repeat(256) }, '/view/callback_id', 'less than 256'],
      ['an external_id over 255', { external_id: 'e'.repeat(256) }, '/view/external_id', 'less than 256'],
      ['a home view', { type: 'home' }, '/view/type', 'must be modal'],
      [
        '101 blocks',
        { blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) },
        '/view/blocks',
        'at most 100 items',
      ],
      [
        'an input block without submit',
        {
          blocks: [{ type: 'input', label: plain('Why'), element: { type: 'plain_text_input' } }],
        },
        '/view/submit',
        'missing required field',
      ],
      [
        'an input block without a label',
        {
          submit: plain('Send'),
          blocks: [{ type: 'input', element: { type: 'plain_text_input', action_id: 'a' } }],
        },
        '/view/blocks/0/label',
        'must be an object',
      ],
      [
        'an input block with a button',
        { submit: plain('Send'), blocks: [{ type: 'input', label: plain('x'), element: button('b', 'B') }] },
        '/view/blocks/0/element',
        'failed to match',
      ],
      [
        'a block_id over 255',
        { blocks: [{ type: 'divider', block_id: 'b'.repeat(256) }] },
        '/view/blocks/0/block_id',
        'less than 256',
      ],
      [
        'two blocks with one block_id',
        {
          blocks: [
            { type: 'divider', block_id: 'same' },
            { type: 'divider', block_id: 'same' },
          ],
        },
        '/view/blocks/1/block_id',
        'unique',
      ],
      [
        'an action_id over 255',
        {
          submit: plain('Send'),
          blocks: [
            {
              type: 'input',
              label: plain('x'),
              element: { type: 'plain_text_input', action_id: 'a'.repeat(256) },
            },
          ],
        },
        '/view/blocks/0/element/action_id',
        'less than 256',
      ],
      [
        'an external select listing its own options',
        {
          submit: plain('Send'),
          blocks: [
            {
              type: 'input',
              label: plain('Role'),
              element: { type: 'external_select', action_id: 'r', options: [] },
            },
          ],
        },
        '/view/blocks/0/element/options',
        'failed to match',
      ],
    ])('answers invalid_arguments for %s, naming the JSON pointer', async (_what, patch, pointer, words) => {
      const trigger = fake.issueTrigger(ALICE);
      const res = await slackError(client.views.open({ trigger_id: trigger, view: modal(patch) }));
      expect(res.error).toBe('invalid_arguments');
      expect(res.messages).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`^\\[ERROR\\] .*${words}.*\\[json-pointer:${pointer}\\]$`)),
        ]),
      );
      expect(fake.openViews(ALICE)).toEqual([]);
    });

    it('refuses a view over 250 kB (view_too_large) and a JSON string that is no object', async () => {
      const big = modal({
        blocks: Array.from({ length: 90 }, () => section('x'.repeat(2999))),
      });
      expect(
        (await slackError(client.views.open({ trigger_id: fake.issueTrigger(ALICE), view: big }))).error,
      ).toBe('view_too_large');
      const notObject = await slackError(
        client.apiCall('views.open', { trigger_id: fake.issueTrigger(ALICE), view: '[1,2]' }),
      );
      expect(notObject).toEqual({
        error: 'invalid_arguments',
        messages: ['[ERROR] view must be a JSON object [json-pointer:/view]'],
      });
    });

    it('keeps external_id unique for the team (duplicate_external_id)', async () => {
      await client.views.open({
        trigger_id: fake.issueTrigger(ALICE),
        view: modal({ external_id: 'req-1' }),
      });
      const again = await slackError(
        client.views.open({ trigger_id: fake.issueTrigger(BOB), view: modal({ external_id: 'req-1' }) }),
      );
      expect(again.error).toBe('duplicate_external_id');
      expect(fake.openViews(BOB)).toEqual([]);
    });
  });

  describe('views.push', () => {
    it('stacks at most 3 views (push_limit_reached), each pointing at the root and the one beneath', async () => {
      const root = (await client.views.open({ trigger_id: fake.issueTrigger(ALICE), view: modal() }))
        .view as Obj;
      const second = (
        await client.views.push({
          trigger_id: fake.issueTrigger(ALICE, { viewId: root.id as string }),
          view: modal({ title: plain('Second') }),
        })
      ).view as Obj;
      expect(second).toMatchObject({ root_view_id: root.id, previous_view_id: root.id, type: 'modal' });
      expect(second.id).not.toBe(root.id);
      const third = (
        await client.views.push({
          trigger_id: fake.issueTrigger(ALICE, { viewId: second.id as string }),
          view: modal({ title: plain('Third') }),
        })
      ).view as Obj;
      expect(third).toMatchObject({ root_view_id: root.id, previous_view_id: second.id });
      const fourth = await slackError(
        client.views.push({ trigger_id: fake.issueTrigger(ALICE), view: modal({ title: plain('Fourth') }) }),
      );
      expect(fourth.error).toBe('push_limit_reached');
      expect(fake.openViews(ALICE).map((v) => v.view.title?.text)).toEqual([
        'Request access',
        'Second',
        'Third',
      ]);
    });

    it('answers not_found with no modal open to push onto', async () => {
      const res = await slackError(client.views.push({ trigger_id: fake.issueTrigger(BOB), view: modal() }));
      expect(res.error).toBe('not_found');
    });
  });

  describe('views.update', () => {
    it('updates by view_id or external_id: same id, new hash, input entry kept where block_id and action_id stay', async () => {
      const opened = (
        await client.views.open({
          trigger_id: fake.issueTrigger(ALICE),
          view: requestForm({ external_id: 'req-7' }),
        })
      ).view as { id: string; hash: string };
      fake.views.setState(opened.id, {
        reason: { reason_text: { type: 'plain_text_input', value: 'quarterly review' } },
        until: { until_date: { type: 'datepicker', selected_date: '2027-01-31' } },
      });
      const next = requestForm({ title: plain('Request (2)') });
      next.blocks = next.blocks.filter((b) => (b as unknown as Obj).block_id !== 'until');
      const byId = (await client.views.update({ view_id: opened.id, hash: opened.hash, view: next }))
        .view as Obj;
      expect(byId).toMatchObject({ id: opened.id, title: { text: 'Request (2)' }, external_id: 'req-7' });
      expect(byId.hash).not.toBe(opened.hash);
      expect(byId.state).toEqual({
        values: { reason: { reason_text: { type: 'plain_text_input', value: 'quarterly review' } } },
      });
      const byExternal = (
        await client.views.update({ external_id: 'req-7', view: modal({ title: plain('Request (3)') }) })
      ).view as Obj;
      expect(byExternal).toMatchObject({ id: opened.id, title: { text: 'Request (3)' } });
      expect(fake.openViews(ALICE)[0]?.view.title?.text).toBe('Request (3)');
    });

    it('answers hash_conflict for a stale hash and not_found for a view that is not open', async () => {
      const opened = (await client.views.open({ trigger_id: fake.issueTrigger(ALICE), view: modal() }))
        .view as { id: string; hash: string };
      await client.views.update({ view_id: opened.id, view: modal({ title: plain('Newer') }) });
      const stale = await slackError(
        client.views.update({
          view_id: opened.id,
          hash: opened.hash,
          view: modal({ title: plain('Older') }),
        }),
      );
      expect(stale.error).toBe('hash_conflict');
      expect(fake.openViews(ALICE)[0]?.view.title?.text).toBe('Newer');
      expect((await slackError(client.views.update({ view_id: 'V0NOSUCH', view: modal() }))).error).toBe(
        'not_found',
      );
      expect((await slackError(client.views.update({ external_id: 'nobody', view: modal() }))).error).toBe(
        'not_found',
      );
      fake.views.closeByUser(ALICE, opened.id);
      expect((await slackError(client.views.update({ view_id: opened.id, view: modal() }))).error).toBe(
        'not_found',
      );
      const neither = await slackError(client.apiCall('views.update', { view: modal() }));
      expect(neither.error).toBe('invalid_arguments');
    });
  });

  describe('views.publish', () => {
    const home = (text: string, extra: Obj = {}): HomeView =>
      ({ type: 'home', blocks: [section(text)], ...extra }) as HomeView;

    it('publishes a user’s Home tab and replaces it under the same id with a new hash', async () => {
      const first = (await client.views.publish({ user_id: ALICE, view: home('Welcome') })).view as Obj;
      expect(first).toMatchObject({
        id: expect.stringMatching(/^V/),
        type: 'home',
        close: null,
        submit: null,
        team_id: fake.teamId,
        app_id: fake.appId,
        bot_id: fake.botId,
        previous_view_id: null,
        state: { values: {} },
      });
      expect(first).not.toHaveProperty('title');
      expect(first.root_view_id).toBe(first.id);
      const second = (
        await client.views.publish({
          user_id: ALICE,
          view: home('Your requests'),
          hash: first.hash as string,
        })
      ).view as Obj;
      expect(second.id).toBe(first.id);
      expect(second.hash).not.toBe(first.hash);
      expect(fake.homeView(ALICE)?.view.blocks).toMatchObject([{ text: { text: 'Your requests' } }]);
      expect(fake.homeView(BOB)).toBeUndefined();
    });

    it('answers hash_conflict for a stale hash, invalid_arguments for a modal or 101 blocks, user_not_found', async () => {
      const first = (await client.views.publish({ user_id: ALICE, view: home('A') })).view as Obj;
      await client.views.publish({ user_id: ALICE, view: home('B') });
      const stale = await slackError(
        client.views.publish({ user_id: ALICE, view: home('C'), hash: first.hash as string }),
      );
      expect(stale.error).toBe('hash_conflict');
      expect(fake.homeView(ALICE)?.view.blocks).toMatchObject([{ text: { text: 'B' } }]);
      const wrongType = await slackError(client.views.publish({ user_id: ALICE, view: modal() as never }));
      expect(wrongType.error).toBe('invalid_arguments');
      expect(wrongType.messages).toContain('[ERROR] must be home [json-pointer:/view/type]');
      const tooMany = await slackError(
        client.views.publish({
          user_id: ALICE,
          view: {
            type: 'home',
            blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })),
          } as HomeView,
        }),
      );
      expect(tooMany.messages).toContain(
        '[ERROR] must contain at most 100 items [json-pointer:/view/blocks]',
      );
      expect((await slackError(client.views.publish({ user_id: 'U0NOBODY', view: home('x') }))).error).toBe(
        'user_not_found',
      );
      expect((await slackError(client.views.publish({ user_id: 'U0GONE', view: home('x') }))).error).toBe(
        'user_not_found',
      );
    });

    it('is rate limited like any method: 429 with Retry-After, recorded, then the retry publishes', async () => {
      fake.injectRateLimit('views.publish', 0);
      const res = await client.views.publish({ user_id: BOB, view: home('after the limit') });
      expect(res.ok).toBe(true);
      const publishes = fake.calls.filter((c) => c.method === 'views.publish');
      expect(publishes.map((c) => [c.status, c.error])).toEqual([
        [429, 'ratelimited'],
        [200, undefined],
      ]);
      fake.injectRateLimit('views.publish', 7);
      const strict = new WebClient(TOKEN, {
        slackApiUrl: fake.apiUrl,
        logger: quiet,
        rejectRateLimitedCalls: true,
      });
      await expect(strict.views.publish({ user_id: BOB, view: home('x') })).rejects.toMatchObject({
        code: 'slack_webapi_rate_limited_error',
        retryAfter: 7,
      });
    });
  });
});

/** What the test app saw, in order, and a way to await the next of a kind. */
class Seen {
  readonly #items = new Map<string, unknown[]>();
  readonly #waiting = new Map<string, ((v: unknown) => void)[]>();

  add(kind: string, value: unknown): void {
    const w = this.#waiting.get(kind)?.shift();
    if (w) w(value);
    else this.#items.set(kind, [...(this.#items.get(kind) ?? []), value]);
  }

  next<T = Obj>(kind: string, timeoutMs = 5000): Promise<T> {
    const queued = this.#items.get(kind);
    if (queued?.length) return Promise.resolve(queued.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`test app: no ${kind} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const list = this.#waiting.get(kind) ?? [];
      list.push((v) => {
        clearTimeout(timer);
        resolve(v as T);
      });
      this.#waiting.set(kind, list);
    });
  }

  clear(): void {
    this.#items.clear();
  }
}

/** Runs a Web API call from the app and records what it answered (`ok` or the Slack error). */
async function attempt(seen: Seen, kind: string, call: () => Promise<{ view?: unknown }>): Promise<void> {
  try {
    const res = await call();
    seen.add(kind, { ok: true, view: res.view });
  } catch (e) {
    seen.add(kind, { ok: false, error: (e as { data?: { error?: string } }).data?.error ?? String(e) });
  }
}

/** A small Bolt app using every view surface the fake offers. */
function wire(app: App, seen: Seen, advance: (ms: number) => void): void {
  app.command('/qlik', async ({ ack, body, client }) => {
    await ack();
    seen.add('command', body);
    const form = body.text === 'clearing' ? requestForm({ clear_on_close: true }) : requestForm();
    await attempt(seen, 'opened', () => client.views.open({ trigger_id: body.trigger_id, view: form }));
    if (body.text === 'twice')
      await attempt(seen, 'opened', () => client.views.open({ trigger_id: body.trigger_id, view: modal() }));
  });
  app.shortcut('new_request', async ({ ack, body, client }) => {
    await ack();
    seen.add('shortcut', body);
    await attempt(seen, 'opened', () =>
      client.views.open({ trigger_id: body.trigger_id, view: requestForm() }),
    );
  });
  app.options('role_pick', async ({ ack, body }) => {
    seen.add('suggestion', body);
    const typed = (body as { value: string }).value;
    const option = (text: string, value: string) => ({ text: plain(text), value });
    if (typed === 'many')
      return ack({ options: Array.from({ length: 101 }, (_, i) => option(`Role ${i}`, `role-${i}`)) });
    if (typed === 'long') return ack({ options: [option('x'.repeat(76), 'long')] });
    if (typed === 'bigvalue') return ack({ options: [option('Big', 'v'.repeat(151))] });
    if (typed === 'groups') {
      return ack({
        option_groups: [
          { label: plain('Analytics'), options: [option('Analyzer', 'role-analyzer')] },
          { label: plain('Admin'), options: [option('Tenant admin', 'role-admin')] },
        ],
      });
    }
    if (typed === 'slow') advance(VIEW_LIMITS.triggerTtlMs + 500);
    const all = [option('Analyzer', 'role-analyzer'), option('Tenant admin', 'role-admin')];
    return ack({ options: all.filter((o) => o.text.text.toLowerCase().includes(typed.toLowerCase())) });
  });
  app.view('request_form', async ({ ack, body }) => {
    seen.add('submission', body);
    const reason = body.view.state.values.reason?.reason_text?.value ?? '';
    if (reason === 'bad')
      return ack({ response_action: 'errors', errors: { reason: 'Say why you need it' } });
    if (reason === 'ghost') return ack({ response_action: 'errors', errors: { nowhere: 'no such block' } });
    if (reason === 'update')
      return ack({
        response_action: 'update',
        view: modal({ title: plain('Sent'), blocks: [section('Thanks')] }),
      });
    if (reason === 'push')
      return ack({
        response_action: 'push',
        view: modal({ title: plain('Confirm'), callback_id: 'request_form', blocks: [section('Sure?')] }),
      });
    if (reason === 'badupdate')
      return ack({ response_action: 'update', view: modal({ title: plain('t'.repeat(30)) }) });
    if (reason === 'clear') return ack({ response_action: 'clear' });
    if (reason === 'slow') advance(VIEW_LIMITS.triggerTtlMs + 500);
    return ack();
  });
  app.view({ callback_id: 'request_form', type: 'view_closed' }, async ({ ack, body }) => {
    await ack();
    seen.add('closed', body);
  });
  app.action('add_detail', async ({ ack, body, client }) => {
    await ack();
    seen.add('action', body);
    const trigger = (body as { trigger_id: string }).trigger_id;
    await attempt(seen, 'pushed', () =>
      client.views.push({
        trigger_id: trigger,
        view: modal({
          title: plain('Detail'),
          blocks: [button('add_detail', 'More')].map((b) => ({ type: 'actions', elements: [b] })),
        }),
      }),
    );
  });
  app.action('new_from_home', async ({ ack, body, client }) => {
    await ack();
    seen.add('action', body);
    const trigger = (body as { trigger_id: string }).trigger_id;
    await attempt(seen, 'opened', () => client.views.open({ trigger_id: trigger, view: requestForm() }));
  });
  app.event('app_home_opened', async ({ event, client }) => {
    seen.add('home_opened', event);
    if (event.tab !== 'home') return;
    const visits = event.view ? 'Welcome back' : 'Welcome';
    await attempt(seen, 'published', () =>
      client.views.publish({
        user_id: event.user,
        view: {
          type: 'home',
          callback_id: 'home',
          blocks: [section(visits), { type: 'actions', elements: [button('new_from_home', 'New request')] }],
        } as HomeView,
      }),
    );
  });
}

describe.each(['http', 'socket'] as const)('the driver against a Bolt app over %s', (mode) => {
  let fake: SlackFake;
  let app: App;
  let server: Server | undefined;
  let driver: SlackDriver;
  const seen = new Seen();
  let clock = Date.now();

  beforeAll(async () => {
    fake = await startSlackFake({
      botToken: TOKEN,
      users: [
        { id: ALICE, name: 'alice' },
        { id: BOB, name: 'bob' },
      ],
      ...(mode === 'socket' ? { appToken: APP_TOKEN } : {}),
      now: () => clock,
    });
    const advance = (ms: number) => {
      clock += ms;
    };
    if (mode === 'http') {
      app = new App({
        token: TOKEN,
        signingSecret: SECRET,
        clientOptions: { slackApiUrl: fake.apiUrl },
        logLevel: LogLevel.ERROR,
      });
      wire(app, seen, advance);
      server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
      const { port } = server.address() as AddressInfo;
      driver = new SlackDriver({
        eventsUrl: `http://127.0.0.1:${port}/slack/events`,
        signingSecret: SECRET,
        fake,
      });
    } else {
      app = new App({
        token: TOKEN,
        appToken: APP_TOKEN,
        socketMode: true,
        clientOptions: { slackApiUrl: fake.apiUrl },
        // app.stop() resolves before its socket has closed, so fake.close() ends it and the SDK logs a WebSocket
        // error at teardown; what the app does is asserted through `seen`, not its logs.
        logger: quiet,
      });
      wire(app, seen, advance);
      await app.start();
      driver = new SlackDriver({ socketMode: true, fake });
    }
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await app.stop();
    await fake.close();
  });
  beforeEach(() => {
    fake.clear();
    seen.clear();
  });

  /** Alice types /qlik and the app opens the request form. */
  async function openForm(text = 'new'): Promise<FakeView> {
    await driver.slash(ALICE, text);
    const opened = await seen.next<{ ok: boolean; error?: string }>('opened');
    expect(opened).toMatchObject({ ok: true });
    const top = fake.openViews(ALICE).at(-1);
    if (!top) throw new Error('no modal open');
    return top;
  }

  it('hands every slash command a fresh trigger_id the app can open a modal with, once', async () => {
    const form = await openForm('twice');
    const command = await seen.next<{ trigger_id: string }>('command');
    expect(command.trigger_id).toMatch(/^\d+\.\d+\.[0-9a-f]+$/);
    expect(form.view).toMatchObject({ callback_id: 'request_form', type: 'modal' });
    expect(await seen.next('opened')).toEqual({ ok: false, error: 'exchanged_trigger_id' });
    expect(fake.openViews(ALICE)).toHaveLength(1);
  });

  it('a trigger_id older than 3 s is expired_trigger_id and no modal opens', async () => {
    await driver.slash(ALICE, 'new', { triggerAgeMs: VIEW_LIMITS.triggerTtlMs + 1 });
    expect(await seen.next('opened')).toEqual({ ok: false, error: 'expired_trigger_id' });
    expect(fake.openViews(ALICE)).toEqual([]);
  });

  it('runs a global shortcut with a shortcut payload and a trigger_id', async () => {
    const res = await driver.shortcut(BOB, 'new_request');
    expect(res.status).toBe(200);
    const body = await seen.next('shortcut');
    expect(body).toMatchObject({
      type: 'shortcut',
      callback_id: 'new_request',
      trigger_id: res.triggerId,
      user: { id: BOB, username: 'bob', team_id: fake.teamId },
      team: { id: fake.teamId, domain: fake.teamDomain },
      api_app_id: fake.appId,
    });
    expect(await seen.next('opened')).toMatchObject({ ok: true });
    expect(fake.openViews(BOB)).toHaveLength(1);
  });

  it('suggests: a block_suggestion from the modal, the options answer checked and offered', async () => {
    const form = await openForm();
    const res = await driver.suggest(ALICE, form, 'role_pick', 'ana');
    expect(res.failure).toBeUndefined();
    expect(res.options).toEqual([{ text: plain('Analyzer'), value: 'role-analyzer' }]);
    expect(await seen.next('suggestion')).toMatchObject({
      type: 'block_suggestion',
      action_id: 'role_pick',
      block_id: 'role',
      value: 'ana',
      container: { type: 'view', view_id: form.view.id },
      view: { id: form.view.id, callback_id: 'request_form' },
      user: { id: ALICE },
      team: { id: fake.teamId },
    });
    const grouped = await driver.suggest(ALICE, form, 'role_pick', 'groups');
    expect(grouped.optionGroups?.map((g) => g.label.text)).toEqual(['Analytics', 'Admin']);
    expect(grouped.options.map((o) => o.value)).toEqual(['role-analyzer', 'role-admin']);
  });

  it('reports options answers Slack would refuse: over 100, text over 75, value over 150, after 3 s', async () => {
    const form = await openForm();
    expect((await driver.suggest(ALICE, form, 'role_pick', 'many')).failure).toMatch(
      /101 options \(at most 100\)/,
    );
    expect((await driver.suggest(ALICE, form, 'role_pick', 'long')).failure).toMatch(/text must be 1 to 75/);
    expect((await driver.suggest(ALICE, form, 'role_pick', 'bigvalue')).failure).toMatch(
      /value must be .* 150/,
    );
    const slow = await driver.suggest(ALICE, form, 'role_pick', 'slow');
    expect(slow.failure).toMatch(/after \d+ ms \(Slack waits 3000 ms\)/);
    expect(slow.options).toEqual([]);
    // Below min_query_length Slack asks nothing.
    await expect(driver.suggest(ALICE, form, 'role_pick', '')).rejects.toThrow(
      /waits for 1 typed characters/,
    );
    await expect(driver.suggest(ALICE, form, 'no_menu', 'abc')).rejects.toThrow(/no external select no_menu/);
  });

  it('submits the input values as state.values; errors keep the modal open with them', async () => {
    const form = await openForm();
    await driver.suggest(ALICE, form, 'role_pick', 'admin');
    const res = await driver.submit(ALICE, form, { role: 'role-admin', reason: 'bad' });
    expect(res).toMatchObject({ status: 200, action: 'errors' });
    expect(res.failure).toBeUndefined();
    const body = await seen.next<{ view: Obj; type: string; trigger_id: string }>('submission');
    expect(body).toMatchObject({
      type: 'view_submission',
      user: { id: ALICE },
      view: { id: form.view.id, private_metadata: 'draft-1' },
    });
    expect(body.view.state).toEqual({
      values: {
        role: {
          role_pick: {
            type: 'external_select',
            selected_option: { text: plain('Tenant admin'), value: 'role-admin' },
          },
        },
        reason: { reason_text: { type: 'plain_text_input', value: 'bad' } },
        until: { until_date: { type: 'datepicker', selected_date: null } },
      },
    });
    const still = fake.openViews(ALICE);
    expect(still.map((v) => v.view.id)).toEqual([form.view.id]);
    expect(still[0]?.errors).toEqual({ reason: 'Say why you need it' });
  });

  it('refuses values Slack could not send: unknown block, missing required input, an option never offered', async () => {
    const form = await openForm();
    await expect(driver.submit(ALICE, form, { role: 'x', reason: 'r', extra: 'y' })).rejects.toThrow(
      /no input block extra/,
    );
    await expect(driver.submit(ALICE, form, { reason: 'r' })).rejects.toThrow(/required input role/);
    await expect(driver.submit(ALICE, form, { role: 'role-admin', reason: 'r' })).rejects.toThrow(
      /not an option of role/,
    );
    expect(fake.openViews(ALICE)).toHaveLength(1);
  });

  it('an errors answer naming no input block is a failure and the modal stays', async () => {
    const form = await openForm();
    await driver.suggest(ALICE, form, 'role_pick', 'ana');
    const res = await driver.submit(ALICE, form, { role: 'role-analyzer', reason: 'ghost' });
    expect(res.failure).toMatch(/block_id "nowhere", which is no input block/);
    expect(fake.openViews(ALICE)[0]?.errors).toBeUndefined();
    expect(fake.openViews(ALICE)).toHaveLength(1);
  });

  it('update replaces the view in place, push stacks one, clear closes them all, none closes the top', async () => {
    const form = await openForm();
    await driver.suggest(ALICE, form, 'role_pick', 'ana');
    const values = { role: 'role-analyzer' };
    const pushed = await driver.submit(ALICE, form, { ...values, reason: 'push' });
    expect(pushed.action).toBe('push');
    const stack = fake.openViews(ALICE);
    expect(stack.map((v) => v.view.title?.text)).toEqual(['Request access', 'Confirm']);
    expect(stack[1]?.view.previous_view_id).toBe(form.view.id);
    // The pushed confirmation has no inputs: an empty ack closes it and the form shows again.
    const closed = await driver.submit(ALICE, stack[1]!, {});
    expect(closed).toMatchObject({ action: 'close' });
    expect(closed.top?.view.id).toBe(form.view.id);
    const updated = await driver.submit(ALICE, form, { ...values, reason: 'update' });
    expect(updated.action).toBe('update');
    expect(fake.openViews(ALICE).map((v) => [v.view.id, v.view.title?.text])).toEqual([
      [form.view.id, 'Sent'],
    ]);

    const again = await openForm();
    await driver.suggest(ALICE, again, 'role_pick', 'ana');
    const refused = await driver.submit(ALICE, again, { ...values, reason: 'badupdate' });
    expect(refused.failure).toMatch(/^invalid_arguments: .*title\/text/);
    expect(fake.openViews(ALICE)[0]?.view.title?.text).toBe('Request access');
    const cleared = await driver.submit(ALICE, again, { ...values, reason: 'clear' });
    expect(cleared.action).toBe('clear');
    expect(fake.openViews(ALICE)).toEqual([]);
    expect(fake.views.findView(again.view.id)?.closedBy).toBe('cleared');
  });

  it('a late submission answer is a failure and the modal stays open', async () => {
    const form = await openForm();
    await driver.suggest(ALICE, form, 'role_pick', 'ana');
    const res = await driver.submit(ALICE, form, { role: 'role-analyzer', reason: 'slow' });
    expect(res.failure).toMatch(/answered after \d+ ms/);
    expect(fake.openViews(ALICE)).toHaveLength(1);
  });

  it('closing a notify_on_close modal sends view_closed; closing the top of a stack shows the one beneath', async () => {
    const form = await openForm();
    await driver.click(ALICE, form, 'add_detail');
    expect(await seen.next('pushed')).toMatchObject({ ok: true });
    const [, detail] = fake.openViews(ALICE);
    const closeDetail = await driver.closeView(ALICE, detail!);
    // The pushed detail view has no notify_on_close: nothing is sent.
    expect(closeDetail).toMatchObject({ notified: false, closed: [detail] });
    const res = await driver.closeView(ALICE, form);
    expect(res).toMatchObject({ notified: true, status: 200 });
    expect(await seen.next('closed')).toMatchObject({
      type: 'view_closed',
      is_cleared: false,
      view: { id: form.view.id, callback_id: 'request_form' },
      user: { id: ALICE },
    });
    expect(fake.openViews(ALICE)).toEqual([]);
    await expect(driver.closeView(ALICE, form)).rejects.toThrow(/was closed/);
  });

  it('closing a clear_on_close view closes the whole stack and view_closed says is_cleared', async () => {
    const form = await openForm('clearing');
    const res = await driver.closeView(ALICE, form);
    expect(res).toMatchObject({ notified: true, closed: [form] });
    expect(await seen.next('closed')).toMatchObject({ type: 'view_closed', is_cleared: true });
    expect(fake.views.findView(form.view.id)).toMatchObject({ closedBy: 'user' });
  });

  it('suggests from a message too: container message, the channel, and the message', async () => {
    const picker = fake.recordMessage({
      channel: fake.dmChannelOf(ALICE),
      text: 'Pick a role',
      blocks: [
        {
          type: 'actions',
          block_id: 'pick',
          elements: [{ type: 'external_select', action_id: 'role_pick', placeholder: plain('Role') }],
        },
      ],
      ephemeral: false,
      via: 'chat.postMessage',
    });
    await expect(driver.suggest(ALICE, picker, 'role_pick', 'an')).rejects.toThrow(/waits for 3 typed/);
    const res = await driver.suggest(ALICE, picker, 'role_pick', 'ten');
    expect(res.options.map((o) => o.value)).toEqual(['role-admin']);
    expect(await seen.next('suggestion')).toMatchObject({
      type: 'block_suggestion',
      container: { type: 'message', message_ts: picker.ts, channel_id: picker.channel, is_ephemeral: false },
      channel: { id: picker.channel, name: 'directmessage' },
      message: { ts: picker.ts },
      block_id: 'pick',
      value: 'ten',
    });
  });

  it('a button in a modal sends block_actions with container view and a trigger_id views.push takes, up to 3 views', async () => {
    const form = await openForm();
    const res = await driver.click(ALICE, form, 'add_detail');
    expect(res.status).toBe(200);
    const body = await seen.next('action');
    expect(body).toMatchObject({
      type: 'block_actions',
      container: { type: 'view', view_id: form.view.id },
      view: { id: form.view.id, hash: form.view.hash },
      actions: [{ action_id: 'add_detail', block_id: 'more', type: 'button' }],
      user: { id: ALICE },
    });
    expect(body).not.toHaveProperty('response_url');
    expect(await seen.next('pushed')).toMatchObject({ ok: true });
    // Only the top view can be pressed.
    await expect(driver.click(ALICE, form, 'add_detail')).rejects.toThrow(/is under/);
    await driver.click(ALICE, fake.openViews(ALICE).at(-1)!, 'add_detail');
    expect(await seen.next('pushed')).toMatchObject({ ok: true });
    await driver.click(ALICE, fake.openViews(ALICE).at(-1)!, 'add_detail');
    expect(await seen.next('pushed')).toEqual({ ok: false, error: 'push_limit_reached' });
    expect(fake.openViews(ALICE)).toHaveLength(3);
    await expect(driver.click(BOB, fake.openViews(ALICE).at(-1)!, 'add_detail')).rejects.toThrow(
      /cannot see/,
    );
  });

  it('opens App Home: app_home_opened (with the current Home view once published), a click in Home opens a modal', async () => {
    const first = await driver.openHome(ALICE);
    expect(first.status).toBe(200);
    const event = await seen.next('home_opened');
    expect(event).toEqual({
      type: 'app_home_opened',
      user: ALICE,
      channel: fake.dmChannelOf(ALICE),
      tab: 'home',
      event_ts: expect.stringMatching(/^\d+\.\d{6}$/),
    });
    expect(await seen.next('published')).toMatchObject({ ok: true });
    const home = fake.homeView(ALICE)!;
    expect(home.view.blocks).toMatchObject([{ text: { text: 'Welcome' } }, { type: 'actions' }]);

    await driver.openHome(ALICE);
    const again = await seen.next<{ view: Obj }>('home_opened');
    expect(again.view).toMatchObject({ id: home.view.id, type: 'home', callback_id: 'home' });
    expect(await seen.next('published')).toMatchObject({ ok: true });
    expect(fake.homeView(ALICE)?.view.blocks).toMatchObject([{ text: { text: 'Welcome back' } }, {}]);

    await driver.openHome(ALICE, { tab: 'messages' });
    expect(await seen.next('home_opened')).not.toHaveProperty('view');

    await driver.click(ALICE, fake.homeView(ALICE)!, 'new_from_home');
    expect(await seen.next('action')).toMatchObject({
      type: 'block_actions',
      container: { type: 'view', view_id: home.view.id },
      view: { type: 'home' },
    });
    expect(await seen.next('opened')).toMatchObject({ ok: true });
    expect(fake.openViews(ALICE)).toHaveLength(1);
  });
});
