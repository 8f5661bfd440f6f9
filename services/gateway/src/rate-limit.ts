// Token buckets keyed by a string (a user id, a client IP), with an injected clock.
//
// Each key has a bucket of `capacity` tokens that refills continuously; a request takes one
// token or is refused with the time until one is back. The bucket is kept as one number, the
// time it is full again (the GCRA formulation), so refills are exact integer arithmetic for
// rates like 100/s or 20/min instead of accumulating float error. A key absent from
// the map is a full bucket, so memory is bounded two ways without changing any answer:
//   - idle keys (buckets that would be full again by now) are dropped, oldest first, a few
//     on every call: amortized O(1), no timer to clear;
//   - past `maxKeys`, the least recently used key is dropped even if not yet full. That
//     one is the only lossy case (it forgets a partly drained bucket) and only happens
//     under a flood of distinct keys, when forgetting the oldest is the right trade.
// The Map's insertion order is the recency order: a touched key is deleted and re-inserted.

export interface RateLimitOptions {
  /** Largest burst: tokens a full bucket holds. */
  readonly capacity: number;
  /** Refill rate: `tokens` every `periodMs` (e.g. 100 per 1000 ms, 20 per 60 000 ms). */
  readonly refill: { readonly tokens: number; readonly periodMs: number };
  /** Most keys kept at once (default 100 000). */
  readonly maxKeys?: number;
  /** Milliseconds since some fixed point; monotonic in production. */
  readonly now: () => number;
}

export type RateDecision = { readonly ok: true; readonly remaining: number } | { readonly ok: false; readonly retryAfterMs: number };

/** Keys examined per call for idleness (beyond the one being touched). */
const SWEEP_PER_CALL = 2;

export class RateLimiter {
  /** Milliseconds one token takes to come back. */
  readonly #interval: number;
  /** How far ahead of now a key's schedule may run: a full bucket's worth of intervals. */
  readonly #window: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** Per key, the time at which its bucket is full again (GCRA's "theoretical arrival time"). */
  readonly #fullAt = new Map<string, number>();

  constructor(options: RateLimitOptions) {
    const { capacity, refill } = options;
    if (!(capacity >= 1) || !(refill.tokens > 0) || !(refill.periodMs > 0)) throw new RangeError('capacity must be ≥ 1 and the refill rate positive');
    this.#interval = refill.periodMs / refill.tokens;
    this.#window = capacity * this.#interval;
    this.#maxKeys = Math.max(1, options.maxKeys ?? 100_000);
    this.#now = options.now;
  }

  /** Takes one token for `key` if there is one. */
  take(key: string): RateDecision {
    const now = this.#now();
    this.#sweep(now);
    const fullAt = Math.max(this.#fullAt.get(key) ?? now, now);
    const next = fullAt + this.#interval;
    this.#fullAt.delete(key);
    if (next - now > this.#window) {
      this.#fullAt.set(key, fullAt);
      return { ok: false, retryAfterMs: Math.ceil(next - now - this.#window) };
    }
    this.#fullAt.set(key, next);
    if (this.#fullAt.size > this.#maxKeys) this.#evictOldest();
    return { ok: true, remaining: Math.floor((this.#window - (next - now)) / this.#interval) };
  }

  /** Forgets `key` (a full bucket again). */
  reset(key: string): void {
    this.#fullAt.delete(key);
  }

  /** Keys currently held (for tests and metrics). */
  get size(): number {
    return this.#fullAt.size;
  }

  /** Drops up to SWEEP_PER_CALL least recently used keys whose buckets are full again. */
  #sweep(now: number): void {
    let examined = 0;
    for (const [key, fullAt] of this.#fullAt) {
      if (examined++ >= SWEEP_PER_CALL || fullAt > now) return;
      this.#fullAt.delete(key);
    }
  }

  #evictOldest(): void {
    const oldest = this.#fullAt.keys().next();
    if (oldest.done !== true) this.#fullAt.delete(oldest.value);
  }
}
