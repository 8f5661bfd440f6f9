// The form of a transaction as the write service takes it, and the refusal of one that spans
// owners: which statement each error names (counted from BEGIN) and with which code.
import { ProtocolError } from '@seqline/protocol';
import { initSql, parseStatements } from '@seqline/sql';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossOwner, transactionBody, transactionResults } from './transaction.js';

beforeAll(async () => {
  await initSql();
});

function refusal(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ProtocolError ? [err.code, err.statement, err.message] : err;
  }
}

describe('transactionBody', () => {
  it('returns the writes between BEGIN and COMMIT, and whether it commits', () => {
    const body = transactionBody(parseStatements("BEGIN; INSERT INTO app.t (id) VALUES (1); EXECUTE AS USER 'bob' (DELETE FROM app.t WHERE id = 2); COMMIT"), 10);
    expect([body.statements.map((s) => s.kind), body.commit]).toEqual([['insert', 'execute_as'], true]);
    expect(transactionBody(parseStatements('BEGIN; UPDATE app.t SET v = 1; ROLLBACK'), 10).commit).toBe(false);
    expect(transactionBody(parseStatements('BEGIN; COMMIT'), 10).statements).toEqual([]);
  });

  it.each([
    ['INSERT INTO app.t (id) VALUES (1); COMMIT', 0, 'a transaction starts with BEGIN'],
    ['BEGIN', 0, 'BEGIN without COMMIT or ROLLBACK: a transaction must end in the same request'],
    ['BEGIN; INSERT INTO app.t (id) VALUES (1)', 0, 'BEGIN without COMMIT or ROLLBACK: a transaction must end in the same request'],
    ['BEGIN; INSERT INTO app.t (id) VALUES (1); BEGIN', 0, 'BEGIN without COMMIT or ROLLBACK: a transaction must end in the same request'],
    ['BEGIN; INSERT INTO app.t (id) VALUES (1); BEGIN; COMMIT', 2, 'a transaction holds INSERT, UPDATE and DELETE only'],
    ['BEGIN; SELECT 1; COMMIT', 1, 'a transaction holds INSERT, UPDATE and DELETE only'],
    ['BEGIN; CREATE NAMESPACE x; COMMIT', 1, 'a transaction holds INSERT, UPDATE and DELETE only'],
  ])('refuses %j with INVALID_TRANSACTION naming statement %i', (sql, index, message) => {
    expect(refusal(() => transactionBody(parseStatements(sql), 10))).toEqual(['INVALID_TRANSACTION', index, message]);
  });

  it('refuses more statements than the limit', () => {
    const sql = `BEGIN; ${Array.from({ length: 4 }, (_, i) => `INSERT INTO app.t (id) VALUES (${i})`).join('; ')}; COMMIT`;
    expect(transactionBody(parseStatements(sql), 4).statements).toHaveLength(4);
    expect(refusal(() => transactionBody(parseStatements(sql), 3))).toEqual(['INVALID_TRANSACTION', undefined, 'the transaction has 4 statements; at most 3 are allowed (SEQLINE_MAX_TRANSACTION_STATEMENTS)']);
  });
});

describe('crossOwner', () => {
  const describeTarget = (t: { owner: string; namespace: string; table: string }): string => `${t.namespace}.${t.table} as ${t.owner}`;

  it('accepts statements of one owner, in any tables', () => {
    expect(crossOwner([], describeTarget)).toBeUndefined();
    expect(crossOwner([{ owner: 'alice', namespace: 'app', table: 't' }, { owner: 'alice', namespace: 'app', table: 'u' }], describeTarget)).toBeUndefined();
  });

  it('refuses the first statement of another owner with CROSS_OWNER_TRANSACTION, counted from BEGIN', () => {
    const targets = [
      { owner: 'alice', namespace: 'app', table: 't' },
      { owner: 'alice', namespace: 'app', table: 'u' },
      { owner: '_shared', namespace: 'app', table: 'rooms' },
      { owner: 'bob', namespace: 'app', table: 't' },
    ];
    const err = crossOwner(targets, describeTarget);
    expect([err?.code, err?.statement, err?.message]).toEqual([
      'CROSS_OWNER_TRANSACTION',
      3,
      "this statement writes app.rooms as _shared, another owner's partition than the transaction's first write (app.t as alice): a transaction writes one owner's partitions only (one op on one shard's log); nothing was applied",
    ]);
  });
});

describe('transactionResults', () => {
  it('answers BEGIN, each statement, then COMMIT or ROLLBACK', () => {
    const dml = { row_count: 1, message: 'Inserted 1 row(s)', as_user: 'alice', seq: '9' };
    expect(transactionResults([dml], true)).toEqual([{ row_count: 0, message: 'Transaction started' }, dml, { row_count: 0, message: 'Transaction committed' }]);
    expect(transactionResults([], false).map((r) => r.message)).toEqual(['Transaction started', 'Transaction rolled back']);
  });
});
