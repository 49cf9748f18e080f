// Owns the failures any target raises in the same situation, so each target's classifyError can treat them alike.

/**
 * The read-back after a write did not show what was written: someone else changed the principal at the same time.
 * Its message is written for the requester.
 */
export class DriftError extends Error {
  override readonly name = 'DriftError';
}
