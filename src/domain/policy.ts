// Owns the approval policy: the YAML file (and APPROVERS / APPROVAL_CHANNEL from the environment) parsed once
// into a Policy, and the pure decisions taken from it: may this role be requested like this, may this person
// approve. Reading the file is the only I/O; every problem in it is reported at once, by path.

import { readFileSync } from 'node:fs';
import { closest, distance } from 'fastest-levenshtein';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { type Config, parseDuration } from '../config.ts';
import { formatDuration } from './duration.ts';
import { type PersonRef, type RoleChangeRequest, samePerson } from './request.ts';

export interface RolePolicy {
  /** Slack user ids (U…/W…) and user group ids (S…) that may approve. */
  approvers: string[];
  /** Distinct approvals needed before the change is applied. */
  approvalsRequired: number;
  /** The request must carry `because <reason>`. */
  reasonRequired: boolean;
  /**
   * Longest time-bound grant allowed. A cap also means "never permanent": a grant filed without `for …` lasts
   * this long (unless durationRequired refuses it).
   */
  maxDurationMs?: number;
  /** Shortest time-bound grant allowed (default 5 minutes): shorter ones are typos or would end before they apply. */
  minDurationMs: number;
  /** Grants must be time-bound (`for <duration>`); permanent grants are refused. */
  durationRequired: boolean;
  /** A grant to a user Qlik lists as disabled may be filed (default false: a role on a disabled account does nothing). */
  allowDisabledUsers: boolean;
  /** Applied at once without approval (still announced and audited). */
  autoApprove: boolean;
  /** False: the role cannot be granted or revoked from Slack at all. */
  requestable: boolean;
  /**
   * Space roles only: the space's own managers (its owner and `facilitator` holders, as Slack users by email, read
   * when the button is pressed) may approve too, besides `approvers`.
   */
  managersApprove: boolean;
  /** A pending request reminds its approvers this long after it was filed; 0: never (REMIND_AFTER, `remindAfter`). */
  remindAfterMs: number;
  /**
   * A pending request escalates to `fallbackApprovers` this long after it was filed (they may then decide it too);
   * 0: never (ESCALATE_AFTER, `escalateAfter`).
   */
  escalateAfterMs: number;
  /** Who a request escalates to: Slack user ids (U…/W…) and user group ids (S…). */
  fallbackApprovers: string[];
  /**
   * Break-glass (`--break-glass`): who may take the role for themselves at once, without approval, for at most
   * `maxDurationMs` (never permanent), with a reason unless `reasonRequired` is false. Absent: not allowed.
   */
  breakGlass?: BreakGlassRule;
  /** Each approver (the Slack users among `approvers`) also gets the approval message by DM, kept up to date. */
  approverDms: boolean;
}

export interface BreakGlassRule {
  /** Slack user ids and user group ids. */
  who: string[];
  maxDurationMs: number;
  reasonRequired: boolean;
}

/** The rules for space roles in one space (or for every space): its defaults and per-space-role rules, complete. */
export interface SpacePolicy {
  defaults: RolePolicy;
  roles: Map<string, RolePolicy>;
}

export interface Policy {
  approvalChannel: string;
  defaults: RolePolicy;
  /** Per-role rules, keyed by the lowercased role name; each is complete (defaults already merged in). */
  roles: Map<string, RolePolicy>;
  /**
   * The `tenants.<name>` sections (several Qlik tenants), keyed by tenant name; absent when the file has none.
   * Each is complete: its rules already merged over the file's defaults and roles.
   */
  tenants?: Map<string, TenantPolicy>;
  /** Space roles in any space (`spaceDefaults`): the file's defaults with that section's keys over them. */
  spaceDefaults: SpacePolicy;
  /** The `spaces.<name>` sections, keyed by the lowercased space name; each complete over `spaceDefaults`. */
  spaces: Map<string, SpacePolicy>;
  /** Inviting people to Qlik (`/qlik invite`): whether it is allowed, for which email domains, and its rule. */
  invites: InvitePolicy;
  /** Mode (`/mode`): the rule for every Mode request, and per group and per collection (by lowercased name). */
  mode: ModePolicy;
}

export interface ModePolicy {
  defaults: RolePolicy;
  groups: Map<string, RolePolicy>;
  collections: Map<string, RolePolicy>;
}

export interface InvitePolicy {
  /** False: `/qlik invite` and the Invite and grant button are refused. */
  enabled: boolean;
  /** Lower-cased email domains an invite may go to (`corp.example` also allows `eu.corp.example`); absent = any. */
  allowedDomains?: string[];
  /** Who approves invites, and the file's other rule keys, over the defaults. */
  rule: RolePolicy;
}

/** One tenant's rules: where its requests are announced, its defaults and per-role rules (all complete). */
export interface TenantPolicy {
  approvalChannel: string;
  defaults: RolePolicy;
  roles: Map<string, RolePolicy>;
}

export class PolicyError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], source = 'policy') {
    super(`Invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PolicyError';
    this.problems = problems;
  }
}

const SLACK_APPROVER_ID = /^[UWS][A-Z0-9]{2,}$/;
const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const APPROVER_MESSAGE = 'expected Slack user ids (U…/W…) or user group ids (S…)';

const approverList = z.preprocess(
  // Accept `approvers: U1` and `approvers: U1, S2` as well as a YAML list.
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(
    z
      .string({ error: 'expected a Slack user id (U…/W…) or user group id (S…), such as U0123ABCD' })
      .trim()
      .regex(SLACK_APPROVER_ID, {
        error: (iss) =>
          `expected a Slack user id (U…/W…) or user group id (S…) such as U0123ABCD, got "${String(iss.input)}"`,
      }),
    { error: `${APPROVER_MESSAGE}, as a list` },
  ),
);

const durationField = z.string({ error: 'expected a duration such as 4h' }).transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 4h (30m, 4h, 2d or 1w)' });
    return z.NEVER;
  }
  return ms;
});

/** A duration, or `off` (0): for the reminder and the escalation, which a section may turn off. */
const durationOrOff = z
  .union([z.literal('off'), z.literal(false)], { error: 'expected a duration such as 4h, or off' })
  .transform(() => 0)
  .or(durationField);

const flag = () => z.boolean({ error: 'expected true or false' });

const ruleShape = {
  approvers: approverList.optional(),
  approvalsRequired: z
    .number({ error: 'expected a whole number of approvals, 1 or more' })
    .int({ message: 'expected a whole number of approvals, 1 or more' })
    .min(1, { message: 'expected a whole number of approvals, 1 or more' })
    .max(20, { message: 'at most 20 approvals can be required' })
    .optional(),
  reasonRequired: flag().optional(),
  maxDuration: durationField.optional(),
  minDuration: durationField.optional(),
  durationRequired: flag().optional(),
  allowDisabledUsers: flag().optional(),
  autoApprove: flag().optional(),
  requestable: flag().optional(),
  remindAfter: durationOrOff.optional(),
  escalateAfter: durationOrOff.optional(),
  fallbackApprovers: approverList.optional(),
  approverDms: flag().optional(),
  breakGlass: z
    .union([
      z.literal(false),
      z.strictObject(
        {
          who: approverList,
          maxDuration: durationField,
          reasonRequired: flag().optional(),
        },
        { error: 'expected who, maxDuration and optionally reasonRequired, or false' },
      ),
    ])
    .optional(),
};
const RULE_KEYS = Object.keys(ruleShape);

const roleRuleSchema = z.preprocess(
  (v) => (v === null ? {} : v),
  z.strictObject(ruleShape, { error: 'expected a mapping of rule keys such as approvers' }),
);

const spaceRuleShape = { ...ruleShape, managersApprove: flag().optional() };
const SPACE_RULE_KEYS = Object.keys(spaceRuleShape);
const spaceRoleRuleSchema = z.preprocess(
  (v) => (v === null ? {} : v),
  z.strictObject(spaceRuleShape, { error: 'expected a mapping of rule keys such as approvers' }),
);
/** `spaceDefaults` and each `spaces.<name>`: rule keys for space roles, and `roles` per space role. */
const spaceSectionSchema = z.preprocess(
  (v) => (v === null ? {} : v),
  z.strictObject(
    {
      ...spaceRuleShape,
      roles: z
        .preprocess(
          (v) => (v === null ? {} : v),
          z.record(z.string(), spaceRoleRuleSchema, { error: 'expected a mapping of space roles to rules' }),
        )
        .optional(),
    },
    { error: 'expected a mapping with keys such as approvers, managersApprove and roles' },
  ),
);
const SPACE_SECTION_KEYS = [...SPACE_RULE_KEYS, 'roles'];

const DOMAIN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
/** `invites`: the rule keys (who approves invites, …), and whether invites are allowed and to which domains. */
const invitesSchema = z.preprocess(
  (v) => (v === null ? {} : v),
  z.strictObject(
    {
      ...ruleShape,
      enabled: flag().optional(),
      allowedDomains: z
        .preprocess(
          (v) =>
            typeof v === 'string'
              ? v
                  .split(',')
                  .map((d) => d.trim())
                  .filter(Boolean)
              : v,
          z.array(
            z
              .string({ error: 'expected an email domain such as corp.example' })
              .trim()
              .toLowerCase()
              .transform((d) => d.replace(/^@/, ''))
              .refine((d) => DOMAIN.test(d), {
                error: (iss) => `expected an email domain such as corp.example, got "${String(iss.input)}"`,
              }),
            { error: 'expected a list of email domains such as [corp.example]' },
          ),
        )
        .optional(),
    },
    { error: 'expected a mapping with keys such as enabled, allowedDomains and approvers' },
  ),
);
const INVITE_KEYS = [...RULE_KEYS, 'enabled', 'allowedDomains'];

/** `mode`: the rule keys for every Mode request, then `groups.<name>` and `collections.<name>` over them. */
const modeSchema = z.preprocess(
  (v) => (v === null ? {} : v),
  z.strictObject(
    {
      ...ruleShape,
      groups: z
        .preprocess(
          (v) => (v === null ? {} : v),
          z.record(z.string(), roleRuleSchema, { error: 'expected a mapping of Mode group names to rules' }),
        )
        .optional(),
      collections: z
        .preprocess(
          (v) => (v === null ? {} : v),
          z.record(z.string(), roleRuleSchema, {
            error: 'expected a mapping of Mode collection names to rules',
          }),
        )
        .optional(),
    },
    { error: 'expected a mapping with keys such as approvers, groups and collections' },
  ),
);
const MODE_KEYS = [...RULE_KEYS, 'groups', 'collections'];

const sectionShape = {
  approvalChannel: z
    .string({ error: 'expected a channel id such as C0123ABCD' })
    .trim()
    .regex(SLACK_CHANNEL_ID, { message: 'expected a channel id such as C0123ABCD' })
    .optional(),
  ...ruleShape,
  roles: z
    .preprocess(
      (v) => (v === null ? {} : v),
      z.record(z.string(), roleRuleSchema, { error: 'expected a mapping of role names to rules' }),
    )
    .optional(),
};

/** A `tenants.<name>` section: the same keys as the top of the file, for one tenant's requests. */
const tenantSchema = z.preprocess(
  (v) => (v === null ? {} : v),
  z.strictObject(sectionShape, {
    error: 'expected a mapping with keys such as approvers, approvalChannel and roles',
  }),
);

const policySchema = z.strictObject(
  {
    ...sectionShape,
    spaceDefaults: spaceSectionSchema.optional(),
    invites: invitesSchema.optional(),
    mode: modeSchema.optional(),
    spaces: z
      .preprocess(
        (v) => (v === null ? {} : v),
        z.record(z.string(), spaceSectionSchema, { error: 'expected a mapping of space names to rules' }),
      )
      .optional(),
    tenants: z
      .preprocess(
        (v) => (v === null ? {} : v),
        z.record(z.string(), tenantSchema, { error: 'expected a mapping of tenant names to rules' }),
      )
      .optional(),
  },
  { error: 'expected a mapping with keys such as approvers, approvalChannel and roles' },
);
const TENANT_KEYS = ['approvalChannel', ...RULE_KEYS, 'roles'];
const TOP_KEYS = [...TENANT_KEYS, 'spaceDefaults', 'spaces', 'invites', 'mode', 'tenants'];

type RuleInput = z.infer<typeof spaceRoleRuleSchema>;
type SpaceSectionInput = z.infer<typeof spaceSectionSchema>;

function pathOf(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s === '' ? String(p) : `.${String(p)}`;
  }
  return s;
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const guess = closest(key, known);
  const near = distance(key.toLowerCase(), guess.toLowerCase()) <= 3;
  return `unknown key "${key}"${near ? ` (did you mean ${guess}?)` : ''}; known keys: ${known.join(', ')}`;
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      // Where the key is: in a role's rule (roles.X, tenants.T.roles.X), a tenant's section, a space section
      // (spaceDefaults, spaces.S, and their roles.R), or the top.
      const inTenant = issue.path[0] === 'tenants';
      const inSpaces = issue.path[0] === 'spaces' || issue.path[0] === 'spaceDefaults';
      const rest =
        inTenant || issue.path[0] === 'spaces'
          ? issue.path.slice(2)
          : inSpaces
            ? issue.path.slice(1)
            : issue.path;
      const inRole = rest.length >= 2 && rest[0] === 'roles';
      const known =
        issue.path[0] === 'invites'
          ? INVITE_KEYS
          : issue.path[0] === 'mode'
            ? issue.path.length >= 3
              ? RULE_KEYS
              : MODE_KEYS
            : inSpaces
              ? inRole
                ? SPACE_RULE_KEYS
                : SPACE_SECTION_KEYS
              : inRole
                ? RULE_KEYS
                : inTenant && issue.path.length >= 2
                  ? TENANT_KEYS
                  : TOP_KEYS;
      for (const key of issue.keys) {
        const path = pathOf([...issue.path, key]);
        out.push(`${path}: ${unknownKeyMessage(key, known)}`);
      }
      continue;
    }
    const path = pathOf(issue.path);
    out.push(path === '' ? issue.message : `${path}: ${issue.message}`);
  }
  return out;
}

function yamlProblems(text: string): { value: unknown; problems: string[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      value: undefined,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const first = (e.message.split('\n')[0] ?? e.message).replace(/:\s*$/, '');
        return pos && !/line \d+/.test(first) ? `line ${pos.line}, column ${pos.col}: ${first}` : first;
      }),
    };
  }
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }), problems: [] };
  } catch (err) {
    return { value: undefined, problems: [`the YAML could not be read: ${(err as Error).message}`] };
  }
}

function resolveRule(input: RuleInput, base: RolePolicy): RolePolicy {
  const rule: RolePolicy = {
    approvers:
      input.approvers && input.approvers.length > 0 ? [...new Set(input.approvers)] : [...base.approvers],
    approvalsRequired: input.approvalsRequired ?? base.approvalsRequired,
    reasonRequired: input.reasonRequired ?? base.reasonRequired,
    minDurationMs: input.minDuration ?? base.minDurationMs,
    durationRequired: input.durationRequired ?? base.durationRequired,
    allowDisabledUsers: input.allowDisabledUsers ?? base.allowDisabledUsers,
    autoApprove: input.autoApprove ?? base.autoApprove,
    requestable: input.requestable ?? base.requestable,
    managersApprove: input.managersApprove ?? base.managersApprove,
    approverDms: input.approverDms ?? base.approverDms,
    remindAfterMs: input.remindAfter ?? base.remindAfterMs,
    escalateAfterMs: input.escalateAfter ?? base.escalateAfterMs,
    fallbackApprovers:
      input.fallbackApprovers && input.fallbackApprovers.length > 0
        ? [...new Set(input.fallbackApprovers)]
        : [...base.fallbackApprovers],
  };
  const max = input.maxDuration ?? base.maxDurationMs;
  if (max !== undefined) rule.maxDurationMs = max;
  if (input.breakGlass !== undefined && input.breakGlass !== false) {
    rule.breakGlass = {
      who: [...new Set(input.breakGlass.who)],
      maxDurationMs: input.breakGlass.maxDuration,
      reasonRequired: input.breakGlass.reasonRequired ?? true,
    };
  } else if (input.breakGlass === undefined && base.breakGlass !== undefined) {
    rule.breakGlass = { ...base.breakGlass, who: [...base.breakGlass.who] };
  }
  return rule;
}

/** Problems that no schema can see: rules that contradict themselves. */
function ruleProblems(path: string, input: RuleInput, rule: RolePolicy): string[] {
  const problems: string[] = [];
  const where = path === '' ? '' : `${path}.`;
  if (input.approvers !== undefined && input.approvers.length === 0) {
    problems.push(
      `${where}approvers: list at least one approver, or leave the key out to use the default approvers`,
    );
  }
  if (input.breakGlass !== undefined && input.breakGlass !== false && input.breakGlass.who.length === 0)
    problems.push(`${where}breakGlass.who: list who may take the role in an emergency`);
  if (
    rule.escalateAfterMs > 0 &&
    rule.fallbackApprovers.length === 0 &&
    (path === '' || input.escalateAfter !== undefined || input.fallbackApprovers !== undefined)
  ) {
    problems.push(
      `${where}escalateAfter: list fallbackApprovers, the approvers a request escalates to (or set escalateAfter: off${path === '' ? ', or unset ESCALATE_AFTER' : ''})`,
    );
  }
  const { users, groups } = splitApprovers(rule.approvers);
  if (
    !rule.autoApprove &&
    rule.requestable &&
    !rule.managersApprove &&
    groups.length === 0 &&
    users.length > 0 &&
    users.length < rule.approvalsRequired
  ) {
    problems.push(
      `${where}approvalsRequired: ${rule.approvalsRequired} approvals are required but only ${users.length} approver${users.length === 1 ? ' is' : 's are'} listed`,
    );
  }
  const max = rule.maxDurationMs;
  if (
    max !== undefined &&
    rule.minDurationMs > max &&
    (path === '' || input.minDuration !== undefined || input.maxDuration !== undefined)
  ) {
    problems.push(
      `${where}minDuration: ${formatDuration(rule.minDurationMs)} is longer than maxDuration (${formatDuration(max)}), so no grant could be filed`,
    );
  }
  if (rule.autoApprove && input.requestable === false) {
    problems.push(`${where}autoApprove: has no effect because requestable is false; remove one of them`);
  }
  return problems;
}

/** The two settings without a default, for the report when the file has other problems too. */
function missingRequired(
  raw: unknown,
  env: { approvalChannel?: string; approvers?: readonly string[] },
): string[] {
  const file = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const out: string[] = [];
  if (file.approvalChannel == null && !env.approvalChannel?.trim()) out.push(MISSING_CHANNEL);
  const list = file.approvers;
  const fileHas = Array.isArray(list) ? list.length > 0 : typeof list === 'string' && list.trim() !== '';
  if (!fileHas && !(env.approvers ?? []).some((a) => a.trim() !== '')) out.push(MISSING_APPROVERS);
  return out;
}

/** The shortest grant when the policy doesn't say: `for 1s` is a typo, and would end before Qlik applied it. */
export const DEFAULT_MIN_DURATION_MS = 5 * 60_000;
/** How long a pending request waits before its approvers are reminded, unless REMIND_AFTER or the policy says. */
export const DEFAULT_REMIND_AFTER_MS = 4 * 3_600_000;

const MISSING_CHANNEL =
  'approvalChannel: required: set it in the policy file or in the APPROVAL_CHANNEL environment variable';
const MISSING_APPROVERS =
  'approvers: required: list Slack user or user group ids in the policy file or in the APPROVERS environment variable';

/**
 * Parses a policy file's text. `env` fills what the file leaves out (APPROVAL_CHANNEL, APPROVERS); `env.tenants`,
 * when given, are the configured tenant names a `tenants.<name>` section must be one of.
 * Throws PolicyError listing every problem, each named by its path.
 */
export function parsePolicy(
  yamlText: string,
  env: {
    approvalChannel?: string;
    approvers?: readonly string[];
    tenants?: readonly string[];
    /** REMIND_AFTER and ESCALATE_AFTER: the defaults of every rule (0: never); 4 h and never when absent. */
    remindAfterMs?: number;
    escalateAfterMs?: number;
  } = {},
): Policy {
  const { value, problems: yamlErrors } = yamlProblems(yamlText);
  if (yamlErrors.length > 0) throw new PolicyError(yamlErrors);
  const parsed = policySchema.safeParse(value ?? {});
  if (!parsed.success) {
    throw new PolicyError([...formatIssues(parsed.error.issues), ...missingRequired(value ?? {}, env)]);
  }
  const file = parsed.data;
  const problems: string[] = [];

  const approvalChannel = file.approvalChannel ?? env.approvalChannel?.trim();
  if (!approvalChannel) {
    problems.push(MISSING_CHANNEL);
  }
  const envApprovers = (env.approvers ?? []).map((s) => s.trim()).filter(Boolean);
  const approvers = file.approvers && file.approvers.length > 0 ? file.approvers : envApprovers;
  if (approvers.length === 0) {
    problems.push(MISSING_APPROVERS);
  } else if (approvers === envApprovers) {
    const bad = envApprovers.filter((id) => !SLACK_APPROVER_ID.test(id));
    if (bad.length > 0) problems.push(`APPROVERS: ${APPROVER_MESSAGE}, got ${bad.join(', ')}`);
  }

  const defaults = resolveRule(
    { ...file, approvers: [...approvers] },
    {
      approvers: [],
      approvalsRequired: 1,
      reasonRequired: false,
      minDurationMs: DEFAULT_MIN_DURATION_MS,
      durationRequired: false,
      allowDisabledUsers: false,
      autoApprove: false,
      requestable: true,
      managersApprove: false,
      approverDms: false,
      remindAfterMs: env.remindAfterMs ?? DEFAULT_REMIND_AFTER_MS,
      escalateAfterMs: env.escalateAfterMs ?? 0,
      fallbackApprovers: [],
    },
  );
  if (approvers.length > 0) problems.push(...ruleProblems('', { ...file, approvers: undefined }, defaults));

  const roleInputs = roleSection('roles', file.roles, problems);
  const roles = new Map<string, RolePolicy>();
  for (const [key, { path, input }] of roleInputs) {
    const rule = resolveRule(input, defaults);
    problems.push(...ruleProblems(path, input, rule));
    roles.set(key, rule);
  }

  const tenants = new Map<string, TenantPolicy>();
  for (const [name, section] of Object.entries(file.tenants ?? {})) {
    const path = `tenants.${name}`;
    if (env.tenants !== undefined && !env.tenants.includes(name)) {
      problems.push(
        env.tenants.length > 1
          ? `${path}: no tenant ${name} is configured (QLIK_TENANTS names ${env.tenants.join(', ')})`
          : `${path}: tenant sections need QLIK_TENANTS, which names the tenants`,
      );
      continue;
    }
    // A tenant's rule for a role: the file's defaults, then its roles.<Role>, then the tenant's own keys, then the
    // tenant's roles.<Role>: the more specific the section, the later it wins.
    const tenantInput = { ...section, approvers: section.approvers };
    const tenantDefaults = resolveRule(tenantInput, defaults);
    problems.push(...ruleProblems(path, tenantInput, tenantDefaults));
    const tenantRoles = new Map<string, RolePolicy>();
    for (const [key, { input }] of roleInputs)
      tenantRoles.set(key, resolveRule(tenantInput, resolveRule(input, defaults)));
    for (const [key, { path: rolePath, input }] of roleSection(`${path}.roles`, section.roles, problems)) {
      const rule = resolveRule(input, tenantRoles.get(key) ?? tenantDefaults);
      problems.push(...ruleProblems(rolePath, input, rule));
      tenantRoles.set(key, rule);
    }
    tenants.set(name, {
      approvalChannel: section.approvalChannel ?? approvalChannel!,
      defaults: tenantDefaults,
      roles: tenantRoles,
    });
  }

  // Space roles: the file's defaults, then spaceDefaults, then its roles.<role>; for a named space, then its
  // spaces.<name> keys, then its roles.<role>. Tenant roles' `roles` never apply to a space role.
  const spaceDefaults = spaceSection(
    'spaceDefaults',
    file.spaceDefaults ?? {},
    defaults,
    undefined,
    problems,
  );
  const spaces = new Map<string, SpacePolicy>();
  const seenSpaces = new Map<string, string>();
  for (const [name, section] of Object.entries(file.spaces ?? {})) {
    const key = name.trim().toLowerCase();
    const path = `spaces.${name}`;
    if (key === '') {
      problems.push(`${path}: a space name is empty`);
      continue;
    }
    const earlier = seenSpaces.get(key);
    if (earlier !== undefined) {
      problems.push(
        `${path}: the same space as spaces.${earlier} (space names are matched without regard to case)`,
      );
      continue;
    }
    seenSpaces.set(key, name);
    spaces.set(key, spaceSection(path, section, spaceDefaults.defaults, spaceDefaults, problems));
  }

  const { enabled, allowedDomains, ...inviteKeys } = file.invites ?? {};
  const inviteRule = resolveRule(inviteKeys, defaults);
  if (Object.keys(inviteKeys).length > 0) problems.push(...ruleProblems('invites', inviteKeys, inviteRule));
  if (allowedDomains !== undefined && allowedDomains.length === 0)
    problems.push('invites.allowedDomains: list at least one domain, or leave the key out to allow any');
  const invites: InvitePolicy = {
    enabled: enabled ?? true,
    ...(allowedDomains && allowedDomains.length > 0 ? { allowedDomains: [...new Set(allowedDomains)] } : {}),
    rule: inviteRule,
  };

  const { groups: modeGroups, collections: modeCollections, ...modeKeys } = file.mode ?? {};
  const modeDefaults = resolveRule(modeKeys, defaults);
  if (Object.keys(modeKeys).length > 0) problems.push(...ruleProblems('mode', modeKeys, modeDefaults));
  const modeSection = (at: string, section: Record<string, RuleInput> | undefined) => {
    const out = new Map<string, RolePolicy>();
    for (const [key, { path, input }] of roleSection(at, section, problems)) {
      const rule = resolveRule(input, modeDefaults);
      problems.push(...ruleProblems(path, input, rule));
      out.set(key, rule);
    }
    return out;
  };
  const mode: ModePolicy = {
    defaults: modeDefaults,
    groups: modeSection('mode.groups', modeGroups),
    collections: modeSection('mode.collections', modeCollections),
  };

  if (problems.length > 0) throw new PolicyError(problems);
  return {
    mode,
    approvalChannel: approvalChannel!,
    defaults,
    roles,
    ...(file.tenants ? { tenants } : {}),
    spaceDefaults,
    spaces,
    invites,
  };
}

/**
 * One space section (`spaceDefaults`, or `spaces.<name>` over it): its keys over `base`, and each space role's rule:
 * the role's rule in `over` (spaceDefaults.roles) with this section's keys over it, then this section's roles.<role>.
 */
function spaceSection(
  path: string,
  section: SpaceSectionInput,
  base: RolePolicy,
  over: SpacePolicy | undefined,
  problems: string[],
): SpacePolicy {
  const { roles: roleInputs, ...keys } = section;
  const defaults = resolveRule(keys, base);
  if (Object.keys(keys).length > 0) problems.push(...ruleProblems(path, keys, defaults));
  const roles = new Map<string, RolePolicy>();
  for (const [key, rule] of over?.roles ?? []) roles.set(key, resolveRule(keys, rule));
  for (const [key, { path: rolePath, input }] of roleSection(`${path}.roles`, roleInputs, problems)) {
    const rule = resolveRule(input, roles.get(key) ?? defaults);
    problems.push(...ruleProblems(rolePath, input, rule));
    roles.set(key, rule);
  }
  return { defaults, roles };
}

/** A `roles` mapping by lowercased name, each with its path; empty and case-duplicate names become problems. */
function roleSection(
  at: string,
  section: Record<string, RuleInput> | undefined,
  problems: string[],
): Map<string, { path: string; input: RuleInput }> {
  const out = new Map<string, { path: string; input: RuleInput }>();
  const seen = new Map<string, string>();
  for (const [name, input] of Object.entries(section ?? {})) {
    const key = name.trim().toLowerCase();
    const path = `${at}.${name}`;
    if (key === '') {
      problems.push(`${path}: a role name is empty`);
      continue;
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.push(
        `${path}: the same role as ${at}.${earlier} (role names are matched without regard to case)`,
      );
      continue;
    }
    seen.set(key, name);
    out.set(key, { path, input });
  }
  return out;
}

/** The policy from POLICY_FILE when set, else from APPROVAL_CHANNEL and APPROVERS alone. */
export function loadPolicy(config: Config): Policy {
  const env = {
    approvalChannel: config.approvalChannel,
    approvers: config.approvers,
    ...(config.qlikTenants ? { tenants: config.qlikTenants.map((t) => t.name) } : {}),
    remindAfterMs: config.remindAfterMs,
    escalateAfterMs: config.escalateAfterMs,
  };
  if (!config.policyFile) return parsePolicy('', env);
  let text: string;
  try {
    text = readFileSync(config.policyFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new PolicyError([`POLICY_FILE: cannot read ${config.policyFile} (${code})`], 'policy file');
  }
  try {
    return parsePolicy(text, env);
  } catch (err) {
    if (err instanceof PolicyError) throw new PolicyError(err.problems, `policy file ${config.policyFile}`);
    throw err;
  }
}

/**
 * The rule for a role (matched without regard to case), or the defaults when the role is not listed; on `tenant`,
 * its `tenants.<name>` section's rule when the file has one (a tenant without a section follows the file's rules).
 * For a space role (`space`: the space's name), the space sections' rule instead (`spaces.<name>`, else
 * `spaceDefaults`), whatever the tenant.
 */
export function rolePolicy(policy: Policy, roleName: string, tenant?: string, space?: string): RolePolicy {
  const role = roleName.trim().toLowerCase();
  if (space !== undefined) {
    const section = policy.spaces.get(space.trim().toLowerCase()) ?? policy.spaceDefaults;
    return section.roles.get(role) ?? section.defaults;
  }
  const section = tenant === undefined ? policy : (policy.tenants?.get(tenant) ?? policy);
  return section.roles.get(role) ?? section.defaults;
}

/** The kind of access an invite is (the account target's kind): its rule is the policy's `invites` section. */
export const ACCOUNT_KIND = 'qlik-account';

/**
 * The rule a request is decided by: an invite's (`invites`), a space role's (the space sections), or a tenant
 * role's on its tenant.
 */
export function requestRule(
  policy: Policy,
  r: { kind: string; entitlement: string; tenant?: string; space?: string },
): RolePolicy {
  if (r.kind === ACCOUNT_KIND) return policy.invites.rule;
  // Mode: a group's rule by its name; a collection's by the collection's name (`space` carries the resource's).
  if (r.kind === 'mode-groups')
    return policy.mode.groups.get(r.entitlement.trim().toLowerCase()) ?? policy.mode.defaults;
  if (r.kind === 'mode-collections')
    return policy.mode.collections.get((r.space ?? '').trim().toLowerCase()) ?? policy.mode.defaults;
  return rolePolicy(policy, r.entitlement, r.tenant, r.space);
}

/** Whether an email's domain may be invited: any when the policy lists none; else the domain or a subdomain of one. */
export function inviteDomainAllowed(policy: Policy, email: string): boolean {
  const allowed = policy.invites.allowedDomains;
  if (allowed === undefined) return true;
  const domain = email
    .slice(email.lastIndexOf('@') + 1)
    .trim()
    .toLowerCase();
  return allowed.some((d) => domain === d || domain.endsWith(`.${d}`));
}

/** Where a tenant's requests are announced: its section's approvalChannel, else the file's. */
export function approvalChannelOf(policy: Policy, tenant?: string): string {
  return (
    (tenant === undefined ? undefined : policy.tenants?.get(tenant)?.approvalChannel) ??
    policy.approvalChannel
  );
}

/** What checkRequest lets through: the rule, and for a grant the duration it really gets. */
export interface CheckedRequest {
  ok: true;
  rule: RolePolicy;
  /** How long the grant lasts: as asked, or the role's cap when no `for …` was given; undefined = permanent. */
  durationMs?: number;
  /** True when durationMs is the role's cap because the request named no duration (the receipt says so). */
  durationDefaulted?: boolean;
}

/**
 * Why checkRequest refuses a request, as a code and what the words need (src/slack/words.ts says it to the
 * requester: what the policy wants and how to ask again). `role` is the role's name as the request names it.
 */
export type RequestRefusal =
  /** The role can't be granted or revoked from the chat at all (`requestable: false`). */
  | { ok: false; code: 'not-requestable'; role: string; action: 'grant' | 'revoke' }
  /** The rule wants `because <reason>` and the request has none. */
  | { ok: false; code: 'reason-required'; role: string }
  /** The grant asked for less than the role's minDuration. */
  | { ok: false; code: 'min-duration'; role: string; minMs: number; askedMs: number }
  /** The grant asked for more than the role's maxDuration. */
  | { ok: false; code: 'max-duration'; role: string; maxMs: number; askedMs: number }
  /** The rule wants `for <duration>` and the grant has none; `maxMs` is the role's cap, if it has one. */
  | { ok: false; code: 'duration-required'; role: string; maxMs?: number };

/**
 * Checks a request against the role's rule before anything is filed. A role with a cap is never granted
 * permanently: a grant without `for …` gets the cap (or is refused when the rule says durationRequired).
 */
export function checkRequest(
  policy: Policy,
  r: {
    action: 'grant' | 'revoke';
    roleName: string;
    reason?: string;
    durationMs?: number;
    tenant?: string;
    /** For a space role: the space's name (for a Mode collection: the collection's). */
    space?: string;
    /** The kind of access (a target's kind); tenant roles when absent. */
    kind?: string;
  },
): CheckedRequest | RequestRefusal {
  const rule = requestRule(policy, {
    kind: r.kind ?? 'qlik-roles',
    entitlement: r.roleName,
    ...(r.tenant === undefined ? {} : { tenant: r.tenant }),
    ...(r.space === undefined ? {} : { space: r.space }),
  });
  const role = r.roleName;
  if (!rule.requestable) return { ok: false, code: 'not-requestable', role, action: r.action };
  if (rule.reasonRequired && !r.reason?.trim()) return { ok: false, code: 'reason-required', role };
  if (r.action === 'revoke') return { ok: true, rule };
  const max = rule.maxDurationMs;
  const min = rule.minDurationMs;
  if (r.durationMs !== undefined && r.durationMs < min) {
    return { ok: false, code: 'min-duration', role, minMs: min, askedMs: r.durationMs };
  }
  if (r.durationMs !== undefined && max !== undefined && r.durationMs > max) {
    return { ok: false, code: 'max-duration', role, maxMs: max, askedMs: r.durationMs };
  }
  if (r.durationMs === undefined && rule.durationRequired) {
    return { ok: false, code: 'duration-required', role, ...(max === undefined ? {} : { maxMs: max }) };
  }
  if (r.durationMs === undefined && max !== undefined) {
    return { ok: true, rule, durationMs: max, durationDefaulted: true };
  }
  return { ok: true, rule, ...(r.durationMs === undefined ? {} : { durationMs: r.durationMs }) };
}

/** Why approverEligibility refuses the clicker, as a code and what the words need (src/slack/words.ts). */
export type EligibilityRefusal =
  /** The clicker filed the request. */
  | { ok: false; code: 'own-request'; requestId: string }
  /** The request grants a role to the clicker. */
  | { ok: false; code: 'grants-to-clicker'; requestId: string }
  /** The clicker approved it already; `more` approvals are still needed (the words say at least one). */
  | { ok: false; code: 'approved-already'; requestId: string; more: number };

/**
 * Whether the person who clicked Approve may approve this request, apart from being an approver (the caller
 * checks that against the policy and Slack user groups). Nobody approves their own request, nobody approves
 * a grant to themselves, and one person's approval counts once.
 */
export function approverEligibility(
  req: RoleChangeRequest,
  clicker: PersonRef,
): { ok: true } | EligibilityRefusal {
  if (samePerson(clicker, req.requester)) return { ok: false, code: 'own-request', requestId: req.id };
  if (req.action === 'grant' && req.target.kind === 'user' && samePerson(req.target.person, clicker)) {
    return { ok: false, code: 'grants-to-clicker', requestId: req.id };
  }
  if (req.approvals.some((a) => samePerson(a.by, clicker))) {
    return {
      ok: false,
      code: 'approved-already',
      requestId: req.id,
      more: req.approvalsRequired - req.approvals.length,
    };
  }
  return { ok: true };
}

/** Splits approver ids into user ids (U…/W…) and Slack user group ids (S…). */
export function splitApprovers(ids: readonly string[]): { users: string[]; groups: string[] } {
  const users: string[] = [];
  const groups: string[] = [];
  for (const id of ids) (id.startsWith('S') ? groups : users).push(id);
  return { users, groups };
}
