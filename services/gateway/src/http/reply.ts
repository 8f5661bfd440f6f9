// What an HTTP handler answers, as data: a status, headers and a JSON body. Two error shapes
// exist on the wire (docs/protocol.md §2):
//   - the SQL API's `{"status":"error","results":[],"took",error:{code,message}}` with the
//     HTTP status of the code in the one error table (@seqline/protocol ERRORS), also used
//     for unknown routes and wrong methods;
//   - KalamDB's auth endpoints' `{"error":"unauthorized"|"rate_limited"|…,"message"}`.
// Neither ever carries a stack trace or an internal message: INTERNAL_ERROR says 'internal
// error' and the cause goes to the log.
import { ERRORS, type ErrorCode, type ProtocolError } from '@seqline/protocol';
import { stringifyJsonLossless } from '@seqline/seq';

export type Headers = Readonly<Record<string, string>>;

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** Close the connection after this reply (e.g. a body we refused to read). */
  readonly close?: boolean;
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' } as const;

/** Codes the HTTP layer answers that no service sends (kept out of the cross-service table). */
export const HTTP_ONLY_ERRORS = { METHOD_NOT_ALLOWED: 405 } as const;
export type HttpOnlyErrorCode = keyof typeof HTTP_ONLY_ERRORS;

export function jsonReply(status: number, value: unknown, headers: Headers = {}): Reply {
  return { status, headers: { ...JSON_TYPE, ...headers }, body: stringifyJsonLossless(value) };
}

/** Milliseconds as the `took` field: a float with microsecond resolution. */
export function tookMs(ms: number): number {
  return Math.round(Math.max(0, ms) * 1000) / 1000;
}

export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
}

/** A statement an error answer names (a transaction's): its index in the request and its text. */
export interface NamedStatement {
  readonly index: number;
  readonly text: string;
}

/** The SQL API's error body with the table's HTTP status; `named` adds `statement_index` and `statement`. */
export function sqlErrorReply(error: WireError, took: number, headers: Headers = {}, named?: NamedStatement): Reply {
  const message = error.code === 'INTERNAL_ERROR' ? 'internal error' : error.message;
  const statement = named === undefined ? {} : { statement_index: named.index, statement: named.text };
  return jsonReply(ERRORS[error.code].http, { status: 'error', results: [], took: tookMs(took), error: { code: error.code, message, ...statement } }, headers);
}

export function methodNotAllowedReply(allow: readonly string[], took: number): Reply {
  const body = { status: 'error', results: [], took: tookMs(took), error: { code: 'METHOD_NOT_ALLOWED' satisfies HttpOnlyErrorCode, message: `method not allowed; use ${allow.join(' or ')}` } };
  return jsonReply(HTTP_ONLY_ERRORS.METHOD_NOT_ALLOWED, body, { allow: allow.join(', ') });
}

export function notFoundReply(path: string, took: number): Reply {
  return sqlErrorReply({ code: 'NOT_FOUND', message: `no route ${path}` }, took);
}

/** The `error` values of the auth endpoints (KalamDB's AuthErrorResponse) and their statuses. */
export const AUTH_ERRORS = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  already_configured: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const;
export type AuthErrorCode = keyof typeof AUTH_ERRORS;

export function authErrorReply(error: AuthErrorCode, message: string, headers: Headers = {}): Reply {
  return jsonReply(AUTH_ERRORS[error], { error, message: error === 'internal_error' ? 'internal error' : message }, headers);
}

/** A ProtocolError from a service or from validation, in the auth endpoints' shape. */
export function authErrorFromProtocol(err: ProtocolError | WireError): Reply {
  return authErrorReply(authCodeOf(err.code), err.message);
}

function authCodeOf(code: ErrorCode): AuthErrorCode {
  switch (code) {
    case 'INVALID_INPUT':
    case 'INVALID_PARAMETER':
    case 'INVALID_SQL':
    case 'EMPTY_SQL':
      return 'invalid_input';
    case 'MISSING_AUTHORIZATION':
    case 'TOKEN_EXPIRED':
    case 'TOKEN_REVOKED':
    case 'INVALID_CREDENTIALS':
    case 'USER_NOT_PROVISIONED':
      return 'unauthorized';
    case 'PERMISSION_DENIED':
    case 'ROLE_NOT_ALLOWED':
      return 'forbidden';
    case 'PAYLOAD_TOO_LARGE':
      return 'payload_too_large';
    case 'RATE_LIMIT_EXCEEDED':
      return 'rate_limited';
    case 'UNAVAILABLE':
      return 'unavailable';
    default:
      return 'internal_error';
  }
}

/** `Retry-After` in whole seconds, at least 1. */
export function retryAfter(ms: number): Headers {
  return { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) };
}
