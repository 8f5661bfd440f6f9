// What parse accepts of PostgreSQL's own statements besides table DDL: SELECT, INSERT, UPDATE
// and DELETE, without the parts that would write elsewhere or lock (SELECT … INTO, FOR UPDATE /
// FOR SHARE, WITH on a write, data-modifying statements inside WITH). Every other statement is
// UNSUPPORTED, named in words.
import type { Node } from 'libpg-query';
import { SqlError } from './errors.js';
import { words } from './parse-table.js';
import type { Statement } from './types.js';

/** Refuses SELECT … INTO, row locking anywhere, WITH on DML, and data-modifying CTEs. */
export function checkQuery(stmt: Node): void {
  if ('SelectStmt' in stmt && stmt.SelectStmt.intoClause !== undefined) {
    throw new SqlError('UNSUPPORTED', 'SELECT … INTO is not supported');
  }
  const dml = 'InsertStmt' in stmt ? stmt.InsertStmt : 'UpdateStmt' in stmt ? stmt.UpdateStmt : 'DeleteStmt' in stmt ? stmt.DeleteStmt : undefined;
  if (dml?.withClause !== undefined) throw new SqlError('UNSUPPORTED', 'WITH is not supported on INSERT, UPDATE or DELETE');
  walk(stmt);
}

function walk(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    if (key === 'lockingClause') throw new SqlError('UNSUPPORTED', 'row locking (FOR UPDATE, FOR SHARE) is not supported');
    if (key === 'intoClause') throw new SqlError('UNSUPPORTED', 'SELECT … INTO is not supported');
    if (key === 'CommonTableExpr') {
      const query = (child as { ctequery?: object }).ctequery;
      if (query !== undefined && !('SelectStmt' in query)) {
        throw new SqlError('UNSUPPORTED', 'data-modifying statements in WITH are not supported');
      }
    }
    walk(child);
  }
}

const TRANSACTION_KINDS: Partial<Record<string, 'begin' | 'commit' | 'rollback'>> = {
  TRANS_STMT_BEGIN: 'begin',
  TRANS_STMT_START: 'begin',
  TRANS_STMT_COMMIT: 'commit',
  TRANS_STMT_ROLLBACK: 'rollback',
};

/**
 * BEGIN [WORK|TRANSACTION] / START TRANSACTION, COMMIT / END, ROLLBACK / ABORT. Savepoints,
 * two-phase commit, AND CHAIN and transaction modes (ISOLATION LEVEL, READ ONLY…) are
 * UNSUPPORTED: a transaction is applied as one op on its owner's ordered log, which is already
 * serial (docs/architecture.md §3).
 */
export function transactionStatement(stmt: Extract<Node, { TransactionStmt: unknown }>): Statement {
  const { kind = '', options, chain } = stmt.TransactionStmt;
  const action = TRANSACTION_KINDS[kind];
  if (action === undefined) throw unsupportedStatement(stmt);
  if (options !== undefined && options.length > 0) throw new SqlError('UNSUPPORTED', `${statementName(stmt)} with transaction modes (ISOLATION LEVEL, READ ONLY, DEFERRABLE) is not supported`);
  if (chain === true) throw new SqlError('UNSUPPORTED', `${statementName(stmt)} AND CHAIN is not supported`);
  return { kind: 'transaction', action };
}

const NAMES: Partial<Record<string, string>> = {
  VariableShowStmt: 'SHOW',
  CreateSchemaStmt: 'CREATE SCHEMA (use CREATE NAMESPACE)',
  IndexStmt: 'CREATE INDEX',
  ViewStmt: 'CREATE VIEW',
  CreateSeqStmt: 'CREATE SEQUENCE',
  AlterSeqStmt: 'ALTER SEQUENCE',
  CreateTrigStmt: 'CREATE TRIGGER',
  CreatedbStmt: 'CREATE DATABASE',
  DropdbStmt: 'DROP DATABASE',
  CheckPointStmt: 'CHECKPOINT',
  RenameStmt: 'ALTER … RENAME',
  AlterObjectSchemaStmt: 'ALTER … SET SCHEMA',
  AlterOwnerStmt: 'ALTER … OWNER TO',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW',
  CreateEnumStmt: 'CREATE TYPE',
  CompositeTypeStmt: 'CREATE TYPE',
  DefineStmt: 'CREATE AGGREGATE/OPERATOR/TYPE',
  ClosePortalStmt: 'CLOSE',
  DeclareCursorStmt: 'DECLARE',
  FetchStmt: 'FETCH',
};

export function unsupportedStatement(stmt: Node): SqlError {
  return new SqlError('UNSUPPORTED', `statement ${statementName(stmt)} is not supported`);
}

/** A PostgreSQL statement node named in SQL words: `{ GrantStmt }` → `GRANT`. */
export function statementName(stmt: Node): string {
  const [key = 'unknown'] = Object.keys(stmt);
  const named = NAMES[key];
  if (named !== undefined) return named;
  if ('VariableSetStmt' in stmt) return stmt.VariableSetStmt.kind?.startsWith('VAR_RESET') === true ? 'RESET' : 'SET';
  if ('TransactionStmt' in stmt) {
    const kind = stmt.TransactionStmt.kind;
    return kind === 'TRANS_STMT_START' ? 'START TRANSACTION' : words(kind ?? '', 'TRANS_STMT_');
  }
  if ('GrantStmt' in stmt) return stmt.GrantStmt.is_grant === true ? 'GRANT' : 'REVOKE';
  if ('GrantRoleStmt' in stmt) return stmt.GrantRoleStmt.is_grant === true ? 'GRANT' : 'REVOKE';
  if ('VacuumStmt' in stmt) return stmt.VacuumStmt.is_vacuumcmd === true ? 'VACUUM' : 'ANALYZE';
  if ('CreateFunctionStmt' in stmt) return stmt.CreateFunctionStmt.is_procedure === true ? 'CREATE PROCEDURE' : 'CREATE FUNCTION';
  if ('CreateTableAsStmt' in stmt) {
    return stmt.CreateTableAsStmt.objtype === 'OBJECT_MATVIEW' ? 'CREATE MATERIALIZED VIEW' : 'CREATE TABLE … AS';
  }
  return words(key.replace(/Stmt$/, ''), '');
}
