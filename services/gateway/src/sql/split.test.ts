import { describe, expect, it } from 'vitest';
import { splitSqlText } from './split.js';

describe('splitSqlText', () => {
  it.each([
    ['one statement', 'SELECT 1', ['SELECT 1']],
    ['a trailing semicolon', 'SELECT 1;', ['SELECT 1']],
    ['two statements, trimmed', '  SELECT 1 ;\n INSERT INTO t VALUES (1)  ', ['SELECT 1', 'INSERT INTO t VALUES (1)']],
    ['empty statements dropped', ';;SELECT 1;; ;SELECT 2;', ['SELECT 1', 'SELECT 2']],
    ['nothing', '  ; -- just a comment\n ;', []],
    ['a comment-only tail', 'SELECT 1; -- done', ['SELECT 1']],
    ['; in a string', "INSERT INTO t VALUES ('a;b'); SELECT 2", ["INSERT INTO t VALUES ('a;b')", 'SELECT 2']],
    ['doubled quotes', "SELECT 'it''s;'; SELECT 2", ["SELECT 'it''s;'", 'SELECT 2']],
    ['E-string escapes', "SELECT E'a\\';b'; SELECT 2", ["SELECT E'a\\';b'", 'SELECT 2']],
    ['backslash in a standard string', "SELECT 'a\\'; SELECT 2", ["SELECT 'a\\'", 'SELECT 2']],
    ['an identifier ending in e before a string', "SELECT somee'x\\'; SELECT 2", ["SELECT somee'x\\'", 'SELECT 2']],
    ['; in a quoted identifier', 'SELECT "a;""b" FROM t; SELECT 2', ['SELECT "a;""b" FROM t', 'SELECT 2']],
    ['; in a line comment', 'SELECT 1 -- a;b\n; SELECT 2', ['SELECT 1 -- a;b', 'SELECT 2']],
    ['; in nested block comments', 'SELECT /* a /* ; */ ; */ 1; SELECT 2', ['SELECT /* a /* ; */ ; */ 1', 'SELECT 2']],
    ['; in dollar quotes', 'SELECT $$a;b$$; SELECT $x$ $$;$$ $x$; SELECT 3', ['SELECT $$a;b$$', 'SELECT $x$ $$;$$ $x$', 'SELECT 3']],
    ['params are not dollar quotes', 'SELECT $1; SELECT $2', ['SELECT $1', 'SELECT $2']],
    ['; inside parentheses', "EXECUTE AS USER 'alice' (INSERT INTO t VALUES (1);); SELECT 2", ["EXECUTE AS USER 'alice' (INSERT INTO t VALUES (1);)", 'SELECT 2']],
    ['unterminated string runs to the end', "SELECT 'a; SELECT 2", ["SELECT 'a; SELECT 2"]],
    ['non-ASCII text', "INSERT INTO t VALUES ('héllo 😀;'); SELECT 'ü'", ["INSERT INTO t VALUES ('héllo 😀;')", "SELECT 'ü'"]],
  ])('%s', (_name, sql, expected) => {
    expect(splitSqlText(sql)).toEqual(expected);
  });
});
