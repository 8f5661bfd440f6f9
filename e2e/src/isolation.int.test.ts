// Issue 3 isolation: attempts to reach another user's rows, or the database itself, through
// POST /v1/api/sql. Each must answer an error, or rows that are all the caller's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok, sql } from './client.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let alice: string;

beforeAll(async () => {
  stack = await startStack();
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, 'CREATE NAMESPACE app');
  await ok(stack.url, admin, "CREATE TABLE app.t (id INT PRIMARY KEY, secret TEXT) WITH (TYPE='USER')");
  await ok(stack.url, admin, "CREATE TABLE app.private_cfg (id INT PRIMARY KEY, v TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PRIVATE')");
  await ok(stack.url, admin, "INSERT INTO app.private_cfg (id, v) VALUES (1, 'svc-only')");
  await ok(stack.url, admin, "CREATE USER alice WITH PASSWORD 'alice-pass-1' ROLE user");
  await ok(stack.url, admin, "CREATE USER bob WITH PASSWORD 'bob-pass-12' ROLE user");
  alice = await login(stack.url, 'alice', 'alice-pass-1');
  const bob = await login(stack.url, 'bob', 'bob-pass-12');
  await ok(stack.url, alice, "INSERT INTO app.t (id, secret) VALUES (1, 'alice-1'), (2, 'alice-2')");
  await ok(stack.url, bob, "INSERT INTO app.t (id, secret) VALUES (1, 'bob-1'), (3, 'bob-3')");
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const ATTACKS: readonly string[] = [
  "SELECT secret FROM app.t UNION SELECT secret FROM app.t__p0",
  'SELECT secret FROM app.t WHERE id IN (SELECT id FROM app.t__p1)',
  "SELECT (SELECT string_agg(secret, ',') FROM app.t) AS s",
  'WITH x AS (SELECT * FROM app.t) SELECT secret FROM x',
  "WITH t AS (SELECT 'bob-1' AS secret) SELECT secret FROM app.t",
  'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT secret FROM app.t, r',
  'SELECT relname FROM pg_class',
  'SELECT * FROM pg_catalog.pg_tables',
  'SELECT rolname, rolpassword FROM pg_authid',
  'SELECT * FROM information_schema.tables',
  'SELECT * FROM seqline.users',
  'SELECT password_hash FROM seqline.users',
  "SELECT set_config('seqline.user_id', 'bob', true), secret FROM app.t",
  "SELECT secret FROM app.t WHERE set_config('seqline.user_id', 'bob', true) IS NOT NULL",
  "SELECT current_setting('seqline.user_id')",
  'SELECT secret FROM "app"."t" /* comment */ -- trailing',
  'SELECT secret FROM app . t',
  'SELECT pg_sleep(0)',
  "SELECT pg_read_file('/etc/passwd')",
  "SELECT query_to_xml('select * from app.t', true, true, '')",
  'SELECT * FROM ONLY app.t',
  "SELECT 'app.t'::regclass",
  'SELECT ctid, secret FROM app.t',
  'SELECT _user_id, secret FROM app.t',
  'SELECT secret FROM app.t, LATERAL (SELECT secret AS s2 FROM app.t__p2) l',
  'SELECT * FROM app.private_cfg',
  "SELECT secret FROM app.t; SELECT secret FROM app.t__p0",
  'TABLE app.t',
  "SELECT secret FROM app.t WHERE secret = 'bob-1' OR true",
  'SELECT count(*) OVER () AS n, secret FROM app.t',
];

describe('isolation through POST /v1/api/sql', () => {
  it.each(ATTACKS.map((a) => [a]))('%s → an error, or only alice’s rows', async (attack) => {
    const r = await sql(stack.url, alice, attack);
    if (r.status === 200) {
      const text = JSON.stringify(r.body.results);
      expect(text).not.toMatch(/bob-|svc-only|scrypt|rolpassword/);
      return;
    }
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.body).toMatchObject({ status: 'error', results: [] });
    expect(['INVALID_SQL', 'UNSUPPORTED', 'TABLE_NOT_FOUND', 'PERMISSION_DENIED', 'SQL_EXECUTION_ERROR']).toContain(r.body.error?.code);
  });

  it('still answers alice’s own rows exactly, after all of that', async () => {
    const [res] = await ok(stack.url, alice, 'SELECT id, secret FROM app.t ORDER BY id');
    expect(res?.['rows']).toEqual([
      [1, 'alice-1'],
      [2, 'alice-2'],
    ]);
  });

  it('does not let writes reach another partition either', async () => {
    const attempts = [
      "UPDATE app.t SET secret = 'x' WHERE id = (SELECT 3)",
      "INSERT INTO app.t (id, secret) SELECT id + 100, secret FROM app.t",
      "DELETE FROM app.t WHERE id = 3",
      "UPDATE app.t SET secret = 'pwned' WHERE id = 1",
    ];
    for (const a of attempts) await sql(stack.url, alice, a);
    const bob = await login(stack.url, 'bob', 'bob-pass-12');
    const [res] = await ok(stack.url, bob, 'SELECT id, secret FROM app.t ORDER BY id');
    expect(res?.['rows']).toEqual([
      [1, 'bob-1'],
      [3, 'bob-3'],
    ]);
  });
});
