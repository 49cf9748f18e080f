// Owns the sandbox's view of what the bot sent: every message the Slack fake records gets a number on arrival, a
// label saying where it went ("#qlik-approvals", "DM to dan", "only visible to you") and a text rendering of its
// Block Kit; updates re-show the message under its number. Also answers "which messages can this person see and
// press buttons on" and lets scripts wait for text to appear.
import { listButtons, type MessageButton, renderMessage } from '../slack-fake/render.ts';
import type { FakeFile, MessageEventKind, PostedMessage } from '../slack-fake/web-api.ts';

export interface FeedDirectory {
  /** Slack user id → handle. */
  handleOf(userId: string): string;
  /** Channel id → name. */
  channelName(channelId: string): string;
  /** DM channel id → the user it is with, if it is a DM. */
  dmUser(channelId: string): string | undefined;
  /** A file the fake recorded. */
  file(id: string): FakeFile | undefined;
}

export interface FeedEvent {
  seq: number;
  no: number;
  kind: MessageEventKind;
  /** The header and body as printed. */
  printed: string;
}

interface Waiter {
  needle: string;
  afterSeq: number;
  resolve: (e: FeedEvent) => void;
}

export class MessageFeed {
  readonly #dir: FeedDirectory;
  readonly #numbers = new Map<PostedMessage, number>();
  readonly #byNo: PostedMessage[] = [];
  /** Message numbers in the order of their last event, most recent last. */
  #recent: number[] = [];
  readonly events: FeedEvent[] = [];
  #waiters: Waiter[] = [];
  #currentUser = '';
  width = 80;

  constructor(dir: FeedDirectory) {
    this.#dir = dir;
  }

  set currentUser(userId: string) {
    this.#currentUser = userId;
  }

  get size(): number {
    return this.#byNo.length;
  }

  get lastSeq(): number {
    return this.events.length;
  }

  message(no: number): PostedMessage | undefined {
    return this.#byNo[no - 1];
  }

  numberOf(m: PostedMessage): number | undefined {
    return this.#numbers.get(m);
  }

  /** Records an event from the fake and returns what to print. */
  record(m: PostedMessage, kind: MessageEventKind): FeedEvent {
    let no = this.#numbers.get(m);
    if (no === undefined) {
      this.#byNo.push(m);
      no = this.#byNo.length;
      this.#numbers.set(m, no);
    }
    this.#recent = [...this.#recent.filter((n) => n !== no), no];
    const verb = kind === 'posted' ? '' : kind === 'updated' ? ' (updated)' : ' (deleted)';
    const printed =
      kind === 'deleted' ? `── #${no} deleted · ${this.where(m)} ──` : this.format(m, `#${no}${verb}`);
    const event: FeedEvent = { seq: this.events.length + 1, no, kind, printed };
    this.events.push(event);
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (event.seq > w.afterSeq && matches(event.printed, w.needle)) w.resolve(event);
      else still.push(w);
    }
    this.#waiters = still;
    return event;
  }

  /** Header line and rendered body of a message. */
  format(m: PostedMessage, title: string): string {
    const body = emojify(
      renderMessage(m, {
        width: this.width,
        resolveUser: (id) => this.#dir.handleOf(id),
        resolveChannel: (id) => this.#dir.channelName(id),
      }),
    );
    const files = (m.files ?? []).map((f) => {
      const content = this.#dir.file(f.id)?.content;
      const lines = content ? content.toString('utf8').trimEnd().split('\n').length : 0;
      return `📎 ${f.filename}${f.title && f.title !== f.filename ? ` — ${f.title}` : ''}${content ? ` (${lines} lines)` : ''}`;
    });
    const head = `── ${title} · ${this.where(m)} `;
    return [`${head}${'─'.repeat(Math.max(3, this.width - head.length))}`, body, ...files]
      .filter((l) => l !== '')
      .join('\n');
  }

  /** Where a message went, from the current user's point of view. */
  where(m: PostedMessage): string {
    const who = (id: string | undefined) =>
      id === undefined ? 'someone' : id === this.#currentUser ? 'you' : this.#dir.handleOf(id);
    const dmWith = this.#dir.dmUser(m.channel);
    const place = dmWith ? `DM to ${who(dmWith)}` : `#${this.#dir.channelName(m.channel)}`;
    const thread = m.thread_ts ? this.#threadParent(m) : '';
    if (m.ephemeral) return `only visible to ${who(m.user)}${dmWith ? '' : ` in ${place}`}`;
    return `${place}${thread}`;
  }

  #threadParent(m: PostedMessage): string {
    for (const [msg, no] of this.#numbers) {
      if (msg.channel === m.channel && msg.ts === m.thread_ts) return `, reply in thread of #${no}`;
    }
    return ', reply in a thread';
  }

  /** True when this Slack user can see the message (and so press its buttons). */
  visibleTo(m: PostedMessage, userId: string): boolean {
    if (m.deleted) return false;
    if (m.ephemeral) return m.user === userId;
    const dmWith = this.#dir.dmUser(m.channel);
    return dmWith === undefined || dmWith === userId;
  }

  /** Messages with buttons this user can see, most recently shown first. */
  pressable(userId: string): { no: number; message: PostedMessage; buttons: MessageButton[] }[] {
    const out: { no: number; message: PostedMessage; buttons: MessageButton[] }[] = [];
    for (const no of [...this.#recent].reverse()) {
      const message = this.message(no);
      if (!message || !this.visibleTo(message, userId)) continue;
      const buttons = listButtons(message);
      if (buttons.length > 0) out.push({ no, message, buttons });
    }
    return out;
  }

  /** One line per message: number, where, first line of its text. */
  summary(): string {
    if (this.#byNo.length === 0) return 'No messages yet.';
    return this.#byNo
      .map((m, i) => {
        const first = renderMessage(m, {
          width: 200,
          resolveUser: (id) => this.#dir.handleOf(id),
          resolveChannel: (id) => this.#dir.channelName(id),
        })
          .split('\n')
          .find((l) => l.trim() !== '' && !/^[═─]+$/.test(l));
        const flags = `${m.updates.length ? ` (updated ×${m.updates.length})` : ''}${m.deleted ? ' (deleted)' : ''}`;
        return `#${i + 1}  ${this.where(m)}${flags}: ${emojify((first ?? '').trim()).slice(0, 90)}`;
      })
      .join('\n');
  }

  /** Resolves with the first event after `afterSeq` whose printed text contains `needle` (any case, any wrapping). */
  waitFor(needle: string, afterSeq: number, timeoutMs: number): Promise<FeedEvent> {
    const already = this.events.find((e) => e.seq > afterSeq && matches(e.printed, needle));
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        needle,
        afterSeq,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(
          new Error(`no message containing "${needle}" arrived within ${Math.round(timeoutMs / 1000)} s`),
        );
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Resolves once no event has arrived for `quietMs` (or after `maxMs` in any case). */
  async settle(quietMs: number, maxMs: number): Promise<void> {
    const end = Date.now() + maxMs;
    let seen = this.lastSeq;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, Math.min(quietMs, Math.max(0, end - Date.now()))));
      if (this.lastSeq === seen) return;
      seen = this.lastSeq;
    }
  }
}

/** Slack shows these shortcodes as emoji; a terminal can too. Unknown ones stay as typed, as in Slack. */
const EMOJI: Record<string, string> = {
  white_check_mark: '✅',
  envelope: '✉️',
  heavy_check_mark: '✔️',
  x: '❌',
  warning: '⚠️',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  leftwards_arrow_with_hook: '↩️',
  information_source: 'ℹ️',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  alarm_clock: '⏰',
  zap: '⚡',
  wastebasket: '🗑️',
  repeat: '🔁',
  inbox_tray: '📥',
  grey_question: '❔',
  gear: '⚙️',
  lock: '🔒',
  key: '🔑',
  mag: '🔍',
  bust_in_silhouette: '👤',
  busts_in_silhouette: '👥',
  page_facing_up: '📄',
  clock1: '🕐',
  tada: '🎉',
};

function emojify(text: string): string {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}

/** Case-insensitive, and blind to how the text was wrapped. */
function matches(text: string, needle: string): boolean {
  const flat = (t: string) => t.replace(/\s+/g, ' ').toLowerCase();
  return flat(text).includes(flat(needle).trim());
}
