// Regression: ops a dead owner pulled but never committed must be applied before newer ops,
// not overtaken (and then skipped as "at or below the watermark"). The dead owner is simulated
// by pulling an op from the shard's durable consumer and never acknowledging it, with an ack
// deadline far beyond the test.
import { credentials, Metadata } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { busNames } from '@seqline/bus';
import { busPb, storagePb } from '@seqline/proto';
import { memoryLogger, parseConfig } from '@seqline/runtime';
import { sequencerConfigSchema, startSequencer } from '@seqline/sequencer';
import { createTestDatabase, deleteStreamsWithPrefix, natsConnection, testEnv, uniqueName } from '@seqline/testkit';
import { describe, expect, it } from 'vitest';
import { storageConfigSchema } from './config.js';
import { startStorage } from './storage.js';

describe('ops in flight at a crash', () => {
  it('are applied first, in log order, by the next owner', async () => {
    const prefix = uniqueName('rd');
    const names = busNames(prefix);
    await using db = await createTestDatabase();
    await using nc = await natsConnection();
    const sequencer = await startSequencer(parseConfig(sequencerConfigSchema, { SEQLINE_NATS_URL: testEnv().natsUrl, SEQLINE_SEQUENCER_PORT: '0', SEQLINE_KV_PREFIX: prefix }), { logger: memoryLogger() });
    const env = {
      SEQLINE_POSTGRES_URL: db.url,
      SEQLINE_NATS_URL: testEnv().natsUrl,
      SEQLINE_STORAGE_PORT: '0',
      SEQLINE_SEQUENCER_ADDR: `127.0.0.1:${(await sequencer.ready).port}`,
      SEQLINE_BUS_PREFIX: prefix,
      SEQLINE_SHARDS: '1',
      SEQLINE_APPLY_ACK_WAIT_MS: '120000',
    };
    const js = jetstream(nc);
    const inbox = `${prefix}.results.t`;
    const results = nc.subscribe(`${inbox}.*`);
    const received: busPb.OpResult[] = [];
    void (async () => {
      for await (const m of results) received.push(busPb.OpResult.decode(m.data));
    })();
    const op = (opId: string, statement: string): busPb.Op => ({ opId, actor: 'alice', actorRole: 'user', owner: 'alice', namespace: 'app', table: 't', statement, paramsJson: '[]', issuedAtUs: BigInt(Date.now()) * 1000n, replyTo: `${inbox}.${opId}`, traceparent: '' });
    const publish = (o: busPb.Op) => js.publish(names.ops(0), busPb.Op.encode(o).finish(), { msgID: o.opId });
    try {
      const first = await startStorage(parseConfig(storageConfigSchema, env), { logger: memoryLogger() });
      const client = new storagePb.StorageClient(`127.0.0.1:${(await first.ready).port}`, credentials.createInsecure());
      for (const sql of ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')"]) {
        await new Promise((resolve, reject) => client.admin({ caller: { userId: 'root', role: 'dba' }, sql, namespace: '' }, new Metadata(), {}, (err, res) => (err ? reject(err) : resolve(res))));
      }
      client.close();
      await publish(op('a', "INSERT INTO app.t (id, v) VALUES (1, 'one')"));
      await expect.poll(() => received.map((r) => r.opId), { timeout: 10_000 }).toEqual(['a']);
      await first.stop();

      // The "dead owner" pulled op b and never acknowledged it.
      await publish(op('b', "UPDATE app.t SET v = 'two' WHERE id = 1"));
      const pulled = await (await js.consumers.get(names.opsStream, 'storage_shard_0')).next({ expires: 5000 });
      expect(pulled && busPb.Op.decode(pulled.data).opId).toBe('b');

      const second = await startStorage(parseConfig(storageConfigSchema, env), { logger: memoryLogger() });
      await publish(op('c', "UPDATE app.t SET v = v || '+three' WHERE id = 1"));
      await expect.poll(() => received.map((r) => r.opId), { timeout: 20_000 }).toEqual(['a', 'b', 'c']);
      expect(received.map((r) => [r.ok, r.message])).toEqual([
        [true, 'Inserted 1 row(s)'],
        [true, 'Updated 1 row(s)'],
        [true, 'Updated 1 row(s)'],
      ]);
      await second.stop();
      const { default: postgres } = await import('postgres');
      const sql = postgres(db.url, { max: 1 });
      expect(await sql`SELECT v FROM app.t`).toEqual([{ v: 'two+three' }]);
      await sql.end();
    } finally {
      results.unsubscribe();
      await sequencer.stop();
      await deleteStreamsWithPrefix(nc, prefix.toUpperCase());
      await deleteStreamsWithPrefix(nc, `KV_${prefix}`);
    }
  });
});
