// The bookkeeping of an apply transaction (docs/architecture.md §3): each applied op's result
// and, if it changed rows, its change record chained to its subject's head (prev_seq; a
// transaction op: one per statement that changed rows, in order); then,
// pipelined before COMMIT, the outbox rows, the op results, the new heads and the shards'
// watermarks. Rows travel as one JSON parameter, so each statement's text is fixed (and
// prepared once). Stored results of redelivered ops are read back here too.
import { busPb } from '@seqline/proto';
import { ProtocolError } from '@seqline/protocol';
import type { Logger } from '@seqline/runtime';
import type { Sql } from 'postgres';
import type { Pending } from './feed.js';
import type { AppliedOp } from './apply-op.js';
import type { Outcome } from './execute.js';
import { rowChanges } from './limits.js';
import type { OutboxRow } from './outbox.js';

/** Heads kept in memory at most; the least recently written are dropped and re-read when needed. */
const HEAD_CACHE = 100_000;

export interface ChangeRecord {
  readonly shard: number;
  readonly subject: string;
  readonly seq: bigint;
  readonly payload: Uint8Array;
  /** The trace context the change is published under ('' = none). */
  readonly traceparent: string;
}

export interface OpWithResult {
  readonly op: busPb.Op;
  readonly result: busPb.OpResult;
}

/** Last `_seq` per change subject of the owned shards, least recently written first. */
export class HeadCache {
  readonly #heads = new Map<string, bigint>();

  has(subject: string): boolean {
    return this.#heads.has(subject);
  }

  get(subject: string): bigint | undefined {
    return this.#heads.get(subject);
  }

  /** After a commit: the subjects' new heads (re-inserted last), the oldest dropped past the cap. */
  written(heads: ReadonlyMap<string, bigint>, subjects: Iterable<string>): void {
    for (const subject of subjects) {
      this.#heads.delete(subject);
      this.#heads.set(subject, heads.get(subject)!);
    }
    for (const subject of this.#heads.keys()) {
      if (this.#heads.size <= HEAD_CACHE) break;
      this.#heads.delete(subject);
    }
  }

  clear(): void {
    this.#heads.clear();
  }
}

/** Where an op's changes to `namespace.table` are published (its owner's subject of that table). */
export type SubjectOf = (namespace: string, table: string) => string;

/**
 * The op's result, and its change record (chained to the subject's head) if it changed rows. A
 * transaction gets one change record per statement that changed rows, in statement order, and
 * one result holding each statement's.
 */
export function recordResult(p: Pending, outcome: Outcome, subjectOf: SubjectOf, heads: Map<string, bigint>, changes: ChangeRecord[], at: { committedAtUs: bigint; traceparent: string }): busPb.OpResult {
  const base = { opId: p.op.opId, streamSeq: BigInt(p.msg.seq), shard: p.shard };
  if (outcome instanceof ProtocolError) {
    return { ...base, ok: false, rowCount: 0n, message: '', errorCode: outcome.code, errorMessage: outcome.message, seq: 0n, returningJson: '', statements: [], ...(outcome.statement === undefined ? {} : { failedStatement: outcome.statement }) };
  }
  const record = (applied: AppliedOp, namespace: string, table: string): busPb.OpResult => {
    const seq = recordChange(p, applied, { namespace, table, subject: subjectOf(namespace, table) }, heads, changes, at);
    return { opId: '', streamSeq: 0n, shard: 0, ok: true, rowCount: BigInt(applied.rowCount), message: applied.message, errorCode: '', errorMessage: '', seq, returningJson: applied.returning ? JSON.stringify(applied.returning) : '', statements: [] };
  };
  if (outcome.statements === undefined) return { ...record(outcome, p.op.namespace, p.op.table), ...base };
  const statements = outcome.statements.map((s) => record(s, s.namespace, s.table));
  const seq = statements.reduce((m, r) => (r.seq > m ? r.seq : m), 0n);
  return { ...base, ok: true, rowCount: BigInt(outcome.rowCount), message: outcome.message, errorCode: '', errorMessage: '', seq, returningJson: '', statements };
}

/** The change record of what `applied` did to `namespace.table`, chained to its subject's head; its highest `_seq` (0 = no change). */
function recordChange(p: Pending, applied: AppliedOp, table: { namespace: string; table: string; subject: string }, heads: Map<string, bigint>, changes: ChangeRecord[], at: { committedAtUs: bigint; traceparent: string }): bigint {
  if (applied.changes.length === 0) return 0n;
  const seq = applied.changes.reduce((m, c) => (c.seq > m ? c.seq : m), 0n);
  const change = busPb.Change.encode({
    owner: p.op.owner,
    namespace: table.namespace,
    table: table.table,
    seq,
    prevSeq: heads.get(table.subject) ?? 0n,
    opId: p.op.opId,
    committedAtUs: at.committedAtUs,
    rows: rowChanges(applied),
  }).finish();
  heads.set(table.subject, seq);
  changes.push({ shard: p.shard, subject: table.subject, seq, payload: change, traceparent: at.traceparent });
  return seq;
}

export interface Bookkeeping {
  readonly changes: readonly ChangeRecord[];
  /** Results of the ops applied now (not re-sent stored ones). */
  readonly results: readonly OpWithResult[];
  readonly heads: ReadonlyMap<string, bigint>;
  /** Subjects whose head moved. */
  readonly changed: ReadonlySet<string>;
  /** Per shard: its new watermark, highest `_seq` and epoch. */
  readonly shards: readonly { readonly shard: number; readonly watermark: bigint; readonly maxSeq: bigint; readonly epoch: bigint }[];
}

const json = (rows: readonly object[]): string => JSON.stringify(rows);

/**
 * Sends the bookkeeping statements (postgres.js runs a query when it is first awaited or
 * executed: each is executed here, in order, so the caller's COMMIT goes out after them).
 * Resolves with the outbox rows, in id order.
 */
export async function writeBookkeeping(tx: Sql, b: Bookkeeping, commit: () => Promise<void>): Promise<OutboxRow[]> {
  const payloads = new Map(b.changes.map((c) => [`${c.subject}:${c.seq}`, c]));
  const outboxRows =
    b.changes.length === 0
      ? undefined
      : tx<{ id: string; subject: string; seq: string }[]>`
          INSERT INTO seqline.outbox (shard, subject, seq, payload)
          SELECT x.shard, x.subject, x.seq, decode(x.payload, 'base64')
          FROM ROWS FROM (jsonb_to_recordset(${json(b.changes.map((c) => ({ shard: c.shard, subject: c.subject, seq: String(c.seq), payload: Buffer.from(c.payload).toString('base64') })))}::jsonb) AS (shard int, subject text, seq bigint, payload text))
            WITH ORDINALITY AS x(shard, subject, seq, payload, n)
          ORDER BY x.n
          RETURNING id, subject, seq`.execute();
  const resultRows =
    b.results.length === 0
      ? undefined
      : tx`
          INSERT INTO seqline.op_results (op_id, shard, stream_seq, result)
          SELECT x.op_id, x.shard, x.stream_seq, decode(x.result, 'base64')
          FROM jsonb_to_recordset(${json(b.results.map(({ op, result }) => ({ op_id: op.opId, shard: Number(result.shard), stream_seq: String(result.streamSeq), result: Buffer.from(busPb.OpResult.encode(result).finish()).toString('base64') })))}::jsonb) AS x(op_id text, shard int, stream_seq bigint, result text)
          ON CONFLICT (op_id) DO NOTHING`.execute();
  const headRows =
    b.changed.size === 0
      ? undefined
      : tx`
          INSERT INTO seqline.heads (subject, seq)
          SELECT x.subject, x.seq FROM jsonb_to_recordset(${json([...b.changed].map((subject) => ({ subject, seq: String(b.heads.get(subject)) })))}::jsonb) AS x(subject text, seq bigint)
          ON CONFLICT (subject) DO UPDATE SET seq = EXCLUDED.seq`.execute();
  const shardRows =
    b.shards.length === 0
      ? undefined
      : tx`UPDATE seqline.shards AS s SET watermark = u.watermark, max_seq = u.max_seq
           FROM jsonb_to_recordset(${json(b.shards.map((s) => ({ shard: s.shard, watermark: String(s.watermark), max_seq: String(s.maxSeq), epoch: String(s.epoch) })))}::jsonb)
             AS u(shard int, watermark bigint, max_seq bigint, epoch bigint)
           WHERE s.shard = u.shard AND s.epoch = u.epoch`.execute();
  const [outbox = []] = await Promise.all([outboxRows, resultRows, headRows, shardRows, commit()]);
  const rows: OutboxRow[] = outbox.map((r) => {
    const change = payloads.get(`${r.subject}:${r.seq}`)!;
    return { ...r, payload: Buffer.from(change.payload), traceparent: change.traceparent };
  });
  return rows.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
}

/** The stored results of ops at or below their shard's watermark (applied by an earlier batch). */
export async function storedResults(tx: Sql, stale: readonly Pending[], logger: Logger): Promise<OpWithResult[]> {
  if (stale.length === 0) return [];
  const rows = await tx<{ op_id: string; result: Buffer }[]>`SELECT op_id, result FROM seqline.op_results WHERE op_id = ANY(${stale.map((p) => p.op.opId)})`;
  const byId = new Map(rows.map((r) => [r.op_id, busPb.OpResult.decode(r.result)]));
  return stale.flatMap((p) => {
    const result = byId.get(p.op.opId);
    if (result === undefined) {
      // Only possible if the log was delivered out of order, which ShardFeeds prevents.
      logger.error('op at or below the watermark has no stored result; not applied', { shard: p.shard, opId: p.op.opId, streamSeq: p.msg.seq });
      return [];
    }
    return [{ op: p.op, result }];
  });
}
