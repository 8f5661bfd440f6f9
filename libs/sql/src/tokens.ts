// Token-level helpers over PostgreSQL's own lexer (libpg-query scanSync). The KalamDB layer in
// front of the parser works on these tokens, never on raw text, so a `;`, a keyword or
// `CURRENT_USER()` inside a string literal, a quoted identifier, a dollar quote or a comment is
// never mistaken for syntax.
//
// libpg-query reports positions as UTF-8 byte offsets; everything here converts them to
// UTF-16 offsets (JavaScript string indices) at once, so callers can slice strings directly.
import { parseSync, scanSync, type ScanToken } from 'libpg-query';
import { SqlError } from './errors.js';

export type TokenType = 'word' | 'quoted_ident' | 'string' | 'integer' | 'number' | 'param' | 'punct' | 'other';

/** PostgreSQL's keyword categories (ScanToken.keywordKind). */
export const KEYWORD_KIND = { none: 0, unreserved: 1, colName: 2, typeFuncName: 3, reserved: 4 } as const;

export interface Token {
  readonly text: string;
  readonly type: TokenType;
  /** Lower-cased text of an unquoted identifier or keyword (type 'word'). */
  readonly word?: string;
  readonly keywordKind: number;
  /** UTF-16 offsets into the scanned text. */
  readonly start: number;
  readonly end: number;
}

const COMMENTS = new Set(['SQL_COMMENT', 'C_COMMENT']);

/** The tokens of `sql` without comments. Lexical errors become SqlError('INVALID_SQL'). */
export function scanTokens(sql: string): Token[] {
  if (sql === '') return []; // scanSync('') throws
  let scanned: ScanToken[];
  try {
    scanned = scanSync(sql).tokens;
  } catch (err) {
    throw lexicalError(sql, err);
  }
  const toChar = charOffsets(sql);
  const tokens: Token[] = [];
  for (const t of scanned) {
    if (COMMENTS.has(t.tokenName)) continue;
    tokens.push(makeToken(t, toChar(t.start), toChar(t.end)));
  }
  return tokens;
}

function makeToken(t: ScanToken, start: number, end: number): Token {
  const base = { text: t.text, keywordKind: t.keywordKind, start, end };
  if (t.keywordKind !== KEYWORD_KIND.none) return { ...base, type: 'word', word: t.text.toLowerCase() };
  switch (t.tokenName) {
    case 'IDENT':
      return t.text.startsWith('"') ? { ...base, type: 'quoted_ident' } : { ...base, type: 'word', word: t.text.toLowerCase() };
    case 'SCONST':
      return { ...base, type: 'string' };
    case 'ICONST':
      return { ...base, type: 'integer' };
    case 'FCONST':
      return { ...base, type: 'number' };
    case 'PARAM':
      return { ...base, type: 'param' };
    default:
      // Single-character tokens have the character's code as their token type.
      return { ...base, type: t.tokenType < 256 && t.text.length === 1 ? 'punct' : 'other' };
  }
}

// scanSync cannot report lexical errors (libpg-query 18.1 JSON-parses the error text and throws
// a SyntaxError), so ask the parser, whose errors carry PostgreSQL's message and position. When
// KalamDB syntax earlier in the text makes the parser stop first, say what kinds of tokens fail.
function lexicalError(sql: string, scanErr: unknown): SqlError {
  try {
    parseSync(sql);
  } catch (err) {
    const converted = fromPgError(err, sql, (p) => p, sql);
    if (!converted.message.startsWith('syntax error')) return converted;
  }
  return new SqlError(
    'INVALID_SQL',
    'SQL could not be tokenized: look for an unterminated string, quoted identifier, dollar quote or comment, or a malformed number',
    { cause: scanErr },
  );
}

/** Splits at `;` tokens outside parentheses; statements without tokens are dropped. */
export function splitStatements(tokens: readonly Token[]): Token[][] {
  const statements: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  for (const t of tokens) {
    if (t.type === 'punct' && depth === 0 && t.text === ';') {
      if (current.length > 0) statements.push(current);
      current = [];
      continue;
    }
    if (t.type === 'punct' && t.text === '(') depth++;
    if (t.type === 'punct' && t.text === ')') depth = Math.max(0, depth - 1);
    current.push(t);
  }
  if (current.length > 0) statements.push(current);
  return statements;
}

export function isWord(t: Token | undefined, ...words: string[]): boolean {
  return t?.word !== undefined && words.includes(t.word);
}

export function isPunct(t: Token | undefined, text: string): boolean {
  return t?.type === 'punct' && t.text === text;
}

/**
 * An identifier as PostgreSQL reads it: unquoted words fold to lower case (reserved keywords
 * are not names), quoted identifiers keep their case. Undefined when the token is no name.
 */
export function identifierOf(t: Token | undefined): string | undefined {
  if (t === undefined) return undefined;
  if (t.type === 'quoted_ident') return t.text.slice(1, -1).replaceAll('""', '"');
  if (t.type === 'word' && t.keywordKind <= KEYWORD_KIND.colName) return t.word;
  return undefined;
}

/** The value of a string literal token ('…', E'…', $$…$$), decoded by PostgreSQL itself. */
export function stringOf(t: Token | undefined): string | undefined {
  if (t?.type !== 'string') return undefined;
  const stmt = parseSync(`SELECT ${t.text}`).stmts?.[0]?.stmt;
  const value = stmt !== undefined && 'SelectStmt' in stmt ? stmt.SelectStmt.targetList?.[0] : undefined;
  const expr = value !== undefined && 'ResTarget' in value ? value.ResTarget.val : undefined;
  if (expr === undefined || !('A_Const' in expr)) return undefined;
  return expr.A_Const.sval?.sval ?? '';
}

/** Describes a token for messages: `"x"`, or `end of input`. */
export function describeToken(t: Token | undefined): string {
  return t === undefined ? 'end of input' : JSON.stringify(t.text);
}

/** Reads a statement's tokens front to back; errors name the statement being read. */
export class Cursor {
  private at = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly what: string,
  ) {}

  peek(ahead = 0): Token | undefined {
    return this.tokens[this.at + ahead];
  }

  next(): Token | undefined {
    const t = this.tokens[this.at];
    if (t !== undefined) this.at++;
    return t;
  }

  /** Consumes the words if the next tokens are exactly them. */
  accept(...words: string[]): boolean {
    if (!words.every((w, i) => isWord(this.peek(i), w))) return false;
    this.at += words.length;
    return true;
  }

  expect(...words: string[]): void {
    if (this.accept(...words)) return;
    throw this.error(`expected ${words.join(' ').toUpperCase()}`);
  }

  /** The rest of the statement must be empty. */
  end(): void {
    if (this.peek() !== undefined) throw this.error('unexpected');
  }

  /** INVALID_SQL: `<statement>: <problem> <next token>`. */
  error(problem: string): SqlError {
    const found = this.peek();
    const where = problem === 'unexpected' ? describeToken(found) : `but found ${describeToken(found)}`;
    return new SqlError('INVALID_SQL', `${this.what}: ${problem} ${where}`);
  }
}

// ---- Text edits --------------------------------------------------------------------------

export interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export interface EditedText {
  readonly text: string;
  /** Maps a UTF-16 offset in `text` back to the source (an edited range maps to its start). */
  readonly toSource: (offset: number) => number;
}

/** `source.slice(start, end)` with non-overlapping edits (sorted by start) applied. */
export function applyEdits(source: string, start: number, end: number, edits: readonly Edit[]): EditedText {
  // Pieces: [offset in the result, offset in the source, copied verbatim?]
  const pieces: [number, number, boolean][] = [];
  let text = '';
  let at = start;
  for (const e of edits) {
    pieces.push([text.length, at, true]);
    text += source.slice(at, e.start);
    pieces.push([text.length, e.start, false]);
    text += e.text;
    at = e.end;
  }
  pieces.push([text.length, at, true]);
  text += source.slice(at, end);
  const toSource = (offset: number): number => {
    let piece = pieces[0] ?? [0, start, true];
    for (const p of pieces) if (p[0] <= offset) piece = p;
    return piece[2] ? piece[1] + (offset - piece[0]) : piece[1];
  };
  return { text, toSource };
}

// ---- PostgreSQL errors and offsets -------------------------------------------------------

/**
 * A libpg-query error as SqlError('INVALID_SQL') with PostgreSQL's message and position: the
 * 1-based character (code point) position in `source`, the caller's whole SQL text. The error
 * is about `text`, which `toSource` maps back to offsets in `source`.
 */
export function fromPgError(err: unknown, text: string, toSource: (offset: number) => number, source: string): SqlError {
  const message = err instanceof Error ? err.message : String(err);
  const details = (err as { sqlDetails?: { cursorPosition?: number } } | undefined)?.sqlDetails;
  if (details?.cursorPosition === undefined) return new SqlError('INVALID_SQL', message, { cause: err });
  // PostgreSQL counts error positions in characters (code points), not bytes.
  const offset = toSource(utf16Offset(text, details.cursorPosition));
  const position = [...source.slice(0, offset)].length + 1;
  return new SqlError('INVALID_SQL', `${message} (position ${position})`, { cause: err });
}

function utf16Offset(text: string, codePoints: number): number {
  let offset = 0;
  for (let n = 0; n < codePoints && offset < text.length; n++) offset += (text.codePointAt(offset) ?? 0) > 0xffff ? 2 : 1;
  return offset;
}

/** A function from UTF-8 byte offsets in `text` (as libpg-query reports them) to UTF-16 offsets. */
export function charOffsets(text: string): (byteOffset: number) => number {
  // eslint-disable-next-line no-control-regex -- a check for pure ASCII, where bytes = chars
  if (/^[\x00-\x7f]*$/.test(text)) return (b) => b;
  const map: number[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i) ?? 0;
    const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < bytes; k++) map.push(i);
    i += cp > 0xffff ? 2 : 1;
  }
  map.push(text.length);
  return (b) => map[b] ?? text.length;
}
