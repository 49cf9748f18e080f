// The bot's HTTP surface: request verification in front of Bolt (bad signatures, stale and future timestamps),
// /healthz, /readyz (Redis and the Qlik credential) and /metrics, and the Web API client's rate-limit retries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcementOf } from '../../src/domain/request.ts';
import { signSlackRequest } from '../../src/sandbox/slack-fake/index.ts';
import { MAX_CLOCK_SKEW_SEC, verifySlackSignature } from '../../src/slack/app.ts';
import { REDIS_DOWN_MESSAGE } from '../../src/slack/words.ts';
import { allText, type Front, SIGNING_SECRET, startFront, U } from '../e2e/slack-front-harness.ts';

describe('verifySlackSignature', () => {
  const body = 'token=x&team_id=T1&text=grant+me+Steward';
  const now = 1_800_000_000_000;
  const at = (offsetSec: number) => {
    const ts = Math.floor(now / 1000) + offsetSec;
    const h = signSlackRequest(SIGNING_SECRET, body, ts);
    return { signature: h['x-slack-signature'], timestamp: h['x-slack-request-timestamp'] };
  };
  const check = (h: { signature?: string; timestamp?: string }, raw = body) =>
    verifySlackSignature({
      signingSecret: SIGNING_SECRET,
      rawBody: raw,
      nowMs: now,
      signature: h.signature,
      timestamp: h.timestamp,
    });

  it.each([
    ['now', 0, true],
    ['4 minutes ago', -240, true],
    ['4 minutes ahead', 240, true],
    ['at the edge in the past', -MAX_CLOCK_SKEW_SEC, true],
    ['at the edge in the future', MAX_CLOCK_SKEW_SEC, true],
    ['stale (5 min + 1 s)', -MAX_CLOCK_SKEW_SEC - 1, false],
    ['from the future (5 min + 1 s)', MAX_CLOCK_SKEW_SEC + 1, false],
  ])('timestamp %s → ok=%s', (_, offset, ok) => {
    expect(check(at(offset)).ok).toBe(ok);
  });

  it('refuses a tampered body, a wrong secret, malformed and missing headers', () => {
    const h = at(0);
    expect(check(h, `${body}&x=1`)).toEqual({ ok: false, reason: 'signature mismatch' });
    const other = signSlackRequest('another-secret', body, Number(h.timestamp));
    expect(check({ ...h, signature: other['x-slack-signature'] }).ok).toBe(false);
    expect(check({ ...h, signature: 'v1=abc' })).toEqual({ ok: false, reason: 'malformed signature' });
    expect(check({ ...h, timestamp: '12e3' })).toEqual({ ok: false, reason: 'malformed timestamp' });
    expect(check({ signature: h.signature })).toEqual({ ok: false, reason: 'missing signature headers' });
  });
});

describe('over HTTP', () => {
  let f: Front;
  beforeAll(async () => {
    f = await startFront({ label: 'http' });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('rejects bad signatures and stale or future timestamps with 401, and does nothing', async () => {
    const before = f.fake.messages.length;
    const nowSec = Math.floor(Date.now() / 1000);
    const bad = await f.driver.slash(U.dan, 'grant me Steward', {
      signatureOverride: `v0=${'0'.repeat(64)}`,
    });
    expect(bad.status).toBe(401);
    expect((await f.driver.slash(U.dan, 'help', { timestampSec: nowSec - 6 * 60 })).status).toBe(401);
    expect((await f.driver.slash(U.dan, 'help', { timestampSec: nowSec + 6 * 60 })).status).toBe(401);
    expect((await f.driver.slash(U.dan, 'help', { timestampSec: nowSec + 60 })).status).toBe(200);
    const unsigned = await f.driver.rawPost('command=%2Fqlik&text=help&user_id=U0DAN', {});
    expect(unsigned.status).toBe(401);
    expect(f.fake.messages.filter((m) => m.via !== 'ack')).toHaveLength(before);
    expect(await f.store.listPendingByRequester({ front: 'slack', id: U.dan })).toEqual([]);
  });

  it('rejects a signed click whose timestamp is in the future', async () => {
    const receipt = await f.command(U.dan, 'grant frank@corp.example Steward');
    const id = f.requestIdIn(receipt);
    const msg = await f.approvalMessage(id);
    const future = Math.floor(Date.now() / 1000) + 10 * 60;
    expect((await f.driver.click(U.alice, msg, 'approve', { timestampSec: future })).status).toBe(401);
    expect((await f.store.get(id))?.state).toBe('pending');
  });

  it('serves healthz, readyz and metrics (with HTTP counts and queue depth)', async () => {
    expect((await fetch(`${f.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${f.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await fetch(`${f.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/qab_http_requests_total\{route="\/slack\/events",status="401"\} [1-9]/);
    expect(text).toMatch(/qab_http_requests_total\{route="\/healthz",status="200"\} [1-9]/);
    expect(text).toMatch(/qab_queue_depth\{queue="role-changes",state="waiting"\} \d+/);
    expect(text).toMatch(/qab_qlik_calls_total\{endpoint="GET \/users",status="200"\} [1-9]/);
    expect(text).not.toContain(SIGNING_SECRET);
    expect((await fetch(`${f.url}/nope`)).status).toBe(404);
  });

  it('retries Slack rate_limited answers after Retry-After', async () => {
    f.fake.injectRateLimit('chat.postMessage', 1, 1);
    const receipt = await f.command(U.dan, 'grant frank@corp.example DataServicesContributor');
    const id = f.requestIdIn(receipt);
    await f.approvalMessage(id);
    const calls = f.fake.calls.filter((c) => c.method === 'chat.postMessage');
    expect(calls.some((c) => c.status === 429)).toBe(true);
    expect(announcementOf((await f.store.get(id))!)).toBeDefined();
  });
});

describe('not ready', () => {
  it('answers 503 with the reason when the Qlik key is refused', async () => {
    const f = await startFront({ label: 'badkey', qlikApiKey: 'not-a-valid-key' });
    try {
      const res = await fetch(`${f.url}/readyz`);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(text).toMatch(/Qlik/);
      expect(text).not.toContain('not-a-valid-key');
      expect((await fetch(`${f.url}/healthz`)).status).toBe(200);
    } finally {
      await f.close();
    }
  });

  it('answers 503 when Redis is down, and a command says nothing was filed', async () => {
    const f = await startFront({ label: 'noredis', redisUrl: 'redis://127.0.0.1:1' });
    try {
      const res = await fetch(`${f.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('Redis');
      const answer = await f.command(U.dan, 'grant frank@corp.example Steward');
      expect(allText(answer)).toContain(REDIS_DOWN_MESSAGE);
    } finally {
      await f.close();
    }
  });
});
