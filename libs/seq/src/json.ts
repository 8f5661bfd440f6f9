// Lossless JSON for 63-bit integers. SeqIds (`_seq`, `from`, `prev_seq`) travel in JSON as
// bare integer literals, which JSON.parse silently rounds above 2^53 and JSON.stringify
// refuses as bigints. These two functions are JSON.parse / JSON.stringify with one change:
// integers outside the safe range are bigints in memory and exact digits on the wire.
//
// Parsing: big integer literals have at least 16 digits, so text with no run of 16 digits
// goes straight to the native JSON.parse (same result, fastest path). Otherwise the strict
// parser of json-parser.ts reads it.
//
// Stringifying: the native JSON.stringify with a replacer that turns each bigint into a
// marker string "<marker><digits>"; the quoted markers are then replaced by the bare digits.
// This keeps every JSON.stringify rule (toJSON, `space`, omitted undefined, cycle errors).
// A marker is only used if it occurs in the output exactly once per bigint: when the data
// itself contains the marker text, the call is repeated with a marker absent from the
// first output, which therefore cannot collide.
import { parseJsonExact } from './json-parser.js';

const MAY_HOLD_BIG_INTEGER = /\d{16}/;
const MARKER_PREFIX = '__seqline_bigint_';
const MAX_ATTEMPTS = 3;

/**
 * JSON.parse, except that an integer literal (no fraction, no exponent) outside the
 * safe-integer range becomes a bigint with exactly its digits. Throws SyntaxError on
 * invalid JSON.
 */
export function parseJsonLossless(text: string): unknown {
  if (!MAY_HOLD_BIG_INTEGER.test(text)) return JSON.parse(text) as unknown;
  return parseJsonExact(text);
}

/**
 * JSON.stringify, except that bigints (also boxed ones) are written as bare integer literals
 * with their exact digits. Throws TypeError when `value` itself has no JSON form (undefined,
 * a function, a symbol), where JSON.stringify would return undefined.
 */
export function stringifyJsonLossless(value: unknown, space?: string | number): string {
  let marker = markerFor(0);
  for (let attempt = 1; ; attempt++) {
    const { text, bigints } = stringifyMarked(value, space, marker);
    if (bigints === 0) return text;
    if (countOccurrences(text, marker) === bigints) return unmark(text, marker);
    if (attempt === MAX_ATTEMPTS) {
      // Only reachable when toJSON methods return different data on each call.
      throw new Error('stringifyJsonLossless: could not find a marker absent from the data');
    }
    marker = markerAbsentFrom(text);
  }
}

function stringifyMarked(
  value: unknown,
  space: string | number | undefined,
  marker: string,
): { text: string; bigints: number } {
  let bigints = 0;
  const replacer = (_key: string, v: unknown): unknown => {
    if (typeof v === 'bigint') {
      bigints++;
      return marker + v.toString();
    }
    if (v instanceof BigInt) {
      bigints++;
      return marker + v.toString();
    }
    return v;
  };
  const text = JSON.stringify(value, replacer, space) as string | undefined;
  if (text === undefined) {
    throw new TypeError(`stringifyJsonLossless: a value of type ${typeof value} has no JSON form`);
  }
  return { text, bigints };
}

function markerFor(n: number): string {
  return `${MARKER_PREFIX}${n}_`;
}

function markerAbsentFrom(text: string): string {
  for (let n = 1; ; n++) {
    const marker = markerFor(n);
    if (!text.includes(marker)) return marker;
  }
}

function countOccurrences(text: string, marker: string): number {
  let count = 0;
  for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + marker.length)) count++;
  return count;
}

/** Replaces each `"<marker><digits>"` by `<digits>`. The marker is [a-z0-9_] only. */
function unmark(text: string, marker: string): string {
  return text.replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}
