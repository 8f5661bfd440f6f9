// The apply loop of one storage replica (docs/architecture.md §3). The shards it owns feed their
// ops in log order (feed.ts); the loop takes whatever has arrived, from every shard at once,
// and applies it as one batch in one pipelined PostgreSQL transaction (transaction.ts), so a
// batch grows with the total load rather than with the load of one shard. Per batch: the
// owned shards' rows are locked and their epochs checked (fencing), published outbox rows of
// the previous batch are deleted, ops are applied in each shard's log order (execute.ts), and
// the change records (outbox), op results, per-subject heads (prev_seq) and shard watermarks
// are written (bookkeeping.ts). After commit: send the op results, ack each shard's last op,
// and publish the outbox (outbox.ts, with its own backoff) while the next batch is applied.
// Ops at or below their shard's watermark (redelivered after a crash) are not applied again;
// their stored results are re-sent.
//
// Ops run as seqline_writer (issue 10): after the shard locks, the transaction switches to that
// role (SET LOCAL ROLE) and sets each op's owner (SET LOCAL seqline.owner) right before the op's
// statements, pipelined with them; row-level security then admits only the owner's partition
// (or, for a SHARED op, the shared tables), whatever the statement contains. RESET ROLE comes
// before the bookkeeping (outbox, op results, heads, watermarks), written as the runtime role.
//
// Failures: a failed batch is retried with the service's backoff after re-reading the shards'
// state; a fencing (another replica took a shard) or a shard feed that stopped rejects run(),
// and the service fails (storage.ts).
import type { NatsConnection } from '@nats-io/transport-node';
import type { JsMsg } from '@nats-io/jetstream';
import { JsPublisher, resultMessages, type BusNames } from '@seqline/bus';
import type { busPb } from '@seqline/proto';
import type { Logger, Registry, RunningState } from '@seqline/runtime';
import { WRITER_ROLE } from '@seqline/sql';
import type { Sql } from 'postgres';
import type { CatalogCache } from '../catalog.js';
import type { IdPool } from '../ids.js';
import { HeadCache, recordResult, storedResults, writeBookkeeping, type ChangeRecord, type OpWithResult } from './bookkeeping.js';
import { applyEach, applyPipelined, FencedError, RedoWithSavepoints, type ExecuteDeps } from './execute.js';
import { ShardFeeds, splitByWatermark, type Feed, type Pending } from './feed.js';
import type { ApplyLimits } from './limits.js';
import { deleteOutbox, OutboxPublisher, type OutboxRow } from './outbox.js';
import { PreparedTexts } from './prepared.js';
import { ApplyMetrics, batchTrace, endBatchTrace, opTraceparent, type BatchTrace } from './telemetry.js';
import { inTransaction, type Tx } from './transaction.js';

export { FencedError } from './execute.js';
export { FeedFailedError, PULL_EXPIRES_MS } from './feed.js';

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

interface Committed {
  readonly outbox: OutboxRow[];
  readonly results: OpWithResult[];
  /** How many of `results` (the last ones) are of ops applied now, not re-sent stored results. */
  readonly fresh: number;
  /** Updates the in-memory watermarks and heads once the transaction has committed. */
  readonly commit: () => void;
}

/** The in-memory watermark differs from the locked shard row: state is re-read and the batch retried. */
class StaleStateError extends Error {}

export class Applier {
  readonly #deps: ApplierDeps;
  readonly #feeds: ShardFeeds;
  readonly #js: JsPublisher;
  readonly #outbox: OutboxPublisher;
  readonly #execute: ExecuteDeps;
  readonly #prepared: PreparedTexts;
  /** Outbox rows published after the last commit, deleted by the next transaction. */
  #published: string[] = [];
  readonly #heads = new HeadCache();
  /** The last committed batch's changes being published. */
  #publishing: Promise<void> = Promise.resolve();
  /** Set when a batch failed: the in-memory state may be behind PostgreSQL (see #reload). */
  #mustReload = false;
  readonly #metrics: ApplyMetrics;
  /** The spans of the batch being applied (tracing on only). */
  #trace: BatchTrace | undefined;

  constructor(deps: ApplierDeps) {
    this.#deps = deps;
    this.#feeds = new ShardFeeds(deps);
    this.#metrics = new ApplyMetrics(deps.metrics, () => this.queued);
    this.#js = new JsPublisher(deps.nc, { timeoutMs: 5000 });
    this.#outbox = new OutboxPublisher({ publisher: this.#js, state: deps.state, logger: deps.logger });
    this.#execute = { catalog: deps.catalog, ids: deps.ids, limits: deps.limits, logger: deps.logger, transactionBudget: { ms: deps.limits.statementTimeoutMs, now: () => performance.now() } };
    this.#prepared = new PreparedTexts(deps.preparedStatements);
  }

  /** Ops delivered by the consumers and waiting for a batch. */
  get queued(): number {
    return this.#feeds.queued;
  }

  /**
   * Starts applying `shard`, just taken with `epoch`: changes it committed but never published
   * go out first, then its consumer is recreated at the watermark and its ops join the batches.
   */
  async addShard(shard: number, epoch: bigint): Promise<void> {
    await this.#publishLeftovers(shard);
    const [row] = await this.#deps.sql<{ watermark: string; max_seq: string }[]>`SELECT watermark, max_seq FROM seqline.shards WHERE shard = ${shard}`;
    await this.#feeds.add(shard, epoch, BigInt(row?.watermark ?? '0'), BigInt(row?.max_seq ?? '0'));
  }

  /** Applies until the state stops; rejects with FencedError or FeedFailedError. */
  async run(): Promise<void> {
    const { state } = this.#deps;
    try {
      while (state.shouldRun()) {
        if (this.#feeds.failure !== undefined) throw this.#feeds.failure;
        const batch = this.#feeds.take();
        if (batch.length === 0) {
          await this.#publishing;
          await this.#flushPublished();
          // Ops that arrived, or a stop that came, during those awaits found no waiter to wake.
          await this.#feeds.arrival();
          continue;
        }
        await this.#applyWithRetry(batch);
      }
      await this.#publishing;
    } finally {
      this.#js.close();
    }
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
    const rows = await this.#deps.sql<{ shard: number; watermark: string; max_seq: string }[]>`SELECT shard, watermark, max_seq FROM seqline.shards WHERE shard = ANY(${this.#feeds.shards()})`;
    for (const row of rows) {
      const feed = this.#feeds.get(row.shard);
      feed.watermark = BigInt(row.watermark);
      const maxSeq = BigInt(row.max_seq);
      if (maxSeq > feed.floor.value) feed.floor.value = maxSeq;
    }
    this.#heads.clear();
    // Changes of a batch that committed unbeknown to us are still in the outbox: publish them.
    await this.#publishing;
    for (const shard of this.#feeds.shards()) await this.#publishLeftovers(shard);
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
    const attempt = (savepoints: boolean): Promise<Committed> => inTransaction(this.#deps.applySql, this.#deps.limits, this.#prepared, (tx) => this.#transaction(tx, pending, published, savepoints));
    try {
      committed = await attempt(false).catch((err: unknown) => {
        if (!(err instanceof RedoWithSavepoints)) throw err;
        this.#deps.logger.debug('an op failed; applying the batch again with a savepoint per op', { ops: pending.length, shards: new Set(pending.map((p) => p.shard)).size, reason: err.message });
        return attempt(true);
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
    this.#metrics.committed(
      fresh.map((r) => r.op),
      fresh.filter((r) => !r.result.ok).length,
      startedMs,
    );
    this.#metrics.unpublished += outbox.length;
    endBatchTrace(this.#trace);
    this.#trace = undefined;
    for (const m of resultMessages(results.map(({ op, result }) => ({ replyTo: op.replyTo, result })))) this.#deps.nc.publish(m.subject, m.data);
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
      await this.#outbox.publish(outbox);
      this.#published.push(...outbox.map((r) => r.id));
      this.#metrics.unpublished -= outbox.length;
      this.#metrics.changesPublished.inc(outbox.length);
    } catch (err) {
      // Only when stopping: the rows stay in the outbox and are published at the next start.
      this.#deps.logger.warn('changes not published before stopping; they will be at the next start', { changes: outbox.length, err });
    }
  }

  /**
   * One batch in one transaction, in two round trips of pipelined statements: first the shard
   * locks, the previous batch's outbox deletion, any heads not in memory, stored results of
   * redelivered ops and the ops themselves; then the outbox, op results, heads and watermarks.
   */
  async #transaction(txn: Tx, pending: Pending[], published: readonly string[], savepoints: boolean): Promise<Committed> {
    const { sql: tx, begun } = txn;
    const shards = [...new Set(pending.map((p) => p.shard))].sort((a, b) => a - b);
    const feeds = shards.map((shard) => this.#feeds.get(shard));
    const { fresh, stale } = splitFeeds(feeds, pending);
    const subjects = [...new Set(fresh.flatMap((p) => this.#subjects(p.op)))];
    const missing = subjects.filter((s) => !this.#heads.has(s));
    const first = Promise.all([
      begun,
      tx<{ shard: number; epoch: string; watermark: string }[]>`SELECT shard, epoch, watermark FROM seqline.shards WHERE shard = ANY(${shards}) ORDER BY shard FOR UPDATE`,
      deleteOutbox(tx, published),
      missing.length === 0 ? [] : tx<{ subject: string; seq: string }[]>`SELECT subject, seq FROM seqline.heads WHERE subject = ANY(${missing})`,
      storedResults(tx, stale, this.#deps.logger),
      // Last: Promise.all sends its statements in this order, and the ops come after it.
      tx.unsafe(`SET LOCAL ROLE ${WRITER_ROLE}`),
    ]);
    first.catch(() => {}); // awaited below, after the ops are sent
    // Ids are taken above the in-memory floors; a rolled-back batch leaves them higher, never lower.
    const floors = new Map(feeds.map((f) => [f.shard, f.floor]));
    const outcomes = savepoints ? await applyEach(this.#execute, txn, fresh, floors) : await applyPipelined(this.#execute, txn, fresh, floors);
    const asRuntime = tx.unsafe('RESET ROLE').execute();
    asRuntime.catch(() => {}); // awaited after `first`, which may fail first
    const [, locked, , headRows, results] = await first;
    await asRuntime;
    checkShards(feeds, locked);
    const heads = new Map(subjects.map((s) => [s, this.#heads.get(s) ?? 0n]));
    for (const h of headRows) heads.set(h.subject, BigInt(h.seq));
    const changes: ChangeRecord[] = [];
    const committedAtUs = BigInt(Date.now()) * 1000n;
    const watermarks = new Map<number, bigint>();
    const freshResults = fresh.map((p, i) => {
      watermarks.set(p.shard, BigInt(p.msg.seq));
      const at = { committedAtUs, traceparent: opTraceparent(this.#trace, p.op.opId) };
      const subjectOf = (namespace: string, table: string): string => this.#deps.names.changes(p.op.owner, namespace, table);
      return { op: p.op, result: recordResult(p, outcomes[i]!, subjectOf, heads, changes, at) };
    });
    const changed = new Set(changes.map((c) => c.subject));
    const shardRows = [...watermarks].map(([shard, watermark]) => ({ shard, watermark, maxSeq: floors.get(shard)!.value, epoch: this.#feeds.get(shard).epoch }));
    const outbox = await writeBookkeeping(tx, { changes, results: freshResults, heads, changed, shards: shardRows }, txn.commit);
    const commit = (): void => {
      for (const [shard, watermark] of watermarks) this.#feeds.get(shard).watermark = watermark;
      this.#heads.written(heads, changed);
    };
    return { outbox, results: [...results, ...freshResults], fresh: freshResults.length, commit };
  }

  /** The change subjects the op may publish to: its table's, or each of its transaction's tables'. */
  #subjects(op: busPb.Op): string[] {
    const tables = op.statements.length > 0 ? op.statements : [op];
    return tables.map((t) => this.#deps.names.changes(op.owner, t.namespace, t.table));
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
    await this.#outbox.publish(rows, { skipPublished: true, nc: this.#deps.nc, stream: this.#deps.names.changesStream });
    await deleteOutbox(this.#deps.sql, rows.map((r) => r.id));
  }
}

/** The batch's ops to apply and those to answer with stored results, shard by shard. */
function splitFeeds(feeds: readonly Feed[], pending: readonly Pending[]): { fresh: Pending[]; stale: Pending[] } {
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
  return { fresh, stale };
}

/** Fencing: every shard of the batch is still this replica's, at the watermark memory has. */
function checkShards(feeds: readonly Feed[], locked: readonly { shard: number; epoch: string; watermark: string }[]): void {
  for (const feed of feeds) {
    const row = locked.find((r) => r.shard === feed.shard);
    if (row === undefined || BigInt(row.epoch) !== feed.epoch) throw new FencedError(`shard ${feed.shard} is now owned by another storage replica`);
    // Memory is behind: an earlier batch committed although its COMMIT seemed to fail (and
    // was not yet visible when memory was re-read). Roll back and start again from the rows.
    if (BigInt(row.watermark) !== feed.watermark) throw new StaleStateError(`shard ${feed.shard} is at ${row.watermark} in PostgreSQL, ${feed.watermark} in memory`);
  }
}
