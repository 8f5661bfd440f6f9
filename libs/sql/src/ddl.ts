// Physical DDL: the PostgreSQL statements storage runs, in one transaction with the catalog
// update, for each DDL statement (DESIGN.md §2). Identifiers are always double-quoted.
//
// USER table "ns"."t":  "_user_id" text, <columns>, "_seq" bigint, "_deleted" boolean,
//   PRIMARY KEY ("_user_id", "<pk>"), hash-partitioned by "_user_id" into N partitions
//   "t__p0" … "t__p<N-1>", index "t__seq" ("_user_id", "_seq"), row-level security enabled
//   and forced, one SELECT policy for seqline_reader keyed on the seqline.user_id setting, and
//   SELECT granted on the parent only (reading a partition directly would bypass the policy).
// STREAM tables have the USER layout for now (events kept in JetStream only come later).
// SHARED table: no "_user_id", PRIMARY KEY ("<pk>"), not partitioned, index ("_seq"), and a
//   policy by access level: PUBLIC everyone, PRIVATE service/dba/system, DBA dba/system.
// No DEFAULTs (the writer applies them) and no CHECKs in CREATE TABLE. ADD COLUMN with a
// constant DEFAULT keeps it physical so existing rows are filled.
//
// Physical names longer than PostgreSQL's 63 bytes would be truncated, and truncated partition
// names could collide; such names become <prefix>_<8 hex of a hash of the table name><suffix>.
// The storage role must be a superuser or have BYPASSRLS: FORCE ROW LEVEL SECURITY applies to
// the table owner too, and the only policy is for seqline_reader.
import { SqlError } from './errors.js';
import { pgType } from './types-map.js';
import { READER_ROLE, SETTING_ROLE, SETTING_USER_ID, SYSTEM_COLUMNS, type AccessLevel, type ColumnDef, type Statement, type TableDef, type TableRef } from './types.js';

export type DdlStatement = Extract<
  Statement,
  { kind: 'create_namespace' | 'drop_namespace' | 'create_table' | 'alter_table_add_column' | 'alter_table_drop_column' | 'drop_table' }
>;

export interface DdlOptions {
  /** Partitions of a USER or STREAM table (default 8). */
  readonly hashPartitions?: number;
}

export const DEFAULT_HASH_PARTITIONS = 8;
export const OWNER_POLICY = 'seqline_owner';
const MAX_IDENTIFIER = 63;

export function ddlSql(stmt: DdlStatement, options: DdlOptions = {}): string[] {
  switch (stmt.kind) {
    case 'create_namespace':
      return [
        `CREATE SCHEMA ${stmt.ifNotExists ? 'IF NOT EXISTS ' : ''}${quoteIdent(stmt.name)}`,
        `GRANT USAGE ON SCHEMA ${quoteIdent(stmt.name)} TO ${READER_ROLE}`,
      ];
    case 'drop_namespace':
      return [`DROP SCHEMA ${stmt.ifExists ? 'IF EXISTS ' : ''}${quoteIdent(stmt.name)} ${stmt.cascade ? 'CASCADE' : 'RESTRICT'}`];
    case 'create_table':
      return createTableSql(stmt.table, stmt.ifNotExists, options.hashPartitions ?? DEFAULT_HASH_PARTITIONS);
    case 'alter_table_add_column':
      return [`ALTER TABLE ${qualified(stmt.table)} ADD COLUMN ${addedColumnSql(stmt.column)}`];
    case 'alter_table_drop_column':
      return [`ALTER TABLE ${qualified(stmt.table)} DROP COLUMN ${quoteIdent(stmt.column)}`];
    case 'drop_table':
      return [`DROP TABLE ${stmt.ifExists ? 'IF EXISTS ' : ''}${qualified(stmt.table)}`];
  }
}

function createTableSql(t: TableDef, ifNotExists: boolean, partitions: number): string[] {
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`hashPartitions must be a positive integer, got ${partitions}`);
  const name = qualified(t);
  const perUser = t.tableType !== 'SHARED';
  const userId = quoteIdent(SYSTEM_COLUMNS.userId);
  const seq = quoteIdent(SYSTEM_COLUMNS.seq);
  const columns = [
    ...(perUser ? [`${userId} text NOT NULL`] : []),
    ...t.columns.map((c) => `${quoteIdent(c.name)} ${columnType(c)}${c.notNull || c.primaryKey ? ' NOT NULL' : ''}`),
    `${seq} bigint NOT NULL`,
    `${quoteIdent(SYSTEM_COLUMNS.deleted)} boolean NOT NULL DEFAULT false`,
    `PRIMARY KEY (${perUser ? `${userId}, ` : ''}${quoteIdent(t.primaryKey)})`,
  ];
  const create = `CREATE TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${name} (${columns.join(', ')})`;
  const out = perUser ? [`${create} PARTITION BY HASH (${userId})`] : [create];
  if (perUser) {
    for (let i = 0; i < partitions; i++) {
      const partition = qualified({ namespace: t.namespace, name: partitionName(t.name, i) });
      out.push(`CREATE TABLE ${partition} PARTITION OF ${name} FOR VALUES WITH (MODULUS ${partitions}, REMAINDER ${i})`);
    }
  }
  out.push(
    `CREATE INDEX ${quoteIdent(seqIndexName(t.name))} ON ${name} (${perUser ? `${userId}, ` : ''}${seq})`,
    `ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${name} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY ${quoteIdent(OWNER_POLICY)} ON ${name} FOR SELECT TO ${READER_ROLE} USING (${perUser ? ownerCheck() : accessCheck(t.accessLevel)})`,
    `GRANT SELECT ON ${name} TO ${READER_ROLE}`,
  );
  return out;
}

function ownerCheck(): string {
  return `${quoteIdent(SYSTEM_COLUMNS.userId)} = current_setting(${quoteLiteral(SETTING_USER_ID)}, true)`;
}

function accessCheck(level: AccessLevel): string {
  const roles: Record<AccessLevel, readonly string[] | undefined> = {
    PUBLIC: undefined,
    PRIVATE: ['service', 'dba', 'system'],
    DBA: ['dba', 'system'],
  };
  const allowed = roles[level];
  if (allowed === undefined) return 'true';
  return `current_setting(${quoteLiteral(SETTING_ROLE)}, true) IN (${allowed.map(quoteLiteral).join(',')})`;
}

function addedColumnSql(c: ColumnDef): string {
  const literal = c.default?.kind === 'literal' ? c.default.sql : undefined;
  if (c.notNull && literal === undefined) {
    throw new SqlError('INVALID_SQL', `ADD COLUMN ${c.name} NOT NULL needs a constant DEFAULT to fill the existing rows`);
  }
  return `${quoteIdent(c.name)} ${columnType(c)}${c.notNull ? ' NOT NULL' : ''}${literal === undefined ? '' : ` DEFAULT ${literal}`}`;
}

/**
 * A column's physical type. TEXT columns use the "C" collation whatever the database's
 * default: text then orders by code point (KalamDB compares bytes), the same in SELECT and in
 * the live filters that must agree with it.
 */
function columnType(c: ColumnDef): string {
  return c.dataType === 'Text' ? 'text COLLATE "C"' : pgType(c.dataType);
}

/** Partition `i` of a USER or STREAM table: `<table>__p<i>`. */
export function partitionName(table: string, i: number): string {
  return physicalName(table, `__p${i}`);
}

/** The `_seq` index of a table: `<table>__seq`. */
export function seqIndexName(table: string): string {
  return physicalName(table, '__seq');
}

function physicalName(table: string, suffix: string): string {
  const name = `${table}${suffix}`;
  if (Buffer.byteLength(name) <= MAX_IDENTIFIER) return name;
  const hash = fnv1a(table).toString(16).padStart(8, '0');
  return `${table.slice(0, MAX_IDENTIFIER - suffix.length - hash.length - 1)}_${hash}${suffix}`;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

function qualified(t: TableRef): string {
  return `${quoteIdent(t.namespace)}.${quoteIdent(t.name)}`;
}

export function quoteIdent(name: string): string {
  if (name === '' || name.includes('\0')) throw new Error(`cannot quote identifier ${JSON.stringify(name)}`);
  return `"${name.replaceAll('"', '""')}"`;
}

/** A standard string literal (standard_conforming_strings: backslashes are plain characters). */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('a PostgreSQL string cannot contain NUL');
  return `'${value.replaceAll("'", "''")}'`;
}
