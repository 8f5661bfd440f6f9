// The gateway over a real socket (node:http on 127.0.0.1, port 0), with an in-memory Backend:
// routing, CORS, body limits, the login → SQL round trip, draining and the first-DBA set-up.
// The services behind it are covered by the end-to-end tests.
import { request as httpRequest } from 'node:http';
import { ProtocolError } from '@seqline/protocol';
import { hashPassword, memoryLogger } from '@seqline/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayConfig, type GatewayConfig } from './config.js';
import { FakeBackend, fakeUser } from './fake-backend.js';
import { GATEWAY_VERSION, startGateway, type GatewayService } from './gateway.js';

const SECRET = 'gateway-int-test-secret-32-chars!!!!';
const running: GatewayService[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

async function start(overrides: Partial<GatewayConfig> = {}, backend = new FakeBackend()) {
  const logger = memoryLogger('gateway');
  const gateway = await startGateway(gatewayConfig({ jwtSecret: SECRET, port: 0, ...overrides }), { logger, backend });
  running.push(gateway);
  return { gateway, backend, logger, url: `http://127.0.0.1:${gateway.port}` };
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request whose body the test controls: `write` gets the request to send (or not send) a body. */
function raw(port: number, options: { method: string; path: string; headers?: Record<string, string> }, write: (req: ReturnType<typeof httpRequest>) => void): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method, path: options.path, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    write(req);
  });
}

describe('gateway HTTP', () => {
  it('answers health on both routes, HEAD included', async () => {
    const { url } = await start();
    for (const path of ['/health', '/v1/api/healthcheck']) {
      const res = await fetch(url + path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'healthy', version: GATEWAY_VERSION, api_version: 'v1' });
    }
    const head = await fetch(`${url}/health`, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
  });

  it('answers unknown routes 404 and wrong methods 405, in the error shape', async () => {
    const { url } = await start();
    const missing = await fetch(`${url}/v1/api/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: 'error', results: [], error: { code: 'NOT_FOUND', message: 'no route /v1/api/nope' } });
    const wrong = await fetch(`${url}/v1/api/sql`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(await wrong.json()).toMatchObject({ status: 'error', results: [], error: { code: 'METHOD_NOT_ALLOWED', message: 'method not allowed; use POST' } });
  });

  it('answers CORS preflights and adds CORS headers to responses', async () => {
    const { url } = await start({ corsOrigins: ['https://admin.example'] });
    const preflight = await fetch(`${url}/v1/api/sql`, { method: 'OPTIONS', headers: { origin: 'https://admin.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(Object.fromEntries([...preflight.headers].filter(([k]) => k.startsWith('access-control-')))).toEqual({
      'access-control-allow-origin': 'https://admin.example',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'Authorization, Content-Type, Idempotency-Key',
      'access-control-max-age': '600',
    });
    const other = await fetch(`${url}/health`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const listed = await fetch(`${url}/health`, { headers: { origin: 'https://admin.example' } });
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://admin.example');
  });

  it('refuses a body by Content-Length before it is sent (413, connection closed)', async () => {
    const { gateway, url, backend } = await start({ maxBodyBytes: 1024 });
    await backend.setup({ userId: 'boss', passwordHash: await hashPassword('pw'), email: null });
    const login = (await (await fetch(`${url}/v1/api/auth/login`, { method: 'POST', body: JSON.stringify({ username: 'boss', password: 'pw' }) })).json()) as { access_token: string };
    const headers = { authorization: `Bearer ${login.access_token}`, 'content-type': 'application/json', 'content-length': '100000' };
    // Only the headers go out; the body is never written, and the answer must come anyway.
    const res = await raw(gateway.port, { method: 'POST', path: '/v1/api/sql', headers }, (req) => req.flushHeaders());
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toMatchObject({ status: 'error', error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 1024 bytes' } });
  });

  it('refuses a chunked body once it crosses the limit', async () => {
    const { gateway } = await start({ maxBodyBytes: 1024 });
    const res = await raw(gateway.port, { method: 'POST', path: '/v1/api/auth/login', headers: { 'transfer-encoding': 'chunked' } }, (req) => {
      req.write('x'.repeat(800));
      req.write('x'.repeat(800));
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: 'payload_too_large', message: 'request body exceeds 1024 bytes' });
  });

  it('logs in with a real password hash and runs SQL with the access token', async () => {
    const { url, backend } = await start();
    backend.users.set('alice', fakeUser('alice', 'user', await hashPassword('s3cret')));
    const login = await fetch(`${url}/v1/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'alice', password: 's3cret' }) });
    expect(login.status).toBe(200);
    expect(login.headers.get('set-cookie')).toMatch(/^seqline_refresh=.+; Path=\/v1\/api\/auth; Max-Age=604800; HttpOnly; SameSite=Strict$/);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const res = await fetch(`${url}/v1/api/sql`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ sql: 'SELECT 1 AS one' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'success', results: [{ rows: [['SELECT 1 AS one']], row_count: 1, as_user: 'alice' }] });
    const wrong = await fetch(`${url}/v1/api/auth/login`, { method: 'POST', body: JSON.stringify({ user: 'alice', password: 'nope' }) });
    expect([wrong.status, await wrong.json()]).toEqual([401, { error: 'unauthorized', message: 'invalid username or password' }]);
  });

  it('drains: requests in flight finish (connection closed after), health turns 503, then it stops', async () => {
    const { gateway, url, backend } = await start();
    backend.users.set('alice', fakeUser('alice', 'user', await hashPassword('pw')));
    const { access_token: token } = (await (await fetch(`${url}/v1/api/auth/login`, { method: 'POST', body: JSON.stringify({ user: 'alice', password: 'pw' }) })).json()) as { access_token: string };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    backend.onQuery = async () => {
      entered();
      await gate;
      return '{"schema":[],"rows":[],"row_count":0,"as_user":"alice"}';
    };
    const slow = raw(gateway.port, { method: 'POST', path: '/v1/api/sql', headers: { authorization: `Bearer ${token}` } }, (req) => req.end('{"sql":"SELECT 1"}'));
    await inside;
    const draining = gateway.drain();
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    release();
    const res = await slow;
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe('close');
    await draining;
  });
});

describe('first DBA at start-up (SEQLINE_ADMIN_PASSWORD)', () => {
  it('creates it when no DBA exists, retrying while storage is unavailable', async () => {
    const backend = new FakeBackend();
    backend.failure = new ProtocolError('UNAVAILABLE', 'a Seqline service is unavailable; retry');
    setTimeout(() => (backend.failure = undefined), 300);
    const { logger } = await start({ adminUser: 'admin', adminPassword: 'local-admin-pw' }, backend);
    const admin = backend.users.get('admin');
    expect(admin?.role).toBe('dba');
    expect(admin?.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(logger.records.some((r) => r['msg'] === 'storage unavailable; retrying the first-DBA set-up')).toBe(true);
  });

  it('leaves an existing DBA alone', async () => {
    const backend = new FakeBackend();
    backend.users.set('boss', fakeUser('boss', 'dba', 'scrypt$old'));
    await start({ adminUser: 'admin', adminPassword: 'local-admin-pw' }, backend);
    expect(backend.calls.map((c) => c.method)).toEqual(['needsSetup']);
    expect(backend.users.has('admin')).toBe(false);
  });

  it('fails start-up on a non-retryable error', async () => {
    const backend = new FakeBackend();
    backend.failure = new ProtocolError('INVALID_INPUT', 'password hash must be an scrypt hash');
    await expect(start({ adminPassword: 'pw' }, backend)).rejects.toThrow('password hash must be an scrypt hash');
  });
});
