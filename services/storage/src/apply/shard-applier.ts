// One shard's apply loop (DESIGN.md §3), run by the replica that owns the shard. Ops arrive in
// log order from a durable pull consumer; whatever has arrived is applied as one batch in one
// PostgreSQL transaction: per op a savepoint (a failing op commits only its error result), the
// change records into the outbox, the op results, the per-subject heads (prev_seq) and the
// shard watermark, fenced by the owner epoch. After commit: publish the outbox, delete it, send
// the op results, ack the ops. Ops at or below the watermark (redelivered after a crash) are
// not applied again; their stored results are re-sent.
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { BusNames } from '@seqline/bus';
import { busPb } from '@seqline/proto';
import { ProtocolError, toProtocolError } from '@seqline/protocol';
import type { Logger, RunningState } from '@seqline/runtime';
import { SqlError } from '@seqline/sql';
import type { Sql, TransactionSql } from 'postgres';
import type { CatalogCache } from '../catalog.js';
import type { IdPool } from '../ids.js';
import { pgToProtocolError } from '../pg-errors.js';
import { applyOp } from './apply-op.js';
import { deleteOutbox, publishOutbox, type OutboxRow } from './outbox.js';

export class FencedError extends Error {
  override readonly name = 'FencedError';
}

export interface ShardDeps {
  readonly sql: Sql;
  readonly nc: NatsConnection;
  readonly names: BusNames;
  readonly catalog: CatalogCache;
  readonly ids: IdPool;
  readonly logger: Logger;
  readonly state: RunningState;
  readonly batch: number;
  readonly ackWaitMs: number;
}

interface Pending {
  readonly msg: JsMsg;
  readonly op: busPb.Op;
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

export class ShardApplier {
  readonly shard: number;
  readonly #deps: ShardDeps;
  readonly #epoch: bigint;
  readonly #js: JetStreamClient;
  readonly #queue: JsMsg[] = [];
  /** Outbox rows published after the last commit, deleted by the next transaction. */
  #published: string[] = [];
  #wake: (() => void) | undefined;

  constructor(shard: number, epoch: bigint, deps: ShardDeps) {
    this.shard = shard;
    this.#epoch = epoch;
    this.#deps = deps;
    this.#js = jetstream(deps.nc);
  }

  /** Applies until the state stops; rejects with FencedError if another replica took the shard. */
  async run(): Promise<void> {
    const { state, logger } = this.#deps;
    const consumerName = `storage_shard_${this.shard}`;
    await this.#publishLeftovers();
    await this.#resetConsumer(consumerName);
    const consumer = await this.#js.consumers.get(this.#deps.names.opsStream, consumerName);
    const messages = await consumer.consume({ max_messages: Math.max(100, this.#deps.batch * 2) });
    state.signal.addEventListener('abort', () => void messages.close(), { once: true });
    void (async () => {
      for await (const m of messages) {
        this.#queue.push(m);
        this.#wake?.();
      }
      this.#wake?.();
    })();
    logger.info('applying shard', { shard: this.shard, epoch: this.#epoch });
    while (state.shouldRun()) {
      if (this.#queue.length === 0) {
        await this.#flushPublished();
        await new Promise<void>((resolve) => {
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
      const batch = this.#queue.splice(0, this.#deps.batch);
      await this.#applyWithRetry(batch);
    }
  }

  async #applyWithRetry(msgs: JsMsg[]): Promise<void> {
    const { state, logger } = this.#deps;
    while (state.shouldRun()) {
      try {
        await this.#applyBatch(msgs);
        state.resetBackoff();
        return;
      } catch (err) {
        if (err instanceof FencedError) throw err;
        logger.warn('apply batch failed; retrying', { shard: this.shard, ops: msgs.length, err });
        if (!(await state.backoff())) return;
      }
    }
  }

  async #applyBatch(msgs: JsMsg[]): Promise<void> {
    const pending: Pending[] = msgs.map((msg) => ({ msg, op: busPb.Op.decode(msg.data) }));
    // A long batch tells JetStream it is still working, so its ops are not redelivered meanwhile.
    const heartbeat = setInterval(() => msgs.forEach((m) => m.working()), Math.max(500, this.#deps.ackWaitMs / 3));
    let committed: { outbox: OutboxRow[]; results: { op: busPb.Op; result: busPb.OpResult }[] };
    const published = this.#published;
    this.#published = [];
    try {
      committed = await this.#deps.sql.begin((tx) => this.#transaction(tx, pending, published));
    } catch (err) {
      this.#published = [...published, ...this.#published];
      throw err;
    } finally {
      clearInterval(heartbeat);
    }
    const { outbox, results } = committed;
    await publishOutbox(this.#js, this.#deps.sql, outbox, this.#deps.state);
    this.#published.push(...outbox.map((r) => r.id));
    for (const { op, result } of results) {
      if (op.replyTo !== '') this.#deps.nc.publish(op.replyTo, busPb.OpResult.encode(result).finish());
    }
    pending.at(-1)?.msg.ack();
  }

  async #transaction(tx: TransactionSql, pending: Pending[], published: readonly string[]): Promise<{ outbox: OutboxRow[]; results: { op: busPb.Op; result: busPb.OpResult }[] }> {
    const [row] = await tx<{ epoch: string; watermark: string; max_seq: string }[]>`SELECT epoch, watermark, max_seq FROM seqline.shards WHERE shard = ${this.shard} FOR UPDATE`;
    if (row === undefined || BigInt(row.epoch) !== this.#epoch) throw new FencedError(`shard ${this.shard} is now owned by another storage replica`);
    const watermark = BigInt(row.watermark);
    await deleteOutbox(tx, published);
    const seqFloor = { value: BigInt(row.max_seq) };
    const { fresh, stale } = splitByWatermark(pending, watermark);
    const results: { op: busPb.Op; result: busPb.OpResult }[] = await this.#storedResults(tx, stale);
    const subjects = [...new Set(fresh.map((p) => this.#subject(p.op)))];
    const heads = new Map((await tx<{ subject: string; seq: string }[]>`SELECT subject, seq FROM seqline.heads WHERE subject = ANY(${subjects})`).map((h) => [h.subject, BigInt(h.seq)]));
    const changes: { subject: string; seq: bigint; payload: Uint8Array }[] = [];
    const committedAtUs = BigInt(Date.now()) * 1000n;
    for (const p of fresh) {
      const result = await this.#applyOne(tx, p, seqFloor, heads, changes, committedAtUs);
      results.push({ op: p.op, result });
    }
    const newResults = results.slice(stale.length);
    if (newResults.length > 0) {
      await tx`INSERT INTO seqline.op_results ${tx(newResults.map(({ op, result }) => ({ op_id: op.opId, shard: this.shard, stream_seq: String(result.streamSeq), result: Buffer.from(busPb.OpResult.encode(result).finish()) })))} ON CONFLICT (op_id) DO NOTHING`;
    }
    const outbox = changes.length === 0 ? [] : await tx<OutboxRow[]>`INSERT INTO seqline.outbox ${tx(changes.map((c) => ({ shard: this.shard, subject: c.subject, seq: String(c.seq), payload: Buffer.from(c.payload) })))} RETURNING id, subject, seq, payload`;
    if (heads.size > 0) {
      const rows = [...heads].map(([subject, seq]) => ({ subject, seq: String(seq) }));
      await tx`INSERT INTO seqline.heads ${tx(rows)} ON CONFLICT (subject) DO UPDATE SET seq = EXCLUDED.seq`;
    }
    const lastSeq = fresh.at(-1)?.msg.seq;
    if (lastSeq !== undefined) {
      await tx`UPDATE seqline.shards SET watermark = ${String(lastSeq)}, max_seq = ${String(seqFloor.value)} WHERE shard = ${this.shard} AND epoch = ${String(this.#epoch)}`;
    }
    return { outbox: [...outbox].sort((a, b) => Number(BigInt(a.id) - BigInt(b.id))), results };
  }

  async #applyOne(tx: TransactionSql, p: Pending, seqFloor: { value: bigint }, heads: Map<string, bigint>, changes: { subject: string; seq: bigint; payload: Uint8Array }[], committedAtUs: bigint): Promise<busPb.OpResult> {
    const base = { opId: p.op.opId, streamSeq: BigInt(p.msg.seq), shard: this.shard };
    try {
      const floorBefore = seqFloor.value;
      const applied = await tx.savepoint((sp) => applyOp(sp, p.op, { catalog: this.#deps.catalog, ids: this.#deps.ids, seqFloor })).catch((err: unknown) => {
        seqFloor.value = floorBefore > seqFloor.value ? floorBefore : seqFloor.value; // ids taken are never reused
        throw err;
      });
      let seq = 0n;
      if (applied.changes.length > 0) {
        const subject = this.#subject(p.op);
        seq = applied.changes.reduce((m, c) => (c.seq > m ? c.seq : m), 0n);
        const change = busPb.Change.encode({
          owner: p.op.owner,
          namespace: p.op.namespace,
          table: p.op.table,
          seq,
          prevSeq: heads.get(subject) ?? 0n,
          opId: p.op.opId,
          committedAtUs,
          rows: applied.changes.map((c) => ({ kind: c.kind, seq: c.seq, oldJson: c.old ? JSON.stringify(c.old) : '', newJson: c.new ? JSON.stringify(c.new) : '' })),
        }).finish();
        heads.set(subject, seq);
        changes.push({ subject, seq, payload: change });
      }
      return { ...base, ok: true, rowCount: BigInt(applied.rowCount), message: applied.message, errorCode: '', errorMessage: '', seq, returningJson: applied.returning ? JSON.stringify(applied.returning) : '' };
    } catch (err) {
      const failure = this.#opFailure(err);
      return { ...base, ok: false, rowCount: 0n, message: '', errorCode: failure.code, errorMessage: failure.message, seq: 0n, returningJson: '' };
    }
  }

  /** A failure that belongs to the op (bad input, constraint) becomes its result; a broken connection aborts the batch. */
  #opFailure(err: unknown): ProtocolError {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && /^CONNECTION_|^ECONN|^EPIPE/.test(code)) throw err;
    if (err instanceof FencedError) throw err;
    if (err instanceof SqlError) return new ProtocolError(err.code, err.message);
    const pg = pgToProtocolError(err);
    if (pg !== undefined) return pg;
    const protocol = toProtocolError(err);
    if (protocol.code === 'INTERNAL_ERROR') this.#deps.logger.error('op failed with an internal error', { shard: this.shard, opId: '', err });
    return protocol;
  }

  async #storedResults(tx: TransactionSql, stale: Pending[]): Promise<{ op: busPb.Op; result: busPb.OpResult }[]> {
    if (stale.length === 0) return [];
    const rows = await tx<{ op_id: string; result: Buffer }[]>`SELECT op_id, result FROM seqline.op_results WHERE op_id = ANY(${stale.map((p) => p.op.opId)})`;
    const byId = new Map(rows.map((r) => [r.op_id, busPb.OpResult.decode(r.result)]));
    return stale.flatMap((p) => {
      const result = byId.get(p.op.opId);
      if (result === undefined) {
        // Only possible if the log was delivered out of order, which #resetConsumer prevents.
        this.#deps.logger.error('op at or below the watermark has no stored result; not applied', { shard: this.shard, opId: p.op.opId, streamSeq: p.msg.seq });
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
  async #resetConsumer(name: string): Promise<void> {
    const [row] = await this.#deps.sql<{ watermark: string }[]>`SELECT watermark FROM seqline.shards WHERE shard = ${this.shard}`;
    const start = BigInt(row?.watermark ?? '0') + 1n;
    const jsm = await jetstreamManager(this.#deps.nc);
    await jsm.consumers.delete(this.#deps.names.opsStream, name).catch(() => false);
    await jsm.consumers.add(this.#deps.names.opsStream, {
      durable_name: name,
      filter_subject: this.#deps.names.ops(this.shard),
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
      this.#deps.logger.warn('cannot delete published outbox rows; will retry', { shard: this.shard, err });
    });
  }

  /** Changes committed but not published before a crash go out first, once each. */
  async #publishLeftovers(): Promise<void> {
    const rows = await this.#deps.sql<OutboxRow[]>`SELECT id, subject, seq, payload FROM seqline.outbox WHERE shard = ${this.shard} ORDER BY id`;
    if (rows.length === 0) return;
    this.#deps.logger.info('publishing changes left from before a restart', { shard: this.shard, count: rows.length });
    await publishOutbox(this.#js, this.#deps.sql, rows, this.#deps.state, { skipPublished: true, nc: this.#deps.nc, stream: this.#deps.names.changesStream });
    await deleteOutbox(this.#deps.sql, rows.map((r) => r.id));
  }
}

