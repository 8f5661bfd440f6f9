// Where SQL statements end, for the REPL and `-f`: at a `;` outside string literals
// ('…', E'…' with backslash escapes), quoted identifiers ("…"), dollar quotes ($tag$…$tag$),
// comments (-- to the end of the line, /* … */ nested) and parentheses, as PostgreSQL's scanner
// reads them (the server splits a request at the same places: libs/sql tokens.ts).
//
// Why not that scanner (libpg-query) here: it reports no reason when it fails, so it cannot
// tell "the string is still open, read another line" from a malformed token, which is all a
// prompt needs to know, and it would add 1.8 MB of WebAssembly loaded before every REPL. psql
// keeps its own copy of the lexer for the same reason. statements.test.ts holds this one to
// libpg-query's split on generated input. Pure.

export interface SqlStatement {
  /** From the first token to the end of the last, without the `;` and the comments around. */
  readonly text: string;
  /** Offset of the first token in the text given to splitSql. */
  readonly start: number;
  /** The first word, lower-cased ('' when the statement starts otherwise). */
  readonly keyword: string;
}

/**
 * What is still open at the end of the text: the statement needs more lines. A `line comment`
 * is open only when the text does not end with a newline (Tab completion asks mid-line).
 */
export type Unterminated = 'string' | 'quoted identifier' | 'dollar quote' | 'comment' | 'line comment' | 'parenthesis';

export interface Split {
  /** The statements that ended with a `;`. */
  readonly statements: readonly SqlStatement[];
  /** Offset just after the last of those `;`: what follows is the statement still being typed. */
  readonly rest: number;
  /** The statement after the last `;`, when it has a token. */
  readonly tail?: SqlStatement;
  readonly unterminated?: Unterminated;
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

export function splitSql(text: string): Split {
  const statements: SqlStatement[] = [];
  let first = -1; // the current statement's first token
  let last = -1; // the end of its last token
  let rest = 0;
  let depth = 0;
  const token = (start: number, end: number): void => {
    if (first < 0) first = start;
    last = end;
  };
  const statement = (): SqlStatement => {
    const body = text.slice(first, last);
    return { text: body, start: first, keyword: /^[A-Za-z_]+/.exec(body)?.[0].toLowerCase() ?? '' };
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      const eol = text.indexOf('\n', i);
      if (eol < 0) return open('line comment');
      i = eol + 1;
    } else if (c === '/' && next === '*') {
      const end = blockCommentEnd(text, i);
      if (end < 0) return open('comment');
      i = end;
    } else if (c === "'" || ((c === 'E' || c === 'e') && next === "'")) {
      const end = quotedEnd(text, c === "'" ? i : i + 1, "'", c !== "'");
      if (end < 0) return open('string');
      token(i, end);
      i = end;
    } else if (c === '"') {
      const end = quotedEnd(text, i, '"', false);
      if (end < 0) return open('quoted identifier');
      token(i, end);
      i = end;
    } else if (c === '$' && dollarTag(text, i) !== undefined) {
      const tag = dollarTag(text, i)!;
      const close = text.indexOf(tag, i + tag.length);
      if (close < 0) return open('dollar quote');
      token(i, close + tag.length);
      i = close + tag.length;
    } else if (IDENT_START.test(c)) {
      const start = i;
      while (i < text.length && IDENT_PART.test(text[i]!)) i++;
      token(start, i);
    } else if (c === ';' && depth === 0) {
      if (first >= 0) statements.push(statement());
      first = -1;
      rest = i + 1;
      i++;
    } else {
      if (c === '(') depth++;
      if (c === ')') depth = Math.max(0, depth - 1);
      token(i, i + 1);
      i++;
    }
  }
  return depth > 0 ? open('parenthesis') : done();

  function done(): Split {
    return { statements, rest, ...(first >= 0 ? { tail: statement() } : {}) };
  }
  function open(unterminated: Unterminated): Split {
    return { ...done(), unterminated };
  }
}

/** The `$tag$` (or `$$`) that opens a dollar quote at `at`, if one does. */
function dollarTag(text: string, at: number): string | undefined {
  DOLLAR_TAG.lastIndex = at;
  return DOLLAR_TAG.exec(text)?.[0];
}

// A string followed by blanks with a newline (and -- comments) and another quote goes on there,
// as PostgreSQL reads 'a'<newline>'b': the rest of an E'' string keeps its backslash escapes.
const CONTINUATION = /[ \t\f]*[\n\r](?:[ \t\n\r\f\v]+|--[^\n\r]*[\n\r])*'/y;

/** The offset after the closing quote; -1 when the text ends first. `''` (or `""`) is a quote. */
function quotedEnd(text: string, open: number, quote: string, backslashEscapes: boolean): number {
  let i = open + 1;
  while (i < text.length) {
    const c = text[i];
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === quote && text[i + 1] === quote) i += 2;
    else if (c === quote) {
      CONTINUATION.lastIndex = i + 1;
      if (!backslashEscapes || !CONTINUATION.test(text)) return i + 1;
      i = CONTINUATION.lastIndex;
    } else i++;
  }
  return -1;
}

/** The offset after the `*\/` closing the comment opened at `open` (they nest); -1 if none. */
function blockCommentEnd(text: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < text.length) {
    if (text.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (text.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return -1;
}
