// Retention: tombstones older than their table's DELETED_RETENTION_HOURS are deleted, and the
// table records up to which `_seq` it purged (a resume from before that point cannot be told
// about those deletes and gets a fresh snapshot instead); op results older than their
// retention are deleted too, and so are refresh-token families past their expiry.
import type { TableRef } from '@seqline/domain';
import { seqIdFloorForTime, type SeqId } from '@seqline/seq';
import { quoteIdent } from '@seqline/sql';
import type { Sql } from 'postgres';
import type { CatalogCache } from './catalog.js';

export async function purgeOnce(sql: Sql, catalog: CatalogCache, nowMs: number, opResultRetentionHours: number): Promise<{ tombstones: number; opResults: number }> {
  let tombstones = 0;
  for (const t of catalog.tables()) tombstones += await purgeTombstones(sql, t, seqIdFloorForTime(nowMs - t.deletedRetentionHours * 3_600_000));
  const results = await sql`DELETE FROM seqline.op_results WHERE created_at < now() - make_interval(hours => ${opResultRetentionHours})`;
  await sql`DELETE FROM seqline.refresh_families WHERE expires_at < now()`;
  return { tombstones, opResults: results.count };
}

/** Deletes the table's tombstones with `_seq` below `cutoff` and records the cut; returns how many went. */
export async function purgeTombstones(sql: Sql, t: TableRef, cutoff: SeqId): Promise<number> {
  const table = `${quoteIdent(t.namespace)}.${quoteIdent(t.name)}`;
  return sql.begin(async (tx) => {
    const rows = await tx.unsafe(`DELETE FROM ${table} WHERE "_deleted" AND "_seq" < $1`, [String(cutoff)]);
    await tx`UPDATE seqline.tables SET purged_through_seq = greatest(purged_through_seq, ${String(cutoff)}) WHERE namespace = ${t.namespace} AND name = ${t.name}`;
    return rows.count;
  });
}
