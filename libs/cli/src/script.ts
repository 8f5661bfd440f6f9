// A script: `seqline sql -f FILE`, or SQL piped into `seqline sql` (no prompts). Its lines go
// through the REPL's reader and shell; the first failure stops it, naming where the failing
// statement starts ("file.sql:12:1: statement 3: CODE: message", exit code 1), and nothing
// after it runs. A script that ends inside a string, a comment or a transaction fails the same
// way, without running the unfinished part.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { SeqlineError } from '@seqline/client/node';
import { cliError, CLI_ERROR, ScriptError } from './errors.js';
import { IncompleteInput, StatementReader, type Position, type Ready } from './reader.js';
import { handle, type ShellDeps } from './shell.js';

export async function runScript(name: string, lines: AsyncIterable<string> | Iterable<string>, deps: ShellDeps): Promise<void> {
  const reader = new StatementReader();
  let statements = 0;
  /** Runs one input; true when it says quit. */
  const run = async (ready: Ready): Promise<boolean> => {
    const first = statements + 1;
    if (ready.kind === 'sql') statements += ready.statements.length;
    try {
      return (await handle(ready, deps)) === 'quit';
    } catch (err) {
      if (!(err instanceof SeqlineError)) throw err;
      if (ready.kind === 'meta') throw new ScriptError(`${at(name, ready.position)}: \\${ready.command}`, err);
      const which = ready.statements.length === 1 ? `statement ${first}` : `statements ${first}-${statements} (a transaction)`;
      throw new ScriptError(`${at(name, ready.statements[0]!.position)}: ${which}`, err);
    }
  };
  for await (const line of lines) {
    for (const ready of reader.push(line)) if (await run(ready)) return;
  }
  let rest: Ready[];
  try {
    rest = reader.end();
  } catch (err) {
    if (err instanceof IncompleteInput) throw new ScriptError(at(name, err.position), cliError(CLI_ERROR.incompleteSql, err.message));
    throw err;
  }
  for (const ready of rest) if (await run(ready)) return;
}

/** A file's lines (its text read whole: scripts are small). */
export function fileLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** A stream's lines as they arrive (piped stdin). */
export function streamLines(input: Readable): AsyncIterable<string> {
  return createInterface({ input, terminal: false, crlfDelay: Infinity });
}

function at(name: string, position: Position): string {
  return `${name}:${position.line}:${position.column}`;
}
