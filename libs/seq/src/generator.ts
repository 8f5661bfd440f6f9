// SeqIdGenerator: one worker's source of ascending Snowflake ids (docs/architecture.md §5).
//
// State is the last issued slot: a logical timestamp `ts` and the last counter used at it
// (-1 = none yet, MAX_COUNTER = the millisecond is used up). For each id:
//
//   now = clock.now()
//   now > ts                  → ts = now, counter 0             (normal case, clock moved on)
//   now <= ts, counter free   → same ts, counter + 1             (same ms, or the clock went back)
//   now <= ts, ms used up     → busy-wait until the clock reads >= now + 1, then
//                               ts = max(clock, ts + 1), counter 0
//
// So ids are strictly increasing whatever the clock does. When the clock goes back, the
// generator keeps the last timestamp and, once each millisecond's 4096 ids are used, moves
// on by one millisecond per real millisecond: it never stalls for the whole backward jump,
// and never runs further ahead of the clock than the ids it issued force it to.
//
// A `floor` (e.g. the last id persisted before a restart) seeds the state with the first
// slot above it for this worker, so a restarted sequencer never issues at or below it.
//
// The busy-wait re-reads the injected clock synchronously (it blocks the event loop for at
// most about a millisecond with a sane clock). A clock that never advances would spin forever,
// so the wait is bounded by `maxClockWaitMs` of real time, measured with performance.now().
//
// `allocate(n)` hands out ranges: it takes one slot like `next()` and then claims the rest
// of that millisecond's counters in one step, so its cost is per millisecond, not per id.
// With a clock that does not move during the call, the ids are exactly those of n `next()`
// calls. If it throws part way, the ids it had claimed are skipped, never issued again.
import { SeqIdError } from './errors.js';
import {
  composeUnchecked,
  decomposeSeqId,
  isSeqId,
  MAX_COUNTER,
  MAX_TIMESTAMP_MS,
  MAX_WORKER_ID,
  SEQ_EPOCH_MS,
  type SeqId,
} from './layout.js';

export interface Clock {
  /** Unix milliseconds. Fractions are dropped. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The ids first, first+1, …, first+count-1: one millisecond, consecutive counters. */
export interface SeqIdRange {
  readonly first: SeqId;
  readonly count: number;
}

export interface SeqIdGeneratorOptions {
  /** 0..1023, unique among the generators running at any moment. */
  readonly workerId: number;
  readonly clock?: Clock;
  /** Never issue an id at or below this one (e.g. the last id issued before a restart). */
  readonly floor?: SeqId;
  /** Give up (SeqIdError) when the clock does not advance for this long; default 5000. */
  readonly maxClockWaitMs?: number;
}

export const DEFAULT_MAX_CLOCK_WAIT_MS = 5_000;

export class SeqIdGenerator {
  readonly workerId: number;
  readonly #clock: Clock;
  readonly #maxClockWaitMs: number;
  /** Logical timestamp of the last issued slot; -Infinity before the first without a floor. */
  #ts = Number.NEGATIVE_INFINITY;
  /** Last counter used at #ts: -1 = none, MAX_COUNTER = the millisecond is used up. */
  #counter = MAX_COUNTER;
  /** (#ts - epoch) << 22 | worker << 12: the id at #ts with counter 0. */
  #base = 0n;
  #last: SeqId | undefined;

  constructor(options: SeqIdGeneratorOptions) {
    const { workerId, clock = systemClock, floor, maxClockWaitMs = DEFAULT_MAX_CLOCK_WAIT_MS } = options;
    if (!Number.isInteger(workerId) || workerId < 0 || workerId > MAX_WORKER_ID) {
      throw new SeqIdError(`workerId must be an integer in 0..${MAX_WORKER_ID}, got ${String(workerId)}`);
    }
    if (!(maxClockWaitMs > 0)) {
      throw new SeqIdError(`maxClockWaitMs must be a positive number, got ${String(maxClockWaitMs)}`);
    }
    this.workerId = workerId;
    this.#clock = clock;
    this.#maxClockWaitMs = maxClockWaitMs;
    if (floor !== undefined) this.#startAbove(floor);
  }

  /** The last issued id, or undefined before the first. */
  get last(): SeqId | undefined {
    return this.#last;
  }

  /** Logical timestamp (unix ms) of the last issued id, or of the floor; -Infinity if neither. */
  get lastTimestampMs(): number {
    return this.#ts;
  }

  next(): SeqId {
    const now = this.#readClock();
    let counter: number;
    if (now > this.#ts) {
      this.#enter(now);
      counter = 0;
    } else if (this.#counter < MAX_COUNTER) {
      counter = this.#counter + 1;
    } else {
      this.#enter(this.#waitForNextMs(now));
      counter = 0;
    }
    this.#counter = counter;
    const id = (this.#base | BigInt(counter)) as SeqId;
    this.#last = id;
    return id;
  }

  /** `count` ascending ids as contiguous ranges, one per millisecond used, in order. */
  allocate(count: number): SeqIdRange[] {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new SeqIdError(`allocate: count must be an integer >= 1, got ${String(count)}`);
    }
    const ranges: SeqIdRange[] = [];
    let remaining = count;
    while (remaining > 0) {
      const first = this.next();
      const n = Math.min(remaining, MAX_COUNTER - this.#counter + 1);
      if (n > 1) {
        this.#counter += n - 1;
        this.#last = (first + BigInt(n - 1)) as SeqId;
      }
      ranges.push({ first, count: n });
      remaining -= n;
    }
    return ranges;
  }

  /** Seeds the state with the last slot at or below `floor` for this worker. */
  #startAbove(floor: SeqId): void {
    if (!isSeqId(floor)) throw new SeqIdError(`floor must be a SeqId in 0..2^63-1, got ${String(floor)}`);
    const parts = decomposeSeqId(floor);
    // At the floor's millisecond this worker may use the counters whose id is above the floor.
    const counter =
      this.workerId > parts.workerId ? -1 : this.workerId === parts.workerId ? parts.counter : MAX_COUNTER;
    this.#enter(parts.timestampMs);
    this.#counter = counter;
  }

  /** Moves to logical millisecond `ts` (counter to be set by the caller). */
  #enter(ts: number): void {
    if (ts < SEQ_EPOCH_MS || ts > MAX_TIMESTAMP_MS) {
      throw new SeqIdError(
        ts < SEQ_EPOCH_MS
          ? `clock reads ${ts}, before the SeqId epoch ${SEQ_EPOCH_MS} (2024-01-01T00:00:00Z)`
          : `SeqId space used up: timestamp ${ts} is after the last one the layout can hold (${MAX_TIMESTAMP_MS})`,
      );
    }
    this.#ts = ts;
    this.#base = composeUnchecked(ts, this.workerId, 0);
  }

  /** Busy-waits until the clock reads at least `seen` + 1; returns the next logical ms. */
  #waitForNextMs(seen: number): number {
    const deadline = performance.now() + this.#maxClockWaitMs;
    for (;;) {
      const now = this.#readClock();
      if (now > seen) return Math.max(now, this.#ts + 1);
      if (performance.now() > deadline) {
        throw new SeqIdError(
          `worker ${this.workerId} used all ${MAX_COUNTER + 1} ids of millisecond ${this.#ts} and the ` +
            `clock did not advance past ${seen} within ${this.#maxClockWaitMs} ms`,
        );
      }
    }
  }

  #readClock(): number {
    const now = this.#clock.now();
    if (!Number.isFinite(now)) throw new SeqIdError(`clock returned ${now}, expected unix milliseconds`);
    return Math.floor(now);
  }
}

/** Every id of `ranges`, in order. */
export function expandRanges(ranges: readonly SeqIdRange[]): SeqId[] {
  const ids: SeqId[] = [];
  for (const range of ranges) {
    let id: bigint = range.first;
    for (let i = 0; i < range.count; i++) {
      ids.push(id as SeqId);
      id += 1n;
    }
  }
  return ids;
}
