// Issue 10, part B: every way PostgreSQL can call a function goes through the rewrite's
// allow-lists. As an ordinary `user`, through HTTP: field notation `(x).f` (which PostgreSQL
// turns into f(x)) in reads and writes, the ts_stat and pg_read_file forms that reached other
// tenants' rows and the server's files, ROW/field/subscript variants and casts to regclass are
// refused before PostgreSQL sees them, nothing is written, and a bystander is still served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBystander, expectServed, type Bystander } from './bystander.js';
import { login, ok, sql } from './client.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let mallory: string;
let bystander: Bystander;

beforeAll(async () => {
  stack = await startStack();
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, 'CREATE NAMESPACE ns');
  await ok(stack.url, admin, "CREATE TABLE ns.t (id BIGINT PRIMARY KEY, v TEXT) WITH (TYPE='USER')");
  await ok(stack.url, admin, "CREATE USER mallory WITH PASSWORD 'mallory-pass-1' ROLE user");
  await ok(stack.url, admin, "CREATE USER victim WITH PASSWORD 'victim-pass-12' ROLE user");
  mallory = await login(stack.url, 'mallory', 'mallory-pass-1');
  const victim = await login(stack.url, 'victim', 'victim-pass-12');
  await ok(stack.url, victim, "INSERT INTO ns.t (id, v) VALUES (1, 'victim-secret')");
  bystander = await createBystander(stack, admin, 'ns');
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const FIELD = (name: string): string => `UNSUPPORTED: field selection (…).${name} is not supported`;

const ATTACKS: readonly (readonly [sql: string, refusal: string])[] = [
  ["SELECT ('port'::text).current_setting", FIELD('current_setting')],
  ["INSERT INTO ns.t (id, v) VALUES (1, ('data_directory'::text).current_setting)", FIELD('current_setting')],
  ["INSERT INTO ns.t (id, v) VALUES (2, ('postgresql.conf'::text).pg_read_file)", FIELD('pg_read_file')],
  ["INSERT INTO ns.t (id, v) VALUES (3, (('SELECT v::tsvector FROM ns.t'::text).ts_stat)::text)", FIELD('ts_stat')],
  ["INSERT INTO ns.t (id, v) VALUES (4, (('SELECT user_id::tsvector FROM seqline.users'::text).ts_stat)::text)", FIELD('ts_stat')],
  ["UPDATE ns.t SET v = (v).pg_read_file WHERE id = 1", FIELD('pg_read_file')],
  ["SELECT (('SELECT v::tsvector FROM ns.t'::text).ts_stat).word", FIELD('word')],
  ["SELECT (ROW('port')).f1", FIELD('f1')],
  ["SELECT ((ARRAY['port'::text])[1]).current_setting", FIELD('current_setting')],
  ['SELECT t.v.current_setting FROM ns.t t', 'INVALID_SQL: missing FROM-clause entry for table v'],
  ['SELECT t.current_setting FROM ns.t t', 'INVALID_SQL: column t.current_setting does not exist'],
  ["SELECT 'seqline.users'::regclass", 'UNSUPPORTED: cast to regclass is not allowed'],
  ["INSERT INTO ns.t (id, v) VALUES (5, (regclass 'seqline.users')::text)", 'UNSUPPORTED: cast to regclass is not allowed'],
];

describe('hostile SQL through the rewrite (POST /v1/api/sql as a user)', () => {
  it.each(ATTACKS)('%s → %s', async (attack, refusal) => {
    const r = await sql(stack.url, mallory, attack);
    expect({ status: r.status, refusal: `${r.body.error?.code}: ${r.body.error?.message}` }).toEqual({ status: 400, refusal });
    expect(r.body.results).toEqual([]);
    await expectServed(stack, bystander);
  });

  it('wrote nothing: mallory has no rows, the victim still has exactly theirs', async () => {
    expect((await ok(stack.url, mallory, 'SELECT id, v FROM ns.t'))[0]?.['rows']).toEqual([]);
    const victim = await login(stack.url, 'victim', 'victim-pass-12');
    expect((await ok(stack.url, victim, 'SELECT id, v FROM ns.t'))[0]?.['rows']).toEqual([['1', 'victim-secret']]);
    await expectServed(stack, bystander);
  });
});
