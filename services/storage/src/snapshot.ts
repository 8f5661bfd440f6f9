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
import { rowJsonLateral } from './snapshot-json.js';
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
 * the caller's partition. `first` runs as storage, before the role changes. JIT is off: a page
 * query's estimate can pass jit_above_cost (before the table has statistics, say) while its
 * work is a few thousand rows, and compiling it took longer than reading them.
 */
export async function inSnapshot(ctx: SnapshotContext, p: Prepared, actor: Actor, fn: (tx: TransactionSql, boundary: string) => Promise<void>, first?: (tx: TransactionSql) => Promise<void>): Promise<void> {
  try {
    await ctx.sql.begin('isolation level repeatable read read only', async (tx) => {
      const [head] = await tx<{ seq: string }[]>`SELECT seq FROM seqline.heads WHERE subject = ${p.subject}`;
      await first?.(tx);
      await tx`SELECT set_config(${SETTING_USER_ID}, ${actor.userId}, true), set_config(${SETTING_ROLE}, ${actor.role}, true),
        set_config('idle_in_transaction_session_timeout', ${String(ctx.timeoutMs)}, true), set_config('statement_timeout', ${String(ctx.timeoutMs)}, true),
        set_config('search_path', 'pg_catalog', true), set_config('jit', 'off', true)`;
      await tx.unsafe(`SET LOCAL ROLE ${READER_ROLE}`);
      await fn(tx, head?.seq ?? '0');
    });
  } catch (err) {
    throw pgToProtocolError(err) ?? err;
  }
}

/** One batch of a page: its rows' JSON array and the `_seq` of its last row (none when empty). */
interface Batch {
  readonly json: string;
  readonly lastSeq: string | undefined;
}

/** A page's `items` (one per row of `rows`) as batches within the byte limit, each with its last row's `_seq`. */
function encodePage(ctx: SnapshotContext, rows: readonly Record<string, unknown>[], items: readonly unknown[]): Batch[] {
  return jsonChunks(items, ctx.maxBatchBytes).map((chunk) => ({ json: chunk.json, lastSeq: chunk.end > 0 ? String(rows[chunk.end - 1]!['_seq']) : undefined }));
}

/** Sends a page's batches in order; false when the consumer went away meanwhile. */
async function sendPage(batches: readonly Batch[], pageHasMore: boolean, cancelled: () => boolean, send: (json: string, hasMore: boolean, lastSeq: string | undefined) => Promise<void>): Promise<boolean> {
  for (const [i, batch] of batches.entries()) {
    const hasMore = pageHasMore || i < batches.length - 1;
    await send(batch.json, hasMore, batch.lastSeq);
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

/** Rows of a snapshot in the first page: fewer than a whole batch, so the first rows reach the client sooner. */
export const FIRST_PAGE_ROWS = 1000;

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
    let batchNum = 0;
    const out = async (json: string, hasMore: boolean, seq: string | undefined): Promise<void> => {
      last = seq ?? last;
      await send({ boundarySeq: BigInt(boundary), totalRows: BigInt(totalRows), batchNum: batchNum++, hasMore, lastSeq: BigInt(last), rowsJson: json });
    };
    const range = { matching, after: last, boundary, totalRows };
    if (p.live.order === undefined) await seqPages(ctx, p, tx, range, cancelled, out);
    else await orderedPages(ctx, p, tx, range, cancelled, out);
    // No rows at all: one empty batch, so the client still gets `ready`.
    if (batchNum === 0) await send({ boundarySeq: BigInt(boundary), totalRows: BigInt(totalRows), batchNum: 0, hasMore: false, lastSeq: BigInt(boundary), rowsJson: '[]' });
  });
}

/** The rows a snapshot sends: those of `matching` with `after < _seq <= boundary`, `totalRows` of them. */
interface Range {
  readonly matching: string;
  readonly after: string;
  readonly boundary: string;
  readonly totalRows: number;
}

type Out = (json: string, hasMore: boolean, lastSeq: string | undefined) => Promise<void>;

/**
 * A snapshot in `_seq` order, a page at a time by keyset (`_seq > last … LIMIT n`: the table's
 * `(_user_id, _seq)` index yields each page in order, so no page waits for a sort of the whole
 * range). PostgreSQL builds each page's JSON (snapshot-json.ts); the next page's query is on
 * its way while a page is being sent, so PostgreSQL and the consumer work at the same time.
 */
async function seqPages(ctx: SnapshotContext, p: Prepared, tx: TransactionSql, range: Range, cancelled: () => boolean, out: Out): Promise<void> {
  const read = pageReader(ctx, p, tx, range);
  // A read in flight is always observed: its failure surfaces where it is awaited, and the
  // transaction never ends under it.
  const ahead = (after: string, limit: number): Promise<Page> => {
    const page = read(after, limit);
    page.catch(() => undefined);
    return page;
  };
  let next: Promise<Page> | undefined = ahead(range.after, Math.min(FIRST_PAGE_ROWS, p.batchSize));
  try {
    for (let sent = 0; next !== undefined; ) {
      const page: Page = await next;
      next = undefined;
      if (page.count === 0) return;
      sent += page.count;
      const pageHasMore = sent < range.totalRows;
      if (pageHasMore) next = ahead(page.last, p.batchSize);
      if (cancelled() || !(await sendPage(page.batches, pageHasMore, cancelled, out))) return;
    }
  } finally {
    await next?.catch(() => undefined);
  }
}

interface Page {
  readonly count: number;
  /** `_seq` of the page's last row. */
  readonly last: string;
  readonly batches: readonly Batch[];
}

/**
 * Reads one page of at most `limit` rows after `_seq` `after`: as one JSON value built by
 * PostgreSQL, or (a column without an SQL encoding, or a page over the batch byte limit)
 * as rows that storage encodes and splits.
 */
function pageReader(ctx: SnapshotContext, p: Prepared, tx: TransactionSql, range: Range): (after: string, limit: number) => Promise<Page> {
  const where = (after: string): string => `snapshot."_seq" > ${after} AND snapshot."_seq" <= ${range.boundary}`;
  const asRows = async (after: string, limit: number): Promise<Page> => {
    const rows = await tx.unsafe<Record<string, unknown>[]>(`SELECT * FROM ${range.matching} WHERE ${where(after)} ORDER BY "_seq" LIMIT ${limit}`, p.params as never[]);
    const batches = encodePage(ctx, rows, rows.map((r) => project(p, r)));
    return { count: rows.length, last: batches.at(-1)?.lastSeq ?? after, batches };
  };
  const lateral = rowJsonLateral('snapshot', p.live.columns.map((c) => [c, p.types.get(c)!] as const), 'cells');
  if (lateral === undefined) return asRows;
  return async (after, limit) => {
    const [page] = await tx.unsafe<[{ json: string | null; count: string; last: string | null; bytes: string | null }]>(
      `SELECT '[' || string_agg(json, ',' ORDER BY seq) || ']' AS json, count(*) AS count, max(seq) AS last, sum(octet_length(json)) + count(*) + 1 AS bytes
       FROM (SELECT row_to_json(cells)::text AS json, snapshot."_seq" AS seq FROM ${range.matching}, ${lateral} WHERE ${where(after)} ORDER BY snapshot."_seq" LIMIT ${limit}) AS page`,
      p.params as never[],
    );
    if (page.json === null || page.last === null) return { count: 0, last: after, batches: [] };
    if (Number(page.bytes) > ctx.maxBatchBytes) return asRows(after, limit);
    return { count: Number(page.count), last: page.last, batches: [{ json: page.json, lastSeq: page.last }] };
  };
}

/**
 * A snapshot in the query's order (ORDER BY): one cursor over the whole range, one plan, one
 * scan and sort, read a page at a time (a LIMIT query per page would rescan the rest each
 * time). No batch but the last is a resume point.
 */
async function orderedPages(ctx: SnapshotContext, p: Prepared, tx: TransactionSql, range: Range, cancelled: () => boolean, out: Out): Promise<void> {
  let sent = 0;
  const pages = tx.unsafe(`SELECT * FROM ${range.matching} WHERE "_seq" > ${range.after} AND "_seq" <= ${range.boundary} ORDER BY ${orderBySql(p.live.order!.keys)}`, p.params as never[]).cursor(p.batchSize);
  for await (const rows of pages as AsyncIterable<Record<string, unknown>[]>) {
    if (cancelled()) return;
    sent += rows.length;
    const pageHasMore = sent < range.totalRows;
    if (!(await sendPage(encodePage(ctx, rows, rows.map((r) => project(p, r))), pageHasMore, cancelled, out)) || !pageHasMore) return;
  }
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
        const goOn = await sendPage(encodePage(ctx, rows, changes), pageHasMore, cancelled, async (json, hasMore, seq) => {
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
