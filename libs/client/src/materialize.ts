// A live query's rows (SPEC.md, "A live query"): pure. Rows are kept by key, in `_seq` order,
// or, when the query has an order (the ack's `order_by`, docs/protocol.md §4.7), also in an
// array sorted by it: a row goes in at its place, found by binary search, moving only the rows
// between its old place and its new one (`Array.prototype.splice` on a large array is several
// times slower than that move). Events below the cursor were applied
// already and change nothing; several events of one change share its `_seq`, so an event at
// the cursor is applied (again: upserts and deletes by key are idempotent).
import type { RowComparator } from './order.js';

/** A row as an object keyed by column name; BIGINT cells are `bigint` (or strings, see {@link BigIntMode}), `_seq` included. */
export type Row = Record<string, unknown>;

export interface Materialized {
  /** Key → row; without an order, in `_seq` order (oldest first). */
  readonly rows: Map<string, Row>;
  /** The query's order and the rows sorted by it; undefined: the map's `_seq` order. */
  order: { readonly compare: RowComparator; readonly sorted: Row[] } | undefined;
  /** The highest `_seq` processed; undefined before any, and during a snapshot in the query's order. */
  cursor: bigint | undefined;
  /**
   * During a snapshot in the query's order: the highest `_seq` among its rows so far. Its rows
   * are not in `_seq` order, so no part of it is a place to resume from: this becomes the cursor
   * when the snapshot is complete (a `cursor` event).
   */
  pending: bigint | undefined;
}

export interface MaterializeOptions {
  readonly keyColumns: readonly string[];
  /** Keep only this many rows: the first ones in the query's order, else those with the highest `_seq`. */
  readonly limit?: number;
}

export type RowEvent =
  | { readonly kind: 'reset' }
  /** Snapshot rows: the state as of the snapshot's boundary, never skipped. */
  | { readonly kind: 'snapshot'; readonly rows: readonly Row[] }
  | { readonly kind: 'upsert'; readonly rows: readonly Row[] }
  | { readonly kind: 'delete'; readonly rows: readonly Row[] }
  /** The snapshot (or an ack) got this far even if no row had this `_seq`; ends a snapshot. */
  | { readonly kind: 'cursor'; readonly seq: bigint | undefined };

export function emptyRows(): Materialized {
  return { rows: new Map(), order: undefined, cursor: undefined, pending: undefined };
}

export function keyOf(row: Row, keyColumns: readonly string[]): string {
  return keyColumns.length === 1 ? keyPart(row[keyColumns[0]!]) : JSON.stringify(keyColumns.map((c) => keyPart(row[c])));
}

function keyPart(v: unknown): string {
  return typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? v : JSON.stringify(v);
}

/** `_seq` of a row (a string or bigint on the wire); undefined if it has none. */
export function seqOf(row: Row): bigint | undefined {
  const s = row['_seq'];
  if (typeof s === 'bigint') return s;
  if (typeof s === 'string' && /^\d+$/.test(s)) return BigInt(s);
  if (typeof s === 'number' && Number.isSafeInteger(s)) return BigInt(s);
  return undefined;
}

/** The rows as a live query shows them: in the query's order, else in `_seq` order. A new array. */
export function rowsOf(m: Materialized): Row[] {
  return m.order === undefined ? [...m.rows.values()] : [...m.order.sorted];
}

/**
 * Keeps the rows sorted by `compare` from now on (re-sorting those held), or, with undefined,
 * in `_seq` order again.
 */
export function setOrder(m: Materialized, compare: RowComparator | undefined): void {
  if (compare !== undefined) {
    m.order = { compare, sorted: [...m.rows.values()].sort(compare) };
    return;
  }
  if (m.order === undefined) return;
  m.order = undefined;
  const bySeq = [...m.rows.entries()].sort(([, a], [, b]) => compareSeq(seqOf(a), seqOf(b)));
  m.rows.clear();
  for (const [key, row] of bySeq) m.rows.set(key, row);
}

/** Applies one event in place; returns whether the rows changed. */
export function apply(m: Materialized, event: RowEvent, options: MaterializeOptions): boolean {
  if (event.kind === 'reset') {
    const changed = m.rows.size > 0;
    m.rows.clear();
    if (m.order !== undefined) m.order.sorted.length = 0;
    track(m, event);
    return changed;
  }
  if (event.kind === 'cursor') {
    track(m, event);
    return false;
  }
  let changed = false;
  for (const row of event.rows) {
    const seq = seqOf(row);
    if (event.kind !== 'snapshot' && isPast(m, seq)) continue;
    const key = keyOf(row, options.keyColumns);
    const old = m.rows.get(key);
    if (m.order !== undefined) place(m.order, old, event.kind === 'delete' ? undefined : row);
    if (event.kind === 'delete') {
      changed = m.rows.delete(key) || changed;
    } else {
      if (old !== undefined) m.rows.delete(key); // re-inserted at the end: the newest `_seq`
      m.rows.set(key, row);
      changed = true;
    }
    noteSeq(m, seq, event.kind === 'snapshot');
  }
  return trim(m, options) || changed;
}

/**
 * The cursor rules alone, for a subscription that keeps no rows (raw events): what `apply`
 * does to `cursor` and `pending`.
 */
export function track(m: Materialized, event: RowEvent): void {
  switch (event.kind) {
    case 'reset':
      m.cursor = undefined;
      m.pending = undefined;
      return;
    case 'cursor':
      m.cursor = maxSeq(maxSeq(m.cursor, m.pending), event.seq);
      m.pending = undefined;
      return;
    default:
      for (const row of event.rows) {
        const seq = seqOf(row);
        if (event.kind === 'snapshot' || !isPast(m, seq)) noteSeq(m, seq, event.kind === 'snapshot');
      }
  }
}

/** An event older than the cursor: applied already. */
function isPast(m: Materialized, seq: bigint | undefined): boolean {
  return seq !== undefined && m.cursor !== undefined && seq < m.cursor;
}

/** A snapshot row in the query's order counts once the snapshot is complete; anything else now. */
function noteSeq(m: Materialized, seq: bigint | undefined, snapshot: boolean): void {
  if (snapshot && m.order !== undefined) m.pending = maxSeq(m.pending, seq);
  else m.cursor = maxSeq(m.cursor, seq);
}

/** Drops rows beyond the limit: the last in the query's order, else the oldest by `_seq`. */
function trim(m: Materialized, options: MaterializeOptions): boolean {
  const limit = options.limit;
  if (limit === undefined || m.rows.size <= limit) return false;
  if (m.order !== undefined) {
    for (const row of m.order.sorted.splice(limit)) m.rows.delete(keyOf(row, options.keyColumns));
    return true;
  }
  for (const key of m.rows.keys()) {
    if (m.rows.size <= limit) break;
    m.rows.delete(key);
  }
  return true;
}

/** Replaces `old` (a row held, if any) by `row` (if any) in the sorted rows, at its place. */
function place(order: NonNullable<Materialized['order']>, old: Row | undefined, row: Row | undefined): void {
  const { sorted, compare } = order;
  const from = old === undefined ? -1 : indexOfRow(sorted, old, compare);
  if (row === undefined) {
    if (from < 0) return;
    moveTo(sorted, from, sorted.length - 1);
    sorted.pop();
    return;
  }
  const after = bound(sorted, row, compare); // counting the old version, if it is before
  if (from < 0) {
    sorted.push(row);
    moveTo(sorted, sorted.length - 1, after);
    return;
  }
  sorted[from] = row;
  moveTo(sorted, from, from < after ? after - 1 : after);
}

/** Where `row` (an object held in the rows) is in the sorted rows; -1 if it is not. */
function indexOfRow(sorted: readonly Row[], row: Row, compare: RowComparator): number {
  let i = bound(sorted, row, compare, true);
  // The order is total (it ends with the primary key); should two rows still tie, look on.
  while (i < sorted.length && sorted[i] !== row && compare(sorted[i]!, row) === 0) i++;
  return sorted[i] === row ? i : sorted.indexOf(row);
}

/** Moves the row at `from` to `to`, shifting the rows between by one place. */
function moveTo(sorted: Row[], from: number, to: number): void {
  const row = sorted[from]!;
  if (from < to) for (let i = from; i < to; i++) sorted[i] = sorted[i + 1]!;
  else for (let i = from; i > to; i--) sorted[i] = sorted[i - 1]!;
  sorted[to] = row;
}

/** Binary search: the first index whose row comes after `row` (or, with `lower`, not before it). */
function bound(sorted: readonly Row[], row: Row, compare: RowComparator, lower = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compare(sorted[mid]!, row);
    if (c < 0 || (c === 0 && !lower)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function maxSeq(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

function compareSeq(a: bigint | undefined, b: bigint | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return a < b ? -1 : 1;
}
