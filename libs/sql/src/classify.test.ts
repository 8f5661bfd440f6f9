import { beforeAll, describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import { initSql } from './init.js';
import { parseStatements } from './parse.js';
import type { Statement, StatementClass, StatementKind } from './types.js';

beforeAll(async () => {
  await initSql();
});

const CASES: [StatementKind, string, StatementClass][] = [
  ['select', 'SELECT * FROM app.t', 'read'],
  ['insert', 'INSERT INTO app.t VALUES (1)', 'write'],
  ['update', 'UPDATE app.t SET a = 1', 'write'],
  ['delete', 'DELETE FROM app.t', 'write'],
  ['create_namespace', 'CREATE NAMESPACE app', 'ddl'],
  ['drop_namespace', 'DROP NAMESPACE app', 'ddl'],
  ['create_table', 'CREATE USER TABLE app.t (id BIGINT PRIMARY KEY)', 'ddl'],
  ['alter_table_add_column', 'ALTER TABLE app.t ADD COLUMN c TEXT', 'ddl'],
  ['alter_table_drop_column', 'ALTER TABLE app.t DROP COLUMN c', 'ddl'],
  ['drop_table', 'DROP TABLE app.t', 'ddl'],
  ['create_user', "CREATE USER alice WITH PASSWORD 'pw' ROLE user", 'user'],
  ['alter_user', "ALTER USER alice SET PASSWORD 'pw'", 'user'],
  ['drop_user', 'DROP USER alice', 'user'],
  ['show_namespaces', 'SHOW NAMESPACES', 'read'],
  ['show_tables', 'SHOW TABLES IN app', 'read'],
  ['describe_table', 'DESCRIBE TABLE app.t', 'read'],
];

describe('classify', () => {
  it.each(CASES)('%s → %s', (kind, sql, expected) => {
    const [stmt] = parseStatements(sql);
    expect(stmt?.kind).toBe(kind);
    expect(classify(stmt as Statement)).toBe(expected);
  });

  it.each<[string, StatementClass]>([
    ["EXECUTE AS USER 'alice' (SELECT * FROM app.t)", 'read'],
    ["EXECUTE AS USER 'alice' (INSERT INTO app.t VALUES (1))", 'write'],
    ["EXECUTE AS USER 'alice' (UPDATE app.t SET a = 1)", 'write'],
    ["EXECUTE AS USER 'alice' (DELETE FROM app.t)", 'write'],
  ])('%s → %s (the class of the wrapped statement)', (sql, expected) => {
    const [stmt] = parseStatements(sql);
    expect(stmt?.kind).toBe('execute_as');
    expect(classify(stmt as Statement)).toBe(expected);
  });

  it('follows the inner statement of a hand-built EXECUTE AS whatever it is', () => {
    const inner: Statement = { kind: 'drop_user', name: 'bob', ifExists: false };
    expect(classify({ kind: 'execute_as', user: 'alice', inner })).toBe('user');
  });
});
