// Reading one lane of a consumer group from the change log (docs/architecture.md §4a): the
// lane's durable JetStream consumer on `<prefix>.changes.*.<ns>.<table>` (AckPolicy.All, so an
// ack covers everything before it on that consumer), made on first use from the lane's `floor`.
//
// A lane serves one batch at a time. Before it pulls, it looks at the consumer: anything
// delivered and not acknowledged (the worker failed, died, nak'ed, or its lease moved to another
// worker) makes it **rewind**: the group's state moves the lane to epoch + 1 with floor = the
// consumer's ack floor (compare-and-set first, so a crash leaves a state from which the consumer
// is made again), a new consumer starts after that floor, and the old one is deleted. So
// unacknowledged changes come again, in stream order, before anything newer: per-owner order
// holds even though JetStream itself would redeliver them after newer ones. A token of the old
// epoch then acks nothing (its consumer is gone).
//
// Every lane consumer reads the whole table's changes; a batch keeps the lane's owners and skips
// the others. The token of a lane change acks up to the message before the next lane change (or
// the last one pulled), and a pull holding no lane change is acked by the gateway, so skipped
// changes never hold a lane back.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerInfo, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { busPb } from '@seqline/proto';
import type { ConsumedChange, ConsumedRow } from '@seqline/protocol';
import { parseJsonLossless } from '@seqline/seq';
import type { GroupStore } from './groups.js';
import { advanceEpoch, consumerName, holds, laneOf, type GroupId, type LaneState } from './lanes.js';
import type { AckTokens } from './token.js';

/** nats.js refuses pull expiries under a second. */
export const MIN_PULL_MS = 1000;

export interface LaneRef extends GroupId {
  readonly lane: number;
  readonly lanes: number;
  readonly worker: string;
  readonly state: LaneState;
}

export interface Taken {
  /** The lane's changes, each with its token. */
  readonly changes: readonly ConsumedChange[];
  /** Whether other lanes' changes were pulled and skipped (look again before waiting). */
  readonly skipped: boolean;
}

export interface LaneReaderOptions {
  readonly stream: string;
  /** `<prefix>.changes.*.<ns>.<table>` */
  readonly filter: (namespace: string, table: string) => string;
  readonly ackWaitMs: number;
  readonly maxFetch: number;
}

const nanos = (ms: number): number => ms * 1_000_000;
const NONE: Taken = { changes: [], skipped: false };

export class LaneReader {
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #groups: GroupStore;
  readonly #tokens: AckTokens;
  readonly #o: LaneReaderOptions;
  readonly #now: () => number;

  private constructor(jsm: JetStreamManager, js: JetStreamClient, groups: GroupStore, tokens: AckTokens, options: LaneReaderOptions, now: () => number) {
    this.#jsm = jsm;
    this.#js = js;
    this.#groups = groups;
    this.#tokens = tokens;
    this.#o = options;
    this.#now = now;
  }

  static async create(nc: NatsConnection, groups: GroupStore, tokens: AckTokens, options: LaneReaderOptions, now: () => number): Promise<LaneReader> {
    return new LaneReader(await jetstreamManager(nc), jetstream(nc), groups, tokens, options, now);
  }

  /** The stream's last sequence: where a group starting at "latest" begins. */
  async streamEnd(): Promise<number> {
    return (await this.#jsm.streams.info(this.#o.stream)).state.last_seq;
  }

  /** Up to `limit` of the lane's changes; waits up to `waitMs` (≥ MIN_PULL_MS) for a first one when there is none. */
  async take(ref: LaneRef, limit: number, waitMs: number): Promise<Taken> {
    let lane = ref.state;
    let ci = await this.#info(ref, lane);
    if (ci !== undefined && ci.num_ack_pending > 0) {
      const rewound = await this.#rewind(ref, lane, ci);
      if (rewound === undefined) return NONE; // the lane is no longer this worker's
      lane = rewound;
      ci = await this.#info(ref, lane);
    }
    if (ci === undefined) return NONE; // the lane moved on meanwhile
    const consumer = this.#js.consumers.getConsumerFromInfo(ci);
    let messages: JsMsg[];
    if (ci.num_pending > 0) messages = await pull(consumer, Math.min(limit, ci.num_pending), MIN_PULL_MS);
    else if (waitMs >= MIN_PULL_MS) {
      messages = await pull(consumer, 1, waitMs);
      const more = messages.length === 1 && limit > 1 ? (await consumer.info(false)).num_pending : 0;
      if (more > 0) messages.push(...(await pull(consumer, Math.min(limit - 1, more), MIN_PULL_MS)));
    } else return NONE;
    return this.#batch(ref, lane, messages);
  }

  /** Rewinds the lane if `worker` holds it at `epoch` (a nak); false when it does not. */
  async rewindHeld(ref: Omit<LaneRef, 'state'>, epoch: number): Promise<boolean> {
    const state = await this.#groups.get(ref);
    const lane = state?.lanes[ref.lane];
    if (state === undefined || lane === undefined || !holds(state, ref.worker, ref.lane, epoch, this.#now())) return false;
    const full = { ...ref, state: lane };
    const ci = await this.#info(full, lane);
    return ci !== undefined && (await this.#rewind(full, lane, ci)) !== undefined;
  }

  /** Deletes every consumer a group's lanes may have (dropping a group). */
  async deleteConsumers(id: GroupId, lanes: readonly LaneState[]): Promise<void> {
    await Promise.all(lanes.map((lane, i) => this.#delete(consumerName(id, i, lane.epoch))));
  }

  async #rewind(ref: LaneRef, lane: LaneState, ci: ConsumerInfo): Promise<LaneState | undefined> {
    const floor = Math.max(lane.floor, ci.ack_floor.stream_seq);
    const state = await this.#groups.update(ref, (s, now) => (holds(s, ref.worker, ref.lane, lane.epoch, now) ? advanceEpoch(s, ref.lane, floor) : undefined));
    const next = state.lanes[ref.lane];
    if (next === undefined || next.epoch !== lane.epoch + 1 || next.holder !== ref.worker) return undefined;
    return (await this.#info(ref, next)) === undefined ? undefined : next; // made now, from the new floor
  }

  /**
   * The lane consumer at the lane's epoch, made from its floor when missing (first use, or after
   * a crash mid-rewind); undefined when the group's state has moved the lane past that epoch
   * meanwhile (a consumer of an old epoch is never made again).
   */
  async #info(id: GroupId & { readonly lane: number }, lane: LaneState): Promise<ConsumerInfo | undefined> {
    const name = consumerName(id, id.lane, lane.epoch);
    const found = await this.#jsm.consumers.info(this.#o.stream, name).catch(() => undefined);
    if (found !== undefined) return found;
    if ((await this.#groups.get(id))?.lanes[id.lane]?.epoch !== lane.epoch) return undefined;
    const ci = await this.#jsm.consumers.add(this.#o.stream, {
      name,
      durable_name: name,
      filter_subject: this.#o.filter(id.namespace, id.table),
      ack_policy: AckPolicy.All,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: lane.floor + 1,
      ack_wait: nanos(this.#o.ackWaitMs),
      max_ack_pending: this.#o.maxFetch,
      max_deliver: -1,
    });
    if (lane.epoch > 0) await this.#delete(consumerName(id, id.lane, lane.epoch - 1)); // left over by a rewind cut short
    return ci;
  }

  async #delete(name: string): Promise<void> {
    await this.#jsm.consumers.delete(this.#o.stream, name).catch(() => false);
  }

  async #batch(ref: LaneRef, lane: LaneState, messages: readonly JsMsg[]): Promise<Taken> {
    if (messages.length === 0) return NONE;
    const decoded = messages.map((m) => busPb.Change.decode(m.data));
    const ours = decoded.flatMap((c, i) => (laneOf(c.owner, ref.lanes) === ref.lane ? [i] : []));
    if (ours.length === 0) {
      await messages[messages.length - 1]!.ackAck().catch(() => false); // none of this lane's: ack past them (if this fails, the next take rewinds)
      return { changes: [], skipped: true };
    }
    const changes = ours.map((at, k): ConsumedChange => {
      const last = (ours[k + 1] ?? messages.length) - 1; // this token acks through the message before the next lane change
      const change = decoded[at]!;
      const token = this.#tokens.sign({ reply: ackSubject(messages[last]!), namespace: ref.namespace, table: ref.table, group: ref.group, lane: ref.lane, epoch: lane.epoch, worker: ref.worker });
      return { token, owner: change.owner, seq: String(change.seq), prev_seq: String(change.prevSeq), op_id: change.opId, committed_at: Number(change.committedAtUs), rows: change.rows.map(consumedRow) };
    });
    return { changes, skipped: false };
  }
}

/** A JetStream message's ack subject (its reply subject: nats.js's JsMsg has it, its interface does not declare it). */
function ackSubject(m: JsMsg): string {
  const reply = (m as JsMsg & { readonly reply?: string }).reply;
  if (reply === undefined || reply === '') throw new Error('a JetStream message without an ack subject');
  return reply;
}

function consumedRow(row: busPb.RowChange): ConsumedRow {
  const kind = row.kind === 'delete' ? 'delete' : row.kind === 'update' ? 'update' : 'insert';
  return {
    kind,
    seq: String(row.seq),
    ...(row.oldJson === '' ? {} : { old: parseJsonLossless(row.oldJson) as Record<string, unknown> }),
    ...(row.newJson === '' ? {} : { new: parseJsonLossless(row.newJson) as Record<string, unknown> }),
  };
}

async function pull(consumer: { fetch(o: { max_messages: number; expires: number }): Promise<AsyncIterable<JsMsg> & { stop(): void }> }, count: number, expiresMs: number): Promise<JsMsg[]> {
  const out: JsMsg[] = [];
  const messages = await consumer.fetch({ max_messages: count, expires: Math.max(MIN_PULL_MS, expiresMs) });
  for await (const m of messages) {
    out.push(m);
    if (out.length >= count) {
      messages.stop();
      break;
    }
  }
  return out;
}
