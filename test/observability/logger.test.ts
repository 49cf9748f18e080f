// The logger scrubs Slack-token-shaped strings wherever they appear in a log line, not only at known paths.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { boltLogger } from '../../src/slack/app.ts';

function capture(level = 'trace') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: createLogger(level, sink), text: () => lines.join('') };
}

const TOKENS = ['xoxb-1234-5678-abcdEFGH', 'xoxp-1-2-3-abc', 'xapp-1-A0-123-abcdef', 'xoxe.xoxp-1-abc'];

describe('createLogger', () => {
  it('scrubs tokens in messages, fields, nested objects, errors, format arguments and child bindings', () => {
    const c = capture();
    const child = c.log.child({ note: `bound ${TOKENS[0]}` });
    child.info(`message with ${TOKENS[0]}`);
    child.warn({ body: { error: `invalid_auth ${TOKENS[1]}`, list: [TOKENS[2]] } }, 'slack said no');
    child.error({ err: new Error(`An API error occurred: ${TOKENS[3]}`) }, 'failed');
    child.debug('format %s', TOKENS[2]);
    const text = c.text();
    for (const t of TOKENS) expect(text).not.toContain(t.replace(/^xoxe\./, ''));
    expect(text).toContain('[redacted-token]');
    expect(text).toContain('slack said no');
  });

  it('keeps the Slack client and Bolt at info and above even at trace', () => {
    const c = capture('trace');
    const b = boltLogger(c.log);
    b.setLevel('debug' as never);
    b.debug('http request result: {"user":{"profile":{"email":"carol@corp.example"}}}');
    b.info('API Call failed due to rate limiting.');
    expect(c.text()).not.toContain('carol@corp.example');
    expect(c.text()).toContain('rate limiting');
    expect(b.getLevel()).toBe('info');
  });
});
