// Block Kit → terminal text, mrkdwn → plain, and button listing, on representative messages.
import { describe, expect, it } from 'vitest';
import { listButtons, mrkdwnToPlain, renderMessage } from '../../../src/sandbox/slack-fake/render.ts';

const names: Record<string, string> = { U0ALICE: 'alice', U0BOB: 'bob' };
const resolveUser = (id: string) => names[id] ?? id;

const md = (text: string) => ({ type: 'mrkdwn', text });
const pt = (text: string) => ({ type: 'plain_text', text });
const button = (action_id: string, text: string, value?: string) => ({
  type: 'button',
  action_id,
  text: pt(text),
  ...(value !== undefined ? { value } : {}),
});

describe('mrkdwnToPlain', () => {
  it.each([
    ['*bold* and _italic_ and ~strike~', 'bold and italic and strike'],
    ['snake_case_name and 2*3*4 stay', 'snake_case_name and 2*3*4 stay'],
    ['<@U0ALICE> asks', '@alice asks'],
    ['<@U0ZED|zed> asks', '@zed asks'],
    ['<@U0UNKNOWN> asks', '@U0UNKNOWN asks'],
    ['in <#C0APPROVE|qlik-approvals>', 'in #qlik-approvals'],
    ['<!here> and <!channel>', '@here and @channel'],
    ['ping <!subteam^S0ADM|@qlik-admins>', 'ping @qlik-admins'],
    ['at <!date^1700000000^{date_short} at {time}|Nov 14, 2023 22:13>', 'at Nov 14, 2023 22:13'],
    ['see <https://example.com/a_b*c|the docs>', 'see the docs (https://example.com/a_b*c)'],
    ['bare <https://example.com/x_y_z>', 'bare https://example.com/x_y_z'],
    ['mail <mailto:alice@corp.com|alice@corp.com>', 'mail alice@corp.com'],
    ['a &lt;b&gt; &amp; c', 'a <b> & c'],
    ['*<@U0BOB>* approved', '@bob approved'],
    ['code `*not bold*` here', 'code `*not bold*` here'],
    ['&gt; quoted', '│ quoted'],
  ])('%s → %s', (input, expected) => {
    expect(mrkdwnToPlain(input, { resolveUser })).toBe(expected);
  });
});

describe('renderMessage', () => {
  const request = {
    text: 'alice asks for ManagedSpaceCreator',
    blocks: [
      { type: 'header', text: pt('Access request R-7KQ2') },
      { type: 'section', text: md('*<@U0ALICE>* asks to _grant_ `ManagedSpaceCreator` to <@U0BOB>') },
      { type: 'section', fields: [md('*Role*\nManagedSpaceCreator'), md('*Duration*\n4h')] },
      { type: 'context', elements: [md('Requested by <@U0ALICE>'), md('1 of 2 approvals')] },
      { type: 'divider' },
      {
        type: 'actions',
        block_id: 'decide',
        elements: [button('approve', 'Approve', 'R-7KQ2'), button('deny', 'Deny', 'R-7KQ2')],
      },
    ],
  };

  it.each<[string, { text?: string; blocks?: unknown[] }, number, string]>([
    [
      'an approval request',
      request,
      40,
      [
        'Access request R-7KQ2',
        '═════════════════════',
        '@alice asks to grant',
        '`ManagedSpaceCreator` to @bob',
        'Role                 Duration',
        'ManagedSpaceCreator  4h',
        '  Requested by @alice  ·  1 of 2',
        '  approvals',
        '────────────────────────────────────────',
        '1:[ Approve ]  2:[ Deny ]',
      ].join('\n'),
    ],
    [
      'a text-only message (no blocks)',
      { text: 'Your request *R-1* was _approved_ by <@U0BOB>' },
      80,
      'Your request R-1 was approved by @bob',
    ],
    [
      'a section with a button accessory',
      {
        blocks: [
          {
            type: 'section',
            text: md('Granted until 18:00'),
            accessory: button('revoke', 'Revoke now', 'R-1'),
          },
        ],
      },
      80,
      'Granted until 18:00\n    1:[ Revoke now ]',
    ],
    [
      'plain_text is not read as mrkdwn',
      { blocks: [{ type: 'section', text: pt('*literally* &lt;') }] },
      80,
      '*literally* &lt;',
    ],
    [
      'rich text with a list, a mention and a link',
      {
        blocks: [
          {
            type: 'rich_text',
            elements: [
              {
                type: 'rich_text_section',
                elements: [
                  { type: 'text', text: 'Holders of ' },
                  { type: 'user', user_id: 'U0ALICE' },
                ],
              },
              {
                type: 'rich_text_list',
                style: 'bullet',
                elements: [
                  {
                    type: 'rich_text_section',
                    elements: [{ type: 'link', url: 'https://x.example', text: 'x' }],
                  },
                ],
              },
            ],
          },
        ],
      },
      80,
      'Holders of @alice\n• x (https://x.example)',
    ],
    [
      'an image and an unknown block',
      { blocks: [{ type: 'image', image_url: 'https://x/y.png', alt_text: 'chart' }, { type: 'video' }] },
      80,
      '[image: chart]\n[video block]',
    ],
  ])('%s', (_name, message, width, expected) => {
    expect(renderMessage(message, { width, resolveUser })).toBe(expected);
  });

  it('wraps long section text to the width', () => {
    const words = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const out = renderMessage({ blocks: [{ type: 'section', text: md(words) }] }, { width: 30 });
    expect(out.split('\n').every((l) => l.length <= 30)).toBe(true);
    expect(out.replace(/\n/g, ' ')).toBe(words);
  });
});

describe('listButtons', () => {
  it('lists buttons in the order renderMessage numbers them, with block ids and values', () => {
    const m = {
      blocks: [
        { type: 'section', block_id: 's1', text: md('x'), accessory: button('revoke', 'Revoke now', 'R-1') },
        {
          type: 'actions',
          block_id: 'a1',
          elements: [button('approve', 'Approve', 'R-2'), button('deny', 'Deny')],
        },
        {
          type: 'actions',
          elements: [{ type: 'static_select', action_id: 'pick', placeholder: pt('Pick') }],
        },
      ],
    };
    expect(listButtons(m)).toEqual([
      { actionId: 'revoke', text: 'Revoke now', value: 'R-1', blockId: 's1' },
      { actionId: 'approve', text: 'Approve', value: 'R-2', blockId: 'a1' },
      { actionId: 'deny', text: 'Deny', blockId: 'a1' },
    ]);
    const rendered = renderMessage(m);
    expect(rendered).toContain('1:[ Revoke now ]');
    expect(rendered.split('\n').slice(-2)).toEqual(['2:[ Approve ]  3:[ Deny ]', '[ Pick ▾ ]']);
  });

  it('finds none in a message without blocks', () => {
    expect(listButtons({ text: 'hi' })).toEqual([]);
  });
});
