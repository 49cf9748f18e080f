// Owns the `/qlik` slash command: parse Slack's payload at the edge, ACK AT ONCE (help is answered in the ack
// itself, everything else with an empty ack), then do the Qlik/Redis work and answer through response_url.
// Nothing escapes unanswered: every failure ends as a message to the person who typed the command.
import { z } from 'zod';
import type { AccessRequestApp } from '../../app/access-requests.ts';
import type { WhoRef } from '../../domain/request.ts';
import type { Logger } from '../../observability/logger.ts';
import { commands } from '../../observability/metrics.ts';
import { type ParsedCommand, type ParsedWho, parseCommand, USAGE } from '../command-parser.ts';
import type { ClaimCommand } from '../deliveries.ts';
import type { SlackMessage } from '../messenger.ts';
import { escapeMrkdwn, truncate } from '../mrkdwn.ts';
import { slackPerson } from '../people.ts';
import { openReviewText } from '../review-words.ts';
import { message, section } from '../views/blocks.ts';
import {
  auditMessage,
  autoApprovedMessage,
  duplicateRequestMessage,
  errorMessage,
  helpMessage,
  inviteOfferMessage,
  membersMessage,
  requestFiledMessage,
  requestsMessage,
  rolesMessage,
  spacesMessage,
  type TenantLabels,
  tenantLabel,
  usageMessage,
  whoHasMessage,
  whoisMessage,
} from '../views.ts';
import {
  auditRefusalText,
  cancelOutcomeText,
  failureText,
  fileRefusalText,
  instanceRefusalText,
  inviteRefusalText,
  postProblemText,
  roleQueryRefusalText,
  whoisRefusalText,
} from '../words.ts';
import { answerDrift } from './drift.ts';
import { type FormViews, openRequestForm } from './form.ts';
import type { InFlight } from './inflight.ts';

export interface CommandDeps {
  app: AccessRequestApp;
  /** Answers through a response_url (ephemeral). */
  respond: (responseUrl: string, msg: SlackMessage) => Promise<void>;
  logger: Logger;
  inflight: InFlight;
  /**
   * The Slack user id of a username, deactivated accounts included (users.list); undefined when nobody has it.
   * Without it, an `@name` Slack did not link is answered with how to name the person instead.
   */
  findUserByHandle?: (handle: string) => Promise<string | undefined>;
  /** The configured Qlik tenants: with several, receipts and answers name the tenant. */
  tenants?: TenantLabels;
  /** Claims a command's trigger_id once it is acked; false for a command Slack delivered again (src/slack/deliveries.ts). */
  claimCommand?: ClaimCommand;
  /** views.open / views.update for the request form (`/qlik` alone); without it, `/qlik` alone answers the help. */
  views?: FormViews;
  /** A DM to a user: the request form's receipts go there (a modal has no response_url). */
  dm?: (userId: string, msg: SlackMessage) => Promise<unknown>;
}

/** The fields of Slack's slash-command payload the bot relies on. */
export const slashCommandPayload = z.object({
  user_id: z.string().regex(/^[UW][A-Z0-9]+$/),
  channel_id: z.string().min(1),
  text: z.string().default(''),
  response_url: z.url(),
  command: z.string().optional(),
  trigger_id: z.string().optional(),
});
export type SlashCommandPayload = z.infer<typeof slashCommandPayload>;

export type Ack = (response?: {
  response_type: 'ephemeral';
  text: string;
  blocks: SlackMessage['blocks'];
}) => Promise<void>;

/** A success notice (plain sentence, escaped) in the same shape as every other view. */
export function noticeMessage(text: string): SlackMessage {
  return message(text, [section(escapeMrkdwn(text))]);
}

/** The Bolt listener for `/qlik`. Acks first, then works; the returned promise settles when the answer is sent. */
export async function handleQlikCommand(args: { body: unknown; ack: Ack }, deps: CommandDeps): Promise<void> {
  const parsed = slashCommandPayload.safeParse(args.body);
  if (!parsed.success) {
    deps.logger.warn({ issues: parsed.error.issues.map((i) => i.path.join('.')) }, 'malformed slash command');
    await args.ack(
      ephemeral(errorMessage("I couldn't read that command's payload from Slack. Please try again.")),
    );
    return;
  }
  const payload = parsed.data;
  const cmd = parseCommand(payload.text);
  if (cmd.kind === 'help' || cmd.kind === 'invalid') {
    // Pure answers go back in the ack itself: no I/O, nothing to wait for.
    const msg = cmd.kind === 'help' ? helpMessage() : usageMessage(cmd.problem, cmd.usage);
    commands.inc({ command: cmd.kind, outcome: cmd.kind === 'help' ? 'ok' : 'invalid' });
    await args.ack(ephemeral(msg));
    return;
  }
  if (cmd.kind === 'form') {
    await args.ack();
    await openFormFromCommand(payload, deps);
    return;
  }
  await args.ack();
  if (!(await firstDelivery(payload, deps))) return;
  await deps.inflight.run(() => answer(cmd, payload, deps));
}

/**
 * `/qlik` alone or `/qlik grant` alone: the request form, opened with the command's trigger_id at once (it lasts
 * 3 s, so nothing slow comes first). When Slack won't open it (no trigger_id, expired, refused), the help goes back
 * through response_url instead, saying why, so the person still learns how to ask.
 */
async function openFormFromCommand(payload: SlashCommandPayload, deps: CommandDeps): Promise<void> {
  if (!(await firstDelivery(payload, deps))) return;
  const opened =
    payload.trigger_id === undefined
      ? ({ ok: false, error: 'no trigger_id' } as const)
      : await openRequestForm(payload.user_id, payload.trigger_id, deps, 'command');
  if (opened.ok) return;
  commands.inc({ command: 'help', outcome: 'ok' });
  try {
    await deps.respond(
      payload.response_url,
      helpMessage(
        deps.views === undefined
          ? undefined
          : `I couldn't open the request form (Slack said ${opened.error}), so here is how to type the request instead.`,
      ),
    );
  } catch (err) {
    deps.logger.warn(
      { err: { message: err instanceof Error ? err.message : String(err) } },
      'could not answer the command',
    );
  }
}

/**
 * False for a command Slack delivered again after its first delivery was acked (Socket Mode retries an envelope
 * whose ack it did not see): that one is being answered already, so a second request is never filed for it.
 */
export async function firstDelivery(payload: SlashCommandPayload, deps: CommandDeps): Promise<boolean> {
  if (payload.trigger_id === undefined || deps.claimCommand === undefined) return true;
  if (await deps.claimCommand(payload.trigger_id)) return true;
  commands.inc({ command: 'redelivered', outcome: 'ignored' });
  deps.logger.info('a command Slack delivered again was acked and not handled twice');
  return false;
}

/**
 * Another slash command routed to this app (renamed in the app's settings, or an old one still installed): ack it
 * with a sentence rather than leave Slack to show "didn't respond".
 */
export async function handleOtherCommand(
  args: { body: unknown; ack: Ack },
  ours: string = '/qlik',
): Promise<void> {
  const raw = (args.body as { command?: unknown } | null)?.command;
  const name = typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : 'That command';
  commands.inc({ command: 'other', outcome: 'invalid' });
  await args.ack(
    ephemeral(
      errorMessage(
        `${truncate(name, 40)} isn't a command of this app. Type \`${ours} help\` to see what it does.`,
      ),
    ),
  );
}

export function ephemeral(msg: SlackMessage) {
  return { response_type: 'ephemeral' as const, text: msg.text, blocks: msg.blocks };
}

function answer(
  cmd: Exclude<ParsedCommand, { kind: 'help' | 'invalid' | 'form' }>,
  p: SlashCommandPayload,
  deps: CommandDeps,
): Promise<void> {
  return answerCommand(cmd.kind, p, deps, (setOutcome) => run(cmd, p, deps, setOutcome));
}

/**
 * Runs a command's work after its ack and sends every reply through response_url; anything unforeseen becomes a
 * plain apology, and the command's metric counts how it went (`metric`: `grant`, `mode:grant`, …).
 */
export async function answerCommand(
  metric: string,
  p: SlashCommandPayload,
  deps: Pick<CommandDeps, 'logger' | 'respond'>,
  work: (setOutcome: (o: string) => void) => Promise<SlackMessage[]>,
): Promise<void> {
  const log = deps.logger.child({ command: metric, user: p.user_id });
  const send = async (msg: SlackMessage) => {
    try {
      await deps.respond(p.response_url, msg);
    } catch (err) {
      log.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'could not answer the command',
      );
    }
  };
  let outcome = 'ok';
  try {
    const replies = await work((o) => {
      outcome = o;
    });
    for (const msg of replies) await send(msg);
  } catch (err) {
    // The app never throws; this guards the rendering and anything unforeseen.
    outcome = 'error';
    log.error({ err: { message: err instanceof Error ? err.message : String(err) } }, 'command failed');
    await send(
      errorMessage('Something went wrong on my side. Try again, and tell an admin if it keeps happening.'),
    );
  } finally {
    commands.inc({ command: metric, outcome });
  }
}

/**
 * Sends the first answer of a listing whose full list follows as a file (which can take a while on a large tenant).
 * An answer Slack would not take (response_url expired or used up) is logged: it must not cost the person the file.
 */
export async function answerBeforeFile(
  deps: Pick<CommandDeps, 'respond' | 'logger'>,
  responseUrl: string,
  msg: SlackMessage,
  what: string,
): Promise<void> {
  try {
    await deps.respond(responseUrl, msg);
  } catch (err) {
    deps.logger.warn(
      { err: { message: err instanceof Error ? err.message : String(err) } },
      `could not post ${what}; sending the file anyway`,
    );
  }
}

/** Runs one command and returns the messages to send back, in order. */
async function run(
  cmd: Exclude<ParsedCommand, { kind: 'help' | 'invalid' | 'form' }>,
  p: SlashCommandPayload,
  deps: CommandDeps,
  setOutcome: (o: string) => void,
): Promise<SlackMessage[]> {
  const app = deps.app;
  const refused = (text: string) => {
    setOutcome('refused');
    return [errorMessage(text)];
  };
  const tenants = deps.tenants;
  // The tenant an answer is about (the one named with `on`, else the default), shown only with several tenants.
  const tenant = tenantLabel(tenants, 'tenant' in cmd ? cmd.tenant : undefined);
  let who: WhoRef | undefined;
  if ('who' in cmd && cmd.who !== undefined) {
    const found = await resolveHandle(cmd.who, deps);
    if (!found.ok) {
      setOutcome('invalid');
      return [usageMessage(found.problem, USAGE[cmd.kind])];
    }
    who = found.who;
  }
  // `on <tenant>`: the app finds that tenant's target, and refuses one that is not configured.
  const on = 'tenant' in cmd ? instanceInput(cmd) : {};
  switch (cmd.kind) {
    case 'grant':
    case 'revoke': {
      const res = await app.fileRequest({
        requester: slackPerson(p.user_id),
        action: cmd.kind,
        who: who!,
        roleName: cmd.role,
        ...spaceInput(cmd),
        ...(cmd.reason === undefined ? {} : { reason: cmd.reason }),
        ...(cmd.kind === 'grant' && cmd.durationMs !== undefined ? { durationMs: cmd.durationMs } : {}),
        ...(cmd.kind === 'grant' && cmd.breakGlass ? { breakGlass: true } : {}),
        ...on,
      });
      if (res.code === 'duplicate') {
        setOutcome('duplicate');
        return [duplicateRequestMessage(res.duplicateOf, tenants)];
      }
      if (res.code !== 'filed') {
        // No Qlik account for that person: offer to invite them with the role, when invites can be sent.
        const email = res.code === 'no-such-user' ? res.email : undefined;
        if (email !== undefined && cmd.kind === 'grant' && app.invitesOffered(cmd.tenant)) {
          setOutcome('refused');
          return [
            inviteOfferMessage(`No Qlik user has the email ${email}, so nothing was filed.`, {
              email,
              role: cmd.role,
              ...(cmd.space === undefined ? {} : { space: cmd.space }),
              ...(cmd.tenant === undefined ? {} : { tenant: cmd.tenant }),
            }),
          ];
        }
        return refused(fileRefusalText(res));
      }
      // Not posted to the approval channel: a pending request's receipt says so first (in one message); an
      // auto-approved one needs no approver, so the problem follows as a warning.
      const problem = res.postProblem === undefined ? undefined : postProblemText(res.postProblem);
      if (res.autoApproved) {
        const receipt = autoApprovedMessage(res.request, tenants);
        return problem ? [receipt, errorMessage(problem)] : [receipt];
      }
      return [requestFiledMessage(res.request, res.approvalChannel, problem, tenants)];
    }
    case 'invite': {
      const res = await app.invite({
        requester: slackPerson(p.user_id),
        who: who!,
        roleNames: cmd.roles,
        ...(cmd.space === undefined ? {} : { space: cmd.space }),
        ...(cmd.reason === undefined ? {} : { reason: cmd.reason }),
        ...on,
      });
      if (res.code === 'duplicate') {
        setOutcome('duplicate');
        return [duplicateRequestMessage(res.duplicateOf, tenants)];
      }
      if (res.code !== 'filed') return refused(inviteRefusalText(res));
      const problem = res.postProblem === undefined ? undefined : postProblemText(res.postProblem);
      if (res.autoApproved) {
        const receipt = autoApprovedMessage(res.request, tenants);
        return problem ? [receipt, errorMessage(problem)] : [receipt];
      }
      return [requestFiledMessage(res.request, res.approvalChannel, problem, tenants)];
    }
    case 'who-has': {
      if (cmd.role === undefined) {
        const members = await app.resourceMembers({ kind: 'space', name: cmd.space ?? '' }, on);
        return members.ok
          ? [membersMessage({ ...members, ...(tenant === undefined ? {} : { tenant }) })]
          : refused(roleQueryRefusalText(members));
      }
      const res = await app.whoHas(cmd.role, { ...on, ...spaceInput(cmd) });
      if (!res.ok) return refused(roleQueryRefusalText(res));
      const summary = whoHasMessage({
        ...res,
        csvAttached: res.csvNeeded,
        ...(tenant === undefined ? {} : { tenant }),
      });
      if (!res.csvNeeded) return [summary];
      await answerBeforeFile(deps, p.response_url, summary, 'the who-has summary');
      const csv = await app.sendHoldersCsv(res.role, slackPerson(p.user_id), res);
      if (!csv.ok) return refused(`I couldn't attach the full list of holders: ${roleQueryRefusalText(csv)}`);
      return [];
    }
    case 'whois': {
      const res = await app.whois(who!, slackPerson(p.user_id), on);
      return res.ok
        ? [whoisMessage({ ...res, ...(tenant === undefined ? {} : { tenant }) })]
        : refused(whoisRefusalText(res));
    }
    case 'roles': {
      const res = await app.listRoles(on);
      return res.ok ? [rolesMessage(res.roles, tenant)] : refused(instanceRefusalText(res));
    }
    case 'spaces': {
      const res = await app.listResources('space', cmd.text, on);
      return res.ok
        ? [spacesMessage({ ...res, ...(tenant === undefined ? {} : { tenant }) })]
        : refused(roleQueryRefusalText(res));
    }
    case 'requests': {
      const res = await app.listRequests(slackPerson(p.user_id));
      return res.ok ? [requestsMessage(res, tenants)] : refused(failureText(res));
    }
    case 'cancel': {
      const res = await app.cancel(cmd.requestId, slackPerson(p.user_id));
      const text = cancelOutcomeText(res);
      return res.ok ? [noticeMessage(text)] : refused(text);
    }
    case 'audit': {
      const res = await app.auditLog(slackPerson(p.user_id), {
        ...(who === undefined ? {} : { who }),
        ...(cmd.role === undefined ? {} : { role: cmd.role }),
      });
      return res.ok ? [auditMessage(res.events)] : refused(auditRefusalText(res));
    }
    case 'review': {
      const res = await app.openReview({
        opener: slackPerson(p.user_id),
        roleName: cmd.role,
        ...spaceInput(cmd),
        ...on,
      });
      return res.ok ? [noticeMessage(openReviewText(res))] : refused(openReviewText(res));
    }
    case 'drift':
      return answerDrift(cmd, p, deps, setOutcome);
  }
}

// ---- several Qlik tenants and spaces

/** The space a command names (`in space:"…"`, `who-has space:"…"`) as the app's `resource` input. */
function spaceInput(cmd: { space?: string }): { resource?: { kind: string; name: string } } {
  return cmd.space === undefined ? {} : { resource: { kind: 'space', name: cmd.space } };
}

/**
 * The tenant a command names (`on <tenant>`) as the app's `instance` input; empty for the default tenant. Spread
 * into the inputs of fileRequest, whoHas, whois and listRoles (sendHoldersCsv carries on with who-has's instance).
 */
export function instanceInput(cmd: { tenant?: string }): { instance?: string } {
  return cmd.tenant === undefined ? {} : { instance: cmd.tenant };
}

/**
 * Turns an `@name` Slack left as text into a mention by looking the name up in the workspace (deactivated
 * accounts included), so the app can say what is wrong with that account; a name nobody has is a problem to
 * show. Everything else passes through.
 */
export async function resolveHandle(
  who: ParsedWho,
  deps: CommandDeps,
): Promise<{ ok: true; who: WhoRef } | { ok: false; problem: string }> {
  if (who.kind === 'slack-user') return { ok: true, who: slackWho(who.userId, who.handle) };
  if (who.kind !== 'handle') return { ok: true, who };
  const shown = `\`@${truncate(who.handle, 40)}\``;
  let userId: string | undefined;
  try {
    userId = await deps.findUserByHandle?.(who.handle);
  } catch (err) {
    deps.logger.warn(
      { err: { message: err instanceof Error ? err.message : String(err) } },
      'could not look up a Slack username',
    );
  }
  if (userId) return { ok: true, who: slackWho(userId, who.handle) };
  return {
    ok: false,
    problem: `I can't tell who ${shown} is: nobody in this Slack workspace has that name. Pick them from Slack's @mention list, or use their email.`,
  };
}

/** A Slack user as the core names them: the person, and the name typed when it had to be looked up. */
function slackWho(userId: string, handle: string | undefined): WhoRef {
  return { kind: 'person', person: slackPerson(userId), ...(handle === undefined ? {} : { handle }) };
}
