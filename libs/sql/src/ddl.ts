// Physical DDL: the PostgreSQL statements storage runs, in one transaction with the catalog
// update, for each DDL statement (docs/architecture.md §2). Identifiers are always double-quoted.
//
// USER table "ns"."t":  "_user_id" text, <columns>, "_seq" bigint, "_deleted" boolean,
//   PRIMARY KEY ("_user_id", "<pk>"), hash-partitioned by "_user_id" into N partitions
//   "t__p0" … "t__p<N-1>", index "t__seq" ("_user_id", "_seq"), and the access below.
// STREAM tables have the USER layout for now (events kept in JetStream only come later).
// SHARED table: no "_user_id", PRIMARY KEY ("<pk>"), not partitioned, index ("_seq").
// No DEFAULTs (the writer applies them) and no CHECKs in CREATE TABLE. ADD COLUMN with a
// constant DEFAULT keeps it physical so existing rows are filled.
//
// Access (tableAccessSql): row-level security enabled and forced, privileges on the parent
// table only (a partition read or written directly would bypass the policies), and policies:
// - seqline_reader (user SELECTs, snapshots): SELECT where "_user_id" = seqline.user_id; on a
//   SHARED table by access level: PUBLIC everyone, PRIVATE service/dba/system, DBA dba/system.
// - seqline_writer (every op, see storage's applier): SELECT (for SELECT … FOR UPDATE,
//   ON CONFLICT and RETURNING), INSERT, UPDATE and DELETE where "_user_id" = seqline.owner, on
//   a SHARED table where seqline.owner is the shared owner token. It is granted SELECT, INSERT
//   and UPDATE (a delete writes a tombstone; nothing deletes rows as the writer).
// - the role that creates the table (storage's runtime role, which owns it): FORCE makes the
//   owner subject to the policies too, so it gets exactly what its own maintenance does, never
//   a user's expression: seeing and deleting tombstones ("_deleted" rows), which is the purge.
//   Everything else it does to the table is DDL, which row-level security does not govern.
//   Its policies name the role that created the table (CURRENT_USER); a different runtime role
//   later needs them re-created (docs/operations.md).
//
// Physical names longer than PostgreSQL's 63 bytes would be truncated, and truncated partition
// names could collide; such names become <prefix>_<8 hex of a hash of the table name><suffix>.
import { SHARED_OWNER, type AccessLevel, type ColumnDef, type TableDef, type TableRef, type TableType } from '@seqline/domain';
import { SqlError } from './errors.js';
import { pgType } from './types-map.js';
import { READER_ROLE, SETTING_OWNER, SETTING_ROLE, SETTING_USER_ID, SYSTEM_COLUMNS, WRITER_ROLE, type Statement } from './types.js';

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
        `GRANT USAGE ON SCHEMA ${quoteIdent(stmt.name)} TO ${READER_ROLE}, ${WRITER_ROLE}`,
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
  out.push(`CREATE INDEX ${quoteIdent(seqIndexName(t.name))} ON ${name} (${perUser ? `${userId}, ` : ''}${seq})`, ...tableAccessSql(t));
  return out;
}

type AccessTarget = TableRef & { readonly tableType: TableType; readonly accessLevel: AccessLevel };

export const WRITER_POLICIES = { select: 'seqline_write_select', insert: 'seqline_write_insert', update: 'seqline_write_update', delete: 'seqline_write_delete' } as const;
export const PURGE_POLICIES = { select: 'seqline_purge_select', delete: 'seqline_purge_delete' } as const;

/**
 * Row-level security, policies and grants of a table (see the header); also run by storage's
 * migration that brings tables created before the writer role up to date.
 */
export function tableAccessSql(t: AccessTarget): string[] {
  const name = qualified(t);
  const perUser = t.tableType !== 'SHARED';
  return [
    `ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${name} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY ${quoteIdent(OWNER_POLICY)} ON ${name} FOR SELECT TO ${READER_ROLE} USING (${perUser ? ownerCheck(SETTING_USER_ID) : accessCheck(t.accessLevel)})`,
    `GRANT SELECT ON ${name} TO ${READER_ROLE}`,
    ...writerAccessSql(t),
  ];
}

/** The writer's and the purge's policies and grants (tableAccessSql without the reader's). */
export function writerAccessSql(t: AccessTarget): string[] {
  const name = qualified(t);
  const perUser = t.tableType !== 'SHARED';
  const owned = perUser ? ownerCheck(SETTING_OWNER) : `current_setting(${quoteLiteral(SETTING_OWNER)}, true) = ${quoteLiteral(SHARED_OWNER)}`;
  const tombstone = quoteIdent(SYSTEM_COLUMNS.deleted);
  const policy = (policyName: string, rest: string): string => `CREATE POLICY ${quoteIdent(policyName)} ON ${name} ${rest}`;
  return [
    policy(WRITER_POLICIES.select, `FOR SELECT TO ${WRITER_ROLE} USING (${owned})`),
    policy(WRITER_POLICIES.insert, `FOR INSERT TO ${WRITER_ROLE} WITH CHECK (${owned})`),
    policy(WRITER_POLICIES.update, `FOR UPDATE TO ${WRITER_ROLE} USING (${owned}) WITH CHECK (${owned})`),
    policy(WRITER_POLICIES.delete, `FOR DELETE TO ${WRITER_ROLE} USING (${owned})`),
    `GRANT SELECT, INSERT, UPDATE ON ${name} TO ${WRITER_ROLE}`,
    policy(PURGE_POLICIES.select, `FOR SELECT TO CURRENT_USER USING (${tombstone})`),
    policy(PURGE_POLICIES.delete, `FOR DELETE TO CURRENT_USER USING (${tombstone})`),
  ];
}

/** `SET LOCAL` of the owner the writer's policies admit, for the op about to be applied. */
export function ownerSettingSql(owner: string): string {
  return `SET LOCAL ${SETTING_OWNER} = ${quoteLiteral(owner)}`;
}

function ownerCheck(setting: string): string {
  return `${quoteIdent(SYSTEM_COLUMNS.userId)} = current_setting(${quoteLiteral(setting)}, true)`;
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
