// The bot's process, behind the entry point src/main.ts (`node src/main.ts all|bot|worker`, which checks the Node
// version first and then loads this module). Wiring only — configuration, policy, connections, the Slack
// front (bot role) and/or the worker, the health server, and a graceful shutdown with a deadline. Logs the facts
// of the start-up, never a secret.
import { AccessRequestApp } from './app/access-requests.ts';
import type { Config, ModeConfig, QlikTenantConfig } from './config.ts';
import { approvalChannelOf, type Policy } from './domain/policy.ts';
import { DEFAULT_TARGET } from './domain/request.ts';
import { ModeClient } from './mode/client.ts';
import { ModePeople } from './mode/people.ts';
import {
  closeServer,
  createHttpServer,
  listen,
  type ReadinessResult,
  sampleQueueDepth,
  standardReadiness,
  tenantsReadiness,
} from './observability/http.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { recordQlikCall } from './observability/metrics.ts';
import { createQueueBoard, QUEUE_BOARD_PATH } from './observability/queue-board.ts';
import { type BotIdentity, reachability } from './preflight.ts';
import { QlikClient, SharedRateLimiter } from './qlik/index.ts';
import { openQueues } from './queue/queues.ts';
import { loadSettings, SettingsError } from './settings.ts';
import { createSlackApp, createWebClient, type SlackApp } from './slack/app.ts';
import { redisCommandClaims } from './slack/deliveries.ts';
import { SlackDirectory } from './slack/directory.ts';
import { HomeRefreshes, HomeTab } from './slack/home.ts';
import { SlackMessenger } from './slack/messenger.ts';
import { SlackNotifier } from './slack/notifier.ts';
import { slackDirectoryPort } from './slack/people.ts';
import { SlackReviewNotifier } from './slack/review-notifier.ts';
import { closeSlackTransport } from './slack/transport.ts';
import { AuditLog } from './store/audit-log.ts';
import { storeKeys } from './store/keys.ts';
import { ManagedHoldings } from './store/managed.ts';
import { PrincipalLock } from './store/principal-lock.ts';
import { createRedisConnection } from './store/redis.ts';
import { RequestStore } from './store/request-store.ts';
import { ReviewStore } from './store/review-store.ts';
import { ModeCollectionsTarget } from './targets/mode-collections/target.ts';
import { ModeGroupsTarget } from './targets/mode-groups/target.ts';
import { QlikAccountTarget } from './targets/qlik-account/target.ts';
import { QlikRolesTarget } from './targets/qlik-roles/target.ts';
import { QlikSpacesTarget } from './targets/qlik-spaces/target.ts';
import { TargetRegistry } from './targets/registry.ts';
import { startWorker } from './worker/index.ts';

export type Role = 'all' | 'bot' | 'worker';
const ROLES: readonly Role[] = ['all', 'bot', 'worker'];

/** How long a shutdown may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 15_000;
/** How often an unverified Qlik credential is checked again (readiness stays 503 until it passes). */
const CREDENTIAL_RECHECK_MS = 30_000;

export interface Running {
  stop(deadlineMs?: number): Promise<void>;
  port: number;
  /** Settles after the first Qlik credential check (passed or not); readiness reflects its outcome. */
  credentialChecked: Promise<void>;
}

export interface StartOptions {
  /** The clock of the app and the worker (request expiry, time-bound grants); tests pass a fake one. */
  now?: () => number;
  /** The bot's identity when start-up already read it (the preflight's auth.test); asked of Slack otherwise. */
  botIdentity?: BotIdentity;
}

/** Starts the given role with a parsed config and policy; resolves once it serves. */
export async function start(
  role: Role,
  config: Config,
  policy: Policy,
  logger: Logger,
  opts: StartOptions = {},
): Promise<Running> {
  const clock = opts.now === undefined ? {} : { now: opts.now };
  const prefix = config.queuePrefix;
  const redis = createRedisConnection(config.redisUrl, 'command');
  redis.on('error', (err: Error) =>
    logger.warn({ err: { message: err.message } }, 'redis connection problem'),
  );
  // One Qlik client per tenant (its own connection pool, role cache and rate budget) and three targets on it, tenant
  // roles, space roles and accounts (invites), keyed by (kind, tenant name); the first tenant is the default of each.
  const tenants = config.qlikTenants.map((tenant) => openTenant(tenant, redis, prefix, logger));
  // Mode, when configured: one workspace, its client, the people-by-email cache, and its two kinds of access.
  const mode = config.mode ? openMode(config.mode, redis, prefix) : undefined;
  const targets = new TargetRegistry([
    ...tenants.flatMap((t) => [
      new QlikRolesTarget({ instance: t.config.name, qlik: t.qlik }),
      new QlikSpacesTarget({ instance: t.config.name, qlik: t.qlik }),
      new QlikAccountTarget({
        instance: t.config.name,
        qlik: t.qlik,
        identityProvider: t.config.identityProvider,
      }),
    ]),
    ...(mode?.targets ?? []),
  ]);
  const store = new RequestStore(redis, prefix);
  const audit = new AuditLog(redis, prefix);
  const lock = new PrincipalLock(redis, prefix);
  const queues = openQueues(redis, prefix);
  // BullMQ re-emits connection errors on each queue; without a listener an 'error' event would end the process.
  for (const q of [queues.roleChanges, queues.notifications]) {
    q.on('error', (err: Error) =>
      logger.warn({ err: { message: err.message }, queue: q.name }, 'queue error'),
    );
  }
  const client = createWebClient(config.slack, logger);
  // With several tenants, messages name the tenant of each request and answer.
  const tenantLabels = { names: config.qlikTenants.map((t) => t.name) };
  const messenger = new SlackMessenger(client, logger, { tenants: tenantLabels });
  // The app and the worker tell people through the Notifier port; Slack's implementation sends through the messenger.
  // A change anywhere is queued for the App Homes it concerns; the bot publishes them (src/slack/home.ts).
  const homes = new HomeRefreshes({ redis, prefix, logger });
  const notifier = new SlackNotifier(messenger, { tenants: tenantLabels, homes });

  // Each tenant's key is verified on its own; ready only when every one is (the failing tenants are named).
  const named = tenants.length > 1;
  const credentials = tenants.map((t) => ({
    name: t.config.name,
    watch: watchQlikCredential(t.qlik, named ? logger.child({ tenant: t.config.name }) : logger),
  }));
  const modeCredential = mode
    ? watchModeCredential(mode.client, logger.child({ system: 'mode' }))
    : undefined;
  const qlikReady = tenantsReadiness(credentials.map((c) => ({ name: c.name, state: c.watch.state })));
  const readiness = standardReadiness({
    redis,
    // Ready when every Qlik tenant's key and, when Mode is configured, Mode's token are verified.
    qlikCredential: () => {
      const q = qlikReady();
      if (!q.ok || !modeCredential) return q;
      const m = modeCredential.state();
      return m.ok ? q : { ok: false, reason: `Mode: ${m.reason}` };
    },
  });
  const beforeScrape = () => sampleQueueDepth([queues.roleChanges, queues.notifications]);
  const queueBoard = config.bullBoard
    ? { path: QUEUE_BOARD_PATH, handler: createQueueBoard([queues.roleChanges, queues.notifications]) }
    : undefined;

  let slack: SlackApp | undefined;
  let homeTab: HomeTab | undefined;
  let healthOnly: ReturnType<typeof createHttpServer> | undefined;
  let port: number;
  if (role === 'all' || role === 'bot') {
    const accessRequests = new AccessRequestApp({
      store,
      audit,
      managed: new ManagedHoldings(redis, storeKeys(prefix)),
      queues,
      targets,
      directory: slackDirectoryPort(new SlackDirectory(client)),
      notifier,
      reviews: new ReviewStore(redis, prefix),
      reviewNotifier: new SlackReviewNotifier(messenger, { tenants: tenantLabels }),
      reviewMaxHolders: config.reviewMaxHolders,
      policy,
      requestTtlMs: config.requestTtlMs,
      logger,
      ...clock,
    });
    homeTab = new HomeTab({
      app: accessRequests,
      client,
      redis,
      redisUrl: config.redisUrl,
      prefix,
      refreshes: homes,
      logger,
      tenants: tenantLabels,
      ...clock,
    });
    homeTab.start();
    slack = await createSlackApp({
      config,
      logger,
      accessRequests,
      home: homeTab,
      messenger,
      readiness,
      beforeScrape,
      tenants: tenantLabels,
      claimCommand: redisCommandClaims(redis, prefix),
      ...(queueBoard ? { queueBoard } : {}),
      ...(opts.botIdentity ? { botIdentity: opts.botIdentity } : {}),
    });
    port = await slack.start(config.port);
  } else {
    // A worker-only replica still answers health probes and scrapes.
    healthOnly = createHttpServer({ logger, readiness, beforeScrape, ...(queueBoard ? { queueBoard } : {}) });
    port = await listen(healthOnly, config.port);
  }
  const worker =
    role === 'all' || role === 'worker'
      ? await startWorker({
          config,
          logger,
          targets,
          store,
          audit,
          lock,
          queues,
          notifier,
          redisUrl: config.redisUrl,
          prefix,
          drift: { channelFor: (instance) => approvalChannelOf(policy, instance) },
          policy,
          ...clock,
        })
      : undefined;

  logger.info(
    {
      role,
      port,
      slackMode: slack?.mode,
      slackApiUrl: config.slack.apiUrl ?? 'https://slack.com/api/',
      qlikTenant: config.qlik.tenantUrl,
      ...(named ? { qlikTenants: config.qlikTenants.map((t) => `${t.name}=${t.tenantUrl}`) } : {}),
      queuePrefix: prefix,
      approvalChannel: policy.approvalChannel,
      rolesWithRules: policy.roles.size,
      requestTtlMs: config.requestTtlMs,
      queueBoard: queueBoard?.path ?? 'off',
    },
    'qlik-access-bot started',
  );

  return {
    port,
    credentialChecked: Promise.all([
      ...credentials.map((c) => c.watch.firstCheck),
      ...(modeCredential ? [modeCredential.firstCheck] : []),
    ]).then(() => undefined),
    async stop(deadlineMs = SHUTDOWN_DEADLINE_MS) {
      for (const c of credentials) c.watch.stop();
      modeCredential?.stop();
      await Promise.allSettled([
        slack?.stop(deadlineMs),
        worker?.close(deadlineMs),
        healthOnly ? closeServer(healthOnly) : undefined,
      ]);
      await homeTab?.close();
      await Promise.allSettled([
        queues.close(),
        homes.close(),
        ...tenants.map((t) => t.qlik.close()),
        ...(mode ? [mode.client.close()] : []),
        lock.close(),
      ]);
      for (const t of tenants) t.limiter.close();
      // Slack's keep-alive connections (the Web API client's and response_url answers'), once nothing sends.
      await closeSlackTransport();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** One tenant's Qlik client, drawing on the shared rate budget of its credential. */
function openTenant(
  tenant: QlikTenantConfig,
  redis: ReturnType<typeof createRedisConnection>,
  prefix: string,
  logger: Logger,
): { config: QlikTenantConfig; qlik: QlikClient; limiter: SharedRateLimiter } {
  // Qlik counts its limits per credential, so every replica draws from one budget kept in Redis (keyed by the
  // credential, so two tenants never share one).
  const limiter = new SharedRateLimiter({
    redis,
    prefix,
    tenantUrl: tenant.tenantUrl,
    apiKey: tenant.apiKey,
    logger,
    limits: {
      read: { perMinute: tenant.readsPerMinute },
      write: { perMinute: tenant.writesPerMinute },
      filter: { perMinute: tenant.filterPerMinute },
    },
  });
  const qlik = new QlikClient({
    tenantUrl: tenant.tenantUrl,
    apiKey: tenant.apiKey,
    limiter,
    onCall: recordQlikCall,
  });
  return { config: tenant, qlik, limiter };
}

/** Mode's client, its people-by-email cache (in Redis under the queue prefix) and its two targets. */
function openMode(cfg: ModeConfig, redis: ReturnType<typeof createRedisConnection>, prefix: string) {
  const client = new ModeClient({
    baseUrl: cfg.apiUrl,
    workspace: cfg.workspace,
    token: cfg.token,
    secret: cfg.secret,
  });
  const people = new ModePeople({ redis, prefix, client });
  return {
    client,
    people,
    targets: [
      new ModeGroupsTarget({ instance: DEFAULT_TARGET.instance, mode: client, people }),
      new ModeCollectionsTarget({ instance: DEFAULT_TARGET.instance, mode: client, people }),
    ],
  };
}

/** What start-up and readiness keep of a credential check: its state, the first check, and how to stop it. */
interface CredentialWatch {
  state: () => ReadinessResult;
  firstCheck: Promise<void>;
  stop(): void;
}

/**
 * Runs `check` now, and again every 30 s until it passes; readiness reads the last state. `check` says how it went
 * (and logs it); `notYet` is the state before the first check has answered.
 */
function watchCredential(check: () => Promise<ReadinessResult>, notYet: string): CredentialWatch {
  let state: ReadinessResult = { ok: false, reason: notYet };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async () => {
    state = await check();
    if (state.ok || stopped) return;
    timer = setTimeout(() => void run(), CREDENTIAL_RECHECK_MS);
    timer.unref();
  };
  const firstCheck = run();
  return {
    state: () => state,
    firstCheck,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Verifies Mode's token (`GET /api/verify`) now, and again every 30 s until it passes. */
function watchModeCredential(client: ModeClient, logger: Logger): CredentialWatch {
  return watchCredential(async () => {
    try {
      await client.verify();
      logger.info('Mode token verified');
      return { ok: true };
    } catch (err) {
      logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'Mode token check failed',
      );
      return {
        ok: false,
        reason: `the Mode token could not be verified (${err instanceof Error ? err.message : 'unknown error'})`,
      };
    }
  }, 'the Mode token has not been verified yet');
}

/** Verifies the Qlik credential now, and again every 30 s until it passes; readiness reads its state. */
function watchQlikCredential(qlik: QlikClient, logger: Logger): CredentialWatch {
  return watchCredential(async () => {
    try {
      const res = await qlik.verifyCredential();
      if (res.ok) {
        logger.info({ qlikUser: res.user.id }, 'Qlik credential verified');
        return { ok: true };
      }
      logger.error({ reason: res.reason }, 'Qlik credential check failed');
      return { ok: false, reason: res.reason };
    } catch (err) {
      logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'Qlik credential check failed',
      );
      return { ok: false, reason: 'the Qlik credential could not be checked (Qlik unreachable)' };
    }
  }, 'the Qlik credential has not been verified yet');
}

/** The command line of src/main.ts: configuration, policy, start-up and signals. */
export async function main(argv: string[]): Promise<void> {
  const role = (argv[0] ?? 'all') as Role;
  if (!ROLES.includes(role)) {
    console.error(`Unknown role "${argv[0]}". Usage: node src/main.ts all|bot|worker`);
    process.exit(2);
  }
  let config: Config;
  let policy: Policy;
  try {
    // The environment and the policy file together: every problem of both in one message.
    ({ config, policy } = loadSettings());
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // Signals are handled from the first moment: a SIGTERM during start-up (e.g. `docker stop` right after
  // `docker start`) waits for start-up to finish and then shuts down cleanly instead of killing half-open work.
  let stopping = false;
  let startup: Promise<Running | undefined> | undefined;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS + 5_000);
    force.unref();
    void (startup ?? Promise.resolve(undefined))
      .then((running) => running?.stop(SHUTDOWN_DEADLINE_MS))
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error(
            { err: { message: err instanceof Error ? err.message : String(err) } },
            'unclean shutdown',
          );
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  logger.info({ role }, 'starting');
  startup = (async () => {
    // Redis and Slack checked once each, up front: one clear line per problem instead of the retrying clients'
    // repeated connection warnings.
    const { problems, botIdentity } = await reachability(role, config);
    if (problems.length > 0) {
      logger.fatal({ problems }, 'could not start');
      console.error(`qlik-access-bot could not start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
      process.exit(1);
    }
    if (stopping) return undefined;
    return start(role, config, policy, logger, botIdentity ? { botIdentity } : {});
  })().catch((err: unknown) => {
    logger.fatal({ err: { message: err instanceof Error ? err.message : String(err) } }, 'could not start');
    console.error(`qlik-access-bot could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
  await startup;
}
