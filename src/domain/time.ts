// Owns how a moment is written in plain text: one format (`2024-05-01 12:00 UTC`) for the worker's result notes,
// the app's answers and the Slack views' fallback text, so a time reads the same wherever it is shown. Pure.

/** `2024-05-01 12:00 UTC`; "an unknown time" for a value that is not a time. */
export function plainTime(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return 'an unknown time';
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return 'an unknown time';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
