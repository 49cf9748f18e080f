// Registers every Bolt listener in one place: the `/qlik` command and the buttons. Handlers are named functions
// in their own modules; this file only wires them to Bolt.
import type { App } from '@slack/bolt';
import { type ActionDeps, BUTTON_ACTIONS, handleButton } from './actions.ts';
import { type CommandDeps, handleQlikCommand } from './command.ts';

export type ListenerDeps = CommandDeps & ActionDeps;

export const SLASH_COMMAND = '/qlik';

export function registerListeners(app: App, deps: ListenerDeps, command = SLASH_COMMAND): void {
  app.command(command, async ({ body, ack }) => {
    await handleQlikCommand({ body, ack: (r) => ack(r) }, deps);
  });
  const buttons = new RegExp(`^(${BUTTON_ACTIONS.join('|')})$`);
  app.action({ type: 'block_actions', action_id: buttons }, async ({ body, ack }) => {
    await handleButton({ body, ack: () => ack() }, deps);
  });
}

export { InFlight } from './inflight.ts';
