// Owns the process configuration: the environment (README, "Configuration") parsed once into a frozen, typed Config.
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

/** A duration, or `off` (0). */
const durationOrOff = z.union([z.literal('off').transform(() => 0), duration], {
  error: 'expected a duration such as 15m or 4h, or off',
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

/** A tenant URL as the bot uses it (its origin), or why it can't be used; the problem never shows the value. */
function tenantOrigin(u: string): string | { problem: string } {
  const expected = 'expected the tenant address only, such as https://acme.eu.qlikcloud.com';
  const url = URL.canParse(u.trim()) ? new URL(u.trim()) : undefined;
  if (!url || !/^https?:$/.test(url.protocol) || url.hostname === '') return { problem: expected };
  // The bot appends /api/v1/…; a path (…/hub, …/api/v1), query or fragment would put it in the wrong place.
  if (url.pathname.replace(/\/+$/, '') !== '' || url.search !== '' || url.hash !== '' || url.username !== '')
    return { problem: `${expected} (no path, query or fragment)` };
  return url.origin;
}

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
  // Required only without QLIK_TENANTS; qlikTenantsOf checks which of the two ways is used.
  QLIK_TENANT_URL: z
    .string()
    .optional()
    .transform((u, ctx) => {
      if (u === undefined) return undefined;
      const origin = tenantOrigin(u);
      if (typeof origin === 'object') {
        ctx.addIssue({ code: 'custom', message: origin.problem });
        return z.NEVER;
      }
      return origin;
    }),
  QLIK_API_KEY: z
    .string()
    .optional()
    .refine((k) => k === undefined || k.length > 0, {
      message: 'required: the API key of a TenantAdmin service user',
    }),
  QLIK_TENANTS: optionalNonEmpty,
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
  DRIFT_CHECK_EVERY: z.string().default('15m').pipe(durationOrOff),
  DRIFT_WINDOW: z.string().default('30d').pipe(duration),
  REMIND_AFTER: z.string().default('4h').pipe(durationOrOff),
  ESCALATE_AFTER: z.string().default('off').pipe(durationOrOff),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  QLIK_READS_PER_MINUTE: wholeNumber(1000, 1),
  QLIK_WRITES_PER_MINUTE: wholeNumber(100, 1),
  QLIK_FILTER_PER_MINUTE: wholeNumber(200, 1),
  WORKER_CONCURRENCY: wholeNumber(16, 1),
  // Holders one access review takes: each is a line and two buttons in Slack, so a larger one is refused.
  REVIEW_MAX_HOLDERS: wholeNumber(500, 1, 5000),
  BULL_BOARD: z
    .enum(['on', 'off', 'true', 'false', '1', '0'], { error: 'expected on or off' })
    .default('off')
    .transform((v) => v === 'on' || v === 'true' || v === '1'),
});

/** One Qlik tenant the bot manages: its client's address, credential and rate limits. */
export type QlikTenantConfig = Readonly<{
  /**
   * The tenant's name: what `on <tenant>` names and what requests record as their target's instance. `default`
   * for the one tenant of QLIK_TENANT_URL; with QLIK_TENANTS, the name given there.
   */
  name: string;
  tenantUrl: string;
  apiKey: string;
  readsPerMinute: number;
  writesPerMinute: number;
  filterPerMinute: number;
  /**
   * Who signs the tenant's people in (QLIK_IDENTITY_PROVIDER, per tenant QLIK_IDENTITY_PROVIDER_<NAME>): `qlik`
   * (Qlik Account logins: invites work) or `custom` (the tenant's own identity provider: Qlik cannot invite).
   */
  identityProvider: 'qlik' | 'custom';
}>;

export type Config = Readonly<{
  slack: Readonly<{ botToken: string; signingSecret?: string; appToken?: string; apiUrl?: string }>;
  /** The default tenant: the one of QLIK_TENANT_URL, or the first of QLIK_TENANTS. Always `qlikTenants[0]`. */
  qlik: QlikTenantConfig;
  /** Every configured tenant, the default first; one entry unless QLIK_TENANTS is set. */
  qlikTenants: readonly QlikTenantConfig[];
  redisUrl: string;
  queuePrefix: string;
  port: number;
  approvalChannel?: string;
  approvers?: readonly string[];
  policyFile?: string;
  requestTtlMs: number;
  /** How often the worker compares what the bot applied with the target systems (DRIFT_CHECK_EVERY); 0: never. */
  driftCheckEveryMs: number;
  /** How far back applied changes are compared, besides time-bound grants still running (DRIFT_WINDOW). */
  driftWindowMs: number;
  /** The policy's defaults for reminders and escalation (REMIND_AFTER, ESCALATE_AFTER); 0: never. */
  remindAfterMs: number;
  escalateAfterMs: number;
  logLevel: string;
  workerConcurrency: number;
  /** The most holders one access review takes (REVIEW_MAX_HOLDERS). */
  reviewMaxHolders: number;
  bullBoard: boolean;
  /** The Mode workspace (MODE_WORKSPACE, MODE_TOKEN, MODE_SECRET; MODE_API_URL); absent: Mode is off. */
  mode?: ModeConfig;
}>;

export type ModeConfig = Readonly<{
  /** The workspace's name: the slug in app.mode.com/<name>/. */
  workspace: string;
  /** A workspace API token and its secret (HTTP Basic). */
  token: string;
  secret: string;
  /** Mode's API base, `https://app.mode.com/api` unless MODE_API_URL says otherwise (the sandbox's simulator). */
  apiUrl: string;
}>;

const MODE_VARIABLES = ['MODE_WORKSPACE', 'MODE_TOKEN', 'MODE_SECRET'] as const;
export const DEFAULT_MODE_API_URL = 'https://app.mode.com/api';

/** Mode's settings: all three set, or none (Mode off); a half-set workspace names what is missing. */
function modeOf(env: NodeJS.ProcessEnv): { mode?: ModeConfig; problems: string[] } {
  const set = MODE_VARIABLES.filter((v) => isSet(env[v]));
  if (set.length === 0) return { problems: [] };
  const missing = MODE_VARIABLES.filter((v) => !isSet(env[v]));
  if (missing.length > 0)
    return {
      problems: missing.map(
        (v) =>
          `${v}: required with ${set.join(' and ')} (Mode needs MODE_WORKSPACE, MODE_TOKEN and MODE_SECRET)`,
      ),
    };
  const workspace = env.MODE_WORKSPACE!.trim();
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(workspace))
    problems.push(
      'MODE_WORKSPACE: expected the workspace name from app.mode.com/<name>/ (letters, digits, - and _)',
    );
  let apiUrl = DEFAULT_MODE_API_URL;
  if (isSet(env.MODE_API_URL)) {
    const raw = env.MODE_API_URL!.trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/i.test(raw))
      problems.push('MODE_API_URL: expected a URL such as https://app.mode.com/api');
    else apiUrl = raw;
  }
  if (problems.length > 0) return { problems };
  return {
    mode: { workspace, token: env.MODE_TOKEN!.trim(), secret: env.MODE_SECRET!.trim(), apiUrl },
    problems,
  };
}

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

/** The instance name of the one tenant of QLIK_TENANT_URL / QLIK_API_KEY (what requests naming no tenant mean). */
export const SINGLE_TENANT_NAME = 'default';

const TENANT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const RATE_SETTINGS = [
  ['QLIK_READS_PER_MINUTE', 'readsPerMinute'],
  ['QLIK_WRITES_PER_MINUTE', 'writesPerMinute'],
  ['QLIK_FILTER_PER_MINUTE', 'filterPerMinute'],
] as const;

/** QLIK_IDENTITY_PROVIDER(_<NAME>): `qlik` or `custom`, any case; `fallback` when unset. */
function identityProviderOf(
  env: NodeJS.ProcessEnv,
  variable: string,
  fallback: 'qlik' | 'custom',
  problems: string[],
): 'qlik' | 'custom' {
  const v = env[variable]?.trim().toLowerCase();
  if (v === undefined || v === '') return fallback;
  if (v === 'qlik' || v === 'custom') return v;
  problems.push(
    `${variable}: expected qlik (Qlik Account logins, invites work) or custom (the tenant's own identity provider)`,
  );
  return fallback;
}

/** `dev-eu` → `DEV_EU`: the suffix of a tenant's own variables (`QLIK_API_KEY_DEV_EU`). */
export function tenantVariableSuffix(name: string): string {
  return name.toUpperCase().replaceAll('-', '_');
}

/** The names QLIK_TENANTS gives, in order, as far as they can be read (for the policy check when the rest fails). */
export function tenantNamesOf(env: NodeJS.ProcessEnv): string[] {
  const list = env.QLIK_TENANTS?.trim();
  if (!list) return [SINGLE_TENANT_NAME];
  return list
    .split(',')
    .map((pair) => pair.split('=')[0]!.trim())
    .filter((name) => TENANT_NAME.test(name));
}

/**
 * The tenants from QLIK_TENANTS (`name=url,…`, the first the default, each key in `QLIK_API_KEY_<NAME>`, each rate
 * limit in `QLIK_…_PER_MINUTE_<NAME>` defaulting to the shared one), or the single tenant of QLIK_TENANT_URL /
 * QLIK_API_KEY. Every problem is named; tenant names may be shown, URLs and keys never.
 */
function qlikTenantsOf(
  env: NodeJS.ProcessEnv,
  e: Partial<z.infer<typeof envSchema>>,
): { tenants: QlikTenantConfig[]; problems: string[] } {
  const problems: string[] = [];
  const shared = {
    readsPerMinute: e.QLIK_READS_PER_MINUTE ?? 1000,
    writesPerMinute: e.QLIK_WRITES_PER_MINUTE ?? 100,
    filterPerMinute: e.QLIK_FILTER_PER_MINUTE ?? 200,
  };
  const idp = identityProviderOf(env, 'QLIK_IDENTITY_PROVIDER', 'qlik', problems);
  const list = env.QLIK_TENANTS?.trim();
  if (!list) {
    if (env.QLIK_TENANT_URL === undefined)
      problems.push('QLIK_TENANT_URL: required: the tenant URL, e.g. https://acme.eu.qlikcloud.com');
    if (env.QLIK_API_KEY === undefined)
      problems.push('QLIK_API_KEY: required: the API key of a TenantAdmin service user');
    if (e.QLIK_TENANT_URL === undefined || !e.QLIK_API_KEY) return { tenants: [], problems };
    return {
      tenants: [
        {
          name: SINGLE_TENANT_NAME,
          tenantUrl: e.QLIK_TENANT_URL,
          apiKey: e.QLIK_API_KEY,
          ...shared,
          identityProvider: idp,
        },
      ],
      problems,
    };
  }
  // One way or the other: a QLIK_TENANT_URL left beside QLIK_TENANTS would be silently ignored otherwise.
  if (isSet(env.QLIK_TENANT_URL))
    problems.push('QLIK_TENANT_URL: leave it unset when QLIK_TENANTS is set (each tenant is named there)');
  if (isSet(env.QLIK_API_KEY))
    problems.push(
      'QLIK_API_KEY: leave it unset when QLIK_TENANTS is set (each key goes in QLIK_API_KEY_<NAME>)',
    );
  const tenants: QlikTenantConfig[] = [];
  const seenNames = new Set<string>();
  const seenUrls = new Set<string>();
  list.split(',').forEach((pair, i) => {
    const at = `QLIK_TENANTS: entry ${i + 1}`;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? '' : pair.slice(0, eq).trim();
    const url = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (!TENANT_NAME.test(name)) {
      problems.push(
        `${at}: expected name=url, the name lower-case letters, digits and -, starting with a letter (up to 32)`,
      );
      return;
    }
    const origin = tenantOrigin(url);
    if (typeof origin === 'object') problems.push(`QLIK_TENANTS: tenant ${name}: ${origin.problem}`);
    if (seenNames.has(name)) problems.push(`QLIK_TENANTS: tenant ${name} is named twice`);
    // Requests that name no tenant mean the default one; a later tenant called `default` would take them.
    if (name === SINGLE_TENANT_NAME && i > 0)
      problems.push(`QLIK_TENANTS: tenant ${SINGLE_TENANT_NAME} must come first (it is the default tenant)`);
    if (typeof origin === 'string' && seenUrls.has(origin))
      problems.push(`QLIK_TENANTS: tenant ${name} has the same URL as an earlier tenant`);
    seenNames.add(name);
    if (typeof origin === 'string') seenUrls.add(origin);
    const suffix = tenantVariableSuffix(name);
    const keyVar = `QLIK_API_KEY_${suffix}`;
    const apiKey = env[keyVar];
    if (apiKey === undefined || apiKey === '')
      problems.push(`${keyVar}: required: the API key of a TenantAdmin service user of tenant ${name}`);
    const limits = { ...shared };
    for (const [variable, field] of RATE_SETTINGS) {
      const own = wholeNumber(shared[field], 1).safeParse(env[`${variable}_${suffix}`]);
      if (own.success) limits[field] = own.data;
      else problems.push(`${variable}_${suffix}: expected a whole number of 1 or more`);
    }
    const identityProvider = identityProviderOf(env, `QLIK_IDENTITY_PROVIDER_${suffix}`, idp, problems);
    if (typeof origin === 'string' && apiKey)
      tenants.push({ name, tenantUrl: origin, apiKey, ...limits, identityProvider });
  });
  return { tenants, problems };
}

/** Parses the environment into a frozen Config, or throws a ConfigError listing every problem (never a value). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const qlik = qlikTenantsOf(env, parsed.success ? parsed.data : partialEnv(env));
  const mode = modeOf(env);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => `${String(i.path[0] ?? 'environment')}: ${i.message}`)),
    ...qlik.problems,
    ...mode.problems,
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
    qlik: qlik.tenants[0]!,
    qlikTenants: qlik.tenants,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    port: e.PORT,
    approvalChannel: e.APPROVAL_CHANNEL,
    approvers: e.APPROVERS,
    policyFile: e.POLICY_FILE,
    requestTtlMs: e.REQUEST_TTL,
    driftCheckEveryMs: e.DRIFT_CHECK_EVERY,
    driftWindowMs: e.DRIFT_WINDOW,
    remindAfterMs: e.REMIND_AFTER,
    escalateAfterMs: e.ESCALATE_AFTER,
    logLevel: e.LOG_LEVEL,
    workerConcurrency: e.WORKER_CONCURRENCY,
    reviewMaxHolders: e.REVIEW_MAX_HOLDERS,
    bullBoard: e.BULL_BOARD,
    ...(mode.mode === undefined ? {} : { mode: mode.mode }),
  });
}

/** The Qlik settings that parse on their own, when the whole environment does not (so every problem is still found). */
function partialEnv(env: NodeJS.ProcessEnv): Partial<z.infer<typeof envSchema>> {
  const out: Partial<z.infer<typeof envSchema>> = {};
  const url = envSchema.shape.QLIK_TENANT_URL.safeParse(env.QLIK_TENANT_URL);
  if (url.success) out.QLIK_TENANT_URL = url.data;
  const key = envSchema.shape.QLIK_API_KEY.safeParse(env.QLIK_API_KEY);
  if (key.success) out.QLIK_API_KEY = key.data;
  for (const [variable] of RATE_SETTINGS) {
    const n = envSchema.shape[variable].safeParse(env[variable]);
    if (n.success) out[variable] = n.data;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
