// Everything Slack can send that the bot has no use for, end to end through signed HTTP: an old button, a forged
// or oversized button value, a view submission, another slash command, a body with neither command nor payload,
// a payload without a user. Each is acked at once with 200 and, where someone pressed or typed it, answered in
// words; no forged value is echoed. Unsigned copies are still refused.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { type PostedMessage, signSlackRequest } from '../../src/sandbox/slack-fake/index.ts';
import { allText, type Front, SIGNING_SECRET, startFront, U } from './slack-front-harness.ts';

let f: Front;
const logLines: string[] = [];
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  f = await startFront({ label: 'interactions', logger: createLogger('info', sink) });
});
afterAll(async () => {
  await f?.close();
});

function signed(body: string, contentType = 'application/x-www-form-urlencoded') {
  return f.driver.rawPost(body, { 'content-type': contentType, ...signSlackRequest(SIGNING_SECRET, body) });
}

/** A block_actions payload as Slack sends it for a press on a message in `channel`. */
function pressPayload(userId: string, actionId: string, value: string | undefined, responseUrl: string) {
  return {
    type: 'block_actions',
    user: { id: userId, username: 'x', team_id: 'T0FAKE' },
    api_app_id: 'A0FAKE',
    container: { type: 'message', message_ts: '1.000001', channel_id: 'C0APPROVALS', is_ephemeral: false },
    channel: { id: 'C0APPROVALS' },
    response_url: responseUrl,
    actions: [
      { action_id: actionId, block_id: 'b', type: 'button', ...(value === undefined ? {} : { value }) },
    ],
  };
}

let presses = 0;
async function press(actionId: string, value: string | undefined): Promise<PostedMessage> {
  // A conversation of its own per press, so the answer found is the answer to this press.
  const channel = `C0PRESS${++presses}`;
  const responseUrl = f.fake.newResponseUrl({ channel, user: U.alice });
  const body = `payload=${encodeURIComponent(JSON.stringify(pressPayload(U.alice, actionId, value, responseUrl)))}`;
  const res = await signed(body);
  expect(res.status).toBe(200);
  return f.fake.waitFor((m) => m.via === 'response_url' && m.channel === channel);
}

describe('requests the bot does not handle', () => {
  it("answers an old button's action_id in words", async () => {
    const answer = await press('approve_v1', 'R-7KQ2');
    expect(allText(answer)).toContain("That button doesn't do anything any more");
  });

  it('answers a button value over 100 characters, and a forged value, without echoing either', async () => {
    const long = `R-${'A'.repeat(120)}`;
    const a = await press('approve', long);
    expect(allText(a)).toContain("That button doesn't do anything any more");
    expect(allText(a)).not.toContain('AAAAAAAAAA');
    const forged = 'R-7KQ2 <!channel> pwned';
    const b = await press('deny', forged);
    expect(allText(b)).toContain("That button doesn't do anything any more");
    expect(allText(b)).not.toContain('pwned');
    expect(allText(b)).not.toContain('channel');
  });

  it('acks a view submission with a modal that says the form does nothing', async () => {
    const payload = {
      type: 'view_submission',
      user: { id: U.alice },
      view: { id: 'V1', type: 'modal', callback_id: 'old_form', state: { values: {} } },
    };
    const res = await signed(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
    expect(res.status).toBe(200);
    const ack = JSON.parse(res.body) as { response_action: string; view: unknown };
    expect(ack.response_action).toBe('update');
    expect(JSON.stringify(ack.view)).toContain("doesn't do anything any more");
  });

  it('answers another slash command in the ack', async () => {
    const res = await f.driver.slash(U.dan, 'hello', { command: '/qlik-old' });
    expect(res.status).toBe(200);
    expect(allText(res.ackMessage!)).toContain("/qlik-old isn't a command of this app");
  });

  it('acks at once a signed body with neither command nor payload, and a payload without a user', async () => {
    const before = logLines.length;
    expect((await signed('token=x&team_id=T1')).status).toBe(200);
    const noUser = { type: 'block_actions', actions: [{ action_id: 'approve', value: 'R-7KQ2' }] };
    expect((await signed(`payload=${encodeURIComponent(JSON.stringify(noUser))}`)).status).toBe(200);
    expect((await signed('{"nothing":1}', 'application/json')).status).toBe(200);
    const acked = logLines.slice(before).filter((l) => l.includes('acked a signed request'));
    // Acked by the front at once, not by the 3 s backstop for requests no listener acknowledged.
    expect(acked).toHaveLength(3);
    expect(logLines.some((l) => l.includes('not acknowledged in time'))).toBe(false);
  });

  it('still refuses the same requests unsigned', async () => {
    expect((await f.driver.rawPost('token=x&team_id=T1', {})).status).toBe(401);
    const payload = { type: 'view_submission', user: { id: U.alice }, view: { callback_id: 'x' } };
    expect(
      (await f.driver.rawPost(`payload=${encodeURIComponent(JSON.stringify(payload))}`, {})).status,
    ).toBe(401);
  });
});

describe('what the bot echoes', () => {
  it('drops bidi controls from a reason, in the store and in the public approval message', async () => {
    const receipt = await f.command(U.dan, 'grant frank@corp.example Steward because fix\u202Eevil\u2066 x');
    const id = f.requestIdIn(receipt);
    const msg = await f.approvalMessage(id);
    expect(allText(msg)).toContain('fixevil x');
    expect(allText(msg)).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/);
    expect((await f.store.get(id))?.reason).toBe('fixevil x');
  });

  it('says first that approvers were NOT notified when the approval message cannot be posted', async () => {
    f.fake.injectError('chat.postMessage', 'not_in_channel');
    const receipt = await f.command(U.dan, 'grant frank@corp.example DataServicesContributor');
    expect(receipt.text).toMatch(/^Approvers were NOT notified/);
    expect(allText(receipt)).toContain('not_in_channel');
    expect(allText(receipt)).not.toContain('waiting for approval');
  });
});

describe('problems with one argument', () => {
  it('says a deactivated @name is deactivated, not "who is that" plus the whole help', async () => {
    const answer = await f.command(U.dan, 'grant @gone Steward');
    expect(allText(answer)).toContain('deactivated');
    expect(allText(answer)).not.toContain("can't tell who");
    expect(allText(answer)).not.toContain('Qlik access: commands');
  });

  it('answers an unknown @name and a bad duration with the problem and the usage of that command only', async () => {
    for (const [text, problem] of [
      ['grant @nobody Steward', "I can't tell who `@nobody` is"],
      ['grant me Steward for 5x', "`5x` isn't a duration"],
    ] as const) {
      const answer = await f.command(U.dan, text);
      expect(allText(answer)).toContain(problem);
      expect(allText(answer)).toContain('/qlik grant &lt;who&gt; &lt;role&gt;');
      expect(allText(answer)).not.toContain('Qlik access: commands');
      expect(allText(answer)).not.toContain('/qlik who-has');
    }
  });
});

describe('one duration format', () => {
  it('writes a grant for 240 minutes as "4 hours" on the card and in the audit detail', async () => {
    const receipt = await f.command(
      U.dan,
      'grant frank@corp.example TenantAdmin for 240m because incident 7',
    );
    const id = f.requestIdIn(receipt);
    expect(allText(await f.approvalMessage(id))).toContain('Grant for 4 hours');
    const events = await f.audit.recent({ limit: 20 });
    const filed = events.find((e) => e.requestId === id && e.action === 'requested');
    expect(filed?.detail).toBe('grant for 4 hours because incident 7');
  });
});
