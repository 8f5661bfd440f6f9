import { afterEach, describe, expect, it, vi } from 'vitest';
import { UserSlots } from './user-slots.js';

const refusal = 'at most 2 queries at a time per user; retry when one has finished';

describe('UserSlots', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses a user over the limit at once when no wait is allowed, leaves other users alone, and frees a slot when its call ends', async () => {
    const slots = new UserSlots({ max: 2, maxWaiting: 0, waitMs: 1000 }, 'queries');
    const a1 = await slots.take('mallory');
    let finish: () => void = () => {};
    const running = slots.run('mallory', () => new Promise<void>((resolve) => (finish = resolve)));
    await expect(slots.take('mallory')).rejects.toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', message: refusal });
    const b = await slots.take('alice');
    expect([slots.held('mallory'), slots.held('alice')]).toEqual([2, 1]);
    a1();
    a1(); // idempotent
    expect(slots.held('mallory')).toBe(1);
    finish();
    await running;
    expect(slots.held('mallory')).toBe(0);
    await expect(slots.run('mallory', () => Promise.reject(new Error('failed')))).rejects.toThrow('failed');
    expect(slots.held('mallory')).toBe(0);
    b();
    expect(slots.held('alice')).toBe(0);
  });

  it('lets a bounded number of calls wait for a slot, first come first served, and refuses the rest or those that wait too long', async () => {
    vi.useFakeTimers();
    const slots = new UserSlots({ max: 1, maxWaiting: 2, waitMs: 1000 }, 'queries');
    const first = await slots.take('mallory');
    const order: string[] = [];
    const second = slots.take('mallory').then((release) => (order.push('second'), release));
    const third = slots.take('mallory').then((release) => (order.push('third'), release));
    await expect(slots.take('mallory')).rejects.toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    first();
    const releaseSecond = await second;
    expect([order, slots.held('mallory')]).toEqual([['second'], 1]);
    const late = expect(third).rejects.toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', message: 'at most 1 queries at a time per user; retry when one has finished' });
    await vi.advanceTimersByTimeAsync(1000);
    await late;
    releaseSecond();
    expect(slots.held('mallory')).toBe(0);
  });
});
