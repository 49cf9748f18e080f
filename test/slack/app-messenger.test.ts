// SlackMessenger against the Slack fake through the real WebClient: approval message and its update, thread
// replies, DMs, ephemerals, response_url answers and a CSV upload.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MessageRef, RequestMessage, RoleChangeRequest } from '../../src/domain/request.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { type SlackFake, startSlackFake } from '../../src/sandbox/slack-fake/index.ts';
import { createWebClient } from '../../src/slack/app.ts';
import { ResponseUrlError, SlackMessenger } from '../../src/slack/messenger.ts';
import { errorMessage } from '../../src/slack/views.ts';

let fake: SlackFake;
let messenger: SlackMessenger;

/** The request's announcement at `ref`, as the store keeps it. */
function announced(ref: MessageRef): RequestMessage {
  return { front: 'slack', kind: 'announcement', ...ref };
}

const req: RoleChangeRequest = {
  id: 'R-7KQ2',
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
  reason: '<!channel> please',
  state: 'pending',
  createdAt: 1_800_000_000_000,
  updatedAt: 1_800_000_000_000,
  expiresAt: 1_800_086_400_000,
  approvalsRequired: 1,
  approvals: [],
};

beforeAll(async () => {
  fake = await startSlackFake({
    botToken: 'xoxb-msg',
    users: [
      { id: 'U0D', name: 'dan', email: 'dan@corp.example' },
      { id: 'U0F', name: 'frank', email: 'frank@corp.example' },
    ],
    channels: [{ id: 'C0APPR', name: 'approvals' }],
  });
  const logger = createLogger('silent');
  messenger = new SlackMessenger(
    createWebClient({ botToken: 'xoxb-msg', apiUrl: fake.apiUrl }, logger),
    logger,
  );
});
afterAll(async () => {
  await fake?.close();
});

it('posts the approval message, updates it in place, and replies in its thread', async () => {
  const ref = await messenger.postApproval('C0APPR', req);
  const posted = fake.findMessage('C0APPR', ref.ts);
  expect(posted?.text).toContain('R-7KQ2');
  expect(JSON.stringify(posted?.blocks)).not.toContain('<!channel>');
  const decided: RoleChangeRequest = {
    ...req,
    state: 'denied',
    deniedBy: { front: 'slack', id: 'U0F' },
    messages: [announced(ref)],
  };
  await messenger.refreshApproval(decided);
  expect(fake.findMessage('C0APPR', ref.ts)?.updates).toHaveLength(1);
  expect(fake.findMessage('C0APPR', ref.ts)?.text).toContain('denied');
  await messenger.replyInThread(decided, errorMessage('thread note'));
  expect(fake.messages.some((m) => m.thread_ts === ref.ts && m.text === 'thread note')).toBe(true);
  await messenger.refreshApproval(req); // no approval message: nothing to do
});

it('says where replies and DMs landed, carries metadata, finds a reply by it, and updates a copy', async () => {
  const ref = await messenger.postApproval('C0APPR', req);
  const withRef: RoleChangeRequest = { ...req, messages: [announced(ref)] };
  const md = { event_type: 'qab_notify', event_payload: { request_id: req.id, step: 'thread' } };
  const reply = await messenger.replyInThread(withRef, errorMessage('result'), md);
  expect(reply?.channel).toBe('C0APPR');
  expect(fake.findMessage('C0APPR', reply!.ts)?.metadata).toEqual(md);
  await messenger.replyInThread(withRef, errorMessage('other'), {
    event_type: 'qab_notify',
    event_payload: { request_id: req.id, step: 'other' },
  });
  expect(
    await messenger.findThreadReply(withRef, 'qab_notify', { request_id: req.id, step: 'thread' }),
  ).toEqual(reply);
  expect(await messenger.findThreadReply(withRef, 'qab_notify', { request_id: req.id, step: 'dm' })).toBe(
    undefined,
  );
  const dm = await messenger.dm('U0F', errorMessage('copy'));
  expect(dm.channel).toBe(fake.dmChannelOf('U0F'));
  await messenger.update(dm, errorMessage('final'));
  expect(fake.findMessage(dm.channel, dm.ts)?.text).toBe('final');
  // The approval message with a note the state alone does not say.
  await messenger.refreshApproval({ ...withRef, state: 'applied' }, { notice: 'The revoke failed.' });
  expect(JSON.stringify(fake.findMessage('C0APPR', ref.ts)?.blocks)).toContain('The revoke failed.');
});

it('sends DMs, ephemerals and response_url answers', async () => {
  await messenger.dm('U0D', errorMessage('dm text'));
  expect(fake.messages.some((m) => m.channel === fake.dmChannelOf('U0D') && m.text === 'dm text')).toBe(true);
  await messenger.ephemeral('C0APPR', 'U0F', errorMessage('only frank'));
  expect(fake.messages.some((m) => m.ephemeral && m.user === 'U0F' && m.text === 'only frank')).toBe(true);
  const url = fake.newResponseUrl({ channel: 'C0APPR', user: 'U0D' });
  await messenger.respond(url, errorMessage('via response_url'));
  const answer = fake.messages.find((m) => m.via === 'response_url' && m.text === 'via response_url');
  expect(answer).toMatchObject({ ephemeral: true, user: 'U0D' });
  await expect(messenger.respond(`${fake.url}/hooks/unknown`, errorMessage('x'))).rejects.toBeInstanceOf(
    ResponseUrlError,
  );
});

it("uploads a CSV into the user's DM", async () => {
  await messenger.uploadCsv({
    userId: 'U0F',
    filename: 'list.csv',
    title: 'List',
    content: 'a,b\n1,2\n',
    comment: 'here',
  });
  const file = fake.files.find((x) => x.filename === 'list.csv');
  expect(file?.content.toString()).toBe('a,b\n1,2\n');
  expect(file?.channels).toEqual([fake.dmChannelOf('U0F')]);
});
