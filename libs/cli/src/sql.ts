// `seqline sql`: SQL given as an argument goes to POST /v1/api/sql as one request and each
// statement's result is printed (printer.ts); `-f FILE` and piped stdin run as a script
// (script.ts: a request per statement or transaction, stopping at the first failure); stdin on
// a terminal opens the REPL (repl.ts).
import { SeqlineError } from '@seqline/client/node';
import type { Command } from './args.js';
import { Catalog } from './catalog.js';
import { cliError, CLI_ERROR } from './errors.js';
import { postJson } from './http.js';
import type { Io } from './io.js';
import { Printer } from './printer.js';
import { runRepl } from './repl.js';
import { fileLines, runScript, streamLines } from './script.js';
import type { Session } from './session.js';
import type { RunSql, ShellDeps } from './shell.js';

type SqlCommand = Extract<Command, { kind: 'sql' }>;

export async function runSql(command: SqlCommand, session: Session, io: Io): Promise<void> {
  const run: RunSql = (sql, signal) => execute(sql, session, io, signal);
  const { input, format } = command;
  const deps = (layout: 'script' | 'repl'): ShellDeps => ({ run, printer: new Printer(format, layout, io), out: io.out });
  switch (input.kind) {
    case 'text':
      return deps('script').printer.print(await run(input.sql));
    case 'file':
      return runScript(input.path, fileLines(await readScript(io, input.path)), deps('script'));
    case 'stdin':
      if (io.stdin.isTTY !== true) return runScript('<stdin>', streamLines(io.stdin), deps('script'));
      return runRepl({ ...deps('repl'), input: io.stdin, output: io.stdout, err: io.err, history: io.history, signal: io.signal, catalog: new Catalog(run) });
  }
}

async function readScript(io: Io, path: string): Promise<string> {
  try {
    return await io.readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw cliError(CLI_ERROR.cannotReadFile, `cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`, err);
  }
}

/** Runs SQL once; a token the gateway says expired (its clock ahead of ours) is renewed once. */
export async function execute(sql: string, session: Session, io: Io, signal?: AbortSignal, renewed = false): Promise<Record<string, unknown>> {
  try {
    return await postJson(io.fetch, `${session.url}/v1/api/sql`, { sql }, renewed ? await session.renew() : await session.token(), signal);
  } catch (err) {
    if (!renewed && err instanceof SeqlineError && err.code === 'TOKEN_EXPIRED') return execute(sql, session, io, signal, true);
    throw err;
  }
}
