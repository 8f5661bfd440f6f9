// Isolation, twice (docs/architecture.md §2), against a real PostgreSQL: attack queries by alice go through
// rewriteSelect and then run exactly as storage runs reads (read-only transaction, set_config of
// the acting user and role, SET LOCAL ROLE seqline_reader). Each must either be refused with a
// SqlError or return alice's rows and nothing else. Layer 2 is then checked alone: queries that
// were NOT rewritten still see only alice's rows, because of the reader role's RLS policies.
import { createTestDatabase } from '@seqline/testkit';
import { parseSync } from 'libpg-query';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor, Catalog, TableDef } from '@seqline/domain';
import { SqlError } from './errors.js';
import { initSql } from './init.js';
import { rewriteSelect } from './rewrite.js';
import type { PgNode } from './types.js';

type Row = Record<string, unknown>;
type Outcome = { readonly code: string } | { readonly rows: readonly Row[] };

const TABLES: readonly TableDef[] = [
  {
    namespace: 'app', name: 't', tableType: 'USER', accessLevel: 'PUBLIC', deletedRetentionHours: 168, primaryKey: 'id',
    columns: [
      { name: 'id', dataType: 'BigInt', notNull: true, primaryKey: true },
      { name: 'title', dataType: 'Text', notNull: false, primaryKey: false },
      { name: 'n', dataType: 'Int', notNull: false, primaryKey: false },
    ],
  },
  {
    namespace: 'app', name: 'pub', tableType: 'SHARED', accessLevel: 'PUBLIC', deletedRetentionHours: 168, primaryKey: 'id',
    columns: [{ name: 'id', dataType: 'Int', notNull: true, primaryKey: true }, { name: 'name', dataType: 'Text', notNull: false, primaryKey: false }],
  },
  {
    namespace: 'app', name: 'priv', tableType: 'SHARED', accessLevel: 'PRIVATE', deletedRetentionHours: 168, primaryKey: 'id',
    columns: [{ name: 'id', dataType: 'Int', notNull: true, primaryKey: true }, { name: 'secret', dataType: 'Text', notNull: false, primaryKey: false }],
  },
];
const catalog: Catalog = {
  hasNamespace: (ns) => ns === 'app',
  table: (ns, name) => TABLES.find((t) => t.namespace === ns && t.name === name),
};
const ALICE: Actor = { userId: 'alice', role: 'user' };

// The physical layout (docs/architecture.md §2) as storage's DDL creates it, plus the grants and revokes
// this layer depends on.
const SETUP = [
  `DO $$ BEGIN CREATE ROLE seqline_reader NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
  `REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC`,
  `CREATE SCHEMA "app"`,
  `GRANT USAGE ON SCHEMA "app" TO seqline_reader`,
  `CREATE TABLE "app"."t" ("_user_id" text NOT NULL, "id" bigint NOT NULL, "title" text, "n" integer, "_seq" bigint NOT NULL,
     "_deleted" boolean NOT NULL DEFAULT false, PRIMARY KEY ("_user_id", "id")) PARTITION BY HASH ("_user_id")`,
  ...[0, 1, 2, 3].map((i) => `CREATE TABLE "app"."t__p${i}" PARTITION OF "app"."t" FOR VALUES WITH (MODULUS 4, REMAINDER ${i})`),
  `CREATE INDEX ON "app"."t" ("_user_id", "_seq")`,
  `ALTER TABLE "app"."t" ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE "app"."t" FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY "reader" ON "app"."t" FOR SELECT TO seqline_reader USING ("_user_id" = current_setting('seqline.user_id', true))`,
  `GRANT SELECT ON "app"."t" TO seqline_reader`,
  ...shared('pub', 'name', 'true'),
  ...shared('priv', 'secret', `current_setting('seqline.role', true) IN ('service', 'dba', 'system')`),
  `CREATE SCHEMA "seqline"`,
  `CREATE TABLE "seqline"."secrets" ("k" text, "v" text)`,
  `INSERT INTO "seqline"."secrets" VALUES ('bob-token', 'bob')`,
  `INSERT INTO "app"."t" VALUES ('alice', 1, 'alice-1', 10, 1, false), ('alice', 2, 'alice-2', 20, 2, false), ('alice', 3, 'alice-gone', 30, 3, true),
     ('bob', 1, 'bob-1', 100, 4, false), ('bob', 4, 'bob-4', 400, 5, false)`,
  `INSERT INTO "app"."pub" VALUES (1, 'pub-1', 6, false), (2, 'pub-gone', 7, true)`,
  `INSERT INTO "app"."priv" VALUES (1, 'bob-secret', 8, false)`,
];

function shared(name: string, column: string, policy: string): string[] {
  return [
    `CREATE TABLE "app"."${name}" ("id" integer NOT NULL, "${column}" text, "_seq" bigint NOT NULL, "_deleted" boolean NOT NULL DEFAULT false, PRIMARY KEY ("id"))`,
    `ALTER TABLE "app"."${name}" ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE "app"."${name}" FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY "reader" ON "app"."${name}" FOR SELECT TO seqline_reader USING (${policy})`,
    `GRANT SELECT ON "app"."${name}" TO seqline_reader`,
  ];
}

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: postgres.Sql;

beforeAll(async () => {
  await initSql();
  db = await createTestDatabase();
  sql = postgres(db.url, { max: 2, onnotice: () => undefined });
  for (const statement of SETUP) await sql.unsafe(statement);
});

afterAll(async () => {
  await sql.end();
  await db[Symbol.asyncDispose]();
});

/** Runs SQL text as storage runs a user's read: read-only, settings, then the reader role. */
async function asReader(actor: Actor, text: string, params: readonly unknown[] = []): Promise<Row[]> {
  const rows = await sql.begin('read only', async (tx) => {
    await tx`SELECT set_config('seqline.user_id', ${actor.userId}, true), set_config('seqline.role', ${actor.role}, true)`;
    await tx.unsafe('SET LOCAL ROLE seqline_reader');
    return tx.unsafe(text, params as never[]);
  });
  return rows.map((r) => ({ ...r }));
}

/**
 * A user's query end to end: statement `index` of the text, rewritten, then run as the reader.
 * The rewritten SQL also runs as the superuser, which bypasses row-level security: both must
 * agree, so every expected outcome below holds for layer 1 alone.
 */
async function attack(text: string, params: readonly unknown[] = [], index = 0): Promise<Outcome> {
  const ast = parseSync(text).stmts?.[index]?.stmt as PgNode;
  let rewritten: string;
  try {
    rewritten = rewriteSelect({ kind: 'select', ast, text }, { catalog, actor: ALICE, defaultNamespace: 'app', defaultLimit: 100, maxRows: 1000 }).sql;
  } catch (err) {
    if (err instanceof SqlError) return { code: err.code };
    throw err;
  }
  const rows = await asReader(ALICE, rewritten, params);
  const withoutRls = await sql.begin('read only', (tx) => tx.unsafe(rewritten, params as never[]));
  expect(withoutRls.map((r) => ({ ...r }))).toEqual(rows);
  return { rows };
}

const titles = (...t: string[]) => ({ rows: t.map((title) => ({ title })) });
const ALICE_TITLES = titles('alice-1', 'alice-2');
const NOT_FOUND = { code: 'TABLE_NOT_FOUND' };
const UNSUPPORTED = { code: 'UNSUPPORTED' };
const INVALID = { code: 'INVALID_SQL' };

describe('layer 1: attacks through rewriteSelect, run as storage runs them', () => {
  const ATTACKS: [text: string, expected: Outcome, params?: readonly unknown[], index?: number][] = [
    ['SELECT id, title, n, _seq, _deleted FROM app.t ORDER BY id', { rows: [
      { id: '1', title: 'alice-1', n: 10, _seq: '1', _deleted: false },
      { id: '2', title: 'alice-2', n: 20, _seq: '2', _deleted: false },
    ] }],
    ['SELECT * FROM app.t ORDER BY id DESC LIMIT 1', { rows: [{ id: '2', title: 'alice-2', n: 20, _seq: '2', _deleted: false }] }],
    ['SELECT title FROM app.t WHERE true OR 1 = 1 ORDER BY 1', ALICE_TITLES],
    ["SELECT title FROM app.t WHERE id = 3", titles()],
    ['SELECT title FROM app.t UNION SELECT title FROM app.t__p0 ORDER BY 1', NOT_FOUND],
    ['SELECT title FROM app.t UNION ALL SELECT title FROM app.t ORDER BY 1', titles('alice-1', 'alice-1', 'alice-2', 'alice-2')],
    ["SELECT title FROM app.t WHERE id IN (SELECT id FROM app.t WHERE title LIKE 'bob%')", titles()],
    ['SELECT (SELECT count(*) FROM app.t) AS c, (SELECT max(n) FROM app.t) AS m', { rows: [{ c: '2', m: 20 }] }],
    ['SELECT s.title FROM (SELECT * FROM app.t) s ORDER BY 1', ALICE_TITLES],
    ['WITH t AS (SELECT * FROM app.t) SELECT title FROM t ORDER BY 1', ALICE_TITLES],
    ["WITH t AS (SELECT 'bob-1' AS title) SELECT title FROM app.t ORDER BY 1", ALICE_TITLES],
    ['WITH t AS (SELECT * FROM t) SELECT title FROM t ORDER BY 1', ALICE_TITLES],
    ['WITH RECURSIVE r(id, d) AS (SELECT id, 0 FROM app.t UNION ALL SELECT id, d + 1 FROM r WHERE d < 1) SELECT id, d FROM r ORDER BY 1, 2', { rows: [
      { id: '1', d: 0 }, { id: '1', d: 1 }, { id: '2', d: 0 }, { id: '2', d: 1 },
    ] }],
    ['SELECT a.id, l.title FROM app.t a, LATERAL (SELECT title FROM app.t b WHERE b.id = a.id) l ORDER BY 1', { rows: [
      { id: '1', title: 'alice-1' }, { id: '2', title: 'alice-2' },
    ] }],
    ['SELECT v.x, l.title FROM (VALUES (1), (4)) v(x) LEFT JOIN LATERAL (SELECT title FROM app.t WHERE id = v.x) l ON true ORDER BY 1', { rows: [
      { x: 1, title: 'alice-1' }, { x: 4, title: null },
    ] }],
    ['SELECT relname FROM pg_class', NOT_FOUND],
    ['SELECT tablename FROM pg_catalog.pg_tables', NOT_FOUND],
    ['SELECT rolpassword FROM pg_authid', NOT_FOUND],
    ['SELECT usename FROM pg_user', NOT_FOUND],
    ['SELECT table_name FROM information_schema.tables', NOT_FOUND],
    ['SELECT v FROM seqline.secrets', NOT_FOUND],
    ['SELECT title FROM app.t__p0', NOT_FOUND],
    ['SELECT (SELECT title FROM app.t__p1 LIMIT 1)', NOT_FOUND],
    ['SELECT title FROM app.t UNION SELECT relname::text FROM pg_class', NOT_FOUND],
    ["SELECT set_config('seqline.user_id', 'bob', true), title FROM app.t", UNSUPPORTED],
    ["SELECT title FROM app.t WHERE set_config('seqline.user_id', 'bob', true) = 'bob'", UNSUPPORTED],
    ["SELECT title FROM app.t WHERE current_setting('seqline.user_id') = 'alice'", UNSUPPORTED],
    ["SELECT title FROM app.t WHERE pg_catalog.current_setting('seqline.user_id', true) IS NOT NULL", UNSUPPORTED],
    ['SELECT title FROM "app"."t" ORDER BY 1', ALICE_TITLES],
    ['SELECT title FROM "APP"."T"', NOT_FOUND],
    ['SELECT title FROM app . t ORDER BY 1', ALICE_TITLES],
    ["SELECT title FROM app./* x */t -- WHERE _user_id = 'bob'\nORDER BY 1", ALICE_TITLES],
    ['SELECT title FROM app.t /* ; SELECT * FROM app.t__p0 */ ORDER BY 1', ALICE_TITLES],
    // The second statement of a multi-statement text never reaches the rewrite as a SELECT.
    ['SELECT 1; DELETE FROM app.t', UNSUPPORTED, [], 1],
    ['SELECT pg_sleep(5)', UNSUPPORTED],
    ["SELECT pg_read_file('/etc/passwd')", UNSUPPORTED],
    ["SELECT lo_import('/etc/passwd')", UNSUPPORTED],
    ["SELECT dblink('dbname=postgres', 'SELECT 1')", UNSUPPORTED],
    ["SELECT query_to_xml('SELECT * FROM app.t', true, true, '')", UNSUPPORTED],
    ["SELECT * FROM pg_ls_dir('.')", UNSUPPORTED],
    ['TABLE app.t ORDER BY id', { rows: [
      { id: '1', title: 'alice-1', n: 10, _seq: '1', _deleted: false },
      { id: '2', title: 'alice-2', n: 20, _seq: '2', _deleted: false },
    ] }],
    ['SELECT title FROM ONLY app.t ORDER BY 1', ALICE_TITLES],
    ["SELECT 'app.t'::regclass", UNSUPPORTED],
    ['SELECT id::oid FROM app.t', UNSUPPORTED],
    ['SELECT ctid, title FROM app.t', INVALID],
    ['SELECT title FROM app.t t WHERE t.tableoid > 0', INVALID],
    ['SELECT title, count(*) OVER () AS c, sum(n) OVER () AS s FROM app.t ORDER BY 1', { rows: [
      { title: 'alice-1', c: '2', s: '30' }, { title: 'alice-2', c: '2', s: '30' },
    ] }],
    ['SELECT _user_id FROM app.t', INVALID],
    ["SELECT title FROM app.t WHERE _user_id = 'bob'", INVALID],
    ['SELECT u FROM app.t AS x(u) ORDER BY 1', { rows: [{ u: '1' }, { u: '2' }] }],
    ['SELECT CURRENT_USER AS me', { rows: [{ me: 'alice' }] }],
    ["SELECT title FROM app.t WHERE 'bob' = CURRENT_USER", titles()],
    ['SELECT to_jsonb(t) AS j FROM app.t t ORDER BY t.id', { rows: [
      { j: { id: 1, n: 10, _seq: 1, title: 'alice-1', _deleted: false } },
      { j: { id: 2, n: 20, _seq: 2, title: 'alice-2', _deleted: false } },
    ] }],
    ['SELECT count(*) AS c FROM app.t a CROSS JOIN app.t b', { rows: [{ c: '4' }] }],
    ['SELECT name FROM app.pub ORDER BY 1', { rows: [{ name: 'pub-1' }] }],
    ['SELECT secret FROM app.priv', { code: 'PERMISSION_DENIED' }],
    ['SELECT title FROM app.t WHERE EXISTS (SELECT 1 FROM app.priv)', { code: 'PERMISSION_DENIED' }],
    ['SELECT * FROM app.t FOR UPDATE', UNSUPPORTED],
    ['WITH d AS (DELETE FROM app.t RETURNING *) SELECT * FROM d', UNSUPPORTED],
    ['SELECT title FROM app.t AS pg_class ORDER BY 1', ALICE_TITLES],
    ['SELECT title FROM app.t WHERE id = $1', titles('alice-1'), ['1']],
    ['SELECT title FROM app.t WHERE title = ANY (ARRAY(SELECT title FROM app.t)) ORDER BY 1', ALICE_TITLES],
    ['SELECT title FROM app.t WHERE id = 1 OPERATOR(pg_catalog.=) 1', UNSUPPORTED],
    ['SELECT session_user', UNSUPPORTED],
    // Function-call notation (issue 10): (x).f is f(x), and t.f is f(t.*) when t has no column f.
    ["SELECT ('port'::text).current_setting", UNSUPPORTED],
    ["SELECT title FROM app.t WHERE (('SELECT title::tsvector FROM app.t'::text).ts_stat).word IS NOT NULL", UNSUPPORTED],
    ['SELECT t.row_to_json FROM app.t t', INVALID],
    ["SELECT title FROM app.t WHERE title @@ 'bob'", UNSUPPORTED],
    ['SELECT title FROM app.t ORDER BY 1 LIMIT 100000', ALICE_TITLES],
    ['SELECT title FROM app.t ORDER BY 1 LIMIT $1', titles('alice-1'), ['1']],
  ];

  it.each(ATTACKS)('%s', async (text, expected, params = [], index = 0) => {
    const outcome = await attack(text, params, index);
    expect(outcome).toEqual(expected);
    if ('rows' in outcome) expect(JSON.stringify(outcome.rows)).not.toMatch(/bob/);
  });

  it('has at least 25 attacks that are refused and 25 that run', () => {
    expect(ATTACKS.filter(([, o]) => 'code' in o).length).toBeGreaterThanOrEqual(25);
    expect(ATTACKS.filter(([, o]) => 'rows' in o).length).toBeGreaterThanOrEqual(25);
  });
});

describe('layer 1 when the catalog and the physical tables disagree', () => {
  // The catalog wrongly calls app.pub a USER table: its physical table has no _user_id. The
  // owner predicate is qualified by the table, so it cannot pick up an outer `_user_id` that
  // the query defines itself; the query fails instead of matching every row.
  const drifted: Catalog = {
    hasNamespace: () => true,
    table: (ns, name) => {
      const t = catalog.table(ns, name);
      return t?.name === 'pub' ? { ...t, tableType: 'USER' } : t;
    },
  };

  it('fails closed', async () => {
    const text = "SELECT (SELECT count(*) FROM app.pub) AS c FROM (SELECT 'alice' AS _user_id) AS u";
    const ast = parseSync(text).stmts?.[0]?.stmt as PgNode;
    const { sql: rewritten } = rewriteSelect({ kind: 'select', ast, text }, { catalog: drifted, actor: ALICE, defaultNamespace: 'app', defaultLimit: 100, maxRows: 1000 });
    await expect(sql.begin('read only', (tx) => tx.unsafe(rewritten))).rejects.toThrow('column pub._user_id does not exist');
  });
});

describe('layer 2: the reader role without the rewrite', () => {
  it('sees only the rows of the user in seqline.user_id, tombstones included', async () => {
    expect(await asReader(ALICE, 'SELECT _user_id, id, _deleted FROM app.t ORDER BY id')).toEqual([
      { _user_id: 'alice', id: '1', _deleted: false },
      { _user_id: 'alice', id: '2', _deleted: false },
      { _user_id: 'alice', id: '3', _deleted: true },
    ]);
    expect(await asReader({ userId: 'bob', role: 'user' }, 'SELECT _user_id, id FROM app.t ORDER BY id')).toEqual([
      { _user_id: 'bob', id: '1' },
      { _user_id: 'bob', id: '4' },
    ]);
  });

  it('sees nothing when no user is set', async () => {
    const rows = await sql.begin('read only', async (tx) => {
      await tx.unsafe('SET LOCAL ROLE seqline_reader');
      return tx.unsafe('SELECT * FROM app.t');
    });
    expect(rows.length).toBe(0);
  });

  it('gets the SHARED tables its role may read', async () => {
    expect(await asReader(ALICE, 'SELECT secret FROM app.priv')).toEqual([]);
    expect(await asReader({ userId: 'svc', role: 'service' }, 'SELECT secret FROM app.priv')).toEqual([{ secret: 'bob-secret' }]);
  });

  it.each([
    ["SELECT set_config('seqline.user_id', 'bob', true)", 'permission denied for function set_config'],
    ['SELECT * FROM app.t__p0', 'permission denied for table t__p0'],
    ['SELECT * FROM seqline.secrets', 'permission denied for schema seqline'],
    ["UPDATE app.t SET title = 'x'", 'cannot execute UPDATE in a read-only transaction'],
  ])('refuses %s', async (text, message) => {
    await expect(asReader(ALICE, text)).rejects.toThrow(message);
  });
});
