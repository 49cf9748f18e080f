// Owns the `/mode` command: the same front as `/qlik` (ack at once, work after, answer through response_url) for
// the Mode targets: group memberships (`mode-groups`) and collection access (`mode-collections`, the resource kind
// `collection`). With no Mode workspace configured it says exactly what to set. Requests filed here go through the
// same approvals, buttons, worker and notifications as Qlik's.
import { commands } from '../../observability/metrics.ts';
import { type ModeCommand, parseModeCommand } from '../mode-parser.ts';
import { slackPerson } from '../people.ts';
import {
  autoApprovedMessage,
  duplicateRequestMessage,
  errorMessage,
  membersMessage,
  modeGroupsMessage,
  modeHelpMessage,
  modeNotConfiguredMessage,
  requestFiledMessage,
  whoHasMessage,
  whoisMessage,
} from '../views.ts';
import {
  failureText,
  fileRefusalText,
  postProblemText,
  roleQueryRefusalText,
  whoisRefusalText,
} from '../words.ts';
import {
  type Ack,
  answerBeforeFile,
  answerCommand,
  type CommandDeps,
  ephemeral,
  firstDelivery,
  resolveHandle,
  type SlashCommandPayload,
  slashCommandPayload,
} from './command.ts';

/** The kinds of access `/mode` asks for. */
export const MODE_GROUPS = 'mode-groups';
const COLLECTION = 'collection';

export async function handleModeCommand(args: { body: unknown; ack: Ack }, deps: CommandDeps): Promise<void> {
  const parsed = slashCommandPayload.safeParse(args.body);
  if (!parsed.success) {
    await args.ack(
      ephemeral(errorMessage("I couldn't read that command's payload from Slack. Please try again.")),
    );
    return;
  }
  if (!deps.app.hasKind(MODE_GROUPS)) {
    commands.inc({ command: 'mode:not-configured', outcome: 'refused' });
    await args.ack(ephemeral(modeNotConfiguredMessage()));
    return;
  }
  const payload = parsed.data;
  const cmd = parseModeCommand(payload.text);
  if (cmd.kind === 'help' || cmd.kind === 'invalid') {
    const msg = cmd.kind === 'help' ? modeHelpMessage() : modeHelpMessage(cmd.problem, cmd.usage);
    commands.inc({ command: `mode:${cmd.kind}`, outcome: cmd.kind === 'help' ? 'ok' : 'invalid' });
    await args.ack(ephemeral(msg));
    return;
  }
  await args.ack();
  if (!(await firstDelivery(payload, deps))) return;
  await deps.inflight.run(() =>
    answerCommand(`mode:${cmd.kind}`, payload, deps, (setOutcome) => run(cmd, payload, deps, setOutcome)),
  );
}

async function run(
  cmd: Exclude<ModeCommand, { kind: 'help' | 'invalid' }>,
  p: SlashCommandPayload,
  deps: CommandDeps,
  setOutcome: (o: string) => void,
) {
  const app = deps.app;
  const refused = (text: string) => {
    setOutcome('refused');
    return [errorMessage(text)];
  };
  let who: Awaited<ReturnType<typeof resolveHandle>> | undefined;
  if ('who' in cmd) {
    who = await resolveHandle(cmd.who, deps);
    if (!who.ok) {
      setOutcome('invalid');
      return [modeHelpMessage(who.problem, undefined)];
    }
  }
  // A collection is a resource (the target with collections takes it); a group is Mode's own kind.
  const target = (collection: string | undefined) =>
    collection === undefined ? { kind: MODE_GROUPS } : { resource: { kind: COLLECTION, name: collection } };
  switch (cmd.kind) {
    case 'grant':
    case 'revoke': {
      const res = await app.fileRequest({
        requester: slackPerson(p.user_id),
        action: cmd.kind,
        who: who!.ok ? who!.who : { kind: 'me' },
        roleName: cmd.role,
        ...target(cmd.collection),
        ...(cmd.reason === undefined ? {} : { reason: cmd.reason }),
        ...(cmd.kind === 'grant' && cmd.durationMs !== undefined ? { durationMs: cmd.durationMs } : {}),
      });
      if (res.code === 'duplicate') {
        setOutcome('duplicate');
        return [duplicateRequestMessage(res.duplicateOf)];
      }
      if (res.code !== 'filed') return refused(fileRefusalText(res));
      const problem = res.postProblem === undefined ? undefined : postProblemText(res.postProblem);
      if (res.autoApproved) {
        const receipt = autoApprovedMessage(res.request);
        return problem ? [receipt, errorMessage(problem)] : [receipt];
      }
      return [requestFiledMessage(res.request, res.approvalChannel, problem)];
    }
    case 'who-has': {
      if (cmd.role === undefined) {
        const members = await app.resourceMembers({ kind: COLLECTION, name: cmd.collection ?? '' });
        return members.ok ? [membersMessage(members)] : refused(roleQueryRefusalText(members));
      }
      const res = await app.whoHas(cmd.role, { kind: MODE_GROUPS });
      if (!res.ok) return refused(roleQueryRefusalText(res));
      const summary = whoHasMessage({ ...res, csvAttached: res.csvNeeded });
      if (!res.csvNeeded) return [summary];
      await answerBeforeFile(deps, p.response_url, summary, 'the who-has summary');
      const csv = await app.sendHoldersCsv(res.role, slackPerson(p.user_id), { ...res, kind: MODE_GROUPS });
      if (!csv.ok) return refused(`I couldn't attach the full list of members: ${roleQueryRefusalText(csv)}`);
      return [];
    }
    case 'whois': {
      const res = await app.whois(who!.ok ? who!.who : { kind: 'me' }, slackPerson(p.user_id), {
        kind: MODE_GROUPS,
      });
      return res.ok ? [whoisMessage({ ...res, system: 'Mode' })] : refused(whoisRefusalText(res));
    }
    case 'groups': {
      const res = await app.listRoles({ kind: MODE_GROUPS });
      return res.ok ? [modeGroupsMessage(res.roles)] : refused(failureText(res as never));
    }
  }
}
