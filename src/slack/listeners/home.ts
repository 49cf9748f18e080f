// Owns the app_home_opened event: a person opening the bot's Home tab gets their Home published at once, and is
// remembered so later changes to their requests refresh it (src/slack/home.ts). Opening the Messages tab sends the
// same event with `tab: 'messages'`; it publishes nothing.
import { z } from 'zod';
import type { Logger } from '../../observability/logger.ts';
import type { HomeTab } from '../home.ts';

export interface HomeListenerDeps {
  home?: Pick<HomeTab, 'opened'>;
  logger: Logger;
}

/** The fields of app_home_opened the bot uses (the rest, the view included, is Slack's copy of what we published). */
const homeOpenedEvent = z.object({
  type: z.literal('app_home_opened'),
  user: z.string().min(1),
  tab: z.string().optional(),
});

/** The Bolt listener for app_home_opened (Bolt acks events itself). */
export async function handleHomeOpened(args: { event: unknown }, deps: HomeListenerDeps): Promise<void> {
  const parsed = homeOpenedEvent.safeParse(args.event);
  if (!parsed.success) {
    deps.logger.warn(
      { issues: parsed.error.issues.map((i) => i.path.join('.')) },
      'malformed app_home_opened',
    );
    return;
  }
  if (parsed.data.tab !== undefined && parsed.data.tab !== 'home') return;
  if (!deps.home) return;
  try {
    await deps.home.opened(parsed.data.user);
  } catch (err) {
    // Nobody to tell: the person sees Slack's previous copy of their Home, refreshed at the next change or opening.
    deps.logger.warn(
      { user: parsed.data.user, err: { message: err instanceof Error ? err.message : String(err) } },
      'could not publish the App Home',
    );
  }
}
