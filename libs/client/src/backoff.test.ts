import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles from the base, stops at the cap, and scales by a jitter in [0.5, 1)', () => {
    const options = { baseMs: 100, capMs: 1000 };
    expect([0, 1, 2, 3, 4, 10, 100].map((a) => backoffDelay(a, options, () => 0))).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect([0, 1, 2, 3, 4].map((a) => backoffDelay(a, options, () => 0.999999))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(2, options, () => 0.5)).toBe(300);
  });
});
