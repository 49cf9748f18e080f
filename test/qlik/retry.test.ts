// Retry decisions: GETs retry transient failures, PATCH only 429; backoff grows, is capped and jittered.
import { describe, expect, it } from 'vitest';
import { errorFromResponse, errorFromTransport } from '../../src/qlik/errors.ts';
import { DEFAULT_RETRY, qlikBackoff, shouldRetry } from '../../src/qlik/retry.ts';
import { backoffDelay } from '../../src/retry.ts';

const status = (s: number) => errorFromResponse({ method: 'GET', path: '/x', status: s, body: '' });

describe('retry policy', () => {
  it('retries 429, 5xx, network and timeouts for idempotent calls only', () => {
    const net = errorFromTransport('GET', '/x', { code: 'ECONNRESET' });
    const timeout = errorFromTransport('GET', '/x', { code: 'UND_ERR_HEADERS_TIMEOUT' });
    for (const e of [status(429), status(500), status(503), net, timeout])
      expect(shouldRetry(e, 'idempotent')).toBe(true);
    for (const e of [status(400), status(401), status(403), status(404), status(207)]) {
      expect(shouldRetry(e, 'idempotent')).toBe(false);
    }
    expect(shouldRetry(status(429), 'rate-limit-only')).toBe(true);
    for (const e of [status(500), net, timeout]) expect(shouldRetry(e, 'rate-limit-only')).toBe(false);
  });

  it('backs off exponentially with jitter, capped', () => {
    const p = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, qlikBackoff(p), () => 0))).toEqual([
      50, 100, 200, 400, 500,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, qlikBackoff(p), () => 1))).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
  });
});
