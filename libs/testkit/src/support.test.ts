// Pure helpers: uniqueName and waitFor (timers only, no I/O).
import { describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from './support.js';

describe('uniqueName', () => {
  it('uses [A-Za-z0-9_] only and never repeats', () => {
    const names = Array.from({ length: 1000 }, () => uniqueName('orders'));
    for (const name of names) expect(name).toMatch(/^orders_\d+_\d+_[a-z0-9]+$/);
    expect(new Set(names).size).toBe(1000);
  });

  it('replaces other characters, and never starts with a digit', () => {
    expect(uniqueName('a.b-c>*d e')).toMatch(/^a_b_c__d_e_\d+_/);
    expect(uniqueName('')).toMatch(/^n_\d+_/);
    expect(uniqueName('9lives')).toMatch(/^n9lives_\d+_/);
  });

  it('stays short enough for a PostgreSQL identifier', () => {
    expect(uniqueName('x'.repeat(100)).length).toBeLessThanOrEqual(63);
  });
});

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let calls = 0;
    const value = await waitFor(() => {
      calls += 1;
      return calls === 3 ? { calls } : undefined;
    }, { intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('retries after a throw', async () => {
    let calls = 0;
    const value = await waitFor(async () => {
      calls += 1;
      if (calls < 2) throw new Error('not yet');
      return 'ok';
    }, { intervalMs: 1 });
    expect({ value, calls }).toEqual({ value: 'ok', calls: 2 });
  });

  it('times out with the message and the last error as cause', async () => {
    const failure = new Error('still down');
    const error: unknown = await waitFor(() => {
      throw failure;
    }, { timeoutMs: 30, intervalMs: 5, message: 'server never came up' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^server never came up \(after \d+ ms; last error: Error: still down\)$/);
    expect((error as Error).cause).toBe(failure);
  });

  it('times out on a falsy result', async () => {
    await expect(waitFor(() => 0, { timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(/^waitFor: condition not met \(after \d+ ms; last result was falsy\)$/);
  });
});
