// The chat's Node side (seed, relay) calls the client through these two functions, which work
// with both versions of @seqline/client: today's `query()` (rows; a write recognised by its
// first word, an idempotency key as an option) and the explicit `execute()` with `query()`
// answering `{ results, rows, schema }` that the SDK is gaining. Once every client has those,
// `read` is `(await client.query(sql, params)).rows` and `write` is `client.execute(…)`.
import type { Row, SeqlineClient } from '@seqline/client/node';

interface SqlMethods {
  query(sql: string, params?: readonly unknown[], options?: { readonly idempotencyKey?: string }): Promise<unknown>;
  execute?(sql: string, params?: readonly unknown[], options?: { readonly idempotencyKey?: string }): Promise<unknown>;
}

/** The first statement's rows. */
export async function read(client: SeqlineClient, sql: string, params: readonly unknown[] = []): Promise<Row[]> {
  const answer = await (client as unknown as SqlMethods).query(sql, params);
  return Array.isArray(answer) ? (answer as Row[]) : ((answer as { rows?: Row[] }).rows ?? []);
}

/** A write (DML, DDL, user management), applied once per idempotency key. */
export async function write(client: SeqlineClient, sql: string, params: readonly unknown[] = [], idempotencyKey?: string): Promise<void> {
  const methods = client as unknown as SqlMethods;
  const options = idempotencyKey === undefined ? {} : { idempotencyKey };
  await (methods.execute !== undefined ? methods.execute(sql, params, options) : methods.query(sql, params, options));
}
