// parseStatements: SQL text → Statement[] (docs/protocol.md §3). PostgreSQL's own lexer and parser
// (libpg-query) do the work; a thin token-level layer in front handles what KalamDB adds:
//
//   1. scan the whole text once; split at `;` tokens outside parentheses (so `;` in strings,
//      comments, dollar quotes and EXECUTE AS ( … ) never splits);
//   2. route KalamDB-only statements (namespaces, users, EXECUTE AS) to parse-kalam.ts, and
//      SHOW NAMESPACES / SHOW TABLES / DESCRIBE to parse-introspect.ts;
//   3. rewrite tokens PostgreSQL would reject: the USER|SHARED|STREAM of CREATE … TABLE is
//      dropped (and remembered), CURRENT_USER ( ) becomes the keyword current_user, and
//      `default.` becomes `"default".` (default is a reserved word in PostgreSQL);
//   4. parse the rewritten statement with PostgreSQL and map its AST to a Statement (BEGIN,
//      COMMIT and ROLLBACK included: PostgreSQL's grammar also reads START TRANSACTION, END, ABORT).
//
// A DML or SELECT statement keeps `ast` (the statement node) and `text` (the rewritten SQL of
// that one statement; AST locations are UTF-8 byte offsets into `text`). parseBatch also gives
// each statement's source: the caller's text from its first token to its last, as PostgreSQL's
// scanner split it (the one SQL lexer: nothing else splits statements). Error positions in
// messages are 1-based character positions in the whole input.
import { parseSync, scanSync, type Node, type RawStmt } from 'libpg-query';
import { DEFAULT_NAMESPACE, TABLE_TYPES, type TableType } from '@seqline/domain';
import { SqlError } from './errors.js';
import { assertSqlReady } from './init.js';
import { alterUser, createNamespace, createUser, dropNamespace, dropUser, executeAs } from './parse-kalam.js';
import { tableRefOf } from './parse-names.js';
import { describe, show } from './parse-introspect.js';
import { checkQuery, transactionStatement, unsupportedStatement } from './parse-pg.js';
import { alterTable, createTable, dropTable, type TableContext } from './parse-table.js';
import { applyEdits, fromPgError, isPunct, isWord, scanTokens, splitStatements, type Edit, type Token } from './tokens.js';
import type { PgNode, Statement } from './types.js';

export interface ParseOptions {
  /** Namespace of bare table names (the request's namespace_id); default `default`. */
  readonly defaultNamespace?: string | undefined;
}

/** A statement of a batch with its source text (without the `;` and the blanks around it). */
export interface ParsedStatement {
  readonly statement: Statement;
  readonly source: string;
}

// Parsed statements are immutable (readonly types; the rewrite and the planners clone before
// changing anything), so repeated texts, which is what parameterized writes are, are parsed
// once per process. Bounded: least recently used entries go first.
const CACHE_ENTRIES = 2048;
const CACHE_MAX_SQL = 8192;
const cache = new Map<string, readonly ParsedStatement[]>();

export function parseStatements(sql: string, options: ParseOptions = {}): Statement[] {
  return parseBatch(sql, options).map((p) => p.statement);
}

/** The statements of `sql` with each one's source text, split by PostgreSQL's scanner. */
export function parseBatch(sql: string, options: ParseOptions = {}): ParsedStatement[] {
  if (sql.length > CACHE_MAX_SQL) return parseUncached(sql, options);
  const key = `${options.defaultNamespace ?? ''}\0${sql}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return [...hit];
  }
  const parsed = parseUncached(sql, options);
  cache.set(key, parsed);
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return [...parsed];
}

function parseUncached(sql: string, options: ParseOptions): ParsedStatement[] {
  assertSqlReady('parseStatements');
  // The parser reads a C string: whatever follows a NUL would silently vanish.
  if (sql.includes('\0')) throw new SqlError('INVALID_SQL', 'SQL must not contain NUL characters');
  const statements = splitStatements(scanTokens(sql));
  if (statements.length === 0) throw new SqlError('EMPTY_SQL', 'SQL is empty');
  return statements.map((tokens) => ({ statement: parseOne(sql, tokens, options), source: sql.slice(tokens[0]?.start ?? 0, tokens.at(-1)?.end ?? 0) }));
}

// Commands of KalamDB that Seqline does not have; named instead of failing as syntax errors.
const KALAM_ONLY = new Set(['use', 'flush', 'subscribe', 'backup', 'restore', 'kill', 'storage']);

function parseOne(sql: string, tokens: Token[], options: ParseOptions): Statement {
  const [a, b, c] = tokens;
  if (isWord(a, 'create') && isWord(b, 'namespace')) return createNamespace(tokens);
  if (isWord(a, 'drop') && isWord(b, 'namespace')) return dropNamespace(tokens);
  if (isWord(a, 'create') && isWord(b, 'user', 'shared', 'stream') && isWord(c, 'table')) {
    const tableType = TABLE_TYPES.find((t) => t === b?.word?.toUpperCase());
    return parsePg(sql, tokens, options, { start: b?.start ?? 0, end: c?.start ?? 0, text: '' }, tableType);
  }
  if (isWord(a, 'create') && isWord(b, 'user')) return createUser(tokens);
  if (isWord(a, 'alter') && isWord(b, 'user')) return alterUser(tokens);
  if (isWord(a, 'drop') && isWord(b, 'user')) return dropUser(tokens);
  if (isWord(a, 'execute') && isWord(b, 'as')) return executeAs(tokens, (inner) => parseOne(sql, inner, options));
  if (isWord(a, 'show') && isWord(b, 'namespaces', 'tables')) return show(tokens);
  if (isWord(a, 'describe', 'desc')) return describe(tokens, options);
  if (isWord(a, ...KALAM_ONLY) || (isWord(a, 'create', 'alter', 'drop') && isWord(b, 'storage')) || (isWord(a, 'alter') && isWord(b, 'namespace'))) {
    const name = (isWord(a, ...KALAM_ONLY) ? [a] : [a, b]).map((t) => t?.text.toUpperCase()).join(' ');
    throw new SqlError('UNSUPPORTED', `statement ${name} is not supported`);
  }
  return parsePg(sql, tokens, options);
}

function parsePg(sql: string, tokens: readonly Token[], options: ParseOptions, typeEdit?: Edit, tableType?: TableType): Statement {
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  if (first === undefined || last === undefined) throw new SqlError('EMPTY_SQL', 'SQL is empty');
  const edits = [...(typeEdit === undefined ? [] : [typeEdit]), ...tokenRewrites(tokens)];
  const edited = applyEdits(sql, first.start, last.end, edits);
  let stmts: RawStmt[];
  try {
    stmts = parseSync(edited.text).stmts ?? [];
  } catch (err) {
    throw fromPgError(err, edited.text, edited.toSource, sql);
  }
  const stmt = stmts[0]?.stmt;
  if (stmt === undefined || stmts.length !== 1) throw new SqlError('INVALID_SQL', 'expected one statement');
  const ctx: TableContext = {
    ...options,
    ...(tableType === undefined ? {} : { tableType }),
    bareFloatAt: bareFloatLocator(edited.text),
  };
  return fromAst(stmt, edited.text, ctx);
}

function fromAst(stmt: Node, text: string, ctx: TableContext): Statement {
  if ('CreateStmt' in stmt) return createTable(stmt.CreateStmt, ctx);
  if ('AlterTableStmt' in stmt) return alterTable(stmt.AlterTableStmt, ctx);
  if ('DropStmt' in stmt) return dropTable(stmt.DropStmt, ctx);
  const ast = stmt as PgNode;
  if ('SelectStmt' in stmt) {
    checkQuery(stmt);
    return { kind: 'select', ast, text };
  }
  if ('InsertStmt' in stmt) {
    checkQuery(stmt);
    return { kind: 'insert', table: tableRefOf(stmt.InsertStmt.relation, ctx), ast, text };
  }
  if ('UpdateStmt' in stmt) {
    checkQuery(stmt);
    return { kind: 'update', table: tableRefOf(stmt.UpdateStmt.relation, ctx), ast, text };
  }
  if ('DeleteStmt' in stmt) {
    checkQuery(stmt);
    return { kind: 'delete', table: tableRefOf(stmt.DeleteStmt.relation, ctx), ast, text };
  }
  if ('TransactionStmt' in stmt) return transactionStatement(stmt);
  throw unsupportedStatement(stmt);
}

/** CURRENT_USER ( ) → current_user; `default` before `.` → "default". */
function tokenRewrites(tokens: readonly Token[]): Edit[] {
  const edits: Edit[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const next = tokens[i + 1];
    const close = tokens[i + 2];
    if (t === undefined) continue;
    if (isWord(t, 'current_user') && isPunct(next, '(') && isPunct(close, ')') && close !== undefined) {
      edits.push({ start: t.start, end: close.end, text: t.text });
      i += 2;
    } else if (t.type === 'word' && t.word === DEFAULT_NAMESPACE && isPunct(next, '.')) {
      edits.push({ start: t.start, end: t.end, text: `"${DEFAULT_NAMESPACE}"` });
    }
  }
  return edits;
}

// PostgreSQL reads FLOAT as float8, the same as DOUBLE PRECISION; KalamDB's FLOAT is 32-bit.
// Tell them apart by the token at the type's location (FLOAT(p) keeps PostgreSQL's reading).
function bareFloatLocator(text: string): (location: number) => boolean {
  let byStart: Map<number, number> | undefined;
  let tokens: { start: number; text: string }[] = [];
  return (location) => {
    if (byStart === undefined) {
      tokens = scanSync(text).tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT');
      byStart = new Map(tokens.map((t, i) => [t.start, i]));
    }
    const i = byStart.get(location);
    return i !== undefined && tokens[i]?.text.toLowerCase() === 'float' && tokens[i + 1]?.text !== '(';
  };
}
