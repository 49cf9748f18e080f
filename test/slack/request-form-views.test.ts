// The request form's Block Kit: for any kinds, state and rule the form is a modal Slack accepts (checked by the
// Slack fake's views.open, which applies Slack's documented limits), its fields follow the kind and the rule, its
// private_metadata round-trips and refuses what it did not write, and an options answer always fits Slack's menu.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FormKind, FormRule, OptionsAnswer } from '../../src/app/queries/options.ts';
import { checkOptionsAnswer } from '../../src/sandbox/slack-fake/driver.ts';
import { createViewStore } from '../../src/sandbox/slack-fake/views.ts';
import {
  decodeFormState,
  encodeFormState,
  FORM_BLOCKS,
  type FormState,
  formResultView,
  kindLabel,
  LOADING_VALUE,
  optionsAnswer,
  requestFormView,
} from '../../src/slack/views/request-form.ts';
import { duplicateRequestMessage, requestFiledMessage } from '../../src/slack/views.ts';
import { viewRequest } from './fixtures.ts';

const H = 3_600_000;

function store() {
  return createViewStore({
    teamId: 'T0FAKE',
    appId: 'A0FAKE',
    botId: 'B0FAKE',
    now: Date.now,
    userExists: () => true,
  });
}

/** Opens the view as Slack's views.open would, throwing Slack's error when it would refuse it. */
function opens(view: unknown): void {
  const s = store();
  const trigger_id = s.issueTrigger('U0ANY');
  s.open({ trigger_id, view });
}

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
const OPEN_RULE: FormRule = {
  durationsMs: [H, 4 * H],
  permanent: true,
  required: false,
  reasonRequired: false,
};

function blockIds(view: { blocks: unknown[] }): string[] {
  return view.blocks.map((b) => (b as { block_id?: string }).block_id ?? '');
}

const text = fc.string({ maxLength: 400 });
const kindArb: fc.Arbitrary<FormKind> = fc.record(
  {
    key: fc.string({ minLength: 1, maxLength: 300 }),
    kind: fc.oneof(fc.constantFrom('qlik-roles', 'qlik-spaces', 'mode-groups', 'mode-collections'), text),
    instance: text,
    system: text,
    instanceNoun: text,
    resourceKind: text,
    several: fc.boolean(),
  },
  { requiredKeys: ['key', 'kind', 'instance', 'system', 'instanceNoun', 'several'] },
);
const ruleArb: fc.Arbitrary<FormRule> = fc.record(
  {
    durationsMs: fc.array(fc.integer({ min: 1, max: 400 * 24 * H }), { maxLength: 150 }),
    permanent: fc.boolean(),
    required: fc.boolean(),
    reasonRequired: fc.boolean(),
    maxMs: fc.integer({ min: 1, max: 400 * 24 * H }),
  },
  { requiredKeys: ['durationsMs', 'permanent', 'required', 'reasonRequired'] },
);

describe('requestFormView', () => {
  it('is a modal Slack accepts for arbitrary kinds, state and rule', () => {
    fc.assert(
      fc.property(
        fc.array(kindArb, { minLength: 1, maxLength: 120 }),
        fc.record({ kind: text, space: text, role: text }, { requiredKeys: ['kind'] }),
        ruleArb,
        fc.oneof(fc.constant('U0FRANK'), text),
        (kinds, state, rule, requester) => {
          const view = requestFormView({ kinds, state, rule, requester });
          opens(view);
          // Whatever it was given, the form still says what it shows.
          expect(decodeFormState(view.private_metadata)?.kind).toBeDefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('asks for a space only for a kind whose roles live in spaces, and keeps what was picked', () => {
    const plain = requestFormView({
      kinds: [TENANT, SPACES],
      state: { kind: TENANT.key },
      rule: OPEN_RULE,
      requester: 'U0FRANK',
    });
    expect(blockIds(plain)).toEqual(['who_person', 'who_other', 'kind', 'entitlement', 'duration', 'reason']);
    const inSpace = requestFormView({
      kinds: [TENANT, SPACES],
      state: { kind: SPACES.key, space: 'Finance Reports', role: 'consumer' },
      rule: OPEN_RULE,
      requester: 'U0FRANK',
    });
    expect(blockIds(inSpace)).toContain(FORM_BLOCKS.space);
    expect(JSON.stringify(inSpace)).toContain(
      '"initial_option":{"text":{"type":"plain_text","text":"Finance Reports"',
    );
    expect(decodeFormState(inSpace.private_metadata)).toEqual({
      kind: SPACES.key,
      space: 'Finance Reports',
      role: 'consumer',
    });
    opens(inSpace);
  });

  it("offers the rule's durations and makes duration and reason optional exactly when the command may leave them out", () => {
    const blockOf = (rule: FormRule, id: string) =>
      requestFormView({
        kinds: [TENANT],
        state: { kind: TENANT.key, role: 'X' },
        rule,
        requester: 'U0A',
      }).blocks.find((b) => (b as { block_id?: string }).block_id === id) as {
        optional?: boolean;
        hint?: { text: string };
        element: { options?: { value: string }[] };
      };
    const capped: FormRule = {
      durationsMs: [H, 4 * H],
      permanent: false,
      required: false,
      reasonRequired: true,
      maxMs: 4 * H,
    };
    expect(blockOf(capped, 'duration').element.options?.map((o) => o.value)).toEqual([
      String(H),
      String(4 * H),
    ]);
    expect(blockOf(capped, 'duration').optional).toBe(true);
    expect(blockOf(capped, 'duration').hint?.text).toContain(
      'Leave it empty for the longest allowed: 4 hours',
    );
    expect(blockOf(capped, 'reason').optional).toBe(false);
    const required = { ...capped, required: true, reasonRequired: false };
    expect(blockOf(required, 'duration').optional).toBe(false);
    expect(blockOf(required, 'reason').optional).toBe(true);
    expect(blockOf(OPEN_RULE, 'duration').hint?.text).toContain('permanent');
  });

  it('names kinds by their system, and the instance when several are configured', () => {
    expect(kindLabel(TENANT)).toBe('Qlik tenant role');
    expect(kindLabel({ ...SPACES, several: true, instance: 'dev' })).toBe('Qlik space role (tenant dev)');
    // A kind this build has no words for still gets a name from its target's words.
    expect(kindLabel({ ...TENANT, kind: 'looker-groups', system: 'Looker' })).toBe('Looker access');
  });
});

describe('the form state in private_metadata', () => {
  it('round-trips and refuses anything it did not write', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            kind: fc.string({ minLength: 1, maxLength: 150 }),
            space: fc.string({ minLength: 1, maxLength: 150 }),
            role: fc.string({ minLength: 1, maxLength: 150 }),
          },
          { requiredKeys: ['kind'] },
        ),
        (s: FormState) => {
          expect(decodeFormState(encodeFormState(s))).toEqual(s);
        },
      ),
    );
    for (const junk of [undefined, '', 'null', '[]', '{"k":5}', 'not json', '{"s":"x"}'])
      expect(decodeFormState(junk)).toBeUndefined();
  });
});

describe('optionsAnswer', () => {
  it('always fits Slack menu limits, whatever the names', () => {
    const optionArb = fc.record(
      {
        label: fc.string({ maxLength: 300 }),
        value: fc.string({ minLength: 1, maxLength: 150 }),
        description: text,
      },
      { requiredKeys: ['label', 'value'] },
    );
    fc.assert(
      fc.property(fc.array(optionArb, { maxLength: 150 }), fc.boolean(), (options, loading) => {
        const a: OptionsAnswer = { ok: true, options, loading, stale: false, more: false };
        const checked = checkOptionsAnswer(optionsAnswer(a));
        expect(checked.ok, JSON.stringify(checked)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('says a list is still loading, or could not be read, as one option the form refuses', () => {
    const loading = optionsAnswer({ ok: true, options: [], loading: true, stale: false, more: false });
    expect(loading.options).toEqual([expect.objectContaining({ value: LOADING_VALUE })]);
    const failed = optionsAnswer({ ok: false, code: 'unavailable', message: 'Qlik refused the API key.' });
    expect(JSON.stringify(failed)).toContain("Couldn't read the list");
    expect(checkOptionsAnswer(failed).ok).toBe(true);
  });
});

describe('formResultView', () => {
  it('shows a receipt without its buttons or a submit button, as a modal Slack accepts', () => {
    const filed = formResultView(requestFiledMessage(viewRequest(), 'C0APPROVALS'));
    expect(filed.submit).toBeUndefined();
    expect(JSON.stringify(filed.blocks)).not.toContain('"type":"button"');
    opens(filed);
    opens(formResultView(duplicateRequestMessage(viewRequest())));
  });
});
