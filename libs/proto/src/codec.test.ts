import { describe, expect, it } from 'vitest';
import { sequencerPb } from './index.js';

const { AllocateIdsResponse } = sequencerPb;

describe('ts-proto codecs', () => {
  it('round-trips 64-bit ids as bigint without loss', () => {
    const max = (1n << 63n) - 1n;
    const message = { ranges: [{ first: 331234567890123456n, count: 3 }, { first: max, count: 1 }], workerId: 1023 };
    const decoded = AllocateIdsResponse.decode(AllocateIdsResponse.encode(message).finish());
    expect(decoded).toEqual(message);
    expect(typeof decoded.ranges[0]?.first).toBe('bigint');
  });
});
