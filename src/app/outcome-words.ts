// Owns the plain sentence for a recorded outcome (src/domain/outcome.ts): what the audit trail keeps as an event's
// detail, what a front shows unless it words the code its own way, and what is stored beside the code for replicas
// older than the codes. Plain text, no markup; a front escapes it. Pure.

import { formatDuration } from '../domain/duration.ts';
import type { FailureRecord, PartResult, ResultOutcome } from '../domain/outcome.ts';
import { describeTarget, type RoleChangeRequest, targetOf } from '../domain/request.ts';
import { plainTime } from '../domain/time.ts';
import type { TargetWords } from '../targets/types.ts';

type Subject = Pick<RoleChangeRequest, 'target' | 'entitlement' | 'action' | 'durationMs' | 'targetRef'>;
type Recorded = Pick<NonNullable<RoleChangeRequest['result']>, 'revokeAt' | 'extended'>;

/** What applying or ending `req` did, in one or two sentences; empty for a code this version does not know. */
export function resultSentence(
  req: Subject,
  outcome: ResultOutcome,
  recorded: Recorded,
  words: Pick<TargetWords, 'system'>,
): string {
  const who = describeTarget(req.target);
  const resource = targetOf(req).resource;
  // Qlik's roles and space roles by name; another system's say which (`Mode group Analysts`).
  const other = words.system === 'Qlik' ? '' : `${words.system} `;
  const role =
    resource === undefined
      ? `${other ? `${other}group ` : ''}${req.entitlement.name}`
      : `${req.entitlement.name} in ${other}${resource.kind} ${resource.name}`;
  switch (outcome.code) {
    case 'recorded-before':
      return 'Applying: roles recorded before the change.';
    case 'granted':
      return `${who} now has ${role}.`;
    case 'already-held': {
      const stays =
        req.durationMs !== undefined
          ? ' They had it before this grant, so it stays when the grant ends.'
          : '';
      return `${who} already has ${role}; nothing was changed.${stays}`;
    }
    case 'extended': {
      // Say what Extend did: the end moved (old → new), not "nothing changed".
      const ends = recorded.revokeAt === undefined ? '' : ` now ends ${plainTime(recorded.revokeAt)}`;
      const previousEnd = recorded.extended?.previousEnd;
      const was = previousEnd === undefined ? '' : ` (was ${plainTime(previousEnd)})`;
      const from = recorded.extended?.from ?? 'an earlier grant';
      return `${role} for ${who}${ends}${was}: this grant extends ${from} and now decides when it ends.`;
    }
    case 'removed':
      return `Removed ${role} from ${who}.`;
    case 'not-held':
      return `${who} did not have ${role} directly; nothing was changed.`;
    case 'ended':
      return `Removed ${role} from ${who}: ${outcome.trigger === 'expiry' ? 'the time-bound grant ended' : 'revoked on request'}.`;
    case 'kept-extended':
      return `${who} keeps ${role}: this grant was extended by ${outcome.by}, which now decides when it ends.`;
    case 'kept-held-before':
      return `${who} keeps ${role}: they had it before this grant, so ending the grant leaves it in place.`;
    case 'principal-gone':
      return `${who} no longer exists in ${words.system}, so there was no ${role} left to remove.`;
    case 'already-removed':
      return `${role} had already been removed from ${who}; nothing was changed.`;
    case 'invited':
      return `Invited ${who} to ${words.system}: the invitation email was sent${outcome.resent ? ' again' : ''}.`;
    case 'account-exists':
      return `${who} already has a ${words.system} account${outcome.status ? ` (${outcome.status})` : ''}; no invitation was sent.`;
    default:
      return ''; // a code from a newer version: the caller shows the sentence stored beside it
  }
}

/** How the follow-on changes went, one clause each: `Steward: granted; consumer in space X: failed (why)`. */
export function partsSentence(
  req: Pick<RoleChangeRequest, 'target'>,
  parts: readonly PartResult[],
  wordsOf: (kind: string) => Pick<TargetWords, 'checkByHand'>,
): string {
  if (parts.length === 0) return '';
  const clauses = parts.map((p) => {
    const r = p.targetRef.resource;
    const what = r === undefined ? p.entitlement.name : `${p.entitlement.name} in ${r.kind} ${r.name}`;
    switch (p.outcome) {
      case 'granted':
        return `${what}: granted`;
      case 'already-held':
        return `${what}: already held, nothing changed`;
      case 'failed':
        return `${what}: NOT granted (${p.failure ? failureSentence(req, p.failure, wordsOf(p.targetRef.kind)) : 'no details were recorded'})`;
      case 'filed':
        return `${what}: filed as ${p.request ?? 'its own request'}, approved with this one (time-bound${p.durationMs === undefined ? '' : `, ${formatDuration(p.durationMs)}`})`;
      default:
        return `${what}: ${String(p.outcome)}`;
    }
  });
  const failed = parts.filter((p) => p.outcome === 'failed').length;
  const summary = failed === 0 ? 'Then' : `Then (${failed} of ${parts.length} not done)`;
  return `${summary}: ${clauses.join('; ')}.`;
}

/**
 * Why `req`'s change failed, and what to do; names where to check by hand when the bot gave up. Empty for a code
 * this version does not know.
 */
export function failureSentence(
  req: Pick<RoleChangeRequest, 'target'>,
  failure: FailureRecord,
  words: Pick<TargetWords, 'checkByHand'>,
): string {
  const { cause } = failure;
  let why: string;
  switch (cause.code) {
    case 'target':
    case 'target-gone':
      why = cause.detail;
      break;
    case 'lock-lost':
      why = 'The bot lost its hold on the principal while changing it.';
      break;
    case 'internal':
      why = 'The bot hit an internal error while applying the change.';
      break;
    case 'job-lost':
      return `The bot could not run the change for ${describeTarget(req.target)} (its job was lost several times). Check ${words.checkByHand} and file the request again.`;
    default:
      return ''; // a code from a newer version: the caller shows the sentence stored beside it
  }
  if (failure.gaveUpAfter === undefined) return why;
  const n = failure.gaveUpAfter;
  return `${why} The bot tried ${n} time${n === 1 ? '' : 's'} and gave up; check ${words.checkByHand} before filing the request again.`;
}
