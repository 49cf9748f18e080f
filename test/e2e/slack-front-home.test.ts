// App Home end to end: the real bot and worker (role 'all') against the Qlik simulator and the Slack fake. Opening
// the Home publishes it; filing a request refreshes the requester's and the approvers' Homes; approving from the Home
// approves the request, answers the press on the Home and leaves no stale Approve button; a burst of changes
// publishes each Home once.
import type { ActionsBlock, Button, KnownBlock, SectionBlock } from '@slack/types';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HomeRefreshes } from '../../src/slack/home.ts';
import { OPEN_REQUEST_FORM } from '../../src/slack/views/home.ts';
import { testRedis } from '../helpers/redis.ts';
import { type Front, startFront, U } from './slack-front-harness.ts';

let f: Front;
beforeAll(async () => {
  f = await startFront({ label: 'home-e2e', role: 'all' });
});
afterAll(async () => {
  await f?.close();
});

const WAIT = { timeout: 15_000, interval: 50 };

function homeBlocks(userId: string): KnownBlock[] {
  return (f.fake.homeView(userId)?.view.blocks ?? []) as KnownBlock[];
}

function buttonsOf(userId: string): string[] {
  const out: string[] = [];
  for (const b of homeBlocks(userId)) {
    const els =
      b.type === 'actions'
        ? (b as ActionsBlock).elements
        : b.type === 'section' && (b as SectionBlock).accessory
          ? [(b as SectionBlock).accessory!]
          : [];
    for (const e of els)
      if (e.type === 'button') {
        const btn = e as Button;
        out.push(btn.value === undefined ? btn.action_id! : `${btn.action_id}:${btn.value}`);
      }
  }
  return out;
}

const homeText = (userId: string) => JSON.stringify(homeBlocks(userId));
const publishes = (userId: string) =>
  f.fake.calls.filter((c) => c.method === 'views.publish' && c.args.user_id === userId && c.status === 200)
    .length;

/** Waits until the person's Home, as Slack shows it, satisfies `pred`. */
function homeShows(userId: string, pred: (text: string, buttons: string[]) => boolean) {
  return vi.waitFor(() => {
    if (!pred(homeText(userId), buttonsOf(userId))) throw new Error(`${userId}'s Home: ${homeText(userId)}`);
  }, WAIT);
}

describe('App Home', () => {
  it('opens with the sections and the Request access button', async () => {
    for (const user of [U.dan, U.alice, U.carol]) {
      const res = await f.driver.openHome(user);
      expect(res.status).toBe(200);
    }
    await homeShows(
      U.dan,
      (t, b) => t.includes('Your pending requests* (0)') && b.includes(OPEN_REQUEST_FORM),
    );
    const t = homeText(U.dan);
    for (const s of ['Waiting for your approval', 'Your time-bound grants', 'Recent outcomes'])
      expect(t).toContain(s);
    await homeShows(U.carol, (text) => text.includes('Waiting for your approval* (0)'));
    // The Messages tab publishes nothing.
    const before = publishes(U.frank);
    await f.driver.openHome(U.frank, { tab: 'messages' });
    await f.driver.openHome(U.dan); // a later event, answered after the one above
    await homeShows(U.dan, () => publishes(U.dan) >= 2);
    expect(publishes(U.frank)).toBe(before);
  });

  it('opens the request form from the Request access button on the Home', async () => {
    await homeShows(U.dan, (_t, b) => b.includes(OPEN_REQUEST_FORM));
    const res = await f.driver.click(U.dan, f.fake.homeView(U.dan)!, OPEN_REQUEST_FORM);
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(f.fake.openViews(U.dan)).toHaveLength(1), WAIT);
    await f.driver.closeView(U.dan, f.fake.openViews(U.dan)[0]!);
  });

  it("refreshes the requester's and the approvers' Homes when a request is filed, and approving from the Home leaves no stale button", async () => {
    const receipt = await f.command(U.dan, 'grant <@U0FRANK|frank> Steward because home e2e');
    const id = f.requestIdIn(receipt);
    await homeShows(U.dan, (_t, b) => b.includes(`cancel:${id}`));
    await homeShows(U.alice, (_t, b) => b.includes(`approve:${id}`) && b.includes(`deny:${id}`));
    // Carol approves through the S0APPROVERS user group: her Home offers it too.
    await homeShows(U.carol, (_t, b) => b.includes(`approve:${id}`));

    const res = await f.driver.click(U.alice, f.fake.homeView(U.alice)!, 'approve', { value: id });
    expect(res.status).toBe(200);
    await vi.waitFor(async () => {
      const r = await f.store.get(id);
      if (r?.state !== 'applied') throw new Error(`state ${r?.state}`);
    }, WAIT);
    // The press is answered on the Home; no Approve is left on anyone's Home for a decided request.
    await homeShows(
      U.alice,
      (t, b) => !b.includes(`approve:${id}`) && t.includes(id) && t.includes('last press'),
    );
    await homeShows(U.carol, (_t, b) => !b.includes(`approve:${id}`));
    // The requester's Home moved it from pending to the outcomes.
    await homeShows(U.dan, (t, b) => !b.includes(`cancel:${id}`) && t.includes('Applied'));
  });

  it('cancels from the Home and says so there', async () => {
    const receipt = await f.command(U.dan, 'grant <@U0FRANK|frank> DataAdmin because home cancel');
    const id = f.requestIdIn(receipt);
    await homeShows(U.dan, (_t, b) => b.includes(`cancel:${id}`));
    await f.driver.click(U.dan, f.fake.homeView(U.dan)!, 'cancel', { value: id });
    await homeShows(U.dan, (t, b) => !b.includes(`cancel:${id}`) && t.includes('Cancelled'));
    expect((await f.store.get(id))?.state).toBe('cancelled');
  });

  it('coalesces a burst: 20 changes to one request publish each concerned Home once', async () => {
    const receipt = await f.command(U.dan, 'grant <@U0FRANK|frank> DataAdmin because burst');
    const id = f.requestIdIn(receipt);
    await homeShows(U.alice, (_t, b) => b.includes(`approve:${id}`));
    await homeShows(U.dan, (_t, b) => b.includes(`cancel:${id}`));
    const redis = testRedis();
    const refreshes = new HomeRefreshes({ redis, prefix: f.prefix });
    try {
      // Let the filing's own refreshes land first, so only the burst is counted.
      await settled(refreshes);
      const before = {
        dan: publishes(U.dan),
        alice: publishes(U.alice),
        carol: publishes(U.carol),
        bob: publishes(U.bob),
      };
      const started = Date.now();
      for (let i = 0; i < 20; i++) await refreshes.requestChanged(id);
      expect(Date.now() - started).toBeLessThan(1_000);
      await settled(refreshes);
      // Dan filed it, Alice and Carol approve it; Bob approves too but never opened his Home.
      expect({
        dan: publishes(U.dan) - before.dan,
        alice: publishes(U.alice) - before.alice,
        carol: publishes(U.carol) - before.carol,
        bob: publishes(U.bob) - before.bob,
      }).toEqual({ dan: 1, alice: 1, carol: 1, bob: 0 });
    } finally {
      await refreshes.close();
      await redis.quit();
    }
    await f.command(U.dan, `cancel ${id}`);
  });
});

/** Resolves once no Home job is queued, delayed or running: every publish the changes caused has been made. */
function settled(refreshes: HomeRefreshes) {
  return vi.waitFor(async () => {
    const counts = await Promise.all([
      refreshes.changes.getJobCounts('waiting', 'delayed', 'active', 'prioritized'),
      refreshes.publishes.getJobCounts('waiting', 'delayed', 'active', 'prioritized'),
    ]);
    const left = counts.flatMap((c) => Object.values(c)).reduce((a, b) => a + b, 0);
    if (left > 0) throw new Error(`${left} home jobs left`);
  }, WAIT);
}
