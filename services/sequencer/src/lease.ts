// Worker-id leases. A running sequencer holds exactly one worker id (0..1023), recorded as
// key `worker.<id>` in a JetStream key-value bucket whose entries expire `ttl` after their last
// write. Taking a lease is `create` (fails if a live entry exists); renewing is `update` at
// the revision we last wrote (fails if anyone else wrote since); releasing deletes at that
// revision. So two live sequencers can never hold the same id: a second `create` fails while
// the first keeps renewing, and a holder that stops renewing stops issuing ids (`validUntil`)
// before its entry can expire and be taken by someone else.
import type { KV } from '@nats-io/kv';
import { MAX_WORKER_ID } from '@seqline/seq';
import { LeaseConflictError, LeaseLostError, NoFreeWorkerIdError } from './errors.js';

export interface LeaseHolder {
  readonly instance: string;
  readonly acquiredAt: string;
}

const key = (workerId: number): string => `worker.${workerId}`;
const encode = (holder: LeaseHolder): Uint8Array => new TextEncoder().encode(JSON.stringify(holder));
const decoder = new TextDecoder();

export class WorkerLease {
  readonly workerId: number;
  readonly #kv: KV;
  readonly #ttlMs: number;
  readonly #holder: LeaseHolder;
  readonly #monotonic: () => number;
  #revision: number;
  #renewedAt: number;
  #lost: LeaseLostError | undefined;

  private constructor(kv: KV, workerId: number, revision: number, holder: LeaseHolder, ttlMs: number, monotonic: () => number) {
    this.#kv = kv;
    this.workerId = workerId;
    this.#revision = revision;
    this.#holder = holder;
    this.#ttlMs = ttlMs;
    this.#monotonic = monotonic;
    this.#renewedAt = monotonic();
  }

  /** Takes `workerId`, or throws LeaseConflictError naming the live holder. */
  static async acquire(kv: KV, workerId: number, options: LeaseOptions): Promise<WorkerLease> {
    const holder: LeaseHolder = { instance: options.instance, acquiredAt: new Date().toISOString() };
    try {
      const revision = await kv.create(key(workerId), encode(holder));
      return new WorkerLease(kv, workerId, revision, holder, options.ttlMs, options.monotonic);
    } catch (err) {
      const current = await kv.get(key(workerId));
      if (current === null || current.operation !== 'PUT') throw err;
      const held = JSON.parse(new TextDecoder().decode(current.value)) as LeaseHolder;
      throw new LeaseConflictError(
        `worker id ${workerId} is already leased by ${held.instance} (since ${held.acquiredAt}, last renewed ${current.created.toISOString()}); ` +
          `give each sequencer its own SEQLINE_SEQUENCER_WORKER_ID, or leave it unset to lease a free one. ` +
          `If that holder is dead, its lease expires ${options.ttlMs} ms after its last renewal.`,
      );
    }
  }

  /** Takes the first free worker id, starting at a random one. */
  static async acquireAny(kv: KV, options: LeaseOptions & { random?: () => number }): Promise<WorkerLease> {
    const start = Math.floor((options.random ?? Math.random)() * (MAX_WORKER_ID + 1));
    for (let i = 0; i <= MAX_WORKER_ID; i++) {
      const workerId = (start + i) % (MAX_WORKER_ID + 1);
      try {
        return await WorkerLease.acquire(kv, workerId, options);
      } catch (err) {
        if (!(err instanceof LeaseConflictError)) throw err;
      }
    }
    throw new NoFreeWorkerIdError(`all ${MAX_WORKER_ID + 1} worker ids are leased by live sequencers`);
  }

  /** Ids may be issued only while this is true: a margin of a third of the TTL before expiry. */
  isValid(): boolean {
    return this.#lost === undefined && this.#monotonic() - this.#renewedAt < (this.#ttlMs * 2) / 3;
  }

  get lost(): LeaseLostError | undefined {
    return this.#lost;
  }

  /**
   * Renews at our last revision. A revision conflict means someone else took it (lost for good),
   * unless the entry still holds our own holder record: then it was our write.
   */
  async renew(): Promise<void> {
    if (this.#lost) throw this.#lost;
    const started = this.#monotonic();
    try {
      this.#revision = await this.#kv.update(key(this.workerId), encode(this.#holder), this.#revision);
      this.#renewedAt = started;
    } catch (err) {
      const current = await this.#kv.get(key(this.workerId)).catch(() => undefined);
      if (current !== undefined && current?.revision !== this.#revision) {
        // Our own earlier renewal may have been written with its answer lost (the bucket's
        // leader changed under it): the entry then still names us, at a newer revision.
        if (current !== null && current.operation === 'PUT' && current.string() === decoder.decode(encode(this.#holder))) {
          this.#revision = current.revision;
          this.#renewedAt = started;
          return;
        }
        this.#lost = new LeaseLostError(`lease on worker id ${this.workerId} was taken over or expired`, { cause: err });
        throw this.#lost;
      }
      throw err;
    }
  }

  /** Gives the id back (only if still ours). Idempotent; errors are the caller's to log. */
  async release(): Promise<void> {
    if (this.#lost) return;
    this.#lost = new LeaseLostError(`lease on worker id ${this.workerId} was released`);
    await this.#kv.delete(key(this.workerId), { previousSeq: this.#revision });
  }
}

export interface LeaseOptions {
  readonly instance: string;
  readonly ttlMs: number;
  /** Monotonic milliseconds (performance.now), injected for tests. */
  readonly monotonic: () => number;
}
