// SeqId layout (docs/architecture.md §5): KalamDB's Snowflake layout, so ids are interchangeable with it.
//
//   bit 63      bits 62..22 (41 bits)             bits 21..12 (10)   bits 11..0 (12)
//   0 (sign)    milliseconds since SEQ_EPOCH_MS   worker id          counter
//
// An id is a non-negative signed 64-bit integer, so it is always a `bigint` in code (never a
// JS number, which loses precision above 2^53). Ordering ids as integers orders them by
// timestamp first, then worker, then counter: "higher _seq = newer change".
//
// Everything that turns outside input into a SeqId goes through `asSeqId` / `parseSeqId`,
// which check the range and say what was wrong; code inside the package that has already
// checked its inputs uses `composeUnchecked`.
import { SeqIdError } from './errors.js';

export type SeqId = bigint & { readonly __brand: 'SeqId' };

/** 2024-01-01T00:00:00Z in unix milliseconds: timestamp 0 of the layout. */
export const SEQ_EPOCH_MS = 1_704_067_200_000;
export const TIMESTAMP_BITS = 41;
export const WORKER_ID_BITS = 10;
export const COUNTER_BITS = 12;
export const MAX_WORKER_ID = 1023;
export const MAX_COUNTER = 4095;
/** The last unix millisecond the layout can hold: 2093-09-06T15:47:35.551Z. */
export const MAX_TIMESTAMP_MS = SEQ_EPOCH_MS + 2 ** TIMESTAMP_BITS - 1;
export const MIN_SEQ_ID = 0n as SeqId;
/** 2^63-1, the largest signed 64-bit integer (PostgreSQL `bigint`). */
export const MAX_SEQ_ID = ((1n << 63n) - 1n) as SeqId;

export interface SeqIdParts {
  /** Unix milliseconds (not milliseconds since SEQ_EPOCH_MS). */
  readonly timestampMs: number;
  readonly workerId: number;
  readonly counter: number;
}

const TIMESTAMP_SHIFT = BigInt(WORKER_ID_BITS + COUNTER_BITS);
const WORKER_SHIFT = BigInt(COUNTER_BITS);
const WORKER_MASK = BigInt(MAX_WORKER_ID);
const COUNTER_MASK = BigInt(MAX_COUNTER);
const MAX_SEQ_ID_TEXT = MAX_SEQ_ID.toString();
const ACCEPTED =
  `accepted: a bigint, a non-negative safe integer number, or a string of decimal digits only, ` +
  `in 0..${MAX_SEQ_ID_TEXT}`;

export function composeSeqId(parts: SeqIdParts): SeqId {
  checkIntegerIn('timestampMs', parts.timestampMs, SEQ_EPOCH_MS, MAX_TIMESTAMP_MS, timestampRange());
  checkIntegerIn('workerId', parts.workerId, 0, MAX_WORKER_ID, `0..${MAX_WORKER_ID}`);
  checkIntegerIn('counter', parts.counter, 0, MAX_COUNTER, `0..${MAX_COUNTER}`);
  return composeUnchecked(parts.timestampMs, parts.workerId, parts.counter);
}

/** composeSeqId without the range checks, for callers that have checked every part. */
export function composeUnchecked(timestampMs: number, workerId: number, counter: number): SeqId {
  // (worker << 12 | counter) fits in 22 bits, so it is computed as a number.
  return ((BigInt(timestampMs - SEQ_EPOCH_MS) << TIMESTAMP_SHIFT) |
    BigInt((workerId << COUNTER_BITS) | counter)) as SeqId;
}

export function decomposeSeqId(id: SeqId): SeqIdParts {
  checkSeqId(id);
  return {
    timestampMs: Number(id >> TIMESTAMP_SHIFT) + SEQ_EPOCH_MS,
    workerId: Number((id >> WORKER_SHIFT) & WORKER_MASK),
    counter: Number(id & COUNTER_MASK),
  };
}

export function seqIdTimestampMs(id: SeqId): number {
  checkSeqId(id);
  return Number(id >> TIMESTAMP_SHIFT) + SEQ_EPOCH_MS;
}

export function seqIdToDate(id: SeqId): Date {
  return new Date(seqIdTimestampMs(id));
}

export function compareSeqId(a: SeqId, b: SeqId): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isSeqId(v: unknown): v is SeqId {
  return typeof v === 'bigint' && v >= 0n && v <= MAX_SEQ_ID;
}

export function asSeqId(v: bigint): SeqId {
  if (typeof v !== 'bigint') {
    throw new SeqIdError(`invalid SeqId: got ${describe(v)}, not a bigint; ${ACCEPTED}`);
  }
  if (v < 0n) throw new SeqIdError(`invalid SeqId: got ${v}, which is negative; ${ACCEPTED}`);
  if (v > MAX_SEQ_ID) {
    throw new SeqIdError(`invalid SeqId: got ${v}, which is above the maximum 2^63-1; ${ACCEPTED}`);
  }
  return v as SeqId;
}

/**
 * Reads a SeqId from outside input: a bigint, a number that is a non-negative safe integer,
 * or a string of decimal digits only (leading zeros are allowed: "007" is 7). Anything else
 * throws a SeqIdError that says what was wrong and what is accepted.
 */
export function parseSeqId(v: unknown): SeqId {
  switch (typeof v) {
    case 'bigint':
      return asSeqId(v);
    case 'number':
      return seqIdFromNumber(v);
    case 'string':
      return seqIdFromString(v);
    default:
      throw new SeqIdError(`invalid SeqId: got ${describe(v)}; ${ACCEPTED}`);
  }
}

export function formatSeqId(id: SeqId): string {
  return id.toString();
}

/**
 * The smallest id at `timestampMs` (worker 0, counter 0): every id stamped at or after that
 * millisecond is >= it and every earlier id is below it, so "ids at or after time T" is
 * `_seq >= seqIdFloorForTime(T)`. A time before SEQ_EPOCH_MS gives 0 (every id qualifies);
 * a fractional time is rounded up, to the first whole millisecond at or after it.
 */
export function seqIdFloorForTime(timestampMs: number): SeqId {
  if (!Number.isFinite(timestampMs)) {
    throw new SeqIdError(`seqIdFloorForTime: timestampMs must be a finite unix-ms time, got ${timestampMs}`);
  }
  const ms = Math.ceil(timestampMs);
  if (ms <= SEQ_EPOCH_MS) return MIN_SEQ_ID;
  if (ms > MAX_TIMESTAMP_MS) {
    throw new SeqIdError(
      `seqIdFloorForTime: timestampMs ${timestampMs} is after the last time the layout can hold ` +
        `(${MAX_TIMESTAMP_MS}, ${new Date(MAX_TIMESTAMP_MS).toISOString()})`,
    );
  }
  return composeUnchecked(ms, 0, 0);
}

function seqIdFromNumber(v: number): SeqId {
  const problem = Number.isNaN(v)
    ? 'NaN'
    : !Number.isFinite(v)
      ? `${v}, which is not finite`
      : !Number.isInteger(v)
        ? `${v}, which is not an integer`
        : v < 0
          ? `${v}, which is negative`
          : !Number.isSafeInteger(v)
            ? `${v}, which is above Number.MAX_SAFE_INTEGER (2^53-1) and may have lost precision ` +
              `(pass large ids as a bigint or a decimal string)`
            : undefined;
  if (problem !== undefined) throw new SeqIdError(`invalid SeqId: got number ${problem}; ${ACCEPTED}`);
  return BigInt(v) as SeqId;
}

function seqIdFromString(v: string): SeqId {
  if (v.length === 0) throw new SeqIdError(`invalid SeqId: got an empty string; ${ACCEPTED}`);
  if (!/^[0-9]+$/.test(v)) {
    throw new SeqIdError(
      `invalid SeqId: got string ${preview(v)}, which ${stringProblem(v)}: a string must be digits 0-9 ` +
        `only (no sign, spaces, decimal point, exponent or hex prefix); ${ACCEPTED}`,
    );
  }
  // Strip leading zeros before the length check so BigInt never parses a huge string.
  const digits = v.replace(/^0+(?=\d)/, '');
  if (digits.length > MAX_SEQ_ID_TEXT.length || BigInt(digits) > MAX_SEQ_ID) {
    throw new SeqIdError(
      `invalid SeqId: got string ${preview(v)}, which is above the maximum 2^63-1; ${ACCEPTED}`,
    );
  }
  return BigInt(digits) as SeqId;
}

function stringProblem(v: string): string {
  if (/^[+-]/.test(v)) return 'has a sign';
  if (/\s/.test(v)) return 'contains whitespace';
  if (/^0[xob]/i.test(v)) return 'has a base prefix';
  if (/^[0-9]*\.?[0-9]*e[+-]?[0-9]+$/i.test(v)) return 'has an exponent';
  if (/^[0-9]*\.[0-9]*$/.test(v)) return 'has a decimal point';
  return 'contains characters other than digits';
}

function checkSeqId(id: SeqId): void {
  if (!isSeqId(id)) asSeqId(id);
}

function checkIntegerIn(name: string, v: number, min: number, max: number, range: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new SeqIdError(`invalid SeqId part: ${name} must be an integer in ${range}, got ${describe(v)}`);
  }
}

function timestampRange(): string {
  const from = new Date(SEQ_EPOCH_MS).toISOString();
  const to = new Date(MAX_TIMESTAMP_MS).toISOString();
  return `${SEQ_EPOCH_MS}..${MAX_TIMESTAMP_MS} (unix ms, ${from}..${to})`;
}

function preview(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return `string ${preview(v)}`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof v} ${String(v)}`;
    case 'undefined':
      return 'undefined';
    default:
      return `a value of type ${typeof v}`;
  }
}
