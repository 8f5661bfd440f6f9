// live() on a query with an order (docs/protocol.md §4.7), against a fake gateway: rows in the
// ack's order_by through a snapshot that is not in _seq order and a window's changes; a snapshot
// cut off by a reconnect is asked again (no part of it is a resume point) while a plain one
// still resumes; the order stored with the rows shows them in place before the ack comes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SeqlineClient, type LiveInfo } from './client.js';
import { accept, fakeSockets, type FakeSocket } from './fakes.test-util.js';
import type { Row } from './materialize.js';
import { encode, memoryStore, type Store } from './store.js';

const SQL = 'SELECT id, title, updated_at FROM app.tickets ORDER BY updated_at DESC LIMIT 3';
const SCHEMA = [
  { name: 'id', data_type: 'BigInt', index: 0, flags: ['pk', 'nn', 'uq'] },
  { name: 'title', data_type: 'Text', index: 1 },
  { name: 'updated_at', data_type: 'Timestamp', index: 2 },
  { name: '_seq', data_type: 'BigInt', index: 3 },
];
const ORDER_BY = [
  { column: 'updated_at', direction: 'desc', nulls: 'first' },
  { column: 'id', direction: 'asc', nulls: 'last' },
];
const WINDOW = { orderBy: ORDER_BY, limit: 3 };
const t = (id: number, title: string, updated: number, seq: number): Record<string, unknown> => ({ id: String(id), title, updated_at: updated, _seq: String(seq) });

const clients: SeqlineClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** A client with fake sockets, recording every onRows call of one live query. */
function open(store?: Store): { client: SeqlineClient; sockets: FakeSocket[]; calls: { titles: unknown[]; info: LiveInfo }[]; stop: () => void } {
  const { sockets, factory } = fakeSockets();
  const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, user: 'alice', fetch: () => Promise.reject(new Error('no HTTP here')), webSocket: factory, random: () => 0, ...(store === undefined ? {} : { store }) });
  clients.push(client);
  const calls: { titles: unknown[]; info: LiveInfo }[] = [];
  const stop = client.live(SQL, (rows: Row[], info) => calls.push({ titles: rows.map((r) => r['title']), info }));
  return { client, sockets, calls, stop };
}

const send = (socket: FakeSocket, message: Record<string, unknown>): void => socket.onmessage?.({ data: JSON.stringify(message) });
const ack = (extra: Record<string, unknown>, control: Record<string, unknown> = { batch_num: 0, has_more: true, status: 'loading' }): Record<string, unknown> => ({ type: 'subscription_ack', subscription_id: 'q1', total_rows: 3, batch_control: control, schema: SCHEMA, ...extra });
const batch = (rows: Record<string, unknown>[], control: Record<string, unknown>): Record<string, unknown> => ({ type: 'initial_data_batch', subscription_id: 'q1', rows, batch_control: control });
const change = (changeType: string, row: Record<string, unknown>): Record<string, unknown> => ({ type: 'change', subscription_id: 'q1', change_type: changeType, ...(changeType === 'delete' ? { old_values: [row] } : { rows: [row] }) });

/** Subscribes on a new socket and loads the window a (30), b (20), c (10), boundary 20, in two batches. */
async function loadWindow(sockets: FakeSocket[], index: number): Promise<FakeSocket> {
  await vi.waitFor(() => expect(sockets).toHaveLength(index + 1));
  const socket = sockets[index]!;
  await accept(socket);
  send(socket, ack({ order_by: ORDER_BY, limit: 3 }));
  send(socket, batch([t(1, 'a', 30, 13), t(2, 'b', 20, 15)], { batch_num: 0, has_more: true, status: 'loading' }));
  send(socket, batch([t(3, 'c', 10, 11)], { batch_num: 1, has_more: false, status: 'ready', last_seq_id: 20 }));
  return socket;
}

describe('live() with an order', () => {
  it("keeps the rows in the ack's order through the snapshot and a window's changes", async () => {
    const { sockets, calls } = open();
    const socket = await loadWindow(sockets, 0);
    await vi.waitFor(() => expect(calls.at(-1)).toEqual({ titles: ['a', 'b', 'c'], info: { status: 'ready', cursor: 20n, window: WINDOW } }));
    send(socket, change('delete', t(3, 'c', 10, 21)));
    send(socket, change('insert', t(4, 'd', 40, 21)));
    await vi.waitFor(() => expect(calls.at(-1)!.titles).toEqual(['d', 'a', 'b']));
    send(socket, change('delete', t(1, 'a', 30, 22)));
    send(socket, change('insert', t(3, 'c', 10, 22)));
    send(socket, change('update', t(2, 'b', 50, 23)));
    await vi.waitFor(() => expect(calls.at(-1)).toEqual({ titles: ['b', 'd', 'c'], info: { status: 'ready', cursor: 23n, window: WINDOW } }));
  });

  it('asks for the snapshot again when one in order is cut off, replacing its rows', async () => {
    const { sockets, calls } = open();
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    await accept(sockets[0]!);
    send(sockets[0]!, ack({ order_by: ORDER_BY, limit: 3 }));
    send(sockets[0]!, batch([t(1, 'a', 30, 13), t(2, 'b', 20, 15)], { batch_num: 0, has_more: true, status: 'loading' }));
    await vi.waitFor(() => expect(calls.at(-1)).toEqual({ titles: ['a', 'b'], info: { status: 'loading', cursor: undefined, window: WINDOW } }));
    sockets[0]!.readyState = 3;
    sockets[0]!.onclose?.({});
    await vi.waitFor(() => expect(sockets).toHaveLength(2), { timeout: 5000 });
    await accept(sockets[1]!);
    expect(sockets[1]!.sent.at(-1)).toEqual({ type: 'subscribe', subscription: { id: 'q1', sql: SQL, options: {} } });
    send(sockets[1]!, ack({ order_by: ORDER_BY, limit: 3 }));
    send(sockets[1]!, batch([t(4, 'd', 40, 21), t(2, 'b', 20, 15)], { batch_num: 0, has_more: true, status: 'loading' }));
    send(sockets[1]!, batch([t(3, 'c', 10, 11)], { batch_num: 1, has_more: false, status: 'ready', last_seq_id: 21 }));
    await vi.waitFor(() => expect(calls.at(-1)).toEqual({ titles: ['d', 'b', 'c'], info: { status: 'ready', cursor: 21n, window: WINDOW } }));
  });

  it('still resumes a plain snapshot cut off by a reconnect from its last row', async () => {
    const { sockets, factory } = fakeSockets();
    const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch: () => Promise.reject(new Error('no HTTP here')), webSocket: factory, random: () => 0 });
    clients.push(client);
    const seen: unknown[][] = [];
    client.live('SELECT id, title FROM app.tickets', (rows) => seen.push(rows.map((r) => r['title'])));
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    await accept(sockets[0]!);
    send(sockets[0]!, ack({}, { batch_num: 0, has_more: true, status: 'loading', last_seq_id: 20 }));
    send(sockets[0]!, batch([t(3, 'c', 10, 11), t(1, 'a', 30, 13)], { batch_num: 0, has_more: true, status: 'loading', last_seq_id: 13 }));
    await vi.waitFor(() => expect(seen.at(-1)).toEqual(['c', 'a']));
    sockets[0]!.onclose?.({});
    await vi.waitFor(() => expect(sockets).toHaveLength(2), { timeout: 5000 });
    await accept(sockets[1]!);
    expect(sockets[1]!.sent.at(-1)).toEqual({ type: 'subscribe', subscription: { id: 'q1', sql: 'SELECT id, title FROM app.tickets', options: { from: '13' } } });
  });
});

describe('a stored window', () => {
  const KEY = `user/alice/live:${SQL}\u0000[]`;

  it('is shown in its order before the ack, resumed from its cursor, and kept in order after', async () => {
    const store = memoryStore();
    const first = open(store);
    const socket = await loadWindow(first.sockets, 0);
    send(socket, change('update', t(3, 'c', 35, 21)));
    await vi.waitFor(() => expect(first.calls.at(-1)!.titles).toEqual(['c', 'a', 'b']));
    first.stop(); // stores the rows now
    await vi.waitFor(async () => expect(await store.get(KEY)).toBeDefined());

    const second = open(store);
    await vi.waitFor(() => expect(second.calls[0]).toEqual({ titles: ['c', 'a', 'b'], info: { status: 'stored', cursor: 21n, window: WINDOW } }));
    await vi.waitFor(() => expect(second.sockets).toHaveLength(1));
    await accept(second.sockets[0]!);
    expect(second.sockets[0]!.sent.at(-1)).toEqual({ type: 'subscribe', subscription: { id: 'q1', sql: SQL, options: { from: '21' } } });
    send(second.sockets[0]!, ack({ order_by: ORDER_BY, limit: 3 }, { batch_num: 0, has_more: false, status: 'ready', last_seq_id: 21 }));
    send(second.sockets[0]!, change('delete', t(2, 'b', 20, 22)));
    send(second.sockets[0]!, change('insert', t(5, 'e', 31, 22)));
    await vi.waitFor(() => expect(second.calls.at(-1)).toEqual({ titles: ['c', 'e', 'a'], info: { status: 'ready', cursor: 22n, window: WINDOW } }));
  });

  it('stored without an order (an older client) is sorted when the ack brings one', async () => {
    const store = memoryStore();
    const rows = [t(3, 'c', 10, 11), t(1, 'a', 30, 13), t(2, 'b', 20, 15)].map((r) => ({ ...r, id: BigInt(r['id'] as string), _seq: BigInt(r['_seq'] as string) }));
    await store.set(KEY, encode({ rows: rows.map((r) => [String(r.id), r]), cursor: 20n, schema: SCHEMA, keyColumns: ['id'] }));
    const { sockets, calls } = open(store);
    await vi.waitFor(() => expect(calls[0]).toEqual({ titles: ['c', 'a', 'b'], info: { status: 'stored', cursor: 20n } }));
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    await accept(sockets[0]!);
    send(sockets[0]!, ack({ order_by: ORDER_BY, limit: 3 }, { batch_num: 0, has_more: false, status: 'ready', last_seq_id: 20 }));
    await vi.waitFor(() => expect(calls.at(-1)).toEqual({ titles: ['a', 'b', 'c'], info: { status: 'ready', cursor: 20n, window: WINDOW } }));
  });

  it('is not stored while a snapshot loads (after a reset), so nobody resumes from a part of it', async () => {
    const store = memoryStore();
    const { sockets, stop, client } = open(store);
    const socket = await loadWindow(sockets, 0);
    // In one turn: a change arms the store's timer, then a reset starts a new snapshot, and the
    // query stops (which stores what is pending) before that snapshot is complete.
    send(socket, change('update', t(3, 'c', 35, 21)));
    send(socket, ack({ order_by: ORDER_BY, limit: 3, reset: true }));
    send(socket, batch([t(9, 'x', 99, 30)], { batch_num: 0, has_more: true, status: 'loading' }));
    stop();
    // The same query again reads the store (after any write queued before it) and, finding
    // nothing, asks for a snapshot.
    const again: string[] = [];
    client.live(SQL, (_rows, info) => again.push(info.status));
    await vi.waitFor(() => expect(socket.sent.at(-1)).toEqual({ type: 'subscribe', subscription: { id: 'q2', sql: SQL, options: {} } }));
    expect(again).toEqual([]);
    expect(await store.get(KEY)).toBeUndefined();
  });
});
