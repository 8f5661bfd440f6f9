import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { ColumnDef, DataType, TableDef } from '@seqline/domain';
import { SqlError, type SqlErrorCode } from './errors.js';
import { initSql } from './init.js';
import { parseBatch, parseStatements } from './parse.js';
import type { Statement } from './types.js';

beforeAll(async () => {
  await initSql();
});

function one(sql: string, options?: { defaultNamespace?: string }): Statement {
  const all = parseStatements(sql, options);
  expect(all).toHaveLength(1);
  return all[0] as Statement;
}

function failure(sql: string): { code: SqlErrorCode; message: string } {
  try {
    parseStatements(sql);
  } catch (err) {
    if (err instanceof SqlError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error(`expected ${sql} to fail`);
}

function table(def: Partial<TableDef> & Pick<TableDef, 'columns' | 'primaryKey'>): TableDef {
  return { namespace: 'app', name: 't', tableType: 'SHARED', accessLevel: 'PUBLIC', deletedRetentionHours: 168, ...def };
}

function col(name: string, dataType: DataType, more: Partial<ColumnDef> = {}): ColumnDef {
  return { name, dataType, notNull: false, primaryKey: false, ...more };
}

const ID = col('id', 'BigInt', { notNull: true, primaryKey: true });

describe('initialization', () => {
  it('refuses to parse before initSql() completed', async () => {
    vi.resetModules();
    const fresh = await import('./parse.js');
    expect(() => fresh.parseStatements('SELECT 1')).toThrow('parseStatements() needs the SQL parser; await initSql() once at start-up first');
  });

  it('initSql is idempotent and safe to call concurrently', async () => {
    await expect(Promise.all([initSql(), initSql(), initSql()])).resolves.toEqual([undefined, undefined, undefined]);
  });
});

describe('splitting', () => {
  it.each([
    ['SELECT 1; SELECT 2', ['SELECT 1', 'SELECT 2']],
    ['SELECT 1;', ['SELECT 1']],
    ['SELECT 1 ;; ; ', ['SELECT 1']],
    ["SELECT 'a;b'", ["SELECT 'a;b'"]],
    ["SELECT 'it''s; fine'; SELECT 2", ["SELECT 'it''s; fine'", 'SELECT 2']],
    ["SELECT E'\\';'", ["SELECT E'\\';'"]],
    ['SELECT 1 -- a; b\n; SELECT 2', ['SELECT 1', 'SELECT 2']],
    ['SELECT /* ; */ 1', ['SELECT /* ; */ 1']],
    ['/* lead */ SELECT 1 /* tail */', ['SELECT 1']],
    ['SELECT $$a;b$$, $tag$;$tag$', ['SELECT $$a;b$$, $tag$;$tag$']],
    ['SELECT 1 AS ";"', ['SELECT 1 AS ";"']],
    ["SELECT 'é;😀'; SELECT 2", ["SELECT 'é;😀'", 'SELECT 2']],
  ])('%j', (sql, texts) => {
    const statements = parseStatements(sql);
    expect(statements.map((s) => (s.kind === 'select' ? s.text : s.kind))).toEqual(texts);
  });

  it('does not split inside EXECUTE AS parentheses', () => {
    const [first, second] = parseStatements("EXECUTE AS USER 'alice' (DELETE FROM app.t WHERE a = 1;); SELECT 2");
    expect(first).toMatchObject({ kind: 'execute_as', user: 'alice', inner: { kind: 'delete', text: 'DELETE FROM app.t WHERE a = 1' } });
    expect(second).toMatchObject({ kind: 'select', text: 'SELECT 2' });
  });

  it('returns the statements of a mixed batch in order', () => {
    const kinds = parseStatements('CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY); INSERT INTO app.t VALUES (1); SELECT * FROM app.t').map((s) => s.kind);
    expect(kinds).toEqual(['create_namespace', 'create_table', 'insert', 'select']);
  });

  it.each(['', '   ', '\n\t', '-- only a comment', '/* only */', ';', ' ; ; ', '-- a\n/* b */ ;'])('%j is EMPTY_SQL', (sql) => {
    expect(failure(sql)).toEqual({ code: 'EMPTY_SQL', message: 'SQL is empty' });
  });
});

describe('parseBatch: each statement with its source text, split by PostgreSQL\'s scanner', () => {
  it.each([
    ['one statement', 'SELECT 1', ['SELECT 1']],
    ['a trailing semicolon', 'SELECT 1;', ['SELECT 1']],
    ['two statements, trimmed', '  SELECT 1 ;\n INSERT INTO t VALUES (1)  ', ['SELECT 1', 'INSERT INTO t VALUES (1)']],
    ['empty statements dropped', ';;SELECT 1;; ;SELECT 2;', ['SELECT 1', 'SELECT 2']],
    ['comments around a statement', '/* lead */ SELECT 1; -- done', ['SELECT 1']],
    ['; in a string', "INSERT INTO t VALUES ('a;b'); SELECT 2", ["INSERT INTO t VALUES ('a;b')", 'SELECT 2']],
    ['doubled quotes', "SELECT 'it''s;'; SELECT 2", ["SELECT 'it''s;'", 'SELECT 2']],
    ['E-string escapes', "SELECT E'a\\';b'; SELECT 2", ["SELECT E'a\\';b'", 'SELECT 2']],
    ['backslash in a standard string', "SELECT 'a\\'; SELECT 2", ["SELECT 'a\\'", 'SELECT 2']],
    ['; in a quoted identifier', 'SELECT "a;""b" FROM t; SELECT 2', ['SELECT "a;""b" FROM t', 'SELECT 2']],
    ['; in a line comment', 'SELECT 1 -- a;b\n; SELECT 2', ['SELECT 1', 'SELECT 2']],
    ['; in nested block comments', 'SELECT /* a /* ; */ ; */ 1; SELECT 2', ['SELECT /* a /* ; */ ; */ 1', 'SELECT 2']],
    ['; in dollar quotes', 'SELECT $$a;b$$; SELECT $x$ $$;$$ $x$; SELECT 3', ['SELECT $$a;b$$', 'SELECT $x$ $$;$$ $x$', 'SELECT 3']],
    ['params are not dollar quotes', 'SELECT $1; SELECT $2', ['SELECT $1', 'SELECT $2']],
    ['; inside EXECUTE AS parentheses', "EXECUTE AS USER 'alice' (INSERT INTO t VALUES (1);); SELECT 2", ["EXECUTE AS USER 'alice' (INSERT INTO t VALUES (1);)", 'SELECT 2']],
    ['non-ASCII text', "INSERT INTO t VALUES ('héllo 😀;'); SELECT 'ü'", ["INSERT INTO t VALUES ('héllo 😀;')", "SELECT 'ü'"]],
    [
      'KalamDB statements',
      "CREATE NAMESPACE app; CREATE USER 'bob' WITH PASSWORD 'p;w' ROLE user;CREATE TABLE app.t (id INT PRIMARY KEY) WITH (TYPE='USER'); DROP USER bob",
      ['CREATE NAMESPACE app', "CREATE USER 'bob' WITH PASSWORD 'p;w' ROLE user", "CREATE TABLE app.t (id INT PRIMARY KEY) WITH (TYPE='USER')", 'DROP USER bob'],
    ],
  ])('%s', (_name, sql, sources) => {
    const batch = parseBatch(sql);
    expect(batch.map((p) => p.source)).toEqual(sources);
    expect(batch.map((p) => p.statement)).toEqual(parseStatements(sql));
  });

  it('fails as parseStatements does on an unterminated string', () => {
    expect(() => parseBatch("SELECT 'a; SELECT 2")).toThrow(SqlError);
  });
});

describe('syntax errors carry PostgreSQL message and position', () => {
  it.each([
    ['SELECT * FRM t', 'syntax error at or near "FRM" (position 10)'],
    ['SELECT 1;\nSELECT * FRM t', 'syntax error at or near "FRM" (position 20)'],
    ["SELECT '😀é' FRM t", 'syntax error at or near "t" (position 17)'],
    ['SELECT (1', 'syntax error at end of input (position 10)'],
    ["INSERT INTO t VALUES (CURRENT_USER()) x", 'syntax error at or near "x" (position 39)'],
    ['CREATE USER TABLE t (id INT PRIMARY KEY', 'syntax error at end of input (position 40)'],
    ["SELECT 'abc", 'unterminated quoted string at or near "\'abc" (position 8)'],
    ['SELECT "abc', 'unterminated quoted identifier at or near ""abc" (position 8)'],
    ['SELECT $$abc', 'unterminated dollar-quoted string at or near "$$abc" (position 8)'],
    ['SELECT 1 /* abc', 'unterminated /* comment at or near "/* abc" (position 10)'],
    ['SELECT * FROM a.b.c.d', 'improper qualified name (too many dotted names): a.b.c.d (position 15)'],
  ])('%j', (sql, message) => {
    expect(failure(sql)).toEqual({ code: 'INVALID_SQL', message });
  });

  it('refuses NUL characters, which would cut the text short', () => {
    expect(failure('SELECT 1;\0 DROP TABLE app.t')).toEqual({ code: 'INVALID_SQL', message: 'SQL must not contain NUL characters' });
  });

  it('names the kinds of bad tokens when the lexer fails after KalamDB syntax', () => {
    expect(failure("CREATE NAMESPACE x; SELECT 'abc")).toEqual({
      code: 'INVALID_SQL',
      message: 'SQL could not be tokenized: look for an unterminated string, quoted identifier, dollar quote or comment, or a malformed number',
    });
  });
});

describe('namespaces', () => {
  it.each<[string, Statement]>([
    ['CREATE NAMESPACE app', { kind: 'create_namespace', name: 'app', ifNotExists: false }],
    ['create namespace if not exists App', { kind: 'create_namespace', name: 'app', ifNotExists: true }],
    ['CREATE NAMESPACE "My_App"', { kind: 'create_namespace', name: 'My_App', ifNotExists: false }],
    ['CREATE NAMESPACE default', { kind: 'create_namespace', name: 'default', ifNotExists: false }],
    ['DROP NAMESPACE app', { kind: 'drop_namespace', name: 'app', ifExists: false, cascade: false }],
    ['DROP NAMESPACE IF EXISTS app CASCADE', { kind: 'drop_namespace', name: 'app', ifExists: true, cascade: true }],
    ['drop namespace app restrict;', { kind: 'drop_namespace', name: 'app', ifExists: false, cascade: false }],
  ])('%j', (sql, expected) => {
    expect(one(sql)).toEqual(expected);
  });

  it.each([
    ['CREATE NAMESPACE system', 'namespace system is reserved'],
    ['CREATE NAMESPACE public', 'namespace public is reserved'],
    ['CREATE NAMESPACE information_schema', 'namespace information_schema is reserved'],
    ['CREATE NAMESPACE seqline', 'namespace seqline is reserved'],
    ['CREATE NAMESPACE pg_stuff', 'namespace pg_stuff is reserved'],
    ['CREATE NAMESPACE "System"', 'namespace System is reserved'],
    ['DROP NAMESPACE system', 'namespace system is reserved'],
    ['DROP NAMESPACE IF EXISTS default', 'namespace default cannot be dropped'],
    ['CREATE NAMESPACE "a-b"', 'invalid namespace name "a-b": use 1 to 63 letters, digits or _'],
    ['CREATE NAMESPACE', 'CREATE NAMESPACE: expected a namespace name but found end of input'],
    ['CREATE NAMESPACE select', 'CREATE NAMESPACE: expected a namespace name but found "select"'],
    ["CREATE NAMESPACE 'app'", 'CREATE NAMESPACE: expected a namespace name but found "\'app\'"'],
    ['CREATE NAMESPACE a b', 'CREATE NAMESPACE: unexpected "b"'],
    ['DROP NAMESPACE a CASCADE x', 'DROP NAMESPACE: unexpected "x"'],
  ])('%j', (sql, message) => {
    expect(failure(sql)).toEqual({ code: 'INVALID_SQL', message });
  });
});

describe('users', () => {
  it.each<[string, Statement]>([
    ["CREATE USER alice WITH PASSWORD 'pw' ROLE user", { kind: 'create_user', name: 'alice', password: 'pw', role: 'user' }],
    [
      "CREATE USER 'Alice-1' WITH PASSWORD 'Secret123!' ROLE 'dba' EMAIL 'alice@example.com'",
      { kind: 'create_user', name: 'Alice-1', password: 'Secret123!', role: 'dba', email: 'alice@example.com' },
    ],
    ["create user \"Bob\" with password 'it''s' email 'b@x.io' role SERVICE", { kind: 'create_user', name: 'Bob', password: "it's", role: 'service', email: 'b@x.io' }],
    ["CREATE USER carol PASSWORD $$p;w$$", { kind: 'create_user', name: 'carol', password: 'p;w', role: 'user' }],
    ["CREATE USER root WITH PASSWORD 'x' ROLE system", { kind: 'create_user', name: 'root', password: 'x', role: 'system' }],
    ["ALTER USER alice SET PASSWORD 'new'", { kind: 'alter_user', name: 'alice', password: 'new' }],
    ['ALTER USER alice SET ROLE service', { kind: 'alter_user', name: 'alice', role: 'service' }],
    ["ALTER USER 'alice' SET EMAIL 'a@b.c'", { kind: 'alter_user', name: 'alice', email: 'a@b.c' }],
    ["ALTER USER alice SET PASSWORD 'p', ROLE 'dba', EMAIL 'a@b.c'", { kind: 'alter_user', name: 'alice', password: 'p', role: 'dba', email: 'a@b.c' }],
    ["ALTER USER alice SET ROLE user SET EMAIL 'a@b.c'", { kind: 'alter_user', name: 'alice', role: 'user', email: 'a@b.c' }],
    ['DROP USER alice', { kind: 'drop_user', name: 'alice', ifExists: false }],
    ["DROP USER IF EXISTS 'svc-2'", { kind: 'drop_user', name: 'svc-2', ifExists: true }],
  ])('%j', (sql, expected) => {
    expect(one(sql)).toEqual(expected);
  });

  it.each<[string, SqlErrorCode, string]>([
    ['CREATE USER alice', 'INVALID_SQL', 'CREATE USER needs WITH PASSWORD'],
    ["CREATE USER alice WITH ROLE dba", 'INVALID_SQL', 'CREATE USER needs WITH PASSWORD'],
    ["CREATE USER alice WITH PASSWORD ''", 'INVALID_SQL', 'PASSWORD must not be empty'],
    ['CREATE USER alice WITH PASSWORD secret', 'INVALID_SQL', 'CREATE USER: expected a string literal after PASSWORD but found "secret"'],
    ["CREATE USER alice WITH PASSWORD 'p' ROLE boss", 'INVALID_SQL', 'CREATE USER: expected a role (user, service, dba, system) but found "boss"'],
    ["CREATE USER alice WITH PASSWORD 'p' PASSWORD 'q'", 'INVALID_SQL', 'PASSWORD is given twice'],
    ["CREATE USER alice WITH PASSWORD 'p' EMAIL 'nope'", 'INVALID_SQL', 'EMAIL "nope" is not an email address'],
    ["CREATE USER alice WITH PASSWORD 'p' LOGIN", 'INVALID_SQL', 'CREATE USER: unexpected "LOGIN"'],
    ["CREATE USER 'a b' WITH PASSWORD 'p'", 'INVALID_SQL', 'invalid user name "a b": use 1 to 63 letters, digits, _ or -'],
    ["CREATE USER WITH PASSWORD 'p'", 'INVALID_SQL', 'CREATE USER: expected a user name but found "WITH"'],
    ["CREATE USER IF NOT EXISTS alice WITH PASSWORD 'p'", 'UNSUPPORTED', 'CREATE USER IF NOT EXISTS is not supported'],
    ["CREATE USER alice WITH PASSWORD 'p' METADATA '{}'", 'UNSUPPORTED', 'METADATA is not supported for users'],
    ["CREATE USER alice WITH OAUTH PROVIDER 'google'", 'UNSUPPORTED', 'OAUTH is not supported for users'],
    ['ALTER USER alice', 'INVALID_SQL', 'ALTER USER: expected SET but found end of input'],
    ['ALTER USER alice SET', 'INVALID_SQL', 'ALTER USER: expected PASSWORD, ROLE or EMAIL but found end of input'],
    ["ALTER USER alice SET NAME 'x'", 'INVALID_SQL', 'ALTER USER: unexpected "NAME"'],
    ["ALTER USER alice SET ROLE dba ROLE user", 'INVALID_SQL', 'ALTER USER: unexpected "ROLE"'],
    ["ALTER USER alice SET ROLE dba, ROLE user", 'INVALID_SQL', 'ROLE is given twice'],
    ["ALTER USER alice SET PASSWORD 'p',", 'INVALID_SQL', 'ALTER USER: expected PASSWORD, ROLE or EMAIL but found end of input'],
    ['DROP USER', 'INVALID_SQL', 'DROP USER: expected a user name but found end of input'],
    ['DROP USER alice, bob', 'INVALID_SQL', 'DROP USER: unexpected ","'],
  ])('%j → %s', (sql, code, message) => {
    expect(failure(sql)).toEqual({ code, message });
  });
});

describe('EXECUTE AS', () => {
  it('wraps one INSERT, UPDATE, DELETE or SELECT', () => {
    expect(one("EXECUTE AS USER 'alice' (INSERT INTO app.t (id) VALUES (1))")).toEqual({
      kind: 'execute_as',
      user: 'alice',
      inner: {
        kind: 'insert',
        table: { namespace: 'app', name: 't' },
        ast: expect.objectContaining({ InsertStmt: expect.any(Object) as unknown }) as unknown,
        text: 'INSERT INTO app.t (id) VALUES (1)',
      },
    });
    expect(one('execute as user bob (SELECT * FROM app.t)')).toMatchObject({ user: 'bob', inner: { kind: 'select', text: 'SELECT * FROM app.t' } });
    expect(one("EXECUTE AS USER 'a' (UPDATE t SET x = 'y;)' WHERE (id = 1));")).toMatchObject({
      inner: { kind: 'update', table: { namespace: 'default', name: 't' }, text: "UPDATE t SET x = 'y;)' WHERE (id = 1)" },
    });
  });

  it('uses the default namespace inside', () => {
    expect(one("EXECUTE AS USER 'a' (DELETE FROM t)", { defaultNamespace: 'app' })).toMatchObject({ inner: { table: { namespace: 'app', name: 't' } } });
  });

  it.each<[string, SqlErrorCode, string]>([
    ["EXECUTE AS USER 'a' (EXECUTE AS USER 'b' (SELECT 1))", 'INVALID_SQL', 'EXECUTE AS cannot be nested'],
    ["EXECUTE AS USER 'a' (CREATE NAMESPACE x)", 'INVALID_SQL', 'EXECUTE AS runs a SELECT, INSERT, UPDATE or DELETE, not CREATE NAMESPACE'],
    ["EXECUTE AS USER 'a' (DROP TABLE t)", 'INVALID_SQL', 'EXECUTE AS runs a SELECT, INSERT, UPDATE or DELETE, not DROP TABLE'],
    ["EXECUTE AS USER 'a' (SELECT 1; SELECT 2)", 'INVALID_SQL', 'EXECUTE AS runs exactly one statement'],
    ["EXECUTE AS USER 'a' ()", 'INVALID_SQL', 'EXECUTE AS needs a statement in parentheses'],
    ["EXECUTE AS USER 'a' SELECT 1", 'INVALID_SQL', 'EXECUTE AS: expected ( before the statement but found "SELECT"'],
    ["EXECUTE AS USER 'a' (SELECT 1) x", 'INVALID_SQL', 'EXECUTE AS: unexpected "x"'],
    ["EXECUTE AS USER 'a' (SELECT 1", 'INVALID_SQL', 'EXECUTE AS: unexpected end of input; missing )'],
    ["EXECUTE AS 'a' (SELECT 1)", 'INVALID_SQL', 'EXECUTE AS: expected EXECUTE AS USER but found "EXECUTE"'],
    ["EXECUTE AS USER 'a.b' (SELECT 1)", 'INVALID_SQL', 'invalid user name "a.b": use 1 to 63 letters, digits, _ or -'],
    ["EXECUTE AS USER 'a' (SET x = 1)", 'UNSUPPORTED', 'statement SET is not supported'],
    ["EXECUTE AS USER 'a' (SELECT * FRM t)", 'INVALID_SQL', 'syntax error at or near "FRM" (position 31)'],
    ['EXECUTE foo(1)', 'UNSUPPORTED', 'statement EXECUTE is not supported'],
  ])('%j → %s', (sql, code, message) => {
    expect(failure(sql)).toEqual({ code, message });
  });
});

describe('CREATE TABLE', () => {
  it('reads a full KalamDB table definition', () => {
    const sql = `CREATE USER TABLE app.messages (
      id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
      body TEXT NOT NULL DEFAULT '',
      author TEXT DEFAULT CURRENT_USER(),
      sent_at TIMESTAMP NOT NULL DEFAULT NOW(),
      score DOUBLE NULL
    ) WITH (TTL_SECONDS = 3600, DELETED_RETENTION_HOURS = 24)`;
    expect(one(sql)).toEqual({
      kind: 'create_table',
      ifNotExists: false,
      table: {
        namespace: 'app',
        name: 'messages',
        tableType: 'USER',
        accessLevel: 'PRIVATE',
        ttlSeconds: 3600,
        deletedRetentionHours: 24,
        primaryKey: 'id',
        columns: [
          col('id', 'BigInt', { notNull: true, primaryKey: true, default: { kind: 'snowflake_id' } }),
          col('body', 'Text', { notNull: true, default: { kind: 'literal', sql: "''" } }),
          col('author', 'Text', { default: { kind: 'current_user' } }),
          col('sent_at', 'Timestamp', { notNull: true, default: { kind: 'now' } }),
          col('score', 'Double'),
        ],
      },
    });
  });

  it.each<[string, Partial<TableDef>]>([
    ['CREATE TABLE app.t (id BIGINT PRIMARY KEY)', {}],
    ['CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY)', {}],
    ['CREATE USER TABLE app.t (id BIGINT PRIMARY KEY)', { tableType: 'USER', accessLevel: 'PRIVATE' }],
    ['CREATE STREAM TABLE app.t (id BIGINT PRIMARY KEY)', { tableType: 'STREAM', accessLevel: 'PRIVATE' }],
    ["CREATE TABLE app.t (id BIGINT PRIMARY KEY) WITH (TYPE='USER', ACCESS_LEVEL='PUBLIC', TTL_SECONDS=3600, DELETED_RETENTION_HOURS=24)", { tableType: 'USER', accessLevel: 'PRIVATE', ttlSeconds: 3600, deletedRetentionHours: 24 }],
    ['CREATE TABLE app.t (id BIGINT PRIMARY KEY) WITH (type = user)', { tableType: 'USER', accessLevel: 'PRIVATE' }],
    ["CREATE TABLE app.t (id BIGINT PRIMARY KEY) WITH (Type = 'stream', ttl_seconds = '60')", { tableType: 'STREAM', accessLevel: 'PRIVATE', ttlSeconds: 60 }],
    ["CREATE USER TABLE app.t (id BIGINT PRIMARY KEY) WITH (TYPE = 'USER')", { tableType: 'USER', accessLevel: 'PRIVATE' }],
    ["CREATE TABLE app.t (id BIGINT PRIMARY KEY) WITH (TYPE = shared, ACCESS_LEVEL = private)", { accessLevel: 'PRIVATE' }],
    ["CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'DBA')", { accessLevel: 'DBA' }],
    ['CREATE TABLE app.t (id BIGINT PRIMARY KEY) WITH ("ACCESS_LEVEL" = Public)', { accessLevel: 'PUBLIC' }],
    ['CREATE TABLE app.t (id BIGINT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = 2147483647)', { deletedRetentionHours: 2147483647 }],
  ])('%j', (sql, expected) => {
    expect(one(sql)).toEqual({ kind: 'create_table', ifNotExists: false, table: table({ columns: [ID], primaryKey: 'id', ...expected }) });
  });

  it('reads a table PRIMARY KEY constraint, IF NOT EXISTS and the default namespace', () => {
    expect(one('CREATE TABLE IF NOT EXISTS t (name TEXT, id BIGINT, PRIMARY KEY (id))')).toEqual({
      kind: 'create_table',
      ifNotExists: true,
      table: table({ namespace: 'default', columns: [col('name', 'Text'), ID], primaryKey: 'id' }),
    });
    expect(one('CREATE TABLE t (id BIGINT PRIMARY KEY)', { defaultNamespace: 'app' })).toMatchObject({ table: { namespace: 'app', name: 't' } });
    expect(one('CREATE TABLE default.t (id BIGINT PRIMARY KEY)')).toMatchObject({ table: { namespace: 'default', name: 't' } });
    expect(one('CREATE TABLE "App"."T" (id BIGINT CONSTRAINT pk PRIMARY KEY)')).toMatchObject({ table: { namespace: 'App', name: 'T' } });
  });

  it.each<[string, DataType]>([
    ['BOOLEAN', 'Boolean'],
    ['BOOL', 'Boolean'],
    ['SMALLINT', 'SmallInt'],
    ['INT2', 'SmallInt'],
    ['INT', 'Int'],
    ['INTEGER', 'Int'],
    ['INT4', 'Int'],
    ['BIGINT', 'BigInt'],
    ['INT8', 'BigInt'],
    ['FLOAT', 'Float'],
    ['float /* c */', 'Float'],
    ['REAL', 'Float'],
    ['FLOAT4', 'Float'],
    ['FLOAT(10)', 'Float'],
    ['FLOAT(30)', 'Double'],
    ['DOUBLE', 'Double'],
    ['DOUBLE PRECISION', 'Double'],
    ['FLOAT8', 'Double'],
    ['DECIMAL', { Decimal: { precision: 38, scale: 10 } }],
    ['DECIMAL(10,2)', { Decimal: { precision: 10, scale: 2 } }],
    ['NUMERIC(5)', { Decimal: { precision: 5, scale: 0 } }],
    ['DEC(38, 38)', { Decimal: { precision: 38, scale: 38 } }],
    ['TEXT', 'Text'],
    ['VARCHAR', 'Text'],
    ['VARCHAR(20)', 'Text'],
    ['CHARACTER VARYING(20)', 'Text'],
    ['STRING', 'Text'],
    ['BYTES', 'Bytes'],
    ['BYTEA', 'Bytes'],
    ['BLOB', 'Bytes'],
    ['JSON', 'Json'],
    ['JSONB', 'Json'],
    ['TIMESTAMP', 'Timestamp'],
    ['TIMESTAMPTZ', 'Timestamp'],
    ['TIMESTAMP WITH TIME ZONE', 'Timestamp'],
    ['TIMESTAMP WITHOUT TIME ZONE', 'Timestamp'],
    ['DATETIME', 'DateTime'],
    ['DATE', 'Date'],
    ['TIME', 'Time'],
    ['UUID', 'Uuid'],
  ])('column type %s → %j', (type, dataType) => {
    expect(one(`CREATE TABLE app.t (id BIGINT PRIMARY KEY, c ${type})`)).toMatchObject({ table: { columns: [ID, col('c', dataType)] } });
  });

  it.each<[string, string, ColumnDef['default']]>([
    ["'x'", 'TEXT', { kind: 'literal', sql: "'x'" }],
    ["'it''s'", 'TEXT', { kind: 'literal', sql: "'it''s'" }],
    ['42', 'INT', { kind: 'literal', sql: '42' }],
    ['-1', 'INT', { kind: 'literal', sql: '-1' }],
    ['0', 'INT', { kind: 'literal', sql: '0' }],
    ['1.5', 'DOUBLE', { kind: 'literal', sql: '1.5' }],
    ['-1.5', 'DOUBLE', { kind: 'literal', sql: '-1.5' }],
    ['+7', 'INT', { kind: 'literal', sql: '+(7)' }],
    ['- (2)', 'INT', { kind: 'literal', sql: '-2' }],
    ['-(1::bigint)', 'BIGINT', { kind: 'literal', sql: '-(1::bigint)' }],
    ['99999999999', 'BIGINT', { kind: 'literal', sql: '99999999999' }],
    ['TRUE', 'BOOLEAN', { kind: 'literal', sql: 'true' }],
    ['false', 'BOOLEAN', { kind: 'literal', sql: 'false' }],
    ['NULL', 'TEXT', { kind: 'literal', sql: 'NULL' }],
    ["'2024-01-01'::date", 'DATE', { kind: 'literal', sql: "'2024-01-01'::date" }],
    ["DATE '2024-01-01'", 'DATE', { kind: 'literal', sql: "'2024-01-01'::date" }],
    ["'2024-01-01 10:00'::DATETIME", 'DATETIME', { kind: 'literal', sql: "'2024-01-01 10:00'::timestamptz" }],
    ["CAST('{}' AS JSON)", 'JSON', { kind: 'literal', sql: "'{}'::jsonb" }],
    ["'1.50'::decimal(10,2)", 'DECIMAL(10,2)', { kind: 'literal', sql: "'1.50'::numeric(10,2)" }],
    ['NOW()', 'TIMESTAMP', { kind: 'now' }],
    ['now()', 'DATETIME', { kind: 'now' }],
    ['CURRENT_TIMESTAMP', 'TIMESTAMP', { kind: 'now' }],
    ['NOW()', 'DATE', { kind: 'now' }],
    ['SNOWFLAKE_ID()', 'BIGINT', { kind: 'snowflake_id' }],
    ['UUID_V7()', 'UUID', { kind: 'uuid_v7' }],
    ['uuid_v7()', 'TEXT', { kind: 'uuid_v7' }],
    ['CURRENT_USER()', 'TEXT', { kind: 'current_user' }],
    ['CURRENT_USER', 'TEXT', { kind: 'current_user' }],
  ])('DEFAULT %s on %s', (expr, type, expected) => {
    const stmt = one(`CREATE TABLE app.t (id BIGINT PRIMARY KEY, c ${type} DEFAULT ${expr})`);
    expect(stmt.kind === 'create_table' ? stmt.table.columns[1]?.default : undefined).toEqual(expected);
  });

  it.each<[string, SqlErrorCode, string]>([
    ['CREATE TABLE app.t (a INT)', 'INVALID_SQL', 'a table needs exactly one PRIMARY KEY column'],
    ['CREATE TABLE app.t ()', 'INVALID_SQL', 'a table needs exactly one PRIMARY KEY column'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b INT PRIMARY KEY)', 'INVALID_SQL', 'a table needs exactly one PRIMARY KEY column'],
    ['CREATE TABLE app.t (a INT, b INT, PRIMARY KEY (a, b))', 'INVALID_SQL', 'a table needs exactly one PRIMARY KEY column'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, PRIMARY KEY (a))', 'INVALID_SQL', 'a table needs exactly one PRIMARY KEY column'],
    ['CREATE TABLE app.t (a INT, PRIMARY KEY (b))', 'INVALID_SQL', 'PRIMARY KEY column b is not defined'],
    ['CREATE TABLE app.t (a INT NULL PRIMARY KEY)', 'INVALID_SQL', 'PRIMARY KEY column a cannot be NULL'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b INT, b TEXT)', 'INVALID_SQL', 'column b is defined twice'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b INT NULL NOT NULL)', 'INVALID_SQL', 'column b is declared both NULL and NOT NULL'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b INT DEFAULT 1 DEFAULT 2)', 'INVALID_SQL', 'column b has more than one DEFAULT'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY PRIMARY KEY)', 'INVALID_SQL', 'column a has PRIMARY KEY twice'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b INT NOT NULL DEFAULT NULL)', 'INVALID_SQL', 'column b is NOT NULL but its DEFAULT is NULL'],
    ['CREATE TABLE app.t (_seq BIGINT PRIMARY KEY)', 'INVALID_SQL', 'column name _seq is a reserved system column'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, _deleted BOOLEAN)', 'INVALID_SQL', 'column name _deleted is a reserved system column'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, _user_id TEXT)', 'INVALID_SQL', 'column name _user_id is a reserved system column'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, "_SEQ" TEXT)', 'INVALID_SQL', 'column name _SEQ is a reserved system column'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, "b c" TEXT)', 'INVALID_SQL', 'invalid column name "b c": use 1 to 63 letters, digits or _'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b SERIAL)', 'INVALID_SQL', 'column b: unsupported column type serial; supported: BOOLEAN, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), TEXT, VARCHAR, BYTES, JSON, TIMESTAMP, DATE, DATETIME, TIME, UUID'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b CHAR(3))', 'INVALID_SQL', 'column b: unsupported column type bpchar(3); supported: BOOLEAN, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), TEXT, VARCHAR, BYTES, JSON, TIMESTAMP, DATE, DATETIME, TIME, UUID'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b TIME WITH TIME ZONE)', 'INVALID_SQL', 'column b: unsupported column type timetz; supported: BOOLEAN, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), TEXT, VARCHAR, BYTES, JSON, TIMESTAMP, DATE, DATETIME, TIME, UUID'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b TIMESTAMP(3))', 'INVALID_SQL', 'column b: type timestamp(3) takes no modifiers; use TIMESTAMP'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b DECIMAL(40,2))', 'INVALID_SQL', 'column b: invalid NUMERIC(40,2): DECIMAL(p,s) needs 1 <= p <= 38 and 0 <= s <= p'],
    ["CREATE TABLE app.t (a INT PRIMARY KEY, b DECIMAL(5,'x'))", 'INVALID_SQL', 'column b: type modifiers must be integers'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b INT[])', 'INVALID_SQL', 'column b: array types are not supported'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b INT UNIQUE)', 'UNSUPPORTED', 'UNIQUE constraints are not supported; the PRIMARY KEY is the only unique key (column b)'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b INT, UNIQUE (b))', 'UNSUPPORTED', 'UNIQUE constraints are not supported; the PRIMARY KEY is the only unique key (table constraint)'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b INT CHECK (b > 0))', 'UNSUPPORTED', 'CHECK constraints are not supported (column b)'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b INT REFERENCES app.u (id))', 'UNSUPPORTED', 'foreign keys (REFERENCES) are not supported (column b)'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY GENERATED ALWAYS AS IDENTITY)', 'UNSUPPORTED', 'identity columns are not supported; use DEFAULT SNOWFLAKE_ID() (column a)'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b INT GENERATED ALWAYS AS (a * 2) STORED)', 'UNSUPPORTED', 'generated columns are not supported (column b)'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY DEFERRABLE)', 'UNSUPPORTED', 'constraint attributes (DEFERRABLE, INITIALLY, ENFORCED) are not supported (column a)'],
    ['CREATE TABLE app.t (a TEXT COLLATE "C" PRIMARY KEY)', 'UNSUPPORTED', 'COLLATE is not supported (column a)'],
    ['CREATE TEMP TABLE t (a INT PRIMARY KEY)', 'UNSUPPORTED', 'TEMPORARY tables are not supported'],
    ['CREATE UNLOGGED TABLE app.t (a INT PRIMARY KEY)', 'UNSUPPORTED', 'UNLOGGED tables are not supported'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY) INHERITS (app.u)', 'UNSUPPORTED', 'INHERITS is not supported'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY) PARTITION BY HASH (a)', 'UNSUPPORTED', 'PARTITION BY is not supported'],
    ['CREATE TABLE app.t (LIKE app.u)', 'UNSUPPORTED', 'CREATE TABLE … (LIKE …) is not supported'],
    ['CREATE TABLE app.t AS SELECT 1', 'UNSUPPORTED', 'statement CREATE TABLE … AS is not supported'],
    ['CREATE TABLE system.t (a INT PRIMARY KEY)', 'INVALID_SQL', 'namespace system is reserved'],
    ['CREATE TABLE pg_catalog.t (a INT PRIMARY KEY)', 'INVALID_SQL', 'namespace pg_catalog is reserved'],
    ['CREATE TABLE app.t__p1 (a INT PRIMARY KEY)', 'INVALID_SQL', 'table name t__p1 is reserved: names ending in __p<n> or __seq name partitions and indexes'],
    ['CREATE TABLE app.t__seq (a INT PRIMARY KEY)', 'INVALID_SQL', 'table name t__seq is reserved: names ending in __p<n> or __seq name partitions and indexes'],
    ['CREATE TABLE x.app.t (a INT PRIMARY KEY)', 'INVALID_SQL', 'table name x.app.t has too many parts; use namespace.table'],
    ['CREATE TABLE app."t-1" (a INT PRIMARY KEY)', 'INVALID_SQL', 'invalid table name "t-1": use 1 to 63 letters, digits or _'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY) WITH (fillfactor = 70)', 'INVALID_SQL', 'unknown table option FILLFACTOR; supported: TYPE, ACCESS_LEVEL, TTL_SECONDS, DELETED_RETENTION_HOURS'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY) WITH (toast.autovacuum_enabled = false)', 'INVALID_SQL', 'unknown table option TOAST.AUTOVACUUM_ENABLED; supported: TYPE, ACCESS_LEVEL, TTL_SECONDS, DELETED_RETENTION_HOURS'],
    ["CREATE TABLE app.t (a INT PRIMARY KEY) WITH (TYPE = 'USER', type = 'USER')", 'INVALID_SQL', 'table option TYPE is given twice'],
    ["CREATE TABLE app.t (a INT PRIMARY KEY) WITH (TYPE = 'TEMP')", 'INVALID_SQL', 'table option TYPE must be one of USER, SHARED, STREAM'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY) WITH (TYPE)', 'INVALID_SQL', 'table option TYPE must be one of USER, SHARED, STREAM'],
    ["CREATE TABLE app.t (a INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'OPEN')", 'INVALID_SQL', 'table option ACCESS_LEVEL must be one of PUBLIC, PRIVATE, DBA'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY) WITH (TTL_SECONDS = 0)', 'INVALID_SQL', 'table option TTL_SECONDS must be a whole number from 1 to 2147483647'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY) WITH (TTL_SECONDS = 1.5)', 'INVALID_SQL', 'table option TTL_SECONDS must be a whole number from 1 to 2147483647'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY) WITH (TTL_SECONDS = -5)', 'INVALID_SQL', 'table option TTL_SECONDS must be a whole number from 1 to 2147483647'],
    ["CREATE TABLE app.t (a INT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = 'week')", 'INVALID_SQL', 'table option DELETED_RETENTION_HOURS must be a whole number from 1 to 2147483647'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = 2147483648)', 'INVALID_SQL', 'table option DELETED_RETENTION_HOURS must be a whole number from 1 to 2147483647'],
    ["CREATE SHARED TABLE app.t (a INT PRIMARY KEY) WITH (TYPE = 'USER')", 'INVALID_SQL', "CREATE SHARED TABLE conflicts with TYPE='USER'"],
    ["CREATE STREAM TABLE app.t (a INT PRIMARY KEY) WITH (TYPE = shared)", 'INVALID_SQL', "CREATE STREAM TABLE conflicts with TYPE='SHARED'"],
    ['CREATE TABLE app.t (a INT PRIMARY KEY DEFAULT random())', 'INVALID_SQL', 'DEFAULT random() of column a is not supported; use a constant, NOW(), CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7() or CURRENT_USER()'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY DEFAULT 1 + 2)', 'INVALID_SQL', 'DEFAULT 1 + 2 of column a is not supported; use a constant, NOW(), CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7() or CURRENT_USER()'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b TEXT DEFAULT NOW(1))', 'INVALID_SQL', 'DEFAULT now(1) of column b is not supported; use a constant, NOW(), CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7() or CURRENT_USER()'],
    ["CREATE TABLE app.t (a INT PRIMARY KEY, b INTERVAL DEFAULT '1 day')", 'INVALID_SQL', 'column b: unsupported column type interval; supported: BOOLEAN, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), TEXT, VARCHAR, BYTES, JSON, TIMESTAMP, DATE, DATETIME, TIME, UUID'],
    ["CREATE TABLE app.t (a INT PRIMARY KEY, b TEXT DEFAULT '1 day'::interval)", 'INVALID_SQL', "DEFAULT '1 day'::interval of column b is not supported; use a constant, NOW(), CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7() or CURRENT_USER()"],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b TEXT DEFAULT SESSION_USER)', 'INVALID_SQL', 'DEFAULT SESSION_USER of column b is not supported; use a constant, NOW(), CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7() or CURRENT_USER()'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY, b TEXT DEFAULT NOW())', 'INVALID_SQL', 'DEFAULT NOW() of column b needs a column of type Timestamp, DateTime, Date, Time'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY DEFAULT SNOWFLAKE_ID())', 'INVALID_SQL', 'DEFAULT SNOWFLAKE_ID() of column a needs a column of type BigInt'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY DEFAULT UUID_V7())', 'INVALID_SQL', 'DEFAULT UUID_V7() of column a needs a column of type Uuid, Text'],
    ['CREATE TABLE app.t (a INT PRIMARY KEY DEFAULT CURRENT_USER())', 'INVALID_SQL', 'DEFAULT CURRENT_USER() of column a needs a column of type Text'],
  ])('%j → %s', (sql, code, message) => {
    expect(failure(sql)).toEqual({ code, message });
  });
});

describe('ALTER TABLE and DROP TABLE', () => {
  it.each<[string, Statement]>([
    ['ALTER TABLE app.t ADD COLUMN c TEXT', { kind: 'alter_table_add_column', table: { namespace: 'app', name: 't' }, column: col('c', 'Text') }],
    ['alter table t add c FLOAT', { kind: 'alter_table_add_column', table: { namespace: 'default', name: 't' }, column: col('c', 'Float') }],
    [
      'ALTER TABLE app.t ADD COLUMN n INT NOT NULL DEFAULT 0',
      { kind: 'alter_table_add_column', table: { namespace: 'app', name: 't' }, column: col('n', 'Int', { notNull: true, default: { kind: 'literal', sql: '0' } }) },
    ],
    [
      "ALTER TABLE app.t ADD COLUMN s STRING DEFAULT 'open'",
      { kind: 'alter_table_add_column', table: { namespace: 'app', name: 't' }, column: col('s', 'Text', { default: { kind: 'literal', sql: "'open'" } }) },
    ],
    ['ALTER TABLE app.t DROP COLUMN c', { kind: 'alter_table_drop_column', table: { namespace: 'app', name: 't' }, column: 'c' }],
    ['ALTER TABLE app.t DROP c CASCADE', { kind: 'alter_table_drop_column', table: { namespace: 'app', name: 't' }, column: 'c' }],
    ['DROP TABLE app.t', { kind: 'drop_table', table: { namespace: 'app', name: 't' }, ifExists: false }],
    ['DROP TABLE IF EXISTS t CASCADE', { kind: 'drop_table', table: { namespace: 'default', name: 't' }, ifExists: true }],
    ['DROP TABLE default.t', { kind: 'drop_table', table: { namespace: 'default', name: 't' }, ifExists: false }],
  ])('%j', (sql, expected) => {
    expect(one(sql)).toEqual(expected);
  });

  it('uses the default namespace for bare names', () => {
    expect(one('DROP TABLE t', { defaultNamespace: 'app' })).toEqual({ kind: 'drop_table', table: { namespace: 'app', name: 't' }, ifExists: false });
    expect(one('ALTER TABLE t DROP COLUMN c', { defaultNamespace: 'app' })).toMatchObject({ table: { namespace: 'app', name: 't' } });
  });

  it.each<[string, SqlErrorCode, string]>([
    ['ALTER TABLE app.t ADD COLUMN a INT, DROP COLUMN b', 'UNSUPPORTED', 'ALTER TABLE takes one action per statement'],
    ['ALTER TABLE IF EXISTS app.t DROP COLUMN b', 'UNSUPPORTED', 'ALTER TABLE IF EXISTS is not supported'],
    ['ALTER TABLE app.t ADD COLUMN IF NOT EXISTS a INT', 'UNSUPPORTED', 'ADD COLUMN IF NOT EXISTS is not supported'],
    ['ALTER TABLE app.t DROP COLUMN IF EXISTS a', 'UNSUPPORTED', 'DROP COLUMN IF EXISTS is not supported'],
    ['ALTER TABLE app.t ALTER COLUMN a TYPE TEXT', 'UNSUPPORTED', 'ALTER TABLE … ALTER COLUMN … TYPE is not supported; use ADD COLUMN or DROP COLUMN'],
    ['ALTER TABLE app.t ALTER COLUMN a SET DEFAULT 1', 'UNSUPPORTED', 'ALTER TABLE … ALTER COLUMN … SET/DROP DEFAULT is not supported; use ADD COLUMN or DROP COLUMN'],
    ['ALTER TABLE app.t ADD CONSTRAINT u UNIQUE (a)', 'UNSUPPORTED', 'ALTER TABLE … ADD CONSTRAINT is not supported; use ADD COLUMN or DROP COLUMN'],
    ['ALTER TABLE app.t ENABLE ROW LEVEL SECURITY', 'UNSUPPORTED', 'ALTER TABLE … ENABLE ROW SECURITY is not supported; use ADD COLUMN or DROP COLUMN'],
    ['ALTER TABLE app.t RENAME TO u', 'UNSUPPORTED', 'statement ALTER … RENAME is not supported'],
    ['ALTER TABLE app.t RENAME COLUMN a TO b', 'UNSUPPORTED', 'statement ALTER … RENAME is not supported'],
    ['ALTER TABLE app.t SET SCHEMA other', 'UNSUPPORTED', 'statement ALTER … SET SCHEMA is not supported'],
    ['ALTER INDEX app.i SET (fillfactor = 50)', 'UNSUPPORTED', 'statement ALTER INDEX is not supported'],
    ['ALTER TABLE app.t ADD COLUMN id BIGINT PRIMARY KEY', 'INVALID_SQL', 'ADD COLUMN cannot add a PRIMARY KEY (column id); a table has exactly one'],
    ['ALTER TABLE app.t ADD COLUMN n INT NOT NULL', 'INVALID_SQL', 'ADD COLUMN n NOT NULL needs a constant DEFAULT to fill the existing rows'],
    ['ALTER TABLE app.t ADD COLUMN at TIMESTAMP DEFAULT NOW()', 'INVALID_SQL', 'ADD COLUMN takes only a constant DEFAULT, which fills the existing rows (column at)'],
    ['ALTER TABLE app.t ADD COLUMN _seq BIGINT', 'INVALID_SQL', 'column name _seq is a reserved system column'],
    ['ALTER TABLE app.t DROP COLUMN _deleted', 'INVALID_SQL', 'column name _deleted is a reserved system column'],
    ['ALTER TABLE app.t ADD COLUMN c MONEY', 'INVALID_SQL', 'column c: unsupported column type money; supported: BOOLEAN, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), TEXT, VARCHAR, BYTES, JSON, TIMESTAMP, DATE, DATETIME, TIME, UUID'],
    ['ALTER TABLE a.b.c DROP COLUMN d', 'INVALID_SQL', 'table name a.b.c has too many parts; use namespace.table'],
    ['DROP TABLE app.t, app.u', 'UNSUPPORTED', 'DROP TABLE drops one table per statement'],
    ['DROP TABLE a.b.c', 'INVALID_SQL', 'table name a.b.c has too many parts; use namespace.table'],
    ['DROP VIEW app.v', 'UNSUPPORTED', 'statement DROP VIEW is not supported'],
    ['DROP MATERIALIZED VIEW app.v', 'UNSUPPORTED', 'statement DROP MATERIALIZED VIEW is not supported'],
    ['DROP INDEX app.i', 'UNSUPPORTED', 'statement DROP INDEX is not supported'],
    ['DROP SCHEMA app', 'UNSUPPORTED', 'statement DROP SCHEMA is not supported; use DROP NAMESPACE'],
  ])('%j → %s', (sql, code, message) => {
    expect(failure(sql)).toEqual({ code, message });
  });
});

describe('SELECT, INSERT, UPDATE, DELETE', () => {
  it('keeps the AST and the text of each statement', () => {
    expect(one('SELECT a, b FROM app.t WHERE a > 1 ORDER BY b LIMIT 10')).toEqual({
      kind: 'select',
      ast: expect.objectContaining({ SelectStmt: expect.objectContaining({ limitCount: expect.any(Object) as unknown }) as unknown }) as unknown,
      text: 'SELECT a, b FROM app.t WHERE a > 1 ORDER BY b LIMIT 10',
    });
    expect(one('INSERT INTO app.t (id, v) VALUES (1, $1), (2, $2) RETURNING *')).toEqual({
      kind: 'insert',
      table: { namespace: 'app', name: 't' },
      ast: expect.objectContaining({ InsertStmt: expect.any(Object) as unknown }) as unknown,
      text: 'INSERT INTO app.t (id, v) VALUES (1, $1), (2, $2) RETURNING *',
    });
    expect(one("UPDATE app.t SET v = 'x' WHERE id = 1")).toMatchObject({ kind: 'update', table: { namespace: 'app', name: 't' }, ast: { UpdateStmt: {} } });
    expect(one('DELETE FROM "App".t WHERE id = 1')).toMatchObject({ kind: 'delete', table: { namespace: 'App', name: 't' }, ast: { DeleteStmt: {} } });
    expect(one('VALUES (1), (2)')).toMatchObject({ kind: 'select', text: 'VALUES (1), (2)' });
  });

  it('resolves bare table names to the default namespace', () => {
    expect(one('INSERT INTO t VALUES (1)')).toMatchObject({ table: { namespace: 'default', name: 't' } });
    expect(one('UPDATE t SET a = 1', { defaultNamespace: 'app' })).toMatchObject({ table: { namespace: 'app', name: 't' } });
    expect(one('DELETE FROM default.t')).toMatchObject({ table: { namespace: 'default', name: 't' }, text: 'DELETE FROM "default".t' });
    expect(() => parseStatements('DELETE FROM t', { defaultNamespace: 'a-b' })).toThrow('invalid namespace name "a-b": use 1 to 63 letters, digits or _');
  });

  it('rewrites CURRENT_USER() to the current_user keyword outside strings and comments', () => {
    const stmt = one("UPDATE app.t SET owner = CURRENT_USER ( ), note = 'CURRENT_USER()' /* CURRENT_USER() */ WHERE who = current_user()");
    expect(stmt).toMatchObject({ text: "UPDATE app.t SET owner = CURRENT_USER, note = 'CURRENT_USER()' /* CURRENT_USER() */ WHERE who = current_user" });
    const ast = stmt.kind === 'update' ? (stmt.ast as { UpdateStmt: { targetList: { ResTarget: { val: unknown } }[]; whereClause: { A_Expr: { rexpr: unknown } } } }) : undefined;
    expect(ast?.UpdateStmt.targetList[0]?.ResTarget.val).toEqual({ SQLValueFunction: { op: 'SVFOP_CURRENT_USER', typmod: -1, location: 25 } });
    expect(ast?.UpdateStmt.whereClause.A_Expr.rexpr).toMatchObject({ SQLValueFunction: { op: 'SVFOP_CURRENT_USER' } });
    expect(one('INSERT INTO t (a) VALUES (CURRENT_USER())')).toMatchObject({ text: 'INSERT INTO t (a) VALUES (CURRENT_USER)' });
    expect(one('SELECT * FROM t WHERE a = "current_user"()')).toMatchObject({ text: 'SELECT * FROM t WHERE a = "current_user"()' });
  });

  it('parses KalamDB functions as ordinary calls', () => {
    const stmt = one('INSERT INTO t (a, b, c) VALUES (SNOWFLAKE_ID(), UUID_V7(), NOW())');
    const values = stmt.kind === 'insert' ? JSON.stringify(stmt.ast) : '';
    for (const name of ['snowflake_id', 'uuid_v7', 'now']) expect(values).toContain(`"FuncCall":{"funcname":[{"String":{"sval":"${name}"}}]`);
  });

  it.each<[string, SqlErrorCode, string]>([
    ['SELECT * INTO app.copy FROM app.t', 'UNSUPPORTED', 'SELECT … INTO is not supported'],
    ['SELECT * FROM app.t FOR UPDATE', 'UNSUPPORTED', 'row locking (FOR UPDATE, FOR SHARE) is not supported'],
    ['SELECT * FROM (SELECT * FROM app.t FOR SHARE) s', 'UNSUPPORTED', 'row locking (FOR UPDATE, FOR SHARE) is not supported'],
    ['DELETE FROM app.t WHERE id IN (SELECT id FROM app.t FOR UPDATE)', 'UNSUPPORTED', 'row locking (FOR UPDATE, FOR SHARE) is not supported'],
    ['WITH x AS (DELETE FROM app.t RETURNING *) SELECT * FROM x', 'UNSUPPORTED', 'data-modifying statements in WITH are not supported'],
    ['SELECT * FROM (WITH x AS (INSERT INTO app.t VALUES (1) RETURNING *) SELECT * FROM x) y', 'UNSUPPORTED', 'data-modifying statements in WITH are not supported'],
    ['WITH x AS (SELECT 1) INSERT INTO app.t SELECT * FROM x', 'UNSUPPORTED', 'WITH is not supported on INSERT, UPDATE or DELETE'],
    ['WITH x AS (SELECT 1) DELETE FROM app.t', 'UNSUPPORTED', 'WITH is not supported on INSERT, UPDATE or DELETE'],
    ['INSERT INTO a.b.c VALUES (1)', 'INVALID_SQL', 'table name a.b.c has too many parts; use namespace.table'],
    ['UPDATE app."t.x" SET a = 1', 'INVALID_SQL', 'invalid table name "t.x": use 1 to 63 letters, digits or _'],
    ['DELETE FROM "a b".t', 'INVALID_SQL', 'invalid namespace name "a b": use 1 to 63 letters, digits or _'],
  ])('%j → %s', (sql, code, message) => {
    expect(failure(sql)).toEqual({ code, message });
  });
});

describe('other statements are UNSUPPORTED, named in words', () => {
  it.each([
    ['SET search_path = app', 'SET'],
    ['RESET ALL', 'RESET'],
    ['SHOW search_path', 'SHOW'],
    ['SHOW ALL', 'SHOW'],
    ['COPY app.t FROM STDIN', 'COPY'],
    ['CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql', 'CREATE FUNCTION'],
    ['CREATE PROCEDURE p() AS $$ SELECT 1 $$ LANGUAGE sql', 'CREATE PROCEDURE'],
    ['GRANT SELECT ON app.t TO bob', 'GRANT'],
    ['REVOKE SELECT ON app.t FROM bob', 'REVOKE'],
    ['TRUNCATE app.t', 'TRUNCATE'],
    ['DO $$ BEGIN END $$', 'DO'],
    ['CALL p()', 'CALL'],
    ['EXPLAIN SELECT 1', 'EXPLAIN'],
    ['ROLLBACK TO SAVEPOINT s', 'ROLLBACK TO'],
    ['SAVEPOINT s', 'SAVEPOINT'],
    ['RELEASE SAVEPOINT s', 'RELEASE'],
    ["PREPARE TRANSACTION 'x'", 'PREPARE'],
    ["COMMIT PREPARED 'x'", 'COMMIT PREPARED'],
    ['CREATE INDEX i ON app.t (a)', 'CREATE INDEX'],
    ['CREATE VIEW app.v AS SELECT 1', 'CREATE VIEW'],
    ['CREATE MATERIALIZED VIEW app.v AS SELECT 1', 'CREATE MATERIALIZED VIEW'],
    ['CREATE SCHEMA app', 'CREATE SCHEMA (use CREATE NAMESPACE)'],
    ['CREATE SEQUENCE s', 'CREATE SEQUENCE'],
    ['CREATE EXTENSION pgcrypto', 'CREATE EXTENSION'],
    ['CREATE ROLE r', 'CREATE ROLE'],
    ['LISTEN ch', 'LISTEN'],
    ['NOTIFY ch', 'NOTIFY'],
    ['PREPARE q AS SELECT 1', 'PREPARE'],
    ['VACUUM app.t', 'VACUUM'],
    ['ANALYZE app.t', 'ANALYZE'],
    ['LOCK TABLE app.t', 'LOCK'],
    ['MERGE INTO app.t USING app.u ON true WHEN MATCHED THEN DELETE', 'MERGE'],
    ['CHECKPOINT', 'CHECKPOINT'],
    ['USE app', 'USE'],
    ['SUBSCRIBE TO app.t', 'SUBSCRIBE'],
    ['ALTER NAMESPACE app SET DESCRIPTION x', 'ALTER NAMESPACE'],
    ["CREATE STORAGE s TYPE filesystem PATH '/x'", 'CREATE STORAGE'],
  ])('%j → statement %s is not supported', (sql, name) => {
    expect(failure(sql)).toEqual({ code: 'UNSUPPORTED', message: `statement ${name} is not supported` });
  });
});

describe('transaction statements', () => {
  it.each([
    ['BEGIN', 'begin'],
    ['begin work', 'begin'],
    ['BEGIN TRANSACTION', 'begin'],
    ['START TRANSACTION', 'begin'],
    ['COMMIT', 'commit'],
    ['COMMIT WORK', 'commit'],
    ['END', 'commit'],
    ['ROLLBACK', 'rollback'],
    ['ABORT', 'rollback'],
  ])('%j → %s', (sql, action) => {
    expect(one(sql)).toEqual({ kind: 'transaction', action });
  });

  it('splits a transaction into its statements', () => {
    const kinds = parseStatements("BEGIN; INSERT INTO app.t (id) VALUES (1); DELETE FROM app.t WHERE id = 2; COMMIT;").map((s) => (s.kind === 'transaction' ? s.action : s.kind));
    expect(kinds).toEqual(['begin', 'insert', 'delete', 'commit']);
  });

  it.each([
    ['BEGIN ISOLATION LEVEL SERIALIZABLE', 'BEGIN with transaction modes (ISOLATION LEVEL, READ ONLY, DEFERRABLE) is not supported'],
    ['START TRANSACTION READ ONLY', 'START TRANSACTION with transaction modes (ISOLATION LEVEL, READ ONLY, DEFERRABLE) is not supported'],
    ['COMMIT AND CHAIN', 'COMMIT AND CHAIN is not supported'],
  ])('%j is UNSUPPORTED', (sql, message) => {
    expect(failure(sql)).toEqual({ code: 'UNSUPPORTED', message });
  });

  it('is not accepted inside EXECUTE AS', () => {
    expect(failure("EXECUTE AS USER 'alice' (BEGIN)")).toEqual({ code: 'INVALID_SQL', message: 'EXECUTE AS runs a SELECT, INSERT, UPDATE or DELETE, not TRANSACTION' });
  });
});
