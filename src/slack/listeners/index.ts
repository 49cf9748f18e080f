// Registers every Bolt listener in one place: the `/qlik` and `/mode` commands, the buttons, the request form (its
// shortcut, selects, suggestions and submission), the App Home's opening, and a catch-all for everything
// else Slack can send (another slash command, an old button, a view, a shortcut, a select's options), so every
// signed request is acked at once and, where there is someone to tell, answered in words instead of Slack's
// "didn't respond" error. Handlers are named functions in their own modules; this file only wires them to Bolt.
import type { App } from '@slack/bolt';
import type { HomeTab } from '../home.ts';
import { type ActionDeps, handleButton } from './actions.ts';
import { type CommandDeps, handleOtherCommand, handleQlikCommand } from './command.ts';
import {
  handleDenyReasonPress,
  handleDenyReasonSubmission,
  isDenyReasonPress,
  isDenyReasonSubmission,
} from './deny-reason.ts';
import {
  type FormViews,
  handleFormAction,
  handleFormOptions,
  handleFormShortcut,
  handleFormSubmission,
  isFormAction,
  isFormShortcut,
  isFormSubmission,
} from './form.ts';
import { handleHomeOpened } from './home.ts';
import { handleModeCommand } from './mode-command.ts';
import { handleShortcut, handleViewClosed, handleViewSubmission } from './other.ts';

export type ListenerDeps = CommandDeps & ActionDeps & { home?: Pick<HomeTab, 'opened' | 'pressed'> };

const SLASH_COMMAND = '/qlik';
/** The second slash command: Mode's groups and collections (answers how to configure Mode when it is off). */
const MODE_COMMAND = '/mode';

const ANY = /^[\s\S]*$/;

/** The request form's views.* calls through Bolt's client (the bot token). */
function boltViews(app: App): FormViews {
  return {
    async open(triggerId, view) {
      await app.client.views.open({ trigger_id: triggerId, view });
    },
    async update(viewId, view, hash) {
      await app.client.views.update({ view_id: viewId, view, ...(hash === undefined ? {} : { hash }) });
    },
  };
}

export function registerListeners(app: App, given: ListenerDeps, command = SLASH_COMMAND): void {
  const deps: ListenerDeps = { ...given, views: given.views ?? boltViews(app) };
  // One listener for every command: Bolt runs each matching listener, and a command may be acked only once.
  app.command(ANY, async ({ body, ack }) => {
    if (body.command === command) await handleQlikCommand({ body, ack: (r) => ack(r) }, deps);
    else if (body.command === MODE_COMMAND) await handleModeCommand({ body, ack: (r) => ack(r) }, deps);
    else await handleOtherCommand({ body, ack: (r) => ack(r) }, command);
  });
  // Every block action, known or not: handleButton answers an unknown action_id in words.
  app.action({ type: 'block_actions', action_id: ANY }, async ({ body, ack }) => {
    // The request form's own selects and App Home's Request access button open or re-render the form.
    if (isFormAction(body)) await handleFormAction({ body, ack: () => ack() }, deps);
    else if (isDenyReasonPress(body)) await handleDenyReasonPress({ body, ack: () => ack() }, deps);
    else await handleButton({ body, ack: () => ack() }, deps);
  });
  // The Home tab: published when opened (the Messages tab publishes nothing).
  app.event('app_home_opened', async ({ event }) => {
    await handleHomeOpened({ event }, deps);
  });
  app.view({ type: 'view_submission', callback_id: ANY }, async ({ body, ack }) => {
    if (isFormSubmission(body)) await handleFormSubmission({ body, ack: (r) => ack(r) }, deps);
    else if (isDenyReasonSubmission(body))
      await handleDenyReasonSubmission({ body, ack: (r) => ack(r) }, deps);
    else await handleViewSubmission({ ack: (r) => ack(r) });
  });
  app.view({ type: 'view_closed', callback_id: ANY }, async ({ ack }) => {
    await handleViewClosed({ ack: () => ack() });
  });
  app.shortcut(ANY, async ({ body, ack }) => {
    if (isFormShortcut(body)) await handleFormShortcut({ body, ack: () => ack() }, deps);
    else await handleShortcut({ body, ack: () => ack() }, deps);
  });
  // Select menus' suggestions: the request form's; any other menu gets an empty list.
  app.options(ANY, async ({ body, ack }) => {
    await handleFormOptions({ body, ack: (r) => ack(r as Parameters<typeof ack>[0]) }, deps);
  });
}

export { InFlight } from './inflight.ts';
