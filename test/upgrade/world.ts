// The world an upgrade fixture is captured in and replayed in: the fake Slack workspace, the Qlik simulator's demo
// tenant, the policy file and the bot's environment. The generators (scripts/capture-upgrade-fixture*.ts) and the
// upgrade test (test/upgrade/upgrade.test.ts) both build it from here, so the replay meets the same people, roles
// and settings the old version wrote its records with. Deliberately self-contained: it goes through the bot's
// public entry points only (start(), loadSettings(), the simulators), never through its internals.
import { join } from 'node:path';
import type { FakeUser, SlackFake } from '../../src/sandbox/slack-fake/index.ts';

export const FIXTURE_DIR = join(import.meta.dirname, 'fixtures');
export const POLICY_FILE = join(FIXTURE_DIR, 'policy.yaml');

export const BOT_TOKEN = 'xoxb-test-0000-upgrade';
export const SIGNING_SECRET = 'upgrade-signing-secret-0123456789abcdef';
export const APPROVAL_CHANNEL = 'C0APPROVALS';

/** Slack people; emails match the simulator's demo tenant. */
export const U = {
  alice: 'U0ALICE', // approver
  bob: 'U0BOB', // approver
  dan: 'U0DAN', // requester of every request in the fixture
  frank: 'U0FRANK',
  grace: 'U0GRACE',
  hiro: 'U0HIRO',
  kaja: 'U0KAJA',
  liam: 'U0LIAM',
  olga: 'U0OLGA',
  sanjay: 'U0SANJAY',
  tess: 'U0TESS',
  zoe: 'U0ZOE',
} as const;

export function slackUsers(): FakeUser[] {
  const person = (id: string, name: string, realName: string): FakeUser => ({
    id,
    name,
    realName,
    email: `${name}@corp.example`,
  });
  return [
    person(U.alice, 'alice', 'Alice Andersson'),
    person(U.bob, 'bob', 'Bob Brown'),
    person(U.dan, 'dan', 'Dan Dubois'),
    person(U.frank, 'frank', 'Frank Fischer'),
    person(U.grace, 'grace', 'Grace García'),
    person(U.hiro, 'hiro', 'Hiro Ito'),
    person(U.kaja, 'kaja', 'Kaja Kowalski'),
    person(U.liam, 'liam', 'Liam Lindqvist'),
    person(U.olga, 'olga', 'Olga Okafor'),
    person(U.sanjay, 'sanjay', 'Sanjay Santos'),
    person(U.tess, 'tess', 'Tess Tanaka'),
    person(U.zoe, 'zoe', 'Zoë Zhang'),
  ];
}

export const SLACK_FAKE_OPTIONS = {
  botToken: BOT_TOKEN,
  channels: [{ id: APPROVAL_CHANNEL, name: 'qlik-approvals' }],
};

/** The bot's environment (as an operator would set it) for this world under one key prefix. */
export function botEnv(w: {
  qlikUrl: string;
  qlikApiKey: string;
  slackApiUrl: string;
  redisUrl: string;
  prefix: string;
}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: w.slackApiUrl,
    QLIK_TENANT_URL: w.qlikUrl,
    QLIK_API_KEY: w.qlikApiKey,
    REDIS_URL: w.redisUrl,
    QUEUE_PREFIX: w.prefix,
    PORT: '0',
    POLICY_FILE,
    REQUEST_TTL: '24h',
    LOG_LEVEL: 'silent',
    QLIK_READS_PER_MINUTE: '600000',
    QLIK_WRITES_PER_MINUTE: '600000',
    QLIK_FILTER_PER_MINUTE: '600000',
  };
}

/**
 * A clock for the whole process: Date.now() from `startAt` on, running at real speed, moved forward on demand.
 * Everything that reads the time (the bot, the worker, BullMQ's delays, the Slack fake, Slack signatures) reads
 * this one clock; Redis keeps its own (TTLs, stream ids), as it does in production.
 */
export interface FakeClock {
  now(): number;
  advance(ms: number): void;
  uninstall(): void;
}

export function installClock(startAt: number): FakeClock {
  const real = Date.now.bind(Date);
  let offset = startAt - real();
  Date.now = () => real() + offset;
  return {
    now: () => Date.now(),
    advance(ms) {
      if (ms < 0) throw new Error('the clock only moves forward');
      offset += ms;
    },
    uninstall() {
      Date.now = real;
    },
  };
}

/** A message the bot posted to Slack (channel messages, thread replies, DMs), as Slack shows it now. */
export interface SlackMessageDump {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

/** The messages Slack keeps across an upgrade (ephemerals and response_url answers vanish in Slack too). */
export function slackMessages(fake: SlackFake): SlackMessageDump[] {
  return fake.messages
    .filter((m) => !m.ephemeral && !m.deleted && m.via === 'chat.postMessage')
    .map((m) => ({
      channel: m.channel,
      ts: m.ts,
      ...(m.thread_ts !== undefined ? { thread_ts: m.thread_ts } : {}),
      ...(m.text !== undefined ? { text: m.text } : {}),
      ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
      ...(m.metadata !== undefined ? { metadata: m.metadata } : {}),
    }));
}

/** Puts captured messages back into a fresh Slack fake, with their ts, so the bot's message refs find them. */
export function seedSlackMessages(fake: SlackFake, messages: readonly SlackMessageDump[]): void {
  for (const m of messages) fake.recordMessage({ ...m, ephemeral: false, via: 'chat.postMessage' });
}

/** Waits for `pred` to hold (polling), on the real clock: the fake one jumps. */
export async function until<T>(
  what: string,
  probe: () => Promise<T> | T,
  pred: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (pred(v)) return v;
    if (performance.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
