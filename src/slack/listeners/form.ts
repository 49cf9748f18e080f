// Owns the request form's Slack side (README, "The request form"): opening it (from `/qlik`, `/qlik grant`, the
// "Request access" shortcut and App Home's button) with the interaction's trigger_id at once — before anything slow,
// since a trigger_id lasts 3 s; re-rendering it when the kind, space or role changes (views.update); answering its
// selects' suggestions (block_suggestion) from the app's cache; and its submission: the checks that need no system
// are answered inline at once, then the request is filed through the same app.fileRequest `/qlik grant` uses, bounded
// so Slack's 3 s deadline is kept. A refusal within the bound comes back as inline errors on the field it is about,
// with the command's words; filing that takes longer is finished after the ack and its result sent by DM.
import type { ModalView } from '@slack/types';
import { z } from 'zod';
import type { AccessRequestApp } from '../../app/access-requests.ts';
import type { FormKind } from '../../app/queries/options.ts';
import type { FileInput, FileOutcome } from '../../app/use-cases/file-request.ts';
import { formatDuration } from '../../domain/duration.ts';
import type { RequestRefusal } from '../../domain/policy.ts';
import type { WhoRef } from '../../domain/request.ts';
import type { Logger } from '../../observability/logger.ts';
import { commands } from '../../observability/metrics.ts';
import type { SlackMessage } from '../messenger.ts';
import { slackPerson } from '../people.ts';
import {
  decodeFormState,
  FORM_ACTIONS,
  FORM_BLOCKS,
  FORM_CALLBACK_ID,
  FORM_DISPATCH_ACTIONS,
  FORM_SHORTCUT_ID,
  type FormState,
  formCheckingMessage,
  formResultView,
  LOADING_VALUE,
  OPEN_FORM_ACTION,
  optionsAnswer,
  requestFormView,
} from '../views/request-form.ts';
import {
  autoApprovedMessage,
  duplicateRequestMessage,
  errorMessage,
  requestFiledMessage,
  type TenantLabels,
} from '../views.ts';
import { fileRefusalText, postProblemText } from '../words.ts';
import type { InFlight } from './inflight.ts';

/** The views.* calls the form makes (Bolt's client in the bot; a stand-in in tests). */
export interface FormViews {
  /** views.open with the interaction's trigger_id; rejects with Slack's error. */
  open(triggerId: string, view: ModalView): Promise<void>;
  /** views.update of an open view, guarded by its hash (a stale one is refused: a newer update is on the way). */
  update(viewId: string, view: ModalView, hash?: string): Promise<void>;
}

export interface FormDeps {
  app: AccessRequestApp;
  logger: Logger;
  inflight: InFlight;
  /** Absent: the form can't be opened (no client), and the command answers with the help instead. */
  views?: FormViews;
  /** Sends a DM to a user: a modal has no response_url, so the receipt goes there. */
  dm?: (userId: string, msg: SlackMessage) => Promise<unknown>;
  tenants?: TenantLabels;
}

/**
 * How long a submission waits for the filing before acking: Slack wants the ack within 3 s, and the answer still
 * has to travel back. Checks that take longer (a slow Qlik) finish after the ack, and the result goes by DM.
 */
export const SUBMIT_BUDGET_MS = 2_000;

/** No documented limit for an inline error's text; a field's error is a sentence or two, clipped to stay one. */
const MAX_ERROR = 1000;

/** Why the form could not be opened, as Slack said it (for the fallback answer and the log). */
export type OpenOutcome = { ok: true } | { ok: false; error: string };

function slackErrorOf(err: unknown): string {
  const code = (err as { data?: { error?: unknown } } | null)?.data?.error;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}

/** Opens a fresh form for `userId` with the interaction's trigger_id; nothing slow happens before views.open. */
export async function openRequestForm(
  userId: string,
  triggerId: string,
  deps: FormDeps,
  via: string,
): Promise<OpenOutcome> {
  if (!deps.views) return { ok: false, error: 'no_client' };
  const view = renderForm(deps.app, userId, undefined);
  try {
    await deps.views.open(triggerId, view);
    commands.inc({ command: `form:${via}`, outcome: 'ok' });
    return { ok: true };
  } catch (err) {
    const error = slackErrorOf(err);
    commands.inc({ command: `form:${via}`, outcome: 'error' });
    deps.logger.warn({ err: { message: error }, via }, 'could not open the request form');
    return { ok: false, error };
  }
}

/** The form for `state` (the first configured kind when none, or one no longer configured). */
function renderForm(app: AccessRequestApp, userId: string, state: FormState | undefined): ModalView {
  const kinds = app.formKinds();
  const kind = kinds.find((k) => k.key === state?.kind) ?? kinds[0];
  const s: FormState =
    kind === undefined ? { kind: '' } : kind.key === state?.kind ? state : { kind: kind.key };
  const rule = kind === undefined ? undefined : app.formRule(kind.key, s.role, s.space);
  return requestFormView({
    kinds,
    state: s,
    rule: rule ?? { durationsMs: [], permanent: true, required: false, reasonRequired: false },
    requester: userId,
  });
}

// ---- the shortcut and App Home's button

const shortcutPayload = z.object({
  type: z.literal('shortcut'),
  callback_id: z.string(),
  trigger_id: z.string().min(1),
  user: z.object({ id: z.string().min(1) }),
});

/** Whether a shortcut payload is the form's "Request access" global shortcut. */
export function isFormShortcut(body: unknown): boolean {
  return (body as { callback_id?: unknown } | null)?.callback_id === FORM_SHORTCUT_ID;
}

/** The "Request access" shortcut: ack, open the form; when it can't be opened, say so by DM (no response_url). */
export async function handleFormShortcut(
  args: { body: unknown; ack: () => Promise<void> },
  deps: FormDeps,
): Promise<void> {
  await args.ack();
  const p = shortcutPayload.safeParse(args.body);
  if (!p.success) {
    deps.logger.warn({ issues: p.error.issues.map((i) => i.path.join('.')) }, 'malformed shortcut payload');
    return;
  }
  const opened = await openRequestForm(p.data.user.id, p.data.trigger_id, deps, 'shortcut');
  if (!opened.ok) await dmCantOpen(p.data.user.id, opened.error, deps);
}

async function dmCantOpen(userId: string, error: string, deps: FormDeps): Promise<void> {
  await sendDm(
    userId,
    errorMessage(
      `I couldn't open the request form (Slack said ${error}). Try again, or type the request: \`/qlik grant me <role> for <duration> because <reason>\` (\`/qlik help\` shows how).`,
    ),
    deps,
  );
}

async function sendDm(userId: string, msg: SlackMessage, deps: FormDeps): Promise<void> {
  if (!deps.dm) return;
  try {
    await deps.dm(userId, msg);
  } catch (err) {
    deps.logger.warn({ err: { message: slackErrorOf(err) } }, 'could not send a DM about the request form');
  }
}

// ---- the form's own block actions (and App Home's button)

const selected = z.object({ value: z.string() }).nullish();

const formActionPayload = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1) }),
  trigger_id: z.string().optional(),
  actions: z.array(z.object({ action_id: z.string(), selected_option: selected })).min(1),
  view: z
    .object({
      id: z.string(),
      hash: z.string().optional(),
      callback_id: z.string().optional(),
      private_metadata: z.string().optional(),
      state: z.object({ values: z.record(z.string(), z.record(z.string(), z.unknown())) }).optional(),
    })
    .optional(),
});

/** Whether a block_actions payload is the form's: App Home's button, or a field of the form that re-renders it. */
export function isFormAction(body: unknown): boolean {
  const id = (body as { actions?: { action_id?: unknown }[] } | null)?.actions?.[0]?.action_id;
  return typeof id === 'string' && (id === OPEN_FORM_ACTION || FORM_DISPATCH_ACTIONS.includes(id));
}

/** App Home's button opens the form; a change of kind, space or role re-renders it with what that choice allows. */
export async function handleFormAction(
  args: { body: unknown; ack: () => Promise<void> },
  deps: FormDeps,
): Promise<void> {
  await args.ack();
  const p = formActionPayload.safeParse(args.body);
  if (!p.success) {
    deps.logger.warn(
      { issues: p.error.issues.map((i) => i.path.join('.')) },
      'malformed form action payload',
    );
    return;
  }
  const action = p.data.actions[0]!;
  const userId = p.data.user.id;
  if (action.action_id === OPEN_FORM_ACTION) {
    if (!p.data.trigger_id) return;
    const opened = await openRequestForm(userId, p.data.trigger_id, deps, 'home');
    if (!opened.ok) await dmCantOpen(userId, opened.error, deps);
    return;
  }
  const view = p.data.view;
  if (!view || view.callback_id !== FORM_CALLBACK_ID || !deps.views) return;
  const before = decodeFormState(view.private_metadata) ?? { kind: '' };
  const values = view.state?.values ?? {};
  const picked = action.selected_option?.value;
  const usable = (v: string | undefined) => (v === undefined || v === LOADING_VALUE ? undefined : v);
  let next: FormState;
  if (action.action_id === FORM_ACTIONS.kind) {
    // Another kind: its space and role are other lists, so what was picked for the old kind goes.
    next = { kind: picked ?? before.kind };
  } else {
    const space =
      action.action_id === FORM_ACTIONS.space ? usable(picked) : usable(pickedIn(values, FORM_BLOCKS.space));
    const role =
      action.action_id === FORM_ACTIONS.entitlement
        ? usable(picked)
        : usable(pickedIn(values, FORM_BLOCKS.entitlement));
    next = {
      kind: before.kind,
      ...(space === undefined ? {} : { space }),
      ...(role === undefined ? {} : { role }),
    };
  }
  const rendered = renderForm(deps.app, userId, next);
  try {
    await deps.views.update(view.id, rendered, view.hash);
  } catch (err) {
    const error = slackErrorOf(err);
    // hash_conflict: a newer choice updated the form first, and that render stands.
    if (error !== 'hash_conflict')
      deps.logger.warn({ err: { message: error } }, 'could not update the request form');
  }
}

/** The value picked in a select of the form's state (`view.state.values[block][action].selected_option.value`). */
function pickedIn(values: Record<string, Record<string, unknown>>, block: string): string | undefined {
  const entry = Object.values(values[block] ?? {})[0] as
    | { selected_option?: { value?: unknown } | null; selected_user?: unknown; value?: unknown }
    | undefined;
  const v = entry?.selected_option?.value;
  return typeof v === 'string' ? v : undefined;
}

function textIn(values: Record<string, Record<string, unknown>>, block: string): string | undefined {
  const entry = Object.values(values[block] ?? {})[0] as { value?: unknown } | undefined;
  const v = typeof entry?.value === 'string' ? entry.value.trim() : '';
  return v === '' ? undefined : v;
}

function userIn(values: Record<string, Record<string, unknown>>, block: string): string | undefined {
  const entry = Object.values(values[block] ?? {})[0] as { selected_user?: unknown } | undefined;
  const v = entry?.selected_user;
  return typeof v === 'string' && /^[UW][A-Z0-9]+$/.test(v) ? v : undefined;
}

// ---- suggestions

const suggestionPayload = z.object({
  type: z.literal('block_suggestion'),
  action_id: z.string(),
  value: z.string().default(''),
  view: z
    .object({
      callback_id: z.string().optional(),
      private_metadata: z.string().optional(),
      state: z.object({ values: z.record(z.string(), z.record(z.string(), z.unknown())) }).optional(),
    })
    .optional(),
});

/** A block_suggestion: the form's space and role selects get options; any other select an empty list. */
export async function handleFormOptions(
  args: { body: unknown; ack: (r: { options: unknown[] }) => Promise<void> },
  deps: FormDeps,
): Promise<void> {
  const p = suggestionPayload.safeParse(args.body);
  const view = p.success ? p.data.view : undefined;
  const field =
    p.success && p.data.action_id === FORM_ACTIONS.entitlement
      ? 'entitlement'
      : p.success && p.data.action_id === FORM_ACTIONS.space
        ? 'resource'
        : undefined;
  if (!p.success || view?.callback_id !== FORM_CALLBACK_ID || field === undefined) {
    await args.ack({ options: [] });
    return;
  }
  const values = view.state?.values ?? {};
  const meta = decodeFormState(view.private_metadata);
  // The kind as shown (the select's value when Slack sent the state), else as the form was rendered.
  const kindKey = pickedIn(values, FORM_BLOCKS.kind) ?? meta?.kind ?? '';
  const space = pickedIn(values, FORM_BLOCKS.space) ?? meta?.space;
  const answer = await deps.app.formOptions({
    kindKey,
    field,
    text: p.data.value.slice(0, 200),
    ...(space === undefined || space === LOADING_VALUE ? {} : { resource: space }),
  });
  commands.inc({
    command: `form:options:${field}`,
    outcome: answer.ok ? (answer.loading ? 'loading' : 'ok') : 'error',
  });
  await args.ack(optionsAnswer(answer));
}

// ---- submission

const submissionPayload = z.object({
  type: z.literal('view_submission'),
  user: z.object({ id: z.string().min(1) }),
  view: z.object({
    id: z.string(),
    callback_id: z.string(),
    private_metadata: z.string().optional(),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), z.unknown())) }),
    blocks: z.array(z.object({ type: z.string(), block_id: z.string().optional() }).loose()).optional(),
  }),
});

/**
 * Errors on the fields the submitted view has: Slack refuses an `errors` answer naming a block the view lacks
 * (a space field the re-render had not shown yet when the kind was changed and submitted at once), so such an
 * error goes on the kind field, which every form has.
 */
export function placeErrors(
  errors: Record<string, string>,
  inputs: ReadonlySet<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const fallback = inputs.has(FORM_BLOCKS.kind) ? FORM_BLOCKS.kind : [...inputs][0];
  for (const [block, text] of Object.entries(errors)) {
    const at = inputs.has(block) ? block : fallback;
    if (at === undefined) continue;
    out[at] = out[at] === undefined ? text : plainError(`${out[at]} ${text}`);
  }
  return out;
}

export type SubmissionAck =
  | { response_action: 'errors'; errors: Record<string, string> }
  | { response_action: 'update'; view: ModalView };

/** Whether a view_submission is the form's. */
export function isFormSubmission(body: unknown): boolean {
  return (body as { view?: { callback_id?: unknown } } | null)?.view?.callback_id === FORM_CALLBACK_ID;
}

/** What the form asks for, read from its fields: the FileInput the command would build, or errors per field. */
export type ReadForm =
  | { ok: true; input: FileInput; kind: FormKind; whoBlock: string }
  | { ok: false; errors: Record<string, string> };

const emailSchema = z.email();

/** Reads a submitted form into the request `/qlik grant` would file, or says which field is wrong. */
export function readForm(
  app: AccessRequestApp,
  userId: string,
  values: Record<string, Record<string, unknown>>,
): ReadForm {
  const errors: Record<string, string> = {};
  const other = textIn(values, FORM_BLOCKS.whoOther);
  const person = userIn(values, FORM_BLOCKS.whoPerson);
  let who: WhoRef;
  let whoBlock: string = FORM_BLOCKS.whoPerson;
  if (other !== undefined) {
    whoBlock = FORM_BLOCKS.whoOther;
    // As the command takes them: an email, or a group by its exact name (`group:` and quotes as typed there).
    const group = other
      .replace(/^group:\s*/i, '')
      .replace(/^["\u201C](.*)["\u201D]$/s, '$1')
      .trim();
    if (emailSchema.safeParse(other).success) who = { kind: 'email', email: other.toLowerCase() };
    else if (group === '' || (other.includes('@') && !/^group:/i.test(other))) {
      errors[FORM_BLOCKS.whoOther] =
        "That is neither an email nor a group's name. Give an email (someone@example.com), or a group's exact name.";
      who = { kind: 'me' };
    } else who = { kind: 'group', name: group };
  } else if (person === undefined || person === userId) who = { kind: 'me' };
  else who = { kind: 'person', person: slackPerson(person) };

  const kinds = app.formKinds();
  const kindKey = pickedIn(values, FORM_BLOCKS.kind);
  const kind = kinds.find((k) => k.key === kindKey);
  if (kind === undefined) {
    errors[FORM_BLOCKS.kind] =
      kindKey === undefined
        ? 'Pick the kind of access.'
        : "That kind of access isn't configured any more; pick another.";
    return { ok: false, errors };
  }
  const stillLoading = 'The list was still loading when you picked this; open it again and pick again.';
  let space: string | undefined;
  if (kind.resourceKind !== undefined) {
    space = pickedIn(values, FORM_BLOCKS.space);
    if (space === LOADING_VALUE) errors[FORM_BLOCKS.space] = stillLoading;
    else if (space === undefined) errors[FORM_BLOCKS.space] = `Pick the ${kind.resourceKind}.`;
  }
  const role = pickedIn(values, FORM_BLOCKS.entitlement);
  if (role === LOADING_VALUE) errors[FORM_BLOCKS.entitlement] = stillLoading;
  else if (role === undefined) errors[FORM_BLOCKS.entitlement] = 'Pick what to grant.';
  const durationRaw = pickedIn(values, FORM_BLOCKS.duration);
  let durationMs: number | undefined;
  if (durationRaw !== undefined) {
    durationMs = /^\d{1,13}$/.test(durationRaw) ? Number(durationRaw) : undefined;
    if (durationMs === undefined || durationMs <= 0)
      errors[FORM_BLOCKS.duration] = 'Pick one of the durations this role allows.';
  }
  const reason = textIn(values, FORM_BLOCKS.reason);
  if (Object.keys(errors).length > 0 || role === undefined) return { ok: false, errors };
  const input: FileInput = {
    requester: slackPerson(userId),
    action: 'grant',
    who,
    roleName: role,
    // As the command builds it: the space as the role's resource, the tenant only when several are configured,
    // and the kind only when it is not tenant roles (the default) and no resource says it already.
    ...(space === undefined || kind.resourceKind === undefined
      ? {}
      : { resource: { kind: kind.resourceKind, name: space } }),
    ...(reason === undefined ? {} : { reason }),
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(kind.several ? { instance: kind.instance } : {}),
    ...(kind.kind === 'qlik-roles' || kind.resourceKind !== undefined ? {} : { kind: kind.kind }),
  };
  return { ok: true, input, kind, whoBlock };
}

/** The policy's refusals as the form says them: the command's words, with the form's way of asking again. */
export function formPolicyText(r: RequestRefusal): string {
  const role = r.role;
  switch (r.code) {
    case 'reason-required':
      return `${role} needs a reason: say here why you need it.`;
    case 'min-duration':
      return `${role} can be granted for no less than ${formatDuration(r.minMs)}, and you asked for ${formatDuration(r.askedMs)}. Pick a longer duration.`;
    case 'max-duration':
      return `${role} can be granted for at most ${formatDuration(r.maxMs)}, and you asked for ${formatDuration(r.askedMs)}. Pick a shorter duration.`;
    case 'duration-required':
      return `${role} is only granted for a limited time${r.maxMs === undefined ? '' : ` (at most ${formatDuration(r.maxMs)})`}. Pick a duration.`;
    case 'not-requestable':
      return `${role} can't be granted from Slack. Ask a tenant admin to change it in the Qlik Cloud Management Console.`;
  }
}

/** The field a policy refusal is about. */
function policyBlock(r: RequestRefusal): string {
  if (r.code === 'reason-required') return FORM_BLOCKS.reason;
  if (r.code === 'not-requestable') return FORM_BLOCKS.entitlement;
  return FORM_BLOCKS.duration;
}

/** Inline errors are plain text: the command's `code` marks would show as backticks. */
function plainError(text: string): string {
  const t = text.replace(/`/g, '').replace(/\s+/g, ' ').trim();
  return t.length <= MAX_ERROR ? t : `${t.slice(0, MAX_ERROR - 1)}…`;
}

/** A refusal of fileRequest as errors on the field it is about, in the command's words. */
export function refusalErrors(
  o: Exclude<FileOutcome, { code: 'filed' | 'duplicate' }>,
  whoBlock: string,
  hasSpace: boolean,
): Record<string, string> {
  if (o.code === 'policy-refused') return { [policyBlock(o.refusal)]: plainError(formPolicyText(o.refusal)) };
  const text = plainError(fileRefusalText(o));
  switch (o.code) {
    case 'unknown-instance':
      return { [FORM_BLOCKS.kind]: text };
    case 'unknown-role':
    case 'already-held':
    case 'not-held':
    case 'owner':
      return { [FORM_BLOCKS.entitlement]: text };
    case 'resource-refused': {
      const c = o.refusal.code;
      const onSpace =
        hasSpace && (c === 'no-such-resource' || c === 'ambiguous-resource' || c === 'resource-required');
      return {
        [onSpace
          ? FORM_BLOCKS.space
          : c === 'resource-unsupported'
            ? FORM_BLOCKS.kind
            : FORM_BLOCKS.entitlement]: text,
      };
    }
    case 'target-error':
    case 'target-gone':
    case 'store-unavailable':
    case 'failed':
      // Nothing wrong with a field: the form stays as filled in, so submitting again is one click.
      return { [FORM_BLOCKS.entitlement]: `${text} Nothing was filed; submit again to retry.` };
    default:
      return { [whoBlock]: text };
  }
}

/** The receipt of a filed request, as the command answers it. */
function receiptOf(res: Extract<FileOutcome, { code: 'filed' }>, tenants?: TenantLabels): SlackMessage[] {
  const problem = res.postProblem === undefined ? undefined : postProblemText(res.postProblem);
  if (res.autoApproved) {
    const receipt = autoApprovedMessage(res.request, tenants);
    return problem ? [receipt, errorMessage(problem)] : [receipt];
  }
  return [requestFiledMessage(res.request, res.approvalChannel, problem, tenants)];
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  return Promise.race([p.then((value) => ({ done: true as const, value })), late]).finally(() =>
    clearTimeout(timer),
  );
}

/**
 * The form's submission. Fields and the policy's own checks are answered inline at once; then the request is filed
 * as `/qlik grant` files it. Within SUBMIT_BUDGET_MS the ack says what came of it (inline errors, or the receipt in
 * place of the form); past it the ack says the check goes on, and the result follows by DM. A form submitted twice
 * files once: the store refuses the duplicate pending request, and the second submission says so.
 */
export async function handleFormSubmission(
  args: { body: unknown; ack: (r?: SubmissionAck) => Promise<void> },
  deps: FormDeps,
  budgetMs = SUBMIT_BUDGET_MS,
): Promise<void> {
  const p = submissionPayload.safeParse(args.body);
  if (!p.success) {
    deps.logger.warn({ issues: p.error.issues.map((i) => i.path.join('.')) }, 'malformed form submission');
    await args.ack({
      response_action: 'update',
      view: formResultView(errorMessage("I couldn't read that form from Slack. Please open it again.")),
    });
    return;
  }
  const userId = p.data.user.id;
  const inputs = new Set(
    p.data.view.blocks === undefined
      ? Object.keys(p.data.view.state.values)
      : p.data.view.blocks.flatMap((b) => (b.type === 'input' && b.block_id ? [b.block_id] : [])),
  );
  const ack = args.ack;
  args = {
    ...args,
    ack: (r) =>
      ack(
        r?.response_action === 'errors'
          ? { response_action: 'errors', errors: placeErrors(r.errors, inputs) }
          : r,
      ),
  };
  const read = readForm(deps.app, userId, p.data.view.state.values);
  if (!read.ok) {
    commands.inc({ command: 'form:submit', outcome: 'invalid' });
    await args.ack({ response_action: 'errors', errors: mapErrors(read.errors, plainError) });
    return;
  }
  const { input, kind, whoBlock } = read;
  const quick = deps.app.checkFormGrant({
    kindKey: kind.key,
    role: input.roleName,
    ...(input.resource === undefined ? {} : { resource: input.resource.name }),
    ...(input.reason === undefined ? {} : { reason: input.reason }),
    ...(input.durationMs === undefined ? {} : { durationMs: input.durationMs }),
  });
  if (!quick.ok) {
    commands.inc({ command: 'form:submit', outcome: 'refused' });
    const errors =
      quick.code === 'unknown-kind'
        ? { [FORM_BLOCKS.kind]: "That kind of access isn't configured any more; pick another." }
        : { [policyBlock(quick)]: plainError(formPolicyText(quick)) };
    await args.ack({ response_action: 'errors', errors });
    return;
  }
  const filing = deps.inflight.run(() => deps.app.fileRequest(input));
  const first = await withTimeout(filing, budgetMs);
  if (first.done) {
    await args.ack(submissionAnswer(first.value, whoBlock, input, deps));
    if (first.value.code === 'filed') await dmReceipt(userId, first.value, deps);
    return;
  }
  // Slack's deadline comes first: say the check goes on, and send what came of it by DM.
  await args.ack({ response_action: 'update', view: formResultView(formCheckingMessage()) });
  await deps.inflight.run(async () => {
    const res = await filing;
    countSubmission(res);
    if (res.code === 'filed') return dmReceipt(userId, res, deps);
    const msg =
      res.code === 'duplicate'
        ? duplicateRequestMessage(res.duplicateOf, deps.tenants)
        : errorMessage(`${fileRefusalText(res)} Open the form again (\`/qlik\`) to change the request.`);
    await sendDm(userId, msg, deps);
  });
}

function mapErrors(e: Record<string, string>, f: (s: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, f(v)]));
}

function countSubmission(res: FileOutcome): void {
  commands.inc({
    command: 'form:submit',
    outcome: res.code === 'filed' ? 'ok' : res.code === 'duplicate' ? 'duplicate' : 'refused',
  });
}

function submissionAnswer(
  res: FileOutcome,
  whoBlock: string,
  input: FileInput,
  deps: FormDeps,
): SubmissionAck {
  countSubmission(res);
  if (res.code === 'filed')
    return { response_action: 'update', view: formResultView(receiptOf(res, deps.tenants)[0]!) };
  if (res.code === 'duplicate')
    return {
      response_action: 'update',
      view: formResultView(duplicateRequestMessage(res.duplicateOf, deps.tenants)),
    };
  return { response_action: 'errors', errors: refusalErrors(res, whoBlock, input.resource !== undefined) };
}

async function dmReceipt(userId: string, res: Extract<FileOutcome, { code: 'filed' }>, deps: FormDeps) {
  for (const msg of receiptOf(res, deps.tenants)) await sendDm(userId, msg, deps);
}
