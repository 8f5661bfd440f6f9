// SHOW NAMESPACES, SHOW TABLES [IN ns] and DESCRIBE over POST /v1/api/sql, in KalamDB's result
// shapes: each role sees exactly the tables it may read (USER and STREAM tables: everyone; SHARED:
// by access level), a table it may not read is answered like one that does not exist, and
// underneath, the views storage reads them through admit nothing more (layer 2, checked straight
// in PostgreSQL).
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok, sql } from './client.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let admin: string;
let alice: string;
let svc: string;

beforeAll(async () => {
  stack = await startStack();
  admin = await login(stack.url, stack.admin.user, stack.admin.password);
  for (const ddl of [
    'CREATE NAMESPACE app',
    'CREATE NAMESPACE other',
    "CREATE TABLE app.notes (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), body TEXT NOT NULL, done BOOLEAN DEFAULT false, price DECIMAL(10,2), at TIMESTAMP DEFAULT NOW()) WITH (TYPE='USER')",
    'CREATE STREAM TABLE app.events (id TEXT PRIMARY KEY, kind TEXT) WITH (TTL_SECONDS = 60)',
    "CREATE TABLE app.rooms (id TEXT PRIMARY KEY, title TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')",
    "CREATE TABLE app.ops (id TEXT PRIMARY KEY) WITH (TYPE='SHARED', ACCESS_LEVEL='PRIVATE')",
    "CREATE TABLE app.audit (id TEXT PRIMARY KEY) WITH (TYPE='SHARED', ACCESS_LEVEL='DBA')",
    "CREATE TABLE other.secrets (id TEXT PRIMARY KEY) WITH (TYPE='SHARED', ACCESS_LEVEL='DBA')",
    "CREATE USER alice WITH PASSWORD 'alice-pass-1' ROLE user",
    "CREATE USER svc WITH PASSWORD 'svc-pass-123' ROLE service",
  ]) {
    await ok(stack.url, admin, ddl);
  }
  [alice, svc] = await Promise.all([login(stack.url, 'alice', 'alice-pass-1'), login(stack.url, 'svc', 'svc-pass-123')]);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

interface Result {
  readonly columns: string[];
  readonly rows: unknown[][];
}

const result = async (token: string, text: string): Promise<Result> => {
  const [r] = await ok(stack.url, token, text);
  return { columns: (r!['schema'] as { name: string }[]).map((c) => c.name), rows: r!['rows'] as unknown[][] };
};
const column = (r: Result, name: string): unknown[] => r.rows.map((row) => row[r.columns.indexOf(name)]);

describe('SHOW TABLES', () => {
  it('lists the tables each role may read, in KalamDB columns', async () => {
    const forAlice = await result(alice, 'SHOW TABLES');
    expect(forAlice.columns).toEqual(['table_id', 'table_name', 'namespace_id', 'table_type', 'created_at', 'schema_version', 'columns', 'table_comment', 'updated_at', 'options', 'access_level', 'is_latest', 'storage_id', 'use_user_storage']);
    expect(forAlice.rows.map((r) => r.slice(0, 4))).toEqual([
      ['app:events', 'events', 'app', 'stream'],
      ['app:notes', 'notes', 'app', 'user'],
      ['app:rooms', 'rooms', 'app', 'shared'],
    ]);
    expect(column(forAlice, 'access_level')).toEqual([null, null, 'public']);
    expect(column(await result(svc, 'SHOW TABLES'), 'table_id')).toEqual(['app:events', 'app:notes', 'app:ops', 'app:rooms']);
    expect(column(await result(admin, 'SHOW TABLES'), 'table_id')).toEqual(['app:audit', 'app:events', 'app:notes', 'app:ops', 'app:rooms', 'other:secrets']);
  });

  it('filters by namespace, and gives the columns as KalamDB ColumnDefinitions', async () => {
    expect((await result(alice, 'SHOW TABLES IN other')).rows).toEqual([]);
    expect(column(await result(admin, 'show tables in other'), 'table_id')).toEqual(['other:secrets']);
    const notes = await result(alice, 'SHOW TABLES IN app');
    const row = notes.rows.find((r) => r[0] === 'app:notes')!;
    const columns = JSON.parse(row[notes.columns.indexOf('columns')] as string) as Record<string, unknown>[];
    expect(columns.map((c) => [c['column_name'], c['data_type'], c['is_nullable'], c['is_primary_key'], c['default_value']])).toEqual([
      ['id', 'BigInt', false, true, { FunctionCall: { name: 'SNOWFLAKE_ID', args: [] } }],
      ['body', 'Text', false, false, 'None'],
      ['done', 'Boolean', true, false, { Literal: false }],
      ['price', { Decimal: { precision: 10, scale: 2 } }, true, false, 'None'],
      ['at', 'Timestamp', true, false, { FunctionCall: { name: 'NOW', args: [] } }],
      ['_seq', 'BigInt', false, false, 'None'],
      ['_deleted', 'Boolean', false, false, { Literal: false }],
    ]);
    expect(JSON.parse(column(notes, 'options')[0] as string)).toEqual({ table_type: 'STREAM', ttl_seconds: 60, deleted_retention_hours: 168 });
  });
});

describe('SHOW NAMESPACES', () => {
  it('lists every namespace, counting the tables the caller may read', async () => {
    const forAlice = await result(alice, 'SHOW NAMESPACES');
    expect(forAlice.columns).toEqual(['namespace_id', 'name', 'created_at', 'options', 'table_count']);
    expect(forAlice.rows.map((r) => [r[0], r[1], r[4]])).toEqual([
      ['app', 'app', 3],
      ['default', 'default', 0],
      ['other', 'other', 0],
    ]);
    expect(typeof forAlice.rows[0]![2]).toBe('number');
    expect((await result(admin, 'SHOW NAMESPACES')).rows.map((r) => [r[0], r[4]])).toEqual([
      ['app', 5],
      ['default', 0],
      ['other', 1],
    ]);
  });
});

describe('DESCRIBE', () => {
  it('describes a table column by column, _seq and _deleted last', async () => {
    const d = await result(alice, 'DESCRIBE TABLE app.notes');
    expect(d.columns).toEqual(['column_name', 'ordinal_position', 'column_id', 'data_type', 'is_nullable', 'is_primary_key', 'column_default', 'column_comment', 'schema_version']);
    expect(d.rows.map((r) => r.slice(0, 7))).toEqual([
      ['id', 1, '1', 'BIGINT', false, true, 'SNOWFLAKE_ID()'],
      ['body', 2, '2', 'TEXT', false, false, null],
      ['done', 3, '3', 'BOOLEAN', true, false, 'false'],
      ['price', 4, '4', 'DECIMAL(10, 2)', true, false, null],
      ['at', 5, '5', 'TIMESTAMP', true, false, 'NOW()'],
      ['_seq', 6, '6', 'BIGINT', false, false, null],
      ['_deleted', 7, '7', 'BOOLEAN', false, false, 'false'],
    ]);
    expect(column(d, 'schema_version')).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  it('answers a table the caller may not read exactly like one that does not exist', async () => {
    const hidden = await sql(stack.url, alice, 'DESCRIBE app.audit');
    const missing = await sql(stack.url, alice, 'DESCRIBE app.nothing');
    expect([hidden.status, hidden.body.error]).toEqual([400, { code: 'TABLE_NOT_FOUND', message: 'table app.audit does not exist' }]);
    expect([missing.status, missing.body.error]).toEqual([400, { code: 'TABLE_NOT_FOUND', message: 'table app.nothing does not exist' }]);
    const forSvc = await sql(stack.url, svc, 'DESCRIBE app.audit');
    expect(forSvc.body.error?.code).toBe('TABLE_NOT_FOUND');
    expect(column(await result(svc, 'DESCRIBE app.ops'), 'column_name')).toEqual(['id', '_seq', '_deleted']);
    expect(column(await result(admin, 'DESC other.secrets'), 'column_name')).toEqual(['id', '_seq', '_deleted']);
  });

  it('follows ALTER TABLE: the new column, a new schema version and updated_at', async () => {
    await ok(stack.url, admin, "CREATE TABLE app.altered (id TEXT PRIMARY KEY) WITH (TYPE='USER')");
    const before = await result(alice, 'SHOW TABLES IN app');
    const at = (r: Result, name: string) => r.rows.find((row) => row[0] === 'app:altered')![r.columns.indexOf(name)] as number;
    await ok(stack.url, admin, 'ALTER TABLE app.altered ADD COLUMN tag TEXT');
    const after = await result(alice, 'SHOW TABLES IN app');
    expect([at(before, 'schema_version'), at(after, 'schema_version')]).toEqual([1, 2]);
    expect(at(before, 'updated_at')).toBe(at(before, 'created_at'));
    expect(at(after, 'updated_at')).toBeGreaterThan(at(after, 'created_at'));
    const d = await result(alice, 'DESCRIBE app.altered');
    expect(d.rows.map((r) => [r[0], r[8]])).toEqual([
      ['id', 2],
      ['tag', 2],
      ['_seq', 2],
      ['_deleted', 2],
    ]);
  });

  it('runs in a batch with other statements, and a bad name is INVALID_SQL', async () => {
    const results = await ok(stack.url, alice, 'SHOW NAMESPACES; DESCRIBE app.rooms; SELECT 1 AS one');
    expect(results.map((r) => r['row_count'])).toEqual([3, 4, 1]);
    const bad = await sql(stack.url, alice, 'DESCRIBE app.a.b');
    expect([bad.status, bad.body.error]).toEqual([400, { code: 'INVALID_SQL', message: 'DESCRIBE: unexpected "."' }]);
  });
});

describe('the views underneath', () => {
  it('admit a table only to the roles that may read it, and nothing without a role', async () => {
    const db = postgres(stack.postgresUrl, { max: 1, onnotice: () => {} });
    try {
      const asRole = (role: string | undefined) =>
        db.begin(async (tx) => {
          if (role !== undefined) await tx`SELECT set_config('seqline.role', ${role}, true), set_config('seqline.user_id', 'alice', true)`;
          await tx.unsafe('SET LOCAL ROLE seqline_reader');
          const tables = await tx<{ t: string }[]>`SELECT namespace || '.' || name AS t FROM seqline.schema_tables WHERE name <> 'altered' ORDER BY 1`;
          const [namespaces] = await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM seqline.schema_namespaces`;
          return { tables: tables.map((r) => r.t), namespaces: namespaces!.n };
        });
      expect(await asRole('user')).toEqual({ tables: ['app.events', 'app.notes', 'app.rooms'], namespaces: 3 });
      expect(await asRole('service')).toEqual({ tables: ['app.events', 'app.notes', 'app.ops', 'app.rooms'], namespaces: 3 });
      expect(await asRole('dba')).toEqual({ tables: ['app.audit', 'app.events', 'app.notes', 'app.ops', 'app.rooms', 'other.secrets'], namespaces: 3 });
      expect(await asRole(undefined)).toEqual({ tables: [], namespaces: 0 });
      expect(await asRole('nobody')).toEqual({ tables: [], namespaces: 0 });
    } finally {
      await db.end();
    }
  });
});
