// Owns the small text helpers the use cases share that are not words for a person: clipping a stored text, the
// chat's error code of a failed call, and what of an error is safe to log.

export function clipText(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** A Slack API error code, or a short description, carried in an outcome for the front to quote. */
export function slackError(err: unknown): string {
  const data = (err as { data?: { error?: unknown } } | undefined)?.data;
  if (data && typeof data.error === 'string') return data.error;
  return err instanceof Error ? err.message.slice(0, 120) : 'unknown error';
}

/** What is safe to log about an error: its name, message and code (never request options or headers). */
export function errSummary(err: unknown): { name?: string; message: string; code?: string } {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
}
