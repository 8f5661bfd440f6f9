// Issue 10, part D: authority that can be revoked, tried as a hostile user would on the real
// stack with two gateways. The credential cache's TTL is a minute here, so every revocation
// seen within a second came through the bus's user notices, not the TTL backstop. Each check
// ends with a bystander's write acknowledged within 5 s and /health within 1 s.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBystander, expectServed, type Bystander } from './bystander.js';
import { login, ok, post, sql, type Reply } from './client.js';
import { startStack, type ChildService, type Stack } from './stack.js';
import { openSocket, type WsClient } from './ws-client.js';

const NS = 'ha';
const REVOKED_CLOSE = 4001;

let stack: Stack;
let gateway2: ChildService;
/** The second gateway's base URL. */
let url2: string;
let admin: string;
let bystander: Bystander;
let db: postgres.Sql;
let nextUser = 0;

beforeAll(async () => {
  stack = await startStack({ env: { SEQLINE_CREDENTIAL_CACHE_TTL_MS: '60000', SEQLINE_LOGIN_RATE: '100000', SEQLINE_WS_IDLE_MS: '60000' } });
  gateway2 = await stack.spawn('gateway');
  url2 = gateway2.url!;
  admin = await login(stack.url, stack.admin.user, stack.admin.password);
  bystander = await createBystander(stack, admin, NS);
  await ok(stack.url, admin, `CREATE TABLE IF NOT EXISTS ${NS}.notes (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), body TEXT) WITH (TYPE='USER')`);
  db = postgres(stack.postgresUrl, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await db?.end({ timeout: 5 });
  await gateway2?.kill();
  await stack?.[Symbol.asyncDispose]();
});

interface Pair {
  readonly access: string;
  readonly refresh: string;
}

/** A new user of `role` (created by the stack's DBA), logged in. */
async function newUser(role: 'user' | 'service' | 'dba'): Promise<{ name: string; password: string; pair: Pair }> {
  const name = `ha_${role}_${++nextUser}`;
  const password = `pw-${name}-long-enough`;
  await ok(stack.url, admin, `CREATE USER ${name} WITH PASSWORD '${password}' ROLE ${role}`);
  return { name, password, pair: await loginPair(name, password) };
}

async function loginPair(user: string, password: string, base = stack.url): Promise<Pair> {
  const r = await post<{ access_token: string; refresh_token: string }>(`${base}/v1/api/auth/login`, { username: user, password });
  expect(r.status).toBe(200);
  return { access: r.body.access_token, refresh: r.body.refresh_token };
}

function refresh(token: string, base = stack.url): Promise<Reply<{ error?: string; message?: string; refresh_token?: string }>> {
  return post(`${base}/v1/api/auth/refresh`, {}, { authorization: `Bearer ${token}` });
}

const codeOf = (r: Reply<{ error?: { code: string } }>): [number, string | undefined] => [r.status, r.body.error?.code];

/** Waits (at most a second after `since`) until the access token is refused on `base` as revoked. */
async function expectRevoked(token: string, base: string, since: number): Promise<void> {
  await vi.waitFor(async () => expect(codeOf(await sql(base, token, 'SELECT 1'))).toEqual([401, 'TOKEN_REVOKED']), { timeout: 1000, interval: 20 });
  expect(performance.now() - since).toBeLessThan(1000);
}

/** A socket of `token` on `base` with one subscription acknowledged. */
async function subscribed(base: string, token: string): Promise<WsClient> {
  const c = await openSocket(base, { token });
  c.send({ type: 'subscribe', subscription: { id: 's1', sql: `SELECT * FROM ${NS}.notes` } });
  await vi.waitFor(() => expect(c.messages.map((m) => m['type'])).toContain('subscription_ack'), { timeout: 5000 });
  return c;
}

async function closedWithin(c: WsClient, ms: number): Promise<{ code: number; reason: string } | 'open'> {
  return Promise.race([c.closed, new Promise<'open'>((r) => setTimeout(() => r('open'), ms))]);
}

describe('revocable authority', () => {
  it('refuses a dropped user’s access and refresh tokens on both gateways, and never gives the name out again', async () => {
    const { name, pair } = await newUser('user');
    const on2 = await loginPair(name, `pw-${name}-long-enough`, url2);
    for (const [base, token] of [[stack.url, pair.access], [url2, on2.access]] as const) expect((await sql(base, token, 'SELECT 1')).status).toBe(200); // cached as valid
    await ok(stack.url, admin, `DROP USER ${name}`);
    const dropped = performance.now();
    await expectRevoked(pair.access, stack.url, dropped);
    await expectRevoked(on2.access, url2, dropped);
    const me = await fetch(`${stack.url}/v1/api/auth/me`, { headers: { authorization: `Bearer ${pair.access}` } });
    expect(me.status).toBe(401);
    for (const [base, token] of [[stack.url, pair.refresh], [url2, on2.refresh]] as const) {
      const r = await refresh(token, base);
      expect([r.status, r.body]).toEqual([401, { error: 'unauthorized', message: 'invalid refresh token' }]);
    }
    const again = await sql(stack.url, admin, `CREATE USER ${name} WITH PASSWORD 'another-password' ROLE user`);
    expect([again.status, again.body.error]).toEqual([400, { code: 'SQL_EXECUTION_ERROR', message: `user name ${name} belonged to a dropped user whose rows remain; choose another name` }]);
    await expectServed(stack, bystander);
  });

  it('stops a demoted DBA’s old token from creating DBAs, and runs every request with the current role', async () => {
    const { name, pair } = await newUser('dba');
    expect((await sql(stack.url, pair.access, 'SELECT 1')).status).toBe(200);
    await ok(stack.url, admin, `ALTER USER ${name} SET ROLE user`);
    await expectRevoked(pair.access, stack.url, performance.now());
    const created = await sql(stack.url, pair.access, `CREATE USER ha_sneaky_dba WITH PASSWORD 'sneaky-password' ROLE dba`);
    expect(codeOf(created)).toEqual([401, 'TOKEN_REVOKED']);
    expect(await ok(stack.url, admin, "SELECT user_id FROM system.users WHERE user_id = 'ha_sneaky_dba'")).toMatchObject([{ row_count: 0 }]);
    const relogged = await loginPair(name, `pw-${name}-long-enough`);
    expect(codeOf(await sql(stack.url, relogged.access, `CREATE USER ha_sneaky_dba WITH PASSWORD 'sneaky-password' ROLE dba`))).toEqual([403, 'PERMISSION_DENIED']);
    await expectServed(stack, bystander);
  });

  it('ends the refresh tokens issued before a password change', async () => {
    const { name, pair } = await newUser('user');
    await ok(stack.url, admin, `ALTER USER ${name} SET PASSWORD 'a-brand-new-password'`);
    const r = await refresh(pair.refresh);
    expect([r.status, r.body]).toEqual([401, { error: 'unauthorized', message: 'invalid refresh token' }]);
    await expectRevoked(pair.access, stack.url, performance.now());
    const fresh = await loginPair(name, 'a-brand-new-password');
    expect((await refresh(fresh.refresh)).status).toBe(200);
    await expectServed(stack, bystander);
  });

  it('rotates refresh tokens, a reused one revokes its whole family, and logout ends one', async () => {
    const { pair } = await newUser('user');
    const second = await refresh(pair.refresh);
    expect(second.status).toBe(200);
    const replay = await refresh(pair.refresh); // a stolen copy of the first token
    expect([replay.status, replay.body]).toEqual([401, { error: 'unauthorized', message: 'invalid refresh token' }]);
    const legit = await refresh(second.body.refresh_token!); // the family is over for its holder too
    expect([legit.status, legit.body]).toEqual([401, { error: 'unauthorized', message: 'invalid refresh token' }]);
    const other = await newUser('user');
    expect((await post(`${stack.url}/v1/api/auth/logout`, {}, { authorization: `Bearer ${other.pair.refresh}` })).status).toBe(200);
    expect((await refresh(other.pair.refresh)).status).toBe(401); // logout ends the family
    await expectServed(stack, bystander);
  });

  it('closes the WebSockets of a dropped user with 4001 within a second, on both gateways', async () => {
    const { name, pair } = await newUser('user');
    const sockets = [await subscribed(stack.url, pair.access), await subscribed(url2, pair.access)];
    await ok(stack.url, admin, `DROP USER ${name}`);
    const dropped = performance.now();
    for (const c of sockets) expect(await closedWithin(c, 1000)).toEqual({ code: REVOKED_CLOSE, reason: 'TOKEN_REVOKED' });
    expect(performance.now() - dropped).toBeLessThan(1000);
    await expectServed(stack, bystander);
  });

  it('closes the WebSockets of a demoted user with 4001 within a second, on both gateways, and refuses the old token on a new one', async () => {
    const { name, pair } = await newUser('service');
    const sockets = [await subscribed(stack.url, pair.access), await subscribed(url2, pair.access)];
    await ok(stack.url, admin, `ALTER USER ${name} SET ROLE user`);
    const demoted = performance.now();
    for (const c of sockets) expect(await closedWithin(c, 1000)).toEqual({ code: REVOKED_CLOSE, reason: 'TOKEN_REVOKED' });
    expect(performance.now() - demoted).toBeLessThan(1000);
    const late = await openSocket(url2, { token: pair.access });
    expect((await late.closed).code).toBe(REVOKED_CLOSE);
    expect(late.messages).toEqual([{ type: 'auth_error', code: 'TOKEN_REVOKED', message: "token revoked: the user's credentials changed; log in again" }]);
    await expectServed(stack, bystander);
  });

  it('lets only system create, change or drop a system user', async () => {
    const root = await newUser('dba');
    await db`UPDATE seqline.users SET role = 'system', credential_version = credential_version + 1 WHERE user_id = ${root.name}`; // the operator's way to a first system user
    const sys = await loginPair(root.name, root.password);
    const refused = [
      `ALTER USER ${root.name} SET PASSWORD 'taken-over-password'`,
      `ALTER USER ${root.name} SET ROLE user`,
      `ALTER USER ${root.name} SET EMAIL 'attacker@example.com'`,
      `DROP USER ${root.name}`,
      `CREATE USER ha_fake_root WITH PASSWORD 'fake-root-password' ROLE system`,
    ];
    for (const text of refused) expect(codeOf(await sql(stack.url, admin, text)), text).toEqual([403, 'PERMISSION_DENIED']);
    expect((await sql(stack.url, sys.access, 'SELECT 1')).status).toBe(200); // still valid: nothing changed
    await ok(stack.url, sys.access, `CREATE USER ha_root2 WITH PASSWORD 'root2-password' ROLE system`);
    await ok(stack.url, sys.access, `ALTER USER ha_root2 SET PASSWORD 'root2-password-2'`);
    await ok(stack.url, sys.access, 'DROP USER ha_root2');
    await expectServed(stack, bystander);
  });

  it('answers a failed login alike for an unknown user, a wrong password and a locked account, and a lock ends the sessions', async () => {
    const { name, password, pair } = await newUser('user');
    const locked = await newUser('user');
    for (let i = 0; i < 5; i++) await post(`${stack.url}/v1/api/auth/login`, { username: locked.name, password: 'wrong-password' });
    await expectRevoked(locked.pair.access, stack.url, performance.now());
    expect((await sql(stack.url, pair.access, 'SELECT 1')).status).toBe(200);
    const attempts = { unknown: ['ha_nobody_at_all', password], wrong: [name, 'wrong-password'], locked: [locked.name, locked.password] } as const;
    const times: Record<string, number[]> = { unknown: [], wrong: [], locked: [] };
    const answers = new Set<string>();
    for (let round = 0; round < 5; round++) {
      for (const [kind, [username, pw]] of Object.entries(attempts)) {
        const started = performance.now();
        const res = await fetch(`${stack.url}/v1/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: pw }) });
        const body = await res.text();
        times[kind]!.push(performance.now() - started);
        const headers = [...res.headers].filter(([h]) => h !== 'date').sort();
        answers.add(JSON.stringify([res.status, body, headers]));
      }
    }
    expect([...answers].map((a) => JSON.parse(a) as unknown[]).map(([status, body]) => [status, body])).toEqual([[401, '{"error":"unauthorized","message":"invalid username or password"}']]);
    const fastest = Object.values(times).map((t) => Math.min(...t)); // load on the machine only adds time
    expect(Math.max(...fastest) / Math.min(...fastest)).toBeLessThan(4); // each does one look-up, one scrypt check and one recorded failure
    await expectServed(stack, bystander);
  });

  it('never lets setup overwrite an existing or a dropped user', async () => {
    const victim = await newUser('user');
    const gone = await newUser('user');
    await ok(stack.url, admin, `DROP USER ${gone.name}`);
    const admins = await db<{ user_id: string; role: string }[]>`SELECT user_id, role FROM seqline.users WHERE role IN ('dba', 'system')`;
    await db`UPDATE seqline.users SET role = 'user' WHERE role IN ('dba', 'system')`; // as if no DBA existed yet
    try {
      for (const name of [victim.name, gone.name]) {
        const r = await post(`${stack.url}/v1/api/auth/setup`, { username: name, password: 'setup-takes-over' });
        expect(r.status).toBe(400);
        expect(r.body['error']).toBe('invalid_input');
      }
      const still = await post<{ user: { role: string } }>(`${stack.url}/v1/api/auth/login`, { username: victim.name, password: victim.password });
      expect([still.status, still.body.user.role]).toEqual([200, 'user']);
      expect((await post(`${stack.url}/v1/api/auth/login`, { username: victim.name, password: 'setup-takes-over' })).status).toBe(401);
    } finally {
      for (const a of admins) await db`UPDATE seqline.users SET role = ${a.role} WHERE user_id = ${a.user_id}`;
    }
    await expectServed(stack, bystander);
  });
});
