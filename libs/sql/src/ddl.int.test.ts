// The physical layout of ddl.ts against a real PostgreSQL: the statements run, and row-level
// security gives seqline_reader exactly the rows the settings allow, never a partition.
import postgres from 'postgres';
import { createTestDatabase } from '@seqline/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '@seqline/domain';
import { ddlSql, type DdlStatement } from './ddl.js';
import { initSql } from './init.js';
import { parseStatements } from './parse.js';
import { READER_ROLE, SETTING_ROLE, SETTING_USER_ID, WRITER_ROLE } from './types.js';

beforeAll(async () => {
  await initSql();
});

type Sql = postgres.Sql;

async function database(): Promise<{ sql: Sql } & AsyncDisposable> {
  const db = await createTestDatabase();
  const sql = postgres(db.url, { max: 2, onnotice: () => undefined });
  // Roles are cluster-wide: another test file may be creating it at the same moment.
  for (const role of [READER_ROLE, WRITER_ROLE]) {
    await sql.unsafe(`DO $$BEGIN CREATE ROLE ${role} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$`);
  }
  return {
    sql,
    [Symbol.asyncDispose]: async () => {
      await sql.end();
      await db[Symbol.asyncDispose]();
    },
  };
}

/** Parses the statements and runs their physical DDL in one transaction, as storage does. */
async function runDdl(sql: Sql, text: string, hashPartitions = 4): Promise<void> {
  const statements = parseStatements(text).map((s) => ddlSql(s as DdlStatement, { hashPartitions }));
  await sql.begin(async (tx) => {
    for (const statement of statements.flat()) await tx.unsafe(statement);
  });
}

/** Runs `query` as seqline_reader with the settings storage sets (set before SET ROLE). */
async function asReader(sql: Sql, userId: string | undefined, role: Role, query: string): Promise<Record<string, unknown>[]> {
  return sql.begin(async (tx) => {
    if (userId !== undefined) await tx`SELECT set_config(${SETTING_USER_ID}, ${userId}, true)`;
    await tx`SELECT set_config(${SETTING_ROLE}, ${role}, true)`;
    await tx.unsafe(`SET LOCAL ROLE ${READER_ROLE}`);
    return [...(await tx.unsafe(query))] as Record<string, unknown>[];
  });
}

async function columns(sql: Sql, table: string): Promise<string[]> {
  const rows = await sql`SELECT column_name FROM information_schema.columns WHERE table_schema = 'app' AND table_name = ${table} ORDER BY ordinal_position`;
  return rows.map((r) => String(r['column_name']));
}

describe('USER tables', () => {
  it('show seqline_reader exactly the rows of the user in seqline.user_id', async () => {
    await using db = await database();
    const { sql } = db;
    await runDdl(sql, 'CREATE NAMESPACE app; CREATE USER TABLE app.msgs (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), body TEXT NOT NULL)');
    await sql.unsafe(`INSERT INTO app.msgs (_user_id, id, body, _seq, _deleted) VALUES
      ('alice', 1, 'a1', 10, false), ('alice', 2, 'a2', 11, false), ('bob', 1, 'b1', 12, false), ('carol', 9, 'c9', 13, true)`);

    const read = 'SELECT _user_id, body FROM app.msgs ORDER BY body';
    expect(await asReader(sql, 'alice', 'user', read)).toEqual([
      { _user_id: 'alice', body: 'a1' },
      { _user_id: 'alice', body: 'a2' },
    ]);
    expect(await asReader(sql, 'bob', 'dba', read)).toEqual([{ _user_id: 'bob', body: 'b1' }]);
    expect(await asReader(sql, 'nobody', 'system', read)).toEqual([]);
    expect(await asReader(sql, undefined, 'user', read)).toEqual([]);
    // Same primary key for two owners: the key is (_user_id, pk).
    expect(await sql`SELECT count(*)::int AS n FROM app.msgs WHERE id = 1`).toEqual([{ n: 2 }]);
    // Rows are spread over the hash partitions, and the parent holds them all.
    expect(await sql`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'app.msgs'::regclass`).toEqual([{ n: 4 }]);
  });

  it('refuses seqline_reader a partition and any write', async () => {
    await using db = await database();
    const { sql } = db;
    await runDdl(sql, 'CREATE NAMESPACE app; CREATE USER TABLE app.msgs (id BIGINT PRIMARY KEY, body TEXT)');
    await expect(asReader(sql, 'alice', 'user', 'SELECT * FROM "app"."msgs__p0"')).rejects.toMatchObject({
      code: '42501',
      message: 'permission denied for table msgs__p0',
    });
    await expect(asReader(sql, 'alice', 'user', "INSERT INTO app.msgs (_user_id, id, body, _seq, _deleted) VALUES ('alice', 1, 'x', 1, false)")).rejects.toMatchObject({
      code: '42501',
      message: 'permission denied for table msgs',
    });
  });

  it('lay out STREAM tables the same way', async () => {
    await using db = await database();
    const { sql } = db;
    await runDdl(sql, 'CREATE NAMESPACE app; CREATE STREAM TABLE app.events (id BIGINT PRIMARY KEY, kind TEXT)');
    await sql.unsafe(`INSERT INTO app.events VALUES ('alice', 1, 'x', 1, false), ('bob', 2, 'y', 2, false)`);
    expect(await asReader(sql, 'bob', 'user', 'SELECT kind FROM app.events')).toEqual([{ kind: 'y' }]);
  });
});

describe('SHARED tables', () => {
  it('show rows by access level: PUBLIC to everyone, PRIVATE to service and up, DBA to dba and up', async () => {
    await using db = await database();
    const { sql } = db;
    await runDdl(
      sql,
      `CREATE NAMESPACE app;
       CREATE TABLE app.pub (id INT PRIMARY KEY, v TEXT);
       CREATE SHARED TABLE app.priv (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PRIVATE');
       CREATE TABLE app.ops (id INT PRIMARY KEY, v TEXT) WITH (TYPE = 'SHARED', ACCESS_LEVEL = 'DBA')`,
    );
    for (const t of ['pub', 'priv', 'ops']) await sql.unsafe(`INSERT INTO app.${t} (id, v, _seq, _deleted) VALUES (1, '${t}', 1, false)`);

    const visible = async (table: string, role: Role): Promise<number> => (await asReader(sql, 'alice', role, `SELECT * FROM app.${table}`)).length;
    const matrix: Record<string, Record<Role, number>> = {};
    for (const table of ['pub', 'priv', 'ops']) {
      matrix[table] = { user: await visible(table, 'user'), service: await visible(table, 'service'), dba: await visible(table, 'dba'), system: await visible(table, 'system') };
    }
    expect(matrix).toEqual({
      pub: { user: 1, service: 1, dba: 1, system: 1 },
      priv: { user: 0, service: 1, dba: 1, system: 1 },
      ops: { user: 0, service: 0, dba: 1, system: 1 },
    });
    expect(await sql`SELECT relkind FROM pg_class WHERE oid = 'app.pub'::regclass`).toEqual([{ relkind: 'r' }]);
  });
});

describe('ALTER and DROP', () => {
  it('add columns (filling existing rows with a constant DEFAULT), drop columns, tables and namespaces', async () => {
    await using db = await database();
    const { sql } = db;
    await runDdl(sql, 'CREATE NAMESPACE app; CREATE USER TABLE app.msgs (id BIGINT PRIMARY KEY, body TEXT)');
    await sql.unsafe(`INSERT INTO app.msgs VALUES ('alice', 1, 'a', 1, false), ('bob', 2, 'b', 2, false)`);

    await runDdl(sql, "ALTER TABLE app.msgs ADD COLUMN n INT NOT NULL DEFAULT 7; ALTER TABLE app.msgs ADD status TEXT DEFAULT 'open'; ALTER TABLE app.msgs ADD COLUMN note JSON");
    expect(await sql`SELECT id::int, n, status, note FROM app.msgs ORDER BY id`).toEqual([
      { id: 1, n: 7, status: 'open', note: null },
      { id: 2, n: 7, status: 'open', note: null },
    ]);
    expect(await columns(sql, 'msgs__p0')).toEqual(['_user_id', 'id', 'body', '_seq', '_deleted', 'n', 'status', 'note']);

    await runDdl(sql, 'ALTER TABLE app.msgs DROP COLUMN body');
    expect(await columns(sql, 'msgs')).toEqual(['_user_id', 'id', '_seq', '_deleted', 'n', 'status', 'note']);
    expect(await asReader(sql, 'alice', 'user', 'SELECT id::int, n FROM app.msgs')).toEqual([{ id: 1, n: 7 }]);

    await runDdl(sql, 'DROP TABLE app.msgs; DROP TABLE IF EXISTS app.msgs');
    expect(await sql`SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'app'`).toEqual([{ n: 0 }]);

    await runDdl(sql, 'CREATE TABLE app.keep (id INT PRIMARY KEY)');
    await expect(runDdl(sql, 'DROP NAMESPACE app')).rejects.toMatchObject({ code: '2BP01' });
    await runDdl(sql, 'DROP NAMESPACE app CASCADE; DROP NAMESPACE IF EXISTS app');
    expect(await sql`SELECT to_regnamespace('app') AS ns`).toEqual([{ ns: null }]);
  });
});
