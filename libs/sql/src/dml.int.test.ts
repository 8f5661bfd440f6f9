// The write plans of dml.ts against real tables of the physical layout, run as storage runs
// them: postgres.js `unsafe(text, params)` inside one transaction per op, as the table owner.
import { createTestDatabase } from '@seqline/testkit';
import { parseSync } from 'libpg-query';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TableDef } from '@seqline/domain';
import { planDml, type DmlContext } from './dml.js';
import { initSql } from './init.js';
import type { Statement } from './types.js';

type Row = Record<string, unknown>;
type Dml = Extract<Statement, { kind: 'insert' | 'update' | 'delete' }>;

const T: TableDef = {
  namespace: 'app', name: 't', tableType: 'USER', accessLevel: 'PUBLIC', deletedRetentionHours: 168, primaryKey: 'id',
  columns: [
    { name: 'id', dataType: 'BigInt', notNull: true, primaryKey: true, default: { kind: 'snowflake_id' } },
    { name: 'title', dataType: 'Text', notNull: true, primaryKey: false },
    { name: 'n', dataType: 'Int', notNull: false, primaryKey: false, default: { kind: 'literal', sql: '0' } },
    { name: 'at', dataType: 'Timestamp', notNull: false, primaryKey: false, default: { kind: 'now' } },
    { name: 'by', dataType: 'Text', notNull: false, primaryKey: false, default: { kind: 'current_user' } },
    { name: 'ref', dataType: 'Uuid', notNull: false, primaryKey: false, default: { kind: 'uuid_v7' } },
    { name: 'price', dataType: { Decimal: { precision: 10, scale: 2 } }, notNull: false, primaryKey: false },
  ],
};
const S: TableDef = {
  namespace: 'app', name: 's', tableType: 'SHARED', accessLevel: 'PUBLIC', deletedRetentionHours: 168, primaryKey: 'k',
  columns: [
    { name: 'k', dataType: 'Uuid', notNull: true, primaryKey: true },
    { name: 'doc', dataType: 'Json', notNull: false, primaryKey: false },
    { name: 'ok', dataType: 'Boolean', notNull: true, primaryKey: false, default: { kind: 'literal', sql: 'true' } },
  ],
};
const N: TableDef = {
  namespace: 'app', name: 'names', tableType: 'USER', accessLevel: 'PUBLIC', deletedRetentionHours: 168, primaryKey: 'name',
  columns: [{ name: 'name', dataType: 'Text', notNull: true, primaryKey: true }, { name: 'score', dataType: 'BigInt', notNull: false, primaryKey: false }],
};

const NOW_US = 1795482123456789n;
const NOW = '2026-11-24 01:02:03.456789+00';
const UUIDS = ['0190a0b0-0000-7000-8000-000000000001', '0190a0b0-0000-7000-8000-000000000002', '0190a0b0-0000-7000-8000-000000000003'];

const SETUP = [
  `CREATE SCHEMA "app"`,
  `CREATE TABLE "app"."t" ("_user_id" text NOT NULL, "id" bigint NOT NULL, "title" text NOT NULL, "n" integer, "at" timestamptz, "by" text, "ref" uuid,
     "price" numeric(10,2), "_seq" bigint NOT NULL, "_deleted" boolean NOT NULL DEFAULT false, PRIMARY KEY ("_user_id", "id")) PARTITION BY HASH ("_user_id")`,
  `CREATE TABLE "app"."t__p0" PARTITION OF "app"."t" FOR VALUES WITH (MODULUS 2, REMAINDER 0)`,
  `CREATE TABLE "app"."t__p1" PARTITION OF "app"."t" FOR VALUES WITH (MODULUS 2, REMAINDER 1)`,
  `CREATE TABLE "app"."s" ("k" uuid NOT NULL, "doc" jsonb, "ok" boolean NOT NULL, "_seq" bigint NOT NULL, "_deleted" boolean NOT NULL DEFAULT false, PRIMARY KEY ("k"))`,
  `CREATE TABLE "app"."names" ("_user_id" text NOT NULL, "name" text NOT NULL, "score" bigint, "_seq" bigint NOT NULL, "_deleted" boolean NOT NULL DEFAULT false,
     PRIMARY KEY ("_user_id", "name")) PARTITION BY HASH ("_user_id")`,
  `CREATE TABLE "app"."names__p0" PARTITION OF "app"."names" FOR VALUES WITH (MODULUS 1, REMAINDER 0)`,
];

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: postgres.Sql;
let seq = 0n;

beforeAll(async () => {
  await initSql();
  db = await createTestDatabase();
  // timestamptz and jsonb as the server's text, as storage reads them (services/storage/src/db.ts).
  const raw = (oid: number) => ({ to: oid, from: [oid], serialize: (x: unknown) => String(x), parse: (x: string) => x });
  sql = postgres(db.url, { max: 2, onnotice: () => undefined, connection: { TimeZone: 'UTC' }, types: { timestamptz: raw(1184), jsonb: raw(3802) } });
  for (const statement of SETUP) await sql.unsafe(statement);
});

afterAll(async () => {
  await sql.end();
  await db[Symbol.asyncDispose]();
});

beforeEach(async () => {
  await sql.unsafe('TRUNCATE "app"."t", "app"."s", "app"."names"');
  seq = 0n;
});

function dml(text: string): Dml {
  const stmt = parseSync(text).stmts?.[0]?.stmt as unknown as Record<string, Record<string, unknown>>;
  const type = Object.keys(stmt)[0] ?? '';
  const kind = ({ InsertStmt: 'insert', UpdateStmt: 'update', DeleteStmt: 'delete' } as const)[type] ?? 'insert';
  const relation = stmt[type]?.['relation'] as { schemaname?: string; relname: string };
  return { kind, table: { namespace: relation.schemaname ?? 'app', name: relation.relname }, ast: stmt, text };
}

const nextSeqs = (n: number): bigint[] => Array.from({ length: n }, () => (seq += 1n));
const plain = (rows: readonly Row[]): Row[] => rows.map((r) => ({ ...r }));

interface Applied {
  readonly old?: Row[];
  readonly rows: Row[];
  readonly rowCount?: number;
}

/** One op as storage applies it: plan, ids, statements, in a transaction. */
async function apply(table: TableDef, text: string, params: readonly unknown[] = [], owner = 'alice', snowflake = 100n): Promise<Applied> {
  const ctx: DmlContext = { owner, currentUser: owner, nowMicros: NOW_US };
  const plan = planDml(dml(text), table, params, ctx);
  return sql.begin(async (tx) => {
    if (plan.kind === 'insert') {
      let nextId = snowflake;
      let nextUuid = 0;
      const q = plan.build({ seqs: nextSeqs(plan.rowCount), nextSnowflakeId: () => nextId++, nextUuidV7: () => UUIDS[nextUuid++] ?? '' });
      return { rows: plain(await tx.unsafe(q.text, q.params as never[])), rowCount: plan.rowCount };
    }
    const select = plan.selectForUpdate();
    const old = plain(await tx.unsafe(select.text, select.params as never[]));
    const q = plan.apply({ keys: old.map((r) => r[table.primaryKey]), seqs: nextSeqs(old.length) });
    return { old, rows: plain(await tx.unsafe(q.text, q.params as never[])) };
  });
}

async function physical(table: string): Promise<Row[]> {
  return plain(await sql.unsafe(`SELECT * FROM "app"."${table}" ORDER BY 1, 2`));
}

const row = (id: string, title: string, extra: Row = {}): Row => ({
  id, title, n: 0, at: NOW, by: 'alice', ref: UUIDS[0], price: null, ...extra,
});

describe('INSERT plans', () => {
  it('insert with params and every kind of default, returning the new images', async () => {
    const r = await apply(T, 'INSERT INTO app.t (title, price) VALUES ($1, $2), (upper($1), DEFAULT), (CURRENT_USER, 1.5)', ['hello', '9.5']);
    expect(r).toEqual({
      rowCount: 3,
      rows: [
        row('100', 'hello', { price: '9.50', _seq: '1' }),
        row('101', 'HELLO', { ref: UUIDS[1], _seq: '2' }),
        row('102', 'alice', { ref: UUIDS[2], price: '1.50', _seq: '3' }),
      ],
    });
    expect((await physical('t')).map((p) => [p['_user_id'], p['id'], p['_seq'], p['_deleted']])).toEqual([
      ['alice', '100', '1', false], ['alice', '101', '2', false], ['alice', '102', '3', false],
    ]);
  });

  it('keeps a BIGINT given as a string exact and takes explicit NOW()', async () => {
    const r = await apply(T, "INSERT INTO app.t (id, title, at, n) VALUES ($1, 'big', NOW(), $2)", ['9007199254740993', 7]);
    expect(r.rows).toEqual([row('9007199254740993', 'big', { n: 7, _seq: '1' })]);
  });

  it('does not return a key that is live: storage sees fewer rows than rowCount', async () => {
    await apply(T, "INSERT INTO app.t (id, title) VALUES (1, 'first')");
    const r = await apply(T, "INSERT INTO app.t (id, title) VALUES (1, 'again'), (2, 'new')");
    expect(r).toEqual({ rowCount: 2, rows: [row('2', 'new', { ref: UUIDS[1], _seq: '3' })] });
    expect((await physical('t')).map((p) => [p['id'], p['title'], p['_seq']])).toEqual([['1', 'first', '1'], ['2', 'new', '3']]);
  });

  it('revives a tombstone with the new values and a new _seq', async () => {
    await apply(T, "INSERT INTO app.t (id, title, n) VALUES (1, 'old', 5)");
    await apply(T, 'DELETE FROM app.t WHERE id = 1');
    const r = await apply(T, "INSERT INTO app.t (id, title) VALUES (1, 'reborn')");
    expect(r.rows).toEqual([row('1', 'reborn', { _seq: '3' })]);
    expect((await physical('t')).map((p) => [p['id'], p['title'], p['n'], p['_seq'], p['_deleted']])).toEqual([['1', 'reborn', 0, '3', false]]);
  });

  it('gives each owner its own keys', async () => {
    await apply(T, "INSERT INTO app.t (id, title) VALUES (1, 'a')", [], 'alice');
    const r = await apply(T, "INSERT INTO app.t (id, title) VALUES (1, 'b')", [], 'bob');
    expect(r.rows).toEqual([row('1', 'b', { by: 'bob', _seq: '2' })]);
    expect((await physical('t')).map((p) => [p['_user_id'], p['id'], p['title']])).toEqual([['alice', '1', 'a'], ['bob', '1', 'b']]);
  });
});

describe('UPDATE and DELETE plans', () => {
  beforeEach(async () => {
    await apply(T, "INSERT INTO app.t (id, title, n) VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3)");
    await apply(T, "INSERT INTO app.t (id, title, n) VALUES (2, 'bob-two', 20)", [], 'bob', 200n);
  });

  it('updates with expressions over the old values, old images in key order', async () => {
    const r = await apply(T, "UPDATE app.t SET n = n + 1, title = title || $2, at = CURRENT_TIMESTAMP WHERE n >= $1", ['2', '!']);
    expect(r).toEqual({
      old: [row('2', 'two', { n: 2, ref: UUIDS[1], _seq: '2' }), row('3', 'three', { n: 3, ref: UUIDS[2], _seq: '3' })],
      rows: expect.arrayContaining([row('2', 'two!', { n: 3, ref: UUIDS[1], _seq: '5' }), row('3', 'three!', { n: 4, ref: UUIDS[2], _seq: '6' })]) as unknown,
    });
    expect(r.rows).toHaveLength(2);
    expect((await physical('t')).map((p) => [p['_user_id'], p['id'], p['title'], p['n'], p['_seq']])).toEqual([
      ['alice', '1', 'one', 1, '1'], ['alice', '2', 'two!', 3, '5'], ['alice', '3', 'three!', 4, '6'], ['bob', '2', 'bob-two', 20, '4'],
    ]);
  });

  it('an UPDATE without WHERE touches only the owner partition', async () => {
    const r = await apply(T, 'UPDATE app.t SET n = 0');
    expect(r.old?.map((o) => o['id'])).toEqual(['1', '2', '3']);
    expect((await physical('t')).filter((p) => p['_user_id'] === 'bob').map((p) => [p['n'], p['_seq']])).toEqual([[20, '4']]);
  });

  it('deletes as a tombstone that keeps the old values, then no longer selects it', async () => {
    const r = await apply(T, 'DELETE FROM app.t WHERE id = $1', ['2']);
    expect(r).toEqual({ old: [row('2', 'two', { n: 2, ref: UUIDS[1], _seq: '2' })], rows: [row('2', 'two', { n: 2, ref: UUIDS[1], _seq: '5' })] });
    const tomb = (await physical('t')).find((p) => p['_user_id'] === 'alice' && p['id'] === '2');
    expect(tomb).toEqual({ _user_id: 'alice', ...row('2', 'two', { n: 2, ref: UUIDS[1] }), _seq: '5', _deleted: true });
    expect(await apply(T, 'DELETE FROM app.t WHERE id = 2')).toEqual({ old: [], rows: [] });
    expect(await apply(T, "UPDATE app.t SET title = 'x' WHERE id = 2")).toEqual({ old: [], rows: [] });
  });

  it('takes keys as JS bigints too', async () => {
    const plan = planDml(dml('UPDATE app.t SET n = 9'), T, [], { owner: 'alice', currentUser: 'alice', nowMicros: NOW_US });
    if (plan.kind === 'insert') throw new Error('expected update');
    const q = plan.apply({ keys: [1n, 3n], seqs: [50n, 51n] });
    const rows = plain(await sql.unsafe(q.text, q.params as never[]));
    expect(rows.map((r) => [r['id'], r['n'], r['_seq']]).sort()).toEqual([['1', 9, '50'], ['3', 9, '51']]);
  });
});

describe('other key types and SHARED tables', () => {
  it('text keys', async () => {
    await apply(N, "INSERT INTO app.names VALUES ('ann', 1), ('bo''b', $1)", ['12345678901234567']);
    const r = await apply(N, 'UPDATE app.names SET score = score * 2 WHERE score IS NOT NULL');
    expect(r.old).toEqual([{ name: 'ann', score: '1', _seq: '1' }, { name: "bo'b", score: '12345678901234567', _seq: '2' }]);
    expect([...r.rows].sort((a, b) => String(a['name']).localeCompare(String(b['name'])))).toEqual([
      { name: 'ann', score: '2', _seq: '3' }, { name: "bo'b", score: '24691357802469134', _seq: '4' },
    ]);
  });

  it('a SHARED table with uuid keys and jsonb values', async () => {
    const ins = await apply(S, 'INSERT INTO app.s (k, doc) VALUES ($1, $2), ($3, NULL) RETURNING *', [UUIDS[1], '{"a": 1}', UUIDS[0]]);
    // jsonb arrives as the server's text (storage reads it the same way, losslessly).
    expect(ins.rows).toEqual([{ k: UUIDS[1], doc: '{"a": 1}', ok: true, _seq: '1' }, { k: UUIDS[0], doc: null, ok: true, _seq: '2' }]);
    const upd = await apply(S, "UPDATE app.s SET ok = NOT ok, doc = jsonb_build_object('b', $1::int) WHERE k = $2", [2, UUIDS[1]]);
    expect(upd).toEqual({ old: [{ k: UUIDS[1], doc: '{"a": 1}', ok: true, _seq: '1' }], rows: [{ k: UUIDS[1], doc: '{"b": 2}', ok: false, _seq: '3' }] });
    const del = await apply(S, 'DELETE FROM app.s');
    expect(del.old?.map((o) => o['k'])).toEqual([UUIDS[0], UUIDS[1]]);
    expect((await physical('s')).map((p) => [p['k'], p['_deleted'], p['_seq']])).toEqual([[UUIDS[0], true, '4'], [UUIDS[1], true, '5']]);
  });
});
