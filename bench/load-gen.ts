// Owns the open-loop load generator of the ack benchmark, run as its own child process (IPC) so that sending on
// schedule never waits for the simulator, the fake or the bot. Every request has a scheduled send time; it is sent
// at that time whatever is still outstanding, and its latency is measured FROM THE SCHEDULED TIME, so a stall
// anywhere (including here) shows up as latency instead of silently thinning the load (coordinated omission).
import { createHmac } from 'node:crypto';
import { Pool } from 'undici';

export interface LoadItem {
  /** Offset from the start of the run, ms. */
  at: number;
  /** Form-urlencoded slash-command body (signed at send time). */
  body: string;
  /** Label for per-kind figures, e.g. 'grant'. */
  kind: string;
}

export interface LoadRequest {
  eventsUrl: string;
  signingSecret: string;
  items: LoadItem[];
  /** Delay before the first scheduled send, ms (lets the child settle after receiving the schedule). */
  leadMs?: number;
  /** Per-request timeout, ms (Slack gives up after 3000). */
  timeoutMs?: number;
}

export interface LoadResult {
  /** Per item, in schedule order: latency from scheduled send to the complete HTTP answer, ms. */
  latencyMs: number[];
  /** Per item: how late the send left compared with its schedule, ms (the generator's own slippage). */
  sendLagMs: number[];
  status: number[];
  kinds: string[];
  /** Wall time of the whole schedule, ms. */
  elapsedMs: number;
  /** CPU time the generator itself used meanwhile, ms. */
  cpuMs: number;
}

function sign(
  secret: string,
  body: string,
): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  const ts = Math.floor(Date.now() / 1000);
  const hmac = createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${hmac}`, 'x-slack-request-timestamp': String(ts) };
}

export async function runSchedule(req: LoadRequest): Promise<LoadResult> {
  const url = new URL(req.eventsUrl);
  // Enough connections that the client never queues: open loop means no cap on requests in flight.
  const pool = new Pool(url.origin, { connections: 512, pipelining: 1, keepAliveTimeout: 30_000 });
  const n = req.items.length;
  const latencyMs = new Array<number>(n).fill(Number.NaN);
  const sendLagMs = new Array<number>(n).fill(Number.NaN);
  const status = new Array<number>(n).fill(0);
  const timeoutMs = req.timeoutMs ?? 10_000;
  const start = performance.now() + (req.leadMs ?? 200);
  const cpu0 = process.cpuUsage();
  const inflight: Promise<void>[] = [];

  const send = (i: number) => {
    const item = req.items[i]!;
    const scheduled = start + item.at;
    sendLagMs[i] = performance.now() - scheduled;
    const p = pool
      .request({
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
          ...sign(req.signingSecret, item.body),
        },
        body: item.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
      .then(async (res) => {
        await res.body.text();
        status[i] = res.statusCode;
        latencyMs[i] = performance.now() - scheduled;
      })
      .catch(() => {
        status[i] = 0;
        latencyMs[i] = performance.now() - scheduled;
      });
    inflight.push(p);
  };

  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = () => {
      const now = performance.now();
      // Send everything that is due (catching up after a late timer), then sleep until the next due time.
      while (next < n && start + req.items[next]!.at <= now) send(next++);
      if (next >= n) return resolve();
      setTimeout(tick, Math.max(0, start + req.items[next]!.at - performance.now()));
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  await Promise.all(inflight);
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  await pool.close();
  return {
    latencyMs,
    sendLagMs,
    status,
    kinds: req.items.map((i) => i.kind),
    elapsedMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

// As a forked child: one schedule per message, the result sent back.
if (import.meta.main && process.send) {
  process.on('message', (msg: LoadRequest) => {
    void runSchedule(msg).then(
      (result) => process.send!({ ok: true, result }),
      (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  process.send({ ready: true });
}
