// Owns Slack's side of Socket Mode for the Slack fake: the WebSocket URLs apps.connections.open hands out
// (`ws://127.0.0.1:<port>/link/?ticket=…`, one use each), the `hello` a connection opens with, envelopes
// (`slash_commands`, `interactive`, `events_api`) delivered to an open connection and settled by the app's ack
// (`{envelope_id, payload}`), un-acked envelopes delivered again after a reconnect with `retry_attempt` raised,
// `disconnect` messages (`refresh_requested`, `link_disabled`, `warning`), server pings, and sockets dropped without
// a close frame. Shapes follow docs.slack.dev/apis/events-api/using-socket-mode; what Slack does not document (when
// it gives up, where a retry goes) is chosen to be the strictest case for the app and said so below.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';
export type DisconnectReason = 'refresh_requested' | 'link_disabled' | 'warning';

/** The frame an envelope travels in, as Slack sends it. */
export interface Envelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  /** 0 on the first delivery; Slack raises it on each retry. */
  retry_attempt: number;
  /** '' on the first delivery; 'timeout' on a retry (what Slack sends when no ack came). */
  retry_reason: string;
}

export interface SocketDelivery {
  connectionId: string;
  retryAttempt: number;
  at: number;
}

/** What became of one envelope: every delivery, the ack, acks the fake threw away to play a lost frame. */
export interface EnvelopeRecord {
  envelopeId: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  acceptsResponsePayload: boolean;
  queuedAt: number;
  deliveries: SocketDelivery[];
  /** Acks the app sent that the fake discarded (loseNextAcks). */
  lostAcks: number;
  /** Acks for this envelope after the first one that counted. */
  extraAcks: number;
  ack?: { connectionId: string; payload?: Record<string, unknown>; at: number };
  /** Set when the fake gave up on it (no connection, too many tries, closed). */
  failed?: string;
}

export interface SocketAck {
  envelopeId: string;
  /** The ack's `payload` when it had one with content (e.g. a slash command's answer, a view's response_action). */
  payload?: Record<string, unknown>;
  /** How many times it was delivered before the ack that counted. */
  deliveries: number;
  /** From deliver() to the ack: Slack gives up on a slash command or an interaction after 3000 ms. */
  ms: number;
}

export interface SocketConnection {
  id: string;
  /** 1 for the first connection of this server, and so on. */
  seq: number;
  openedAt: number;
  closedAt?: number;
  /** Who ended it: the app (close frame), the fake (after a disconnect message, or closing), or a dropped socket. */
  closedBy?: 'app' | 'fake' | 'dropped';
  /** The `disconnect` reasons sent on it, in order. */
  disconnects: DisconnectReason[];
  /** Envelopes sent on it (first deliveries and retries). */
  delivered: number;
  acked: number;
}

export interface DeliverOptions {
  /** Default: true for slash_commands and view_submission/block_suggestion payloads, false otherwise. */
  acceptsResponsePayload?: boolean;
  /** How long to wait for the ack, retries included; default 30 s (rejects with the envelope's story). */
  timeoutMs?: number;
  /**
   * With no connection to deliver on: `wait` (default) holds the envelope until the app connects; `fail` rejects
   * at once with `dispatch_failed`, what a person typing a slash command sees when the app is not connected.
   */
  whenNoConnection?: 'wait' | 'fail';
}

export interface SocketModeOptions {
  appId: string;
  /** The host named in hello/disconnect debug_info. */
  host?: string;
  /** How often the fake pings each connection (Slack does; the SDK then expects a ping every 30 s); default 10 s. */
  pingIntervalMs?: number;
  /** After this many deliveries without an ack an envelope fails (Slack retries an event 3 times); default 4. */
  maxDeliveries?: number;
  /** After sending refresh_requested or link_disabled, the fake closes the socket itself if the app has not; 2 s. */
  closeGraceMs?: number;
  /** Seconds announced as approximate_connection_time in hello; default 3600. */
  connectionTimeSec?: number;
}

export class SocketDispatchError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SocketDispatchError';
    this.code = code;
  }
}

interface Live {
  info: SocketConnection;
  ws: WebSocket;
  /** No new envelopes go here (a refresh_requested or link_disabled was sent). */
  draining: boolean;
  ping: NodeJS.Timeout;
  grace?: NodeJS.Timeout;
}

interface Pending {
  record: EnvelopeRecord;
  retryAttempt: number;
  /** The connection of the latest delivery, while it is un-acked. */
  on?: string;
  startedAt: number;
  timer: NodeJS.Timeout;
  resolve: (ack: SocketAck) => void;
  reject: (err: Error) => void;
}

export interface SocketModeServer {
  /** Every connection so far (open and closed), oldest first. */
  readonly connections: readonly SocketConnection[];
  /** Every envelope delivered or waiting, oldest first. */
  readonly envelopes: readonly EnvelopeRecord[];
  /** Connections open now (hello sent, not closed). */
  openConnections(): SocketConnection[];
  /** A fresh one-use WebSocket URL (what apps.connections.open answers). */
  issueUrl(baseWsUrl: string): string;
  /** Resolves once `count` connections in total have been opened (hello sent); default 1. */
  waitForConnections(count?: number, timeoutMs?: number): Promise<SocketConnection>;
  /** Sends an envelope and resolves with the ack that settles it (after retries if the app reconnects). */
  deliver(type: EnvelopeType, payload: Record<string, unknown>, opts?: DeliverOptions): Promise<SocketAck>;
  /** Sends `{type:'disconnect', reason}` on the given (default: every open) connection. */
  requestDisconnect(reason: DisconnectReason, connectionId?: string): void;
  /** Destroys the given (default: every open) connection's TCP socket without a close frame. */
  drop(connectionId?: string): void;
  /** Throws away the next `n` acks as if lost on the way, then (thenDrop) drops the socket the last came on. */
  loseNextAcks(n: number, opts?: { thenDrop?: boolean }): void;
  /** For the fake's HTTP server: takes an upgrade request to /link/. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

function defaultAcceptsResponse(type: EnvelopeType, payload: Record<string, unknown>): boolean {
  if (type === 'slash_commands') return true;
  if (type === 'events_api') return false;
  // Slack reads an answer in the ack of a view submission (response_action) or an options request; a button's or
  // a shortcut's ack carries none over HTTP, so none over Socket Mode.
  return payload.type === 'view_submission' || payload.type === 'block_suggestion';
}

export function createSocketModeServer(opts: SocketModeOptions): SocketModeServer {
  const host = opts.host ?? `applink-fake-${randomBytes(3).toString('hex')}`;
  const started = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const maxDeliveries = opts.maxDeliveries ?? 4;
  const closeGraceMs = opts.closeGraceMs ?? 2_000;
  const pingIntervalMs = opts.pingIntervalMs ?? 10_000;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const tickets = new Set<string>();
  const connections: SocketConnection[] = [];
  const live = new Map<string, Live>();
  const envelopes: EnvelopeRecord[] = [];
  const pending = new Map<string, Pending>();
  /** Envelope ids waiting for a connection, in order. */
  const queue: string[] = [];
  const watchers = new Set<() => void>();
  let lose: { n: number; thenDrop: boolean } | undefined;
  let rr = 0;
  let closed = false;

  const changed = () => {
    for (const w of [...watchers]) w();
  };

  function deliverable(): Live[] {
    return [...live.values()].filter((l) => !l.draining && l.ws.readyState === 1);
  }

  function send(l: Live, frame: unknown): void {
    l.ws.send(JSON.stringify(frame), () => {});
  }

  /** Sends queued envelopes to open connections, spread round-robin as Slack spreads them. */
  function flush(): void {
    const targets = deliverable();
    if (targets.length === 0) return;
    while (queue.length > 0) {
      const id = queue.shift()!;
      const p = pending.get(id);
      if (!p) continue;
      const l = targets[rr++ % targets.length]!;
      const r = p.record;
      const envelope: Envelope = {
        envelope_id: r.envelopeId,
        type: r.type,
        payload: r.payload,
        accepts_response_payload: r.acceptsResponsePayload,
        retry_attempt: p.retryAttempt,
        retry_reason: p.retryAttempt === 0 ? '' : 'timeout',
      };
      p.on = l.info.id;
      r.deliveries.push({ connectionId: l.info.id, retryAttempt: p.retryAttempt, at: Date.now() });
      l.info.delivered += 1;
      send(l, envelope);
    }
  }

  function fail(p: Pending, why: string, err: Error): void {
    clearTimeout(p.timer);
    pending.delete(p.record.envelopeId);
    const i = queue.indexOf(p.record.envelopeId);
    if (i >= 0) queue.splice(i, 1);
    p.record.failed = why;
    p.reject(err);
  }

  /** A connection ended: what it had un-acked goes again (Slack retries), to another connection or the next one. */
  function ended(l: Live, by: SocketConnection['closedBy']): void {
    if (!live.has(l.info.id)) return;
    live.delete(l.info.id);
    clearInterval(l.ping);
    if (l.grace) clearTimeout(l.grace);
    l.info.closedAt = Date.now();
    l.info.closedBy = by;
    for (const p of [...pending.values()]) {
      if (p.on !== l.info.id) continue;
      p.on = undefined;
      if (p.record.deliveries.length >= maxDeliveries) {
        fail(
          p,
          'too many deliveries',
          new SocketDispatchError(
            'not_acknowledged',
            `socket mode fake: envelope ${p.record.envelopeId} (${p.record.type}) was delivered ${p.record.deliveries.length} times and never acked`,
          ),
        );
        continue;
      }
      p.retryAttempt += 1;
      queue.push(p.record.envelopeId);
    }
    flush();
    changed();
  }

  function onAck(l: Live, raw: Buffer, isBinary: boolean): void {
    // Frames still buffered from a socket the fake has dropped never reached Slack.
    if (isBinary || !live.has(l.info.id)) return;
    let msg: unknown;
    try {
      msg = JSON.parse(raw.toString('utf8'));
    } catch {
      return;
    }
    const m = msg as { envelope_id?: unknown; payload?: unknown } | null;
    if (typeof m !== 'object' || m === null || typeof m.envelope_id !== 'string') return;
    const record = envelopes.find((e) => e.envelopeId === m.envelope_id);
    if (!record) return;
    if (lose && lose.n > 0) {
      lose.n -= 1;
      record.lostAcks += 1;
      if (lose.n === 0) {
        const thenDrop = lose.thenDrop;
        lose = undefined;
        if (thenDrop) drop(l.info.id);
      }
      return;
    }
    const p = pending.get(record.envelopeId);
    if (!p) {
      record.extraAcks += 1;
      return;
    }
    clearTimeout(p.timer);
    pending.delete(record.envelopeId);
    l.info.acked += 1;
    const payload =
      typeof m.payload === 'object' && m.payload !== null && !Array.isArray(m.payload)
        ? (m.payload as Record<string, unknown>)
        : undefined;
    const withContent = payload && Object.keys(payload).length > 0 ? payload : undefined;
    record.ack = {
      connectionId: l.info.id,
      at: Date.now(),
      ...(withContent ? { payload: withContent } : {}),
    };
    p.resolve({
      envelopeId: record.envelopeId,
      deliveries: record.deliveries.length,
      ms: performance.now() - p.startedAt,
      ...(withContent ? { payload: withContent } : {}),
    });
    changed();
  }

  function accept(ws: WebSocket): void {
    const info: SocketConnection = {
      id: `conn-${connections.length + 1}-${randomBytes(3).toString('hex')}`,
      seq: connections.length + 1,
      openedAt: Date.now(),
      disconnects: [],
      delivered: 0,
      acked: 0,
    };
    connections.push(info);
    const l: Live = {
      info,
      ws,
      draining: false,
      ping: setInterval(() => {
        if (ws.readyState === 1) ws.ping(`ping ${Date.now()}`);
      }, pingIntervalMs),
    };
    l.ping.unref();
    live.set(info.id, l);
    ws.on('message', (data, isBinary) => onAck(l, data, isBinary));
    ws.on('close', () => ended(l, l.info.closedBy ?? 'app'));
    ws.on('error', () => ended(l, 'dropped'));
    send(l, {
      type: 'hello',
      num_connections: live.size,
      debug_info: {
        host,
        started,
        build_number: 1,
        approximate_connection_time: opts.connectionTimeSec ?? 3600,
      },
      connection_info: { app_id: opts.appId },
    });
    flush();
    changed();
  }

  function drop(connectionId?: string): void {
    for (const l of [...live.values()]) {
      if (connectionId !== undefined && l.info.id !== connectionId) continue;
      l.info.closedBy = 'dropped';
      l.ws.terminate();
      ended(l, 'dropped');
    }
  }

  function waitUntil<T>(test: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
    const now = test();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const v = test();
        if (v === undefined) return;
        watchers.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`socket mode fake: ${what()} within ${timeoutMs} ms`));
      }, timeoutMs);
      watchers.add(check);
    });
  }

  return {
    connections,
    envelopes,
    openConnections: () => [...live.values()].map((l) => l.info),
    issueUrl(baseWsUrl) {
      const ticket = randomUUID();
      tickets.add(ticket);
      return `${baseWsUrl}/link/?ticket=${ticket}&app_id=${opts.appId}`;
    },
    waitForConnections(count = 1, timeoutMs = 15_000) {
      return waitUntil(
        () => (connections.length >= count ? connections[count - 1] : undefined),
        timeoutMs,
        () => `no connection #${count} (${connections.length} so far)`,
      );
    },
    deliver(type, payload, o = {}) {
      if (closed) return Promise.reject(new SocketDispatchError('closed', 'socket mode fake: closed'));
      if ((o.whenNoConnection ?? 'wait') === 'fail' && deliverable().length === 0)
        return Promise.reject(
          new SocketDispatchError(
            'dispatch_failed',
            'socket mode fake: no open connection (dispatch_failed)',
          ),
        );
      const record: EnvelopeRecord = {
        envelopeId: randomUUID(),
        type,
        payload,
        acceptsResponsePayload: o.acceptsResponsePayload ?? defaultAcceptsResponse(type, payload),
        queuedAt: Date.now(),
        deliveries: [],
        lostAcks: 0,
        extraAcks: 0,
      };
      envelopes.push(record);
      const timeoutMs = o.timeoutMs ?? 30_000;
      return new Promise<SocketAck>((resolve, reject) => {
        const p: Pending = {
          record,
          retryAttempt: 0,
          startedAt: performance.now(),
          resolve,
          reject,
          timer: setTimeout(() => {
            fail(
              p,
              'no ack in time',
              new SocketDispatchError(
                'timeout',
                `socket mode fake: no ack for ${type} envelope ${record.envelopeId} within ${timeoutMs} ms (delivered ${record.deliveries.length} times, ${record.lostAcks} acks lost, ${live.size} open connections)`,
              ),
            );
          }, timeoutMs),
        };
        pending.set(record.envelopeId, p);
        queue.push(record.envelopeId);
        flush();
      });
    },
    requestDisconnect(reason, connectionId) {
      for (const l of [...live.values()]) {
        if (connectionId !== undefined && l.info.id !== connectionId) continue;
        l.info.disconnects.push(reason);
        send(l, { type: 'disconnect', reason, debug_info: { host } });
        if (reason === 'warning') continue;
        // Slack sends nothing more on a connection it asked the app to leave, and closes it if the app stays.
        l.draining = true;
        l.grace = setTimeout(() => {
          if (live.has(l.info.id)) {
            l.info.closedBy = 'fake';
            l.ws.close(1000, reason);
          }
        }, closeGraceMs);
        l.grace.unref();
      }
      changed();
    },
    drop,
    loseNextAcks(n, o = {}) {
      lose = n > 0 ? { n, thenDrop: o.thenDrop === true } : undefined;
    },
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/link/' && url.pathname !== '/link') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const ticket = url.searchParams.get('ticket') ?? '';
      if (closed || !tickets.delete(ticket)) {
        // A ticket works once, as Slack's do: a second connection needs a new apps.connections.open.
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
    },
    async close() {
      closed = true;
      for (const p of [...pending.values()])
        fail(p, 'fake closed', new SocketDispatchError('closed', 'socket mode fake: closed'));
      for (const l of [...live.values()]) {
        l.info.closedBy = 'fake';
        l.ws.terminate();
        ended(l, 'fake');
      }
      watchers.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
