// The apply loop of one storage replica (docs/architecture.md §3). Each shard the replica owns has a
// durable pull consumer delivering its ops in log order; the loop takes whatever has arrived,
// from every shard at once, and applies it as one batch in one PostgreSQL transaction, so a
// batch grows with the total load rather than with the load of one shard. Per batch: the
// owned shards' rows are locked and their epochs checked (fencing), published outbox rows of
// the previous batch are deleted, ops are applied in each shard's log order, and the change
// records (outbox), op results, per-subject heads (prev_seq) and shard watermarks are written.
// After commit: send the op results, ack each shard's last op, and publish the outbox while the
// next batch is applied. Ops at or
// below their shard's watermark (redelivered after a crash) are not applied again; their
// stored results are re-sent.
//
// Ops run as seqline_writer (issue 10): after the shard locks, the transaction switches to that
// role (SET LOCAL ROLE) and sets each op's owner (SET LOCAL seqline.owner) right before the op's
// statements, pipelined with them; row-level security then admits only the owner's partition
// (or, for a SHARED op, the shared tables), whatever the statement contains. RESET ROLE comes
// before the bookkeeping (outbox, op results, heads, watermarks), written as the runtime role.
//
// Ops run without savepoints first. When one fails (a duplicate key, a NOT NULL violation)
// the transaction is rolled back and the batch is applied again with a savepoint per op, so a
// failing op commits only its error result and never stops its shard.
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { JsPublisher, type BusNames } from '@seqline/bus';
import { busPb } from '@seqline/proto';
import { ProtocolError, toProtocolError } from '@seqline/protocol';
import type { Logger, Registry, RunningState } from '@seqline/runtime';
import { ownerSettingSql, SqlError, WRITER_ROLE } from '@seqline/sql';
import type { Sql } from 'postgres';
import type { CatalogCache } from '../catalog.js';
import { SequencerUnavailableError, type IdPool } from '../ids.js';
import { isConnectionLost } from '../db.js';
import { pgToProtocolError } from '../pg-errors.js';
import { applyOp, prepareOp, type AppliedOp, type Exec, type PreparedOp } from './apply-op.js';
import { checkChangeSize, rowChanges, timeoutsStatement, type ApplyLimits } from './limits.js';
import { deleteOutbox, publishOutbox, type OutboxRow } from './outbox.js';
import { ApplyMetrics, batchTrace, endBatchTrace, opTraceparent, type BatchTrace } from './telemetry.js';

/** Lifetime of one pull request of the ops consumers (see addShard). */
export const PULL_EXPIRES_MS = 4000;

export class FencedError extends Error {
  override readonly name = 'FencedError';
}

export interface ApplierDeps {
  /** The pool, for work outside the apply transactions. */
  readonly sql: Sql;
  /**
   * A client with one connection (max: 1) for the apply transactions: statements are
   * pipelined on it, BEGIN and COMMIT included, and it connects again by itself when its
   * connection is lost.
   */
  readonly applySql: Sql;
  readonly nc: NatsConnection;
  readonly names: BusNames;
  readonly catalog: CatalogCache;
  readonly ids: IdPool;
  readonly logger: Logger;
  readonly state: RunningState;
  /** Most ops in one transaction. */
  readonly batch: number;
  /** Distinct op statement texts kept prepared on the apply connection. */
  readonly preparedStatements: number;
  readonly ackWaitMs: number;
  /** Row and change sizes, statement and lock timeouts (see limits.ts). */
  readonly limits: ApplyLimits;
  /** Where the seqline_storage_apply_* metrics go. */
  readonly metrics: Registry;
}

interface Pending {
  readonly shard: number;
  readonly msg: JsMsg;
  readonly op: busPb.Op;
}

/**
 * A shard being applied. Its watermark, highest `_seq` and heads are kept in memory: only the
 * owner of the shard's epoch writes them, and every transaction checks that epoch.
 */
interface Feed {
  readonly shard: number;
  readonly epoch: bigint;
  readonly queue: JsMsg[];
  /** Last applied stream sequence, as committed. */
  watermark: bigint;
  /** Highest `_seq` handed out for the shard (ids are taken above it). */
  readonly floor: { value: bigint };
}

/** Heads kept in memory at most; the least recently written are dropped and re-read when needed. */
const HEAD_CACHE = 100_000;

interface ChangeRecord {
  readonly shard: number;
  readonly subject: string;
  readonly seq: bigint;
  readonly payload: Uint8Array;
  /** The trace context the change is published under ('' = none). */
  readonly traceparent: string;
}

interface Committed {
  readonly outbox: OutboxRow[];
  readonly results: { op: busPb.Op; result: busPb.OpResult }[];
  /** How many of `results` (the last ones) are of ops applied now, not re-sent stored results. */
  readonly fresh: number;
  /** Updates the in-memory watermarks and heads once the transaction has committed. */
  readonly commit: () => void;
}

/** An open transaction: its connection, its BEGIN (awaited with the first statements) and COMMIT. */
interface Tx {
  readonly sql: Sql;
  /** Runs an op's statement (prepared or not, see Applier.#prepare). */
  readonly exec: Exec;
  /** Sends the SET LOCAL of the next op's owner (not waited for: it goes out before the op). */
  readonly asOwner: (owner: string) => Promise<unknown>;
  readonly begun: Promise<unknown>;
  readonly commit: () => Promise<void>;
}

/** Op statement texts remembered as seen once, to prepare those that come again. */
const SEEN_TEXTS = 2000;

const json = (rows: readonly object[]): string => JSON.stringify(rows);

/** What applying an op came to: its effect, or the error it gets as its result. */
type Outcome = AppliedOp | ProtocolError;
type Settled = { readonly applied: AppliedOp } | { readonly err: unknown };

/** The in-memory watermark differs from the locked shard row: state is re-read and the batch retried. */
class StaleStateError extends Error {}

/** Thrown inside an optimistic transaction when an op fails: the batch is redone with savepoints. */
class RedoWithSavepoints extends Error {}
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

export class Applier {
  readonly #deps: ApplierDeps;
  readonly #js: JetStreamClient;
  readonly #publisher: JsPublisher;
  readonly #feeds = new Map<number, Feed>();
  /** Outbox rows published after the last commit, deleted by the next transaction. */
  #published: string[] = [];
  #wake: (() => void) | undefined;
  #nextFeed = 0;
  /** Last `_seq` per change subject of the owned shards (see HEAD_CACHE). */
  readonly #heads = new Map<string, bigint>();
  /** The last committed batch's changes being published. */
  #publishing: Promise<void> = Promise.resolve();
  /** Set when a batch failed: the in-memory state may be behind PostgreSQL (see #reload). */
  #mustReload = false;
  /** Op statement texts seen once (see #prepare), oldest first. */
  readonly #seen = new Map<string, true>();
  /** Texts prepared on the apply connection. */
  readonly #prepared = new Set<string>();
  readonly #metrics: ApplyMetrics;
  /** The spans of the batch being applied (tracing on only). */
  #trace: BatchTrace | undefined;

  constructor(deps: ApplierDeps) {
    this.#deps = deps;
    this.#metrics = new ApplyMetrics(deps.metrics, () => this.queued);
    this.#js = jetstream(deps.nc);
    this.#publisher = new JsPublisher(deps.nc, { timeoutMs: 5000 });
  }

  /** Ops delivered by the consumers and waiting for a batch. */
  get queued(): number {
    let n = 0;
    for (const feed of this.#feeds.values()) n += feed.queue.length;
    return n;
  }

  /**
   * Starts applying `shard`, just taken with `epoch`: changes it committed but never published
   * go out first, then its consumer is recreated at the watermark and its ops join the batches.
   */
  async addShard(shard: number, epoch: bigint): Promise<void> {
    const { state, logger } = this.#deps;
    await this.#publishLeftovers(shard);
    const [row] = await this.#deps.sql<{ watermark: string; max_seq: string }[]>`SELECT watermark, max_seq FROM seqline.shards WHERE shard = ${shard}`;
    const watermark = BigInt(row?.watermark ?? '0');
    const consumerName = `storage_shard_${shard}`;
    await this.#resetConsumer(shard, consumerName, watermark + 1n);
    const consumer = await this.#js.consumers.get(this.#deps.names.opsStream, consumerName);
    // Pulls expire after PULL_EXPIRES_MS (heartbeats every half of it): when the consumer's
    // leader moves to another NATS node, pulls the old one held are lost, and the client sees
    // two missed heartbeats and pulls again; with the 30 s default the shard stalls that long.
    const messages = await consumer.consume({ max_messages: Math.max(100, this.#deps.batch * 2), expires: PULL_EXPIRES_MS });
    state.signal.addEventListener('abort', () => void messages.close(), { once: true });
    const feed: Feed = { shard, epoch, queue: [], watermark, floor: { value: BigInt(row?.max_seq ?? '0') } };
    this.#feeds.set(shard, feed);
    void (async () => {
      for await (const m of messages) {
        feed.queue.push(m);
        this.#wake?.();
      }
      this.#wake?.();
    })();
    logger.info('applying shard', { shard, epoch });
  }

  /** Applies until the state stops; rejects with FencedError if another replica took a shard. */
  async run(): Promise<void> {
    const { state } = this.#deps;
    while (state.shouldRun()) {
      const batch = this.#take();
      if (batch.length === 0) {
        await this.#publishing;
        await this.#flushPublished();
        // Ops that arrived, or a stop that came, during those awaits found no waiter to wake.
        if (this.queued > 0 || !state.shouldRun()) continue;
        await new Promise<void>((resolve) => {
          if (state.signal.aborted) return resolve();
          const onAbort = (): void => resolve();
          this.#wake = () => {
            state.signal.removeEventListener('abort', onAbort);
            resolve();
          };
          state.signal.addEventListener('abort', onAbort, { once: true });
        });
        this.#wake = undefined;
        continue;
      }
      await this.#applyWithRetry(batch);
    }
    await this.#publishing;
    this.#publisher.close();
  }

  /** Up to `batch` queued ops, each shard's in log order, starting from a rotating shard. */
  #take(): Pending[] {
    const feeds = [...this.#feeds.values()];
    const out: { shard: number; msg: JsMsg }[] = [];
    for (let i = 0; i < feeds.length && out.length < this.#deps.batch; i++) {
      const feed = feeds[(this.#nextFeed + i) % feeds.length]!;
      for (const msg of feed.queue.splice(0, this.#deps.batch - out.length)) out.push({ shard: feed.shard, msg });
    }
    this.#nextFeed++;
    return out.map(({ shard, msg }) => ({ shard, msg, op: busPb.Op.decode(msg.data) }));
  }

  async #applyWithRetry(pending: Pending[]): Promise<void> {
    const { state, logger } = this.#deps;
    while (state.shouldRun()) {
      try {
        if (this.#mustReload) await this.#reload();
        await this.#applyBatch(pending);
        state.resetBackoff();
        return;
      } catch (err) {
        if (err instanceof FencedError) throw err;
        // The transaction may have committed even so (the connection broke during COMMIT):
        // what is in memory is re-read from PostgreSQL before the batch is tried again.
        this.#mustReload = true;
        this.#metrics.batchFailures.inc();
        logger.warn('apply batch failed; retrying', { ops: pending.length, err });
        if (!(await state.backoff())) return;
      }
    }
  }

  /**
   * Re-reads the owned shards' watermarks and highest `_seq`, forgets the cached heads, and
   * publishes what the outbox holds: the state after a batch whose outcome is unknown.
   */
  async #reload(): Promise<void> {
    const rows = await this.#deps.sql<{ shard: number; watermark: string; max_seq: string }[]>`SELECT shard, watermark, max_seq FROM seqline.shards WHERE shard = ANY(${[...this.#feeds.keys()]})`;
    for (const row of rows) {
      const feed = this.#feeds.get(row.shard)!;
      feed.watermark = BigInt(row.watermark);
      const maxSeq = BigInt(row.max_seq);
      if (maxSeq > feed.floor.value) feed.floor.value = maxSeq;
    }
    this.#heads.clear();
    // Changes of a batch that committed unbeknown to us are still in the outbox: publish them.
    await this.#publishing;
    for (const shard of this.#feeds.keys()) await this.#publishLeftovers(shard);
    this.#mustReload = false;
  }

  async #applyBatch(pending: Pending[]): Promise<void> {
    // A long batch tells JetStream it is still working, so its ops are not redelivered meanwhile.
    const heartbeat = setInterval(() => pending.forEach((p) => p.msg.working()), Math.max(500, this.#deps.ackWaitMs / 3));
    let committed: Committed;
    const published = this.#published;
    this.#published = [];
    const startedMs = performance.now();
    this.#trace = batchTrace(pending.map((p) => p.op));
    try {
      committed = await this.#inTransaction((tx) => this.#transaction(tx, pending, published, false)).catch((err: unknown) => {
        if (!(err instanceof RedoWithSavepoints)) throw err;
        this.#deps.logger.debug('an op failed; applying the batch again with a savepoint per op', { ops: pending.length, shards: new Set(pending.map((p) => p.shard)).size });
        return this.#inTransaction((tx) => this.#transaction(tx, pending, published, true));
      });
    } catch (err) {
      this.#published = [...published, ...this.#published];
      endBatchTrace(this.#trace, err);
      throw err;
    } finally {
      clearInterval(heartbeat);
    }
    // Committed: the ops, their results and their changes are durable in PostgreSQL (a crash
    // from here on leaves the changes in the outbox, published at the next start).
    const { outbox, results } = committed;
    committed.commit();
    const fresh = results.slice(results.length - committed.fresh);
    this.#metrics.committed(fresh.map((r) => r.op), fresh.filter((r) => !r.result.ok).length, startedMs);
    this.#metrics.unpublished += outbox.length;
    endBatchTrace(this.#trace);
    this.#trace = undefined;
    for (const { op, result } of results) {
      if (op.replyTo !== '') this.#deps.nc.publish(op.replyTo, busPb.OpResult.encode(result).finish());
    }
    // Acknowledging a shard's last delivered op acknowledges all before it (AckPolicy.All).
    const last = new Map<number, JsMsg>();
    for (const p of pending) last.set(p.shard, p.msg);
    for (const msg of last.values()) msg.ack();
    // The changes go out while the next batch is applied; at most one batch's publishing is
    // outstanding, and batches are published in commit order (a subject's order).
    await this.#publishing;
    this.#publishing = this.#publish(outbox);
  }

  async #publish(outbox: readonly OutboxRow[]): Promise<void> {
    try {
      await publishOutbox(this.#publisher, outbox, this.#deps.state, this.#deps.logger);
      this.#published.push(...outbox.map((r) => r.id));
      this.#metrics.unpublished -= outbox.length;
      this.#metrics.changesPublished.inc(outbox.length);
    } catch (err) {
      // Only when stopping: the rows stay in the outbox and are published at the next start.
      this.#deps.logger.warn('changes not published before stopping; they will be at the next start', { changes: outbox.length, err });
    }
  }

  /**
   * Runs `fn` in a transaction on a connection of its own. BEGIN is not waited for: it goes
   * out with `fn`'s first statements, and `fn` sends COMMIT with its last ones (postgres.js
   * pipelines the statements of one connection). Any failure rolls back.
   */
  async #inTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const { applySql: sql } = this.#deps;
    const timeouts = timeoutsStatement(this.#deps.limits);
    const begun = Promise.all([sql.unsafe('BEGIN'), sql.unsafe(timeouts.text, timeouts.params)]);
    begun.catch(() => {}); // a failed BEGIN fails the statements after it, which fn awaits
    const exec: Exec = (text, params) => sql.unsafe<Record<string, unknown>[]>(text, params as never[], { prepare: this.#prepare(text) });
    const asOwner = (owner: string): Promise<unknown> => sql.unsafe(ownerSettingSql(owner), [], { prepare: false }).execute();
    try {
      return await fn({ sql, exec, asOwner, begun, commit: () => sql.unsafe('COMMIT').then(() => undefined) });
    } catch (err) {
      // After a lost connection the client connects again for the next batch.
      if (isConnectionLost(err)) this.#prepared.clear();
      else await sql.unsafe('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  /**
   * Whether to run an op's statement as a prepared statement: parsed and planned once per
   * connection, then only bound and executed. Statements of one shape share a text (values
   * are parameters), but literals written in the SQL make texts that never repeat; so a text
   * is prepared the second time it is seen, and at most `preparedStatements` of them.
   */
  #prepare(text: string): boolean {
    if (this.#prepared.has(text)) return true;
    if (!this.#seen.delete(text)) {
      this.#seen.set(text, true);
      if (this.#seen.size > SEEN_TEXTS) this.#seen.delete(this.#seen.keys().next().value!);
      return false;
    }
    if (this.#prepared.size >= this.#deps.preparedStatements) return false;
    this.#prepared.add(text);
    return true;
  }

  /**
   * One batch in one transaction, in two round trips of pipelined statements: first the shard
   * locks, the previous batch's outbox deletion, any heads not in memory, stored results of
   * redelivered ops and the ops themselves; then the outbox, op results, heads and watermarks.
   */
  async #transaction(txn: Tx, pending: Pending[], published: readonly string[], savepoints: boolean): Promise<Committed> {
    const { sql: tx, begun, commit: sendCommit } = txn;
    const shards = [...new Set(pending.map((p) => p.shard))].sort((a, b) => a - b);
    const feeds = shards.map((shard) => this.#feeds.get(shard)!);
    const fresh: Pending[] = [];
    const stale: Pending[] = [];
    for (const feed of feeds) {
      const split = splitByWatermark(
        pending.filter((p) => p.shard === feed.shard),
        feed.watermark,
      );
      fresh.push(...split.fresh);
      stale.push(...split.stale);
    }
    const subjects = [...new Set(fresh.map((p) => this.#subject(p.op)))];
    const missing = subjects.filter((s) => !this.#heads.has(s));
    const first = Promise.all([
      begun,
      tx<{ shard: number; epoch: string; watermark: string }[]>`SELECT shard, epoch, watermark FROM seqline.shards WHERE shard = ANY(${shards}) ORDER BY shard FOR UPDATE`,
      deleteOutbox(tx, published),
      missing.length === 0 ? [] : tx<{ subject: string; seq: string }[]>`SELECT subject, seq FROM seqline.heads WHERE subject = ANY(${missing})`,
      this.#storedResults(tx, stale),
      // Last: Promise.all sends its statements in this order, and the ops come after it.
      tx.unsafe(`SET LOCAL ROLE ${WRITER_ROLE}`),
    ]);
    first.catch(() => {}); // awaited below, after the ops are sent
    // Ids are taken above the in-memory floors; a rolled-back batch leaves them higher, never lower.
    const floors = new Map(feeds.map((f) => [f.shard, f.floor]));
    const outcomes = savepoints ? await this.#applyEach(txn, fresh, floors) : await this.#applyPipelined(txn, fresh, floors);
    const asRuntime = tx.unsafe('RESET ROLE').execute();
    asRuntime.catch(() => {}); // awaited after `first`, which may fail first
    const [, locked, , headRows, results] = await first;
    await asRuntime;
    for (const feed of feeds) {
      const row = locked.find((r) => r.shard === feed.shard);
      if (row === undefined || BigInt(row.epoch) !== feed.epoch) throw new FencedError(`shard ${feed.shard} is now owned by another storage replica`);
      // Memory is behind: an earlier batch committed although its COMMIT seemed to fail (and
      // was not yet visible when memory was re-read). Roll back and start again from the rows.
      if (BigInt(row.watermark) !== feed.watermark) throw new StaleStateError(`shard ${feed.shard} is at ${row.watermark} in PostgreSQL, ${feed.watermark} in memory`);
    }
    const heads = new Map(subjects.map((s) => [s, this.#heads.get(s) ?? 0n]));
    for (const h of headRows) heads.set(h.subject, BigInt(h.seq));
    const changes: ChangeRecord[] = [];
    const committedAtUs = BigInt(Date.now()) * 1000n;
    const watermarks = new Map<number, bigint>();
    fresh.forEach((p, i) => {
      results.push({ op: p.op, result: this.#record(p, outcomes[i]!, heads, changes, committedAtUs) });
      watermarks.set(p.shard, BigInt(p.msg.seq));
    });
    const changed = new Set(changes.map((c) => c.subject));
    const newResults = results.slice(results.length - fresh.length);
    const payloads = new Map(changes.map((c) => [`${c.subject}:${c.seq}`, c]));
    // postgres.js runs a query when it is first awaited or executed: each statement is executed
    // here, in order, and COMMIT is sent after them on the same connection. Rows travel as one
    // JSON parameter, so each statement's text is fixed (and prepared once).
    const outboxRows =
      changes.length === 0
        ? undefined
        : tx<{ id: string; subject: string; seq: string }[]>`
            INSERT INTO seqline.outbox (shard, subject, seq, payload)
            SELECT x.shard, x.subject, x.seq, decode(x.payload, 'base64')
            FROM ROWS FROM (jsonb_to_recordset(${json(changes.map((c) => ({ shard: c.shard, subject: c.subject, seq: String(c.seq), payload: Buffer.from(c.payload).toString('base64') })))}::jsonb) AS (shard int, subject text, seq bigint, payload text))
              WITH ORDINALITY AS x(shard, subject, seq, payload, n)
            ORDER BY x.n
            RETURNING id, subject, seq`.execute();
    const resultRows =
      newResults.length === 0
        ? undefined
        : tx`
            INSERT INTO seqline.op_results (op_id, shard, stream_seq, result)
            SELECT x.op_id, x.shard, x.stream_seq, decode(x.result, 'base64')
            FROM jsonb_to_recordset(${json(newResults.map(({ op, result }) => ({ op_id: op.opId, shard: Number(result.shard), stream_seq: String(result.streamSeq), result: Buffer.from(busPb.OpResult.encode(result).finish()).toString('base64') })))}::jsonb) AS x(op_id text, shard int, stream_seq bigint, result text)
            ON CONFLICT (op_id) DO NOTHING`.execute();
    const headRowsWritten =
      changed.size === 0
        ? undefined
        : tx`
            INSERT INTO seqline.heads (subject, seq)
            SELECT x.subject, x.seq FROM jsonb_to_recordset(${json([...changed].map((subject) => ({ subject, seq: String(heads.get(subject)) })))}::jsonb) AS x(subject text, seq bigint)
            ON CONFLICT (subject) DO UPDATE SET seq = EXCLUDED.seq`.execute();
    const shardRows =
      watermarks.size === 0
        ? undefined
        : tx`UPDATE seqline.shards AS s SET watermark = u.watermark, max_seq = u.max_seq
             FROM jsonb_to_recordset(${json([...watermarks].map(([shard, watermark]) => ({ shard, watermark: String(watermark), max_seq: String(floors.get(shard)!.value), epoch: String(this.#feeds.get(shard)!.epoch) })))}::jsonb)
               AS u(shard int, watermark bigint, max_seq bigint, epoch bigint)
             WHERE s.shard = u.shard AND s.epoch = u.epoch`.execute();
    const [outbox = []] = await Promise.all([outboxRows, resultRows, headRowsWritten, shardRows, sendCommit()]);
    const rowsOut: OutboxRow[] = outbox.map((r) => {
      const change = payloads.get(`${r.subject}:${r.seq}`)!;
      return { ...r, payload: Buffer.from(change.payload), traceparent: change.traceparent };
    });
    const commit = (): void => {
      for (const [shard, watermark] of watermarks) this.#feeds.get(shard)!.watermark = watermark;
      for (const subject of changed) {
        this.#heads.delete(subject); // re-inserted last: the map's order is least recently written first
        this.#heads.set(subject, heads.get(subject)!);
      }
      for (const subject of this.#heads.keys()) {
        if (this.#heads.size <= HEAD_CACHE) break;
        this.#heads.delete(subject);
      }
    };
    return { outbox: rowsOut.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id))), results, fresh: fresh.length, commit };
  }

  /** Each op in its own savepoint: a failing op rolls back alone and gets its error. */
  async #applyEach({ sql: tx, exec, asOwner }: Tx, fresh: readonly Pending[], floors: ReadonlyMap<number, { value: bigint }>): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const p of fresh) {
      const deps = { catalog: this.#deps.catalog, ids: this.#deps.ids, seqFloor: floors.get(p.shard)! };
      try {
        await tx.unsafe('SAVEPOINT op');
        await asOwner(p.op.owner);
        const applied = await applyOp(exec, p.op, deps);
        checkChangeSize(p.op, applied, this.#deps.limits);
        out.push(applied);
        await tx.unsafe('RELEASE SAVEPOINT op');
      } catch (err) {
        await tx.unsafe('ROLLBACK TO SAVEPOINT op');
        const failure = this.#opFailure(err);
        if (failure.code === 'INTERNAL_ERROR') this.#deps.logger.error('op failed with an internal error', { shard: p.shard, opId: p.op.opId, err });
        out.push(failure);
      }
    }
    return out;
  }

  /**
   * The ops without savepoints; runs of inserts go to PostgreSQL without waiting for each
   * other's answers. Any failing op throws RedoWithSavepoints (a lost connection throws as is).
   */
  async #applyPipelined({ exec, asOwner }: Tx, fresh: readonly Pending[], floors: ReadonlyMap<number, { value: bigint }>): Promise<AppliedOp[]> {
    const inflight: Promise<Settled>[] = [];
    const settle = (op: busPb.Op, promise: Promise<AppliedOp>): Promise<Settled> =>
      promise
        .then((applied) => {
          checkChangeSize(op, applied, this.#deps.limits);
          return { applied };
        })
        .catch((err: unknown) => ({ err }));
    const drain = async (): Promise<AppliedOp[]> => {
      const settled = await Promise.all(inflight.splice(0));
      for (const s of settled) if ('err' in s) throw new RedoWithSavepoints(this.#opFailure(s.err).message);
      return settled.map((s) => (s as { applied: AppliedOp }).applied);
    };
    const out: AppliedOp[] = [];
    for (const p of fresh) {
      const deps = { catalog: this.#deps.catalog, ids: this.#deps.ids, seqFloor: floors.get(p.shard)! };
      let op: PreparedOp;
      try {
        op = await prepareOp(p.op, deps);
      } catch (err) {
        await drain();
        throw new RedoWithSavepoints(this.#opFailure(err).message);
      }
      if (op.kind === 'statement') {
        const owned = asOwner(p.op.owner);
        inflight.push(settle(p.op, Promise.all([owned, exec(op.text, op.params)]).then(([, rows]) => op.finish(rows))));
      } else {
        out.push(...(await drain()));
        const owned = asOwner(p.op.owner);
        inflight.push(settle(p.op, Promise.all([owned, op.run(exec)]).then(([, applied]) => applied)));
        out.push(...(await drain()));
      }
    }
    out.push(...(await drain()));
    return out;
  }

  /** The op's result, and its change record (chained to the subject's head) if it changed rows. */
  #record(p: Pending, outcome: Outcome, heads: Map<string, bigint>, changes: ChangeRecord[], committedAtUs: bigint): busPb.OpResult {
    const base = { opId: p.op.opId, streamSeq: BigInt(p.msg.seq), shard: p.shard };
    if (outcome instanceof ProtocolError) {
      return { ...base, ok: false, rowCount: 0n, message: '', errorCode: outcome.code, errorMessage: outcome.message, seq: 0n, returningJson: '' };
    }
    let seq = 0n;
    if (outcome.changes.length > 0) {
      const subject = this.#subject(p.op);
      seq = outcome.changes.reduce((m, c) => (c.seq > m ? c.seq : m), 0n);
      const change = busPb.Change.encode({
        owner: p.op.owner,
        namespace: p.op.namespace,
        table: p.op.table,
        seq,
        prevSeq: heads.get(subject) ?? 0n,
        opId: p.op.opId,
        committedAtUs,
        rows: rowChanges(outcome),
      }).finish();
      heads.set(subject, seq);
      changes.push({ shard: p.shard, subject, seq, payload: change, traceparent: opTraceparent(this.#trace, p.op.opId) });
    }
    return { ...base, ok: true, rowCount: BigInt(outcome.rowCount), message: outcome.message, errorCode: '', errorMessage: '', seq, returningJson: outcome.returning ? JSON.stringify(outcome.returning) : '' };
  }

  /** A failure that belongs to the op (bad input, constraint) becomes its result; a broken connection aborts the batch. */
  #opFailure(err: unknown): ProtocolError {
    if (isConnectionLost(err)) throw err;
    if (err instanceof FencedError) throw err;
    if (err instanceof SequencerUnavailableError) throw err; // transient: the batch is retried
    if (err instanceof SqlError) return new ProtocolError(err.code, err.message);
    const pg = pgToProtocolError(err);
    if (pg !== undefined) return pg;
    return toProtocolError(err);
  }

  async #storedResults(tx: Sql, stale: Pending[]): Promise<{ op: busPb.Op; result: busPb.OpResult }[]> {
    if (stale.length === 0) return [];
    const rows = await tx<{ op_id: string; result: Buffer }[]>`SELECT op_id, result FROM seqline.op_results WHERE op_id = ANY(${stale.map((p) => p.op.opId)})`;
    const byId = new Map(rows.map((r) => [r.op_id, busPb.OpResult.decode(r.result)]));
    return stale.flatMap((p) => {
      const result = byId.get(p.op.opId);
      if (result === undefined) {
        // Only possible if the log was delivered out of order, which #resetConsumer prevents.
        this.#deps.logger.error('op at or below the watermark has no stored result; not applied', { shard: p.shard, opId: p.op.opId, streamSeq: p.msg.seq });
        return [];
      }
      return [{ op: p.op, result }];
    });
  }

  #subject(op: busPb.Op): string {
    return this.#deps.names.changes(op.owner, op.namespace, op.table);
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

  async #flushPublished(): Promise<void> {
    const ids = this.#published;
    this.#published = [];
    await deleteOutbox(this.#deps.sql, ids).catch((err: unknown) => {
      this.#published.push(...ids);
      this.#deps.logger.warn('cannot delete published outbox rows; will retry', { err });
    });
  }

  /** Changes committed but not published before a crash go out first, once each. */
  async #publishLeftovers(shard: number): Promise<void> {
    const rows = await this.#deps.sql<OutboxRow[]>`SELECT id, subject, seq, payload FROM seqline.outbox WHERE shard = ${shard} ORDER BY id`;
    if (rows.length === 0) return;
    this.#deps.logger.info('publishing changes left in the outbox', { shard, count: rows.length });
    await publishOutbox(this.#publisher, rows, this.#deps.state, this.#deps.logger, { skipPublished: true, nc: this.#deps.nc, stream: this.#deps.names.changesStream });
    await deleteOutbox(this.#deps.sql, rows.map((r) => r.id));
  }
}

