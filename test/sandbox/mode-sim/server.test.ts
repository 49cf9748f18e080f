// The Mode simulator's platform behaviour: the request log, injected faults (status, body, times, dropped
// connections), latency, and the leaky-bucket rate limit (429 without Retry-After) on a fake clock.

import { afterEach, describe, expect, it } from 'vitest';
import {
  demoModeWorkspace,
  type ModeSimulator,
  ModeWorkspace,
  startModeSimulator,
} from '../../../src/sandbox/mode-sim/index.ts';
import { call, ErrorBody, MembershipList } from './http.ts';

let sim: ModeSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('request log', () => {
  it('records method, path, query, status, time and write bodies, on the workspace clock', async () => {
    let clock = 1_700_000_000_000;
    const ws = new ModeWorkspace({ now: () => clock });
    const g = ws.addGroup({ name: 'Team' }).token;
    const m = ws.addMember({ username: 'ann', email: 'ann@corp.example' }).memberToken;
    sim = await startModeSimulator({ workspace: ws });
    await call(sim, 'GET', '/acme/groups?page=2&per_page=5');
    clock += 1000;
    await call(sim, 'POST', `/acme/groups/${g}/memberships`, { body: { membership: { member_token: m } } });
    await call(sim, 'GET', '/acme/memberships', { auth: null });
    expect(sim.requests).toEqual([
      {
        method: 'GET',
        path: '/api/acme/groups',
        query: { page: '2', per_page: '5' },
        status: 200,
        at: 1_700_000_000_000,
      },
      {
        method: 'POST',
        path: `/api/acme/groups/${g}/memberships`,
        query: {},
        status: 200,
        at: 1_700_000_001_000,
        body: { membership: { member_token: m } },
      },
      { method: 'GET', path: '/api/acme/memberships', query: {}, status: 401, at: 1_700_000_001_000 },
    ]);
    sim.resetLog();
    expect(sim.requests).toEqual([]);
  });
});

describe('faults', () => {
  it('answers the next matching requests with the status and {id, message}, then recovers', async () => {
    sim = await startModeSimulator();
    sim.injectFault({ method: 'get', path: /\/memberships$/, status: 503, times: 2 });
    // Other paths and methods are untouched.
    expect((await call(sim, 'GET', '/acme/groups')).status).toBe(200);
    for (let i = 0; i < 2; i += 1) {
      const r = await call(sim, 'GET', '/acme/memberships');
      expect(r.status).toBe(503);
      expect(ErrorBody.parse(r.body)).toEqual({ id: 'internal_server_error', message: 'Injected fault.' });
    }
    const ok = await call(sim, 'GET', '/acme/memberships');
    expect(ok.status).toBe(200);
    MembershipList.parse(ok.body);
  });

  it('answers a fault with a given body: a Rails-style 422 and an id that disagrees with the status', async () => {
    sim = await startModeSimulator();
    sim.injectFault({ method: 'POST', status: 422, body: { message: { name: ['is too long'] } } });
    sim.injectFault({ status: 400, body: { id: 'not_found', message: 'Nope' } });
    const g = sim.workspace.groupByName('Analysts')!.token;
    const r422 = await call(sim, 'POST', `/acme/groups/${g}/memberships`, { body: { membership: {} } });
    expect(r422).toMatchObject({ status: 422, body: { message: { name: ['is too long'] } } });
    const r400 = await call(sim, 'GET', '/verify');
    expect(r400).toMatchObject({ status: 400, body: { id: 'not_found', message: 'Nope' } });
  });

  it('faults come before auth, and a dropped connection is a network error until cleared', async () => {
    sim = await startModeSimulator();
    sim.injectFault({ status: 500, times: 1 });
    expect((await call(sim, 'GET', '/verify', { auth: null })).status).toBe(500);
    sim.injectFault({ path: /verify/, status: 0, closeConnection: true, times: Number.POSITIVE_INFINITY });
    await expect(call(sim, 'GET', '/verify')).rejects.toThrow();
    await expect(call(sim, 'GET', '/verify')).rejects.toThrow();
    expect(sim.requests.at(-1)!.status).toBe(0);
    sim.clearFaults();
    expect((await call(sim, 'GET', '/verify')).status).toBe(200);
  });
});

describe('latency', () => {
  it('delays every answer by the set latency, and setLatency changes it', async () => {
    sim = await startModeSimulator({ latencyMs: 120 });
    let t = performance.now();
    await call(sim, 'GET', '/verify');
    expect(performance.now() - t).toBeGreaterThanOrEqual(110);
    sim.setLatency(0);
    t = performance.now();
    await call(sim, 'GET', '/verify');
    expect(performance.now() - t).toBeLessThan(110);
  });
});

describe('rate limit', () => {
  it('answers 429 without Retry-After once the bucket is full, and drains at perMinute per minute', async () => {
    let clock = 0;
    sim = await startModeSimulator({
      workspace: demoModeWorkspace({ now: () => clock }),
      rateLimit: { perMinute: 3 },
    });
    for (let i = 0; i < 3; i += 1) expect((await call(sim, 'GET', '/verify')).status).toBe(200);
    const limited = await call(sim, 'GET', '/acme/memberships');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(ErrorBody.parse(limited.body).id).toBe('too_many_requests');
    // 3 a minute leaks one every 20 s: 19 s is not enough, 20 s frees exactly one.
    clock += 19_000;
    expect((await call(sim, 'GET', '/verify')).status).toBe(429);
    clock += 1_000;
    expect((await call(sim, 'GET', '/verify')).status).toBe(200);
    expect((await call(sim, 'GET', '/verify')).status).toBe(429);
    clock += 60_000;
    for (let i = 0; i < 3; i += 1) expect((await call(sim, 'GET', '/verify')).status).toBe(200);
  });

  it('does not count refused credentials against the bucket', async () => {
    let clock = 0;
    sim = await startModeSimulator({
      workspace: demoModeWorkspace({ now: () => clock }),
      rateLimit: { perMinute: 1 },
    });
    for (let i = 0; i < 3; i += 1)
      expect((await call(sim, 'GET', '/verify', { auth: null })).status).toBe(401);
    expect((await call(sim, 'GET', '/verify')).status).toBe(200);
    expect((await call(sim, 'GET', '/verify')).status).toBe(429);
    clock += 60_000;
    expect((await call(sim, 'GET', '/verify')).status).toBe(200);
  });
});

describe('credentials', () => {
  it('takes a given token and secret, and never puts the secret in a log entry', async () => {
    sim = await startModeSimulator({ token: 'abcdef012345', secret: 's3cret-value' });
    expect((await call(sim, 'GET', '/verify')).status).toBe(200);
    const bad = `Basic ${Buffer.from('abcdef012345:s3cret-valuX').toString('base64')}`;
    expect((await call(sim, 'GET', '/verify', { auth: bad })).status).toBe(401);
    expect(JSON.stringify(sim.requests)).not.toContain('s3cret');
  });
});
