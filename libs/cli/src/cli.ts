// `seqline`: parses the arguments, runs the command, and turns every outcome into an exit
// code: 0 done (or a live query stopped with Ctrl-C), 1 failed ("error: CODE: message" on
// stderr), 2 usage error (the message and the command's synopsis), 130 interrupted.
import { parseCommand, type Command, type ConnectionFlags } from './args.js';
import { EXIT, failureText, UsageError, type ExitCode } from './errors.js';
import { runGenTypes } from './gen-types.js';
import { helpText, SYNOPSIS } from './help.js';
import type { Io } from './io.js';
import { runLive } from './live.js';
import { runLogin } from './login.js';
import { resolveTarget, Session } from './session.js';
import { runSql } from './sql.js';

export async function run(argv: readonly string[], io: Io, version: string): Promise<ExitCode> {
  if (argv.length === 0) {
    io.err(helpText());
    return EXIT.usage;
  }
  let command: Command | undefined;
  try {
    command = parseCommand(argv);
    return await dispatch(command, io, version);
  } catch (err) {
    return report(err, io, command?.kind);
  }
}

async function dispatch(command: Command, io: Io, version: string): Promise<ExitCode> {
  switch (command.kind) {
    case 'help':
      io.out(helpText(command.command));
      return EXIT.ok;
    case 'version':
      io.out(`seqline ${version}\n`);
      return EXIT.ok;
    case 'login':
      return untilInterrupted(runLogin(command.connection, io), io.signal);
    case 'sql': {
      const session = await openSession(command.connection, io);
      return untilInterrupted(runSql(command, session, io), io.signal);
    }
    case 'live':
      return runLive(command, await openSession(command.connection, io), io);
    case 'gen_types': {
      const session = await openSession(command.connection, io);
      return untilInterrupted(runGenTypes({ bigint: command.bigint, ...(command.namespace === undefined ? {} : { namespace: command.namespace }) }, session, io), io.signal);
    }
  }
}

async function openSession(flags: ConnectionFlags, io: Io): Promise<Session> {
  return new Session(resolveTarget(flags, io.env, await io.credentials.load()), io);
}

/** The command's outcome, or 130 as soon as Ctrl-C is pressed. */
function untilInterrupted(work: Promise<void>, signal: AbortSignal): Promise<ExitCode> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(EXIT.interrupted);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => resolve(EXIT.ok),
      (err: unknown) => reject(err as Error),
    ).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A failure as the user sees it; anything else is a bug and is thrown (with its stack). */
function report(err: unknown, io: Io, running: Command['kind'] | undefined): ExitCode {
  if (err instanceof UsageError) {
    const command = err.command ?? (running !== undefined && running in SYNOPSIS ? running : undefined);
    const usage = command === undefined ? 'seqline <login|sql|live|gen> [options]' : SYNOPSIS[command as keyof typeof SYNOPSIS];
    io.err(`error: ${err.message}\nusage: ${usage}\n(see seqline ${command === undefined ? '' : `${command} `}--help)\n`);
    return EXIT.usage;
  }
  const failure = failureText(err);
  if (failure === undefined) throw err;
  io.err(`error: ${failure}\n`);
  return EXIT.failure;
}
