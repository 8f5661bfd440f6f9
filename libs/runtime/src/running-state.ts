// RunningState: owns a long-running component's abort signal, its abortable sleeps, the
// timers it sets (all cleared on stop) and capped exponential backoff with jitter. The clock,
// timers and randomness are injected so tests can assert exact delays (after Zero's
// services/running-state.ts).
import { AbortedError } from './errors.js';

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Fraction of each delay that is random, 0..1 (default 0.5). */
  readonly jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 10_000, jitter: 0.5 };

/** Delay before retry number `attempt` (0-based): min(max, initial·2^attempt), of which `jitter` is random. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  const jitter = options.jitter ?? 0.5;
  return Math.round(base * (1 - jitter) + base * jitter * random());
}

/** Sleeps `ms`; rejects with AbortedError if `signal` aborts first. Never leaves a listener behind. */
export function sleep(ms: number, signal?: AbortSignal, timers: Timers = realTimers): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError('sleep aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      reject(new AbortedError('sleep aborted', { cause: signal?.reason }));
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class RunningState {
  readonly id: string;
  readonly #controller = new AbortController();
  readonly #timers: Timers;
  readonly #random: () => number;
  readonly #backoff: BackoffOptions;
  readonly #pending = new Set<unknown>();
  #attempt = 0;

  constructor(id: string, options: { timers?: Timers; random?: () => number; backoff?: BackoffOptions } = {}) {
    this.id = id;
    this.#timers = options.timers ?? realTimers;
    this.#random = options.random ?? Math.random;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  shouldRun(): boolean {
    return !this.#controller.signal.aborted;
  }

  /** Stops: aborts the signal (waking every sleep) and clears every timer set through this state. */
  stop(reason?: unknown): void {
    if (!this.shouldRun()) return;
    for (const handle of this.#pending) this.#timers.clearTimeout(handle);
    this.#pending.clear();
    this.#controller.abort(reason ?? new AbortedError(`${this.id} stopped`));
  }

  /** Resolves true after `ms`, or false as soon as the state is stopped. */
  async sleep(ms: number): Promise<boolean> {
    try {
      await sleep(ms, this.signal, this.#timers);
      return true;
    } catch (err) {
      if (err instanceof AbortedError) return false;
      throw err;
    }
  }

  /** The delay the next `backoff()` will sleep. */
  nextBackoffMs(): number {
    return backoffDelay(this.#attempt, this.#backoff, this.#random);
  }

  /** Sleeps the next capped, jittered backoff delay; false if stopped meanwhile. */
  async backoff(): Promise<boolean> {
    const ms = this.nextBackoffMs();
    this.#attempt++;
    return this.sleep(ms);
  }

  resetBackoff(): void {
    this.#attempt = 0;
  }

  /** A timer that is cleared on stop. Returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void {
    if (!this.shouldRun()) return () => {};
    const handle = this.#timers.setTimeout(() => {
      this.#pending.delete(handle);
      fn();
    }, ms);
    this.#pending.add(handle);
    return () => {
      this.#pending.delete(handle);
      this.#timers.clearTimeout(handle);
    };
  }
}
