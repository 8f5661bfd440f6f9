// LiveSubscription's paths that the end-to-end test cannot force cheaply, with in-memory
// sources standing in for the live tail, JetStream history and storage's streams: a resume
// whose history is gone (compacted catch-up, then reset), a buffer that overflows while the
// snapshot loads, a gap on the live tail repaired without duplicates, and client pacing.
import type { busPb, storagePb } from '@seqline/proto';
import type { TableDef } from '@seqline/domain';
import { compileLiveQuery, initSql } from '@seqline/sql';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TailListener } from './change-hub.js';
import type { History } from './history.js';
import { stringifyJsonLossless } from '@seqline/seq';
import { encodeServerMessage } from '../ws/messages.js';
import { LiveSubscription, RESUME_DIRECT_READS, type LiveEvent, type SubscriptionOptions } from './subscription.js';
import type { WindowRead } from './window.js';

const TABLE: TableDef = {
  namespace: 'app',
  name: 't',
  tableType: 'USER',
  accessLevel: 'PRIVATE',
  deletedRetentionHours: 168,
  primaryKey: 'id',
  columns: [
    { name: 'id', dataType: 'Int', notNull: true, primaryKey: true },
    { name: 'v', dataType: 'Text', notNull: false, primaryKey: false },
  ],
};

beforeAll(async () => {
  await initSql();
});

/** A change inserting row `id` with _seq `seq`, chained to `prev`. */
const insert = (seq: bigint, prev: bigint, id: number): busPb.Change => ({
  owner: 'alice', namespace: 'app', table: 't', seq, prevSeq: prev, opId: `op${seq}`, committedAtUs: 0n,
  rows: [{ kind: 'insert', seq, oldJson: '', newJson: JSON.stringify({ id, v: `v${id}`, _seq: String(seq) }) }],
});

async function* batches<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const i of items) yield await Promise.resolve(i);
}

const snap = (rows: number[], boundary: bigint, hasMore = false, batchNum = 0): storagePb.SnapshotBatch => ({
  boundarySeq: boundary, totalRows: BigInt(rows.length), batchNum, hasMore, lastSeq: boundary,
  rowsJson: JSON.stringify(rows.map((id) => ({ id, v: `v${id}`, _seq: String(id) }))),
});

function harness(options: Partial<SubscriptionOptions>, sources: { history?: (after: bigint, directReads?: number) => History; head?: bigint | (() => bigint | undefined); repairRetryMs?: number; snapshot?: storagePb.SnapshotBatch[]; catchUp?: storagePb.CatchUpBatch[]; maxBuffer?: number; onSnapshotBatch?: () => void; sql?: string; filterBudget?: number; id?: string; shape?: string; window?: (rows: number) => { boundary: bigint; read: WindowRead } }) {
  let listener: TailListener | undefined;
  const events: LiveEvent[] = [];
  const historyCalls: bigint[] = [];
  /** The direct-get budget of each history read (undefined: a consumer read). */
  const historyReads: (number | undefined)[] = [];
  const query = compileLiveQuery(sources.sql ?? 'SELECT id, v FROM app.t', { catalog: { hasNamespace: () => true, table: () => TABLE }, defaultNamespace: 'app', currentUser: 'alice' });
  const sub = new LiveSubscription(
    {
      id: sources.id ?? 's',
      query,
      subject: 'x',
      ...(sources.shape === undefined ? {} : { shape: sources.shape }),
      hub: {
        listen: (_subject, l) => {
          listener = l;
        },
        unlisten: (_subject, l) => {
          if (listener === l) listener = undefined;
        },
        flush: () => Promise.resolve(),
      },
      history: (after, directReads) => {
        historyCalls.push(after);
        historyReads.push(directReads);
        return Promise.resolve(sources.history?.(after, directReads) ?? { changes: [], covered: true });
      },
      head: () => Promise.resolve(typeof sources.head === 'function' ? sources.head() : sources.head),
      ...(sources.repairRetryMs === undefined ? {} : { repairRetryMs: sources.repairRetryMs }),
      window: (rows) => (sources.window === undefined ? Promise.reject(new Error('not a window')) : Promise.resolve(sources.window(rows))),
      snapshot: () => {
        const all = sources.snapshot ?? [snap([], 0n)];
        return (async function* () {
          for (const b of all) {
            yield await Promise.resolve(b);
            sources.onSnapshotBatch?.();
          }
        })();
      },
      catchUp: () => batches(sources.catchUp ?? []),
      send: (e) => {
        events.push(e);
        return Promise.resolve();
      },
      maxBuffer: sources.maxBuffer ?? 100,
      ...(sources.filterBudget === undefined ? {} : { filterBudget: sources.filterBudget }),
    },
    { batchSize: 10, lastRows: 0, liveOnly: false, clientPaced: false, ...options },
  );
  const changeSummary = () => events.flatMap((e) => (e.type === 'change' ? [`${e.change_type} ${String((e.rows ?? e.old_values)![0]!['id'])}`] : []));
  const reconnect = (): void => listener?.onReconnect();
  return { sub, events, historyCalls, historyReads, push: (c: busPb.Change) => listener?.onChange(c), reconnect, listening: () => listener !== undefined, changeSummary };
}

describe('LiveSubscription', () => {
  it("resumes a window from a _seq whose change it got only part of: that change's events come again (docs/protocol.md §4.7)", async () => {
    // ORDER BY id DESC LIMIT 2 over 1, 2; the change at seq 3 inserts 3: delete 1, insert 3,
    // both at seq 3. The client processed the delete only, then resumes from 3.
    const h = harness(
      { from: 3n },
      {
        sql: 'SELECT id, v FROM app.t ORDER BY id DESC LIMIT 2',
        history: (after) => ({ changes: [insert(3n, 2n, 3)].filter((c) => c.seq > after), covered: true }),
        window: () => ({ boundary: 3n, read: { rows: [3, 2, 1].map((id) => ({ id, v: `v${id}`, _seq: String(id) })), complete: true } }),
      },
    );
    await h.sub.start();
    await expect.poll(() => h.changeSummary()).toEqual(['delete 1', 'insert 3']);
    expect(h.events[0]).toMatchObject({ type: 'subscription_ack', batch_control: { status: 'ready', last_seq_id: 3n } });
    expect(h.events.slice(1)).toMatchObject([{ old_values: [{ id: 1, _seq: '3' }] }, { rows: [{ id: 3, _seq: '3' }] }]);
    h.sub.stop();
  });

  it('after a reconnect to NATS, repairs from history what was published while the live tail was cut off, once', async () => {
    const sources: { head?: bigint; snapshot: storagePb.SnapshotBatch[]; history: (after: bigint) => History } = {
      snapshot: [snap([1, 2], 2n)],
      history: (after) => ({ changes: [insert(4n, 3n, 4), insert(5n, 4n, 5)].filter((c) => c.seq > after), covered: true }),
    };
    const h = harness({}, sources);
    await h.sub.start();
    h.push(insert(3n, 2n, 3));
    // 4 and 5 are published while the connection is down: the tail never sees them.
    sources.head = 3n;
    h.reconnect(); // head = last delivered: nothing to repair
    await expect.poll(() => h.changeSummary()).toEqual(['insert 3']);
    sources.head = 5n;
    h.reconnect();
    await expect.poll(() => h.changeSummary()).toEqual(['insert 3', 'insert 4', 'insert 5']);
    expect(h.historyCalls).toEqual([3n]);
    h.push(insert(5n, 4n, 5)); // a late duplicate is dropped
    h.push(insert(6n, 5n, 6));
    await expect.poll(() => h.changeSummary()).toEqual(['insert 3', 'insert 4', 'insert 5', 'insert 6']);
    h.sub.stop();
    expect(h.listening()).toBe(false);
  });

  it('ends itself with FILTER_BUDGET_EXCEEDED when its filter takes more than the budget on one change, delivering nothing of it', async () => {
    const h = harness({ liveOnly: true }, { sql: "SELECT id, v FROM app.t WHERE v LIKE '%b%'", filterBudget: 2000 });
    await h.sub.start();
    const long = (seq: bigint, prev: bigint, v: string): busPb.Change => ({ ...insert(seq, prev, Number(seq)), rows: [{ kind: 'insert', seq, oldJson: '', newJson: JSON.stringify({ id: Number(seq), v, _seq: String(seq) }) }] });
    h.push(long(1n, 0n, 'ab'));
    h.push(long(2n, 1n, `${'a'.repeat(5000)}b`));
    h.push(long(3n, 2n, 'b'));
    await expect.poll(() => h.events.at(-1)?.type).toBe('error');
    expect(h.changeSummary()).toEqual(['insert 1']);
    expect(h.events.at(-1)).toEqual({ type: 'error', subscription_id: 's', code: 'FILTER_BUDGET_EXCEEDED', message: "evaluating the subscription's filter on one change took more than 2000 steps; the subscription is ended (simplify its WHERE, e.g. fewer % in LIKE patterns)" });
    h.push(long(4n, 3n, 'b'));
    expect(h.events.filter((e) => e.type === 'change')).toHaveLength(1);
  });

  it('resumes through storage’s compacted catch-up when the stream no longer covers the range, then goes live from its boundary', async () => {
    const h = harness(
      { from: 5n },
      {
        history: () => ({ changes: [], covered: false }),
        catchUp: [{ reset: false, boundarySeq: 9n, hasMore: false, lastSeq: 9n, changesJson: JSON.stringify([{ kind: 'delete', row: { id: 1, v: 'v1', _seq: '7' } }, { kind: 'upsert', row: { id: 2, v: 'v2', _seq: '9' } }]) }],
      },
    );
    await h.sub.start();
    h.push(insert(10n, 9n, 3));
    expect(h.events[0]).toMatchObject({ type: 'subscription_ack', batch_control: { status: 'ready', last_seq_id: 5n } });
    await expect.poll(() => h.changeSummary()).toEqual(['delete 1', 'insert 2', 'insert 3']);
  });

  it('resumes from JetStream with a budget of RESUME_DIRECT_READS direct gets, and from storage’s compacted catch-up when the log no longer covers `from`', async () => {
    const cheap = harness({ from: 5n }, { history: (after, reads) => ({ changes: reads === RESUME_DIRECT_READS ? [insert(6n, 5n, 6), insert(7n, 6n, 7)].filter((c) => c.seq > after) : [], covered: reads === RESUME_DIRECT_READS }) });
    await cheap.sub.start();
    expect(cheap.historyReads).toEqual([RESUME_DIRECT_READS]);
    expect(cheap.events[0]).toMatchObject({ type: 'subscription_ack', batch_control: { status: 'ready', last_seq_id: 5n } });
    expect(cheap.changeSummary()).toEqual(['insert 6', 'insert 7']);

    // The log no longer holds the range: the missed rows come from storage (an update as an insert), once, after one ack.
    const gone = harness(
      { from: 5n },
      {
        history: () => ({ changes: [], covered: false }),
        catchUp: [{ reset: false, boundarySeq: 9n, hasMore: false, lastSeq: 9n, changesJson: JSON.stringify([{ kind: 'upsert', row: { id: 6, v: 'v6', _seq: '8' } }, { kind: 'delete', row: { id: 1, v: 'v1', _seq: '9' } }]) }],
      },
    );
    await gone.sub.start();
    gone.push(insert(10n, 9n, 3));
    await expect.poll(() => gone.changeSummary()).toEqual(['insert 6', 'delete 1', 'insert 3']);
    expect(gone.events.map((e) => e.type)).toEqual(['subscription_ack', 'change', 'change', 'change']);
    expect(gone.historyReads).toEqual([RESUME_DIRECT_READS]);

    // Storage had nothing to send: the ack still comes, and the subscription goes live after `from`.
    const empty = harness({ from: 5n }, { history: () => ({ changes: [], covered: false }), catchUp: [] });
    await empty.sub.start();
    empty.push(insert(6n, 5n, 6));
    await expect.poll(() => empty.changeSummary()).toEqual(['insert 6']);
    expect(empty.events[0]).toMatchObject({ type: 'subscription_ack', batch_control: { status: 'ready', last_seq_id: 5n } });
  });

  it('sends a reset ack and a fresh snapshot when even storage lost the deletes after `from`', async () => {
    const h = harness({ from: 5n }, { history: () => ({ changes: [], covered: false }), catchUp: [{ reset: true, boundarySeq: 12n, hasMore: false, lastSeq: 5n, changesJson: '[]' }], snapshot: [snap([11, 12], 12n)] });
    await h.sub.start();
    expect(h.events.map((e) => e.type)).toEqual(['subscription_ack', 'initial_data_batch']);
    expect(h.events[0]).toMatchObject({ reset: true, total_rows: 2, batch_control: { status: 'ready', last_seq_id: 12n } });
  });

  it('drops an overflowing buffer while the snapshot loads and fills from history, each change once', async () => {
    let pushes = 0;
    const pushAll = (h: ReturnType<typeof harness>): void => {
      if (pushes++ > 0) return;
      for (const c of [insert(11n, 10n, 21), insert(12n, 11n, 22), insert(13n, 12n, 23)]) h.push(c);
    };
    const history = (after: bigint): History => ({ changes: [insert(11n, 10n, 21), insert(12n, 11n, 22), insert(13n, 12n, 23)].filter((c) => c.seq > after), covered: true });
    const h: ReturnType<typeof harness> = harness({}, { history, maxBuffer: 2, snapshot: [snap([1], 10n, true), snap([2], 10n, false, 1)], onSnapshotBatch: () => pushAll(h) });
    await h.sub.start();
    expect(h.historyCalls).toEqual([10n]);
    expect(h.changeSummary()).toEqual(['insert 21', 'insert 22', 'insert 23']);
    h.push(insert(13n, 12n, 23)); // a late duplicate of the live tail
    h.push(insert(14n, 13n, 24));
    await expect.poll(() => h.changeSummary()).toEqual(['insert 21', 'insert 22', 'insert 23', 'insert 24']);
  });

  it('repairs a gap on the live tail from history, in order and without repeating what the tail then delivers', async () => {
    const history = (after: bigint): History => ({ changes: [insert(21n, 20n, 1), insert(22n, 21n, 2)].filter((c) => c.seq > after), covered: true });
    const h = harness({}, { history, snapshot: [snap([], 20n)] });
    await h.sub.start();
    h.push(insert(22n, 21n, 2)); // 21 was lost
    h.push(insert(23n, 22n, 3));
    await expect.poll(() => h.changeSummary()).toEqual(['insert 1', 'insert 2', 'insert 3']);
    expect(h.historyCalls).toEqual([20n]);
  });

  it('ends with SUBSCRIPTION_FAILED, and does not crash the gateway, when the history read of a repair fails', async () => {
    // Regression (found by the fault campaign): a rejected repair was an unhandled rejection,
    // which ends a Node process: one NATS timeout during a gap repair took the gateway down.
    const h = harness({}, { history: () => { throw new Error('timeout'); }, snapshot: [snap([], 20n)], repairRetryMs: 300 });
    await h.sub.start();
    h.push(insert(22n, 21n, 2)); // 21 was lost: the repair reads history, which fails past its retries
    await expect.poll(() => h.events.filter((e) => e.type === 'error')).toEqual([
      { type: 'error', subscription_id: 's', code: 'SUBSCRIPTION_FAILED', message: 'the subscription lost a change and could not read it again; subscribe again to resume' },
    ]);
    h.push(insert(23n, 22n, 3)); // stopped: nothing more is delivered
    expect(h.changeSummary()).toEqual([]);
  });

  it('tries a failing repair again while NATS heals: a gap, then a reconnect, each delivered in order once the reads answer', async () => {
    let failing = 2;
    const log = [insert(21n, 20n, 1), insert(22n, 21n, 2), insert(23n, 22n, 3)];
    const history = (after: bigint): History => {
      if (failing-- > 0) throw new Error('timeout'); // a leader election: the reads fail, then answer
      return { changes: log.filter((c) => c.seq > after), covered: true };
    };
    let head: bigint | undefined;
    const h = harness({}, { history, head: () => { if (head === undefined) throw new Error('timeout'); return head; }, snapshot: [snap([], 20n)] });
    await h.sub.start();
    h.push(insert(22n, 21n, 2)); // 21 was lost; two reads fail before one answers
    h.push(insert(23n, 22n, 3));
    await expect.poll(() => h.changeSummary(), { timeout: 5000 }).toEqual(['insert 1', 'insert 2', 'insert 3']);
    expect(h.historyCalls).toEqual([20n, 20n, 20n]);
    // A reconnect whose head read fails at first, then shows 24 and 25, published meanwhile.
    log.push(insert(24n, 23n, 4), insert(25n, 24n, 5));
    h.reconnect();
    setTimeout(() => (head = 25n), 300);
    failing = 1;
    await expect.poll(() => h.changeSummary(), { timeout: 5000 }).toEqual(['insert 1', 'insert 2', 'insert 3', 'insert 4', 'insert 5']);
    h.push(insert(26n, 25n, 6)); // live again
    await expect.poll(() => h.changeSummary()).toEqual(['insert 1', 'insert 2', 'insert 3', 'insert 4', 'insert 5', 'insert 6']);
    expect(h.events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('starts a live-only subscription at the log’s newest change, so even the first live change is repaired if lost', async () => {
    const history = (after: bigint): History => ({ changes: [insert(31n, 30n, 1), insert(32n, 31n, 2)].filter((c) => c.seq > after), covered: true });
    const h = harness({ liveOnly: true }, { history, head: 30n });
    await h.sub.start();
    expect(h.events[0]).toMatchObject({ type: 'subscription_ack', total_rows: 0, batch_control: { status: 'ready', last_seq_id: 30n } });
    h.push(insert(32n, 31n, 2)); // 31, the first change after subscribing, was lost
    await expect.poll(() => h.changeSummary()).toEqual(['insert 1', 'insert 2']);
    expect(h.historyCalls).toEqual([30n]);

    const fresh = harness({ liveOnly: true }, {}); // a subject never written: no starting point
    await fresh.sub.start();
    expect(fresh.events[0]).toEqual({ type: 'subscription_ack', subscription_id: 's', total_rows: 0, batch_control: { batch_num: 0, has_more: false, status: 'ready' } });
    fresh.push(insert(1n, 0n, 7));
    await expect.poll(() => fresh.changeSummary()).toEqual(['insert 7']);
  });

  it('makes a change’s events once per query shape: subscriptions of one shape share them and their JSON, frames byte for byte as before', async () => {
    const a = harness({ liveOnly: true }, { id: 'a', shape: 'all' });
    const b = harness({ liveOnly: true }, { id: 'b"2', shape: 'all' });
    const some = harness({ liveOnly: true }, { id: 'c', shape: 'over 1', sql: 'SELECT id, v FROM app.t WHERE id > 1' });
    const alone = harness({ liveOnly: true }, { id: 'd', sql: 'SELECT id, v FROM app.t WHERE id > 1' });
    await Promise.all([a, b, some, alone].map((h) => h.sub.start()));
    const change = { ...insert(1n, 0n, 2), rows: [...insert(1n, 0n, 1).rows, ...insert(1n, 0n, 2).rows] };
    for (const h of [a, b, some, alone]) h.push(change);
    const changes = (h: typeof a) => h.events.filter((e) => e.type === 'change');
    await expect.poll(() => [a, b, some, alone].map((h) => changes(h).length)).toEqual([2, 2, 1, 1]);
    const shared = (e: LiveEvent | undefined) => (e !== undefined && 'shared' in e ? e.shared : undefined);
    expect(changes(a).map(shared)).toEqual([{ change_type: 'insert', rows: [{ id: 1, v: 'v1', _seq: '1' }] }, { change_type: 'insert', rows: [{ id: 2, v: 'v2', _seq: '1' }] }]);
    changes(a).forEach((e, i) => expect(shared(changes(b)[i])).toBe(shared(e)));
    expect(shared(changes(some)[0])).not.toBe(shared(changes(a)[1]));
    expect(shared(changes(some)[0])).toEqual(shared(changes(a)[1]));
    expect(shared(changes(some)[0])).not.toBe(shared(changes(alone)[0]));
    // Each frame is the event as it was encoded before, its own subscription_id spliced in.
    for (const e of [...changes(a), ...changes(b), ...changes(some), ...changes(alone)]) {
      const { shared: _, ...event } = e as Extract<LiveEvent, { shared: unknown }>;
      expect(encodeServerMessage(e, false).data).toBe(stringifyJsonLossless(event));
    }
    expect(encodeServerMessage(changes(b)[1]!, false).data).toBe('{"type":"change","subscription_id":"b\\"2","change_type":"insert","rows":[{"id":2,"v":"v2","_seq":"1"}]}');
  });

  it('waits for next_batch between batches when the client paces the snapshot', async () => {
    const h = harness({ clientPaced: true }, { snapshot: [snap([1], 3n, true), snap([2], 3n, true, 1), snap([3], 3n, false, 2)] });
    const started = h.sub.start();
    await expect.poll(() => h.events.length).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(h.events).toHaveLength(2);
    h.sub.nextBatch();
    await expect.poll(() => h.events.length).toBe(3);
    h.sub.nextBatch();
    await started;
    expect(h.events.map((e) => ('batch_control' in e ? e.batch_control.status : e.type))).toEqual(['loading', 'loading', 'loading_batch', 'ready']);
  });
});
