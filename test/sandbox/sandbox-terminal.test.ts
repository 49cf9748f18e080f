// The sandbox terminal's pure parts: what a typed line means, which button a `press` picks, the demo world built
// from the demo tenant, and how messages are labelled and numbered.
import { describe, expect, it } from 'vitest';
import { demoTenant } from '../../src/sandbox/qlik-sim/index.ts';
import { buildDemoWorld, findDemoUser, handleFromEmail } from '../../src/sandbox/run/demo-world.ts';
import { MessageFeed } from '../../src/sandbox/run/message-feed.ts';
import type { PostedMessage } from '../../src/sandbox/slack-fake/index.ts';
import { chooseHomeButton, choosePress, helpText, parseInput } from '../../src/sandbox/terminal.ts';

describe('parseInput', () => {
  it.each([
    ['', { kind: 'empty' }],
    ['   # a comment', { kind: 'empty' }],
    ['as alice', { kind: 'as', who: 'alice' }],
    [
      '/qlik grant @bob Steward for 2h because x',
      { kind: 'slash', command: '/qlik', text: 'grant @bob Steward for 2h because x' },
    ],
    ['/QLIK   help  ', { kind: 'slash', command: '/qlik', text: 'help' }],
    ['/qlik', { kind: 'slash', command: '/qlik', text: '' }],
    ['press 2', { kind: 'press', button: { index: 2 } }],
    ['press Approve', { kind: 'press', button: { text: 'Approve' } }],
    ['press [ Revoke now ]', { kind: 'press', button: { text: 'Revoke now' } }],
    ['press "Revoke now" on #12', { kind: 'press', button: { text: 'Revoke now' }, messageNo: 12 }],
    ['press 1 on 3', { kind: 'press', button: { index: 1 }, messageNo: 3 }],
    ['home', { kind: 'home' }],
    ['press Approve on home', { kind: 'press', button: { text: 'Approve' }, onHome: true }],
    ['press 2 on HOME', { kind: 'press', button: { index: 2 }, onHome: true }],
    ['messages', { kind: 'messages' }],
    ['show #4', { kind: 'show', messageNo: 4 }],
    ['users', { kind: 'users' }],
    ['help', { kind: 'help' }],
    ['wait Approved by', { kind: 'wait', text: 'Approved by' }],
    ['wait 45s applied', { kind: 'wait', text: 'applied', timeoutMs: 45_000 }],
    ['quit', { kind: 'quit' }],
  ])('%j', (line, expected) => {
    expect(parseInput(line)).toEqual(expected);
  });

  it.each(['as', 'press', 'show x', 'wait', 'grant @bob Steward'])(
    '%j is explained, not executed',
    (line) => {
      const r = parseInput(line);
      expect(r.kind).toBe('invalid');
      if (r.kind === 'invalid') expect(r.problem.length).toBeGreaterThan(10);
    },
  );
});

function msg(over: Partial<PostedMessage>): PostedMessage {
  return {
    channel: 'C0APPROVALS',
    ts: '1.000001',
    ephemeral: false,
    updates: [],
    via: 'chat.postMessage',
    at: 0,
    ...over,
  };
}

const approveDeny = [
  {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: 'approve',
        value: 'R-AAAA',
        text: { type: 'plain_text', text: 'Approve' },
      },
      { type: 'button', action_id: 'deny', value: 'R-AAAA', text: { type: 'plain_text', text: 'Deny' } },
    ],
  },
];

describe('choosePress', () => {
  const m1 = msg({ ts: '1.1', blocks: approveDeny });
  const m2 = msg({
    ts: '1.2',
    blocks: [
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'revoke_now',
            value: 'R-BBBB',
            text: { type: 'plain_text', text: 'Revoke now' },
          },
        ],
      },
    ],
  });
  const candidates = [
    { no: 2, message: m2, buttons: [{ actionId: 'revoke_now', value: 'R-BBBB', text: 'Revoke now' }] },
    {
      no: 1,
      message: m1,
      buttons: [
        { actionId: 'approve', value: 'R-AAAA', text: 'Approve' },
        { actionId: 'deny', value: 'R-AAAA', text: 'Deny' },
      ],
    },
  ];

  it('by number: a button of the latest message with buttons', () => {
    const r = choosePress({ kind: 'press', button: { index: 1 } }, candidates);
    expect(r).toMatchObject({ ok: true, no: 2, button: { actionId: 'revoke_now' } });
  });

  it('by text: the latest message offering it, exact before prefix', () => {
    expect(choosePress({ kind: 'press', button: { text: 'deny' } }, candidates)).toMatchObject({
      ok: true,
      no: 1,
      button: { actionId: 'deny' },
    });
    expect(choosePress({ kind: 'press', button: { text: 'revoke' } }, candidates)).toMatchObject({
      ok: true,
      no: 2,
    });
  });

  it('on a given message', () => {
    expect(choosePress({ kind: 'press', button: { index: 2 }, messageNo: 1 }, candidates)).toMatchObject({
      ok: true,
      no: 1,
      button: { actionId: 'deny' },
    });
  });

  it('says what is wrong', () => {
    expect(choosePress({ kind: 'press', button: { index: 3 }, messageNo: 1 }, candidates)).toEqual({
      ok: false,
      problem: 'Message #1 has buttons 1–2.',
    });
    const r = choosePress({ kind: 'press', button: { text: 'Extend' } }, candidates);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toContain('Revoke now, Approve, Deny');
    expect(choosePress({ kind: 'press', button: { index: 1 } }, [])).toMatchObject({ ok: false });
    expect(choosePress({ kind: 'press', button: { index: 1 }, messageNo: 9 }, candidates)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('#9'),
    });
  });
});

describe('the demo world', () => {
  const tenant = demoTenant();
  const world = buildDemoWorld(tenant);

  it('has a Slack user for every Qlik person with an email, with the same email, and the awkward cases', () => {
    const slackEmails = new Set(world.users.map((u) => u.email?.toLowerCase()));
    for (const u of tenant.users()) {
      if (u.email && u.id !== tenant.serviceUserId && u.status !== 'deleted')
        expect(slackEmails.has(u.email.toLowerCase())).toBe(true);
    }
    expect(world.users.length).toBeGreaterThanOrEqual(30);
    expect(world.users.find((u) => u.handle === 'nomail')?.email).toBeUndefined();
    const outsider = world.users.find((u) => u.handle === 'outsider')!;
    expect(tenant.usersByEmail(outsider.email!)).toHaveLength(0);
    expect(world.users.find((u) => u.handle === 'leaver')?.deleted).toBe(true);
    expect(new Set(world.users.map((u) => u.id)).size).toBe(world.users.length);
    expect(new Set(world.users.map((u) => u.handle)).size).toBe(world.users.length);
    for (const u of world.users) expect(u.id).toMatch(/^U[A-Z0-9]{2,}$/);
  });

  it('has an approvers group of real demo users, and a policy naming it and the approval channel', () => {
    expect(world.approversGroup.id).toMatch(/^S[A-Z0-9]+$/);
    expect(world.approversGroup.members.length).toBeGreaterThanOrEqual(3);
    expect(world.policyYaml).toContain(`approvalChannel: ${world.approvalChannel.id}`);
    expect(world.policyYaml).toContain(world.approversGroup.id);
    expect(world.policyYaml).toMatch(/TenantAdmin: \{ approvalsRequired: 2, reasonRequired: true/);
    expect(world.policyYaml).toMatch(/SharedSpaceCreator: \{ autoApprove: true \}/);
    expect(world.policyYaml).toMatch(/AuditAdmin: \{ requestable: false \}/);
    expect(world.users.find((u) => u.handle === world.firstUser)?.id).not.toBeUndefined();
    expect(world.approversGroup.members).not.toContain(
      world.users.find((u) => u.handle === world.firstUser)!.id,
    );
  });

  it('finds users by handle, first name or a unique prefix', () => {
    expect(findDemoUser(world.users, '@bob')).toMatchObject({ handle: 'bob' });
    expect(findDemoUser(world.users, 'Alice')).toMatchObject({ handle: 'alice' });
    expect(Array.isArray(findDemoUser(world.users, 'c'))).toBe(true);
    expect(findDemoUser(world.users, 'zzz')).toBeUndefined();
    expect(handleFromEmail("o'brien@corp.example")).toBe('obrien');
    expect(handleFromEmail('Mixed.Case@Corp.Example')).toBe('mixed.case');
  });

  it('help names the demo users, the approvers and what to try', () => {
    const text = helpText(world, world.users[0]!);
    for (const s of [
      '/qlik grant',
      'who-has',
      'for 2m',
      'it gets the cap (4h or 30d), never permanent',
      'press',
      'as bob',
      '@alice',
      world.approvalChannel.name,
    ])
      expect(text).toContain(s);
  });
});

describe('MessageFeed', () => {
  const dir = {
    handleOf: (id: string) => ({ U0DAN: 'dan', U0BOB: 'bob' })[id] ?? id,
    channelName: (id: string) => ({ C0APPROVALS: 'qlik-approvals', C0GENERAL: 'general' })[id] ?? id,
    dmUser: (ch: string) => (ch === 'D0DAN' ? 'U0DAN' : undefined),
    file: () => undefined,
  };

  it('numbers messages, says where they went, re-shows updates and waits for text', async () => {
    const feed = new MessageFeed(dir);
    feed.currentUser = 'U0DAN';
    const approval = msg({ text: 'Request R-AAAA', blocks: approveDeny });
    const e1 = feed.record(approval, 'posted');
    expect(e1.printed.split('\n')[0]).toMatch(/^── #1 · #qlik-approvals ─+$/);
    expect(e1.printed).toContain('1:[ Approve ]  2:[ Deny ]');

    const eph = msg({
      channel: 'C0GENERAL',
      ts: '1.3',
      ephemeral: true,
      user: 'U0DAN',
      via: 'response_url',
      text: 'Filed',
    });
    expect(feed.record(eph, 'posted').printed).toContain('#2 · only visible to you in #general');
    const dm = msg({ channel: 'D0DAN', ts: '1.4', text: 'Done' });
    expect(feed.record(dm, 'posted').printed).toContain('#3 · DM to you');
    const reply = msg({ ts: '1.5', thread_ts: approval.ts, text: 'applied' });
    expect(feed.record(reply, 'posted').printed).toContain('#4 · #qlik-approvals, reply in thread of #1');

    expect(feed.pressable('U0DAN').map((c) => c.no)).toEqual([1]);
    expect(feed.visibleTo(eph, 'U0BOB')).toBe(false);
    expect(feed.visibleTo(dm, 'U0BOB')).toBe(false);
    expect(feed.visibleTo(approval, 'U0BOB')).toBe(true);

    const waiting = feed.waitFor('approved by', feed.lastSeq, 5_000);
    approval.text = 'Approved by bob';
    approval.blocks = [];
    const update = feed.record(approval, 'updated');
    expect(update.printed).toMatch(/^── #1 \(updated\) · #qlik-approvals/);
    await expect(waiting).resolves.toMatchObject({ no: 1, kind: 'updated' });
    expect(feed.pressable('U0DAN')).toEqual([]);
    await expect(feed.waitFor('never', feed.lastSeq, 10)).rejects.toThrow(/no message containing "never"/);
    expect(feed.summary()).toContain('#3  DM to you: Done');
  });
});

describe('chooseHomeButton', () => {
  const buttons = [
    { text: 'Request access', actionId: 'open_request_form' },
    { text: 'Cancel', actionId: 'cancel', value: 'R-AAAA' },
    { text: 'Approve', actionId: 'approve', value: 'R-BBBB' },
  ];
  it('picks by number as `home` shows them, or by label', () => {
    expect(chooseHomeButton({ index: 2 }, buttons)).toEqual({ ok: true, button: buttons[1] });
    expect(chooseHomeButton({ text: 'appr' }, buttons)).toEqual({ ok: true, button: buttons[2] });
  });
  it('explains what is there when nothing matches', () => {
    expect(chooseHomeButton({ index: 9 }, buttons)).toEqual({
      ok: false,
      problem: 'Your Home has buttons 1–3.',
    });
    const r = chooseHomeButton({ text: 'Deny' }, buttons);
    expect(r.ok === false && r.problem).toBe(
      'No button "Deny" on your Home (there is: Request access, Cancel, Approve).',
    );
    expect(chooseHomeButton({ index: 1 }, [])).toEqual({
      ok: false,
      problem: 'Your Home has no buttons (type `home` to open it).',
    });
  });
});
