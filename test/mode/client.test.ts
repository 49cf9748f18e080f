// The Mode client against the Mode simulator over HTTP: Basic auth and a credential that never leaks, Mode's paging
// quirks (clamped pages, a next link past the end, a list that ignores `page`), 429 backoff from 10 s with the
// delays injected, Mode's error bodies (Rails-style 422, an id that disagrees with the status), and no blind retry
// of a POST.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectAll, ModeClient, type ModeClientOptions, ModeError } from '../../src/mode/index.ts';
import { type ModeSimulator, ModeWorkspace, startModeSimulator } from '../../src/sandbox/mode-sim/index.ts';

let sim: ModeSimulator;
let ws: ModeWorkspace;
const clients: ModeClient[] = [];
let sleeps: number[] = [];

function client(extra: Partial<ModeClientOptions> = {}): ModeClient {
  const c = new ModeClient({
    baseUrl: sim.url,
    workspace: ws.username,
    token: sim.token,
    secret: sim.secret,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  ws = new ModeWorkspace({ username: 'acme', seed: 1 });
  sim = await startModeSimulator({ workspace: ws });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sim?.close();
});

const reqs = (method: string, path: RegExp) =>
  sim.requests.filter((r) => r.method === method && path.test(r.path));

describe('auth', () => {
  it('verify() passes with the workspace token, and a wrong secret is a 401 ModeError without the secret', async () => {
    expect(await client().verify()).toMatchObject({ scope: 'workspace' });
    const bad = client({ secret: 'wrong-secret-value' });
    const err = await bad.verify().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModeError);
    expect(err).toMatchObject({ kind: 'unauthorized', status: 401 });
    const text = `${(err as ModeError).message} ${(err as ModeError).userMessage()} ${JSON.stringify(err)}`;
    expect(text).not.toContain('wrong-secret-value');
    expect(text).not.toContain(sim.token);
    expect((err as ModeError).userMessage()).toMatch(/Mode/);
  });
});

describe('paging', () => {
  it('reads every group across clamped pages and stops at the empty page past the end', async () => {
    for (let i = 0; i < 65; i++) ws.addGroup({ name: `Paged Group ${String(i).padStart(2, '0')}` });
    sim.resetLog();
    // Asking for 100 a page: Mode clamps to 30 silently, so the client must not take 30 rows as the last page.
    const groups = await collectAll(client({ perPage: 100 }).groups());
    expect(groups.filter((g) => g.name.startsWith('Paged Group'))).toHaveLength(65);
    expect(new Set(groups.map((g) => g.token)).size).toBe(groups.length);
    expect(reqs('GET', /\/groups$/).length).toBeLessThanOrEqual(4);
  });

  it('stops on a repeated page where a list ignores `page` and links onward for ever', async () => {
    const g = ws.addGroup({ name: 'Big Group' }).token;
    for (let i = 0; i < 40; i++) ws.addToGroup(g, ws.addMember({ username: `pager${i}` }).memberToken);
    sim.resetLog();
    const rows = await collectAll(client().groupMemberships(g));
    expect(rows).toHaveLength(40);
    expect(reqs('GET', /\/memberships$/).length).toBeLessThanOrEqual(2);
  });

  it('leaves soft-deleted groups out of the list', async () => {
    const g = ws.addGroup({ name: 'Deleted Soon' }).token;
    ws.softDeleteGroup(g);
    const names = (await collectAll(client().groups())).map((x) => x.name);
    expect(names).not.toContain('Deleted Soon');
    expect((await client().group(g)).state).toBe('soft_deleted');
  });
});

describe('rate limits', () => {
  it('backs off from 10 s, doubling with jitter, then succeeds; the delays are the injected ones', async () => {
    sleeps = [];
    sim.injectFault({ method: 'GET', path: /\/groups$/, status: 429, times: 3 });
    await collectAll(client().groups());
    // random() = 0.5 with equal jitter: 75% of 10 s, 20 s, 40 s.
    expect(sleeps).toEqual([7_500, 15_000, 30_000]);
  });

  it('gives up after its bounded attempts with a rate-limited ModeError', async () => {
    sleeps = [];
    sim.injectFault({ method: 'GET', path: /\/verify$/, status: 429, times: 10 });
    const err = await client({ maxAttempts: 3 })
      .verify()
      .catch((e: unknown) => e);
    sim.clearFaults();
    expect(err).toMatchObject({ kind: 'rate-limited', status: 429 });
    expect(sleeps).toHaveLength(2);
  });

  it('retries a POST on 429 (nothing was written) but never on a 500 (it may have been)', async () => {
    const g = ws.addGroup({ name: 'Post Group' }).token;
    const m = ws.addMember({ username: 'poster' }).memberToken;
    sim.resetLog();
    sim.injectFault({ method: 'POST', path: /\/memberships$/, status: 500 });
    const err = await client()
      .addGroupMembership(g, m)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'server', status: 500 });
    expect(reqs('POST', /\/memberships$/)).toHaveLength(1);
    sim.injectFault({ method: 'POST', path: /\/memberships$/, status: 429 });
    const gm = await client().addGroupMembership(g, m);
    expect(reqs('POST', /\/memberships$/)).toHaveLength(3);
    expect(ws.groupMemberTokens(g)).toEqual([m]);
    expect(gm.memberToken).toBe(m);
  });

  it('retries a read on a 5xx', async () => {
    sim.injectFault({ method: 'GET', path: /\/verify$/, status: 503 });
    expect(await client().verify()).toMatchObject({ scope: 'workspace' });
  });
});

describe('error bodies', () => {
  it("reads a Rails-style 422's field problems", async () => {
    sim.injectFault({
      method: 'GET',
      path: /\/verify$/,
      status: 422,
      body: { message: { name: ['is too long', 'is invalid'] } },
    });
    const err = (await client()
      .verify()
      .catch((e: unknown) => e)) as ModeError;
    expect(err).toMatchObject({ kind: 'bad-request', status: 422, detail: 'name is too long, is invalid' });
    expect(err.userMessage()).toContain('name is too long');
  });

  it('takes the kind from the status when the id disagrees, and keeps the id', async () => {
    sim.injectFault({
      method: 'GET',
      path: /\/verify$/,
      status: 403,
      body: { id: 'not_found', message: 'Nope' },
    });
    const err = (await client()
      .verify()
      .catch((e: unknown) => e)) as ModeError;
    expect(err).toMatchObject({ kind: 'forbidden', status: 403, id: 'not_found', detail: 'Nope' });
  });

  it("a 404 is not-found with Mode's message", async () => {
    const err = await client()
      .group('nosuchgroup1')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'not-found', status: 404, detail: 'User group not found' });
  });
});
