import { beforeAll, describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import { SqlError } from './errors.js';
import { initSql } from './init.js';
import { parseStatements } from './parse.js';

beforeAll(async () => {
  await initSql();
});

describe('SHOW and DESCRIBE', () => {
  it.each([
    ['SHOW NAMESPACES', { kind: 'show_namespaces' }],
    ['show namespaces;', { kind: 'show_namespaces' }],
    ['SHOW TABLES', { kind: 'show_tables' }],
    ['SHOW TABLES IN app', { kind: 'show_tables', namespace: 'app' }],
    ['show tables from App', { kind: 'show_tables', namespace: 'app' }],
    ['SHOW TABLES IN "Mixed"', { kind: 'show_tables', namespace: 'Mixed' }],
    ['SHOW TABLES IN default', { kind: 'show_tables', namespace: 'default' }],
    ['DESCRIBE app.tickets', { kind: 'describe_table', table: { namespace: 'app', name: 'tickets' } }],
    ['DESCRIBE TABLE app.tickets', { kind: 'describe_table', table: { namespace: 'app', name: 'tickets' } }],
    ['desc table app.tickets', { kind: 'describe_table', table: { namespace: 'app', name: 'tickets' } }],
    ['DESC default.notes', { kind: 'describe_table', table: { namespace: 'default', name: 'notes' } }],
    ['DESCRIBE notes', { kind: 'describe_table', table: { namespace: 'default', name: 'notes' } }],
    ['DESCRIBE system.users', { kind: 'describe_table', table: { namespace: 'system', name: 'users' } }],
  ])('%s', (sql, statement) => {
    const [stmt] = parseStatements(sql);
    expect(stmt).toEqual(statement);
    expect(classify(stmt!)).toBe('read');
  });

  it('puts a bare table name in the request namespace', () => {
    expect(parseStatements('DESCRIBE TABLE notes', { defaultNamespace: 'app' })).toEqual([{ kind: 'describe_table', table: { namespace: 'app', name: 'notes' } }]);
  });

  it('splits a batch of them like any other statements', () => {
    expect(parseStatements('SHOW NAMESPACES; SHOW TABLES IN app; DESCRIBE app.t').map((s) => s.kind)).toEqual(['show_namespaces', 'show_tables', 'describe_table']);
  });

  it.each([
    ['SHOW TABLES IN', 'SHOW: expected a namespace name but found end of input'],
    ['SHOW TABLES IN app extra', 'SHOW: unexpected "extra"'],
    ['SHOW NAMESPACES app', 'SHOW: unexpected "app"'],
    ['SHOW TABLES IN a.b', 'SHOW: unexpected "."'],
    ['DESCRIBE', 'DESCRIBE: expected a table name but found end of input'],
    ['DESCRIBE TABLE', 'DESCRIBE: expected a table name but found end of input'],
    ['DESCRIBE a.b.c', 'DESCRIBE: unexpected "."'],
    ['DESCRIBE app.', 'DESCRIBE: expected a table name but found end of input'],
    ['DESCRIBE "bad-name"', 'invalid table name "bad-name": use 1 to 63 letters, digits or _'],
    ['DESCRIBE app.t HISTORY', 'DESCRIBE: unexpected "HISTORY"'],
  ])('refuses %s', (sql, message) => {
    expect(() => parseStatements(sql)).toThrow(new SqlError('INVALID_SQL', message));
  });

  it('leaves other SHOW statements to PostgreSQL, which Seqline does not support', () => {
    expect(() => parseStatements('SHOW search_path')).toThrow(SqlError);
    expect(() => parseStatements('SHOW search_path')).toThrow(/not supported/);
  });
});
