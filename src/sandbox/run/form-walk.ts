// Owns walking the bot's request form from the sandbox terminal: `form` (or `/qlik` alone) opens the modal as the
// current person, then each field becomes a prompt — who, the kind of access, the space when the kind needs one, the
// role (suggested by the bot as Slack would ask it, from what is typed), the duration and the reason — answered by
// the next lines typed (or scripted), and the form is submitted as Slack would submit it. What the bot answers
// (inline errors, the receipt in place of the form) is printed; the receipt DM arrives as a message like any other.
import { renderMessage } from '../slack-fake/render.ts';
import type { EnteredValue, FakeView, MenuOption } from '../slack-fake/views.ts';
import { type DemoUser, findDemoUser } from './demo-world.ts';

/** The user's modal stack as the Slack fake keeps it (SlackFake.openViews). */
export interface FormSurface {
  openViews(userId: string): FakeView[];
}

/** What the walk asks of the signed-request driver (SlackDriver). */
export interface FormDriver {
  slash(
    userId: string,
    text: string,
    opts?: { channelId?: string; command?: string },
  ): Promise<{ status: number }>;
  suggest(
    userId: string,
    view: FakeView,
    actionId: string,
    value: string,
  ): Promise<{ options: MenuOption[]; failure?: string }>;
  select(
    userId: string,
    view: FakeView,
    blockId: string,
    value: EnteredValue,
  ): Promise<{ dispatched: boolean }>;
  submit(
    userId: string,
    view: FakeView,
    values: Record<string, EnteredValue>,
  ): Promise<{ action?: string; top?: FakeView; failure?: string }>;
}

interface Choice {
  label: string;
  value: string;
}

type Step =
  | { kind: 'who' }
  | { kind: 'kind'; choices: Choice[] }
  | { kind: 'search'; block: 'space' | 'entitlement'; label: string }
  | { kind: 'pick'; block: 'space' | 'entitlement'; label: string; choices: Choice[] }
  | { kind: 'duration'; choices: Choice[]; optional: boolean; hint: string }
  | { kind: 'reason'; optional: boolean; hint: string };

type Block = Record<string, unknown> & { block_id?: string; element?: Record<string, unknown> };

/** How long the walk waits for the bot to open or re-render the form. */
const VIEW_WAIT_MS = 5_000;

export class FormWalk {
  readonly #driver: FormDriver;
  readonly #surface: FormSurface;
  readonly #user: DemoUser;
  readonly #users: readonly DemoUser[];
  readonly #print: (text: string) => void;
  #view: FakeView;
  #step: Step = { kind: 'who' };
  readonly #values: Record<string, EnteredValue> = {};

  private constructor(
    d: {
      driver: FormDriver;
      surface: FormSurface;
      user: DemoUser;
      users: readonly DemoUser[];
      print: (t: string) => void;
    },
    view: FakeView,
  ) {
    this.#driver = d.driver;
    this.#surface = d.surface;
    this.#user = d.user;
    this.#users = d.users;
    this.#print = d.print;
    this.#view = view;
  }

  /**
   * Waits for the request form `act` opens (e.g. `/qlik` typed as the user) and starts walking it; undefined when
   * no form opened (the bot answered in a message instead).
   */
  static async after(
    act: () => Promise<unknown>,
    d: {
      driver: FormDriver;
      surface: FormSurface;
      user: DemoUser;
      users: readonly DemoUser[];
      print: (t: string) => void;
    },
  ): Promise<FormWalk | undefined> {
    const before = d.surface.openViews(d.user.id).at(-1);
    await act();
    const view = await waitFor(() => {
      const top = d.surface.openViews(d.user.id).at(-1);
      return top && top !== before && top.view.callback_id === 'request_form' ? top : undefined;
    }, VIEW_WAIT_MS);
    if (!view) return undefined;
    d.print(
      '(the request form opened: answer each field; an empty line keeps the default or skips an optional one)',
    );
    return new FormWalk(d, view);
  }

  /** The question for the next line. */
  prompt(): string {
    const s = this.#step;
    switch (s.kind) {
      case 'who':
        return 'For (empty: you; or @name, an email, or a group name): ';
      case 'kind':
        return `What kind of access? ${numbered(s.choices)} (empty: ${s.choices[0]?.label}): `;
      case 'search':
        return `${s.label} (type part of the name, empty for all): `;
      case 'pick':
        return `${s.label}: ${numbered(s.choices)}: `;
      case 'duration':
        return `For how long? ${numbered(s.choices)}${s.optional ? ` (empty: ${s.hint})` : ''}: `;
      case 'reason':
        return `Reason${s.optional ? ' (optional)' : ' (required)'}: `;
    }
  }

  /** Takes one answer; resolves true once the form has been submitted (or could not go on). */
  async answer(line: string): Promise<boolean> {
    const text = line.trim();
    const s = this.#step;
    switch (s.kind) {
      case 'who': {
        if (text.startsWith('@')) {
          const found = findDemoUser(this.#users, text.slice(1));
          if (found === undefined || Array.isArray(found)) throw new Error(`No single demo user "${text}".`);
          if (found.id !== this.#user.id) this.#values.who_person = found.id;
        } else if (text !== '') this.#values.who_other = text;
        this.#step = { kind: 'kind', choices: optionsOf(this.#block('kind')) };
        return false;
      }
      case 'kind': {
        const chosen = text === '' ? s.choices[0] : choose(s.choices, text);
        if (!chosen) throw new Error(`Pick one of ${numbered(s.choices)}.`);
        this.#values.kind = chosen.value;
        const initial = (this.#block('kind').element?.initial_option as { value?: string } | undefined)
          ?.value;
        if (chosen.value !== initial) await this.#change('kind', chosen.value);
        this.#step = this.#has('space')
          ? { kind: 'search', block: 'space', label: labelOf(this.#block('space')) }
          : { kind: 'search', block: 'entitlement', label: labelOf(this.#block('entitlement')) };
        return false;
      }
      case 'search': {
        const found = await this.#driver.suggest(this.#user.id, this.#view, `form_${s.block}`, text);
        if (found.failure) throw new Error(`Slack could not show the list: ${found.failure}`);
        const choices = found.options.map((o) => ({ label: o.text.text, value: o.value }));
        const exact = choices.filter((c) => c.label.toLowerCase() === text.toLowerCase());
        const only = exact.length === 1 ? exact : choices.length === 1 ? choices : [];
        if (only.length === 1) {
          this.#print(`  → ${only[0]!.label}`);
          return this.#picked(s.block, only[0]!);
        }
        if (choices.length === 0) {
          this.#print('  (nothing matches; type something else)');
          return false;
        }
        this.#step = { kind: 'pick', block: s.block, label: s.label, choices: choices.slice(0, 20) };
        return false;
      }
      case 'pick': {
        const chosen = choose(s.choices, text);
        if (!chosen) throw new Error(`Pick one of ${numbered(s.choices)}.`);
        return this.#picked(s.block, chosen);
      }
      case 'duration': {
        if (text !== '') {
          const chosen = choose(s.choices, text);
          if (!chosen) throw new Error(`Pick one of ${numbered(s.choices)}.`);
          this.#values.duration = chosen.value;
        } else if (!s.optional) throw new Error('This role needs a duration.');
        const reason = this.#block('reason');
        this.#step = { kind: 'reason', optional: reason.optional === true, hint: hintOf(reason) };
        return false;
      }
      case 'reason': {
        if (text !== '') this.#values.reason = text;
        return this.#submit();
      }
    }
  }

  async #picked(block: 'space' | 'entitlement', chosen: Choice): Promise<boolean> {
    this.#values[block] = chosen.value;
    await this.#change(block, chosen.value);
    if (block === 'space') {
      this.#step = { kind: 'search', block: 'entitlement', label: labelOf(this.#block('entitlement')) };
      return false;
    }
    const duration = this.#block('duration');
    this.#print(`  (${hintOf(duration)} ${hintOf(this.#block('reason'))})`);
    this.#step = {
      kind: 'duration',
      choices: optionsOf(duration),
      optional: duration.optional === true,
      hint: 'the default',
    };
    return false;
  }

  /** Picks a value in a field that re-renders the form, and waits for the bot's re-render. */
  async #change(block: string, value: string): Promise<void> {
    const hash = this.#view.view.hash;
    const res = await this.#driver.select(this.#user.id, this.#view, block, value);
    if (!res.dispatched) return;
    const updated = await waitFor(() => (this.#view.view.hash !== hash ? true : undefined), VIEW_WAIT_MS);
    if (!updated) this.#print('  (the form did not change; carrying on with it as it is)');
  }

  async #submit(): Promise<boolean> {
    const res = await this.#driver.submit(this.#user.id, this.#view, this.#values);
    if (res.failure) throw new Error(`Slack shows: ${res.failure}`);
    if (res.action === 'errors') {
      const errors = Object.entries(res.top?.errors ?? {}).map(([field, why]) => `  ! ${field}: ${why}`);
      this.#print(`The form says:\n${errors.join('\n')}\n(type \`form\` to start again)`);
      return true;
    }
    const shown = res.top ? viewText(res.top) : '(the form closed)';
    this.#print(`The form now shows:\n${shown}`);
    return true;
  }

  #has(blockId: string): boolean {
    return this.#view.view.blocks.some((b) => (b as Block).block_id === blockId);
  }

  #block(blockId: string): Block {
    const b = this.#view.view.blocks.find((x) => (x as Block).block_id === blockId) as Block | undefined;
    if (!b) throw new Error(`The form has no ${blockId} field.`);
    return b;
  }
}

function optionsOf(b: Block): Choice[] {
  const options = (b.element?.options as { text: { text: string }; value: string }[] | undefined) ?? [];
  return options.map((o) => ({ label: o.text.text, value: o.value }));
}

function labelOf(b: Block): string {
  return (b.label as { text?: string } | undefined)?.text ?? String(b.block_id);
}

function hintOf(b: Block): string {
  return (b.hint as { text?: string } | undefined)?.text ?? '';
}

function numbered(choices: readonly Choice[]): string {
  return choices.map((c, i) => `${i + 1}. ${c.label}`).join('  ');
}

/** A choice by its number, or by its label (exact, then the only one starting with the text). */
function choose(choices: readonly Choice[], text: string): Choice | undefined {
  if (/^\d+$/.test(text)) return choices[Number(text) - 1];
  const t = text.toLowerCase();
  const exact = choices.find((c) => c.label.toLowerCase() === t);
  if (exact) return exact;
  const starts = choices.filter((c) => c.label.toLowerCase().startsWith(t));
  return starts.length === 1 ? starts[0] : undefined;
}

/** A view's words as the terminal prints a message. */
function viewText(fv: FakeView): string {
  return renderMessage({ blocks: fv.view.blocks })
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** Resolves with `pred`'s value once it has one (checked each turn of the event loop), or undefined after `ms`. */
async function waitFor<T>(pred: () => T | undefined, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = pred();
    if (v !== undefined) return v;
    if (Date.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, 5));
  }
}
