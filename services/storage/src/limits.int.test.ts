// Issue 10: no single op wedges its shard. A row or a change too big for the bus is refused with
// ROW_TOO_LARGE before anything is committed (an INSERT of a 2 MB row, an UPDATE that grows a
// row past the limit, an UPDATE whose change holds too many bytes), an op that waits too long
// for a lock or runs too long gets its error, and the ops after each are applied as usual. A
// change over max_payload that is in the outbox anyway is published without its rows, at once.
import { busPb } from '@seqline/proto';
import { memoryLogger } from '@seqline/runtime';
import { readSubject } from '@seqline/testkit';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { lockWaiters, storageHarness, type StorageHarness } from './testing.js';

const outcome = (h: StorageHarness, id: string): string => {
  const r = h.results.find((x) => x.opId === id);
  return r === undefined ? 'none' : r.ok ? `ok ${r.rowCount}` : `${r.errorCode}: ${r.errorMessage}`;
};

async function changesOf(h: StorageHarness, owner: string): Promise<busPb.Change[]> {
  return (await readSubject(h.names.changesStream, h.names.changes(owner, 'app', 't'))).map((m) => busPb.Change.decode(m.data));
}

describe('size limits on the apply path', () => {
  it('refuses rows and changes over the limits with ROW_TOO_LARGE, commits nothing of them, and applies the next ops', async () => {
    await using h = await storageHarness('lim');
    const storage = await h.start({ SEQLINE_APPLY_BATCH: '50' });
    await using sql = Object.assign(postgres(h.db.url, { max: 1 }), { [Symbol.asyncDispose]: () => sql.end() });
    await h.admin(storage, ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')"]);
    const ops: [string, string, string][] = [
      ['big', 'mallory', "INSERT INTO app.t (id, v) VALUES (1, lpad('x', 2000000, 'x'))"],
      ['alice-1', 'alice', "INSERT INTO app.t (id, v) VALUES (1, 'a')"],
      ['small', 'mallory', "INSERT INTO app.t (id, v) VALUES (2, 's')"],
      ['grow', 'mallory', "UPDATE app.t SET v = lpad('x', 300000, 'x') WHERE id = 2"],
      ...[3, 4, 5, 6, 7].map((id): [string, string, string] => [`fill-${id}`, 'mallory', `INSERT INTO app.t (id, v) VALUES (${id}, lpad('y', 200000, 'y'))`]),
      ['wide', 'mallory', "UPDATE app.t SET v = lpad('z', 200000, 'z') WHERE id >= 3"],
      ['alice-2', 'alice', "INSERT INTO app.t (id, v) VALUES (2, 'b')"],
    ];
    for (const [opId, owner, statement] of ops) await h.publish({ opId, owner, table: 't', statement }, 1);
    await expect.poll(() => ops.every(([id]) => outcome(h, id) !== 'none'), { timeout: 20_000 }).toBe(true);

    expect(ops.map(([id]) => outcome(h, id))).toEqual([
      expect.stringMatching(/^ROW_TOO_LARGE: a row of app\.t would be 20000\d\d bytes; the limit is 262144 bytes \(nothing was written\)$/),
      'ok 1',
      'ok 1',
      expect.stringMatching(/^ROW_TOO_LARGE: a row of app\.t would be 3000\d\d bytes; the limit is 262144 bytes \(nothing was written\)$/),
      'ok 1', 'ok 1', 'ok 1', 'ok 1', 'ok 1',
      expect.stringMatching(/^ROW_TOO_LARGE: the statement changes 5 row\(s\) of app\.t worth \d+ bytes; one statement may change at most 983040 bytes \(nothing was written; change fewer rows at a time\)$/),
      'ok 1',
    ]);
    expect(await sql`SELECT _user_id, id, length(v) AS len FROM app.t ORDER BY _user_id, id`).toEqual([
      { _user_id: 'alice', id: 1, len: 1 },
      { _user_id: 'alice', id: 2, len: 1 },
      { _user_id: 'mallory', id: 2, len: 1 },
      ...[3, 4, 5, 6, 7].map((id) => ({ _user_id: 'mallory', id, len: 200000 })),
    ]);
    // Only the applied ops have changes, chained; the outbox drains.
    expect((await changesOf(h, 'alice')).map((c) => c.opId)).toEqual(['alice-1', 'alice-2']);
    expect((await changesOf(h, 'mallory')).map((c) => c.opId)).toEqual(['small', 'fill-3', 'fill-4', 'fill-5', 'fill-6', 'fill-7']);
    await expect.poll(async () => (await sql<{ c: number }[]>`SELECT count(*)::int AS c FROM seqline.outbox`)[0]?.c, { timeout: 10_000 }).toBe(0);
  }, 60_000);

  it('publishes a change over max_payload found in the outbox without its rows, logging an error, and goes on', async () => {
    await using h = await storageHarness('lim');
    const first = await h.start();
    await h.admin(first, ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')"]);
    await first.stop();
    await using sql = Object.assign(postgres(h.db.url, { max: 1 }), { [Symbol.asyncDispose]: () => sql.end() });
    const subject = h.names.changes('mallory', 'app', 't');
    const huge = busPb.Change.encode({ owner: 'mallory', namespace: 'app', table: 't', seq: 7n, prevSeq: 0n, opId: 'huge', committedAtUs: 1n, rows: [{ kind: 'insert', seq: 7n, oldJson: '', newJson: JSON.stringify({ id: 1, v: 'x'.repeat(2_000_000) }) }] }).finish();
    await sql`INSERT INTO seqline.outbox (shard, subject, seq, payload) VALUES (0, ${subject}, 7, ${Buffer.from(huge)})`;

    const logger = memoryLogger();
    await h.start({}, logger);
    await h.publish({ opId: 'after', owner: 'alice', table: 't', statement: "INSERT INTO app.t (id, v) VALUES (1, 'a')" }, 1);
    await expect.poll(() => outcome(h, 'after'), { timeout: 20_000 }).toBe('ok 1');
    const published = await changesOf(h, 'mallory');
    expect(published.map((c) => [c.opId, c.seq, c.prevSeq, c.rows.length])).toEqual([['huge', 7n, 0n, 0]]);
    expect(logger.records.filter((r) => r['level'] === 'error').map((r) => [r['msg'], r['subject'], r['seq'], r['opId']])).toEqual([
      ["a committed change is over the bus's max_payload; published without its rows (they are in PostgreSQL)", subject, '7', 'huge'],
    ]);
    await expect.poll(async () => (await sql<{ c: number }[]>`SELECT count(*)::int AS c FROM seqline.outbox`)[0]?.c, { timeout: 10_000 }).toBe(0);
  }, 60_000);
});

describe('timeouts on the apply path', () => {
  it.each([
    ['lock', { SEQLINE_APPLY_LOCK_TIMEOUT_MS: '300', SEQLINE_APPLY_STATEMENT_TIMEOUT_MS: '600000' }, 'SQL_EXECUTION_ERROR: the statement waited too long for a lock'],
    ['statement', { SEQLINE_APPLY_LOCK_TIMEOUT_MS: '600000', SEQLINE_APPLY_STATEMENT_TIMEOUT_MS: '300' }, 'SQL_EXECUTION_ERROR: the statement exceeded its time limit'],
  ])('an op over the %s timeout gets its error and the shard goes on', async (_kind, env, expected) => {
    await using h = await storageHarness('lto');
    const storage = await h.start(env);
    await using sql = Object.assign(postgres(h.db.url, { max: 2 }), { [Symbol.asyncDispose]: () => sql.end() });
    await h.admin(storage, ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')"]);
    await h.publish({ opId: 'init', owner: 'mallory', table: 't', statement: "INSERT INTO app.t (id, v) VALUES (1, 'a')" }, 1);
    await expect.poll(() => outcome(h, 'init'), { timeout: 10_000 }).toBe('ok 1');

    const locked = await sql.reserve();
    try {
      await locked`BEGIN`;
      await locked`SELECT v FROM app.t WHERE _user_id = 'mallory' AND id = 1 FOR UPDATE`;
      await h.publish({ opId: 'blocked', owner: 'mallory', table: 't', statement: "UPDATE app.t SET v = 'b' WHERE id = 1" }, 1);
      await h.publish({ opId: 'next', owner: 'alice', table: 't', statement: "INSERT INTO app.t (id, v) VALUES (1, 'c')" }, 1);
      // Both are answered while the lock is still held.
      await expect.poll(() => [outcome(h, 'blocked'), outcome(h, 'next')], { timeout: 15_000 }).toEqual([expected, 'ok 1']);
      expect(await lockWaiters(sql)).toBe(0);
    } finally {
      await locked`ROLLBACK`;
      locked.release();
    }
    expect(await sql`SELECT _user_id, v FROM app.t ORDER BY _user_id`).toEqual([
      { _user_id: 'alice', v: 'c' },
      { _user_id: 'mallory', v: 'a' },
    ]);
  }, 60_000);
});
