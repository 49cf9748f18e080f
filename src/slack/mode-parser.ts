// Owns the `/mode` command grammar (README, "The `/mode` command"): Mode group memberships and collection access,
// with the same words for people, durations and reasons as `/qlik` (the tokenizer and those parts are shared with
// src/slack/command-parser.ts). Pure and total: any text gives a ModeCommand, never an exception.
//   grant|revoke <who> <group> [for <duration>] [because <reason>]
//   grant|revoke <who> view|edit in collection:"<name>" [for …] [because …]
//   who-has <group> | who-has collection:"<name>" | whois <who> | groups | help
import { closest, distance } from 'fastest-levenshtein';
import {
  type Cursor,
  code,
  expectEnd,
  isKeyword,
  next,
  type ParsedWho,
  Problem,
  parseDurationWords,
  parseReason,
  parseRole,
  parseWho,
  peek,
  type Token,
} from './command-parser.ts';
import { stripBidi, unescapeSlack } from './mrkdwn.ts';

export type ModeCommand =
  | {
      kind: 'grant';
      who: ParsedWho;
      /** A group's name, or `view` / `edit` with `collection`. */
      role: string;
      collection?: string;
      durationMs?: number;
      durationText?: string;
      reason?: string;
    }
  | { kind: 'revoke'; who: ParsedWho; role: string; collection?: string; reason?: string }
  /** `who-has <group>` or `who-has collection:"<name>"`: one of the two. */
  | { kind: 'who-has'; role?: string; collection?: string }
  | { kind: 'whois'; who: ParsedWho }
  | { kind: 'groups' }
  | { kind: 'help' }
  | { kind: 'invalid'; problem: string; usage: string };

type ModeKind = Exclude<ModeCommand['kind'], 'invalid'>;

export const MODE_USAGE: Readonly<Record<ModeKind, string>> = {
  grant:
    '/mode grant <who> <group> [for <duration>] [because <reason>] | grant <who> view|edit in collection:"<name>"',
  revoke: '/mode revoke <who> <group> [because <reason>] | revoke <who> view|edit in collection:"<name>"',
  'who-has': '/mode who-has <group> | who-has collection:"<name>"',
  whois: '/mode whois <who>',
  groups: '/mode groups',
  help: '/mode help',
};

export const MODE_GENERAL_USAGE = '/mode grant | revoke | who-has | whois | groups | help';

const COMMANDS: Readonly<Record<string, ModeKind>> = {
  grant: 'grant',
  revoke: 'revoke',
  'who-has': 'who-has',
  whohas: 'who-has',
  whois: 'whois',
  'who-is': 'whois',
  groups: 'groups',
  group: 'groups',
  help: 'help',
  '?': 'help',
};
const CANONICAL = Object.keys(MODE_USAGE);
const LEVELS = new Set(['view', 'edit']);
/** Longest collection name accepted (Mode gives none; as long as a Qlik space name). */
const MAX_NAME = 256;

function isCollectionToken(t: Token): boolean {
  return t.collection === true || (t.quoted === undefined && /^collection:/i.test(t.raw));
}

function parseCollection(c: Cursor, t: Token | undefined): string {
  if (t === undefined || !isCollectionToken(t))
    throw new Problem('Name the collection after `in`, like `in collection:"Revenue"`.', c.usage);
  let name = (t.quoted ?? unescapeSlack(t.raw.slice('collection:'.length))).trim();
  if (name === '' && t.quoted === undefined) {
    const following = peek(c);
    if (following && !isKeyword(following, 'for') && !isKeyword(following, 'because')) {
      next(c);
      name = (following.quoted ?? unescapeSlack(following.raw)).trim();
    }
  }
  if (name === '')
    throw new Problem('The collection name is empty. Write it like collection:"Revenue".', c.usage);
  if ([...name].length > MAX_NAME) throw new Problem('That collection name is too long.', c.usage);
  return stripBidi(name);
}

function parseChange(c: Cursor, action: 'grant' | 'revoke'): ModeCommand {
  const whoToken = next(c);
  if (whoToken === undefined || isKeyword(whoToken, 'for') || isKeyword(whoToken, 'because'))
    throw new Problem(
      'Say who: an @mention, `me` or an email (or a Mode group with group:Name, for a collection).',
      c.usage,
    );
  const who = parseWho(c, whoToken);
  const role = parseRole(
    c,
    next(c),
    action === 'grant'
      ? 'Name the Mode group, e.g. `/mode grant me Analysts` (see `/mode groups`), or `view`/`edit` in a collection.'
      : 'Name the Mode group, e.g. `/mode revoke me Analysts`.',
  );
  const cmd: { collection?: string; durationMs?: number; durationText?: string; reason?: string } = {};
  let last = code(role);
  for (let t = next(c); t !== undefined; t = next(c)) {
    if (isKeyword(t, 'because')) {
      cmd.reason = parseReason(c, t.end);
      break;
    }
    if (isKeyword(t, 'in') || isCollectionToken(t)) {
      if (cmd.collection !== undefined) throw new Problem('Name the collection once.', c.usage);
      cmd.collection = parseCollection(c, isCollectionToken(t) ? t : next(c));
      last = code(`in collection:"${cmd.collection}"`);
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
    throw new Problem(
      `I didn't understand ${code(t.raw)} after ${last}. Group names with spaces go in quotes; continue with ${action === 'grant' ? '`for <duration>` or ' : ''}\`because <reason>\`.`,
      c.usage,
    );
  }
  const level = role.toLowerCase();
  if (cmd.collection !== undefined && !LEVELS.has(level))
    throw new Problem(
      `In a collection, say \`view\` or \`edit\`, e.g. \`/mode ${action} me view in collection:"${cmd.collection}"\`.`,
      c.usage,
    );
  if (who.kind === 'group' && cmd.collection === undefined)
    throw new Problem(
      'Mode groups hold people, not other groups: name one person, or give the group access to a collection (`in collection:"…"`).',
      c.usage,
    );
  const named = cmd.collection !== undefined ? level : role;
  if (action === 'revoke') {
    const { durationMs: _d, durationText: _t, ...rest } = cmd;
    return { kind: 'revoke', who, role: named, ...rest };
  }
  return { kind: 'grant', who, role: named, ...cmd };
}

function parse(text: string): ModeCommand {
  const c: Cursor = { src: text, pos: 0, usage: MODE_GENERAL_USAGE };
  const first = next(c);
  if (first === undefined) return { kind: 'help' };
  const word = (first.quoted ?? first.raw).toLowerCase();
  const kind = first.quoted === undefined && Object.hasOwn(COMMANDS, word) ? COMMANDS[word] : undefined;
  if (kind === undefined) {
    const guess = closest(word, CANONICAL);
    const near = distance(word, guess) <= Math.max(1, Math.floor(guess.length / 3));
    return {
      kind: 'invalid',
      problem: `I don't know the command ${code(first.quoted ?? first.raw)}.${near ? ` Did you mean \`${guess}\`?` : ''}`,
      usage: near ? MODE_USAGE[guess as ModeKind] : MODE_GENERAL_USAGE,
    };
  }
  c.usage = MODE_USAGE[kind];
  switch (kind) {
    case 'grant':
    case 'revoke':
      return parseChange(c, kind);
    case 'who-has': {
      const t = next(c);
      if (t !== undefined && isCollectionToken(t)) {
        const collection = parseCollection(c, t);
        expectEnd(c, '`who-has collection:"<name>"` takes nothing more');
        return { kind, collection };
      }
      const role = parseRole(
        c,
        t,
        'Name the Mode group, e.g. `/mode who-has Analysts` (see `/mode groups`).',
      );
      expectEnd(c, '`who-has` takes one group; put a name with spaces in quotes');
      return { kind, role };
    }
    case 'whois': {
      const t = next(c);
      if (t === undefined)
        throw new Problem('Say whose groups to show: an @mention, `me` or an email.', c.usage);
      const who = parseWho(c, t);
      expectEnd(c, '`whois` takes one person');
      return { kind, who };
    }
    case 'groups':
      expectEnd(c, '`groups` takes nothing after it');
      return { kind };
    case 'help':
      return { kind };
  }
}

/** Parses `/mode` text. Never throws. */
export function parseModeCommand(text: string): ModeCommand {
  try {
    return parse(typeof text === 'string' ? text : '');
  } catch (err) {
    if (err instanceof Problem) return { kind: 'invalid', problem: err.message, usage: err.usage };
    return { kind: 'invalid', problem: "I couldn't read that command.", usage: MODE_GENERAL_USAGE };
  }
}
