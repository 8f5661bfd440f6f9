import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqIdError } from './errors.js';
import { expandRanges, SeqIdGenerator, type Clock, type SeqIdRange } from './generator.js';
import { composeSeqId, decomposeSeqId, MAX_SEQ_ID, type SeqId } from './layout.js';

const T0 = Date.parse('2025-06-15T12:00:00.000Z');

/**
 * A fake clock that moves 1 ms forward on every `readsPerMs`-th read since it last moved
 * (Infinity: frozen). `t` is the value it last returned; `jump` moves it by hand.
 */
class FakeClock implements Clock {
  reads = 0;
  #sinceTick = 0;

  constructor(
    public t: number,
    private readonly readsPerMs: number,
  ) {}

  now(): number {
    this.reads++;
    if (++this.#sinceTick >= this.readsPerMs) {
      this.t++;
      this.#sinceTick = 0;
    }
    return this.t;
  }

  jump(ms: number): void {
    this.t += ms;
    this.#sinceTick = 0;
  }
}

function id(timestampMs: number, workerId: number, counter: number): SeqId {
  return composeSeqId({ timestampMs, workerId, counter });
}

describe('SeqIdGenerator.next', () => {
  it('issues 1,000,000 strictly increasing ids with the real clock', () => {
    const gen = new SeqIdGenerator({ workerId: 7 });
    let prev = gen.next();
    let failures = 0;
    for (let i = 1; i < 1_000_000; i++) {
      const next = gen.next();
      if (next <= prev) failures++;
      prev = next;
    }
    expect(failures).toBe(0);
    expect(gen.last).toBe(prev);
    expect(decomposeSeqId(prev).workerId).toBe(7);
    expect(gen.lastTimestampMs).toBe(decomposeSeqId(prev).timestampMs);
    expect(Math.abs(gen.lastTimestampMs - Date.now())).toBeLessThan(1000);
  });

  it('uses the clock time and counts up within a millisecond', () => {
    const clock = new FakeClock(T0, 3);
    const gen = new SeqIdGenerator({ workerId: 9, clock });
    expect(gen.last).toBeUndefined();
    expect(gen.lastTimestampMs).toBe(Number.NEGATIVE_INFINITY);
    const ids = Array.from({ length: 5 }, () => gen.next());
    expect(ids).toEqual([id(T0, 9, 0), id(T0, 9, 1), id(T0 + 1, 9, 0), id(T0 + 1, 9, 1), id(T0 + 1, 9, 2)]);
    expect(gen.last).toBe(id(T0 + 1, 9, 2));
    expect(gen.lastTimestampMs).toBe(T0 + 1);
  });

  it('gives the 4097th id of a millisecond the next millisecond and counter 0', () => {
    const clock = new FakeClock(T0, 5000); // reads 1..4999 return T0, read 5000 returns T0 + 1
    const gen = new SeqIdGenerator({ workerId: 3, clock });
    const ids = Array.from({ length: 4097 }, () => gen.next());
    expect(ids[0]).toBe(id(T0, 3, 0));
    expect(ids[4095]).toBe(id(T0, 3, 4095));
    expect(ids[4096]).toBe(id(T0 + 1, 3, 0));
    expect(clock.reads).toBe(5000); // it busy-waited on the clock until it moved, then stopped
  });

  it('stays strictly increasing over 1,000,000 ids when the clock jumps back 5 s', () => {
    const JUMP_AT = 300_000;
    const clock = new FakeClock(T0, 64);
    const gen = new SeqIdGenerator({ workerId: 5, clock });
    let prev = -1n;
    let prevTs = 0;
    let before = { ts: 0, counter: 0 };
    let fakeAtJump = 0;
    let caughtUpAt: number | undefined;
    const problems: string[] = [];
    const perBehindMs = new Map<number, number>();
    for (let i = 0; i < 1_000_000 && problems.length < 5; i++) {
      if (i === JUMP_AT) {
        const parts = decomposeSeqId(prev as SeqId);
        before = { ts: parts.timestampMs, counter: parts.counter };
        clock.jump(-5000);
        fakeAtJump = clock.t;
      }
      const next = gen.next();
      const { timestampMs: ts, counter } = decomposeSeqId(next);
      if (next <= prev) problems.push(`id ${i} not above the previous one`);
      if (ts < clock.t) problems.push(`id ${i} behind the clock`);
      if (i === JUMP_AT && (ts !== before.ts || counter !== before.counter + 1)) {
        problems.push(`first id after the jump left ms ${before.ts}: ${ts}/${counter}`);
      }
      if (i >= JUMP_AT && caughtUpAt === undefined) {
        if (ts - before.ts > clock.t - fakeAtJump) problems.push(`id ${i} ran ahead of the fake time`);
        if (ts !== prevTs && ts !== prevTs + 1) problems.push(`id ${i} skipped from ms ${prevTs} to ${ts}`);
        if (ts === clock.t) caughtUpAt = i;
        else perBehindMs.set(ts, (perBehindMs.get(ts) ?? 0) + 1);
      }
      if (caughtUpAt !== undefined && ts !== clock.t) problems.push(`id ${i} off the clock after catching up`);
      prev = next;
      prevTs = ts;
    }
    expect(problems).toEqual([]);
    expect(caughtUpAt).toBeDefined();
    // While behind the clock, the generator went on from the jump's millisecond one
    // millisecond at a time, using every millisecond in full (the last one until the clock
    // reached it): logical time advanced, it did not stall for the 5 s.
    const behind = [...perBehindMs.keys()];
    expect(behind[0]).toBe(before.ts);
    expect(perBehindMs.get(before.ts)).toBe(4096 - before.counter - 1);
    expect(behind.length).toBeGreaterThan(50);
    behind.forEach((ms, k) => {
      expect(ms).toBe(before.ts + k);
      if (k > 0 && k < behind.length - 1) expect(perBehindMs.get(ms)).toBe(4096);
    });
    expect(decomposeSeqId(gen.last as SeqId).timestampMs).toBe(clock.t);
  });

  it('throws after maxClockWaitMs when the clock never advances, and recovers', () => {
    const clock = new FakeClock(T0, Number.POSITIVE_INFINITY);
    const gen = new SeqIdGenerator({ workerId: 1, clock, maxClockWaitMs: 20 });
    for (let i = 0; i < 4096; i++) gen.next();
    expect(() => gen.next()).toThrow(SeqIdError);
    expect(() => gen.next()).toThrow(/used all 4096 ids of millisecond .* did not advance past .* within 20 ms/);
    expect(gen.last).toBe(id(T0, 1, 4095));
    clock.jump(1);
    expect(gen.next()).toBe(id(T0 + 1, 1, 0));
  });

  it('rejects a clock before the epoch or not a number', () => {
    expect(() => new SeqIdGenerator({ workerId: 0, clock: { now: () => 0 } }).next()).toThrow(
      /clock reads 0, before the SeqId epoch/,
    );
    expect(() => new SeqIdGenerator({ workerId: 0, clock: { now: () => Number.NaN } }).next()).toThrow(
      /clock returned NaN/,
    );
  });

  it('drops fractions of a millisecond', () => {
    const gen = new SeqIdGenerator({ workerId: 2, clock: { now: () => T0 + 0.9 } });
    expect(gen.next()).toBe(id(T0, 2, 0));
  });

  it.each([
    [{ workerId: -1 }, /workerId must be an integer in 0\.\.1023, got -1/],
    [{ workerId: 1024 }, /got 1024/],
    [{ workerId: 1.5 }, /got 1\.5/],
    [{ workerId: 0, floor: -1n as SeqId }, /floor must be a SeqId/],
    [{ workerId: 0, maxClockWaitMs: 0 }, /maxClockWaitMs must be a positive number/],
  ])('rejects options %o', (options, message) => {
    expect(() => new SeqIdGenerator(options)).toThrow(message);
  });
});

describe('SeqIdGenerator floor', () => {
  const FLOOR_TS = T0 + 10_000;

  it('starts right above a floor of the same worker when the clock is behind it', () => {
    const floor = id(FLOOR_TS, 4, 17);
    const gen = new SeqIdGenerator({ workerId: 4, clock: new FakeClock(T0, 1), floor });
    expect(gen.last).toBeUndefined();
    expect(gen.lastTimestampMs).toBe(FLOOR_TS);
    const first = gen.next();
    expect(first).toBe(id(FLOOR_TS, 4, 18));
    expect(first > floor).toBe(true);
  });

  it('uses counter 0 at the floor millisecond when the floor is of a lower worker', () => {
    const gen = new SeqIdGenerator({ workerId: 4, clock: new FakeClock(T0, 1), floor: id(FLOOR_TS, 3, 4095) });
    expect(gen.next()).toBe(id(FLOOR_TS, 4, 0));
  });

  it('moves to the next millisecond when the floor is of a higher worker or used its last counter', () => {
    for (const floor of [id(FLOOR_TS, 5, 0), id(FLOOR_TS, 4, 4095)]) {
      const clock = new FakeClock(T0, 10);
      const gen = new SeqIdGenerator({ workerId: 4, clock, floor });
      expect(gen.next()).toBe(id(FLOOR_TS + 1, 4, 0));
      expect(clock.reads).toBe(10); // waited for the clock to move 1 ms
    }
  });

  it('uses the clock when it is ahead of the floor', () => {
    const gen = new SeqIdGenerator({ workerId: 4, clock: new FakeClock(T0, 1000), floor: id(T0 - 1, 4, 4095) });
    expect(gen.next()).toBe(id(T0, 4, 0));
  });

  it('throws when the id space above the floor is used up', () => {
    const gen = new SeqIdGenerator({ workerId: 1023, clock: new FakeClock(T0, 1), floor: MAX_SEQ_ID });
    expect(() => gen.next()).toThrow(/SeqId space used up/);
  });
});

describe('SeqIdGenerator.allocate', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects count %s', (count) => {
    const gen = new SeqIdGenerator({ workerId: 0, clock: new FakeClock(T0, 1) });
    expect(() => gen.allocate(count)).toThrow(/allocate: count must be an integer >= 1/);
    expect(gen.last).toBeUndefined();
  });

  it('returns one range per millisecond used', () => {
    const gen = new SeqIdGenerator({ workerId: 8, clock: new FakeClock(T0, 5000) });
    expect(gen.next()).toBe(id(T0, 8, 0));
    expect(gen.allocate(5)).toEqual([{ first: id(T0, 8, 1), count: 5 }]);
    expect(gen.last).toBe(id(T0, 8, 5));
    expect(gen.allocate(10_000)).toEqual([
      { first: id(T0, 8, 6), count: 4090 },
      { first: id(T0 + 1, 8, 0), count: 4096 },
      { first: id(T0 + 2, 8, 0), count: 1814 },
    ]);
    expect(gen.last).toBe(id(T0 + 2, 8, 1813));
    expect(gen.lastTimestampMs).toBe(T0 + 2);
    expect(gen.next()).toBe(id(T0 + 2, 8, 1814));
  });

  it('gives exactly the ids of the same number of next() calls', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('allocate' as const), count: fc.integer({ min: 1, max: 9000 }) }),
      fc.record({ kind: fc.constant('jump' as const), ms: fc.integer({ min: -5000, max: 5000 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1023 }), fc.array(step, { maxLength: 6 }), (workerId, steps) => {
        // Both clocks move only while a generator waits out a used-up millisecond, so the
        // ids do not depend on how often each generator reads its clock.
        const clockA = new FakeClock(T0, 5000);
        const clockB = new FakeClock(T0, 5000);
        const byRanges = new SeqIdGenerator({ workerId, clock: clockA });
        const byNext = new SeqIdGenerator({ workerId, clock: clockB });
        for (const s of steps) {
          if (s.kind === 'jump') {
            clockA.jump(s.ms);
            clockB.jump(s.ms);
            continue;
          }
          const ranges = byRanges.allocate(s.count);
          expectWellFormed(ranges, s.count);
          const expected = Array.from({ length: s.count }, () => byNext.next());
          expect(expandRanges(ranges)).toEqual(expected);
          expect(byRanges.last).toBe(byNext.last);
          expect(byRanges.lastTimestampMs).toBe(byNext.lastTimestampMs);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('allocates ranges far faster than 4 million ids/s', () => {
    let t = T0;
    const gen = new SeqIdGenerator({ workerId: 0, clock: { now: () => t++ } });
    const started = performance.now();
    let total = 0;
    for (let i = 0; i < 10_000; i++) for (const range of gen.allocate(1000)) total += range.count;
    expect(total).toBe(10_000_000);
    expect(performance.now() - started).toBeLessThan(2000); // > 5M ids/s even on a slow machine
  });
});

describe('expandRanges', () => {
  it('lists every id of every range in order', () => {
    const ranges = [
      { first: 10n as SeqId, count: 3 },
      { first: 100n as SeqId, count: 1 },
    ];
    expect(expandRanges(ranges)).toEqual([10n, 11n, 12n, 100n]);
    expect(expandRanges([])).toEqual([]);
  });
});

/** Ascending, contiguous within one millisecond each, adding up to `count`. */
function expectWellFormed(ranges: readonly SeqIdRange[], count: number): void {
  expect(ranges.reduce((sum, r) => sum + r.count, 0)).toBe(count);
  let prevLast = -1n;
  let prevTs = Number.NEGATIVE_INFINITY;
  for (const range of ranges) {
    const first = decomposeSeqId(range.first);
    const last = decomposeSeqId((range.first + BigInt(range.count - 1)) as SeqId);
    expect(range.count).toBeGreaterThanOrEqual(1);
    expect(last.timestampMs).toBe(first.timestampMs);
    expect(last.counter).toBe(first.counter + range.count - 1);
    expect(range.first > prevLast).toBe(true);
    expect(first.timestampMs).toBeGreaterThan(prevTs);
    prevLast = range.first + BigInt(range.count - 1);
    prevTs = first.timestampMs;
  }
}
