// The shard feed (docs/architecture.md §3): each shard a storage replica owns has a durable pull
// consumer delivering its ops in log order into a queue; the apply loop takes whatever has
// arrived, from every shard at once (rotating which shard goes first), as one batch. A
// shard's watermark (last applied stream sequence) and highest `_seq` live here, in memory:
// only the owner of the shard's epoch writes them, and every transaction checks that epoch.
//
// A consumer loop that ends while the replica runs (the consumer was deleted, the stream is
// gone, the client gave up) would leave its shard unapplied with nothing said: it records a
// FeedFailedError, wakes the apply loop, and the loop fails the service (storage.ts).
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { BusNames } from '@seqline/bus';
import { busPb } from '@seqline/proto';
import { backoffDelay, DEFAULT_BACKOFF, type Logger, type RunningState } from '@seqline/runtime';

/** Lifetime of one pull request of the ops consumers (see ShardFeeds.add). */
export const PULL_EXPIRES_MS = 4000;
/** How long a shard's consumer may take to be recreated after lost deliveries before the service fails. */
export const RECONSUME_DEADLINE_MS = 120_000;

/** An op taken for a batch. */
export interface Pending {
  readonly shard: number;
  readonly msg: JsMsg;
  readonly op: busPb.Op;
}

/** A shard being applied. */
export interface Feed {
  readonly shard: number;
  readonly epoch: bigint;
  readonly queue: JsMsg[];
  /** Last applied stream sequence, as committed. */
  watermark: bigint;
  /** Highest `_seq` handed out for the shard (ids are taken above it). */
  readonly floor: { value: bigint };
  /** Highest stream sequence delivered into the queue (0: none yet). */
  queued: number;
}

/** A shard's consumer stopped delivering while the replica runs: the service must fail. */
export class FeedFailedError extends Error {
  override readonly name = 'FeedFailedError';
}

export interface FeedDeps {
  readonly nc: NatsConnection;
  readonly names: BusNames;
  readonly logger: Logger;
  readonly state: RunningState;
  /** Most ops in one batch. */
  readonly batch: number;
  readonly ackWaitMs: number;
}

/**
 * Which ops of a batch to apply: those above the watermark, once each. JetStream redelivers an
 * op whose ack deadline passed while it waited in the queue, so a batch can hold two copies of
 * one op; a running high-water mark applies the first and ignores the rest. Ops at or below
 * the committed watermark were applied by an earlier batch: their stored results are re-sent.
 */
export function splitByWatermark<T extends { readonly msg: { readonly seq: number } }>(pending: readonly T[], watermark: bigint): { fresh: T[]; stale: T[] } {
  const fresh: T[] = [];
  const stale: T[] = [];
  const inBatch = new Set<number>();
  let high = watermark;
  for (const p of pending) {
    if (inBatch.has(p.msg.seq)) continue;
    inBatch.add(p.msg.seq);
    const seq = BigInt(p.msg.seq);
    if (seq > high) {
      fresh.push(p);
      high = seq;
    } else if (seq <= watermark) {
      stale.push(p);
    }
  }
  return { fresh, stale };
}

export class ShardFeeds {
  readonly #deps: FeedDeps;
  readonly #js: JetStreamClient;
  readonly #feeds = new Map<number, Feed>();
  #nextFeed = 0;
  #wake: (() => void) | undefined;
  #failure: FeedFailedError | undefined;

  constructor(deps: FeedDeps) {
    this.#deps = deps;
    this.#js = jetstream(deps.nc);
  }

  /** Ops delivered by the consumers and waiting for a batch. */
  get queued(): number {
    let n = 0;
    for (const feed of this.#feeds.values()) n += feed.queue.length;
    return n;
  }

  /** The first consumer loop that ended while running, if any. */
  get failure(): FeedFailedError | undefined {
    return this.#failure;
  }

  get(shard: number): Feed {
    const feed = this.#feeds.get(shard);
    if (feed === undefined) throw new Error(`shard ${shard} is not applied here`);
    return feed;
  }

  shards(): number[] {
    return [...this.#feeds.keys()];
  }

  /** Starts feeding `shard` from `watermark` + 1 (its consumer is recreated there). */
  async add(shard: number, epoch: bigint, watermark: bigint, maxSeq: bigint): Promise<void> {
    const feed: Feed = { shard, epoch, queue: [], watermark, floor: { value: maxSeq }, queued: 0 };
    const messages = await this.#consume(shard, watermark + 1n);
    this.#feeds.set(shard, feed);
    void this.#pump(feed, messages);
    this.#deps.logger.info('applying shard', { shard, epoch });
  }

  /** Recreates the shard's consumer at stream sequence `start` and starts pulling from it. */
  async #consume(shard: number, start: bigint): Promise<ConsumerMessages> {
    const consumerName = `storage_shard_${shard}`;
    await this.#resetConsumer(shard, consumerName, start);
    const consumer = await this.#js.consumers.get(this.#deps.names.opsStream, consumerName);
    // Pulls expire after PULL_EXPIRES_MS (heartbeats every half of it): when the consumer's
    // leader moves to another NATS node, pulls the old one held are lost, and the client sees
    // two missed heartbeats and pulls again; with the 30 s default the shard stalls that long.
    // A consumer or stream that is gone ends the loop instead of being waited for in silence.
    const messages = await consumer.consume({ max_messages: Math.max(100, this.#deps.batch * 2), expires: PULL_EXPIRES_MS, abort_on_missing_resource: true });
    // Closed when the service stops; a consumer recreated after lost deliveries removes the
    // listener of the one it replaces (closed by then), so they do not pile up.
    const signal = this.#deps.state.signal;
    const close = (): void => void messages.close();
    signal.addEventListener('abort', close, { once: true });
    void messages.closed().then(() => signal.removeEventListener('abort', close), () => signal.removeEventListener('abort', close));
    return messages;
  }

  /**
   * Moves delivered ops into the shard's queue. A gap in the consumer's delivery sequence means
   * deliveries were lost in transit (the NATS connection they were sent on died), though
   * JetStream counts them delivered: acknowledging a later op would acknowledge them too
   * (AckPolicy.All), unapplied. So the consumer is recreated just after the last op queued, and
   * the lost ops arrive again, in log order, before anything newer.
   */
  async #pump(feed: Feed, first: ConsumerMessages): Promise<void> {
    const { state, logger } = this.#deps;
    let messages = first;
    let cause: unknown;
    try {
      for (;;) {
        let expected = 1;
        let lost = 0;
        for await (const m of messages) {
          const delivery = m.info.deliverySequence;
          if (delivery > expected) {
            lost = delivery - expected;
            break;
          }
          expected = Math.max(expected, delivery + 1);
          feed.queued = Math.max(feed.queued, m.seq);
          feed.queue.push(m);
          this.#wake?.();
        }
        if (lost === 0) {
          cause = await messages.closed();
          break;
        }
        await messages.close();
        if (!state.shouldRun()) return;
        const start = BigInt(feed.queued) + 1n > feed.watermark ? BigInt(feed.queued) + 1n : feed.watermark + 1n;
        logger.warn('ops deliveries lost in transit; reading the shard again after the last op queued', { shard: feed.shard, lost, from: String(start) });
        const next = await this.#reconsume(feed.shard, start);
        if (next === undefined) return; // stopped meanwhile
        messages = next;
      }
    } catch (err) {
      cause = err;
    }
    if (state.shouldRun()) {
      this.#failure ??= new FeedFailedError(`the ops consumer of shard ${feed.shard} stopped delivering`, { cause });
      logger.error('shard consumer stopped; failing the service', { shard: feed.shard, err: cause });
    }
    this.#wake?.();
  }

  /**
   * #consume again, retried with backoff: the loss that calls for it comes with a NATS node gone,
   * and until the cluster has elected new leaders the JetStream API times out. Past
   * RECONSUME_DEADLINE_MS it throws (the service fails loudly); undefined when the state stops.
   */
  async #reconsume(shard: number, start: bigint): Promise<ConsumerMessages | undefined> {
    const { state, logger } = this.#deps;
    const deadline = performance.now() + RECONSUME_DEADLINE_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#consume(shard, start);
      } catch (err) {
        if (!state.shouldRun()) return undefined;
        if (performance.now() > deadline) throw err;
        logger.warn('cannot recreate the shard consumer yet; retrying', { shard, attempt, err });
      }
      if (!(await state.sleep(backoffDelay(attempt, DEFAULT_BACKOFF)))) return undefined;
    }
  }

  /** Up to `batch` queued ops, each shard's in log order, starting from a rotating shard. */
  take(): Pending[] {
    const feeds = [...this.#feeds.values()];
    const max = this.#deps.batch;
    const out: { shard: number; msg: JsMsg }[] = [];
    for (let i = 0; i < feeds.length && out.length < max; i++) {
      const feed = feeds[(this.#nextFeed + i) % feeds.length]!;
      for (const msg of feed.queue.splice(0, max - out.length)) out.push({ shard: feed.shard, msg });
    }
    this.#nextFeed++;
    return out.map(({ shard, msg }) => ({ shard, msg, op: busPb.Op.decode(msg.data) }));
  }

  /** Resolves when ops arrive, a consumer loop fails, or the state stops. */
  async arrival(): Promise<void> {
    const { state } = this.#deps;
    if (this.queued > 0 || this.#failure !== undefined || !state.shouldRun()) return;
    await new Promise<void>((resolve) => {
      const onAbort = (): void => resolve();
      this.#wake = () => {
        state.signal.removeEventListener('abort', onAbort);
        resolve();
      };
      state.signal.addEventListener('abort', onAbort, { once: true });
    });
    this.#wake = undefined;
  }

  /**
   * The consumer's position is derived from PostgreSQL, not trusted from JetStream: ops a
   * previous owner pulled but never committed would otherwise wait for their ack deadline
   * while newer ops were applied, and then fall at or below the watermark and be skipped as
   * if applied. Recreating the consumer at watermark + 1 delivers them first, in log order.
   */
  async #resetConsumer(shard: number, name: string, start: bigint): Promise<void> {
    const jsm = await jetstreamManager(this.#deps.nc);
    await jsm.consumers.delete(this.#deps.names.opsStream, name).catch(() => false);
    await jsm.consumers.add(this.#deps.names.opsStream, {
      durable_name: name,
      filter_subject: this.#deps.names.ops(shard),
      // Ops are applied strictly in order, so acknowledging the last op of a batch
      // acknowledges the batch: one message instead of one per op.
      ack_policy: AckPolicy.All,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Number(start),
      ack_wait: this.#deps.ackWaitMs * 1_000_000,
      max_ack_pending: 20_000,
    });
  }
}
