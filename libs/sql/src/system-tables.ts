// The read-only system tables storage serves (docs/protocol.md §3): `system.users` (no password
// hash), `system.namespaces`, `system.tables`, for dba and system. The rewrite turns a reference
// into a subquery over a view in the meta schema; each view also admits rows only when the
// session's role (set by storage from the caller) is dba or system: enforced twice, like
// partitions. (`system.live` is the gateways' and never reaches storage.)
import type { ColumnDef, DataType, TableDef } from '@seqline/domain';

export const systemColumn = (name: string, dataType: DataType, primaryKey = false, notNull = primaryKey): ColumnDef => ({ name, dataType, notNull, primaryKey });

/** A read-only system table `system.<name>` (its key: the primary-key column). */
export const systemTable = (name: string, columns: readonly ColumnDef[]): TableDef => ({
  namespace: 'system',
  name,
  tableType: 'SHARED',
  accessLevel: 'DBA',
  deletedRetentionHours: 0,
  columns,
  primaryKey: columns.find((c) => c.primaryKey)!.name,
});

export const SYSTEM_TABLES: ReadonlyMap<string, TableDef> = new Map([
  ['users', systemTable('users', [systemColumn('user_id', 'Text', true), systemColumn('role', 'Text', false, true), systemColumn('email', 'Text'), systemColumn('created_at', 'Timestamp', false, true), systemColumn('updated_at', 'Timestamp', false, true), systemColumn('locked_until', 'Timestamp')])],
  ['namespaces', systemTable('namespaces', [systemColumn('namespace_id', 'Text', true), systemColumn('created_at', 'Timestamp', false, true)])],
  [
    'tables',
    systemTable('tables', [
      systemColumn('table_id', 'Text', true),
      systemColumn('namespace_id', 'Text', false, true),
      systemColumn('table_name', 'Text', false, true),
      systemColumn('table_type', 'Text', false, true),
      systemColumn('access_level', 'Text'),
      systemColumn('primary_key', 'Text', false, true),
      systemColumn('columns', 'Json', false, true),
      systemColumn('ttl_seconds', 'BigInt'),
      systemColumn('deleted_retention_hours', 'BigInt'),
      systemColumn('created_at', 'Timestamp', false, true),
    ]),
  ],
]);

/** The view in the meta schema behind `system.<name>`. */
export function systemView(name: string): { readonly schema: string; readonly name: string } {
  return { schema: 'seqline', name: `system_${name}` };
}

