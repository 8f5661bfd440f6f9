// Issue 3 bad input: each mistake gets docs/protocol.md's code and status with a message saying what
// is wrong, nothing partial is written, and the next request works.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok, post, sql } from './client.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let admin: string;
let alice: string;

beforeAll(async () => {
  stack = await startStack({ env: { SEQLINE_MAX_SQL_BYTES: '2048' } });
  admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, 'CREATE NAMESPACE app');
  await ok(stack.url, admin, "CREATE TABLE app.items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty INT) WITH (TYPE='USER')");
  await ok(stack.url, admin, "CREATE USER alice WITH PASSWORD 'alice-pass-1' ROLE user");
  alice = await login(stack.url, 'alice', 'alice-pass-1');
  await ok(stack.url, alice, "INSERT INTO app.items (id, name, qty) VALUES (1, 'one', 1)");
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const url = () => `${stack.url}/v1/api/sql`;
const auth = () => ({ authorization: `Bearer ${alice}` });

async function expectError(r: { status: number; body: Record<string, unknown> }, status: number, code: string, message: RegExp): Promise<void> {
  expect(r.status).toBe(status);
  expect(r.body).toMatchObject({ status: 'error', results: [], error: { code } });
  expect((r.body['error'] as { message: string }).message).toMatch(message);
  expect(JSON.stringify(r.body)).not.toMatch(/\n\s+at /); // never a stack trace
  // and the next request works, with nothing partial written
  const [after] = await ok(stack.url, alice, 'SELECT id, name, qty FROM app.items ORDER BY id');
  expect(after?.['rows']).toEqual([['1', 'one', 1]]);
}

describe('bad input over HTTP', () => {
  it('malformed JSON → 400 INVALID_INPUT', async () => {
    await expectError(await post(url(), '{"sql": "SELECT 1"', auth()), 400, 'INVALID_INPUT', /JSON/);
  });

  it('missing sql → 400 INVALID_INPUT', async () => {
    await expectError(await post(url(), { query: 'SELECT 1' }, auth()), 400, 'INVALID_INPUT', /sql/);
  });

  it('wrong parameter types → 400 INVALID_PARAMETER', async () => {
    await expectError(await post(url(), { sql: 'SELECT id FROM app.items WHERE id = $1', params: [{ nested: true }] }, auth()), 400, 'INVALID_PARAMETER', /param/i);
    await expectError(await post(url(), { sql: "INSERT INTO app.items (id, name) VALUES ($1, 'x')", params: ['not-a-number'] }, auth()), 400, 'INVALID_PARAMETER', /bigint|invalid input/i);
  });

  it('params with several statements → 400 PARAMS_WITH_BATCH', async () => {
    await expectError(await post(url(), { sql: 'SELECT 1; SELECT 2', params: [1] }, auth()), 400, 'PARAMS_WITH_BATCH', /param/i);
  });

  it('empty SQL → 400 EMPTY_SQL', async () => {
    await expectError(await post(url(), { sql: '  -- nothing\n' }, auth()), 400, 'EMPTY_SQL', /empty/i);
  });

  it('SQL over the size limit → 413', async () => {
    await expectError(await post(url(), { sql: `SELECT '${'x'.repeat(3000)}'` }, auth()), 413, 'PAYLOAD_TOO_LARGE', /limit|large/i);
  });

  it('unknown table → 400 TABLE_NOT_FOUND; unknown column → 400 INVALID_SQL', async () => {
    await expectError(await sql(stack.url, alice, 'SELECT * FROM app.nope'), 400, 'TABLE_NOT_FOUND', /app\.nope/);
    await expectError(await sql(stack.url, alice, "INSERT INTO app.nope (id) VALUES (1)"), 400, 'TABLE_NOT_FOUND', /app\.nope/);
    await expectError(await sql(stack.url, alice, 'SELECT nope FROM app.items'), 400, 'INVALID_SQL', /nope/);
    await expectError(await sql(stack.url, alice, "INSERT INTO app.items (id, nope) VALUES (5, 'x')"), 400, 'INVALID_SQL', /nope/);
  });

  it('duplicate primary key → 400 SQL_EXECUTION_ERROR, and a batch insert writes nothing', async () => {
    await expectError(await sql(stack.url, alice, "INSERT INTO app.items (id, name) VALUES (7, 'seven'), (1, 'dup')"), 400, 'SQL_EXECUTION_ERROR', /duplicate/i);
  });

  it('NOT NULL violation → 400', async () => {
    await expectError(await sql(stack.url, alice, 'INSERT INTO app.items (id, name) VALUES (8, NULL)'), 400, 'SQL_EXECUTION_ERROR', /null/i);
  });

  it('missing, expired and tampered tokens → 401 with their codes', async () => {
    await expectError(await post(url(), { sql: 'SELECT 1' }), 401, 'MISSING_AUTHORIZATION', /authoriz/i);
    const [header, payload] = alice.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin', role: 'dba' })).toString('base64url');
    const badSig = createHmac('sha256', 'not-the-secret').update(`${header}.${forged}`).digest('base64url');
    await expectError(await post(url(), { sql: 'SELECT 1' }, { authorization: `Bearer ${header}.${forged}.${badSig}` }), 401, 'INVALID_CREDENTIALS', /.+/);
    const expired = Buffer.from(JSON.stringify({ ...claims, iat: 1000, exp: 2000 })).toString('base64url');
    const expiredSig = createHmac('sha256', stack.jwtSecret).update(`${header}.${expired}`).digest('base64url');
    await expectError(await post(url(), { sql: 'SELECT 1' }, { authorization: `Bearer ${header}.${expired}.${expiredSig}` }), 401, 'TOKEN_EXPIRED', /expired/i);
  });

  it('locks an account after repeated wrong passwords, even for the right one, answering like any failed login', async () => {
    await ok(stack.url, admin, "CREATE USER carol WITH PASSWORD 'carol-pass-1' ROLE user");
    const attempt = (password: string) => post(`${stack.url}/v1/api/auth/login`, { username: 'carol', password });
    for (let i = 0; i < 5; i++) expect((await attempt('wrong-password')).status).toBe(401);
    const locked = await attempt('carol-pass-1');
    expect([locked.status, locked.body]).toEqual([401, { error: 'unauthorized', message: 'invalid username or password' }]);
    expect((await attempt('wrong-password')).status).toBe(401);
  });
});
