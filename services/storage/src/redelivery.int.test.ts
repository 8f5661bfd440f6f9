// Regression: ops a dead owner pulled but never committed must be applied before newer ops,
// not overtaken (and then skipped as "at or below the watermark"). The dead owner is simulated
// by pulling an op from the shard's durable consumer and never acknowledging it, with an ack
// deadline far beyond the test.
import { jetstream } from '@nats-io/jetstream';
import { busPb } from '@seqline/proto';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { storageHarness } from './testing.js';

describe('ops in flight at a crash', () => {
  it('are applied first, in log order, by the next owner', async () => {
    await using h = await storageHarness('rd');
    const env = { SEQLINE_APPLY_ACK_WAIT_MS: '120000' };
    const publish = (opId: string, statement: string) => h.publish({ opId, owner: 'alice', table: 't', statement }, 1);
    const first = await h.start(env);
    await h.admin(first, ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')"]);
    await publish('a', "INSERT INTO app.t (id, v) VALUES (1, 'one')");
    await expect.poll(() => h.results.map((r) => r.opId), { timeout: 10_000 }).toEqual(['a']);
    await first.stop();

    // The "dead owner" pulled op b and never acknowledged it.
    await publish('b', "UPDATE app.t SET v = 'two' WHERE id = 1");
    const pulled = await (await jetstream(h.nc).consumers.get(h.names.opsStream, 'storage_shard_0')).next({ expires: 5000 });
    expect(pulled && busPb.Op.decode(pulled.data).opId).toBe('b');

    const second = await h.start(env);
    await publish('c', "UPDATE app.t SET v = v || '+three' WHERE id = 1");
    await expect.poll(() => h.results.map((r) => r.opId), { timeout: 20_000 }).toEqual(['a', 'b', 'c']);
    expect(h.results.map((r) => [r.ok, r.message])).toEqual([
      [true, 'Inserted 1 row(s)'],
      [true, 'Updated 1 row(s)'],
      [true, 'Updated 1 row(s)'],
    ]);
    await second.stop();
    const sql = postgres(h.db.url, { max: 1 });
    expect(await sql`SELECT v FROM app.t`).toEqual([{ v: 'two+three' }]);
    await sql.end();
  });
});
