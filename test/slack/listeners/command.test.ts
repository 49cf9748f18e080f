// The /qlik listener and the button listener with a scripted app: the ack always comes first (and never waits
// for the app), pure answers travel in the ack, and every outcome is answered to the right person.
import { describe, expect, it } from 'vitest';
import type { AccessRequestApp } from '../../../src/app/access-requests.ts';
import type { RoleChangeRequest } from '../../../src/domain/request.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { handleButton } from '../../../src/slack/listeners/actions.ts';
import {
  handleOtherCommand,
  handleQlikCommand,
  instanceInput,
} from '../../../src/slack/listeners/command.ts';
import { InFlight } from '../../../src/slack/listeners/inflight.ts';
import type { SlackMessage } from '../../../src/slack/messenger.ts';

const logger = createLogger('silent');

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const req = {
  id: 'R-7KQ2',
  action: 'grant',
  target: { kind: 'user', id: 'q1', name: 'Frank' },
  entitlement: { id: 'r1', name: 'Steward' },
  requester: { front: 'slack', id: 'U0D' },
  state: 'pending',
  createdAt: 0,
  updatedAt: 0,
  expiresAt: 86_400_000,
  approvalsRequired: 1,
  approvals: [],
} as RoleChangeRequest;

function harness(app: Partial<Record<keyof AccessRequestApp, unknown>>) {
  const events: string[] = [];
  const sent: SlackMessage[] = [];
  const inflight = new InFlight();
  const deps = {
    app: app as unknown as AccessRequestApp,
    respond: async (_url: string, msg: SlackMessage) => {
      events.push('respond');
      sent.push(msg);
    },
    ephemeral: async (_c: string, _u: string, msg: SlackMessage) => {
      events.push('ephemeral');
      sent.push(msg);
    },
    logger,
    inflight,
  };
  const ack = async (r?: unknown) => {
    events.push(r === undefined ? 'ack' : 'ack+body');
    if (r) sent.push(r as SlackMessage);
  };
  return { deps, events, sent, ack, inflight };
}

const body = (text: string) => ({
  user_id: 'U0D',
  channel_id: 'D0D',
  text,
  response_url: 'https://hooks.slack.com/commands/T1/1/x',
  command: '/qlik',
});

describe('handleQlikCommand', () => {
  it('passes `on <tenant>` to the app as its instance, and nothing for the default tenant', async () => {
    const calls: { name: string; args: unknown[] }[] = [];
    const record =
      (name: string) =>
      async (...args: unknown[]) => {
        calls.push({ name, args });
        return { ok: false, code: 'target-error', message: 'stop here' };
      };
    const h = harness({
      fileRequest: record('fileRequest'),
      whoHas: record('whoHas'),
      whois: record('whois'),
      listRoles: record('listRoles'),
    });
    for (const text of [
      'grant me Steward on dev for 4h',
      'who-has Steward on dev',
      'whois me on dev',
      'roles on dev',
      'roles',
    ])
      await handleQlikCommand({ body: body(text), ack: h.ack }, h.deps);
    expect(calls.map((c) => c.name)).toEqual(['fileRequest', 'whoHas', 'whois', 'listRoles', 'listRoles']);
    expect(calls[0]!.args[0]).toMatchObject({
      roleName: 'Steward',
      durationMs: 4 * 3_600_000,
      instance: 'dev',
    });
    expect(calls[1]!.args).toEqual(['Steward', { instance: 'dev' }]);
    expect(calls[2]!.args[2]).toEqual({ instance: 'dev' });
    expect(calls[3]!.args).toEqual([{ instance: 'dev' }]);
    expect(calls[4]!.args).toEqual([{}]);
    expect(instanceInput({ tenant: 'dev' })).toEqual({ instance: 'dev' });
    expect(instanceInput({})).toEqual({});
  });

  it('acks before the app answers, then responds with the receipt', async () => {
    const gate = deferred<unknown>();
    const h = harness({ fileRequest: () => gate.promise });
    const done = handleQlikCommand({ body: body('grant me Steward'), ack: h.ack }, h.deps);
    await new Promise((r) => setImmediate(r));
    expect(h.events).toEqual(['ack']);
    expect(h.inflight.size).toBe(1);
    gate.resolve({ ok: true, code: 'filed', request: req, autoApproved: false, approvalChannel: 'C0APPR' });
    await done;
    expect(h.events).toEqual(['ack', 'respond']);
    expect(h.sent[0]?.text).toContain('R-7KQ2 filed');
  });

  it('sends one receipt that says approvers were not notified when the approval message was not posted', async () => {
    const h = harness({
      fileRequest: async () => ({
        ok: true,
        code: 'filed',
        request: req,
        autoApproved: false,
        approvalChannel: 'C0APPR',
        postProblem: 'not_in_channel',
      }),
    });
    await handleQlikCommand({ body: body('grant me Steward'), ack: h.ack }, h.deps);
    expect(h.events).toEqual(['ack', 'respond']);
    expect(h.sent[0]?.text).toMatch(/^Approvers were NOT notified/);
    expect(JSON.stringify(h.sent[0])).toContain('not_in_channel');
  });

  it("answers a problem with one argument in two lines: the problem and that command's usage", async () => {
    const h = harness({});
    await handleQlikCommand({ body: body('grant me Steward for 5x'), ack: h.ack }, h.deps);
    const m = h.sent[0]!;
    expect(m.text).toContain("`5x` isn't a duration");
    expect(JSON.stringify(m)).toContain('/qlik grant &lt;who&gt; &lt;role&gt;');
    expect(JSON.stringify(m)).not.toContain('/qlik who-has');
    expect(m.blocks).toHaveLength(2);
  });

  it('hands an unlinked @name to the app as the Slack user of that name, or says nobody has it', async () => {
    const asked: unknown[] = [];
    const h = harness({
      fileRequest: async (input: { who: unknown }) => {
        asked.push(input.who);
        return { ok: false, code: 'chat-user-deactivated', name: 'Lee Leaver' };
      },
    });
    const deps = {
      ...h.deps,
      findUserByHandle: async (name: string) => (name === 'leaver' ? 'U0LEAVER' : undefined),
    };
    await handleQlikCommand({ body: body('grant @leaver Steward'), ack: h.ack }, deps);
    expect(asked).toEqual([{ kind: 'person', person: { front: 'slack', id: 'U0LEAVER' }, handle: 'leaver' }]);
    expect(h.sent[0]?.text).toContain('deactivated');
    await handleQlikCommand({ body: body('grant @nobody Steward'), ack: h.ack }, deps);
    expect(asked).toHaveLength(1);
    expect(h.sent[1]?.text).toContain("I can't tell who `@nobody` is");
    expect(JSON.stringify(h.sent[1])).toContain('/qlik grant &lt;who&gt; &lt;role&gt;');
  });

  it('answers help and malformed commands in the ack itself, without calling the app', async () => {
    const h = harness({});
    await handleQlikCommand({ body: body('help'), ack: h.ack }, h.deps);
    await handleQlikCommand({ body: body('grnat me x'), ack: h.ack }, h.deps);
    expect(h.events).toEqual(['ack+body', 'ack+body']);
    expect(JSON.stringify(h.sent[1])).toContain('grnat');
    await handleQlikCommand({ body: { text: 'grant me x' }, ack: h.ack }, h.deps);
    expect(h.events).toEqual(['ack+body', 'ack+body', 'ack+body']);
  });

  it('shows refusals, duplicates and a failed CSV to the requester', async () => {
    const h = harness({
      fileRequest: async () => ({ ok: false, code: 'duplicate', duplicateOf: req }),
      whoHas: async () => ({
        ok: true,
        role: 'Steward',
        directTotal: 21,
        direct: [],
        viaGroupsTotal: 0,
        groups: [],
        groupsTotal: 0,
        csvNeeded: true,
      }),
      sendHoldersCsv: async () => ({ ok: false, code: 'target-error', message: 'Slack refused the file' }),
      whois: async () => ({ ok: false, code: 'no-such-user', email: 'x@y.z', system: 'Qlik' }),
    });
    await handleQlikCommand({ body: body('grant me Steward'), ack: h.ack }, h.deps);
    await handleQlikCommand({ body: body('who-has Steward'), ack: h.ack }, h.deps);
    await handleQlikCommand({ body: body('whois x@y.z'), ack: h.ack }, h.deps);
    const texts = h.sent.map((m) => m.text);
    expect(texts[0]).toContain('R-7KQ2 is already pending');
    expect(texts[1]).toContain('21 direct holders');
    expect(texts[2]).toBe("I couldn't attach the full list of holders: Slack refused the file");
    expect(texts[3]).toContain('No Qlik user has the email');
  });
  it('still sends the who-has CSV when posting the summary fails', async () => {
    const uploads: string[] = [];
    const h = harness({
      whoHas: async () => ({
        ok: true,
        role: 'Steward',
        directTotal: 21,
        direct: [],
        viaGroupsTotal: 0,
        groups: [],
        groupsTotal: 0,
        csvNeeded: true,
      }),
      sendHoldersCsv: async (role: string, to: { front: string; id: string }) => {
        uploads.push(`${role} to ${to.front}:${to.id}`);
        return { ok: true };
      },
    });
    h.deps.respond = async () => {
      h.events.push('respond failed');
      throw new Error('response_url post failed (404)');
    };
    await handleQlikCommand({ body: body('who-has Steward'), ack: h.ack }, h.deps);
    expect(h.events).toEqual(['ack', 'respond failed']);
    expect(uploads).toEqual(['Steward to slack:U0D']);
  });
});

describe('handleButton', () => {
  const click = (actionId: string, ephemeral = false, value: string | undefined = 'R-7KQ2') => ({
    type: 'block_actions',
    user: { id: 'U0A' },
    actions: [{ action_id: actionId, ...(value === undefined ? {} : { value }) }],
    response_url: 'https://hooks.slack.com/actions/T1/1/x',
    container: { is_ephemeral: ephemeral, channel_id: 'C0APPR' },
  });

  it('stays quiet after a successful approve on the approval message, but confirms from an ephemeral list', async () => {
    const h = harness({ approve: async () => ({ ok: true, code: 'approved', request: req }) });
    await handleButton({ body: click('approve'), ack: () => h.ack() }, h.deps);
    expect(h.events).toEqual(['ack']);
    await handleButton({ body: click('approve', true), ack: () => h.ack() }, h.deps);
    expect(h.events).toEqual(['ack', 'ack', 'respond']);
    expect(h.sent[0]?.text).toBe('You approved R-7KQ2; it is being applied now.');
  });

  it('tells the clicker why nothing changed', async () => {
    const h = harness({ deny: async () => ({ ok: false, code: 'not-approver', request: req }) });
    await handleButton({ body: click('deny'), ack: () => h.ack() }, h.deps);
    expect(h.sent[0]?.text).toBe('You are not an approver for Steward, so nothing changed.');
    await handleButton({ body: click('approve', false, ''), ack: () => h.ack() }, h.deps);
    expect(h.sent[1]?.text).toContain("doesn't do anything");
  });

  it('answers an over-long, forged or missing value without echoing it and without asking the app', async () => {
    let asked = 0;
    const h = harness({
      approve: async () => {
        asked++;
        return { ok: true, code: 'approved', request: req };
      },
    });
    for (const value of [`R-${'A'.repeat(150)}`, '<!channel> R-7KQ2', 'r-7kq2x']) {
      await handleButton({ body: click('approve', true, value), ack: () => h.ack() }, h.deps);
    }
    await handleButton({ body: { ...click('approve'), actions: [] }, ack: () => h.ack() }, h.deps);
    expect(asked).toBe(0);
    expect(h.sent).toHaveLength(4);
    for (const m of h.sent) {
      expect(m.text).toBe("That button doesn't do anything any more.");
    }
  });
});

describe('handleOtherCommand', () => {
  it('acks another command with a sentence naming it', async () => {
    const h = harness({});
    await handleOtherCommand({ body: { ...body('x'), command: '/deploy' }, ack: h.ack });
    expect(h.events).toEqual(['ack+body']);
    expect(h.sent[0]?.text).toContain("/deploy isn't a command of this app");
  });
});
