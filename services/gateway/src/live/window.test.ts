// Window (docs/protocol.md §4.7): the events that keep a client's rows exactly the window.
import type { TableDef } from '@seqline/domain';
import { compileLiveQuery, initSql, type LiveRow } from '@seqline/sql';
import { beforeAll, describe, expect, it } from 'vitest';
import { Window } from './window.js';

const TABLE: TableDef = {
  namespace: 'app',
  name: 't',
  tableType: 'USER',
  accessLevel: 'PRIVATE',
  deletedRetentionHours: 168,
  primaryKey: 'id',
  columns: [
    { name: 'id', dataType: 'Int', notNull: true, primaryKey: true },
    { name: 'v', dataType: 'Int', notNull: false, primaryKey: false },
  ],
};

beforeAll(async () => {
  await initSql();
});

/** A window over `ORDER BY v DESC LIMIT n`, with `slack` rows below it. */
function windowOf(limit: number, slack: number): Window {
  const query = compileLiveQuery(`SELECT id, v FROM app.t ORDER BY v DESC LIMIT ${limit}`, { catalog: { hasNamespace: () => true, table: () => TABLE }, defaultNamespace: 'app', currentUser: 'alice' });
  return new Window(query.order!, 'id', limit, slack);
}

const row = (id: number, v: number): LiveRow => ({ id, v, _seq: String(id) });
const inserted = (id: number, v: number) => ({ old: undefined, oldIn: false, next: row(id, v), nextIn: true });

describe('Window', () => {
  it('enter at the top: the last row leaves, then the new one enters, both at the change’s _seq', () => {
    const w = windowOf(2, 2);
    w.load({ rows: [row(1, 30), row(2, 20), row(3, 10)], complete: true });
    w.adopt();
    expect(w.apply(inserted(4, 40), '9')).toEqual([
      { kind: 'delete', old: { ...row(2, 20), _seq: '9' } },
      { kind: 'insert', row: { ...row(4, 40), _seq: '9' } },
    ]);
    expect(w.rows.map((r) => r['id'])).toEqual([4, 1]);
  });

  it('a row that leaves pulls the next one in; a change within the window is an update; past the slack a refill is due', () => {
    const w = windowOf(2, 1);
    w.load({ rows: [row(1, 30), row(2, 20), row(3, 10)], complete: false });
    w.adopt();
    expect(w.apply({ old: row(1, 30), oldIn: true, next: undefined, nextIn: false }, '9')).toEqual([
      { kind: 'delete', old: { ...row(1, 30), _seq: '9' } },
      { kind: 'insert', row: { ...row(3, 10), _seq: '9' } },
    ]);
    const moved = { ...row(3, 25), _seq: '10' };
    expect(w.apply({ old: row(3, 10), oldIn: true, next: moved, nextIn: true }, '10')).toEqual([{ kind: 'update', row: moved, old: { ...row(3, 10), _seq: '9' } }]);
    expect(w.rows.map((r) => r['id'])).toEqual([3, 2]);
    // Nothing is known below 3: a second row leaving leaves one row known, a refill is due.
    expect(w.apply({ old: row(2, 20), oldIn: true, next: undefined, nextIn: false }, '11')).toBeUndefined();
    expect(w.known).toBe(false);
  });

  it('a refill read of more rows than it keeps, whose undone changes took the top rows, is known as of the refill point', () => {
    // LIMIT 1 with 1 row of slack: the read at the boundary holds 4 rows, the 3 newest of them
    // inserted after the refill point at the top. Undoing them leaves the 4th, the window then.
    const w = windowOf(1, 1);
    w.load({ rows: [row(4, 40), row(3, 30), row(2, 20), row(1, 10)], complete: true });
    w.undo([inserted(2, 20), inserted(3, 30), inserted(4, 40)]);
    expect(w.known).toBe(true);
    expect(w.rows).toEqual([row(1, 10)]);
  });
});
