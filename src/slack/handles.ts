// Owns finding a Slack user by the name typed after `@` (users.list, scope users:read). Slack turns a typed
// @name into a mention only for members it lists, so a deactivated account's name arrives as plain text; this
// lookup includes deactivated accounts, so the app can say that one is deactivated instead of "who is that?".
// Used only on that path (an @name Slack did not link), so paging through the workspace is rare.
import type { WebClient } from '@slack/web-api';

/** Pages read before giving up, at 200 members each: enough for 20,000 members. */
const MAX_PAGES = 100;

interface Member {
  id?: string;
  name?: string;
  profile?: { display_name?: string; display_name_normalized?: string };
}

/**
 * The id of the member whose username is `handle` (case-insensitive), or else of the one member whose display
 * name is; undefined when nobody (or more than one display name) matches.
 */
export async function findUserIdByHandle(client: WebClient, handle: string): Promise<string | undefined> {
  const wanted = handle.trim().toLowerCase();
  if (wanted === '') return undefined;
  const byDisplayName: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.users.list({ limit: 200, ...(cursor ? { cursor } : {}) });
    for (const m of (res.members ?? []) as Member[]) {
      if (!m.id) continue;
      if (m.name?.toLowerCase() === wanted) return m.id;
      const display = m.profile?.display_name_normalized || m.profile?.display_name;
      if (display?.toLowerCase() === wanted) byDisplayName.push(m.id);
    }
    cursor = res.response_metadata?.next_cursor || undefined;
    if (!cursor) break;
  }
  return byDisplayName.length === 1 ? byDisplayName[0] : undefined;
}
