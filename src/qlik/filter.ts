// Owns the SCIM-style filter strings sent to Qlik (RFC 7644 §3.4.2.2). Built only from a closed set of field
// names and always-quoted, escaped values, so no input (an email, a group name) can change a filter's meaning.

/** Fields the Users API accepts in `filter` (the spec's `eq` list; `co` on name, email, subject). */
export type UserFilterField =
  | 'id'
  | 'subject'
  | 'name'
  | 'email'
  | 'status'
  | 'clientId'
  | 'assignedRoles.id'
  | 'assignedRoles.name'
  | 'assignedGroups.id'
  | 'assignedGroupsAssignedRoles.name'
  | 'assignedScopes';

/** Fields the Groups API filters on (spec `x-qlik-filterable`, plus the tutorial's `assignedRoles.name`). */
export type GroupFilterField =
  | 'id'
  | 'name'
  | 'status'
  | 'providerType'
  | 'assignedRoles.id'
  | 'assignedRoles.name';

/** Fields the Roles API filters on. */
export type RoleFilterField = 'id' | 'name' | 'type' | 'level' | 'description';

export type FilterField = UserFilterField | GroupFilterField | RoleFilterField;

/** Fields that support `co` (contains). */
export type ContainsField = 'name' | 'email' | 'subject';

declare const filterBrand: unique symbol;
/** A filter expression produced by this module; plain strings are not accepted where a Filter is expected. */
export type Filter = string & { readonly [filterBrand]: true };

/** A value that cannot be sent in a filter. The message never echoes the value (it may be personal data). */
export class FilterValueError extends Error {
  override readonly name = 'FilterValueError';
  readonly reason: 'control-character';
  /** Index of the offending character in the value. */
  readonly position: number;

  constructor(position: number, codePoint: number) {
    super(
      `A filter value may not contain control characters (U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} at position ${position}).`,
    );
    this.reason = 'control-character';
    this.position = position;
  }
}

/** Double-quotes a value, backslash-escaping `\` and `"`; rejects control characters. */
export function quoteValue(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x1f || c === 0x7f) throw new FilterValueError(i, c);
  }
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

export function eq(field: FilterField, value: string): Filter {
  return `${field} eq ${quoteValue(value)}` as Filter;
}

export function co(field: ContainsField, value: string): Filter {
  return `${field} co ${quoteValue(value)}` as Filter;
}

// Every operand is parenthesised: Qlik requires grouped status clauses, and it keeps precedence unambiguous.
function join(op: 'and' | 'or', parts: readonly Filter[]): Filter {
  if (parts.length === 0) throw new Error(`${op}() needs at least one filter`);
  if (parts.length === 1) return parts[0]!;
  return parts.map((p) => `(${p})`).join(` ${op} `) as Filter;
}

export function and(...parts: Filter[]): Filter {
  return join('and', parts);
}

export function or(...parts: Filter[]): Filter {
  return join('or', parts);
}
