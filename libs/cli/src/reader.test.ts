import { describe, expect, it } from 'vitest';
import { IncompleteInput, StatementReader, type Ready } from './reader.js';

/** What each pushed line made ready, as `sql@line:column` texts and `\command argument`. */
function feed(reader: StatementReader, lines: readonly string[]): string[][] {
  return lines.map((line) => reader.push(line).map(show));
}

function show(ready: Ready): string {
  if (ready.kind === 'meta') return `\\${ready.command}(${ready.argument})@${ready.position.line}:${ready.position.column}`;
  return ready.statements.map((s) => `${s.text}@${s.position.line}:${s.position.column}`).join(' + ');
}

describe('StatementReader', () => {
  it('gathers lines until a ; ends a statement, with each statement where it starts', () => {
    const reader = new StatementReader();
    expect(reader.pending).toBe('none');
    expect(feed(reader, ['SELECT id,', '  title FROM app.t'])).toEqual([[], []]);
    expect(reader.pending).toBe('statement');
    expect(feed(reader, ['WHERE x = 1; SELECT 2;  SELECT', '3', ';'])).toEqual([['SELECT id,\n  title FROM app.t\nWHERE x = 1@1:1', 'SELECT 2@3:14'], [], ['SELECT\n3@3:25']]);
    expect(reader.pending).toBe('none');
    expect(feed(reader, ['', '-- a comment; still nothing', "  INSERT INTO app.t (s) VALUES ('a;", "b');"])).toEqual([[], [], [], ["INSERT INTO app.t (s) VALUES ('a;\nb')@8:3"]]);
  });

  it('reads a line starting with \\ as a meta-command when no statement is being typed', () => {
    const reader = new StatementReader();
    expect(feed(reader, ['\\dt', '  \\d  app.t  ', 'SELECT', '\\x', ';', '\\q'])).toEqual([['\\dt()@1:1'], ['\\d(app.t)@2:3'], [], [], ['SELECT\n\\x@3:1'], ['\\q()@6:1']]);
  });

  it('holds BEGIN … COMMIT (or ROLLBACK) and makes it ready as one request', () => {
    const reader = new StatementReader();
    expect(feed(reader, ['SELECT 0; BEGIN;', 'INSERT INTO app.t (x) VALUES (1);'])).toEqual([['SELECT 0@1:1'], []]);
    expect(reader.pending).toBe('transaction');
    expect(feed(reader, ['\\dt', 'COMMIT; SELECT 1;'])).toEqual([['\\dt()@3:1'], ['BEGIN@1:11 + INSERT INTO app.t (x) VALUES (1)@2:1 + COMMIT@4:1', 'SELECT 1@4:9']]);
    expect(feed(reader, ['start transaction;', 'rollback;', 'END;'])).toEqual([[], ['start transaction@5:1 + rollback@6:1'], ['END@7:1']]);
  });

  it('runs the statement without a ; at the end of the input', () => {
    const reader = new StatementReader();
    expect(feed(reader, ['SELECT 1;', 'SELECT', '2 -- no semicolon'])).toEqual([['SELECT 1@1:1'], [], []]);
    expect(reader.end().map(show)).toEqual(['SELECT\n2@2:1']);
    expect(reader.end()).toEqual([]);
  });

  it('refuses an input that ends inside a string, a comment or a transaction, running none of it', () => {
    const string = new StatementReader();
    feed(string, ['SELECT 1;', "INSERT INTO app.t (s) VALUES ('open"]);
    expect(() => string.end()).toThrow(new IncompleteInput('the input ends inside a string', { line: 2, column: 1 }));
    const comment = new StatementReader();
    feed(comment, ['SELECT 1; /* never', 'closed']);
    expect(() => comment.end()).toThrow('the input ends inside a comment');
    const transaction = new StatementReader();
    feed(transaction, ['SELECT 1;', 'BEGIN;', 'DELETE FROM app.t WHERE x = 1;']);
    let error: unknown;
    try {
      transaction.end();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(IncompleteInput);
    expect(error).toMatchObject({ message: 'the transaction is not ended (no COMMIT or ROLLBACK): nothing of it was run', position: { line: 2, column: 1 } });
  });

  it('forgets the pending statement and transaction on clear (Ctrl-C)', () => {
    const reader = new StatementReader();
    feed(reader, ['BEGIN;', 'SELECT 1;', 'SELECT']);
    reader.clear();
    expect(reader.pending).toBe('none');
    expect(feed(reader, ['SELECT 2;'])).toEqual([['SELECT 2@4:1']]);
  });
});
