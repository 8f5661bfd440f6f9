// IdPool: ids come from blocks fetched from the sequencer; a block older than ID_MAX_AGE_MS is
// dropped unused, so the time inside a `_seq` stays the time of its write (STREAM TTL).
import { asSeqId } from '@seqline/seq';
import type { SequencerClient } from '@seqline/sequencer-client';
import { describe, expect, it } from 'vitest';
import { ID_MAX_AGE_MS, IdPool } from './ids.js';

function blocks(): SequencerClient & { calls: number } {
  let next = 1000n;
  const client = {
    calls: 0,
    allocate: async (count: number) => {
      client.calls++;
      const first = next;
      next += 1000n;
      return { ranges: [{ first: asSeqId(first), count }], workerId: 0 };
    },
    close: () => undefined,
  };
  return client;
}

describe('IdPool', () => {
  it('takes ids from the block it has while the block is young, and drops a block older than ID_MAX_AGE_MS', async () => {
    let now = 0;
    const sequencer = blocks();
    const pool = new IdPool(sequencer, 10, () => now);
    expect(await pool.take(2, 0n)).toEqual([1000n, 1001n]);
    now = ID_MAX_AGE_MS;
    expect(await pool.take(1, 0n)).toEqual([1002n]);
    expect(sequencer.calls).toBe(1);
    now = ID_MAX_AGE_MS + 1;
    expect(await pool.take(1, 0n)).toEqual([2000n]);
    expect(sequencer.calls).toBe(2);
  });
});
