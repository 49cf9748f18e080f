// Entry point: `node src/main.ts all|bot|worker` (`node dist/main.js …` in the image). It checks the Node version
// first and only then loads the bot (src/start.ts) with a dynamic import: ESM static imports are all loaded before a
// module's own code runs, so a check written here after `import … from './start.ts'` would come too late — an older
// Node fails inside undici first. Keep this module's only static import the check (types are erased).
import './node-version.ts';
import type { Config } from './config.ts';
import type { Policy } from './domain/policy.ts';
import type { Logger } from './observability/logger.ts';
import type { Role, Running, StartOptions } from './start.ts';

export type { Role, Running, StartOptions };

/** Starts the given role (see src/start.ts); here so that callers keep importing it from the entry. */
export async function start(
  role: Role,
  config: Config,
  policy: Policy,
  logger: Logger,
  opts: StartOptions = {},
): Promise<Running> {
  return (await import('./start.ts')).start(role, config, policy, logger, opts);
}

if (import.meta.main) await (await import('./start.ts')).main(process.argv.slice(2));
