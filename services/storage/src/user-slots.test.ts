import { describe, expect, it } from 'vitest';
import { UserSlots } from './user-slots.js';

describe('UserSlots', () => {
  it('refuses a user over the limit at once, leaves other users alone, and frees a slot when its call ends', async () => {
    const slots = new UserSlots(2, 'queries');
    const a1 = slots.take('mallory');
    let finish: () => void = () => {};
    const running = slots.run('mallory', () => new Promise<void>((resolve) => (finish = resolve)));
    expect(() => slots.take('mallory')).toThrow(expect.objectContaining({ code: 'RATE_LIMIT_EXCEEDED' }));
    expect(() => slots.take('mallory')).toThrow('at most 2 queries at a time per user; retry when one has finished');
    const b = slots.take('alice');
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
});
