// Which path a statement takes (docs/architecture.md §3): reads go to storage, writes to write, DDL and
// user management to the catalog, BEGIN/COMMIT/ROLLBACK delimit a transaction (the gateway groups
// its statements). EXECUTE AS takes the path of the statement it wraps. SHOW and DESCRIBE are
// reads: storage answers them from the catalog.
import type { Statement, StatementClass, StatementKind } from './types.js';

const CLASSES: Readonly<Record<Exclude<StatementKind, 'execute_as'>, StatementClass>> = {
  select: 'read',
  insert: 'write',
  update: 'write',
  delete: 'write',
  create_namespace: 'ddl',
  drop_namespace: 'ddl',
  create_table: 'ddl',
  alter_table_add_column: 'ddl',
  alter_table_drop_column: 'ddl',
  drop_table: 'ddl',
  create_user: 'user',
  alter_user: 'user',
  drop_user: 'user',
  show_namespaces: 'read',
  show_tables: 'read',
  describe_table: 'read',
  transaction: 'transaction',
};

export function classify(stmt: Statement): StatementClass {
  return stmt.kind === 'execute_as' ? classify(stmt.inner) : CLASSES[stmt.kind];
}
