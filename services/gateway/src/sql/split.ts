// Splits a batch of SQL statements into their source texts, as PostgreSQL's lexer sees them:
// a `;` ends a statement only outside string literals ('…', E'…' with backslash escapes),
// quoted identifiers ("…"), dollar quotes ($$…$$, $tag$…$tag$), comments (-- and nested
// /* */) and parentheses (EXECUTE AS USER 'u' ( … ) holds a whole statement). Pieces with no
// token (only blanks or comments) are dropped, like empty statements.
//
// Why the gateway splits at all: @seqline/sql's parseStatements returns parsed statements,
// and not every kind carries its source text, while write and storage take one statement as
// text. The gateway parses the whole batch with parseStatements first (that decides validity
// and classes); this only recovers the texts, and dispatch checks the counts agree. When
// @seqline/sql exposes each statement's source slice, this file goes away.

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

/** The statements of `sql`, each trimmed, without the separating `;`. */
export function splitSqlText(sql: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  let hasToken = false;
  let depth = 0;
  let i = 0;
  const flush = (end: number): void => {
    const text = sql.slice(start, end).trim();
    if (hasToken && text !== '') pieces.push(text);
    hasToken = false;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      i = lineEnd(sql, i);
      continue;
    }
    if (c === '/' && next === '*') {
      i = blockCommentEnd(sql, i);
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === ';' && depth === 0) {
      flush(i);
      start = i + 1;
      i++;
      continue;
    }
    hasToken = true;
    if (c === "'") i = quotedEnd(sql, i, "'", isEscapeStringPrefix(sql, i));
    else if (c === '"') i = quotedEnd(sql, i, '"', false);
    else if (c === '$' && !(i > 0 && IDENT_CHAR.test(sql[i - 1]!))) i = dollarEnd(sql, i);
    else if (IDENT_START.test(c)) i = identEnd(sql, i);
    else {
      if (c === '(') depth++;
      else if (c === ')') depth = Math.max(0, depth - 1);
      i++;
    }
  }
  flush(sql.length);
  return pieces;
}

function lineEnd(sql: string, i: number): number {
  const nl = sql.indexOf('\n', i);
  return nl === -1 ? sql.length : nl + 1;
}

/** PostgreSQL block comments nest. */
function blockCommentEnd(sql: string, i: number): number {
  let depth = 0;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

/** `E'…'` (or `e'…'`): the E must be a token of its own, not the end of an identifier. */
function isEscapeStringPrefix(sql: string, quote: number): boolean {
  const e = sql[quote - 1];
  return (e === 'E' || e === 'e') && !(quote >= 2 && IDENT_CHAR.test(sql[quote - 2]!));
}

/** Index after the closing quote; a doubled quote is an escaped one. */
function quotedEnd(sql: string, open: number, quote: string, backslashEscapes: boolean): number {
  let i = open + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return sql.length;
}

/** `$tag$…$tag$` when a tag opens here; otherwise `$` is a parameter sign ($1) or operator. */
function dollarEnd(sql: string, i: number): number {
  const tag = DOLLAR_TAG.exec(sql.slice(i, i + 64))?.[0];
  if (tag === undefined) return i + 1;
  const close = sql.indexOf(tag, i + tag.length);
  return close === -1 ? sql.length : close + tag.length;
}

/** Identifiers and keywords (so the E of E'…' and `a$b` are read as one token). */
function identEnd(sql: string, i: number): number {
  let j = i + 1;
  while (j < sql.length && IDENT_CHAR.test(sql[j]!)) j++;
  return j;
}
