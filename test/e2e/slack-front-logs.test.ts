// At LOG_LEVEL=trace the bot's log holds neither the bot token nor the profiles Slack returns: the Slack client
// and Bolt stay at info (their debug output is raw bodies) and token-shaped strings are scrubbed in every line.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { allText, BOT_TOKEN, type Front, startFront, U } from './slack-front-harness.ts';

let f: Front;
const lines: string[] = [];
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  f = await startFront({ label: 'logs', logger: createLogger('trace', sink) });
});
afterAll(async () => {
  await f?.close();
});

describe('debug logs', () => {
  it('hold no token when Slack echoes it in an error, and no profile email from users.info', async () => {
    // A Slack error body that echoes the token back.
    f.fake.injectError('users.info', `invalid_auth (token ${BOT_TOKEN})`, 1);
    const failed = await f.command(U.dan, `whois <@${U.frank}|frank>`);
    expect(allText(failed)).not.toContain(BOT_TOKEN);
    // A profile read that succeeds: users.info returns Carol's profile with her email.
    const ok = await f.command(U.dan, `whois <@${U.carol}|carol>`);
    expect(allText(ok)).toContain('Roles of');
    const log = lines.join('');
    expect(log.length).toBeGreaterThan(0);
    // The echoed error did reach the log, scrubbed.
    expect(log).toContain('[redacted-token]');
    expect(log).not.toContain(BOT_TOKEN);
    expect(log).not.toMatch(/xox[abpr]-/);
    expect(log).not.toContain('carol@corp.example');
  });
});
