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

describe('limitConcurrency with a signal', () => {
  it('drops a waiting call whose signal is aborted, and never runs it', async () => {
    const releases: (() => void)[] = [];
    const started: string[] = [];
    const limited = limitConcurrency(
      1,
      async (name: string, _signal: AbortSignal) => {
        started.push(name);
        await new Promise<void>((resolve) => releases.push(resolve));
        return name;
      },
      (_name, signal) => signal,
    );
    const gone = new AbortController();
    const first = limited('first', new AbortController().signal);
    const dropped = limited('dropped', gone.signal);
    const third = limited('third', new AbortController().signal);
    gone.abort(new Error('socket closed'));
    await expect(dropped).rejects.toThrow('socket closed');
    releases.shift()!();
    await expect.poll(() => started).toEqual(['first', 'third']);
    releases.shift()!();
    expect([await first, await third]).toEqual(['first', 'third']);
    await expect(limited('late', gone.signal)).rejects.toThrow('socket closed');
    expect(started).toEqual(['first', 'third']);
  });
});
