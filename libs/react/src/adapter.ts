// The one place @seqline/react calls the client's SQL methods, so the hooks do not depend on
// the shape of their results. The client's `execute()` (explicit writes: an idempotency key and
// the offline queue whatever the SQL looks like) is not merged yet: until it is, writes go
// through `query(sql, params, { idempotencyKey })`, which queues what it recognises as a write.
// Switching is one line in `runWrite`.
import type { Row, SeqlineClient } from '@seqline/client';

/** What a write answered: its rows (`RETURNING`), if any. */
export interface WriteResult {
  readonly rows: Row[];
}

export async function runWrite(client: SeqlineClient, sql: string, params: readonly unknown[], idempotencyKey: string | undefined): Promise<WriteResult> {
  const answer: unknown = await client.query(sql, params, idempotencyKey === undefined ? {} : { idempotencyKey });
  return { rows: rowsOf(answer) };
}

export async function runRead(client: SeqlineClient, sql: string, params: readonly unknown[]): Promise<Row[]> {
  return rowsOf(await client.query(sql, params));
}

/** `query()` answers rows today and `{ results, rows, schema }` once the SDK's tidy-up lands. */
function rowsOf(answer: unknown): Row[] {
  if (Array.isArray(answer)) return answer as Row[];
  const rows = (answer as { rows?: Row[] } | undefined)?.rows;
  return rows ?? [];
}
