// The one place @seqline/react calls the client's SQL methods. The client's explicit
// `execute()` (always a write: an idempotency key and the offline queue whatever the SQL looks
// like) and `query()` answering `{ results, rows, schema }` are being added to @seqline/client;
// until every client has them, this file works with both shapes: `execute()` when the client
// has it, else `query(sql, params, { idempotencyKey })`, which queues what it recognises as a
// write. Once merged, `runWrite` is one call to `client.execute()`.
import type { Row, SeqlineClient } from '@seqline/client';

/** What a write answered. */
export interface WriteResult {
  /** The first statement's rows (`RETURNING`), if any. */
  readonly rows: Row[];
  /** The highest `_seq` it wrote (decimal), when the client reports it. */
  readonly seq?: string;
}

/** The SQL methods of either version of the client, as this file calls them. */
interface SqlMethods {
  query(sql: string, params?: readonly unknown[], options?: { readonly idempotencyKey?: string }): Promise<unknown>;
  execute?(sql: string, params?: readonly unknown[], options?: { readonly idempotencyKey?: string }): Promise<unknown>;
}

export async function runWrite(client: SeqlineClient, sql: string, params: readonly unknown[], idempotencyKey: string | undefined): Promise<WriteResult> {
  const methods = client as unknown as SqlMethods;
  const options = idempotencyKey === undefined ? {} : { idempotencyKey };
  const answer = methods.execute !== undefined ? await methods.execute(sql, params, options) : await methods.query(sql, params, options);
  const seq = (answer as { seq?: unknown } | undefined)?.seq;
  return { rows: rowsOf(answer), ...(typeof seq === 'string' ? { seq } : {}) };
}

export async function runRead(client: SeqlineClient, sql: string, params: readonly unknown[]): Promise<Row[]> {
  return rowsOf(await (client as unknown as SqlMethods).query(sql, params));
}

/** The first statement's rows: `query()` answers them (today), `{ rows }` or `{ results }` (execute). */
function rowsOf(answer: unknown): Row[] {
  if (Array.isArray(answer)) return answer as Row[];
  const shaped = answer as { rows?: Row[]; results?: { rows?: Row[] }[] } | undefined;
  return shaped?.rows ?? shaped?.results?.[0]?.rows ?? [];
}
