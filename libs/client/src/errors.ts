// Errors the SDK raises. Every failure is a SeqlineError with a `code`: the server's
// (docs/protocol.md §2 for HTTP, §4 for the WebSocket) or one of the client's own below, and
// `status`, the HTTP status when an HTTP answer carried the error.

/** The client's own failure codes; every other code is the server's. */
export const CLIENT_ERROR = {
  /** The gateway could not be reached. */
  network: 'NETWORK',
  /** No answer within `requestTimeoutMs`. */
  timeout: 'TIMEOUT',
  /** The client was closed (`close()`, `clear()`, or a fatal error) before or while asking. */
  closed: 'CLOSED',
  /** The gateway's answer was not what the protocol says. */
  protocol: 'PROTOCOL',
} as const;

export class SeqlineError extends Error {
  override name = 'SeqlineError';
  /** The HTTP status of the answer that carried the error; absent when there was none. */
  readonly status?: number;

  constructor(
    readonly code: string,
    message: string,
    status?: number,
    options?: { readonly cause?: unknown },
  ) {
    super(message);
    if (status !== undefined) this.status = status;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** The statement of a request the server named as the one that failed (a transaction's). */
export interface FailedStatement {
  /** Its index among the request's statements, from 0 (BEGIN counts). */
  readonly statementIndex: number;
  /** Its text. */
  readonly statement?: string;
}

/** The server refused the request or the subscription; `code` says why. */
export class ServerError extends SeqlineError {
  override name = 'ServerError';
  /** The failing statement's index in the request, when the server named it (a transaction's statement). */
  readonly statementIndex?: number;
  /** The failing statement's text, when the server named it. */
  readonly statement?: string;

  constructor(code: string, message: string, status?: number, failed?: FailedStatement) {
    super(code, message, status);
    if (failed !== undefined) {
      this.statementIndex = failed.statementIndex;
      if (failed.statement !== undefined) this.statement = failed.statement;
    }
  }
}

/** The server refused the credentials (HTTP 401, or the WebSocket's `auth_error` / close 4001). */
export class AuthError extends ServerError {
  override name = 'AuthError';
}

/** The gateway could not be reached (the write may be queued, the query retried). */
export class NetworkError extends SeqlineError {
  override name = 'NetworkError';
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(CLIENT_ERROR.network, message, undefined, options);
  }
}

/** The gateway did not answer in time; a write may or may not have been applied (its idempotency key makes a resend safe). */
export class TimeoutError extends SeqlineError {
  override name = 'TimeoutError';
  constructor(message: string) {
    super(CLIENT_ERROR.timeout, message);
  }
}

export class ClosedError extends SeqlineError {
  override name = 'ClosedError';
  constructor(message = 'the client is closed') {
    super(CLIENT_ERROR.closed, message);
  }
}

export class ProtocolError extends SeqlineError {
  override name = 'ProtocolError';
  constructor(message: string, status?: number) {
    super(CLIENT_ERROR.protocol, message, status);
  }
}

/** The server's `{code, message}` as the matching class (an HTTP 401 is an AuthError). */
export function serverError(code: string, message: string, status?: number, failed?: FailedStatement): ServerError {
  return status === 401 ? new AuthError(code, message, status) : new ServerError(code, message, status, failed);
}

/** The request never got an answer: worth sending again later (with the same idempotency key). */
export function unanswered(err: unknown): err is NetworkError | TimeoutError {
  return err instanceof NetworkError || err instanceof TimeoutError;
}
