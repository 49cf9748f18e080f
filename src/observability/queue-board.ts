// Owns the optional queue UI (bull-board): read-only, off by default (BULL_BOARD=on), served on the bot's port at
// an internal path. It shows jobs and their payloads (request ids only — never secrets) but cannot retry, clean or
// remove anything: changes to Qlik go through requests and approvals, never through an admin UI.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express from 'express';
import type { RequestHandler } from './http.ts';

export const QUEUE_BOARD_PATH = '/internal/queues';

/** A request handler serving the read-only board for these queues under QUEUE_BOARD_PATH. */
export function createQueueBoard(queues: Queue[]): RequestHandler {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true, allowRetries: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'qlik-access-bot queues' } },
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(QUEUE_BOARD_PATH, serverAdapter.getRouter());
  return (req, res) => app(req, res);
}
