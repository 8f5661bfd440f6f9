// A subscription's snapshot (DESIGN.md §4 step 2). One REPEATABLE READ, read-only transaction:
// its first statement reads the partition head B (the boundary), then, as seqline_reader inside
// the caller's partition (the same two layers of isolation as every read), the rows matching
// the subscription with `_seq <= B` are read in `_seq` order, a batch at a time, by keyset
// (`_seq > last`), so a snapshot of any size is paginated fully and every batch sees the same
// data. Each batch is handed to `send`, which resolves when the consumer can take more: a
// consumer that stops reading pauses the snapshot (the transaction stays open, up to the
// configured timeout).
import type { BusNames } from '@seqline/bus';
import { encodeCell, ProtocolError, type Cell } from '@seqline/protocol';
import type { storagePb } from '@seqline/proto';
import { checkReadAccess, compileLiveQuery, READER_ROLE, rewriteSelect, SETTING_ROLE, SETTING_USER_ID, SHARED_OWNER, type Actor, type DataType } from '@seqline/sql';
import type { Sql } from 'postgres';
import type { CatalogCache } from './catalog.js';
import { pgToProtocolError } from './pg-errors.js';
import { parseParams } from './query.js';

export interface SnapshotContext {
  readonly sql: Sql;
  readonly catalog: CatalogCache;
  readonly names: BusNames;
  readonly defaultBatch: number;
  readonly maxBatch: number;
  /** A snapshot transaction (including time paused by a slow consumer) is ended after this long. */
  readonly timeoutMs: number;
}

export async function streamSnapshot(ctx: SnapshotContext, req: storagePb.SnapshotRequest, actor: Actor, send: (batch: storagePb.SnapshotBatch) => Promise<void>, cancelled: () => boolean): Promise<void> {
  const namespace = req.namespace || 'default';
  const params = parseParams(req.paramsJson);
  const live = compileLiveQuery(req.sql, { catalog: ctx.catalog, defaultNamespace: namespace, currentUser: actor.userId, params });
  checkReadAccess(live.table, actor);
  const batchSize = req.batchSize === 0 ? ctx.defaultBatch : req.batchSize;
  if (batchSize > ctx.maxBatch) throw new ProtocolError('INVALID_PARAMETER', `batch_size ${batchSize} is over the limit of ${ctx.maxBatch}`);
  const rewritten = rewriteSelect(live.select, { catalog: ctx.catalog, actor, defaultNamespace: namespace, defaultLimit: 2_147_483_647, maxRows: 2_147_483_647, unlimited: true });
  const owner = live.table.tableType === 'SHARED' ? SHARED_OWNER : actor.userId;
  const subject = ctx.names.changes(owner, live.table.namespace, live.table.name);
  const types = new Map<string, DataType>([...live.table.columns.map((c) => [c.name, c.dataType] as const), ['_seq', 'BigInt']]);
  const matching = `(${rewritten.sql}) AS snapshot`;
  try {
    await ctx.sql.begin('isolation level repeatable read read only', async (tx) => {
      // The first statement takes the transaction's snapshot: the head and the rows agree.
      const [head] = await tx<{ seq: string }[]>`SELECT seq FROM seqline.heads WHERE subject = ${subject}`;
      const boundary = head?.seq ?? '0';
      await tx`SELECT set_config(${SETTING_USER_ID}, ${actor.userId}, true), set_config(${SETTING_ROLE}, ${actor.role}, true),
        set_config('idle_in_transaction_session_timeout', ${String(ctx.timeoutMs)}, true), set_config('statement_timeout', ${String(ctx.timeoutMs)}, true),
        set_config('search_path', 'pg_catalog', true)`;
      await tx.unsafe(`SET LOCAL ROLE ${READER_ROLE}`);
      const run = <T extends readonly object[]>(text: string): Promise<T> => tx.unsafe(text, params as never[]) as unknown as Promise<T>;
      const [{ total }] = await run<[{ total: string }]>(`SELECT count(*) AS total FROM ${matching} WHERE "_seq" <= ${boundary}`);
      let last = '0';
      if (req.lastRows > 0) {
        const [first] = await run<{ seq: string | null }[]>(`SELECT min("_seq") AS seq FROM (SELECT "_seq" FROM ${matching} WHERE "_seq" <= ${boundary} ORDER BY "_seq" DESC LIMIT ${req.lastRows}) AS newest`);
        if (first?.seq) last = (BigInt(first.seq) - 1n).toString();
      }
      const totalRows = req.lastRows > 0 ? Math.min(Number(total), req.lastRows) : Number(total);
      let sent = 0;
      for (let batchNum = 0; ; batchNum++) {
        if (cancelled()) return;
        const rows = await run<Record<string, unknown>[]>(`SELECT * FROM ${matching} WHERE "_seq" > ${last} AND "_seq" <= ${boundary} ORDER BY "_seq" LIMIT ${batchSize}`);
        sent += rows.length;
        const cells = rows.map((r) => Object.fromEntries(live.columns.map((c) => [c, encodeCell(r[c], types.get(c)!)])) as Record<string, Cell>);
        if (rows.length > 0) last = String(rows.at(-1)!['_seq']);
        const hasMore = rows.length === batchSize && sent < totalRows;
        await send({ boundarySeq: BigInt(boundary), totalRows: BigInt(totalRows), batchNum, hasMore, lastSeq: BigInt(rows.length > 0 ? last : boundary), rowsJson: JSON.stringify(cells) });
        if (!hasMore) return;
      }
    });
  } catch (err) {
    throw pgToProtocolError(err) ?? err;
  }
}
