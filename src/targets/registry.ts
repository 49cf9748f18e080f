// Owns finding the configured access target a request is for, by (kind, instance): one entry per configured
// instance, so a second Qlik tenant (or another system) is one more entry built from configuration, never new code
// in the worker. Also names the lock of a change, so two instances' locks never meet.
//
// The first configured instance of a kind is its default, and also answers to the instance name `default`: requests
// written before targets (or filed naming no tenant) say `default`, and mean the default tenant whatever its name.
import { DEFAULT_TARGET, type TargetRef } from '../domain/request.ts';
import type { AccessChange, AccessTarget } from './types.ts';

/** A request names a target this process has not configured (e.g. a tenant removed from the configuration). */
export class UnknownTargetError extends Error {
  override readonly name = 'UnknownTargetError';
  constructor(ref: Pick<TargetRef, 'kind' | 'instance'>) {
    super(
      `This bot is not configured for ${ref.kind} on "${ref.instance}" any more, so nothing was changed. Ask the bot's operator to configure it again, then file the request again.`,
    );
  }
}

/** What the worker (and later the app) asks of the registry. */
export interface TargetLookup {
  /** The target for `ref`; throws UnknownTargetError when none is configured. */
  get(ref: Pick<TargetRef, 'kind' | 'instance'>): AccessTarget;
}

export class TargetRegistry implements TargetLookup {
  readonly #byKey = new Map<string, AccessTarget>();
  /** The first configured instance of each kind. */
  readonly #defaults = new Map<string, AccessTarget>();

  constructor(targets: readonly AccessTarget[]) {
    for (const t of targets) {
      const key = registryKey(t);
      if (this.#byKey.has(key))
        throw new Error(`Two targets are configured as ${t.kind} on "${t.instance}".`);
      this.#byKey.set(key, t);
      if (!this.#defaults.has(t.kind)) this.#defaults.set(t.kind, t);
    }
  }

  get(ref: Pick<TargetRef, 'kind' | 'instance'>): AccessTarget {
    const t =
      this.#byKey.get(registryKey(ref)) ??
      (ref.instance === DEFAULT_TARGET.instance ? this.#defaults.get(ref.kind) : undefined);
    if (!t) throw new UnknownTargetError(ref);
    return t;
  }

  /** The default instance of a kind (its first configured one), or undefined when none is configured. */
  defaultOf(kind: string): AccessTarget | undefined {
    return this.#defaults.get(kind);
  }

  /** Every configured target, in configuration order. */
  list(): AccessTarget[] {
    return [...this.#byKey.values()];
  }
}

/**
 * The lock that serialises a change across every worker and process: the target's own key (e.g. `user:<id>`)
 * under its kind and instance.
 */
export function changeLockKey(target: AccessTarget, change: AccessChange): string {
  return `${target.kind}:${target.instance}:${target.lockKey(change)}`;
}

function registryKey(ref: Pick<TargetRef, 'kind' | 'instance'>): string {
  return `${ref.kind}\u0000${ref.instance}`;
}
