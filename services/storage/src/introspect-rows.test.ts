import type { TableDef } from '@seqline/domain';
import { describe, expect, it } from 'vitest';
import { describeResult, kalamColumns, literalValue, namespacesResult, sqlTypeName, tablesResult } from './introspect-rows.js';

const tickets: TableDef = {
  namespace: 'app',
  name: 'tickets',
  tableType: 'USER',
  accessLevel: 'PRIVATE',
  deletedRetentionHours: 168,
  primaryKey: 'id',
  columns: [
    { name: 'id', dataType: 'BigInt', notNull: false, primaryKey: true, default: { kind: 'snowflake_id' } },
    { name: 'title', dataType: 'Text', notNull: true, primaryKey: false },
    { name: 'status', dataType: 'Text', notNull: false, primaryKey: false, default: { kind: 'literal', sql: "'open'" } },
    { name: 'price', dataType: { Decimal: { precision: 10, scale: 2 } }, notNull: false, primaryKey: false },
    { name: 'at', dataType: 'Timestamp', notNull: false, primaryKey: false, default: { kind: 'now' } },
  ],
};
const rooms: TableDef = { namespace: 'chat', name: 'rooms', tableType: 'SHARED', accessLevel: 'PUBLIC', deletedRetentionHours: 24, primaryKey: 'id', columns: [{ name: 'id', dataType: 'Text', notNull: true, primaryKey: true }] };

describe('introspection results', () => {
  it('SHOW NAMESPACES: KalamDB columns, one row per namespace', () => {
    const r = namespacesResult([{ name: 'app', createdAtUs: 1_700_000_000_000_000, tableCount: 2 }], 'alice');
    expect(r.schema.map((c) => [c.name, c.data_type])).toEqual([
      ['namespace_id', 'Text'],
      ['name', 'Text'],
      ['created_at', 'Timestamp'],
      ['options', 'Json'],
      ['table_count', 'Int'],
    ]);
    expect(r.rows).toEqual([['app', 'app', 1_700_000_000_000_000, '{}', 2]]);
    expect([r.row_count, r.as_user]).toEqual([1, 'alice']);
  });

  it('SHOW TABLES: KalamDB columns, the columns as KalamDB ColumnDefinitions with _seq and _deleted last', () => {
    const r = tablesResult(
      [
        { def: tickets, createdAtUs: 1, updatedAtUs: 2, schemaVersion: 3 },
        { def: { ...rooms, ttlSeconds: 60 }, createdAtUs: 5, updatedAtUs: 5, schemaVersion: 1 },
      ],
      'bob',
    );
    expect(r.schema.map((c) => c.name)).toEqual(['table_id', 'table_name', 'namespace_id', 'table_type', 'created_at', 'schema_version', 'columns', 'table_comment', 'updated_at', 'options', 'access_level', 'is_latest', 'storage_id', 'use_user_storage']);
    const [first, second] = r.rows;
    expect(first!.filter((_, i) => i !== 6)).toEqual(['app:tickets', 'tickets', 'app', 'user', 1, 3, null, 2, '{"table_type":"USER","deleted_retention_hours":168}', null, true, null, null]);
    expect(second!.filter((_, i) => i !== 6)).toEqual(['chat:rooms', 'rooms', 'chat', 'shared', 5, 1, null, 5, '{"table_type":"SHARED","access_level":"PUBLIC","ttl_seconds":60,"deleted_retention_hours":24}', 'public', true, null, null]);
    const columns = JSON.parse(first![6] as string) as Record<string, unknown>[];
    expect(columns.map((c) => [c['column_name'], c['data_type'], c['is_nullable'], c['is_primary_key'], c['default_value'], c['ordinal_position'], c['column_id']])).toEqual([
      ['id', 'BigInt', false, true, { FunctionCall: { name: 'SNOWFLAKE_ID', args: [] } }, 1, 1],
      ['title', 'Text', false, false, 'None', 2, 2],
      ['status', 'Text', true, false, { Literal: 'open' }, 3, 3],
      ['price', { Decimal: { precision: 10, scale: 2 } }, true, false, 'None', 4, 4],
      ['at', 'Timestamp', true, false, { FunctionCall: { name: 'NOW', args: [] } }, 5, 5],
      ['_seq', 'BigInt', false, false, 'None', 6, 6],
      ['_deleted', 'Boolean', false, false, { Literal: false }, 7, 7],
    ]);
    expect(Object.keys(columns[0]!)).toEqual(['column_id', 'column_name', 'column_comment', 'data_type', 'default_value', 'ordinal_position', 'is_nullable', 'is_primary_key', 'is_partition_key']);
  });

  it('DESCRIBE: one row per column with the SQL type name and default', () => {
    const r = describeResult({ def: tickets, createdAtUs: 1, updatedAtUs: 1, schemaVersion: 2 }, 'alice');
    expect(r.schema.map((c) => [c.name, c.data_type])).toEqual([
      ['column_name', 'Text'],
      ['ordinal_position', 'Int'],
      ['column_id', 'BigInt'],
      ['data_type', 'Text'],
      ['is_nullable', 'Boolean'],
      ['is_primary_key', 'Boolean'],
      ['column_default', 'Text'],
      ['column_comment', 'Text'],
      ['schema_version', 'Int'],
    ]);
    expect(r.rows.map((row) => row.filter((_, i) => i !== 7))).toEqual([
      ['id', 1, '1', 'BIGINT', false, true, 'SNOWFLAKE_ID()', 2],
      ['title', 2, '2', 'TEXT', false, false, null, 2],
      ['status', 3, '3', 'TEXT', true, false, "'open'", 2],
      ['price', 4, '4', 'DECIMAL(10, 2)', true, false, null, 2],
      ['at', 5, '5', 'TIMESTAMP', true, false, 'NOW()', 2],
      ['_seq', 6, '6', 'BIGINT', false, false, null, 2],
      ['_deleted', 7, '7', 'BOOLEAN', false, false, 'false', 2],
    ]);
    expect(r.rows.map((row) => row[7] === null)).toEqual([true, true, true, true, true, false, false]);
  });

  it('reads literal defaults as JSON values when they are plain', () => {
    expect(["'it''s'", '42', '-(5)', '1.5', 'true', 'FALSE', 'NULL', "'2026-01-01'::timestamptz", '9007199254740993'].map(literalValue)).toEqual([
      "it's",
      42,
      -5,
      1.5,
      true,
      false,
      null,
      "'2026-01-01'::timestamptz",
      '9007199254740993',
    ]);
  });

  it('names types as KalamDB does', () => {
    expect(['SmallInt', 'DateTime', 'Uuid', { Decimal: { precision: 38, scale: 10 } }].map((t) => sqlTypeName(t as never))).toEqual(['SMALLINT', 'DATETIME', 'UUID', 'DECIMAL(38, 10)']);
    expect(kalamColumns(rooms).map((c) => c.column_name)).toEqual(['id', '_seq', '_deleted']);
  });
});
