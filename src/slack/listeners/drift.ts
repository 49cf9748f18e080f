// Owns `/qlik drift [<role>]` on Slack and its Previous / Next buttons: the drift check's open findings, or one
// page of a role's holders that no request of the bot granted, with the full list as a CSV in the asker's DM when
// it is longer than a page. A page press carries only the query and the page number; everything is checked again
// (the presser must be an approver of the role now) and the page replaces the one the button was on.
import { z } from 'zod';
import type { DriftQuery } from '../../app/queries/drift.ts';
import { commands } from '../../observability/metrics.ts';
import type { ParsedCommand } from '../command-parser.ts';
import type { SlackMessage } from '../messenger.ts';
import { slackPerson } from '../people.ts';
import { DRIFT_PAGE_SIZE, driftFindingsMessage, unmanagedHoldersMessage } from '../views/drift.ts';
import { errorMessage, tenantLabel } from '../views.ts';
import { driftRefusalText } from '../words.ts';
import type { ActionDeps } from './actions.ts';
import { answerBeforeFile, type CommandDeps, instanceInput, type SlashCommandPayload } from './command.ts';

/** Runs `/qlik drift [<role>]` and returns the messages to send back, in order. */
export async function answerDrift(
  cmd: Extract<ParsedCommand, { kind: 'drift' }>,
  p: SlashCommandPayload,
  deps: CommandDeps,
  setOutcome: (o: string) => void,
): Promise<SlackMessage[]> {
  const asker = slackPerson(p.user_id);
  if (cmd.role === undefined) {
    const res = await deps.app.driftFindings(asker, instanceInput(cmd));
    if (!res.ok) {
      setOutcome('refused');
      return [errorMessage(driftRefusalText(res))];
    }
    return [driftFindingsMessage(res.findings, deps.tenants)];
  }
  const query: DriftQuery = {
    role: cmd.role,
    ...(cmd.space === undefined ? {} : { resource: { kind: 'space', name: cmd.space } }),
    ...instanceInput(cmd),
  };
  const res = await deps.app.unmanagedHolders(asker, query);
  if (!res.ok) {
    setOutcome('refused');
    return [errorMessage(driftRefusalText(res, cmd.role))];
  }
  const csvNeeded = res.unmanaged.length > DRIFT_PAGE_SIZE;
  const tenant = tenantLabel(deps.tenants, cmd.tenant);
  const first = unmanagedHoldersMessage(res, {
    page: 0,
    query,
    csvAttached: csvNeeded,
    ...(tenant === undefined ? {} : { tenant }),
  });
  if (!csvNeeded) return [first];
  await answerBeforeFile(deps, p.response_url, first, 'the first page of drift');
  const csv = await deps.app.sendUnmanagedCsv(asker, res);
  if (!csv.ok) {
    setOutcome('refused');
    return [errorMessage(`I couldn't attach the full list: ${driftRefusalText(csv)}`)];
  }
  return [];
}

/** A page button's value (views/drift.ts driftPageValue); anything else is refused as stale. */
const pageValue = z.strictObject({
  r: z.string().min(1).max(200),
  p: z.number().int().min(0).max(100_000),
  s: z.string().min(1).max(256).optional(),
  t: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/)
    .optional(),
});

/** Previous / Next on a page of `/qlik drift <role>`. */
export async function pressDriftPage(
  p: { user: { id: string }; actions: { value?: string | undefined }[]; response_url?: string | undefined },
  deps: ActionDeps,
): Promise<void> {
  let value: z.infer<typeof pageValue> | undefined;
  try {
    const raw = p.actions[0]?.value;
    const parsed = pageValue.safeParse(raw === undefined ? undefined : JSON.parse(raw));
    if (parsed.success) value = parsed.data;
  } catch {
    value = undefined;
  }
  let msg: SlackMessage;
  let replace = false;
  if (value === undefined) {
    msg = errorMessage("That button doesn't do anything any more.");
    commands.inc({ command: 'button:drift_page', outcome: 'refused' });
  } else {
    const query: DriftQuery = {
      role: value.r,
      ...(value.s === undefined ? {} : { resource: { kind: 'space', name: value.s } }),
      ...(value.t === undefined ? {} : { instance: value.t }),
    };
    const res = await deps.app.unmanagedHolders(slackPerson(p.user.id), query);
    commands.inc({ command: 'button:drift_page', outcome: res.ok ? 'ok' : 'refused' });
    if (res.ok) {
      replace = true;
      msg = unmanagedHoldersMessage(res, {
        page: value.p,
        query,
        csvAttached: res.unmanaged.length > DRIFT_PAGE_SIZE,
        ...(value.t === undefined ? {} : { tenant: value.t }),
      });
    } else msg = errorMessage(driftRefusalText(res, value.r));
  }
  if (!p.response_url) return;
  try {
    await deps.respond(p.response_url, msg, { replaceOriginal: replace });
  } catch (err) {
    deps.logger.warn(
      { err: { message: err instanceof Error ? err.message : String(err) } },
      'could not answer a drift page press',
    );
  }
}
