import { describe, expect, it } from 'vitest';
import { splitByWatermark } from './feed.js';

const m = (seq: number) => ({ msg: { seq }, id: seq });

describe('splitByWatermark', () => {
  it('applies each op above the watermark once, even when a batch holds redelivered copies', () => {
    const { fresh, stale } = splitByWatermark([m(5), m(7), m(8), m(7), m(8), m(9)], 6n);
    expect(fresh.map((p) => p.id)).toEqual([7, 8, 9]);
    expect(stale.map((p) => p.id)).toEqual([5]);
  });

  it('sends stored results again for ops at or below the committed watermark', () => {
    const { fresh, stale } = splitByWatermark([m(3), m(4), m(3), m(10)], 4n);
    expect(fresh.map((p) => p.id)).toEqual([10]);
    expect(stale.map((p) => p.id)).toEqual([3, 4]);
  });
});
