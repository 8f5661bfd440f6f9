// What the REPL and scripts share: running what the reader made ready (reader.ts), a request
// of SQL or a meta-command (meta.ts), and printing its result. Failures are thrown as
// SeqlineError; the REPL prints them and goes on, a script stops (script.ts).
import { cliError, CLI_ERROR } from './errors.js';
import { META, project, type Next } from './meta.js';
import type { Printer } from './printer.js';
import type { Ready } from './reader.js';

/** POST /v1/api/sql with the session's token; `signal` gives up waiting. */
export type RunSql = (sql: string, signal?: AbortSignal) => Promise<Record<string, unknown>>;

export interface ShellDeps {
  readonly run: RunSql;
  readonly printer: Printer;
  readonly out: (text: string) => void;
}

export async function handle(ready: Ready, deps: ShellDeps, signal?: AbortSignal): Promise<Next> {
  if (ready.kind === 'sql') {
    deps.printer.print(await deps.run(ready.statements.map((s) => s.text).join(';\n'), signal));
    return 'continue';
  }
  const command = META[ready.command];
  if (command === undefined) throw cliError(CLI_ERROR.badMetaCommand, `unknown command \\${ready.command}: \\? lists the commands`);
  const outcome = command.run(ready.argument, deps.out);
  if (typeof outcome === 'string') return outcome;
  const body = await deps.run(outcome.sql, signal);
  deps.printer.print(project(body, outcome.columns));
  return 'continue';
}
