// @seqline/client against the real stack: live() through its snapshot and changes, a socket
// dropped under it and resumed with nothing missed or repeated; a stale token renewed
// transparently; an app restarted with a persisted store showing its rows before it connects
// and converging after; writes made offline applied once each, in order; every statement's
// result; the server's error codes; closed() when the user's credentials are revoked.
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError, createClient, fileStore, memoryStore, ServerError, type FetchLike, type LiveEvent, type LiveInfo, type Row, type SeqlineClient, type SeqlineError, type WebSocketLike } from '@seqline/client/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { login, ok } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';

let stack: Stack;
let alice: string;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  ({ alice } = await ticketsFixture(stack));
  dir = await mkdtemp(join(tmpdir(), 'seqline-sdk-'));
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const ALICE = { user: 'alice', password: 'alice-pass-1' };
const titles = (rows: readonly Row[]): unknown[] => rows.map((r) => r['title']);
const select = async (): Promise<unknown[]> => ((await ok(stack.url, alice, 'SELECT title FROM app.tickets ORDER BY _seq'))[0]!['rows'] as unknown[][]).map((r) => r[0]);

/** The error a call rejected with (failing the test if it succeeded). */
const rejection = (call: Promise<unknown>): Promise<SeqlineError> =>
  call.then(
    () => expect.unreachable('the call succeeded'),
    (e: unknown) => e as SeqlineError,
  );

/** A live query's latest rows and info. */
function watch(client: SeqlineClient, sql: string, options: Parameters<SeqlineClient['live']>[2] = {}) {
  const calls: { rows: Row[]; info: LiveInfo }[] = [];
  const stop = client.live(sql, (rows, info) => calls.push({ rows, info }), options);
  return { calls, stop, latest: () => calls.at(-1) };
}

/** Sockets the client opens, to drop them from outside. */
function trackedSockets(): { sockets: WebSocket[]; factory: (url: string) => WebSocketLike } {
  const sockets: WebSocket[] = [];
  return {
    sockets,
    factory: (url) => {
      const ws = new WebSocket(url);
      sockets.push(ws);
      return ws as unknown as WebSocketLike;
    },
  };
}

describe('@seqline/client', () => {
  it('live(): snapshot, changes, then a dropped socket resumed with no duplicate and no missed row', async () => {
    for (let i = 1; i <= 5; i++) await ok(stack.url, alice, 'INSERT INTO app.tickets (title) VALUES ($1)', [`s${i}`]);
    const { sockets, factory } = trackedSockets();
    const client = createClient({ url: stack.url, auth: ALICE, webSocket: factory, backoff: { baseMs: 20, capMs: 200 } });
    const statuses: string[] = [];
    client.onStatus((s) => statuses.push(s));
    const live = watch(client, 'SELECT id, title, status FROM app.tickets', { batchSize: 2 });
    const events: LiveEvent[] = [];
    client.subscribe('SELECT id, title FROM app.tickets', (e) => events.push(e));
    try {
      await expect.poll(() => live.latest()?.info.status).toBe('ready');
      expect(titles(live.latest()!.rows)).toEqual(['s1', 's2', 's3', 's4', 's5']);
      expect(typeof live.latest()!.rows[0]!['id']).toBe('bigint');
      expect(typeof live.latest()!.rows[0]!['_seq']).toBe('bigint');

      await client.execute("UPDATE app.tickets SET title = 'S1' WHERE title = 's1'");
      await client.execute("DELETE FROM app.tickets WHERE title = 's2'");
      await expect.poll(() => titles(live.latest()!.rows)).toEqual(['s3', 's4', 's5', 'S1']);

      sockets.at(-1)!.terminate(); // the network drops
      await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('while away')");
      await ok(stack.url, alice, "DELETE FROM app.tickets WHERE title = 's3'");
      await expect.poll(() => titles(live.latest()!.rows)).toEqual(['s4', 's5', 'S1', 'while away']);
      expect(titles(live.latest()!.rows)).toEqual(await select());
      expect(sockets).toHaveLength(2);
      expect(statuses).toEqual(['connecting', 'open', 'reconnecting', 'open']);

      const seqs = events.filter((e) => e.type === 'change').map((e) => ((e['rows'] ?? e['old_values']) as Row[])[0]!['_seq'] as bigint);
      expect(seqs).toHaveLength(4); // update, delete, insert, delete: each once
      expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
    } finally {
      client.close();
    }
    expect(statuses.at(-1)).toBe('closed');
  });

  it('renews a token the server says expired, for SQL and for the socket, without the app noticing', async () => {
    // The first login answer carries a correctly signed token that expired an hour ago, as if
    // the client's clock ran slow: the client believes it fresh until the server refuses it.
    const expired = forgeAccessToken('alice', 'user', Math.floor(Date.now() / 1000) - 3600);
    let forged = 0;
    const realFetch = globalThis.fetch as unknown as FetchLike;
    const fetchImpl: FetchLike = async (url, init) => {
      const res = await realFetch(url, init);
      if (!url.endsWith('/v1/api/auth/login') || forged++ > 0) return res;
      const body = JSON.parse(await res.text()) as Record<string, unknown>;
      return { status: res.status, text: async () => JSON.stringify({ ...body, access_token: expired, expires_at: new Date(Date.now() + 3_600_000).toISOString() }) };
    };
    const client = createClient({ url: stack.url, auth: ALICE, fetch: fetchImpl, backoff: { baseMs: 20, capMs: 200 } });
    try {
      const { rows } = await client.query('SELECT count(*) AS n FROM app.tickets');
      expect(rows).toEqual([{ n: BigInt((await select()).length) }]);
      const live = watch(client, 'SELECT id, title FROM app.tickets');
      await expect.poll(() => live.latest()?.info.status).toBe('ready');
      expect(forged).toBe(1);
      live.stop();
    } finally {
      client.close();
    }
    // And with the socket first: its authenticate is refused as expired, the client renews and reconnects.
    forged = 0;
    const second = createClient({ url: stack.url, auth: ALICE, fetch: fetchImpl, backoff: { baseMs: 20, capMs: 200 } });
    const statuses: string[] = [];
    second.onStatus((s) => statuses.push(s));
    try {
      const live = watch(second, 'SELECT id, title FROM app.tickets');
      await expect.poll(() => live.latest()?.info.status).toBe('ready');
      expect(titles(live.latest()!.rows)).toEqual(await select());
      expect(statuses).toEqual(['connecting', 'reconnecting', 'open']);
    } finally {
      second.close();
    }
  });

  it('shows a restarted app its stored rows before it connects, then converges', async () => {
    const path = join(dir, 'restart.json');
    const first = createClient({ url: stack.url, auth: ALICE, store: fileStore(path) });
    const before = watch(first, 'SELECT id, title FROM app.tickets');
    await expect.poll(() => before.latest()?.info.status).toBe('ready');
    const seen = titles(before.latest()!.rows);
    expect(seen).toEqual(await select());
    const stored = async (): Promise<boolean> => (JSON.parse(await readFile(path, 'utf8').catch(() => '{}')) as Record<string, string>)['user/alice/live:SELECT id, title FROM app.tickets\u0000[]'] !== undefined;
    await expect.poll(stored).toBe(true);
    before.stop();
    first.close();

    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('after restart')");
    await ok(stack.url, alice, "DELETE FROM app.tickets WHERE title = 's4'");

    const { sockets, factory } = trackedSockets();
    const second = createClient({ url: stack.url, auth: ALICE, store: fileStore(path), webSocket: factory });
    const after = watch(second, 'SELECT id, title FROM app.tickets');
    try {
      await expect.poll(() => after.calls.length).toBeGreaterThan(0);
      expect(after.calls[0]!.info.status).toBe('stored');
      expect(titles(after.calls[0]!.rows)).toEqual(seen);
      await expect.poll(() => titles(after.latest()!.rows)).toEqual(await select());
      expect(sockets).toHaveLength(1);
    } finally {
      second.close();
    }
  });

  it('queues writes made offline and applies each once, in order, after a restart too', async () => {
    const store = memoryStore();
    let offline = true;
    const realFetch = globalThis.fetch as unknown as FetchLike;
    let lostAnswers = 1;
    const fetchImpl: FetchLike = async (url, init) => {
      if (offline) throw new TypeError('fetch failed');
      const res = await realFetch(url, init);
      // The first write reaches the server but its answer is lost: it is sent again with the same key.
      if (url.endsWith('/v1/api/sql') && init.body?.includes('offline 1') === true && lostAnswers-- > 0) throw new TypeError('socket hang up');
      return res;
    };
    const unreachable = (url: string): WebSocketLike => new WebSocket(offline ? 'ws://127.0.0.1:9/v1/ws' : url) as unknown as WebSocketLike;
    const app = createClient({ url: stack.url, auth: ALICE, store, fetch: fetchImpl, webSocket: unreachable, backoff: { baseMs: 20, capMs: 100 } });
    // What the SQL looks like does not matter: a comment first is a write like any other.
    const first = app.execute("-- from the field\nINSERT INTO app.tickets (title) VALUES ('offline 1')");
    const second = app.execute("/* queued */ INSERT INTO app.tickets (title) VALUES ('offline 2')");
    await expect.poll(async () => ((JSON.parse((await store.get('user/alice/outbox')) ?? '[]') as unknown[]).length)).toBe(2);
    app.close(); // the app is closed while offline; the writes wait in its store
    void first.catch(() => {});
    void second.catch(() => {});

    offline = false;
    const restarted = createClient({ url: stack.url, auth: ALICE, store, fetch: fetchImpl, webSocket: unreachable, backoff: { baseMs: 20, capMs: 100 } });
    try {
      await expect.poll(async () => (await store.get('user/alice/outbox')) ?? '').toBe('[]');
      const all = await select();
      expect(all.filter((t) => String(t).startsWith('offline'))).toEqual(['offline 1', 'offline 2']);
      expect(lostAnswers).toBe(-1); // the lost answer did happen, and the resend was deduplicated
      // Online again: a write goes straight through.
      const online = await restarted.execute("INSERT INTO app.tickets (title) VALUES ('online') RETURNING title");
      expect(online.results[0]!.rows).toEqual([{ title: 'online' }]);
      expect(online.rowCount).toBe(1);
      expect(BigInt(online.seq!)).toBeGreaterThan(0n);
    } finally {
      restarted.close();
    }
  });
});

describe('@seqline/client results, errors and closing', () => {
  it("query() returns every statement's result; execute() the rows changed and the seq written", async () => {
    const client = createClient({ url: stack.url, auth: ALICE });
    try {
      const before = (await select()).length;
      const written = await client.execute("/* two */ INSERT INTO app.tickets (title) VALUES ('multi 1'), ('multi 2')");
      expect({ rowCount: written.rowCount, message: written.results[0]!.message }).toEqual({ rowCount: 2, message: 'Inserted 2 row(s)' });
      const result = await client.query("SELECT count(*) AS n FROM app.tickets; SELECT max(_seq) AS top FROM app.tickets; UPDATE app.tickets SET status = 'done' WHERE title = 'multi 1'");
      expect(result.results.map((r) => r.rows)).toEqual([[{ n: BigInt(before + 2) }], [{ top: BigInt(written.seq!) }], []]);
      expect(result.rows).toEqual([{ n: BigInt(before + 2) }]);
      expect(result.schema.map((c) => c.name)).toEqual(['n']);
      const update = result.results[2]!;
      expect({ rowCount: update.rowCount, newer: BigInt(update.seq!) > BigInt(written.seq!) }).toEqual({ rowCount: 1, newer: true });
    } finally {
      client.close();
    }
  });

  it("rejects with the server's code and HTTP status, and reports subscription errors the same way", async () => {
    const client = createClient({ url: stack.url, auth: ALICE });
    try {
      const invalid = await rejection(client.query('SELEC 1'));
      expect(invalid).toBeInstanceOf(ServerError);
      expect({ code: invalid.code, status: invalid.status }).toEqual({ code: 'INVALID_SQL', status: 400 });
      const denied = await rejection(client.query('SELECT * FROM system.users'));
      expect({ name: denied.name, code: denied.code, status: denied.status }).toEqual({ name: 'ServerError', code: 'PERMISSION_DENIED', status: 403 });
      const subscription = await new Promise<SeqlineError>((resolve) => client.live('SELECT id FROM app.nowhere', () => {}, { onError: resolve }));
      expect(subscription).toBeInstanceOf(ServerError);
      expect({ code: subscription.code, status: subscription.status }).toEqual({ code: 'NOT_FOUND', status: undefined });
    } finally {
      client.close();
    }
    const wrong = createClient({ url: stack.url, auth: { user: 'alice', password: 'not-her-password' } });
    const refused = await rejection(wrong.query('SELECT 1'));
    expect(refused).toBeInstanceOf(AuthError);
    expect({ code: refused.code, status: refused.status }).toEqual({ code: 'UNAUTHORIZED', status: 401 });
    expect(await wrong.closed()).toBe(refused);
  });

  it('closed() resolves with TOKEN_REVOKED when the user is dropped under a live query', async () => {
    const admin = await login(stack.url, stack.admin.user, stack.admin.password);
    await ok(stack.url, admin, "CREATE USER carol WITH PASSWORD 'carol-pass-1' ROLE user");
    const client = createClient({ url: stack.url, auth: { user: 'carol', password: 'carol-pass-1' } });
    const live = watch(client, 'SELECT id, title FROM app.tickets');
    await expect.poll(() => live.latest()?.info.status).toBe('ready');
    await ok(stack.url, admin, 'DROP USER carol');
    const error = await client.closed();
    expect(error).toBeInstanceOf(AuthError);
    expect((error as SeqlineError).code).toBe('TOKEN_REVOKED');
    expect(client.status).toBe('closed');
    await expect(client.execute("INSERT INTO app.tickets (title) VALUES ('too late')")).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

function forgeAccessToken(sub: string, role: string, exp: number): string {
  const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, role, token_type: 'access', iat: exp - 60, exp, cv: 1 })}`;
  return `${head}.${createHmac('sha256', stack.jwtSecret).update(head).digest('base64url')}`;
}
