// The Mode people cache against the simulator and the real Redis: built from memberships and users, a hit costs no
// request, a miss rebuilds (but not twice within the interval), a map older than its bounded age is rebuilt (a fake
// clock), another process's map is read from Redis, and the size and last rebuild's cost are reported.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModeClient, ModePeople } from '../../src/mode/index.ts';
import { type ModeSimulator, ModeWorkspace, startModeSimulator } from '../../src/sandbox/mode-sim/index.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

let sim: ModeSimulator;
let ws: ModeWorkspace;
let mode: ModeClient;
let redis: Redis;
const prefix = uniquePrefix('mode-people');
let clock = 1_000_000;
const now = () => clock;

function people(sub: string, extra: { maxAgeMs?: number; missRefreshMs?: number } = {}): ModePeople {
  return new ModePeople({ redis, prefix: `${prefix}:${sub}`, client: mode, now, ...extra });
}

beforeAll(async () => {
  ws = new ModeWorkspace({ username: 'acme', seed: 2 });
  ws.addMember({ username: 'ann', name: 'Ann Able', email: 'Ann@Corp.example', admin: true });
  ws.addMember({ username: 'ben', name: 'Ben Bold', email: 'ben@corp.example', managedByScim: true });
  ws.addMember({ username: 'noemail', name: 'No Email' });
  sim = await startModeSimulator({ workspace: ws });
  mode = new ModeClient({ baseUrl: sim.url, workspace: 'acme', token: sim.token, secret: sim.secret });
  redis = testRedis();
});
afterAll(async () => {
  await mode?.close();
  await sim?.close();
  await dropPrefix(redis, prefix);
  await redis.quit();
});

const userReads = () =>
  sim.requests.filter((r) => r.method === 'GET' && /^\/api\/[^/]+$/.test(r.path)).length;

describe('people by email', () => {
  it('builds the map once (one user read per member) and answers hits without a request, any case', async () => {
    const p = people('hit');
    sim.resetLog();
    const [ann] = await p.byEmail('ann@CORP.example');
    expect(ann).toMatchObject({ username: 'ann', name: 'Ann Able', email: 'ann@corp.example', admin: true });
    expect(userReads()).toBe(3);
    const before = sim.requests.length;
    expect((await p.byEmail('ben@corp.example'))[0]).toMatchObject({ managedByScim: true });
    expect(await p.byToken(ann!.memberToken)).toMatchObject({ username: 'ann' });
    expect(sim.requests.length).toBe(before);
    expect(p.stats()).toMatchObject({ size: 3, builtAt: clock, lastRefresh: { requests: 4 } });
    expect(p.stats().lastRefresh!.ms).toBeGreaterThanOrEqual(0);
  });

  it('a miss rebuilds when the map is old enough, but a repeated miss within the interval does not', async () => {
    const p = people('miss', { missRefreshMs: 60_000 });
    await p.byEmail('ann@corp.example');
    ws.addMember({ username: 'cara', name: 'Cara New', email: 'cara@corp.example' });
    sim.resetLog();
    // Just built: the miss stands, and a typo costs nothing.
    expect(await p.byEmail('cara@corp.example')).toEqual([]);
    expect(await p.byEmail('typo@corp.example')).toEqual([]);
    expect(sim.requests).toHaveLength(0);
    clock += 61_000;
    expect((await p.byEmail('cara@corp.example'))[0]).toMatchObject({ username: 'cara' });
    const after = sim.requests.length;
    expect(after).toBeGreaterThan(0);
    expect(await p.byEmail('typo@corp.example')).toEqual([]);
    expect(sim.requests.length).toBe(after);
    expect(p.stats().size).toBe(4);
  });

  it('rebuilds a map older than its bounded age before using it', async () => {
    const p = people('age', { maxAgeMs: 3_600_000 });
    await p.byEmail('ann@corp.example');
    ws.setMemberEmail(ws.memberByUsername('ann')!.memberToken, 'ann.new@corp.example');
    clock += 3_000_000;
    expect((await p.byEmail('ann@corp.example'))[0]?.username).toBe('ann');
    clock += 700_000;
    expect(await p.byEmail('ann.new@corp.example')).toHaveLength(1);
    expect(p.stats().builtAt).toBe(clock);
  });

  it('another process uses the map in Redis instead of building its own', async () => {
    await people('shared').byEmail('ann@corp.example');
    sim.resetLog();
    const other = people('shared');
    expect(await other.byEmail('ben@corp.example')).toHaveLength(1);
    expect(sim.requests).toHaveLength(0);
    expect(other.stats().lastRefresh).toBeUndefined();
  });

  it('keeps a member Mode has no email for, by token', async () => {
    const p = people('noemail');
    const token = ws.memberByUsername('noemail')!.memberToken;
    expect(await p.byToken(token)).toMatchObject({ username: 'noemail', name: 'No Email' });
    expect((await p.byToken(token))?.email).toBeUndefined();
  });
});
