// One apply transaction holds the ops of every shard the replica owns; an op that fails in it
// (duplicate key, NOT NULL) gets its error result while the ops around it, on its own shard and
// on the other, are applied once, with their changes chained by prev_seq. The batch is built by
// holding a row lock from the test: the op behind it blocks the apply loop while the others queue.
import { shardOf } from '@seqline/bus';
import { busPb } from '@seqline/proto';
import { memoryLogger } from '@seqline/runtime';
import { readSubject } from '@seqline/testkit';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { SEQ_HEADER } from './apply/outbox.js';
import { lockWaiters, NO_TIMEOUTS, storageHarness } from './testing.js';

describe('a batch spanning two shards with failing ops', () => {
  it('applies the good ops once and gives the failing ones their errors', async () => {
    expect(shardOf('alice', 2)).not.toBe(shardOf('bob', 2));
    await using h = await storageHarness('bt');
    const logger = memoryLogger();
    // The op behind the test's lock waits for as long as the test holds it (no lock or statement timeout).
    const storage = await h.start({ SEQLINE_SHARDS: '2', SEQLINE_APPLY_BATCH: '50', ...NO_TIMEOUTS }, logger);
    await using sql = Object.assign(postgres(h.db.url, { max: 2 }), { [Symbol.asyncDispose]: () => sql.end() });
    await h.admin(storage, ['CREATE NAMESPACE app', "CREATE TABLE app.c (id INT PRIMARY KEY, n INT NOT NULL) WITH (TYPE='USER')"]);
    const publish = (opId: string, owner: string, statement: string) => h.publish({ opId, owner, table: 'c', statement }, 2);
    await publish('a-init', 'alice', 'INSERT INTO app.c (id, n) VALUES (1, 0)');
    await publish('b-init', 'bob', 'INSERT INTO app.c (id, n) VALUES (1, 0)');
    await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(2);

    const locked = await sql.reserve();
    await locked`BEGIN`;
    await locked`SELECT n FROM app.c WHERE _user_id = 'alice' AND id = 1 FOR UPDATE`;
    await publish('a-blocked', 'alice', 'UPDATE app.c SET n = n + 1 WHERE id = 1');
    await expect.poll(() => lockWaiters(sql), { timeout: 10_000, interval: 50 }).toBe(1);
    await publish('a-2', 'alice', 'INSERT INTO app.c (id, n) VALUES (2, 20)');
    await publish('b-dup', 'bob', 'INSERT INTO app.c (id, n) VALUES (1, 5)');
    await publish('b-2', 'bob', 'INSERT INTO app.c (id, n) VALUES (2, 21)');
    await publish('a-null', 'alice', 'INSERT INTO app.c (id, n) VALUES (3, NULL)');
    await publish('a-3', 'alice', 'UPDATE app.c SET n = n + 100 WHERE id = 2');
    await publish('b-del', 'bob', 'DELETE FROM app.c WHERE id = 1');
    // Let the consumers deliver them all into the queue before the lock goes.
    await expect.poll(() => storage.queuedOps(), { timeout: 10_000, interval: 20 }).toBe(6);
    await locked`ROLLBACK`;
    locked.release();

    await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(9);
    const outcome = (id: string): string => {
      const r = h.results.find((x) => x.opId === id)!;
      return r.ok ? `ok ${r.rowCount}` : r.errorCode;
    };
    expect(['a-blocked', 'a-2', 'b-dup', 'b-2', 'a-null', 'a-3', 'b-del'].map(outcome)).toEqual(['ok 1', 'ok 1', 'SQL_EXECUTION_ERROR', 'ok 1', 'SQL_EXECUTION_ERROR', 'ok 1', 'ok 1']);
    expect(h.results.find((x) => x.opId === 'a-null')!.errorMessage).toMatch(/null/i);
    const redo = logger.records.filter((r) => r['msg'] === 'an op failed; applying the batch again with a savepoint per op');
    expect(redo).toEqual([expect.objectContaining({ ops: 6, shards: 2 })]);
    expect(await sql`SELECT _user_id, id, n, _deleted FROM app.c ORDER BY _user_id, id`).toEqual([
      { _user_id: 'alice', id: 1, n: 1, _deleted: false },
      { _user_id: 'alice', id: 2, n: 120, _deleted: false },
      { _user_id: 'bob', id: 1, n: 0, _deleted: true },
      { _user_id: 'bob', id: 2, n: 21, _deleted: false },
    ]);

    // Each subject's changes: one per applied op, in order, chained by prev_seq.
    for (const [owner, kinds] of [['alice', ['insert', 'update', 'insert', 'update']], ['bob', ['insert', 'insert', 'delete']]] as const) {
      const messages = await readSubject(h.names.changesStream, h.names.changes(owner, 'app', 'c'));
      const changes = messages.map((m) => busPb.Change.decode(m.data));
      expect(messages.map((m) => m.header(SEQ_HEADER))).toEqual(changes.map((c) => String(c.seq)));
      expect(changes.map((c) => c.rows.map((r) => r.kind).join())).toEqual(kinds);
      changes.forEach((c, i) => expect(c.prevSeq).toBe(i === 0 ? 0n : changes[i - 1]!.seq));
    }
    await expect.poll(async () => (await sql<{ c: number }[]>`SELECT count(*)::int AS c FROM seqline.outbox`)[0]?.c, { timeout: 10_000 }).toBe(0);
  });
});
