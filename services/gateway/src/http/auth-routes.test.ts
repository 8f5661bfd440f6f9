import { ProtocolError } from '@seqline/protocol';
import { memoryLogger } from '@seqline/runtime';
import { describe, expect, it } from 'vitest';
import { FAKE_CREATED_US, FakeBackend, fakeUser } from '../fake-backend.js';
import { JwtCodec } from '../jwt.js';
import { RateLimiter } from '../rate-limit.js';
import type { AuthRouteDeps } from './auth-common.js';
import { authRoutes } from './auth-routes.js';
import type { RequestContext } from './context.js';
import type { Reply } from './reply.js';

const SECRET = 'auth-route-test-secret-of-32-chars!!';
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const CREATED = new Date(Number(FAKE_CREATED_US / 1000n)).toISOString();

function setup(options: { loginRate?: number } = {}) {
  const backend = new FakeBackend();
  const clock = { now: NOW, mono: 0 };
  const verified: string[] = [];
  const deps: AuthRouteDeps = {
    backend,
    jwt: new JwtCodec(SECRET, () => clock.now),
    loginLimiter: new RateLimiter({ capacity: options.loginRate ?? 20, refill: { tokens: options.loginRate ?? 20, periodMs: 60_000 }, now: () => clock.mono }),
    logger: memoryLogger(),
    now: () => clock.now,
    accessTokenTtlS: 3600,
    refreshTokenTtlS: 604_800,
    loginPolicy: { maxFailures: 5, lockoutMs: 900_000 },
    cookieSecure: false,
    dummyHash: 'dummy-hash',
    hashPassword: async (pw) => `plain:${pw}`,
    verifyPassword: async (pw, stored) => {
      verified.push(stored);
      return stored === `plain:${pw}`;
    },
  };
  backend.users.set('alice', fakeUser('alice', 'user', 'plain:pw-alice', { email: 'alice@example.com' }));
  backend.users.set('boss', fakeUser('boss', 'dba', 'plain:pw-boss'));
  return { backend, clock, deps, routes: authRoutes(deps), verified };
}

function request(init: { method?: string; path?: string; headers?: Record<string, string>; body?: string; address?: string } = {}): RequestContext {
  return {
    method: init.method ?? 'POST',
    path: init.path ?? '/',
    headers: init.headers ?? {},
    remoteAddress: init.address ?? '203.0.113.9',
    startedAt: 0,
    readBody: async () => ({ kind: 'body', text: init.body ?? '' }),
  };
}

function json(reply: Reply): Record<string, unknown> {
  return JSON.parse(reply.body) as Record<string, unknown>;
}

const login = (body: unknown, address?: string) => request({ body: JSON.stringify(body), ...(address === undefined ? {} : { address }) });

describe('POST /v1/api/auth/login', () => {
  it('answers the token pair, the user and a refresh cookie', async () => {
    const { routes, backend, deps } = setup();
    const reply = await routes.login(login({ username: 'alice', password: 'pw-alice' }));
    expect(reply.status).toBe(200);
    const body = json(reply);
    expect(Object.keys(body)).toEqual(['user', 'admin_ui_access', 'expires_at', 'access_token', 'refresh_token', 'refresh_expires_at']);
    expect(body.user).toEqual({ id: 'alice', username: 'alice', role: 'user', email: 'alice@example.com', created_at: CREATED, updated_at: CREATED });
    expect(body.admin_ui_access).toBe(false);
    expect(body.expires_at).toBe('2025-06-01T13:00:00.000Z');
    expect(body.refresh_expires_at).toBe('2025-06-08T12:00:00.000Z');
    const iat = NOW / 1000;
    expect(deps.jwt.verify(body.access_token as string, 'access')).toEqual({ ok: true, claims: { sub: 'alice', role: 'user', token_type: 'access', iat, exp: iat + 3600, cv: 1 } });
    const refresh = deps.jwt.verify(body.refresh_token as string, 'refresh');
    const ID = expect.stringMatching(/^[\w-]{22}$/) as unknown as string;
    expect(refresh).toEqual({ ok: true, claims: { sub: 'alice', role: 'user', token_type: 'refresh', iat, exp: iat + 604_800, cv: 1, fam: ID, jti: ID } });
    expect(reply.headers['set-cookie']).toBe(`seqline_refresh=${String(body.refresh_token)}; Path=/v1/api/auth; Max-Age=604800; HttpOnly; SameSite=Strict`);
    expect(reply.headers['cache-control']).toBe('no-store');
    const { fam, jti } = refresh.ok ? refresh.claims : { fam: '', jti: '' };
    expect(backend.calls).toEqual([
      { method: 'getUser', userId: 'alice' },
      { method: 'recordLogin', userId: 'alice', success: true, policy: { maxFailures: 5, lockoutMs: 900_000 } },
      { method: 'startRefreshFamily', start: { userId: 'alice', familyId: fam, jti, credentialVersion: 1, expiresAtS: iat + 604_800 } },
    ]);
  });

  it('accepts "user" for the name and grants admin UI access to a dba', async () => {
    const { routes } = setup();
    const reply = await routes.login(login({ user: 'boss', password: 'pw-boss' }));
    expect(json(reply)).toMatchObject({ user: { id: 'boss', role: 'dba', email: null }, admin_ui_access: true });
  });

  it('refuses a wrong password and records the failure', async () => {
    const { routes, backend } = setup();
    const reply = await routes.login(login({ username: 'alice', password: 'nope' }));
    expect(reply.status).toBe(401);
    expect(json(reply)).toEqual({ error: 'unauthorized', message: 'invalid username or password' });
    expect(backend.calls.at(-1)).toEqual({ method: 'recordLogin', userId: 'alice', success: false, policy: { maxFailures: 5, lockoutMs: 900_000 } });
  });

  it('answers an unknown user exactly like a wrong password, after a dummy check', async () => {
    const { routes, backend, verified } = setup();
    for (const username of ['mallory', 'not a valid id!']) {
      const reply = await routes.login(login({ username, password: 'x' }));
      expect(reply.status).toBe(401);
      expect(json(reply)).toEqual({ error: 'unauthorized', message: 'invalid username or password' });
    }
    expect(verified).toEqual(['dummy-hash', 'dummy-hash']);
    const failure = { success: false, policy: { maxFailures: 5, lockoutMs: 900_000 } };
    expect(backend.calls).toEqual([{ method: 'getUser', userId: 'mallory' }, { method: 'recordLogin', userId: 'mallory', ...failure }]);
  });

  it('answers a locked account exactly like a wrong password, whatever the password, after the same work', async () => {
    const { routes, backend, verified } = setup();
    backend.users.set('alice', fakeUser('alice', 'user', 'plain:pw-alice', { lockedUntilUs: BigInt(NOW + 90_500) * 1000n }));
    const answers = [];
    for (const [username, password] of [['alice', 'pw-alice'], ['alice', 'wrong'], ['mallory', 'pw-alice'], ['boss', 'wrong']] as const) {
      backend.calls.length = 0;
      const reply = await routes.login(login({ username, password }));
      answers.push([reply.status, reply.body, reply.headers, backend.calls.map((c) => c.method)]);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toEqual([401, JSON.stringify({ error: 'unauthorized', message: 'invalid username or password' }), { 'content-type': 'application/json; charset=utf-8' }, ['getUser', 'recordLogin']]);
    expect(verified).toEqual(['plain:pw-alice', 'plain:pw-alice', 'dummy-hash', 'plain:pw-boss']);
  });

  it('lets a login through once the lock has passed', async () => {
    const { routes, backend } = setup();
    backend.users.set('alice', fakeUser('alice', 'user', 'plain:pw-alice', { lockedUntilUs: BigInt(NOW) * 1000n }));
    expect((await routes.login(login({ username: 'alice', password: 'pw-alice' }))).status).toBe(200);
  });

  it('rate limits attempts per client address', async () => {
    const { routes, clock } = setup({ loginRate: 2 });
    expect((await routes.login(login({ username: 'alice', password: 'x' }))).status).toBe(401);
    expect((await routes.login(login({ username: 'alice', password: 'x' }))).status).toBe(401);
    const refused = await routes.login(login({ username: 'alice', password: 'pw-alice' }));
    expect(refused.status).toBe(429);
    expect(json(refused)).toEqual({ error: 'rate_limited', message: 'too many login attempts; retry in 30 s' });
    expect(refused.headers['retry-after']).toBe('30');
    expect((await routes.login(login({ username: 'alice', password: 'pw-alice' }, '198.51.100.1'))).status).toBe(200);
    clock.mono += 30_000;
    expect((await routes.login(login({ username: 'alice', password: 'pw-alice' }))).status).toBe(200);
  });

  it.each([
    ['not JSON', 'user=alice&password=x', /^request body is not valid JSON/],
    ['no password', '{"username":"alice"}', /^field "password" must be a non-empty string$/],
  ])('refuses a malformed body (%s) with 400', async (_name, body, message) => {
    const reply = await setup().routes.login(request({ body }));
    expect(reply.status).toBe(400);
    expect(json(reply)).toMatchObject({ error: 'invalid_input' });
    expect(json(reply).message).toMatch(message);
  });

  it('answers 413 payload_too_large for an oversized body and closes', async () => {
    const ctx = { ...request(), readBody: async () => ({ kind: 'error' as const, code: 'PAYLOAD_TOO_LARGE' as const, message: 'request body exceeds 1024 bytes', close: true }) };
    const reply = await setup().routes.login(ctx);
    expect(reply).toMatchObject({ status: 413, close: true });
    expect(json(reply)).toEqual({ error: 'payload_too_large', message: 'request body exceeds 1024 bytes' });
  });

  it('answers 503 when storage is unavailable', async () => {
    const { routes, backend } = setup();
    backend.failure = new ProtocolError('UNAVAILABLE', 'a Seqline service is unavailable; retry');
    const reply = await routes.login(login({ username: 'alice', password: 'pw-alice' }));
    expect(reply.status).toBe(503);
    expect(json(reply)).toEqual({ error: 'unavailable', message: 'a Seqline service is unavailable; retry' });
  });

  it('answers 500 internal error without details when something breaks', async () => {
    const { routes, backend, deps } = setup();
    backend.failure = new ProtocolError('INTERNAL_ERROR', 'internal error', { cause: new Error('secret detail') });
    const reply = await routes.login(login({ username: 'alice', password: 'pw-alice' }));
    expect(reply.status).toBe(500);
    expect(json(reply)).toEqual({ error: 'internal_error', message: 'internal error' });
    expect((deps.logger as ReturnType<typeof memoryLogger>).records.at(-1)).toMatchObject({ level: 'error', msg: 'login failed' });
  });
});

async function tokens(routes: ReturnType<typeof setup>['routes'], username = 'alice', password = 'pw-alice') {
  return json(await routes.login(login({ username, password }))) as { access_token: string; refresh_token: string };
}

describe('POST /v1/api/auth/refresh', () => {
  it('trades a refresh token (Bearer or cookie) for a new pair, with the current role', async () => {
    const { routes, backend, clock } = setup();
    const { refresh_token: refresh } = await tokens(routes);
    backend.users.set('alice', fakeUser('alice', 'service', 'plain:pw-alice'));
    clock.now += 60_000;
    const byBearer = await routes.refresh(request({ headers: { authorization: `Bearer ${refresh}` } }));
    expect(byBearer.status).toBe(200);
    expect(json(byBearer)).toMatchObject({ user: { id: 'alice', role: 'service' }, expires_at: '2025-06-01T13:01:00.000Z' });
    const next = json(byBearer).refresh_token as string;
    const byCookie = await routes.refresh(request({ headers: { cookie: `theme=dark; seqline_refresh=${next}` } }));
    expect(byCookie.status).toBe(200);
    expect(byCookie.headers['set-cookie']).toMatch(/^seqline_refresh=[\w.-]+; Path=\/v1\/api\/auth; Max-Age=604800; HttpOnly; SameSite=Strict$/);
  });

  it('rotates: a refresh token used once is refused again, and its reuse revokes the whole family', async () => {
    const { routes, deps } = setup();
    const first = (await tokens(routes)).refresh_token;
    const second = json(await routes.refresh(request({ headers: { authorization: `Bearer ${first}` } }))).refresh_token as string;
    const [a, b] = [deps.jwt.verify(first, 'refresh'), deps.jwt.verify(second, 'refresh')];
    expect(a.ok && b.ok && a.claims.fam === b.claims.fam && a.claims.jti !== b.claims.jti).toBe(true);
    const reused = await routes.refresh(request({ headers: { authorization: `Bearer ${first}` } }));
    expect([reused.status, json(reused)]).toEqual([401, { error: 'unauthorized', message: 'invalid refresh token' }]);
    expect(reused.headers['set-cookie']).toMatch(/^seqline_refresh=; Path=\/v1\/api\/auth; Max-Age=0;/);
    const afterReuse = await routes.refresh(request({ headers: { authorization: `Bearer ${second}` } }));
    expect([afterReuse.status, json(afterReuse)]).toEqual([401, { error: 'unauthorized', message: 'invalid refresh token' }]);
    const otherLogin = (await tokens(routes)).refresh_token; // another family of the same user is not affected
    expect((await routes.refresh(request({ headers: { authorization: `Bearer ${otherLogin}` } }))).status).toBe(200);
  });

  it('refuses a refresh token issued before a password change (credential version moved on)', async () => {
    const { routes, backend } = setup();
    const { refresh_token: refresh, access_token: access } = await tokens(routes);
    backend.users.set('alice', fakeUser('alice', 'user', 'plain:new-pw', { credentialVersion: 2 }));
    const reply = await routes.refresh(request({ headers: { authorization: `Bearer ${refresh}` } }));
    expect([reply.status, json(reply)]).toEqual([401, { error: 'unauthorized', message: 'invalid refresh token' }]);
    const me = await routes.me(request({ method: 'GET', headers: { authorization: `Bearer ${access}` } }));
    expect([me.status, json(me)]).toEqual([401, { error: 'unauthorized', message: "token revoked: the user's credentials changed; log in again" }]);
  });

  it('refuses an access token, a missing token, an expired one and a dropped user', async () => {
    const { routes, backend, clock } = setup();
    const { access_token: access, refresh_token: refresh } = await tokens(routes);
    const cases: [RequestContext, string][] = [
      [request({ headers: { authorization: `Bearer ${access}` } }), 'invalid refresh token'],
      [request(), 'missing refresh token'],
      [request({ headers: { authorization: 'Basic eDp5' } }), 'Authorization must use the Bearer scheme'],
    ];
    for (const [ctx, message] of cases) {
      const reply = await routes.refresh(ctx);
      expect([reply.status, json(reply)]).toEqual([401, { error: 'unauthorized', message }]);
    }
    backend.users.delete('alice');
    const dropped = await routes.refresh(request({ headers: { authorization: `Bearer ${refresh}` } }));
    expect([dropped.status, json(dropped)]).toEqual([401, { error: 'unauthorized', message: 'invalid refresh token' }]);
    expect(dropped.headers['set-cookie']).toMatch(/^seqline_refresh=; Path=\/v1\/api\/auth; Max-Age=0;/);
    clock.now += 604_800_000;
    const expired = await routes.refresh(request({ headers: { authorization: `Bearer ${refresh}` } }));
    expect(json(expired)).toEqual({ error: 'unauthorized', message: 'refresh token expired' });
  });
});

describe('POST /v1/api/auth/logout', () => {
  it('clears the refresh cookie', async () => {
    const reply = await setup().routes.logout(request());
    expect([reply.status, json(reply)]).toEqual([200, { message: 'Logged out successfully' }]);
    expect(reply.headers['set-cookie']).toBe('seqline_refresh=; Path=/v1/api/auth; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict');
  });

  it('ends the family of the refresh token presented (cookie or Bearer); other tokens are ignored', async () => {
    const { routes, backend } = setup();
    const byCookie = (await tokens(routes)).refresh_token;
    const byBearer = await tokens(routes);
    expect((await routes.logout(request({ headers: { cookie: `seqline_refresh=${byCookie}` } }))).status).toBe(200);
    expect((await routes.logout(request({ headers: { authorization: `Bearer ${byBearer.refresh_token}` } }))).status).toBe(200);
    expect((await routes.logout(request({ headers: { authorization: `Bearer ${byBearer.access_token}` } }))).status).toBe(200);
    expect(backend.calls.filter((c) => c.method === 'revokeRefreshFamily')).toHaveLength(2);
    for (const token of [byCookie, byBearer.refresh_token]) {
      const reply = await routes.refresh(request({ headers: { authorization: `Bearer ${token}` } }));
      expect([reply.status, json(reply)]).toEqual([401, { error: 'unauthorized', message: 'invalid refresh token' }]);
    }
  });
});

describe('GET /v1/api/auth/me', () => {
  it('answers the current user for an access token', async () => {
    const { routes } = setup();
    const { access_token: access, refresh_token: refresh } = await tokens(routes, 'boss', 'pw-boss');
    const reply = await routes.me(request({ method: 'GET', headers: { authorization: `Bearer ${access}` } }));
    expect([reply.status, json(reply)]).toEqual([
      200,
      { user: { id: 'boss', username: 'boss', role: 'dba', email: null, created_at: CREATED, updated_at: CREATED }, admin_ui_access: true },
    ]);
    const withRefresh = await routes.me(request({ method: 'GET', headers: { authorization: `Bearer ${refresh}` } }));
    expect([withRefresh.status, json(withRefresh)]).toEqual([401, { error: 'unauthorized', message: 'invalid token' }]);
    const without = await routes.me(request({ method: 'GET' }));
    expect(json(without)).toEqual({ error: 'unauthorized', message: 'missing Authorization: Bearer <access token> header' });
  });
});

describe('POST /v1/api/auth/setup and GET /v1/api/auth/status', () => {
  const local = '127.0.0.1';

  it('are refused to peers other than loopback', async () => {
    const { routes, backend } = setup();
    backend.users.clear();
    const body = JSON.stringify({ username: 'root_dba', password: 'pw' });
    for (const address of ['203.0.113.9', '::ffff:10.0.0.1', '::2']) {
      const reply = await routes.setup(request({ body, address }));
      expect([reply.status, json(reply)]).toEqual([403, { error: 'forbidden', message: 'setup is only available from localhost' }]);
      expect((await routes.status(request({ method: 'GET', address }))).status).toBe(403);
    }
    expect(backend.calls).toEqual([]);
  });

  it('creates the first DBA once, then answers already_configured', async () => {
    const { routes, backend } = setup();
    backend.users.clear();
    expect(json(await routes.status(request({ method: 'GET', address: '::1' })))).toEqual({
      needs_setup: true,
      message: 'no DBA exists yet: POST /v1/api/auth/setup with username, password and optional email',
    });
    const reply = await routes.setup(request({ address: local, body: JSON.stringify({ user: 'root_dba', password: 'pw', email: 'ops@example.com' }) }));
    expect([reply.status, json(reply)]).toEqual([
      200,
      {
        user: { id: 'root_dba', username: 'root_dba', role: 'dba', email: 'ops@example.com', created_at: CREATED, updated_at: CREATED },
        message: "setup complete: DBA user 'root_dba' created; log in to continue",
      },
    ]);
    expect(backend.calls).toContainEqual({ method: 'setup', userId: 'root_dba', passwordHash: 'plain:pw', email: 'ops@example.com' });
    const again = await routes.setup(request({ address: local, body: JSON.stringify({ user: 'other', password: 'pw' }) }));
    expect([again.status, json(again)]).toEqual([409, { error: 'already_configured', message: 'setup is already done: a DBA exists' }]);
    expect(json(await routes.status(request({ method: 'GET', address: local })))).toEqual({ needs_setup: false, message: 'setup is done' });
  });

  it('refuses an invalid user name before storage', async () => {
    const { routes, backend } = setup();
    const reply = await routes.setup(request({ address: local, body: JSON.stringify({ user: '_system', password: 'pw' }) }));
    expect([reply.status, json(reply)]).toEqual([400, { error: 'invalid_input', message: 'username must be 1 to 63 letters, digits, _ or -, not starting with _' }]);
    expect(backend.calls).toEqual([]);
  });
});
