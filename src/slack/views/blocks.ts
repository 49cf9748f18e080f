// Owns Block Kit building and Slack's documented limits: every builder clamps what it is given, `message`
// bounds the whole message, and `validateMessage` lists anything that would still be refused by Slack.
import type {
  ActionsBlock,
  Button,
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  KnownBlock,
  SectionBlock,
} from '@slack/types';
import { truncate } from '../mrkdwn.ts';

/** What every view returns: plain fallback `text` (notifications, screen readers) and the blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Block Kit limits (docs.slack.dev/reference/block-kit), in characters. */
export const LIMITS = {
  blocks: 50,
  text: 3000,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
} as const;

// Slack refuses empty text objects; an em dash keeps a block valid when data turns out empty.
const EMPTY = '—';

function nonEmpty(text: string): string {
  return text.trim() === '' ? EMPTY : text;
}

export function header(text: string): HeaderBlock {
  return {
    type: 'header',
    text: { type: 'plain_text', text: truncate(nonEmpty(text), LIMITS.headerText), emoji: true },
  };
}

/**
 * A mrkdwn section. `verbatim` stops Slack from turning bare URLs, #channels and @names in data into links
 * or mentions; the tokens we build ourselves (`<@U…>`, `<!date…>`) still work.
 */
export function section(mrkdwn: string, accessory?: Button): SectionBlock {
  const block: SectionBlock = {
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(nonEmpty(mrkdwn), LIMITS.sectionText), verbatim: true },
  };
  if (accessory) block.accessory = accessory;
  return block;
}

/** Label/value pairs as section fields, ten to a section. */
export function fieldSections(fields: readonly string[]): SectionBlock[] {
  const out: SectionBlock[] = [];
  for (let i = 0; i < fields.length; i += LIMITS.fields) {
    out.push({
      type: 'section',
      fields: fields.slice(i, i + LIMITS.fields).map((f) => ({
        type: 'mrkdwn' as const,
        text: truncate(nonEmpty(f), LIMITS.fieldText),
        verbatim: true,
      })),
    });
  }
  return out;
}

export function context(...parts: string[]): ContextBlock {
  const texts = parts.filter((p) => p.trim() !== '');
  const kept = texts.length > LIMITS.contextElements ? texts.slice(0, LIMITS.contextElements) : texts;
  return {
    type: 'context',
    elements: (kept.length > 0 ? kept : [EMPTY]).map((t) => ({
      type: 'mrkdwn' as const,
      text: truncate(t, LIMITS.contextText),
      verbatim: true,
    })),
  };
}

export function divider(): DividerBlock {
  return { type: 'divider' };
}

export function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Button {
  const b: Button = {
    type: 'button',
    text: { type: 'plain_text', text: truncate(nonEmpty(text), LIMITS.buttonText), emoji: true },
    action_id: truncate(actionId, LIMITS.actionId),
    value: truncate(value, LIMITS.buttonValue),
  };
  if (style) b.style = style;
  return b;
}

/** A confirmation dialog on a button (Block Kit "confirm" object: title 100, text 300, buttons 30 characters). */
export function withConfirm(
  b: Button,
  d: { title: string; text: string; confirm: string; deny: string },
): Button {
  return {
    ...b,
    confirm: {
      title: { type: 'plain_text', text: truncate(nonEmpty(d.title), 100) },
      text: { type: 'plain_text', text: truncate(nonEmpty(d.text), 300) },
      confirm: { type: 'plain_text', text: truncate(nonEmpty(d.confirm), 30) },
      deny: { type: 'plain_text', text: truncate(nonEmpty(d.deny), 30) },
    },
  };
}

export function actions(...buttons: Button[]): ActionsBlock {
  return { type: 'actions', elements: buttons.slice(0, LIMITS.actionsElements) };
}

/**
 * Packs lines into as few sections as the 3000-character limit allows, using at most `maxBlocks` sections;
 * lines that do not fit are counted into a final "and N more" line written by `more`.
 */
export function listSections(
  lines: readonly string[],
  opts: { maxBlocks: number; maxLine?: number; more: (hidden: number) => string },
): SectionBlock[] {
  const maxLine = opts.maxLine ?? 500;
  const moreReserve = 120;
  const sections: string[] = [];
  let current = '';
  let shown = 0;
  for (const raw of lines) {
    const line = truncate(raw, maxLine);
    const candidate = current === '' ? line : `${current}\n${line}`;
    if (candidate.length <= LIMITS.sectionText - moreReserve) {
      current = candidate;
      shown++;
      continue;
    }
    if (sections.length + 1 >= opts.maxBlocks) break;
    sections.push(current);
    current = line;
    shown++;
  }
  const hidden = lines.length - shown;
  if (hidden > 0) current = current === '' ? opts.more(hidden) : `${current}\n${opts.more(hidden)}`;
  if (current !== '') sections.push(current);
  return sections.map((s) => section(s));
}

/** The one way a view finishes: bounded fallback text and at most 50 blocks, whatever the data. */
export function message(text: string, blocks: readonly KnownBlock[]): SlackMessage {
  const kept =
    blocks.length > LIMITS.blocks
      ? [
          ...blocks.slice(0, LIMITS.blocks - 1),
          context('Some details were left out to fit in one Slack message.'),
        ]
      : [...blocks];
  return { text: truncate(nonEmpty(text.trim()), LIMITS.text), blocks: kept };
}

function checkText(problems: string[], where: string, obj: unknown, max: number, kind?: string): void {
  const t = obj as { type?: unknown; text?: unknown } | undefined;
  if (!t || typeof t.text !== 'string') {
    problems.push(`${where}: missing text`);
    return;
  }
  if (kind !== undefined && t.type !== kind) problems.push(`${where}: must be ${kind}`);
  if (t.text.length === 0) problems.push(`${where}: empty text`);
  if (t.text.length > max) problems.push(`${where}: ${t.text.length} characters (max ${max})`);
}

function checkButton(problems: string[], where: string, el: unknown, actionIds: Set<string>): void {
  const b = el as Partial<Button>;
  if (b.type !== 'button') return;
  checkText(problems, `${where}.text`, b.text, LIMITS.buttonText, 'plain_text');
  if (b.value !== undefined && b.value.length > LIMITS.buttonValue)
    problems.push(`${where}.value: ${b.value.length} characters (max ${LIMITS.buttonValue})`);
  if (b.action_id !== undefined) {
    if (b.action_id.length > LIMITS.actionId)
      problems.push(`${where}.action_id: ${b.action_id.length} characters (max ${LIMITS.actionId})`);
    if (actionIds.has(b.action_id))
      problems.push(`${where}.action_id: "${b.action_id}" repeated in the block`);
    actionIds.add(b.action_id);
  }
}

/** Lists every Block Kit limit the message breaks; empty when Slack would accept it. */
export function validateMessage(m: SlackMessage): string[] {
  const problems: string[] = [];
  if (typeof m.text !== 'string' || m.text.trim() === '') problems.push('text: fallback text is empty');
  else if (m.text.length > LIMITS.text)
    problems.push(`text: ${m.text.length} characters (max ${LIMITS.text})`);
  if (m.blocks.length > LIMITS.blocks)
    problems.push(`blocks: ${m.blocks.length} blocks (max ${LIMITS.blocks})`);
  const blockIds = new Set<string>();
  m.blocks.forEach((block, i) => {
    const where = `blocks[${i}]`;
    if (block.block_id !== undefined) {
      if (block.block_id.length > LIMITS.blockId) problems.push(`${where}.block_id: too long`);
      if (blockIds.has(block.block_id)) problems.push(`${where}.block_id: repeated`);
      blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'header':
        checkText(problems, `${where}.text`, block.text, LIMITS.headerText, 'plain_text');
        break;
      case 'section': {
        if (block.text === undefined && (block.fields === undefined || block.fields.length === 0))
          problems.push(`${where}: a section needs text or fields`);
        if (block.text !== undefined) checkText(problems, `${where}.text`, block.text, LIMITS.sectionText);
        if (block.fields !== undefined) {
          if (block.fields.length > LIMITS.fields)
            problems.push(`${where}.fields: ${block.fields.length} fields (max ${LIMITS.fields})`);
          block.fields.forEach((f, j) => {
            checkText(problems, `${where}.fields[${j}]`, f, LIMITS.fieldText);
          });
        }
        if (block.accessory) checkButton(problems, `${where}.accessory`, block.accessory, new Set());
        break;
      }
      case 'context':
        if (block.elements.length === 0) problems.push(`${where}.elements: empty`);
        if (block.elements.length > LIMITS.contextElements)
          problems.push(
            `${where}.elements: ${block.elements.length} elements (max ${LIMITS.contextElements})`,
          );
        block.elements.forEach((el, j) => {
          if ('text' in el) checkText(problems, `${where}.elements[${j}]`, el, LIMITS.contextText);
        });
        break;
      case 'actions': {
        if (block.elements.length === 0) problems.push(`${where}.elements: empty`);
        if (block.elements.length > LIMITS.actionsElements)
          problems.push(
            `${where}.elements: ${block.elements.length} elements (max ${LIMITS.actionsElements})`,
          );
        const ids = new Set<string>();
        block.elements.forEach((el, j) => {
          checkButton(problems, `${where}.elements[${j}]`, el, ids);
        });
        break;
      }
      default:
        break;
    }
  });
  return problems;
}
