// How the command line fails. A mistake in the arguments is a UsageError (exit code 2, with
// the command's synopsis); anything else that goes wrong is a SeqlineError from the SDK, the
// server's `{code, message}` or one of the CLI's own codes below (exit code 1).
import { SeqlineError } from '@seqline/client/node';

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The CLI's own failure codes (the server's are in docs/protocol.md). */
export const CLI_ERROR = {
  notLoggedIn: 'NOT_LOGGED_IN',
  sessionExpired: 'SESSION_EXPIRED',
  badCredentialsFile: 'BAD_CREDENTIALS_FILE',
  invalidResponse: 'INVALID_RESPONSE',
  /** A script (-f, piped stdin) ends inside a string, a comment or a transaction. */
  incompleteSql: 'INCOMPLETE_SQL',
  /** A REPL meta-command that does not exist or is misused (`\\x`, `\\d a b`). */
  badMetaCommand: 'BAD_META_COMMAND',
  cannotReadFile: 'CANNOT_READ_FILE',
} as const;

export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The command whose synopsis to show; none for the top level. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** A statement of a script failed: `where` is "file.sql:3:1: statement 2". */
export class ScriptError extends Error {
  override name = 'ScriptError';
  constructor(
    readonly where: string,
    override readonly cause: SeqlineError,
  ) {
    super(`${where}: ${cause.code}: ${cause.message}`, { cause });
  }
}

/** "CODE: message" for a failure the user should see; undefined for a bug (to be thrown). */
export function failureText(err: unknown): string | undefined {
  if (err instanceof ScriptError) return err.message;
  if (err instanceof SeqlineError) return `${err.code}: ${err.message}`;
  const code = (err as { code?: unknown }).code;
  if (err instanceof Error && typeof code === 'string') return `${code}: ${err.message}`; // the system's (a file we cannot write)
  return undefined;
}

export function cliError(code: (typeof CLI_ERROR)[keyof typeof CLI_ERROR], message: string, cause?: unknown): SeqlineError {
  const error = new SeqlineError(code, message);
  if (cause !== undefined) error.cause = cause;
  return error;
}
