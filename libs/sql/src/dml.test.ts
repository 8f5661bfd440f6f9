import { parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ColumnDef, TableDef, TableType } from '@seqline/domain';
import { planDml, type DeletePlan, type DmlContext, type InsertPlan, type UpdatePlan } from './dml.js';
import { timestampParts } from './dml-check.js';
import { SqlError } from './errors.js';
import { initSql } from './init.js';
import { parseStatements } from './parse.js';
import type { Statement } from './types.js';

const COLUMNS: readonly ColumnDef[] = [
  { name: 'id', dataType: 'BigInt', notNull: true, primaryKey: true, default: { kind: 'snowflake_id' } },
  { name: 'title', dataType: 'Text', notNull: true, primaryKey: false },
  { name: 'n', dataType: 'Int', notNull: false, primaryKey: false, default: { kind: 'literal', sql: '0' } },
  { name: 'at', dataType: 'Timestamp', notNull: false, primaryKey: false, default: { kind: 'now' } },
  { name: 'by', dataType: 'Text', notNull: false, primaryKey: false, default: { kind: 'current_user' } },
  { name: 'ref', dataType: 'Uuid', notNull: false, primaryKey: false, default: { kind: 'uuid_v7' } },
  { name: 'note', dataType: { Decimal: { precision: 10, scale: 2 } }, notNull: false, primaryKey: false },
];

function table(name: string, tableType: TableType, columns: readonly ColumnDef[] = COLUMNS, primaryKey = 'id'): TableDef {
  return { namespace: 'app', name, tableType, accessLevel: 'PUBLIC', deletedRetentionHours: 168, primaryKey, columns };
}

const T = table('t', 'USER');
const S = table('s', 'SHARED');
// 2026-11-24 01:02:03.456789 UTC
const CTX: DmlContext = { owner: 'alice', currentUser: 'alice', nowMicros: 1795482123456789n };
const NOW_TEXT = '2026-11-24 01:02:03.456789+00';
const UUID = '0190a0b0-0000-7000-8000-00000000000a';

type Dml = Extract<Statement, { kind: 'insert' | 'update' | 'delete' }>;

function dml(text: string): Dml {
  const stmt = parseSync(text).stmts?.[0]?.stmt as unknown as Record<string, Record<string, unknown>>;
  const type = Object.keys(stmt)[0] ?? '';
  const kind = ({ InsertStmt: 'insert', UpdateStmt: 'update', DeleteStmt: 'delete' } as const)[type] ?? 'insert';
  const relation = stmt[type]?.['relation'] as { schemaname?: string; relname?: string } | undefined;
  return { kind, table: { namespace: relation?.schemaname ?? 'app', name: relation?.relname ?? '' }, ast: stmt, text };
}

function insert(text: string, params: readonly unknown[] = [], t: TableDef = T): InsertPlan {
  const plan = planDml(dml(text), t, params, CTX);
  if (plan.kind !== 'insert') throw new Error('expected an insert plan');
  return plan;
}

function modify(text: string, params: readonly unknown[] = [], t: TableDef = T): UpdatePlan | DeletePlan {
  const plan = planDml(dml(text), t, params, CTX);
  if (plan.kind === 'insert') throw new Error('expected an update or delete plan');
  return plan;
}

function ids(first: bigint) {
  let next = first;
  return { nextSnowflakeId: () => next++, nextUuidV7: () => UUID };
}

/** The plan's SQL is exactly one statement of the expected kind. */
function statementType(text: string): string {
  const stmts = parseSync(text).stmts ?? [];
  expect(stmts).toHaveLength(1);
  return Object.keys(stmts[0]?.stmt ?? {})[0] ?? '';
}

const IMAGE = '"t"."id", "t"."title", "t"."n", "t"."at", "t"."by", "t"."ref", "t"."note", "t"."_seq"';
const REVIVE =
  '"id" = EXCLUDED."id", "title" = EXCLUDED."title", "n" = EXCLUDED."n", "at" = EXCLUDED."at", "by" = EXCLUDED."by", "ref" = EXCLUDED."ref", ' +
  '"note" = EXCLUDED."note", "_seq" = EXCLUDED."_seq", "_deleted" = false';

beforeAll(async () => {
  await initSql();
});

describe('planDml: INSERT', () => {
  it('fills every user column: given values with their params, then each kind of default', () => {
    const plan = insert('INSERT INTO app.t (title, note) VALUES ($2, $1), (upper($2), DEFAULT) RETURNING *', ['9.5', 'hello']);
    expect({ rowCount: plan.rowCount, returning: plan.returning }).toEqual({ rowCount: 2, returning: ['id', 'title', 'n', 'at', 'by', 'ref', 'note'] });
    const { head, values, tail, ...built } = plan.build({ seqs: [10n, 11n], ...ids(100n) });
    // Generated values (ids, NOW(), CURRENT_USER, UUIDs, _seq) are parameters: one text per shape.
    const row1 = 'CAST($1::bigint AS bigint), CAST(($2) AS text), CAST((0) AS integer), CAST($3::timestamptz AS timestamptz), CAST($4::text AS text), CAST($5::uuid AS uuid), CAST(($6) AS numeric(10,2))';
    const row2 = 'CAST($7::bigint AS bigint), CAST((upper($2)) AS text), CAST((0) AS integer), CAST($8::timestamptz AS timestamptz), CAST($9::text AS text), CAST($10::uuid AS uuid), CAST(NULL AS numeric(10,2))';
    expect(built).toEqual({
      text:
        'INSERT INTO "app"."t" AS "t" ("_user_id", "id", "title", "n", "at", "by", "ref", "note", "_seq", "_deleted") ' +
        `VALUES ($11, ${row1}, $12::bigint, false), ($11, ${row2}, $13::bigint, false) ` +
        `ON CONFLICT ("_user_id", "id") DO UPDATE SET ${REVIVE} WHERE "t"."_deleted" RETURNING ${IMAGE}`,
      params: ['100', 'hello', NOW_TEXT, 'alice', UUID, '9.5', '101', NOW_TEXT, 'alice', UUID, 'alice', '10', '11'],
    });
    expect(statementType(built.text)).toBe('InsertStmt');
    expect(head + values + tail).toBe(built.text);
    expect(values).toBe(`($11, ${row1}, $12::bigint, false), ($11, ${row2}, $13::bigint, false)`);
  });

  it('resolves NOW(), CURRENT_TIMESTAMP, the other clock functions and CURRENT_USER to the op', () => {
    const plan = insert("INSERT INTO app.t VALUES (1, CURRENT_USER, 2, now(), CURRENT_TIMESTAMP(3)::text, DEFAULT, extract(epoch FROM LOCALTIMESTAMP))");
    const text = plan.build({ seqs: [5n], ...ids(1n) }).text;
    expect(text).toContain(
      "VALUES ($2, CAST((1) AS bigint), CAST(('alice'::text) AS text), CAST((2) AS integer), CAST(('2026-11-24 01:02:03.456789+00'::timestamptz) AS timestamptz), " +
        "CAST((CAST(CAST('2026-11-24 01:02:03.456789+00' AS timestamptz(3)) AS text)) AS text), CAST($1::uuid AS uuid), " +
        "CAST((EXTRACT(EPOCH FROM '2026-11-24 01:02:03.456789'::timestamp)) AS numeric(10,2)), $3::bigint, false)",
    );
    const clock = insert('INSERT INTO app.t (title, by, note) VALUES (CURRENT_DATE::text, CURRENT_TIME::text, extract(hour FROM LOCALTIME))');
    expect(clock.build({ seqs: [5n], ...ids(1n) }).text).toBe(
      'INSERT INTO "app"."t" AS "t" ("_user_id", "id", "title", "n", "at", "by", "ref", "note", "_seq", "_deleted") VALUES ($4, CAST($1::bigint AS bigint), ' +
        "CAST((CAST('2026-11-24'::date AS text)) AS text), CAST((0) AS integer), CAST($2::timestamptz AS timestamptz), " +
        "CAST((CAST('01:02:03.456789+00'::timetz AS text)) AS text), CAST($3::uuid AS uuid), " +
        "CAST((EXTRACT(HOUR FROM '01:02:03.456789'::time)) AS numeric(10,2)), $5::bigint, false) " +
        `ON CONFLICT ("_user_id", "id") DO UPDATE SET ${REVIVE} WHERE "t"."_deleted" RETURNING ${IMAGE}`,
    );
  });

  it('takes a SHARED table without _user_id, and DEFAULT VALUES', () => {
    const t = table('s', 'SHARED', [
      { name: 'k', dataType: 'Uuid', notNull: true, primaryKey: true, default: { kind: 'uuid_v7' } },
      { name: 'v', dataType: 'Json', notNull: false, primaryKey: false },
    ], 'k');
    const plan = insert('INSERT INTO app.s DEFAULT VALUES RETURNING v, k', [], t);
    expect(plan.returning).toEqual(['v', 'k']);
    expect(plan.build({ seqs: [7n], ...ids(1n) })).toMatchObject({
      text:
        'INSERT INTO "app"."s" AS "s" ("k", "v", "_seq", "_deleted") VALUES (CAST($1::uuid AS uuid), CAST(NULL AS jsonb), $2::bigint, false) ' +
        'ON CONFLICT ("k") DO UPDATE SET "k" = EXCLUDED."k", "v" = EXCLUDED."v", "_seq" = EXCLUDED."_seq", "_deleted" = false WHERE "s"."_deleted" RETURNING "s"."k", "s"."v", "s"."_seq"',
      params: [UUID, '7'],
    });
  });

  it('quotes names that are keywords or mixed case', () => {
    const t: TableDef = { ...table('Order', 'USER', [{ name: 'select', dataType: 'Int', notNull: true, primaryKey: true }, { name: 'Name', dataType: 'Text', notNull: false, primaryKey: false }], 'select'), namespace: 'My' };
    const built = insert('INSERT INTO "My"."Order" ("select", "Name") VALUES (1, $1)', ['x'], t).build({ seqs: [1n], ...ids(1n) });
    expect(built.text).toBe(
      'INSERT INTO "My"."Order" AS "Order" ("_user_id", "select", "Name", "_seq", "_deleted") VALUES ($2, CAST((1) AS integer), CAST(($1) AS text), $3::bigint, false) ' +
        'ON CONFLICT ("_user_id", "select") DO UPDATE SET "select" = EXCLUDED."select", "Name" = EXCLUDED."Name", "_seq" = EXCLUDED."_seq", "_deleted" = false ' +
        'WHERE "Order"."_deleted" RETURNING "Order"."select", "Order"."Name", "Order"."_seq"',
    );
  });

  it('checks its inputs', () => {
    const plan = insert("INSERT INTO app.t (title) VALUES ('a'), ('b')");
    expect(() => plan.build({ seqs: [1n], ...ids(1n) })).toThrow('insert plan: 1 seqs for 2 rows');
    expect(() => insert("INSERT INTO app.t (title) VALUES ('a')").build({ seqs: [1n], nextSnowflakeId: () => 1n, nextUuidV7: () => "x'" })).toThrow(
      "insert plan: nextUuidV7 returned x', not a UUID",
    );
  });
});

describe('planDml: UPDATE and DELETE', () => {
  it('selects the matching live rows for update, then writes the new versions by key', () => {
    const plan = modify('UPDATE app.t AS x SET n = x.n + $2, at = NOW(), by = CURRENT_USER, note = DEFAULT WHERE x.id = $1 OR title = $3 RETURNING n', ['1', 5, 'a']);
    expect({ kind: plan.kind, returning: plan.returning }).toEqual({ kind: 'update', returning: ['n'] });
    expect(plan.selectForUpdate()).toEqual({
      text: `SELECT ${IMAGE} FROM "app"."t" AS "t" WHERE "t"."_user_id" = $3 AND NOT "t"."_deleted" AND (t.id = $1 OR t.title = $2) ORDER BY "t"."id" FOR UPDATE`,
      params: ['1', 'a', 'alice'],
    });
    const applied = plan.apply({ keys: ['1', 2n], seqs: [20n, 21n] });
    expect(applied).toEqual({
      text:
        `UPDATE "app"."t" AS "t" SET "n" = (t.n + $1), "at" = ('2026-11-24 01:02:03.456789+00'::timestamptz), "by" = ('alice'::text), "note" = NULL, "_seq" = "_k"."seq" ` +
        'FROM unnest($3::bigint[], $4::bigint[]) AS "_k"("pk", "seq") ' +
        `WHERE "t"."_user_id" = $2 AND "t"."id" = "_k"."pk" AND NOT "t"."_deleted" RETURNING ${IMAGE}`,
      params: [5, 'alice', ['1', '2'], ['20', '21']],
    });
    expect(statementType(plan.selectForUpdate().text)).toBe('SelectStmt');
    expect(statementType(applied.text)).toBe('UpdateStmt');
  });

  it('tombstones on DELETE, keeping the old values', () => {
    const plan = modify('DELETE FROM app.t WHERE title LIKE $1 AND n > 0', ['a%']);
    expect({ kind: plan.kind, returning: plan.returning }).toEqual({ kind: 'delete', returning: null });
    expect(plan.selectForUpdate()).toEqual({
      text: `SELECT ${IMAGE} FROM "app"."t" AS "t" WHERE "t"."_user_id" = $2 AND NOT "t"."_deleted" AND (t.title LIKE $1 AND t.n > 0) ORDER BY "t"."id" FOR UPDATE`,
      params: ['a%', 'alice'],
    });
    expect(plan.apply({ keys: ['7'], seqs: [70n] })).toEqual({
      text:
        'UPDATE "app"."t" AS "t" SET "_deleted" = true, "_seq" = "_k"."seq" FROM unnest($2::bigint[], $3::bigint[]) AS "_k"("pk", "seq") ' +
        `WHERE "t"."_user_id" = $1 AND "t"."id" = "_k"."pk" AND NOT "t"."_deleted" RETURNING ${IMAGE}`,
      params: ['alice', ['7'], ['70']],
    });
  });

  it('lets the WHERE of a DELETE or UPDATE read _seq (the expiry of STREAM rows), and nothing else write or return it', () => {
    const plan = modify('DELETE FROM app.t WHERE _seq < $1', ['12345678901234']);
    expect(plan.selectForUpdate()).toEqual({
      text: `SELECT ${IMAGE} FROM "app"."t" AS "t" WHERE "t"."_user_id" = $2 AND NOT "t"."_deleted" AND (t._seq < $1) ORDER BY "t"."id" FOR UPDATE`,
      params: ['12345678901234', 'alice'],
    });
    expect(modify("UPDATE app.t SET title = 'x' WHERE t._seq >= 5").selectForUpdate().text).toContain("AND (t._seq >= 5) ORDER BY");
    expect(() => modify('UPDATE app.t SET n = _seq')).toThrow('column _seq is a system column and cannot be used in a write');
    expect(() => modify('DELETE FROM app.t WHERE _deleted')).toThrow('column _deleted is a system column and cannot be used in a write');
    expect(() => modify('DELETE FROM app.t WHERE id = 1 RETURNING _seq')).toThrow('column _seq is a system column and cannot be used in a write');
  });

  it('plans a DELETE without WHERE on a SHARED table', () => {
    const plan = modify('DELETE FROM app.s RETURNING id', [], S);
    expect(plan.selectForUpdate()).toEqual({
      text: `SELECT ${IMAGE.replaceAll('"t"', '"s"')} FROM "app"."s" AS "s" WHERE NOT "s"."_deleted" ORDER BY "s"."id" FOR UPDATE`,
      params: [],
    });
    expect(plan.apply({ keys: ['3'], seqs: [30n] })).toEqual({
      text:
        'UPDATE "app"."s" AS "s" SET "_deleted" = true, "_seq" = "_k"."seq" FROM unnest($1::bigint[], $2::bigint[]) AS "_k"("pk", "seq") ' +
        `WHERE "s"."id" = "_k"."pk" AND NOT "s"."_deleted" RETURNING ${IMAGE.replaceAll('"t"', '"s"')}`,
      params: [['3'], ['30']],
    });
  });

  it('names the keys relation apart from a table called _k, and casts keys to the primary key type', () => {
    const t = table('_k', 'USER', [{ name: 'id', dataType: 'Uuid', notNull: true, primaryKey: true }, { name: 'v', dataType: 'Text', notNull: false, primaryKey: false }]);
    const plan = modify("UPDATE app._k SET v = 'x'", [], t);
    expect(plan.apply({ keys: [UUID], seqs: [1n] }).text).toBe(
      'UPDATE "app"."_k" AS "_k" SET "v" = (\'x\'), "_seq" = "_keys"."seq" FROM unnest($2::uuid[], $3::bigint[]) AS "_keys"("pk", "seq") ' +
        'WHERE "_k"."_user_id" = $1 AND "_k"."id" = "_keys"."pk" AND NOT "_k"."_deleted" RETURNING "_k"."id", "_k"."v", "_k"."_seq"',
    );
  });

  it('checks its inputs', () => {
    expect(() => modify("UPDATE app.t SET title = 'x'").apply({ keys: ['1'], seqs: [] })).toThrow('apply: 1 keys for 0 seqs');
  });
});

describe('planDml: expressions printed from templates', () => {
  // An expression is printed through PostgreSQL's deparser once and then filled in: built again,
  // with other values and parameter orders, the texts must be what printing each time gives.
  it('renumbers the parameters of a repeated expression as printing it afresh would', () => {
    const text = 'INSERT INTO app.t (title, note) VALUES (upper($2) || $1, $1)';
    const first = insert(text, ['1.5', 'a']).build({ seqs: [1n], ...ids(1n) });
    const again = insert(text, ['2.5', 'b']).build({ seqs: [2n], ...ids(2n) });
    expect(first.text).toContain('CAST(($3) AS numeric(10,2))');
    expect(first.text).toContain('CAST((upper($2) || $3) AS text)');
    expect(again.text).toBe(first.text);
    expect(again.params.slice(0, 3)).toEqual(['2', 'b', '2.5']);
  });

  it('leaves a literal holding $ as written, the parameters around it numbered', () => {
    const built = insert("INSERT INTO app.t (title) VALUES ($1 || ' costs $1 or $$2')", ['x']).build({ seqs: [1n], ...ids(1n) });
    const twice = insert("INSERT INTO app.t (title) VALUES ($1 || ' costs $1 or $$2')", ['y']).build({ seqs: [1n], ...ids(1n) });
    expect(built.text).toContain("CAST(($2 || ' costs $1 or $$2') AS text)");
    expect(twice.text).toBe(built.text);
    expect(twice.params[1]).toBe('y');
  });

  it('prints a repeated WHERE with its parameters renumbered', () => {
    const a = modify('UPDATE app.t SET title = $2 WHERE n > $1 AND title <> $2', [5, 'x']).selectForUpdate();
    const b = modify('UPDATE app.t SET title = $2 WHERE n > $1 AND title <> $2', [6, 'y']).selectForUpdate();
    expect(b.text).toBe(a.text);
    expect(a.text).toContain('AND (t.n > $1 AND t.title <> $2) ORDER BY');
    expect(b.params).toEqual([6, 'y', 'alice']);
  });
});

describe('planDml: refusals', () => {
  function refusal(text: string, params: readonly unknown[] = []): string {
    try {
      planDml(dml(text), T, params, CTX);
    } catch (err) {
      if (err instanceof SqlError) return `${err.code}: ${err.message}`;
      throw err;
    }
    return 'accepted';
  }

  it.each([
    ["INSERT INTO app.t (title) VALUES ($2)", ['a'], 'INVALID_PARAMETER: the statement uses $2 but 1 parameter(s) were given'],
    ["UPDATE app.t SET title = 'x' WHERE id = $1", [], 'INVALID_PARAMETER: the statement uses $1 but 0 parameter(s) were given'],
    ["INSERT INTO app.t (title) VALUES ('a')", ['unused'], 'accepted'],
    ['UPDATE app.t SET _seq = 1', [], 'INVALID_SQL: column _seq is a system column and cannot be used in a write'],
    ['DELETE FROM app.t WHERE id IN (SELECT 1)', [], 'UNSUPPORTED: subqueries are not supported in INSERT, UPDATE or DELETE'],
    ["SELECT 1", [], 'INVALID_SQL: expected INSERT statement'],
    ["INSERT INTO app.t (id, title) VALUES (1, ('data_directory'::text).current_setting)", [], 'UNSUPPORTED: field selection (…).current_setting is not supported'],
    ['UPDATE app.t SET title = (title).pg_read_file', [], 'UNSUPPORTED: field selection (…).pg_read_file is not supported'],
    ["DELETE FROM app.t WHERE ('SELECT 1'::text).ts_stat IS NOT NULL", [], 'UNSUPPORTED: field selection (…).ts_stat is not supported'],
    ['UPDATE app.t SET title = t.title.current_setting', [], 'INVALID_SQL: invalid reference to table t.title'],
    ["UPDATE app.t SET title = (ROW(title)).f1", [], 'UNSUPPORTED: field selection (…).f1 is not supported'],
    ["UPDATE app.t SET title = ROW(title)::text", [], 'UNSUPPORTED: ROW(…) in INSERT, UPDATE or DELETE is not supported'],
    ["INSERT INTO app.t (id, title) VALUES (1, ('app.t'::regclass)::text)", [], 'UNSUPPORTED: cast to regclass is not allowed'],
    ["UPDATE app.t SET title = title OPERATOR(pg_catalog.||) 'x'", [], 'UNSUPPORTED: operator pg_catalog.|| is not allowed'],
    ["DELETE FROM app.t WHERE title @@ 'x'", [], 'UNSUPPORTED: operator @@ is not allowed'],
  ])('%s %j → %s', (text, params, expected) => {
    expect(refusal(text, params)).toBe(expected);
  });
});

describe('timestampParts', () => {
  it.each([
    [0n, '1970-01-01', '00:00:00.000000'],
    [1795482123456789n, '2026-11-24', '01:02:03.456789'],
    [1n, '1970-01-01', '00:00:00.000001'],
    [-1n, '1969-12-31', '23:59:59.999999'],
  ])('%s µs', (micros, date, time) => {
    expect(timestampParts(micros)).toEqual({ date, time });
  });
});

describe('planDml after parseStatements', () => {
  it('checks a parsed statement once per table definition, but resolves CURRENT_USER and the clock for every op', () => {
    const text = (name: string): ColumnDef => ({ name, dataType: 'Text', notNull: false, primaryKey: false });
    const id: ColumnDef = { name: 'id', dataType: 'BigInt', notNull: true, primaryKey: true };
    const t = table('t', 'USER', [id, text('title'), text('by')]);
    const [plain] = parseStatements('INSERT INTO t (id, title) VALUES ($1, $2)', { defaultNamespace: 'app' });
    const [timed] = parseStatements('INSERT INTO t (id, title, by) VALUES ($1, now()::text, CURRENT_USER)', { defaultNamespace: 'app' });
    if (plain?.kind !== 'insert' || timed?.kind !== 'insert') throw new Error('expected inserts');
    const values = (stmt: Dml, def: TableDef, ctx: DmlContext, params: unknown[] = ['1', 'x']) => {
      const plan = planDml(stmt, def, params, ctx);
      if (plan.kind !== 'insert') throw new Error('expected an insert plan');
      const built = plan.build({ seqs: [1n], ...ids(1n) });
      return { values: built.values, params: built.params };
    };
    const bob: DmlContext = { owner: 'bob', currentUser: 'bob', nowMicros: CTX.nowMicros + 1_000_000n };
    const plainValues = '($3, CAST(($1) AS bigint), CAST(($2) AS text), CAST(NULL AS text), $4::bigint, false)';
    expect(values(plain, t, CTX)).toEqual({ values: plainValues, params: ['1', 'x', 'alice', '1'] });
    expect(values(plain, t, bob, ['2', 'y'])).toEqual({ values: plainValues, params: ['2', 'y', 'bob', '1'] });
    const timedValues = (at: string, user: string) => `($2, CAST(($1) AS bigint), CAST((CAST('${at}'::timestamptz AS text)) AS text), CAST(('${user}'::text) AS text), $3::bigint, false)`;
    expect(values(timed, t, CTX, ['1'])).toEqual({ values: timedValues('2026-11-24 01:02:03.456789+00', 'alice'), params: ['1', 'alice', '1'] });
    expect(values(timed, t, bob, ['1'])).toEqual({ values: timedValues('2026-11-24 01:02:04.456789+00', 'bob'), params: ['1', 'bob', '1'] });
    // A reloaded catalog's definition of the table (title now an integer) is checked anew.
    const reloaded = table('t', 'USER', [id, { ...text('title'), dataType: 'Int' }, text('by')]);
    expect(values(plain, reloaded, CTX).values).toBe('($3, CAST(($1) AS bigint), CAST(($2) AS integer), CAST(NULL AS text), $4::bigint, false)');
  });

  it('takes CURRENT_USER() and a bare table name', () => {
    const [stmt] = parseStatements('UPDATE t SET by = CURRENT_USER() WHERE id = $1', { defaultNamespace: 'app' });
    if (stmt?.kind !== 'update') throw new Error('expected an update');
    const plan = planDml(stmt, T, ['5'], CTX);
    if (plan.kind !== 'update') throw new Error('expected an update plan');
    expect(plan.apply({ keys: ['5'], seqs: [6n] }).text).toBe(
      'UPDATE "app"."t" AS "t" SET "by" = (\'alice\'::text), "_seq" = "_k"."seq" FROM unnest($2::bigint[], $3::bigint[]) AS "_k"("pk", "seq") ' +
        `WHERE "t"."_user_id" = $1 AND "t"."id" = "_k"."pk" AND NOT "t"."_deleted" RETURNING ${IMAGE}`,
    );
  });
});
