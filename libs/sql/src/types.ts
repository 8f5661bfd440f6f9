// The contract of @seqline/sql: what a parsed statement is and the names of the physical layout
// in PostgreSQL (docs/architecture.md §2). The data model it refers to (roles, table definitions,
// data types, the catalog) is @seqline/domain's. Every other file of this package, and storage,
// write and gateway, code against these types.

import type { ColumnDef, Role, TableDef, TableRef } from '@seqline/domain';

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
  | { readonly kind: 'execute_as'; readonly user: string; readonly inner: Statement }
  // Schema introspection (parse-introspect.ts): reads, answered by storage from the catalog.
  | { readonly kind: 'show_namespaces' }
  | { readonly kind: 'show_tables'; readonly namespace?: string }
  | { readonly kind: 'describe_table'; readonly table: TableRef }
  /** BEGIN / START TRANSACTION, COMMIT / END, ROLLBACK / ABORT (docs/protocol.md §2, Transactions). */
  | { readonly kind: 'transaction'; readonly action: TransactionAction };

export const TRANSACTION_ACTIONS = ['begin', 'commit', 'rollback'] as const;
export type TransactionAction = (typeof TRANSACTION_ACTIONS)[number];

export type StatementKind = Statement['kind'];
export type StatementClass = 'read' | 'write' | 'ddl' | 'user' | 'transaction';

// ---- Physical layout ---------------------------------------------------------------------

/** System columns: present in every physical table (`_user_id` only in USER tables). */
export const SYSTEM_COLUMNS = { userId: '_user_id', seq: '_seq', deleted: '_deleted' } as const;
/** NOLOGIN role user queries run as (`SET LOCAL ROLE`), restricted by row-level security. */
export const READER_ROLE = 'seqline_reader';
/** NOLOGIN role every op is applied as (`SET LOCAL ROLE`), restricted by row-level security to its owner. */
export const WRITER_ROLE = 'seqline_writer';
/** Settings storage sets per query transaction; RLS policies read them. */
export const SETTING_USER_ID = 'seqline.user_id';
export const SETTING_ROLE = 'seqline.role';
/** The owner of the op being applied (a user id, or SHARED_OWNER); the writer's policies read it. */
export const SETTING_OWNER = 'seqline.owner';
