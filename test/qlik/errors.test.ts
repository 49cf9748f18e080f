// QlikError mapping: status → kind and retryable, Qlik's error body (and non-JSON bodies), Retry-After, 207,
// transport failures, the Slack sentence, and scrubbing of a secret echoed by the server.
import { describe, expect, it } from 'vitest';
import {
  errorFromResponse,
  errorFromTransport,
  kindForStatus,
  parseErrorBody,
  parseRetryAfter,
  QlikError,
} from '../../src/qlik/errors.ts';

describe('QlikError', () => {
  it.each([
    [400, 'bad-request', false],
    [401, 'unauthorized', false],
    [403, 'forbidden', false],
    [404, 'not-found', false],
    [207, 'partial', false],
    [409, 'conflict', false],
    [412, 'unexpected', false],
    [429, 'rate-limited', true],
    [500, 'server', true],
    [503, 'server', true],
  ] as const)('maps %i to %s (retryable: %s)', (status, kind, retryable) => {
    expect(kindForStatus(status)).toBe(kind);
    const e = errorFromResponse({ method: 'GET', path: '/api/v1/users', status, body: '' });
    expect(e.kind).toBe(kind);
    expect(e.retryable).toBe(retryable);
    expect(e.status).toBe(status);
  });

  it('parses the spaces error body: errors[] wins over the deprecated top-level code/title/detail', () => {
    const body = JSON.stringify({
      code: 'SPACES-OLD',
      title: 'Old title',
      detail: 'old detail',
      errors: [{ code: 'SPACES-409', title: 'Conflict', detail: 'Assignment already exists' }],
      traceId: 't-9',
    });
    const e = errorFromResponse({
      method: 'POST',
      path: '/api/v1/spaces/s1/assignments',
      status: 409,
      body,
    });
    expect(e).toMatchObject({ kind: 'conflict', code: 'SPACES-409', detail: 'Assignment already exists' });
    expect(e.retryable).toBe(false);
    expect(e.userMessage()).toContain('Assignment already exists');
    expect(e.userMessage()).toContain('409 Conflict');
    const old = errorFromResponse({
      method: 'PUT',
      path: '/api/v1/spaces/s1/assignments/a1',
      status: 400,
      body: JSON.stringify({
        code: 'SPACES-1',
        title: 'Invalid role',
        detail: 'role publisher not assignable',
      }),
    });
    expect(old).toMatchObject({ kind: 'bad-request', code: 'SPACES-1', title: 'Invalid role' });
    expect(old.userMessage()).toContain('role publisher not assignable');
  });

  it("parses Qlik's Errors body", () => {
    const body = JSON.stringify({
      errors: [{ code: 'USERS-7', title: 'Not found', detail: 'No user abc', status: 404 }],
      traceId: 'trace-1',
    });
    const e = errorFromResponse({ method: 'GET', path: '/api/v1/users/abc', status: 404, body });
    expect(e).toBeInstanceOf(QlikError);
    expect(e).toMatchObject({
      code: 'USERS-7',
      title: 'Not found',
      detail: 'No user abc',
      traceId: 'trace-1',
    });
    expect(e.message).toBe('Qlik GET /api/v1/users/abc failed with 404 USERS-7: Not found — No user abc');
    expect(e.userMessage()).toBe(
      'Qlik could not find it (404 Not Found: No user abc); it may have been deleted or renamed.',
    );
  });

  it('tolerates non-JSON, empty and odd bodies', () => {
    expect(parseErrorBody('<html>Bad gateway</html>')).toEqual({ errors: [] });
    expect(parseErrorBody('')).toEqual({ errors: [] });
    expect(parseErrorBody('[1,2]')).toEqual({ errors: [] });
    expect(parseErrorBody('{"code":1002,"title":"Disabled"}')).toEqual({
      errors: [{ code: '1002', title: 'Disabled' }],
    });
    const e = errorFromResponse({ method: 'GET', path: '/api/v1/roles', status: 502, body: '<html/>' });
    expect(e.title).toBe('Bad Gateway');
    expect(e.userMessage()).toBe(
      'Qlik Cloud had an internal problem (502 Bad Gateway); try again in a few minutes.',
    );
  });

  it('writes a Slack sentence for a refused change', () => {
    const body = JSON.stringify({
      errors: [{ code: 'USERS-12', title: 'Forbidden', detail: 'Not a TenantAdmin' }],
    });
    const e = errorFromResponse({ method: 'PATCH', path: '/api/v1/users/u1', status: 403, body });
    expect(e.userMessage()).toMatch(/^Qlik refused the change \(403 Forbidden: Not a TenantAdmin\)/);
  });

  it('reads Retry-After as seconds or an HTTP date, defaulting to 1 s on a 429', () => {
    expect(parseRetryAfter('13')).toBe(13_000);
    expect(parseRetryAfter(['2'])).toBe(2_000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5_000);
    const e = errorFromResponse({ method: 'GET', path: '/x', status: 429, body: '', retryAfter: '13' });
    expect(e.retryAfterMs).toBe(13_000);
    expect(e.userMessage()).toBe(
      'Qlik Cloud is rate-limiting the bot (429 Too Many Requests); try again in 13 s.',
    );
    expect(errorFromResponse({ method: 'GET', path: '/x', status: 429, body: '' }).retryAfterMs).toBe(1_000);
  });

  it('carries every item of a 207 body', () => {
    const body = JSON.stringify({
      errors: [
        { code: 'USERS-20', title: 'Role not assigned', detail: 'Role x is not assignable' },
        { code: 'USERS-21', title: 'Other' },
      ],
    });
    const e = errorFromResponse({ method: 'PATCH', path: '/api/v1/users/u1', status: 207, body });
    expect(e.kind).toBe('partial');
    expect(e.retryable).toBe(false);
    expect(e.errors.map((x) => x.code)).toEqual(['USERS-20', 'USERS-21']);
    expect(e.userMessage()).toContain('Role not assigned — Role x is not assignable; Other');
  });

  it('scrubs a secret that the server echoed', () => {
    const body = JSON.stringify({
      errors: [{ code: 'X', title: 'bad token sk-123', detail: 'Bearer sk-123 is wrong' }],
    });
    const e = errorFromResponse({ method: 'GET', path: '/x', status: 401, body, secrets: ['sk-123'] });
    expect(JSON.stringify(e)).not.toContain('sk-123');
    expect(e.message).not.toContain('sk-123');
    expect(e.userMessage()).not.toContain('sk-123');
  });

  it('maps transport failures to network or timeout, keeping only the code', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), {
      code: 'ECONNREFUSED',
      config: { h: 1 },
    });
    const n = errorFromTransport('GET', '/api/v1/users', refused);
    expect(n).toMatchObject({ kind: 'network', status: 0, retryable: true, causeCode: 'ECONNREFUSED' });
    expect(n.cause).toBeUndefined();
    const t = errorFromTransport(
      'GET',
      '/api/v1/users',
      Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }),
    );
    expect(t).toMatchObject({ kind: 'timeout', retryable: true });
    expect(t.userMessage()).toBe('Qlik Cloud did not answer in time; try again in a few minutes.');
  });
});
