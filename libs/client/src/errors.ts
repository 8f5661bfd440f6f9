// Errors the SDK raises: the server's code (docs/protocol.md) and, for HTTP, its status; 0 when the
// failure is the client's own (network, a malformed answer).
/**
 * A failure the SDK reports: `code` is the server's error code (docs/protocol.md §5, e.g.
 * `PERMISSION_DENIED`) or the client's own (`NETWORK`), `status` the HTTP status (0 when the
 * failure is the client's own or came over the WebSocket).
 */
export class SeqlineError extends Error {
  /** Always `SeqlineError` (or the subclass's name). */
  override name = 'SeqlineError';
  constructor(
    /** The error code. */
    readonly code: string,
    message: string,
    /** The HTTP status, or 0. */
    readonly status: number,
  ) {
    super(message);
  }
}

/** The gateway could not be reached (the write may be queued, the query retried). */
export class NetworkError extends SeqlineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETWORK', message, 0);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
