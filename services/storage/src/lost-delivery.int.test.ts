// Regression (seen once in CI, e2e nats-node-kill): when the NATS node a storage replica is
// attached to dies, ops its shard consumer had already sent on that connection are lost in
// transit, yet JetStream counts them as delivered. Newer ops then arrive on the new
// connection, are applied, and their ack (AckPolicy.All) acknowledged the lost ones too: those
// writes were logged but never applied, and their clients waited forever.
//
// A second client pulling from the shard's durable consumer takes deliveries exactly as a dead
// connection does: JetStream hands them out and storage never sees them. Every op must still be
// applied, once.
import { jetstream } from '@nats-io/jetstream';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { storageHarness } from './testing.js';

describe('op deliveries lost in transit', () => {
  it('are read again from the stream, not acknowledged unapplied', { timeout: 60_000 }, async () => {
    await using h = await storageHarness('ld');
    const storage = await h.start();
    await using sql = Object.assign(postgres(h.db.url, { max: 1 }), { [Symbol.asyncDispose]: () => sql.end() });
    await h.admin(storage, ['CREATE NAMESPACE app', "CREATE TABLE app.e (id INT PRIMARY KEY) WITH (TYPE='USER')"]);
    const consumer = await jetstream(h.nc).consumers.get(h.names.opsStream, 'storage_shard_0');

    let next = 0;
    const publish = async (n: number): Promise<void> => {
      for (let k = 0; k < n; k++, next++) await h.publish({ opId: `op${next}`, owner: 'alice', table: 'e', statement: `INSERT INTO app.e (id) VALUES (${next})` }, 1);
    };
    // The thief's pull waits beside storage's; bursts of ops are published until it got one.
    const stolen: number[] = [];
    for (let round = 0; stolen.length === 0; round++) {
      expect(round).toBeLessThan(50);
      const pull = consumer.next({ expires: 2000 });
      await publish(20);
      const m = await pull;
      if (m !== null) stolen.push(m.seq);
    }
    // Storage sees the gap when the next delivery arrives.
    await publish(20);

    const all = Array.from({ length: next }, (_, i) => `op${i}`);
    await expect.poll(() => [...new Set(h.results.map((r) => r.opId))].sort(), { timeout: 30_000 }).toEqual([...all].sort());
    expect(h.results.every((r) => r.ok)).toBe(true);
    const rows = await sql<{ id: number }[]>`SELECT id FROM app.e ORDER BY _seq`;
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: next }, (_, i) => i));
  });
});
