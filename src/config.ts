// Owns the process configuration: the environment of SPEC §5 parsed once into a frozen, typed Config.
// Every bad or missing value is reported by name, all at once, in our own words; no value is ever echoed (a token
// or key pasted into the wrong variable would otherwise land in a log).
import { z } from 'zod';
import { RedisUrlError, redisPlan, validatePrefixForCluster } from './store/redis.ts';

const SLACK_ID = /^[UWS][A-Z0-9]{2,}$/;

const durationPattern = /^(\d+)\s*(s|m|h|d|w)$/i;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Parses `30m`, `4h`, `2d`, `1w` (and `45s`) into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = durationPattern.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase() as keyof typeof UNIT_MS;
  return n > 0 ? n * UNIT_MS[unit] : undefined;
}

const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 30m, 4h, 2d or 1w' });
    return z.NEVER;
  }
  return ms;
});

/**
 * QUEUE_PREFIX as the keys use it: the bot adds the `:` itself (`<prefix>:audit`), so a trailing colon — as in
 * `qlikops:` — is dropped. The bot and the audit export both read it through here, so the same setting always
 * names the same keys.
 */
export function normaliseQueuePrefix(prefix: string): string {
  return prefix.trim().replace(/:+$/, '');
}

/** Why a REDIS_URL can't be used, or undefined; messages never show a password. */
function redisUrlProblem(url: string): string | undefined {
  const expected =
    'expected redis://host:port, rediss://…, redis+sentinel://host:26379,…/<master> or redis+cluster://host:7000,…';
  try {
    const plan = redisPlan(url);
    if (plan.mode === 'standalone' && !(/^rediss?:\/\//i.test(url) && URL.canParse(url))) return expected;
    return undefined;
  } catch (err) {
    // RedisUrlError names the (redacted) URL; the variable's name is enough here.
    return err instanceof RedisUrlError
      ? `${err.message.replace(/^REDIS_URL \S+: /, '')} (${expected})`
      : expected;
  }
}

/** A whole number from the environment, with our message; `undefined`/empty means the default. */
function wholeNumber(defaultValue: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  const expected =
    max === Number.MAX_SAFE_INTEGER
      ? `expected a whole number of ${min} or more`
      : `expected a whole number from ${min} to ${max}`;
  return z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return defaultValue;
      const n = /^\d+$/.test(s.trim()) ? Number(s.trim()) : Number.NaN;
      if (!(n >= min && n <= max)) {
        ctx.addIssue({ code: 'custom', message: expected });
        return z.NEVER;
      }
      return n;
    });
}

/** Where Slack's token types differ from the bot token, by prefix (the prefix names a type, not a secret). */
const NOT_A_BOT_TOKEN: Record<string, string> = {
  'xoxp-': 'a user token (xoxp-…)',
  'xoxe-': 'a refresh or rotating token (xoxe-…)',
  'xapp-': 'an app-level token (xapp-…, that one goes in SLACK_APP_TOKEN)',
  'xoxa-': 'a workspace app token (xoxa-…)',
};

const optionalNonEmpty = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()));

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string({ error: 'required: the bot token (xoxb-…)' }).superRefine((s, ctx) => {
    if (/^xoxb-/.test(s.trim())) return;
    const kind = Object.entries(NOT_A_BOT_TOKEN).find(([prefix]) => s.trim().startsWith(prefix))?.[1];
    ctx.addIssue({
      code: 'custom',
      message: `expected the Bot User OAuth Token, which starts with xoxb- (OAuth & Permissions in the app's settings)${kind ? `; this is ${kind}` : ''}`,
    });
  }),
  SLACK_SIGNING_SECRET: optionalNonEmpty,
  SLACK_APP_TOKEN: optionalNonEmpty.refine((s) => s === undefined || s.startsWith('xapp-'), {
    message: 'expected an app-level token starting with xapp-',
  }),
  SLACK_API_URL: optionalNonEmpty.pipe(
    z.url({ message: 'expected a URL such as https://slack.com/api/' }).optional(),
  ),
  QLIK_TENANT_URL: z
    .string({ error: 'required: the tenant URL, e.g. https://acme.eu.qlikcloud.com' })
    .transform((u, ctx) => {
      const expected = 'expected the tenant address only, such as https://acme.eu.qlikcloud.com';
      const url = URL.canParse(u.trim()) ? new URL(u.trim()) : undefined;
      if (!url || !/^https?:$/.test(url.protocol) || url.hostname === '') {
        ctx.addIssue({ code: 'custom', message: expected });
        return z.NEVER;
      }
      // The bot appends /api/v1/…; a path (…/hub, …/api/v1), query or fragment would put it in the wrong place.
      if (
        url.pathname.replace(/\/+$/, '') !== '' ||
        url.search !== '' ||
        url.hash !== '' ||
        url.username !== ''
      ) {
        ctx.addIssue({ code: 'custom', message: `${expected} (no path, query or fragment)` });
        return z.NEVER;
      }
      return url.origin;
    }),
  QLIK_API_KEY: z.string({ error: 'required: the API key of a TenantAdmin service user' }).min(1, {
    message: 'required: the API key of a TenantAdmin service user',
  }),
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .superRefine((url, ctx) => {
      const problem = redisUrlProblem(url);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  QUEUE_PREFIX: z
    .string()
    .default('qlikops')
    .pipe(z.string().regex(/^[A-Za-z0-9_{}:.-]+$/, { message: 'expected letters, digits, _ - . : { }' }))
    .transform(normaliseQueuePrefix)
    .pipe(z.string().min(1, { message: 'expected letters, digits, _ - . : { } (not only colons)' })),
  PORT: wholeNumber(3000, 0, 65535),
  APPROVAL_CHANNEL: optionalNonEmpty.refine((s) => s === undefined || /^[CGD][A-Z0-9]{2,}$/.test(s), {
    message: 'expected a channel id such as C0123ABCD',
  }),
  APPROVERS: optionalNonEmpty.transform((s, ctx) => {
    if (s === undefined) return undefined;
    const ids = s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    // Positions, not the entries: a name typed here (alice, bob) is not what the message needs to show.
    const bad = ids.flatMap((id, i) => (SLACK_ID.test(id) ? [] : [i + 1]));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message:
          'expected Slack user ids (U…/W…) or user group ids (S…), separated by commas, not names; ' +
          `${bad.length === 1 ? 'entry' : 'entries'} ${bad.join(', ')} of ${ids.length} ${bad.length === 1 ? 'is' : 'are'} not`,
      });
      return z.NEVER;
    }
    return ids;
  }),
  POLICY_FILE: optionalNonEmpty,
  REQUEST_TTL: z.string().default('24h').pipe(duration),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  QLIK_READS_PER_MINUTE: wholeNumber(1000, 1),
  QLIK_WRITES_PER_MINUTE: wholeNumber(100, 1),
  QLIK_FILTER_PER_MINUTE: wholeNumber(200, 1),
  WORKER_CONCURRENCY: wholeNumber(16, 1),
  BULL_BOARD: z
    .enum(['on', 'off', 'true', 'false', '1', '0'], { error: 'expected on or off' })
    .default('off')
    .transform((v) => v === 'on' || v === 'true' || v === '1'),
});

export type Config = Readonly<{
  slack: Readonly<{ botToken: string; signingSecret?: string; appToken?: string; apiUrl?: string }>;
  qlik: Readonly<{
    tenantUrl: string;
    apiKey: string;
    readsPerMinute: number;
    writesPerMinute: number;
    filterPerMinute: number;
  }>;
  redisUrl: string;
  queuePrefix: string;
  port: number;
  approvalChannel?: string;
  approvers?: readonly string[];
  policyFile?: string;
  requestTtlMs: number;
  logLevel: string;
  workerConcurrency: number;
  bullBoard: boolean;
}>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const isSet = (v: string | undefined) => v !== undefined && v.trim() !== '';

/** Rules that span several variables; checked on the raw environment so they are reported with the rest. */
function crossFieldProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (!isSet(env.SLACK_APP_TOKEN) && !isSet(env.SLACK_SIGNING_SECRET))
    problems.push('SLACK_SIGNING_SECRET: required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
  const redisUrl = isSet(env.REDIS_URL) ? env.REDIS_URL!.trim() : undefined;
  if (redisUrl !== undefined && /^rediss?\+cluster:/i.test(redisUrl)) {
    const problem = validatePrefixForCluster(isSet(env.QUEUE_PREFIX) ? env.QUEUE_PREFIX!.trim() : 'qlikops');
    if (problem !== undefined) problems.push(`QUEUE_PREFIX: ${problem}`);
  }
  if (!isSet(env.POLICY_FILE)) {
    if (!isSet(env.APPROVAL_CHANNEL)) problems.push('APPROVAL_CHANNEL: required unless POLICY_FILE sets it');
    if (!isSet(env.APPROVERS)) problems.push('APPROVERS: required unless POLICY_FILE sets them');
  }
  return problems;
}

/** Parses the environment into a frozen Config, or throws a ConfigError listing every problem (never a value). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => `${String(i.path[0] ?? 'environment')}: ${i.message}`)),
    ...crossFieldProblems(env),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError([...new Set(problems)]);
  const e = parsed.data;
  return deepFreeze({
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
    },
    qlik: {
      tenantUrl: e.QLIK_TENANT_URL,
      apiKey: e.QLIK_API_KEY,
      readsPerMinute: e.QLIK_READS_PER_MINUTE,
      writesPerMinute: e.QLIK_WRITES_PER_MINUTE,
      filterPerMinute: e.QLIK_FILTER_PER_MINUTE,
    },
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    port: e.PORT,
    approvalChannel: e.APPROVAL_CHANNEL,
    approvers: e.APPROVERS,
    policyFile: e.POLICY_FILE,
    requestTtlMs: e.REQUEST_TTL,
    logLevel: e.LOG_LEVEL,
    workerConcurrency: e.WORKER_CONCURRENCY,
    bullBoard: e.BULL_BOARD,
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
