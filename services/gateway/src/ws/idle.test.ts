import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdleSweep } from './idle.js';

describe('IdleSweep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('closes each socket once it is silent for idleMs, oldest first, and never one heard from since', () => {
    const clock = { now: 0 };
    const closed: string[] = [];
    const idle = new IdleSweep<string>({ idleMs: 1000, now: () => clock.now, onIdle: (s) => closed.push(s) });
    idle.touch('a');
    clock.now = 100;
    idle.touch('b');
    clock.now = 200;
    idle.touch('c');
    clock.now = 900;
    idle.touch('a'); // a frame: a moves behind c
    clock.now = 999;
    idle.sweep();
    expect(closed).toEqual([]);
    clock.now = 1100;
    idle.sweep();
    expect(closed).toEqual(['b']);
    idle.forget('c'); // closed by itself
    clock.now = 1899;
    idle.sweep();
    expect(closed).toEqual(['b']);
    clock.now = 1900;
    idle.sweep();
    expect(closed).toEqual(['b', 'a']);
    expect(idle.size).toBe(0);
    idle.close();
  });

  it('sweeps by itself every tenth of idleMs', () => {
    vi.useFakeTimers();
    const clock = { now: 0 };
    const closed: number[] = [];
    const idle = new IdleSweep<string>({ idleMs: 1000, now: () => clock.now, onIdle: () => closed.push(clock.now) });
    idle.touch('a');
    for (let t = 100; t <= 1200; t += 100) {
      clock.now = t;
      vi.advanceTimersByTime(100);
    }
    expect(closed).toEqual([1000]);
    idle.close();
  });
});
