import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ERRORS, ProtocolError, toProtocolError } from './errors.js';

function serviceError(code: number, details: string, metadata = new Metadata()): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata });
}

describe('the error table', () => {
  it('maps each code to its HTTP status', () => {
    expect(Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.http]))).toEqual({
      INVALID_SQL: 400, EMPTY_SQL: 400, PARAMS_WITH_BATCH: 400, INVALID_PARAMETER: 400, INVALID_INPUT: 400, INVALID_TRANSACTION: 400, CROSS_OWNER_TRANSACTION: 400, UNSUPPORTED: 400,
      SQL_EXECUTION_ERROR: 400, TABLE_NOT_FOUND: 400, MISSING_AUTHORIZATION: 401, TOKEN_EXPIRED: 401, INVALID_CREDENTIALS: 401, TOKEN_REVOKED: 401,
      USER_NOT_PROVISIONED: 401, PERMISSION_DENIED: 403, ROLE_NOT_ALLOWED: 403, NOT_FOUND: 404, PAYLOAD_TOO_LARGE: 413, ROW_TOO_LARGE: 413, FILTER_BUDGET_EXCEEDED: 400, RATE_LIMIT_EXCEEDED: 429, LEASE_EXPIRED: 409, INTERNAL_ERROR: 500, UNAVAILABLE: 503,
      AUTH_REQUIRED: 401, UNAUTHORIZED: 401, INVALID_SUBSCRIPTION_ID: 400, SUBSCRIPTION_LIMIT_EXCEEDED: 429, SUBSCRIPTION_FAILED: 500,
      BATCH_FETCH_FAILED: 500, MESSAGE_TOO_LARGE: 413, UNSUPPORTED_DATA: 400, SLOW_CONSUMER: 429,
    });
  });

  it('round-trips a protocol error through gRPC status and metadata', () => {
    const sent = new ProtocolError('TABLE_NOT_FOUND', 'table app.x does not exist').toGrpc();
    expect(sent.code).toBe(status.NOT_FOUND);
    const back = ProtocolError.fromGrpc(serviceError(sent.code!, sent.details!, sent.metadata));
    expect([back.code, back.message, back.httpStatus]).toEqual(['TABLE_NOT_FOUND', 'table app.x does not exist', 400]);
  });

  it('carries the failing statement of a transaction through gRPC, and nothing else in its place', () => {
    const sent = new ProtocolError('SQL_EXECUTION_ERROR', 'duplicate primary key', { statement: 3 }).toGrpc();
    expect(ProtocolError.fromGrpc(serviceError(sent.code!, sent.details!, sent.metadata)).statement).toBe(3);
    const plain = new ProtocolError('SQL_EXECUTION_ERROR', 'duplicate primary key').toGrpc();
    expect(ProtocolError.fromGrpc(serviceError(plain.code!, plain.details!, plain.metadata)).statement).toBeUndefined();
    const forged = new Metadata();
    forged.set('seqline-error-code', 'SQL_EXECUTION_ERROR');
    forged.set('seqline-error-statement', '-1');
    expect(ProtocolError.fromGrpc(serviceError(status.FAILED_PRECONDITION, 'x', forged)).statement).toBeUndefined();
  });

  it('turns foreign gRPC failures into UNAVAILABLE or INTERNAL_ERROR without leaking details', () => {
    expect(ProtocolError.fromGrpc(serviceError(status.UNAVAILABLE, 'connect ECONNREFUSED 10.0.0.1')).code).toBe('UNAVAILABLE');
    expect(ProtocolError.fromGrpc(serviceError(status.DEADLINE_EXCEEDED, 'deadline')).code).toBe('UNAVAILABLE');
    const internal = ProtocolError.fromGrpc(serviceError(status.UNKNOWN, 'TypeError: x is undefined'));
    expect([internal.code, internal.message]).toEqual(['INTERNAL_ERROR', 'internal error']);
    expect(toProtocolError(Object.assign(new Error('bad sql'), { code: 'INVALID_SQL' })).code).toBe('INVALID_SQL');
    expect(toProtocolError(new Error('boom')).message).toBe('internal error');
  });
});
