import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdleSweep } from './idle.js';

describe('IdleSweep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('closes each socket once it is silent for idleMs, oldest first, and never one heard from since', () => {
    vi.useFakeTimers();
    const clock = { now: 0 };
    const closed: string[] = [];
    const idle = new IdleSweep<string>({ idleMs: 1000, now: () => clock.now, onIdle: (s) => closed.push(s) });
    const until = (t: number): void => {
      while (clock.now < t) {
        clock.now += 100;
        vi.advanceTimersByTime(100);
      }
    };
    idle.touch('a');
    until(100);
    idle.touch('b');
    until(200);
    idle.touch('c');
    until(900);
    idle.touch('a'); // a frame: a moves behind c
    until(1000);
    expect(closed).toEqual([]);
    until(1100);
    expect(closed).toEqual(['b']);
    idle.forget('c'); // closed by itself
    until(1800);
    expect(closed).toEqual(['b']);
    until(1900);
    expect(closed).toEqual(['b', 'a']);
    expect(idle.size).toBe(0);
    idle.close();
  });

  it('does not count a time the gateway stood still as silence: the frames of that time are read before a socket is closed', () => {
    vi.useFakeTimers();
    const clock = { now: 0 };
    const closed: string[] = [];
    const idle = new IdleSweep<string>({ idleMs: 1000, now: () => clock.now, onIdle: (s) => closed.push(s) });
    idle.touch('old');
    clock.now = 100;
    vi.advanceTimersByTime(100);
    idle.touch('recent');
    clock.now = 5000; // the event loop stood still for 4.9 s: the sweep runs late and closes nothing
    vi.advanceTimersByTime(100);
    expect(closed).toEqual([]);
    idle.touch('recent'); // its frames of that time, read now
    clock.now = 5100; // the next sweep: 'old' sent nothing meanwhile
    vi.advanceTimersByTime(100);
    expect(closed).toEqual(['old']);
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
