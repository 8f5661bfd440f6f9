// A live query's rows (SPEC.md, "A live query"): pure. Rows are kept by key in `_seq` order;
// events at or below the cursor were applied already and change nothing.
/** A row as an object keyed by column name; BIGINT cells are `bigint` (or strings, see {@link BigIntMode}), `_seq` included. */
export type Row = Record<string, unknown>;

export interface Materialized {
  /** Key → row, in `_seq` order (oldest first). */
  readonly rows: Map<string, Row>;
  /** The highest `_seq` processed; undefined before any. */
  cursor: bigint | undefined;
}

export interface MaterializeOptions {
  readonly keyColumns: readonly string[];
  /** Keep only this many rows, those with the highest `_seq`. */
  readonly limit?: number;
}

export type RowEvent =
  | { readonly kind: 'reset' }
  | { readonly kind: 'upsert'; readonly rows: readonly Row[] }
  | { readonly kind: 'delete'; readonly rows: readonly Row[] }
  /** The snapshot (or an ack) got this far even if no row had this `_seq`. */
  | { readonly kind: 'cursor'; readonly seq: bigint };

export function emptyRows(): Materialized {
  return { rows: new Map(), cursor: undefined };
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

/** Applies one event in place; returns whether the rows changed. */
export function apply(m: Materialized, event: RowEvent, options: MaterializeOptions): boolean {
  switch (event.kind) {
    case 'reset': {
      const changed = m.rows.size > 0;
      m.rows.clear();
      m.cursor = undefined;
      return changed;
    }
    case 'cursor':
      if (m.cursor === undefined || event.seq > m.cursor) m.cursor = event.seq;
      return false;
    case 'upsert':
    case 'delete': {
      let changed = false;
      for (const row of event.rows) {
        const seq = seqOf(row);
        if (seq !== undefined && m.cursor !== undefined && seq <= m.cursor) continue;
        const key = keyOf(row, options.keyColumns);
        if (event.kind === 'upsert') {
          m.rows.delete(key); // re-inserted at the end: the newest `_seq`
          m.rows.set(key, row);
          changed = true;
        } else {
          changed = m.rows.delete(key) || changed;
        }
        if (seq !== undefined) m.cursor = seq;
      }
      if (options.limit !== undefined) {
        for (const key of m.rows.keys()) {
          if (m.rows.size <= options.limit) break;
          m.rows.delete(key);
          changed = true;
        }
      }
      return changed;
    }
  }
}
