// The order and limit of a live query (docs/protocol.md §4, windows): `ORDER BY <columns>
// [ASC|DESC] [NULLS FIRST|LAST]` and `LIMIT n`, compiled into a comparator over row images
// that agrees with PostgreSQL's ORDER BY on the same rows (the comparison rules of
// live-filter.ts: exact numbers, float8 with NaN on top, text by code point under the "C"
// collation, false < true). The primary key ends every order (ascending, unless the query
// ordered by it already), so the order is total: ties are broken by the primary key.
import type { TableDef } from '@seqline/domain';
import { bodyOf, type Body } from './ast.js';
import { SqlError } from './errors.js';
import { cellGetter, compareValues, domainOf, type LiveRow } from './live-filter.js';
import { dataTypeName } from './types-map.js';

export interface OrderKey {
  readonly column: string;
  readonly direction: 'asc' | 'desc';
  readonly nulls: 'first' | 'last';
}

export interface LiveOrder {
  /** The keys, the primary key last. */
  readonly keys: readonly OrderKey[];
  /** Negative when `a` comes before `b`; 0 only for the same primary key. */
  compare(a: LiveRow, b: LiveRow): number;
}

const unsupported = (message: string): SqlError => new SqlError('UNSUPPORTED', `${message} is not supported in a live subscription`);

/** The keys of a SELECT's sortClause (none: undefined), each a column of `table` or `_seq`. */
export function orderKeys(sortClause: readonly unknown[] | undefined, table: TableDef, qualifiers: ReadonlySet<string>): OrderKey[] | undefined {
  if (sortClause === undefined || sortClause.length === 0) return undefined;
  const keys: OrderKey[] = [];
  for (const item of sortClause) {
    const sort = bodyOf(item, 'SortBy');
    if (sort === undefined) throw unsupported('this ORDER BY');
    if (sort['sortby_dir'] === 'SORTBY_USING') throw unsupported('ORDER BY … USING');
    const column = sortColumn(sort, table, qualifiers);
    const direction = sort['sortby_dir'] === 'SORTBY_DESC' ? 'desc' : 'asc';
    // PostgreSQL's default: NULLs sort as if larger than every value.
    const nulls = sort['sortby_nulls'] === 'SORTBY_NULLS_FIRST' ? 'first' : sort['sortby_nulls'] === 'SORTBY_NULLS_LAST' ? 'last' : direction === 'desc' ? 'first' : 'last';
    if (!keys.some((k) => k.column === column)) keys.push({ column, direction, nulls });
  }
  if (!keys.some((k) => k.column === table.primaryKey)) keys.push({ column: table.primaryKey, direction: 'asc', nulls: 'last' });
  // Nothing after the primary key can matter.
  return keys.slice(0, keys.findIndex((k) => k.column === table.primaryKey) + 1);
}

function sortColumn(sort: Body, table: TableDef, qualifiers: ReadonlySet<string>): string {
  const ref = bodyOf(sort['node'], 'ColumnRef');
  if (ref === undefined) throw unsupported('ORDER BY an expression (order by columns of the table)');
  const fields = (ref['fields'] as unknown[] | undefined) ?? [];
  const qualifier = fields.slice(0, -1).map((f) => bodyOf(f, 'String')?.['sval']).join('.');
  if (qualifier !== '' && !qualifiers.has(qualifier)) throw new SqlError('INVALID_SQL', `${qualifier} is not the subscription's table`);
  const name = bodyOf(fields.at(-1), 'String')?.['sval'];
  if (typeof name !== 'string') throw unsupported('ORDER BY *');
  if (name === '_seq') return name;
  const column = table.columns.find((c) => c.name === name);
  if (column === undefined) throw new SqlError('INVALID_SQL', `column ${name} does not exist in ${table.namespace}.${table.name}`);
  if (domainOf(column.dataType) === 'opaque') throw unsupported(`ORDER BY a ${dataTypeName(column.dataType)} column (${name})`);
  return name;
}

/** A comparator for `keys` over row images of `table`. */
export function compileOrder(keys: readonly OrderKey[], table: TableDef): LiveOrder {
  const parts = keys.map((k) => {
    const type = k.column === '_seq' ? ('seq' as const) : table.columns.find((c) => c.name === k.column)!.dataType;
    const domain = domainOf(type);
    return { get: cellGetter(k.column, domain, type), domain, sign: k.direction === 'desc' ? -1 : 1, nullsFirst: k.nulls === 'first' };
  });
  return {
    keys,
    compare(a, b) {
      for (const p of parts) {
        const x = p.get(a);
        const y = p.get(b);
        if (x === null || y === null) {
          if (x === y) continue;
          return (x === null) === p.nullsFirst ? -1 : 1;
        }
        const c = compareValues(p.domain, x, y);
        if (c !== 0) return c * p.sign;
      }
      return 0;
    },
  };
}

/** LIMIT n of a live query: a positive integer constant up to `max`; undefined without LIMIT. */
export function liveLimit(select: Body, max: number | undefined): number | undefined {
  const count = select['limitCount'];
  if (count === undefined) return undefined;
  const value = bodyOf(count, 'A_Const');
  const ival = value?.['ival'] as { ival?: number } | undefined;
  if (value === undefined || value['isnull'] === true || ival === undefined) throw unsupported('LIMIT other than a whole number (LIMIT ALL, an expression or a parameter)');
  const n = ival.ival ?? 0;
  if (n < 1) throw new SqlError('INVALID_SQL', `a live query's LIMIT must be at least 1, not ${n}`);
  if (max !== undefined && n > max) throw new SqlError('INVALID_SQL', `a live query's LIMIT is at most ${max} (SEQLINE_LIVE_MAX_LIMIT), not ${n}`);
  if (select['limitOption'] === 'LIMIT_OPTION_WITH_TIES') throw unsupported('FETCH FIRST … WITH TIES');
  return n;
}
