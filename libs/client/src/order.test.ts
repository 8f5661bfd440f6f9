// A live query's order (docs/protocol.md §4.7): cells compared per type as PostgreSQL does,
// NULLS FIRST / LAST in both directions, several columns with the primary key last; TEXT and
// DECIMAL also checked for all inputs against independent references.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SchemaEntry } from './http.js';
import type { Row } from './materialize.js';
import { compareCodePoints, compareDecimal, rowComparator, type OrderKey } from './order.js';

const asc = (column: string, nulls: 'first' | 'last' = 'last'): OrderKey => ({ column, direction: 'asc', nulls });
const desc = (column: string, nulls: 'first' | 'last' = 'first'): OrderKey => ({ column, direction: 'desc', nulls });
const col = (name: string, data_type: unknown, pk = false): SchemaEntry => ({ name, data_type: data_type as string, ...(pk ? { flags: ['pk', 'nn', 'uq'] } : {}) });

/** The ids of `rows` sorted by `orderBy`. */
function sortedIds(rows: Row[], orderBy: OrderKey[], schema: SchemaEntry[]): unknown[] {
  return [...rows].sort(rowComparator(orderBy, schema)).map((r) => r['id']);
}

/** Rows `{ id: i, v }` for each value, ids from 1. */
const rowsOf = (values: unknown[]): Row[] => values.map((v, i) => ({ id: i + 1, v }));

describe('rowComparator', () => {
  it('compares BIGINT cells numerically, as decimal strings or bigints', () => {
    const schema = [col('id', 'Int', true), col('v', 'BigInt')];
    const rows = rowsOf(['9', '10', '-11', '9223372036854775807', '9223372036854775806', 100n, '0']);
    expect(sortedIds(rows, [asc('v'), asc('id')], schema)).toEqual([3, 7, 1, 2, 6, 5, 4]);
    expect(sortedIds(rows, [desc('v'), asc('id')], schema)).toEqual([4, 5, 6, 2, 1, 7, 3]);
  });

  it('compares DECIMAL cells exactly, negatives and different scales included', () => {
    const schema = [col('id', 'Int', true), col('v', { Decimal: { precision: 10, scale: 3 } })];
    const rows = rowsOf(['-2.2', '-10.5', '0', '1.10', '-2.25', '0.001', '12345678901234567890.5', 'NaN', '-Infinity', 'Infinity', '1.1']);
    // 1.10 and 1.1 are equal: the primary key decides.
    expect(sortedIds(rows, [asc('v'), asc('id')], schema)).toEqual([9, 2, 5, 1, 3, 6, 4, 11, 7, 10, 8]);
    expect(compareDecimal('-0.5', '-0.50')).toBe(0);
    expect(compareDecimal('.5', '0.4')).toBe(1);
  });

  it('compares TEXT by code point ("C" collation): capitals first, non-ASCII after ASCII, astral characters after all of the BMP', () => {
    const schema = [col('id', 'Int', true), col('v', 'Text')];
    const rows = rowsOf(['b', 'a', 'B', 'ab', 'é', 'z', '\u{1F600}', '\uFF5E', '', 'a\u{1F600}', 'a\uFFFD']);
    expect(sortedIds(rows, [asc('v'), asc('id')], schema)).toEqual([9, 3, 2, 4, 11, 10, 1, 6, 5, 8, 7]);
    // JavaScript's own `<` compares UTF-16 units and puts the emoji (a surrogate pair) first.
    expect('\u{1F600}' < '\uFF5E').toBe(true);
    expect(compareCodePoints('\u{1F600}', '\uFF5E')).toBeGreaterThan(0);
    expect(compareCodePoints('\u{1F600}', '\u{1F601}')).toBeLessThan(0);
    expect(compareCodePoints('\u{10000}', '\uD7FF')).toBeGreaterThan(0);
  });

  it('puts false before true', () => {
    const schema = [col('id', 'Int', true), col('v', 'Boolean')];
    expect(sortedIds(rowsOf([true, false, true, false]), [asc('v'), asc('id')], schema)).toEqual([2, 4, 1, 3]);
    expect(sortedIds(rowsOf([true, false, true, false]), [desc('v'), asc('id')], schema)).toEqual([1, 3, 2, 4]);
  });

  it('places NULLs as asked, whatever the direction', () => {
    const schema = [col('id', 'Int', true), col('v', 'Int')];
    const rows = rowsOf([2, null, 1, undefined]);
    expect(sortedIds(rows, [asc('v', 'last'), asc('id')], schema)).toEqual([3, 1, 2, 4]);
    expect(sortedIds(rows, [asc('v', 'first'), asc('id')], schema)).toEqual([2, 4, 3, 1]);
    expect(sortedIds(rows, [desc('v', 'first'), asc('id')], schema)).toEqual([2, 4, 1, 3]);
    expect(sortedIds(rows, [desc('v', 'last'), asc('id')], schema)).toEqual([1, 3, 2, 4]);
  });

  it('orders by several columns, ties broken by the primary key (in its own direction)', () => {
    const schema = [col('id', 'BigInt', true), col('priority', 'SmallInt'), col('updated_at', 'Timestamp')];
    const rows: Row[] = [
      { id: 5n, priority: 1, updated_at: 1_700_000_000_000_002 },
      { id: 3n, priority: 2, updated_at: 1_700_000_000_000_001 },
      { id: 4n, priority: 2, updated_at: 1_700_000_000_000_001 },
      { id: 1n, priority: 2, updated_at: 1_700_000_000_000_003 },
      { id: 2n, priority: null, updated_at: 1_700_000_000_000_000 },
    ];
    expect(sortedIds(rows, [desc('priority'), desc('updated_at'), asc('id')], schema)).toEqual([2n, 1n, 3n, 4n, 5n]);
    expect(sortedIds(rows, [asc('priority'), asc('updated_at'), desc('id', 'last')], schema)).toEqual([5n, 4n, 3n, 1n, 2n]);
  });

  it('compares UUIDs as lowercase hex text, bytes bytewise, dates and times as numbers', () => {
    const uuid = [col('id', 'Int', true), col('v', 'Uuid')];
    expect(sortedIds(rowsOf(['0190f5c2-0000-7000-8000-00000000000b', '0190F5C2-0000-7000-8000-00000000000A', '0190f5c2-0000-7000-8000-000000000009']), [asc('v'), asc('id')], uuid)).toEqual([3, 2, 1]);
    const bytes = [col('id', 'Int', true), col('v', 'Bytes')];
    expect(sortedIds(rowsOf([[1, 2], [1], [0, 255], [1, 2, 0]]), [asc('v'), asc('id')], bytes)).toEqual([3, 2, 1, 4]);
    const date = [col('id', 'Int', true), col('v', 'Date')];
    expect(sortedIds(rowsOf([20000, -1, 0]), [desc('v'), asc('id')], date)).toEqual([1, 3, 2]);
  });
});

describe('for all inputs', () => {
  it('orders strings as their UTF-8 bytes (what the "C" collation compares)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 6 });
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders decimal strings as the numbers n / 10^s they spell', () => {
    const decimal = fc.record({ n: fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), s: fc.integer({ min: 0, max: 8 }) });
    /** n / 10^s written out with s fraction digits ("-0.05" for n = -5, s = 2). */
    const spell = ({ n, s }: { n: bigint; s: number }): string => {
      const digits = (n < 0n ? -n : n).toString().padStart(s + 1, '0');
      return `${n < 0n ? '-' : ''}${s === 0 ? digits : `${digits.slice(0, -s)}.${digits.slice(-s)}`}`;
    };
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        // a.n / 10^a.s against b.n / 10^b.s, cross-multiplied.
        const x = a.n * 10n ** BigInt(b.s);
        const y = b.n * 10n ** BigInt(a.s);
        expect(Math.sign(compareDecimal(spell(a), spell(b)))).toBe(x < y ? -1 : x > y ? 1 : 0);
      }),
      { numRuns: 2000 },
    );
  });
});
