// The REPL: `seqline sql` on a terminal. node:readline edits the line, keeps the history
// (history.ts) and asks complete.ts on Tab (with catalog.ts's tables); reader.ts gathers lines into statements and
// shell.ts runs them. A failure is printed ("error: CODE: message") and the REPL goes on.
//
// Prompts: "seqline> " with nothing pending, "seqline-> " inside a statement, "seqline*> "
// inside BEGIN … (the block is sent when COMMIT or ROLLBACK ends it).
// Keys: Ctrl-C discards the pending input, or while a request runs stops waiting for it (the
// server may still complete it); Ctrl-D on an empty line quits, as \q does.
import { createInterface, type AsyncCompleter, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Catalog } from './catalog.js';
import { complete } from './complete.js';
import { failureText } from './errors.js';
import type { HistoryStore } from './history.js';
import { HISTORY_SIZE } from './history.js';
import { StatementReader, type Pending, type Ready } from './reader.js';
import { handle, type ShellDeps } from './shell.js';

export interface ReplDeps extends ShellDeps {
  readonly input: Readable;
  readonly output: Writable;
  readonly err: (text: string) => void;
  readonly history: HistoryStore;
  /** The tables and columns Tab completes. */
  readonly catalog: Catalog;
  /** Aborted by SIGTERM (or a SIGINT from outside the terminal): the REPL closes. */
  readonly signal: AbortSignal;
}

const PROMPTS: Readonly<Record<Pending, string>> = { none: 'seqline> ', statement: 'seqline-> ', transaction: 'seqline*> ' };

export async function runRepl(deps: ReplDeps): Promise<void> {
  await new Repl(deps, await deps.history.load()).run();
}

// Lines go into the reader as readline emits them (so a Ctrl-C right after Enter discards what
// was entered), and what they make ready is run one at a time from #queue.
class Repl {
  readonly #deps: ReplDeps;
  readonly #reader = new StatementReader();
  readonly #rl: Interface;
  /** Ready to run, in order; the first is running while #running is set. */
  #queue: Ready[] = [];
  #running: AbortController | undefined;
  /** The lines of the pending statement, for completion. */
  #typed = '';
  /** Ctrl-D (or SIGTERM): what is queued still runs, then run() ends; \q ends it at once. */
  #closed = false;
  #quit = false;
  #ended: () => void = () => {};
  #saved = Promise.resolve();

  constructor(deps: ReplDeps, history: string[]) {
    this.#deps = deps;
    const completer: AsyncCompleter = (line, callback) => {
      deps.catalog.tables().then(
        (tables) => callback(null, complete(line, this.#typed, tables)),
        () => callback(null, complete(line, this.#typed, [])),
      );
    };
    this.#rl = createInterface({ input: deps.input, output: deps.output, terminal: true, history, historySize: HISTORY_SIZE, removeHistoryDuplicates: true, completer });
    this.#rl.on('history', (lines) => {
      this.#saved = deps.history.save(lines).catch((err: unknown) => deps.err(`warning: history not saved: ${failureText(err) ?? String(err)}\n`));
    });
    this.#rl.on('line', (line) => this.#line(line));
    this.#rl.on('SIGINT', () => this.#interrupt());
    this.#rl.once('close', () => {
      this.#closed = true;
      if (this.#running === undefined) this.#end();
    });
  }

  async run(): Promise<void> {
    const close = (): void => this.#rl.close();
    this.#deps.signal.addEventListener('abort', close, { once: true });
    this.#deps.out('seqline: type SQL ending with ";", \\? for help, \\q to quit\n');
    const ended = new Promise<void>((resolve) => (this.#ended = resolve));
    this.#prompt();
    try {
      await ended;
      if (this.#reader.pending !== 'none') this.#deps.err('(the pending input was not run)\n');
    } finally {
      this.#deps.signal.removeEventListener('abort', close);
      await this.#saved;
    }
  }

  #line(line: string): void {
    this.#queue.push(...this.#reader.push(line));
    this.#typed = this.#reader.pending === 'statement' ? `${this.#typed}${line}\n` : '';
    if (this.#running === undefined) void this.#work();
  }

  async #work(): Promise<void> {
    for (let ready = this.#queue.shift(); ready !== undefined; ready = this.#queue.shift()) {
      const running = (this.#running = new AbortController());
      const next = await handle(ready, this.#deps, running.signal).catch((err: unknown) => report(err, running.signal, this.#deps));
      this.#running = undefined;
      if (ready.kind === 'sql') this.#deps.catalog.ran(ready.statements.map((s) => s.keyword));
      if (next === 'quit') {
        this.#quit = true;
        this.#queue = [];
        return this.#rl.close();
      }
    }
    if (this.#closed) return this.#end();
    this.#prompt();
  }

  #end(): void {
    if (!this.#quit) this.#deps.out('\n'); // Ctrl-D: the shell's prompt on a line of its own
    this.#ended();
  }

  #interrupt(): void {
    this.#queue = [];
    if (this.#running !== undefined) return this.#running.abort();
    this.#reader.clear();
    this.#typed = '';
    // readline's own way to end the line being edited and start an empty one (Node's REPL
    // does the same on Ctrl-C); there since Node 0.x, missing from @types/node.
    (this.#rl as Interface & { clearLine(): void }).clearLine();
    this.#prompt();
  }

  #prompt(): void {
    if (this.#closed) return;
    this.#rl.setPrompt(PROMPTS[this.#reader.pending]);
    this.#rl.prompt();
  }
}

function report(err: unknown, signal: AbortSignal | undefined, deps: ReplDeps): 'continue' {
  if (signal?.aborted === true) {
    deps.err('cancelled: stopped waiting for the answer (the server may still complete the statement)\n');
    return 'continue';
  }
  const failure = failureText(err);
  if (failure === undefined) throw err;
  deps.err(`error: ${failure}\n`);
  return 'continue';
}
