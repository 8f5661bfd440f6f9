// Issue 3, the KalamDB-style session end to end: setup → login → DDL → users → writes and
// reads isolated per user → EXECUTE AS → SHARED tables → the change log of each partition.
import { SHARED_OWNER } from '@seqline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChanges } from './changes.js';
import { login, ok, post, sql } from './client.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let admin: string;
let alice: string;
let bob: string;
let svc: string;

beforeAll(async () => {
  stack = await startStack();
  admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, 'CREATE NAMESPACE app');
  await ok(
    stack.url,
    admin,
    "CREATE TABLE app.tickets (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), title TEXT NOT NULL, status TEXT DEFAULT 'open', priority INT, updated_at TIMESTAMP DEFAULT NOW()) WITH (TYPE='USER')",
  );
  await ok(stack.url, admin, "CREATE USER alice WITH PASSWORD 'alice-pass-1' ROLE user");
  await ok(stack.url, admin, "CREATE USER bob WITH PASSWORD 'bob-pass-12' ROLE user");
  await ok(stack.url, admin, "CREATE USER svc WITH PASSWORD 'svc-pass-12' ROLE service");
  [alice, bob, svc] = await Promise.all([login(stack.url, 'alice', 'alice-pass-1'), login(stack.url, 'bob', 'bob-pass-12'), login(stack.url, 'svc', 'svc-pass-12')]);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('the KalamDB session', () => {
  it('refuses a second setup once a DBA exists', async () => {
    const r = await post(`${stack.url}/v1/api/auth/setup`, { username: 'mallory', password: 'mallory-pass' });
    expect(r.status).toBe(409);
    expect(JSON.stringify(r.body)).toMatch(/already/);
    const login = await post(`${stack.url}/v1/api/auth/login`, { username: 'mallory', password: 'mallory-pass' });
    expect(login.status).toBe(401);
  });

  it('isolates each user’s rows, encodes BIGINT as strings and timestamps in µs, and applies defaults', async () => {
    const before = Date.now() * 1000;
    const inserted = await ok(stack.url, alice, "INSERT INTO app.tickets (title, priority) VALUES ('a1', 1), ('a2', 2)");
    expect(inserted).toEqual([{ row_count: 2, message: 'Inserted 2 row(s)', as_user: 'alice', seq: expect.stringMatching(/^\d+$/) as unknown }]);
    await ok(stack.url, bob, "INSERT INTO app.tickets (title, priority, status) VALUES ('b1', 3, 'closed')");
    const after = Date.now() * 1000;

    const [mine] = await ok(stack.url, alice, 'SELECT id, title, status, priority, updated_at, _seq FROM app.tickets ORDER BY _seq');
    expect(mine?.['schema']).toEqual([
      { name: 'id', data_type: 'BigInt', index: 0, flags: ['pk', 'nn', 'uq'] },
      { name: 'title', data_type: 'Text', index: 1, flags: ['nn'] },
      { name: 'status', data_type: 'Text', index: 2 },
      { name: 'priority', data_type: 'Int', index: 3 },
      { name: 'updated_at', data_type: 'Timestamp', index: 4 },
      { name: '_seq', data_type: 'BigInt', index: 5 },
    ]);
    const rows = mine?.['rows'] as unknown[][];
    expect(rows.map((r) => [r[1], r[2], r[3]])).toEqual([
      ['a1', 'open', 1],
      ['a2', 'open', 2],
    ]);
    for (const r of rows) {
      expect(r[0]).toMatch(/^\d{15,19}$/);
      expect(r[5]).toMatch(/^\d{15,19}$/);
      expect(typeof r[4]).toBe('number');
      expect(r[4]).toBeGreaterThanOrEqual(before - 1000);
      expect(r[4]).toBeLessThanOrEqual(after + 1000);
    }
    expect(BigInt(rows[1]![5] as string)).toBeGreaterThan(BigInt(rows[0]![5] as string));
    expect(mine?.['row_count']).toBe(2);
    expect(mine?.['as_user']).toBe('alice');

    const [bobs] = await ok(stack.url, bob, 'SELECT title, status FROM app.tickets');
    expect(bobs?.['rows']).toEqual([['b1', 'closed']]);
    const [admins] = await ok(stack.url, admin, 'SELECT title FROM app.tickets');
    expect(admins?.['rows']).toEqual([]);
  });

  it('lets a service account write into alice’s partition with EXECUTE AS USER', async () => {
    const [res] = await ok(stack.url, svc, "EXECUTE AS USER 'alice' (INSERT INTO app.tickets (title) VALUES ('from svc'))");
    expect(res).toMatchObject({ row_count: 1, as_user: 'alice' });
    const [mine] = await ok(stack.url, alice, "SELECT title FROM app.tickets WHERE title = 'from svc'");
    expect(mine?.['rows']).toEqual([['from svc']]);
    const [svcs] = await ok(stack.url, svc, 'SELECT title FROM app.tickets');
    expect(svcs?.['rows']).toEqual([]);
    const denied = await sql(stack.url, bob, "EXECUTE AS USER 'alice' (INSERT INTO app.tickets (title) VALUES ('nope'))");
    expect(denied.status).toBe(403);
    expect(denied.body.error?.code).toBe('PERMISSION_DENIED');
  });

  it('serves a PUBLIC shared table to users and refuses their writes to it', async () => {
    await ok(stack.url, admin, "CREATE TABLE app.announcements (id INT PRIMARY KEY, body TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')");
    await ok(stack.url, admin, "INSERT INTO app.announcements (id, body) VALUES (1, 'hello'), (2, 'world')");
    const [read] = await ok(stack.url, alice, 'SELECT id, body FROM app.announcements ORDER BY id');
    expect(read?.['rows']).toEqual([
      [1, 'hello'],
      [2, 'world'],
    ]);
    const denied = await sql(stack.url, alice, "INSERT INTO app.announcements (id, body) VALUES (3, 'mine')");
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ status: 'error', results: [], error: { code: 'PERMISSION_DENIED' } });
    const changes = await readChanges(stack.names.changesStream, stack.names.changes(SHARED_OWNER, 'app', 'announcements'));
    expect(changes.map((c) => c.rows.map((r) => r.kind))).toEqual([['insert', 'insert']]);
  });

  it('publishes every row change on the owner’s subject, in order, with an unbroken prev_seq chain', async () => {
    await ok(stack.url, admin, 'CREATE TABLE app.notes (id INT PRIMARY KEY, body TEXT, n INT) WITH (TYPE=\'USER\')');
    await ok(stack.url, bob, "INSERT INTO app.notes (id, body, n) VALUES (1, 'one', 0), (2, 'two', 0)");
    await ok(stack.url, bob, 'UPDATE app.notes SET n = n + 1, body = $1 WHERE id = 1', ['uno']);
    await ok(stack.url, bob, 'DELETE FROM app.notes WHERE id = 2');
    const updatedNothing = await ok(stack.url, bob, 'UPDATE app.notes SET n = 5 WHERE id = 99');
    expect(updatedNothing[0]).toMatchObject({ row_count: 0, message: 'Updated 0 row(s)' });
    await ok(stack.url, bob, "INSERT INTO app.notes (id, body, n) VALUES (2, 'two again', 7)");

    const changes = await readChanges(stack.names.changesStream, stack.names.changes('bob', 'app', 'notes'));
    const rows = changes.map((c) => c.rows.map((r) => ({ kind: r.kind, old: r.oldJson === '' ? null : strip(r.oldJson), new: r.newJson === '' ? null : strip(r.newJson) })));
    expect(rows).toEqual([
      [
        { kind: 'insert', old: null, new: { id: 1, body: 'one', n: 0 } },
        { kind: 'insert', old: null, new: { id: 2, body: 'two', n: 0 } },
      ],
      [{ kind: 'update', old: { id: 1, body: 'one', n: 0 }, new: { id: 1, body: 'uno', n: 1 } }],
      [{ kind: 'delete', old: { id: 2, body: 'two', n: 0 }, new: null }],
      [{ kind: 'insert', old: null, new: { id: 2, body: 'two again', n: 7 } }],
    ]);
    let prev = 0n;
    for (const c of changes) {
      expect(c.prevSeq).toBe(prev);
      for (const r of c.rows) expect(r.seq).toBeGreaterThan(prev);
      expect(c.seq).toBe(c.rows.reduce((m, r) => (r.seq > m ? r.seq : m), 0n));
      expect(c).toMatchObject({ owner: 'bob', namespace: 'app', table: 'notes' });
      prev = c.seq;
    }
  });
});

function strip(json: string): Record<string, unknown> {
  const { _seq, ...rest } = JSON.parse(json) as Record<string, unknown>;
  expect(_seq).toMatch(/^\d+$/);
  return rest;
}
