// Limits of the apply path (issue 10). Sizes: every row image must stay within `maxRowBytes`
// (as JSON, the form it travels in) and the op's whole change message within `maxChangeBytes`,
// which is kept below the bus's max_payload. An op over either limit fails with ROW_TOO_LARGE
// inside its savepoint, so it is rolled back alone and nothing of it is committed: a change
// that could never be published never reaches the outbox, and no later batch waits on it.
// Time: each apply transaction runs with a statement timeout and a lock timeout, so an op that
// runs or waits too long fails (in its savepoint, like any failing op) and the shard goes on.
import type { busPb } from '@seqline/proto';
import { ProtocolError } from '@seqline/protocol';
import { TransactionStatementError, type AppliedOp } from './apply-op.js';

export interface ChangeLimits {
  /** Largest row image, JSON bytes. */
  readonly maxRowBytes: number;
  /** Largest encoded change message of one op, bytes (below the bus's max_payload). */
  readonly maxChangeBytes: number;
}

export interface ApplyLimits extends ChangeLimits {
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
}

/** The statement that sets an apply transaction's timeouts (sent right after BEGIN). */
export function timeoutsStatement(limits: ApplyLimits): { readonly text: string; readonly params: string[] } {
  return { text: `SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)`, params: [String(limits.statementTimeoutMs), String(limits.lockTimeoutMs)] };
}

/** Bytes kept free under NATS's max_payload for a change's headers (Nats-Msg-Id, Seqline-Seq). */
export const HEADER_ROOM = 4096;

/** The change limit that fits the bus: the configured one, or less when the server's max_payload is smaller. */
export function changeLimitFor(configured: number, maxPayload: number | undefined): number {
  return maxPayload === undefined ? configured : Math.min(configured, maxPayload - HEADER_ROOM);
}

type RowChangeRecord = busPb.RowChange;

/** An op's row changes as they are encoded, made once per applied op (the check and the change record share them). */
const encoded = new WeakMap<AppliedOp, RowChangeRecord[]>();

export function rowChanges(applied: AppliedOp): RowChangeRecord[] {
  let rows = encoded.get(applied);
  if (rows === undefined) {
    rows = applied.changes.map((c) => ({ kind: c.kind, seq: c.seq, oldJson: c.old ? JSON.stringify(c.old) : '', newJson: c.new ? JSON.stringify(c.new) : '' }));
    encoded.set(applied, rows);
  }
  return rows;
}

/** The fields of a change message besides its rows (an op's, or a transaction statement's table). */
type ChangeHead = Pick<busPb.Op, 'owner' | 'namespace' | 'table' | 'opId'>;

/**
 * An upper bound of the encoded size of the op's change message (protobuf: a tag and a length
 * of at most 5 bytes per field, 64-bit integers of at most 10), so it is known before the
 * message's sequence numbers are.
 */
export function changeSizeBound(head: ChangeHead, rows: readonly RowChangeRecord[]): number {
  const text = (s: string): number => 6 + Buffer.byteLength(s);
  let size = text(head.owner) + text(head.namespace) + text(head.table) + text(head.opId) + 3 * 11;
  for (const r of rows) size += 6 + text(r.kind) + 11 + text(r.oldJson) + text(r.newJson);
  return size;
}

/**
 * Throws ROW_TOO_LARGE when a row image or the op's change message is over its limit. A
 * transaction publishes one change message per statement, and all of them together are held to
 * the same limit as one statement's: the first statement that goes over is named
 * (TransactionStatementError), and the whole transaction fails.
 */
export function checkChangeSize(op: busPb.Op, applied: AppliedOp, limits: ChangeLimits): void {
  if (applied.statements === undefined) {
    checkStatementSize(op, applied, limits, 'one statement may change');
    return;
  }
  let total = 0;
  for (const [i, statement] of applied.statements.entries()) {
    try {
      total += checkStatementSize({ ...op, namespace: statement.namespace, table: statement.table }, statement, limits, 'one transaction may change');
      if (total > limits.maxChangeBytes) {
        throw new ProtocolError('ROW_TOO_LARGE', `the transaction changes ${total} bytes of rows up to this statement; one transaction may change at most ${limits.maxChangeBytes} bytes (nothing was written; change fewer rows at a time)`);
      }
    } catch (err) {
      throw new TransactionStatementError(i, err);
    }
  }
}

/** Checks one change message; returns its size bound. */
function checkStatementSize(head: ChangeHead, applied: AppliedOp, limits: ChangeLimits, limitText: string): number {
  const rows = rowChanges(applied);
  for (const r of rows) {
    const bytes = Math.max(Buffer.byteLength(r.oldJson), Buffer.byteLength(r.newJson));
    if (bytes > limits.maxRowBytes) {
      throw new ProtocolError('ROW_TOO_LARGE', `a row of ${head.namespace}.${head.table} would be ${bytes} bytes; the limit is ${limits.maxRowBytes} bytes (nothing was written)`);
    }
  }
  const size = changeSizeBound(head, rows);
  if (size > limits.maxChangeBytes) {
    throw new ProtocolError('ROW_TOO_LARGE', `the statement changes ${rows.length} row(s) of ${head.namespace}.${head.table} worth ${size} bytes; ${limitText} at most ${limits.maxChangeBytes} bytes (nothing was written; change fewer rows at a time)`);
  }
  return size;
}
