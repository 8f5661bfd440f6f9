// One live subscription (docs/architecture.md §4), independent of the transport: it produces docs/protocol.md
// §4 events, in order, into a sink whose `send` resolves when the event is written (so a slow
// client slows only its own subscription).
//
//   1. The live tail is registered first (ChangeHub) and buffers while the rest happens.
//   2. Snapshot: storage's Snapshot stream; the ack, then each batch (server-paced: after the
//      previous one was written; client-paced: on next_batch). Its boundary B is the last
//      `_seq` delivered.
//   3. Catch-up: JetStream history after the last `_seq` (storage's compacted CatchUp when
//      the stream no longer covers it), then the buffer, then live. Every change must chain
//      (prev_seq = the last change's seq); a gap (a lost core delivery, a full buffer) is
//      repaired from history, once, in order. After a reconnect to NATS (changes published
//      meanwhile never reached the tail), the subject's head in the log is checked, and
//      anything after the last `_seq` is repaired the same way.
//   Resume (`from`): no snapshot; catch-up from `from`, and a reset with a fresh snapshot when
//   even storage no longer knows the deletes after `from`.
// Each row change is filtered on its old and new image (in→in update, out→in insert, in→out
// delete) and projected to the selected columns, the primary key and `_seq`, once per query
// shape: subscriptions of one shape share a live change's events (and their JSON, ws/messages.ts).
import type { BatchControl, ServerMessage } from '@seqline/protocol';
import type { busPb, storagePb } from '@seqline/proto';
import { expiresRows, FilterBudgetExceeded, liveChange, meter, type LiveCell, type LiveQuery, type LiveRow } from '@seqline/sql';
import { contextOf, endSpan, SpanKind, startSpan, tracer, tracingOn } from '@seqline/runtime';
import type { GatewayMetrics } from '../metrics.js';
import type { ChangeBody } from '../ws/messages.js';
import { changeTraceparent, type TailListener } from './change-hub.js';
import type { History } from './history.js';
import { Window, type WindowChange, type WindowEvent, type WindowRead } from './window.js';
import { unexpired } from './ttl.js';

export type Row = Record<string, LiveCell>;

export type { BatchControl };
export type BatchStatus = BatchControl['status'];

type Message<T extends ServerMessage['type']> = Readonly<Extract<ServerMessage, { type: T }>>;

/** The server messages of a subscription (@seqline/protocol's schemas); the endpoint adds the ack's `schema`. */
export type LiveEvent =
  | Omit<Message<'subscription_ack'>, 'schema'>
  /** `rowsJson` is storage's JSON of `rows`, sent as it is (never parsed and re-encoded on the way); `rows` parses it when read. */
  | (Message<'initial_data_batch'> & { readonly rowsJson: string })
  | Message<'change'>
  /** A change whose body (`shared`, which it repeats) other subscriptions of its query shape send too. */
  | (Message<'change'> & { readonly shared: ChangeBody })
  | Message<'error'>;

export interface SubscriptionOptions {
  readonly batchSize: number;
  readonly lastRows: number;
  /** Resume after this `_seq` (exclusive) instead of a snapshot. */
  readonly from?: bigint;
  /** Only live changes from now (no snapshot, no resume). */
  readonly liveOnly: boolean;
  /** Batches wait for the client's next_batch. */
  readonly clientPaced: boolean;
}

/** Where live changes come from (ChangeHub): a listener gets its subject's changes and the reconnects to NATS. */
export interface LiveTail {
  listen(subject: string, listener: TailListener): void;
  unlisten(subject: string, listener: TailListener): void;
  /** Resolves once the server has registered `subject`'s subscription. */
  flush(subject: string): Promise<void>;
}

export interface SubscriptionDeps {
  readonly id: string;
  readonly query: LiveQuery;
  readonly subject: string;
  /**
   * The query's shape: subscriptions with the same shape (SQL, parameters, projection, and what
   * else their compiled query depends on) make the same events of a change, so they share them.
   * Undefined: nothing is shared.
   */
  readonly shape?: string;
  readonly hub: LiveTail;
  /** The subject's changes after `after` from JetStream; with `directReads`, by that many direct gets at most (history.ts). */
  readonly history: (after: bigint, directReads?: number) => Promise<History>;
  /** The subject's newest change in the log (a live-only subscription's starting point), if any. */
  readonly head: () => Promise<bigint | undefined>;
  readonly snapshot: (batchSize: number, lastRows: number) => AsyncIterable<storagePb.SnapshotBatch>;
  readonly catchUp: (from: bigint) => AsyncIterable<storagePb.CatchUpBatch>;
  /** A window query's first `rows` rows at the partition head, and that head (storage's Window). */
  readonly window: (rows: number) => Promise<{ readonly boundary: bigint; readonly read: WindowRead }>;
  /**
   * Hands an event to the socket at once, in call order (so unsent data waits in the socket,
   * where the connection's SLOW_CONSUMER limit sees it); resolves once it is written. `pushed`:
   * a live change, sent at the writers' pace; every other event (ack, snapshot, catch-up,
   * repair) waits for the one before it to be written, so a slow socket slows it instead.
   */
  readonly send: (event: LiveEvent, pushed: boolean) => Promise<void>;
  /** Changes buffered while catching up; past this the buffer is dropped and history used. */
  readonly maxBuffer: number;
  /**
   * Steps the filter may take on one change (default DEFAULT_FILTER_BUDGET); past it the
   * subscription ends with FILTER_BUDGET_EXCEEDED, so one costly filter cannot stall the gateway.
   */
  readonly filterBudget?: number;
  /** Rows a window keeps below its LIMIT, so most rows that leave it need no read (default: the LIMIT). */
  readonly windowSlack?: number;
  /** Row changes after which a resume rebuilds a window from a fresh snapshot instead (default 10 × its rows). */
  readonly windowReplayMax?: number;
  /**
   * A resume walks JetStream with at most this many direct gets (default RESUME_DIRECT_READS)
   * before it reads with a consumer (history.ts).
   */
  readonly resumeReads?: number;
  /** How long a failing repair is tried again before the subscription ends (default REPAIR_RETRY_MS). */
  readonly repairRetryMs?: number;
  /** Deliveries and catch-ups are counted here. */
  readonly metrics?: GatewayMetrics;
}

export const DEFAULT_FILTER_BUDGET = 10_000_000;
/**
 * Direct gets a resume may spend walking JetStream before it reads with a consumer: a resume of
 * 10 changes takes about 18 gets, one from a day-old cursor over a million other changes about
 * 30 (docs/architecture.md §4 step 5; bench/README.md, live, resume, has the figures).
 */
export const RESUME_DIRECT_READS = 32;
/**
 * A repair whose reads fail (JetStream electing leaders after a NATS node was lost, a node
 * restarting) is tried again, 200 ms doubling to 2 s apart, for this long before the
 * subscription ends with SUBSCRIPTION_FAILED: a fault NATS heals from in seconds should not
 * make every client resubscribe.
 */
export const REPAIR_RETRY_MS = 20_000;

const TRACER = tracer('gateway');
/** The start of every subscription's chains of repairs and window changes (one shared promise, not one each). */
const SETTLED: Promise<void> = Promise.resolve();

/**
 * A row change's images, parsed once however many subscriptions it reaches (the hub hands every
 * listener the same decoded change); they are only read, never changed.
 */
const images = new WeakMap<busPb.RowChange, { readonly old: LiveRow | undefined; readonly next: LiveRow | undefined }>();

function imagesOf(r: busPb.RowChange): { readonly old: LiveRow | undefined; readonly next: LiveRow | undefined } {
  let parsed = images.get(r);
  if (parsed === undefined) {
    parsed = { old: r.oldJson === '' ? undefined : (JSON.parse(r.oldJson) as LiveRow), next: r.newJson === '' ? undefined : (JSON.parse(r.newJson) as LiveRow) };
    images.set(r, parsed);
  }
  return parsed;
}

/**
 * The event bodies a change makes for each query shape, computed once however many subscriptions
 * of that shape it reaches (the hub hands every listener the same decoded change).
 */
const bodies = new WeakMap<busPb.Change, Map<string, readonly ChangeBody[]>>();

export class LiveSubscription implements TailListener {
  readonly #d: SubscriptionDeps;
  readonly #options: SubscriptionOptions;
  #buffer: busPb.Change[] = [];
  #overflowed = false;
  /** The last change delivered (or the snapshot boundary); undefined until known (live only). */
  #lastSeq: bigint | undefined;
  /** True once the subscription delivers live changes as they come. */
  #live = false;
  /** A repair took the subscription out of live and has not brought it back yet (a retry goes on with it). */
  #healing = false;
  #stopped = false;
  #nextBatch: (() => void) | undefined;
  /** Gap repairs run one after another. */
  #repairs: Promise<void> = SETTLED;
  /** A query with LIMIT: its window (docs/protocol.md §4, windows). */
  readonly #window: Window | undefined;
  /** A window's changes are applied one after another (a refill reads storage in between). */
  #windowChain: Promise<void> = SETTLED;

  constructor(deps: SubscriptionDeps, options: SubscriptionOptions) {
    this.#d = deps;
    this.#options = options;
    const { order, limit, table } = deps.query;
    if (limit !== undefined && order !== undefined) this.#window = new Window(order, table.primaryKey, limit, deps.windowSlack ?? limit);
  }

  /** Runs steps 1–3; resolves when the subscription is live (or stopped). */
  async start(): Promise<void> {
    this.#d.hub.listen(this.#d.subject, this);
    await this.#d.hub.flush(this.#d.subject);
    const { from, liveOnly } = this.#options;
    if (this.#window !== undefined) {
      // A window always starts from its rows: live only, a window would be unknown.
      await (from !== undefined ? this.#resumeWindow(this.#window, from) : this.#snapshotWindow(this.#window, false));
    } else if (liveOnly) {
      // "From now" is the newest change in the log: the first live change must chain to it,
      // so even that one is repaired if its delivery is lost.
      const head = await this.#d.head();
      this.#lastSeq = head;
      await this.#emit({ type: 'subscription_ack', subscription_id: this.#d.id, total_rows: 0, batch_control: { batch_num: 0, has_more: false, status: 'ready', ...(head === undefined ? {} : { last_seq_id: head }) } });
    } else if (from !== undefined) {
      await this.#resume(from);
    } else {
      await this.#snapshot(false);
    }
    await this.#goLive();
  }

  /** The client asked for the next snapshot batch (client pacing); ignored otherwise. */
  nextBatch(): void {
    this.#nextBatch?.();
  }

  stop(): void {
    this.#stopped = true;
    this.#d.hub.unlisten(this.#d.subject, this);
    this.#nextBatch?.();
  }

  /** A live change of the subject (the hub's listener; the subscription itself, not a closure per subscription). */
  onChange(change: busPb.Change): void {
    this.#onLive(change);
  }

  /** Reconnected to NATS: the log's head is checked and anything missed repaired. */
  onReconnect(): void {
    this.#repair(() => this.#checkHead());
  }

  async #snapshot(reset: boolean): Promise<void> {
    let batchNum = 0;
    for await (const batch of this.#d.snapshot(this.#options.batchSize, this.#options.lastRows)) {
      if (this.#stopped) return;
      const rowsJson = batch.rowsJson;
      const status: BatchStatus = !batch.hasMore ? 'ready' : batchNum === 0 ? 'loading' : 'loading_batch';
      // Rows in the query's order (ORDER BY) are no resume point until the last batch.
      const resumable = this.#d.query.order === undefined || !batch.hasMore;
      const control: BatchControl = { batch_num: batchNum, has_more: batch.hasMore, status, ...(resumable ? { last_seq_id: this.#d.query.order === undefined ? batch.lastSeq : batch.boundarySeq } : {}) };
      if (batchNum === 0) {
        await this.#emit({ ...this.#ackOf(Number(batch.totalRows), batch.boundarySeq, batch.hasMore), ...(reset ? { reset: true as const } : {}) });
      }
      if (batchNum > 0 && this.#options.clientPaced) await new Promise<void>((resolve) => (this.#nextBatch = resolve));
      if (this.#stopped) return;
      await this.#emit({
        type: 'initial_data_batch',
        subscription_id: this.#d.id,
        get rows() {
          return JSON.parse(rowsJson) as Row[];
        },
        rowsJson,
        batch_control: control,
      });
      this.#lastSeq = batch.boundarySeq;
      batchNum++;
    }
  }

  /**
   * The changes after `from` from JetStream (by a few direct gets, or past their budget with a
   * consumer), or, when the log no longer has them, storage's compacted catch-up: one indexed
   * read of the rows changed after `from`, one event per row (a reset with a snapshot when
   * tombstones were purged). Docs: docs/architecture.md §4 step 5.
   */
  async #resume(from: bigint): Promise<void> {
    const reads = this.#d.resumeReads ?? RESUME_DIRECT_READS;
    const history = await this.#d.history(from, reads);
    if (history.covered) {
      this.#d.metrics?.catchUps.history.inc();
      this.#lastSeq = from;
      if (history.changes.length <= reads) {
        // A few changes (a walk's, at most its reads): handed to the socket at once, in order,
        // so they leave with the ack in one write.
        await Promise.all([this.#ack(from), ...history.changes.map((change) => this.#deliver(change))]);
        return;
      }
      await this.#ack(from);
      for (const change of history.changes) await this.#deliver(change);
      return;
    }
    let acked = false;
    let counted = false;
    for await (const batch of this.#d.catchUp(from)) {
      if (this.#stopped) return;
      if (!counted) {
        (batch.reset ? this.#d.metrics?.catchUps.reset : this.#d.metrics?.catchUps.compacted)?.inc();
        counted = true;
      }
      if (batch.reset) {
        await this.#snapshot(true);
        return;
      }
      if (!acked) {
        await this.#ack(from);
        acked = true;
      }
      await this.#compacted(batch);
    }
    if (!acked && !this.#stopped) {
      await this.#ack(from); // storage had no batch to send
      this.#lastSeq = from;
    }
  }

  #ack(from: bigint): Promise<void> {
    return this.#emit(this.#ackOf(0, from, false));
  }

  /** A subscription_ack; a query with ORDER BY or LIMIT tells its order and limit. */
  #ackOf(totalRows: number, lastSeq: bigint, hasMore: boolean): Extract<LiveEvent, { type: 'subscription_ack' }> {
    const { order, limit } = this.#d.query;
    return {
      type: 'subscription_ack',
      subscription_id: this.#d.id,
      total_rows: totalRows,
      batch_control: { batch_num: 0, has_more: hasMore, status: hasMore ? 'loading' : 'ready', last_seq_id: lastSeq },
      ...(order === undefined ? {} : { order_by: order.keys }),
      ...(limit === undefined ? {} : { limit }),
    };
  }

  // ---- Windows (docs/protocol.md §4): a query with LIMIT ------------------------------------

  /** A window's snapshot: its first rows (and slack) read at the head B, the window sent in batches. */
  async #snapshotWindow(window: Window, reset: boolean): Promise<void> {
    const { boundary, read } = await this.#d.window(window.capacity);
    window.reset();
    window.load(read);
    window.adopt();
    const rows = window.rows;
    const size = Math.max(1, this.#options.batchSize);
    const batches = Math.max(1, Math.ceil(rows.length / size));
    await this.#emit({ ...this.#ackOf(rows.length, boundary, batches > 1), ...(reset ? { reset: true as const } : {}) });
    for (let n = 0; n < batches; n++) {
      if (n > 0 && this.#options.clientPaced) await new Promise<void>((resolve) => (this.#nextBatch = resolve));
      if (this.#stopped) return;
      const hasMore = n < batches - 1;
      const part = rows.slice(n * size, (n + 1) * size);
      const rowsJson = JSON.stringify(part);
      await this.#emit({
        type: 'initial_data_batch',
        subscription_id: this.#d.id,
        rows: part,
        rowsJson,
        batch_control: { batch_num: n, has_more: hasMore, status: !hasMore ? 'ready' : n === 0 ? 'loading' : 'loading_batch', ...(hasMore ? {} : { last_seq_id: boundary }) },
      });
    }
    this.#lastSeq = boundary;
  }

  /**
   * A window's resume after `from`: the client holds the window as of `from`. It is rebuilt
   * here from a read at the head with the changes since `from` undone, and those changes are
   * then delivered; when JetStream no longer has them (or they are many), a reset and a fresh
   * snapshot is the honest answer.
   */
  async #resumeWindow(window: Window, from: bigint): Promise<void> {
    // The events of one row change share its `_seq` (docs/protocol.md §4.7), and a refill's
    // carry the `_seq` of the whole write: a client cut off between them holds part of the write
    // at `from`. So the window is rebuilt as of just before that write and the write is sent
    // again (events applied again, in order, leave the client's rows as they should be).
    let before = from - 1n;
    let history = await this.#d.history(before);
    const first = history.changes[0];
    if (history.covered && first !== undefined && first.prevSeq < before) {
      before = first.prevSeq;
      history = await this.#d.history(before);
    }
    const rowChanges = history.changes.reduce((n, c) => n + c.rows.length, 0);
    if (!history.covered || rowChanges > (this.#d.windowReplayMax ?? 10 * window.capacity)) {
      this.#d.metrics?.catchUps.reset.inc();
      await this.#snapshotWindow(window, true);
      return;
    }
    this.#d.metrics?.catchUps.history.inc();
    window.reset();
    await this.#rebuild(window, before, history.changes);
    window.adopt();
    await this.#ack(from);
    this.#lastSeq = from;
    // Events below `from` are stamped `from`: a client skips what is below its cursor, and the
    // write's first delivery may have carried its rows under the write's `_seq` (a refill).
    for (const change of history.changes) await this.#deliver(change, from);
  }

  /**
   * Makes the window known as of `at`: reads its first rows at a boundary B ≥ `at`, then undoes
   * the row changes in (at, B] (from `known`, then JetStream) to get the rows as of `at`. Reads
   * more rows while that leaves fewer than the window's LIMIT known.
   */
  async #rebuild(window: Window, at: bigint, known: readonly busPb.Change[] = []): Promise<void> {
    let rows = window.capacity + known.reduce((n, c) => n + c.rows.length, 0);
    for (;;) {
      if (this.#stopped) return;
      const { boundary, read } = await this.#d.window(rows);
      const after = await this.#changesThrough(at, boundary, known);
      window.load(read);
      window.undo(after.flatMap((c) => c.rows.map((r) => this.#windowChange(r))));
      if (window.known) return;
      rows = Math.min(rows * 2 + after.length, 100_000);
    }
  }

  /** The changes after `at` up to `boundary`, in order: `known` if they reach it, else JetStream's (which may lag the head briefly). */
  async #changesThrough(at: bigint, boundary: bigint, known: readonly busPb.Change[]): Promise<busPb.Change[]> {
    const reaches = (changes: readonly busPb.Change[]): boolean => boundary <= at || (changes.at(-1)?.seq ?? at) >= boundary;
    if (reaches(known)) return known.filter((c) => c.seq > at && c.seq <= boundary);
    for (let attempt = 0; ; attempt++) {
      const history = await this.#d.history(at);
      if (!history.covered) throw new Error('the change log no longer holds the changes of a window refill');
      if (reaches(history.changes)) return history.changes.filter((c) => c.seq <= boundary);
      if (attempt >= 50 || this.#stopped) throw new Error(`the change log did not reach the window's boundary ${boundary}`);
      await new Promise((resolve) => setTimeout(resolve, 20 * Math.min(attempt + 1, 10))); // published just after its commit
    }
  }

  #windowChange(r: busPb.RowChange): WindowChange {
    const { old, next } = unexpired(this.#d.query.table, imagesOf(r));
    const budget = meter(this.#d.filterBudget ?? DEFAULT_FILTER_BUDGET);
    return {
      old: old === undefined ? undefined : (this.#project(old)),
      oldIn: old !== undefined && this.#d.query.filter.test(old, budget) === true,
      next: next === undefined ? undefined : (this.#project(next)),
      nextIn: next !== undefined && this.#d.query.filter.test(next, budget) === true,
    };
  }

  /** A change applied to the window, and the events it makes; a refill when rows left and too few are known. */
  async #deliverWindow(window: Window, change: busPb.Change, atLeast: bigint): Promise<void> {
    if (this.#stopped) return;
    const events: WindowEvent[] = [];
    let refill = false;
    for (const r of change.rows) {
      this.#d.metrics?.window.changes.inc();
      const applied = window.apply(this.#windowChange(r), String(r.seq < atLeast ? atLeast : r.seq));
      if (applied === undefined) refill = true;
      else events.push(...applied);
    }
    if (refill || !window.known) {
      this.#d.metrics?.window.refills.inc();
      await this.#rebuild(window, change.seq);
      events.push(...window.resync(String(change.seq)));
    }
    if (events.length === 0) return;
    this.#d.metrics?.deliveries.inc();
    const id = this.#d.id;
    await Promise.all(
      events.map((e) =>
        this.#emit(
          e.kind === 'insert'
            ? { type: 'change', subscription_id: id, change_type: 'insert', rows: [e.row as Row] }
            : e.kind === 'update'
              ? { type: 'change', subscription_id: id, change_type: 'update', rows: [e.row as Row], old_values: [e.old as Row] }
              : { type: 'change', subscription_id: id, change_type: 'delete', old_values: [e.old as Row] },
        ),
      ),
    );
  }

  /** A batch of storage's compacted catch-up: upserts as inserts (clients upsert by key), deletes. */
  async #compacted(batch: storagePb.CatchUpBatch): Promise<void> {
    const id = this.#d.id;
    // A batch is within storage's batch bytes: its events go to the socket at once, in order.
    const changes = JSON.parse(batch.changesJson) as { kind: 'upsert' | 'delete'; row: Row }[];
    await Promise.all(changes.map((c) => this.#emit(c.kind === 'upsert' ? { type: 'change', subscription_id: id, change_type: 'insert', rows: [c.row] } : { type: 'change', subscription_id: id, change_type: 'delete', old_values: [c.row] })));
    if (this.#lastSeq === undefined || batch.boundarySeq > this.#lastSeq) this.#lastSeq = batch.boundarySeq;
  }

  /**
   * Delivers what was buffered, in order, until the buffer is empty; then the subscription is
   * live. The buffer must chain from the last `_seq`: a gap (or a dropped, overflowed buffer)
   * is filled from history first.
   */
  async #goLive(): Promise<void> {
    while (!this.#stopped) {
      const buffered = this.#buffer.filter((c) => this.#lastSeq === undefined || c.seq > this.#lastSeq);
      this.#buffer = [];
      const first = buffered[0];
      const gap = this.#lastSeq !== undefined && (this.#overflowed || (first !== undefined && first.prevSeq !== this.#lastSeq));
      this.#overflowed = false;
      if (gap) {
        try {
          await this.#fillFromHistory();
        } catch (err) {
          // Kept for the next try: the changes held, and the gap (the fill delivered in order up to where it failed).
          this.#buffer = [...buffered, ...this.#buffer];
          this.#overflowed = true;
          throw err;
        }
      }
      for (const change of buffered) {
        if (this.#stopped) return;
        if (this.#lastSeq !== undefined && change.seq <= this.#lastSeq) continue;
        if (this.#lastSeq !== undefined && change.prevSeq !== this.#lastSeq) {
          // Still not chained: keep the rest for the next round, which repairs again.
          this.#buffer = [...buffered.slice(buffered.indexOf(change)), ...this.#buffer];
          this.#overflowed = true;
          break;
        }
        await this.#deliver(change);
      }
      if (this.#buffer.length === 0 && !this.#overflowed) {
        this.#live = true;
        this.#healing = false;
        return;
      }
    }
  }

  /** Everything after the last `_seq` from JetStream, or from storage's compacted view when the stream no longer has it. */
  async #fillFromHistory(): Promise<void> {
    const after = this.#lastSeq!;
    const history = await this.#d.history(after);
    if (history.covered) {
      this.#d.metrics?.catchUps.history.inc();
      for (const change of history.changes) {
        if (this.#stopped) return;
        if (change.seq > this.#lastSeq!) await this.#deliver(change);
      }
      return;
    }
    // A window cannot be rebuilt from the compacted view: the subscription ends, and the
    // client's resume gets a fresh snapshot.
    if (this.#window !== undefined) throw new Error('the change log no longer holds the changes a window missed');
    this.#d.metrics?.catchUps.compacted.inc();
    for await (const batch of this.#d.catchUp(after)) {
      if (this.#stopped) return;
      await this.#compacted(batch);
    }
  }

  /**
   * After a reconnect: when the log's head is past the last change delivered, something was
   * published while the tail was cut off; it is repaired from history like a gap. (A
   * subscription still catching up checks the chain itself when it goes live.)
   */
  async #checkHead(): Promise<void> {
    if (this.#stopped) return;
    if (this.#healing) return this.#goLive(); // a retry of a repair that failed part-way
    if (!this.#live) return;
    const head = await this.#d.head();
    if (head === undefined || !this.#live || head <= (this.#lastSeq ?? 0n)) return;
    this.#lastSeq ??= 0n;
    this.#live = false;
    this.#healing = true;
    this.#overflowed = true;
    await this.#goLive();
  }

  #onLive(change: busPb.Change): void {
    if (this.#stopped) return;
    if (!this.#live) {
      if (this.#buffer.length >= this.#d.maxBuffer) {
        this.#buffer = [];
        this.#overflowed = true;
      } else {
        this.#buffer.push(change);
      }
      return;
    }
    if (this.#lastSeq !== undefined && change.seq <= this.#lastSeq) return;
    if (this.#lastSeq !== undefined && change.prevSeq !== this.#lastSeq) {
      // A lost delivery: buffer from here and repair from history, in order.
      this.#live = false;
      this.#healing = true;
      this.#buffer.push(change);
      this.#repair(() => this.#goLive());
      return;
    }
    void this.#deliver(change);
  }

  /**
   * Runs a repair after the ones before it. One that fails (history or the log's head could not
   * be read: NATS down, the socket gone) ends the subscription with SUBSCRIPTION_FAILED, so the
   * client resumes from its last `_seq`: a change it may have missed is never skipped silently,
   * and the failure never escapes as an unhandled rejection (which would end the process).
   */
  #repair(step: () => Promise<void>): void {
    this.#repairs = this.#repairs.then(() => this.#retrying(step)).catch(() => {
      void this.#end('SUBSCRIPTION_FAILED', 'the subscription lost a change and could not read it again; subscribe again to resume').catch(() => {});
    });
  }

  /** Runs a repair step, again after a failure while REPAIR_RETRY_MS has not passed (each step leaves its state whole when it fails). */
  async #retrying(step: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + (this.#d.repairRetryMs ?? REPAIR_RETRY_MS);
    for (let attempt = 0; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        if (this.#stopped || Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(200 * 2 ** attempt, 2000)));
      }
    }
  }

  #deliver(change: busPb.Change, atLeast = 0n): Promise<void> {
    this.#lastSeq = change.seq;
    const window = this.#window;
    if (window === undefined) return this.#deliverRows(change);
    const step = this.#windowChain.then(() => this.#deliverWindow(window, change, atLeast));
    // A failure (a refill that cannot be read) ends the subscription; the client resumes.
    this.#windowChain = step.catch((err: unknown) => {
      if (err instanceof FilterBudgetExceeded) return this.#end('FILTER_BUDGET_EXCEEDED', `${err.message}; the subscription is ended (simplify its WHERE, e.g. fewer % in LIKE patterns)`);
      return this.#end('SUBSCRIPTION_FAILED', 'the subscription could not keep its window; subscribe again to resume');
    });
    return this.#windowChain;
  }

  /** A change's row changes as events, filtered (within the filter budget) and projected. */
  #deliverRows(change: busPb.Change): Promise<void> {
    let events: LiveEvent[];
    try {
      events = this.#rowEvents(change);
    } catch (err) {
      if (!(err instanceof FilterBudgetExceeded)) throw err;
      return this.#end('FILTER_BUDGET_EXCEEDED', `${err.message}; the subscription is ended (simplify its WHERE, e.g. fewer % in LIKE patterns)`);
    }
    if (events.length === 0) return Promise.resolve();
    this.#d.metrics?.deliveries.inc();
    const sent = events.length === 1 ? this.#emit(events[0]!) : Promise.all(events.map((e) => this.#emit(e))).then(() => undefined);
    if (tracingOn()) this.#traceDelivery(change, sent);
    return sent;
  }

  /** A `change.deliver` span, child of the change's publish, ending when its events are written. */
  #traceDelivery(change: busPb.Change, sent: Promise<void>): void {
    const traceparent = changeTraceparent(change);
    if (traceparent === undefined) return;
    const span = startSpan(TRACER, 'change.deliver', { kind: SpanKind.CONSUMER, parent: contextOf(traceparent), attributes: { 'seqline.subscription': this.#d.id } });
    sent.then(() => endSpan(span), (err: unknown) => endSpan(span, err));
  }

  #rowEvents(change: busPb.Change): LiveEvent[] {
    const id = this.#d.id;
    return this.#bodies(change).map((body) => ({ type: 'change', subscription_id: id, ...body, shared: body }));
  }

  /** A change's event bodies for this query: the ones its shape's first subscription made, when shared. */
  #bodies(change: busPb.Change): readonly ChangeBody[] {
    const shape = this.#d.shape;
    // A STREAM table's rows expire by the clock: each subscription decides as it delivers.
    if (shape === undefined || expiresRows(this.#d.query.table)) return this.#makeBodies(change);
    let byShape = bodies.get(change);
    if (byShape === undefined) bodies.set(change, (byShape = new Map<string, readonly ChangeBody[]>()));
    let made = byShape.get(shape);
    if (made === undefined) byShape.set(shape, (made = this.#makeBodies(change)));
    return made;
  }

  #makeBodies(change: busPb.Change): ChangeBody[] {
    const budget = meter(this.#d.filterBudget ?? DEFAULT_FILTER_BUDGET);
    const out: ChangeBody[] = [];
    for (const r of change.rows) {
      const { old, next } = unexpired(this.#d.query.table, imagesOf(r));
      const kind = liveChange(this.#d.query.filter, old, next, budget);
      if (kind === 'insert') out.push({ change_type: 'insert', rows: [this.#project(next!)] });
      else if (kind === 'update') out.push({ change_type: 'update', rows: [this.#project(next!)], old_values: [this.#project(old!)] });
      // A delete carries the _seq of the change that removed the row (a resume cursor never goes back).
      else if (kind === 'delete') out.push({ change_type: 'delete', old_values: [{ ...this.#project(old ?? next!), _seq: String(r.seq) }] });
    }
    return out;
  }

  /** Ends the subscription with an error event (its last event). */
  #end(code: 'FILTER_BUDGET_EXCEEDED' | 'SUBSCRIPTION_FAILED', message: string): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const sent = this.#d.send({ type: 'error', subscription_id: this.#d.id, code, message }, this.#live);
    this.stop();
    return sent;
  }

  #project(image: LiveRow): Row {
    return Object.fromEntries(this.#d.query.columns.map((c) => [c, image[c] ?? null]));
  }

  #emit(event: LiveEvent): Promise<void> {
    return this.#stopped ? Promise.resolve() : this.#d.send(event, this.#live);
  }
}
