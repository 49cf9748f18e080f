// `npm run audit -- review <id>` as a child process against real Redis: a review's outcome CSV from the store (one
// line per holder, formulas kept text), a review id nobody has, and a malformed id refused with the usage.
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReviewArgs, UsageError } from '../../src/audit-cli.ts';
import { slackPerson } from '../../src/slack/people.ts';
import { ReviewStore } from '../../src/store/review-store.ts';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../helpers/redis.ts';

const run = promisify(execFile);
const NODE = resolve('node_modules/.bin/node');
const CLI = resolve('src/audit-cli.ts');
const prefix = uniquePrefix('review-cli');
const outFile = join(tmpdir(), `${prefix.replaceAll(':', '-')}-review.csv`);
const T = Date.UTC(2026, 0, 31, 12, 0, 0);

let redis: Redis;
let id: string;

function cli(args: string[]) {
  return run(NODE, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', REDIS_URL, QUEUE_PREFIX: prefix },
  });
}

beforeAll(async () => {
  redis = testRedis();
  const store = new ReviewStore(redis, prefix);
  const review = await store.create(
    {
      entitlement: { id: 'r1', name: 'Steward' },
      targetRef: { kind: 'qlik-roles', instance: 'default' },
      openedBy: slackPerson('U0ALICE'),
      openedAt: T,
      holders: [
        { kind: 'user', id: 'u1', name: 'Jamal Haddad', email: 'jamal@corp.example' },
        { kind: 'user', id: 'u2', name: '=HYPERLINK("http://evil")', email: 'evil@corp.example' },
        { kind: 'group', id: 'Finance', name: 'Finance' },
      ],
      groupsLeftOut: 0,
      batchSize: 20,
    },
    { time: T, actor: 'U0ALICE', action: 'review-opened', outcome: 'open' },
  );
  id = review.id;
  await store.decide(
    id,
    0,
    { choice: 'keep', by: slackPerson('U0BOB'), at: T },
    { time: T, actor: 'U0BOB', action: 'review-kept', outcome: 'kept' },
    T,
  );
  const claim = { choice: 'revoke' as const, by: slackPerson('U0ALICE'), at: T };
  await store.claimRevoke(id, 1, claim, T);
  await store.finalizeRevoke(
    id,
    1,
    claim,
    { ...claim, requestId: 'R-7KQ2' },
    { time: T, actor: 'U0ALICE', action: 'review-revoke-requested', outcome: 'revoke-requested' },
    T,
  );
});

afterAll(async () => {
  await rm(outFile, { force: true });
  await dropPrefix(redis, prefix);
  await redis.quit();
});

describe('audit review <id>', () => {
  it("prints the review's outcome CSV, one line per holder, formulas kept text", async () => {
    const { stdout } = await cli(['review', id.toLowerCase()]);
    expect(stdout.trimEnd().split('\n')).toEqual([
      'holder,kind,email,decision,decided_by,decided_at,request_id',
      'Jamal Haddad,user,jamal@corp.example,keep,U0BOB,2026-01-31T12:00:00.000Z,',
      `"'=HYPERLINK(""http://evil"")",user,evil@corp.example,revoke,U0ALICE,2026-01-31T12:00:00.000Z,R-7KQ2`,
      'Finance,group,,undecided,,,',
    ]);
  });

  it('writes it to --out and says so', async () => {
    const { stderr } = await cli(['review', id, '--out', outFile]);
    expect(stderr).toContain(`Wrote the outcome of review ${id} (3 holders, open)`);
    expect(await readFile(outFile, 'utf8')).toContain('Finance,group,,undecided,,,');
  });

  it('says so for a review nobody has, and refuses what is no review id', async () => {
    await expect(cli(['review', 'V-ZZZZZZZZ'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('No access review V-ZZZZZZZZ'),
    });
    expect(() => parseReviewArgs(['R-7KQ2'])).toThrow(UsageError);
    expect(() => parseReviewArgs([])).toThrow(/one review id/);
    expect(parseReviewArgs(['v-7kq2', '--out', 'x.csv'])).toEqual({ id: 'V-7KQ2', out: 'x.csv' });
  });
});
