// Regression: an op redelivered by JetStream (its ack deadline passed while it waited behind a
// slow batch) must not be applied twice. The batch is made slow by holding a row lock from the
// test; the ops queued behind it are redelivered (seen in the consumer's state) before the lock
// is released; every `n = n + 1` must then count exactly once.
import { jetstreamManager } from '@nats-io/jetstream';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { lockWaiters, NO_TIMEOUTS, storageHarness } from './testing.js';

describe('an op delivered twice', () => {
  it('is applied once', async () => {
    await using h = await storageHarness('dd');
    // The op behind the test's lock waits for as long as the test holds it (no lock or statement timeout).
    const storage = await h.start({ SEQLINE_APPLY_ACK_WAIT_MS: '1000', SEQLINE_APPLY_BATCH: '50', ...NO_TIMEOUTS });
    await using sql = Object.assign(postgres(h.db.url, { max: 2 }), { [Symbol.asyncDispose]: () => sql.end() });
    await h.admin(storage, ['CREATE NAMESPACE app', "CREATE TABLE app.c (id INT PRIMARY KEY, n INT NOT NULL) WITH (TYPE='USER')"]);
    const publish = (opId: string, statement: string) => h.publish({ opId, owner: 'alice', table: 'c', statement }, 1);
    await publish('init', 'INSERT INTO app.c (id, n) VALUES (1, 0)');
    await expect.poll(() => h.results.length, { timeout: 10_000 }).toBe(1);

    // Hold the row: the batch with inc1 blocks on it; inc2..4, queued behind it, pass their ack
    // deadline and are redelivered, so the next batch holds two copies of each.
    const locked = await sql.reserve();
    await locked`BEGIN`;
    await locked`SELECT n FROM app.c WHERE id = 1 FOR UPDATE`;
    await publish('inc1', 'UPDATE app.c SET n = n + 1 WHERE id = 1');
    await expect.poll(() => lockWaiters(sql), { timeout: 10_000, interval: 50 }).toBe(1);
    for (let i = 2; i <= 4; i++) await publish(`inc${i}`, 'UPDATE app.c SET n = n + 1 WHERE id = 1');
    const jsm = await jetstreamManager(h.nc);
    await expect.poll(async () => (await jsm.consumers.info(h.names.opsStream, 'storage_shard_0')).num_redelivered, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(3);
    await locked`ROLLBACK`;
    locked.release();

    // Redelivered copies get their stored results again (a waiter takes the first): count distinct ops.
    await expect.poll(() => [...new Set(h.results.map((r) => r.opId))].sort(), { timeout: 20_000 }).toEqual(['inc1', 'inc2', 'inc3', 'inc4', 'init']);
    expect(h.results.every((r) => r.ok)).toBe(true);
    expect(await sql`SELECT n FROM app.c WHERE id = 1`).toEqual([{ n: 4 }]);
  });
});
