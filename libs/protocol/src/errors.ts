// The one table of error codes (docs/protocol.md §2, §4): each code with its HTTP status and the
// gRPC status it travels as between services; codes that only the WebSocket answers with have
// an HTTP status for completeness. WS_CLOSE lists every close code the WebSocket endpoint
// closes a socket with, and why. Errors cross gRPC as a status whose details
// are the message and whose trailing metadata `seqline-error-code` names the code, so the
// gateway answers exactly what the service that failed decided.
import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';

export const ERRORS = {
  INVALID_SQL: { http: 400, grpc: status.INVALID_ARGUMENT },
  EMPTY_SQL: { http: 400, grpc: status.INVALID_ARGUMENT },
  PARAMS_WITH_BATCH: { http: 400, grpc: status.INVALID_ARGUMENT },
  INVALID_PARAMETER: { http: 400, grpc: status.INVALID_ARGUMENT },
  INVALID_INPUT: { http: 400, grpc: status.INVALID_ARGUMENT },
  /** BEGIN … COMMIT in a form that is not a transaction: no COMMIT, a nested BEGIN, COMMIT without BEGIN, a statement a transaction cannot hold. */
  INVALID_TRANSACTION: { http: 400, grpc: status.INVALID_ARGUMENT },
  /** A transaction whose writes target more than one owner's partitions (more than one op shard): refused before anything is applied. */
  CROSS_OWNER_TRANSACTION: { http: 400, grpc: status.FAILED_PRECONDITION },
  UNSUPPORTED: { http: 400, grpc: status.UNIMPLEMENTED },
  SQL_EXECUTION_ERROR: { http: 400, grpc: status.FAILED_PRECONDITION },
  TABLE_NOT_FOUND: { http: 400, grpc: status.NOT_FOUND },
  MISSING_AUTHORIZATION: { http: 401, grpc: status.UNAUTHENTICATED },
  TOKEN_EXPIRED: { http: 401, grpc: status.UNAUTHENTICATED },
  INVALID_CREDENTIALS: { http: 401, grpc: status.UNAUTHENTICATED },
  /** A well-signed, unexpired token of a user who was dropped, or whose role, password or lock changed since it was issued (its `cv` is not the user's). */
  TOKEN_REVOKED: { http: 401, grpc: status.UNAUTHENTICATED },
  /** An identity provider's valid token for a user who does not exist, from a provider not set to create users (auto_provision). */
  USER_NOT_PROVISIONED: { http: 401, grpc: status.UNAUTHENTICATED },
  PERMISSION_DENIED: { http: 403, grpc: status.PERMISSION_DENIED },
  /** An identity provider's token whose role claim names a role its provider may not grant (allowed_roles). */
  ROLE_NOT_ALLOWED: { http: 403, grpc: status.PERMISSION_DENIED },
  NOT_FOUND: { http: 404, grpc: status.NOT_FOUND },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: status.RESOURCE_EXHAUSTED },
  /** A row image or an op's change over its size limit (SEQLINE_MAX_ROW_BYTES and friends); nothing was written. */
  ROW_TOO_LARGE: { http: 413, grpc: status.RESOURCE_EXHAUSTED },
  /** A live filter took more than SEQLINE_FILTER_BUDGET steps on one change: its subscription is ended. */
  FILTER_BUDGET_EXCEEDED: { http: 400, grpc: status.RESOURCE_EXHAUSTED },
  RATE_LIMIT_EXCEEDED: { http: 429, grpc: status.RESOURCE_EXHAUSTED },
  /** A change consumer's ack token whose lane was handed to another worker or rewound (docs/protocol.md §2, "Change consumers"): the change comes again. */
  LEASE_EXPIRED: { http: 409, grpc: status.ABORTED },
  INTERNAL_ERROR: { http: 500, grpc: status.INTERNAL },
  UNAVAILABLE: { http: 503, grpc: status.UNAVAILABLE },
  // WebSocket (docs/protocol.md §4): `error` events and `auth_error`.
  AUTH_REQUIRED: { http: 401, grpc: status.UNAUTHENTICATED },
  UNAUTHORIZED: { http: 401, grpc: status.UNAUTHENTICATED },
  INVALID_SUBSCRIPTION_ID: { http: 400, grpc: status.INVALID_ARGUMENT },
  SUBSCRIPTION_LIMIT_EXCEEDED: { http: 429, grpc: status.RESOURCE_EXHAUSTED },
  SUBSCRIPTION_FAILED: { http: 500, grpc: status.INTERNAL },
  BATCH_FETCH_FAILED: { http: 500, grpc: status.INTERNAL },
  MESSAGE_TOO_LARGE: { http: 413, grpc: status.RESOURCE_EXHAUSTED },
  UNSUPPORTED_DATA: { http: 400, grpc: status.INVALID_ARGUMENT },
  SLOW_CONSUMER: { http: 429, grpc: status.RESOURCE_EXHAUSTED },
} as const;

/** The WebSocket close codes (RFC 6455) the endpoint uses, each with the one situation it means. */
export const WS_CLOSE = {
  /** Silent longer than the idle limit. */
  IDLE: 1000,
  /** The server is draining: reconnect elsewhere and resume. */
  GOING_AWAY: 1001,
  /** Authentication failed or timed out (after an `auth_error`). */
  AUTH_FAILED: 1008,
  /** A WebSocket protocol violation (bad framing, an unmasked frame), as the ws library answers it. */
  PROTOCOL_VIOLATION: 1002,
  /** A text frame that is not UTF-8 (the ws library's answer). */
  INVALID_UTF8: 1007,
  /** A frame larger than the frame limit. */
  FRAME_TOO_LARGE: 1009,
  /** A frame that is not a message (not JSON, binary, no or unknown `type`, a WebSocket protocol error). */
  INVALID_FRAME: 1011,
  /** Authentication could not be checked (storage unreachable): reconnect after a while. */
  TRY_AGAIN_LATER: 1013,
  /**
   * Ours (RFC 6455 leaves 4000-4999 to applications): the connection's user was dropped, or
   * their role, password or lock changed (their credential version moved on); log in again.
   */
  TOKEN_REVOKED: 4001,
} as const;
export type WsCloseCode = (typeof WS_CLOSE)[keyof typeof WS_CLOSE];

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODE_METADATA = 'seqline-error-code';
/** Trailing metadata naming the failing statement of a transaction (its index, see ProtocolError.statement). */
export const ERROR_STATEMENT_METADATA = 'seqline-error-statement';

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

/** An error a client may see: a code from the table and a message without internals. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ErrorCode;
  readonly details: unknown;
  /**
   * The failing statement of a transaction, as an index into the statements of the SQL text the
   * call carried (BEGIN is 0); undefined when the error is not one statement's.
   */
  readonly statement: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown; statement?: number | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
    this.statement = options?.statement;
  }

  get httpStatus(): number {
    return ERRORS[this.code].http;
  }

  /** For a gRPC handler's callback. */
  toGrpc(): Partial<StatusObject> {
    const metadata = new Metadata();
    metadata.set(ERROR_CODE_METADATA, this.code);
    if (this.statement !== undefined) metadata.set(ERROR_STATEMENT_METADATA, String(this.statement));
    return { code: ERRORS[this.code].grpc, details: this.message, metadata };
  }

  /** Rebuilds the error a service sent; an error without our metadata is UNAVAILABLE or INTERNAL. */
  static fromGrpc(err: ServiceError): ProtocolError {
    const code = err.metadata?.get(ERROR_CODE_METADATA)[0];
    if (isErrorCode(code)) return new ProtocolError(code, err.details, { cause: err, statement: statementIndex(err.metadata?.get(ERROR_STATEMENT_METADATA)[0]) });
    if (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED) {
      return new ProtocolError('UNAVAILABLE', 'a Seqline service is unavailable; retry', { cause: err });
    }
    return new ProtocolError('INTERNAL_ERROR', 'internal error', { cause: err });
  }
}

/** A statement index as it travels (gRPC metadata, a stream answer's field); undefined unless a small non-negative integer. */
export function statementIndex(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Anything thrown, as a ProtocolError: errors with a known `code` keep it, the rest are INTERNAL_ERROR. */
export function toProtocolError(err: unknown): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && isErrorCode(code)) return new ProtocolError(code, err.message, { cause: err });
  return new ProtocolError('INTERNAL_ERROR', 'internal error', { cause: err });
}
