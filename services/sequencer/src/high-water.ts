// The durable high-water mark. Before an id with timestamp T leaves this process, a ceiling
// C > T is stored in the key-value bucket (`hwm.<workerId>`): "this worker issues no id at or
// above C without first storing a higher C". On start the generator's floor is the highest
// ceiling of any worker, so after a restart, with the clock set back or not, every new id is
// above every id issued before. Writes are rare: the ceiling is pushed `reserveMs` ahead, in
// the background once half of the reserve is used, and awaited only if issuing catches up.
import type { KV } from '@nats-io/kv';
import { composeSeqId, type SeqId } from '@seqline/seq';

const PREFIX = 'hwm.';

export class HighWaterMark {
  readonly #kv: KV;
  readonly #key: string;
  readonly #reserveMs: number;
  #ceilingMs: number;
  #pending: Promise<void> | undefined;

  private constructor(kv: KV, workerId: number, reserveMs: number, ceilingMs: number) {
    this.#kv = kv;
    this.#key = `${PREFIX}${workerId}`;
    this.#reserveMs = reserveMs;
    this.#ceilingMs = ceilingMs;
  }

  /**
   * Reads every worker's ceiling, stores this worker's first one (`max(now, highest) + reserve`),
   * and returns the floor for the generator: the largest id any worker could have issued.
   */
  static async open(kv: KV, workerId: number, reserveMs: number, nowMs: number): Promise<{ hwm: HighWaterMark; floor: SeqId | undefined }> {
    const highest = await readHighestCeiling(kv);
    const hwm = new HighWaterMark(kv, workerId, reserveMs, 0);
    await hwm.#store(Math.max(nowMs, highest ?? 0) + reserveMs);
    // Every id issued before had a timestamp below `highest`, so the largest possible one is
    // the last id of the millisecond before it (worker 1023, counter 4095).
    const floor = highest === undefined ? undefined : ((composeSeqId({ timestampMs: highest, workerId: 0, counter: 0 }) - 1n) as SeqId);
    return { hwm, floor };
  }

  get ceilingMs(): number {
    return this.#ceilingMs;
  }

  /**
   * Called after ids up to timestamp `lastMs` were minted and before they are handed out.
   * Resolves at once while they are below the stored ceiling (starting a background extension
   * when half of the reserve is used); otherwise waits until a higher ceiling is stored.
   */
  async cover(lastMs: number): Promise<void> {
    while (lastMs >= this.#ceilingMs) await this.#extend(lastMs);
    if (this.#ceilingMs - lastMs < this.#reserveMs / 2 && this.#pending === undefined) {
      this.#extend(lastMs).catch(() => {
        // A failed background extension is retried by the next call; if storage stays down,
        // `cover` blocks issuing once the reserve is used up, which is the safe outcome.
      });
    }
  }

  #extend(lastMs: number): Promise<void> {
    this.#pending ??= this.#store(lastMs + this.#reserveMs).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #store(ceilingMs: number): Promise<void> {
    if (ceilingMs <= this.#ceilingMs) return;
    await this.#kv.put(this.#key, new TextEncoder().encode(String(ceilingMs)));
    this.#ceilingMs = Math.max(this.#ceilingMs, ceilingMs);
  }
}

async function readHighestCeiling(kv: KV): Promise<number | undefined> {
  let highest: number | undefined;
  const keys = await kv.keys(`${PREFIX}>`);
  for await (const k of keys) {
    const entry = await kv.get(k);
    if (entry === null || entry.operation !== 'PUT') continue;
    const ms = Number(new TextDecoder().decode(entry.value));
    if (Number.isSafeInteger(ms) && (highest === undefined || ms > highest)) highest = ms;
  }
  return highest;
}
