// What the REPL and scripts share: running what the reader made ready (reader.ts), a request
// of SQL or a meta-command, and printing its result. Failures are thrown as SeqlineError; the
// REPL prints them and goes on, a script stops (script.ts).
import { cliError, CLI_ERROR } from './errors.js';
import type { Printer } from './printer.js';
import type { Ready } from './reader.js';

/** POST /v1/api/sql with the session's token; `signal` gives up waiting. */
export type RunSql = (sql: string, signal?: AbortSignal) => Promise<Record<string, unknown>>;

export interface ShellDeps {
  readonly run: RunSql;
  readonly printer: Printer;
  readonly out: (text: string) => void;
}

/** What a handled input asks of the loop. */
export type Next = 'continue' | 'quit';

interface MetaCommand {
  readonly usage: string;
  readonly help: string;
  /** The SQL it runs, or what the loop does next; throws on a bad argument. */
  readonly run: (argument: string, deps: ShellDeps) => { readonly sql: string } | Next;
}

const META: Readonly<Record<string, MetaCommand>> = {
  q: {
    usage: '\\q',
    help: 'quit (Ctrl-D too)',
    run: (argument) => {
      noArgument('q', argument);
      return 'quit';
    },
  },
  '?': {
    usage: '\\?',
    help: 'this list',
    run: (argument, deps) => {
      noArgument('?', argument);
      deps.out(metaHelp());
      return 'continue';
    },
  },
};

/** The meta-commands and the keys, as `\?` prints them. */
export function metaHelp(): string {
  const rows = Object.values(META).map((m) => `  ${m.usage.padEnd(12)} ${m.help}`);
  return [
    'Meta-commands (at the start of a line):',
    ...rows,
    'SQL runs when a ";" ends it; a statement may span lines. BEGIN … COMMIT is sent as one',
    'request when it ends. Tab completes keywords. Ctrl-C cancels the input (or stops',
    'waiting for an answer), Ctrl-D quits.',
    '',
  ].join('\n');
}

export async function handle(ready: Ready, deps: ShellDeps, signal?: AbortSignal): Promise<Next> {
  if (ready.kind === 'sql') {
    deps.printer.print(await deps.run(ready.statements.map((s) => s.text).join(';\n'), signal));
    return 'continue';
  }
  const command = META[ready.command];
  if (command === undefined) throw cliError(CLI_ERROR.badMetaCommand, `unknown command \\${ready.command}: \\? lists the commands`);
  const outcome = command.run(ready.argument, deps);
  if (typeof outcome === 'string') return outcome;
  deps.printer.print(await deps.run(outcome.sql, signal));
  return 'continue';
}

function noArgument(command: string, argument: string): void {
  if (argument !== '') throw cliError(CLI_ERROR.badMetaCommand, `\\${command} takes no argument`);
}
