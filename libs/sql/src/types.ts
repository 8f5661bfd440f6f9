// The contract of @seqline/sql: what a parsed statement is, what the catalog says about a
// table, and the names of the physical layout in PostgreSQL (docs/architecture.md §2). Every other file
// of this package, and storage, write and gateway, code against these types.

export const ROLES = ['user', 'service', 'dba', 'system'] as const;
export type Role = (typeof ROLES)[number];

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

// ---- Statements --------------------------------------------------------------------------

/** The parsed PostgreSQL AST of one statement (libpg-query's JSON: `{ SelectStmt: … }` etc.). */
export type PgNode = Readonly<Record<string, unknown>>;

export type Statement =
  | { readonly kind: 'create_namespace'; readonly name: string; readonly ifNotExists: boolean }
  | { readonly kind: 'drop_namespace'; readonly name: string; readonly ifExists: boolean; readonly cascade: boolean }
  | { readonly kind: 'create_table'; readonly table: TableDef; readonly ifNotExists: boolean }
  | { readonly kind: 'alter_table_add_column'; readonly table: TableRef; readonly column: ColumnDef }
  | { readonly kind: 'alter_table_drop_column'; readonly table: TableRef; readonly column: string }
  | { readonly kind: 'drop_table'; readonly table: TableRef; readonly ifExists: boolean }
  | { readonly kind: 'create_user'; readonly name: string; readonly password: string; readonly role: Role; readonly email?: string }
  | { readonly kind: 'alter_user'; readonly name: string; readonly password?: string; readonly role?: Role; readonly email?: string }
  | { readonly kind: 'drop_user'; readonly name: string; readonly ifExists: boolean }
  | { readonly kind: 'select'; readonly ast: PgNode; readonly text: string }
  | { readonly kind: 'insert'; readonly table: TableRef; readonly ast: PgNode; readonly text: string }
  | { readonly kind: 'update'; readonly table: TableRef; readonly ast: PgNode; readonly text: string }
  | { readonly kind: 'delete'; readonly table: TableRef; readonly ast: PgNode; readonly text: string }
  | { readonly kind: 'execute_as'; readonly user: string; readonly inner: Statement };

export type StatementKind = Statement['kind'];
export type StatementClass = 'read' | 'write' | 'ddl' | 'user';

// ---- Physical layout ---------------------------------------------------------------------

/** System columns: present in every physical table (`_user_id` only in USER tables). */
export const SYSTEM_COLUMNS = { userId: '_user_id', seq: '_seq', deleted: '_deleted' } as const;
/** The owner token of SHARED tables' single partition (not a valid user id: starts with `_`). */
export const SHARED_OWNER = '_shared';
/** NOLOGIN role user queries run as (`SET LOCAL ROLE`), restricted by row-level security. */
export const READER_ROLE = 'seqline_reader';
/** NOLOGIN role every op is applied as (`SET LOCAL ROLE`), restricted by row-level security to its owner. */
export const WRITER_ROLE = 'seqline_writer';
/** Settings storage sets per query transaction; RLS policies read them. */
export const SETTING_USER_ID = 'seqline.user_id';
export const SETTING_ROLE = 'seqline.role';
/** The owner of the op being applied (a user id, or SHARED_OWNER); the writer's policies read it. */
export const SETTING_OWNER = 'seqline.owner';
/** Reserved namespace names (docs/protocol.md §3); `default` exists from the start. */
export const RESERVED_NAMESPACES = ['system', 'public', 'information_schema', 'seqline'] as const;
export const DEFAULT_NAMESPACE = 'default';
/** Names of namespaces, tables, columns and users: safe, unambiguous subject tokens. */
export const NAME_PATTERN = /^[A-Za-z0-9_]{1,63}$/;
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,63}$/;
