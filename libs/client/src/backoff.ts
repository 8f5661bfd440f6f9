// Reconnect delays: exponential from `baseMs`, capped at `capMs`, scaled by a jitter in
// [0.5, 1) so clients dropped together do not come back together.
/** Reconnect delays: attempt n waits `min(capMs, baseMs · 2^n)` scaled by a jitter in [0.5, 1). */
export interface BackoffOptions {
  /** The first delay, ms. */
  readonly baseMs: number;
  /** The longest delay, ms. */
  readonly capMs: number;
}

/** 250 ms doubling up to 30 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, capMs: 30_000 };

/** The wait before attempt `attempt + 1`; `random` returns a number in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() / 2));
}
