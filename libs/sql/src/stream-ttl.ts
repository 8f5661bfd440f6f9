// STREAM tables' time to live (docs/architecture.md §2): a row version of a STREAM table with
// TTL_SECONDS = n is expired once more than n seconds have passed since the time inside its
// `_seq` (the time of the row's last write). Reads keep `_seq >= expiryFloor(table, now)`;
// storage's expiry deletes the older versions through the change log.
import type { TableDef } from '@seqline/domain';
import { seqIdFloorForTime, type SeqId } from '@seqline/seq';

/** The tables whose rows expire: STREAM tables with TTL_SECONDS. */
export function expiresRows(table: Pick<TableDef, 'tableType' | 'ttlSeconds'>): table is Pick<TableDef, 'tableType'> & { readonly ttlSeconds: number } {
  return table.tableType === 'STREAM' && table.ttlSeconds !== undefined;
}

/**
 * The smallest `_seq` of `table` not expired at `nowMs`: a version is live while its `_seq`
 * is at or above it. Undefined for a table whose rows never expire.
 */
export function expiryFloor(table: Pick<TableDef, 'tableType' | 'ttlSeconds'>, nowMs: number): SeqId | undefined {
  return expiresRows(table) ? seqIdFloorForTime(nowMs - table.ttlSeconds * 1000) : undefined;
}

/** Whether the row version with this `_seq` is expired at `nowMs` (never, for a table without TTL). */
export function isExpired(table: Pick<TableDef, 'tableType' | 'ttlSeconds'>, seq: bigint, nowMs: number): boolean {
  const floor = expiryFloor(table, nowMs);
  return floor !== undefined && seq < floor;
}
