// A pool of sequence ids from the sequencer. Every `_seq` and SNOWFLAKE_ID() value storage
// writes comes from here; `take` never returns an id at or below the floor it is given (the
// shard's highest `_seq`), so a shard's `_seq` keeps increasing across storage fail-overs even
// if the new owner's sequencer has a lower worker id. When the sequencer cannot be reached, `take`
// rejects with SequencerUnavailableError, which the applier treats as transient.
import type { SeqId, SeqIdRange } from '@seqline/seq';
import type { SequencerClient } from '@seqline/sequencer-client';

/**
 * The sequencer could not be asked for ids (down, restarting, its lease not renewed). Transient:
 * the apply batch waits and tries again; an op is never failed for it (its stored result would
 * turn a passing outage into a lost write that retries cannot fix).
 */
export class SequencerUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the sequencer did not hand out ids: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'SequencerUnavailableError';
  }
}

/**
 * Ids fetched longer ago than this are dropped unused (a gap in `_seq` is harmless), so the time
 * inside a row's `_seq` is the time of its write within about this much: STREAM tables expire
 * rows by it (docs/architecture.md §2).
 */
export const ID_MAX_AGE_MS = 1000;

export class IdPool {
  readonly #client: SequencerClient;
  readonly #block: number;
  readonly #clock: () => number;
  #ranges: { next: bigint; end: bigint; fetchedAtMs: number }[] = [];
  #refill: Promise<void> | undefined;

  constructor(client: SequencerClient, block: number, clock: () => number = Date.now) {
    this.#client = client;
    this.#block = block;
    this.#clock = clock;
  }

  /** `count` ascending ids, all above `floor`. */
  async take(count: number, floor: bigint): Promise<SeqId[]> {
    const now = this.#clock();
    while (this.#ranges.length > 0 && now - this.#ranges[0]!.fetchedAtMs > ID_MAX_AGE_MS) this.#ranges.shift();
    const out: SeqId[] = [];
    while (out.length < count) {
      const r = this.#ranges[0];
      if (r === undefined) {
        await this.#fill(count - out.length);
        continue;
      }
      if (r.next <= floor) r.next = floor + 1n < r.end ? floor + 1n : r.end;
      while (r.next < r.end && out.length < count) out.push(r.next++ as SeqId);
      if (r.next >= r.end) this.#ranges.shift();
    }
    return out;
  }

  #fill(atLeast: number): Promise<void> {
    this.#refill ??= this.#client
      .allocate(Math.min(65_536, Math.max(this.#block, atLeast)))
      .then(
        ({ ranges }) => this.#add(ranges),
        (err: unknown) => {
          throw new SequencerUnavailableError(err);
        },
      )
      .finally(() => {
        this.#refill = undefined;
      });
    return this.#refill;
  }

  #add(ranges: readonly SeqIdRange[]): void {
    const fetchedAtMs = this.#clock();
    for (const r of ranges) this.#ranges.push({ next: r.first, end: r.first + BigInt(r.count), fetchedAtMs });
  }
}
