// Transaction ops (Op.statements, issue 16) in one apply batch with other ops: a transaction
// whose second statement fails is rolled back whole (its first statement's row is not there,
// nothing of it is published) and its result names the statement; a transaction that commits
// applies its statements in order with consecutive `_seq` on the shard, one change per
// statement chained on each subject, and one result holding each statement's; the ops around
// both are applied as usual. The batch is built by holding a row lock from the test (see
// batch.int.test.ts).
import { busPb } from '@seqline/proto';
import { readSubject } from '@seqline/testkit';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { lockWaiters, NO_TIMEOUTS, storageHarness } from './testing.js';

describe('transaction ops', () => {
  it('apply all or none, in order, around the other ops of their batch', async () => {
    await using h = await storageHarness('tx');
    const storage = await h.start({ SEQLINE_SHARDS: '1', SEQLINE_APPLY_BATCH: '50', ...NO_TIMEOUTS });
    await using sql = Object.assign(postgres(h.db.url, { max: 2 }), { [Symbol.asyncDispose]: () => sql.end() });
    await h.admin(storage, ['CREATE NAMESPACE app', "CREATE TABLE app.c (id INT PRIMARY KEY, n INT NOT NULL) WITH (TYPE='USER')", "CREATE TABLE app.d (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')"]);
    const single = (opId: string, owner: string, statement: string) => h.publish({ opId, owner, table: 'c', statement }, 1);
    const transaction = (opId: string, owner: string, statements: readonly [string, string][]) =>
      h.publish({ opId, owner, table: '', statement: '', statements: statements.map(([table, statement]) => ({ table, statement })) }, 1);
    await single('a-init', 'alice', 'INSERT INTO app.c (id, n) VALUES (1, 0)');
    await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(1);

    const locked = await sql.reserve();
    await locked`BEGIN`;
    await locked`SELECT n FROM app.c WHERE _user_id = 'alice' AND id = 1 FOR UPDATE`;
    await single('a-blocked', 'alice', 'UPDATE app.c SET n = n + 1 WHERE id = 1');
    await expect.poll(() => lockWaiters(sql), { timeout: 10_000, interval: 50 }).toBe(1);
    await transaction('tx-fails', 'alice', [
      ['c', 'INSERT INTO app.c (id, n) VALUES (2, 2)'],
      ['c', 'INSERT INTO app.c (id, n) VALUES (1, 9)'],
      ['d', "INSERT INTO app.d (id, v) VALUES (1, 'never')"],
    ]);
    await single('b-1', 'bob', 'INSERT INTO app.c (id, n) VALUES (1, 10)');
    await transaction('tx-commits', 'alice', [
      ['c', 'INSERT INTO app.c (id, n) VALUES (3, 3)'],
      ['d', "INSERT INTO app.d (id, v) VALUES (3, 'three')"],
      ['c', 'UPDATE app.c SET n = n * 10 WHERE id IN (1, 3)'],
      ['d', 'DELETE FROM app.d WHERE id = 3'],
    ]);
    await single('a-after', 'alice', 'INSERT INTO app.c (id, n) VALUES (4, 4)');
    await expect.poll(() => storage.queuedOps(), { timeout: 10_000, interval: 20 }).toBe(4);
    await locked`ROLLBACK`;
    locked.release();
    await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(6);

    const result = (id: string): busPb.OpResult => h.results.find((r) => r.opId === id)!;
    const failed = result('tx-fails');
    expect([failed.ok, failed.errorCode, failed.failedStatement, failed.statements]).toEqual([false, 'SQL_EXECUTION_ERROR', 1, []]);
    expect(failed.errorMessage).toMatch(/^duplicate primary key/);
    const committed = result('tx-commits');
    expect([committed.ok, committed.rowCount, committed.failedStatement]).toEqual([true, 5n, undefined]);
    expect(committed.statements.map((s) => [s.ok, s.rowCount, s.message])).toEqual([
      [true, 1n, 'Inserted 1 row(s)'],
      [true, 1n, 'Inserted 1 row(s)'],
      [true, 2n, 'Updated 2 row(s)'],
      [true, 1n, 'Deleted 1 row(s)'],
    ]);
    const seqs = committed.statements.map((s) => s.seq);
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
    expect(committed.seq).toBe(seqs.at(-1));
    expect(['a-blocked', 'b-1', 'a-after'].map((id) => result(id).ok)).toEqual([true, true, true]);

    expect(await sql`SELECT _user_id, id, n FROM app.c WHERE NOT _deleted ORDER BY _user_id, id`).toEqual([
      { _user_id: 'alice', id: 1, n: 10 },
      { _user_id: 'alice', id: 3, n: 30 },
      { _user_id: 'alice', id: 4, n: 4 },
      { _user_id: 'bob', id: 1, n: 10 },
    ]);
    expect(await sql`SELECT id, v, _deleted FROM app.d ORDER BY id`).toEqual([{ id: 3, v: 'three', _deleted: true }]);

    // Alice's changes on both subjects: chained per subject; the committed transaction's four,
    // one per statement, follow each other in _seq with nothing of the failed one published.
    const changesOf = async (table: string) => (await readSubject(h.names.changesStream, h.names.changes('alice', 'app', table))).map((m) => busPb.Change.decode(m.data));
    const [c, d] = [await changesOf('c'), await changesOf('d')];
    for (const subject of [c, d]) subject.forEach((change, i) => expect(change.prevSeq).toBe(i === 0 ? 0n : subject[i - 1]!.seq));
    const all = [...c, ...d].sort((x, y) => (x.seq < y.seq ? -1 : 1));
    expect(all.map((x) => [x.opId, x.table, x.rows.map((r) => r.kind).join()])).toEqual([
      ['a-init', 'c', 'insert'],
      ['a-blocked', 'c', 'update'],
      ['tx-commits', 'c', 'insert'],
      ['tx-commits', 'd', 'insert'],
      ['tx-commits', 'c', 'update,update'],
      ['tx-commits', 'd', 'delete'],
      ['a-after', 'c', 'insert'],
    ]);
    expect(all.filter((x) => x.opId === 'tx-commits').map((x) => x.seq)).toEqual(seqs);
  });
});
