// Owns the `/qlik` command grammar (README, "The `/qlik` command"): slash-command text in, a ParsedCommand out. Pure and total:
// any string gives a result and never an exception; anything it cannot use becomes `invalid` naming the part.
//
// With several Qlik tenants, `on <tenant>` ends the target part (`grant <who> <role> on dev for 4h because …`,
// `who-has <role> on dev`, `whois <who> on dev`, `roles on dev`) and comes back as `tenant`; whether that tenant is
// configured is the app's to say. The role is always the word after the person (or after `who-has`), so a role
// called `on` stays a role, and `on` inside a reason is part of the reason.
import { closest, distance } from 'fastest-levenshtein';
import { parseDuration } from '../config.ts';
import { stripBidi, truncate, unescapeSlack } from './mrkdwn.ts';

export type TypedWho =
  | { kind: 'slack-user'; userId: string; handle?: string }
  | { kind: 'me' }
  | { kind: 'email'; email: string }
  | { kind: 'group'; name: string };

/**
 * Who, as typed: a TypedWho, or an `@name` Slack did not turn into a mention. Slack links a typed @name only for a
 * member it can show in its list, so a deactivated account arrives as plain text; the Slack listener looks the
 * name up in the workspace and hands the app a mention, whose lookup then says exactly what is wrong.
 */
export type ParsedWho = TypedWho | { kind: 'handle'; handle: string };

export type ParsedCommand =
  | {
      kind: 'grant';
      who: ParsedWho;
      role: string;
      /** `in space:"<name>"`: the role is a space role in that space (the name as typed). */
      space?: string;
      /** `on <tenant>`: the tenant's name in lower case; absent means the default tenant. */
      tenant?: string;
      durationMs?: number;
      durationText?: string;
      reason?: string;
      /** `--break-glass` (anywhere after the role, or at the very end): taken at once under the role's break-glass rule. */
      breakGlass?: true;
    }
  | { kind: 'revoke'; who: ParsedWho; role: string; space?: string; tenant?: string; reason?: string }
  /**
   * `who-has <role>`, `who-has <space-role> in space:"<name>"`, or `who-has space:"<name>"`: at least one of
   * `role` and `space` is there.
   */
  | { kind: 'who-has'; role?: string; space?: string; tenant?: string }
  | { kind: 'whois'; who: ParsedWho; tenant?: string }
  | { kind: 'roles'; tenant?: string }
  /** `spaces [<text>]`: the spaces whose name contains the text. */
  | { kind: 'spaces'; text?: string; tenant?: string }
  /** `invite <email or @user> [with <role>,…] [in space:"<space>" as <space-role>] [because <reason>]`. */
  | {
      kind: 'invite';
      who: ParsedWho;
      roles: string[];
      space?: { name: string; role: string };
      tenant?: string;
      reason?: string;
    }
  | { kind: 'requests' }
  | { kind: 'help' }
  /** `/qlik` alone, or `/qlik grant` with nothing after it: the request form (a modal) rather than a usage line. */
  | { kind: 'form' }
  | { kind: 'cancel'; requestId: string }
  | { kind: 'audit'; who?: ParsedWho; role?: string }
  /** `drift [<role> [in space:"<name>"]]`: without a role, the disagreements the reconciler found. */
  | { kind: 'drift'; role?: string; space?: string; tenant?: string }
  /** `review <role> [in space:"<name>"]`: an access review of the role's holders. */
  | { kind: 'review'; role: string; space?: string; tenant?: string }
  | { kind: 'invalid'; problem: string; usage: string };

export type CommandKind = Exclude<ParsedCommand['kind'], 'invalid' | 'form'>;

/** One syntax line per command, shown next to a problem with that command. */
export const USAGE: Readonly<Record<CommandKind, string>> = {
  grant: '/qlik grant <who> <role> [in space:"<space>"] [for <duration>] [because <reason>] [--break-glass]',
  revoke: '/qlik revoke <who> <role> [in space:"<space>"] [because <reason>]',
  'who-has': '/qlik who-has <role> [in space:"<space>"] | who-has space:"<space>"',
  whois: '/qlik whois <who>',
  roles: '/qlik roles',
  spaces: '/qlik spaces [<text>]',
  invite:
    '/qlik invite <email or @user> [with <role>,<role>…] [in space:"<space>" as <space-role>] [because <reason>]',
  requests: '/qlik requests',
  cancel: '/qlik cancel <request id>',
  audit: '/qlik audit [<who>|<role>]',
  drift: '/qlik drift [<role> [in space:"<space>"]]',
  review: '/qlik review <role> [in space:"<space>"]',
  help: '/qlik help',
};

export const GENERAL_USAGE =
  '/qlik grant | revoke | invite | who-has | whois | roles | spaces | requests | cancel | audit | drift | review | help';

/** Longest reason accepted, in characters (code points). */
export const MAX_REASON_LENGTH = 500;
/** Longest time-bound grant the grammar accepts; policy usually caps it far lower. */
const MAX_DURATION_MS = 365 * 86_400_000;

const COMMANDS: Readonly<Record<string, CommandKind>> = {
  grant: 'grant',
  revoke: 'revoke',
  'who-has': 'who-has',
  whohas: 'who-has',
  who_has: 'who-has',
  whois: 'whois',
  'who-is': 'whois',
  who_is: 'whois',
  roles: 'roles',
  role: 'roles',
  spaces: 'spaces',
  space: 'spaces',
  invite: 'invite',
  requests: 'requests',
  request: 'requests',
  cancel: 'cancel',
  audit: 'audit',
  drift: 'drift',
  review: 'review',
  help: 'help',
  '?': 'help',
  '-h': 'help',
  '--help': 'help',
};
const CANONICAL_COMMANDS = Object.keys(USAGE);

// Slack sends non-breaking and other Unicode spaces, tabs and newlines; all of them separate words.
const SPACE = /[\s\u200B]/;
const OPEN_QUOTES = new Set(['"', '\u201C']);
const CLOSE_QUOTES = new Set(['"', '\u201D']);
const ESCAPABLE = new Set(['"', '\\', '\u201C', '\u201D']);

const REQUEST_ID = /^(?:R-)?([2-9A-HJKMNP-Z]{4,8})$/i;
const SLACK_MENTION = /^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$/i;
/** A Slack username as typed after `@`: letters, digits, `.`, `_` and `-`. */
const SLACK_HANDLE = /^@[\p{L}\p{N}][\p{L}\p{N}._-]{0,79}$/u;
const MAILTO = /^<mailto:([^|>]+)(?:\|[^>]*)?>$/i;
const EMAIL =
  /^[^\s@<>]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

export interface Token {
  /** The text as Slack sent it (for quoted tokens: with quotes and escapes). */
  raw: string;
  /** Quoted tokens: the name inside the quotes, escapes resolved. */
  quoted?: string;
  /** The token was `group:"…"`. */
  group?: boolean;
  /** The token was `space:"…"`. */
  space?: boolean;
  /** The token was `collection:"…"` (Mode). */
  collection?: boolean;
  start: number;
  end: number;
}

/** Thrown inside the parser only; parseCommand turns it into an `invalid` result. */
export class Problem extends Error {
  readonly usage: string;
  constructor(message: string, usage: string) {
    super(message);
    this.usage = usage;
  }
}

/** A cursor over the text: words are read one at a time so that a reason can be taken verbatim. */
export interface Cursor {
  src: string;
  pos: number;
  usage: string;
}

function skipSpace(c: Cursor): void {
  while (c.pos < c.src.length && SPACE.test(c.src[c.pos]!)) c.pos++;
}

export function peek(c: Cursor): Token | undefined {
  const saved = c.pos;
  const t = next(c);
  c.pos = saved;
  return t;
}

export function next(c: Cursor): Token | undefined {
  skipSpace(c);
  const { src } = c;
  if (c.pos >= src.length) return undefined;
  const start = c.pos;
  const prefix = /^(group|space|collection):/i.exec(src.slice(start, start + 11))?.[1]?.toLowerCase();
  const quoteAt = prefix === undefined ? start : start + prefix.length + 1;
  if (OPEN_QUOTES.has(src[quoteAt] ?? '')) return readQuoted(c, start, quoteAt, prefix);
  let end = start;
  if (src[start] === '<') {
    // Slack's own tokens (`<@U1|alice>`) may contain spaces in the label; they end at `>`.
    const close = src.indexOf('>', start);
    if (close !== -1) end = close + 1;
  }
  while (end < src.length && !SPACE.test(src[end]!)) end++;
  c.pos = end;
  return { raw: src.slice(start, end), start, end };
}

function readQuoted(c: Cursor, start: number, quoteAt: number, prefix: string | undefined): Token {
  const { src } = c;
  let value = '';
  let i = quoteAt + 1;
  for (; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\' && ESCAPABLE.has(src[i + 1] ?? '')) {
      value += src[i + 1];
      i++;
    } else if (CLOSE_QUOTES.has(ch)) {
      break;
    } else {
      value += ch;
    }
  }
  if (i >= src.length) {
    throw new Problem(
      `The name starting at ${code(src.slice(start, start + 30))} has no closing quote. Quote names with spaces like "Sales Ops".`,
      c.usage,
    );
  }
  const end = i + 1;
  if (end < src.length && !SPACE.test(src[end]!)) {
    let junkEnd = end;
    while (junkEnd < src.length && !SPACE.test(src[junkEnd]!)) junkEnd++;
    throw new Problem(
      `I didn't understand ${code(src.slice(end, junkEnd))} right after the closing quote; leave a space after a quoted name.`,
      c.usage,
    );
  }
  c.pos = end;
  return {
    raw: src.slice(start, end),
    quoted: unescapeSlack(value),
    ...(prefix === 'group' ? { group: true } : {}),
    ...(prefix === 'space' ? { space: true } : {}),
    ...(prefix === 'collection' ? { collection: true } : {}),
    start,
    end,
  };
}

/** Shows a piece of the user's text inside backticks, shortened, so a problem message stays readable. */
export function code(text: string): string {
  const clean = text.replace(/`/g, "'").replace(/\s+/g, ' ');
  return `\`${truncate(clean, 40)}\``;
}

export function isKeyword(t: Token | undefined, word: string): boolean {
  return t !== undefined && t.quoted === undefined && t.raw.toLowerCase() === word;
}

/** True for tokens that name a person or group rather than a role (used by `audit` and to catch swapped args). */
function isWhoShaped(t: Token): boolean {
  if (t.quoted !== undefined) return t.group === true;
  const s = t.raw;
  return s.toLowerCase() === 'me' || s.startsWith('<') || /^group:/i.test(s) || s.includes('@');
}

export function parseWho(c: Cursor, t: Token): ParsedWho {
  if (t.quoted !== undefined) {
    if (!t.group) {
      throw new Problem(
        `${code(t.raw)} isn't someone I can look up. Name a person with an @mention, \`me\` or an email, or a Qlik group with group:Name.`,
        c.usage,
      );
    }
    const name = t.quoted.trim();
    if (name === '')
      throw new Problem(
        'The group name is empty. Write it like group:Finance or group:"Sales Ops".',
        c.usage,
      );
    return { kind: 'group', name };
  }
  const s = t.raw;
  const groupMatch = /^group:(.*)$/is.exec(s);
  if (groupMatch) {
    let name = unescapeSlack(groupMatch[1]!).trim();
    if (name === '') {
      // Tolerate `group: Finance`.
      const following = peek(c);
      if (
        following &&
        following.quoted === undefined &&
        !isKeyword(following, 'for') &&
        !isKeyword(following, 'because')
      ) {
        next(c);
        name = unescapeSlack(following.raw).trim();
      } else if (following?.quoted !== undefined && !following.group) {
        next(c);
        name = following.quoted.trim();
      }
    }
    if (name === '')
      throw new Problem(
        'The group name is empty. Write it like group:Finance or group:"Sales Ops".',
        c.usage,
      );
    return { kind: 'group', name };
  }
  if (s.toLowerCase() === 'me') return { kind: 'me' };
  const userMatch = SLACK_MENTION.exec(s);
  if (userMatch) {
    const handle = unescapeSlack(userMatch[2] ?? '').trim();
    const ref: TypedWho = { kind: 'slack-user', userId: userMatch[1]!.toUpperCase() };
    if (handle !== '') ref.handle = handle;
    return ref;
  }
  const mailto = MAILTO.exec(s);
  if (mailto) {
    const email = unescapeSlack(mailto[1]!).trim();
    if (EMAIL.test(email)) return { kind: 'email', email };
    throw new Problem(`${code(email)} doesn't look like an email address.`, c.usage);
  }
  if (/^<!subteam\^/i.test(s)) {
    throw new Problem(
      `${code(slackLabel(s))} is a Slack user group. Name one person (an @mention, \`me\` or an email) or a Qlik group with group:Name.`,
      c.usage,
    );
  }
  if (/^<#/.test(s)) {
    throw new Problem(
      `${code(slackLabel(s))} is a channel. Name one person (an @mention, \`me\` or an email) or a Qlik group with group:Name.`,
      c.usage,
    );
  }
  if (/^<!/.test(s)) {
    throw new Problem(
      `${code(slackLabel(s))} isn't one person. Name one person (an @mention, \`me\` or an email) or a Qlik group with group:Name.`,
      c.usage,
    );
  }
  const plain = unescapeSlack(s);
  if (EMAIL.test(plain) && plain.length <= 254) return { kind: 'email', email: plain };
  if (SLACK_HANDLE.test(plain)) return { kind: 'handle', handle: plain.slice(1) };
  if (plain.startsWith('@')) {
    throw new Problem(
      `I can't tell who ${code(plain)} is. Pick them from Slack's @mention list so the mention becomes a link, or use their email.`,
      c.usage,
    );
  }
  if (plain.includes('@')) throw new Problem(`${code(plain)} doesn't look like an email address.`, c.usage);
  throw new Problem(
    `${code(plain)} isn't someone I can look up. Name a person with an @mention, \`me\` or an email, or a Qlik group with group:Name.`,
    c.usage,
  );
}

/** The human part of a Slack token: `<#C1|general>` → `#general`, `<!subteam^S1|@ops>` → `@ops`. */
function slackLabel(token: string): string {
  const label = /\|([^>]*)>?$/.exec(token)?.[1];
  if (label) return `${token.startsWith('<#') && !label.startsWith('#') ? '#' : ''}${unescapeSlack(label)}`;
  if (token.startsWith('<#')) return '#channel';
  const special = /^<!([a-z]+)/i.exec(token)?.[1];
  return special ? `@${special}` : unescapeSlack(token);
}

export function parseRole(c: Cursor, t: Token | undefined, missing: string): string {
  if (t === undefined || isKeyword(t, 'for') || isKeyword(t, 'because')) throw new Problem(missing, c.usage);
  if (isSpaceToken(t)) {
    throw new Problem(
      `${code(t.raw)} is a space, not a role. Name the role first, then the space: \`<role> in space:"<space>"\`.`,
      c.usage,
    );
  }
  if (t.quoted !== undefined && !t.group) {
    const name = t.quoted.trim();
    if (name === '') throw new Problem('The role name is empty.', c.usage);
    return name;
  }
  if (isWhoShaped(t)) {
    throw new Problem(
      `${code(t.raw)} looks like a person or group, not a role. Write the person first, then one role: ${c.usage}`,
      c.usage,
    );
  }
  return unescapeSlack(t.raw);
}

const UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 's',
  sec: 's',
  secs: 's',
  second: 's',
  seconds: 's',
  m: 'm',
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
  h: 'h',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  d: 'd',
  day: 'd',
  days: 'd',
  w: 'w',
  wk: 'w',
  wks: 'w',
  week: 'w',
  weeks: 'w',
};

export function parseDurationWords(c: Cursor): { ms: number; text: string } {
  const first = next(c);
  if (first === undefined || isKeyword(first, 'because')) {
    throw new Problem('Say how long after `for`, e.g. `for 4h` (30m, 4h, 2d or 1w).', c.usage);
  }
  let text = first.raw;
  // Accept `4 hours` as well as `4h`.
  const unit = peek(c);
  if (/^\d+$/.test(first.raw) && unit && unit.quoted === undefined && UNIT_WORDS[unit.raw.toLowerCase()]) {
    next(c);
    text = `${first.raw} ${unit.raw}`;
  }
  const m = /^(\d+)\s*([a-z]+)$/i.exec(text);
  const letter = m ? UNIT_WORDS[m[2]!.toLowerCase()] : undefined;
  if (!m || !letter) {
    const hint = /^\d+[.,]\d+/.test(text) ? ' Use whole numbers, e.g. `90m` instead of `1.5h`.' : '';
    throw new Problem(`${code(text)} isn't a duration I understand; use 30m, 4h, 2d or 1w.${hint}`, c.usage);
  }
  const ms = /^0+$/.test(m[1]!) ? undefined : parseDuration(`${m[1]}${letter}`);
  if (ms === undefined) throw new Problem(`${code(text)} is no time at all; use 30m, 4h, 2d or 1w.`, c.usage);
  if (!(ms <= MAX_DURATION_MS)) {
    throw new Problem(
      `${code(text)} is too long: a time-bound grant lasts at most 52w. Leave out \`for …\` for a permanent grant.`,
      c.usage,
    );
  }
  return { ms, text };
}

export function parseReason(c: Cursor, afterKeyword: number): string {
  // Bidi controls are dropped before the reason is stored: it is shown in the public approval message.
  const reason = stripBidi(unescapeSlack(c.src.slice(afterKeyword))).trim();
  if (reason === '')
    throw new Problem('Add your reason after `because`, e.g. `because incident 4711`.', c.usage);
  const length = [...reason].length;
  if (length > MAX_REASON_LENGTH) {
    throw new Problem(
      `Your reason is ${length} characters long; keep it to ${MAX_REASON_LENGTH} (link to a ticket for the details).`,
      c.usage,
    );
  }
  return reason;
}

function isSpaceToken(t: Token): boolean {
  return t.space === true || (t.quoted === undefined && /^space:/i.test(t.raw));
}

/** Longest space name Qlik allows. */
const MAX_SPACE_NAME = 256;

/** The space named by a `space:Name` or `space:"Name with spaces"` token (after `in`, or alone for who-has). */
function parseSpace(c: Cursor, t: Token | undefined): string {
  if (t === undefined || !isSpaceToken(t)) {
    throw new Problem(
      'Name the space after `in`, like `in space:"Finance Reports"` (see `/qlik spaces`).',
      c.usage,
    );
  }
  let name = (t.quoted ?? unescapeSlack(t.raw.slice('space:'.length))).trim();
  if (name === '' && t.quoted === undefined) {
    // Tolerate `space: Sales` and `space: "Sales EMEA"`.
    const following = peek(c);
    if (
      following &&
      !isKeyword(following, 'for') &&
      !isKeyword(following, 'because') &&
      !isKeyword(following, 'on')
    ) {
      next(c);
      name = (following.quoted ?? unescapeSlack(following.raw)).trim();
    }
  }
  if (name === '')
    throw new Problem(
      'The space name is empty. Write it like space:Sales or space:"Finance Reports".',
      c.usage,
    );
  if ([...name].length > MAX_SPACE_NAME)
    throw new Problem(`That space name is longer than Qlik allows (${MAX_SPACE_NAME} characters).`, c.usage);
  return stripBidi(name);
}

/** What a tenant name looks like (as QLIK_TENANTS names them, any case as typed). */
const TENANT_NAME = /^[a-z][a-z0-9-]{0,31}$/i;

/** The tenant after an `on` just read: one name, in lower case. */
export function parseTenant(c: Cursor): string {
  const t = next(c);
  if (t === undefined || isKeyword(t, 'for') || isKeyword(t, 'because'))
    throw new Problem('Name the tenant after `on`, e.g. `on dev`.', c.usage);
  const name = (t.quoted ?? unescapeSlack(t.raw)).trim();
  if (!TENANT_NAME.test(name))
    throw new Problem(
      `${code(t.raw)} isn't a tenant name; tenant names are one word, such as \`on dev\`.`,
      c.usage,
    );
  return name.toLowerCase();
}

/** An optional `on <tenant>` at the end of the target part. */
export function tenantSuffix(c: Cursor): { tenant?: string } {
  if (!isKeyword(peek(c), 'on')) return {};
  next(c);
  return { tenant: parseTenant(c) };
}

function parseChange(c: Cursor, action: 'grant' | 'revoke'): ParsedCommand {
  const whoToken = next(c);
  if (whoToken === undefined || isKeyword(whoToken, 'for') || isKeyword(whoToken, 'because')) {
    throw new Problem(
      action === 'grant'
        ? 'Say who should get the role: an @mention, `me`, an email or group:Name.'
        : 'Say who should lose the role: an @mention, `me`, an email or group:Name.',
      c.usage,
    );
  }
  const who = parseWho(c, whoToken);
  const role = parseRole(
    c,
    next(c),
    action === 'grant'
      ? 'Name the role to grant, e.g. `/qlik grant me ManagedSpaceCreator` (see `/qlik roles`).'
      : 'Name the role to revoke, e.g. `/qlik revoke me ManagedSpaceCreator`.',
  );
  const cmd: {
    space?: string;
    tenant?: string;
    durationMs?: number;
    durationText?: string;
    reason?: string;
    breakGlass?: true;
  } = {};
  const breakGlass = () => {
    if (action === 'revoke')
      throw new Problem('Break-glass is for grants only; leave out `--break-glass`.', c.usage);
    cmd.breakGlass = true;
  };
  let last = `the role ${code(role)}`;
  for (let t = next(c); t !== undefined; t = next(c)) {
    if (isKeyword(t, 'because')) {
      // `because INC-123 --break-glass`: the flag at the very end is the flag, not part of the reason.
      const flagAtEnd = BREAK_GLASS_AT_END.exec(c.src.slice(t.end));
      if (flagAtEnd) {
        breakGlass();
        c.src = c.src.slice(0, t.end + flagAtEnd.index);
      }
      cmd.reason = parseReason(c, t.end);
      break;
    }
    if (t.quoted === undefined && t.raw.toLowerCase() === BREAK_GLASS_FLAG) {
      breakGlass();
      continue;
    }
    if (isKeyword(t, 'in') || isSpaceToken(t)) {
      if (cmd.space !== undefined)
        throw new Problem('Name the space once, e.g. `in space:"Finance Reports"`.', c.usage);
      cmd.space = parseSpace(c, isSpaceToken(t) ? t : next(c));
      last = code(`in space:"${cmd.space}"`);
      continue;
    }
    if (isKeyword(t, 'on')) {
      if (cmd.tenant !== undefined) throw new Problem('Name the tenant once, e.g. `on dev`.', c.usage);
      cmd.tenant = parseTenant(c);
      last = code(`on ${cmd.tenant}`);
      continue;
    }
    if (isKeyword(t, 'for')) {
      if (action === 'revoke')
        throw new Problem('A revoke takes effect at once; leave out `for …`.', c.usage);
      if (cmd.durationMs !== undefined) throw new Problem('Give the duration once, e.g. `for 4h`.', c.usage);
      const d = parseDurationWords(c);
      cmd.durationMs = d.ms;
      cmd.durationText = d.text;
      last = code(`for ${d.text}`);
      continue;
    }
    const next_ = action === 'grant' ? '`for <duration>` or `because <reason>`' : '`because <reason>`';
    const quoteHint =
      cmd.durationMs === undefined ? ' Role names are one word; put a name with spaces in quotes.' : '';
    throw new Problem(
      `I didn't understand ${code(t.raw)} after ${last}.${quoteHint} Continue with ${next_}.`,
      c.usage,
    );
  }
  return action === 'grant'
    ? { kind: 'grant', who, role, ...cmd }
    : { kind: 'revoke', who, role, ...withoutDuration(cmd) };
}

const BREAK_GLASS_FLAG = '--break-glass';
const BREAK_GLASS_AT_END = /[\s\u200B]+--break-glass[\s\u200B]*$/i;

/** Most roles one invite may name. */
const MAX_INVITE_ROLES = 10;

function parseInvite(c: Cursor): ParsedCommand {
  const whoToken = next(c);
  if (whoToken === undefined || isKeyword(whoToken, 'with') || isKeyword(whoToken, 'because'))
    throw new Problem('Say who to invite: an email address or an @mention.', c.usage);
  const who = parseWho(c, whoToken);
  if (who.kind === 'group')
    throw new Problem('Only people are invited; name one person by email or @mention.', c.usage);
  if (who.kind === 'me')
    throw new Problem('You can only invite someone else, by email or @mention.', c.usage);
  const cmd: { roles: string[]; space?: { name: string; role: string }; tenant?: string; reason?: string } = {
    roles: [],
  };
  let last = code(whoToken.raw);
  for (let t = next(c); t !== undefined; t = next(c)) {
    if (isKeyword(t, 'because')) {
      cmd.reason = parseReason(c, t.end);
      break;
    }
    if (isKeyword(t, 'with')) {
      if (cmd.roles.length > 0)
        throw new Problem('Name the roles once, e.g. `with Steward,DataSpaceCreator`.', c.usage);
      cmd.roles = parseRoleList(c);
      last = code(`with ${cmd.roles.join(',')}`);
      continue;
    }
    if (isKeyword(t, 'in') || isSpaceToken(t)) {
      if (cmd.space !== undefined)
        throw new Problem('Name one space, e.g. `in space:"Finance" as consumer`.', c.usage);
      const name = parseSpace(c, isSpaceToken(t) ? t : next(c));
      if (!isKeyword(next(c), 'as'))
        throw new Problem(
          `Say which role in the space after it: \`in space:"${name}" as consumer\`.`,
          c.usage,
        );
      const role = parseRole(
        c,
        next(c),
        'Name the space role after `as`, e.g. `as consumer` or `as "Can view"`.',
      );
      cmd.space = { name, role };
      last = code(`in space:"${name}" as ${role}`);
      continue;
    }
    if (isKeyword(t, 'on')) {
      if (cmd.tenant !== undefined) throw new Problem('Name the tenant once, e.g. `on dev`.', c.usage);
      cmd.tenant = parseTenant(c);
      last = code(`on ${cmd.tenant}`);
      continue;
    }
    if (isKeyword(t, 'for'))
      throw new Problem(
        "An invite's roles are permanent; grant a time-bound role on its own once they have joined.",
        c.usage,
      );
    throw new Problem(
      `I didn't understand ${code(t.raw)} after ${last}. Continue with \`with <role>,…\`, \`in space:"…" as <role>\` or \`because <reason>\`.`,
      c.usage,
    );
  }
  return {
    kind: 'invite',
    who,
    roles: cmd.roles,
    ...(cmd.space === undefined ? {} : { space: cmd.space }),
    ...(cmd.tenant === undefined ? {} : { tenant: cmd.tenant }),
    ...(cmd.reason === undefined ? {} : { reason: cmd.reason }),
  };
}

/** `Steward,DataSpaceCreator`, `Steward, "Report Publisher"`: roles after `with`, separated by commas. */
function parseRoleList(c: Cursor): string[] {
  const roles: string[] = [];
  for (;;) {
    const t = next(c);
    if (t === undefined || isKeyword(t, 'because') || isKeyword(t, 'in') || isKeyword(t, 'on'))
      throw new Problem('Name the roles after `with`, e.g. `with Steward,DataSpaceCreator`.', c.usage);
    const pieces = t.quoted !== undefined ? [t.quoted] : unescapeSlack(t.raw).split(',');
    for (const p of pieces.map((x) => x.trim())) if (p !== '') roles.push(p);
    const endsWithComma = t.quoted === undefined && t.raw.endsWith(',');
    const following = peek(c);
    const commaNext =
      following !== undefined && following.quoted === undefined && following.raw.startsWith(',');
    if (commaNext) {
      const lone = following!.raw === ',';
      next(c);
      if (!lone) {
        for (const p of unescapeSlack(following!.raw)
          .split(',')
          .map((x) => x.trim()))
          if (p !== '') roles.push(p);
        if (!following!.raw.endsWith(',')) break;
      }
      continue;
    }
    if (!endsWithComma) break;
  }
  if (roles.length > MAX_INVITE_ROLES)
    throw new Problem(`Name at most ${MAX_INVITE_ROLES} roles in one invite.`, c.usage);
  return [...new Set(roles)];
}

function withoutDuration(cmd: { space?: string; tenant?: string; reason?: string }): {
  space?: string;
  tenant?: string;
  reason?: string;
} {
  return {
    ...(cmd.space === undefined ? {} : { space: cmd.space }),
    ...(cmd.tenant === undefined ? {} : { tenant: cmd.tenant }),
    ...(cmd.reason === undefined ? {} : { reason: cmd.reason }),
  };
}

export function expectEnd(c: Cursor, what: string): void {
  const extra = next(c);
  if (extra !== undefined) {
    throw new Problem(`I didn't understand ${code(c.src.slice(extra.start).trim())}: ${what}.`, c.usage);
  }
}

function commandOf(c: Cursor, first: Token): CommandKind | undefined {
  if (first.quoted !== undefined) return undefined;
  const word = first.raw.toLowerCase();
  if (word === 'who') {
    const second = peek(c);
    const w2 = second?.quoted === undefined ? second?.raw.toLowerCase() : undefined;
    if (w2 === 'has' || w2 === 'is') {
      next(c);
      return w2 === 'has' ? 'who-has' : 'whois';
    }
  }
  return Object.hasOwn(COMMANDS, word) ? COMMANDS[word] : undefined;
}

function parse(text: string): ParsedCommand {
  const c: Cursor = { src: text, pos: 0, usage: GENERAL_USAGE };
  const first = next(c);
  if (first === undefined) return { kind: 'form' };
  const kind = commandOf(c, first);
  if (kind === undefined) {
    const word = first.quoted ?? first.raw;
    const guess = closest(word.toLowerCase(), CANONICAL_COMMANDS);
    const near = distance(word.toLowerCase(), guess) <= Math.max(1, Math.floor(guess.length / 3));
    return {
      kind: 'invalid',
      problem: `I don't know the command ${code(word)}.${near ? ` Did you mean \`${guess}\`?` : ''}`,
      usage: near ? USAGE[guess as CommandKind] : GENERAL_USAGE,
    };
  }
  c.usage = USAGE[kind];
  // `grant` and nothing else: the person wants to ask for access without knowing the syntax yet.
  if (kind === 'grant' && peek(c) === undefined) return { kind: 'form' };
  switch (kind) {
    case 'grant':
    case 'revoke':
      return parseChange(c, kind);
    case 'invite':
      return parseInvite(c);
    case 'drift': {
      if (peek(c) === undefined || isKeyword(peek(c), 'on')) {
        const on = tenantSuffix(c);
        expectEnd(c, '`drift` takes one role; put a name with spaces in quotes');
        return { kind, ...on };
      }
      return {
        kind,
        ...parseRoleIn(c, next(c), 'Name the role, e.g. `/qlik drift TenantAdmin`.', '`drift`'),
      };
    }
    case 'review':
      return {
        kind,
        ...parseRoleIn(
          c,
          next(c),
          'Name the role to review, e.g. `/qlik review TenantAdmin` (see `/qlik roles`).',
          '`review`',
        ),
      };
    case 'who-has': {
      const first = next(c);
      if (first !== undefined && isSpaceToken(first)) {
        const space = parseSpace(c, first);
        const on = tenantSuffix(c);
        expectEnd(c, '`who-has space:"<space>"` takes nothing more but `on <tenant>`');
        return { kind, space, ...on };
      }
      return {
        kind,
        ...parseRoleIn(
          c,
          first,
          'Name the role, e.g. `/qlik who-has TenantAdmin` (see `/qlik roles`).',
          '`who-has`',
        ),
      };
    }
    case 'spaces': {
      const t = peek(c);
      let text: string | undefined;
      if (t !== undefined && !isKeyword(t, 'on')) {
        next(c);
        text = stripBidi((t.quoted ?? unescapeSlack(t.raw)).trim());
        if ([...text].length > MAX_SPACE_NAME)
          throw new Problem('That is longer than any space name.', c.usage);
      }
      const on = tenantSuffix(c);
      expectEnd(c, '`spaces` takes one word or a quoted text to look for');
      return { kind, ...(text ? { text } : {}), ...on };
    }
    case 'whois': {
      const t = next(c);
      if (t === undefined)
        throw new Problem('Say whose roles to show: an @mention, `me`, an email or group:Name.', c.usage);
      const who = parseWho(c, t);
      const on = tenantSuffix(c);
      expectEnd(c, '`whois` takes one person or group');
      return { kind, who, ...on };
    }
    case 'cancel': {
      const t = next(c);
      if (t === undefined)
        throw new Problem('Say which request to cancel, e.g. `/qlik cancel R-7KQ2`.', c.usage);
      const m = REQUEST_ID.exec(t.quoted ?? t.raw);
      if (!m) {
        throw new Problem(
          `${code(t.raw)} isn't a request id; ids look like R-7KQ2 (see \`/qlik requests\`).`,
          c.usage,
        );
      }
      expectEnd(c, '`cancel` takes one request id');
      return { kind, requestId: `R-${m[1]!.toUpperCase()}` };
    }
    case 'audit': {
      const t = next(c);
      if (t === undefined) return { kind };
      const result: ParsedCommand = isWhoShaped(t)
        ? { kind, who: parseWho(c, t) }
        : { kind, role: parseRole(c, t, 'Name a person, group or role.') };
      expectEnd(c, '`audit` takes at most one person, group or role');
      return result;
    }
    case 'roles': {
      const on = tenantSuffix(c);
      expectEnd(c, '`roles` takes nothing after it');
      return { kind, ...on };
    }
    case 'requests':
      expectEnd(c, `\`${kind}\` takes nothing after it`);
      return { kind };
    case 'help':
      return { kind };
  }
}

/** `<role> [in space:"<name>"] [on <tenant>]` and the end of the command, as `drift` and `review` take them. */
function parseRoleIn(
  c: Cursor,
  first: Token | undefined,
  missing: string,
  what: string,
): { role: string; space?: string; tenant?: string } {
  const role = parseRole(c, first, missing);
  let space: string | undefined;
  if (isKeyword(peek(c), 'in') || (peek(c) !== undefined && isSpaceToken(peek(c)!))) {
    const t = next(c)!;
    space = parseSpace(c, isSpaceToken(t) ? t : next(c));
  }
  const on = tenantSuffix(c);
  expectEnd(c, `${what} takes one role; put a name with spaces in quotes`);
  return { role, ...(space === undefined ? {} : { space }), ...on };
}

/** Parses `/qlik` text. Never throws: every input gives one of the ParsedCommand kinds. */
export function parseCommand(text: string): ParsedCommand {
  try {
    return parse(typeof text === 'string' ? text : '');
  } catch (err) {
    if (err instanceof Problem) return { kind: 'invalid', problem: err.message, usage: err.usage };
    return {
      kind: 'invalid',
      problem: "I couldn't read that command. Check it against the usage below.",
      usage: GENERAL_USAGE,
    };
  }
}
