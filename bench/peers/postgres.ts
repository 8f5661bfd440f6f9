// PostgreSQL for the peers that read it directly (Zero's zero-cache and the LISTEN/NOTIFY
// baseline): the testkit's cluster, durable (fsync on, as the local stack's is), with
// wal_level=logical, which zero-cache's logical replication needs. The setting takes a restart,
// so the cluster is started once to write it (ALTER SYSTEM) and again on the same data directory.
import { startPostgres, type PostgresServer } from '@seqline/testkit';
import postgres from 'postgres';

export async function startLogicalPostgres(): Promise<PostgresServer> {
  const first = await startPostgres({ durable: true, keepData: true });
  const sql = postgres(first.url, { max: 1, onnotice: () => {} });
  try {
    await sql`ALTER SYSTEM SET wal_level = 'logical'`;
  } finally {
    await sql.end();
    await first.stop();
  }
  const server = await startPostgres({ durable: true, dataDir: first.dataDir, port: first.port });
  const check = postgres(server.url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await check<{ wal_level: string }[]>`SHOW wal_level`;
    if (row?.wal_level !== 'logical') throw new Error(`wal_level is ${row?.wal_level}, not logical`);
  } finally {
    await check.end();
  }
  return server;
}
