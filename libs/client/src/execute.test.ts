// execute() is a write whatever its SQL looks like: an Idempotency-Key on every request, and the
// offline queue (with a store) for `WITH … INSERT` and statements behind comments too. query()
// runs SQL now, without a key or the queue, and returns every statement's result.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SeqlineClient } from './client.js';
import { NetworkError } from './errors.js';
import { accept, fakeFetch, fakeSockets, sqlAnswer, type Answer } from './fakes.test-util.js';
import { memoryStore } from './store.js';

const WRITES = ["WITH n AS (SELECT 'a' AS t) INSERT INTO app.t (title) SELECT t FROM n", "-- a note\nINSERT INTO app.t (title) VALUES ('b')", "/* c */ UPDATE app.t SET title = 'c' WHERE id = 1"];
const INSERTED = { row_count: 1, message: 'Inserted 1 row(s)', as_user: 'alice', seq: '383496306159300609' };

afterEach(() => vi.unstubAllGlobals());

describe('execute()', () => {
  it('sends an Idempotency-Key whatever the SQL looks like, the given one as is', async () => {
    const { fetch, requests } = fakeFetch(() => sqlAnswer(INSERTED));
    const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch });
    for (const sql of WRITES) expect(await client.execute(sql)).toEqual({ rowCount: 1, seq: '383496306159300609', results: [{ schema: [], rows: [], rowCount: 1, message: 'Inserted 1 row(s)', seq: '383496306159300609' }] });
    await client.execute('INSERT INTO app.t (title) VALUES ($1)', ['d'], { idempotencyKey: 'my-key' });
    const keys = requests.map((r) => r.headers['idempotency-key']);
    expect(keys.slice(0, 3).every((k) => typeof k === 'string' && /^[0-9a-f-]{36}$/.test(k))).toBe(true);
    expect(new Set(keys.slice(0, 3)).size).toBe(3);
    expect(keys[3]).toBe('my-key');
    expect(requests.map((r) => r.body)).toEqual([...WRITES.map((sql) => ({ sql })), { sql: 'INSERT INTO app.t (title) VALUES ($1)', params: ['d'] }]);
    client.close();
  });

  it('sums the row counts of several statements and keeps the highest seq', async () => {
    const { fetch } = fakeFetch(() => sqlAnswer({ ...INSERTED, seq: '900' }, { row_count: 2, message: 'Updated 2 row(s)', seq: '1000' }, { row_count: 0, message: 'Table created' }));
    const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch });
    const result = await client.execute('INSERT …; UPDATE …; CREATE TABLE …');
    expect({ rowCount: result.rowCount, seq: result.seq, n: result.results.length }).toEqual({ rowCount: 3, seq: '1000', n: 3 });
    client.close();
  });

  it('queues WITH … INSERT and commented writes made offline, then sends each once, in order, with its key', async () => {
    let online = false;
    const { fetch, requests } = fakeFetch((): Answer => (online ? sqlAnswer(INSERTED) : new TypeError('fetch failed')));
    const { sockets, factory } = fakeSockets();
    const store = memoryStore();
    const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, user: 'alice', fetch, store, webSocket: factory, random: () => 0 });
    const pending = WRITES.map((sql) => client.execute(sql));
    await vi.waitFor(async () => expect(JSON.parse((await store.get('user/alice/outbox')) ?? '[]')).toHaveLength(3));
    const queued = JSON.parse((await store.get('user/alice/outbox'))!) as { key: string; sql: string }[];
    expect(queued.map((w) => w.sql)).toEqual(WRITES);
    expect(requests.map((r) => r.headers['idempotency-key'])).toEqual(queued.map((w) => w.key)); // each tried once, queued under the key it was tried with

    online = true;
    await vi.waitFor(() => expect(sockets.length).toBeGreaterThan(0));
    await accept(sockets.at(-1)!);
    const results = await Promise.all(pending);
    expect(results.map((r) => r.seq)).toEqual(['383496306159300609', '383496306159300609', '383496306159300609']);
    expect(requests.slice(3).map((r) => [r.body['sql'], r.headers['idempotency-key']])).toEqual(queued.map((w) => [w.sql, w.key]));
    expect(await store.get('user/alice/outbox')).toBe('[]');
    client.close();
  });

  it('without a store, a write that cannot reach the gateway rejects with NETWORK', async () => {
    const { fetch } = fakeFetch(() => new TypeError('fetch failed'));
    const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch });
    await expect(client.execute("INSERT INTO app.t (title) VALUES ('x')")).rejects.toMatchObject({ name: 'NetworkError', code: 'NETWORK' });
    client.close();
  });
});

describe('query()', () => {
  it("returns every statement's result, rows as objects, and the first one's rows and schema", async () => {
    const schema = [
      { name: 'id', data_type: 'BigInt', index: 0, flags: ['pk'] },
      { name: 'title', data_type: 'Text', index: 1 },
    ];
    const { fetch, requests } = fakeFetch(() => sqlAnswer({ schema, rows: [['9007199254740993', 'a'], ['2', 'b']], row_count: 2, as_user: 'alice' }, INSERTED, { schema: [{ name: 'n', data_type: 'BigInt', index: 0 }], rows: [['3']], row_count: 1, message: 'cut at 1 row' }));
    const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch });
    const result = await client.query("SELECT id, title FROM app.t; INSERT INTO app.t (title) VALUES ('c'); SELECT count(*) AS n FROM app.t");
    const rows = [
      { id: 9007199254740993n, title: 'a' },
      { id: 2n, title: 'b' },
    ];
    expect(result).toEqual({
      rows,
      schema,
      results: [
        { schema, rows, rowCount: 2 },
        { schema: [], rows: [], rowCount: 1, message: 'Inserted 1 row(s)', seq: '383496306159300609' },
        { schema: [{ name: 'n', data_type: 'BigInt', index: 0 }], rows: [{ n: 3n }], rowCount: 1, message: 'cut at 1 row' },
      ],
    });
    expect(requests[0]!.headers['idempotency-key']).toBeUndefined();
    client.close();
  });

  it('runs a write at once, without a key, and never queues it', async () => {
    const { fetch, requests } = fakeFetch(() => new TypeError('fetch failed'));
    const store = memoryStore();
    const client = new SeqlineClient({ url: 'http://gateway', auth: { user: 'alice', password: 'pw' }, fetch, store });
    await expect(client.query("INSERT INTO app.t (title) VALUES ('x')")).rejects.toBeInstanceOf(NetworkError);
    expect(requests.map((r) => r.url)).toEqual(['http://gateway/v1/api/auth/login']);
    expect(await store.get('user/alice/outbox')).toBeUndefined();
    client.close();
  });
});
