// Input, line by line, into what to run: the REPL's typed lines, piped stdin and `-f` files go
// through the same reader. Pure.
//
// - A line that starts with `\` while no statement is pending is a meta-command (`\dt`, `\q`).
// - Otherwise lines gather until a `;` ends a statement (statements.ts); each statement is run
//   on its own, so a failure names it and stops a script there.
// - BEGIN (or START TRANSACTION) … COMMIT (or END, ROLLBACK, ABORT): the server runs a
//   transaction within one request, so the statements of the block are held and sent together
//   when it closes.
// Positions are 1-based lines and columns of the input, for error messages.
import { splitSql, type SqlStatement, type Unterminated } from './statements.js';

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface PlacedStatement extends SqlStatement {
  readonly position: Position;
}

export type Ready =
  | { readonly kind: 'meta'; readonly command: string; readonly argument: string; readonly position: Position }
  /** One request: a statement, or a transaction's statements. */
  | { readonly kind: 'sql'; readonly statements: readonly PlacedStatement[] };

/** What the input ends in: a prompt shows it. */
export type Pending = 'none' | 'statement' | 'transaction';

/** The input ended inside something: nothing of it was run. */
export class IncompleteInput extends Error {
  override name = 'IncompleteInput';
  constructor(
    message: string,
    readonly position: Position,
  ) {
    super(message);
  }
}

const CLOSES = new Set(['commit', 'end', 'rollback', 'abort']);

export class StatementReader {
  #buffer = '';
  /** Where #buffer starts in the input. */
  #at: Position = { line: 1, column: 1 };
  #lines = 0;
  #block: PlacedStatement[] | undefined;

  get pending(): Pending {
    if (this.#typing()) return 'statement';
    return this.#block === undefined ? 'none' : 'transaction';
  }

  /** A statement is partly typed (not just blanks and comments). */
  #typing(): boolean {
    const split = splitSql(this.#buffer);
    return split.tail !== undefined || split.unterminated !== undefined;
  }

  /** Takes one line (without its newline); returns what is now ready to run, in order. */
  push(line: string): Ready[] {
    this.#lines++;
    if (!this.#typing() && line.trimStart().startsWith('\\')) {
      this.#buffer = '';
      this.#at = { line: this.#lines + 1, column: 1 };
      return [meta(line, { line: this.#lines, column: line.indexOf('\\') + 1 })];
    }
    if (!/\S/.test(this.#buffer)) {
      this.#buffer = '';
      this.#at = { line: this.#lines, column: 1 };
    }
    this.#buffer += `${line}\n`;
    const split = splitSql(this.#buffer);
    const ready = this.#take(split.statements.map((s) => this.#place(s)));
    this.#at = advance(this.#at, this.#buffer.slice(0, split.rest));
    this.#buffer = this.#buffer.slice(split.rest);
    return ready;
  }

  /**
   * The input ended: the statement without a `;` runs too (as psql does), after what push()
   * returned. Throws IncompleteInput for an open string, comment or transaction.
   */
  end(): Ready[] {
    const split = splitSql(this.#buffer);
    if (split.unterminated !== undefined && split.unterminated !== 'parenthesis' && split.unterminated !== 'line comment') {
      throw new IncompleteInput(`the input ends inside ${article(split.unterminated)}`, split.tail === undefined ? this.#at : this.#place(split.tail).position);
    }
    const ready = split.tail === undefined ? [] : this.#take([this.#place(split.tail)]);
    const block = this.#block;
    this.clear();
    if (block !== undefined) throw new IncompleteInput(`the transaction is not ended (no COMMIT or ROLLBACK): nothing of it was run`, block[0]!.position);
    return ready;
  }

  /** Forgets the pending statement and transaction (Ctrl-C). */
  clear(): void {
    this.#buffer = '';
    this.#block = undefined;
  }

  #place(s: SqlStatement): PlacedStatement {
    return { ...s, position: advance(this.#at, this.#buffer.slice(0, s.start)) };
  }

  #take(statements: readonly PlacedStatement[]): Ready[] {
    const ready: Ready[] = [];
    for (const s of statements) {
      if (this.#block === undefined && (s.keyword === 'begin' || /^start\s+transaction\b/i.test(s.text))) this.#block = [s];
      else if (this.#block !== undefined) {
        this.#block.push(s);
        if (CLOSES.has(s.keyword)) {
          ready.push({ kind: 'sql', statements: this.#block });
          this.#block = undefined;
        }
      } else ready.push({ kind: 'sql', statements: [s] });
    }
    return ready;
  }
}

/** `\d app.t` → command `d`, argument `app.t`. */
function meta(line: string, position: Position): Ready {
  const [, command = '', argument = ''] = /^\s*\\(\S*)\s*(.*?)\s*$/.exec(line) ?? [];
  return { kind: 'meta', command, argument, position };
}

/** The position after `text`, starting at `from`. */
export function advance(from: Position, text: string): Position {
  const newlines = text.split('\n').length - 1;
  if (newlines === 0) return { line: from.line, column: from.column + text.length };
  return { line: from.line + newlines, column: text.length - text.lastIndexOf('\n') };
}

function article(what: Unterminated): string {
  return what === 'string' ? 'a string' : what === 'comment' ? 'a comment' : `a ${what}`;
}
