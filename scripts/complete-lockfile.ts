// Completes package-lock.json with the optional, platform-specific packages (biome's CLI binaries, msgpackr's
// native addon) that a partial registry mirror may not carry. `npm install` leaves them out of the lock when it
// can't read their metadata, and `npm ci` then refuses the lock as out of sync. Each entry added here names the
// package's os/cpu, so npm skips it on every other platform and fetches it by name on its own.
// Run after changing dependencies on such a mirror: `node scripts/complete-lockfile.ts` (through npm: `npm run lock:complete`).
import { readFileSync, writeFileSync } from 'node:fs';

type Entry = { version?: string; dev?: boolean; optionalDependencies?: Record<string, string> } & Record<
  string,
  unknown
>;

const path = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(path, 'utf8')) as { packages: Record<string, Entry> };
const PLATFORM = /(android|darwin|linux|win32|freebsd)-(arm64|x64|arm|ia32)(-musl)?$/;
const added: string[] = [];

for (const meta of Object.values(lock.packages)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    const m = PLATFORM.exec(dep);
    if (lock.packages[key] || !m) continue;
    lock.packages[key] = {
      ...(meta.dev ? { dev: true } : {}),
      cpu: [m[2]!],
      ...(m[3] ? { libc: ['musl'] } : {}),
      optional: true,
      os: [m[1]!],
      version: range.replace(/^[\^~]/, ''),
    };
    added.push(key);
  }
}

const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  ),
);
writeFileSync(path, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
console.log(
  added.length ? `added ${added.length} entries:\n  ${added.join('\n  ')}` : 'lock already complete',
);
