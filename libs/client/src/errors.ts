// Errors the SDK raises: the server's code (docs/protocol.md) and, for HTTP, its status; 0 when the
// failure is the client's own (network, a malformed answer).
export class SeqlineError extends Error {
  override name = 'SeqlineError';
  constructor(
    readonly code: string,
    message: string,
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
