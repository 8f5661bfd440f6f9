// Regression (found by the fault campaign): while the sequencer was unreachable, storage failed
// each op it applied with INTERNAL_ERROR and stored that answer as the op's result, so the write
// was lost for good and every retry with the same Idempotency-Key got the same error back. A
// sequencer outage is transient: the batch must wait (retrying) and apply the op once ids come.
import { memoryLogger, parseConfig } from '@seqline/runtime';
import { sequencerConfigSchema, startSequencer } from '@seqline/sequencer';
import { freePort, testEnv } from '@seqline/testkit';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { storageHarness } from './testing.js';

describe('an op applied while the sequencer is down', () => {
  it('waits for the sequencer and is applied once, never failed', async () => {
    await using h = await storageHarness('seqdown');
    const port = await freePort();
    const sequencerConfig = parseConfig(sequencerConfigSchema, { SEQLINE_NATS_URL: testEnv().natsUrl, SEQLINE_SEQUENCER_PORT: String(port), SEQLINE_KV_PREFIX: `${h.prefix}_own`, SEQLINE_SEQUENCER_WORKER_ID: '5' });
    let sequencer = await startSequencer(sequencerConfig, { logger: memoryLogger() });
    const logger = memoryLogger('storage');
    // One id per call: the op after the outage must ask the sequencer again.
    const storage = await h.start({ SEQLINE_SEQUENCER_ADDR: `127.0.0.1:${port}`, SEQLINE_ID_BLOCK: '1' }, logger);
    await using sql = Object.assign(postgres(h.db.url, { max: 1 }), { [Symbol.asyncDispose]: () => sql.end() });
    await h.admin(storage, ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT NOT NULL) WITH (TYPE='USER')"]);
    await h.publish({ opId: 'before', owner: 'alice', table: 't', statement: "INSERT INTO app.t (id, v) VALUES (1, 'a')" }, 1);
    await expect.poll(() => h.results.map((r) => [r.opId, r.ok]), { timeout: 10_000 }).toEqual([['before', true]]);

    await sequencer.stop();
    await h.publish({ opId: 'during', owner: 'alice', table: 't', statement: "INSERT INTO app.t (id, v) VALUES (2, 'b')" }, 1);
    // Storage tried it and is waiting, not answering.
    await expect.poll(() => logger.records.filter((r) => r['msg'] === 'apply batch failed; retrying').length, { timeout: 20_000, interval: 50 }).toBeGreaterThanOrEqual(2);
    expect(h.results.map((r) => r.opId)).toEqual(['before']);

    sequencer = await startSequencer(sequencerConfig, { logger: memoryLogger() });
    try {
      await expect.poll(() => h.results.map((r) => [r.opId, r.ok, r.errorCode]), { timeout: 30_000 }).toEqual([['before', true, ''], ['during', true, '']]);
      expect(await sql`SELECT id, v FROM app.t ORDER BY id`).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'b' }]);
      expect(logger.records.filter((r) => r['msg'] === 'op failed with an internal error')).toEqual([]);
    } finally {
      await sequencer.stop();
    }
  });
});
