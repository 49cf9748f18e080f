// Owns the Slack fake's views: the trigger_ids interactions hand out (one use, 3 s), every user's modal stack and
// published Home tab, the checks views.open / views.push / views.update / views.publish make on a view, the view
// objects they answer, and what a view_submission's ack (`response_action`) or the user's Close does to a stack.
// Shapes and limits follow docs.slack.dev (reference/methods/views.*, reference/views/modal-views,
// surfaces/modals, reference/interaction-payloads/view-interactions-payload); where Slack documents no behaviour,
// the choice is said where it is made.
import { randomBytes } from 'node:crypto';
import { checkBlocks, withBlockIds } from './block-limits.ts';

/** The documented limits of views and their lifecycle. */
export const VIEW_LIMITS = {
  /** "title … plain_text … max length of 24 characters"; the same for `submit` and `close` (modal-views). */
  titleText: 24,
  submitText: 24,
  closeText: 24,
  /** "An array of blocks … Max of 100 blocks" for modals and Home tabs. */
  blocks: 100,
  /** "private_metadata … Max length of 3000 characters." */
  privateMetadata: 3000,
  /** "callback_id … Max length of 255 characters." */
  callbackId: 255,
  /** views.open: external_id "must be unique for all views on a team, and it has a max length of 255 characters". */
  externalId: 255,
  /** view_too_large: "the provided view is greater than 250kb". */
  viewBytes: 250 * 1024,
  /** views.push: "After a modal is opened, the app is limited to pushing 2 additional views" (push_limit_reached). */
  stackDepth: 3,
  /** trigger_ids expire three seconds after the interaction that made them (surfaces/modals). */
  triggerTtlMs: 3000,
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

/** One input's value in `view.state.values[block_id][action_id]`, as Slack sends it (`type` plus its value field). */
export type StateValue = { type: string } & Obj;
export type StateValues = Record<string /* block_id */, Record<string /* action_id */, StateValue>>;

/** A view object as Slack answers it (views.* responses) and puts it in payloads (view_submission, block_actions). */
export interface SlackViewObject {
  id: string /* V… */;
  team_id: string;
  type: 'modal' | 'home';
  title?: PlainText;
  submit: PlainText | null;
  close: PlainText | null;
  blocks: unknown[];
  private_metadata: string;
  callback_id: string;
  state: { values: StateValues };
  hash: string;
  clear_on_close: boolean;
  notify_on_close: boolean;
  submit_disabled?: boolean;
  root_view_id: string;
  previous_view_id: string | null;
  app_id: string;
  external_id: string;
  app_installed_team_id: string;
  bot_id: string;
}

/** A view the fake keeps: the object Slack would answer plus what the fake saw happen to it. */
export interface FakeView {
  /** The current view object (a live reference: read it, do not change it). */
  view: SlackViewObject;
  userId: string;
  /** The errors the app's last `response_action: errors` showed, per block_id; cleared when the view changes. */
  errors?: Record<string, string>;
  openedAt: number;
  closedAt?: number;
  /**
   * `submitted`: the app's ack closed it; `cleared`: a `clear` (or clear_on_close) closed the whole stack;
   * `user`: the user pressed Close; `replaced`: views.open opened a new modal over it.
   */
  closedBy?: 'submitted' | 'cleared' | 'user' | 'replaced';
}

export interface TriggerOptions {
  /** How long ago the interaction happened (to test expiry without waiting); default 0. */
  ageMs?: number;
  /** The view the interaction happened in (a button in a modal, a submission): views.push may use it. */
  viewId?: string;
}

/** An error a Web API call answers (views.* here, every method in web-api.ts): `{ok:false, error: code, ...extra}`. */
export class ApiError extends Error {
  readonly code: string;
  readonly extra: Obj;
  constructor(code: string, extra: Obj = {}) {
    super(code);
    this.code = code;
    this.extra = extra;
  }
}

/** Slack's `invalid_arguments` answer: each problem as `[ERROR] … [json-pointer:/view/…]`. */
function invalidArguments(problems: string[]): ApiError {
  return new ApiError('invalid_arguments', {
    response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) },
  });
}

/** What the app's ack of a view_submission did to the modal. */
export interface ViewResponseOutcome {
  /** `close` is the empty ack (the submitted view closes, the one beneath shows). */
  action: 'close' | 'errors' | 'update' | 'push' | 'clear';
  /** Set when Slack would refuse the answer (the modal then stays as it was, showing Slack's error). */
  failure?: string;
  /** The view on top of the user's stack afterwards, if any. */
  top?: FakeView;
}

export interface ViewStoreOptions {
  teamId: string;
  appId: string;
  botId: string;
  now: () => number;
  /** Whether the user exists in the workspace (views.publish). */
  userExists: (id: string) => boolean;
}

export interface ViewStore {
  /** A trigger_id the fake will accept once, within 3 s of `now - ageMs`, for that user's views.open / views.push. */
  issueTrigger(userId: string, opts?: TriggerOptions): string;
  open(args: Obj): SlackViewObject;
  push(args: Obj): SlackViewObject;
  update(args: Obj): SlackViewObject;
  publish(args: Obj): SlackViewObject;
  /** The user's open modal stack, root first (empty when no modal is open). */
  openViews(userId: string): FakeView[];
  /** The user's published Home tab, if the app published one. */
  homeView(userId: string): FakeView | undefined;
  /** Any view the fake made (open, closed, or a Home tab) by id. */
  findView(viewId: string): FakeView | undefined;
  /** Sets what the user entered (the driver builds it for a submission or a click). */
  setState(viewId: string, values: StateValues): void;
  /** Carries out the app's ack of a view_submission of the user's top view. */
  applySubmissionAck(userId: string, viewId: string, ack: Obj | undefined): ViewResponseOutcome;
  /** The user presses Close on their top view: it closes (the whole stack with clear_on_close). */
  closeByUser(userId: string, viewId: string): { closed: FakeView[]; isCleared: boolean };
  /** Forgets every view and trigger. */
  clear(): void;
}

interface Trigger {
  userId: string;
  createdAt: number;
  used: boolean;
  viewId?: string;
}

// Slack's documented format: "The expected format for the trigger_id argument is "132456.7890123.abcdef"".
const TRIGGER_FORMAT = /^\d+\.\d+\.[0-9a-f]+$/;

function newViewId(): string {
  return `V${randomBytes(6).toString('hex').toUpperCase().slice(0, 10)}`;
}

export function createViewStore(opts: ViewStoreOptions): ViewStore {
  const triggers = new Map<string, Trigger>();
  const views = new Map<string, FakeView>();
  const stacks = new Map<string, FakeView[]>();
  const homes = new Map<string, FakeView>();
  /** Every external_id used since the last clear: Slack wants them unique for all views on a team. */
  const externalIds = new Map<string, string /* view id */>();
  let hashSeq = 0;

  // A hash like Slack's "156772938.1827394": changes whenever the view does, so a stale one is detectable.
  function newHash(): string {
    hashSeq += 1;
    return `${Math.floor(opts.now() / 1000)}.${String(hashSeq).padStart(4, '0')}${randomBytes(2).toString('hex')}`;
  }

  function exchangeTrigger(raw: unknown): Trigger {
    if (raw === undefined || raw === '')
      throw invalidArguments(['missing required field: trigger_id [json-pointer:/trigger_id]']);
    if (typeof raw !== 'string' || !TRIGGER_FORMAT.test(raw)) throw new ApiError('invalid_trigger_id');
    const t = triggers.get(raw);
    // A well-formed id no interaction made is as good as a malformed one to Slack.
    if (!t) throw new ApiError('invalid_trigger_id');
    if (t.used) throw new ApiError('exchanged_trigger_id');
    if (opts.now() - t.createdAt > VIEW_LIMITS.triggerTtlMs) throw new ApiError('expired_trigger_id');
    t.used = true;
    return t;
  }

  function parseViewArg(raw: unknown): Obj {
    if (raw === undefined || raw === '')
      throw invalidArguments(['missing required field: view [json-pointer:/view]']);
    let v = raw;
    if (typeof raw === 'string') {
      try {
        v = JSON.parse(raw);
      } catch {
        throw invalidArguments(['view must be a JSON object [json-pointer:/view]']);
      }
    }
    if (!isObj(v)) throw invalidArguments(['view must be a JSON object [json-pointer:/view]']);
    if (Buffer.byteLength(JSON.stringify(v)) > VIEW_LIMITS.viewBytes) throw new ApiError('view_too_large');
    return v;
  }

  /** Checks a view as the views.* methods do; answers invalid_arguments listing every problem. */
  function checkView(v: Obj, surface: 'modal' | 'home'): unknown[] {
    const problems: string[] = [];
    const at = (msg: string, pointer: string) => problems.push(`${msg} [json-pointer:/view${pointer}]`);
    if (v.type !== surface) at(`must be ${surface}`, '/type');
    const text = (field: 'title' | 'submit' | 'close', max: number, required: boolean) => {
      const t = v[field];
      if (t === undefined || t === null) {
        if (required) at('missing required field', `/${field}`);
        return;
      }
      if (!isObj(t) || t.type !== 'plain_text') {
        at('must be a plain_text text object', `/${field}`);
        return;
      }
      if (typeof t.text !== 'string' || t.text.length === 0)
        at('must be more than 0 characters', `/${field}/text`);
      else if (t.text.length > max) at(`must be less than ${max + 1} characters`, `/${field}/text`);
    };
    const blocks = Array.isArray(v.blocks) ? v.blocks : undefined;
    if (surface === 'modal') {
      text('title', VIEW_LIMITS.titleText, true);
      // "submit is required when an input block is within the blocks array."
      const hasInput = (blocks ?? []).some((b) => isObj(b) && b.type === 'input');
      text('submit', VIEW_LIMITS.submitText, hasInput);
      text('close', VIEW_LIMITS.closeText, false);
    }
    const str = (field: string, max: number) => {
      const s = v[field];
      if (s === undefined) return;
      if (typeof s !== 'string') at('must be a string', `/${field}`);
      else if (s.length > max) at(`must be less than ${max + 1} characters`, `/${field}`);
    };
    str('private_metadata', VIEW_LIMITS.privateMetadata);
    str('callback_id', VIEW_LIMITS.callbackId);
    str('external_id', VIEW_LIMITS.externalId);
    let checked: unknown[] = [];
    if (blocks === undefined) at('missing required field', '/blocks');
    else {
      const check = checkBlocks(blocks, { maxBlocks: VIEW_LIMITS.blocks, pointer: '/view/blocks' });
      if (!check.ok) problems.push(...check.errors);
      else checked = check.blocks;
    }
    if (problems.length > 0) throw invalidArguments(problems);
    return withActionIds(withBlockIds(checked));
  }

  function claimExternalId(externalId: string, viewId: string): void {
    if (externalId === '') return;
    const owner = externalIds.get(externalId);
    if (owner !== undefined && owner !== viewId) throw new ApiError('duplicate_external_id');
  }

  function makeView(
    v: Obj,
    blocks: unknown[],
    surface: 'modal' | 'home',
    id: string,
    rootId: string,
    previousId: string | null,
  ): SlackViewObject {
    const plain = (t: unknown): PlainText | null =>
      isObj(t) ? { type: 'plain_text', text: String(t.text), emoji: t.emoji !== false } : null;
    const out: SlackViewObject = {
      id,
      team_id: opts.teamId,
      type: surface,
      submit: surface === 'modal' ? plain(v.submit) : null,
      close: surface === 'modal' ? plain(v.close) : null,
      blocks,
      private_metadata: typeof v.private_metadata === 'string' ? v.private_metadata : '',
      callback_id: typeof v.callback_id === 'string' ? v.callback_id : '',
      state: { values: {} },
      hash: newHash(),
      clear_on_close: v.clear_on_close === true,
      notify_on_close: v.notify_on_close === true,
      root_view_id: rootId,
      previous_view_id: previousId,
      app_id: opts.appId,
      external_id: typeof v.external_id === 'string' ? v.external_id : '',
      app_installed_team_id: opts.teamId,
      bot_id: opts.botId,
    };
    if (surface === 'modal') out.title = plain(v.title)!;
    if (v.submit_disabled === true) out.submit_disabled = true;
    return out;
  }

  function record(view: SlackViewObject, userId: string): FakeView {
    const fv: FakeView = { view, userId, openedAt: opts.now() };
    views.set(view.id, fv);
    if (view.external_id !== '') externalIds.set(view.external_id, view.id);
    return fv;
  }

  function closeAll(stack: FakeView[], by: NonNullable<FakeView['closedBy']>): FakeView[] {
    const closed = stack.splice(0);
    for (const fv of closed) {
      fv.closedAt = opts.now();
      fv.closedBy = by;
    }
    return closed;
  }

  function stackOf(userId: string): FakeView[] {
    let s = stacks.get(userId);
    if (!s) {
      s = [];
      stacks.set(userId, s);
    }
    return s;
  }

  /** Replaces a view's content in place (views.update, response_action update): same id, new hash. */
  function replaceContent(fv: FakeView, v: Obj, blocks: unknown[]): void {
    const old = fv.view;
    const externalId = typeof v.external_id === 'string' ? v.external_id : old.external_id;
    claimExternalId(externalId, old.id);
    const next = makeView(
      { ...v, external_id: externalId },
      blocks,
      old.type,
      old.id,
      old.root_view_id,
      old.previous_view_id,
    );
    // "Data entered or selected in input blocks can be preserved while updating views": the same block_id and
    // action_id keep what the user entered; anything else is gone.
    next.state.values = keepState(old.state.values, blocks);
    if (old.external_id !== '' && old.external_id !== externalId) externalIds.delete(old.external_id);
    if (externalId !== '') externalIds.set(externalId, old.id);
    fv.view = next;
    delete fv.errors;
  }

  function pushOnto(stack: FakeView[], v: Obj, blocks: unknown[], userId: string): FakeView {
    if (stack.length >= VIEW_LIMITS.stackDepth) throw new ApiError('push_limit_reached');
    const below = stack.at(-1)!;
    const id = newViewId();
    claimExternalId(typeof v.external_id === 'string' ? v.external_id : '', id);
    const fv = record(makeView(v, blocks, 'modal', id, below.view.root_view_id, below.view.id), userId);
    stack.push(fv);
    return fv;
  }

  function liveModal(viewId: string): FakeView | undefined {
    const fv = views.get(viewId);
    return fv && fv.view.type === 'modal' && fv.closedAt === undefined ? fv : undefined;
  }

  const store: ViewStore = {
    issueTrigger(userId, o = {}) {
      // A long sandbox session makes a trigger per click: forget those long past any use.
      for (const [id, t] of triggers)
        if (opts.now() - t.createdAt > 100 * VIEW_LIMITS.triggerTtlMs) triggers.delete(id);
      const createdAt = opts.now() - (o.ageMs ?? 0);
      const id = `${Math.floor(createdAt / 1000)}.${Math.floor(Math.random() * 1e10)}.${randomBytes(16).toString('hex')}`;
      triggers.set(id, { userId, createdAt, used: false, ...(o.viewId ? { viewId: o.viewId } : {}) });
      return id;
    },

    open(args) {
      const v = parseViewArg(args.view);
      const blocks = checkView(v, 'modal');
      const trigger = exchangeTrigger(args.trigger_id);
      const id = newViewId();
      claimExternalId(typeof v.external_id === 'string' ? v.external_id : '', id);
      const stack = stackOf(trigger.userId);
      // Slack documents no answer for views.open while a modal is open (the user cannot reach a message behind
      // it, but a button inside the modal can hand out a trigger): the fake shows the new modal in its place.
      closeAll(stack, 'replaced');
      const fv = record(makeView(v, blocks, 'modal', id, id, null), trigger.userId);
      stack.push(fv);
      return fv.view;
    },

    push(args) {
      const v = parseViewArg(args.view);
      const blocks = checkView(v, 'modal');
      const trigger = exchangeTrigger(args.trigger_id);
      const stack = stackOf(trigger.userId);
      // A pushed view goes on an open modal; with none there is no "root view" to push onto.
      if (stack.length === 0) throw new ApiError('not_found');
      return pushOnto(stack, v, blocks, trigger.userId).view;
    },

    update(args) {
      const viewId = typeof args.view_id === 'string' && args.view_id !== '' ? args.view_id : undefined;
      const externalId =
        typeof args.external_id === 'string' && args.external_id !== '' ? args.external_id : undefined;
      if (viewId === undefined && externalId === undefined)
        throw invalidArguments(['either view_id or external_id is required [json-pointer:/view_id]']);
      const v = parseViewArg(args.view);
      const blocks = checkView(v, 'modal');
      const target = viewId ?? externalIds.get(externalId!);
      const fv = target === undefined ? undefined : liveModal(target);
      if (!fv) throw new ApiError('not_found');
      if (typeof args.hash === 'string' && args.hash !== '' && args.hash !== fv.view.hash)
        throw new ApiError('hash_conflict');
      replaceContent(fv, v, blocks);
      return fv.view;
    },

    publish(args) {
      const userId = typeof args.user_id === 'string' ? args.user_id : '';
      if (userId === '') throw invalidArguments(['missing required field: user_id [json-pointer:/user_id]']);
      const v = parseViewArg(args.view);
      const blocks = checkView(v, 'home');
      // Slack's list for views.publish names no error for an unknown user; the fake answers user_not_found.
      if (!opts.userExists(userId)) throw new ApiError('user_not_found');
      const current = homes.get(userId);
      if (typeof args.hash === 'string' && args.hash !== '' && args.hash !== current?.view.hash)
        throw new ApiError('hash_conflict');
      if (current) {
        // A user has one Home tab per app: publishing again replaces its content under the same view id.
        replaceContent(current, v, blocks);
        current.view.state.values = {};
        return current.view;
      }
      const id = newViewId();
      claimExternalId(typeof v.external_id === 'string' ? v.external_id : '', id);
      const fv = record(makeView(v, blocks, 'home', id, id, null), userId);
      homes.set(userId, fv);
      return fv.view;
    },

    openViews: (userId) => [...(stacks.get(userId) ?? [])],
    homeView: (userId) => homes.get(userId),
    findView: (viewId) => views.get(viewId),

    setState(viewId, values) {
      const fv = views.get(viewId);
      if (fv) fv.view.state = { values: structuredClone(values) };
    },

    applySubmissionAck(userId, viewId, ack) {
      const stack = stackOf(userId);
      const top = stack.at(-1);
      if (!top || top.view.id !== viewId)
        throw new Error(`slack fake: ${viewId} is not ${userId}'s top view`);
      const fail = (action: ViewResponseOutcome['action'], failure: string): ViewResponseOutcome => ({
        action,
        failure,
        top,
      });
      const action = ack?.response_action;
      if (action === undefined || action === null || action === '') {
        // The empty ack closes the submitted view; the one beneath it (if any) shows again.
        stack.pop();
        top.closedAt = opts.now();
        top.closedBy = 'submitted';
        const now = stack.at(-1);
        return { action: 'close', ...(now ? { top: now } : {}) };
      }
      if (action === 'clear') {
        closeAll(stack, 'cleared');
        return { action: 'clear' };
      }
      if (action === 'errors') {
        const errors = ack?.errors;
        if (!isObj(errors) || Object.keys(errors).length === 0)
          return fail('errors', 'response_action errors needs an errors object of block_id → message');
        const inputs = new Set(
          top.view.blocks.filter((b) => isObj(b) && b.type === 'input').map((b) => (b as Obj).block_id),
        );
        for (const [blockId, message] of Object.entries(errors)) {
          if (!inputs.has(blockId))
            return fail('errors', `errors names block_id "${blockId}", which is no input block of the view`);
          if (typeof message !== 'string' || message === '')
            return fail('errors', `the error for block_id "${blockId}" must be a non-empty string`);
        }
        top.errors = errors as Record<string, string>;
        return { action: 'errors', top };
      }
      if (action === 'update' || action === 'push') {
        let v: Obj;
        let blocks: unknown[];
        try {
          v = parseViewArg(ack?.view);
          blocks = checkView(v, 'modal');
          if (action === 'update') replaceContent(top, v, blocks);
          else return { action, top: pushOnto(stack, v, blocks, userId) };
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          const messages = (e.extra.response_metadata as { messages?: string[] } | undefined)?.messages;
          return fail(action, `${e.code}${messages ? `: ${messages.join('; ')}` : ''}`);
        }
        return { action, top };
      }
      return fail('errors', `unknown response_action ${JSON.stringify(action)}`);
    },

    closeByUser(userId, viewId) {
      const stack = stackOf(userId);
      const top = stack.at(-1);
      if (!top || top.view.id !== viewId)
        throw new Error(`slack fake: ${viewId} is not ${userId}'s top view`);
      if (top.view.clear_on_close) return { closed: closeAll(stack, 'user'), isCleared: true };
      stack.pop();
      top.closedAt = opts.now();
      top.closedBy = 'user';
      return { closed: [top], isCleared: false };
    },

    clear() {
      triggers.clear();
      views.clear();
      stacks.clear();
      homes.clear();
      externalIds.clear();
    },
  };
  return store;
}

/** Gives every input element without an action_id one, as Slack generates them (state.values is keyed by it). */
function withActionIds(blocks: unknown[]): unknown[] {
  return blocks.map((b) => {
    if (!isObj(b) || b.type !== 'input' || !isObj(b.element) || typeof b.element.action_id === 'string')
      return b;
    return { ...b, element: { ...b.element, action_id: randomBytes(3).toString('base64url') } };
  });
}

/** The part of old state whose block_id, action_id and element type are still in the new blocks. */
function keepState(old: StateValues, blocks: unknown[]): StateValues {
  const out: StateValues = {};
  for (const b of blocks) {
    if (!isObj(b) || typeof b.block_id !== 'string') continue;
    const kept = old[b.block_id];
    if (!kept) continue;
    const els = b.type === 'input' ? [b.element] : Array.isArray(b.elements) ? b.elements : [b.accessory];
    for (const el of els) {
      if (!isObj(el) || typeof el.action_id !== 'string') continue;
      const value = kept[el.action_id];
      if (value && value.type === el.type) {
        out[b.block_id] ??= {};
        out[b.block_id]![el.action_id] = value;
      }
    }
  }
  return out;
}

/** An input block of a view, with its element. */
export interface ViewInput {
  blockId: string;
  actionId: string;
  type: string;
  optional: boolean;
  element: Obj;
}

export function viewInputs(view: SlackViewObject): ViewInput[] {
  const out: ViewInput[] = [];
  for (const b of view.blocks) {
    if (!isObj(b) || b.type !== 'input' || !isObj(b.element)) continue;
    out.push({
      blockId: String(b.block_id),
      actionId: String(b.element.action_id),
      type: String(b.element.type),
      optional: b.optional === true,
      element: b.element,
    });
  }
  return out;
}

/** An option as a select menu holds it (text is plain_text in selects). */
export interface MenuOption {
  text: PlainText;
  value: string;
  description?: PlainText;
}

/** What a person enters into one input: text, a picked value, or several picked values. */
export type EnteredValue = string | string[];

/** The options a static select or checkbox/radio element lists, flattened out of option_groups. */
function listedOptions(el: Obj): Obj[] {
  const direct = Array.isArray(el.options) ? el.options : [];
  const grouped = Array.isArray(el.option_groups)
    ? el.option_groups.flatMap((g) => (isObj(g) && Array.isArray(g.options) ? g.options : []))
    : [];
  return [...direct, ...grouped].filter(isObj);
}

/**
 * Builds `view.state.values` for a submission: every input block of the view, with what the user entered (keyed by
 * block_id) or Slack's empty value. Throws when a value names no input, a required input is left empty, or a pick is
 * not one of the element's options (for external selects: one the app suggested, or the initial option).
 */
export function submissionState(
  view: SlackViewObject,
  entered: Record<string, EnteredValue>,
  suggested: (actionId: string) => MenuOption[],
): StateValues {
  const inputs = viewInputs(view);
  const byBlock = new Map(inputs.map((i) => [i.blockId, i]));
  for (const key of Object.keys(entered)) {
    if (!byBlock.has(key)) {
      throw new Error(
        `slack driver: view ${view.id} has no input block ${key} (inputs: ${inputs.map((i) => i.blockId).join(', ') || 'none'})`,
      );
    }
  }
  const values: StateValues = {};
  for (const input of inputs) {
    const raw = entered[input.blockId];
    const empty = raw === undefined || raw === '' || (Array.isArray(raw) && raw.length === 0);
    if (empty && !input.optional)
      throw new Error(`slack driver: the required input ${input.blockId} of view ${view.id} is empty`);
    // Slack sends an input left empty as null (or an empty list), never as ''.
    const list = empty ? [] : Array.isArray(raw) ? raw : [raw];
    const one = list[0];
    const pick = (value: string): MenuOption => {
      const el = input.element;
      const candidates: Obj[] =
        input.type === 'external_select' || input.type === 'multi_external_select'
          ? [
              ...suggested(input.actionId).map((o) => ({ ...o }) as Obj),
              ...(isObj(el.initial_option) ? [el.initial_option] : []),
              ...(Array.isArray(el.initial_options) ? el.initial_options.filter(isObj) : []),
            ]
          : listedOptions(el);
      const found = candidates.find((o) => o.value === value);
      if (!found) {
        throw new Error(
          `slack driver: ${value} is not an option of ${input.blockId}/${input.actionId} (${candidates.map((o) => o.value).join(', ') || 'no options offered'})`,
        );
      }
      return structuredClone(found) as unknown as MenuOption;
    };
    const v: StateValue = { type: input.type };
    switch (input.type) {
      case 'static_select':
      case 'external_select':
      case 'radio_buttons':
        v.selected_option = one === undefined ? null : pick(one);
        break;
      case 'multi_static_select':
      case 'multi_external_select':
      case 'checkboxes':
        v.selected_options = list.map(pick);
        break;
      case 'users_select':
        v.selected_user = one ?? null;
        break;
      case 'multi_users_select':
        v.selected_users = list;
        break;
      case 'conversations_select':
        v.selected_conversation = one ?? null;
        break;
      case 'multi_conversations_select':
        v.selected_conversations = list;
        break;
      case 'channels_select':
        v.selected_channel = one ?? null;
        break;
      case 'multi_channels_select':
        v.selected_channels = list;
        break;
      case 'datepicker':
        v.selected_date = one ?? null;
        break;
      case 'timepicker':
        v.selected_time = one ?? null;
        break;
      default:
        // Text inputs (plain_text_input, email/url/number inputs) carry `value`.
        if (Array.isArray(raw))
          throw new Error(`slack driver: ${input.blockId} is a ${input.type}: give one string`);
        if (input.type === 'plain_text_input') checkTextLength(input, one);
        v.value = one ?? null;
    }
    values[input.blockId] = { [input.actionId]: v };
  }
  return values;
}

/** Slack will not let a person submit text outside the input's min_length / max_length. */
function checkTextLength(input: ViewInput, text: string | undefined): void {
  if (text === undefined) return;
  const { min_length: min, max_length: max } = input.element;
  if (typeof max === 'number' && text.length > max)
    throw new Error(`slack driver: ${input.blockId} takes at most ${max} characters (got ${text.length})`);
  if (typeof min === 'number' && text.length < min)
    throw new Error(`slack driver: ${input.blockId} takes at least ${min} characters (got ${text.length})`);
}
