// The read-only system tables storage serves (PROTOCOL.md §3): `system.users` (no password
// hash), `system.namespaces`, `system.tables`, for dba and system. The rewrite turns a reference
// into a subquery over a view in the meta schema; each view also admits rows only when the
// session's role (set by storage from the caller) is dba or system: enforced twice, like
// partitions. (`system.live` is the gateways' and never reaches storage.)
import type { ColumnDef, DataType, TableDef } from './types.js';

const column = (name: string, dataType: DataType, primaryKey = false, notNull = primaryKey): ColumnDef => ({ name, dataType, notNull, primaryKey });

const table = (name: string, columns: readonly ColumnDef[]): TableDef => ({
  namespace: 'system',
  name,
  tableType: 'SHARED',
  accessLevel: 'DBA',
  deletedRetentionHours: 0,
  columns,
  primaryKey: columns.find((c) => c.primaryKey)!.name,
});

export const SYSTEM_TABLES: ReadonlyMap<string, TableDef> = new Map([
  ['users', table('users', [column('user_id', 'Text', true), column('role', 'Text', false, true), column('email', 'Text'), column('created_at', 'Timestamp', false, true), column('updated_at', 'Timestamp', false, true), column('locked_until', 'Timestamp')])],
  ['namespaces', table('namespaces', [column('namespace_id', 'Text', true), column('created_at', 'Timestamp', false, true)])],
  [
    'tables',
    table('tables', [
      column('table_id', 'Text', true),
      column('namespace_id', 'Text', false, true),
      column('table_name', 'Text', false, true),
      column('table_type', 'Text', false, true),
      column('access_level', 'Text'),
      column('primary_key', 'Text', false, true),
      column('columns', 'Json', false, true),
      column('ttl_seconds', 'BigInt'),
      column('deleted_retention_hours', 'BigInt'),
      column('created_at', 'Timestamp', false, true),
    ]),
  ],
]);

/** The view in the meta schema behind `system.<name>`. */
export function systemView(name: string): { readonly schema: string; readonly name: string } {
  return { schema: 'seqline', name: `system_${name}` };
}

/** Roles that may read the system tables. */
export const SYSTEM_READERS: readonly string[] = ['dba', 'system'];
