// Prints each request's answer as --format says: an aligned table (format.ts), the `results`
// JSON as the server sent it (one line per request, 64-bit integers exact), or CSV (csv.ts,
// the server's messages on stderr). A script's results are separated by an empty line; the
// REPL's each end with one, before the next prompt.
import { stringifyJsonLossless } from '@seqline/seq';
import { formatCsv } from './csv.js';
import { formatResults, parseResults, type Format } from './format.js';
import type { Io } from './io.js';

export type Layout = 'script' | 'repl';

export class Printer {
  readonly #format: Format;
  readonly #layout: Layout;
  readonly #io: Pick<Io, 'out' | 'err'>;
  #printed = false;

  constructor(format: Format, layout: Layout, io: Pick<Io, 'out' | 'err'>) {
    this.#format = format;
    this.#layout = layout;
    this.#io = io;
  }

  /** Prints the answer of POST /v1/api/sql. */
  print(body: Record<string, unknown>): void {
    const results = body['results'];
    switch (this.#format) {
      case 'json':
        return this.#io.out(`${stringifyJsonLossless(results ?? [])}\n`);
      case 'table':
        return this.#write(formatResults(parseResults(results)), '\n');
      case 'csv': {
        const { csv, messages } = formatCsv(parseResults(results));
        if (csv !== '') this.#write(csv, '\r\n');
        for (const message of messages) this.#io.err(`${message}\n`);
      }
    }
  }

  #write(text: string, blank: string): void {
    if (this.#layout === 'repl') return this.#io.out(`${text}${blank}`);
    this.#io.out(this.#printed ? `${blank}${text}` : text);
    this.#printed = true;
  }
}
