// Owns one side of the who-has client comparison, run in a fresh child process so each side has its own event loop
// and its own peak RSS: list every direct holder of a role and then every group holding it (limit 100), either with
// our QlikClient as the bot's who-has does ('ours': usersWithRoleAll, which walks both ends of the list at once) or
// with Qlik's official @qlik/api client the way its documentation shows ('theirs': getUsers + next(), one cursor).
// Each reports the wall time of the listing alone (imports excluded).
import { readFileSync } from 'node:fs';

export interface ListingRequest {
  mode: 'ours' | 'theirs';
  tenantUrl: string;
  apiKey: string;
  role: string;
}

export interface ListingResult {
  mode: 'ours' | 'theirs';
  users: number;
  groups: number;
  ms: number;
  /** VmHWM of this process after the listing, MB. */
  peakMb: number;
}

function peakMb(): number {
  const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Math.round((Number(kb) / 1024) * 10) / 10;
}

async function ours(req: ListingRequest): Promise<{ users: number; groups: number }> {
  const { QlikClient } = await import('../src/qlik/index.ts');
  const client = new QlikClient({ tenantUrl: req.tenantUrl, apiKey: req.apiKey });
  try {
    let users = 0;
    let groups = 0;
    // What the bot's who-has CSV does: both ends of the holder list at once (usersWithRoleAll).
    for await (const _ of client.usersWithRoleAll(req.role)) users++;
    for await (const _ of client.groupsWithRole(req.role)) groups++;
    return { users, groups };
  } finally {
    await client.close();
  }
}

async function theirs(req: ListingRequest): Promise<{ users: number; groups: number }> {
  const { getUsers } = await import('@qlik/api/users');
  const { getGroups } = await import('@qlik/api/groups');
  // An explicit http:// scheme: @qlik/api assumes https for a bare host name.
  const options = {
    hostConfig: { authType: 'apikey' as const, host: req.tenantUrl, apiKey: req.apiKey },
    noCache: true,
  };
  // The value is a constant role name of the benchmark, so a plain quoted filter is safe here.
  const filter = `assignedRoles.name eq "${req.role}"`;
  let users = 0;
  let page = await getUsers({ filter, limit: 100 }, options);
  for (;;) {
    users += page.data.data?.length ?? 0;
    if (!page.next) break;
    page = await page.next(options);
  }
  let groups = 0;
  let gpage = await getGroups({ filter, limit: 100 }, options);
  for (;;) {
    groups += gpage.data.data?.length ?? 0;
    if (!gpage.next) break;
    gpage = await gpage.next(options);
  }
  return { users, groups };
}

export async function runListing(req: ListingRequest): Promise<ListingResult> {
  // Load the client code before the clock starts: both sides are timed on the listing alone.
  if (req.mode === 'ours') await import('../src/qlik/index.ts');
  else await Promise.all([import('@qlik/api/users'), import('@qlik/api/groups')]);
  const t0 = performance.now();
  const counts = req.mode === 'ours' ? await ours(req) : await theirs(req);
  const ms = performance.now() - t0;
  return { mode: req.mode, ...counts, ms: Math.round(ms * 10) / 10, peakMb: peakMb() };
}

if (import.meta.main && process.send) {
  process.once('message', (req: ListingRequest) => {
    void runListing(req).then(
      (result) => process.send!({ ok: true, result }, () => process.exit(0)),
      (err: unknown) =>
        process.send!({ ok: false, error: err instanceof Error ? err.stack : String(err) }, () =>
          process.exit(1),
        ),
    );
  });
  process.send({ ready: true });
}
