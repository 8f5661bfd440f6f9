// The result shapes of SHOW NAMESPACES, SHOW TABLES and DESCRIBE, as KalamDB answers them
// (docs/protocol.md §3 "Schema introspection"), built from catalog rows. Pure: introspect.ts reads
// the rows and decides who sees which.
//
// Decisions:
// - A table's columns are its own columns in order, then `_seq` and `_deleted`, the columns
//   `SELECT *` returns after them (KalamDB lists its system columns the same way).
// - Seqline keeps no stable column ids: `column_id` is the column's ordinal position.
// - A literal DEFAULT is Seqline's deparsed SQL; in the `columns` JSON it becomes KalamDB's
//   `{"Literal": value}` with the JSON value of a plain string, number, boolean or NULL, and
//   the SQL text otherwise (a cast such as `'2026-01-01'::timestamptz`).
// - Seqline has no storages: `storage_id` and `use_user_storage` are null.
import { schemaEntry, type Cell, type QueryResult, type SchemaEntry } from '@seqline/protocol';
import type { ColumnDef, ColumnDefault, DataType, TableDef } from '@seqline/domain';

/** A catalog table with what seqline.tables keeps beside its definition; times in µs since the epoch. */
export interface TableRow {
  readonly def: TableDef;
  readonly createdAtUs: number;
  readonly updatedAtUs: number;
  readonly schemaVersion: number;
}

export interface NamespaceRow {
  readonly name: string;
  readonly createdAtUs: number;
  /** Tables of the namespace the caller may see. */
  readonly tableCount: number;
}

/** KalamDB's ColumnDefinition as JSON (the `columns` of SHOW TABLES). */
export interface KalamColumn {
  readonly column_id: number;
  readonly column_name: string;
  readonly column_comment: string | null;
  readonly data_type: DataType;
  readonly default_value: 'None' | { readonly Literal: unknown } | { readonly FunctionCall: { readonly name: string; readonly args: readonly unknown[] } };
  readonly ordinal_position: number;
  readonly is_nullable: boolean;
  readonly is_primary_key: boolean;
  readonly is_partition_key: boolean;
}

type ColumnSpec = readonly [name: string, type: DataType, notNull: boolean];

const NAMESPACE_COLUMNS: readonly ColumnSpec[] = [
  ['namespace_id', 'Text', true],
  ['name', 'Text', true],
  ['created_at', 'Timestamp', true],
  ['options', 'Json', false],
  ['table_count', 'Int', true],
];

const TABLE_COLUMNS: readonly ColumnSpec[] = [
  ['table_id', 'Text', true],
  ['table_name', 'Text', true],
  ['namespace_id', 'Text', true],
  ['table_type', 'Text', true],
  ['created_at', 'Timestamp', true],
  ['schema_version', 'Int', true],
  ['columns', 'Json', true],
  ['table_comment', 'Text', false],
  ['updated_at', 'Timestamp', true],
  ['options', 'Json', false],
  ['access_level', 'Text', false],
  ['is_latest', 'Boolean', true],
  ['storage_id', 'Text', false],
  ['use_user_storage', 'Boolean', false],
];

const DESCRIBE_COLUMNS: readonly ColumnSpec[] = [
  ['column_name', 'Text', true],
  ['ordinal_position', 'Int', true],
  ['column_id', 'BigInt', true],
  ['data_type', 'Text', true],
  ['is_nullable', 'Boolean', true],
  ['is_primary_key', 'Boolean', true],
  ['column_default', 'Text', false],
  ['column_comment', 'Text', false],
  ['schema_version', 'Int', true],
];

function result(columns: readonly ColumnSpec[], rows: readonly (readonly Cell[])[], asUser: string): QueryResult {
  const schema: SchemaEntry[] = columns.map(([name, type, notNull], i) => schemaEntry(name, type, i, i === 0 ? ['pk', 'nn', 'uq'] : notNull ? ['nn'] : undefined));
  return { schema, rows, row_count: rows.length, as_user: asUser };
}

export function namespacesResult(namespaces: readonly NamespaceRow[], asUser: string): QueryResult {
  return result(NAMESPACE_COLUMNS, namespaces.map((n) => [n.name, n.name, n.createdAtUs, '{}', n.tableCount]), asUser);
}

export function tablesResult(tables: readonly TableRow[], asUser: string): QueryResult {
  const rows = tables.map(({ def, createdAtUs, updatedAtUs, schemaVersion }): Cell[] => [
    `${def.namespace}:${def.name}`,
    def.name,
    def.namespace,
    def.tableType.toLowerCase(),
    createdAtUs,
    schemaVersion,
    JSON.stringify(kalamColumns(def)),
    null,
    updatedAtUs,
    JSON.stringify(tableOptions(def)),
    def.tableType === 'SHARED' ? def.accessLevel.toLowerCase() : null,
    true,
    null,
    null,
  ]);
  return result(TABLE_COLUMNS, rows, asUser);
}

export function describeResult(table: TableRow, asUser: string): QueryResult {
  const columns = allColumns(table.def);
  const rows = kalamColumns(table.def).map((c, i): Cell[] => [
    c.column_name,
    c.ordinal_position,
    String(c.column_id),
    sqlTypeName(c.data_type),
    c.is_nullable,
    c.is_primary_key,
    defaultSql(columns[i]?.default),
    c.column_comment,
    table.schemaVersion,
  ]);
  return result(DESCRIBE_COLUMNS, rows, asUser);
}

const SYSTEM_COLUMNS: readonly ColumnDef[] = [
  { name: '_seq', dataType: 'BigInt', notNull: true, primaryKey: false },
  { name: '_deleted', dataType: 'Boolean', notNull: true, primaryKey: false, default: { kind: 'literal', sql: 'false' } },
];
const SYSTEM_COMMENTS: Readonly<Record<string, string>> = {
  _seq: 'Sequence id of the row version (a Snowflake id: its time is the write time)',
  _deleted: 'True for a tombstone (never returned by SELECT)',
};

const allColumns = (def: TableDef): readonly ColumnDef[] => [...def.columns, ...SYSTEM_COLUMNS];

export function kalamColumns(def: TableDef): KalamColumn[] {
  return allColumns(def).map((c, i) => ({
    column_id: i + 1,
    column_name: c.name,
    column_comment: SYSTEM_COMMENTS[c.name] ?? null,
    data_type: c.dataType,
    default_value: kalamDefault(c.default),
    ordinal_position: i + 1,
    is_nullable: !c.notNull && !c.primaryKey,
    is_primary_key: c.primaryKey,
    is_partition_key: false,
  }));
}

const FUNCTION_NAMES: Readonly<Record<Exclude<ColumnDefault['kind'], 'literal'>, string>> = {
  now: 'NOW',
  snowflake_id: 'SNOWFLAKE_ID',
  uuid_v7: 'UUID_V7',
  current_user: 'CURRENT_USER',
};

function kalamDefault(d: ColumnDefault | undefined): KalamColumn['default_value'] {
  if (d === undefined) return 'None';
  if (d.kind !== 'literal') return { FunctionCall: { name: FUNCTION_NAMES[d.kind], args: [] } };
  return { Literal: literalValue(d.sql) };
}

/** The JSON value of a deparsed constant when it is a plain one, else its SQL text. */
export function literalValue(sql: string): unknown {
  const quoted = /^'((?:[^']|'')*)'$/.exec(sql);
  if (quoted !== null) return quoted[1]!.replaceAll("''", "'");
  if (/^(true|false)$/i.test(sql)) return sql.toLowerCase() === 'true';
  if (/^null$/i.test(sql)) return null;
  const n = /^-?\(?(\d+(?:\.\d+)?)\)?$/.exec(sql) === null ? undefined : Number(sql.replace(/[()]/g, ''));
  return n !== undefined && Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n)) ? n : sql;
}

/** DESCRIBE's `column_default`: the default as SQL (`NOW()`, `'open'`), null for none. */
function defaultSql(d: ColumnDefault | undefined): string | null {
  if (d === undefined) return null;
  return d.kind === 'literal' ? d.sql : `${FUNCTION_NAMES[d.kind]}()`;
}

/** KalamDB's SQL name of a data type: `BIGINT`, `DECIMAL(10, 2)`. */
export function sqlTypeName(t: DataType): string {
  return typeof t === 'string' ? t.toUpperCase() : `DECIMAL(${t.Decimal.precision}, ${t.Decimal.scale})`;
}

function tableOptions(def: TableDef): Record<string, unknown> {
  return {
    table_type: def.tableType,
    ...(def.tableType === 'SHARED' ? { access_level: def.accessLevel } : {}),
    ...(def.ttlSeconds === undefined ? {} : { ttl_seconds: def.ttlSeconds }),
    deleted_retention_hours: def.deletedRetentionHours,
  };
}
