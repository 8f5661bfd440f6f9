// Materialization rules (SPEC.md, "A live query"): upserts by key in _seq order, deletes,
// composite keys, limit, reset, and repeated deliveries that change nothing; in the query's
// order (a window, docs/protocol.md §4.7): a snapshot not in _seq order, one change's events
// sharing its _seq, rows pulled in from below, the limit as a safety net.
import { describe, expect, it } from 'vitest';
import { apply, emptyRows, rowsOf, setOrder, track, type Row } from './materialize.js';
import { rowComparator } from './order.js';

const row = (id: number, title: string, seq: number): Row => ({ id, title, _seq: String(seq) });
const titles = (m: ReturnType<typeof emptyRows>): unknown[] => [...m.rows.values()].map((r) => r['title']);

describe('apply', () => {
  it('inserts, updates (moving the row to the newest place) and deletes by key', () => {
    const m = emptyRows();
    const key = { keyColumns: ['id'] };
    expect(apply(m, { kind: 'upsert', rows: [row(1, 'a', 10), row(2, 'b', 11), row(3, 'c', 12)] }, key)).toBe(true);
    expect(titles(m)).toEqual(['a', 'b', 'c']);
    apply(m, { kind: 'upsert', rows: [row(1, 'A', 13)] }, key);
    expect(titles(m)).toEqual(['b', 'c', 'A']);
    expect(apply(m, { kind: 'delete', rows: [row(2, 'b', 14)] }, key)).toBe(true);
    expect(titles(m)).toEqual(['c', 'A']);
    expect(m.cursor).toBe(14n);
    expect(apply(m, { kind: 'delete', rows: [row(9, 'nobody', 15)] }, key)).toBe(false);
    expect(m.cursor).toBe(15n);
  });

  it('skips events below the cursor and applies those at it (events of one change share its _seq): a repeat changes nothing', () => {
    const m = emptyRows();
    const key = { keyColumns: ['id'] };
    apply(m, { kind: 'upsert', rows: [row(1, 'a', 10), row(2, 'b', 11)] }, key);
    expect(apply(m, { kind: 'upsert', rows: [row(1, 'stale', 10)] }, key)).toBe(false);
    expect(apply(m, { kind: 'delete', rows: [row(2, 'b', 10)] }, key)).toBe(false);
    expect(titles(m)).toEqual(['a', 'b']);
    apply(m, { kind: 'upsert', rows: [row(2, 'b', 11)] }, key); // the last event again
    expect(titles(m)).toEqual(['a', 'b']);
    expect(apply(m, { kind: 'delete', rows: [row(1, 'a', 11)] }, key)).toBe(true); // another event of change 11
    expect(titles(m)).toEqual(['b']);
    expect(m.cursor).toBe(11n);
    apply(m, { kind: 'cursor', seq: 20n }, key);
    expect(apply(m, { kind: 'upsert', rows: [row(3, 'c', 19)] }, key)).toBe(false);
    apply(m, { kind: 'cursor', seq: 5n }, key); // a cursor never goes back
    expect(m.cursor).toBe(20n);
  });

  it('keys by several columns', () => {
    const m = emptyRows();
    const key = { keyColumns: ['org', 'id'] };
    apply(m, { kind: 'upsert', rows: [{ org: 'x', id: 1, v: 1, _seq: '1' }, { org: 'y', id: 1, v: 2, _seq: '2' }] }, key);
    apply(m, { kind: 'upsert', rows: [{ org: 'x', id: 1, v: 3, _seq: '3' }] }, key);
    apply(m, { kind: 'delete', rows: [{ org: 'y', id: 1, _seq: '4' }] }, key);
    expect([...m.rows.values()]).toEqual([{ org: 'x', id: 1, v: 3, _seq: '3' }]);
  });

  it('keeps only the newest rows within a limit', () => {
    const m = emptyRows();
    const key = { keyColumns: ['id'], limit: 2 };
    apply(m, { kind: 'upsert', rows: [row(1, 'a', 1), row(2, 'b', 2), row(3, 'c', 3)] }, key);
    expect(titles(m)).toEqual(['b', 'c']);
    apply(m, { kind: 'upsert', rows: [row(2, 'B', 4)] }, key);
    expect(titles(m)).toEqual(['c', 'B']);
    apply(m, { kind: 'delete', rows: [row(3, 'c', 5)] }, key);
    expect(titles(m)).toEqual(['B']);
  });

  it('clears everything, cursor included, on reset', () => {
    const m = emptyRows();
    apply(m, { kind: 'upsert', rows: [row(1, 'a', 10)] }, { keyColumns: ['id'] });
    expect(apply(m, { kind: 'reset' }, { keyColumns: ['id'] })).toBe(true);
    expect([m.rows.size, m.cursor]).toEqual([0, undefined]);
    apply(m, { kind: 'upsert', rows: [row(1, 'again', 5)] }, { keyColumns: ['id'] });
    expect(titles(m)).toEqual(['again']);
  });

  it('keys bigint and string ids alike', () => {
    const m = emptyRows();
    apply(m, { kind: 'upsert', rows: [{ id: 12345678901234567890n, _seq: '1' }] }, { keyColumns: ['id'] });
    apply(m, { kind: 'delete', rows: [{ id: '12345678901234567890', _seq: '2' }] }, { keyColumns: ['id'] });
    expect(m.rows.size).toBe(0);
  });
});

describe('apply in the query\'s order', () => {
  // ORDER BY updated_at DESC LIMIT 3 (the ack's order_by ends with the primary key).
  const schema = [
    { name: 'id', data_type: 'Int', flags: ['pk'] },
    { name: 'title', data_type: 'Text' },
    { name: 'updated_at', data_type: 'Timestamp' },
  ];
  const compare = rowComparator(
    [
      { column: 'updated_at', direction: 'desc', nulls: 'first' },
      { column: 'id', direction: 'asc', nulls: 'last' },
    ],
    schema,
  );
  const options = { keyColumns: ['id'], limit: 3 };
  const t = (id: number, title: string, updated: number, seq: number): Row => ({ id, title, updated_at: updated, _seq: String(seq) });
  const shown = (m: ReturnType<typeof emptyRows>): unknown[] => rowsOf(m).map((r) => r['title']);

  /** The window after its snapshot: a (30), b (20), c (10), boundary 20. */
  function window(): ReturnType<typeof emptyRows> {
    const m = emptyRows();
    setOrder(m, compare);
    apply(m, { kind: 'snapshot', rows: [t(1, 'a', 30, 13), t(2, 'b', 20, 15)] }, options);
    expect(m.cursor).toBeUndefined(); // a part of an ordered snapshot is no place to resume from
    apply(m, { kind: 'snapshot', rows: [t(3, 'c', 10, 11)] }, options); // _seq 11, below the rows before it: kept
    apply(m, { kind: 'cursor', seq: 20n }, options);
    return m;
  }

  it('keeps the snapshot in the query order and takes the boundary as the cursor once it is complete', () => {
    const m = window();
    expect(shown(m)).toEqual(['a', 'b', 'c']);
    expect(m.cursor).toBe(20n);
    const noBoundary = emptyRows();
    setOrder(noBoundary, compare);
    apply(noBoundary, { kind: 'snapshot', rows: [t(1, 'a', 30, 13), t(2, 'b', 20, 15), t(3, 'c', 10, 11)] }, options);
    apply(noBoundary, { kind: 'cursor', seq: undefined }, options);
    expect(noBoundary.cursor).toBe(15n); // the highest _seq of its rows
  });

  it('follows a window: deletes then inserts of one change share its _seq, a row pulled in from below, an update that moves', () => {
    const m = window();
    // A new ticket enters at the top, the last one leaves: both events carry _seq 21.
    apply(m, { kind: 'delete', rows: [t(3, 'c', 10, 21)] }, options);
    expect(apply(m, { kind: 'upsert', rows: [t(4, 'd', 40, 21)] }, options)).toBe(true);
    expect(shown(m)).toEqual(['d', 'a', 'b']);
    // a leaves the filter (change 22): c is pulled back in with the _seq of the change that opened its place.
    apply(m, { kind: 'delete', rows: [t(1, 'a', 30, 22)] }, options);
    apply(m, { kind: 'upsert', rows: [t(3, 'c', 10, 22)] }, options);
    expect(shown(m)).toEqual(['d', 'b', 'c']);
    // An update moves b to the top.
    apply(m, { kind: 'upsert', rows: [t(2, 'b', 50, 23)] }, options);
    expect(shown(m)).toEqual(['b', 'd', 'c']);
    // A tie on updated_at: the primary key decides (d, id 4, before e, id 5).
    apply(m, { kind: 'delete', rows: [t(3, 'c', 10, 24)] }, options);
    apply(m, { kind: 'upsert', rows: [t(5, 'e', 40, 24)] }, options);
    expect(shown(m)).toEqual(['b', 'd', 'e']);
    expect(m.cursor).toBe(24n);
    // Repeats: below the cursor skipped, at it idempotent.
    expect(apply(m, { kind: 'upsert', rows: [t(1, 'a', 30, 22)] }, options)).toBe(false);
    apply(m, { kind: 'upsert', rows: [t(5, 'e', 40, 24)] }, options);
    expect(shown(m)).toEqual(['b', 'd', 'e']);
    expect([...m.rows.keys()].sort()).toEqual(['2', '4', '5']);
  });

  it('keeps at most the limit, dropping the last in order, should an insert come without its delete', () => {
    const m = window();
    expect(apply(m, { kind: 'upsert', rows: [t(6, 'f', 25, 21)] }, options)).toBe(true);
    expect(shown(m)).toEqual(['a', 'f', 'b']);
    expect([...m.rows.keys()].sort()).toEqual(['1', '2', '6']);
  });

  it('sorts rows it holds when the order arrives, and goes back to _seq order without one', () => {
    const m = emptyRows();
    apply(m, { kind: 'upsert', rows: [t(3, 'c', 10, 11), t(1, 'a', 30, 13), t(2, 'b', 20, 15)] }, { keyColumns: ['id'] });
    expect(shown(m)).toEqual(['c', 'a', 'b']);
    setOrder(m, compare);
    expect(shown(m)).toEqual(['a', 'b', 'c']);
    apply(m, { kind: 'upsert', rows: [t(3, 'c', 35, 16)] }, options);
    expect(shown(m)).toEqual(['c', 'a', 'b']);
    apply(m, { kind: 'upsert', rows: [t(1, 'a', 5, 17)] }, options);
    setOrder(m, undefined);
    expect(shown(m)).toEqual(['b', 'c', 'a']);
  });

  it('clears the sorted rows on reset', () => {
    const m = window();
    expect(apply(m, { kind: 'reset' }, options)).toBe(true);
    expect([shown(m), m.cursor, m.pending]).toEqual([[], undefined, undefined]);
    apply(m, { kind: 'snapshot', rows: [t(7, 'g', 1, 30)] }, options);
    expect(shown(m)).toEqual(['g']);
  });

  it('tracks the cursor alone the same way (raw subscriptions)', () => {
    const m = emptyRows();
    setOrder(m, compare);
    track(m, { kind: 'snapshot', rows: [t(1, 'a', 30, 13), t(3, 'c', 10, 11)] });
    expect([m.cursor, m.pending]).toEqual([undefined, 13n]);
    track(m, { kind: 'cursor', seq: 20n });
    expect([m.cursor, m.pending]).toEqual([20n, undefined]);
    track(m, { kind: 'delete', rows: [t(3, 'c', 10, 19)] });
    track(m, { kind: 'upsert', rows: [t(4, 'd', 40, 21)] });
    expect(m.cursor).toBe(21n);
    expect(m.rows.size).toBe(0);
  });
});
