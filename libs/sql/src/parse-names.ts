// Names in statements: namespaces, tables, columns (NAME_PATTERN) and user ids
// (USER_ID_PATTERN). Every name ends up in a NATS subject token and a PostgreSQL identifier,
// so anything outside the patterns is refused before it reaches either.
import type { Node, RangeVar } from 'libpg-query';
import { DEFAULT_NAMESPACE, NAME_PATTERN, RESERVED_NAMESPACES, USER_ID_PATTERN, type TableRef } from '@seqline/domain';
import { SqlError } from './errors.js';

export type NameKind = 'namespace' | 'table' | 'column';

export function checkName(kind: NameKind, name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new SqlError('INVALID_SQL', `invalid ${kind} name ${JSON.stringify(name)}: use 1 to 63 letters, digits or _`);
  }
  return name;
}

export function checkUserId(name: string): string {
  if (!USER_ID_PATTERN.test(name)) {
    throw new SqlError('INVALID_SQL', `invalid user name ${JSON.stringify(name)}: use 1 to 63 letters, digits, _ or -`);
  }
  return name;
}

/** Reserved (docs/protocol.md §3): RESERVED_NAMESPACES and pg_*, compared case-insensitively. */
export function isReservedNamespace(name: string): boolean {
  const lower = name.toLowerCase();
  return (RESERVED_NAMESPACES as readonly string[]).includes(lower) || lower.startsWith('pg_');
}

export function checkUserNamespace(name: string): string {
  checkName('namespace', name);
  if (isReservedNamespace(name)) throw new SqlError('INVALID_SQL', `namespace ${name} is reserved`);
  return name;
}

/** The namespace of a bare table name: the request's default, else `default`. */
export function defaultNamespace(options: { readonly defaultNamespace?: string | undefined }): string {
  return checkName('namespace', options.defaultNamespace ?? DEFAULT_NAMESPACE);
}

/** `ns.t` or `t` from a RangeVar; three-part names are refused. */
export function tableRefOf(rv: RangeVar | undefined, options: { readonly defaultNamespace?: string | undefined }): TableRef {
  if (rv?.relname === undefined) throw new SqlError('INVALID_SQL', 'a table name is missing');
  if (rv.catalogname !== undefined) {
    throw new SqlError('INVALID_SQL', `table name ${rv.catalogname}.${rv.schemaname ?? ''}.${rv.relname} has too many parts; use namespace.table`);
  }
  const namespace = rv.schemaname === undefined ? defaultNamespace(options) : checkName('namespace', rv.schemaname);
  return { namespace, name: checkName('table', rv.relname) };
}

/** A qualified name given as String nodes (DROP TABLE's objects). */
export function tableRefOfNames(names: readonly Node[], options: { readonly defaultNamespace?: string | undefined }): TableRef {
  const parts = names.map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
  const [a, b] = parts;
  if (parts.length === 1 && a !== undefined) return { namespace: defaultNamespace(options), name: checkName('table', a) };
  if (parts.length === 2 && a !== undefined && b !== undefined) return { namespace: checkName('namespace', a), name: checkName('table', b) };
  throw new SqlError('INVALID_SQL', `table name ${parts.join('.')} has too many parts; use namespace.table`);
}
