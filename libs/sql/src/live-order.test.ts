// The order of a live query (live-order.ts): keys as PostgreSQL reads ORDER BY, and a comparator
// that agrees with it per type. (live-window.int.test.ts in the gateway checks it against
// PostgreSQL's own ORDER BY on random rows.)
import { beforeAll, describe, expect, it } from 'vitest';
import type { TableDef } from '@seqline/domain';
import { initSql } from './init.js';
import { compileLiveQuery, type LiveRow } from './live-filter.js';

const T: TableDef = {
  namespace: 'app',
  name: 't',
  tableType: 'USER',
  accessLevel: 'PRIVATE',
  deletedRetentionHours: 168,
  primaryKey: 'id',
  columns: [
    { name: 'id', dataType: 'BigInt', notNull: true, primaryKey: true },
    { name: 'name', dataType: 'Text', notNull: false, primaryKey: false },
    { name: 'score', dataType: { Decimal: { precision: 10, scale: 2 } }, notNull: false, primaryKey: false },
    { name: 'ratio', dataType: 'Double', notNull: false, primaryKey: false },
    { name: 'done', dataType: 'Boolean', notNull: false, primaryKey: false },
    { name: 'at', dataType: 'Timestamp', notNull: false, primaryKey: false },
  ],
};
const catalog = { hasNamespace: (ns: string) => ns === 'app', table: (ns: string, name: string) => (ns === 'app' && name === 't' ? T : undefined) };
const compile = (sql: string) => compileLiveQuery(sql, { catalog, defaultNamespace: 'app', currentUser: 'alice', maxLimit: 1000 });
const r = (id: string, cells: Partial<Record<string, LiveRow[string]>>): LiveRow => ({ id, name: null, score: null, ratio: null, done: null, at: null, _seq: '1', ...cells });
const sorted = (sql: string, rows: LiveRow[]): string[] => {
  const { order } = compile(sql);
  return [...rows].sort((a, b) => order!.compare(a, b)).map((x) => String(x['id']));
};

beforeAll(async () => {
  await initSql();
});

describe('live query order', () => {
  it('reads ORDER BY as PostgreSQL does (NULLS LAST for ASC, FIRST for DESC) and ends it with the primary key', () => {
    const q = compile('SELECT name FROM t WHERE done ORDER BY score DESC, name, at NULLS FIRST LIMIT 20');
    expect(q.order!.keys).toEqual([
      { column: 'score', direction: 'desc', nulls: 'first' },
      { column: 'name', direction: 'asc', nulls: 'last' },
      { column: 'at', direction: 'asc', nulls: 'first' },
      { column: 'id', direction: 'asc', nulls: 'last' },
    ]);
    expect(q.limit).toBe(20);
    expect(q.columns).toEqual(['name', 'score', 'at', 'id', '_seq']);
    // The snapshot's SELECT has neither: storage orders and limits it.
    expect(q.select.ast).not.toHaveProperty('SelectStmt.sortClause');
    expect(q.select.ast).not.toHaveProperty('SelectStmt.limitCount');
  });

  it('keeps an order by the primary key as given, and drops keys after it; LIMIT alone orders by the primary key', () => {
    expect(compile('SELECT name FROM t ORDER BY id DESC, name').order!.keys).toEqual([{ column: 'id', direction: 'desc', nulls: 'first' }]);
    expect(compile('SELECT name FROM t LIMIT 3').order!.keys).toEqual([{ column: 'id', direction: 'asc', nulls: 'last' }]);
    expect(compile('SELECT name FROM t').order).toBeUndefined();
  });

  it('compares decimals and BIGINTs as numbers, not as text', () => {
    const rows = [r('10', { score: '9.5' }), r('9', { score: '10.25' }), r('2', { score: '-3' }), r('1', { score: '-10.5' })];
    expect(sorted('SELECT id FROM t ORDER BY score', rows)).toEqual(['1', '2', '10', '9']);
    expect(sorted('SELECT id FROM t ORDER BY id', rows)).toEqual(['1', '2', '9', '10']);
  });

  it('compares text by code point, as the "C" collation (astral characters after every BMP one)', () => {
    const rows = [r('1', { name: 'b' }), r('2', { name: 'B' }), r('3', { name: 'é' }), r('4', { name: '😀' }), r('5', { name: '\uffee' }), r('6', { name: 'ab' }), r('7', { name: 'a' })];
    expect(sorted('SELECT id FROM t ORDER BY name', rows)).toEqual(['2', '7', '6', '1', '3', '5', '4']);
  });

  it('puts NULLs first or last as asked, whatever the direction, and breaks ties by the primary key', () => {
    const rows = [r('3', { done: true }), r('1', { done: null }), r('2', { done: false }), r('4', { done: true }), r('5', { done: null })];
    expect(sorted('SELECT id FROM t ORDER BY done', rows)).toEqual(['2', '3', '4', '1', '5']);
    expect(sorted('SELECT id FROM t ORDER BY done DESC', rows)).toEqual(['1', '5', '3', '4', '2']);
    expect(sorted('SELECT id FROM t ORDER BY done DESC NULLS LAST', rows)).toEqual(['3', '4', '2', '1', '5']);
    expect(sorted('SELECT id FROM t ORDER BY done NULLS FIRST', rows)).toEqual(['1', '5', '2', '3', '4']);
  });

  it('orders floats with NaN above every number, and timestamps by time', () => {
    const rows = [r('1', { ratio: 'NaN' }), r('2', { ratio: 1.5 }), r('3', { ratio: '-Infinity' }), r('4', { ratio: 'Infinity' })];
    expect(sorted('SELECT id FROM t ORDER BY ratio', rows)).toEqual(['3', '2', '4', '1']);
    const times = [r('1', { at: 2_000_000 }), r('2', { at: -5 }), r('3', { at: 10 })];
    expect(sorted('SELECT id FROM t ORDER BY at DESC', times)).toEqual(['1', '3', '2']);
  });
});
