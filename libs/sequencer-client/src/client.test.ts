// checkedRanges: an AllocateIds answer is accepted only as the contract says.
import { MAX_SEQ_ID } from '@seqline/seq';
import { describe, expect, it } from 'vitest';
import { checkedRanges, InvalidAllocationError } from './index.js';

const answer = (...ranges: [bigint, number][]) => ({ ranges: ranges.map(([first, count]) => ({ first, count })), workerId: 3 });

describe('checkedRanges', () => {
  it('accepts ascending, non-overlapping ranges summing to the count asked', () => {
    expect(checkedRanges(7, answer([100n, 4], [104n, 1], [200n, 2]))).toEqual([
      { first: 100n, count: 4 },
      { first: 104n, count: 1 },
      { first: 200n, count: 2 },
    ]);
  });

  it.each([
    ['fewer ids than asked', 5, answer([100n, 4]), 'asked for 5 ids, the sequencer answered 4'],
    ['more ids than asked', 3, answer([100n, 4]), 'asked for 3 ids, the sequencer answered 4'],
    ['no ranges', 1, answer(), 'asked for 1 ids, the sequencer answered 0'],
    ['overlapping ranges', 6, answer([100n, 4], [103n, 2]), 'id ranges overlap or are out of order at 103'],
    ['descending ranges', 2, answer([100n, 1], [50n, 1]), 'id ranges overlap or are out of order at 50'],
    ['an empty range', 1, answer([100n, 0], [101n, 1]), 'invalid id range: 0 ids from 100'],
    ['a negative id', 1, answer([-1n, 1]), 'invalid id range: 1 ids from -1'],
    ['a range past the largest id', 2, answer([MAX_SEQ_ID, 2]), `invalid id range: 2 ids from ${MAX_SEQ_ID}`],
  ])('rejects %s', (_what, count, res, message) => {
    expect(() => checkedRanges(count, res)).toThrow(InvalidAllocationError);
    expect(() => checkedRanges(count, res)).toThrow(message);
  });
});
