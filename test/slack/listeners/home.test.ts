// The App Home's listeners with scripted collaborators: app_home_opened publishes only for the Home tab, and a
// button pressed on the Home (no response_url, no channel) is answered on the Home, through the same app call.
import { describe, expect, it } from 'vitest';
import type { AccessRequestApp } from '../../../src/app/access-requests.ts';
import type { PersonRef } from '../../../src/domain/request.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { handleButton } from '../../../src/slack/listeners/actions.ts';
import { handleHomeOpened } from '../../../src/slack/listeners/home.ts';
import { InFlight } from '../../../src/slack/listeners/inflight.ts';

const logger = createLogger('silent');

function homeTab(fail?: Error) {
  const opened: string[] = [];
  const pressed: { userId: string; ok: boolean; text: string }[] = [];
  return {
    opened,
    pressed,
    home: {
      async opened(userId: string) {
        if (fail) throw fail;
        opened.push(userId);
      },
      async pressed(userId: string, a: { ok: boolean; text: string }) {
        pressed.push({ userId, ...a });
      },
    },
  };
}

describe('app_home_opened', () => {
  it('publishes for the Home tab, not for the Messages tab or a malformed event', async () => {
    const t = homeTab();
    await handleHomeOpened(
      { event: { type: 'app_home_opened', user: 'U0DAN', tab: 'home' } },
      { ...t, logger },
    );
    await handleHomeOpened(
      { event: { type: 'app_home_opened', user: 'U0BOB', tab: 'messages' } },
      { ...t, logger },
    );
    await handleHomeOpened({ event: { type: 'app_home_opened' } }, { ...t, logger });
    expect(t.opened).toEqual(['U0DAN']);
  });

  it('never throws to Bolt when the publish fails', async () => {
    const t = homeTab(new Error('ratelimited'));
    await expect(
      handleHomeOpened({ event: { type: 'app_home_opened', user: 'U0DAN', tab: 'home' } }, { ...t, logger }),
    ).resolves.toBeUndefined();
  });
});

describe('a press on the Home', () => {
  function deps(t: ReturnType<typeof homeTab>) {
    const approvals: [string, PersonRef][] = [];
    const answered: string[] = [];
    return {
      approvals,
      answered,
      deps: {
        app: {
          async approve(id: string, clicker: PersonRef) {
            approvals.push([id, clicker]);
            return { ok: false, code: 'not-found', requestId: id };
          },
        } as unknown as AccessRequestApp,
        respond: async () => {
          answered.push('respond');
        },
        ephemeral: async () => {
          answered.push('ephemeral');
        },
        logger,
        inflight: new InFlight(),
        home: t.home,
      },
    };
  }

  const homePress = (actionId: string, value: string) => ({
    type: 'block_actions',
    user: { id: 'U0ALICE' },
    container: { type: 'view', view_id: 'V123' },
    view: { id: 'V123', type: 'home', blocks: [] },
    trigger_id: '1.2.3',
    actions: [{ action_id: actionId, value, type: 'button' }],
  });

  it('runs the same app call as on a message and says what it did on the Home', async () => {
    const t = homeTab();
    const d = deps(t);
    await handleButton({ body: homePress('approve', 'R-7KQ2'), ack: async () => undefined }, d.deps);
    expect(d.approvals).toEqual([['R-7KQ2', { front: 'slack', id: 'U0ALICE' }]]);
    expect(t.pressed).toEqual([{ userId: 'U0ALICE', ok: false, text: expect.stringContaining('R-7KQ2') }]);
    expect(d.answered).toEqual([]);
  });

  it('answers a forged value on the Home too, without asking the app', async () => {
    const t = homeTab();
    const d = deps(t);
    await handleButton({ body: homePress('approve', 'not-an-id'), ack: async () => undefined }, d.deps);
    expect(d.approvals).toEqual([]);
    expect(t.pressed).toEqual([
      { userId: 'U0ALICE', ok: false, text: "That button doesn't do anything any more." },
    ]);
  });

  it('leaves a press in a modal to the modal (no Home notice)', async () => {
    const t = homeTab();
    const d = deps(t);
    const body = { ...homePress('approve', 'R-7KQ2'), view: { id: 'V9', type: 'modal' } };
    await handleButton({ body, ack: async () => undefined }, d.deps);
    expect(t.pressed).toEqual([]);
  });
});
