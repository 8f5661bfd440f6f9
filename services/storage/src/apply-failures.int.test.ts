// The apply loop's failures (docs/architecture.md §3), against the real NATS and PostgreSQL:
// - a shard's consumer that stops delivering (here: deleted from under the replica) fails the
//   service loudly instead of leaving the shard unapplied in silence;
// - changes that cannot be published (the change stream is gone) are retried with the outbox's
//   own backoff while ops go on being applied and answered, and go out once the stream is back.
import { jetstreamManager } from '@nats-io/jetstream';
import { DEFAULT_STREAM_LIMITS, ensureStreams } from '@seqline/bus';
import { busPb } from '@seqline/proto';
import { memoryLogger } from '@seqline/runtime';
import { readSubject } from '@seqline/testkit';
import { describe, expect, it } from 'vitest';
import { FeedFailedError } from './apply/applier.js';
import { storageHarness } from './testing.js';

const TABLE = ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')"];

describe('a shard consumer that stops delivering', () => {
  it('fails the service with the shard named, logged as an error', async () => {
    await using h = await storageHarness('feedfail');
    const logger = memoryLogger('storage');
    const storage = await h.start({}, logger);
    await h.admin(storage, TABLE);
    await h.publish({ opId: 'a', owner: 'alice', table: 't', statement: "INSERT INTO app.t (id, v) VALUES (1, 'one')" }, 1);
    await expect.poll(() => h.results.map((r) => [r.opId, r.ok]), { timeout: 10_000 }).toEqual([['a', true]]);

    const jsm = await jetstreamManager(h.nc);
    await jsm.consumers.delete(h.names.opsStream, 'storage_shard_0');
    const failure = await storage.run().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(FeedFailedError);
    expect((failure as Error).message).toBe('the ops consumer of shard 0 stopped delivering');
    expect(() => storage.checkReady()).toThrow('stopping');
    expect(logger.records.filter((r) => r['level'] === 'error').map((r) => r['msg'])).toEqual(['shard consumer stopped; failing the service', 'applier stopped']);
  });
});

describe('changes that cannot be published', () => {
  it('are retried with the outbox backoff while ops are answered, and published once the stream is back', async () => {
    await using h = await storageHarness('outboxretry');
    const logger = memoryLogger('storage');
    const storage = await h.start({}, logger);
    await h.admin(storage, TABLE);
    const jsm = await jetstreamManager(h.nc);
    await jsm.streams.delete(h.names.changesStream);

    await h.publish({ opId: 'a', owner: 'alice', table: 't', statement: "INSERT INTO app.t (id, v) VALUES (1, 'one')" }, 1);
    await h.publish({ opId: 'b', owner: 'alice', table: 't', statement: "UPDATE app.t SET v = 'two' WHERE id = 1" }, 1);
    // Committed and answered although nothing can be published.
    await expect.poll(() => h.results.map((r) => [r.opId, r.ok]), { timeout: 10_000 }).toEqual([
      ['a', true],
      ['b', true],
    ]);
    const retries = () => logger.records.filter((r) => r['msg'] === 'cannot publish committed changes; retrying');
    await expect.poll(() => retries().length, { timeout: 20_000, interval: 50 }).toBeGreaterThanOrEqual(3);
    expect(retries().slice(0, 3).map((r) => r['attempt'])).toEqual([0, 1, 2]);
    // The outbox's own delays (OUTBOX_BACKOFF: 50 ms doubling, half of it random).
    for (const [i, r] of retries().slice(0, 3).entries()) expect(r['delayMs']).toBeGreaterThanOrEqual(25 * 2 ** i);
    expect(logger.records.filter((r) => r['msg'] === 'apply batch failed; retrying')).toEqual([]);

    await ensureStreams(h.nc, h.names, DEFAULT_STREAM_LIMITS, ['changes']);
    const subject = h.names.changes('alice', 'app', 't');
    await expect.poll(async () => (await readSubject(h.names.changesStream, subject)).map((m) => busPb.Change.decode(m.data).opId), { timeout: 20_000 }).toEqual(['a', 'b']);
    expect(storage.checkReady()).toBeUndefined();
  });
});
