// The materializer against a model of the server's window (docs/protocol.md §4.7), for random
// tables, orders (ties, NULLs, ASC/DESC), limits and changes: after each change's events
// (deletes, then updates, then inserts, all with the change's `_seq`), the rows are exactly the
// model's window in order; a repeated delivery and a reload from the store's order change nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply, emptyRows, keyOf, rowsOf, setOrder, type Materialized, type Row } from './materialize.js';
import { rowComparator, type OrderKey } from './order.js';

const SCHEMA = [
  { name: 'id', data_type: 'Int', flags: ['pk'] },
  { name: 'v', data_type: 'Int' },
  { name: 'tag', data_type: 'Text' },
];

type Op = { readonly kind: 'upsert'; readonly id: number; readonly v: number | null; readonly tag: string } | { readonly kind: 'delete'; readonly id: number } | { readonly kind: 'repeat' } | { readonly kind: 'reload' };

const cell = fc.option(fc.integer({ min: 0, max: 4 }), { nil: null });
const tag = fc.constantFrom('a', 'B', 'é', '\u{1F600}', '\uFF5E', '');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('upsert' as const), id: fc.integer({ min: 1, max: 12 }), v: cell, tag }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'repeat' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reload' as const }) },
);
const orderKey = (column: string): fc.Arbitrary<OrderKey> => fc.record({ column: fc.constant(column), direction: fc.constantFrom('asc' as const, 'desc' as const), nulls: fc.constantFrom('first' as const, 'last' as const) });
const orderBy: fc.Arbitrary<OrderKey[]> = fc.oneof(
  fc.tuple(orderKey('v')).map(([k]) => [k, { column: 'id', direction: 'asc' as const, nulls: 'last' as const }]),
  fc.tuple(orderKey('tag'), orderKey('v')).map(([a, b]) => [a, b, { column: 'id', direction: 'asc' as const, nulls: 'last' as const }]),
  fc.constantFrom<'asc' | 'desc'>('asc', 'desc').map((direction) => [{ column: 'id', direction, nulls: 'last' as const }]),
);

/** The events the server sends for one change: the window before and after, as of `seq`. */
function windowEvents(before: Row[], after: Row[], seq: number): { kind: 'upsert' | 'delete'; rows: Row[] }[] {
  const was = new Map(before.map((r) => [r['id'], r]));
  const is = new Map(after.map((r) => [r['id'], r]));
  const stamp = (r: Row): Row => ({ ...r, _seq: String(seq) });
  return [
    ...before.filter((r) => !is.has(r['id'])).map((r) => ({ kind: 'delete' as const, rows: [stamp(r)] })),
    ...after.filter((r) => was.has(r['id']) && was.get(r['id']) !== r).map((r) => ({ kind: 'upsert' as const, rows: [stamp(r)] })),
    ...after.filter((r) => !was.has(r['id'])).map((r) => ({ kind: 'upsert' as const, rows: [stamp(r)] })),
  ];
}

const visible = (rows: readonly Row[]): unknown[] => rows.map((r) => [r['id'], r['v'], r['tag']]);

describe('a window, materialized', () => {
  it('is exactly the model window, in order, after every change', () => {
    fc.assert(
      fc.property(orderBy, fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (keys, limit, ops, batch) => {
        const compare = rowComparator(keys, SCHEMA);
        const table = new Map<number, Row>([1, 2, 3, 4, 5].map((id) => [id, { id, v: id % 3 === 0 ? null : id % 2, tag: 'a' }]));
        const window = (): Row[] => [...table.values()].sort(compare).slice(0, limit);
        const options = { keyColumns: ['id'], limit };
        let m: Materialized = emptyRows();
        setOrder(m, compare);
        let seq = 100;
        let delivered = seq; // a change that leaves the window as it is sends nothing
        const snapshot = window();
        for (let i = 0; i < snapshot.length; i += batch) apply(m, { kind: 'snapshot', rows: snapshot.slice(i, i + batch).map((r) => ({ ...r, _seq: String(seq - i) })) }, options);
        apply(m, { kind: 'cursor', seq: BigInt(seq) }, options);
        let last: ReturnType<typeof windowEvents> = [];
        for (const o of ops) {
          if (o.kind === 'repeat') {
            for (const e of last) apply(m, e, options);
          } else if (o.kind === 'reload') {
            // What the store keeps (rows in the order shown, the cursor), read back and re-sorted.
            const rows = rowsOf(m);
            m = { ...emptyRows(), rows: new Map(rows.map((r) => [keyOf(r, ['id']), r])), cursor: m.cursor };
            setOrder(m, compare);
          } else {
            const before = window();
            if (o.kind === 'delete') table.delete(o.id);
            else table.set(o.id, { id: o.id, v: o.v, tag: o.tag });
            last = windowEvents(before, window(), ++seq);
            for (const e of last) apply(m, e, options);
            if (last.length > 0) delivered = seq;
          }
          expect(visible(rowsOf(m))).toEqual(visible(window()));
          expect(m.rows.size).toBe(window().length);
          expect(m.cursor).toBe(BigInt(delivered));
        }
      }),
      { numRuns: 300 },
    );
  });
});
