// A pool of sequence ids from the sequencer. Every `_seq` and SNOWFLAKE_ID() value storage
// writes comes from here; `take` never returns an id at or below the floor it is given (the
// shard's highest `_seq`), so a shard's `_seq` keeps increasing across storage fail-overs even
// if the new owner's sequencer has a lower worker id. When the sequencer cannot be reached, `take`
// rejects with SequencerUnavailableError, which the applier treats as transient.
import type { SeqId, SeqIdRange } from '@seqline/seq';
import type { SequencerClient } from '@seqline/sequencer';

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

export class IdPool {
  readonly #client: SequencerClient;
  readonly #block: number;
  #ranges: { next: bigint; end: bigint }[] = [];
  #refill: Promise<void> | undefined;

  constructor(client: SequencerClient, block: number) {
    this.#client = client;
    this.#block = block;
  }

  /** `count` ascending ids, all above `floor`. */
  async take(count: number, floor: bigint): Promise<SeqId[]> {
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
    for (const r of ranges) this.#ranges.push({ next: r.first, end: r.first + BigInt(r.count) });
  }
}
