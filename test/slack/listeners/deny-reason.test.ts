// Deny with reason…, with a scripted app: the press opens the modal with its trigger_id (and says so when it can't),
// and the submission denies with the reason through app.deny, or shows why not on the form.
import { describe, expect, it } from 'vitest';
import type { AccessRequestApp } from '../../../src/app/access-requests.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import {
  denyReasonView,
  handleDenyReasonPress,
  handleDenyReasonSubmission,
} from '../../../src/slack/listeners/deny-reason.ts';
import type { SlackMessage } from '../../../src/slack/messenger.ts';

const logger = createLogger('silent');
const press = (value: string, trigger = 'T-1') => ({
  type: 'block_actions',
  user: { id: 'U0A' },
  trigger_id: trigger,
  actions: [{ action_id: 'deny_with_reason', value }],
  response_url: 'https://hooks.slack.com/actions/T1/1/x',
});
const submission = (requestId: string, reason: string) => ({
  user: { id: 'U0A' },
  view: {
    callback_id: 'deny_reason',
    private_metadata: requestId,
    state: { values: { reason: { reason_text: { value: reason } } } },
  },
});

function deps(open: (t: string, v: unknown) => Promise<void>) {
  const said: SlackMessage[] = [];
  return {
    said,
    deps: {
      respond: async (_u: string, m: SlackMessage) => {
        said.push(m);
      },
      ephemeral: async () => undefined,
      logger,
      views: { open, update: async () => undefined },
    },
  };
}

describe('Deny with reason…', () => {
  it('opens the modal for the request with the press trigger', async () => {
    const opened: [string, unknown][] = [];
    const h = deps(async (t, v) => {
      opened.push([t, v]);
    });
    await handleDenyReasonPress({ body: press('R-7KQ2'), ack: async () => undefined }, h.deps);
    expect(opened).toEqual([['T-1', denyReasonView('R-7KQ2')]]);
    expect(h.said).toEqual([]);
  });

  it('says so when the modal cannot be opened, and refuses a value that is no request id', async () => {
    const h = deps(async () => {
      throw new Error('expired_trigger_id');
    });
    await handleDenyReasonPress({ body: press('R-7KQ2'), ack: async () => undefined }, h.deps);
    await handleDenyReasonPress({ body: press('<!channel>'), ack: async () => undefined }, h.deps);
    expect(h.said.map((m) => m.text)).toEqual([
      "I couldn't open the form for a reason. Press Deny to deny without one, or try again.",
      "That button doesn't do anything any more.",
    ]);
  });

  it('denies with the reason, and shows a refusal on the form', async () => {
    const calls: unknown[][] = [];
    let outcome: unknown = { ok: true, code: 'denied', request: {} };
    const app = {
      deny: async (...a: unknown[]) => {
        calls.push(a);
        return outcome;
      },
    } as unknown as AccessRequestApp;
    const acks: unknown[] = [];
    const ack = async (r?: unknown) => {
      acks.push(r);
    };
    await handleDenyReasonSubmission({ body: submission('R-7KQ2', ' not needed '), ack }, { app, logger });
    expect(calls).toEqual([['R-7KQ2', { front: 'slack', id: 'U0A' }, 'not needed']]);
    expect(acks).toEqual([undefined]);
    outcome = {
      ok: false,
      code: 'not-approver',
      request: {
        id: 'R-7KQ2',
        entitlement: { id: 'r1', name: 'Steward' },
        target: { kind: 'user', id: 'q1', name: 'Frank' },
        action: 'grant',
      },
    };
    await handleDenyReasonSubmission({ body: submission('R-7KQ2', 'x'), ack }, { app, logger });
    expect(acks[1]).toMatchObject({ response_action: 'errors', errors: { reason: expect.any(String) } });
    await handleDenyReasonSubmission({ body: submission('not-an-id', 'x'), ack }, { app, logger });
    expect(calls).toHaveLength(2);
    expect(acks[2]).toMatchObject({ response_action: 'errors' });
  });
});
