// Contract checking for the simulator's tests: every response goes through `call`, which validates the body
// against the official OpenAPI schema for that operation and status (ajv, draft-07, strict:false).
// "Strict" mode also forbids properties the schema does not declare, so the simulator cannot drift from the spec.
// Spaces and invite requests are checked too: a body the spec's request schema rejects must not get a 2xx.

import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

type Json = unknown;
type Api = 'users' | 'groups' | 'roles' | 'spaces';
const APIS: Api[] = ['users', 'groups', 'roles', 'spaces'];
/**
 * APIs whose request bodies are checked. Not users: its JSONPatch path enum omits `/assignedRoles/-`, which the
 * spec's own example (and the simulator) uses.
 */
const REQUEST_CHECKED: ReadonlySet<Api> = new Set(['spaces']);
/** Single operations of other APIs whose request bodies are checked (their schemas have no such gap). */
const REQUEST_CHECKED_OPS: ReadonlySet<string> = new Set(['POST /api/v1/users/actions/invite']);

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** Properties the real service sends that the spec leaves out (seen in qlik.dev's sample responses). */
const DOCUMENTED_EXTRAS: Record<string, string[]> = { 'groups:Group': ['idpId'] };

function loadSpec(api: Api): Record<string, Json> {
  const doc = JSON.parse(readFileSync(new URL(`./openapi/${api}.json`, import.meta.url), 'utf8'));
  if (api === 'users') fixInviteSchemas(doc);
  return doc;
}

/**
 * Two gaps in users.json's invite schemas, closed so its answers can be checked at all.
 * ResultItem.subject has format uuid ("IdP generated UUID"), but an `exists` item is a user already in the tenant,
 * whose subject is whatever its IdP issued (`auth0|…`, `okta|…`): the format is dropped, the type kept.
 * InviteErrorItem is `allOf: [ErrorItem, {code: string, email, status}]`, and ErrorItem types `code` as
 * an integer: no value is both, so as written nothing validates. Merged here into one object in which the
 * invite-specific part wins (code a string, "1001 - Active User", as the reference reads it), keeping every
 * property and requirement of both parts, so strict mode still refuses what neither declares.
 */
function fixInviteSchemas(doc: Record<string, Json>): void {
  const schemas = (doc.components as { schemas: Record<string, Json> }).schemas;
  const subject = (schemas.ResultItem as { properties?: { subject?: { format?: string } } }).properties
    ?.subject;
  if (subject) delete subject.format;
  const item = schemas.InviteErrorItem as { allOf?: Json[]; description?: string };
  const parts = (item.allOf ?? []).map((p) => {
    const ref = (p as { $ref?: string }).$ref;
    return (ref ? schemas[ref.split('/').pop()!] : p) as { properties?: object; required?: string[] };
  });
  if (parts.length === 0) return;
  schemas.InviteErrorItem = {
    type: 'object',
    description: item.description,
    required: [...new Set(parts.flatMap((p) => p.required ?? []))],
    properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})),
  };
}

/** OpenAPI 3.0 → JSON Schema: `nullable`, and (strict) additionalProperties:false on every declared object. */
function convert(node: Json, strict: boolean, api: Api, name?: string): Json {
  if (Array.isArray(node)) return node.map((n) => convert(n, strict, api));
  if (typeof node !== 'object' || node === null) return node;
  const obj = node as Record<string, Json>;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'properties' && typeof v === 'object' && v !== null) {
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, convert(s, strict, api)]));
    } else if (k === 'schemas' && typeof v === 'object' && v !== null) {
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, convert(s, strict, api, p)]));
    } else {
      out[k] = convert(v, strict, api);
    }
  }
  if (out.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  const props = out.properties as Record<string, Json> | undefined;
  if (strict && props && Object.keys(props).length > 0 && out.additionalProperties === undefined) {
    const extras = DOCUMENTED_EXTRAS[`${api}:${name}`] ?? [];
    for (const e of extras) props[e] = {};
    out.additionalProperties = false;
  }
  return out;
}

/** Rewrites local refs (#/components/...) so a schema lifted out of a document still resolves. */
function rebase(node: Json, docId: string): Json {
  if (Array.isArray(node)) return node.map((n) => rebase(n, docId));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `${docId}${v}` : rebase(v, docId);
  }
  return out;
}

interface Operation {
  api: Api;
  template: string;
  regex: RegExp;
  method: string;
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
  requestSchema?: Json;
}

function buildOperations(): Operation[] {
  const ops: Operation[] = [];
  for (const api of APIS) {
    const doc = loadSpec(api);
    for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      const regex = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const o = op as {
          responses: Operation['responses'];
          requestBody?: { content?: Record<string, { schema?: Json }> };
        };
        const requestSchema = o.requestBody?.content?.['application/json']?.schema;
        ops.push({
          api,
          template,
          regex,
          method: method.toUpperCase(),
          responses: o.responses,
          ...(requestSchema !== undefined ? { requestSchema } : {}),
        });
      }
    }
  }
  // Literal paths (/users/me, /users/actions/filter) win over templated ones (/users/{userId}).
  return ops.sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
}

// unicodeRegExp off: spaces.json's name pattern escapes characters (\" \: ...) that the `u` flag rejects.
const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
addFormats(ajv);
// Qlik's "uid": ObjectIds for entities, 32-char tenant ids; both url-safe.
ajv.addFormat('uid', /^[A-Za-z0-9_-]{1,64}$/);
for (const api of APIS) {
  const doc = loadSpec(api);
  ajv.addSchema(convert(doc, false, api) as object, `${api}.json`);
  ajv.addSchema(convert(doc, true, api) as object, `${api}.strict.json`);
}
const operations = buildOperations();
const compiled = new Map<string, ValidateFunction>();

export interface ContractResult {
  /** The spec operation (e.g. "GET /api/v1/users/{userId}"), or undefined for paths outside the specs. */
  operation?: string;
  /** The response key used: the status, "default", or "errors-fallback" (undocumented status, Errors schema). */
  schemaFor?: string;
  /** For request-checked APIs with a request schema: whether the body sent fits it (non-strict: extras allowed). */
  requestValid?: boolean;
}

/**
 * Whether a request body fits the operation's request schema (undefined when the API's requests aren't checked
 * or the operation takes no body). Non-strict: servers ignore unknown properties, so extras are not an error.
 */
export function checkRequest(method: string, path: string, body: Json): boolean | undefined {
  const op = operations.find((o) => o.method === method && o.regex.test(path));
  if (!op || op.requestSchema === undefined) return undefined;
  if (!REQUEST_CHECKED.has(op.api) && !REQUEST_CHECKED_OPS.has(`${method} ${op.template}`)) return undefined;
  const cacheKey = `${op.api}.json request ${method} ${op.template}`;
  let validate = compiled.get(cacheKey);
  if (!validate) {
    validate = ajv.compile(rebase(op.requestSchema, `${op.api}.json`) as object);
    compiled.set(cacheKey, validate);
  }
  return validate(body) === true;
}

/**
 * Validates a response body against the spec. Undocumented statuses (injected 503s, 405s, 403 on GET
 * /roles/{id}) must still have the API's Errors shape. Throws with ajv's messages on a mismatch.
 */
export function checkContract(
  method: string,
  path: string,
  status: number,
  contentType: string | null,
  body: Json,
  opts: { strict?: boolean } = {},
): ContractResult {
  const op = operations.find((o) => o.method === method && o.regex.test(path));
  if (!op) return {};
  const operation = `${method} ${op.template}`;
  const docId = `${op.api}${opts.strict === false ? '' : '.strict'}.json`;
  let key = String(status);
  let response = op.responses[key];
  if (!response && status >= 400) {
    key = op.responses.default ? 'default' : 'errors-fallback';
    response = op.responses.default ?? {
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Errors' } } },
    };
  }
  if (!response) throw new Error(`${operation} answered ${status}, which the spec does not document.`);
  const content = response.content ?? {};
  const json = content['application/json'];
  if (status === 204) {
    if (body !== undefined) throw new Error(`${operation} 204 must have no body.`);
    return { operation, schemaFor: key };
  }
  if (!json?.schema) {
    // e.g. 301 text/html: the spec only says "a string".
    if (content['text/html'] && !(contentType ?? '').startsWith('text/html')) {
      throw new Error(`${operation} ${status} should be text/html, got ${contentType}.`);
    }
    return { operation, schemaFor: key };
  }
  if (!(contentType ?? '').startsWith('application/json')) {
    throw new Error(`${operation} ${status} should be application/json, got ${contentType}.`);
  }
  const cacheKey = `${docId} ${operation} ${key}`;
  let validate = compiled.get(cacheKey);
  if (!validate) {
    validate = ajv.compile(rebase(json.schema, docId) as object);
    compiled.set(cacheKey, validate);
  }
  if (!validate(body)) {
    throw new Error(
      `${operation} ${status} body does not match the spec: ${ajv.errorsText(validate.errors, { separator: '\n' })}\n` +
        JSON.stringify(body).slice(0, 2000),
    );
  }
  return { operation, schemaFor: key };
}

export interface CallResult<T = Json> {
  status: number;
  headers: Headers;
  body: T;
  contract: ContractResult;
}

/** Every contract-checked exchange of the test run, so a test can assert which operations were covered. */
export const checkedExchanges: Array<{ operation: string; status: number; schemaFor: string }> = [];

/** fetch without following redirects, then the contract check. `body` is JSON-encoded unless it's a string. */
export async function call<T = Json>(
  baseUrl: string,
  method: string,
  pathAndQuery: string,
  opts: { key?: string | null; body?: unknown; signal?: AbortSignal; strict?: boolean } = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = {};
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  let payload: string | undefined;
  if (opts.body !== undefined) {
    payload = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const url = pathAndQuery.startsWith('http') ? pathAndQuery : `${baseUrl}${pathAndQuery}`;
  const res = await fetch(url, {
    method,
    headers,
    redirect: 'manual',
    ...(payload !== undefined ? { body: payload } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type');
  let body: Json;
  if (text === '') body = undefined;
  else if ((contentType ?? '').startsWith('application/json')) body = JSON.parse(text);
  else body = text;
  const u = new URL(url);
  // `fields=groups` adds a list of group names that the User schema does not declare (changelog 81/82).
  const strict = opts.strict ?? !(u.searchParams.get('fields') ?? '').split(',').includes('groups');
  const contract = checkContract(method, u.pathname, res.status, contentType, body, { strict });
  if (opts.body !== undefined && typeof opts.body !== 'string') {
    const requestValid = checkRequest(method, u.pathname, opts.body);
    if (requestValid !== undefined) {
      contract.requestValid = requestValid;
      if (!requestValid && res.status < 300) {
        throw new Error(
          `${contract.operation} accepted (${res.status}) a body its request schema rejects: ${JSON.stringify(opts.body)}`,
        );
      }
    }
  }
  if (contract.operation) {
    checkedExchanges.push({
      operation: contract.operation,
      status: res.status,
      schemaFor: contract.schemaFor ?? '',
    });
  }
  return { status: res.status, headers: res.headers, body: body as T, contract };
}
