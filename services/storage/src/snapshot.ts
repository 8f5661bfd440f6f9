// A subscription's snapshot (docs/architecture.md §4 step 2). One REPEATABLE READ, read-only transaction:
// its first statement reads the partition head B (the boundary), then, as seqline_reader inside
// the caller's partition (the same two layers of isolation as every read), the rows matching
// the subscription with `_seq <= B` are read in `_seq` order, a batch at a time, by keyset
// (`_seq > last`), so a snapshot of any size is paginated fully and every batch sees the same
// data. Each batch is handed to `send`, which resolves when the consumer can take more: a
// consumer that stops reading pauses the snapshot (the transaction stays open, up to the
// configured timeout). The compacted catch-up of a resume reads the same way.
import type { BusNames } from '@seqline/bus';
import { encodeCell, ProtocolError, type Cell } from '@seqline/protocol';
import type { storagePb } from '@seqline/proto';
import { SHARED_OWNER, type Actor, type DataType } from '@seqline/domain';
import { checkReadAccess, compileLiveQuery, expiryFloor, quoteIdent, quoteLiteral, READER_ROLE, rewriteSelect, SETTING_ROLE, SETTING_USER_ID, type LiveQuery, type OrderKey } from '@seqline/sql';
import type { Sql, TransactionSql } from 'postgres';
import type { CatalogCache } from './catalog.js';
import { pgToProtocolError } from './pg-errors.js';
import { parseParams } from './query.js';

export interface SnapshotContext {
  readonly sql: Sql;
  readonly catalog: CatalogCache;
  readonly names: BusNames;
  readonly defaultBatch: number;
  readonly maxBatch: number;
  /** A batch's rows (or changes) as JSON stay within this many bytes: a page of big rows goes out as several batches. */
  readonly maxBatchBytes: number;
  /** A snapshot transaction (including time paused by a slow consumer) is ended after this long. */
  readonly timeoutMs: number;
}

export interface Prepared {
  readonly live: LiveQuery;
  readonly params: unknown[];
  readonly batchSize: number;
  readonly subject: string;
  readonly owner: string;
  readonly types: ReadonlyMap<string, DataType>;
}

export function prepare(ctx: SnapshotContext, req: { sql: string; paramsJson: string; namespace: string; batchSize: number; lastRows?: number }, actor: Actor): Prepared {
  const namespace = req.namespace || 'default';
  const params = parseParams(req.paramsJson);
  const live = compileLiveQuery(req.sql, { catalog: ctx.catalog, defaultNamespace: namespace, currentUser: actor.userId, params });
  checkReadAccess(live.table, actor);
  if (live.order !== undefined && (req.lastRows ?? 0) > 0) throw new ProtocolError('INVALID_PARAMETER', 'last_rows does not go with ORDER BY or LIMIT: the query orders and limits its rows itself');
  const batchSize = req.batchSize === 0 ? ctx.defaultBatch : req.batchSize;
  if (batchSize > ctx.maxBatch) throw new ProtocolError('INVALID_PARAMETER', `batch_size ${batchSize} is over the limit of ${ctx.maxBatch}`);
  const owner = live.table.tableType === 'SHARED' ? SHARED_OWNER : actor.userId;
  const subject = ctx.names.changes(owner, live.table.namespace, live.table.name);
  const types = new Map<string, DataType>([...live.table.columns.map((c) => [c.name, c.dataType] as const), ['_seq', 'BigInt']]);
  return { live, params, batchSize, subject, owner, types };
}

/** `"a" DESC NULLS FIRST, "id" ASC NULLS LAST`: a live query's order as SQL over the snapshot's columns. */
export function orderBySql(keys: readonly OrderKey[]): string {
  return keys.map((k) => `${quoteIdent(k.column)} ${k.direction.toUpperCase()} NULLS ${k.nulls.toUpperCase()}`).join(', ');
}

/**
 * Runs `fn` in a REPEATABLE READ, read-only transaction whose first statement reads the
 * partition head (so the head and every later read agree), then as seqline_reader inside
 * the caller's partition. `first` runs as storage, before the role changes.
 */
export async function inSnapshot(ctx: SnapshotContext, p: Prepared, actor: Actor, fn: (tx: TransactionSql, boundary: string) => Promise<void>, first?: (tx: TransactionSql) => Promise<void>): Promise<void> {
  try {
    await ctx.sql.begin('isolation level repeatable read read only', async (tx) => {
      const [head] = await tx<{ seq: string }[]>`SELECT seq FROM seqline.heads WHERE subject = ${p.subject}`;
      await first?.(tx);
      await tx`SELECT set_config(${SETTING_USER_ID}, ${actor.userId}, true), set_config(${SETTING_ROLE}, ${actor.role}, true),
        set_config('idle_in_transaction_session_timeout', ${String(ctx.timeoutMs)}, true), set_config('statement_timeout', ${String(ctx.timeoutMs)}, true),
        set_config('search_path', 'pg_catalog', true)`;
      await tx.unsafe(`SET LOCAL ROLE ${READER_ROLE}`);
      await fn(tx, head?.seq ?? '0');
    });
  } catch (err) {
    throw pgToProtocolError(err) ?? err;
  }
}

/**
 * Sends one page's `items` (one per row of `rows`) as batches within the byte limit, giving each
 * the `_seq` of its last row; false when the consumer went away meanwhile.
 */
async function sendPage(
  ctx: SnapshotContext,
  rows: readonly Record<string, unknown>[],
  items: readonly unknown[],
  pageHasMore: boolean,
  cancelled: () => boolean,
  send: (json: string, hasMore: boolean, lastSeq: string | undefined) => Promise<void>,
): Promise<boolean> {
  const chunks = jsonChunks(items, ctx.maxBatchBytes);
  for (const [i, chunk] of chunks.entries()) {
    const hasMore = pageHasMore || i < chunks.length - 1;
    await send(chunk.json, hasMore, chunk.end > 0 ? String(rows[chunk.end - 1]!['_seq']) : undefined);
    if (hasMore && cancelled()) return false;
  }
  return true;
}

/**
 * `items` as JSON arrays of at most `maxBytes` (UTF-8) each, in order; an item bigger than
 * that goes alone. `end` is the index after a chunk's last item. No items: one empty chunk.
 */
function jsonChunks(items: readonly unknown[], maxBytes: number): { readonly json: string; readonly end: number }[] {
  const whole = JSON.stringify(items);
  if (whole.length <= maxBytes / 3 || Buffer.byteLength(whole) <= maxBytes) return [{ json: whole, end: items.length }]; // the usual case: one chunk
  const chunks: { json: string; end: number }[] = [];
  let parts: string[] = [];
  let bytes = 2;
  for (const [i, item] of items.entries()) {
    const json = JSON.stringify(item);
    const size = Buffer.byteLength(json) + 1;
    if (parts.length > 0 && bytes + size > maxBytes) {
      chunks.push({ json: `[${parts.join(',')}]`, end: i });
      parts = [];
      bytes = 2;
    }
    parts.push(json);
    bytes += size;
  }
  if (parts.length > 0 || chunks.length === 0) chunks.push({ json: `[${parts.join(',')}]`, end: items.length });
  return chunks;
}

export function project(p: Prepared, row: Record<string, unknown>): Record<string, Cell> {
  return Object.fromEntries(p.live.columns.map((c) => [c, encodeCell(row[c], p.types.get(c)!)]));
}

export async function streamSnapshot(ctx: SnapshotContext, req: storagePb.SnapshotRequest, actor: Actor, send: (batch: storagePb.SnapshotBatch) => Promise<void>, cancelled: () => boolean, nowMs = Date.now()): Promise<void> {
  const p = prepare(ctx, req, actor);
  const namespace = req.namespace || 'default';
  const rewritten = rewriteSelect(p.live.select, { catalog: ctx.catalog, actor, defaultNamespace: namespace, defaultLimit: 2_147_483_647, maxRows: 2_147_483_647, unlimited: true, nowMs });
  const matching = `(${rewritten.sql}) AS snapshot`;
  await inSnapshot(ctx, p, actor, async (tx, boundary) => {
    const run = <T extends readonly object[]>(text: string): Promise<T> => tx.unsafe(text, p.params as never[]) as unknown as Promise<T>;
    const [{ total }] = await run<[{ total: string }]>(`SELECT count(*) AS total FROM ${matching} WHERE "_seq" <= ${boundary}`);
    let last = '0';
    if (req.lastRows > 0) {
      const [first] = await run<{ seq: string | null }[]>(`SELECT min("_seq") AS seq FROM (SELECT "_seq" FROM ${matching} WHERE "_seq" <= ${boundary} ORDER BY "_seq" DESC LIMIT ${req.lastRows}) AS newest`);
      if (first?.seq) last = (BigInt(first.seq) - 1n).toString();
    }
    const totalRows = req.lastRows > 0 ? Math.min(Number(total), req.lastRows) : Number(total);
    let sent = 0;
    let batchNum = 0;
    // One cursor over the whole range (one plan, one scan and sort), read a page at a time:
    // a LIMIT query per page would rescan the rest each time.
    // A query with ORDER BY comes in its order (then no batch but the last is a resume point).
    const order = p.live.order === undefined ? '"_seq"' : orderBySql(p.live.order.keys);
    const pages = tx.unsafe(`SELECT * FROM ${matching} WHERE "_seq" > ${last} AND "_seq" <= ${boundary} ORDER BY ${order}${req.lastRows > 0 ? ` LIMIT ${totalRows}` : ''}`, p.params as never[]).cursor(p.batchSize);
    for await (const rows of pages as AsyncIterable<Record<string, unknown>[]>) {
      if (cancelled()) return;
      sent += rows.length;
      const pageHasMore = sent < totalRows;
      const goOn = await sendPage(ctx, rows, rows.map((r) => project(p, r)), pageHasMore, cancelled, async (json, hasMore, seq) => {
        last = seq ?? last;
        await send({ boundarySeq: BigInt(boundary), totalRows: BigInt(totalRows), batchNum: batchNum++, hasMore, lastSeq: BigInt(last), rowsJson: json });
      });
      if (!goOn || !pageHasMore) return;
    }
    // No rows at all: one empty batch, so the client still gets `ready`.
    if (batchNum === 0) await send({ boundarySeq: BigInt(boundary), totalRows: BigInt(totalRows), batchNum: 0, hasMore: false, lastSeq: BigInt(boundary), rowsJson: '[]' });
  });
}

/**
 * The compacted catch-up: every row version and tombstone of the partition with
 * `from < _seq <= head`, in `_seq` order; a version that matches the filter is an upsert,
 * one that does not (the row left the filter) and a tombstone are deletes. The rows are read
 * by a statement of ours (not the client's SQL), still as seqline_reader under row-level
 * security, and filtered by the live filter (which agrees with PostgreSQL; see its test).
 * A version of a STREAM table that is expired when the catch-up starts is a delete too
 * (docs/architecture.md §2): the client must not keep it.
 */
export async function streamCatchUp(ctx: SnapshotContext, req: storagePb.CatchUpRequest, actor: Actor, send: (batch: storagePb.CatchUpBatch) => Promise<void>, cancelled: () => boolean, nowMs = Date.now()): Promise<void> {
  const p = prepare(ctx, req, actor);
  const { table } = p.live;
  let purged = 0n;
  const relation = `${quoteIdent(table.namespace)}.${quoteIdent(table.name)}`;
  const columns = [...new Set([...table.columns.map((c) => c.name), '_seq', '_deleted'])].map(quoteIdent).join(', ');
  const ownerCheck = table.tableType === 'SHARED' ? 'true' : `"_user_id" = ${quoteLiteral(p.owner)}`;
  const floor = expiryFloor(table, nowMs);
  await inSnapshot(
    ctx,
    p,
    actor,
    async (tx, boundary) => {
      if (req.fromSeq + 1n < purged) {
        await send({ reset: true, boundarySeq: BigInt(boundary), hasMore: false, lastSeq: req.fromSeq, changesJson: '[]' });
        return;
      }
      let last = String(req.fromSeq);
      for (;;) {
        if (cancelled()) return;
        const rows = await tx.unsafe<Record<string, unknown>[]>(`SELECT ${columns} FROM ${relation} WHERE ${ownerCheck} AND "_seq" > ${last} AND "_seq" <= ${boundary} ORDER BY "_seq" LIMIT ${p.batchSize}`);
        const changes = rows.map((r) => {
          const image = Object.fromEntries([...table.columns.map((c) => [c.name, encodeCell(r[c.name], c.dataType)] as const), ['_seq', String(r['_seq'])] as const]);
          const expired = floor !== undefined && BigInt(String(r['_seq'])) < floor;
          const upsert = r['_deleted'] !== true && !expired && p.live.filter.test(image) === true;
          return { kind: upsert ? 'upsert' : 'delete', row: Object.fromEntries(p.live.columns.map((c) => [c, image[c] ?? null])) };
        });
        const pageHasMore = rows.length === p.batchSize;
        const goOn = await sendPage(ctx, rows, changes, pageHasMore, cancelled, async (json, hasMore, seq) => {
          last = seq ?? last;
          await send({ reset: false, boundarySeq: BigInt(boundary), hasMore, lastSeq: BigInt(last), changesJson: json });
        });
        if (!goOn || !pageHasMore) return;
      }
    },
    async (tx) => {
      const [row] = await tx<{ purged: string }[]>`SELECT purged_through_seq AS purged FROM seqline.tables WHERE namespace = ${table.namespace} AND name = ${table.name}`;
      purged = BigInt(row?.purged ?? '0');
    },
  );
}
