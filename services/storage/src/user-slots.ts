// Per-user concurrency limits of one storage replica (issue 10): a user may run at most so many
// SELECTs, and stream at most so many snapshots and catch-ups, at a time, so one user cannot
// hold the replica's PostgreSQL pool while everyone else waits. A call over the limit waits for
// a slot in a short, bounded queue of its user (a client opening a few subscriptions at once
// is served): at most `maxWaiting` calls per user, each at most `waitMs`, first come first
// served. A call that finds the queue full, or waits too long, is refused with
// RATE_LIMIT_EXCEEDED. Waiting holds no connection; a slot is given back when its call ends,
// fails or is cancelled.
import { ProtocolError } from '@seqline/protocol';

export interface SlotLimits {
  /** Calls one user runs at a time. */
  readonly max: number;
  /** Calls one user may have waiting for a slot (0: refused at once). */
  readonly maxWaiting: number;
  /** How long a call waits for a slot at most. */
  readonly waitMs: number;
}

interface Queue {
  held: number;
  readonly waiting: (() => void)[];
}

export class UserSlots {
  readonly #limits: SlotLimits;
  /** What a slot is for, in the refusal's message ("queries", "snapshots and catch-ups"). */
  readonly #what: string;
  readonly #users = new Map<string, Queue>();

  constructor(limits: SlotLimits, what: string) {
    this.#limits = limits;
    this.#what = what;
  }

  /** Slots `userId` holds now. */
  held(userId: string): number {
    return this.#users.get(userId)?.held ?? 0;
  }

  /** Takes a slot for `userId` (waiting in its queue if need be), or throws RATE_LIMIT_EXCEEDED; resolves to the slot's release (idempotent). */
  async take(userId: string): Promise<() => void> {
    const queue = this.#users.get(userId) ?? { held: 0, waiting: [] };
    this.#users.set(userId, queue);
    if (queue.held < this.#limits.max) queue.held++;
    else await this.#wait(queue); // resolves with the slot a release handed over
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = queue.waiting.shift();
      if (next !== undefined) return next(); // the slot passes on: no newcomer can take it meanwhile
      queue.held--;
      if (queue.held === 0) this.#users.delete(userId);
    };
  }

  /** Runs `fn` holding a slot of `userId`. */
  async run<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.take(userId);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Waits until a release hands this call the slot it frees. */
  #wait(queue: Queue): Promise<void> {
    const refusal = (): ProtocolError => new ProtocolError('RATE_LIMIT_EXCEEDED', `at most ${this.#limits.max} ${this.#what} at a time per user; retry when one has finished`);
    if (queue.waiting.length >= this.#limits.maxWaiting) return Promise.reject(refusal());
    return new Promise((resolve, reject) => {
      const turn = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        queue.waiting.splice(queue.waiting.indexOf(turn), 1);
        reject(refusal());
      }, this.#limits.waitMs);
      queue.waiting.push(turn);
    });
  }
}
