import { describe, expect, it } from 'vitest';
import { backoffDelay, RunningState, type Timers } from './running-state.js';

/** Timers driven by hand: `advance(ms)` fires what is due, in order. */
function fakeTimers(): Timers & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let next = 1;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = next++;
      due.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (h) => void due.delete(h as number),
    advance(ms) {
      now += ms;
      for (const [id, t] of [...due].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now) {
          due.delete(id);
          t.fn();
        }
      }
    },
    pending: () => due.size,
  };
}

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap, with the jitter share random', () => {
    const opts = { initialMs: 100, maxMs: 1000, jitter: 0.5 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, opts, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, opts, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(0, { initialMs: 100, maxMs: 1000, jitter: 0 }, () => 0.7)).toBe(100);
  });
});

describe('RunningState', () => {
  it('sleeps exactly the backoff delays and resets', async () => {
    const timers = fakeTimers();
    const state = new RunningState('t', { timers, random: () => 1, backoff: { initialMs: 10, maxMs: 25 } });
    expect(state.nextBackoffMs()).toBe(10);
    const first = state.backoff();
    timers.advance(9);
    expect(timers.pending()).toBe(1);
    timers.advance(1);
    expect(await first).toBe(true);
    expect(state.nextBackoffMs()).toBe(20);
    void state.backoff();
    timers.advance(20);
    expect(state.nextBackoffMs()).toBe(25);
    state.resetBackoff();
    expect(state.nextBackoffMs()).toBe(10);
  });

  it('stop wakes sleepers with false and clears its timers', async () => {
    const timers = fakeTimers();
    const state = new RunningState('t', { timers });
    let fired = false;
    state.setTimeout(() => (fired = true), 50);
    const sleeping = state.sleep(1000);
    expect(timers.pending()).toBe(2);
    state.stop();
    expect(await sleeping).toBe(false);
    expect(timers.pending()).toBe(0);
    timers.advance(2000);
    expect(fired).toBe(false);
    expect(state.shouldRun()).toBe(false);
    expect(state.signal.aborted).toBe(true);
    expect(await state.sleep(1)).toBe(false);
  });
});
