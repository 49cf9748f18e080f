// Owns running the real bot for the sandbox: `node src/main.ts all` as a child process — exactly what production
// runs — with its environment pointed at the Qlik simulator, the Slack fake and Redis, its JSON logs written to a
// file, and a clean stop (SIGTERM, then SIGKILL after a deadline).
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..', '..');

export interface BotProcessOptions {
  /** Role argument of src/main.ts; default 'all' (bot + worker in one process). */
  role?: 'all' | 'bot' | 'worker';
  /** The entry file; default src/main.ts. */
  entry?: string;
  /** Environment of the child (merged over a minimal base: PATH, HOME, TZ). */
  env: Record<string, string>;
  port: number;
  /** Where the child's stdout and stderr (pino JSON) go. */
  logFile: string;
  /** How long to wait for /readyz; default 30 s. */
  readyTimeoutMs?: number;
}

export interface BotProcess {
  child: ChildProcess;
  url: string;
  logFile: string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(deadlineMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The last lines of the log file, for telling the user why the bot stopped. */
export function logTail(logFile: string, lines = 15): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts the bot and resolves once GET /readyz answers 200 (Redis reachable and the Qlik key verified). */
export async function startBotProcess(opts: BotProcessOptions): Promise<BotProcess> {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const base: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TZ', 'LANG', 'TMPDIR']) {
    const v = process.env[k];
    if (v !== undefined) base[k] = v;
  }
  const child = spawn(process.execPath, [opts.entry ?? 'src/main.ts', opts.role ?? 'all'], {
    cwd: ROOT,
    env: { ...base, ...opts.env, PORT: String(opts.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      // Let the pipes flush their last lines into the log before anyone reads it.
      setImmediate(() => log.end(() => resolve({ code, signal })));
    });
  });
  const url = `http://127.0.0.1:${opts.port}`;

  const stop = async (deadlineMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    }
    return exited;
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  let lastProblem = 'no answer yet';
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  while (Date.now() < deadline && !dead) {
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.status === 200) return { child, url, logFile: opts.logFile, exited, stop };
      lastProblem = `/readyz answered ${res.status}: ${body.slice(0, 300)}`;
    } catch (err) {
      lastProblem = err instanceof Error ? err.message : String(err);
    }
    // The child has no readiness signal but its HTTP port; ask again shortly (bounded by the deadline above).
    await Promise.race([exited, new Promise((r) => setTimeout(r, 150))]);
  }
  const outcome = dead ? await exited : await stop();
  throw new Error(
    `The bot did not become ready (${dead ? `it exited with ${outcome.code ?? outcome.signal}` : lastProblem}).\n` +
      `Last lines of ${opts.logFile}:\n${logTail(opts.logFile)}`,
  );
}
