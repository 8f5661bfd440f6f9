import { describe, expect, it } from 'vitest';
import type { AccessLevel, ColumnDef, TableDef, TableType } from '@seqline/domain';
import { ddlSql, partitionName, quoteIdent, quoteLiteral, seqIndexName, type DdlStatement } from './ddl.js';
import { SqlError } from './errors.js';

const COLUMNS: ColumnDef[] = [
  { name: 'id', dataType: 'BigInt', notNull: false, primaryKey: true, default: { kind: 'snowflake_id' } },
  { name: 'body', dataType: 'Text', notNull: true, primaryKey: false, default: { kind: 'literal', sql: "'x'" } },
  { name: 'price', dataType: { Decimal: { precision: 10, scale: 2 } }, notNull: false, primaryKey: false },
  { name: 'at', dataType: 'DateTime', notNull: false, primaryKey: false, default: { kind: 'now' } },
];

function createTable(tableType: TableType, accessLevel: AccessLevel = 'PUBLIC', ifNotExists = false): DdlStatement {
  const table: TableDef = { namespace: 'app', name: 'msgs', tableType, accessLevel, deletedRetentionHours: 168, columns: COLUMNS, primaryKey: 'id' };
  return { kind: 'create_table', table, ifNotExists };
}

const USER_LAYOUT = [
  'CREATE TABLE "app"."msgs" ("_user_id" text NOT NULL, "id" bigint NOT NULL, "body" text COLLATE "C" NOT NULL, "price" numeric(10,2), "at" timestamptz, "_seq" bigint NOT NULL, "_deleted" boolean NOT NULL DEFAULT false, PRIMARY KEY ("_user_id", "id")) PARTITION BY HASH ("_user_id")',
  'CREATE TABLE "app"."msgs__p0" PARTITION OF "app"."msgs" FOR VALUES WITH (MODULUS 2, REMAINDER 0)',
  'CREATE TABLE "app"."msgs__p1" PARTITION OF "app"."msgs" FOR VALUES WITH (MODULUS 2, REMAINDER 1)',
  'CREATE INDEX "msgs__seq" ON "app"."msgs" ("_user_id", "_seq")',
  'ALTER TABLE "app"."msgs" ENABLE ROW LEVEL SECURITY',
  'ALTER TABLE "app"."msgs" FORCE ROW LEVEL SECURITY',
  `CREATE POLICY "seqline_owner" ON "app"."msgs" FOR SELECT TO seqline_reader USING ("_user_id" = current_setting('seqline.user_id', true))`,
  'GRANT SELECT ON "app"."msgs" TO seqline_reader',
  ...writerAccess(`"_user_id" = current_setting('seqline.owner', true)`),
];

function writerAccess(owned: string): string[] {
  return [
    `CREATE POLICY "seqline_write_select" ON "app"."msgs" FOR SELECT TO seqline_writer USING (${owned})`,
    `CREATE POLICY "seqline_write_insert" ON "app"."msgs" FOR INSERT TO seqline_writer WITH CHECK (${owned})`,
    `CREATE POLICY "seqline_write_update" ON "app"."msgs" FOR UPDATE TO seqline_writer USING (${owned}) WITH CHECK (${owned})`,
    `CREATE POLICY "seqline_write_delete" ON "app"."msgs" FOR DELETE TO seqline_writer USING (${owned})`,
    'GRANT SELECT, INSERT, UPDATE ON "app"."msgs" TO seqline_writer',
    'CREATE POLICY "seqline_purge_select" ON "app"."msgs" FOR SELECT TO CURRENT_USER USING ("_deleted")',
    'CREATE POLICY "seqline_purge_delete" ON "app"."msgs" FOR DELETE TO CURRENT_USER USING ("_deleted")',
  ];
}

function sharedLayout(using: string): string[] {
  return [
    'CREATE TABLE "app"."msgs" ("id" bigint NOT NULL, "body" text COLLATE "C" NOT NULL, "price" numeric(10,2), "at" timestamptz, "_seq" bigint NOT NULL, "_deleted" boolean NOT NULL DEFAULT false, PRIMARY KEY ("id"))',
    'CREATE INDEX "msgs__seq" ON "app"."msgs" ("_seq")',
    'ALTER TABLE "app"."msgs" ENABLE ROW LEVEL SECURITY',
    'ALTER TABLE "app"."msgs" FORCE ROW LEVEL SECURITY',
    `CREATE POLICY "seqline_owner" ON "app"."msgs" FOR SELECT TO seqline_reader USING (${using})`,
    'GRANT SELECT ON "app"."msgs" TO seqline_reader',
    ...writerAccess(`current_setting('seqline.owner', true) = '_shared'`),
  ];
}

describe('ddlSql', () => {
  it('creates and drops namespaces', () => {
    expect(ddlSql({ kind: 'create_namespace', name: 'app', ifNotExists: false })).toEqual(['CREATE SCHEMA "app"', 'GRANT USAGE ON SCHEMA "app" TO seqline_reader, seqline_writer']);
    expect(ddlSql({ kind: 'create_namespace', name: 'App', ifNotExists: true })).toEqual(['CREATE SCHEMA IF NOT EXISTS "App"', 'GRANT USAGE ON SCHEMA "App" TO seqline_reader, seqline_writer']);
    expect(ddlSql({ kind: 'drop_namespace', name: 'app', ifExists: false, cascade: false })).toEqual(['DROP SCHEMA "app" RESTRICT']);
    expect(ddlSql({ kind: 'drop_namespace', name: 'app', ifExists: true, cascade: true })).toEqual(['DROP SCHEMA IF EXISTS "app" CASCADE']);
  });

  it('lays out a USER table: partitioned by owner, RLS on the owner, no defaults', () => {
    expect(ddlSql(createTable('USER'), { hashPartitions: 2 })).toEqual(USER_LAYOUT);
  });

  it('lays out a STREAM table like a USER table', () => {
    expect(ddlSql(createTable('STREAM'), { hashPartitions: 2 })).toEqual(USER_LAYOUT);
  });

  it('makes 8 partitions by default and IF NOT EXISTS applies to the parent', () => {
    const sql = ddlSql(createTable('USER', 'PRIVATE', true));
    expect(sql[0]).toMatch(/^CREATE TABLE IF NOT EXISTS "app"\."msgs" \(/);
    const partitions = sql.filter((s) => s.includes('PARTITION OF'));
    expect(partitions).toHaveLength(8);
    expect(partitions[7]).toBe('CREATE TABLE "app"."msgs__p7" PARTITION OF "app"."msgs" FOR VALUES WITH (MODULUS 8, REMAINDER 7)');
  });

  it.each<[AccessLevel, string]>([
    ['PUBLIC', 'true'],
    ['PRIVATE', "current_setting('seqline.role', true) IN ('service','dba','system')"],
    ['DBA', "current_setting('seqline.role', true) IN ('dba','system')"],
  ])('lays out a %s SHARED table', (level, using) => {
    expect(ddlSql(createTable('SHARED', level), { hashPartitions: 2 })).toEqual(sharedLayout(using));
  });

  it('adds columns, with a physical constant DEFAULT that fills existing rows', () => {
    const table = { namespace: 'app', name: 'msgs' };
    expect(ddlSql({ kind: 'alter_table_add_column', table, column: { name: 'c', dataType: 'Json', notNull: false, primaryKey: false } })).toEqual([
      'ALTER TABLE "app"."msgs" ADD COLUMN "c" jsonb',
    ]);
    const n: ColumnDef = { name: 'n', dataType: 'Int', notNull: true, primaryKey: false, default: { kind: 'literal', sql: '0' } };
    expect(ddlSql({ kind: 'alter_table_add_column', table, column: n })).toEqual(['ALTER TABLE "app"."msgs" ADD COLUMN "n" integer NOT NULL DEFAULT 0']);
    const s: ColumnDef = { name: 's', dataType: 'Text', notNull: false, primaryKey: false, default: { kind: 'literal', sql: "'open'" } };
    expect(ddlSql({ kind: 'alter_table_add_column', table, column: s })).toEqual([`ALTER TABLE "app"."msgs" ADD COLUMN "s" text COLLATE "C" DEFAULT 'open'`]);
    const now: ColumnDef = { name: 'at', dataType: 'Timestamp', notNull: false, primaryKey: false, default: { kind: 'now' } };
    expect(ddlSql({ kind: 'alter_table_add_column', table, column: now })).toEqual(['ALTER TABLE "app"."msgs" ADD COLUMN "at" timestamptz']);
  });

  it('refuses NOT NULL ADD COLUMN without a constant DEFAULT', () => {
    const column: ColumnDef = { name: 'n', dataType: 'Int', notNull: true, primaryKey: false, default: { kind: 'now' } };
    expect(() => ddlSql({ kind: 'alter_table_add_column', table: { namespace: 'app', name: 't' }, column })).toThrow(
      new SqlError('INVALID_SQL', 'ADD COLUMN n NOT NULL needs a constant DEFAULT to fill the existing rows'),
    );
  });

  it('drops columns and tables', () => {
    const table = { namespace: 'app', name: 'msgs' };
    expect(ddlSql({ kind: 'alter_table_drop_column', table, column: 'c' })).toEqual(['ALTER TABLE "app"."msgs" DROP COLUMN "c"']);
    expect(ddlSql({ kind: 'drop_table', table, ifExists: false })).toEqual(['DROP TABLE "app"."msgs"']);
    expect(ddlSql({ kind: 'drop_table', table, ifExists: true })).toEqual(['DROP TABLE IF EXISTS "app"."msgs"']);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses hashPartitions %s', (n) => {
    expect(() => ddlSql(createTable('USER'), { hashPartitions: n })).toThrow(`hashPartitions must be a positive integer, got ${n}`);
  });
});

describe('physical names', () => {
  it('are <table>__p<i> and <table>__seq while they fit in 63 bytes', () => {
    expect(partitionName('msgs', 3)).toBe('msgs__p3');
    expect(seqIndexName('msgs')).toBe('msgs__seq');
    expect(seqIndexName('a'.repeat(58))).toBe(`${'a'.repeat(58)}__seq`);
  });

  it('are shortened with a hash of the table name, without collisions, when they would not fit', () => {
    const long = 't'.repeat(63);
    const names = Array.from({ length: 16 }, (_, i) => partitionName(long, i));
    for (const n of names) expect(n.length).toBeLessThanOrEqual(63);
    expect(new Set(names).size).toBe(16);
    expect(names[10]).toMatch(/^t{49}_[0-9a-f]{8}__p10$/);
    expect(seqIndexName(long)).toMatch(/^t{49}_[0-9a-f]{8}__seq$/);
    expect(partitionName(long, 1)).not.toBe(partitionName(`${'t'.repeat(62)}u`, 1));
  });
});

describe('quoting', () => {
  it.each([
    ['app', '"app"'],
    ['My Table', '"My Table"'],
    ['a"b', '"a""b"'],
    ['select', '"select"'],
  ])('quoteIdent(%j) = %s', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });

  it.each([
    ['alice', "'alice'"],
    ["it's", "'it''s'"],
    ['back\\slash', "'back\\slash'"],
    ['', "''"],
  ])('quoteLiteral(%j) = %s', (value, quoted) => {
    expect(quoteLiteral(value)).toBe(quoted);
  });

  it('refuses what PostgreSQL cannot hold', () => {
    expect(() => quoteIdent('')).toThrow('cannot quote identifier ""');
    expect(() => quoteIdent('a\0b')).toThrow('cannot quote identifier');
    expect(() => quoteLiteral('a\0b')).toThrow('a PostgreSQL string cannot contain NUL');
  });
});
