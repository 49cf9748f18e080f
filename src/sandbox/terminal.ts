// Owns the sandbox terminal: you act as demo Slack users — `as dan`, `/qlik grant …`, `press Approve` — and read
// every message the bot sends as text, numbered and labelled with where it went; `home` opens the person's App Home
// tab and shows it as text, and `press … on home` presses its buttons. Interactive on a TTY (node:readline);
// on a pipe it runs a script of inputs, one per line, with `wait <text>` to wait for a message, and stops at the
// first failure.
import { createInterface, type Interface } from 'node:readline';
import type { Writable } from 'node:stream';
import { parseDuration } from '../config.ts';
import { OPEN_FORM_ACTION } from '../slack/views/request-form.ts';
import { type DemoUser, type DemoWorld, findDemoUser } from './run/demo-world.ts';
import { type FormDriver, type FormSurface, FormWalk } from './run/form-walk.ts';
import type { MessageFeed } from './run/message-feed.ts';
import { listButtons, type MessageButton, renderMessage } from './slack-fake/render.ts';
import type { FakeView } from './slack-fake/views.ts';
import type { PostedMessage } from './slack-fake/web-api.ts';

export type TerminalInput =
  | { kind: 'empty' }
  | { kind: 'as'; who: string }
  | { kind: 'slash'; command: string; text: string }
  | { kind: 'press'; button: { index: number } | { text: string }; messageNo?: number; onHome?: true }
  | { kind: 'home' }
  | { kind: 'messages' }
  | { kind: 'show'; messageNo: number }
  | { kind: 'users' }
  | { kind: 'form' }
  | { kind: 'help' }
  | { kind: 'wait'; text: string; timeoutMs?: number }
  | { kind: 'quit' }
  | { kind: 'invalid'; problem: string };

/** What the terminal needs from the signed-request driver (SlackDriver). */
export interface TerminalDriver {
  slash(
    userId: string,
    text: string,
    opts?: { channelId?: string; command?: string },
  ): Promise<{ status: number; body: string }>;
  click(
    userId: string,
    message: PostedMessage,
    actionId: string,
    opts?: { value?: string },
  ): Promise<{ status: number; body: string }>;
  /** A press on a view: the person's App Home. */
  click(
    userId: string,
    view: FakeView,
    actionId: string,
    opts?: { value?: string },
  ): Promise<{ status: number; body: string }>;
  /** The person opens the app's Home tab (app_home_opened). */
  openHome(userId: string): Promise<{ status: number; body: string }>;
}

/** The people's App Home tabs as the Slack fake keeps them. */
export interface TerminalHomes {
  /** The person's published Home, if the bot published one. */
  view(userId: string): FakeView | undefined;
  /** How many times the bot published the person's Home (to see a new one arrive). */
  publishes(userId: string): number;
}

/** Parses one line typed (or scripted) at the terminal. Pure. */
export function parseInput(line: string): TerminalInput {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return { kind: 'empty' };
  if (text.startsWith('/')) {
    const m = /^(\/\S+)\s*([\s\S]*)$/.exec(text)!;
    return { kind: 'slash', command: m[1]!.toLowerCase(), text: m[2]!.trim() };
  }
  const [word = '', ...rest] = text.split(/\s+/);
  const arg = rest.join(' ');
  switch (word.toLowerCase()) {
    case 'as':
      return arg
        ? { kind: 'as', who: arg }
        : { kind: 'invalid', problem: 'say who to act as, e.g. `as dan`' };
    case 'home':
      return { kind: 'home' };
    case 'press':
    case 'click': {
      const home = /^(.+?)\s+on\s+home$/i.exec(arg);
      const m = home ? [arg, home[1]!, undefined] : /^(.+?)(?:\s+on\s+#?(\d+))?$/i.exec(arg);
      if (!arg || !m)
        return {
          kind: 'invalid',
          problem: 'say which button, e.g. `press 1`, `press Approve` or `press 2 on #3`',
        };
      const what = m[1]!
        .trim()
        .replace(/^\[\s*|\s*\]$/g, '')
        .replace(/^(['"])(.*)\1$/, '$2');
      const messageNo = m[2] === undefined ? undefined : Number(m[2]);
      const button = /^\d+$/.test(what) ? { index: Number(what) } : { text: what };
      if (home) return { kind: 'press', button, onHome: true };
      return messageNo === undefined ? { kind: 'press', button } : { kind: 'press', button, messageNo };
    }
    case 'messages':
    case 'ls':
      return { kind: 'messages' };
    case 'show': {
      const n = /^#?(\d+)$/.exec(arg);
      return n
        ? { kind: 'show', messageNo: Number(n[1]) }
        : { kind: 'invalid', problem: 'say which message, e.g. `show 3`' };
    }
    case 'users':
    case 'who':
      return { kind: 'users' };
    case 'form':
      return { kind: 'form' };
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'wait': {
      const m = /^(\d+\s*[smh])\s+(.+)$/i.exec(arg);
      const timeoutMs = m ? parseDuration(m[1]!) : undefined;
      const needle = (m && timeoutMs !== undefined ? m[2]! : arg).trim();
      if (!needle) return { kind: 'invalid', problem: 'say what to wait for, e.g. `wait Approved`' };
      return timeoutMs === undefined
        ? { kind: 'wait', text: needle }
        : { kind: 'wait', text: needle, timeoutMs };
    }
    case 'quit':
    case 'exit':
    case 'q':
      return { kind: 'quit' };
    default:
      return {
        kind: 'invalid',
        problem: `I don't know \`${word}\`. Type \`help\`, a \`/qlik …\` command, \`as <name>\` or \`press <button>\`.`,
      };
  }
}

/** Picks the button a `press` means among the messages the user can see. Pure. */
export function choosePress(
  input: Extract<TerminalInput, { kind: 'press' }>,
  candidates: { no: number; message: PostedMessage; buttons: MessageButton[] }[],
): { ok: true; no: number; message: PostedMessage; button: MessageButton } | { ok: false; problem: string } {
  const pool =
    input.messageNo === undefined ? candidates : candidates.filter((c) => c.no === input.messageNo);
  if (pool.length === 0) {
    return {
      ok: false,
      problem:
        input.messageNo === undefined
          ? 'No message you can see has buttons.'
          : `Message #${input.messageNo} has no buttons you can see (or you can't see it).`,
    };
  }
  if ('index' in input.button) {
    const c = pool[0]!;
    const b = c.buttons[input.button.index - 1];
    if (!b) return { ok: false, problem: `Message #${c.no} has buttons 1–${c.buttons.length}.` };
    return { ok: true, no: c.no, message: c.message, button: b };
  }
  for (const test of buttonTests(input.button.text)) {
    for (const c of pool) {
      const b = c.buttons.find(test);
      if (b) return { ok: true, no: c.no, message: c.message, button: b };
    }
  }
  const offered = [...new Set(pool.flatMap((c) => c.buttons.map((b) => b.text)))].join(', ');
  return {
    ok: false,
    problem: `No button "${input.button.text}" on the messages you can see (there is: ${offered}).`,
  };
}

/** How a typed label finds a button: the exact label first, then one starting with it, then one containing it. */
function buttonTests(text: string): ((b: MessageButton) => boolean)[] {
  const want = text.toLowerCase();
  return [
    (b) => b.text.toLowerCase() === want,
    (b) => b.text.toLowerCase().startsWith(want),
    (b) => b.text.toLowerCase().includes(want),
  ];
}

/** Picks the button a `press … on home` means among the Home's buttons (numbered as `home` shows them). Pure. */
export function chooseHomeButton(
  button: { index: number } | { text: string },
  buttons: MessageButton[],
): { ok: true; button: MessageButton } | { ok: false; problem: string } {
  if (buttons.length === 0)
    return { ok: false, problem: 'Your Home has no buttons (type `home` to open it).' };
  if ('index' in button) {
    const b = buttons[button.index - 1];
    return b ? { ok: true, button: b } : { ok: false, problem: `Your Home has buttons 1–${buttons.length}.` };
  }
  for (const test of buttonTests(button.text)) {
    const b = buttons.find(test);
    if (b) return { ok: true, button: b };
  }
  const offered = [...new Set(buttons.map((b) => b.text))].join(', ');
  return { ok: false, problem: `No button "${button.text}" on your Home (there is: ${offered}).` };
}

export interface TerminalDeps {
  world: DemoWorld;
  feed: MessageFeed;
  driver: TerminalDriver;
  input: NodeJS.ReadableStream;
  output: Writable;
  /** TTY: prompt and keep going on errors. Otherwise: a script, echoed, stopping at the first failure. */
  interactive: boolean;
  /** Default timeout of `wait`; default 20 s. */
  waitTimeoutMs?: number;
  /** Printed once at the start. */
  banner?: string;
  /** The App Home tabs (the Slack fake's); without them `home` says there is none. */
  homes?: TerminalHomes;
  /** The request form's modal as the Slack fake keeps it, and the driver's gestures in it (`form`). */
  forms?: { surface: FormSurface; driver: FormDriver };
}

export class Terminal {
  readonly #d: TerminalDeps;
  #user: DemoUser;
  #rl: Interface | undefined;
  /** Feed position a script's next `wait` looks after. */
  #waitCursor = 0;
  #inFlight = new Set<Promise<unknown>>();
  #stopped = false;
  /** The request form being walked: the next lines answer its fields. */
  #form: FormWalk | undefined;

  constructor(deps: TerminalDeps) {
    this.#d = deps;
    this.#user = deps.world.users.find((u) => u.handle === deps.world.firstUser) ?? deps.world.users[0]!;
    deps.feed.currentUser = this.#user.id;
  }

  get user(): DemoUser {
    return this.#user;
  }

  /** Ends run() as if the input had ended (a signal, or the bot going away). */
  stop(): void {
    this.#stopped = true;
    this.#rl?.close();
  }

  /** Prints text without tearing the prompt the person is typing on. */
  print(text: string): void {
    const out = this.#d.output;
    if (this.#d.interactive && this.#rl) {
      out.write('\r\x1b[2K');
      out.write(`${text}\n`);
      this.#rl.prompt(true);
    } else {
      out.write(`${text}\n`);
    }
  }

  #prompt(): string {
    return this.#form ? `${this.#user.handle} form> ${this.#form.prompt()}` : `${this.#user.handle}> `;
  }

  /** One line answering the form's current field; the walk ends once the form is submitted. */
  async #answerForm(form: FormWalk, line: string): Promise<void> {
    try {
      if (await form.answer(line)) this.#form = undefined;
    } catch (err) {
      // A wrong answer is asked again when typing; a script stops there (like any failing step).
      if (!this.#d.interactive) this.#form = undefined;
      throw err;
    }
  }

  /** Runs until `quit` or the end of input; resolves with the exit code (1 when a script step failed). */
  async run(): Promise<number> {
    const { input, output, interactive } = this.#d;
    const rl = createInterface({ input, output: interactive ? output : undefined, terminal: interactive });
    this.#rl = rl;
    // Ctrl-C leaves like `quit` does, so the sandbox can clean up behind itself.
    rl.on('SIGINT', () => rl.close());
    if (this.#d.banner) this.print(this.#d.banner);
    try {
      if (interactive) {
        rl.setPrompt(this.#prompt());
        rl.prompt();
        for await (const line of rl) {
          const form = this.#form;
          const parsed = form ? ({ kind: 'empty' } as const) : parseInput(line);
          if (parsed.kind === 'quit') break;
          try {
            if (form) await this.#answerForm(form, line);
            else await this.execute(parsed);
          } catch (err) {
            this.print(`! ${err instanceof Error ? err.message : String(err)}`);
          }
          rl.setPrompt(this.#prompt());
          rl.prompt();
        }
        output.write('\n');
        return 0;
      }
      for await (const line of rl) {
        const form = this.#form;
        const parsed = parseInput(line);
        // In a form, an empty line is an answer (keep the default); a comment is still a comment.
        if (!form && parsed.kind === 'empty') continue;
        if (form && line.trim().startsWith('#')) continue;
        this.print(`${this.#prompt()}${line.trim()}`);
        if (!form && parsed.kind === 'quit') break;
        try {
          if (form) await this.#answerForm(form, line);
          else await this.execute(parsed);
        } catch (err) {
          this.print(`! ${err instanceof Error ? err.message : String(err)}`);
          this.print('! the script stops here');
          return 1;
        }
      }
      if (this.#stopped) return 130;
      // End of the script: let the bot finish what the last inputs started, then stop.
      await Promise.allSettled([...this.#inFlight]);
      await this.#d.feed.settle(750, 10_000);
      return 0;
    } finally {
      rl.close();
      this.#rl = undefined;
    }
  }

  /** Carries out one input. Throws an Error whose message is written for the person at the keyboard. */
  async execute(input: TerminalInput): Promise<void> {
    switch (input.kind) {
      case 'empty':
      case 'quit':
        return;
      case 'invalid':
        throw new Error(input.problem);
      case 'help':
        this.print(helpText(this.#d.world, this.#user));
        return;
      case 'users':
        this.print(usersText(this.#d.world, this.#user));
        return;
      case 'form':
        return this.#openForm(() => this.#sendSlash('/qlik', ''));
      case 'messages':
        this.print(this.#d.feed.summary());
        return;
      case 'show': {
        const m = this.#d.feed.message(input.messageNo);
        if (!m) throw new Error(`There is no message #${input.messageNo} (there are ${this.#d.feed.size}).`);
        this.print(this.#d.feed.format(m, `#${input.messageNo}`));
        return;
      }
      case 'as':
        return this.#switchUser(input.who);
      case 'slash':
        return this.#slash(input.command, input.text);
      case 'press':
        return input.onHome ? this.#pressHome(input.button) : this.#press(input);
      case 'home':
        return this.#openHome();
      case 'wait': {
        const ev = await this.#d.feed.waitFor(
          input.text,
          this.#waitCursor,
          input.timeoutMs ?? this.#d.waitTimeoutMs ?? 20_000,
        );
        this.#waitCursor = ev.seq;
        return;
      }
    }
  }

  #switchUser(query: string): void {
    const found = findDemoUser(this.#d.world.users, query);
    if (found === undefined) throw new Error(`No demo user "${query}". Type \`users\` to see them.`);
    if (Array.isArray(found)) {
      throw new Error(
        `"${query}" could be ${found.map((u) => u.handle).join(', ')} — type more of the name.`,
      );
    }
    if (found.deleted) throw new Error(`${found.handle} is deactivated in Slack and can't type commands.`);
    this.#user = found;
    this.#d.feed.currentUser = found.id;
    this.print(`You are now @${found.handle} (${describeUser(found)}).`);
  }

  async #slash(command: string, typed: string): Promise<void> {
    if (command !== '/qlik' && command !== '/mode')
      throw new Error(`Only /qlik and /mode are installed in this workspace, not ${command}.`);
    // `/qlik` alone and `/qlik grant` alone open the request form: walk it here, as Slack would show it.
    if (command === '/qlik' && /^(grant)?$/i.test(typed.trim()))
      return this.#openForm(() => this.#sendSlash(command, typed));
    return this.#sendSlash(command, typed);
  }

  /** Does `act` and, when it opened the request form, starts walking it. */
  async #openForm(act: () => Promise<void>): Promise<void> {
    const forms = this.#d.forms;
    if (!forms) return act();
    const walk = await FormWalk.after(act, {
      ...forms,
      user: this.#user,
      users: this.#d.world.users,
      print: (t) => this.print(t),
    });
    if (walk) this.#form = walk;
  }

  async #sendSlash(command: string, typed: string): Promise<void> {
    // The driver escapes @names, #channels and emails as Slack does for a command with should_escape on.
    const op = this.#d.driver.slash(this.#user.id, typed, {
      channelId: this.#d.world.commandChannel.id,
      command,
    });
    this.#track(op);
    const res = await op;
    // Slack shows the person this when the app doesn't answer 200 within 3 seconds.
    if (res.status !== 200)
      throw new Error(`Slack says: ${command} failed with the error "http_error_${res.status}"`);
  }

  async #press(input: Extract<TerminalInput, { kind: 'press' }>): Promise<void> {
    const choice = choosePress(input, this.#d.feed.pressable(this.#user.id));
    if (!choice.ok) throw new Error(choice.problem);
    const { message, button } = choice;
    const op = this.#d.driver.click(
      this.#user.id,
      message,
      button.actionId,
      button.value === undefined ? {} : { value: button.value },
    );
    this.#track(op);
    this.print(`(@${this.#user.handle} pressed [ ${button.text} ] on #${choice.no})`);
    const res = await op;
    if (res.status !== 200)
      throw new Error(`Slack says: the app didn't answer the click (HTTP ${res.status}).`);
  }

  /** Opens the person's Home tab and shows it once the bot has published it. */
  async #openHome(): Promise<void> {
    const homes = this.#homes();
    const before = homes.publishes(this.#user.id);
    const res = await this.#d.driver.openHome(this.#user.id);
    if (res.status !== 200) throw new Error(`Slack says: the app didn't answer (HTTP ${res.status}).`);
    await this.#showHomeAfter(before);
  }

  async #pressHome(button: { index: number } | { text: string }): Promise<void> {
    const homes = this.#homes();
    const view = homes.view(this.#user.id);
    const choice = chooseHomeButton(button, view ? listButtons(view.view) : []);
    if (!choice.ok) throw new Error(choice.problem);
    const before = homes.publishes(this.#user.id);
    const press = async (): Promise<void> => {
      const op = this.#d.driver.click(
        this.#user.id,
        view!,
        choice.button.actionId,
        choice.button.value === undefined ? {} : { value: choice.button.value },
      );
      this.#track(op);
      this.print(`(@${this.#user.handle} pressed [ ${choice.button.text} ] on their Home)`);
      const res = await op;
      if (res.status !== 200)
        throw new Error(`Slack says: the app didn't answer the click (HTTP ${res.status}).`);
    };
    // The Request access button opens the request form (a modal), walked here as after `/qlik` alone.
    if (choice.button.actionId === OPEN_FORM_ACTION) return this.#openForm(press);
    await press();
    await this.#showHomeAfter(before);
  }

  /** Waits for a Home published after `before` publishes, then prints it. */
  async #showHomeAfter(before: number): Promise<void> {
    const homes = this.#homes();
    const userId = this.#user.id;
    const deadline = Date.now() + (this.#d.waitTimeoutMs ?? 20_000);
    while (homes.publishes(userId) <= before) {
      if (Date.now() > deadline) throw new Error('The bot did not publish your Home in time.');
      await new Promise((r) => setTimeout(r, 50));
    }
    const view = homes.view(userId)!;
    const body = renderMessage(view.view, {
      width: this.#d.feed.width,
      resolveUser: (id) => this.#d.world.users.find((u) => u.id === id)?.handle ?? id,
    });
    const head = `── Home of @${this.#user.handle} `;
    this.print(`${head}${'─'.repeat(Math.max(3, this.#d.feed.width - head.length))}\n${body}`);
  }

  #homes(): TerminalHomes {
    if (!this.#d.homes) throw new Error('This workspace has no App Home.');
    return this.#d.homes;
  }

  #track(p: Promise<unknown>): void {
    this.#inFlight.add(p);
    const done = () => this.#inFlight.delete(p);
    p.then(done, done);
  }
}

function describeUser(u: DemoUser): string {
  const parts = [u.realName ?? u.name, u.email ?? 'no email'];
  if (u.qlik && u.qlik.roles.length > 0) parts.push(`Qlik roles: ${u.qlik.roles.join(', ')}`);
  if (u.note) parts.push(u.note);
  return parts.join(', ');
}

function usersText(world: DemoWorld, current: DemoUser): string {
  const rows = world.users.map((u) => {
    const me = u.id === current.id ? '*' : ' ';
    const roles = u.qlik ? u.qlik.roles.join(', ') || '—' : '';
    return `${me} @${u.handle.padEnd(14)} ${(u.realName ?? '').padEnd(20)} ${(u.email ?? '(no email)').padEnd(28)} ${roles}${u.note ? `  [${u.note}]` : ''}`;
  });
  return [
    'Demo Slack users (* = you). Qlik roles are the direct ones at start; groups add more (try /qlik whois).',
    ...rows,
    `Approvers: @${world.approversGroup.handle} = ${world.approversGroup.members
      .map((id) => `@${world.users.find((u) => u.id === id)?.handle ?? id}`)
      .join(', ')}`,
  ].join('\n');
}

export function helpText(world: DemoWorld, current: DemoUser): string {
  const approvers = world.approversGroup.members
    .map((id) => `@${world.users.find((u) => u.id === id)?.handle ?? id}`)
    .join(', ');
  const someone = world.users.find((u) => u.handle === 'frank')?.handle ?? 'frank';
  const special = world.users.filter((u) => u.note && !world.approversGroup.members.includes(u.id));
  const plain = world.users.filter((u) => !u.note && !u.deleted).slice(0, 8);
  const tryRows: [string, string][] = [
    [`/qlik grant @${someone} ManagedSpaceCreator because new project`, 'then `as bob`, `press Approve`'],
    [`/qlik grant @${someone} SharedSpaceCreator`, 'auto-approved and applied at once'],
    [
      `/qlik grant @${someone} TenantAdmin for 2m because incident`,
      'two of the approvers; removed after 2 min',
    ],
    [`/qlik revoke @${someone} ManagedSpaceCreator because done`, 'a revoke goes through approval too'],
    ['/qlik who-has SharedSpaceCreator', 'also: /qlik whois @hiro, /qlik roles, /qlik requests'],
    [`/qlik grant @${someone} ManagedSpaceCreater`, 'a typo: the bot suggests the closest role'],
    ['/qlik grant @nomail DataSpaceCreator', 'errors people see: also try @outsider,'],
    ['/qlik grant me AuditAdmin', '@shared-mailbox and @viktor'],
    ['as bob, then press Deny on a pending request', 'or press Revoke now on a result'],
    [
      `/qlik grant @${someone} "Can edit" in space:"Finance Reports"`,
      'a space role; /qlik spaces lists them',
    ],
    ['/qlik invite newhire@corp.example with Steward', 'onboarding: invite, then the role once approved'],
    [`/mode grant @${someone} Analysts for 2w because Q3`, 'Mode: a group membership, approved the same way'],
    ['/mode who-has collection:"Revenue"', 'also: /mode groups, /mode whois @alice, /mode help'],
  ];
  const col = Math.max(...tryRows.map(([c]) => c.length)) + 3;
  const tries = tryRows.map(([c, note]) => `  ${c.padEnd(col)}${note}`).join('\n');
  const people = [
    ...plain.map((u) => `@${u.handle}`),
    ...special.map((u) => `@${u.handle} (${u.note})`),
    `… ${world.users.length} in all: \`users\` lists them with their emails and Qlik roles`,
  ]
    .join(', ')
    .replace(/(.{1,100})(?:, |$)/g, '$1,\n        ')
    .replace(/,\n\s*$/, '');
  return `You act as people in a Slack workspace wired to a simulated Qlik Cloud tenant. You are @${current.handle}.

Terminal commands
  as <name>                 act as another demo user (e.g. \`as alice\`)
  /qlik <text>              type the slash command as the current user (\`/qlik help\` lists the bot's commands)
  /mode <text>              the same for Mode (\`/mode help\`)
  press <n> | press <text>  press button n (or the one labelled <text>) of the latest message you can see with buttons
  press <n|text> on #<m>    press a button of message #m
  home                      open your App Home tab (your requests, approvals, grants);  press <n|text> on home
  messages                  list every message so far;  show <m>: show message #m again
  users                     the demo users, their emails and Qlik roles, and the approvers
  form                      open the request form (as \`/qlik\` alone does) and fill it in, one field per line
  wait [20s] <text>         (scripts) wait until a message containing <text> arrives
  help                      this text;  quit: stop (Ctrl-D too)

People: ${people}
The approval channel is #${world.approvalChannel.name}; approvers are @${world.approversGroup.handle} (${approvers}).
Policy: TenantAdmin needs 2 approvals and a reason (at most 4h); SharedSpaceCreator is approved automatically;
AuditAdmin can't be requested from Slack; anything else needs 1 approval. A grant lasts 1m to 30d (TenantAdmin
4h); without \`for …\` it gets the cap (4h or 30d), never permanent.

Things to try
${tries}`;
}
