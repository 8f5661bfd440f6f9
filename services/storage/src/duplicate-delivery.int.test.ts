// Regression: an op redelivered by JetStream (its ack deadline passed while it waited behind a
// slow batch) must not be applied twice. The batch is made slow by holding a row lock from the
// test; the ops queued behind it are redelivered (seen in the consumer's state) before the lock
// is released; every `n = n + 1` must then count exactly once.
import { credentials, Metadata } from '@grpc/grpc-js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { busNames } from '@seqline/bus';
import { busPb, storagePb } from '@seqline/proto';
import { memoryLogger, parseConfig } from '@seqline/runtime';
import { sequencerConfigSchema, startSequencer } from '@seqline/sequencer';
import { createTestDatabase, deleteStreamsWithPrefix, natsConnection, testEnv, uniqueName } from '@seqline/testkit';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { storageConfigSchema } from './config.js';
import { startStorage } from './storage.js';

describe('an op delivered twice', () => {
  it('is applied once', async () => {
    const prefix = uniqueName('dd');
    const names = busNames(prefix);
    await using db = await createTestDatabase();
    await using nc = await natsConnection();
    const sequencer = await startSequencer(parseConfig(sequencerConfigSchema, { SEQLINE_NATS_URL: testEnv().natsUrl, SEQLINE_SEQUENCER_PORT: '0', SEQLINE_KV_PREFIX: prefix }), { logger: memoryLogger() });
    const storage = await startStorage(
      parseConfig(storageConfigSchema, {
        SEQLINE_POSTGRES_URL: db.url,
        SEQLINE_NATS_URL: testEnv().natsUrl,
        SEQLINE_STORAGE_PORT: '0',
        SEQLINE_SEQUENCER_ADDR: `127.0.0.1:${(await sequencer.ready).port}`,
        SEQLINE_BUS_PREFIX: prefix,
        SEQLINE_SHARDS: '1',
        SEQLINE_APPLY_ACK_WAIT_MS: '1000',
        SEQLINE_APPLY_BATCH: '50',
      }),
      { logger: memoryLogger() },
    );
    const sql = postgres(db.url, { max: 2 });
    const received: busPb.OpResult[] = [];
    const sub = nc.subscribe(`${prefix}.results.t.*`);
    void (async () => {
      for await (const m of sub) received.push(busPb.OpResult.decode(m.data));
    })();
    try {
      const client = new storagePb.StorageClient(`127.0.0.1:${(await storage.ready).port}`, credentials.createInsecure());
      for (const text of ['CREATE NAMESPACE app', "CREATE TABLE app.c (id INT PRIMARY KEY, n INT NOT NULL) WITH (TYPE='USER')"]) {
        await new Promise((resolve, reject) => client.admin({ caller: { userId: 'root', role: 'dba' }, sql: text, namespace: '' }, new Metadata(), {}, (err, res) => (err ? reject(err) : resolve(res))));
      }
      client.close();
      const js = jetstream(nc);
      const op = (opId: string, statement: string): busPb.Op => ({ opId, actor: 'alice', actorRole: 'user', owner: 'alice', namespace: 'app', table: 'c', statement, paramsJson: '[]', issuedAtUs: BigInt(Date.now()) * 1000n, replyTo: `${prefix}.results.t.${opId}`, traceparent: '' });
      await js.publish(names.ops(0), busPb.Op.encode(op('init', 'INSERT INTO app.c (id, n) VALUES (1, 0)')).finish(), { msgID: 'init' });
      await expect.poll(() => received.length, { timeout: 10_000 }).toBe(1);

      // Hold the row: the batch with inc1 blocks on it; inc2..4, queued behind it, pass their ack
      // deadline and are redelivered, so the next batch holds two copies of each.
      const [locked] = await sql.reserve().then(async (conn) => {
        await conn`BEGIN`;
        await conn`SELECT n FROM app.c WHERE id = 1 FOR UPDATE`;
        return [conn];
      });
      const inc = (i: number) => js.publish(names.ops(0), busPb.Op.encode(op(`inc${i}`, 'UPDATE app.c SET n = n + 1 WHERE id = 1')).finish(), { msgID: `inc${i}` });
      await inc(1);
      await expect.poll(async () => (await sql<{ c: number }[]>`SELECT count(*)::int AS c FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)[0]?.c, { timeout: 10_000, interval: 50 }).toBe(1);
      for (let i = 2; i <= 4; i++) await inc(i);
      const jsm = await jetstreamManager(nc);
      await expect.poll(async () => (await jsm.consumers.info(names.opsStream, 'storage_shard_0')).num_redelivered, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(3);
      await locked!`ROLLBACK`;
      locked!.release();

      // Redelivered copies get their stored results again (a waiter takes the first): count distinct ops.
      await expect.poll(() => [...new Set(received.map((r) => r.opId))].sort(), { timeout: 20_000 }).toEqual(['inc1', 'inc2', 'inc3', 'inc4', 'init']);
      expect(received.every((r) => r.ok)).toBe(true);
      expect(await sql`SELECT n FROM app.c WHERE id = 1`).toEqual([{ n: 4 }]);
    } finally {
      sub.unsubscribe();
      await sql.end();
      await storage.stop();
      await sequencer.stop();
      await deleteStreamsWithPrefix(nc, prefix.toUpperCase());
      await deleteStreamsWithPrefix(nc, `KV_${prefix}`);
    }
  });
});
