// POST /v1/api/sql from request to backend calls, with the real SQL parser and an in-memory
// Backend: which statements go where, with which text, keys and params, and the exact answers.
import { ProtocolError } from '@seqline/protocol';
import { memoryLogger } from '@seqline/runtime';
import { initSql } from '@seqline/sql';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeBackend } from '../fake-backend.js';
import { CredentialCache, type CurrentCredentials } from '../auth/credential-cache.js';
import { JwtCodec } from '../jwt.js';
import { RateLimiter } from '../rate-limit.js';
import type { SystemLive } from '../sql/dispatch.js';
import { pgSqlParser } from '../sql/parser.js';
import type { BodyResult } from './body.js';
import type { RequestContext } from './context.js';
import type { Reply } from './reply.js';
import { sqlRoute } from './sql-route.js';

const SECRET = 'sql-route-test-secret-of-32-chars!!!';
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

beforeAll(async () => {
  await initSql();
});

function setup(options: { rate?: number; maxSqlBytes?: number; systemLive?: SystemLive } = {}) {
  const backend = new FakeBackend();
  const clock = { now: NOW, mono: 1000 };
  const logger = memoryLogger();
  const jwt = new JwtCodec(SECRET, () => clock.now);
  const rate = options.rate ?? 100;
  const current = new Map<string, CurrentCredentials>([['alice', { role: 'user', version: 1 }]]);
  const storage = { down: false };
  const load = async (userIds: readonly string[]): Promise<Map<string, CurrentCredentials>> => {
    if (storage.down) throw new ProtocolError('UNAVAILABLE', 'a Seqline service is unavailable; retry');
    return new Map(userIds.flatMap((id) => (current.has(id) ? [[id, current.get(id)!] as const] : [])));
  };
  const credentials = new CredentialCache({ load, ttlMs: 60_000, now: () => clock.mono });
  const route = sqlRoute({
    backend,
    parser: pgSqlParser,
    jwt,
    credentials,
    limiter: new RateLimiter({ capacity: rate * 2, refill: { tokens: rate, periodMs: 1000 }, now: () => clock.mono }),
    maxSqlBytes: options.maxSqlBytes ?? 4096,
    logger,
    monotonic: () => clock.mono,
    ...(options.systemLive === undefined ? {} : { systemLive: options.systemLive }),
  });
  const access = jwt.sign({ sub: 'alice', role: 'user', cv: 1 }, 'access', 3600).token;
  const send = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${access}` }, bodyResult?: BodyResult): Promise<Reply> => {
    const ctx: RequestContext = {
      method: 'POST',
      path: '/v1/api/sql',
      headers,
      remoteAddress: '127.0.0.1',
      startedAt: clock.mono,
      readBody: async () => bodyResult ?? { kind: 'body', text: typeof body === 'string' ? body : JSON.stringify(body) },
    };
    return route(ctx);
  };
  return { backend, clock, logger, jwt, access, send , current, credentials, storage };
}

function errorOf(reply: Reply): { status: number; code: string; message: string } {
  const body = JSON.parse(reply.body) as { status: string; results: unknown[]; took: number; error: { code: string; message: string } };
  expect(body.status).toBe('error');
  expect(body.results).toEqual([]);
  expect(typeof body.took).toBe('number');
  return { status: reply.status, code: body.error.code, message: body.error.message };
}

const ALICE = { userId: 'alice', role: 'user' };

describe('POST /v1/api/sql: authentication', () => {
  it('refuses the token of a dropped user, and one of an older credential version, with TOKEN_REVOKED', async () => {
    const { send, jwt, current, credentials, backend } = setup();
    const token = jwt.sign({ sub: 'alice', role: 'user', cv: 1 }, 'access', 3600).token;
    expect((await send({ sql: 'SELECT 1' }, { authorization: `Bearer ${token}` })).status).toBe(200);
    current.set('alice', { role: 'user', version: 2 }); // a password change
    credentials.invalidate('alice');
    expect(errorOf(await send({ sql: 'SELECT 1' }, { authorization: `Bearer ${token}` }))).toEqual({ status: 401, code: 'TOKEN_REVOKED', message: "token revoked: the user's credentials changed; log in again" });
    current.delete('alice'); // DROP USER
    credentials.invalidate('alice');
    expect(errorOf(await send({ sql: 'SELECT 1' }, { authorization: `Bearer ${token}` }))).toEqual({ status: 401, code: 'TOKEN_REVOKED', message: 'token revoked: the user no longer exists' });
    expect(backend.calls).toHaveLength(1);
  });

  it("runs with the user's current role, not the token's", async () => {
    const { send, jwt, backend } = setup();
    const claimsDba = jwt.sign({ sub: 'alice', role: 'dba', cv: 1 }, 'access', 3600).token;
    expect((await send({ sql: 'CREATE USER eve WITH PASSWORD $$long-enough$$ ROLE dba' }, { authorization: `Bearer ${claimsDba}` })).status).toBe(200);
    expect(backend.calls).toMatchObject([{ method: 'execute', call: { caller: { userId: 'alice', role: 'user' } } }]);
  });

  it('answers UNAVAILABLE when the user cannot be checked', async () => {
    const { send, storage } = setup();
    storage.down = true;
    expect(errorOf(await send({ sql: 'SELECT 1' }))).toEqual({ status: 503, code: 'UNAVAILABLE', message: 'a Seqline service is unavailable; retry' });
  });

  it('requires a Bearer access token', async () => {
    const { send, jwt, clock } = setup();
    expect(errorOf(await send({ sql: 'SELECT 1' }, {}))).toEqual({ status: 401, code: 'MISSING_AUTHORIZATION', message: 'missing Authorization: Bearer <access token> header' });
    expect(errorOf(await send({ sql: 'SELECT 1' }, { authorization: 'Basic YTpi' }))).toEqual({ status: 401, code: 'INVALID_CREDENTIALS', message: 'Authorization must use the Bearer scheme' });
    expect(errorOf(await send({ sql: 'SELECT 1' }, { authorization: 'Bearer x.y.z' }))).toEqual({ status: 401, code: 'INVALID_CREDENTIALS', message: 'invalid token' });
    const refresh = jwt.sign({ sub: 'alice', role: 'user', cv: 1, refresh: { fam: 'fam1', jti: 'jti1' } }, 'refresh', 3600).token;
    expect(errorOf(await send({ sql: 'SELECT 1' }, { authorization: `Bearer ${refresh}` }))).toEqual({ status: 401, code: 'INVALID_CREDENTIALS', message: 'invalid token' });
    const short = jwt.sign({ sub: 'alice', role: 'user', cv: 1 }, 'access', 60).token;
    clock.now += 60_000;
    expect(errorOf(await send({ sql: 'SELECT 1' }, { authorization: `Bearer ${short}` }))).toEqual({ status: 401, code: 'TOKEN_EXPIRED', message: 'token expired' });
  });

  it('rate limits per user with 429 and Retry-After', async () => {
    const { send, backend } = setup({ rate: 1 });
    expect((await send({ sql: 'SELECT 1' })).status).toBe(200);
    expect((await send({ sql: 'SELECT 1' })).status).toBe(200);
    const refused = await send({ sql: 'SELECT 1' });
    expect(errorOf(refused)).toEqual({ status: 429, code: 'RATE_LIMIT_EXCEEDED', message: 'too many requests; retry in 1 s' });
    expect(refused.headers['retry-after']).toBe('1');
    expect(backend.calls).toHaveLength(2);
  });
});

describe('POST /v1/api/sql: request validation', () => {
  it.each([
    ['malformed JSON', '{"sql": "SELECT 1"', 400, 'INVALID_INPUT'],
    ['missing sql', { params: [] }, 400, 'INVALID_INPUT'],
    ['sql not a string', { sql: ['SELECT 1'] }, 400, 'INVALID_INPUT'],
    ['params not an array', { sql: 'SELECT $1', params: 'x' }, 400, 'INVALID_PARAMETER'],
    ['an object parameter', { sql: 'SELECT $1', params: [{}] }, 400, 'INVALID_PARAMETER'],
    ['a bad namespace_id', { sql: 'SELECT 1', namespace_id: 'a-b' }, 400, 'INVALID_INPUT'],
    ['sql over SEQLINE_MAX_SQL_BYTES', { sql: `SELECT '${'x'.repeat(4096)}'` }, 413, 'PAYLOAD_TOO_LARGE'],
    ['empty sql', { sql: '' }, 400, 'EMPTY_SQL'],
    ['only comments', { sql: ' -- nothing\n ; ' }, 400, 'EMPTY_SQL'],
    ['a syntax error', { sql: 'SELEC 1' }, 400, 'INVALID_SQL'],
    ['params with a batch', { sql: 'SELECT $1; SELECT 2', params: [1] }, 400, 'PARAMS_WITH_BATCH'],
  ])('%s → %i %s, nothing runs', async (_name, body, status, code) => {
    const { send, backend } = setup();
    expect(errorOf(await send(body))).toMatchObject({ status, code });
    expect(backend.calls).toEqual([]);
  });

  it('refuses a bad Idempotency-Key', async () => {
    const { send, access } = setup();
    const reply = await send({ sql: 'SELECT 1' }, { authorization: `Bearer ${access}`, 'idempotency-key': 'has space' });
    expect(errorOf(reply)).toEqual({ status: 400, code: 'INVALID_INPUT', message: 'Idempotency-Key must be 1 to 255 visible ASCII characters' });
  });

  it('passes body-reading refusals through, closing the connection', async () => {
    const { send } = setup();
    const reply = await send(undefined, undefined, { kind: 'error', code: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 1048576 bytes', close: true });
    expect(errorOf(reply)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 1048576 bytes' });
    expect(reply.close).toBe(true);
  });
});

describe('POST /v1/api/sql: dispatch', () => {
  it('sends a SELECT to Storage.Query and answers its result as is', async () => {
    const { send, backend, clock } = setup();
    backend.onQuery = async () => {
      clock.mono += 1.2345;
      return '{"schema":[{"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]}],"rows":[["331234567890123456"]],"row_count":1,"as_user":"alice"}';
    };
    const reply = await send({ sql: 'SELECT id FROM app.t WHERE id = $1', params: [331234567890123456789n.toString()], namespace_id: 'app' });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe(
      '{"status":"success","took":1.235,"results":[{"schema":[{"name":"id","data_type":"BigInt","index":0,"flags":["pk","nn","uq"]}],"rows":[["331234567890123456"]],"row_count":1,"as_user":"alice"}]}',
    );
    expect(backend.calls).toEqual([{ method: 'query', call: { caller: ALICE, sql: 'SELECT id FROM app.t WHERE id = $1', paramsJson: '["331234567890123456789"]', namespace: 'app', asUser: '' } }]);
  });

  it('answers a SELECT of system.live itself, in order with the other statements; without realtime the table does not exist', async () => {
    const asked: unknown[] = [];
    const { send, backend } = setup({
      systemLive: async (caller, sql, params) => {
        asked.push({ caller, sql, params });
        return '{"schema":[],"rows":[],"row_count":0,"as_user":"alice"}';
      },
    });
    backend.onQuery = async () => '{"schema":[],"rows":[],"row_count":0,"as_user":"alice"}';
    const reply = await send({ sql: 'SELECT 1 FROM app.t; SELECT live_id FROM system.live WHERE user_id = CURRENT_USER()' });
    expect(reply.status).toBe(200);
    expect(asked).toEqual([{ caller: ALICE, sql: 'SELECT live_id FROM system.live WHERE user_id = CURRENT_USER', params: [] }]); // the parser's normalized text
    expect(backend.calls.map((c) => c.method)).toEqual(['query']);
    expect(errorOf(await setup().send({ sql: 'SELECT * FROM system.live' }))).toEqual({ status: 400, code: 'TABLE_NOT_FOUND', message: 'table system.live does not exist on a gateway without realtime subscriptions' });
  });

  it('keeps integer parameters beyond 2^53 exact in params_json', async () => {
    const { send, backend } = setup();
    await send('{"sql":"INSERT INTO app.t (id) VALUES ($1)","params":[9223372036854775807, 1.5, null, true]}');
    expect(backend.calls).toMatchObject([{ method: 'execute', call: { paramsJson: '[9223372036854775807,1.5,null,true]', idempotencyKey: '' } }]);
  });

  it('runs a batch in order, each statement on its path, with per-statement idempotency keys', async () => {
    const { send, backend, access } = setup();
    const sql = "CREATE NAMESPACE IF NOT EXISTS app; INSERT INTO app.t (id, v) VALUES (1, 'a;b'); SELECT * FROM app.t;\nEXECUTE AS USER 'bob' (SELECT * FROM app.t); DROP USER IF EXISTS carol";
    const reply = await send({ sql }, { authorization: `Bearer ${access}`, 'idempotency-key': 'req-42' });
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body) as { status: string; results: unknown[] };
    expect(body.status).toBe('success');
    expect(body.results).toHaveLength(5);
    expect(backend.calls).toEqual([
      { method: 'execute', call: { caller: ALICE, sql: 'CREATE NAMESPACE IF NOT EXISTS app', paramsJson: '', namespace: '', idempotencyKey: 'req-42#0' } },
      { method: 'execute', call: { caller: ALICE, sql: "INSERT INTO app.t (id, v) VALUES (1, 'a;b')", paramsJson: '', namespace: '', idempotencyKey: 'req-42#1' } },
      { method: 'query', call: { caller: ALICE, sql: 'SELECT * FROM app.t', paramsJson: '', namespace: '', asUser: '' } },
      { method: 'query', call: { caller: ALICE, sql: 'SELECT * FROM app.t', paramsJson: '', namespace: '', asUser: 'bob' } },
      { method: 'execute', call: { caller: ALICE, sql: 'DROP USER IF EXISTS carol', paramsJson: '', namespace: '', idempotencyKey: 'req-42#4' } },
    ]);
  });

  it('sends SHOW and DESCRIBE to Storage.Query as written, in the request namespace', async () => {
    const { send, backend } = setup();
    const reply = await send({ sql: 'SHOW NAMESPACES; show tables in app;\nDESCRIBE TABLE notes', namespace_id: 'app' });
    expect(reply.status).toBe(200);
    expect(backend.calls).toEqual([
      { method: 'query', call: { caller: ALICE, sql: 'SHOW NAMESPACES', paramsJson: '', namespace: 'app', asUser: '' } },
      { method: 'query', call: { caller: ALICE, sql: 'show tables in app', paramsJson: '', namespace: 'app', asUser: '' } },
      { method: 'query', call: { caller: ALICE, sql: 'DESCRIBE TABLE notes', paramsJson: '', namespace: 'app', asUser: '' } },
    ]);
  });

  it('sends EXECUTE AS around a write to Write.Execute whole, and a single statement with the key as is', async () => {
    const { send, backend, access } = setup();
    const sql = "EXECUTE AS USER 'bob' (INSERT INTO app.t (id) VALUES (1));";
    expect((await send({ sql }, { authorization: `Bearer ${access}`, 'idempotency-key': 'k1' })).status).toBe(200);
    expect(backend.calls).toEqual([{ method: 'execute', call: { caller: ALICE, sql, paramsJson: '', namespace: '', idempotencyKey: 'k1' } }]);
  });

  it('stops at the first failing statement and answers its error', async () => {
    const { send, backend } = setup();
    backend.onExecute = async (call) => {
      if (call.sql.includes('missing')) throw new ProtocolError('TABLE_NOT_FOUND', 'table app.missing does not exist');
      return '{"row_count":1,"message":"Inserted 1 row(s)","as_user":"alice","seq":"331234567890123456"}';
    };
    const reply = await send({ sql: 'INSERT INTO app.t (id) VALUES (1); INSERT INTO app.missing (id) VALUES (2); INSERT INTO app.t (id) VALUES (3)' });
    expect(errorOf(reply)).toEqual({ status: 400, code: 'TABLE_NOT_FOUND', message: 'table app.missing does not exist' });
    expect(backend.calls).toHaveLength(2);
  });

  it.each([
    ['PERMISSION_DENIED', 403],
    ['UNAVAILABLE', 503],
    ['SQL_EXECUTION_ERROR', 400],
  ] as const)('answers a service error %s with %i', async (code, status) => {
    const { send, backend } = setup();
    backend.onQuery = async () => {
      throw new ProtocolError(code, `failed with ${code}`);
    };
    expect(errorOf(await send({ sql: 'SELECT 1' }))).toEqual({ status, code, message: `failed with ${code}` });
  });

  it('answers 500 internal error, logging the cause, when a service answers something that is not a result', async () => {
    const { send, backend, logger } = setup();
    backend.onQuery = async () => '[1,2]';
    expect(errorOf(await send({ sql: 'SELECT 1' }))).toEqual({ status: 500, code: 'INTERNAL_ERROR', message: 'internal error' });
    expect(logger.records.at(-1)).toMatchObject({ level: 'error', msg: 'SQL request failed', user: 'alice', statement: 0, code: 'INTERNAL_ERROR' });
  });

  it('never leaks an internal message', async () => {
    const { send, backend } = setup();
    backend.onQuery = async () => {
      throw new Error('connection to 10.0.0.5:5432 refused');
    };
    const reply = await send({ sql: 'SELECT 1' });
    expect(errorOf(reply)).toEqual({ status: 500, code: 'INTERNAL_ERROR', message: 'internal error' });
    expect(reply.body).not.toContain('10.0.0.5');
  });
});

describe('POST /v1/api/sql: transactions', () => {
  const errorBody = (reply: Reply): unknown => (JSON.parse(reply.body) as { error: unknown }).error;

  it('sends BEGIN … COMMIT to Write.Execute as one call with one key, between the other statements, and answers one result per statement', async () => {
    const { send, backend, access } = setup();
    const results = [{ row_count: 0, message: 'Transaction started' }, { row_count: 1, message: 'Inserted 1 row(s)', as_user: 'alice', seq: '7' }, { row_count: 1, message: 'Updated 1 row(s)', as_user: 'alice', seq: '8' }, { row_count: 0, message: 'Transaction committed' }];
    backend.onExecute = async () => JSON.stringify(results);
    const sql = "SELECT 1; BEGIN; INSERT INTO app.t (id) VALUES (1); EXECUTE AS USER 'alice' (UPDATE app.t SET v = 'x' WHERE id = 1); COMMIT; SELECT 2";
    const reply = await send({ sql }, { authorization: `Bearer ${access}`, 'idempotency-key': 'k' });
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body) as { results: unknown[] };
    expect(body.results).toEqual([expect.objectContaining({ rows: [['SELECT 1']] }), ...results, expect.objectContaining({ rows: [['SELECT 2']] })]);
    expect(backend.calls).toEqual([
      { method: 'query', call: { caller: ALICE, sql: 'SELECT 1', paramsJson: '', namespace: '', asUser: '' } },
      { method: 'execute', call: { caller: ALICE, sql: "BEGIN;\nINSERT INTO app.t (id) VALUES (1);\nEXECUTE AS USER 'alice' (UPDATE app.t SET v = 'x' WHERE id = 1);\nCOMMIT", paramsJson: '', namespace: '', idempotencyKey: 'k#1' } },
      { method: 'query', call: { caller: ALICE, sql: 'SELECT 2', paramsJson: '', namespace: '', asUser: '' } },
    ]);
  });

  it('uses the Idempotency-Key as is for a request that is one transaction', async () => {
    const { send, backend, access } = setup();
    backend.onExecute = async () => JSON.stringify([{ row_count: 0, message: 'Transaction started' }, { row_count: 0, message: 'Transaction rolled back' }]);
    expect((await send({ sql: 'BEGIN; ROLLBACK' }, { authorization: `Bearer ${access}`, 'idempotency-key': 'k' })).status).toBe(200);
    expect(backend.calls).toEqual([{ method: 'execute', call: { caller: ALICE, sql: 'BEGIN;\nROLLBACK', paramsJson: '', namespace: '', idempotencyKey: 'k' } }]);
  });

  it('names the statement the write service pins a failure on: its index in the request and its text', async () => {
    const { send, backend } = setup();
    backend.onExecute = async () => {
      throw new ProtocolError('SQL_EXECUTION_ERROR', 'duplicate primary key (the transaction was rolled back: nothing was applied)', { statement: 2 });
    };
    const reply = await send({ sql: 'SELECT 1; BEGIN; INSERT INTO app.t (id) VALUES (1);  insert into app.t (id) values (1) ; COMMIT' });
    expect(reply.status).toBe(400);
    expect(errorBody(reply)).toEqual({ code: 'SQL_EXECUTION_ERROR', message: 'duplicate primary key (the transaction was rolled back: nothing was applied)', statement_index: 3, statement: 'insert into app.t (id) values (1)' });
  });

  it('answers a failure of the whole transaction without naming a statement', async () => {
    const { send, backend } = setup();
    backend.onExecute = async () => {
      throw new ProtocolError('UNAVAILABLE', 'a Seqline service is unavailable; retry');
    };
    expect(errorBody(await send({ sql: 'BEGIN; INSERT INTO app.t (id) VALUES (1); COMMIT' }))).toEqual({ code: 'UNAVAILABLE', message: 'a Seqline service is unavailable; retry' });
  });

  it.each([
    ['BEGIN; INSERT INTO app.t (id) VALUES (1)', 0, 'BEGIN', 'BEGIN without COMMIT or ROLLBACK: a transaction must end in the same request'],
    ['INSERT INTO app.t (id) VALUES (1); COMMIT', 1, 'COMMIT', 'COMMIT without BEGIN: no transaction is open'],
    ['ROLLBACK', 0, 'ROLLBACK', 'ROLLBACK without BEGIN: no transaction is open'],
    // Indexes count the `SELECT 0` each request starts with: the first BEGIN is statement 1.
    ['BEGIN; BEGIN; COMMIT; COMMIT', 1, 'BEGIN', 'BEGIN inside the transaction begun at statement 1: transactions do not nest'],
    ['BEGIN; SELECT * FROM app.t; COMMIT', 1, 'SELECT * FROM app.t', 'a transaction holds INSERT, UPDATE and DELETE only: run SELECT before BEGIN or after COMMIT'],
    ["BEGIN; EXECUTE AS USER 'bob' (SELECT 1); COMMIT", 1, "EXECUTE AS USER 'bob' (SELECT 1)", 'a transaction holds INSERT, UPDATE and DELETE only: run SELECT before BEGIN or after COMMIT'],
    ['BEGIN; CREATE NAMESPACE x; COMMIT', 1, 'CREATE NAMESPACE x', 'a transaction holds INSERT, UPDATE and DELETE only, not CREATE NAMESPACE'],
    ['BEGIN; DROP USER bob; COMMIT', 1, 'DROP USER bob', 'a transaction holds INSERT, UPDATE and DELETE only, not DROP USER'],
  ])('refuses %j with INVALID_TRANSACTION naming statement %i, before anything runs', async (sql, index, statement, message) => {
    const { send, backend } = setup();
    const reply = await send({ sql: `SELECT 0; ${sql}` });
    expect(reply.status).toBe(400);
    expect(errorBody(reply)).toEqual({ code: 'INVALID_TRANSACTION', message, statement_index: index + 1, statement });
    expect(backend.calls).toEqual([]);
  });

  it('refuses parameters with a transaction (PARAMS_WITH_BATCH)', async () => {
    const { send, backend } = setup();
    expect(errorOf(await send({ sql: 'BEGIN; INSERT INTO app.t (id) VALUES ($1); COMMIT', params: [1] }))).toMatchObject({ status: 400, code: 'PARAMS_WITH_BATCH' });
    expect(backend.calls).toEqual([]);
  });

  it('answers 500 internal error when the write service answers other than one result per statement', async () => {
    const { send, backend } = setup();
    backend.onExecute = async () => JSON.stringify([{ row_count: 0, message: 'Transaction started' }]);
    expect(errorOf(await send({ sql: 'BEGIN; INSERT INTO app.t (id) VALUES (1); COMMIT' }))).toEqual({ status: 500, code: 'INTERNAL_ERROR', message: 'internal error' });
  });
});
