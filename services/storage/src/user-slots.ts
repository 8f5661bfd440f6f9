// Per-user concurrency limits of one storage replica (issue 10): a user may run at most so many
// SELECTs, and stream at most so many snapshots and catch-ups, at a time, so one user cannot
// hold the replica's PostgreSQL pool while everyone else waits. Over the limit a call is
// refused at once with RATE_LIMIT_EXCEEDED (never queued); a slot is given back when its call
// ends, fails or is cancelled.
import { ProtocolError } from '@seqline/protocol';

export class UserSlots {
  readonly #max: number;
  /** What a slot is for, in the refusal's message ("queries", "snapshots and catch-ups"). */
  readonly #what: string;
  readonly #held = new Map<string, number>();

  constructor(max: number, what: string) {
    this.#max = max;
    this.#what = what;
  }

  /** Slots `userId` holds now. */
  held(userId: string): number {
    return this.#held.get(userId) ?? 0;
  }

  /** Takes a slot for `userId`, or throws RATE_LIMIT_EXCEEDED; returns the slot's release (idempotent). */
  take(userId: string): () => void {
    const n = this.held(userId);
    if (n >= this.#max) throw new ProtocolError('RATE_LIMIT_EXCEEDED', `at most ${this.#max} ${this.#what} at a time per user; retry when one has finished`);
    this.#held.set(userId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.held(userId) - 1;
      if (left > 0) this.#held.set(userId, left);
      else this.#held.delete(userId);
    };
  }

  /** Runs `fn` holding a slot of `userId`. */
  async run<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    const release = this.take(userId);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
