// Transactions in the write service (docs/protocol.md §2, Transactions; docs/architecture.md §3).
// An Execute whose SQL is `BEGIN; s1; …; sn; COMMIT` becomes one op holding s1…sn
// (Op.statements), applied by storage in one savepoint, all or none, with one result.
//
// Why one owner: an op is appended to one shard's ordered log and applied there by one storage
// replica in one PostgreSQL transaction, which is what makes it atomic and ordered (its
// changes get consecutive `_seq` on that shard) without a distributed commit. The statements
// of two owners live on two logs that two replicas apply independently: making both commit
// or neither would take a two-phase commit across shards, and the per-shard order that resume
// relies on would no longer be one log's. So every statement must resolve to the same owner
// (one user's partitions, or the shared tables), and a transaction that does not is refused
// before anything is published.
//
// This file holds the pure parts: the transaction's form and its answer. Statement indexes in
// errors count from BEGIN (0), as the SQL text the gateway sent.
import { ProtocolError, toProtocolError, type DdlResult, type DmlResult } from '@seqline/protocol';
import { classify, type Statement } from '@seqline/sql';

/** A transaction's statements between BEGIN and its end, and whether it ends in COMMIT. */
export interface TransactionBody {
  readonly statements: readonly Statement[];
  readonly commit: boolean;
}

/** Checks `BEGIN; <writes>; COMMIT|ROLLBACK` and returns the writes; INVALID_TRANSACTION names what breaks it. */
export function transactionBody(statements: readonly Statement[], maxStatements: number): TransactionBody {
  const first = statements[0];
  const last = statements.at(-1);
  if (first?.kind !== 'transaction' || first.action !== 'begin') throw new ProtocolError('INVALID_TRANSACTION', 'a transaction starts with BEGIN', { statement: 0 });
  if (statements.length < 2 || last?.kind !== 'transaction' || last.action === 'begin') {
    throw new ProtocolError('INVALID_TRANSACTION', 'BEGIN without COMMIT or ROLLBACK: a transaction must end in the same request', { statement: 0 });
  }
  const body = statements.slice(1, -1);
  for (const [i, stmt] of body.entries()) {
    if (stmt.kind === 'transaction' || classify(stmt) !== 'write') {
      throw new ProtocolError('INVALID_TRANSACTION', 'a transaction holds INSERT, UPDATE and DELETE only', { statement: i + 1 });
    }
  }
  if (body.length > maxStatements) {
    throw new ProtocolError('INVALID_TRANSACTION', `the transaction has ${body.length} statements; at most ${maxStatements} are allowed (SEQLINE_MAX_TRANSACTION_STATEMENTS)`);
  }
  return { statements: body, commit: last.action === 'commit' };
}

/** `err`, as the failure of the transaction's statement at `index` (counted from BEGIN). */
export function statementFailure(err: unknown, index: number): ProtocolError {
  const e = toProtocolError(err);
  return new ProtocolError(e.code, e.message, { cause: err, statement: index });
}

/** Where a statement writes, to tell two owners apart in a refusal. */
export interface Target {
  readonly owner: string;
  readonly namespace: string;
  readonly table: string;
}

/** CROSS_OWNER_TRANSACTION naming the first statement whose owner is not the first statement's; undefined when all share one. */
export function crossOwner(targets: readonly Target[], describe: (t: Target) => string): ProtocolError | undefined {
  const [first] = targets;
  const other = targets.findIndex((t) => t.owner !== first?.owner);
  if (first === undefined || other === -1) return undefined;
  return new ProtocolError(
    'CROSS_OWNER_TRANSACTION',
    `this statement writes ${describe(targets[other]!)}, another owner's partition than the transaction's first write (${describe(first)}): a transaction writes one owner's partitions only (one op on one shard's log); nothing was applied`,
    { statement: other + 1 },
  );
}

export const BEGIN_RESULT: DdlResult = { row_count: 0, message: 'Transaction started' };
export const COMMIT_RESULT: DdlResult = { row_count: 0, message: 'Transaction committed' };
export const ROLLBACK_RESULT: DdlResult = { row_count: 0, message: 'Transaction rolled back' };

/** The answer of a transaction: one result per statement, BEGIN and its end included. */
export function transactionResults(statements: readonly DmlResult[], commit: boolean): readonly (DdlResult | DmlResult)[] {
  return [BEGIN_RESULT, ...statements, commit ? COMMIT_RESULT : ROLLBACK_RESULT];
}

/** A statement of a rolled-back transaction: checked, not applied. */
export function rolledBack(asUser: string): DmlResult {
  return { row_count: 0, message: 'Rolled back (not applied)', as_user: asUser };
}
