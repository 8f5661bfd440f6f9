// LIKE and ILIKE in linear-ish time (issue 10): a pattern is never compiled to a backtracking
// regular expression, where `'%a%a%a…%b'` takes exponential time. PostgreSQL's semantics:
// `%` matches any run of characters (none included), `_` exactly one character (a code point),
// a backslash makes the next character literal, and a pattern must not end with the backslash.
//
// The pattern is cut at its `%`s into segments of literal characters and `_`s. The first segment
// must match at the start, the last at the end, and the ones between in order, each at its
// leftmost place after the previous one: taking the leftmost match always leaves the most room
// for the rest, so no choice is ever undone. Finding a segment of k elements in n characters
// takes at most n·k comparisons, so a whole match is O(n·m) for a pattern of m elements.
// Every comparison is charged to the caller's meter (see filter-budget.ts).
import { SqlError } from './errors.js';
import { UNMETERED, type Meter } from './filter-budget.js';

/** One element of a segment: a code point to equal, or ANY (`_`). */
const ANY = -1;
type Segment = readonly number[];

export interface LikePattern {
  /** Whether `text` matches (both already case-folded by the caller for ILIKE). */
  matches(text: string, meter?: Meter): boolean;
}

/** Compiles a LIKE pattern (default escape `\`). */
export function compileLike(pattern: string): LikePattern {
  const segments = splitPattern(pattern);
  return { matches: (text, meter = UNMETERED) => matchSegments(segments, codePoints(text), meter) };
}

/** The pattern's segments between its `%`s, in order: one segment when it has no `%`. */
function splitPattern(pattern: string): Segment[] {
  const segments: number[][] = [[]];
  const chars = [...codePoints(pattern)];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === 0x5c /* \ */) {
      const next = chars[++i];
      if (next === undefined) throw new SqlError('INVALID_SQL', 'a LIKE pattern must not end with the escape character \\');
      segments.at(-1)!.push(next);
    } else if (c === 0x25 /* % */) segments.push([]);
    else if (c === 0x5f /* _ */) segments.at(-1)!.push(ANY);
    else segments.at(-1)!.push(c);
  }
  return segments;
}

/** The code points of `s` (an indexed loop: iterating a string is several times slower). */
function codePoints(s: string): Uint32Array {
  const out = new Uint32Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i)!;
    out[n++] = c;
    if (c > 0xffff) i++;
  }
  return out.subarray(0, n);
}

function matchSegments(segments: readonly Segment[], text: Uint32Array, meter: Meter): boolean {
  const first = segments[0]!;
  if (segments.length === 1) return first.length === text.length && matchesAt(first, text, 0, meter);
  const last = segments.at(-1)!;
  // The first segment is anchored at the start, the last at the end; they must not overlap.
  if (first.length + last.length > text.length) return false;
  if (!matchesAt(first, text, 0, meter) || !matchesAt(last, text, text.length - last.length, meter)) return false;
  let from = first.length;
  const end = text.length - last.length;
  for (let s = 1; s < segments.length - 1; s++) {
    const at = leftmost(segments[s]!, text, from, end, meter);
    if (at < 0) return false;
    from = at + segments[s]!.length;
  }
  return true;
}

/** Whether `segment` matches `text` at `at` (which leaves room for it). */
function matchesAt(segment: Segment, text: Uint32Array, at: number, meter: Meter): boolean {
  let j = 0;
  while (j < segment.length && (segment[j] === ANY || segment[j] === text[at + j])) j++;
  meter.spend(j + 1);
  return j === segment.length;
}

/** The leftmost position in [from, end - length] where `segment` matches, or -1. */
function leftmost(segment: Segment, text: Uint32Array, from: number, end: number, meter: Meter): number {
  for (let at = from; at + segment.length <= end; at++) {
    if (matchesAt(segment, text, at, meter)) return at;
  }
  return -1;
}
