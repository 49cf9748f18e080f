// The after-ack work tracker: bounded concurrency in arrival order, every piece of work settles, drain waits.
import { describe, expect, it } from 'vitest';
import { InFlight } from '../../../src/slack/listeners/inflight.ts';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

describe('InFlight', () => {
  it('runs at most `limit` at once, the rest in arrival order, and settles every one', async () => {
    const inflight = new InFlight(3);
    const gates = Array.from({ length: 10 }, gate);
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const results = gates.map((g, i) =>
      inflight.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await g.opened;
        running--;
        if (i === 4) throw new Error('boom');
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    expect(inflight.queued).toBe(7);
    for (const g of gates) g.open();
    const settled = await Promise.allSettled(results);
    expect(peak).toBe(3);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(1);
    expect(inflight.size).toBe(0);
    expect(inflight.queued).toBe(0);
  });

  it('drain waits for queued work too, and reports a deadline passed', async () => {
    const inflight = new InFlight(1);
    const a = gate();
    const b = gate();
    void inflight.run(() => a.opened);
    void inflight.run(() => b.opened);
    expect(await inflight.drain(20)).toBe(false);
    a.open();
    b.open();
    expect(await inflight.drain(1_000)).toBe(true);
  });
});
