import { busPb } from '@seqline/proto';
import type { ProtocolError } from '@seqline/protocol';
import { describe, expect, it } from 'vitest';
import { TransactionStatementError, type AppliedOp } from './apply-op.js';
import { changeLimitFor, changeSizeBound, checkChangeSize, rowChanges } from './limits.js';
import { isTooLarge } from './outbox.js';

const op = { opId: 'o'.repeat(32), actor: 'a', actorRole: 'user', owner: 'mallory', namespace: 'app', table: 't', statement: '', paramsJson: '[]', issuedAtUs: 0n, replyTo: '', traceparent: '', statements: [] } satisfies busPb.Op;
const applied = (rows: number, bytes: number): AppliedOp => ({
  rowCount: rows,
  message: '',
  changes: Array.from({ length: rows }, (_, i) => ({ kind: 'update' as const, seq: 2n ** 62n + BigInt(i), old: { id: i, v: 'é'.repeat(bytes / 2) }, new: { id: i, v: 'x'.repeat(bytes) } })),
});

describe('change size limits', () => {
  it('bounds the encoded change from above, whatever its sequence numbers', () => {
    for (const [rows, bytes] of [[0, 0], [1, 10], [3, 1000], [50, 70_000]] as const) {
      const a = applied(rows, bytes);
      const encoded = busPb.Change.encode({ owner: op.owner, namespace: op.namespace, table: op.table, seq: 2n ** 63n - 1n, prevSeq: 2n ** 63n - 1n, opId: op.opId, committedAtUs: 2n ** 63n - 1n, rows: rowChanges(a) }).finish();
      expect(changeSizeBound(op, rowChanges(a))).toBeGreaterThanOrEqual(encoded.length);
      expect(changeSizeBound(op, rowChanges(a))).toBeLessThan(encoded.length + 100 + 40 * rows);
    }
  });

  it('refuses a row image or a change over its limit with ROW_TOO_LARGE', () => {
    const limits = { maxRowBytes: 1000, maxChangeBytes: 10_000 };
    expect(() => checkChangeSize(op, applied(2, 900), limits)).not.toThrow();
    const failure = (a: AppliedOp): unknown => {
      try {
        checkChangeSize(op, a, limits);
        return undefined;
      } catch (err) {
        return [(err as ProtocolError).code, (err as ProtocolError).message];
      }
    };
    expect(failure(applied(1, 1000))).toEqual(['ROW_TOO_LARGE', 'a row of app.t would be 1015 bytes; the limit is 1000 bytes (nothing was written)']);
    expect(failure(applied(8, 900))).toEqual(['ROW_TOO_LARGE', expect.stringMatching(/^the statement changes 8 row\(s\) of app\.t worth \d+ bytes; one statement may change at most 10000 bytes \(nothing was written; change fewer rows at a time\)$/)]);
  });

  it('holds a transaction’s changes together to one statement’s limit, naming the statement that goes over', () => {
    const limits = { maxRowBytes: 1000, maxChangeBytes: 10_000 };
    const statement = (table: string, a: AppliedOp) => ({ ...a, namespace: 'app', table });
    const transaction = (...statements: ReturnType<typeof statement>[]): AppliedOp => ({ rowCount: 0, message: '', changes: statements.flatMap((s) => s.changes), statements });
    expect(() => checkChangeSize(op, transaction(statement('t', applied(2, 900)), statement('u', applied(2, 900))), limits)).not.toThrow();
    const failure = (a: AppliedOp): unknown => {
      try {
        checkChangeSize(op, a, limits);
        return undefined;
      } catch (err) {
        const cause = (err as TransactionStatementError).cause as ProtocolError;
        return [err instanceof TransactionStatementError ? err.index : undefined, cause.code, cause.message];
      }
    };
    // Each statement alone is within the limit; the third takes the transaction over it.
    const three = transaction(statement('t', applied(2, 900)), statement('u', applied(2, 900)), statement('t', applied(2, 900)));
    expect(failure(three)).toEqual([2, 'ROW_TOO_LARGE', expect.stringMatching(/^the transaction changes \d+ bytes of rows up to this statement; one transaction may change at most 10000 bytes/)]);
    expect(failure(transaction(statement('t', applied(1, 10)), statement('u', applied(1, 1000))))).toEqual([1, 'ROW_TOO_LARGE', 'a row of app.u would be 1015 bytes; the limit is 1000 bytes (nothing was written)']);
  });

  it('keeps the change limit below the server’s max_payload', () => {
    expect([changeLimitFor(983_040, 1_048_576), changeLimitFor(983_040, 65_536), changeLimitFor(983_040, undefined)]).toEqual([983_040, 61_440, 983_040]);
  });

  it('tells a publish that can never pass from one that may', () => {
    expect(isTooLarge(Object.assign(new Error("'payload' max_payload size exceeded"), { name: 'InvalidArgumentError' }))).toBe(true);
    expect(isTooLarge(new Error('JetStream refused the message: message size exceeds maximum allowed (10054)'))).toBe(true);
    expect(isTooLarge(new Error('no JetStream acknowledgement within 5000 ms'))).toBe(false);
  });
});
