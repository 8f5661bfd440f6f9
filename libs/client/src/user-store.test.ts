// Stores keyed per user: on a shared device, a second user never sends the first one's queued
// writes nor resumes their live queries; clear() (sign-out) removes the user's data, only theirs.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SeqlineClient, type ClientOptions } from './client.js';
import { accept, fakeFetch, fakeSockets, jwtFor, sqlAnswer, type Answer } from './fakes.test-util.js';
import { UserStore, type Store } from './store.js';

afterEach(() => vi.unstubAllGlobals());

/** A memory store whose keys the test can list. */
function listedStore(): Store & { readonly map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    get: async (key) => map.get(key),
    set: async (key, value) => void map.set(key, value),
    delete: async (key) => void map.delete(key),
  };
}

const SQL = 'SELECT id FROM app.t';
const SCHEMA = [{ name: 'id', data_type: 'Int', index: 0, flags: ['pk'] }];

/** A device: one store, a network that is up or down, and the clients opened on it. */
function device() {
  const store = listedStore();
  const net = { online: false };
  const { fetch, requests } = fakeFetch((): Answer => (net.online ? sqlAnswer({ row_count: 1, message: 'Inserted 1 row(s)' }) : new TypeError('fetch failed')));
  const { sockets, factory } = fakeSockets();
  const open = (user: string, extra: Partial<ClientOptions> = {}): SeqlineClient => new SeqlineClient({ url: 'http://gateway', auth: { jwt: jwtFor(user) }, fetch, store, webSocket: factory, random: () => 0, ...extra });
  return { store, net, requests, sockets, open };
}

/** Alice, offline, queues a write and sees a live query's snapshot, then closes the app. */
async function aliceLeavesState(d: ReturnType<typeof device>): Promise<void> {
  const alice = d.open('alice');
  const write = alice.execute("INSERT INTO app.t (title) VALUES ('alice offline')");
  const stop = alice.live(SQL, () => {});
  await vi.waitFor(() => expect(d.sockets).toHaveLength(1));
  const socket = d.sockets[0]!;
  await accept(socket, jwtFor('alice'));
  socket.onmessage?.({ data: JSON.stringify({ type: 'subscription_ack', subscription_id: 'q1', total_rows: 1, batch_control: { batch_num: 0, has_more: false, status: 'loading', last_seq_id: 42 }, schema: SCHEMA }) });
  socket.onmessage?.({ data: JSON.stringify({ type: 'initial_data_batch', subscription_id: 'q1', rows: [{ id: 1, _seq: '40' }], batch_control: { batch_num: 0, has_more: false, status: 'ready' } }) });
  await vi.waitFor(() => expect(d.store.map.has(`user/alice/live:${SQL}\u0000[]`)).toBe(true));
  expect(JSON.parse(d.store.map.get('user/alice/outbox')!)).toHaveLength(1);
  stop();
  alice.close();
  await expect(write).rejects.toMatchObject({ code: 'CLOSED' });
}

describe('a store shared by two users', () => {
  it("never sends the first user's queued writes or resumes their live queries for the second", async () => {
    const d = device();
    await aliceLeavesState(d);
    d.net.online = true;
    const before = d.requests.length;

    const bob = d.open('bob');
    const shown: string[] = [];
    bob.live(SQL, (_rows, info) => shown.push(info.status));
    await vi.waitFor(() => expect(d.sockets).toHaveLength(2));
    await accept(d.sockets[1]!, jwtFor('bob'));
    expect(d.sockets[1]!.sent.at(-1)).toEqual({ type: 'subscribe', subscription: { id: 'q1', sql: SQL, options: {} } }); // a snapshot, not alice's cursor
    await bob.execute("INSERT INTO app.t (title) VALUES ('bob')");
    expect(d.requests.slice(before).map((r) => r.body['sql'])).toEqual(["INSERT INTO app.t (title) VALUES ('bob')"]);
    expect(shown).not.toContain('stored');
    bob.close();

    // Alice back: her write is sent, and her live query resumes from her cursor.
    const alice = d.open('alice');
    alice.live(SQL, () => {});
    await vi.waitFor(() => expect(d.sockets).toHaveLength(3));
    await accept(d.sockets[2]!, jwtFor('alice'));
    expect(d.sockets[2]!.sent.at(-1)).toEqual({ type: 'subscribe', subscription: { id: 'q1', sql: SQL, options: { from: '42' } } });
    await vi.waitFor(() => expect(d.store.map.get('user/alice/outbox')).toBe('[]'));
    expect(d.requests.at(-1)!.body['sql']).toBe("INSERT INTO app.t (title) VALUES ('alice offline')");
    alice.close();
  });

  it("clear() removes the user's rows, cursors and queued writes, and nobody else's", async () => {
    const d = device();
    await aliceLeavesState(d);
    const bob = new UserStore(d.store, 'bob');
    await bob.set('outbox', '[]');
    const alice = d.open('alice');
    await alice.clear();
    expect([...d.store.map.keys()].sort()).toEqual(['user/bob/keys', 'user/bob/outbox']);
    await expect(alice.closed()).resolves.toBeUndefined();
    await expect(alice.execute('DELETE FROM app.t WHERE id = 1')).rejects.toMatchObject({ code: 'CLOSED' });

    // Signed in again on this device: nothing to send, nothing to show before the snapshot.
    d.net.online = true;
    const before = d.requests.length;
    const again = d.open('alice');
    again.live(SQL, () => {});
    await vi.waitFor(() => expect(d.sockets).toHaveLength(2));
    await accept(d.sockets[1]!, jwtFor('alice'));
    expect(d.sockets[1]!.sent.at(-1)).toEqual({ type: 'subscribe', subscription: { id: 'q1', sql: SQL, options: {} } });
    expect(d.requests.length).toBe(before);
    again.close();
  });

  it('keys the store by options.user with a token provider, and asks for it', () => {
    const d = device();
    expect(() => d.open('x', { auth: { token: async () => jwtFor('carol') } })).toThrow('a store needs options.user');
    expect(() => d.open('x', { auth: { token: async () => jwtFor('carol') }, user: 'carol' }).close()).not.toThrow();
  });
});

describe('UserStore', () => {
  it('ignores writes that land after clear(), so nothing in flight brings the data back', async () => {
    const store = listedStore();
    const alice = new UserStore(store, 'alice');
    await alice.set('a', '1');
    const cleared = alice.clear();
    await alice.set('b', '2');
    await cleared;
    expect(store.map.size).toBe(0);
  });

  it('keeps names apart that a plain prefix would mix up', async () => {
    const store = listedStore();
    await new UserStore(store, 'a/b').set('k', '1');
    expect(await new UserStore(store, 'a').get('b/k')).toBeUndefined();
    expect(await new UserStore(store, 'a/b').get('k')).toBe('1');
  });
});
