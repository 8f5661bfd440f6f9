// The contract of @seqline/domain: Seqline's data model as every package sees it (docs/architecture.md §2):
// roles, table types and access levels, data types, table definitions, the catalog interface, and
// the naming rules. Plain types and constants with no dependencies, so that the wire contract
// (@seqline/protocol) and the SQL layer (@seqline/sql) share them without depending on each other.

export const ROLES = ['user', 'service', 'dba', 'system'] as const;
export type Role = (typeof ROLES)[number];

/** The roles that administer: DDL, users, DBA-level tables and the system tables. */
export const ADMIN_ROLES: readonly Role[] = ['dba', 'system'];

export function isAdminRole(role: Role): boolean {
  return ADMIN_ROLES.includes(role);
}

export const TABLE_TYPES = ['USER', 'SHARED', 'STREAM'] as const;
export type TableType = (typeof TABLE_TYPES)[number];

export const ACCESS_LEVELS = ['PUBLIC', 'PRIVATE', 'DBA'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** KalamDB's data type names (docs/protocol.md §1 schema entries). */
export const SIMPLE_TYPES = ['Boolean', 'SmallInt', 'Int', 'BigInt', 'Float', 'Double', 'Text', 'Bytes', 'Json', 'Timestamp', 'Date', 'DateTime', 'Time', 'Uuid'] as const;
export type SimpleType = (typeof SIMPLE_TYPES)[number];
export type DataType = SimpleType | { readonly Decimal: { readonly precision: number; readonly scale: number } };

/** A column default, resolved at write time (now, current_user) or apply time (ids, uuids). */
export type ColumnDefault =
  | { readonly kind: 'literal'; readonly sql: string } // a constant PostgreSQL expression, deparsed
  | { readonly kind: 'now' }
  | { readonly kind: 'snowflake_id' }
  | { readonly kind: 'uuid_v7' }
  | { readonly kind: 'current_user' };

export interface ColumnDef {
  readonly name: string;
  readonly dataType: DataType;
  readonly notNull: boolean;
  readonly primaryKey: boolean;
  readonly default?: ColumnDefault;
}

export interface TableRef {
  readonly namespace: string;
  readonly name: string;
}

export interface TableDef extends TableRef {
  readonly tableType: TableType;
  readonly accessLevel: AccessLevel;
  readonly ttlSeconds?: number;
  /** Tombstones are purged after this many hours (default 168 = 7 days). */
  readonly deletedRetentionHours: number;
  /** User columns in order; system columns (_seq, _deleted, _user_id) are not listed. */
  readonly columns: readonly ColumnDef[];
  readonly primaryKey: string;
}

/** What validation needs to know; storage implements it over its meta schema. */
export interface Catalog {
  hasNamespace(name: string): boolean;
  table(namespace: string, name: string): TableDef | undefined;
}

/** Who runs a statement. `userId` is also the owner of their USER-table partitions. */
export interface Actor {
  readonly userId: string;
  readonly role: Role;
}

/** The owner token of SHARED tables' single partition (not a valid user id: starts with `_`). */
export const SHARED_OWNER = '_shared';
/** Reserved namespace names (docs/protocol.md §3); `default` exists from the start. */
export const RESERVED_NAMESPACES = ['system', 'public', 'information_schema', 'seqline'] as const;
export const DEFAULT_NAMESPACE = 'default';
/** Names of namespaces, tables, columns and users: safe, unambiguous subject tokens. */
export const NAME_PATTERN = /^[A-Za-z0-9_]{1,63}$/;
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,63}$/;
