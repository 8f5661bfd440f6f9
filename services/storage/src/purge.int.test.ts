// Retention: tombstones older than the table's DELETED_RETENTION_HOURS are purged (live rows and
// newer tombstones stay), the table records how far it purged, and old op results go too; all of
// it as storage's runtime role, which row-level security lets see and delete tombstones only.
import { initSql, parseStatements } from '@seqline/sql';
import { seqIdFloorForTime } from '@seqline/seq';
import { createTestDatabase } from '@seqline/testkit';
import { describe, expect, it } from 'vitest';
import { runAdmin } from './admin.js';
import { CatalogCache } from './catalog.js';
import { connectPostgres } from './db.js';
import { migrate } from './migrations.js';
import { bootstrapPrivileges } from './privileges.js';
import { purgeOnce } from './purge.js';

describe('purgeOnce', () => {
  it('deletes tombstones past retention and op results past theirs, nothing else', async () => {
    await initSql();
    await using db = await createTestDatabase();
    await bootstrapPrivileges(db.url, db.runtimeUrl);
    const sql = connectPostgres(db.runtimeUrl);
    const superuser = connectPostgres(db.url);
    try {
      await migrate(sql);
      const catalog = new CatalogCache(sql);
      await catalog.reload();
      for (const text of ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER', DELETED_RETENTION_HOURS=1)"]) {
        await runAdmin({ sql, catalog, hashPartitions: 2 }, parseStatements(text)[0] as never, { userId: 'root', role: 'dba' });
      }
      const now = Date.now();
      const seqAt = (ms: number, n: number): string => String(seqIdFloorForTime(ms) + BigInt(n));
      await superuser.unsafe(
        `INSERT INTO app.t (_user_id, id, v, _seq, _deleted) VALUES
           ('alice', 1, 'old tombstone', $1, true),
           ('alice', 2, 'new tombstone', $2, true),
           ('alice', 3, 'old live row', $3, false)`,
        [seqAt(now - 3 * 3_600_000, 1), seqAt(now - 10 * 60_000, 2), seqAt(now - 3 * 3_600_000, 3)],
      );
      await sql`INSERT INTO seqline.op_results (op_id, shard, stream_seq, result, created_at) VALUES ('old', 0, 1, '\\x00', now() - interval '2 days'), ('new', 0, 2, '\\x00', now())`;

      expect(await purgeOnce(sql, catalog, now, 24)).toEqual({ tombstones: 1, opResults: 1 });
      expect((await superuser`SELECT id FROM app.t ORDER BY id`).map((r) => r['id'] as number)).toEqual([2, 3]);
      // The runtime role sees the tombstone left, never the live row.
      expect((await sql`SELECT id FROM app.t ORDER BY id`).map((r) => r['id'] as number)).toEqual([2]);
      expect((await sql`SELECT op_id FROM seqline.op_results`).map((r) => r['op_id'] as string)).toEqual(['new']);
      const [row] = await sql<{ p: string }[]>`SELECT purged_through_seq AS p FROM seqline.tables WHERE name = 't'`;
      expect(BigInt(row!.p)).toBe(seqIdFloorForTime(now - 3_600_000));
    } finally {
      await sql.end();
      await superuser.end();
    }
  });
});
