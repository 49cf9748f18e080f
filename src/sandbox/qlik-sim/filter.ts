// SCIM-style filter parser for the simulator (RFC 7644 §3.4.2.2 subset documented by Qlik's specs): `eq`/`co`
// comparisons, `and`/`or`, parentheses, single- or double-quoted values with backslash escapes. Anything the
// specs do not document is rejected, so a client that relies on undocumented syntax fails here, not in prod.

export type FilterResource = 'users' | 'groups' | 'roles';
export type FilterOp = 'eq' | 'co';

/** A canonical field name as the specs spell it, e.g. `assignedRoles.name`. */
export type FilterField = string;

export type FilterNode =
  | { kind: 'cmp'; field: FilterField; op: FilterOp; value: string }
  | { kind: 'and'; children: FilterNode[] }
  | { kind: 'or'; children: FilterNode[] };

/** A filter Qlik would answer with 400; `position` is the 0-based character offset of the problem. */
export class FilterSyntaxError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.name = 'FilterSyntaxError';
    this.position = position;
  }
}

/** Filterable fields and the operators each supports, per resource (users: the `filter` description). */
export const FILTER_FIELDS: Readonly<Record<FilterResource, Readonly<Record<string, readonly FilterOp[]>>>> =
  {
    users: {
      id: ['eq'],
      subject: ['eq', 'co'],
      name: ['eq', 'co'],
      email: ['eq', 'co'],
      status: ['eq'],
      clientId: ['eq'],
      'assignedRoles.id': ['eq'],
      'assignedRoles.name': ['eq'],
      'assignedGroups.id': ['eq'],
      'assignedGroupsAssignedRoles.name': ['eq'],
      assignedScopes: ['eq'],
    },
    // x-qlik-filterable on Group, plus assignedRoles.* as the "Manage roles" tutorial uses them.
    groups: {
      id: ['eq'],
      name: ['eq'],
      status: ['eq'],
      providerType: ['eq'],
      createdAt: ['eq'],
      lastUpdatedAt: ['eq'],
      'assignedRoles.id': ['eq'],
      'assignedRoles.name': ['eq'],
    },
    // x-qlik-filterable on Role.
    roles: {
      id: ['eq'],
      name: ['eq'],
      type: ['eq'],
      level: ['eq'],
      tenantId: ['eq'],
      createdAt: ['eq'],
      lastUpdatedAt: ['eq'],
      description: ['eq'],
      permissions: ['eq'],
    },
  };

const KNOWN_UNSUPPORTED_OPS = new Set(['ne', 'sw', 'ew', 'pr', 'gt', 'ge', 'lt', 'le']);
const MAX_DEPTH = 32;
const MAX_COMPARISONS = 500;

type Token =
  | { t: 'lparen'; pos: number }
  | { t: 'rparen'; pos: number }
  | { t: 'string'; value: string; pos: number }
  | { t: 'word'; value: string; pos: number }
  | { t: 'end'; pos: number };

function describe(tok: Token): string {
  switch (tok.t) {
    case 'lparen':
      return '"("';
    case 'rparen':
      return '")"';
    case 'string':
      return `quoted value ${JSON.stringify(tok.value)}`;
    case 'word':
      return `"${tok.value}"`;
    case 'end':
      return 'end of filter';
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) {
      throw new FilterSyntaxError(
        `Control character U+${code.toString(16).padStart(4, '0')} at position ${i}.`,
        i,
      );
    }
    if (ch === ' ') {
      i += 1;
    } else if (ch === '(') {
      tokens.push({ t: 'lparen', pos: i });
      i += 1;
    } else if (ch === ')') {
      tokens.push({ t: 'rparen', pos: i });
      i += 1;
    } else if (ch === '"' || ch === "'") {
      const start = i;
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) {
          throw new FilterSyntaxError(`Unterminated quoted value starting at position ${start}.`, start);
        }
        const c = text[i]!;
        const cc = c.charCodeAt(0);
        if (cc < 0x20 || cc === 0x7f) {
          throw new FilterSyntaxError(
            `Control character U+${cc.toString(16).padStart(4, '0')} at position ${i}.`,
            i,
          );
        }
        if (c === '\\') {
          const next = text[i + 1];
          if (next === '"' || next === "'" || next === '\\') {
            value += next;
            i += 2;
            continue;
          }
          throw new FilterSyntaxError(
            next === undefined
              ? `Unterminated quoted value starting at position ${start}.`
              : `Unsupported escape "\\${next}" at position ${i}; only \\", \\' and \\\\ are allowed.`,
            i,
          );
        }
        if (c === ch) {
          i += 1;
          break;
        }
        value += c;
        i += 1;
      }
      tokens.push({ t: 'string', value, pos: start });
    } else {
      const start = i;
      while (i < text.length && !' ()"\''.includes(text[i]!) && text.charCodeAt(i) >= 0x20) i += 1;
      tokens.push({ t: 'word', value: text.slice(start, i), pos: start });
    }
  }
  tokens.push({ t: 'end', pos: text.length });
  return tokens;
}

class Parser {
  private i = 0;
  private comparisons = 0;
  private readonly tokens: Token[];
  private readonly fields: Readonly<Record<string, readonly FilterOp[]>>;
  private readonly fieldsLower: Map<string, string>;
  private readonly resource: FilterResource;

  constructor(tokens: Token[], resource: FilterResource) {
    this.tokens = tokens;
    this.resource = resource;
    this.fields = FILTER_FIELDS[resource];
    this.fieldsLower = new Map(Object.keys(this.fields).map((f) => [f.toLowerCase(), f]));
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private isKeyword(tok: Token, kw: string): boolean {
    return tok.t === 'word' && tok.value.toLowerCase() === kw;
  }

  parseAll(): FilterNode {
    const node = this.parseOr(0);
    const tok = this.peek();
    if (tok.t !== 'end') {
      throw new FilterSyntaxError(
        tok.t === 'rparen'
          ? `Unbalanced parentheses: ")" at position ${tok.pos} has no matching "(".`
          : `Unexpected ${describe(tok)} at position ${tok.pos}; expected "and", "or" or the end of the filter.`,
        tok.pos,
      );
    }
    return node;
  }

  private parseOr(depth: number): FilterNode {
    const children = [this.parseAnd(depth)];
    while (this.isKeyword(this.peek(), 'or')) {
      this.i += 1;
      children.push(this.parseAnd(depth));
    }
    return combine('or', children);
  }

  private parseAnd(depth: number): FilterNode {
    const children = [this.parseTerm(depth)];
    while (this.isKeyword(this.peek(), 'and')) {
      this.i += 1;
      children.push(this.parseTerm(depth));
    }
    return combine('and', children);
  }

  private parseTerm(depth: number): FilterNode {
    const tok = this.peek();
    if (tok.t === 'lparen') {
      if (depth >= MAX_DEPTH)
        throw new FilterSyntaxError('Filter too complex: parentheses nested too deeply.', tok.pos);
      this.i += 1;
      const inner = this.parseOr(depth + 1);
      const close = this.peek();
      if (close.t !== 'rparen') {
        throw new FilterSyntaxError(
          close.t === 'end'
            ? `Unbalanced parentheses: "(" at position ${tok.pos} is never closed.`
            : `Unexpected ${describe(close)} at position ${close.pos}; expected ")".`,
          close.pos,
        );
      }
      this.i += 1;
      return inner;
    }
    if (this.isKeyword(tok, 'not')) {
      throw new FilterSyntaxError(`The "not" operator is not supported (position ${tok.pos}).`, tok.pos);
    }
    return this.parseComparison();
  }

  private parseComparison(): FilterNode {
    const fieldTok = this.peek();
    if (fieldTok.t !== 'word') {
      throw new FilterSyntaxError(
        `Unexpected ${describe(fieldTok)} at position ${fieldTok.pos}; expected a field name.`,
        fieldTok.pos,
      );
    }
    const field = this.fieldsLower.get(fieldTok.value.toLowerCase());
    if (field === undefined) {
      throw new FilterSyntaxError(
        `Unknown filter field "${fieldTok.value}" at position ${fieldTok.pos}; filterable ${this.resource} fields are: ${Object.keys(this.fields).join(', ')}.`,
        fieldTok.pos,
      );
    }
    this.i += 1;
    const opTok = this.peek();
    if (opTok.t !== 'word') {
      throw new FilterSyntaxError(
        `Unexpected ${describe(opTok)} at position ${opTok.pos}; expected an operator after "${fieldTok.value}".`,
        opTok.pos,
      );
    }
    const opName = opTok.value.toLowerCase();
    if (opName !== 'eq' && opName !== 'co') {
      throw new FilterSyntaxError(
        KNOWN_UNSUPPORTED_OPS.has(opName)
          ? `The "${opTok.value}" operator is not supported (position ${opTok.pos}); use "eq" or "co".`
          : `Unknown operator "${opTok.value}" at position ${opTok.pos}; expected "eq" or "co".`,
        opTok.pos,
      );
    }
    const op: FilterOp = opName;
    if (!this.fields[field]!.includes(op)) {
      throw new FilterSyntaxError(
        `The "${op}" operator is not supported on the field "${field}" (position ${opTok.pos}).`,
        opTok.pos,
      );
    }
    this.i += 1;
    const valTok = this.peek();
    if (valTok.t !== 'string') {
      throw new FilterSyntaxError(
        valTok.t === 'word'
          ? `Unquoted value "${valTok.value}" at position ${valTok.pos}; put values in double quotes.`
          : `Unexpected ${describe(valTok)} at position ${valTok.pos}; expected a quoted value.`,
        valTok.pos,
      );
    }
    this.i += 1;
    this.comparisons += 1;
    if (this.comparisons > MAX_COMPARISONS) {
      throw new FilterSyntaxError(
        `Filter too complex: more than ${MAX_COMPARISONS} comparisons.`,
        valTok.pos,
      );
    }
    return { kind: 'cmp', field, op, value: valTok.value };
  }
}

/** Flattens nested nodes of the same kind so `a and (b and c)` is one `and` with three children. */
function combine(kind: 'and' | 'or', children: FilterNode[]): FilterNode {
  if (children.length === 1) return children[0]!;
  const flat: FilterNode[] = [];
  for (const c of children) {
    if (c.kind === kind) flat.push(...c.children);
    else flat.push(c);
  }
  return { kind, children: flat };
}

function leaves(node: FilterNode, out: Array<Extract<FilterNode, { kind: 'cmp' }>> = []) {
  if (node.kind === 'cmp') out.push(node);
  else for (const c of node.children) leaves(c, out);
  return out;
}

/**
 * Users rule from the spec: "Any filters for status must be grouped together and applied to the whole query":
 * status comparisons may only sit in top-level `and` operands that contain nothing but status comparisons.
 */
function checkStatusGrouping(node: FilterNode): void {
  const all = leaves(node);
  const statusCount = all.filter((l) => l.field === 'status').length;
  if (statusCount === 0 || statusCount === all.length) return;
  if (node.kind === 'and') {
    const ok = node.children.every((c) => {
      const ls = leaves(c);
      const s = ls.filter((l) => l.field === 'status').length;
      return s === 0 || s === ls.length;
    });
    if (ok) return;
  }
  throw new FilterSyntaxError(
    'Status filters must be grouped together and applied to the whole query, e.g. ' +
      '(name eq "Bob" or name eq "Alice") and (status eq "active" or status eq "disabled").',
    0,
  );
}

/** Parses a filter for one resource; throws FilterSyntaxError (a 400 in Qlik) for anything undocumented. */
export function parseFilter(text: string, resource: FilterResource = 'users'): FilterNode {
  if (text.trim() === '') throw new FilterSyntaxError('The filter is empty.', 0);
  const node = new Parser(tokenize(text), resource).parseAll();
  if (resource === 'users') checkStatusGrouping(node);
  return node;
}

/** Number of `id eq` comparisons (the filter actions accept at most 100 ids). */
export function countIdComparisons(node: FilterNode): number {
  return leaves(node).filter((l) => l.field === 'id').length;
}
