// Storage.Snapshot against real PostgreSQL, NATS and gRPC: the caller's rows only, in _seq
// order, in batches that paginate the whole result, the partition head as boundary, the
// newest N with last_rows, and one consistent view even when rows are written while the
// consumer has paused the stream.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { storagePb } from '@seqline/proto';
import { ProtocolError } from '@seqline/protocol';
import { describe, expect, it } from 'vitest';
import { storageHarness, type StorageHarness } from './testing.js';

interface Batch {
  readonly batchNum: number;
  readonly hasMore: boolean;
  readonly boundary: bigint;
  readonly total: number;
  readonly lastSeq: bigint;
  readonly rows: Record<string, unknown>[];
}

const toBatch = (b: storagePb.SnapshotBatch): Batch => ({ batchNum: b.batchNum, hasMore: b.hasMore, boundary: b.boundarySeq, total: Number(b.totalRows), lastSeq: b.lastSeq, rows: JSON.parse(b.rowsJson) as Record<string, unknown>[] });

function snapshot(client: storagePb.StorageClient, userId: string, sql: string, options: { batchSize?: number; lastRows?: number; onFirst?: () => Promise<void> } = {}): Promise<Batch[]> {
  return new Promise((resolve, reject) => {
    const call = client.snapshot({ caller: { userId, role: 'user' }, sql, paramsJson: '', namespace: 'app', batchSize: options.batchSize ?? 0, lastRows: options.lastRows ?? 0 }, new Metadata());
    const batches: Batch[] = [];
    call.on('data', (b: storagePb.SnapshotBatch) => {
      batches.push(toBatch(b));
      if (batches.length === 1 && options.onFirst) {
        call.pause();
        options.onFirst().then(() => call.resume(), reject);
      }
    });
    call.on('error', (err: ServiceError) => reject(ProtocolError.fromGrpc(err)));
    call.on('end', () => resolve(batches));
  });
}

async function setUp(h: StorageHarness, env: Record<string, string> = {}, ddl: readonly string[] = []): Promise<storagePb.StorageClient> {
  const storage = await h.start(env);
  await h.admin(storage, ['CREATE NAMESPACE app', "CREATE TABLE app.tickets (id INT PRIMARY KEY, title TEXT, status TEXT) WITH (TYPE='USER')", ...ddl]);
  return new storagePb.StorageClient(`127.0.0.1:${(await storage.ready).port}`, credentials.createInsecure());
}

const insert = async (h: StorageHarness, opId: string, owner: string, id: number, title: string, status: string): Promise<void> =>
  h.publish({ opId, owner, table: 'tickets', statement: 'INSERT INTO app.tickets (id, title, status) VALUES ($1, $2, $3)', params: [id, title, status] }, 1);

describe('Storage.Snapshot', () => {
  it('streams the caller’s matching rows in _seq order, in batches, bounded by the partition head', async () => {
    await using h = await storageHarness('sn');
    const client = await setUp(h);
    try {
      const statuses = ['open', 'closed', 'open', 'open', 'closed'];
      for (let i = 0; i < 5; i++) await insert(h, `a${i}`, 'alice', i + 1, `alice ${i + 1}`, statuses[i]!);
      await insert(h, 'b0', 'bob', 1, 'bob 1', 'open');
      await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(6);
      const head = h.results.find((r) => r.opId === 'a4')!.seq;
      const seqs = ['a0', 'a1', 'a2', 'a3', 'a4'].map((id) => String(h.results.find((r) => r.opId === id)!.seq));

      const all = await snapshot(client, 'alice', 'SELECT title FROM app.tickets', { batchSize: 2 });
      expect(all.map((b) => [b.batchNum, b.hasMore, b.boundary, b.total, b.rows.length])).toEqual([
        [0, true, head, 5, 2],
        [1, true, head, 5, 2],
        [2, false, head, 5, 1],
      ]);
      expect(all.flatMap((b) => b.rows)).toEqual([1, 2, 3, 4, 5].map((id, i) => ({ title: `alice ${id}`, id, _seq: seqs[i] })));
      expect(all.map((b) => String(b.lastSeq))).toEqual([seqs[1], seqs[3], seqs[4]]);

      const open = await snapshot(client, 'alice', "SELECT id, status FROM app.tickets WHERE status = 'open'");
      expect(open.map((b) => [b.hasMore, b.total])).toEqual([[false, 3]]);
      expect(open[0]!.rows.map((r) => r['id'])).toEqual([1, 3, 4]);

      const newest = await snapshot(client, 'alice', 'SELECT id FROM app.tickets', { lastRows: 2, batchSize: 1 });
      expect(newest.map((b) => [b.hasMore, b.total, b.rows.map((r) => r['id'])])).toEqual([
        [true, 2, [4]],
        [false, 2, [5]],
      ]);

      const nobody = await snapshot(client, 'carol', 'SELECT id FROM app.tickets');
      expect(nobody).toEqual([{ batchNum: 0, hasMore: false, boundary: 0n, total: 0, lastSeq: 0n, rows: [] }]);

      // ORDER BY: the rows in the query's order (a resume point only at the end, the gateway's concern).
      const ordered = await snapshot(client, 'alice', 'SELECT title FROM app.tickets ORDER BY status, id DESC', { batchSize: 2 });
      expect(ordered.flatMap((b) => b.rows.map((r) => [r['status'], r['id']]))).toEqual([['closed', 5], ['closed', 2], ['open', 4], ['open', 3], ['open', 1]]);
      const refused = await snapshot(client, 'alice', 'SELECT id FROM app.tickets ORDER BY id', { lastRows: 2 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ProtocolError);
      expect([(refused as ProtocolError).code, (refused as ProtocolError).message]).toEqual(['INVALID_PARAMETER', 'last_rows does not go with ORDER BY or LIMIT: the query orders and limits its rows itself']);

      // A window read: the first N rows in the query's order at the head, and whether that is all.
      const read = (sql: string, rows: number) =>
        new Promise<storagePb.WindowResponse>((resolve, reject) =>
          client.window({ caller: { userId: 'alice', role: 'user' }, sql, paramsJson: '["open"]', namespace: 'app', rows }, (err, res) => (err ? reject(ProtocolError.fromGrpc(err)) : resolve(res))),
        );
      const window = 'SELECT id FROM app.tickets WHERE status = $1 ORDER BY id DESC LIMIT 2';
      const two = await read(window, 2);
      expect([two.boundarySeq, JSON.parse(two.rowsJson), two.complete]).toEqual([head, [{ id: 4, _seq: seqs[3] }, { id: 3, _seq: seqs[2] }], false]);
      const all3 = await read(window, 5);
      expect([(JSON.parse(all3.rowsJson) as { id: number }[]).map((r) => r.id), all3.complete]).toEqual([[4, 3, 1], true]);
      const tooMany = await read(window, 100_001).catch((e: unknown) => e);
      expect([(tooMany as ProtocolError).code, (tooMany as ProtocolError).message]).toEqual(['INVALID_PARAMETER', 'a window read takes 1 to 100000 rows, not 100001']);
    } finally {
      client.close();
    }
  });

  it('reads pages by _seq, the first one shorter: an updated row at its new _seq, no deleted row, a BYTES column encoded by storage', async () => {
    await using h = await storageHarness('snp');
    const client = await setUp(h, {}, ["CREATE TABLE app.files (id BIGINT PRIMARY KEY, body BYTES, at TIMESTAMP) WITH (TYPE='USER')"]);
    try {
      const values = Array.from({ length: 2500 }, (_, i) => `(${i + 1}, 'ticket ${i + 1}', '${i % 2 === 0 ? 'open' : 'closed'}')`).join(', ');
      await h.publish({ opId: 'bulk', owner: 'alice', table: 'tickets', statement: `INSERT INTO app.tickets (id, title, status) VALUES ${values}` }, 1);
      await h.publish({ opId: 'move', owner: 'alice', table: 'tickets', statement: "UPDATE app.tickets SET title = 'moved' WHERE id = 1" }, 1);
      await h.publish({ opId: 'gone', owner: 'alice', table: 'tickets', statement: 'DELETE FROM app.tickets WHERE id = 3' }, 1);
      await h.publish({ opId: 'file', owner: 'alice', table: 'files', statement: "INSERT INTO app.files (id, body, at) VALUES (9007199254740993, '\\x00ff10', '2026-12-03 12:34:56.789012+00')" }, 1);
      await expect.poll(() => h.results.length, { timeout: 20_000 }).toBe(4);
      expect(h.results.map((r) => [r.opId, r.ok])).toEqual([['bulk', true], ['move', true], ['gone', true], ['file', true]]);
      const seq = (opId: string): bigint => h.results.find((r) => r.opId === opId)!.seq;

      // 2,499 rows: a first page of 1,000 (FIRST_PAGE_ROWS), then pages of the batch size.
      const all = await snapshot(client, 'alice', 'SELECT title FROM app.tickets', { batchSize: 1200 });
      expect(all.map((b) => [b.batchNum, b.hasMore, b.total, b.rows.length, b.boundary])).toEqual([
        [0, true, 2499, 1000, seq('gone')],
        [1, true, 2499, 1200, seq('gone')],
        [2, false, 2499, 299, seq('gone')],
      ]);
      const rows = all.flatMap((b) => b.rows);
      const ids = [...Array.from({ length: 2500 }, (_, i) => i + 1).filter((id) => id !== 1 && id !== 3), 1];
      expect(rows.map((r) => r['id'])).toEqual(ids);
      expect(rows.at(-1)).toEqual({ title: 'moved', id: 1, _seq: String(seq('move')) });
      expect(rows[0]).toEqual({ title: 'ticket 2', id: 2, _seq: rows[0]!['_seq'] });
      const seqs = rows.map((r) => BigInt(String(r['_seq'])));
      expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true); // every version its own _seq, in order
      expect(all.map((b) => b.lastSeq)).toEqual(all.map((b) => BigInt(String(b.rows.at(-1)!['_seq']))));

      // A parameter in the filter, and the newest N rows (last_rows) over pages.
      const open = await new Promise<Batch[]>((resolve, reject) => {
        const call = client.snapshot({ caller: { userId: 'alice', role: 'user' }, sql: 'SELECT id FROM app.tickets WHERE status = $1 AND id < $2', paramsJson: '["open", 10]', namespace: 'app', batchSize: 2, lastRows: 0 }, new Metadata());
        const got: Batch[] = [];
        call.on('data', (b: storagePb.SnapshotBatch) => got.push(toBatch(b)));
        call.on('error', reject);
        call.on('end', () => resolve(got));
      });
      expect(open.map((b) => b.rows.map((r) => r['id']))).toEqual([[5, 7], [9, 1]]);
      const newest = await snapshot(client, 'alice', 'SELECT id FROM app.tickets', { lastRows: 3, batchSize: 2 });
      expect(newest.map((b) => [b.total, b.hasMore, b.rows.map((r) => r['id'])])).toEqual([
        [3, true, [2499, 2500]],
        [3, false, [1]],
      ]);

      const files = await snapshot(client, 'alice', 'SELECT body, at FROM app.files');
      expect(files.map((b) => b.rows)).toEqual([[{ body: [0, 255, 16], at: 1_796_301_296_789_012, id: '9007199254740993', _seq: String(seq('file')) }]]);
    } finally {
      client.close();
    }
  });

  it('splits a page of big rows into batches within SEQLINE_SNAPSHOT_MAX_BATCH_BYTES, the compacted catch-up too', async () => {
    await using h = await storageHarness('snb');
    const client = await setUp(h, { SEQLINE_SNAPSHOT_MAX_BATCH_BYTES: '65536' });
    try {
      for (let i = 0; i < 5; i++) await insert(h, `a${i}`, 'alice', i + 1, String(i).repeat(30_000), 'open');
      await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(5);
      const seqs = ['a0', 'a1', 'a2', 'a3', 'a4'].map((id) => h.results.find((r) => r.opId === id)!.seq);
      const all = await snapshot(client, 'alice', 'SELECT title FROM app.tickets', { batchSize: 4 });
      // Two 30 kB rows fit in 64 KiB, three do not; the page of 4 goes as 2 + 2, then the last row.
      expect(all.map((b) => [b.batchNum, b.hasMore, b.rows.map((r) => r['id']), b.lastSeq])).toEqual([
        [0, true, [1, 2], seqs[1]],
        [1, true, [3, 4], seqs[3]],
        [2, false, [5], seqs[4]],
      ]);
      const changes = await new Promise<storagePb.CatchUpBatch[]>((resolve, reject) => {
        const got: storagePb.CatchUpBatch[] = [];
        const call = client.catchUp({ caller: { userId: 'alice', role: 'user' }, sql: 'SELECT title FROM app.tickets', paramsJson: '', namespace: 'app', fromSeq: seqs[0]!, batchSize: 0 }, new Metadata());
        call.on('data', (b: storagePb.CatchUpBatch) => got.push(b));
        call.on('error', reject);
        call.on('end', () => resolve(got));
      });
      expect(changes.map((b) => [b.hasMore, (JSON.parse(b.changesJson) as { row: { id: number } }[]).map((c) => c.row.id), b.lastSeq])).toEqual([
        [true, [2, 3], seqs[2]],
        [false, [4, 5], seqs[4]],
      ]);
    } finally {
      client.close();
    }
  });

  it('keeps one consistent view while the consumer pauses and rows are written meanwhile', async () => {
    await using h = await storageHarness('sc');
    const client = await setUp(h);
    try {
      // 120 rows of 2 KB: far more than the stream's flow-control window, so the server must wait.
      const values = Array.from({ length: 120 }, (_, i) => `(${i + 1}, '${'x'.repeat(2000)}', 'open')`).join(', ');
      await h.publish({ opId: 'bulk', owner: 'alice', table: 'tickets', statement: `INSERT INTO app.tickets (id, title, status) VALUES ${values}` }, 1);
      await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(1);
      const head = h.results[0]!.seq;

      const batches = await snapshot(client, 'alice', 'SELECT id, title FROM app.tickets', {
        batchSize: 10,
        onFirst: async () => {
          await insert(h, 'late', 'alice', 999, 'written during the snapshot', 'open');
          await h.publish({ opId: 'late-update', owner: 'alice', table: 'tickets', statement: "UPDATE app.tickets SET title = 'changed' WHERE id = 120" }, 1);
          await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(3);
        },
      });
      expect(batches).toHaveLength(12);
      expect(new Set(batches.map((b) => b.boundary))).toEqual(new Set([head]));
      const rows = batches.flatMap((b) => b.rows);
      expect(rows.map((r) => r['id'])).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(rows.every((r) => r['title'] === 'x'.repeat(2000))).toBe(true);
      expect(h.results.map((r) => [r.opId, r.ok])).toEqual([
        ['bulk', true],
        ['late', true],
        ['late-update', true],
      ]);
    } finally {
      client.close();
    }
  });
});

function catchUp(client: storagePb.StorageClient, userId: string, sql: string, fromSeq: bigint, batchSize = 0): Promise<{ reset: boolean; boundary: bigint; hasMore: boolean; changes: { kind: string; row: Record<string, unknown> }[] }[]> {
  return new Promise((resolve, reject) => {
    const call = client.catchUp({ caller: { userId, role: 'user' }, sql, paramsJson: '', namespace: 'app', fromSeq, batchSize }, new Metadata());
    const out: { reset: boolean; boundary: bigint; hasMore: boolean; changes: { kind: string; row: Record<string, unknown> }[] }[] = [];
    call.on('data', (b: storagePb.CatchUpBatch) => out.push({ reset: b.reset, boundary: b.boundarySeq, hasMore: b.hasMore, changes: JSON.parse(b.changesJson) as { kind: string; row: Record<string, unknown> }[] }));
    call.on('error', (err: ServiceError) => reject(ProtocolError.fromGrpc(err)));
    call.on('end', () => resolve(out));
  });
}

describe('Storage.CatchUp', () => {
  it('sends the versions and tombstones after `from` as upserts and deletes, or reset when tombstones were purged', async () => {
    await using h = await storageHarness('cu');
    const client = await setUp(h);
    try {
      for (let i = 1; i <= 3; i++) await insert(h, `a${i}`, 'alice', i, `t${i}`, 'open');
      await insert(h, 'b1', 'bob', 1, 'bob', 'open');
      await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(4);
      const from = h.results.find((r) => r.opId === 'a3')!.seq;
      const op = (opId: string, statement: string) => h.publish({ opId, owner: 'alice', table: 'tickets', statement }, 1);
      await op('close1', "UPDATE app.tickets SET status = 'closed' WHERE id = 1");
      await op('del2', 'DELETE FROM app.tickets WHERE id = 2');
      await insert(h, 'a4', 'alice', 4, 't4', 'open');
      await op('retitle3', "UPDATE app.tickets SET title = 'T3' WHERE id = 3");
      await h.publish({ opId: 'b2', owner: 'bob', table: 'tickets', statement: "UPDATE app.tickets SET title = 'x' WHERE id = 1" }, 1);
      await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(9);
      const seq = (id: string): string => String(h.results.find((r) => r.opId === id)!.seq);

      const batches = await catchUp(client, 'alice', "SELECT title FROM app.tickets WHERE status = 'open'", from, 3);
      expect(batches.map((b) => [b.reset, b.boundary, b.hasMore])).toEqual([
        [false, BigInt(seq('retitle3')), true],
        [false, BigInt(seq('retitle3')), false],
      ]);
      expect(batches.flatMap((b) => b.changes)).toEqual([
        { kind: 'delete', row: { title: 't1', id: 1, _seq: seq('close1') } },
        { kind: 'delete', row: { title: 't2', id: 2, _seq: seq('del2') } },
        { kind: 'upsert', row: { title: 't4', id: 4, _seq: seq('a4') } },
        { kind: 'upsert', row: { title: 'T3', id: 3, _seq: seq('retitle3') } },
      ]);

      const upToDate = await catchUp(client, 'alice', 'SELECT id FROM app.tickets', BigInt(seq('retitle3')));
      expect(upToDate.map((b) => [b.reset, b.hasMore, b.changes.length])).toEqual([[false, false, 0]]);

      const { default: postgres } = await import('postgres');
      const sql = postgres(h.db.url, { max: 1 });
      await sql`UPDATE seqline.tables SET purged_through_seq = ${String(BigInt(seq('del2')) + 1n)} WHERE name = 'tickets'`;
      await sql.end();
      const reset = await catchUp(client, 'alice', 'SELECT id FROM app.tickets', from);
      expect(reset.map((b) => [b.reset, b.changes.length])).toEqual([[true, 0]]);
      const afterPurge = await catchUp(client, 'alice', 'SELECT id FROM app.tickets', BigInt(seq('del2')));
      expect(afterPurge.map((b) => [b.reset, b.changes.map((c) => c.row['id'])])).toEqual([[false, [4, 3]]]);
    } finally {
      client.close();
    }
  });
});

describe('Storage.Snapshot of a SHARED table', () => {
  it('reads the single shared partition for any reader its access level admits, and refuses the others', async () => {
    await using h = await storageHarness('ss');
    const storage = await h.start();
    await h.admin(storage, [
      'CREATE NAMESPACE app',
      "CREATE TABLE app.news (id INT PRIMARY KEY, title TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')",
      "CREATE TABLE app.ops (id INT PRIMARY KEY, title TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='DBA')",
    ]);
    const client = new storagePb.StorageClient(`127.0.0.1:${(await storage.ready).port}`, credentials.createInsecure());
    try {
      for (let i = 1; i <= 3; i++) await h.publish({ opId: `n${i}`, owner: '_shared', table: 'news', statement: 'INSERT INTO app.news (id, title) VALUES ($1, $2)', params: [i, `news ${i}`] }, 1);
      await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(3);
      expect(h.results.every((r) => r.ok)).toBe(true);
      const batches = await snapshot(client, 'alice', 'SELECT title FROM app.news');
      expect(batches.map((b) => [b.boundary, b.total])).toEqual([[h.results[2]!.seq, 3]]);
      expect(batches[0]!.rows.map((r) => r['title'])).toEqual(['news 1', 'news 2', 'news 3']);
      const refused = await snapshot(client, 'alice', 'SELECT id FROM app.ops').catch((e: unknown) => e);
      expect([(refused as ProtocolError).code, (refused as ProtocolError).message]).toEqual(['PERMISSION_DENIED', 'permission denied: table app.ops is DBA']);
    } finally {
      client.close();
    }
  });
});
