// Transactions in POST /v1/api/sql (docs/protocol.md §2, Transactions): BEGIN; …; COMMIT (or
// ROLLBACK) inside one request. This file finds them in a parsed request, before anything
// runs, and refuses the forms that are not one: a BEGIN without its COMMIT or ROLLBACK in the
// same request, a nested BEGIN, a COMMIT or ROLLBACK without BEGIN, and statements a
// transaction cannot hold. A transaction holds INSERT, UPDATE and DELETE (EXECUTE AS USER of
// them included): it is applied as one op on its owner's ordered log, so reads (which storage
// answers outside the log, from committed state) and DDL or user management (which are not
// per-owner) cannot be part of it. Reads go before BEGIN or after COMMIT in the same request.
//
// The write service checks the rest (the catalog, the role, one owner for every statement) and
// applies it; this file is pure.
import { ProtocolError } from '@seqline/protocol';
import type { ParsedStatement, Statement, StatementClass } from '@seqline/sql';

/** A run of the request's statements: one statement alone, or a whole transaction. */
export type Span =
  | { readonly kind: 'statement'; readonly index: number; readonly parsed: ParsedStatement }
  /** `statements` from BEGIN to COMMIT or ROLLBACK, both included; `index` is BEGIN's. */
  | { readonly kind: 'transaction'; readonly index: number; readonly statements: readonly ParsedStatement[] };

/**
 * The request's statements as spans, in order. Throws INVALID_TRANSACTION naming (by its index,
 * ProtocolError.statement) the first statement that breaks a transaction's form.
 */
export function spansOf(statements: readonly ParsedStatement[], classify: (stmt: Statement) => StatementClass): Span[] {
  const spans: Span[] = [];
  let open: { index: number; statements: ParsedStatement[] } | undefined;
  for (const [index, parsed] of statements.entries()) {
    const stmt = parsed.statement;
    if (stmt.kind === 'transaction') {
      if (stmt.action === 'begin') {
        if (open !== undefined) throw refused(`BEGIN inside the transaction begun at statement ${open.index}: transactions do not nest`, index);
        open = { index, statements: [parsed] };
        continue;
      }
      const word = stmt.action === 'commit' ? 'COMMIT' : 'ROLLBACK';
      if (open === undefined) throw refused(`${word} without BEGIN: no transaction is open`, index);
      open.statements.push(parsed);
      spans.push({ kind: 'transaction', index: open.index, statements: open.statements });
      open = undefined;
      continue;
    }
    if (open === undefined) {
      spans.push({ kind: 'statement', index, parsed });
      continue;
    }
    const refusal = refusalInTransaction(stmt, classify(stmt));
    if (refusal !== undefined) throw refused(refusal, index);
    open.statements.push(parsed);
  }
  if (open !== undefined) throw refused('BEGIN without COMMIT or ROLLBACK: a transaction must end in the same request', open.index);
  return spans;
}

function refused(message: string, index: number): ProtocolError {
  return new ProtocolError('INVALID_TRANSACTION', message, { statement: index });
}

function refusalInTransaction(stmt: Statement, cls: StatementClass): string | undefined {
  switch (cls) {
    case 'write':
      return undefined;
    case 'read':
      return 'a transaction holds INSERT, UPDATE and DELETE only: run SELECT before BEGIN or after COMMIT';
    case 'ddl':
    case 'user':
      return `a transaction holds INSERT, UPDATE and DELETE only, not ${stmt.kind.replaceAll('_', ' ').toUpperCase()}`;
    case 'transaction':
      return undefined; // handled by the caller
  }
}

/**
 * The SQL a transaction is sent to the write service as: its statements joined with `;`, each
 * DML in its parser-normalized text (what a single statement is sent as) and the rest as the
 * client wrote it.
 */
export function transactionSql(statements: readonly ParsedStatement[]): string {
  return statements.map(({ statement: s, source }) => (s.kind === 'insert' || s.kind === 'update' || s.kind === 'delete' ? s.text : s.kind === 'transaction' ? s.action.toUpperCase() : source)).join(';\n');
}
