// Owns finding the configured access target a request is for, by (kind, instance): one entry per configured
// instance, so a second Qlik tenant (or another system) is one more entry built from configuration, never new code
// in the worker. Also names the lock of a change, so two instances' locks never meet.
import type { TargetRef } from '../domain/request.ts';
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

  constructor(targets: readonly AccessTarget[]) {
    for (const t of targets) {
      const key = registryKey(t);
      if (this.#byKey.has(key))
        throw new Error(`Two targets are configured as ${t.kind} on "${t.instance}".`);
      this.#byKey.set(key, t);
    }
  }

  get(ref: Pick<TargetRef, 'kind' | 'instance'>): AccessTarget {
    const t = this.#byKey.get(registryKey(ref));
    if (!t) throw new UnknownTargetError(ref);
    return t;
  }

  /** Every configured target, in configuration order. */
  list(): AccessTarget[] {
    return [...this.#byKey.values()];
  }

  /** The instance of `kind` a request naming none is for: the first configured one; undefined when there is none. */
  defaultOf(kind: string): AccessTarget | undefined {
    return this.list().find((t) => t.kind === kind);
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
