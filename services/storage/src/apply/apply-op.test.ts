// A transaction op's statements, applied one after the other with ids in statement order, and
// its time budget: checked before each statement, the statement it stops at is named. The
// statements' SQL goes to a recording `exec` (no database: what PostgreSQL does with them is
// the integration tests' part, transaction-ops.int.test.ts).
import type { TableDef } from '@seqline/domain';
import type { busPb } from '@seqline/proto';
import type { ProtocolError } from '@seqline/protocol';
import type { SeqId } from '@seqline/seq';
import { initSql } from '@seqline/sql';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyOp, TransactionStatementError, type ApplyDeps, type Exec } from './apply-op.js';

beforeAll(async () => {
  await initSql();
});

const TABLE: TableDef = {
  namespace: 'app',
  name: 't',
  tableType: 'USER',
  accessLevel: 'PRIVATE',
  deletedRetentionHours: 168,
  columns: [
    { name: 'id', dataType: 'Int', notNull: true, primaryKey: true },
    { name: 'v', dataType: 'Text', notNull: false, primaryKey: false },
  ],
  primaryKey: 'id',
};

const op = (statements: readonly string[]): busPb.Op => ({
  opId: 'tx',
  actor: 'alice',
  actorRole: 'user',
  owner: 'alice',
  namespace: '',
  table: '',
  statement: '',
  paramsJson: '',
  issuedAtUs: 1_795_482_123_456_789n,
  replyTo: '',
  traceparent: '',
  statements: statements.map((statement) => ({ namespace: 'app', table: 't', statement, paramsJson: '[]' })),
});

/** Ids counting up from 100; a clock that `exec` advances by `stepMs` per statement; exec answers each insert's row. */
function harness(stepMs: number, budgetMs: number) {
  let next = 100n;
  const clock = { now: 0 };
  const sent: string[] = [];
  const deps: ApplyDeps = {
    catalog: { table: () => TABLE },
    ids: { take: async (n) => Array.from({ length: n }, () => next++ as SeqId) },
    seqFloor: { value: 0n },
    transactionBudget: { ms: budgetMs, now: () => clock.now },
  };
  // An insert of one row: its row, with the last id taken (its `_seq`; the table has no SNOWFLAKE_ID column).
  const exec: Exec = async (text) => {
    sent.push(text);
    clock.now += stepMs;
    return [{ id: sent.length, v: 'x', _seq: String(next - 1n) }];
  };
  return { deps, exec, sent };
}

describe('a transaction op', () => {
  const inserts = ["INSERT INTO app.t (id, v) VALUES (1, 'a')", "INSERT INTO app.t (id, v) VALUES (2, 'b')", "INSERT INTO app.t (id, v) VALUES (3, 'c')"];

  it('applies its statements in order, each with ids above the one before', async () => {
    const { deps, exec, sent } = harness(10, 1000);
    const applied = await applyOp(exec, op(inserts), deps);
    expect(sent).toHaveLength(3);
    expect([applied.rowCount, applied.message]).toEqual([3, 'Committed 3 statement(s)']);
    expect(applied.statements?.map((s) => [s.table, s.rowCount, s.changes.map((c) => c.seq)])).toEqual([
      ['t', 1, [100n]],
      ['t', 1, [101n]],
      ['t', 1, [102n]],
    ]);
    expect(deps.seqFloor.value).toBe(102n);
  });

  it('stops at the first statement after its time budget is spent, naming it', async () => {
    const { deps, exec, sent } = harness(60, 100);
    const err = await applyOp(exec, op(inserts), deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionStatementError);
    expect((err as TransactionStatementError).index).toBe(2);
    const cause = (err as TransactionStatementError).cause as ProtocolError;
    expect([cause.code, cause.message]).toEqual(['SQL_EXECUTION_ERROR', 'the transaction exceeded its time limit (100 ms for all its statements)']);
    expect(sent).toHaveLength(2);
  });
});
