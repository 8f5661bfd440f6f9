import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqIdError } from './errors.js';
import {
  asSeqId,
  compareSeqId,
  composeSeqId,
  decomposeSeqId,
  formatSeqId,
  isSeqId,
  MAX_COUNTER,
  MAX_SEQ_ID,
  MAX_TIMESTAMP_MS,
  MAX_WORKER_ID,
  parseSeqId,
  SEQ_EPOCH_MS,
  seqIdFloorForTime,
  seqIdTimestampMs,
  seqIdToDate,
  type SeqId,
  type SeqIdParts,
} from './layout.js';

const parts = fc.record({
  timestampMs: fc.integer({ min: SEQ_EPOCH_MS, max: MAX_TIMESTAMP_MS }),
  workerId: fc.integer({ min: 0, max: MAX_WORKER_ID }),
  counter: fc.integer({ min: 0, max: MAX_COUNTER }),
});

describe('layout constants', () => {
  it('match docs/architecture.md §5', () => {
    expect(SEQ_EPOCH_MS).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(MAX_SEQ_ID).toBe(9223372036854775807n);
    expect(MAX_TIMESTAMP_MS).toBe(3903090455551);
    expect(new Date(MAX_TIMESTAMP_MS).toISOString()).toBe('2093-09-06T15:47:35.551Z');
  });
});

describe('composeSeqId / decomposeSeqId', () => {
  const known: [SeqIdParts, bigint][] = [
    [{ timestampMs: SEQ_EPOCH_MS, workerId: 0, counter: 0 }, 0n],
    [{ timestampMs: SEQ_EPOCH_MS, workerId: 0, counter: 1 }, 1n],
    [{ timestampMs: SEQ_EPOCH_MS, workerId: 1, counter: 0 }, 4096n],
    [{ timestampMs: SEQ_EPOCH_MS, workerId: 1023, counter: 4095 }, 4194303n],
    [{ timestampMs: SEQ_EPOCH_MS + 1, workerId: 0, counter: 0 }, 4194304n],
    [{ timestampMs: SEQ_EPOCH_MS + 1000, workerId: 1, counter: 2 }, 4194308098n],
    // 2025-06-15T12:34:56.789Z = epoch + 45923696789 ms: 45923696789·2^22 + 42·2^12 + 7
    [{ timestampMs: Date.parse('2025-06-15T12:34:56.789Z'), workerId: 42, counter: 7 }, 192617945137061895n],
    [{ timestampMs: MAX_TIMESTAMP_MS, workerId: 1023, counter: 4095 }, 9223372036854775807n],
    [{ timestampMs: MAX_TIMESTAMP_MS, workerId: 0, counter: 0 }, 9223372036850581504n],
  ];

  it.each(known)('composes %o to %s and back', (p, expected) => {
    const id = composeSeqId(p);
    expect(id).toBe(expected);
    expect(decomposeSeqId(id)).toEqual(p);
    expect(seqIdTimestampMs(id)).toBe(p.timestampMs);
    expect(seqIdToDate(id).getTime()).toBe(p.timestampMs);
  });

  it('the 63-bit edge is MAX_SEQ_ID', () => {
    expect(composeSeqId({ timestampMs: MAX_TIMESTAMP_MS, workerId: MAX_WORKER_ID, counter: MAX_COUNTER })).toBe(
      MAX_SEQ_ID,
    );
    expect(decomposeSeqId(MAX_SEQ_ID)).toEqual({ timestampMs: MAX_TIMESTAMP_MS, workerId: 1023, counter: 4095 });
  });

  it('round-trips every valid triple', () => {
    fc.assert(
      fc.property(parts, (p) => {
        expect(decomposeSeqId(composeSeqId(p))).toEqual(p);
      }),
    );
  });

  const bad: [string, SeqIdParts, RegExp][] = [
    ['timestamp before the epoch', { timestampMs: SEQ_EPOCH_MS - 1, workerId: 0, counter: 0 }, /timestampMs/],
    ['timestamp beyond 41 bits', { timestampMs: MAX_TIMESTAMP_MS + 1, workerId: 0, counter: 0 }, /timestampMs/],
    ['fractional timestamp', { timestampMs: SEQ_EPOCH_MS + 0.5, workerId: 0, counter: 0 }, /timestampMs/],
    ['NaN timestamp', { timestampMs: Number.NaN, workerId: 0, counter: 0 }, /timestampMs.*NaN/],
    ['negative worker', { timestampMs: SEQ_EPOCH_MS, workerId: -1, counter: 0 }, /workerId must be .* 0\.\.1023/],
    ['worker 1024', { timestampMs: SEQ_EPOCH_MS, workerId: 1024, counter: 0 }, /workerId.*got number 1024/],
    ['fractional worker', { timestampMs: SEQ_EPOCH_MS, workerId: 1.5, counter: 0 }, /workerId/],
    ['negative counter', { timestampMs: SEQ_EPOCH_MS, workerId: 0, counter: -1 }, /counter must be .* 0\.\.4095/],
    ['counter 4096', { timestampMs: SEQ_EPOCH_MS, workerId: 0, counter: 4096 }, /counter.*got number 4096/],
  ];

  it.each(bad)('rejects %s', (_name, p, message) => {
    expect(() => composeSeqId(p)).toThrow(SeqIdError);
    expect(() => composeSeqId(p)).toThrow(message);
  });

  it('decompose rejects a bigint outside the id range', () => {
    expect(() => decomposeSeqId(-1n as SeqId)).toThrow(/negative/);
    expect(() => decomposeSeqId((MAX_SEQ_ID + 1n) as SeqId)).toThrow(/above the maximum/);
  });
});

describe('ordering', () => {
  it('orders ids like their timestamps, then workers, then counters', () => {
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        const byParts =
          Math.sign(a.timestampMs - b.timestampMs) ||
          Math.sign(a.workerId - b.workerId) ||
          Math.sign(a.counter - b.counter);
        const ida = composeSeqId(a);
        const idb = composeSeqId(b);
        expect(compareSeqId(ida, idb)).toBe(byParts === 0 ? 0 : byParts);
        if (a.timestampMs !== b.timestampMs) {
          expect(ida < idb).toBe(a.timestampMs < b.timestampMs);
        }
      }),
    );
  });

  it('compareSeqId returns -1, 0, 1', () => {
    expect(compareSeqId(1n as SeqId, 2n as SeqId)).toBe(-1);
    expect(compareSeqId(2n as SeqId, 2n as SeqId)).toBe(0);
    expect(compareSeqId(MAX_SEQ_ID, 0n as SeqId)).toBe(1);
  });
});

describe('isSeqId / asSeqId', () => {
  it.each([
    [0n, true],
    [MAX_SEQ_ID, true],
    [-1n, false],
    [MAX_SEQ_ID + 1n, false],
    [1, false],
    ['1', false],
    [null, false],
  ])('isSeqId(%s) is %s', (v, expected) => {
    expect(isSeqId(v)).toBe(expected);
  });

  it('asSeqId checks the range', () => {
    expect(asSeqId(5n)).toBe(5n);
    expect(asSeqId(MAX_SEQ_ID)).toBe(MAX_SEQ_ID);
    expect(() => asSeqId(-1n)).toThrow(/invalid SeqId: got -1, which is negative/);
    expect(() => asSeqId(1n << 63n)).toThrow(/got 9223372036854775808, which is above the maximum 2\^63-1/);
  });
});

describe('parseSeqId', () => {
  const accepted: [unknown, bigint][] = [
    [0n, 0n],
    [MAX_SEQ_ID, MAX_SEQ_ID],
    [0, 0n],
    [-0, 0n],
    [4194308098, 4194308098n],
    [Number.MAX_SAFE_INTEGER, 9007199254740991n],
    ['0', 0n],
    ['007', 7n],
    ['192617945137061895', 192617945137061895n],
    ['9223372036854775807', MAX_SEQ_ID],
    ['0000000000000000000009223372036854775807', MAX_SEQ_ID],
  ];
  it.each(accepted)('accepts %o', (input, expected) => {
    expect(parseSeqId(input)).toBe(expected);
  });

  const rejected: [unknown, RegExp][] = [
    [-1n, /got -1, which is negative/],
    [1n << 63n, /above the maximum 2\^63-1/],
    [-1, /got number -1, which is negative/],
    [1.5, /got number 1\.5, which is not an integer/],
    [Number.NaN, /got number NaN/],
    [Number.POSITIVE_INFINITY, /got number Infinity, which is not finite/],
    [2 ** 53, /9007199254740992, which is above Number\.MAX_SAFE_INTEGER .*bigint or a decimal string/],
    [1e20, /above Number\.MAX_SAFE_INTEGER/],
    ['', /got an empty string/],
    ['-1', /"-1", which has a sign/],
    ['+1', /"\+1", which has a sign/],
    [' 1', /contains whitespace/],
    ['1 ', /contains whitespace/],
    ['1e3', /"1e3", which has an exponent/],
    ['1.0', /"1\.0", which has a decimal point/],
    ['0x10', /"0x10", which has a base prefix/],
    ['12a', /contains characters other than digits/],
    ['٣', /contains characters other than digits/],
    ['9223372036854775808', /"9223372036854775808", which is above the maximum 2\^63-1/],
    ['1'.repeat(100), /above the maximum/],
    [null, /got null/],
    [undefined, /got undefined/],
    [true, /got boolean true/],
    [[1], /got an array/],
    [{}, /got a value of type object/],
  ];
  it.each(rejected)('rejects %o', (input, message) => {
    expect(() => parseSeqId(input)).toThrow(SeqIdError);
    expect(() => parseSeqId(input)).toThrow(message);
  });

  it('every error says what is accepted', () => {
    expect(() => parseSeqId('x')).toThrow(
      /accepted: a bigint, a non-negative safe integer number, or a string of decimal digits only, in 0\.\.9223372036854775807$/,
    );
  });

  it('round-trips formatSeqId for every id', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_SEQ_ID }), (n) => {
        const id = asSeqId(n);
        expect(formatSeqId(id)).toBe(n.toString());
        expect(parseSeqId(formatSeqId(id))).toBe(id);
      }),
    );
  });
});

describe('seqIdFloorForTime', () => {
  it('is the id of worker 0, counter 0 at that millisecond', () => {
    expect(seqIdFloorForTime(SEQ_EPOCH_MS)).toBe(0n);
    expect(seqIdFloorForTime(SEQ_EPOCH_MS + 1000)).toBe(4194304000n);
    expect(seqIdFloorForTime(Date.parse('2025-06-15T12:34:56.789Z'))).toBe(192617945136889856n);
    expect(seqIdFloorForTime(MAX_TIMESTAMP_MS)).toBe(9223372036850581504n);
  });

  it('clamps times before the epoch to 0 and rounds fractions up', () => {
    expect(seqIdFloorForTime(0)).toBe(0n);
    expect(seqIdFloorForTime(SEQ_EPOCH_MS - 1)).toBe(0n);
    expect(seqIdFloorForTime(SEQ_EPOCH_MS + 999.2)).toBe(4194304000n);
  });

  it('rejects times the layout cannot hold', () => {
    expect(() => seqIdFloorForTime(MAX_TIMESTAMP_MS + 1)).toThrow(/after the last time/);
    expect(() => seqIdFloorForTime(Number.NaN)).toThrow(SeqIdError);
    expect(() => seqIdFloorForTime(Number.POSITIVE_INFINITY)).toThrow(/finite/);
  });

  it('separates ids before T from ids at or after T', () => {
    fc.assert(
      fc.property(parts, fc.integer({ min: SEQ_EPOCH_MS, max: MAX_TIMESTAMP_MS }), (p, t) => {
        expect(composeSeqId(p) >= seqIdFloorForTime(t)).toBe(p.timestampMs >= t);
      }),
    );
  });
});
