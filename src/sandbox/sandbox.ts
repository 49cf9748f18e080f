// Owns `npm run sandbox`: everything local, no accounts. Starts the Qlik tenant simulator with the demo tenant, the
// Slack fake with matching demo users and an approvers group, writes a demo policy, runs the real bot + worker
// (`node src/main.ts all`) against them on a Redis (REDIS_URL, or a throwaway redis-server), and hands over to the
// terminal. The bot settings a person may try (REQUEST_TTL, LOG_LEVEL, POLICY_FILE, …; SANDBOX_SETTINGS) reach the
// bot from the environment; the rest are the sandbox's own. Everything it started — processes, servers, Redis keys
// (under its own QUEUE_PREFIX), temp files — is gone when it exits. SANDBOX_TENANTS=2 starts a second simulated
// tenant and runs the bot with both (QLIK_TENANTS: prod, the default, and dev). `--socket` runs the bot in Socket
// Mode instead of HTTP: an app-level token (SLACK_APP_TOKEN) and no signing secret, connected to the fake's Socket
// Mode server, and what you type goes to it as envelopes on that connection.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { createRedis, dropPrefix, redactRedisUrl } from '../store/redis.ts';
import { ensureRedis, freePort } from './local-redis.ts';
import { demoModeWorkspace, startModeSimulator } from './mode-sim/index.ts';
import { demoTenant, startQlikSimulator } from './qlik-sim/index.ts';
import { type BotProcess, logTail, startBotProcess } from './run/bot-process.ts';
import { buildDemoWorld, type DemoUser } from './run/demo-world.ts';
import { MessageFeed } from './run/message-feed.ts';
import { SlackDriver, startSlackFake } from './slack-fake/index.ts';
import { Terminal } from './terminal.ts';

/**
 * The bot settings (README, "Configuration") the sandbox passes from its environment to the bot, to try them out:
 * e.g. REQUEST_TTL=2m shows a request expiring. The others are the sandbox's own — the Slack fake's and the
 * simulator's tokens and URLs, a free PORT, a QUEUE_PREFIX of its own (whose keys it deletes at exit, so never one
 * of yours), APPROVAL_CHANNEL/APPROVERS of the demo workspace — and REDIS_URL is handled by ensureRedis.
 */
const SANDBOX_SETTINGS = [
  'REQUEST_TTL',
  'LOG_LEVEL',
  'POLICY_FILE',
  'QLIK_READS_PER_MINUTE',
  'QLIK_WRITES_PER_MINUTE',
  'QLIK_FILTER_PER_MINUTE',
  'WORKER_CONCURRENCY',
  'BULL_BOARD',
  'DRIFT_CHECK_EVERY',
  'DRIFT_WINDOW',
  'REMIND_AFTER',
  'ESCALATE_AFTER',
  'REVIEW_MAX_HOLDERS',
] as const;

/** The SANDBOX_SETTINGS that are set (non-empty) in env. */
function sandboxSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SANDBOX_SETTINGS) {
    const v = env[name]?.trim();
    if (v) out[name] = v;
  }
  return out;
}

export interface SandboxOptions {
  input?: NodeJS.ReadableStream;
  output?: Writable;
  /** Default: whether input is a TTY. */
  interactive?: boolean;
  /** Where to look for Redis first; default REDIS_URL or redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** The bot's log level (its JSON logs go to a file); default LOG_LEVEL, else info. */
  logLevel?: string;
  /** Where SANDBOX_SETTINGS are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default timeout of a script's `wait`; default 20 s. */
  waitTimeoutMs?: number;
  /** Run the bot in Socket Mode (`--socket`) rather than behind its HTTP endpoint. */
  socket?: boolean;
}

/** How many simulated Qlik tenants to run (SANDBOX_TENANTS: 1, the default, or 2), or undefined when malformed. */
function tenantCount(env: NodeJS.ProcessEnv): 1 | 2 | undefined {
  const v = env.SANDBOX_TENANTS?.trim();
  if (!v || v === '1') return 1;
  return v === '2' ? 2 : undefined;
}

/** Runs the sandbox until `quit` or the end of the input; resolves with the process exit code. */
export async function runSandbox(opts: SandboxOptions = {}): Promise<number> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const interactive = opts.interactive ?? Boolean((input as { isTTY?: boolean }).isTTY);
  const say = (text: string) => output.write(`${text}\n`);
  const cleanups: (() => Promise<void> | void)[] = [];
  let failed = false;
  const cleanUp = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        say(`(cleanup: ${err instanceof Error ? err.message : String(err)})`);
      }
    }
    cleanups.length = 0;
  };

  try {
    const redis = await ensureRedis(opts.redisUrl === undefined ? {} : { url: opts.redisUrl });
    if (redis.kind === 'missing') {
      say(redis.instructions);
      return 1;
    }
    if (redis.kind === 'refused') {
      say(redis.message);
      return 1;
    }
    const env = opts.env ?? process.env;
    const tenants = tenantCount(env);
    if (tenants === undefined) {
      say('SANDBOX_TENANTS: expected 1 or 2 (how many simulated Qlik tenants to run).');
      return 1;
    }
    const settings = sandboxSettings(env);
    if (opts.logLevel !== undefined) settings.LOG_LEVEL = opts.logLevel;
    cleanups.push(() => redis.stop());

    const dir = mkdtempSync(join(tmpdir(), 'qlik-sandbox-'));
    cleanups.push(() => {
      if (!failed && !process.env.SANDBOX_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
      else say(`(the bot's log and the policy are kept in ${dir})`);
    });

    const sim = await startQlikSimulator({ tenant: demoTenant() });
    cleanups.push(() => sim.close());
    // A second tenant with the same demo people: `on dev` then changes this one only.
    const dev = tenants === 2 ? await startQlikSimulator({ tenant: demoTenant() }) : undefined;
    if (dev) cleanups.push(() => dev.close());
    const qlikEnv: Record<string, string> = dev
      ? {
          QLIK_TENANTS: `prod=${sim.url},dev=${dev.url}`,
          QLIK_API_KEY_PROD: sim.apiKey,
          QLIK_API_KEY_DEV: dev.apiKey,
        }
      : { QLIK_TENANT_URL: sim.url, QLIK_API_KEY: sim.apiKey };
    // A Mode workspace with the same demo people: `/mode` works in the sandbox as it does in production.
    const mode = await startModeSimulator({ workspace: demoModeWorkspace() });
    cleanups.push(() => mode.close());
    const modeEnv = {
      MODE_WORKSPACE: mode.workspace.username,
      MODE_TOKEN: mode.token,
      MODE_SECRET: mode.secret,
      MODE_API_URL: mode.url,
    };
    const world = buildDemoWorld(sim.tenant);
    // Your POLICY_FILE when set (its approvers must be demo users or the demo group), else the demo policy.
    const policyFile = settings.POLICY_FILE ? resolve(settings.POLICY_FILE) : join(dir, 'policy.yml');
    if (settings.POLICY_FILE === undefined) writeFileSync(policyFile, world.policyYaml);

    const botToken = `xoxb-sandbox-${randomBytes(12).toString('hex')}`;
    const signingSecret = randomBytes(16).toString('hex');
    const socket = opts.socket === true;
    const appToken = `xapp-1-A0QLIKBOT-sandbox-${randomBytes(12).toString('hex')}`;
    const fake = await startSlackFake({
      botToken,
      users: world.users.map(toFakeUser),
      channels: world.channels,
      usergroups: { [world.approversGroup.id]: world.approversGroup.members },
      ...(socket ? { appToken } : {}),
    });
    cleanups.push(() => fake.close());
    // Socket Mode needs the app token and no signing secret: nothing reaches the bot over HTTP.
    const slackEnv: Record<string, string> = socket
      ? { SLACK_APP_TOKEN: appToken }
      : { SLACK_SIGNING_SECRET: signingSecret };

    const prefix = `qlik-sandbox:${randomBytes(4).toString('hex')}`;
    cleanups.push(() => dropKeys(redis.url, prefix));

    const port = await freePort();
    const logFile = join(dir, 'bot.log');
    say(`Starting the bot and the worker (node src/main.ts all${socket ? ', in Socket Mode' : ''})…`);
    let bot: BotProcess;
    try {
      bot = await startBotProcess({
        role: 'all',
        port,
        logFile,
        env: {
          LOG_LEVEL: 'info',
          ...settings,
          SLACK_BOT_TOKEN: botToken,
          ...slackEnv,
          SLACK_API_URL: fake.apiUrl,
          ...qlikEnv,
          ...modeEnv,
          REDIS_URL: redis.url,
          QUEUE_PREFIX: prefix,
          POLICY_FILE: policyFile,
        },
      });
    } catch (err) {
      failed = true;
      say(`The bot did not start. ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
    cleanups.push(async () => {
      const r = await bot.stop();
      if (r.code !== 0 && r.code !== null) say(`(the bot exited with code ${r.code}; its log: ${logFile})`);
    });
    if (socket) {
      // Ready means Redis and Qlik answer; in Socket Mode the bot also has to be connected before you type.
      try {
        await Promise.race([
          fake.socketMode.waitForConnections(1, 30_000),
          bot.exited.then((r) => Promise.reject(new Error(`it exited with ${r.code ?? r.signal}`))),
        ]);
      } catch (err) {
        failed = true;
        say(
          `The bot did not connect over Socket Mode (${err instanceof Error ? err.message : String(err)}). Last lines of ${logFile}:\n${logTail(logFile)}`,
        );
        return 1;
      }
    }

    const handles = new Map(world.users.map((u) => [u.id, u.handle]));
    const feed = new MessageFeed({
      handleOf: (id) =>
        handles.get(id) ?? (id === world.approversGroup.id ? world.approversGroup.handle : id),
      channelName: (id) => world.channels.find((c) => c.id === id)?.name ?? fake.channelName(id),
      dmUser: (ch) =>
        ch.startsWith('D') ? world.users.find((u) => fake.dmChannelOf(u.id) === ch)?.id : undefined,
      file: (id) => fake.files.find((f) => f.id === id),
    });
    feed.width = Math.min(100, Math.max(60, (output as { columns?: number }).columns ?? 80));
    const driver = socket
      ? new SlackDriver({ fake, socketMode: true })
      : new SlackDriver({ eventsUrl: `${bot.url}/slack/events`, signingSecret, fake });
    const terminal = new Terminal({
      world,
      feed,
      driver,
      forms: { surface: fake, driver },
      input,
      output,
      interactive,
      homes: {
        view: (userId) => fake.homeView(userId),
        publishes: (userId) =>
          fake.calls.filter(
            (c) => c.method === 'views.publish' && c.args.user_id === userId && c.status === 200,
          ).length,
      },
      ...(opts.waitTimeoutMs === undefined ? {} : { waitTimeoutMs: opts.waitTimeoutMs }),
      banner: banner({
        simUrl: sim.url,
        users: sim.tenant.userCount,
        groups: sim.tenant.groupCount,
        roles: sim.tenant.roleCount,
        ...(dev ? { devUrl: dev.url } : {}),
        slackUrl: fake.url,
        socket,
        redis: `${redactRedisUrl(redis.url)}${redis.kind === 'started' ? ' (started for this run)' : ''}`,
        prefix,
        botUrl: bot.url,
        logFile,
        settings,
        approvalChannel: world.approvalChannel.name,
        me: world.users.find((u) => u.handle === world.firstUser),
      }),
    });
    const unsubscribe = fake.subscribe((m, kind) => terminal.print(feed.record(m, kind).printed));
    cleanups.push(unsubscribe);

    // The bot dying under the terminal is a failure the person must hear about, not a silent hang.
    let stopping = false;
    const botDied = bot.exited.then((r) => {
      if (stopping) return 0;
      failed = true;
      say(
        `! The bot stopped unexpectedly (${r.code ?? r.signal}). Last lines of ${logFile}:\n${logTail(logFile)}`,
      );
      return 1;
    });
    const onSignal = () => terminal.stop();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    cleanups.push(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
    const code = await Promise.race([terminal.run(), botDied]);
    stopping = true;
    terminal.stop();
    if (code !== 0) failed = true;
    return code;
  } catch (err) {
    failed = true;
    say(`The sandbox failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await cleanUp();
  }
}

function toFakeUser(u: DemoUser) {
  const { handle: _h, note: _n, qlik: _q, ...fake } = u;
  return fake;
}

async function dropKeys(url: string, prefix: string): Promise<void> {
  const redis = createRedis(url, 'command');
  try {
    await dropPrefix(redis, `${prefix}:`);
  } finally {
    redis.disconnect();
  }
}

function banner(b: {
  simUrl: string;
  users: number;
  groups: number;
  roles: number;
  /** The second tenant's simulator, with SANDBOX_TENANTS=2. */
  devUrl?: string;
  slackUrl: string;
  /** The bot runs in Socket Mode. */
  socket: boolean;
  redis: string;
  prefix: string;
  botUrl: string;
  logFile: string;
  settings: Record<string, string>;
  approvalChannel: string;
  me: DemoUser | undefined;
}): string {
  const given = Object.entries(b.settings).map(([k, v]) => `${k}=${v}`);
  return [
    'qlik-access-bot sandbox — a simulated Qlik Cloud tenant and Slack workspace, the real bot and worker.',
    ...(b.devUrl === undefined
      ? [
          `  Qlik tenant simulator  ${b.simUrl}  (demo tenant: ${b.users} users, ${b.groups} groups, ${b.roles} roles)`,
        ]
      : [
          `  Qlik tenant prod       ${b.simUrl}  (the default; demo tenant: ${b.users} users, ${b.groups} groups, ${b.roles} roles)`,
          `  Qlik tenant dev        ${b.devUrl}  (the same demo tenant; name it with \`on dev\`)`,
        ]),
    `  Slack fake             ${b.slackUrl}  (#general, #${b.approvalChannel})`,
    ...(b.socket
      ? [
          `  Socket Mode            the bot is connected to ${b.slackUrl.replace(/^http/, 'ws')}/link/ with an app token (no HTTP endpoint)`,
        ]
      : []),
    `  Redis                  ${b.redis}`,
    `                         QUEUE_PREFIX=${b.prefix} — its keys are deleted when the sandbox exits`,
    `  Bot + worker           ${b.botUrl}  (logs: ${b.logFile})`,
    `  Bot settings           ${given.length > 0 ? `${given.join(' ')} (from your environment)` : 'the defaults (set REQUEST_TTL, LOG_LEVEL, POLICY_FILE, … to try others)'}`,
    `You are @${b.me?.handle ?? '?'}${b.me?.realName ? ` (${b.me.realName})` : ''}. Type \`help\` for what to try, \`users\` for who is who.`,
  ].join('\n');
}

/** The sandbox's own arguments: `--socket`; anything else is refused with the usage. */
export function parseSandboxArgs(args: readonly string[]): { socket: boolean } | { error: string } {
  let socket = false;
  for (const a of args) {
    if (a === '--socket') socket = true;
    else return { error: `Unknown argument ${a}. Usage: npm run sandbox [-- --socket]` };
  }
  return { socket };
}

if (import.meta.main) {
  const parsed = parseSandboxArgs(process.argv.slice(2));
  if ('error' in parsed) {
    process.stderr.write(`${parsed.error}\n`);
    process.exit(2);
  }
  const code = await runSandbox({ socket: parsed.socket });
  process.exit(code);
}
