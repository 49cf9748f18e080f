// The request form's listeners with a scripted app and a stand-in for views.*: the form opens right after the ack
// (help through response_url when Slack won't open it), a submission files exactly the FileInput the command builds,
// refusals come back inline on the field they are about in the command's words, filing that outlasts Slack's
// deadline is acked at once and finished by DM, and a changed kind re-renders the form under the view's hash.
import type { ModalView } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { AccessRequestApp } from '../../../src/app/access-requests.ts';
import type { FormKind, FormRule } from '../../../src/app/queries/options.ts';
import type { FileInput, FileOutcome } from '../../../src/app/use-cases/file-request.ts';
import type { RoleChangeRequest } from '../../../src/domain/request.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { handleQlikCommand } from '../../../src/slack/listeners/command.ts';
import {
  type FormViews,
  handleFormAction,
  handleFormOptions,
  handleFormShortcut,
  handleFormSubmission,
  placeErrors,
  type SubmissionAck,
} from '../../../src/slack/listeners/form.ts';
import { InFlight } from '../../../src/slack/listeners/inflight.ts';
import type { SlackMessage } from '../../../src/slack/messenger.ts';
import { encodeFormState } from '../../../src/slack/views/request-form.ts';
import { viewRequest } from '../fixtures.ts';

const logger = createLogger('silent');
const H = 3_600_000;

const TENANT: FormKind = {
  key: 'qlik-roles:default',
  kind: 'qlik-roles',
  instance: 'default',
  system: 'Qlik',
  instanceNoun: 'tenant',
  several: false,
};
const SPACES: FormKind = {
  ...TENANT,
  key: 'qlik-spaces:default',
  kind: 'qlik-spaces',
  resourceKind: 'space',
};
const RULE: FormRule = { durationsMs: [H, 4 * H], permanent: true, required: false, reasonRequired: false };

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const filed = (request: RoleChangeRequest): FileOutcome => ({
  ok: true,
  code: 'filed',
  request,
  autoApproved: false,
  approvalChannel: 'C0APPROVALS',
});

function harness(over: Partial<Record<keyof AccessRequestApp, unknown>> = {}) {
  const events: string[] = [];
  const filedInputs: FileInput[] = [];
  const opened: { triggerId: string; view: ModalView }[] = [];
  const updated: { viewId: string; view: ModalView; hash?: string }[] = [];
  const dms: { user: string; msg: SlackMessage }[] = [];
  const responded: SlackMessage[] = [];
  let openError: unknown;
  const views: FormViews = {
    async open(triggerId, view) {
      events.push('views.open');
      if (openError) throw openError;
      opened.push({ triggerId, view });
    },
    async update(viewId, view, hash) {
      events.push('views.update');
      updated.push({ viewId, view, ...(hash === undefined ? {} : { hash }) });
    },
  };
  const app = {
    formKinds: () => [TENANT, SPACES],
    formRule: () => RULE,
    checkFormGrant: () => ({ ok: true, rule: {} }),
    fileRequest: async (input: FileInput) => {
      filedInputs.push(input);
      return filed(viewRequest());
    },
    ...over,
  } as unknown as AccessRequestApp;
  const deps = {
    app,
    logger,
    inflight: new InFlight(),
    views,
    dm: async (user: string, msg: SlackMessage) => {
      events.push('dm');
      dms.push({ user, msg });
    },
    respond: async (_url: string, msg: SlackMessage) => {
      events.push('respond');
      responded.push(msg);
    },
  };
  return {
    deps,
    events,
    filedInputs,
    opened,
    updated,
    dms,
    responded,
    failOpen(e: unknown) {
      openError = e;
    },
  };
}

const command = (text: string) => ({
  user_id: 'U0DAN',
  channel_id: 'D0DAN',
  text,
  response_url: 'https://hooks.slack.com/commands/T1/1/x',
  command: '/qlik',
  trigger_id: '1.2.abc',
});

/** A view_submission of the form with these values (block_id → what Slack puts in state for it). */
function submission(values: Record<string, Record<string, unknown>>, user = 'U0DAN') {
  const state: Record<string, Record<string, unknown>> = {};
  for (const [block, v] of Object.entries(values)) state[block] = { [`form_${block}`]: v };
  return {
    type: 'view_submission',
    user: { id: user },
    view: {
      id: 'V1',
      callback_id: 'request_form',
      private_metadata: '{"k":"qlik-roles:default"}',
      state: { values: state },
    },
  };
}
const pick = (value: string) => ({
  type: 'static_select',
  selected_option: { value, text: { type: 'plain_text', text: value } },
});
const typed = (value: string) => ({ type: 'plain_text_input', value });
const user = (id: string) => ({ type: 'users_select', selected_user: id });

async function submit(h: ReturnType<typeof harness>, body: unknown, budgetMs?: number) {
  const acks: (SubmissionAck | undefined)[] = [];
  await handleFormSubmission(
    {
      body,
      ack: async (r) => {
        h.events.push('ack');
        acks.push(r);
      },
    },
    h.deps,
    budgetMs,
  );
  return acks;
}

describe('opening the form', () => {
  it('/qlik alone acks empty first, then opens the form with the trigger_id', async () => {
    const h = harness();
    const acks: unknown[] = [];
    await handleQlikCommand(
      {
        body: command(''),
        ack: async (r) => {
          h.events.push('ack');
          acks.push(r);
        },
      },
      h.deps,
    );
    expect(acks).toEqual([undefined]);
    expect(h.events).toEqual(['ack', 'views.open']);
    expect(h.opened[0]?.triggerId).toBe('1.2.abc');
    expect(h.opened[0]?.view.callback_id).toBe('request_form');
  });

  it('answers with the help, saying why, when Slack will not open the form', async () => {
    const h = harness();
    h.failOpen(
      Object.assign(new Error('An API error occurred: expired_trigger_id'), {
        data: { error: 'expired_trigger_id' },
      }),
    );
    await handleQlikCommand({ body: command('grant'), ack: async () => {} }, h.deps);
    expect(h.responded).toHaveLength(1);
    expect(JSON.stringify(h.responded[0])).toContain(
      "couldn't open the request form (Slack said expired_trigger_id)",
    );
    expect(JSON.stringify(h.responded[0])).toContain('/qlik grant');
  });

  it('opens it from the Request access shortcut, and says so by DM when it cannot', async () => {
    const h = harness();
    const body = {
      type: 'shortcut',
      callback_id: 'request_access',
      trigger_id: '1.2.def',
      user: { id: 'U0DAN' },
    };
    await handleFormShortcut({ body, ack: async () => void h.events.push('ack') }, h.deps);
    expect(h.events).toEqual(['ack', 'views.open']);
    h.failOpen(Object.assign(new Error('x'), { data: { error: 'exchanged_trigger_id' } }));
    await handleFormShortcut({ body, ack: async () => {} }, h.deps);
    expect(h.dms[0]?.user).toBe('U0DAN');
    expect(h.dms[0]?.msg.text).toContain('exchanged_trigger_id');
  });

  it("opens it from App Home's button", async () => {
    const h = harness();
    await handleFormAction(
      {
        body: {
          type: 'block_actions',
          user: { id: 'U0DAN' },
          trigger_id: '1.2.home',
          container: { type: 'view', view_id: 'VHOME' },
          actions: [{ action_id: 'open_request_form', type: 'button' }],
        },
        ack: async () => void h.events.push('ack'),
      },
      h.deps,
    );
    expect(h.events).toEqual(['ack', 'views.open']);
    expect(h.opened[0]?.triggerId).toBe('1.2.home');
  });
});

describe('re-rendering as choices change', () => {
  it('a new kind drops the old picks and shows its space field, guarded by the hash', async () => {
    const h = harness();
    await handleFormAction(
      {
        body: {
          type: 'block_actions',
          user: { id: 'U0DAN' },
          actions: [{ action_id: 'form_kind', selected_option: { value: 'qlik-spaces:default' } }],
          view: {
            id: 'V1',
            hash: '123.abc',
            callback_id: 'request_form',
            private_metadata: encodeFormState({ kind: 'qlik-roles:default', role: 'Steward' }),
            state: { values: { entitlement: { form_entitlement: pick('Steward') } } },
          },
        },
        ack: async () => {},
      },
      h.deps,
    );
    expect(h.updated).toHaveLength(1);
    expect(h.updated[0]).toMatchObject({ viewId: 'V1', hash: '123.abc' });
    const view = h.updated[0]!.view;
    expect(view.blocks.map((b) => b.block_id)).toContain('space');
    expect(JSON.parse(view.private_metadata ?? '')).toEqual({ k: 'qlik-spaces:default' });
  });
});

describe('suggestions', () => {
  it("answers the form's menus from the app and any other menu with an empty list", async () => {
    const asked: unknown[] = [];
    const h = harness({
      formOptions: async (q: unknown) => {
        asked.push(q);
        return {
          ok: true,
          options: [{ label: 'Steward', value: 'Steward' }],
          loading: false,
          stale: false,
          more: false,
        };
      },
    });
    const answers: unknown[] = [];
    const ack = async (r: unknown) => void answers.push(r);
    await handleFormOptions(
      {
        body: {
          type: 'block_suggestion',
          action_id: 'form_entitlement',
          value: 'stew',
          view: {
            callback_id: 'request_form',
            private_metadata: encodeFormState({ kind: 'qlik-spaces:default' }),
            state: { values: { space: { form_space: pick('Finance Reports') } } },
          },
        },
        ack,
      },
      h.deps,
    );
    expect(asked).toEqual([
      { kindKey: 'qlik-spaces:default', field: 'entitlement', text: 'stew', resource: 'Finance Reports' },
    ]);
    expect(answers[0]).toEqual({
      options: [{ text: { type: 'plain_text', text: 'Steward', emoji: true }, value: 'Steward' }],
    });
    await handleFormOptions(
      { body: { type: 'block_suggestion', action_id: 'other', value: 'x' }, ack },
      h.deps,
    );
    expect(answers[1]).toEqual({ options: [] });
    expect(asked).toHaveLength(1);
  });
});

describe('submitting', () => {
  it('files exactly the FileInput the command builds, for me, a person, an email and a group', async () => {
    const cases: [string, Record<string, Record<string, unknown>>][] = [
      [
        'grant me Steward for 4h because quarter close',
        {
          who_person: user('U0DAN'),
          kind: pick('qlik-roles:default'),
          entitlement: pick('Steward'),
          duration: pick(String(4 * H)),
          reason: typed('quarter close'),
        },
      ],
      [
        'grant <@U0FRANK> Steward',
        { who_person: user('U0FRANK'), kind: pick('qlik-roles:default'), entitlement: pick('Steward') },
      ],
      [
        'grant frank@corp.example Steward for 1h',
        {
          who_other: typed('frank@corp.example'),
          kind: pick('qlik-roles:default'),
          entitlement: pick('Steward'),
          duration: pick(String(H)),
        },
      ],
      [
        'grant group:"Data Engineering" consumer in space:"Finance Reports"',
        {
          who_person: user('U0DAN'),
          who_other: typed('Data Engineering'),
          kind: pick('qlik-spaces:default'),
          space: pick('Finance Reports'),
          entitlement: pick('consumer'),
        },
      ],
    ];
    for (const [text, values] of cases) {
      const byCommand = harness();
      await handleQlikCommand({ body: command(text), ack: async () => {} }, byCommand.deps);
      await byCommand.deps.inflight.drain(1_000);
      const byForm = harness();
      const acks = await submit(byForm, submission(values));
      expect(acks[0]?.response_action, text).toBe('update');
      expect(byForm.filedInputs, text).toEqual(byCommand.filedInputs);
      expect(byForm.filedInputs).toHaveLength(1);
    }
  });

  it("says what's missing or wrong per field without asking the app to file", async () => {
    const h = harness();
    const acks = await submit(
      h,
      submission({
        who_other: typed('not an @ email'),
        kind: pick('qlik-spaces:default'),
        entitlement: pick('~loading'),
        // The space field is shown and left empty: Slack sends it as null.
        space: { type: 'external_select', selected_option: null },
      }),
    );
    expect(acks).toEqual([
      {
        response_action: 'errors',
        errors: {
          who_other:
            "That is neither an email nor a group's name. Give an email (someone@example.com), or a group's exact name.",
          space: 'Pick the space.',
          entitlement: 'The list was still loading when you picked this; open it again and pick again.',
        },
      },
    ]);
    expect(h.filedInputs).toEqual([]);
  });

  it('puts an error about a field the submitted view lacks on the kind field, which Slack accepts', async () => {
    const h = harness();
    // The kind was changed to space roles and submitted before the form re-rendered with its space field.
    const body = submission({ kind: pick('qlik-spaces:default'), entitlement: pick('consumer') });
    const acks = await submit(h, {
      ...body,
      view: {
        ...body.view,
        blocks: ['who_person', 'who_other', 'kind', 'entitlement', 'duration', 'reason'].map((block_id) => ({
          type: 'input',
          block_id,
        })),
      },
    });
    expect(acks).toEqual([{ response_action: 'errors', errors: { kind: 'Pick the space.' } }]);
    expect(
      placeErrors({ space: 'a.', entitlement: 'b.', kind: 'c.' }, new Set(['kind', 'entitlement'])),
    ).toEqual({
      kind: 'a. c.',
      entitlement: 'b.',
    });
  });

  it("answers the policy's refusals at once, on the field, in the form's words", async () => {
    const h = harness({
      checkFormGrant: () => ({
        ok: false,
        code: 'max-duration',
        role: 'TenantAdmin',
        maxMs: 4 * H,
        askedMs: 24 * H,
      }),
    });
    const acks = await submit(
      h,
      submission({
        kind: pick('qlik-roles:default'),
        entitlement: pick('TenantAdmin'),
        duration: pick(String(24 * H)),
      }),
    );
    expect(acks[0]).toEqual({
      response_action: 'errors',
      errors: {
        duration:
          'TenantAdmin can be granted for at most 4 hours, and you asked for 1 day. Pick a shorter duration.',
      },
    });
    expect(h.filedInputs).toEqual([]);
  });

  it("puts the app's refusals on the field they are about, in the command's words", async () => {
    const outcomes: [FileOutcome, string, RegExp][] = [
      [
        { ok: false, code: 'unknown-role', role: 'Stew', system: 'Qlik', suggestions: ['Steward'] },
        'entitlement',
        /Qlik has no role Stew\./,
      ],
      [
        { ok: false, code: 'no-such-user', email: 'x@corp.example', system: 'Qlik' },
        'who_other',
        /No Qlik user has the email x@corp.example/,
      ],
      [
        {
          ok: false,
          code: 'resource-refused',
          system: 'Qlik',
          refusal: {
            ok: false,
            code: 'no-such-resource',
            resourceKind: 'space',
            name: 'Finanse',
            suggestions: [],
          },
        },
        'space',
        /Finanse/,
      ],
      [{ ok: false, code: 'store-unavailable', doing: 'filing' }, 'entitlement', /submit again to retry/],
    ];
    for (const [outcome, block, words] of outcomes) {
      const h = harness({ fileRequest: async () => outcome });
      const acks = await submit(
        h,
        submission({
          who_other: typed('x@corp.example'),
          kind: pick('qlik-spaces:default'),
          space: pick('Finanse'),
          entitlement: pick('Stew'),
        }),
      );
      const ack = acks[0] as Extract<SubmissionAck, { response_action: 'errors' }>;
      expect(ack.response_action, outcome.code).toBe('errors');
      expect(Object.keys(ack.errors), outcome.code).toEqual([block]);
      expect(ack.errors[block]).toMatch(words);
      expect(ack.errors[block]).not.toContain('`');
    }
  });

  it('says so in place of the form when it is already pending', async () => {
    const h = harness({
      fileRequest: async () => ({ ok: false, code: 'duplicate', duplicateOf: viewRequest() }),
    });
    const acks = await submit(
      h,
      submission({ kind: pick('qlik-roles:default'), entitlement: pick('Steward') }),
    );
    expect(acks[0]?.response_action).toBe('update');
    expect(JSON.stringify(acks[0])).toContain('already pending');
    expect(h.dms).toEqual([]);
  });

  it("acks before Slack's deadline when filing is slow, and sends the receipt by DM once it is filed", async () => {
    const slow = deferred<FileOutcome>();
    const h = harness({ fileRequest: () => slow.promise });
    const acked = deferred<SubmissionAck | undefined>();
    const handled = handleFormSubmission(
      {
        body: submission({ kind: pick('qlik-roles:default'), entitlement: pick('Steward') }),
        ack: async (r) => acked.resolve(r),
      },
      h.deps,
      20,
    );
    // The ack comes while the filing is still under way.
    expect(JSON.stringify(await acked.promise)).toContain("I'll send you a DM");
    expect(h.dms).toEqual([]);
    slow.resolve(filed(viewRequest()));
    await handled;
    expect(h.dms).toHaveLength(1);
    expect(h.dms[0]?.msg.text).toContain('R-7KQ2');
  });
});
