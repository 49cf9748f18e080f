// Owns the start-up reachability checks: one PING to Redis and (for the bot role) one Slack auth.test, both at once
// and without retries, before anything else connects. Each failure is one line that says what to fix; without
// this, an unreachable Redis and Slack show as a run of repeated connection warnings from the retrying clients
// before the real reason. The retrying clients are for a running bot riding out a blip, not for a bad start.
import { WebClient } from '@slack/web-api';
import type { Config } from './config.ts';
import { createRedisConnection, redactRedisUrl } from './store/redis.ts';

const TIMEOUT_MS = 5_000;

/** Why Redis at `url` cannot be used now, or undefined when it answers PING. */
export async function redisProblem(url: string, timeoutMs = TIMEOUT_MS): Promise<string | undefined> {
  let lastError: string | undefined;
  const redis = createRedisConnection(url, 'command', {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: true,
  });
  redis.on('error', (err: Error & { code?: string }) => {
    lastError = err.code ?? err.message;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
    return answer === 'PONG'
      ? undefined
      : `REDIS_URL: Redis at ${redactRedisUrl(url)} answered PING with ${answer}`;
  } catch (err) {
    const reason = lastError ?? (err instanceof Error ? err.message : String(err));
    return `REDIS_URL: no Redis answers at ${redactRedisUrl(url)} (${reason}); start it, or correct REDIS_URL`;
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** The bot's identity as auth.test names it: handed to the Slack front so it need not ask again. */
export interface BotIdentity {
  botId: string;
  botUserId: string;
}

/** The bot's identity, or why Slack does not accept SLACK_BOT_TOKEN (or cannot be reached). */
export async function checkSlack(
  slack: Config['slack'],
  // Slack over the internet may be slower than a Redis next door.
  timeoutMs = 2 * TIMEOUT_MS,
): Promise<{ ok: true; identity: BotIdentity } | { ok: false; problem: string }> {
  const apiUrl = slack.apiUrl ? (slack.apiUrl.endsWith('/') ? slack.apiUrl : `${slack.apiUrl}/`) : undefined;
  const client = new WebClient(slack.botToken, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    retryConfig: { retries: 0 },
    timeout: timeoutMs,
    logger: silentLogger,
  });
  try {
    const res = await client.auth.test();
    if (!res.bot_id || !res.user_id)
      return {
        ok: false,
        problem: 'SLACK_BOT_TOKEN: Slack says this is not a bot token (auth.test names no bot)',
      };
    return { ok: true, identity: { botId: res.bot_id, botUserId: res.user_id } };
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (code)
      return {
        ok: false,
        problem: `SLACK_BOT_TOKEN: Slack did not accept the token (${code}); copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page`,
      };
    const original = (err as { original?: { cause?: { code?: string; message?: string }; message?: string } })
      .original;
    const cause = original?.cause?.code ?? original?.cause?.message ?? original?.message;
    return {
      ok: false,
      problem: `SLACK_API_URL: cannot reach Slack's Web API at ${apiUrl ?? 'https://slack.com/api/'}${cause ? ` (${cause})` : ''}; check the network (or SLACK_API_URL)`,
    };
  }
}

/**
 * Every start-up reachability problem for this role, checked at the same time (empty when all is well), and the
 * bot's identity that the Slack check read (for the bot roles), so the Slack front does not ask auth.test again.
 */
export async function reachability(
  role: 'all' | 'bot' | 'worker',
  config: Config,
): Promise<{ problems: string[]; botIdentity?: BotIdentity }> {
  const [redis, slack] = await Promise.all([
    redisProblem(config.redisUrl),
    role === 'worker' ? undefined : checkSlack(config.slack),
  ]);
  const problems = [redis, slack?.ok === false ? slack.problem : undefined].filter(
    (p): p is string => p !== undefined,
  );
  return { problems, ...(slack?.ok ? { botIdentity: slack.identity } : {}) };
}

const noop = () => {};
const silentLogger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  setLevel: noop,
  getLevel: () => 'error' as never,
  setName: noop,
};
