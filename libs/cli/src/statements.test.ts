import fc from 'fast-check';
import { loadModule, scanSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitSql } from './statements.js';

/** Every statement's text, the one without a `;` last. */
const texts = (sql: string): string[] => {
  const { statements, tail } = splitSql(sql);
  return [...statements, ...(tail === undefined ? [] : [tail])].map((s) => s.text);
};

describe('splitSql', () => {
  it('splits at ; and gives each statement its text, offset and first word', () => {
    const sql = "  INSERT INTO app.t (x) VALUES (1);\nselect x from app.t ;  UPDATE app.t SET x = 2";
    expect(splitSql(sql)).toEqual({
      statements: [
        { text: 'INSERT INTO app.t (x) VALUES (1)', start: 2, keyword: 'insert' },
        { text: 'select x from app.t', start: 36, keyword: 'select' },
      ],
      rest: 57,
      tail: { text: 'UPDATE app.t SET x = 2', start: 59, keyword: 'update' },
    });
  });

  it('does not split inside strings, quoted identifiers, dollar quotes, comments or parentheses', () => {
    expect(texts("SELECT 'a;b', 'it''s;' AS \"c;\"\"d\";")).toEqual(["SELECT 'a;b', 'it''s;' AS \"c;\"\"d\""]);
    expect(texts("SELECT E'\\';', e'\\\\';")).toEqual(["SELECT E'\\';', e'\\\\'"]);
    expect(texts("SELECT 'ends with backslash\\';")).toEqual(["SELECT 'ends with backslash\\'"]); // standard string: \ is a character
    expect(texts("SELECT E'a'\n -- comment\n'\\';'; SELECT 2;")).toEqual(["SELECT E'a'\n -- comment\n'\\';'", 'SELECT 2']); // an E'' string goes on after a newline
    expect(texts('SELECT $$a;$$, $tag$ $$; $tag$, $1;')).toEqual(['SELECT $$a;$$, $tag$ $$; $tag$, $1']);
    expect(texts('SELECT a$b$c; SELECT 2;')).toEqual(['SELECT a$b$c', 'SELECT 2']); // $ inside a name opens nothing
    expect(texts('SELECT 1 /* a; /* nested; */ b; */ ; -- c;\nSELECT 2;')).toEqual(['SELECT 1', 'SELECT 2']);
    expect(texts("EXECUTE AS USER 'bob' (INSERT INTO app.t (x) VALUES (1);) ;")).toEqual(["EXECUTE AS USER 'bob' (INSERT INTO app.t (x) VALUES (1);)"]);
    expect(texts('namE\'x;\'; SELECT 3;')).toEqual(["namE'x;'", 'SELECT 3']); // E starts an escape string only as a token
  });

  it('drops empty statements and the comments around statements', () => {
    expect(splitSql(';; -- only a comment\n;/* and */;')).toEqual({ statements: [], rest: 32 });
    expect(texts('-- first\nSELECT 1 -- trailing\n;')).toEqual(['SELECT 1']);
  });

  it('says what is still open at the end', () => {
    expect(splitSql("SELECT 'abc").unterminated).toBe('string');
    expect(splitSql("SELECT E'abc\\'").unterminated).toBe('string');
    expect(splitSql('SELECT "ab').unterminated).toBe('quoted identifier');
    expect(splitSql('SELECT $x$ ab $y$').unterminated).toBe('dollar quote');
    expect(splitSql('SELECT 1 /* /* */').unterminated).toBe('comment');
    expect(splitSql('SELECT 1 -- no newline yet').unterminated).toBe('line comment');
    expect(splitSql('SELECT count(x;').unterminated).toBe('parenthesis');
    expect(splitSql("SELECT 1; SELECT 'x").statements.map((s) => s.text)).toEqual(['SELECT 1']);
    expect(splitSql('SELECT 1;\n').unterminated).toBeUndefined();
  });
});

describe('splitSql against PostgreSQL\'s scanner', () => {
  beforeAll(() => loadModule());

  /** The statements as the server splits them (libs/sql tokens.ts): at ; tokens outside parentheses. */
  function pgSplit(sql: string): string[] {
    const bytes = Buffer.from(sql, 'utf8');
    const char = (byte: number): number => bytes.subarray(0, byte).toString('utf8').length;
    const statements: string[] = [];
    let first = -1;
    let last = -1;
    let depth = 0;
    for (const t of scanSync(sql).tokens) {
      if (t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT') continue;
      if (t.text === ';' && depth === 0) {
        if (first >= 0) statements.push(sql.slice(first, last));
        first = -1;
        continue;
      }
      if (t.text === '(') depth++;
      if (t.text === ')') depth = Math.max(0, depth - 1);
      if (first < 0) first = char(t.start);
      last = char(t.end);
    }
    if (first >= 0) statements.push(sql.slice(first, last));
    return statements;
  }

  /** PostgreSQL's scanner fails (without saying why) only on what is left open here. */
  function pgSplitOrUnterminated(sql: string): string[] | 'unterminated' {
    try {
      return pgSplit(sql);
    } catch {
      return 'unterminated';
    }
  }

  const piece = fc.oneof(
    fc.constantFrom('SELECT', 'x', 'é_t', 'a$b', '1', '2.5', '$1', '(', ')', ',', '+', '-', '*', '/', '::', ';', ';', ' ', '\n', '\t', '$q$ $$; $q$'),
    fc.string({ unit: fc.constantFrom('a', ';', "'", '"', '\\', '$', '-', '*', '/', '\n', ' ', 'é') }).map((s) => `'${s.replaceAll("'", "''")}'`),
    fc.string({ unit: fc.constantFrom('a', ';', "'", '\\', '\n') }).map((s) => `E'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`),
    fc.string({ unit: fc.constantFrom('a', ';', '"', "'", ' ') }).map((s) => `"x${s.replaceAll('"', '""')}"`),
    fc.tuple(fc.constantFrom('', 'q', 'tag_1'), fc.string({ unit: fc.constantFrom('a', ';', "'", '"', '\n') })).map(([tag, s]) => `$${tag}$${s}$${tag}$`),
    fc.string({ unit: fc.constantFrom('a', ';', "'", '*', '\n') }).map((s) => `/*${s.replaceAll('*/', '').replaceAll('/*', '')}*/`),
    fc.string({ unit: fc.constantFrom('a', ';', "'", '"', ' ') }).map((s) => `--${s}\n`),
  );

  it('ends statements where PostgreSQL does, for any mix of strings, names, quotes and comments', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const sql = `${pieces.join(' ')};`;
        const open = splitSql(sql).unterminated;
        expect(open === undefined || open === 'parenthesis' ? texts(sql) : 'unterminated').toEqual(pgSplitOrUnterminated(sql));
      }),
      { numRuns: 2000 },
    );
  });
});
