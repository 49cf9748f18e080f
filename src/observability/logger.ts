// Owns the one pino logger. Tokens, keys, secrets and authorization headers are redacted wherever they appear:
// by path for the fields we know, and by shape (xoxb-…, xapp-…) in every string logged, as a second line of
// defence for text we don't control, such as a Slack error that echoes the token back.
import { type Logger, pino } from 'pino';

const REDACT_PATHS = [
  '*.token',
  '*.botToken',
  '*.appToken',
  '*.apiKey',
  '*.signingSecret',
  '*.secret',
  'config.mode',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  '*.headers.authorization',
  'config.slack',
  'config.qlik.apiKey',
  'config.qlikTenants[*].apiKey',
  'apiKey',
  'token',
];

/** Slack tokens by shape: bot, user, app-level, refresh, workspace and legacy tokens. */
const TOKEN_SHAPED = /\b(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]+/g;
const TOKEN_CENSOR = '[redacted-token]';

/** `text` with every Slack-token-shaped run replaced. */
function scrubTokens(text: string): string {
  return text.replace(TOKEN_SHAPED, TOKEN_CENSOR);
}

/** A copy of a logged value with token-shaped strings scrubbed; bounded, so a cyclic object can't hang it. */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubTokens(value);
  if (typeof value !== 'object' || value === null || depth > 6) return value;
  if (value instanceof Error) {
    // A copy with the same prototype, so pino's error serializer still sees (and names) an Error.
    const out = Object.create(Object.getPrototypeOf(value) as object) as Error & Record<string, unknown>;
    for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth + 1);
    out.message = scrubTokens(value.message);
    if (value.stack) out.stack = scrubTokens(value.stack);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth + 1);
  return out;
}

export function createLogger(
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      level,
      base: { service: 'qlik-access-bot' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Every argument of every log call (the merged object, the message, format arguments) is scrubbed before
      // pino serialises it, and so is each child's bindings, which pino serialises once when the child is made.
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => scrub(a)) as Parameters<typeof method>);
        },
      },
      onChild(child) {
        const c = child as unknown as Record<symbol, unknown>;
        const bound = c[pino.symbols.chindingsSym];
        if (typeof bound === 'string') c[pino.symbols.chindingsSym] = scrubTokens(bound);
      },
    },
    destination,
  );
}

export type { Logger };
