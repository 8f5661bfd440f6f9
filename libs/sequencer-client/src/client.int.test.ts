// The client against the stand-in sequencer, over real gRPC on localhost.
import { compareSeqId, decomposeSeqId, type SeqId } from '@seqline/seq';
import { describe, expect, it } from 'vitest';
import { createSequencerClient, MAX_ALLOCATE } from './index.js';
import { startTestSequencer } from './testing.js';

describe('createSequencerClient', () => {
  it('receives exactly the ids asked for, ascending, from the server\'s worker id', async () => {
    await using sequencer = await startTestSequencer({ workerId: 9 });
    const client = createSequencerClient(sequencer.address);
    try {
      const ids: SeqId[] = [];
      for (const count of [1, 5000, 3]) {
        const { ranges, workerId } = await client.allocate(count);
        expect(workerId).toBe(9);
        expect(ranges.reduce((n, r) => n + r.count, 0)).toBe(count);
        for (const r of ranges) for (let i = 0; i < r.count; i++) ids.push((r.first + BigInt(i)) as SeqId);
      }
      expect(ids).toHaveLength(5004);
      expect(ids.every((id, i) => i === 0 || compareSeqId(ids[i - 1]!, id) < 0)).toBe(true);
      expect(new Set(ids.map((id) => decomposeSeqId(id).workerId))).toEqual(new Set([9]));
    } finally {
      client.close();
    }
  });

  it('rejects with the server\'s INVALID_ARGUMENT for a count out of range', async () => {
    await using sequencer = await startTestSequencer();
    const client = createSequencerClient(sequencer.address);
    try {
      await expect(client.allocate(0)).rejects.toMatchObject({ code: 3, details: `count must be between 1 and ${MAX_ALLOCATE}, got 0` });
      await expect(client.allocate(MAX_ALLOCATE + 1)).rejects.toMatchObject({ code: 3, details: `count must be between 1 and ${MAX_ALLOCATE}, got ${MAX_ALLOCATE + 1}` });
    } finally {
      client.close();
    }
  });

  it('rejects with UNAVAILABLE when nothing listens', async () => {
    const sequencer = await startTestSequencer();
    await sequencer.stop();
    const client = createSequencerClient(sequencer.address);
    try {
      await expect(client.allocate(1, { deadlineMs: 10_000 })).rejects.toMatchObject({ code: 14 });
    } finally {
      client.close();
    }
  });
});
