// A live query's order (docs/protocol.md §4.7, windows): the `subscription_ack`'s `order_by`
// made into a row comparator, comparing cells the way PostgreSQL does for the column's type
// (the ack's `schema`, cells encoded as in docs/protocol.md §1), so the client's rows stand in
// the server's order. `order_by` ends with the primary key, so the order is total.
import type { SchemaEntry } from './http.js';
import type { Row } from './materialize.js';

/** One key of a live query's order, as the ack's `order_by` has it (the last is the primary key). */
export interface OrderKey {
  readonly column: string;
  readonly direction: 'asc' | 'desc';
  readonly nulls: 'first' | 'last';
}

/** Negative when `a` comes first, positive when `b` does, 0 for the same place. */
export type RowComparator = (a: Row, b: Row) => number;

type CellComparator = (a: unknown, b: unknown) => number;

/** Compares rows by `orderBy`, each column by its type in `schema` (a column not in it: by its cells' JSON types). */
export function rowComparator(orderBy: readonly OrderKey[], schema: readonly SchemaEntry[]): RowComparator {
  const keys = orderBy.map((key) => {
    const entry = schema.find((c) => c.name === key.column);
    return { column: key.column, sign: key.direction === 'desc' ? -1 : 1, nullSign: key.nulls === 'first' ? -1 : 1, compare: cellComparator(entry?.data_type) };
  });
  return (a, b) => {
    for (const key of keys) {
      const x = a[key.column];
      const y = b[key.column];
      const xNull = x === null || x === undefined;
      const yNull = y === null || y === undefined;
      // NULLS FIRST / LAST hold whatever the direction (PostgreSQL's rule).
      const c = xNull || yNull ? (xNull === yNull ? 0 : xNull ? key.nullSign : -key.nullSign) : key.sign * key.compare(x, y);
      if (c !== 0) return c;
    }
    return 0;
  };
}

/** How two non-null cells of a type compare (docs/protocol.md §1 encodings). */
export function cellComparator(dataType: unknown): CellComparator {
  if (typeof dataType === 'object' && dataType !== null && 'Decimal' in dataType) return compareDecimal;
  switch (dataType) {
    case 'Boolean':
    case 'SmallInt':
    case 'Int':
    case 'Float':
    case 'Double':
    case 'Timestamp':
    case 'DateTime':
    case 'Date':
    case 'Time':
      return compareNumber;
    case 'BigInt':
      return compareBigInt;
    case 'Bytes':
      return compareBytes;
    case 'Uuid':
      return (a, b) => compareCodePoints(String(a).toLowerCase(), String(b).toLowerCase());
    default:
      return compareAny;
  }
}

/** Numbers (booleans as 0 and 1: false before true). */
function compareNumber(a: unknown, b: unknown): number {
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** BIGINT cells: decimal strings on the wire, `bigint` in the client's default mode. */
function compareBigInt(a: unknown, b: unknown): number {
  const x = typeof a === 'bigint' ? a : BigInt(a as string | number);
  const y = typeof b === 'bigint' ? b : BigInt(b as string | number);
  return x < y ? -1 : x > y ? 1 : 0;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;
/** PostgreSQL's special numerics, in its order: -Infinity < every number < Infinity < NaN. */
const SPECIAL: Readonly<Record<string, number>> = { '-Infinity': -1, Infinity: 1, NaN: 2 };

/** DECIMAL cells: decimal strings ("-12.50"), compared exactly. */
export function compareDecimal(a: unknown, b: unknown): number {
  const x = String(a);
  const y = String(b);
  const sx = SPECIAL[x] ?? 0;
  const sy = SPECIAL[y] ?? 0;
  if (sx !== 0 || sy !== 0) return Math.sign(sx - sy);
  const mx = DECIMAL.exec(x);
  const my = DECIMAL.exec(y);
  if (mx === null || my === null) return compareCodePoints(x, y);
  const scale = Math.max(mx[3]?.length ?? 0, my[3]?.length ?? 0);
  const scaled = (m: RegExpExecArray): bigint => BigInt(`${m[1] === '-' ? '-' : ''}${m[2] || '0'}${(m[3] ?? '').padEnd(scale, '0')}`);
  const vx = scaled(mx);
  const vy = scaled(my);
  return vx < vy ? -1 : vx > vy ? 1 : 0;
}

/**
 * Strings by Unicode code point, as PostgreSQL's "C" collation orders UTF-8. JavaScript's `<`
 * compares UTF-16 code units instead, which puts a character above U+FFFF (a surrogate pair,
 * 0xD800–0xDFFF) before U+E000–U+FFFF: at the first differing unit the ranges are swapped back.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** A UTF-16 unit's rank in code point order: surrogates above U+E000–U+FFFF. */
function codePointRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;
}

/** BYTES cells (arrays of byte values), bytewise, a prefix first. */
function compareBytes(a: unknown, b: unknown): number {
  const x = a as readonly number[];
  const y = b as readonly number[];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** A column whose type is not known: by the cells' own types (numbers, bigints, strings by code point). */
function compareAny(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  if ((typeof a === 'number' || typeof a === 'bigint' || typeof a === 'boolean') && typeof a === typeof b) return a < (b as typeof a) ? -1 : a > (b as typeof a) ? 1 : 0;
  return compareCodePoints(jsonText(a), jsonText(b));
}

function jsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? '';
}
