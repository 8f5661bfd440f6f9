// A window read (docs/architecture.md §4, windows): the first N rows of a live query in its
// ORDER BY order, read like a snapshot (one REPEATABLE READ, read-only transaction whose first
// statement reads the partition head, the boundary; then as seqline_reader inside the caller's
// partition). The gateway reads a window's snapshot this way, and its refills: when rows leave
// a window it asks again, and uses the boundary to line the rows up with the changes it has.
import { ProtocolError } from '@seqline/protocol';
import type { storagePb } from '@seqline/proto';
import type { Actor } from '@seqline/domain';
import { rewriteSelect } from '@seqline/sql';
import { inSnapshot, orderBySql, prepare, project, type SnapshotContext } from './snapshot.js';

/** A safety net: a gateway asks for a window's rows, its slack and the changes of one read. */
export const MAX_WINDOW_ROWS = 100_000;

export async function readWindow(ctx: SnapshotContext, req: storagePb.WindowRequest, actor: Actor): Promise<storagePb.WindowResponse> {
  if (req.rows < 1 || req.rows > MAX_WINDOW_ROWS) throw new ProtocolError('INVALID_PARAMETER', `a window read takes 1 to ${MAX_WINDOW_ROWS} rows, not ${req.rows}`);
  const p = prepare(ctx, { ...req, batchSize: 0 }, actor);
  if (p.live.order === undefined) throw new ProtocolError('INVALID_SQL', 'a window read needs a query with ORDER BY or LIMIT');
  const namespace = req.namespace || 'default';
  const rewritten = rewriteSelect(p.live.select, { catalog: ctx.catalog, actor, defaultNamespace: namespace, defaultLimit: 2_147_483_647, maxRows: 2_147_483_647, unlimited: true });
  let response: storagePb.WindowResponse | undefined;
  await inSnapshot(ctx, p, actor, async (tx, boundary) => {
    const rows = await tx.unsafe<Record<string, unknown>[]>(`SELECT * FROM (${rewritten.sql}) AS w WHERE "_seq" <= ${boundary} ORDER BY ${orderBySql(p.live.order!.keys)} LIMIT ${req.rows}`, p.params as never[]);
    response = { boundarySeq: BigInt(boundary), rowsJson: JSON.stringify(rows.map((r) => project(p, r))), complete: rows.length < req.rows };
  });
  return response!;
}
