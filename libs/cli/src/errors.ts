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

export function cliError(code: (typeof CLI_ERROR)[keyof typeof CLI_ERROR], message: string, cause?: unknown): SeqlineError {
  const error = new SeqlineError(code, message);
  if (cause !== undefined) error.cause = cause;
  return error;
}
