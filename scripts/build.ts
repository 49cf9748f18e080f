// `npm run build`: compiles src/ to dist/ with tsc (tsconfig.build.json, which leaves the sandbox out) and copies
// the files tsc does not, the stores' Lua scripts (src/**/lua/*.lua), to the same place under dist/: the compiled
// stores read them beside themselves. Arguments go to tsc as given, so `npm run build -- --outDir /tmp/x` builds
// elsewhere (the deploy test does) and the scripts follow.
import { spawnSync } from 'node:child_process';
import { cpSync, globSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const args = process.argv.slice(2);

const tsc = spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), ...args],
  { cwd: ROOT, stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const i = args.findIndex((a) => a === '--outDir' || a.startsWith('--outDir='));
const outDir =
  i < 0 ? join(ROOT, 'dist') : resolve(ROOT, args[i]!.includes('=') ? args[i]!.split('=')[1]! : args[i + 1]!);
// The sandbox is not part of the build (tsconfig.build.json excludes it), so none of its files are copied either.
for (const file of globSync('**/lua/*.lua', { cwd: SRC }).filter((f) => !f.startsWith('sandbox/'))) {
  mkdirSync(dirname(join(outDir, file)), { recursive: true });
  cpSync(join(SRC, file), join(outDir, file));
}
