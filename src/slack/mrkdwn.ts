// Owns how text becomes Slack mrkdwn: escaping of user and Qlik data, the one truncate, Slack's mention and
// date tokens, and human-readable durations. Pure. Anything not built here is treated as untrusted.
import { formatDuration } from '../domain/duration.ts';
import { plainTime } from '../domain/time.ts';

/**
 * Unicode's bidirectional controls (embeddings, overrides, isolates and the invisible direction marks). One in a
 * reason or a name reverses how the rest of the line reads ("…because fix\u202Eevil" shows "livE" backwards), so a
 * public message could say something other than what was filed.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

/** `text` without bidirectional control characters. Applied to everything the bot shows (escape and truncate). */
export function stripBidi(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}

/**
 * Escapes the three characters Slack's mrkdwn treats as control characters, so data such as `<!channel>` or
 * `<https://evil|click>` renders as text and can neither ping nor link; bidi controls are dropped.
 */
export function escapeMrkdwn(text: string): string {
  return stripBidi(text).replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** Reverses Slack's own escaping of `&`, `<` and `>` (Slack escapes them in slash-command text). */
export function unescapeSlack(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_, e: string) => (e === 'amp' ? '&' : e === 'lt' ? '<' : '>'));
}

const ELLIPSIS = '…';

/**
 * Shortens `text` to at most `max` UTF-16 code units (Slack counts characters; code units are never fewer),
 * ending with "…". Never splits a surrogate pair, an `&…;` entity or a `<…>` token we built, so a cut
 * can neither produce broken characters nor a half mention that swallows what follows. Every block text goes
 * through here (views/blocks.ts), so this is also where bidi controls are dropped from all the bot shows.
 */
export function truncate(input: string, max: number): string {
  const text = stripBidi(input);
  if (text.length <= max) return text;
  if (max <= 0) return '';
  if (max === 1) return ELLIPSIS;
  let cut = max - 1;
  const high = text.charCodeAt(cut - 1);
  if (high >= 0xd800 && high <= 0xdbff) cut--;
  let head = text.slice(0, cut);
  const lt = head.lastIndexOf('<');
  if (lt !== -1 && head.indexOf('>', lt) === -1) head = head.slice(0, lt);
  const amp = head.lastIndexOf('&');
  if (amp !== -1 && head.length - amp <= 5 && head.indexOf(';', amp) === -1) head = head.slice(0, amp);
  return head + ELLIPSIS;
}

/** Escapes untrusted text and shortens the result to `max` characters (entities are never split). */
export function clip(text: string, max: number): string {
  return truncate(escapeMrkdwn(text), max);
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,40}$/;
const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{2,40}$/;

/** `<@U…>` for a Slack user id; anything that is not a well-formed id is shown as escaped text instead. */
export function mention(userId: string): string {
  return SLACK_USER_ID.test(userId) ? `<@${userId}>` : clip(userId, 80);
}

/** A person: their display name when known (escaped), else a mention of their Slack id. */
export function person(userId: string, names?: Readonly<Record<string, string>>): string {
  const name = names && Object.hasOwn(names, userId) ? names[userId] : undefined;
  return name?.trim() ? clip(name.trim(), 80) : mention(userId);
}

/** `<#C…>` for a channel id, or `#name` (escaped) for a channel name. */
export function channelRef(channel: string): string {
  if (SLACK_CHANNEL_ID.test(channel)) return `<#${channel}>`;
  const name = channel.replace(/^#/, '');
  return `#${clip(name, 80)}`;
}

/**
 * Slack's date token, which each reader sees in their own time zone, with the plain time (domain/time.ts) as its
 * fallback, e.g.
 * `<!date^1714564800^{date_short_pretty} {time}|2024-05-01 12:00 UTC>`.
 */
export function slackDate(epochMs: number): string {
  const fallback = plainTime(epochMs);
  if (fallback === 'an unknown time') return fallback;
  return `<!date^${Math.floor(epochMs / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

/** `4 hours`, `1 week`, `1 day 12 hours`: the one duration format (domain/duration.ts), shared with the audit log. */
export const humanDuration = formatDuration;

/** Joins names as `a, b and c`, showing at most `max` and then "and N more". */
export function listNames(names: readonly string[], max = 20): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, max);
  const more = names.length - shown.length;
  if (more > 0) return `${shown.join(', ')} and ${more} more`;
  if (shown.length === 1) return shown[0]!;
  return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}
