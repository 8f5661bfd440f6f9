// Exact accounting of one benchmark phase: the writes it made (change n is written by user
// n % users, so it must reach every subscriber of that user and no one else) and, per
// subscriber, the time each of its changes arrived. A subscriber is one WebSocket subscription
// or one polling client. Typed arrays, so recording a delivery allocates nothing.
import type { SqlClient } from '../lib/http.ts';
import { openLoop, percentile } from '../lib/stats.ts';

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly count: number;
}

export class PhaseLog {
  /** The first change number of the phase, a multiple of `users`. */
  readonly base: number;
  readonly total: number;
  /** performance.now() when each write was sent and when its HTTP response arrived (NaN: not yet, or failed). */
  readonly sentAt: Float64Array;
  readonly ackedAt: Float64Array;
  readonly #users: number;
  readonly #userOf: (subscriber: number) => number;
  readonly #perUser: number;
  readonly #subscribersOfUser: Int32Array;
  /** Per subscriber, one slot per change of its user: when it arrived (NaN: not yet). */
  readonly #received: Float64Array;
  /** Per subscriber, the first slot not yet received (polling resumes from there). */
  readonly #cursor: Int32Array;
  delivered = 0;
  duplicates = 0;
  /** Deliveries of another user's change: must stay 0. */
  foreign = 0;
  firstReceivedAt = Number.NaN;
  lastReceivedAt = Number.NaN;

  constructor(base: number, total: number, users: number, subscribers: number, userOf: (subscriber: number) => number) {
    if (base % users !== 0) throw new RangeError('a phase starts at a multiple of the user count');
    this.base = base;
    this.total = total;
    this.#users = users;
    this.#userOf = userOf;
    this.#perUser = Math.ceil(total / users);
    this.sentAt = new Float64Array(total).fill(Number.NaN);
    this.ackedAt = new Float64Array(total).fill(Number.NaN);
    this.#subscribersOfUser = new Int32Array(users);
    for (let g = 0; g < subscribers; g++) this.#subscribersOfUser[userOf(g)]!++;
    this.#received = new Float64Array(subscribers * this.#perUser).fill(Number.NaN);
    this.#cursor = new Int32Array(subscribers);
  }

  /** The change number after the phase's last, rounded up so the next phase can start there. */
  get end(): number {
    return this.base + this.#perUser * this.#users;
  }

  /** The phase's exact counts (the writes' failures are counted by the writer). */
  counts(failedWrites: number): { offered: number; acked: number; failedWrites: number; expected: number; delivered: number; duplicates: number; foreign: number } {
    return { offered: this.total, acked: this.acked, failedWrites, expected: this.expected, delivered: this.delivered, duplicates: this.duplicates, foreign: this.foreign };
  }

  holds(n: number): boolean {
    return n >= this.base && n < this.base + this.total;
  }

  /** Subscriber `g` got change `n` at `at`. With `repeatsExpected` (polling re-reads rows), a repeat is not a duplicate. */
  record(g: number, n: number, at: number, repeatsExpected = false): void {
    const user = this.#userOf(g);
    if (g >= this.#cursor.length || n % this.#users !== user) {
      this.foreign++;
      return;
    }
    const slot = g * this.#perUser + Math.floor((n - this.base) / this.#users);
    if (!Number.isNaN(this.#received[slot]!)) {
      if (!repeatsExpected) this.duplicates++;
      return;
    }
    this.#received[slot] = at;
    this.delivered++;
    if (!(at <= this.lastReceivedAt)) this.lastReceivedAt = at;
    if (!(at >= this.firstReceivedAt)) this.firstReceivedAt = at;
  }

  /** The smallest change number subscriber `g` has not received yet (all before it arrived). */
  firstMissing(g: number): number {
    const from = g * this.#perUser;
    let c = this.#cursor[g]!;
    while (c < this.#perUser && !Number.isNaN(this.#received[from + c]!)) c++;
    this.#cursor[g] = c;
    return this.base + c * this.#users + this.#userOf(g);
  }

  /** Writes acknowledged so far. */
  get acked(): number {
    let n = 0;
    for (const t of this.ackedAt) if (!Number.isNaN(t)) n++;
    return n;
  }

  /** When the last acknowledgement arrived (NaN: none did). */
  get lastAckedAt(): number {
    let last = Number.NaN;
    for (const t of this.ackedAt) if (!Number.isNaN(t) && !(t <= last)) last = t;
    return last;
  }

  /** Deliveries owed: each acknowledged change to every subscriber of its user. */
  get expected(): number {
    let n = 0;
    for (let i = 0; i < this.total; i++) if (!Number.isNaN(this.ackedAt[i]!)) n += this.#subscribersOfUser[(this.base + i) % this.#users]!;
    return n;
  }

  /** Request to acknowledgement, over the acknowledged writes. */
  writeLatency(): Latency {
    const out: number[] = [];
    for (let i = 0; i < this.total; i++) if (!Number.isNaN(this.ackedAt[i]!)) out.push(this.ackedAt[i]! - this.sentAt[i]!);
    out.sort((a, b) => a - b);
    return { p50: percentile(out, 50), p99: percentile(out, 99), count: out.length };
  }

  /** Arrival minus acknowledgement (or minus the request's start), over every delivery. */
  latency(from: 'ack' | 'sent'): Latency {
    const origin = from === 'ack' ? this.ackedAt : this.sentAt;
    const out: number[] = [];
    const subscribers = this.#received.length / this.#perUser;
    for (let g = 0; g < subscribers; g++) {
      const user = this.#userOf(g);
      for (let c = 0; c < this.#perUser; c++) {
        const at = this.#received[g * this.#perUser + c]!;
        const t0 = origin[c * this.#users + user] ?? Number.NaN;
        if (!Number.isNaN(at) && !Number.isNaN(t0)) out.push(at - t0);
      }
    }
    out.sort((a, b) => a - b);
    return { p50: percentile(out, 50), p99: percentile(out, 99), count: out.length };
  }
}

/** Records a delivery in the newest of `logs` whose writes came before it; false when none wrote change `n` (a stray). */
export function routeDelivery(logs: readonly PhaseLog[], g: number, n: number, at: number): boolean {
  for (let i = logs.length - 1; i >= 0; i--) {
    const log = logs[i]!;
    if (n < log.base) continue;
    if (!log.holds(n)) return false;
    log.record(g, n, at);
    return true;
  }
  return false;
}

/** Change `n` inserted into bench.messages through the gateway as the holder of `token`; resolves true once acknowledged. */
export async function insertMessage(http: SqlClient, token: string, n: number): Promise<boolean> {
  const r = await http.sql(token, 'INSERT INTO bench.messages (body, n) VALUES ($1, $2)', [`message ${n}`, n]).catch(() => undefined);
  return r?.status === 200;
}

/**
 * Writes `log`'s change numbers at `rate` per second for `ms` (open loop, each by `write`, which
 * resolves true once acknowledged), recording when each was sent and acknowledged; resolves with
 * the number of failed writes.
 */
export async function writeMessages(log: PhaseLog, write: (n: number) => Promise<boolean>, rate: number, ms: number): Promise<number> {
  const result = await openLoop(async (i) => {
    log.sentAt[i] = performance.now();
    if (!(await write(log.base + i))) return false;
    log.ackedAt[i] = performance.now();
    return true;
  }, rate, ms);
  return result.failed;
}
