// Owns the one pino logger. Tokens, keys, secrets and authorization headers are redacted wherever they appear.
import { type Logger, pino } from 'pino';

export const REDACT_PATHS = [
  '*.token',
  '*.botToken',
  '*.appToken',
  '*.apiKey',
  '*.signingSecret',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  '*.headers.authorization',
  'config.slack',
  'config.qlik.apiKey',
  'apiKey',
  'token',
];

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
    },
    destination,
  );
}

export type { Logger };
