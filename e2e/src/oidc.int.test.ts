// Issue 16, external identity providers, on the real stack: a local OIDC provider (a real HTTP
// server on a free port, libs/testkit/oidc) whose access tokens open a WebSocket subscription
// and run SQL over HTTP inside their user's own partition; a user created on first sight
// (auto_provision) or refused when its provider does not provision; roles within what the
// operator allowed and never above the user's recorded role; a key rotation; the refusals of
// a wrong audience, an expired token, an unknown issuer and alg confusion; a dropped user's
// open socket closed and its name never taken again. Seqline's own tokens keep working beside.
import { createHmac } from 'node:crypto';
import { startOidcProvider, type OidcProvider } from '@seqline/testkit/oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok, sql } from './client.js';
import { startStack, type Stack } from './stack.js';
import { openSocket, type Msg } from './ws-client.js';

const AUD = 'seqline-e2e';
const NS = 'oidc';

let stack: Stack;
/** Provisions its users, may grant user and service. */
let open: OidcProvider;
/** Does not provision. */
let closed: OidcProvider;
let admin: string;

beforeAll(async () => {
  open = await startOidcProvider();
  closed = await startOidcProvider();
  await open.addKey('RS256');
  await closed.addKey('ES256');
  const issuers = [
    { issuer: open.issuer, audience: AUD, jwks_uri: open.jwksUri, user_prefix: 'op_', role_claim: 'seqline_role', allowed_roles: ['user', 'service'], auto_provision: true },
    { issuer: closed.issuer, audience: AUD, discovery: true, user_prefix: 'cp_' },
  ];
  // Cooldown 0: a rotated key is fetched at once (the cooldown itself: services/gateway/src/auth/oidc.int.test.ts).
  stack = await startStack({ env: { SEQLINE_OIDC_ISSUERS: JSON.stringify(issuers), SEQLINE_OIDC_JWKS_COOLDOWN_MS: '0', SEQLINE_WS_IDLE_MS: '60000' } });
  admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, `CREATE NAMESPACE IF NOT EXISTS ${NS}`);
  await ok(stack.url, admin, `CREATE TABLE ${NS}.notes (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), body TEXT) WITH (TYPE='USER')`);
  await ok(stack.url, admin, `CREATE TABLE ${NS}.board (id INT PRIMARY KEY, body TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')`);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
  await open?.close();
  await closed?.close();
});

const bodies = async (token: string): Promise<unknown[]> => {
  const [res] = await ok(stack.url, token, `SELECT body FROM ${NS}.notes ORDER BY body`);
  return (res?.['rows'] as unknown[][]).map((r) => r[0]);
};

async function refusal(token: string, text = 'SELECT 1'): Promise<unknown> {
  const r = await sql(stack.url, token, text);
  return { status: r.status, ...r.body.error };
}

describe('identity provider tokens', () => {
  it('open a subscription and run SQL inside the user’s own partition, the user created on first sight', async () => {
    const alice = await open.token({ sub: 'alice', aud: AUD });
    await ok(stack.url, admin, `INSERT INTO ${NS}.notes (body) VALUES ('admin-own')`);
    await ok(stack.url, alice, `INSERT INTO ${NS}.notes (body) VALUES ('a1')`);
    expect(await ok(stack.url, admin, "SELECT user_id, role FROM system.users WHERE user_id = 'op_alice'")).toMatchObject([{ rows: [['op_alice', 'user']] }]);
    const socket = await openSocket(stack.url, { token: alice });
    socket.send({ type: 'subscribe', subscription: { id: 'notes', sql: `SELECT body FROM ${NS}.notes`, options: {} } });
    await expect.poll(() => socket.messages.filter((m) => m['type'] === 'initial_data_batch').flatMap((m) => (m['rows'] as Msg[]).map((r) => r['body']))).toEqual(['a1']);
    expect(socket.messages[0]).toEqual({ type: 'auth_success', user: 'op_alice', role: 'user', protocol: { serialization: 'json', compression: 'none' } });
    await ok(stack.url, admin, `INSERT INTO ${NS}.notes (body) VALUES ('admin-2')`);
    await ok(stack.url, alice, `INSERT INTO ${NS}.notes (body) VALUES ('a2')`);
    await expect.poll(() => socket.messages.filter((m) => m['type'] === 'change').map((m) => [m['change_type'], (m['rows'] as Msg[])[0]!['body']])).toEqual([['insert', 'a2']]);
    expect(await bodies(alice)).toEqual(['a1', 'a2']);
    expect(await bodies(admin)).toEqual(['admin-2', 'admin-own']);

    // Dropped: the open socket is closed with 4001, and the name is never provisioned again.
    await ok(stack.url, admin, 'DROP USER op_alice');
    expect((await socket.closed).code).toBe(4001);
    expect(await refusal(alice)).toEqual({ status: 401, code: 'USER_NOT_PROVISIONED', message: 'user op_alice could not be created (the name of a dropped user is not used again)' });
  });

  it('refuses a user of a provider that does not provision until a DBA creates it', async () => {
    const bob = await closed.token({ sub: 'bob', aud: AUD });
    expect(await refusal(bob)).toEqual({ status: 401, code: 'USER_NOT_PROVISIONED', message: 'user cp_bob does not exist in Seqline, and its identity provider is not set to create users (auto_provision)' });
    await ok(stack.url, admin, "CREATE USER cp_bob WITH PASSWORD 'an-unused-long-password' ROLE user");
    expect(await ok(stack.url, bob, 'SELECT 1 AS one')).toMatchObject([{ rows: [[1]] }]);
  });

  it('grants only the roles the operator allowed, and never more than the user’s recorded role', async () => {
    const service = await open.token({ sub: 'svc', aud: AUD, seqline_role: 'service' });
    const socket = await openSocket(stack.url, { token: service });
    await expect.poll(() => socket.messages[0]).toMatchObject({ type: 'auth_success', user: 'op_svc', role: 'service' });
    socket.ws.close();
    for (const role of ['dba', 'system']) {
      const forged = await open.token({ sub: 'svc', aud: AUD, seqline_role: role });
      expect(await refusal(forged)).toEqual({ status: 403, code: 'ROLE_NOT_ALLOWED', message: "the token's seqline_role claim names no role its issuer may grant (allowed: user, service)" });
    }
    // A service writes SHARED tables, a user does not. A DBA lowers the recorded role: the
    // provider's "service" no longer lifts it.
    await ok(stack.url, service, `INSERT INTO ${NS}.board (id, body) VALUES (1, 'by service')`);
    await ok(stack.url, admin, 'ALTER USER op_svc SET ROLE user');
    // The gateway learns of the change from storage's notice; a new socket shows when it has.
    await expect
      .poll(async () => {
        const probe = await openSocket(stack.url, { token: service });
        await expect.poll(() => probe.messages.length).toBe(1);
        probe.ws.close();
        return probe.messages[0]!['role'];
      })
      .toBe('user');
    expect(await refusal(service, `INSERT INTO ${NS}.board (id, body) VALUES (2, 'by user')`)).toMatchObject({ status: 403, code: 'PERMISSION_DENIED' });
    expect(await ok(stack.url, admin, `SELECT id, body FROM ${NS}.board ORDER BY id`)).toMatchObject([{ rows: [[1, 'by service']] }]);
  });

  it('answers /v1/api/auth/me for a provider token with the user and the role it runs with', async () => {
    const me = async (token: string): Promise<{ status: number; body: Msg }> => {
      const r = await fetch(`${stack.url}/v1/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      return { status: r.status, body: (await r.json()) as Msg };
    };
    await ok(stack.url, admin, "CREATE USER cp_dave WITH PASSWORD 'an-unused-long-password' ROLE service");
    // The provider grants no role claim: the default, user, below the recorded service.
    expect(await me(await closed.token({ sub: 'dave', aud: AUD }))).toMatchObject({ status: 200, body: { user: { id: 'cp_dave', username: 'cp_dave', role: 'user' }, admin_ui_access: false } });
    expect(await me(await closed.token({ sub: 'erin', aud: AUD }))).toEqual({
      status: 401,
      body: { error: 'unauthorized', message: 'user cp_erin does not exist in Seqline, and its identity provider is not set to create users (auto_provision)' },
    });
    expect(await me(await closed.token({ sub: 'dave', aud: 'another-api' }))).toEqual({ status: 401, body: { error: 'unauthorized', message: "the token's audience is not accepted" } });
    expect(await me(admin)).toMatchObject({ status: 200, body: { user: { id: stack.admin.user } } });
  });

  it('accepts a rotated key, and refuses a wrong audience, an expired token, an unknown issuer and alg confusion', async () => {
    const rotated = await open.addKey('ES256');
    open.removeKey('k1-RS256');
    expect(await ok(stack.url, await open.token({ sub: 'carol', aud: AUD }, { kid: rotated }), 'SELECT 1 AS one')).toMatchObject([{ rows: [[1]] }]);
    expect(await refusal(await open.token({ sub: 'carol', aud: 'another-api' }))).toEqual({ status: 401, code: 'INVALID_CREDENTIALS', message: "the token's audience is not accepted" });
    const nowS = Math.floor(Date.now() / 1000);
    expect(await refusal(await open.token({ sub: 'carol', aud: AUD }, { nowS: nowS - 3600, ttlS: 600 }))).toEqual({ status: 401, code: 'TOKEN_EXPIRED', message: 'token expired' });
    expect(await refusal(await open.token({ sub: 'carol', aud: AUD, iss: 'https://idp.invalid' }))).toEqual({ status: 401, code: 'INVALID_CREDENTIALS', message: "the token's issuer is not configured" });
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: rotated })}.${b64({ iss: open.issuer, sub: 'mallory', aud: AUD, iat: nowS, exp: nowS + 300, seqline_role: 'service' })}`;
    const confused = `${input}.${createHmac('sha256', await open.publicKeyPem(rotated)).update(input).digest('base64url')}`;
    expect(await refusal(confused)).toEqual({ status: 401, code: 'INVALID_CREDENTIALS', message: "the token's signature algorithm is not accepted" });
    expect(await refusal(`${b64({ alg: 'none' })}.${b64({ iss: open.issuer, sub: 'mallory', aud: AUD, exp: nowS + 300 })}.`)).toEqual({ status: 401, code: 'INVALID_CREDENTIALS', message: "the token's signature algorithm is not accepted" });
    const socket = await openSocket(stack.url, { token: confused });
    expect(await socket.closed).toEqual({ code: 1008, reason: 'authentication failed' });
    expect(socket.messages).toEqual([{ type: 'auth_error', code: 'INVALID_CREDENTIALS', message: "the token's signature algorithm is not accepted" }]);
    expect(await ok(stack.url, admin, "SELECT user_id FROM system.users WHERE user_id = 'op_mallory'")).toMatchObject([{ row_count: 0 }]);
    // Seqline's own tokens are untouched.
    expect(await bodies(admin)).toEqual(['admin-2', 'admin-own']);
  });
});
