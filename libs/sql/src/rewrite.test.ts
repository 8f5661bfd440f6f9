import { parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AccessLevel, Actor, Catalog, ColumnDef, TableDef, TableType } from '@seqline/domain';
import { printStatement, type AstNode } from './ast.js';
import { SqlError } from './errors.js';
import { initSql } from './init.js';
import { parseStatements } from './parse.js';
import { rewriteSelect, type RewriteContext, type RewrittenSelect } from './rewrite.js';
import type { PgNode, Statement } from './types.js';
import { SEQ_EPOCH_MS } from '@seqline/seq';

const col = (name: string, primaryKey = false): ColumnDef => ({ name, dataType: primaryKey ? 'BigInt' : 'Text', notNull: primaryKey, primaryKey });

function table(namespace: string, name: string, tableType: TableType, columns: readonly string[], accessLevel: AccessLevel = 'PUBLIC'): TableDef {
  return { namespace, name, tableType, accessLevel, deletedRetentionHours: 168, primaryKey: columns[0] ?? 'id', columns: columns.map((c, i) => col(c, i === 0)) };
}

const TABLES: readonly TableDef[] = [
  table('app', 't', 'USER', ['id', 'title', 'n']),
  table('app', 'u', 'USER', ['id', 't_id']),
  table('app', 'ev', 'STREAM', ['id', 'body']),
  { ...table('app', 'typing', 'STREAM', ['id', 'who']), ttlSeconds: 60 },
  table('app', 'pub', 'SHARED', ['id', 'name']),
  table('app', 'priv', 'SHARED', ['id', 'secret'], 'PRIVATE'),
  table('app', 'dbat', 'SHARED', ['id', 'note'], 'DBA'),
  table('Mixed', 'Order', 'USER', ['Id', 'select', 'user']),
  table('default', 't', 'USER', ['id', 'title']),
  // A catalog that (wrongly) lists reserved namespaces: the rewrite must still refuse them.
  table('seqline', 'tables', 'SHARED', ['id']),
  table('pg_catalog', 'pg_class', 'SHARED', ['id']),
];
const catalog: Catalog = {
  hasNamespace: (ns) => TABLES.some((t) => t.namespace === ns),
  table: (ns, name) => TABLES.find((t) => t.namespace === ns && t.name === name),
};
const ALICE: Actor = { userId: 'alice', role: 'user' };
const CTX: RewriteContext = { catalog, actor: ALICE, defaultNamespace: 'app', defaultLimit: 100, maxRows: 1000 };

function select(text: string): Extract<Statement, { kind: 'select' }> {
  const ast = parseSync(text).stmts?.[0]?.stmt as PgNode;
  return { kind: 'select', ast, text };
}

function rewrite(text: string, ctx: Partial<RewriteContext> = {}): RewrittenSelect {
  return rewriteSelect(select(text), { ...CTX, ...ctx });
}

function sqlOf(text: string, ctx: Partial<RewriteContext> = {}): string {
  return rewrite(text, ctx).sql;
}

function refusal(text: string, ctx: Partial<RewriteContext> = {}): string {
  try {
    rewrite(text, ctx);
  } catch (err) {
    if (err instanceof SqlError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'accepted';
}

/** The subquery a table reference becomes, as the deparser prints it. */
const T = "( SELECT t.id, t.title, t.n, t._seq, t._deleted FROM app.t WHERE t._user_id = 'alice' AND NOT (t._deleted) )";
const U = "( SELECT u.id, u.t_id, u._seq, u._deleted FROM app.u WHERE u._user_id = 'alice' AND NOT (u._deleted) )";
const PUB = '( SELECT pub.id, pub.name, pub._seq, pub._deleted FROM app.pub WHERE NOT (pub._deleted) )';

beforeAll(async () => {
  await initSql();
});

describe('rewriteSelect: table references', () => {
  it.each([
    ['SELECT * FROM app.t', `SELECT * FROM ${T} AS t LIMIT 100`],
    ['SELECT id FROM t WHERE title = $1', `SELECT id FROM ${T} AS t WHERE title = $1 LIMIT 100`],
    ['TABLE app.t', `SELECT * FROM ${T} AS t LIMIT 100`],
    ['SELECT * FROM ONLY app.t', `SELECT * FROM ${T} AS t LIMIT 100`],
    ['SELECT x.id FROM app.t AS x', `SELECT x.id FROM ${T} AS x LIMIT 100`],
    ['SELECT a FROM app.t x(a, b)', `SELECT a FROM ${T} AS x(a, b) LIMIT 100`],
    ['SELECT app.t.id FROM app.t', `SELECT t.id FROM ${T} AS t LIMIT 100`],
    ['SELECT * FROM app.pub', `SELECT * FROM ${PUB} AS pub LIMIT 100`],
    ["SELECT body FROM app.ev", `SELECT body FROM ( SELECT ev.id, ev.body, ev._seq, ev._deleted FROM app.ev WHERE ev._user_id = 'alice' AND NOT (ev._deleted) ) AS ev LIMIT 100`],
    [
      'SELECT t.title, u.id FROM app.t JOIN app.u ON u.t_id = t.id LEFT JOIN app.pub p USING (id)',
      `SELECT t.title, u.id FROM ${T} AS t JOIN ${U} AS u ON u.t_id = t.id LEFT JOIN ${PUB} AS p USING (id) LIMIT 100`,
    ],
    [
      'SELECT "select", "user" FROM "Mixed"."Order" WHERE "Id" > 0',
      'SELECT "select", "user" FROM ( SELECT "Order"."Id", "Order"."select", "Order"."user", "Order"._seq, "Order"._deleted FROM "Mixed"."Order" ' +
        `WHERE "Order"._user_id = 'alice' AND NOT ("Order"._deleted) ) AS "Order" WHERE "Id" > 0 LIMIT 100`,
    ],
    ['SELECT * FROM app . t /* c */ -- d', `SELECT * FROM ${T} AS t LIMIT 100`],
  ])('%s', (text, expected) => {
    expect(sqlOf(text)).toBe(expected);
  });

  it('keeps only the rows of a STREAM table with TTL_SECONDS not expired at statement time, inside the partition filter', () => {
    // 100 s after the layout's epoch with a 60 s TTL: the floor is the first id of second 40.
    const floor = (40_000n << 22n).toString();
    const typing = `( SELECT typing.id, typing.who, typing._seq, typing._deleted FROM app.typing WHERE typing._user_id = 'alice' AND NOT (typing._deleted) AND typing._seq >= ${floor} )`;
    expect(sqlOf('SELECT who FROM app.typing', { nowMs: SEQ_EPOCH_MS + 100_000 })).toBe(`SELECT who FROM ${typing} AS typing LIMIT 100`);
    expect(sqlOf('SELECT t.id FROM app.t JOIN app.typing ON typing.id = t.id', { nowMs: SEQ_EPOCH_MS + 100_000 })).toBe(`SELECT t.id FROM ${T} AS t JOIN ${typing} AS typing ON typing.id = t.id LIMIT 100`);
    // Before the TTL has passed since the epoch nothing can be expired: every id qualifies.
    expect(sqlOf('SELECT who FROM app.typing', { nowMs: SEQ_EPOCH_MS + 10_000 })).toContain('AND typing._seq >= 0 )');
    // A STREAM table without TTL_SECONDS never expires.
    expect(sqlOf('SELECT body FROM app.ev', { nowMs: SEQ_EPOCH_MS + 100_000 })).not.toContain('_seq >=');
  });

  it('reaches tables in every clause: subqueries, LATERAL, sublinks, set operations, VALUES', () => {
    expect(sqlOf('SELECT * FROM (SELECT id FROM app.t) s, LATERAL (SELECT * FROM app.u WHERE u.t_id = s.id) l')).toBe(
      `SELECT * FROM ( SELECT id FROM ${T} AS t ) AS s, LATERAL ( SELECT * FROM ${U} AS u WHERE u.t_id = s.id ) AS l LIMIT 100`,
    );
    expect(sqlOf('SELECT (SELECT count(*) FROM app.u) AS c, EXISTS (SELECT 1 FROM app.pub) FROM app.t WHERE id IN (SELECT t_id FROM app.u)')).toBe(
      `SELECT (SELECT count(*) FROM ${U} AS u) AS c, EXISTS (SELECT 1 FROM ${PUB} AS pub) FROM ${T} AS t WHERE id IN (SELECT t_id FROM ${U} AS u) LIMIT 100`,
    );
    expect(sqlOf('SELECT id FROM app.t UNION SELECT id FROM app.u ORDER BY 1 LIMIT 10')).toBe(
      `SELECT id FROM ${T} AS t UNION SELECT id FROM ${U} AS u ORDER BY 1 LIMIT 10`,
    );
    expect(sqlOf('SELECT n, count(*) FROM app.t GROUP BY n HAVING count(*) > (SELECT count(*) FROM app.u) ORDER BY (SELECT max(id) FROM app.u)')).toBe(
      `SELECT n, count(*) FROM ${T} AS t GROUP BY n HAVING count(*) > ((SELECT count(*) FROM ${U} AS u)) ORDER BY (SELECT max(id) FROM ${U} AS u) LIMIT 100`,
    );
    expect(sqlOf('SELECT * FROM (VALUES ((SELECT max(id) FROM app.t))) v(x)')).toBe(`SELECT * FROM ( VALUES ((SELECT max(id) FROM ${T} AS t)) ) AS v(x) LIMIT 100`);
    expect(sqlOf('SELECT id, row_number() OVER w, sum(n) OVER (PARTITION BY title) FROM app.t WINDOW w AS (ORDER BY id)')).toBe(
      `SELECT id, row_number() OVER w, sum(n) OVER (PARTITION BY title) FROM ${T} AS t WINDOW w AS (ORDER BY id) LIMIT 100`,
    );
  });

  it('scopes CTEs like PostgreSQL: bare names only, earlier CTEs only unless RECURSIVE', () => {
    expect(sqlOf('WITH t AS (SELECT * FROM app.t) SELECT * FROM t')).toBe(`WITH t AS (SELECT * FROM ${T} AS t) SELECT * FROM t LIMIT 100`);
    // A qualified name is never a CTE.
    expect(sqlOf('WITH t AS (SELECT 1 AS x) SELECT * FROM app.t')).toBe(`WITH t AS (SELECT 1 AS x) SELECT * FROM ${T} AS t LIMIT 100`);
    // Non-recursive: a CTE does not see itself, so `t` inside it is the table.
    expect(sqlOf('WITH t AS (SELECT * FROM t) SELECT * FROM t')).toBe(`WITH t AS (SELECT * FROM ${T} AS t) SELECT * FROM t LIMIT 100`);
    // … nor a later CTE; it does see an earlier one.
    expect(sqlOf('WITH a AS (SELECT * FROM u), u AS (SELECT * FROM a) SELECT * FROM u')).toBe(
      `WITH a AS (SELECT * FROM ${U} AS u), u AS (SELECT * FROM a) SELECT * FROM u LIMIT 100`,
    );
    expect(sqlOf('WITH RECURSIVE r AS (SELECT id FROM app.t UNION SELECT id + 1 FROM r WHERE id < 3) SELECT * FROM r')).toBe(
      `WITH RECURSIVE r AS (SELECT id FROM ${T} AS t UNION SELECT id + 1 FROM r WHERE id < 3) SELECT * FROM r LIMIT 100`,
    );
    // A CTE of an inner query is not visible outside it.
    expect(sqlOf('SELECT * FROM (WITH u AS (SELECT 1 AS id) SELECT * FROM u) s, u')).toBe(
      `SELECT * FROM ( WITH u AS (SELECT 1 AS id) SELECT * FROM u ) AS s, ${U} AS u LIMIT 100`,
    );
    // An outer CTE is visible in sublinks and set operations.
    expect(sqlOf('WITH u AS (SELECT 1 AS id) SELECT id FROM u WHERE id IN (SELECT id FROM u) UNION SELECT id FROM u')).toBe(
      'WITH u AS (SELECT 1 AS id) SELECT id FROM u WHERE id IN (SELECT id FROM u) UNION SELECT id FROM u LIMIT 100',
    );
  });

  it('lists the tables read, once each', () => {
    expect(rewrite('SELECT * FROM app.t a JOIN app.t b USING (id) JOIN app.pub USING (id)').tables.map((t) => t.name)).toEqual(['t', 'pub']);
  });

  it('never modifies the statement it rewrites', () => {
    const stmt = select('WITH c AS (SELECT * FROM app.t) SELECT CURRENT_USER, * FROM c, app.u WHERE u.id = $1');
    const before = structuredClone(stmt.ast);
    rewriteSelect(stmt, CTX);
    expect(stmt.ast).toEqual(before);
  });
});

describe('rewriteSelect: expressions', () => {
  it('replaces CURRENT_USER with the acting user', () => {
    expect(sqlOf('SELECT CURRENT_USER, user AS u, "current_user"() AS f FROM app.t WHERE title = CURRENT_USER')).toBe(
      `SELECT 'alice'::text AS "current_user", 'alice'::text AS u, 'alice'::text AS f FROM ${T} AS t WHERE title = 'alice'::text LIMIT 100`,
    );
    expect(sqlOf("SELECT 1", { actor: { userId: "o'brien\\x", role: 'user' } })).toBe('SELECT 1 LIMIT 100');
    expect(sqlOf('SELECT id FROM app.t', { actor: { userId: "o'brien\\x", role: 'user' } })).toBe(
      "SELECT id FROM ( SELECT t.id, t.title, t.n, t._seq, t._deleted FROM app.t WHERE t._user_id = E'o''brien\\\\x' AND NOT (t._deleted) ) AS t LIMIT 100",
    );
  });

  it('keeps allowed functions, SQL-syntax forms, casts and operators', () => {
    expect(
      sqlOf(
        "SELECT upper(title), TRIM(BOTH 'x' FROM title), EXTRACT(YEAR FROM now()), now() AT TIME ZONE 'UTC', COALESCE(n, 0), NULLIF(n, 1), GREATEST(n, 2), " +
          "n::text, CAST(n AS bigint), '{}'::jsonb ->> 'a', title SIMILAR TO 'a%', CURRENT_DATE, string_agg(title, ',' ORDER BY id) FILTER (WHERE n > 0) FROM app.t",
      ),
    ).toBe(
      "SELECT upper(title), TRIM(BOTH 'x' FROM title), EXTRACT(YEAR FROM now()), now() AT TIME ZONE 'UTC', COALESCE(n, 0), NULLIF (n, 1), GREATEST(n, 2), " +
        `n::text, CAST(n AS bigint), '{}'::jsonb ->> 'a', title SIMILAR TO 'a%', CURRENT_DATE, string_agg(title, ',' ORDER BY id) FILTER (WHERE n > 0) FROM ${T} AS t LIMIT 100`,
    );
  });
});

describe('rewriteSelect: LIMIT', () => {
  it.each([
    ['SELECT 1', 'SELECT 1 LIMIT 100', 100, true, false],
    ['SELECT 1 LIMIT 5', 'SELECT 1 LIMIT 5', 5, false, false],
    ['SELECT 1 LIMIT 0', 'SELECT 1 LIMIT 0', 0, false, false],
    ['SELECT 1 LIMIT 1000', 'SELECT 1 LIMIT 1000', 1000, false, false],
    ['SELECT 1 LIMIT 1001', 'SELECT 1 LIMIT 1000', 1000, false, true],
    ['SELECT 1 LIMIT 10000000000', 'SELECT 1 LIMIT 1000', 1000, false, true],
    ['SELECT 1 LIMIT ALL', 'SELECT 1 LIMIT 1000', 1000, false, true],
    ['SELECT 1 FETCH FIRST 3 ROWS ONLY', 'SELECT 1 LIMIT 3', 3, false, false],
    ['SELECT 1 LIMIT $1', 'SELECT 1 LIMIT LEAST($1, CAST(1000 AS bigint))', 1000, false, true],
    ['SELECT 1 LIMIT 2 + 3', 'SELECT 1 LIMIT LEAST(2 + 3, CAST(1000 AS bigint))', 1000, false, true],
    ['SELECT 1 OFFSET 5', 'SELECT 1 LIMIT 100 OFFSET 5', 100, true, false],
    ['(SELECT 1 LIMIT 5) UNION SELECT 2', '(SELECT 1 LIMIT 5) UNION SELECT 2 LIMIT 100', 100, true, false],
    ['VALUES (1), (2)', 'VALUES (1), (2) LIMIT 100', 100, true, false],
  ])('%s', (text, sql, limit, limitAdded, clamped) => {
    expect(rewrite(text)).toEqual({ sql, tables: [], limit, limitAdded, clamped });
  });

  it('never adds more than maxRows', () => {
    expect(rewrite('SELECT 1', { defaultLimit: 5000 })).toMatchObject({ sql: 'SELECT 1 LIMIT 1000', limit: 1000, limitAdded: true });
  });

  it('adds no LIMIT when asked for an unlimited rewrite (a snapshot pages by _seq itself)', () => {
    expect(rewrite('SELECT 1', { unlimited: true })).toEqual({ sql: 'SELECT 1', tables: [], limit: Number.POSITIVE_INFINITY, limitAdded: false, clamped: false });
  });
});

describe('rewriteSelect: refusals', () => {
  it.each([
    // Relations that are not catalog tables.
    ['SELECT * FROM pg_class', 'TABLE_NOT_FOUND: table app.pg_class does not exist'],
    ['SELECT * FROM pg_catalog.pg_class', 'TABLE_NOT_FOUND: table pg_catalog.pg_class does not exist'],
    ['SELECT * FROM pg_catalog.pg_authid', 'TABLE_NOT_FOUND: table pg_catalog.pg_authid does not exist'],
    ['SELECT * FROM information_schema.tables', 'TABLE_NOT_FOUND: table information_schema.tables does not exist'],
    ['SELECT * FROM seqline.tables', 'TABLE_NOT_FOUND: table seqline.tables does not exist'],
    ['SELECT * FROM system.live', 'TABLE_NOT_FOUND: table system.live does not exist'], // the gateways answer it; storage never does
    ['SELECT * FROM public.t', 'TABLE_NOT_FOUND: table public.t does not exist'],
    ['SELECT * FROM app.t__p0', 'TABLE_NOT_FOUND: table app.t__p0 does not exist'],
    ['SELECT * FROM "APP"."T"', 'TABLE_NOT_FOUND: table APP.T does not exist'],
    ['SELECT * FROM mydb.app.t', 'TABLE_NOT_FOUND: table mydb.app.t does not exist'],
    ['SELECT id FROM app.t UNION SELECT id FROM app.t__p1', 'TABLE_NOT_FOUND: table app.t__p1 does not exist'],
    ['SELECT 1 WHERE EXISTS (SELECT 1 FROM app.nope)', 'TABLE_NOT_FOUND: table app.nope does not exist'],
    // Access levels.
    ['SELECT * FROM app.priv', 'PERMISSION_DENIED: permission denied: table app.priv is PRIVATE'],
    ['SELECT * FROM app.t WHERE id IN (SELECT id FROM app.dbat)', 'PERMISSION_DENIED: permission denied: table app.dbat is DBA'],
    // Hidden columns.
    ['SELECT ctid FROM app.t', 'INVALID_SQL: column ctid does not exist'],
    ['SELECT t.xmin FROM app.t', 'INVALID_SQL: column xmin does not exist'],
    ['SELECT * FROM app.t WHERE tableoid > 0', 'INVALID_SQL: column tableoid does not exist'],
    ['SELECT _user_id FROM app.t', 'INVALID_SQL: column _user_id does not exist'],
    ["SELECT * FROM app.t WHERE _user_id = 'bob'", 'INVALID_SQL: column _user_id does not exist'],
    ['SELECT a.b.c.d FROM app.t', 'UNSUPPORTED: cross-database references are not supported'],
    // Functions, operators, casts.
    ["SELECT set_config('seqline.user_id', 'bob', true)", 'UNSUPPORTED: function set_config is not allowed'],
    ["SELECT * FROM app.t WHERE set_config('seqline.user_id', 'bob', true) IS NOT NULL", 'UNSUPPORTED: function set_config is not allowed'],
    ["SELECT current_setting('seqline.user_id')", 'UNSUPPORTED: function current_setting is not allowed'],
    ['SELECT pg_sleep(10)', 'UNSUPPORTED: function pg_sleep is not allowed'],
    ["SELECT pg_read_file('/etc/passwd')", 'UNSUPPORTED: function pg_read_file is not allowed'],
    ["SELECT * FROM pg_ls_dir('.')", 'UNSUPPORTED: function pg_ls_dir is not allowed'],
    ["SELECT pg_catalog.upper('a')", 'UNSUPPORTED: function pg_catalog.upper is not allowed'],
    ["SELECT \"upper\"('a'), lower(pg_catalog.current_setting('x'))", 'UNSUPPORTED: function pg_catalog.current_setting is not allowed'],
    ['SELECT 1 OPERATOR(pg_catalog.+) 1', 'UNSUPPORTED: operator pg_catalog.+ is not allowed'],
    ['SELECT id FROM app.t ORDER BY id USING OPERATOR(pg_catalog.<)', 'UNSUPPORTED: operator pg_catalog.< is not allowed'],
    ['SELECT 1 = ANY (SELECT 1)', 'accepted'],
    ["SELECT 'app.t'::regclass", 'UNSUPPORTED: cast to regclass is not allowed'],
    ["SELECT CAST('pg_authid' AS regclass)::oid", 'UNSUPPORTED: cast to oid is not allowed'],
    ["SELECT '1'::pg_catalog.regproc", 'UNSUPPORTED: cast to pg_catalog.regproc is not allowed'],
    ["SELECT 'x'::name", 'UNSUPPORTED: cast to name is not allowed'],
    // SQL value functions.
    ['SELECT session_user', 'UNSUPPORTED: SESSION_USER is not supported; CURRENT_USER is the acting user'],
    ['SELECT current_role', 'UNSUPPORTED: CURRENT_ROLE is not supported; CURRENT_USER is the acting user'],
    ['SELECT current_schema', 'UNSUPPORTED: CURRENT_SCHEMA is not supported; CURRENT_USER is the acting user'],
    ['SELECT current_catalog', 'UNSUPPORTED: CURRENT_CATALOG is not supported; CURRENT_USER is the acting user'],
    ['SELECT system_user', 'UNSUPPORTED: function system_user is not allowed'],
    // Statement forms.
    ['SELECT * FROM app.t FOR UPDATE', 'UNSUPPORTED: SELECT … FOR UPDATE/SHARE is not supported'],
    ['SELECT * FROM app.t FOR SHARE', 'UNSUPPORTED: SELECT … FOR UPDATE/SHARE is not supported'],
    ['SELECT * INTO copy FROM app.t', 'UNSUPPORTED: SELECT INTO is not supported'],
    ['WITH d AS (DELETE FROM app.t RETURNING *) SELECT * FROM d', 'UNSUPPORTED: only SELECT is supported inside WITH'],
    ['WITH d AS (UPDATE app.t SET n = 1 RETURNING *) SELECT * FROM d', 'UNSUPPORTED: only SELECT is supported inside WITH'],
    ['WITH RECURSIVE r AS (SELECT 1 AS x UNION SELECT x FROM r) SEARCH DEPTH FIRST BY x SET o SELECT * FROM r', 'UNSUPPORTED: this SQL construct (CommonTableExpr) with search_clause is not supported'],
    ['SELECT id FROM app.t ORDER BY id FETCH FIRST 1 ROWS WITH TIES', 'UNSUPPORTED: FETCH FIRST … WITH TIES is not supported'],
    ['SELECT * FROM app.t TABLESAMPLE SYSTEM (50)', 'UNSUPPORTED: TABLESAMPLE is not supported'],
    ["SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS x int)", 'UNSUPPORTED: XMLTABLE is not supported'],
    ["SELECT xmlelement(name a)", 'UNSUPPORTED: an XML expression is not supported'],
    ["SELECT * FROM ROWS FROM (upper('a') AS (x text))", 'UNSUPPORTED: a column definition list is not supported'],
    ["SELECT JSON_OBJECT('a': 1)", 'UNSUPPORTED: this SQL construct (JsonObjectConstructor) is not supported'],
    // Every other way to call a function (issue 10): field notation, operators, casts, collations.
    ["SELECT ('port'::text).current_setting", 'UNSUPPORTED: field selection (…).current_setting is not supported'],
    ['SELECT (title).pg_read_file FROM app.t', 'UNSUPPORTED: field selection (…).pg_read_file is not supported'],
    ["SELECT (ROW('x')).f1", 'UNSUPPORTED: field selection (…).f1 is not supported'],
    ["SELECT ((ARRAY['port'])[1]).current_setting", 'UNSUPPORTED: field selection (…).current_setting is not supported'],
    ['SELECT (t).* FROM app.t', 'UNSUPPORTED: (…).* is not supported'],
    ["SELECT $1.current_setting", 'UNSUPPORTED: field selection (…).current_setting is not supported'],
    ['SELECT t.current_setting FROM app.t', 'INVALID_SQL: column t.current_setting does not exist'],
    ['SELECT t.title.current_setting FROM app.t', 'INVALID_SQL: missing FROM-clause entry for table title'],
    ['SELECT app.t.to_jsonb FROM app.t', 'INVALID_SQL: column t.to_jsonb does not exist'],
    ['SELECT s.current_setting FROM (SELECT title FROM app.t) s', 'INVALID_SQL: column s.current_setting does not exist'],
    ['SELECT c.pg_typeof FROM (WITH c AS (SELECT 1 AS x) SELECT * FROM c) c', 'INVALID_SQL: column c.pg_typeof does not exist'],
    ["SELECT f.upper FROM upper('a') AS f", 'UNSUPPORTED: f.upper: the columns of f are not known here (a function or a join with USING); write upper without f.'],
    ['SELECT j.id FROM (app.t JOIN app.u USING (id)) AS j', 'UNSUPPORTED: j.id: the columns of j are not known here (a function or a join with USING); write id without j.'],
    ['SELECT x.title FROM app.t x WHERE EXISTS (SELECT 1 FROM app.u x WHERE x.title IS NULL)', 'INVALID_SQL: column x.title does not exist'],
    ["SELECT title @@ 'a' FROM app.t", 'UNSUPPORTED: operator @@ is not allowed'],
    ["SELECT 'a' <-> 'b'", 'UNSUPPORTED: operator <-> is not allowed'],
    ["SELECT 1 OPERATOR(+) 1 OPERATOR(##) 2", 'UNSUPPORTED: operator ## is not allowed'],
    ["SELECT title FROM app.t WHERE title = ANY (SELECT 'a') OR title OPERATOR(pg_catalog.~) 'a'", 'UNSUPPORTED: operator pg_catalog.~ is not allowed'],
    ["SELECT regclass 'pg_class'", 'UNSUPPORTED: cast to regclass is not allowed'],
    ["SELECT '{}'::regclass[]", 'UNSUPPORTED: cast to regclass is not allowed'],
    ["SELECT CAST('a' AS xml)", 'UNSUPPORTED: cast to xml is not allowed'],
    ["SELECT 'a'::tsquery", 'UNSUPPORTED: cast to tsquery is not allowed'],
    ["SELECT '0/0'::pg_lsn", 'UNSUPPORTED: cast to pg_lsn is not allowed'],
    ["SELECT '1'::numeric(length('ab'))", 'UNSUPPORTED: a type modifier other than an integer is not supported'],
    ['SELECT title COLLATE "en_US" FROM app.t', 'UNSUPPORTED: collation en_US is not allowed'],
    ['SELECT title COLLATE pg_catalog."default" FROM app.t', 'UNSUPPORTED: collation pg_catalog.default is not allowed'],
    ["SELECT title FROM app.t WHERE title LIKE 'a!%' ESCAPE '!'", 'UNSUPPORTED: function pg_catalog.like_escape is not allowed'],
    ['SELECT COLLATION FOR (title) FROM app.t', 'UNSUPPORTED: function pg_collation_for is not allowed'],
    ['SELECT NORMALIZE(title) FROM app.t', 'UNSUPPORTED: function normalize is not allowed'],
  ])('%s → %s', (text, expected) => {
    expect(refusal(text)).toBe(expected);
  });

  it.each([
    'SELECT t.title, app.t.id, x.t_id FROM app.t, app.u x WHERE x.id = t.id',
    'SELECT s.title, s.c, s.upper FROM (SELECT title, count(*) AS c, upper(title) FROM app.t GROUP BY title) s',
    'SELECT s.title, s.n, s._seq FROM (SELECT * FROM app.t) s',
    'SELECT s.id, s.x FROM (SELECT t.*, 1 AS x FROM app.t t) s',
    'SELECT v.column1, w.a FROM (VALUES (1)) v, (VALUES (2, 3)) w(a, b)',
    'WITH c(k) AS (SELECT id FROM app.t) SELECT c.k FROM c',
    'WITH RECURSIVE r(id, d) AS (SELECT id, 0 FROM app.t UNION ALL SELECT r.id, r.d + 1 FROM r WHERE r.d < 1) SELECT r.id FROM r',
    'SELECT a.id, l.title FROM app.t a, LATERAL (SELECT b.title FROM app.t b WHERE b.id = a.id) l',
    'SELECT j.title, j.t_id FROM (app.t JOIN app.u ON u.id = t.id) AS j',
    "SELECT s.case, s.title, s.text FROM (SELECT CASE WHEN true THEN 'x' END, CASE WHEN true THEN 'x' ELSE title END, 'a'::text FROM app.t) s",
    "SELECT t.title COLLATE \"C\", ('{a}'::text[])[1], ('{\"a\": 1}'::jsonb)['a'], ROW(t.id, 1) = ROW(1, 1) FROM app.t",
  ])('admits provable columns and subscripts: %s', (text) => {
    expect(refusal(text)).toBe('accepted');
  });

  it('refuses a statement that is not a SELECT', () => {
    const del = parseSync('DELETE FROM app.t').stmts?.[0]?.stmt as PgNode;
    expect(() => rewriteSelect({ kind: 'select', ast: del, text: 'DELETE FROM app.t' }, CTX)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', message: 'only a SELECT can run as a query' }) as Error,
    );
  });

  it('lets service, dba and system read the tables their role allows', () => {
    expect(refusal('SELECT * FROM app.priv', { actor: { userId: 'svc', role: 'service' } })).toBe('accepted');
    expect(refusal('SELECT * FROM app.dbat', { actor: { userId: 'svc', role: 'service' } })).toBe('PERMISSION_DENIED: permission denied: table app.dbat is DBA');
    expect(refusal('SELECT * FROM app.dbat', { actor: { userId: 'root', role: 'dba' } })).toBe('accepted');
  });
});

describe('rewriteSelect: system tables', () => {
  const DBA: Partial<RewriteContext> = { actor: { userId: 'root', role: 'dba' } };

  it('reads system.users, system.namespaces and system.tables through their views, for dba and system', () => {
    expect(sqlOf('SELECT user_id, role FROM system.users', DBA)).toBe(
      'SELECT user_id, role FROM ( SELECT system_users.user_id, system_users.role, system_users.email, system_users.created_at, system_users.updated_at, system_users.locked_until FROM seqline.system_users ) AS users LIMIT 100',
    );
    expect(sqlOf('SELECT * FROM system.namespaces n', { actor: { userId: 'root', role: 'system' } })).toBe('SELECT * FROM ( SELECT system_namespaces.namespace_id, system_namespaces.created_at FROM seqline.system_namespaces ) AS n LIMIT 100');
    const joined = rewrite('SELECT t.table_name FROM system.tables t JOIN system.namespaces n ON n.namespace_id = t.namespace_id', DBA);
    expect(joined.tables.map((t) => `${t.namespace}.${t.name}`)).toEqual(['system.tables', 'system.namespaces']);
  });

  it('refuses them to users and services, and knows no other system table', () => {
    expect(refusal('SELECT * FROM system.users')).toBe('PERMISSION_DENIED: permission denied: system.users is readable by dba and system only');
    expect(refusal('SELECT * FROM app.t WHERE title IN (SELECT user_id FROM system.users)', { actor: { userId: 'svc', role: 'service' } })).toBe('PERMISSION_DENIED: permission denied: system.users is readable by dba and system only');
    expect(refusal('SELECT * FROM system.passwords', DBA)).toBe('TABLE_NOT_FOUND: table system.passwords does not exist');
    expect(refusal('SELECT * FROM seqline.system_users', DBA)).toBe('TABLE_NOT_FOUND: table seqline.system_users does not exist');
  });
});

describe('rewriteSelect after parseStatements', () => {
  it('takes the KalamDB forms parse.ts rewrites: CURRENT_USER() and the default namespace', () => {
    const [stmt] = parseStatements('SELECT CURRENT_USER() AS me, id FROM default.t WHERE title = CURRENT_USER()');
    if (stmt?.kind !== 'select') throw new Error('expected a select');
    expect(rewriteSelect(stmt, { ...CTX, defaultNamespace: 'default' }).sql).toBe(
      "SELECT 'alice'::text AS me, id FROM ( SELECT t.id, t.title, t._seq, t._deleted FROM \"default\".t WHERE t._user_id = 'alice' AND NOT (t._deleted) ) AS t " +
        "WHERE title = 'alice'::text LIMIT 100",
    );
  });
});

describe('printStatement', () => {
  it('fails closed when the printed SQL does not parse back to the same AST', () => {
    // An integer constant holding 1.5 prints as `1.5`, which parses back as a float constant.
    const ast: AstNode = { SelectStmt: { targetList: [{ ResTarget: { val: { A_Const: { ival: { ival: 1.5 } } } } }], limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } };
    expect(() => printStatement(ast)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', message: 'this statement uses a form that cannot be run safely; please write it differently' }) as Error,
    );
    const ok: AstNode = { SelectStmt: { targetList: [{ ResTarget: { val: { A_Const: { ival: { ival: 2 } } } } }], limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } };
    expect(printStatement(ok)).toBe('SELECT 2');
  });
});
