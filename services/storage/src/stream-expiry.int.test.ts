// STREAM tables with TTL_SECONDS against real PostgreSQL, NATS and gRPC (docs/architecture.md §2):
// reads (Query, Snapshot, CatchUp) leave out versions older than the TTL at statement time, and
// the expiry deletes them through the ops log (a delete change per partition, tombstones, then
// the tombstones purged), once even when two replicas run it with the same clock; a row
// updated after the cut survives.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { JsPublisher } from '@seqline/bus';
import { busPb, storagePb } from '@seqline/proto';
import { ProtocolError } from '@seqline/protocol';
import { seqIdFloorForTime, seqIdTimestampMs, type SeqId } from '@seqline/seq';
import { readSubject } from '@seqline/testkit';
import type postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { CatalogCache } from './catalog.js';
import { connectPostgres } from './db.js';
import { ID_MAX_AGE_MS } from './ids.js';
import { cutsOf, MAX_ROWS_PER_OP, StreamExpiry } from './stream-expiry.js';
import { storageHarness, type StorageHarness } from './testing.js';

/** No expiry run of storage's own during a test that drives StreamExpiry with its own clock. */
const NO_LOOP = { SEQLINE_STREAM_PURGE_INTERVAL_MS: '3600000' } as const;

async function setUp(h: StorageHarness, ttlSeconds: number): Promise<storagePb.StorageClient> {
  const storage = await h.start(NO_LOOP);
  await h.admin(storage, ['CREATE NAMESPACE app', `CREATE STREAM TABLE app.typing (id INT PRIMARY KEY, who TEXT) WITH (TTL_SECONDS = ${ttlSeconds})`]);
  return new storagePb.StorageClient(`127.0.0.1:${(await storage.ready).port}`, credentials.createInsecure());
}

const write = (h: StorageHarness, opId: string, owner: string, statement: string, params: unknown[] = []): Promise<void> => h.publish({ opId, owner, table: 'typing', statement, params }, 1);

async function seqOf(h: StorageHarness, opId: string): Promise<SeqId> {
  await expect.poll(() => h.results.some((r) => r.opId === opId), { timeout: 15_000 }).toBe(true);
  const result = h.results.find((r) => r.opId === opId)!;
  expect(result.ok).toBe(true);
  return result.seq as SeqId;
}

async function changesOf(h: StorageHarness, owner: string): Promise<busPb.Change[]> {
  return (await readSubject(h.names.changesStream, h.names.changes(owner, 'app', 'typing'))).map((m) => busPb.Change.decode(m.data));
}

function kindsOf(change: busPb.Change): string[] {
  return change.rows.map((r) => `${r.kind}:${String((JSON.parse(r.oldJson || r.newJson) as { id: number }).id)}`);
}

function query(client: storagePb.StorageClient, sql: string): Promise<unknown[][]> {
  return new Promise((resolve, reject) =>
    client.query({ caller: { userId: 'alice', role: 'user' }, sql, paramsJson: '', namespace: 'app', asUser: '' }, new Metadata(), (err, res) => (err ? reject(ProtocolError.fromGrpc(err)) : resolve((JSON.parse(res.resultJson) as { rows: unknown[][] }).rows))),
  );
}

function snapshotRows(client: storagePb.StorageClient, sql: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const call = client.snapshot({ caller: { userId: 'alice', role: 'user' }, sql, paramsJson: '', namespace: 'app', batchSize: 0, lastRows: 0 }, new Metadata());
    const rows: Record<string, unknown>[] = [];
    call.on('data', (b: storagePb.SnapshotBatch) => rows.push(...(JSON.parse(b.rowsJson) as Record<string, unknown>[])));
    call.on('error', (err: ServiceError) => reject(ProtocolError.fromGrpc(err)));
    call.on('end', () => resolve(rows));
  });
}

function catchUpChanges(client: storagePb.StorageClient, sql: string, fromSeq: bigint): Promise<{ kind: string; row: Record<string, unknown> }[]> {
  return new Promise((resolve, reject) => {
    const call = client.catchUp({ caller: { userId: 'alice', role: 'user' }, sql, paramsJson: '', namespace: 'app', fromSeq, batchSize: 0 }, new Metadata());
    const out: { kind: string; row: Record<string, unknown> }[] = [];
    call.on('data', (b: storagePb.CatchUpBatch) => out.push(...(JSON.parse(b.changesJson) as { kind: string; row: Record<string, unknown> }[])));
    call.on('error', (err: ServiceError) => reject(ProtocolError.fromGrpc(err)));
    call.on('end', () => resolve(out));
  });
}

/**
 * Runs `read` and checks the rows it returned against the time around it: a version is
 * returned only if it was not expired before the read began, and left out only if it was
 * expired by the time the read ended (the read takes its own time in between).
 */
async function checkedRead(ttlMs: number, seqs: ReadonlyMap<number, SeqId>, read: () => Promise<readonly number[]>): Promise<readonly number[]> {
  const before = Date.now();
  const ids = await read();
  const after = Date.now();
  for (const [id, seq] of seqs) {
    if (ids.includes(id)) expect(seq >= seqIdFloorForTime(before - ttlMs), `row ${id} returned although expired`).toBe(true);
    else expect(seq < seqIdFloorForTime(after - ttlMs), `row ${id} left out although live`).toBe(true);
  }
  return ids;
}

describe('STREAM tables: reads', () => {
  it('leave out versions older than TTL_SECONDS in Query, Snapshot and CatchUp (an expired version is a delete there)', async () => {
    await using h = await storageHarness('ttlr');
    const ttlMs = 3000;
    const client = await setUp(h, ttlMs / 1000);
    try {
      await write(h, 'old', 'alice', "INSERT INTO app.typing (id, who) VALUES (1, 'old')");
      const old = await seqOf(h, 'old');
      const seqs = new Map<number, SeqId>([[1, old]]);
      const selected = async () => (await query(client, 'SELECT id FROM app.typing ORDER BY id')).map((r) => r[0] as number);
      // Poll until row 1 has expired; every answer on the way agrees with the clock.
      await expect.poll(() => checkedRead(ttlMs, seqs, selected), { timeout: 20_000, interval: 200 }).toEqual([]);
      expect(Date.now()).toBeGreaterThan(seqIdTimestampMs(old) + ttlMs);

      await write(h, 'new', 'alice', "INSERT INTO app.typing (id, who) VALUES (2, 'new')");
      seqs.set(2, await seqOf(h, 'new'));
      const snapshotIds = async () => (await snapshotRows(client, 'SELECT id, who FROM app.typing')).map((r) => r['id'] as number);
      const caughtUp = await catchUpChanges(client, 'SELECT id, who FROM app.typing', 0n);
      const [, readIds] = await Promise.all([checkedRead(ttlMs, seqs, selected), checkedRead(ttlMs, seqs, snapshotIds)]);
      expect(readIds).not.toContain(1);
      // The catch-up sees both versions: the expired one as a delete, the new one (unless it
      // expired too on a very slow machine) as an upsert.
      expect(caughtUp[0]).toEqual({ kind: 'delete', row: { id: 1, who: 'old', _seq: String(old) } });
      expect(caughtUp.map((c) => c.row['id'])).toEqual([1, 2]);
      // Row 1 is still a live row in PostgreSQL: nothing expired it yet, the reads left it out.
      await using superuser = connected(h.db.url);
      expect((await superuser.sql<{ id: number; _deleted: boolean }[]>`SELECT id, _deleted FROM app.typing ORDER BY id`).map((r) => [r.id, r._deleted])).toEqual([[1, false], [2, false]]);
    } finally {
      client.close();
    }
  });
});

describe('STREAM tables: expiry', () => {
  it('deletes expired rows through the ops log, once even from two replicas, keeps a row updated after the cut, then purges the tombstones', async () => {
    await using h = await storageHarness('ttlx');
    const ttlMs = 60_000;
    const client = await setUp(h, ttlMs / 1000);
    await using runtime = connected(h.db.runtimeUrl);
    await using superuser = connected(h.db.url);
    const publisher = new JsPublisher(h.nc, { timeoutMs: 10_000 });
    try {
      const catalog = new CatalogCache(runtime.sql);
      await catalog.reload();
      await write(h, 'a1', 'alice', "INSERT INTO app.typing (id, who) VALUES (1, 'a'), (2, 'b')");
      await write(h, 'b1', 'bob', "INSERT INTO app.typing (id, who) VALUES (1, 'c')");
      const inserted = await seqOf(h, 'a1');
      await seqOf(h, 'b1');
      // The update's id must come from a later block than the inserts' (ids.ts drops old blocks).
      await expect.poll(() => Date.now(), { timeout: 10_000 }).toBeGreaterThan(seqIdTimestampMs(inserted) + 2 * ID_MAX_AGE_MS);
      await write(h, 'a2', 'alice', "UPDATE app.typing SET who = 'b again' WHERE id = 2");
      const updated = await seqOf(h, 'a2');
      expect(seqIdTimestampMs(updated)).toBeGreaterThan(seqIdTimestampMs(inserted));

      // "Now" is one TTL after the update: alice's row 1 and bob's row 1 are expired, alice's row 2 is not.
      const now = seqIdTimestampMs(updated) + ttlMs;
      const duplicates: boolean[] = [];
      // Both replicas' first publishes wait for each other, so both read before either deletes.
      let waiting = 0;
      let release: () => void = () => {};
      const bothRead = new Promise<void>((resolve) => (release = resolve));
      const publish = async (subject: string, data: Uint8Array, msgID: string): Promise<void> => {
        if (++waiting === 2) release();
        await bothRead;
        duplicates.push((await publisher.publish(subject, data, { msgID })).duplicate);
      };
      const expiry = () => new StreamExpiry({ sql: runtime.sql, catalog, names: h.names, shards: 1, maxOpBytes: 100_000, publish });
      const runs = await Promise.all([expiry().runOnce(now), expiry().runOnce(now)]);
      expect(runs).toEqual([{ ops: 2, tombstones: 0 }, { ops: 2, tombstones: 0 }]);
      // Same clock, same cut, same op ids: JetStream kept one op per partition.
      expect(duplicates.sort()).toEqual([false, false, true, true]);

      await expect.poll(async () => (await changesOf(h, 'bob')).map(kindsOf), { timeout: 15_000 }).toEqual([['insert:1'], ['delete:1']]);
      await expect.poll(async () => (await changesOf(h, 'alice')).map(kindsOf), { timeout: 15_000 }).toEqual([['insert:1', 'insert:2'], ['update:2'], ['delete:1']]);
      const rows = async () => (await superuser.sql`SELECT _user_id, id, _deleted FROM app.typing ORDER BY _user_id, id`).map((r) => `${r['_user_id'] as string}:${String(r['id'])}:${r['_deleted'] ? 'tombstone' : 'live'}`);
      expect(await rows()).toEqual(['alice:1:tombstone', 'alice:2:live', 'bob:1:tombstone']);
      const deletes = [...(await changesOf(h, 'alice')).slice(-1), ...(await changesOf(h, 'bob')).slice(-1)];
      expect(JSON.parse(deletes[0]!.rows[0]!.oldJson)).toMatchObject({ id: 1, who: 'a' });

      // A second run at the same time finds nothing more to expire.
      const again = expiry();
      expect(await again.runOnce(now)).toEqual({ ops: 0, tombstones: 0 });

      // One TTL after the deletes, their tombstones are purged and alice's row 2 has expired too.
      const later = Math.max(...deletes.map((c) => seqIdTimestampMs(c.seq as SeqId))) + ttlMs + 1;
      expect(await again.runOnce(later)).toEqual({ ops: 1, tombstones: 2 });
      await expect.poll(rows, { timeout: 15_000 }).toEqual(['alice:2:tombstone']);
      expect(await query(client, 'SELECT id FROM app.typing')).toEqual([]);
    } finally {
      publisher.close();
      client.close();
    }
  });

  it('splits the deletes of a partition into ops of at most MAX_ROWS_PER_OP rows and the byte budget', () => {
    const rows = (n: number, bytes = 10) => Array.from({ length: n }, (_, i) => ({ seq: BigInt(100 + i), bytes }));
    expect(cutsOf(rows(3), 100n, 1000)).toEqual([]);
    expect(cutsOf(rows(3), 102n, 1000)).toEqual([102n]);
    expect(cutsOf(rows(MAX_ROWS_PER_OP + 5), 1000n, 1_000_000)).toEqual([BigInt(100 + MAX_ROWS_PER_OP), 1000n]);
    expect(cutsOf(rows(5, 400), 1000n, 1000)).toEqual([102n, 104n, 1000n]);
    expect(cutsOf([{ seq: 7n, bytes: 5000 }, { seq: 8n, bytes: 10 }], 1000n, 1000)).toEqual([8n, 1000n]);
  });
});

function connected(url: string): { readonly sql: postgres.Sql } & AsyncDisposable {
  const sql = connectPostgres(url);
  return { sql, [Symbol.asyncDispose]: () => sql.end() };
}
