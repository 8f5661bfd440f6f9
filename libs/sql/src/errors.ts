// Errors of @seqline/sql carry the protocol error code the client will see (docs/protocol.md §2):
// INVALID_SQL, EMPTY_SQL, PARAMS_WITH_BATCH, INVALID_PARAMETER, TABLE_NOT_FOUND,
// PERMISSION_DENIED, UNSUPPORTED. The message says what is wrong, never how the server works.

export const SQL_ERROR_CODES = ['INVALID_SQL', 'EMPTY_SQL', 'PARAMS_WITH_BATCH', 'INVALID_PARAMETER', 'TABLE_NOT_FOUND', 'PERMISSION_DENIED', 'UNSUPPORTED'] as const;
export type SqlErrorCode = (typeof SQL_ERROR_CODES)[number];

export class SqlError extends Error {
  override readonly name = 'SqlError';
  readonly code: SqlErrorCode;

  constructor(code: SqlErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
