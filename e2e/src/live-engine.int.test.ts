// Issue 4's subscription engine, below the WebSocket: a LiveSubscription wired to the real
// stack (storage's Snapshot and CatchUp over gRPC, the change log in JetStream, the live tail
// on core NATS) produces docs/protocol.md §4's events for alice, none of bob's, in order.
import { credentials, Metadata } from '@grpc/grpc-js';
import { ChangeHub, lastChangeSeq, LiveSubscription, readHistory, type LiveEvent, type SubscriptionOptions } from '@seqline/gateway';
import { storagePb } from '@seqline/proto';
import { unaryCall } from '@seqline/protocol';
import type { TableDef } from '@seqline/domain';
import { compileLiveQuery, type LiveRow } from '@seqline/sql';
import { natsConnection } from '@seqline/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';

let stack: Stack;
let alice: string;
let bob: string;

beforeAll(async () => {
  stack = await startStack();
  ({ alice, bob } = await ticketsFixture(stack));
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

async function subscribe(sql: string, options: Partial<SubscriptionOptions>) {
  const nc = await natsConnection(stack.natsUrl);
  const hub = new ChangeHub(nc);
  const client = new storagePb.StorageClient(stack.env['SEQLINE_STORAGE_ADDR']!, credentials.createInsecure());
  const catalog = await unaryCall(client.getCatalog.bind(client), {}, 5000);
  const tables = JSON.parse(catalog.tablesJson) as TableDef[];
  const query = compileLiveQuery(sql, { catalog: { hasNamespace: () => true, table: (ns, name) => tables.find((t) => t.namespace === ns && t.name === name) }, defaultNamespace: 'app', currentUser: 'alice' });
  const subject = stack.names.changes('alice', 'app', 'tickets');
  const events: LiveEvent[] = [];
  const caller = { userId: 'alice', role: 'user' };
  const sub = new LiveSubscription(
    {
      id: 'tickets',
      query,
      subject,
      hub,
      history: (after) => readHistory(nc, stack.names.changesStream, subject, after, { skewMs: 5000 }),
      head: () => lastChangeSeq(nc, stack.names.changesStream, subject),
      snapshot: (batchSize, lastRows) => client.snapshot({ caller, sql, paramsJson: '', namespace: 'app', batchSize, lastRows }, new Metadata()),
      catchUp: (from) => client.catchUp({ caller, sql, paramsJson: '', namespace: 'app', fromSeq: from, batchSize: 0 }, new Metadata()),
      window: async (rows) => {
        const res = await unaryCall(client.window.bind(client), { caller, sql, paramsJson: '', namespace: 'app', rows }, 5000);
        return { boundary: res.boundarySeq, read: { rows: JSON.parse(res.rowsJson) as LiveRow[], complete: res.complete } };
      },
      send: (e) => {
        events.push(e);
        return Promise.resolve();
      },
      maxBuffer: 1000,
    },
    { batchSize: 1000, lastRows: 0, liveOnly: false, clientPaced: false, ...options },
  );
  return {
    sub,
    hub,
    events,
    async [Symbol.asyncDispose]() {
      sub.stop();
      hub.close();
      client.close();
      await nc.close();
    },
  };
}

const changes = (events: readonly LiveEvent[]) => events.filter((e): e is Extract<LiveEvent, { type: 'change' }> => e.type === 'change');
const rowSeq = (e: Extract<LiveEvent, { type: 'change' }>): bigint => BigInt(String((e.rows ?? e.old_values)![0]!['_seq']));

describe('a live subscription', () => {
  it('sends the snapshot in batches, then a write made while it loads, once, then live changes, all in _seq order', async () => {
    for (let i = 1; i <= 5; i++) await ok(stack.url, alice, 'INSERT INTO app.tickets (title) VALUES ($1)', [`a${i}`]);
    await ok(stack.url, bob, "INSERT INTO app.tickets (title) VALUES ('b1'), ('b2')");
    await using s = await subscribe('SELECT id, title, status FROM app.tickets', { batchSize: 2, clientPaced: true });
    const started = s.sub.start();
    await expect.poll(() => s.events.length).toBe(2); // the ack and the first batch, then it waits
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('during')");
    s.sub.nextBatch();
    await expect.poll(() => s.events.length).toBe(3);
    s.sub.nextBatch();
    await started;
    expect(s.events.slice(0, 4).map((e) => (e.type === 'change' ? `change ${e.change_type}` : `${e.type} ${'batch_control' in e ? e.batch_control.status : ''}`))).toEqual([
      'subscription_ack loading',
      'initial_data_batch loading',
      'initial_data_batch loading_batch',
      'initial_data_batch ready',
    ]);
    const snapshotRows = s.events.flatMap((e) => (e.type === 'initial_data_batch' ? e.rows : []));
    expect(snapshotRows.map((r) => r['title'])).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    await expect.poll(() => changes(s.events).map((e) => e.rows?.[0]?.['title'])).toEqual(['during']);

    await ok(stack.url, alice, "UPDATE app.tickets SET status = 'closed' WHERE title = 'a1'");
    await ok(stack.url, alice, "DELETE FROM app.tickets WHERE title = 'a2'");
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('live')");
    await expect.poll(() => changes(s.events).map((e) => e.change_type)).toEqual(['insert', 'update', 'delete', 'insert']);
    const all = changes(s.events);
    expect(all.map((e) => (e.rows ?? e.old_values)![0]!['title'])).toEqual(['during', 'a1', 'a2', 'live']);
    expect(all[1]!.old_values?.[0]?.['status']).toBe('open');
    expect(all[1]!.rows?.[0]?.['status']).toBe('closed');
    const seqs = all.map(rowSeq);
    expect(seqs.every((x, i) => i === 0 || x > seqs[i - 1]!)).toBe(true);
    expect(seqs[0]! > BigInt(String(snapshotRows.at(-1)!['_seq']))).toBe(true);
  });

  it('filters: an update out of the WHERE is a delete, back in is an insert; a lost core delivery is repaired from history, once', async () => {
    await using s = await subscribe("SELECT id, title FROM app.tickets WHERE status = 'open'", { liveOnly: true });
    await s.sub.start();
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('f1')");
    await ok(stack.url, alice, "UPDATE app.tickets SET status = 'closed' WHERE title = 'f1'");
    await ok(stack.url, alice, "UPDATE app.tickets SET status = 'open' WHERE title = 'f1'");
    await expect.poll(() => changes(s.events).map((e) => e.change_type)).toEqual(['insert', 'delete', 'insert']);

    let dropped = 0;
    s.hub.dropDeliveries((c) => c.rows.some((r) => r.newJson.includes('"lost"')) && dropped++ === 0);
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('lost')");
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('after')");
    await expect.poll(() => changes(s.events).map((e) => e.rows?.[0]?.['title'] ?? null)).toEqual(['f1', null, 'f1', 'lost', 'after']);
    expect(dropped).toBe(1);
    const seqs = changes(s.events).map(rowSeq);
    expect(seqs.every((x, i) => i === 0 || x > seqs[i - 1]!)).toBe(true);
  });

  it('resumes from a _seq with exactly the changes after it, deletes included', async () => {
    const [before] = await ok(stack.url, alice, 'SELECT max(_seq) AS s FROM app.tickets');
    const from = BigInt(String((before?.['rows'] as unknown[][])[0]![0]));
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('r1')");
    await ok(stack.url, alice, "UPDATE app.tickets SET priority = 9 WHERE title = 'r1'");
    await ok(stack.url, alice, "DELETE FROM app.tickets WHERE title = 'a3'");
    await using s = await subscribe('SELECT id, title FROM app.tickets', { from });
    await s.sub.start();
    expect(s.events[0]).toEqual({ type: 'subscription_ack', subscription_id: 'tickets', total_rows: 0, batch_control: { batch_num: 0, has_more: false, status: 'ready', last_seq_id: from } });
    expect(changes(s.events).map((e) => [e.change_type, (e.rows ?? e.old_values)![0]!['title']])).toEqual([
      ['insert', 'r1'],
      ['update', 'r1'],
      ['delete', 'a3'],
    ]);
  });
});
