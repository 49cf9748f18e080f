// SlackNotifier against the Slack fake through the real WebClient and messenger: each event becomes the view the
// bot has always sent (the same words), in the right place, with the metadata that lets a retry find a thread
// reply; a copy Slack no longer has is reported, not thrown; any other refusal is thrown for the caller to retry.
import type { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestEvent } from '../../src/app/notifier.ts';
import type { MessageRef, RequestMessage, RoleChangeRequest } from '../../src/domain/request.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { type SlackFake, startSlackFake } from '../../src/sandbox/slack-fake/index.ts';
import { createWebClient } from '../../src/slack/app.ts';
import { SlackMessenger } from '../../src/slack/messenger.ts';
import { NOTIFY_EVENT_TYPE, SlackNotifier } from '../../src/slack/notifier.ts';
import {
  approvalMessage,
  decisionNotice,
  resultMessage,
  revokeFailedMessage,
  revokeFailedNotice,
} from '../../src/slack/views.ts';

/** The request's announcement at `ref`, as the store keeps it. */
function announced(ref: MessageRef): RequestMessage {
  return { front: 'slack', kind: 'announcement', ...ref };
}

let fake: SlackFake;
let client: WebClient;
let notifier: SlackNotifier;

const pending: RoleChangeRequest = {
  id: 'R-N0T1',
  action: 'grant',
  target: {
    kind: 'user',
    id: 'q1',
    name: 'Frank',
    email: 'frank@corp.example',
    person: { front: 'slack', id: 'U0F' },
  },
  entitlement: { id: 'r1', name: 'Steward' },
  requester: { front: 'slack', id: 'U0D' },
  reason: 'audit work',
  durationMs: 4 * 3_600_000,
  state: 'pending',
  createdAt: 1_800_000_000_000,
  updatedAt: 1_800_000_000_000,
  expiresAt: 1_800_086_400_000,
  approvalsRequired: 1,
  approvals: [],
};

function applied(req: RoleChangeRequest): RoleChangeRequest {
  return {
    ...req,
    state: 'applied',
    approvals: [{ by: { front: 'slack', id: 'U0A' }, at: 1_800_000_060_000 }],
    result: {
      before: [],
      after: ['Steward'],
      changed: true,
      message: '',
      revokeAt: 1_800_014_460_000,
    },
  };
}

/** Text and blocks without block ids (Slack adds its own): what a person sees of a message or a view. */
function content(m: { text?: string | undefined; blocks?: unknown[] | undefined } | undefined) {
  return JSON.parse(JSON.stringify({ text: m?.text, blocks: m?.blocks }), (k, v) =>
    k === 'block_id' ? undefined : v,
  ) as unknown;
}

/** What Slack shows of a message the bot posted. */
function shown(channel: string, ts: string) {
  return content(fake.findMessage(channel, ts));
}

beforeAll(async () => {
  fake = await startSlackFake({
    botToken: 'xoxb-notifier',
    users: [
      { id: 'U0D', name: 'dan', email: 'dan@corp.example' },
      { id: 'U0F', name: 'frank', email: 'frank@corp.example' },
      { id: 'U0P', name: 'pat', email: 'pat@corp.example' },
    ],
    channels: [{ id: 'C0APPR', name: 'approvals' }],
  });
  const logger = createLogger('silent');
  client = createWebClient({ botToken: 'xoxb-notifier', apiUrl: fake.apiUrl }, logger);
  notifier = new SlackNotifier(new SlackMessenger(client, logger));
});
afterAll(async () => {
  await fake?.close();
});

describe('SlackNotifier', () => {
  it('announces a request and refreshes its message; a failed revoke adds its note', async () => {
    const ref = await notifier.announce('C0APPR', pending);
    expect(ref.channel).toBe('C0APPR');
    expect(shown(ref.channel, ref.ts)).toEqual(content(approvalMessage(pending, {})));

    const grant = { ...applied(pending), messages: [announced(ref)] };
    await notifier.refresh(grant);
    expect(shown(ref.channel, ref.ts)).toEqual(content(approvalMessage(grant, {})));

    const failure = {
      message: 'Qlik said no.',
      at: 1_800_020_000_000,
      actor: 'U0P',
      trigger: 'manual' as const,
    };
    await notifier.refresh(grant, { kind: 'revoke-failed', seq: 1, failure });
    expect(shown(ref.channel, ref.ts)).toEqual(
      content(approvalMessage(grant, { notice: revokeFailedNotice(grant, failure) })),
    );
    // A revoke that failed for a grant no longer applied: the state says it all, no note.
    const ended = { ...grant, state: 'revoked' as const };
    await notifier.refresh(ended, { kind: 'revoke-failed', seq: 1, failure });
    expect(shown(ref.channel, ref.ts)).toEqual(content(approvalMessage(ended, {})));

    const updates = fake.calls.filter((c) => c.method === 'chat.update').length;
    await notifier.refresh(pending); // never announced: nothing to update
    expect(fake.calls.filter((c) => c.method === 'chat.update')).toHaveLength(updates);
  });

  it('posts the result in the thread with metadata, and finds that reply again by its event', async () => {
    const ref = await notifier.announce('C0APPR', pending);
    const grant = { ...applied(pending), messages: [announced(ref)] };
    const result: RequestEvent = { kind: 'result' };
    const reply = await notifier.postResult(grant, result);
    const msg = fake.findMessage(reply!.channel, reply!.ts);
    expect(msg?.thread_ts).toBe(ref.ts);
    expect(shown(reply!.channel, reply!.ts)).toEqual(content(resultMessage(grant)));
    expect(msg?.metadata).toEqual({
      event_type: NOTIFY_EVENT_TYPE,
      event_payload: { request_id: grant.id, event: 'result', step: 'thread' },
    });

    const failure = {
      message: 'Qlik said no.',
      at: 1_800_020_000_000,
      actor: 'U0P',
      trigger: 'manual' as const,
    };
    const failed: RequestEvent = { kind: 'revoke-failed', seq: 2, failure };
    const failedReply = await notifier.postResult(grant, failed);
    expect(fake.findMessage(failedReply!.channel, failedReply!.ts)?.metadata?.event_payload).toEqual({
      request_id: grant.id,
      event: 'revoke-failed',
      step: 'thread',
      seq: 2,
    });
    expect(shown(failedReply!.channel, failedReply!.ts)).toEqual(
      content(revokeFailedMessage(grant, failure)),
    );

    expect(await notifier.findResult(grant, result)).toEqual(reply);
    expect(await notifier.findResult(grant, failed)).toEqual(failedReply);
    // Another occurrence of the failure, or an event never posted, is not found.
    expect(await notifier.findResult(grant, { ...failed, seq: 3 })).toBeUndefined();
    expect(await notifier.findResult(grant, { kind: 'revoked' })).toBeUndefined();
    // Never announced: nowhere to reply, nothing to find.
    expect(await notifier.postResult(applied(pending), result)).toBeUndefined();
    expect(await notifier.findResult(applied(pending), result)).toBeUndefined();
  });

  it('tells a person by DM, in the words of the event', async () => {
    const grant = applied(pending);
    const dm = await notifier.tell({ front: 'slack', id: 'U0F', as: 'target' }, grant, { kind: 'result' });
    expect(dm.channel).toBe(fake.dmChannelOf('U0F'));
    expect(shown(dm.channel, dm.ts)).toEqual(content(resultMessage(grant)));
    expect(fake.findMessage(dm.channel, dm.ts)?.metadata).toEqual({
      event_type: NOTIFY_EVENT_TYPE,
      event_payload: { request_id: grant.id, event: 'result', step: 'dm:U0F' },
    });

    const denied: RoleChangeRequest = {
      ...pending,
      state: 'denied',
      deniedBy: { front: 'slack', id: 'U0P' },
    };
    const notice = await notifier.tell({ front: 'slack', id: 'U0D', as: 'requester' }, denied, {
      kind: 'decision',
    });
    expect(notice.channel).toBe(fake.dmChannelOf('U0D'));
    expect(shown(notice.channel, notice.ts)).toEqual(content(decisionNotice(denied)));

    const failure = {
      message: 'Qlik said no.',
      at: 1_800_020_000_000,
      actor: 'U0P',
      trigger: 'manual' as const,
    };
    const toPresser = await notifier.tell({ front: 'slack', id: 'U0P', as: 'actor' }, grant, {
      kind: 'revoke-failed',
      seq: 1,
      failure,
    });
    expect(shown(toPresser.channel, toPresser.ts)).toEqual(content(revokeFailedMessage(grant, failure)));
  });

  it('updates a copy of the result; one Slack no longer has is reported; other refusals are thrown', async () => {
    const grant = applied(pending);
    const copy = await notifier.tell({ front: 'slack', id: 'U0D', as: 'requester' }, grant, {
      kind: 'result',
    });
    const ended: RoleChangeRequest = { ...grant, state: 'revoked' };
    expect(await notifier.updateResult(copy, ended)).toBe(true);
    expect(shown(copy.channel, copy.ts)).toEqual(content(resultMessage(ended)));

    expect(await notifier.updateResult(copy, grant, { supersededBy: 'R-EXT1' })).toBe(true);
    expect(shown(copy.channel, copy.ts)).toEqual(content(resultMessage(grant, { supersededBy: 'R-EXT1' })));

    fake.injectError('chat.update', 'ratelimited', 1);
    await expect(notifier.updateResult(copy, ended)).rejects.toMatchObject({
      data: { error: 'ratelimited' },
    });

    await client.chat.delete({ channel: copy.channel, ts: copy.ts });
    expect(await notifier.updateResult(copy, ended)).toBe(false);
  });

  it('hands an export to a person in their DM, naming the file and saying what it holds', async () => {
    await notifier.sendFile(
      { front: 'slack', id: 'U0F' },
      {
        kind: 'holders',
        entitlement: 'Tenant Admin',
        rows: 1,
        at: Date.UTC(2026, 11, 1, 12),
        csv: Buffer.from('a,b\n'),
      },
    );
    const file = fake.files.find((f) => f.filename === 'who-has-Tenant_Admin-2026-12-01.csv');
    expect(file?.content.toString()).toBe('a,b\n');
    expect(file?.channels).toEqual([fake.dmChannelOf('U0F')]);
    expect(file?.title).toBe('Direct holders of Tenant Admin (1)');
    expect(file?.initialComment).toBe('All 1 users who hold Tenant Admin directly.');
  });
});
