// The chat's Node side (seed, relay) reads and writes through these two calls.
import type { Row, SeqlineClient } from '@seqline/client/node';

/** The first statement's rows. */
export async function read(client: SeqlineClient, sql: string, params: readonly unknown[] = []): Promise<Row[]> {
  return (await client.query(sql, params)).rows;
}

/** A write (DML, DDL, user management), applied once per idempotency key. */
export async function write(client: SeqlineClient, sql: string, params: readonly unknown[] = [], idempotencyKey?: string): Promise<void> {
  await client.execute(sql, params, idempotencyKey === undefined ? {} : { idempotencyKey });
}
