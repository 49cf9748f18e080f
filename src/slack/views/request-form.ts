// Owns the request form's Block Kit (README, "The request form"): the modal `/qlik`, `/qlik grant`, the "Request
// access" shortcut and App Home's button open, its fields as the chosen kind of access and role make them (the
// space only for a kind whose roles live in spaces; the durations the policy allows for the role; the reason
// required or not), the options a select answers as the person types, the words of its inline errors, and the
// modal that replaces it once it is submitted. Every builder clamps what it is given to Slack's documented limits
// (docs.slack.dev reference/views/modal-views, block-kit), so any data makes a view Slack accepts.
//
// private_metadata carries only what decides which fields the form shows (the kind, the space and role picked),
// never anything secret: the submission is checked from scratch whatever it says.
import type { KnownBlock, ModalView, Option, PlainTextOption } from '@slack/types';
import { z } from 'zod';
import type { FormKind, FormOption, FormRule, OptionsAnswer } from '../../app/queries/options.ts';
import { formatDuration } from '../../domain/duration.ts';
import { truncate } from '../mrkdwn.ts';
import { type SlackMessage, section } from './blocks.ts';

export const FORM_CALLBACK_ID = 'request_form';
/** The global shortcut that opens the form (manifest.yml). */
export const FORM_SHORTCUT_ID = 'request_access';
/** App Home's Request access button (agreed with the Home tab: value empty). */
export const OPEN_FORM_ACTION = 'open_request_form';

/** The form's input blocks: inline errors are keyed by these. */
export const FORM_BLOCKS = {
  whoPerson: 'who_person',
  whoOther: 'who_other',
  kind: 'kind',
  space: 'space',
  entitlement: 'entitlement',
  duration: 'duration',
  reason: 'reason',
} as const;

/** The action_ids of the form's elements; the three that change what the form shows dispatch a block_actions. */
export const FORM_ACTIONS = {
  whoPerson: 'form_who_person',
  whoOther: 'form_who_other',
  kind: 'form_kind',
  space: 'form_space',
  entitlement: 'form_entitlement',
  duration: 'form_duration',
  reason: 'form_reason',
} as const;

/** The actions that re-render the form (views.update), plus the Home button that opens it. */
export const FORM_DISPATCH_ACTIONS: readonly string[] = [
  FORM_ACTIONS.kind,
  FORM_ACTIONS.space,
  FORM_ACTIONS.entitlement,
];

/** The value of the option that says a list is still loading: picking it is refused with a word to try again. */
export const LOADING_VALUE = '~loading';

/** Longest reason, as the command takes it (command-parser MAX_REASON_LENGTH). */
const MAX_REASON = 500;
/** What fits an email or a group's name in the form's text field. */
const MAX_WHO_TEXT = 256;

export const LIMITS = {
  title: 24,
  button: 24,
  blocks: 100,
  privateMetadata: 3000,
  label: 2000,
  hint: 2000,
  placeholder: 150,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  options: 100,
} as const;

/** What decides which fields the form shows: the kind chosen, and the space and role picked so far. */
export interface FormState {
  kind: string;
  space?: string;
  role?: string;
}

const formStateSchema = z.object({
  k: z.string().max(400),
  s: z.string().min(1).max(400).optional(),
  r: z.string().min(1).max(400).optional(),
});

export function encodeFormState(s: FormState): string {
  const out = JSON.stringify({
    k: s.kind,
    // Nothing picked and an empty pick are the same to the form.
    ...(s.space === undefined || s.space === '' ? {} : { s: s.space }),
    ...(s.role === undefined || s.role === '' ? {} : { r: s.role }),
  });
  // Every value is at most 150 characters (option values), so this is far below the limit; clamp anyway.
  return out.length <= LIMITS.privateMetadata ? out : JSON.stringify({ k: s.kind });
}

/** The form's state from its private_metadata; undefined when it is not one (a forged or foreign view). */
export function decodeFormState(raw: unknown): FormState | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const p = formStateSchema.safeParse(JSON.parse(raw));
    if (!p.success) return undefined;
    return {
      kind: p.data.k,
      ...(p.data.s === undefined ? {} : { space: p.data.s }),
      ...(p.data.r === undefined ? {} : { role: p.data.r }),
    };
  } catch {
    return undefined;
  }
}

function plain(text: string, max: number) {
  const t = text.trim() === '' ? '—' : text;
  return { type: 'plain_text' as const, text: truncate(t, max), emoji: true };
}

/** What the form calls a kind of access: known kinds by name, any other from its target's words. */
export function kindLabel(k: FormKind): string {
  const known: Record<string, string> = {
    'qlik-roles': `${k.system} tenant role`,
    'qlik-spaces': `${k.system} space role`,
    'mode-groups': `${k.system} group`,
    'mode-collections': `${k.system} collection`,
  };
  const base = Object.hasOwn(known, k.kind)
    ? (known[k.kind] as string)
    : `${k.system} ${k.resourceKind === undefined ? 'access' : `${k.resourceKind} role`}`;
  return k.several ? `${base} (${k.instanceNoun} ${k.instance})` : base;
}

/** What the entitlement field is called for a kind. */
function entitlementLabel(k: FormKind): string {
  if (k.kind === 'mode-groups') return 'Group';
  if (k.kind === 'mode-collections') return 'Access in the collection';
  return k.resourceKind === undefined ? 'Role' : `${capital(k.resourceKind)} role`;
}

function capital(s: string): string {
  return s === '' ? s : s[0]!.toUpperCase() + s.slice(1);
}

function option(text: string, value: string, description?: string): PlainTextOption {
  return {
    text: plain(text, LIMITS.optionText),
    value: truncate(value, LIMITS.optionValue),
    ...(description?.trim() ? { description: plain(description, LIMITS.optionDescription) } : {}),
  };
}

/** The duration a form's option stands for, as its value carries it (milliseconds). */
export function durationValue(ms: number): string {
  return String(ms);
}

export interface FormInput {
  kinds: readonly FormKind[];
  state: FormState;
  /** The rule of the role picked (or of the kind's defaults before one is). */
  rule: FormRule;
  /** Who opens it: the person field defaults to them. */
  requester: string;
}

/** The request form for `state`: the fields the chosen kind needs, the durations and reason its rule wants. */
export function requestFormView(f: FormInput): ModalView {
  const kinds = f.kinds.slice(0, LIMITS.options);
  const chosen = kinds.find((k) => k.key === f.state.kind) ?? kinds[0];
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: FORM_BLOCKS.whoPerson,
      optional: true,
      label: plain('For', LIMITS.label),
      hint: plain('You, unless you pick someone else, or name a group or an email below.', LIMITS.hint),
      element: {
        type: 'users_select',
        action_id: FORM_ACTIONS.whoPerson,
        ...(/^[UW][A-Z0-9]+$/.test(f.requester) ? { initial_user: f.requester } : {}),
      },
    },
    {
      type: 'input',
      block_id: FORM_BLOCKS.whoOther,
      optional: true,
      label: plain('Or a group or an email', LIMITS.label),
      hint: plain(
        'When filled in, the access is for this group or email instead of the person above.',
        LIMITS.hint,
      ),
      element: {
        type: 'plain_text_input',
        action_id: FORM_ACTIONS.whoOther,
        max_length: MAX_WHO_TEXT,
        placeholder: plain('Group name, or someone@example.com', LIMITS.placeholder),
      },
    },
  ];
  if (chosen) {
    const kindOptions = kinds.map((k) => option(kindLabel(k), k.key));
    blocks.push({
      type: 'input',
      block_id: FORM_BLOCKS.kind,
      dispatch_action: true,
      label: plain('What kind of access', LIMITS.label),
      element: {
        type: 'static_select',
        action_id: FORM_ACTIONS.kind,
        options: kindOptions,
        initial_option: option(kindLabel(chosen), chosen.key),
      },
    });
    if (chosen.resourceKind !== undefined) {
      blocks.push({
        type: 'input',
        block_id: FORM_BLOCKS.space,
        dispatch_action: true,
        label: plain(capital(chosen.resourceKind), LIMITS.label),
        hint: plain(`Type part of the ${chosen.resourceKind}'s name.`, LIMITS.hint),
        element: {
          type: 'external_select',
          action_id: FORM_ACTIONS.space,
          min_query_length: 0,
          placeholder: plain(`Pick a ${chosen.resourceKind}`, LIMITS.placeholder),
          ...(f.state.space === undefined ? {} : { initial_option: option(f.state.space, f.state.space) }),
        },
      });
    }
    blocks.push({
      type: 'input',
      block_id: FORM_BLOCKS.entitlement,
      dispatch_action: true,
      label: plain(entitlementLabel(chosen), LIMITS.label),
      hint: plain('Type part of its name, or leave it empty to see the list.', LIMITS.hint),
      element: {
        type: 'external_select',
        action_id: FORM_ACTIONS.entitlement,
        min_query_length: 0,
        placeholder: plain(`Pick a ${entitlementLabel(chosen).toLowerCase()}`, LIMITS.placeholder),
        ...(f.state.role === undefined ? {} : { initial_option: option(f.state.role, f.state.role) }),
      },
    });
  }
  blocks.push(durationBlock(f.rule, f.state.role !== undefined));
  blocks.push({
    type: 'input',
    block_id: FORM_BLOCKS.reason,
    optional: !f.rule.reasonRequired,
    label: plain('Reason', LIMITS.label),
    hint: plain(
      f.rule.reasonRequired
        ? 'The policy asks for a reason for this role.'
        : f.state.role === undefined
          ? 'Some roles need one: the form says so once you pick the role.'
          : 'Optional for this role; approvers see it.',
      LIMITS.hint,
    ),
    element: {
      type: 'plain_text_input',
      action_id: FORM_ACTIONS.reason,
      multiline: true,
      max_length: MAX_REASON,
    },
  });
  return {
    type: 'modal',
    callback_id: FORM_CALLBACK_ID,
    title: plain('Request access', LIMITS.title),
    submit: plain('Request', LIMITS.button),
    close: plain('Cancel', LIMITS.button),
    private_metadata: encodeFormState({ ...f.state, kind: chosen?.key ?? f.state.kind }),
    blocks: blocks.slice(0, LIMITS.blocks),
  };
}

function durationBlock(rule: FormRule, rolePicked: boolean): KnownBlock {
  // The duration is optional exactly when the command could leave out `for …`: permanent, or the role's cap.
  const optional = rule.permanent || (rule.maxMs !== undefined && !rule.required);
  const first = rolePicked ? '' : 'Pick the role first: the choices depend on it. ';
  const hint = rule.permanent
    ? 'Leave it empty for a permanent grant.'
    : rule.maxMs !== undefined && !rule.required
      ? `Leave it empty for the longest allowed: ${formatDuration(rule.maxMs)}.`
      : `This role is only granted for a limited time${rule.maxMs === undefined ? '' : ` (at most ${formatDuration(rule.maxMs)})`}.`;
  const options = rule.durationsMs
    .slice(0, LIMITS.options)
    .map((ms) => option(formatDuration(ms), durationValue(ms)));
  return {
    type: 'input',
    block_id: FORM_BLOCKS.duration,
    optional,
    label: plain('For how long', LIMITS.label),
    hint: plain(`${first}${hint}`, LIMITS.hint),
    element: {
      type: 'static_select',
      action_id: FORM_ACTIONS.duration,
      placeholder: plain('Pick a duration', LIMITS.placeholder),
      // Slack refuses a static select with no options; the rule always allows one (policy parsing checks
      // minDuration ≤ maxDuration), but say so rather than send an invalid view.
      options: options.length > 0 ? options : [option('No duration is allowed', LOADING_VALUE)],
    },
  };
}

/** A modal that replaces the form once it is submitted: what came of it, and only a Close button. */
export function formResultView(msg: SlackMessage, title = 'Request access'): ModalView {
  return {
    type: 'modal',
    callback_id: `${FORM_CALLBACK_ID}_done`,
    title: plain(title, LIMITS.title),
    close: plain('Close', LIMITS.button),
    // The receipt's words only: its buttons (Cancel request) live in the DM, where a press can be answered (a
    // press in a modal has no response_url and no channel to answer in).
    blocks: msg.blocks
      .filter(
        (b) => b.type === 'section' || b.type === 'context' || b.type === 'header' || b.type === 'divider',
      )
      .map((b) => {
        if (b.type !== 'section' || b.accessory === undefined) return b;
        const { accessory: _button, ...words } = b;
        return words;
      })
      .slice(0, LIMITS.blocks),
  };
}

/** The modal shown while a submission is still being checked after Slack's deadline: the result follows by DM. */
export function formCheckingMessage(): SlackMessage {
  const text =
    ":hourglass_flowing_sand: Checking your request with the system takes longer than Slack waits. I'll send you a DM with what came of it.";
  return { text, blocks: [section(text)] };
}

/** A block_suggestion's answer: the options, or one that says the list is still loading (or could not be read). */
export function optionsAnswer(a: OptionsAnswer): { options: Option[] } {
  if (!a.ok) {
    const text =
      a.code === 'unknown-kind'
        ? 'Pick the kind of access again'
        : `Couldn't read the list${a.message ? `: ${a.message}` : ''}. Type again`;
    return { options: [option(text, LOADING_VALUE)] };
  }
  if (a.loading)
    return { options: [option('Still loading the list… type again in a moment', LOADING_VALUE)] };
  const options = a.options
    .slice(0, LIMITS.options)
    .map((o: FormOption) => option(o.label, o.value, o.description));
  return { options };
}
