// Regression: a batch whose COMMIT took effect although its answer was lost (the connection
// broke during COMMIT) must not be applied again when it is retried, and its changes must
// still be published, once. The lost answer is made deterministic with synchronous
// replication to a standby that does not exist: COMMIT is durable locally and then waits,
// and the test terminates the waiting session. That setting is server-wide, so this test has
// a PostgreSQL server of its own.
import { busPb } from '@seqline/proto';
import { readSubject, startPostgres } from '@seqline/testkit';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { storageHarness } from './testing.js';

describe('a batch whose COMMIT answer was lost', () => {
  it('is not applied twice, answers its ops once with their real results, and publishes its change once', async () => {
    await using pg = await startPostgres({ durable: true }); // synchronous_commit on, so COMMIT waits for the standby
    await using h = await storageHarness('ac', { postgresUrl: pg.url });
    const storage = await h.start();
    await h.admin(storage, ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')"]);
    await using admin = Object.assign(postgres(pg.url, { max: 1, onnotice: () => {} }), { [Symbol.asyncDispose]: () => admin.end() });
    const insert = (opId: string, id: number) => h.publish({ opId, owner: 'alice', table: 't', statement: 'INSERT INTO app.t (id, v) VALUES ($1, $2)', params: [id, opId] }, 1);

    await insert('first', 1);
    await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(1);

    await admin`ALTER SYSTEM SET synchronous_standby_names = 'nobody'`;
    await admin`SELECT pg_reload_conf()`;
    await insert('lost-answer', 2);
    const waiting = async (): Promise<number[]> => (await admin<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'`).map((r) => r.pid);
    await expect.poll(async () => (await waiting()).length, { timeout: 10_000, interval: 50 }).toBe(1);
    await admin`ALTER SYSTEM RESET synchronous_standby_names`;
    // Terminated before the reload, so the COMMIT's answer is lost rather than released.
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'`;
    await admin`SELECT pg_reload_conf()`;

    await insert('after', 3);
    await expect.poll(() => h.results.map((r) => r.opId).filter((id) => id !== 'first'), { timeout: 20_000 }).toEqual(["lost-answer", "after"]);
    expect(h.results.map((r) => [r.opId, r.ok, r.message, r.errorMessage])).toEqual([
      ['first', true, 'Inserted 1 row(s)', ''],
      ['lost-answer', true, 'Inserted 1 row(s)', ''],
      ['after', true, 'Inserted 1 row(s)', ''],
    ]);
    const db = postgres(h.db.url, { max: 1 });
    expect(await db`SELECT id, v FROM app.t ORDER BY id`).toEqual([
      { id: 1, v: 'first' },
      { id: 2, v: 'lost-answer' },
      { id: 3, v: 'after' },
    ]);
    await db.end();
    const changes = (await readSubject(h.names.changesStream, h.names.changes('alice', 'app', 't'))).map((m) => busPb.Change.decode(m.data));
    expect(changes.map((c) => c.opId)).toEqual(['first', 'lost-answer', 'after']);
    changes.forEach((c, i) => expect(c.prevSeq).toBe(i === 0 ? 0n : changes[i - 1]!.seq));
  });
});
