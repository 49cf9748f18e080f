// Block Kit limits the fake enforces, each just at and just past the documented limit.
import { describe, expect, it } from 'vitest';
import { checkBlocks, withBlockIds } from '../../../src/sandbox/slack-fake/block-limits.ts';

const pt = (text: string) => ({ type: 'plain_text', text });
const md = (text: string) => ({ type: 'mrkdwn', text });
const btn = (extra: Record<string, unknown> = {}) => ({
  type: 'button',
  action_id: 'a',
  text: pt('Go'),
  ...extra,
});
const actions = (n: number) => ({
  type: 'actions',
  elements: Array.from({ length: n }, (_, i) => btn({ action_id: `a${i}` })),
});

describe('checkBlocks', () => {
  it.each<[string, unknown[], unknown[]]>([
    [
      'header text 150 / 151',
      [{ type: 'header', text: pt('h'.repeat(150)) }],
      [{ type: 'header', text: pt('h'.repeat(151)) }],
    ],
    ['header must be plain_text', [{ type: 'header', text: pt('h') }], [{ type: 'header', text: md('h') }]],
    [
      'field text 2000 / 2001',
      [{ type: 'section', fields: [md('f'.repeat(2000))] }],
      [{ type: 'section', fields: [md('f'.repeat(2001))] }],
    ],
    [
      'context elements 10 / 11',
      [{ type: 'context', elements: Array(10).fill(md('c')) }],
      [{ type: 'context', elements: Array(11).fill(md('c')) }],
    ],
    ['actions elements 25 / 26', [actions(25)], [actions(26)]],
    [
      'button value 2000 / 2001',
      [{ type: 'actions', elements: [btn({ value: 'v'.repeat(2000) })] }],
      [{ type: 'actions', elements: [btn({ value: 'v'.repeat(2001) })] }],
    ],
    [
      'button style primary / loud',
      [{ type: 'actions', elements: [btn({ style: 'primary' })] }],
      [{ type: 'actions', elements: [btn({ style: 'loud' })] }],
    ],
    [
      'duplicate action_id in a block',
      [{ type: 'actions', elements: [btn({ action_id: 'x' })] }],
      [{ type: 'actions', elements: [btn({ action_id: 'x' }), btn({ action_id: 'x' })] }],
    ],
    [
      'block_id 255 / 256',
      [{ type: 'divider', block_id: 'b'.repeat(255) }],
      [{ type: 'divider', block_id: 'b'.repeat(256) }],
    ],
    ['section needs text or fields', [{ type: 'section', text: md('t') }], [{ type: 'section' }]],
    ['text must not be empty', [{ type: 'section', text: md('t') }], [{ type: 'section', text: md('') }]],
    [
      'image needs alt_text',
      [{ type: 'image', image_url: 'https://x/y.png', alt_text: 'y' }],
      [{ type: 'image', image_url: 'https://x/y.png' }],
    ],
  ])('%s', (_name, ok, bad) => {
    expect(checkBlocks(ok)).toMatchObject({ ok: true });
    expect(checkBlocks(bad)).toMatchObject({ ok: false, error: 'invalid_blocks' });
  });

  it('parses blocks sent as a JSON string, and rejects what is not an array', () => {
    expect(checkBlocks(JSON.stringify([{ type: 'divider' }]))).toEqual({
      ok: true,
      blocks: [{ type: 'divider' }],
    });
    expect(checkBlocks('{"type":"divider"}')).toMatchObject({ ok: false, error: 'invalid_blocks_format' });
    expect(checkBlocks('[{')).toMatchObject({ ok: false, error: 'invalid_blocks_format' });
  });
});

describe('withBlockIds', () => {
  it('keeps given block_ids, generates unique ones for the rest, and does not touch the input', () => {
    const input = [{ type: 'divider', block_id: 'keep' }, { type: 'divider' }, { type: 'divider' }];
    const out = withBlockIds(input) as { block_id: string }[];
    expect(out[0]?.block_id).toBe('keep');
    expect(new Set(out.map((b) => b.block_id)).size).toBe(3);
    expect(input[1]).not.toHaveProperty('block_id');
  });
});
