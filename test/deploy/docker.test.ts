// The container setup, as far as it can be tested without a Docker engine: the Dockerfile's structure (stages,
// Node 24 slim base, production-only dependencies, non-root user, init process, HEALTHCHECK, CMD), compose.yaml
// (Redis with AOF and noeviction on a volume; bot and worker from one image), and that the compiled dist/ starts
// with the exact command lines the image and compose use, then exits cleanly on SIGTERM. The build leaves the
// sandbox out and carries the stores' Lua scripts, and the compiled stores run them from dist/.
import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  globSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MIN_NODE } from '../../src/node-version.ts';
import { findOnPath, freePort } from '../../src/sandbox/local-redis.ts';
import { type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import { type SlackFake, startSlackFake } from '../../src/sandbox/slack-fake/index.ts';
import { AuditLog } from '../../src/store/audit-log.ts';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../helpers/redis.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

interface Stage {
  from: string;
  name?: string;
  lines: string[];
}

/** Dockerfile → stages with their instructions (continuations joined, comments dropped, ARGs substituted). */
function parseDockerfile(text: string): Stage[] {
  const args = new Map<string, string>();
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of joined) {
    const arg = /^ARG (\w+)=(\S+)$/.exec(line);
    if (arg && stages.length === 0) args.set(arg[1]!, arg[2]!);
    const from = /^FROM (\S+)(?: AS (\S+))?$/i.exec(line);
    if (from) {
      const image = from[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a, b) => args.get(a ?? b) ?? '');
      stages.push({ from: image, ...(from[2] ? { name: from[2] } : {}), lines: [] });
      continue;
    }
    stages.at(-1)?.lines.push(line);
  }
  return stages;
}

function jsonArray(line: string, instruction: string): string[] {
  return JSON.parse(line.slice(instruction.length).trim()) as string[];
}

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const final = stages.at(-1)!;
  const instr = (s: Stage, name: string) => s.lines.filter((l) => l.toUpperCase().startsWith(`${name} `));

  it('is multi-stage on node:24 slim (Debian bookworm)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) {
      if (stages.some((o) => o.name === s.from)) continue; // FROM an earlier stage
      expect(s.from).toMatch(/^node:24[.\d]*-(bookworm-)?slim$|^node:24[.\d]*-slim$/);
    }
    expect(stages.filter((s) => s.name).length).toBe(stages.length);
  });

  it('uses the Node that package.json engines and the entry check name (Node 24)', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe(`>=${MIN_NODE.major}.${MIN_NODE.minor}`);
    for (const s of stages) {
      if (stages.some((o) => o.name === s.from)) continue;
      expect(s.from.startsWith(`node:${MIN_NODE.major}`), s.from).toBe(true);
    }
  });

  it('builds dist/ with npm ci and npm run build, and ships production dependencies only', () => {
    const build = stages.find((s) => s.lines.some((l) => /npm run build/.test(l)));
    expect(build, 'a stage runs npm run build').toBeDefined();
    expect(build!.lines.some((l) => /^RUN npm ci\b(?!.*--omit=dev)/.test(l))).toBe(true);
    expect(build).not.toBe(final);

    // node_modules of the final image come from a stage that ran `npm ci --omit=dev` (or the final stage runs it).
    const copies = instr(final, 'COPY').filter((l) => /node_modules/.test(l));
    const omitDev = (s: Stage) => s.lines.some((l) => /npm ci\b.*--omit=dev/.test(l));
    if (copies.length === 0) {
      expect(omitDev(final)).toBe(true);
    } else {
      for (const c of copies) {
        const from = /--from=(\S+)/.exec(c)?.[1];
        const src = stages.find((s) => s.name === from);
        expect(src, `node_modules copied from ${from}`).toBeDefined();
        expect(omitDev(src!), `stage ${from} must run npm ci --omit=dev`).toBe(true);
      }
    }
    expect(instr(final, 'COPY').some((l) => new RegExp(`--from=${build!.name}\\b.*dist`).test(l))).toBe(true);
  });

  it('copies into the build stage every local file npm run build runs', () => {
    const build = stages.find((s) => s.lines.some((l) => /npm run build/.test(l)))!;
    const copied = instr(build, 'COPY').flatMap((l) => l.split(' ').slice(1, -1));
    const script = (JSON.parse(read('package.json')) as { scripts: { build: string } }).scripts.build;
    const files = script.split(/\s+/).filter((w) => /^[\w./-]+\.(ts|js|json)$/.test(w));
    expect(files.length, script).toBeGreaterThan(0);
    for (const f of files) {
      expect(existsSync(join(ROOT, f)), f).toBe(true);
      expect(
        copied.some((c) => c === f || f.startsWith(`${c.replace(/\/$/, '')}/`)),
        `${f} is not copied`,
      ).toBe(true);
    }
  });

  it('runs as the unprivileged node user under an init process', () => {
    const users = instr(final, 'USER');
    expect(users.at(-1)).toBe('USER node');
    const entry = instr(final, 'ENTRYPOINT');
    expect(entry.length).toBe(1);
    const argv = jsonArray(entry[0]!, 'ENTRYPOINT');
    expect(argv[0]).toMatch(/tini$/);
    expect(final.lines.some((l) => /apt-get install .*\btini\b/.test(l))).toBe(true);
  });

  it('has a HEALTHCHECK on /healthz with node fetch (no curl in slim images), EXPOSE 3000, CMD all', () => {
    const hc = instr(final, 'HEALTHCHECK');
    expect(hc.length).toBe(1);
    expect(hc[0]).toMatch(/CMD \["node", ?"-e", ?".*fetch\(.*\/healthz/);
    expect(hc[0]).not.toMatch(/curl|wget/);
    expect(instr(final, 'EXPOSE')).toEqual(['EXPOSE 3000']);
    const cmd = instr(final, 'CMD');
    expect(jsonArray(cmd.at(-1)!, 'CMD')).toEqual(['node', 'dist/main.js', 'all']);
  });

  it('.dockerignore keeps secrets, git history and local builds out of the context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['.git', 'node_modules', 'dist', '.env']) expect(ignored).toContain(p);
  });
});

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  env_file?: string | string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  healthcheck?: { test: string[] };
  environment?: Record<string, string>;
}

/** compose's `${VAR:-default}` with nothing set in the environment: what a plain `docker compose up` uses. */
const withDefaults = (v: string) => v.replace(/\$\{\w+:-([^}]*)\}/g, '$1');

const compose = parse(read('compose.yaml'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};

describe('compose.yaml', () => {
  const { redis, bot, worker } = compose.services;

  it('runs Redis 7 with AOF every second and noeviction on a named volume', () => {
    expect(redis?.image).toMatch(/^redis:7/);
    const cmd = withDefaults(
      Array.isArray(redis!.command) ? redis!.command.join(' ') : String(redis!.command),
    );
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--appendfsync everysec/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    const volume = redis!.volumes?.find((v) => v.endsWith(':/data'));
    expect(volume).toBeDefined();
    const name = volume!.split(':')[0]!;
    expect(Object.keys(compose.volumes)).toContain(name);
    expect(redis!.healthcheck?.test.join(' ')).toMatch(/redis-cli ping/);
  });

  it('pins Redis to a release (not the floating redis:7) and gives noeviction a maxmemory to guard', () => {
    expect(redis?.image).toMatch(/^redis:7\.\d+\.\d+(-[a-z0-9]+)?$/);
    const cmd = withDefaults((redis!.command as string[]).join(' '));
    // Without a maxmemory, noeviction never triggers: Redis grows until the OOM killer ends it.
    const maxmemory = /--maxmemory (\d+)(mb|gb)\b/i.exec(cmd);
    expect(maxmemory, cmd).not.toBeNull();
    expect(Number(maxmemory![1]) * (maxmemory![2]!.toLowerCase() === 'gb' ? 1024 : 1)).toBeGreaterThanOrEqual(
      64,
    );
  });

  it('publishes the bot port (with /metrics) on the host loopback only, never on every interface', () => {
    expect(bot!.ports?.map(withDefaults)).toEqual(['127.0.0.1:3000:3000']);
    for (const s of Object.values(compose.services))
      for (const p of s.ports ?? []) expect(withDefaults(p)).toMatch(/^(127\.0\.0\.1|\[::1\]):/);
  });

  it('runs bot and worker from the same image with the dist/ command lines, after Redis is healthy', () => {
    expect(bot?.image).toBeDefined();
    expect(worker?.image).toBe(bot!.image);
    expect(bot!.command).toEqual(['node', 'dist/main.js', 'bot']);
    expect(worker!.command).toEqual(['node', 'dist/main.js', 'worker']);
    expect(worker!.deploy?.replicas).toBe(2);
    expect(worker!.ports).toBeUndefined();
    for (const s of [bot!, worker!]) {
      expect(s.env_file).toBe('.env');
      expect(s.depends_on?.redis?.condition).toBe('service_healthy');
      expect(s.environment?.REDIS_URL).toBe('redis://redis:6379');
      expect(s.healthcheck?.test.join(' ')).toMatch(/\/healthz/);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The compiled dist/ starts with the image's and compose's exact command lines.

describe('the built dist/', () => {
  let app: string;
  let sim: QlikSimulator;
  let fake: SlackFake;
  const prefix = uniquePrefix('docker');
  const redis = testRedis();
  let buildOutput = '';
  let buildCode = 0;

  beforeAll(async () => {
    // Lay out what the image has in /app: package.json, node_modules, dist/.
    app = mkdtempSync(join(tmpdir(), 'qab-image-'));
    cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');
    try {
      const { stdout, stderr } = await promisify(execFile)(
        'npm',
        ['run', 'build', '--', '--outDir', join(app, 'dist')],
        {
          cwd: ROOT,
          env: { ...process.env, CI: 'true' },
        },
      );
      buildOutput = stdout + stderr;
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      buildCode = e.code ?? 1;
      buildOutput = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    }
    sim = await startQlikSimulator();
    fake = await startSlackFake({
      botToken: 'xoxb-docker-test',
      users: [{ id: 'U0APPROVER', name: 'approver', email: 'alice@corp.example' }],
      channels: [{ id: 'C0APPROVALS', name: 'approvals' }],
    });
  }, 120_000);

  afterAll(async () => {
    await sim?.close();
    await fake?.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
    if (app) rmSync(app, { recursive: true, force: true });
  });

  function env(port: number): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      SLACK_BOT_TOKEN: 'xoxb-docker-test',
      SLACK_SIGNING_SECRET: 'docker-test-signing-secret',
      SLACK_API_URL: fake.apiUrl,
      QLIK_TENANT_URL: sim.url,
      QLIK_API_KEY: sim.apiKey,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      APPROVAL_CHANNEL: 'C0APPROVALS',
      APPROVERS: 'U0APPROVER',
      LOG_LEVEL: 'info',
    };
  }

  /**
   * Starts argv (with `node` as this Node 24) in the image layout, waits until /healthz answers 200 (every role
   * serves it: the image's HEALTHCHECK asks it) and the start-up log says it started, then sends SIGTERM.
   */
  async function startAndStop(
    argv: string[],
    startLog: RegExp,
  ): Promise<{ code: number | null; output: string }> {
    expect(argv[0]).toBe('node');
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, argv.slice(1), {
      cwd: app,
      env: env(port),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let started: () => void = () => {};
    const startedP = new Promise<void>((r) => {
      started = r;
    });
    const onData = (b: Buffer) => {
      output += b.toString();
      if (startLog.test(output)) started();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let alive = true;
    void exited.then(() => {
      alive = false;
    });
    const healthy = (async () => {
      while (alive) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`);
          if (res.status === 200) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await Promise.race([Promise.all([healthy, startedP]), exited]);
    expect(alive, `${argv.join(' ')} exited early:\n${output}`).toBe(true);
    child.kill('SIGTERM');
    const code = await exited;
    return { code, output };
  }

  it('compiles with npm run build', () => {
    expect(buildCode, buildOutput).toBe(0);
    expect(existsSync(join(app, 'dist', 'main.js'))).toBe(true);
  });

  it('leaves the sandbox (simulators, Slack fake, terminal) out of dist/', () => {
    expect(existsSync(join(app, 'dist', 'main.js')), buildOutput).toBe(true);
    expect(globSync('**/*', { cwd: join(app, 'dist') }).filter((f) => /sandbox/.test(f))).toEqual([]);
    // The tsconfig exclude alone would not do it: tsc still compiles a file that production code imports.
    expect(globSync('**/*.js', { cwd: join(app, 'dist') }).length).toBeGreaterThan(20);
  });

  it('carries every Lua script of src/ beside its compiled store', () => {
    const scripts = globSync('**/*.lua', { cwd: join(ROOT, 'src') }).filter((f) => !f.startsWith('sandbox/'));
    expect(scripts.length).toBeGreaterThanOrEqual(9);
    for (const f of scripts) {
      expect(existsSync(join(app, 'dist', f)), `dist/${f}`).toBe(true);
      expect(readFileSync(join(app, 'dist', f), 'utf8')).toBe(readFileSync(join(ROOT, 'src', f), 'utf8'));
    }
  });

  it('the compiled stores run their Lua scripts from dist/', async () => {
    const dist = (f: string) => pathToFileURL(join(app, 'dist', f)).href;
    const check = join(app, 'check-stores.mjs');
    writeFileSync(
      check,
      `import { Redis } from 'ioredis';
import { RequestStore } from '${dist('store/request-store.js')}';
import { PrincipalLock } from '${dist('store/principal-lock.js')}';
import { SharedRateLimiter } from '${dist('qlik/shared-rate-limiter.js')}';
const [url, prefix] = process.argv.slice(2);
const redis = new Redis(url);
const store = new RequestStore(redis, prefix);
const filed = await store.create({
  action: 'grant', target: { kind: 'user', id: 'q-dist', name: 'Dist' }, entitlement: { id: 'r1', name: 'Steward' },
  requester: { front: 'slack', id: 'U0DIST' }, expiresAt: Date.now() + 60000, approvalsRequired: 1,
});
const approval = await store.addApproval(filed.request.id, { front: 'slack', id: 'U0APPROVER' });
const applying = await store.transition(filed.request.id, 'approved', 'applying');
const lock = new PrincipalLock(redis, prefix);
const locked = await lock.withLock('user:q-dist', async () => 'held');
await lock.close();
const limiter = new SharedRateLimiter({ redis, prefix, tenantUrl: 'https://dist.example', apiKey: 'k' });
await limiter.acquire('read');
const bucket = await redis.exists(limiter.key('read'));
limiter.close();
console.log(JSON.stringify({ state: (await store.get(filed.request.id)).state, approval: approval.outcome,
  applying: applying.ok, locked, bucket }));
await redis.quit();
`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, [check, REDIS_URL, prefix], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({
      state: 'applying',
      approval: 'approved',
      applying: true,
      locked: 'held',
      bucket: 1,
    });
  });

  // The machine's own node (outside node_modules/.bin, which npm and npx put first on PATH), as a user types `node`.
  const systemNode = findOnPath(
    'node',
    (process.env.PATH ?? '')
      .split(':')
      .filter((d) => !d.includes('node_modules'))
      .join(':'),
  );
  const systemNodeVersion = systemNode
    ? execFileSync(systemNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()
    : '';
  const tooOld = systemNodeVersion !== '' && Number(systemNodeVersion.split('.')[0]) < MIN_NODE.major;
  it.skipIf(!tooOld)(
    `node dist/main.js all on the machine's older Node (${systemNodeVersion || 'none'}) says which Node it needs`,
    async () => {
      for (const entry of ['dist/main.js', 'dist/audit-cli.js']) {
        const r = spawnSync(systemNode!, [entry, 'all'], {
          cwd: app,
          env: env(await freePort()),
          encoding: 'utf8',
        });
        expect(r.status, `${entry}: ${r.stderr}`).toBe(1);
        expect(r.stderr.trim()).toBe(
          `qlik-access-bot needs Node ${MIN_NODE.major}.${MIN_NODE.minor} or newer (Node 24 LTS); this is Node ` +
            `${systemNodeVersion} (${systemNode}). Run it with Node 24: the Docker image, \`npm start\` (npm ` +
            "scripts use the project's own Node 24 from node_modules), or `node_modules/.bin/node dist/main.js all`.",
        );
        expect(r.stderr).not.toMatch(/undici|TypeError|reading 'bind'/);
        expect(r.stdout).toBe('');
      }
    },
  );

  // The README's compose export, run here as the image would run it: what follows `exec -T bot` in /app.
  const COMPOSE_EXPORT =
    'docker compose exec -T bot node dist/audit-cli.js --since 30d --format csv > audit.csv';
  it(`the audit export is part of the build: ${COMPOSE_EXPORT}`, async () => {
    expect(existsSync(join(app, 'dist', 'audit-cli.js')), buildOutput).toBe(true);
    await new AuditLog(redis, prefix).append({
      time: Date.now(),
      requestId: 'R-DIST',
      actor: 'U0APPROVER',
      action: 'requested',
      role: 'Steward',
      outcome: 'pending',
    });
    const argv = /exec -T bot (.+) > audit\.csv$/.exec(COMPOSE_EXPORT)![1]!.split(' ');
    expect(argv[0]).toBe('node');
    // The bot service's environment: REDIS_URL from compose, QUEUE_PREFIX from .env (here the test's prefix).
    const { stdout, stderr } = await promisify(execFile)(process.execPath, argv.slice(1), {
      cwd: app,
      env: { PATH: process.env.PATH, REDIS_URL, QUEUE_PREFIX: prefix },
    });
    expect(stdout.split('\n')[0], stderr).toBe(
      'time,requestId,actor,action,target,role,before,after,outcome,detail,eventId,prev,hash',
    );
    expect(stdout).toContain('R-DIST');
  });

  const STARTED = /"msg":"qlik-access-bot started"/;
  it.each([
    ['bot', () => compose.services.bot!.command as string[]],
    ['worker', () => compose.services.worker!.command as string[]],
    [
      'all (the image CMD)',
      () => {
        const cmd = parseDockerfile(read('Dockerfile'))
          .at(-1)!
          .lines.filter((l) => l.startsWith('CMD '))
          .at(-1)!;
        return jsonArray(cmd, 'CMD');
      },
    ],
  ])('%s starts and exits 0 on SIGTERM', async (_name, argv) => {
    expect(existsSync(join(app, 'dist', 'main.js')), buildOutput).toBe(true);
    const { code, output } = await startAndStop(argv(), STARTED);
    expect(code, output).toBe(0);
    // Nothing secret reaches the logs.
    expect(output).not.toContain('docker-test-signing-secret');
    expect(output).not.toContain(sim.apiKey);
    expect(output).not.toContain('xoxb-docker-test');
  });
});
