// The drift page buttons with a scripted app: a press re-runs the query as the presser (never trusting the value
// beyond its shape) and replaces the page; a forged value or a refusal is answered without replacing anything.
import { describe, expect, it } from 'vitest';
import type { AccessRequestApp } from '../../../src/app/access-requests.ts';
import type { UnmanagedAnswer } from '../../../src/app/queries/drift.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { handleButton } from '../../../src/slack/listeners/actions.ts';
import { InFlight } from '../../../src/slack/listeners/inflight.ts';
import type { SlackMessage } from '../../../src/slack/messenger.ts';
import { driftPageValue } from '../../../src/slack/views/drift.ts';

const answer: UnmanagedAnswer = {
  ok: true,
  role: 'Steward',
  instance: 'default',
  system: 'Qlik',
  holders: 30,
  granted: 0,
  unmanaged: Array.from({ length: 30 }, (_, i) => ({
    kind: 'user' as const,
    id: `u${i}`,
    name: `Person ${i}`,
  })),
  groupsPartial: false,
};

function harness(unmanagedHolders: (...args: unknown[]) => Promise<unknown>) {
  const calls: unknown[][] = [];
  const sent: { msg: SlackMessage; replace: boolean }[] = [];
  const deps = {
    app: {
      unmanagedHolders: (...args: unknown[]) => {
        calls.push(args);
        return unmanagedHolders(...args);
      },
    } as unknown as AccessRequestApp,
    respond: async (_url: string, msg: SlackMessage, opts?: { replaceOriginal?: boolean }) => {
      sent.push({ msg, replace: opts?.replaceOriginal === true });
    },
    ephemeral: async () => undefined,
    logger: createLogger('silent'),
    inflight: new InFlight(),
  };
  const press = (actionId: string, value: string) =>
    handleButton(
      {
        body: {
          type: 'block_actions',
          user: { id: 'U0A' },
          actions: [{ action_id: actionId, value }],
          response_url: 'https://hooks.slack.com/actions/T1/1/x',
          container: { is_ephemeral: true },
        },
        ack: async () => undefined,
      },
      deps,
    );
  return { calls, sent, press };
}

describe('drift page buttons', () => {
  it('re-runs the query as the presser and replaces the page with the one asked for', async () => {
    const h = harness(async () => answer);
    await h.press(
      'drift_page_next',
      driftPageValue({ role: 'Steward', resource: { kind: 'space', name: 'Fin' }, instance: 'dev' }, 1),
    );
    expect(h.calls).toEqual([
      [
        { front: 'slack', id: 'U0A' },
        { role: 'Steward', resource: { kind: 'space', name: 'Fin' }, instance: 'dev' },
      ],
    ]);
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]!.replace).toBe(true);
    expect(JSON.stringify(h.sent[0]!.msg.blocks)).toContain('Page 2 of 2');
  });

  it('answers a forged value as stale and a refusal in words, replacing nothing', async () => {
    const h = harness(async () => ({ ok: false, code: 'not-approver' }));
    await h.press('drift_page_next', '{"r":"Steward","p":1,"x":"<!channel>"}');
    await h.press('drift_page_previous', 'not json');
    expect(h.calls).toEqual([]);
    await h.press('drift_page_previous', driftPageValue({ role: 'Steward' }, 0));
    expect(h.sent.map((s) => [s.replace, s.msg.text])).toEqual([
      [false, "That button doesn't do anything any more."],
      [false, "That button doesn't do anything any more."],
      [false, 'Only approvers of `Steward` can see which of its holders the bot did not grant.'],
    ]);
  });
});
