// Smoke run of the sequencer benchmark: it must keep working, and its counting must be right.
import { describe, expect, it } from 'vitest';
import { runSequencerBench } from './bench.ts';

describe('sequencer benchmark (smoke)', () => {
  it('measures every case, with ids = calls × batch', async () => {
    const { cases, inProcessIdsPerSecond } = await runSequencerBench({ smoke: true });
    expect(cases.map(([name]) => name)).toEqual(['grpc-js echo (transport limit)', 'AllocateIds batch 1', 'AllocateIds batch 100', 'AllocateIds batch 1000']);
    const batches = [1, 1, 100, 1000];
    cases.forEach(([, rate], i) => {
      expect(rate.calls).toBeGreaterThan(0);
      expect(rate.ids).toBe(rate.calls * batches[i]!);
    });
    expect(inProcessIdsPerSecond).toBeGreaterThan(0);
  });
});
