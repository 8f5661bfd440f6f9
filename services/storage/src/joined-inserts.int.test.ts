// Consecutive inserts of one table and owner in a batch are sent as one multi-row INSERT
// (apply/merge.ts). Each op keeps its own result, its own `_seq` in log order and its own change;
// an op that fails (duplicate key, NOT NULL) fails alone, the ops around it applied once. The
// batch is built by holding a row lock from the test: the update behind it blocks the apply
// loop while the inserts queue.
import { busPb } from '@seqline/proto';
import { memoryLogger } from '@seqline/runtime';
import { readSubject } from '@seqline/testkit';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { lockWaiters, NO_TIMEOUTS, storageHarness } from './testing.js';

describe('a batch of consecutive inserts', () => {
  it('applies each op once with its own result and _seq, a failing one failing alone', async () => {
    await using h = await storageHarness('joined');
    const logger = memoryLogger();
    const storage = await h.start({ SEQLINE_APPLY_BATCH: '50', ...NO_TIMEOUTS }, logger);
    await using sql = Object.assign(postgres(h.db.url, { max: 2 }), { [Symbol.asyncDispose]: () => sql.end() });
    await h.admin(storage, ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT NOT NULL) WITH (TYPE='USER')"]);
    const publish = (opId: string, owner: string, statement: string, params: unknown[] = []) => h.publish({ opId, owner, table: 't', statement, params }, 1);
    await publish('init', 'alice', "INSERT INTO app.t (id, v) VALUES (1, 'one')");
    await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(1);

    /** Holds alice's row 1 while `ops` are published behind an update of it, then lets the batch go. */
    const batch = async (ops: [string, string, string, unknown[]?][]): Promise<void> => {
      const locked = await sql.reserve();
      await locked`BEGIN`;
      await locked`SELECT v FROM app.t WHERE _user_id = 'alice' AND id = 1 FOR UPDATE`;
      await publish(`blocked-${ops[0]![0]}`, 'alice', "UPDATE app.t SET v = v || '+' WHERE id = 1");
      await expect.poll(() => lockWaiters(sql), { timeout: 10_000, interval: 50 }).toBe(1);
      for (const [opId, owner, statement, params] of ops) await publish(opId, owner, statement, params);
      await expect.poll(() => storage.queuedOps(), { timeout: 10_000, interval: 20 }).toBe(ops.length);
      await locked`ROLLBACK`;
      locked.release();
    };
    const insert = 'INSERT INTO app.t (id, v) VALUES ($1, $2)';
    await batch([
      ['a2', 'alice', insert, [2, 'two']],
      ['a3', 'alice', insert, [3, 'three']],
      ['a-dup', 'alice', insert, [1, 'again']],
      ['a4', 'alice', 'INSERT INTO app.t (id, v) VALUES ($1, upper($2)), (40, $2)', [4, 'four']],
      ['a-null', 'alice', insert, [5, null]],
      ['b1', 'bob', insert, [1, 'bob']],
      ['a6', 'alice', insert, [6, 'six']],
    ]);
    await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(9);
    const outcome = (id: string): string => {
      const r = h.results.find((x) => x.opId === id)!;
      return r.ok ? `ok ${r.rowCount}` : r.errorCode;
    };
    expect(['blocked-a2', 'a2', 'a3', 'a-dup', 'a4', 'a-null', 'b1', 'a6'].map(outcome)).toEqual(['ok 1', 'ok 1', 'ok 1', 'SQL_EXECUTION_ERROR', 'ok 2', 'SQL_EXECUTION_ERROR', 'ok 1', 'ok 1']);
    const redo = () => logger.records.filter((r) => r['msg'] === 'an op failed; applying the batch again with a savepoint per op').length;
    expect(redo()).toBe(1);

    // Without a failure the inserts commit from the optimistic pass: no redo. Bob's insert right
    // after alice's joined one must run as bob and alice's as alice (each owner's SET LOCAL goes
    // out right before its statement).
    await batch([
      ['a7', 'alice', insert, [7, 'seven']],
      ['a8', 'alice', insert, [8, 'eight']],
      ['a9', 'alice', 'INSERT INTO app.t (id, v) VALUES (9, $1) RETURNING id, v', ['nine']],
      ['b2', 'bob', insert, [2, 'bob two']],
    ]);
    await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(14);
    expect(['blocked-a7', 'a7', 'a8', 'a9', 'b2'].map(outcome)).toEqual(['ok 1', 'ok 1', 'ok 1', 'ok 1', 'ok 1']);
    expect(JSON.parse(h.results.find((x) => x.opId === 'a9')!.returningJson)).toMatchObject({ rows: [[9, 'nine']] });
    expect(redo()).toBe(1);

    // Rows in log order of their ops, each op's _seq above the one before.
    const rows = await sql<{ _user_id: string; id: number; v: string; _seq: string }[]>`SELECT _user_id, id, v, _seq::text FROM app.t ORDER BY _seq`;
    expect(rows.map((r) => `${r._user_id}:${r.id}:${r.v}`)).toEqual(['alice:2:two', 'alice:3:three', 'alice:4:FOUR', 'alice:40:four', 'bob:1:bob', 'alice:6:six', 'alice:1:one++', 'alice:7:seven', 'alice:8:eight', 'alice:9:nine', 'bob:2:bob two']);
    // One change per applied op of alice, chained by prev_seq, each with its own rows.
    const messages = await readSubject(h.names.changesStream, h.names.changes('alice', 'app', 't'));
    const changes = messages.map((m) => busPb.Change.decode(m.data));
    expect(changes.map((c) => c.opId)).toEqual(['init', 'blocked-a2', 'a2', 'a3', 'a4', 'a6', 'blocked-a7', 'a7', 'a8', 'a9']);
    expect(changes.map((c) => c.rows.length)).toEqual([1, 1, 1, 1, 2, 1, 1, 1, 1, 1]);
    changes.forEach((c, i) => expect(c.prevSeq).toBe(i === 0 ? 0n : changes[i - 1]!.seq));
  });
});
