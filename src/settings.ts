// Owns reading the whole start-up configuration: the environment (src/config.ts) and the policy file
// (src/domain/policy.ts), with every problem of both in one message — an operator fixes them in one go instead of
// meeting them one run at a time. The policy file is checked even when the environment has problems, as far as
// the environment allows. Like the parts it combines, it never prints a value.
import {
  type Config,
  ConfigError,
  envSchema,
  loadConfig,
  type QlikTenantConfig,
  tenantNamesOf,
} from './config.ts';
import { loadPolicy, type Policy, PolicyError } from './domain/policy.ts';

export class SettingsError extends Error {
  /** Every problem, `NAME: what is expected` (environment) or `policy file …: path: what` (policy). */
  readonly problems: readonly string[];
  constructor(env: ConfigError | undefined, policy: PolicyError | undefined) {
    super([env?.message, policy?.message].filter(Boolean).join('\n'));
    this.name = 'SettingsError';
    this.problems = [...(env?.problems ?? []), ...(policy?.problems ?? [])];
  }
}

// Stand-ins for an APPROVAL_CHANNEL / APPROVERS that is set but malformed: the environment's own problem is reported
// already, and with these the policy check does not add "approvers: required" on top. Never used to run: the
// environment problem alone makes loadSettings throw.
const CHANNEL_STAND_IN = 'C0STANDIN';
const APPROVER_STAND_IN = 'U0STANDIN';

/** What the policy check needs when the full Config could not be built; undefined when there is no policy file. */
function policyInputs(env: NodeJS.ProcessEnv): Config | undefined {
  const policyFile = env.POLICY_FILE?.trim();
  if (!policyFile) return undefined; // APPROVAL_CHANNEL / APPROVERS alone: the environment check covers them
  const channel = envSchema.shape.APPROVAL_CHANNEL.safeParse(env.APPROVAL_CHANNEL);
  const approvers = envSchema.shape.APPROVERS.safeParse(env.APPROVERS);
  return {
    policyFile,
    approvalChannel: channel.success ? channel.data : CHANNEL_STAND_IN,
    approvers: approvers.success ? approvers.data : [APPROVER_STAND_IN],
    // Only the names: a policy's tenants.<name> sections are checked against them.
    qlikTenants: tenantNamesOf(env).map((name) => ({ name }) as QlikTenantConfig),
  } as Partial<Config> as Config;
}

/** The Config and the Policy, or a SettingsError listing every problem of the environment and the policy file. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): { config: Config; policy: Policy } {
  let config: Config | undefined;
  let envError: ConfigError | undefined;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    envError = err;
  }
  let policy: Policy | undefined;
  let policyError: PolicyError | undefined;
  const inputs = config ?? policyInputs(env);
  if (inputs !== undefined) {
    try {
      policy = loadPolicy(inputs);
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      policyError = err;
    }
  }
  if (config !== undefined && policy !== undefined) return { config, policy };
  throw new SettingsError(envError, policyError);
}
