// Owns the fake's Block Kit checks: the documented limits Slack enforces cheaply on messages (50 blocks,
// 3000-char section text, 10 fields, 75-char button text, …) and on views (100 blocks, input blocks' label and
// element, select menus' placeholder), answered as Slack does: `invalid_blocks` with `errors` naming the offending
// JSON pointer. It also fills in the block_ids Slack generates when absent.
import { randomBytes } from 'node:crypto';

export type BlocksCheck =
  | { ok: true; blocks: unknown[] }
  | { ok: false; error: 'invalid_blocks' | 'invalid_blocks_format'; errors: string[] };

/** Block types Slack accepts in messages (from @slack/types 3); any other type is rejected. */
const KNOWN_BLOCKS = new Set([
  'actions',
  'alert',
  'card',
  'carousel',
  'container',
  'context',
  'context_actions',
  'data_table',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'plan',
  'rich_text',
  'section',
  'table',
  'task_card',
  'video',
]);

export const LIMITS = {
  blocksPerMessage: 50,
  blockId: 255,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  actionId: 255,
  buttonValue: 2000,
  url: 3000,
  markdownText: 12000,
  altText: 2000,
  /** Input block label and hint (docs.slack.dev/reference/block-kit/blocks/input-block). */
  inputLabel: 2000,
  inputHint: 2000,
  /** Select menus' and text inputs' placeholder (docs.slack.dev select-menu-element, plain-text-input-element). */
  placeholder: 150,
  /** plain_text_input min_length / max_length may not exceed 3000. */
  textInputLength: 3000,
} as const;

/** Elements an input block can hold (docs.slack.dev/reference/block-kit/blocks/input-block). */
const INPUT_ELEMENTS = new Set([
  'checkboxes',
  'channels_select',
  'conversations_select',
  'datepicker',
  'datetimepicker',
  'email_text_input',
  'external_select',
  'file_input',
  'multi_channels_select',
  'multi_conversations_select',
  'multi_external_select',
  'multi_static_select',
  'multi_users_select',
  'number_input',
  'plain_text_input',
  'radio_buttons',
  'rich_text_input',
  'static_select',
  'timepicker',
  'url_text_input',
  'users_select',
]);

const SELECTS = new Set([
  'static_select',
  'external_select',
  'users_select',
  'conversations_select',
  'channels_select',
  'multi_static_select',
  'multi_external_select',
  'multi_users_select',
  'multi_conversations_select',
  'multi_channels_select',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Collector {
  readonly errors: string[] = [];
  add(message: string, pointer: string): void {
    this.errors.push(`${message} [json-pointer:${pointer}]`);
  }
}

function checkText(
  c: Collector,
  t: unknown,
  pointer: string,
  max: number,
  allowed: readonly string[] = ['plain_text', 'mrkdwn'],
): void {
  if (!isObj(t)) {
    c.add('must be an object', pointer);
    return;
  }
  if (typeof t.type !== 'string' || !allowed.includes(t.type)) {
    c.add(`must be one of ${allowed.join(', ')}`, `${pointer}/type`);
  }
  if (typeof t.text !== 'string') {
    c.add('must be a string', `${pointer}/text`);
    return;
  }
  if (t.text.length < 1) c.add('must be more than 0 characters', `${pointer}/text`);
  if (t.text.length > max) c.add(`must be less than ${max + 1} characters`, `${pointer}/text`);
}

function checkMaxLen(c: Collector, v: unknown, max: number, pointer: string): void {
  if (v === undefined) return;
  if (typeof v !== 'string') c.add('must be a string', pointer);
  else if (v.length > max) c.add(`must be less than ${max + 1} characters`, pointer);
}

function checkElement(c: Collector, el: unknown, pointer: string, actionIds: Set<string>): void {
  if (!isObj(el) || typeof el.type !== 'string') {
    c.add('must be an element object with a type', pointer);
    return;
  }
  if (el.action_id !== undefined) {
    checkMaxLen(c, el.action_id, LIMITS.actionId, `${pointer}/action_id`);
    if (typeof el.action_id === 'string') {
      if (actionIds.has(el.action_id))
        c.add('action_id must be unique within the block', `${pointer}/action_id`);
      actionIds.add(el.action_id);
    }
  }
  if (el.type === 'button') {
    checkText(c, el.text, `${pointer}/text`, LIMITS.buttonText, ['plain_text']);
    checkMaxLen(c, el.value, LIMITS.buttonValue, `${pointer}/value`);
    checkMaxLen(c, el.url, LIMITS.url, `${pointer}/url`);
    if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
      c.add('must be one of primary, danger', `${pointer}/style`);
    }
  }
  if (el.type === 'image') {
    checkMaxLen(c, el.alt_text, LIMITS.altText, `${pointer}/alt_text`);
    if (typeof el.alt_text !== 'string') c.add('must provide alt_text', pointer);
  }
  if (SELECTS.has(el.type) || el.type === 'plain_text_input') {
    if (el.placeholder !== undefined)
      checkText(c, el.placeholder, `${pointer}/placeholder`, LIMITS.placeholder, ['plain_text']);
  }
  if (el.type === 'external_select' || el.type === 'multi_external_select') {
    // An external select loads its options from the app (block_suggestion): it may not list its own.
    if (el.options !== undefined || el.option_groups !== undefined)
      c.add('failed to match all allowed schemas', `${pointer}/options`);
    const q = el.min_query_length;
    if (q !== undefined && (typeof q !== 'number' || !Number.isInteger(q) || q < 0))
      c.add('must be a non-negative integer', `${pointer}/min_query_length`);
  }
  if (el.type === 'static_select' || el.type === 'multi_static_select') {
    if (el.options === undefined && el.option_groups === undefined)
      c.add('must provide options or option_groups', pointer);
  }
  if (el.type === 'plain_text_input') {
    for (const key of ['min_length', 'max_length'] as const) {
      const n = el[key];
      if (n === undefined) continue;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > LIMITS.textInputLength)
        c.add(`must be an integer from 0 to ${LIMITS.textInputLength}`, `${pointer}/${key}`);
    }
  }
}

function checkBlock(c: Collector, b: unknown, i: number, blockIds: Set<string>, base: string): void {
  const p = `${base}/${i}`;
  if (!isObj(b)) {
    c.add('must be an object', p);
    return;
  }
  if (typeof b.type !== 'string' || !KNOWN_BLOCKS.has(b.type)) {
    c.add('failed to match all allowed schemas', `${p}/type`);
    return;
  }
  if (b.block_id !== undefined) {
    checkMaxLen(c, b.block_id, LIMITS.blockId, `${p}/block_id`);
    if (typeof b.block_id === 'string') {
      if (blockIds.has(b.block_id)) c.add('block_id must be unique within the message', `${p}/block_id`);
      blockIds.add(b.block_id);
    }
  }
  const actionIds = new Set<string>();
  switch (b.type) {
    case 'section': {
      if (b.text === undefined && b.fields === undefined) c.add('must provide text or fields', p);
      if (b.text !== undefined) checkText(c, b.text, `${p}/text`, LIMITS.sectionText);
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields)) c.add('must be an array', `${p}/fields`);
        else {
          if (b.fields.length > LIMITS.sectionFields) {
            c.add(`must contain at most ${LIMITS.sectionFields} items`, `${p}/fields`);
          }
          b.fields.forEach((f, j) => {
            checkText(c, f, `${p}/fields/${j}`, LIMITS.fieldText);
          });
        }
      }
      if (b.accessory !== undefined) checkElement(c, b.accessory, `${p}/accessory`, actionIds);
      break;
    }
    case 'header':
      checkText(c, b.text, `${p}/text`, LIMITS.headerText, ['plain_text']);
      break;
    case 'context': {
      if (!Array.isArray(b.elements) || b.elements.length === 0) {
        c.add('must contain at least 1 item', `${p}/elements`);
        break;
      }
      if (b.elements.length > LIMITS.contextElements) {
        c.add(`must contain at most ${LIMITS.contextElements} items`, `${p}/elements`);
      }
      b.elements.forEach((el, j) => {
        if (isObj(el) && (el.type === 'mrkdwn' || el.type === 'plain_text')) {
          checkText(c, el, `${p}/elements/${j}`, LIMITS.sectionText);
        } else checkElement(c, el, `${p}/elements/${j}`, actionIds);
      });
      break;
    }
    case 'actions': {
      if (!Array.isArray(b.elements) || b.elements.length === 0) {
        c.add('must contain at least 1 item', `${p}/elements`);
        break;
      }
      if (b.elements.length > LIMITS.actionsElements) {
        c.add(`must contain at most ${LIMITS.actionsElements} items`, `${p}/elements`);
      }
      b.elements.forEach((el, j) => {
        checkElement(c, el, `${p}/elements/${j}`, actionIds);
      });
      break;
    }
    case 'image':
      checkMaxLen(c, b.image_url, LIMITS.url, `${p}/image_url`);
      if (typeof b.alt_text !== 'string') c.add('must provide alt_text', p);
      else checkMaxLen(c, b.alt_text, LIMITS.altText, `${p}/alt_text`);
      break;
    case 'markdown':
      if (typeof b.text !== 'string') c.add('must be a string', `${p}/text`);
      else checkMaxLen(c, b.text, LIMITS.markdownText, `${p}/text`);
      break;
    case 'rich_text':
      if (!Array.isArray(b.elements)) c.add('must be an array', `${p}/elements`);
      break;
    case 'input': {
      checkText(c, b.label, `${p}/label`, LIMITS.inputLabel, ['plain_text']);
      if (b.hint !== undefined) checkText(c, b.hint, `${p}/hint`, LIMITS.inputHint, ['plain_text']);
      if (!isObj(b.element) || typeof b.element.type !== 'string' || !INPUT_ELEMENTS.has(b.element.type)) {
        c.add('failed to match all allowed schemas', `${p}/element`);
        break;
      }
      checkElement(c, b.element, `${p}/element`, actionIds);
      break;
    }
  }
}

export interface CheckBlocksOptions {
  /** Most blocks allowed: 50 in a message (default), 100 in a modal or Home tab view. */
  maxBlocks?: number;
  /** JSON pointer of the blocks array in the request, for the error messages: '/blocks' (default), '/view/blocks'. */
  pointer?: string;
}

/**
 * Checks a `blocks` argument as Slack does for chat.postMessage / chat.update / chat.postEphemeral / response_url
 * (and, with a view's limits, the blocks of a view): a JSON string or array; not an array →
 * `invalid_blocks_format`; any limit broken → `invalid_blocks`.
 */
export function checkBlocks(raw: unknown, opts: CheckBlocksOptions = {}): BlocksCheck {
  const maxBlocks = opts.maxBlocks ?? LIMITS.blocksPerMessage;
  const base = opts.pointer ?? '/blocks';
  let blocks = raw;
  if (typeof raw === 'string') {
    try {
      blocks = JSON.parse(raw);
    } catch {
      return { ok: false, error: 'invalid_blocks_format', errors: ['blocks is not valid JSON'] };
    }
  }
  if (!Array.isArray(blocks)) {
    return { ok: false, error: 'invalid_blocks_format', errors: ['blocks must be an array'] };
  }
  const c = new Collector();
  if (blocks.length > maxBlocks) {
    c.add(`must contain at most ${maxBlocks} items`, base);
  }
  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    checkBlock(c, b, i, blockIds, base);
  });
  if (c.errors.length > 0) return { ok: false, error: 'invalid_blocks', errors: c.errors };
  return { ok: true, blocks };
}

/** Returns a copy of the blocks where each block without a block_id gets one, as Slack generates them. */
export function withBlockIds(blocks: unknown[]): unknown[] {
  const taken = new Set(blocks.filter(isObj).map((b) => b.block_id));
  return blocks.map((b) => {
    if (!isObj(b) || typeof b.block_id === 'string') return structuredClone(b);
    let id: string;
    do id = randomBytes(4).toString('base64url').slice(0, 5);
    while (taken.has(id));
    taken.add(id);
    return { ...structuredClone(b), block_id: id };
  });
}
