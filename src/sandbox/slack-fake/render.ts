// Owns turning Slack messages (Block Kit + mrkdwn) into readable terminal text, and finding their buttons,
// so the sandbox can show what a person would see in Slack and let them press a button by number.

/** A button as a person sees it in a message, in reading order (the numbers shown by `renderMessage`). */
export interface MessageButton {
  actionId: string;
  value?: string;
  text: string;
  blockId?: string;
  style?: string;
  url?: string;
}

export interface RenderOptions {
  /** Wrap width in columns (default 80). */
  width?: number;
  /** Turns a user id into a display name for `<@U…>` mentions (default: the id itself). */
  resolveUser?: (id: string) => string;
  /** Turns a channel id into a name for `<#C…>` mentions without a label (default: the id itself). */
  resolveChannel?: (id: string) => string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Text of a composition text object: mrkdwn converted to plain, plain_text as is. */
function textOf(t: unknown, opts: RenderOptions): string {
  if (!isObj(t)) return '';
  const text = str(t.text) ?? '';
  return t.type === 'mrkdwn' ? mrkdwnToPlain(text, opts) : text;
}

/**
 * Converts Slack mrkdwn to plain text: `*b*` → b, `_i_` → i, `~s~` → s, `<@U1>` → @name,
 * `<#C1|general>` → #general, `<!here>` → @here, `<!subteam^S1|@ops>` → @ops, `<!date^…|fallback>` → fallback,
 * `<url|label>` → label (url), `&lt;` `&gt;` `&amp;` → < > &. Code spans keep their backticks.
 */
export function mrkdwnToPlain(text: string, opts: RenderOptions = {}): string {
  const resolveUser = opts.resolveUser ?? ((id: string) => id);
  const resolveChannel = opts.resolveChannel ?? ((id: string) => id);
  // Entities first: their bodies may contain * or _ (URLs) that must not be read as emphasis.
  const tokens: string[] = [];
  const keep = (s: string) => {
    tokens.push(s);
    return `\u0000${tokens.length - 1}\u0000`;
  };
  let out = text.replace(/```([\s\S]*?)```/g, (_m, code: string) => keep(code.replace(/^\n|\n$/g, '')));
  out = out.replace(/`([^`\n]+)`/g, (m) => keep(m));
  out = out.replace(/<([^<>\n]+)>/g, (_m, inner: string) => {
    const [target = '', label] = splitLabel(inner);
    if (target.startsWith('@')) return keep(`@${label ?? resolveUser(target.slice(1))}`);
    if (target.startsWith('#')) return keep(`#${label ?? resolveChannel(target.slice(1))}`);
    if (target.startsWith('!')) {
      const cmd = target.slice(1);
      if (cmd.startsWith('date^')) return keep(label ?? cmd);
      if (cmd.startsWith('subteam^')) return keep(label ?? `@${cmd.slice('subteam^'.length)}`);
      return keep(label ?? `@${cmd}`);
    }
    const url = target;
    if (label === undefined || label === url || `mailto:${label}` === url)
      return keep(url.replace(/^mailto:/, ''));
    return keep(`${label} (${url})`);
  });
  out = emphasis(out, '*');
  out = emphasis(out, '_');
  out = emphasis(out, '~');
  out = out.replace(/^(?:>|&gt;) ?/gm, '│ ');
  out = decodeEntities(out);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL delimits placeholders no text can contain
  return out.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => decodeEntities(tokens[Number(i)] ?? ''));
}

function splitLabel(inner: string): [string, string | undefined] {
  const bar = inner.indexOf('|');
  return bar < 0 ? [inner, undefined] : [inner.slice(0, bar), inner.slice(bar + 1)];
}

function emphasis(text: string, mark: string): string {
  const m = mark === '*' ? '\\*' : mark;
  // Slack only reads a mark as formatting at word boundaries, so `2*3*4` and snake_case_names stay as they are.
  const re = new RegExp(
    `(^|[\\s(\\[{"'>*_~])${m}(?=\\S)([^${m}\\n]*?\\S)${m}(?=$|[\\s)\\]}.,;:!?"'<*_~])`,
    'g',
  );
  return text.replace(re, '$1$2');
}

function decodeEntities(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Wraps one paragraph to `width` columns at spaces (keeping the spacing inside a line); long words stay whole. */
function wrap(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const indent = /^(\s*(?:│ |• |\d+\. )?)/.exec(line)?.[1] ?? '';
  const pad = ' '.repeat(indent.length);
  const parts = line.slice(indent.length).split(/( +)/);
  const lines: string[] = [];
  let cur = indent;
  let atStart = true;
  for (let i = 0; i < parts.length; i += 2) {
    const word = parts[i] ?? '';
    const space = i > 0 ? (parts[i - 1] ?? ' ') : '';
    if (atStart) {
      cur += word;
      atStart = false;
    } else if (cur.length + space.length + word.length <= width) {
      cur += space + word;
    } else {
      lines.push(cur);
      cur = pad + word;
    }
  }
  lines.push(cur);
  return lines;
}

function wrapAll(text: string, width: number): string[] {
  return text.split('\n').flatMap((l) => wrap(l, width));
}

function elementsOf(block: Obj): Obj[] {
  return Array.isArray(block.elements) ? block.elements.filter(isObj) : [];
}

/** Every button of the message's blocks (actions blocks and section accessories), in reading order. */
export function listButtons(m: { text?: string; blocks?: unknown[] }): MessageButton[] {
  const out: MessageButton[] = [];
  for (const block of m.blocks ?? []) {
    if (!isObj(block)) continue;
    const blockId = str(block.block_id);
    const candidates = block.type === 'section' ? [block.accessory] : elementsOf(block);
    for (const el of candidates) {
      if (!isObj(el) || el.type !== 'button') continue;
      const b: MessageButton = {
        actionId: str(el.action_id) ?? '',
        text: isObj(el.text) ? (str(el.text.text) ?? '') : '',
      };
      const value = str(el.value);
      if (value !== undefined) b.value = value;
      if (blockId !== undefined) b.blockId = blockId;
      const style = str(el.style);
      if (style !== undefined) b.style = style;
      const url = str(el.url);
      if (url !== undefined) b.url = url;
      out.push(b);
    }
  }
  return out;
}

function renderElement(el: Obj, opts: RenderOptions, nextButton: () => number): string {
  switch (el.type) {
    case 'button': {
      const label = isObj(el.text) ? (str(el.text.text) ?? '') : '';
      return `${nextButton()}:[ ${label} ]`;
    }
    case 'static_select':
    case 'external_select':
    case 'users_select':
    case 'conversations_select':
    case 'channels_select':
    case 'multi_static_select':
    case 'multi_users_select':
      return `[ ${textOf(el.placeholder, opts) || 'Select'} ▾ ]`;
    case 'overflow':
      return '[ ⋯ ]';
    case 'datepicker':
      return `[ ${str(el.initial_date) ?? 'Pick a date'} ]`;
    case 'image':
      return `[image: ${str(el.alt_text) ?? ''}]`;
    case 'mrkdwn':
    case 'plain_text':
      return textOf(el, opts);
    default:
      return `[${String(el.type)}]`;
  }
}

function richTextInline(el: Obj, opts: RenderOptions): string {
  switch (el.type) {
    case 'text':
      return str(el.text) ?? '';
    case 'user':
      return `@${(opts.resolveUser ?? ((id: string) => id))(str(el.user_id) ?? '')}`;
    case 'channel':
      return `#${(opts.resolveChannel ?? ((id: string) => id))(str(el.channel_id) ?? '')}`;
    case 'usergroup':
      return `@${str(el.usergroup_id) ?? ''}`;
    case 'broadcast':
      return `@${str(el.range) ?? ''}`;
    case 'emoji':
      return `:${str(el.name) ?? ''}:`;
    case 'link': {
      const url = str(el.url) ?? '';
      const label = str(el.text);
      return label && label !== url ? `${label} (${url})` : url;
    }
    case 'date':
      return str(el.fallback) ?? String(el.timestamp ?? '');
    default:
      return '';
  }
}

function renderRichText(block: Obj, opts: RenderOptions): string {
  const parts: string[] = [];
  for (const el of elementsOf(block)) {
    const inline = (e: Obj) =>
      elementsOf(e)
        .map((x) => richTextInline(x, opts))
        .join('');
    switch (el.type) {
      case 'rich_text_section':
        parts.push(inline(el));
        break;
      case 'rich_text_preformatted':
        parts.push(inline(el));
        break;
      case 'rich_text_quote':
        parts.push(
          inline(el)
            .split('\n')
            .map((l) => `│ ${l}`)
            .join('\n'),
        );
        break;
      case 'rich_text_list': {
        const ordered = el.style === 'ordered';
        elementsOf(el).forEach((item, i) => {
          parts.push(`${ordered ? `${i + 1}.` : '•'} ${inline(item)}`);
        });
        break;
      }
    }
  }
  return parts.join('\n');
}

/** Lays out section fields two per row, as Slack does on a wide screen. */
function renderFields(fields: unknown[], width: number, opts: RenderOptions): string[] {
  const col = Math.max(10, Math.floor((width - 2) / 2));
  const texts = fields.map((f) => wrapAll(textOf(f, opts), col));
  const lines: string[] = [];
  for (let i = 0; i < texts.length; i += 2) {
    const left = texts[i] ?? [];
    const right = texts[i + 1] ?? [];
    const rows = Math.max(left.length, right.length);
    for (let r = 0; r < rows; r++) {
      const l = left[r] ?? '';
      const rt = right[r];
      lines.push(rt === undefined ? l : `${l.padEnd(col)}  ${rt}`.trimEnd());
    }
  }
  return lines;
}

/**
 * Renders a message as terminal text: header underlined, sections (text, two-column fields, accessory),
 * context, dividers, images, rich text, and buttons numbered in reading order as `1:[ Approve ]  2:[ Deny ]`
 * (the numbers index `listButtons(m)` from 1). Without blocks, the `text` is rendered instead.
 */
export function renderMessage(m: { text?: string; blocks?: unknown[] }, opts: RenderOptions = {}): string {
  const width = opts.width ?? 80;
  const blocks = (m.blocks ?? []).filter(isObj);
  if (blocks.length === 0) return wrapAll(mrkdwnToPlain(m.text ?? '', opts), width).join('\n');
  let buttonNo = 0;
  const nextButton = () => ++buttonNo;
  const out: string[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'header': {
        const t = textOf(block.text, opts);
        out.push(...wrapAll(t, width));
        out.push('═'.repeat(Math.min(width, Math.max(3, t.length))));
        break;
      }
      case 'section': {
        if (block.text !== undefined) out.push(...wrapAll(textOf(block.text, opts), width));
        if (Array.isArray(block.fields)) out.push(...renderFields(block.fields, width, opts));
        if (isObj(block.accessory)) out.push(`    ${renderElement(block.accessory, opts, nextButton)}`);
        break;
      }
      case 'context': {
        const parts = elementsOf(block).map((el) => renderElement(el, opts, nextButton));
        out.push(...wrapAll(`  ${parts.join('  ·  ')}`, width));
        break;
      }
      case 'divider':
        out.push('─'.repeat(width));
        break;
      case 'actions':
        out.push(
          ...wrapAll(
            elementsOf(block)
              .map((el) => renderElement(el, opts, nextButton))
              .join('  '),
            width,
          ),
        );
        break;
      case 'image':
        out.push(`[image: ${str(block.alt_text) ?? ''}]`);
        break;
      case 'markdown':
        out.push(...wrapAll(str(block.text) ?? '', width));
        break;
      case 'rich_text':
        out.push(...wrapAll(renderRichText(block, opts), width));
        break;
      case 'input':
        out.push(`[input: ${textOf(block.label, opts)}]`);
        break;
      default:
        out.push(`[${String(block.type)} block]`);
    }
  }
  return out.join('\n');
}
