// The optional queue UI: served read-only under its internal path when enabled, absent otherwise, and no
// request that would change a job gets through.
import type { Server } from 'node:http';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, createHttpServer, listen } from '../../src/observability/http.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createQueueBoard, QUEUE_BOARD_PATH } from '../../src/observability/queue-board.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';

const prefix = uniquePrefix('board');
const redis = testRedis();
const logger = createLogger('silent');
const readiness = async () => ({ ok: true as const });
let queue: Queue;
let withBoard: Server;
let without: Server;
let urlWith: string;
let urlWithout: string;

beforeAll(async () => {
  queue = new Queue('role-changes', { connection: redis, prefix });
  await queue.add('apply', { requestId: 'R-7KQ2' }, { jobId: 'apply-R-7KQ2', delay: 60_000 });
  withBoard = createHttpServer({
    logger,
    readiness,
    queueBoard: { path: QUEUE_BOARD_PATH, handler: createQueueBoard([queue]) },
  });
  without = createHttpServer({ logger, readiness });
  urlWith = `http://127.0.0.1:${await listen(withBoard, 0, '127.0.0.1')}`;
  urlWithout = `http://127.0.0.1:${await listen(without, 0, '127.0.0.1')}`;
});

afterAll(async () => {
  await Promise.all([closeServer(withBoard), closeServer(without)]);
  await queue.close();
  await dropPrefix(redis, prefix);
  await redis.quit();
});

describe('queue board', () => {
  it('serves the UI and lists the queues read-only when enabled', async () => {
    const page = await fetch(`${urlWith}${QUEUE_BOARD_PATH}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const api = await fetch(
      `${urlWith}${QUEUE_BOARD_PATH}/api/queues?activeQueue=role-changes&status=delayed`,
    );
    expect(api.status).toBe(200);
    const body = (await api.json()) as {
      queues: { name: string; readOnlyMode: boolean; allowRetries: boolean; jobs: { id: string }[] }[];
    };
    const q = body.queues.find((x) => x.name === 'role-changes');
    expect(q?.readOnlyMode).toBe(true);
    expect(q?.allowRetries).toBe(false);
    expect(q?.jobs.map((j) => j.id)).toContain('apply-R-7KQ2');
  });

  it('refuses anything but GET, so no job can be retried, promoted or removed through it', async () => {
    for (const [method, path] of [
      ['PUT', '/api/queues/role-changes/apply-R-7KQ2/promote'],
      ['DELETE', '/api/queues/role-changes/apply-R-7KQ2'],
      ['PUT', '/api/queues/role-changes/pause'],
    ] as const) {
      const res = await fetch(`${urlWith}${QUEUE_BOARD_PATH}${path}`, { method });
      expect(res.status).toBe(405);
    }
    expect(await queue.getJobState('apply-R-7KQ2')).toBe('delayed');
  });

  it('is not served unless enabled', async () => {
    expect((await fetch(`${urlWithout}${QUEUE_BOARD_PATH}`)).status).toBe(404);
  });
});
