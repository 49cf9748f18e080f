// Owns telling a slash command Slack delivers again from the first delivery of it. Over Socket Mode, Slack sends an
// envelope again when it saw no ack (a dropped socket, a refresh in the middle); the bot acks first and works after,
// so a command whose ack was lost has already been handled when it comes back. Each command's `trigger_id` is
// claimed once, right after its ack went out: the claim that finds it taken is a redelivery and does nothing more.
// A command whose ack never went out never claimed it, so its redelivery is handled as the first.
import type { RedisConnection } from '../store/redis.ts';

/** Slack keeps retrying an envelope for a few minutes at most; a claim outlives that with room to spare. */
const CLAIM_SECONDS = 15 * 60;

/** How long a claim may take before the command counts as first (Redis down: the answer then says so in words). */
const CLAIM_WAIT_MS = 500;

/** True when this is the first delivery of the command with this trigger_id (and claims it); false for a redelivery. */
export type ClaimCommand = (triggerId: string) => Promise<boolean>;

/**
 * Claims in Redis (`<prefix>:slack:command:<trigger_id>`, SET NX with a TTL), so every bot replica sees one claim.
 * When Redis can't say (an error, or no answer within `waitMs`), the command counts as first: answering twice beats
 * not answering at all, and the command's own work then tells the person that Redis is unreachable.
 */
export function redisCommandClaims(
  redis: Pick<RedisConnection, 'set'>,
  prefix: string,
  waitMs = CLAIM_WAIT_MS,
): ClaimCommand {
  return async (triggerId) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), waitMs);
    });
    const claim = redis
      .set(`${prefix}:slack:command:${triggerId}`, '1', 'EX', CLAIM_SECONDS, 'NX')
      .then((r) => r === 'OK')
      .catch(() => true);
    try {
      return await Promise.race([claim, late]);
    } finally {
      clearTimeout(timer);
    }
  };
}
