// QlikClient.inviteUsers against the Qlik tenant simulator over real HTTP: each per-invitee outcome, what goes on
// the wire, roles assigned straight after an invite, 403 and body errors as typed QlikErrors, 429 retried after
// Retry-After but 5xx and lost connections never re-sent, an unreadable 207 as `unexpected`, and the abort signal.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QlikClient, QlikError } from '../../src/qlik/index.ts';
import { demoTenant, type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';

const INVITE = '/api/v1/users/actions/invite';
const FAKE_KEY = 'fake-server-key-3f9a';
let sim: QlikSimulator;
let client: QlikClient;

beforeAll(async () => {
  sim = await startQlikSimulator({ tenant: demoTenant() });
  // A large write budget: the tests send more invites than Tier 2's burst, and waiting for tokens tests nothing here.
  client = new QlikClient({
    tenantUrl: sim.url,
    apiKey: sim.apiKey,
    retryBaseDelayMs: 1,
    writesPerMinute: 60_000,
  });
});
afterAll(async () => {
  await client.close();
  await sim.close();
});
afterEach(() => {
  sim.clearFaults();
  sim.tenant.identityProvider = 'qlik';
});

const invitePosts = () => sim.requests.filter((r) => r.path === INVITE);

/** Runs `p`, expects a QlikError, and checks that the API key is nowhere in it. */
async function qlikError(p: Promise<unknown>, key = sim.apiKey): Promise<QlikError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(QlikError);
    const err = e as QlikError;
    for (const text of [err.message, err.userMessage(), JSON.stringify(err)]) expect(text).not.toContain(key);
    return err;
  }
  throw new Error('expected a QlikError');
}

describe('outcomes', () => {
  it('returns one outcome per invitee, in order, typed as the brief says', async () => {
    const ivy = sim.tenant.usersByEmail('ivy@corp.example')[0]!;
    const outcomes = await client.inviteUsers([
      { email: 'client-new@x.example', name: 'Client New' },
      { email: 'ivy@corp.example' },
      { email: 'bob@corp.example' },
      { email: 'viktor@corp.example' },
    ]);
    const created = sim.tenant.usersByEmail('client-new@x.example')[0]!;
    expect(outcomes).toEqual([
      { email: 'client-new@x.example', status: 'ok', userId: created.id, subject: created.subject },
      { email: 'ivy@corp.example', status: 'exists', userId: ivy.id, subject: ivy.subject },
      {
        email: 'bob@corp.example',
        status: 'error',
        code: '1001',
        title: 'Active User',
        detail: expect.any(String),
      },
      {
        email: 'viktor@corp.example',
        status: 'error',
        code: '1002',
        title: 'Disabled User',
        detail: expect.any(String),
      },
    ]);
    expect(created).toMatchObject({ name: 'Client New', status: 'invited' });
  });

  it('sends email, name, language and resend as given (trimmed email), as one Tier 2 POST', async () => {
    sim.resetLog();
    await client.inviteUsers([
      { email: '  wire@x.example ', language: 'de' },
      { email: 'ivy@corp.example', name: 'Ivy', resend: true },
    ]);
    expect(invitePosts()).toEqual([
      expect.objectContaining({
        method: 'POST',
        tier: '2',
        status: 207,
        body: {
          invitees: [
            { email: 'wire@x.example', language: 'de' },
            { email: 'ivy@corp.example', name: 'Ivy', resend: true },
          ],
        },
      }),
    ]);
    expect(sim.tenant.invites('wire@x.example').map((i) => i.language)).toEqual(['de']);
    expect(sim.tenant.invites('ivy@corp.example').at(-1)).toMatchObject({ resend: true, sent: 'resent' });
  });

  it('gives a userId that roles can be assigned to straight away', async () => {
    const [o] = await client.inviteUsers([{ email: 'roles-now@x.example' }]);
    expect(o?.status).toBe('ok');
    if (o?.status !== 'ok') return;
    await client.replaceUserRoles(o.userId, [sim.tenant.roleByName('Steward')!.id]);
    const u = await client.getUser(o.userId);
    expect(u).toMatchObject({ status: 'invited', email: 'roles-now@x.example' });
    expect(u.assignedRoles.map((r) => r.name)).toEqual(['Steward']);
  });

  it('reports 1003 for every invitee of a tenant with its own identity provider, and the test hook', async () => {
    sim.tenant.identityProvider = 'custom';
    const idp = await client.inviteUsers([{ email: 'idp-a@x.example' }, { email: 'idp-b@x.example' }]);
    expect(idp.map((o) => [o.status, o.status === 'error' ? o.code : undefined])).toEqual([
      ['error', '1003'],
      ['error', '1003'],
    ]);
    sim.tenant.identityProvider = 'qlik';
    sim.tenant.failNextInvites(1);
    const flaky = await client.inviteUsers([{ email: 'hook-a@x.example' }, { email: 'hook-b@x.example' }]);
    expect(flaky.map((o) => o.status)).toEqual(['error', 'ok']);
  });
});

describe('errors', () => {
  it('refuses an empty list or an invitee without an email before sending anything', async () => {
    sim.resetLog();
    await expect(client.inviteUsers([])).rejects.toThrow(TypeError);
    await expect(client.inviteUsers([{ email: 'ok@x.example' }, { email: '  ' }])).rejects.toThrow(TypeError);
    expect(invitePosts()).toEqual([]);
  });

  it('turns a 403 into a QlikError forbidden with the integer code read as a string', async () => {
    const key = 'invite-client-non-admin';
    sim.addApiKey(key, sim.tenant.usersByEmail('kaja@corp.example')[0]!.id);
    const c = new QlikClient({ tenantUrl: sim.url, apiKey: key });
    try {
      sim.resetLog();
      const err = await qlikError(c.inviteUsers([{ email: 'forbidden@x.example' }]), key);
      expect(err).toMatchObject({ kind: 'forbidden', status: 403, code: '403', retryable: false });
      expect(err.detail).toBe('Only a TenantAdmin can invite users.');
      expect(invitePosts()).toHaveLength(1);
      expect(sim.tenant.usersByEmail('forbidden@x.example')).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('turns a 400 from Qlik into a QlikError bad-request', async () => {
    const err = await qlikError(client.inviteUsers([{ email: 'not-an-address' }]));
    expect(err).toMatchObject({ kind: 'bad-request', status: 400, code: '400' });
  });

  it('retries a 429 after its Retry-After, and invites once', async () => {
    sim.resetLog();
    sim.injectFault({ method: 'POST', path: /actions\/invite$/, status: 429, retryAfterSec: 0 });
    const [o] = await client.inviteUsers([{ email: 'after-429@x.example' }]);
    expect(o?.status).toBe('ok');
    expect(invitePosts().map((r) => r.status)).toEqual([429, 207]);
    expect(sim.tenant.inviteEmailsSent('after-429@x.example')).toBe(1);
  });

  it('never re-sends after a 5xx or a lost connection: the invite may have gone out', async () => {
    for (const fault of [{ status: 502 }, { status: 500 }, { status: 0, closeConnection: true }]) {
      sim.resetLog();
      sim.injectFault({ method: 'POST', path: /actions\/invite$/, ...fault });
      const err = await qlikError(client.inviteUsers([{ email: 'no-resend@x.example' }]));
      expect(err.kind).toBe(fault.closeConnection ? 'network' : 'server');
      // One request: a retry would have found the fault spent and invited.
      expect(invitePosts()).toHaveLength(1);
      expect(sim.tenant.usersByEmail('no-resend@x.example')).toEqual([]);
    }
  });

  it('calls a 207 that is not the invite body unexpected', async () => {
    sim.injectFault({ method: 'POST', path: /actions\/invite$/, status: 207 });
    const err = await qlikError(client.inviteUsers([{ email: 'odd-207@x.example' }]));
    expect(err).toMatchObject({ kind: 'unexpected', title: 'Qlik sent a response the bot could not read' });
  });

  describe('answers the simulator cannot give', () => {
    let server: Server;
    let url: string;
    let answer: { status: number; body: string };
    beforeAll(async () => {
      server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const invite = async (invitees: Array<{ email: string }>) => {
      const c = new QlikClient({ tenantUrl: url, apiKey: FAKE_KEY });
      try {
        return await c.inviteUsers(invitees);
      } finally {
        await c.close();
      }
    };
    const item = (email: string) => ({ email, status: 'ok', subject: 's', userId: 'u1' });

    it('refuses items that do not match the invitees one to one', async () => {
      answer = { status: 207, body: JSON.stringify({ data: [item('a@x.example')] }) };
      const fewer = await qlikError(invite([{ email: 'a@x.example' }, { email: 'b@x.example' }]), FAKE_KEY);
      expect(fewer).toMatchObject({ kind: 'unexpected', detail: '2 invitee(s), 1 item(s)' });
      answer = { status: 207, body: JSON.stringify({ data: [item('b@x.example')] }) };
      expect((await qlikError(invite([{ email: 'a@x.example' }]), FAKE_KEY)).kind).toBe('unexpected');
    });

    it('reads a numeric item code as a string and matches emails ignoring case', async () => {
      answer = {
        status: 207,
        body: JSON.stringify({ data: [{ email: 'a@x.example', status: 'error', code: 1003, title: 'T' }] }),
      };
      expect(await invite([{ email: 'A@X.example' }])).toEqual([
        { email: 'a@x.example', status: 'error', code: '1003', title: 'T' },
      ]);
    });

    it('calls a 201 unexpected: the spec documents 207', async () => {
      answer = { status: 201, body: JSON.stringify({ data: [item('a@x.example')] }) };
      expect((await qlikError(invite([{ email: 'a@x.example' }]), FAKE_KEY)).kind).toBe('unexpected');
    });
  });
});

describe('abort', () => {
  it('rejects with the reason and sends nothing when already aborted', async () => {
    sim.resetLog();
    const ac = new AbortController();
    ac.abort();
    await expect(
      client.inviteUsers([{ email: 'aborted@x.example' }], { signal: ac.signal }),
    ).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(invitePosts()).toEqual([]);
  });

  it('stops waiting for a rate-limit token when aborted, without sending', async () => {
    const c = new QlikClient({ tenantUrl: sim.url, apiKey: sim.apiKey, writesPerMinute: 1 });
    try {
      sim.resetLog();
      await c.inviteUsers([{ email: 'token-1@x.example' }]);
      const ac = new AbortController();
      const waiting = c.inviteUsers([{ email: 'token-2@x.example' }], { signal: ac.signal });
      ac.abort(new Error('user gave up'));
      await expect(waiting).rejects.toThrow('user gave up');
      expect(invitePosts()).toHaveLength(1);
      expect(sim.tenant.usersByEmail('token-2@x.example')).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('aborts a request in flight', async () => {
    sim.resetLog();
    const ac = new AbortController();
    sim.setLatency(5_000);
    try {
      const pending = client.inviteUsers([{ email: 'in-flight@x.example' }], { signal: ac.signal });
      // The request is in the simulator's log as soon as it has arrived (it then sits in the latency).
      await new Promise<void>((resolve) => {
        const check = () => (invitePosts().some((r) => r.status === 0) ? resolve() : setImmediate(check));
        check();
      });
      ac.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      sim.setLatency(0);
    }
  });
});
