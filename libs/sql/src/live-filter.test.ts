import { beforeAll, describe, expect, it } from 'vitest';
import type { TableDef } from '@seqline/domain';
import { meter } from './filter-budget.js';
import { initSql } from './init.js';
import { compileLiveQuery, liveChange, type LiveRow } from './live-filter.js';

const TICKETS: TableDef = {
  namespace: 'app',
  name: 'tickets',
  tableType: 'USER',
  accessLevel: 'PRIVATE',
  deletedRetentionHours: 168,
  primaryKey: 'id',
  columns: [
    { name: 'id', dataType: 'BigInt', notNull: true, primaryKey: true },
    { name: 'title', dataType: 'Text', notNull: true, primaryKey: false },
    { name: 'status', dataType: 'Text', notNull: false, primaryKey: false },
    { name: 'priority', dataType: 'Int', notNull: false, primaryKey: false },
    { name: 'meta', dataType: 'Json', notNull: false, primaryKey: false },
  ],
};
const catalog = { hasNamespace: (ns: string) => ns === 'app', table: (ns: string, name: string) => (ns === 'app' && name === 'tickets' ? TICKETS : undefined) };
const compile = (sql: string, params?: unknown[]) => compileLiveQuery(sql, { catalog, defaultNamespace: 'app', currentUser: 'alice', maxLimit: 1000, ...(params ? { params } : {}) });
const row = (status: string | null, priority: number | null = 1): LiveRow => ({ id: '1', title: 't', status, priority, meta: null, _seq: '10' });

beforeAll(async () => {
  await initSql();
});

describe('compileLiveQuery', () => {
  it('projects the selected columns, then the primary key and _seq', () => {
    expect(compile('SELECT title, status FROM app.tickets').columns).toEqual(['title', 'status', 'id', '_seq']);
    expect(compile('SELECT * FROM tickets').columns).toEqual(['id', 'title', 'status', 'priority', 'meta', '_seq']);
    expect(compile('SELECT t.title FROM app.tickets AS t WHERE t.status = $1', ['open']).columns).toEqual(['title', 'id', '_seq']);
  });

  it('turns updates that cross the filter into inserts and deletes', () => {
    const { filter } = compile("SELECT id FROM app.tickets WHERE status = 'open'");
    expect(liveChange(filter, row('open'), row('open'))).toBe('update');
    expect(liveChange(filter, row('open'), row('closed'))).toBe('delete');
    expect(liveChange(filter, row('closed'), row('open'))).toBe('insert');
    expect(liveChange(filter, row('closed'), row(null))).toBeUndefined();
    expect(liveChange(filter, undefined, row('open'))).toBe('insert');
    expect(liveChange(filter, row('open'), undefined)).toBe('delete');
    expect(liveChange(filter, undefined, row(null))).toBeUndefined();
  });

  it('uses three-valued logic: unknown is not in, and NOT unknown stays unknown', () => {
    const notOpen = compile("SELECT id FROM app.tickets WHERE NOT (status = 'open')").filter;
    expect([notOpen.test(row('closed')), notOpen.test(row('open')), notOpen.test(row(null))]).toEqual([true, false, null]);
    const orTrue = compile("SELECT id FROM app.tickets WHERE status = 'x' OR priority > 0").filter;
    expect(orTrue.test(row(null, 1))).toBe(true);
    const notIn = compile('SELECT id FROM app.tickets WHERE priority NOT IN (1, NULL)').filter;
    expect([notIn.test(row('a', 1)), notIn.test(row('a', 2))]).toEqual([false, null]);
    expect(compile('SELECT id FROM app.tickets WHERE title = CURRENT_USER()').filter.test({ ...row('a'), title: 'alice' })).toBe(true);
  });

  it.each([
    ['SELECT id FROM app.tickets ORDER BY lower(title)', 'UNSUPPORTED', 'ORDER BY an expression (order by columns of the table) is not supported in a live subscription'],
    ['SELECT id FROM app.tickets ORDER BY meta', 'UNSUPPORTED', 'ORDER BY a Json column (meta) is not supported in a live subscription'],
    ['SELECT id FROM app.tickets ORDER BY nope', 'INVALID_SQL', 'column nope does not exist in app.tickets'],
    ['SELECT id FROM app.tickets ORDER BY x.id', 'INVALID_SQL', "x is not the subscription's table"],
    ['SELECT id FROM app.tickets ORDER BY id USING <', 'UNSUPPORTED', 'ORDER BY … USING is not supported in a live subscription'],
    ['SELECT id FROM app.tickets LIMIT ALL', 'UNSUPPORTED', 'LIMIT other than a whole number (LIMIT ALL, an expression or a parameter) is not supported in a live subscription'],
    ['SELECT id FROM app.tickets LIMIT $1', 'UNSUPPORTED', 'LIMIT other than a whole number (LIMIT ALL, an expression or a parameter) is not supported in a live subscription'],
    ['SELECT id FROM app.tickets LIMIT 0', 'INVALID_SQL', "a live query's LIMIT must be at least 1, not 0"],
    ['SELECT id FROM app.tickets LIMIT 1001', 'INVALID_SQL', "a live query's LIMIT is at most 1000 (SEQLINE_LIVE_MAX_LIMIT), not 1001"],
    ['SELECT id FROM app.tickets LIMIT 5 OFFSET 5', 'UNSUPPORTED', 'OFFSET is not supported in a live subscription'],
    ['SELECT status, count(*) FROM app.tickets GROUP BY status', 'UNSUPPORTED', 'GROUP BY is not supported in a live subscription'],
    ['SELECT lower(title) FROM app.tickets', 'UNSUPPORTED', 'the function lower() in the select list is not supported in a live subscription'],
    ['SELECT a.id FROM app.tickets a JOIN app.tickets b ON a.id = b.id', 'UNSUPPORTED', 'a join or a FROM that is not one table is not supported in a live subscription'],
    ['SELECT id FROM app.tickets WHERE id IN (SELECT 1)', 'UNSUPPORTED', 'a subquery is not supported in a live subscription'],
    ['SELECT id FROM app.tickets WHERE lower(title) = $1', 'UNSUPPORTED', 'the function lower() is not supported in a live subscription'],
    ['SELECT id FROM app.tickets WHERE title IS DISTINCT FROM status', 'UNSUPPORTED', 'IS [NOT] DISTINCT FROM is not supported in a live subscription'],
    ["SELECT id FROM app.tickets WHERE title SIMILAR TO 'a%'", 'UNSUPPORTED', 'SIMILAR TO is not supported in a live subscription'],
    ["SELECT id FROM app.tickets WHERE title LIKE 'a!%' ESCAPE '!'", 'UNSUPPORTED', 'LIKE … ESCAPE is not supported in a live subscription'],
    ["SELECT id FROM app.tickets WHERE meta = '{}'", 'UNSUPPORTED', 'comparing Json column meta is not supported in a live subscription'],
    ["SELECT id FROM app.tickets WHERE priority LIKE '1%'", 'INVALID_SQL', 'LIKE needs a Text column on its left, not Int column priority'],
    ["SELECT id FROM app.tickets WHERE priority = 'high'", 'INVALID_SQL', 'invalid Int value "high" compared with column priority'],
    ['SELECT id FROM app.tickets WHERE status = 3', 'INVALID_SQL', 'cannot compare Text column status with the number 3'],
    ['SELECT id FROM app.tickets WHERE priority', 'INVALID_SQL', 'argument of WHERE must be a boolean, not Int column priority'],
    ['SELECT nope FROM app.tickets', 'INVALID_SQL', 'column nope does not exist in app.tickets'],
    ['SELECT id FROM app.tickets WHERE nope = 1', 'INVALID_SQL', 'column nope does not exist'],
    ['SELECT id FROM app.other', 'TABLE_NOT_FOUND', 'table app.other does not exist'],
    ['SELECT id AS x FROM app.tickets', 'UNSUPPORTED', 'a column alias (x) is not supported in a live subscription'],
    ['SELECT id FROM app.tickets; SELECT 1', 'INVALID_SQL', 'a subscription takes exactly one SELECT statement'],
    ["DELETE FROM app.tickets WHERE status = 'x'", 'INVALID_SQL', 'a subscription takes a SELECT statement'],
    ['SELECT id FROM app.tickets WHERE status = $2', 'INVALID_PARAMETER', 'the subscription uses $2 but 0 parameter(s) were given'],
    ["SELECT id FROM app.tickets WHERE title LIKE 'a\\'", 'INVALID_SQL', 'a LIKE pattern must not end with the escape character \\'],
  ])('%s → %s', (sql, code, message) => {
    expect(() => compile(sql)).toThrow(expect.objectContaining({ code, message }));
  });
});

describe('live filters within their budget', () => {
  it('evaluate the pathological LIKE and ILIKE of issue 10 on a 100 KB row in milliseconds', () => {
    const long = { ...row('open'), title: 'a'.repeat(100_000) };
    for (const op of ['LIKE', 'ILIKE', 'NOT LIKE']) {
      const { filter } = compile(`SELECT * FROM app.tickets WHERE title ${op} '${'%a'.repeat(30)}%b'`);
      const started = performance.now();
      expect(filter.test(long)).toBe(op === 'NOT LIKE');
      expect(performance.now() - started).toBeLessThan(200);
    }
  });

  it('a filter evaluated with a meter throws FilterBudgetExceeded past its budget, and not without one', () => {
    const { filter } = compile(`SELECT * FROM app.tickets WHERE title IN (${Array.from({ length: 200 }, (_, i) => `'${'x'.repeat(100)}${i}'`).join(', ')})`);
    const long = { ...row('open'), title: 'x'.repeat(1000) };
    expect(filter.test(long)).toBe(false);
    expect(filter.test(long, meter(100_000))).toBe(false);
    expect(() => filter.test(long, meter(10_000))).toThrow('evaluating the subscription\'s filter on one change took more than 10000 steps');
  });
});
