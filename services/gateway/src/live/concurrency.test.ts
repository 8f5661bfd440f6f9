import { describe, expect, it } from 'vitest';
import { limitConcurrency } from './concurrency.js';

describe('limitConcurrency', () => {
  it('runs at most `limit` calls at once, the rest in the order they came, failures included', async () => {
    const releases: (() => void)[] = [];
    const started: number[] = [];
    let active = 0;
    let peak = 0;
    const limited = limitConcurrency(2, async (n: number) => {
      started.push(n);
      active++;
      peak = Math.max(peak, active);
      await new Promise<void>((resolve) => releases.push(resolve));
      active--;
      if (n === 1) throw new Error('one fails');
      return n * 10;
    });
    const results = [1, 2, 3, 4, 5].map((n) => limited(n).catch((err: unknown) => (err as Error).message));
    await expect.poll(() => started).toEqual([1, 2]);
    releases.shift()!();
    await expect.poll(() => started).toEqual([1, 2, 3]);
    while (started.length < 5 || releases.length > 0) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(results)).toEqual(['one fails', 20, 30, 40, 50]);
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });
});
