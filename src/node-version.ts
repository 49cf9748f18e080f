// Owns the Node version check of the entry points (src/main.ts, src/audit-cli.ts). Importing this module runs the
// check: on a Node older than MIN_NODE it prints one clear line and exits 1, before the entry loads anything else.
// Without it an older Node fails inside a dependency (undici: "Cannot read properties of undefined (reading
// 'bind')"), or — where `import.meta.main` does not exist — does nothing and exits 0. It imports nothing, so it
// runs on any Node; package.json `engines`, the Dockerfile's base image and the README name the same version.

/** The oldest Node the bot runs on: 24.2 is the first Node 24 with `import.meta.main`, which the entries use. */
export const MIN_NODE = { major: 24, minor: 2 } as const;

/** Why this Node cannot run the bot, in words, or undefined when it can. */
function nodeVersionProblem(version: string = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map((n) => Number.parseInt(n, 10) || 0);
  if (major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor)) return undefined;
  return (
    `qlik-access-bot needs Node ${MIN_NODE.major}.${MIN_NODE.minor} or newer (Node ${MIN_NODE.major} LTS); ` +
    `this is Node ${version} (${process.execPath}). Run it with Node ${MIN_NODE.major}: the Docker image, ` +
    `\`npm start\` (npm scripts use the project's own Node ${MIN_NODE.major} from node_modules), or ` +
    `\`node_modules/.bin/node dist/main.js all\`.`
  );
}

const problem = nodeVersionProblem();
if (problem !== undefined) {
  console.error(problem);
  process.exit(1);
}
