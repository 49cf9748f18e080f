// Owns what every HTTP client of the bot (Qlik's, Mode's) says the same way about a failed call: secrets taken out
// of any text that goes into an error, and a transport failure (no usable answer) read as a timeout or a network
// error from undici's and Node's codes. Pure.

/** Replaces every occurrence of a secret with [redacted]. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/** A transport failure's code (`UNKNOWN` when it has none) and whether it is a timeout. */
export function transportFailure(cause: unknown): { code: string; timeout: boolean } {
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : typeof cause === 'object' && cause !== null && 'name' in cause && cause.name === 'TimeoutError'
        ? 'ETIMEDOUT'
        : 'UNKNOWN';
  return { code, timeout: TIMEOUT_CODES.has(code) };
}
