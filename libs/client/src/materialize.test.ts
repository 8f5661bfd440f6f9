// Materialization rules (SPEC.md, "A live query"): upserts by key in _seq order, deletes,
// composite keys, limit, reset, and repeated deliveries that change nothing.
import { describe, expect, it } from 'vitest';
import { apply, emptyRows, type Row } from './materialize.js';

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

  it('skips events at or below the cursor, so a repeated delivery changes nothing', () => {
    const m = emptyRows();
    const key = { keyColumns: ['id'] };
    apply(m, { kind: 'upsert', rows: [row(1, 'a', 10), row(2, 'b', 11)] }, key);
    expect(apply(m, { kind: 'upsert', rows: [row(1, 'stale', 10)] }, key)).toBe(false);
    expect(apply(m, { kind: 'delete', rows: [row(2, 'b', 11)] }, key)).toBe(false);
    expect(titles(m)).toEqual(['a', 'b']);
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
